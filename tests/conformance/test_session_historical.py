"""The official client asks ``aiotws sim`` for historical data, and gets what TWS sends.

Historical bars (one-shot on both sides of the 196 HISTORICAL_DATA_END gate, kept up to date),
head timestamps, historical ticks of each kind, histograms, trading schedules (165+), real-time
bars, tick-by-tick data with its historical ticks first, and TWS's errors: decoded by the
official ``Decoder`` without errors, with the values the simulator's engine
(:func:`aiotws.sim.history_of`) gives for the same question. Every exchange goes through real
sockets: an official ``EClient`` against an in-process :class:`aiotws.sim.Simulator` (see
``support.py``).

The simulators start inside a regular trading session of AAPL (``market_start``); the ones
that stream run their simulated time ``SPEED`` times as fast as the real one, so a 5-second
bar takes a tenth of a second. "Nothing more arrives" after a cancel is shown as in
``test_session_market.py``: a second, live request (the *witness*) keeps receiving while the
cancelled one gets nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import pytest
from ibapi.contract import Contract

from aiotws.model.history import HistoricalTickBidAsk, HistoricalTickLast
from aiotws.sim import History, Simulator, history_of
from aiotws.sim.calendar import is_business_day

from .support import Call, Harness, OfficialSession, round_trip, wait_for_count

T = TypeVar("T")

AAPL_CON_ID: Final = 265598
#: the market clock of the streaming simulators (seconds between updates)
CLOCK: Final = 0.02
#: simulated seconds per real second for the streaming simulators
SPEED: Final = 50.0
NEW_YORK: Final = ZoneInfo("America/New_York")
_BAR_TIME: Final = re.compile(r"\d{8} \d{2}:\d{2}:\d{2} US/Eastern")
_RANGE_TIME: Final = _BAR_TIME
_SCHEDULE_TIME: Final = re.compile(r"\d{8}-\d{2}:\d{2}:\d{2}")


def _session_time() -> datetime:
    """15:30 UTC of the last US business day before today (AAPL's regular hours)."""
    d = datetime.now(UTC).date() - timedelta(days=1)
    while not is_business_day(d):
        d -= timedelta(days=1)
    return datetime.combine(d, time(15, 30), UTC)


SESSION: Final = _session_time()
SESSION_UTC: Final = f"{SESSION:%Y%m%d-%H:%M:%S}"


# -- helpers ----------------------------------------------------------------------------------


def _aapl() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def _req_id(c: Call) -> Any:
    return c.args.get("reqId", c.args.get("tickerId"))


def _of(req_id: int, *names: str) -> Callable[[Call], bool]:
    """Callbacks for ``req_id`` (any of ``names``, or any name but ``error``)."""
    if names:
        return lambda c: c.name in names and _req_id(c) == req_id
    return lambda c: c.name != "error" and _req_id(c) == req_id


def _calls(s: OfficialSession, where: Callable[[Call], bool], start: int = 0) -> list[Call]:
    with s.wrapper._cond:
        return [c for c in s.wrapper.calls[start:] if where(c)]


def _errors_for(s: OfficialSession, req_id: int, start: int = 0) -> list[int]:
    return [e["errorCode"] for e in s.wrapper.errors(start) if e["reqId"] == req_id]


def _engine(harness: Harness, sim: Simulator, ask: Callable[[History], T]) -> T:
    """What the simulator's engine answers (asked in the simulator's thread)."""
    return harness.loop.call(lambda: ask(history_of(sim)))


def _bar_text(when: datetime) -> str:
    return f"{when.astimezone(NEW_YORK):%Y%m%d %H:%M:%S} US/Eastern"


def _check_bar(bar: Any, traded: bool) -> None:
    assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    assert isinstance(bar.volume, Decimal) and isinstance(bar.wap, Decimal)
    if traded:
        assert bar.volume > 0 and bar.low <= float(bar.wap) <= bar.high and bar.barCount > 0
    else:  # TWS's "no value" for bars without trades
        assert (bar.volume, bar.wap, bar.barCount) == (Decimal(-1), Decimal(-1), -1)


def _assert_quiet_after_cancel(
    s: OfficialSession, victim: int, witness: Callable[[Call], bool], count: int
) -> None:
    """After the cancel of ``victim`` was sent: once the server has handled it (a round trip),
    the live ``witness`` receives ``count`` more callbacks while ``victim`` receives nothing."""
    after = round_trip(s)
    wait_for_count(s.wrapper, witness, count, start=after)
    round_trip(s)
    late = _calls(s, _of(victim), after)
    assert late == [], f"{len(late)} callbacks for {victim} after its cancel: {late[:3]}"
    assert _errors_for(s, victim, after) == []


# -- bars -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [157, 176, 195, 196, 200])
def test_historical_bars_one_shot(harness: Harness, version: int) -> None:
    """Below 196 HISTORICAL_DATA carries the range and ends the request (the official decoder
    calls ``historicalDataEnd`` itself); from 196 HISTORICAL_DATA_END follows the bars."""
    sim = harness.sim(max_version=version, market_start=SESSION)
    s = harness.connect(sim)
    assert s.server_version == version
    mark = s.wrapper.mark()
    s.client.reqHistoricalData(71, _aapl(), SESSION_UTC, "1 D", "5 mins", "TRADES", 1, 1, False, [])
    end = s.wrapper.wait_for("historicalDataEnd", _of(71), start=mark)
    calls = _calls(s, _of(71), mark)
    assert [c.name for c in calls[:-1]] == ["historicalData"] * (len(calls) - 1)
    assert calls[-1] is end
    assert _errors_for(s, 71, mark) == []
    bars = [c["bar"] for c in calls[:-1]]
    expected = _engine(
        harness, sim, lambda h: h.bars(AAPL_CON_ID, SESSION, "1 D", "5 mins", "TRADES", True)
    )
    assert len(bars) == len(expected) > 10
    for bar, want in zip(bars, expected, strict=True):
        _check_bar(bar, traded=True)
        assert isinstance(want.date, datetime)
        assert bar.date == _bar_text(want.date)
        assert (bar.open, bar.high, bar.low, bar.close) == (
            want.open,
            want.high,
            want.low,
            want.close,
        )
        assert (bar.volume, bar.wap, bar.barCount) == (want.volume, want.wap, want.bar_count)
    # the range served: "yyyymmdd hh:mm:ss <zone>", from the end back by the duration
    assert _RANGE_TIME.fullmatch(end["start"]) and _RANGE_TIME.fullmatch(end["end"])
    assert end["end"] == _bar_text(SESSION)
    assert end["start"] == _bar_text(SESSION - timedelta(days=1))


def test_daily_midpoint_bars_and_epoch_times(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHistoricalData(72, _aapl(), "", "1 M", "1 day", "MIDPOINT", 1, 2, False, [])
    s.client.reqHistoricalData(73, _aapl(), SESSION_UTC, "3600 S", "1 min", "BID", 0, 2, False, [])
    s.wrapper.wait_for("historicalDataEnd", _of(72), start=mark)
    s.wrapper.wait_for("historicalDataEnd", _of(73), start=mark)
    daily = [c["bar"] for c in _calls(s, _of(72, "historicalData"), mark)]
    assert len(daily) > 15
    for bar in daily:  # days stay yyyymmdd with formatDate 2
        assert re.fullmatch(r"\d{8}", bar.date)
        _check_bar(bar, traded=False)
    assert daily[-1].date == SESSION.strftime("%Y%m%d")
    minutes = [c["bar"] for c in _calls(s, _of(73, "historicalData"), mark)]
    times = [int(b.date) for b in minutes]  # epoch seconds
    assert len(times) == 60 and times == list(range(times[0], times[0] + 3600, 60))
    assert times[-1] == int(SESSION.timestamp()) - 60
    for bar in minutes:
        _check_bar(bar, traded=False)
    assert [e for e in s.wrapper.errors(mark) if e["reqId"] in (72, 73)] == []


def test_keep_up_to_date_updates_until_cancelled(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION, market_speed=SPEED, tick_interval=CLOCK)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHistoricalData(74, _aapl(), "", "1800 S", "5 secs", "TRADES", 1, 1, True, [])
    s.client.reqHistoricalData(75, _aapl(), "", "1200 S", "1 min", "MIDPOINT", 1, 1, True, [])
    s.wrapper.wait_for("historicalDataEnd", _of(74), start=mark)
    first = _calls(s, _of(74, "historicalData"), mark)
    assert first and _BAR_TIME.fullmatch(first[-1]["bar"].date)
    updates = wait_for_count(s.wrapper, _of(74, "historicalDataUpdate"), 8, start=mark)
    dates = [u["bar"].date for u in updates]
    assert all(_BAR_TIME.fullmatch(d) for d in dates)
    assert dates == sorted(dates) and len(set(dates)) > 1  # revisions, then new bars
    assert dates[0] >= first[-1]["bar"].date
    for u in updates:
        _check_bar(u["bar"], traded=True)
    assert _errors_for(s, 74, mark) == []
    s.client.cancelHistoricalData(74)
    _assert_quiet_after_cancel(s, 74, _of(75, "historicalDataUpdate"), count=3)
    mids = _calls(s, _of(75, "historicalDataUpdate"), mark)
    for u in mids:
        _check_bar(u["bar"], traded=False)
    s.client.cancelHistoricalData(75)


# -- head timestamp, ticks, histogram, schedule -------------------------------------------------


def test_head_timestamp(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHeadTimeStamp(76, _aapl(), "TRADES", 1, 1)
    s.client.reqHeadTimeStamp(77, _aapl(), "TRADES", 1, 2)
    text = s.wrapper.wait_for("headTimestamp", _of(76), start=mark)["headTimestamp"]
    epoch = s.wrapper.wait_for("headTimestamp", _of(77), start=mark)["headTimestamp"]
    s.client.cancelHeadTimeStamp(76)
    s.client.cancelHeadTimeStamp(77)
    head = _engine(harness, sim, lambda h: h.head_timestamp(AAPL_CON_ID, "TRADES", True))
    assert text == f"{head:%Y%m%d-%H:%M:%S}" == "19801212-14:30:00"  # UTC
    assert epoch == str(int(head.timestamp()))
    round_trip(s)
    assert [e for e in s.wrapper.errors(mark) if e["reqId"] in (76, 77)] == []


def test_historical_ticks_of_each_kind(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    end = SESSION - timedelta(hours=6)  # before the open: new highs and lows of the day
    end_text = f"{end:%Y%m%d-%H:%M:%S}"
    s.client.reqHistoricalTicks(78, _aapl(), "", end_text, 1000, "TRADES", 0, False, [])
    s.client.reqHistoricalTicks(79, _aapl(), "", end_text, 1000, "BID_ASK", 0, False, [])
    s.client.reqHistoricalTicks(80, _aapl(), SESSION_UTC, "", 100, "MIDPOINT", 1, False, [])
    last = s.wrapper.wait_for("historicalTicksLast", _of(78), start=mark)
    bid_ask = s.wrapper.wait_for("historicalTicksBidAsk", _of(79), start=mark)
    mid = s.wrapper.wait_for("historicalTicks", _of(80), start=mark)
    assert last["done"] and bid_ask["done"] and mid["done"]

    trades = _engine(
        harness, sim, lambda h: h.historical_ticks(AAPL_CON_ID, "TRADES", 1000, end=end)
    )
    assert len(last["ticks"]) == len(trades) == 1000
    for got, want in zip(last["ticks"], trades, strict=True):
        assert isinstance(want, HistoricalTickLast)
        assert got.time == int(want.time.timestamp()) and got.price == want.price
        assert got.size == want.size and isinstance(got.size, Decimal)
        assert (got.exchange, got.specialConditions) == (want.exchange, want.special_conditions)
        assert got.tickAttribLast.pastLimit == want.past_limit
        assert got.tickAttribLast.unreported == want.unreported
    assert any(t.tickAttribLast.unreported for t in last["ticks"])

    quotes = _engine(
        harness, sim, lambda h: h.historical_ticks(AAPL_CON_ID, "BID_ASK", 1000, end=end)
    )
    assert len(bid_ask["ticks"]) == len(quotes)
    for got, want in zip(bid_ask["ticks"], quotes, strict=True):
        assert isinstance(want, HistoricalTickBidAsk)
        assert got.time == int(want.time.timestamp())
        assert (got.priceBid, got.priceAsk) == (want.bid_price, want.ask_price)
        assert (got.sizeBid, got.sizeAsk) == (want.bid_size, want.ask_size)
        # bit 0 ask past high, bit 1 bid past low, as the official decoder reads them
        assert got.tickAttribBidAsk.askPastHigh == want.ask_past_high
        assert got.tickAttribBidAsk.bidPastLow == want.bid_past_low
        assert 0 < got.priceBid < got.priceAsk
    assert any(t.tickAttribBidAsk.bidPastLow for t in bid_ask["ticks"])

    mids = mid["ticks"]
    assert len(mids) == 100
    assert all(t.time >= int(SESSION.timestamp()) and t.price > 0 and t.size == 0 for t in mids)
    times = [t.time for t in mids]
    assert times == sorted(times)
    round_trip(s)
    assert [e for e in s.wrapper.errors(mark) if e["reqId"] in (78, 79, 80)] == []


def test_histogram(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHistogramData(81, _aapl(), True, "3 days")
    items = s.wrapper.wait_for("histogramData", _of(81), start=mark)["items"]
    s.client.cancelHistogramData(81)
    expected = _engine(
        harness, sim, lambda h: h.histogram(AAPL_CON_ID, True, "3 days", sim.market_time())
    )
    assert len(items) == len(expected) > 10
    assert [(i.price, i.size) for i in items] == [(e.price, e.size) for e in expected]
    prices = [i.price for i in items]
    assert prices == sorted(prices)
    assert all(isinstance(i.size, Decimal) and i.size > 0 for i in items)
    round_trip(s)
    assert _errors_for(s, 81, mark) == []


@pytest.mark.parametrize("version", [165, 200])
def test_historical_schedule(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version, market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHistoricalData(
        82, _aapl(), SESSION_UTC, "5 D", "1 day", "SCHEDULE", 1, 1, False, []
    )
    sched = s.wrapper.wait_for("historicalSchedule", _of(82), start=mark)
    assert sched["timeZone"] == "US/Eastern"
    sessions = sched["sessions"]
    assert len(sessions) == 5
    for x in sessions:
        assert _SCHEDULE_TIME.fullmatch(x.startDateTime) and _SCHEDULE_TIME.fullmatch(x.endDateTime)
        assert re.fullmatch(r"\d{8}", x.refDate)
        assert (
            x.startDateTime == f"{x.refDate}-09:30:00" and x.endDateTime == f"{x.refDate}-16:00:00"
        )
    refs = [x.refDate for x in sessions]
    assert refs == sorted(refs) and refs[-1] == SESSION.strftime("%Y%m%d")
    assert sched["startDateTime"] == sessions[0].startDateTime
    assert sched["endDateTime"] == sessions[-1].endDateTime
    round_trip(s)
    assert _calls(s, _of(82, "historicalData", "historicalDataEnd"), mark) == []
    assert _errors_for(s, 82, mark) == []


# -- real-time bars and tick-by-tick history --------------------------------------------------


def test_real_time_bars_until_cancelled(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION, market_speed=SPEED, tick_interval=CLOCK)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqRealTimeBars(83, _aapl(), 5, "TRADES", True, [])
    s.client.reqRealTimeBars(84, _aapl(), 5, "MIDPOINT", True, [])  # the witness
    bars = wait_for_count(s.wrapper, _of(83, "realtimeBar"), 4, start=mark)
    times = [b["time"] for b in bars]
    assert all(isinstance(t, int) and t % 5 == 0 for t in times)
    assert times == list(range(times[0], times[0] + 20, 5))
    assert times[0] >= int(SESSION.timestamp())
    expected = _engine(
        harness,
        sim,
        lambda h: [
            h.real_time_bar(AAPL_CON_ID, datetime.fromtimestamp(t, UTC), "TRADES", True)
            for t in times
        ],
    )
    for b, want in zip(bars, expected, strict=True):
        assert want is not None
        assert (b["open_"], b["high"], b["low"], b["close"]) == (
            want.open,
            want.high,
            want.low,
            want.close,
        )
        assert (b["volume"], b["wap"], b["count"]) == (want.volume, want.wap, want.count)
        assert isinstance(b["volume"], Decimal) and b["low"] <= b["open_"] <= b["high"]
    assert _errors_for(s, 83, mark) == []
    s.client.cancelRealTimeBars(83)
    _assert_quiet_after_cancel(s, 83, _of(84, "realtimeBar"), count=3)
    for b in _calls(s, _of(84, "realtimeBar"), mark):
        assert (b["volume"], b["wap"], b["count"]) == (Decimal(-1), Decimal(-1), -1)
    s.client.cancelRealTimeBars(84)


def test_tick_by_tick_sends_its_historical_ticks_first(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION, tick_interval=CLOCK)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqTickByTickData(85, _aapl(), "BidAsk", 10, False)
    history = s.wrapper.wait_for("historicalTicksBidAsk", _of(85), start=mark)
    wait_for_count(s.wrapper, _of(85, "tickByTickBidAsk"), 2, start=mark)
    s.client.cancelTickByTickData(85)
    calls = _calls(s, _of(85), mark)
    assert calls[0] is history  # the historical ticks come first, under the same id
    assert history["done"] and len(history["ticks"]) == 10
    times = [t.time for t in history["ticks"]]
    assert times == sorted(times) and times[-1] <= int(SESSION.timestamp()) + 1
    assert all(0 < t.priceBid < t.priceAsk for t in history["ticks"])
    assert {c.name for c in calls[1:]} == {"tickByTickBidAsk"}
    assert _errors_for(s, 85, mark) == []


# -- errors --------------------------------------------------------------------------------------


def test_errors_as_tws_sends_them(harness: Harness) -> None:
    sim = harness.sim(market_start=SESSION)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqHistoricalData(86, _aapl(), "", "1 D", "1 sec", "TRADES", 1, 1, False, [])
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 86, start=mark)
    assert err["errorCode"] == 321
    assert err["errorString"].startswith("Error validating request.-'")
    assert (
        "Historical data bar size setting is invalid. Legal ones are: 1 secs," in err["errorString"]
    )
    # no data before the listing: 162 "HMDS query returned no data"
    s.client.reqHistoricalData(
        87, _aapl(), "19790601-15:00:00", "1 D", "1 hour", "TRADES", 1, 1, False, []
    )
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 87, start=mark)
    assert (
        err["errorCode"] == 162 and "HMDS query returned no data: AAPL@SMART" in err["errorString"]
    )
    # an unknown contract: 200
    unknown = _aapl()
    unknown.symbol = "XYZZY"
    s.client.reqHeadTimeStamp(88, unknown, "TRADES", 1, 1)
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 88, start=mark)
    assert err["errorCode"] == 200
    # the cancel of a query that is not running: 366
    s.client.cancelHistoricalData(87)
    err = s.wrapper.wait_for(
        "error", lambda c: c["reqId"] == 87 and c["errorCode"] != 162, start=mark
    )
    assert err["errorCode"] == 366
    round_trip(s)
    assert _calls(s, lambda c: c.name != "error" and _req_id(c) in (86, 87, 88), mark) == []
