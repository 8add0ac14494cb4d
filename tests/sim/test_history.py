"""The simulator's historical data engine: determinism, aggregation, sessions, anchoring,
whatToShow semantics, ticks, histograms, schedules, real-time bars, keep-up-to-date."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from aiotws.model.history import (
    BarData,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from aiotws.sim.calendar import us_holidays
from aiotws.sim.history import (
    BAR_SIZES,
    MAX_TICKS,
    WHAT_TO_SHOW,
    History,
    parse_bar_size,
    parse_duration,
)
from aiotws.sim.market import Market
from aiotws.sim.universe import MARKET_RULES, Universe, increment_at

TODAY = date(2026, 3, 2)  # a Monday
ANCHOR = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # the market's default clock
AAPL, SPY, SPX, EURUSD, USDJPY, BTC, IBUS500 = (
    265598,
    756733,
    416904,
    12087792,
    15016059,
    479624278,
    1115558045,
)
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
# a quiet stretch of history (the week before the anchor week)
END = datetime(2026, 2, 28, 0, 0, tzinfo=UTC)  # Friday 19:00 New York


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe(seed=3, today=TODAY)


@pytest.fixture(scope="module")
def hist(universe: Universe) -> History:
    return History(universe, Market(universe, seed=3))


def con(universe: Universe, sec_type: str, symbol: str, **kw: str) -> int:
    for inst in universe.instruments:
        c = inst.contract
        same = c.sec_type == sec_type and c.symbol == symbol
        if same and all(getattr(c, k) == v for k, v in kw.items()):
            return inst.con_id
    raise LookupError(sec_type, symbol)


@pytest.fixture(scope="module")
def es(universe: Universe) -> int:
    front = universe.front_future("ES")
    assert front is not None
    return front.con_id


@pytest.fixture(scope="module")
def cl(universe: Universe) -> int:
    front = universe.front_future("CL")
    assert front is not None
    return front.con_id


@pytest.fixture(scope="module")
def bond(universe: Universe) -> int:
    return con(universe, "BOND", "US-T")


@pytest.fixture(scope="module")
def aapl_call(universe: Universe) -> int:
    opts = [i for i in universe.options_of(AAPL) if i.contract.right == "C"]
    expiry = sorted({i.contract.last_trade_date_or_contract_month for i in opts})[2]
    near = [i for i in opts if i.contract.last_trade_date_or_contract_month == expiry]
    return min(near, key=lambda i: abs((i.contract.strike or 0) - 230)).con_id


@pytest.fixture(scope="module")
def spxw(universe: Universe) -> int:
    opts = [i for i in universe.options_of(SPX) if i.contract.trading_class == "SPXW"]
    return min(opts, key=lambda i: abs((i.contract.strike or 0) - 6000)).con_id


@pytest.fixture(scope="module")
def es_put(universe: Universe, es: int) -> int:
    puts = [i for i in universe.options_of(es) if i.contract.right == "P"]
    return min(puts, key=lambda i: abs((i.contract.strike or 0) - 6100)).con_id


def trades_of(universe: Universe, con_id: int) -> str:
    sec_type = universe.by_con_id(con_id).contract.sec_type  # type: ignore[union-attr]
    if sec_type in ("CASH", "CFD"):
        return "MIDPOINT"
    return "AGGTRADES" if sec_type == "CRYPTO" else "TRADES"


def summary(bars: Sequence[BarData]) -> tuple[object, ...]:
    """What an aggregate of ``bars`` must be (WAP aside)."""
    traded = bars[0].volume is not None
    return (
        bars[0].open,
        max(b.high for b in bars),
        min(b.low for b in bars),
        bars[-1].close,
        sum((b.volume or Decimal(0) for b in bars), Decimal(0)) if traded else None,
        sum(b.bar_count or 0 for b in bars) if traded else None,
    )


def fields(b: BarData) -> tuple[object, ...]:
    return (b.open, b.high, b.low, b.close, b.volume, b.bar_count)


def vwap(bars: Sequence[BarData]) -> float:
    vol = sum(float(b.volume or 0) for b in bars)
    return sum(float(b.wap or 0) * float(b.volume or 0) for b in bars) / vol


def group(fine: Sequence[BarData], coarse: Sequence[BarData]) -> list[list[BarData]]:
    """The fine bars inside each coarse intraday bar (up to the next coarse bar)."""
    stamps = [b.date.timestamp() for b in fine]  # type: ignore[union-attr]
    bounds = [b.date.timestamp() for b in coarse] + [math.inf]  # type: ignore[union-attr]
    return [
        list(fine[bisect_left(stamps, a) : bisect_left(stamps, b)]) for a, b in pairwise(bounds)
    ]


def on_ladder(universe: Universe, con_id: int, price: float) -> bool:
    inst = universe.by_con_id(con_id)
    assert inst is not None
    rule = MARKET_RULES[inst.details.market_rule_ids[0]]
    k = price / increment_at(rule, price - 1e-9)
    return abs(k - round(k)) < 1e-6


# -- parsing -------------------------------------------------------------------------------------


def test_every_tws_bar_size_parses() -> None:
    texts = [
        *("1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins"),
        *("5 mins", "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours"),
        *("3 hours", "4 hours", "8 hours", "1 day", "1 week", "1 month"),
    ]
    assert list(BAR_SIZES) == texts
    for text in texts:
        assert parse_bar_size(text).text == text
    assert parse_bar_size("1W").unit == "w"
    assert parse_bar_size("1M").unit == "m"
    assert parse_bar_size("1 sec").seconds == 1
    assert parse_bar_size("1 mins").seconds == 60
    assert parse_bar_size(300).text == "5 mins"
    assert parse_bar_size("1 day").unit == "d"
    for bad in ("7 mins", "2 days", "bogus", "1 fortnight"):
        with pytest.raises(ValueError):
            parse_bar_size(bad)
    with pytest.raises(ValueError):
        parse_bar_size(7)


def test_durations_parse() -> None:
    assert parse_duration("3600 S") == (3600, "S")
    assert parse_duration("5 D") == (5, "D")
    assert parse_duration("1 y") == (1, "Y")
    for bad in ("5", "D 5", "5 X", "-1 D"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# -- validation --------------------------------------------------------------------------------


def test_what_to_show_validity(universe: Universe, hist: History, es: int, bond: int) -> None:
    ok = {
        AAPL: "TRADES MIDPOINT BID ASK BID_ASK ADJUSTED_LAST HISTORICAL_VOLATILITY "
        "OPTION_IMPLIED_VOLATILITY FEE_RATE SCHEDULE",
        SPX: "TRADES HISTORICAL_VOLATILITY OPTION_IMPLIED_VOLATILITY SCHEDULE",
        es: "TRADES MIDPOINT BID ASK BID_ASK SCHEDULE",
        EURUSD: "MIDPOINT BID ASK BID_ASK SCHEDULE",
        IBUS500: "MIDPOINT BID ASK BID_ASK SCHEDULE",
        BTC: "AGGTRADES MIDPOINT BID ASK BID_ASK SCHEDULE",
        bond: "TRADES MIDPOINT BID ASK BID_ASK SCHEDULE",
    }
    every = WHAT_TO_SHOW
    for con_id, valid in ok.items():
        for wts in every:
            err = hist.validate(con_id, wts)
            if wts in valid.split():
                assert err is None, (con_id, wts, err)
            else:
                assert err is not None and err[0] in (162, 10299), (con_id, wts, err)
    # TWS's texts
    assert hist.validate(EURUSD, "TRADES") == (
        162,
        "Historical Market Data Service error message:No historical market data for "
        "EUR/CASH@IDEALPRO Last 1d",
    )
    code, text = hist.validate(EURUSD, "TRADES", "1 min")  # type: ignore[misc]
    assert code == 162 and text.endswith("Last 60")
    assert hist.validate(BTC, "TRADES") == (
        10299,
        "Expected what to show is AGGTRADES, but instead received TRADES.",
    )
    code, text = hist.validate(AAPL, "BOGUS")  # type: ignore[misc]
    assert code == 321 and "What to show" in text
    assert hist.validate(1, "TRADES") == (
        200,
        "No security definition has been found for the request",
    )
    assert hist.validate(AAPL, "trades") is None  # case-insensitive, like TWS
    assert hist.validate_ticks(BTC, "TRADES") is None
    assert hist.validate_ticks(AAPL, "BID") is not None
    assert hist.validate_ticks(EURUSD, "TRADES") is not None
    assert hist.validate_ticks(SPX, "TRADES") is not None  # no index ticks
    assert hist.validate_real_time(AAPL, "BID_ASK") is not None
    assert hist.validate_real_time(EURUSD, "MIDPOINT") is None
    assert hist.validate_real_time(EURUSD, "TRADES") is not None
    assert hist.validate_real_time(SPX, "TRADES") is None  # index values
    # bond yields are known whatToShow values without data here
    assert hist.validate(bond, "YIELD_BID")[0] == 162  # type: ignore[index]
    code, text = hist.no_data_error(AAPL, "TRADES")
    assert code == 162 and "HMDS query returned no data: AAPL@SMART Trades" in text
    with pytest.raises(ValueError):
        hist.bars(EURUSD, END, "1 D", "1 hour", "TRADES")
    with pytest.raises(KeyError):
        hist.bars(1, END, "1 D", "1 hour", "TRADES")


# -- determinism ---------------------------------------------------------------------------------


def test_same_answers_in_any_order_and_across_engines(universe: Universe, es: int) -> None:
    queries = [
        (AAPL, "3 D", "5 mins", "TRADES", False),
        (es, "2 D", "1 hour", "BID_ASK", True),
        (EURUSD, "1 W", "30 mins", "MIDPOINT", False),
        (AAPL, "2 M", "1 day", "ADJUSTED_LAST", True),
        (BTC, "1 D", "15 mins", "AGGTRADES", False),
        (AAPL, "600 S", "5 secs", "TRADES", False),
        (SPX, "1 M", "1 day", "HISTORICAL_VOLATILITY", False),
    ]
    a = History(universe, Market(universe, seed=3))
    b = History(universe, Market(universe, seed=3))
    first = [a.bars(c, END, dur, size, w, rth) for c, dur, size, w, rth in queries]
    # the other engine asks in reverse order, after unrelated queries
    b.bars(AAPL, ANCHOR + timedelta(days=3), "1 D", "1 min", "TRADES")
    b.historical_ticks(AAPL, "TRADES", 500, start=END - timedelta(days=1))
    second = [b.bars(c, END, dur, size, w, rth) for c, dur, size, w, rth in reversed(queries)]
    assert first == list(reversed(second))
    # asking again on the same engine gives the same bars
    assert first[0] == a.bars(AAPL, END, "3 D", "5 mins", "TRADES", False)
    # a different seed gives a different path (but the same anchor prices)
    c = History(universe, Market(universe, seed=3), seed=4)
    assert c.bars(AAPL, END, "3 D", "5 mins", "TRADES") != first[0]
    assert (
        c.bars(AAPL, ANCHOR, "1 D", "1 min")[-1].close
        == a.bars(AAPL, ANCHOR, "1 D", "1 min")[-1].close
    )


def test_ticks_and_histograms_are_deterministic(universe: Universe) -> None:
    a = History(universe, Market(universe, seed=3))
    b = History(universe, Market(universe, seed=3))
    start = datetime(2026, 2, 25, 15, 0, tzinfo=UTC)
    b.bars(AAPL, start, "1800 S", "1 secs")
    for wts in ("TRADES", "BID_ASK", "MIDPOINT"):
        assert a.historical_ticks(AAPL, wts, 300, start=start) == b.historical_ticks(
            AAPL, wts, 300, start=start
        )
    assert a.histogram(AAPL, True, "3 days", END) == b.histogram(AAPL, True, "3 days", END)


# -- aggregation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", ["2 mins", "3 mins", "5 mins", "10 mins", "15 mins", "20 mins", "30 mins", "1 hour",
             "2 hours", "3 hours", "4 hours", "8 hours"],
)  # fmt: skip
def test_intraday_bars_aggregate_minutes(hist: History, es: int, size: str) -> None:
    for con_id, wts, rth in (
        (AAPL, "TRADES", False),
        (AAPL, "TRADES", True),
        (es, "TRADES", False),
        (EURUSD, "MIDPOINT", False),
        (es, "BID", True),
        (BTC, "ASK", False),
    ):
        minutes = hist.bars(con_id, END, "3 D", "1 min", wts, rth)
        coarse = hist.bars(con_id, END, "3 D", size, wts, rth)
        assert coarse
        groups = group(minutes, coarse)
        assert sum(len(g) for g in groups) == len(minutes)
        for bar, sub in zip(coarse, groups, strict=True):
            assert fields(bar) == summary(sub), (con_id, wts, size, bar)
            if bar.wap is not None:
                assert float(bar.wap) == pytest.approx(vwap(sub), abs=2e-4)
            # a bar never spans more than its size
            assert isinstance(bar.date, datetime)
            span = parse_bar_size(size).seconds
            last = sub[-1].date
            assert isinstance(last, datetime)
            assert (last - bar.date).total_seconds() < span


def test_bins_are_aligned_to_the_clock(hist: History, es: int) -> None:
    hours = hist.bars(AAPL, END, "1 D", "1 hour", "TRADES", True)
    assert [b.date.strftime("%H:%M") for b in hours] == [  # type: ignore[union-attr]
        "09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00",
    ]  # fmt: skip
    eights = hist.bars(es, END, "2 D", "8 hours", "TRADES")
    # the Sunday/evening session opens at 17:00 inside the 16:00 bin; bars never straddle
    # the daily break
    assert {b.date.strftime("%H:%M") for b in eights} <= {"17:00", "00:00", "08:00"}  # type: ignore[union-attr]
    fours = hist.bars(es, END, "1 D", "4 hours", "TRADES")
    assert [b.date.strftime("%H:%M") for b in fours] == [  # type: ignore[union-attr]
        "17:00", "20:00", "00:00", "04:00", "08:00", "12:00",
    ]  # fmt: skip


@pytest.mark.parametrize("size", ["1 secs", "5 secs", "10 secs", "15 secs", "30 secs"])
def test_second_bars_aggregate_to_minutes(hist: History, es: int, size: str) -> None:
    end = datetime(2026, 2, 26, 15, 10, tzinfo=UTC)
    for con_id, wts in ((AAPL, "TRADES"), (es, "MIDPOINT"), (BTC, "AGGTRADES")):
        minutes = hist.bars(con_id, end, "600 S", "1 min", wts)
        seconds = hist.bars(con_id, end, "600 S", size, wts)
        assert len(minutes) == 10
        for bar, sub in zip(minutes, group(seconds, minutes), strict=True):
            assert fields(bar) == summary(sub), (con_id, wts, size)
            if bar.wap is not None:
                # a sub-minute WAP is the VWAP of its trades, within a tick of its minute's
                assert float(bar.wap) == pytest.approx(vwap(sub), abs=0.26)
        step = parse_bar_size(size).seconds
        for b in seconds:
            assert isinstance(b.date, datetime)
            assert b.date.second % step == 0


def test_quote_second_bars_cover_every_second(hist: History) -> None:
    end = datetime(2026, 2, 26, 15, 0, tzinfo=UTC)
    mids = hist.bars(AAPL, end, "60 S", "1 secs", "MIDPOINT")
    assert len(mids) == 60
    trades = hist.bars(AAPL, end, "60 S", "1 secs", "TRADES")
    assert 0 < len(trades) <= 60  # seconds without trades have no TRADES bar


def test_daily_bars_aggregate_their_sessions(hist: History, es: int) -> None:
    for con_id, wts, rth in (
        (AAPL, "TRADES", False),
        (AAPL, "TRADES", True),
        (es, "TRADES", False),
        (es, "TRADES", True),
        (EURUSD, "MIDPOINT", False),
        (BTC, "AGGTRADES", False),
        (SPX, "TRADES", False),
        (es, "BID", True),
    ):
        days = hist.bars(con_id, END, "4 D", "1 day", wts, rth)
        minutes = hist.bars(con_id, END, "4 D", "1 min", wts, rth)
        assert len(days) == 4
        sessions = hist.sessions(con_id, END - timedelta(days=8), END, rth)
        by_day = {s.ref_date: s for s in sessions}
        for bar in days:
            assert isinstance(bar.date, date) and not isinstance(bar.date, datetime)
            s = by_day[bar.date]
            sub = [b for b in minutes if s.start <= b.date < s.end]  # type: ignore[operator]
            assert fields(bar) == summary(sub), (con_id, wts, rth, bar)
            if bar.wap is not None:  # the day's WAP is drawn at the day level
                assert bar.low <= float(bar.wap) <= bar.high
                assert float(bar.wap) == pytest.approx(vwap(sub), rel=0.02)


def test_weeks_and_months_aggregate_days(hist: History, es: int) -> None:
    for con_id, wts in ((AAPL, "TRADES"), (es, "MIDPOINT"), (BTC, "AGGTRADES")):
        days = hist.bars(con_id, END, "6 M", "1 day", wts)
        for unit, key in (
            ("1 week", lambda d: d.isocalendar()[:2]),
            ("1 month", lambda d: (d.year, d.month)),
        ):
            coarse = hist.bars(con_id, END, "6 M", unit, wts)
            for bar in coarse:
                sub = [b for b in days if key(b.date) == key(bar.date)]
                assert bar.date == sub[0].date  # dated by its first trading day
                assert fields(bar) == summary(sub), (con_id, unit)


def test_partial_last_bar(hist: History) -> None:
    end = datetime(2026, 2, 26, 15, 7, 30, tzinfo=UTC)  # 10:07:30 New York
    five = hist.bars(AAPL, end, "1800 S", "5 mins", "TRADES")
    last = five[-1]
    assert last.date == datetime(2026, 2, 26, 10, 5, tzinfo=NY)
    minutes = hist.bars(AAPL, end, "1800 S", "1 min", "TRADES")
    seconds = hist.bars(AAPL, end, "1800 S", "1 secs", "TRADES")
    tail = [b for b in minutes if b.date >= last.date]  # type: ignore[operator]
    assert [b.date.minute for b in tail] == [5, 6, 7]  # type: ignore[union-attr]
    assert fields(last) == summary(tail)
    partial = [b for b in seconds if b.date >= tail[-1].date]  # type: ignore[operator]
    assert fields(tail[-1]) == summary(partial)
    assert all(b.date.second < 30 for b in partial)  # type: ignore[union-attr]
    # the same bar, finished, is the aggregate of its five minutes
    done = hist.bars(AAPL, end + timedelta(minutes=2), "1800 S", "5 mins", "TRADES")
    assert done[-1].date == last.date and done[-1].volume > last.volume  # type: ignore[operator]
    assert done[:-1] == five[:-1]
    day = hist.bars(AAPL, end, "1 D", "1 day", "TRADES")[-1]
    assert day.date == date(2026, 2, 26)
    assert fields(day) == summary(hist.bars(AAPL, end, "1 D", "1 min", "TRADES"))


# -- invariants --------------------------------------------------------------------------------


def test_ohlc_invariants_and_ladder(
    universe: Universe, hist: History, es: int, cl: int, bond: int, aapl_call: int, es_put: int
) -> None:
    cases = {
        AAPL: ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"),
        es: ("TRADES", "BID", "ASK", "MIDPOINT", "BID_ASK"),
        cl: ("TRADES", "BID", "ASK"),
        EURUSD: ("BID", "ASK", "MIDPOINT", "BID_ASK"),
        USDJPY: ("BID", "ASK"),
        BTC: ("AGGTRADES", "BID", "ASK"),
        SPX: ("TRADES", "HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"),
        IBUS500: ("BID", "ASK", "MIDPOINT"),
        bond: ("TRADES", "BID", "ASK"),
        aapl_call: ("TRADES", "BID", "ASK", "MIDPOINT"),
        es_put: ("TRADES", "BID", "ASK"),
        SPY: ("FEE_RATE", "HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"),
    }
    for con_id, kinds in cases.items():
        for wts in kinds:
            for size in ("1 min", "30 mins", "1 day"):
                bars = hist.bars(con_id, ANCHOR, "5 D", size, wts)
                assert bars, (con_id, wts, size)
                for b in bars:
                    assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high, (
                        con_id,
                        wts,
                        b,
                    )
                    assert b.low > 0
                    if wts in ("TRADES", "BID", "ASK", "AGGTRADES"):
                        for p in (b.open, b.high, b.low, b.close):
                            assert on_ladder(universe, con_id, p), (con_id, wts, p)
                    traded = wts in ("TRADES", "ADJUSTED_LAST", "AGGTRADES") and con_id != SPX
                    if traded:
                        assert b.volume is not None and b.volume > 0
                        assert b.bar_count is not None and b.bar_count > 0
                        assert b.wap is not None and b.low <= float(b.wap) <= b.high
                    else:
                        assert (b.volume, b.wap, b.bar_count) == (None, None, None)
                dates = [b.date for b in bars]
                assert dates == sorted(dates)  # type: ignore[type-var]
                assert len(set(dates)) == len(dates)


def test_volumes_are_plausible(universe: Universe, hist: History, es: int) -> None:
    for b in hist.bars(AAPL, END, "5 D", "1 min", "TRADES"):
        assert b.volume is not None and b.volume % 100 == 0  # round lots
        assert b.bar_count is not None and b.bar_count * 100 <= b.volume
    days = hist.bars(AAPL, END, "1 M", "1 day", "TRADES", True)
    assert all(5_000_000 < (b.volume or 0) < 200_000_000 for b in days)
    assert all(
        b.volume is not None and b.volume == int(b.volume)
        for b in hist.bars(es, END, "1 D", "1 hour")
    )
    btc = hist.bars(BTC, END, "1 D", "1 hour", "AGGTRADES")
    assert all(b.volume is not None and b.volume != int(b.volume) for b in btc[:5])  # fractional
    assert all(b.volume is None for b in hist.bars(EURUSD, END, "1 D", "1 hour", "MIDPOINT"))


def test_quote_types_relate(hist: History, es: int, aapl_call: int) -> None:
    for con_id in (AAPL, es, EURUSD, aapl_call):
        bid = hist.bars(con_id, END, "2 D", "15 mins", "BID")
        ask = hist.bars(con_id, END, "2 D", "15 mins", "ASK")
        mid = hist.bars(con_id, END, "2 D", "15 mins", "MIDPOINT")
        both = hist.bars(con_id, END, "2 D", "15 mins", "BID_ASK")
        assert len(bid) == len(ask) == len(mid) == len(both)
        for b, a, m, ba in zip(bid, ask, mid, both, strict=True):
            assert b.date == a.date == m.date == ba.date
            for x, y, z in ((b.open, a.open, m.open), (b.close, a.close, m.close)):
                assert x < y
                assert z == pytest.approx((x + y) / 2, abs=1e-9)
            # TWS's BID_ASK: time-average bid, max ask, min bid, time-average ask
            assert ba.high == a.high
            assert ba.low == b.low
            assert b.low <= ba.open <= b.high
            assert a.low <= ba.close <= a.high
            assert ba.close > ba.open
        if con_id != EURUSD:
            trades = hist.bars(con_id, END, "2 D", "15 mins", "TRADES")
            for t, b, a in zip(trades, bid, ask, strict=True):
                assert b.low <= t.low and t.high <= a.high


def test_adjusted_last_is_trades_with_a_dividend_adjustment(hist: History) -> None:
    trades = hist.bars(AAPL, END, "2 Y", "1 day", "TRADES", True)
    adjusted = hist.bars(AAPL, END, "2 Y", "1 day", "ADJUSTED_LAST", True)
    assert [b.date for b in trades] == [b.date for b in adjusted]
    ratios = [a.close / t.close for t, a in zip(trades, adjusted, strict=True)]
    assert ratios[-1] == pytest.approx(1.0)
    assert ratios[0] < 0.995  # older bars are adjusted down by the dividends since
    assert all(r1 <= r2 + 1e-6 for r1, r2 in pairwise(ratios))
    assert len({round(r, 6) for r in ratios}) >= 8  # a step per quarterly ex-date
    assert [b.volume for b in trades] == [b.volume for b in adjusted]


def test_volatility_and_fee_rate_values(hist: History, es: int) -> None:
    for con_id in (AAPL, SPY, SPX):
        for wts in ("HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"):
            days = hist.bars(con_id, END, "3 M", "1 day", wts)
            assert len(days) > 50
            assert all(0.03 < b.low <= b.high < 1.5 for b in days), (con_id, wts)
            mean = sum(b.close for b in days) / len(days)
            assert 0.08 < mean < 0.6
    fees = hist.bars(AAPL, END, "1 M", "1 day", "FEE_RATE")
    assert all(0.1 < b.low <= b.high < 2.0 for b in fees)
    hourly = hist.bars(AAPL, END, "1 D", "1 hour", "FEE_RATE")
    day = hist.bars(AAPL, END, "1 D", "1 day", "FEE_RATE")[-1]
    assert fields(day)[:4] == summary(hourly)[:4]


# -- sessions ----------------------------------------------------------------------------------


def test_no_weekend_or_holiday_bars(hist: History, es: int) -> None:
    holidays = us_holidays(2025) | us_holidays(2026)
    for con_id in (AAPL, es, EURUSD, SPX):
        for size in ("1 hour", "1 day"):
            for b in hist.bars(con_id, ANCHOR, "1 Y", size, trades_of(hist.universe, con_id)):
                d = b.date if not isinstance(b.date, datetime) else None
                if d is not None:
                    assert d.weekday() < 5, (con_id, b)
                if con_id in (AAPL, SPX):
                    day = b.date.date() if isinstance(b.date, datetime) else b.date
                    assert day.weekday() < 5 and day not in holidays, (con_id, b)
    # crypto trades every day
    btc_days = hist.bars(BTC, END, "14 D", "1 day", "AGGTRADES")
    assert {b.date.weekday() for b in btc_days} == set(range(7))  # type: ignore[union-attr]
    # Good Friday 2025 (April 18) and Thanksgiving: no US stock data
    days = {b.date for b in hist.bars(AAPL, ANCHOR, "1 Y", "1 day")}
    assert date(2025, 4, 18) not in days and date(2025, 11, 27) not in days
    assert date(2025, 4, 17) in days and date(2025, 11, 28) in days


def test_regular_hours_filter(hist: History, es: int) -> None:
    for b in hist.bars(AAPL, END, "5 D", "1 min", "TRADES", True):
        assert isinstance(b.date, datetime)
        local = b.date.astimezone(NY)
        assert (9, 30) <= (local.hour, local.minute) < (16, 0)
    full = hist.bars(AAPL, END, "5 D", "1 min", "TRADES", False)
    assert len(full) == 5 * 960 - 60  # 04:00-20:00, the last day cut at 19:00
    first = full[0].date
    assert isinstance(first, datetime) and first.astimezone(NY).hour == 4
    for b in hist.bars(es, END, "5 D", "30 mins", "TRADES", True):
        assert isinstance(b.date, datetime)
        local = b.date.astimezone(CHI)
        assert (8, 30) <= (local.hour, local.minute) < (15, 0)
    # forex and crypto have no separate regular hours
    assert hist.bars(EURUSD, END, "2 D", "1 hour", "MIDPOINT", True) == hist.bars(
        EURUSD, END, "2 D", "1 hour", "MIDPOINT", False
    )


def test_futures_sessions(hist: History, es: int) -> None:
    sessions = hist.sessions(
        es, datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)
    )
    assert [s.ref_date.weekday() for s in sessions] == [4, 0, 1, 2, 3, 4]
    monday = sessions[1]
    assert monday.start == datetime(2026, 2, 22, 17, 0, tzinfo=CHI)  # Sunday evening
    assert monday.end == datetime(2026, 2, 23, 16, 0, tzinfo=CHI)  # daily break 16-17
    for a, b in pairwise(sessions[1:]):
        assert b.start - a.end == timedelta(hours=1)
    rth = hist.sessions(
        es, datetime(2026, 2, 23, tzinfo=UTC), datetime(2026, 2, 24, tzinfo=UTC), True
    )
    assert [(s.start.hour, s.start.minute, s.end.hour) for s in rth] == [(8, 30, 15)]
    # no bars after the last trade (08:30 Chicago on the expiry day)
    inst = hist.universe.by_con_id(es)
    assert inst is not None
    expiry = datetime.strptime(inst.contract.last_trade_date_or_contract_month, "%Y%m%d").date()
    after = datetime.combine(expiry + timedelta(days=5), datetime.min.time(), UTC)
    last = hist.bars(es, after, "10 D", "1 min", "TRADES")[-1]
    assert last.date == datetime.combine(expiry, datetime.min.time(), CHI).replace(
        hour=8, minute=29
    )


def test_forex_and_crypto_sessions(hist: History) -> None:
    week = hist.sessions(
        EURUSD, datetime(2026, 2, 21, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)
    )
    assert [s.ref_date.weekday() for s in week] == [0, 1, 2, 3, 4]
    assert week[0].start == datetime(2026, 2, 22, 17, 15, tzinfo=NY)  # Sunday 17:15
    assert week[-1].end == datetime(2026, 2, 27, 17, 0, tzinfo=NY)  # Friday 17:00
    btc = hist.sessions(BTC, datetime(2026, 2, 21, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC))
    assert len(btc) == 8
    for a, b in pairwise(btc):
        assert a.end == b.start


def test_schedule_matches_the_universe_hours(universe: Universe, hist: History, es: int) -> None:
    for con_id in (AAPL, es, EURUSD, BTC, SPX, IBUS500):
        inst = universe.by_con_id(con_id)
        assert inst is not None
        tz = ZoneInfo(inst.details.time_zone_id)
        for use_rth, text in (
            (False, inst.details.trading_hours),
            (True, inst.details.liquid_hours),
        ):
            expected = []
            for entry in text.split(";"):
                if entry.endswith("CLOSED"):
                    continue
                a, b = entry.split("-")
                start = datetime.strptime(a, "%Y%m%d:%H%M").replace(tzinfo=tz)
                end = datetime.strptime(b, "%Y%m%d:%H%M").replace(tzinfo=tz)
                expected.append((start, end))
            first, last = expected[0][0], expected[-1][1]
            sched = hist.schedule(con_id, first, last, use_rth)
            assert sched.time_zone == inst.details.time_zone_id
            got = [(s.start, s.end) for s in sched.sessions]
            assert got == expected, (con_id, use_rth)
            assert all(s.start.tzinfo is not None for s in sched.sessions)


def test_daylight_saving_day_for_crypto(hist: History) -> None:
    # 2025-03-09: New York springs forward; the crypto day has 23 hours
    end = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # midnight New York (EDT)
    day = hist.bars(BTC, end, "1 D", "1 hour", "AGGTRADES")
    assert len(day) == 23
    assert [b.date.hour for b in day[:4]] == [0, 1, 3, 4]  # type: ignore[union-attr]
    minutes = hist.bars(BTC, end, "1 D", "1 min", "AGGTRADES")
    assert len(minutes) == 23 * 60
    for bar, sub in zip(day, group(minutes, day), strict=True):
        assert fields(bar) == summary(sub)


# -- the anchor ----------------------------------------------------------------------------------


def test_history_meets_the_live_market(
    universe: Universe, es: int, cl: int, bond: int, aapl_call: int, es_put: int, spxw: int
) -> None:
    live = Market(universe, seed=3)
    live.step(AAPL, ANCHOR + timedelta(seconds=1))  # the live engine's own state never matters
    hist = History(universe, live)
    fresh = Market(universe, seed=3)
    every = (AAPL, SPY, es, cl, EURUSD, USDJPY, BTC, SPX, IBUS500, bond, aapl_call, es_put, spxw)
    for con_id in every:
        fresh.initial_ticks(con_id, (), ANCHOR)
        q = fresh.quote(con_id)
        wts = trades_of(universe, con_id)
        last = hist.bars(con_id, ANCHOR, "2 D", "1 min", wts)[-1]
        assert isinstance(last.date, datetime)
        assert last.date + timedelta(minutes=1) <= ANCHOR
        if q.last > 0:
            assert last.close == q.last, con_id
        if q.bid > 0:
            bid = hist.bars(con_id, ANCHOR, "1 D", "1 min", "BID")[-1]
            ask = hist.bars(con_id, ANCHOR, "1 D", "1 min", "ASK")[-1]
            mid = hist.bars(con_id, ANCHOR, "1 D", "1 min", "MIDPOINT")[-1]
            assert (bid.close, ask.close) == (q.bid, q.ask), con_id
            assert mid.close == pytest.approx(q.midpoint, abs=1e-9)


def test_anchor_day_is_the_live_day(universe: Universe, hist: History, es: int) -> None:
    fresh = Market(universe, seed=3)
    for con_id in (AAPL, es, BTC, SPX):
        q = fresh.quote(con_id)
        wts = trades_of(universe, con_id)
        days = hist.bars(con_id, ANCHOR, "2 D", "1 day", wts)
        prev, today = days
        assert (today.open, today.high, today.low, today.close) == (q.open, q.high, q.low, q.last)
        if con_id != SPX:
            assert today.volume == q.volume
        rth = hist.bars(con_id, ANCHOR, "3 D", "1 day", wts, True)
        # the previous official close is the live previous close
        closes = {b.date: b.close for b in rth}
        assert closes[prev.date] == q.close, con_id
    # forex: the bid path meets the live day's bid open/high/low
    q = fresh.quote(EURUSD)
    bid_day = hist.bars(EURUSD, ANCHOR, "1 D", "1 day", "BID")[-1]
    assert (bid_day.open, bid_day.high, bid_day.low, bid_day.close) == (
        q.open,
        q.high,
        q.low,
        q.bid,
    )


def test_history_continues_after_the_anchor(hist: History) -> None:
    later = ANCHOR + timedelta(days=2, hours=3)
    bars = hist.bars(AAPL, later, "3 D", "1 min", "TRADES")
    before = [b for b in bars if b.date < ANCHOR]  # type: ignore[operator]
    after = [b for b in bars if b.date >= ANCHOR]  # type: ignore[operator]
    assert before and after
    assert after[0].open == before[-1].close  # no jump at the anchor
    assert hist.bars(AAPL, ANCHOR, "1 D", "1 min")[-1] == before[-1]


# -- head timestamp ------------------------------------------------------------------------------


def test_head_timestamp(hist: History, es: int, aapl_call: int) -> None:
    head = hist.head_timestamp(AAPL, "TRADES", True)
    assert head == datetime(1980, 12, 12, 14, 30, tzinfo=UTC)
    assert hist.head_timestamp(AAPL, "TRADES", False) == datetime(1980, 12, 12, 9, 0, tzinfo=UTC)
    first = hist.bars(AAPL, datetime(1981, 1, 1, tzinfo=UTC), "1 M", "1 day", "TRADES", True)
    assert first[0].date == date(1980, 12, 12)
    assert hist.bars(AAPL, datetime(1980, 12, 1, tzinfo=UTC), "1 M", "1 day", "TRADES") == []
    for con_id in (es, aapl_call, BTC, EURUSD):
        head = hist.head_timestamp(con_id, trades_of(hist.universe, con_id))
        assert head.tzinfo is UTC
        assert datetime(2000, 1, 1, tzinfo=UTC) < head < ANCHOR
        wts = trades_of(hist.universe, con_id)
        bars = hist.bars(con_id, head + timedelta(days=3), "10 D", "1 min", wts)
        assert bars and bars[0].date == head
        assert hist.bars(con_id, head, "5 D", "1 hour", wts) == []
    # an option is listed months (monthlies) or weeks (weeklies) before its expiry
    inst = hist.universe.by_con_id(aapl_call)
    assert inst is not None
    expiry = datetime.strptime(inst.contract.last_trade_date_or_contract_month, "%Y%m%d")
    assert (
        timedelta(days=20)
        < expiry.replace(tzinfo=UTC) - hist.head_timestamp(aapl_call)
        < timedelta(days=300)
    )


# -- ticks ---------------------------------------------------------------------------------------


def test_trade_ticks_match_the_bars(hist: History, es: int) -> None:
    start = datetime(2026, 2, 26, 14, 45, tzinfo=UTC)
    for con_id in (AAPL, es, BTC):
        ticks = hist.historical_ticks(con_id, "TRADES", 1000, start=start)
        assert len(ticks) == MAX_TICKS
        assert all(isinstance(t, HistoricalTickLast) for t in ticks)
        assert ticks[0].time >= start
        times = [t.time for t in ticks]
        assert times == sorted(times)
        seconds = hist.bars(
            con_id,
            times[-1] + timedelta(seconds=1),
            start,
            "1 secs",
            trades_of(hist.universe, con_id),
        )
        by_second = {b.date: b for b in seconds}
        for t in ticks:
            bar = by_second[t.time.astimezone(hist.time_zone(con_id))]
            assert bar.low <= t.price <= bar.high
        # whole seconds of ticks add up to the 1-second bars
        last_second = times[-1]
        for when, bar in by_second.items():
            if when.astimezone(UTC) >= last_second:
                continue
            in_bar = [t for t in ticks if t.time == when.astimezone(UTC)]
            assert sum((t.size or Decimal(0) for t in in_bar), Decimal(0)) == bar.volume
            assert len(in_bar) == bar.bar_count
    ticks = hist.historical_ticks(AAPL, "TRADES", 1000, start=start)
    assert {t.exchange for t in ticks} <= {
        "NASDAQ",
        "ARCA",
        "NYSE",
        "BATS",
        "IEX",
        "EDGX",
        "MEMX",
        "BYX",
    }
    assert any(t.unreported for t in ticks)  # occasionally
    assert sum(t.unreported for t in ticks) < 50
    assert sum(t.past_limit for t in ticks) <= 5  # rarely


def test_tick_requests_by_end_and_caps(hist: History) -> None:
    end = datetime(2026, 2, 26, 15, 0, tzinfo=UTC)
    before = hist.historical_ticks(AAPL, "TRADES", 50, end=end)
    assert len(before) == 50 and before[-1].time <= end
    after = hist.historical_ticks(AAPL, "TRADES", 5000, start=end)
    assert len(after) == MAX_TICKS
    window = hist.historical_ticks(AAPL, "TRADES", 1000, start=end, end=end + timedelta(seconds=20))
    assert 0 < len(window) < 1000 and all(t.time <= end + timedelta(seconds=20) for t in window)
    assert hist.historical_ticks(AAPL, "TRADES", 0, start=end) == []
    # a weekend start finds Monday's first ticks
    saturday = datetime(2026, 2, 21, 12, 0, tzinfo=UTC)
    monday = hist.historical_ticks(AAPL, "MIDPOINT", 5, start=saturday)
    assert monday[0].time == datetime(2026, 2, 23, 9, 0, tzinfo=UTC)  # 04:00 New York
    rth = hist.historical_ticks(AAPL, "MIDPOINT", 5, start=saturday, use_rth=True)
    assert rth[0].time == datetime(2026, 2, 23, 14, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        hist.historical_ticks(EURUSD, "TRADES", 10, start=end)
    with pytest.raises(ValueError):
        hist.historical_ticks(AAPL, "TRADES", 10)


def test_quote_ticks(hist: History, es: int) -> None:
    start = datetime(2026, 2, 26, 15, 0, tzinfo=UTC)
    for con_id in (AAPL, es, EURUSD):
        quotes = hist.historical_ticks(con_id, "BID_ASK", 400, start=start)
        assert len(quotes) == 400
        seconds = hist.bars(con_id, quotes[-1].time + timedelta(seconds=1), start, "1 secs", "BID")
        asks = hist.bars(con_id, quotes[-1].time + timedelta(seconds=1), start, "1 secs", "ASK")
        bid_at = {b.date: b for b in seconds}
        ask_at = {b.date: b for b in asks}
        tz = hist.time_zone(con_id)
        for q in quotes:
            assert isinstance(q, HistoricalTickBidAsk)
            assert q.bid_price < q.ask_price
            assert q.bid_size is not None and q.bid_size > 0
            when = q.time.astimezone(tz)
            assert bid_at[when].low <= q.bid_price <= bid_at[when].high
            assert ask_at[when].low <= q.ask_price <= ask_at[when].high
        assert sum(q.ask_past_high or q.bid_past_low for q in quotes) < len(quotes) / 4
        mids = hist.historical_ticks(con_id, "MIDPOINT", 400, start=start)
        assert all(isinstance(t, HistoricalTick) and t.size == 0 for t in mids)
        assert all(a.price != b.price for a, b in pairwise(mids))


# -- histogram, real-time bars, keep-up-to-date ------------------------------------------------


def test_histogram(hist: History, es: int) -> None:
    for con_id, period, rth in (
        (AAPL, "3 days", True),
        (AAPL, "1 week", False),
        (es, "2 days", False),
    ):
        entries = hist.histogram(con_id, rth, period, END)
        assert 10 < len(entries) <= 110
        prices = [e.price for e in entries]
        assert prices == sorted(prices)
        n = int(period.split()[0])
        duration = f"{n} D" if "day" in period else f"{n} W"
        bars = hist.bars(con_id, END, duration, "1 min", "TRADES", rth)
        total = sum((b.volume or Decimal(0) for b in bars), Decimal(0))
        assert sum((e.size for e in entries), Decimal(0)) == total
        lo, hi = min(b.low for b in bars), max(b.high for b in bars)
        assert lo - 1 <= prices[0] and prices[-1] <= hi
    assert hist.histogram(EURUSD, False, "1 week", END) == []
    with pytest.raises(ValueError):
        hist.histogram(AAPL, True, "3 fortnights", END)


def test_real_time_bars_are_five_second_bars(hist: History, es: int) -> None:
    start = datetime(2026, 2, 26, 15, 0, tzinfo=UTC)
    for con_id, wts in ((AAPL, "TRADES"), (AAPL, "MIDPOINT"), (es, "BID"), (EURUSD, "ASK")):
        fives = hist.bars(con_id, start + timedelta(minutes=2), start, "5 secs", wts)
        by_time = {b.date: b for b in fives}
        for k in range(24):
            when = start + timedelta(seconds=5 * k + 2)
            rt = hist.real_time_bar(con_id, when, wts)
            assert rt is not None
            assert rt.time == start + timedelta(seconds=5 * k)
            bar = by_time.get(rt.time.astimezone(hist.time_zone(con_id)))
            if bar is None:  # no trades in the slot: TWS repeats the price, volume 0
                assert wts == "TRADES" and rt.volume == 0 and rt.count == 0
                continue
            assert (rt.open, rt.high, rt.low, rt.close) == (bar.open, bar.high, bar.low, bar.close)
            if wts == "TRADES":
                assert (rt.volume, rt.wap, rt.count) == (bar.volume, bar.wap, bar.bar_count)
            else:
                assert (rt.volume, rt.wap, rt.count) == (None, None, None)
    # an index streams its values
    spx = hist.real_time_bar(SPX, start + timedelta(seconds=3), "TRADES")
    assert spx is not None and spx.volume is None and spx.count is None
    spx_bars = hist.bars(SPX, start + timedelta(seconds=5), start, "5 secs", "TRADES")
    assert (spx.open, spx.high, spx.low, spx.close) == fields(spx_bars[0])[:4]
    # a stretch of them at once
    stretch = hist.real_time_bars(AAPL, start, start + timedelta(minutes=1), "MIDPOINT")
    assert [b.time for b in stretch] == [start + timedelta(seconds=5 * k) for k in range(12)]
    # outside the session: nothing
    assert hist.real_time_bar(AAPL, datetime(2026, 2, 28, 15, 0, tzinfo=UTC)) is None
    with pytest.raises(ValueError):
        hist.real_time_bar(AAPL, start, "BID_ASK")


def test_keep_up_to_date(hist: History) -> None:
    t0 = datetime(2026, 3, 2, 14, 37, 12, tzinfo=UTC)  # after the anchor: the extension
    first = hist.bar_update(AAPL, "5 mins", "TRADES", False, t0)
    assert first is not None and first.new_bar
    assert first.bar.date == datetime(2026, 3, 2, 9, 35, tzinfo=NY)
    same = hist.bar_update(AAPL, "5 mins", "TRADES", False, t0 + timedelta(seconds=30), t0)
    assert same is not None and not same.new_bar
    assert same.bar.date == first.bar.date
    assert same.bar.volume >= first.bar.volume  # type: ignore[operator]
    assert same.bar.high >= first.bar.high and same.bar.low <= first.bar.low
    nxt = hist.bar_update(AAPL, "5 mins", "TRADES", False, t0 + timedelta(minutes=3), t0)
    assert nxt is not None and nxt.new_bar
    assert nxt.bar.date == datetime(2026, 3, 2, 9, 40, tzinfo=NY)
    # the partial bar is what the bars of a request ending now end with
    assert hist.bars(AAPL, t0, "1 D", "5 mins", "TRADES")[-1] == first.bar
    # daily bars: today's bar grows; outside the session the latest bar is returned
    day = hist.bar_update(AAPL, "1 day", "TRADES", False, t0, t0 - timedelta(hours=1))
    assert day is not None and not day.new_bar and day.bar.date == date(2026, 3, 2)
    weekend = hist.current_bar(
        AAPL, "1 hour", "MIDPOINT", True, datetime(2026, 2, 28, 12, tzinfo=UTC)
    )
    assert weekend is not None and weekend.date == datetime(2026, 2, 27, 15, 0, tzinfo=NY)


# -- time zones, durations --------------------------------------------------------------------


def test_dates_and_durations(hist: History, es: int) -> None:
    bars = hist.bars(es, END, "1 D", "1 hour", "TRADES")
    assert all(isinstance(b.date, datetime) and b.date.tzinfo is not None for b in bars)
    assert bars[0].date.utcoffset() == timedelta(hours=-6)  # type: ignore[union-attr]
    in_utc = hist.bars(es, END, "1 D", "1 hour", "TRADES", tz=UTC)
    assert [b.date for b in in_utc] == [b.date for b in bars]  # same instants
    assert in_utc[0].date.tzinfo is UTC  # type: ignore[union-attr]
    # the same range in several spellings
    a = hist.bars(AAPL, END, "7200 S", "5 mins")
    assert a == hist.bars(AAPL, END, 7200, "5 mins")
    assert a == hist.bars(AAPL, END, timedelta(hours=2), "5 mins")
    assert a == hist.bars(AAPL, END, END - timedelta(hours=2), "5 mins")
    assert len(a) == 24
    assert len(hist.bars(AAPL, END, "2 W", "1 day")) == 9  # Presidents' Day in between
    assert len(hist.bars(AAPL, END, "1 M", "1 day")) == 22  # Jan 28 - Feb 27
    assert 245 <= len(hist.bars(AAPL, END, "1 Y", "1 day")) <= 252
    naive = hist.bars(AAPL, END.replace(tzinfo=None), "7200 S", "5 mins")
    assert naive == a  # naive means UTC


# -- performance sanity ------------------------------------------------------------------------


def test_a_year_of_minute_bars(universe: Universe, es: int) -> None:
    hist = History(universe, Market(universe, seed=3))
    aapl = hist.bars(AAPL, ANCHOR, "1 Y", "1 min", "TRADES", True)
    assert 240 * 390 < len(aapl) < 254 * 390
    futures = hist.bars(es, ANCHOR, "1 Y", "1 min", "TRADES")
    assert 245 * 1380 < len(futures) < 262 * 1380
    years = hist.bars(AAPL, ANCHOR, "20 Y", "1 day", "TRADES")
    assert 5000 < len(years) < 5050
    assert all(b.low > 0 for b in years)
    assert math.isfinite(sum(b.close for b in years))


# -- the whole universe ----------------------------------------------------------------------


def test_every_underlying_and_what_to_show(universe: Universe) -> None:
    hist = History(universe, Market(universe, seed=3))
    for inst in universe.underlyings:
        con_id = inst.con_id
        for wts in WHAT_TO_SHOW:
            if wts == "SCHEDULE" or hist.validate(con_id, wts) is not None:
                continue
            minutes = hist.bars(con_id, ANCHOR, "2 D", "1 min", wts)
            hours = hist.bars(con_id, ANCHOR, "2 D", "1 hour", wts)
            days = hist.bars(con_id, ANCHOR, "2 D", "1 day", wts)
            assert minutes and hours and len(days) == 2, (inst.contract.local_symbol, wts)
            for b in minutes + hours + days:
                assert 0 < b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
            if wts != "BID_ASK":  # time averages are not aggregates
                for bar, sub in zip(hours, group(minutes, hours), strict=True):
                    assert fields(bar) == summary(sub), (inst.contract.local_symbol, wts)
        sched = hist.schedule(con_id, ANCHOR - timedelta(days=7), ANCHOR)
        assert 4 <= len(sched.sessions) <= 8
        assert hist.head_timestamp(con_id, "SCHEDULE") < ANCHOR


def test_cheap_options_on_a_two_rung_ladder(universe: Universe) -> None:
    # SPX options tick 0.05 below 3.00 and 0.10 above: far out-of-the-money puts cross it
    hist = History(universe, Market(universe, seed=3))
    puts = [
        i
        for i in universe.options_of(SPX)
        if i.contract.right == "P" and i.contract.trading_class == "SPX"
    ]
    cheap = min(puts, key=lambda i: abs(i.price - 3.0))
    bars = hist.bars(cheap.con_id, ANCHOR, "5 D", "1 min", "TRADES")
    assert bars
    for b in bars:
        for p in (b.open, b.high, b.low, b.close):
            assert on_ladder(universe, cheap.con_id, p), p
    hours = hist.bars(cheap.con_id, ANCHOR, "5 D", "1 hour", "TRADES")
    for bar, sub in zip(hours, group(bars, hours), strict=True):
        assert fields(bar) == summary(sub)
