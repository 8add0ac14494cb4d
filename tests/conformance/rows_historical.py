"""Historical data messages: bars, schedule, head timestamp, histogram, ticks, real-time bars.

Outgoing rows send the 12-field contract block and ``includeExpired`` (REQ_REAL_TIME_BARS:
C12 only); REQ_HISTORICAL_DATA adds a ``BAG``'s combo legs after ``formatDate``. The TagValue
options (``chartOptions``, ``miscOptions``, ``realTimeBarsOptions``) are drawn as lists of
``(tag, value)`` pairs: official ``TagValue`` objects on one side, aiotws's ``tag=value;``
string on the other (the official client joins them the same way). ``useRTH`` is a bool in
aiotws; the official client also takes the ints 0 and 1 (samples use both), and writes any
other int as itself (pinned in ``test_historical.py``).

Official value mappings used by the views:

* volumes, WAPs and sizes: the official ``UNSET_DECIMAL`` is aiotws's ``None``; TWS's
  ``-1`` "no value" is ``Decimal(-1)`` on both sides.
* historical tick and real-time bar times: the official client passes epoch-second ints,
  aiotws UTC datetimes; the views compare seconds (through the model records the rows
  convert to).
* HISTORICAL_DATA below 196: the official decoder makes one ``historicalData`` per bar and
  then ``historicalDataEnd`` with the range. The views leave out an end call whose range is
  empty (below 196 aiotws's message always has one, but cannot say so when both strings are
  empty); ``test_historical.py`` pins the official callbacks at 195 and 196 exactly.
* HISTORICAL_TICKS: the official decoder skips the field after ``time`` that aiotws keeps as
  ``mask``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st
from ibapi.client import EClient
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE
from ibapi.contract import ComboLeg as OfficialComboLeg
from ibapi.contract import Contract as OfficialContract
from ibapi.tag_value import TagValue as OfficialTagValue

from aiotws.model import ComboLeg, Contract
from aiotws.wire import messages as m
from aiotws.wire.messages.historical import (
    BarRow,
    HistogramRow,
    SessionRow,
    TickBidAskRow,
    TickLastRow,
    TickRow,
)
from aiotws.wire.versions import SV

from .rows_contracts import any_text, ids, int64, ints, out_strikes, out_text, printable, sizes
from .rows_market import C12_KEYS, c12_args, official_c12, our_c12
from .support import Call, req_id_row

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS", "hist_args", "official_hist_contract"]

Args = dict[str, Any]

# Rows are built lazily, as in rows_contracts (see the note there): the tables import this
# module and it needs their Row classes, so nothing here imports a table at import time.
_ROWS: dict[str, tuple[Any, ...]] = {}

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
LAST_SECOND: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())

# -- outgoing ---------------------------------------------------------------------------------


def _options(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{tag}={value};" for tag, value in pairs)


def _official_options(pairs: list[tuple[str, str]]) -> list[OfficialTagValue]:
    return [OfficialTagValue(tag, value) for tag, value in pairs]


def our_hist_contract(a: Args) -> Contract:
    c = our_c12(a)
    c.include_expired = a.get("include_expired", False)
    c.combo_legs = [ComboLeg(*leg) for leg in a.get("legs", [])]
    return c


def official_hist_contract(a: Args) -> OfficialContract:
    c = official_c12(a)
    c.includeExpired = a.get("include_expired", False)
    legs = []
    for con_id, ratio, action, exchange in a.get("legs", []):
        leg = OfficialComboLeg()
        leg.conId, leg.ratio, leg.action, leg.exchange = con_id, ratio, action, exchange
        legs.append(leg)
    c.comboLegs = legs
    return c


def hist_args(**changes: Any) -> Args:
    """REQ_HISTORICAL_DATA arguments: an empty contract, daily TRADES bars, and ``changes``."""
    base: Args = {
        "include_expired": False,
        "legs": [],
        "end_date_time": "",
        "duration_str": "1 D",
        "bar_size_setting": "1 day",
        "what_to_show": "TRADES",
        "use_rth": True,
        "format_date": 1,
        "keep_up_to_date": False,
        "chart_options": [],
    }
    return c12_args(**{**base, **changes})


def _build_hist(a: Args) -> m.ReqHistoricalData:
    return m.ReqHistoricalData(
        a["req_id"],
        our_hist_contract(a),
        a["end_date_time"],
        a["bar_size_setting"],
        a["duration_str"],
        bool(a["use_rth"]),
        a["what_to_show"],
        a["format_date"],
        keep_up_to_date=a["keep_up_to_date"],
        chart_options=_options(a["chart_options"]),
    )


def _call_hist(client: EClient, a: Args) -> None:
    client.reqHistoricalData(
        a["req_id"],
        official_hist_contract(a),
        a["end_date_time"],
        a["duration_str"],
        a["bar_size_setting"],
        a["what_to_show"],
        a["use_rth"],
        a["format_date"],
        a["keep_up_to_date"],
        _official_options(a["chart_options"]),
    )


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


end_times = st.sampled_from(["", "20240102 16:00:00 US/Eastern", "20240102-21:00:00"]) | out_text
bar_sizes = st.sampled_from(["1 secs", "5 mins", "1 hour", "1 day", "1 week"]) | out_text
durations = st.sampled_from(["1 D", "2 W", "1 Y", "3600 S"]) | out_text
shows = st.sampled_from(["TRADES", "MIDPOINT", "BID_ASK", "SCHEDULE", "ADJUSTED_LAST"]) | out_text
tick_shows = st.sampled_from(["TRADES", "MIDPOINT", "BID_ASK"]) | out_text
format_dates = st.sampled_from([1, 2]) | ints
options = st.lists(st.tuples(out_text, out_text), max_size=3)


@st.composite
def _contract_draw(draw: st.DrawFn, sec_types: st.SearchStrategy[str] = out_text) -> Args:
    a: Args = {
        "req_id": draw(ints),
        "con_id": draw(st.sampled_from([0, 265598]) | ints),
        "strike": draw(out_strikes),
        "sec_type": draw(sec_types),
        "include_expired": draw(st.booleans()),
    }
    for key, _ in C12_KEYS:
        if key not in a:
            a[key] = draw(out_text, label=key)
    return a


def _spoil(draw: st.DrawFn, a: Args) -> Args:
    """Now and then put text the official client refuses (579) into one string field."""
    if draw(st.booleans()):
        keys = [k for k, v in a.items() if isinstance(v, str)]
        if keys:
            key = draw(st.sampled_from(keys))
            a[key] = draw(any_text.filter(_is_bad_out_text), label=f"bad {key}")
    return a


@st.composite
def _with_contract(draw: st.DrawFn, extra: dict[str, st.SearchStrategy[Any]]) -> Args:
    a = draw(_contract_draw())
    for name, strategy in extra.items():
        a[name] = draw(strategy, label=name)
    return _spoil(draw, a)


@st.composite
def _hist_draw(draw: st.DrawFn) -> Args:
    a = draw(_contract_draw(st.sampled_from(["BAG", "STK", "FUT"]) | out_text))
    legs = st.tuples(ints, ints, st.sampled_from(["BUY", "SELL"]) | out_text, out_text)
    a["legs"] = draw(st.lists(legs, max_size=3)) if a["sec_type"] == "BAG" else []
    a["end_date_time"] = draw(end_times)
    a["bar_size_setting"] = draw(bar_sizes)
    a["duration_str"] = draw(durations)
    a["use_rth"] = draw(st.booleans() | st.sampled_from([0, 1]))
    a["what_to_show"] = draw(shows)
    a["format_date"] = draw(format_dates)
    a["keep_up_to_date"] = draw(st.booleans())
    a["chart_options"] = draw(options)
    if draw(st.booleans()) and a["legs"]:
        i = draw(st.integers(0, len(a["legs"]) - 1))
        leg = a["legs"][i]
        a["legs"][i] = (leg[0], leg[1], draw(any_text.filter(_is_bad_out_text)), leg[3])
    if draw(st.booleans()) and a["chart_options"]:
        a["chart_options"][0] = (draw(any_text.filter(_is_bad_out_text)), "x")
    return _spoil(draw, a)


_AAPL: Final = {"symbol": "AAPL", "sec_type": "STK", "exchange": "SMART", "currency": "USD"}
_ES: Final = {
    "symbol": "ES",
    "sec_type": "FUT",
    "last_trade_date_or_contract_month": "202412",
    "exchange": "CME",
    "currency": "USD",
}
_SPREAD: Final = {"symbol": "SPY", "sec_type": "BAG", "exchange": "SMART", "currency": "USD"}
#: the captured ib_async request of PROTOCOL.md 6.6 (server 178): a bond by CUSIP, strike 0.0
_BOND: Final = {
    "symbol": "US912797PA95",
    "sec_type": "BOND",
    "strike": 0.0,
    "exchange": "SMART",
    "currency": "USD",
}


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                m.ReqHistoricalData,
                "reqHistoricalData",
                build=_build_hist,
                call=_call_hist,
                samples=(
                    hist_args(**_AAPL),
                    hist_args(
                        **_BOND,
                        end_date_time="20250413 21:56:00 UTC",
                        duration_str="8 D",
                        use_rth=1,
                        what_to_show="MIDPOINT",
                    ),
                    hist_args(**_AAPL, bar_size_setting="5 mins", use_rth=0, keep_up_to_date=True),
                    hist_args(**_ES, include_expired=True, format_date=2, use_rth=False),
                    hist_args(con_id=265598, what_to_show="SCHEDULE", bar_size_setting="1 day"),
                    hist_args(
                        **_SPREAD, legs=[(111, 1, "BUY", "SMART"), (222, 2, "SELL", "SMART")]
                    ),
                    hist_args(**_SPREAD, legs=[]),
                    hist_args(**_AAPL, chart_options=[("a", "b"), ("c", "")]),
                    hist_args(**_AAPL, end_date_time="caf\u00e9"),  # refused by both (579)
                    hist_args(**_SPREAD, legs=[(1, 1, "\u00e9", "SMART")]),  # refused (579)
                    hist_args(**_AAPL, chart_options=[("\u00e9", "b")]),  # refused (579)
                ),
                args=_hist_draw(),
            ),
            req_id_row(out, m.CancelHistoricalData, "cancelHistoricalData"),
            out.Row(
                m.ReqHeadTimestamp,
                "reqHeadTimeStamp",
                build=lambda a: m.ReqHeadTimestamp(
                    a["req_id"],
                    our_hist_contract(a),
                    bool(a["use_rth"]),
                    a["what_to_show"],
                    a["format_date"],
                ),
                call=lambda client, a: client.reqHeadTimeStamp(
                    a["req_id"],
                    official_hist_contract(a),
                    a["what_to_show"],
                    a["use_rth"],
                    a["format_date"],
                ),
                samples=(
                    c12_args(**_AAPL, use_rth=1, what_to_show="TRADES", format_date=1),
                    c12_args(**_AAPL, use_rth=0, what_to_show="BID_ASK", format_date=2),
                    c12_args(
                        **_ES,
                        include_expired=True,
                        use_rth=True,
                        what_to_show="MIDPOINT",
                        format_date=1,
                    ),
                    c12_args(**_AAPL, use_rth=False, what_to_show="\u00e9", format_date=1),
                ),
                args=_with_contract(
                    {
                        "use_rth": st.booleans() | st.sampled_from([0, 1]),
                        "what_to_show": shows,
                        "format_date": format_dates,
                    }
                ),
            ),
            req_id_row(out, m.CancelHeadTimestamp, "cancelHeadTimeStamp"),
            out.Row(
                m.ReqHistogramData,
                "reqHistogramData",
                build=lambda a: m.ReqHistogramData(
                    a["req_id"], our_hist_contract(a), a["use_rth"], a["time_period"]
                ),
                call=lambda client, a: client.reqHistogramData(
                    a["req_id"], official_hist_contract(a), a["use_rth"], a["time_period"]
                ),
                samples=(
                    c12_args(**_AAPL, use_rth=True, time_period="3 days"),
                    c12_args(**_AAPL, use_rth=False, time_period="1 week"),
                    c12_args(**_ES, include_expired=True, use_rth=False, time_period=""),
                    c12_args(**_AAPL, use_rth=True, time_period="\u00e9"),  # refused (579)
                ),
                args=_with_contract(
                    {
                        "use_rth": st.booleans(),
                        "time_period": st.sampled_from(["3 days", "1 week"]) | out_text,
                    }
                ),
            ),
            req_id_row(out, m.CancelHistogramData, "cancelHistogramData"),
            out.Row(
                m.ReqHistoricalTicks,
                "reqHistoricalTicks",
                build=lambda a: m.ReqHistoricalTicks(
                    a["req_id"],
                    our_hist_contract(a),
                    a["start_date_time"],
                    a["end_date_time"],
                    a["number_of_ticks"],
                    a["what_to_show"],
                    bool(a["use_rth"]),
                    a["ignore_size"],
                    _options(a["misc_options"]),
                ),
                call=lambda client, a: client.reqHistoricalTicks(
                    a["req_id"],
                    official_hist_contract(a),
                    a["start_date_time"],
                    a["end_date_time"],
                    a["number_of_ticks"],
                    a["what_to_show"],
                    a["use_rth"],
                    a["ignore_size"],
                    _official_options(a["misc_options"]),
                ),
                samples=(
                    c12_args(
                        **_AAPL,
                        start_date_time="20240102 09:30:00 US/Eastern",
                        end_date_time="",
                        number_of_ticks=1000,
                        what_to_show="TRADES",
                        use_rth=1,
                        ignore_size=False,
                        misc_options=[],
                    ),
                    c12_args(
                        **_AAPL,
                        start_date_time="",
                        end_date_time="20240102-21:00:00",
                        number_of_ticks=10,
                        what_to_show="BID_ASK",
                        use_rth=False,
                        ignore_size=True,
                        misc_options=[("k", "v")],
                    ),
                    c12_args(
                        con_id=265598,
                        start_date_time="",
                        end_date_time="",
                        number_of_ticks=0,
                        what_to_show="MIDPOINT",
                        use_rth=0,
                        ignore_size=False,
                        misc_options=[],
                    ),
                    c12_args(
                        **_AAPL,
                        start_date_time="\u00e9",
                        end_date_time="",
                        number_of_ticks=1,
                        what_to_show="TRADES",
                        use_rth=True,
                        ignore_size=False,
                        misc_options=[],
                    ),  # refused by both (579)
                ),
                args=_with_contract(
                    {
                        "start_date_time": end_times,
                        "end_date_time": end_times,
                        "number_of_ticks": st.integers(0, 1000) | ints,
                        "what_to_show": tick_shows,
                        "use_rth": st.booleans() | st.sampled_from([0, 1]),
                        "ignore_size": st.booleans(),
                        "misc_options": options,
                    }
                ),
            ),
            out.Row(
                m.ReqRealTimeBars,
                "reqRealTimeBars",
                build=lambda a: m.ReqRealTimeBars(
                    a["req_id"],
                    our_c12(a),
                    a["bar_size"],
                    a["what_to_show"],
                    a["use_rth"],
                    _options(a["options"]),
                ),
                call=lambda client, a: client.reqRealTimeBars(
                    a["req_id"],
                    official_c12(a),
                    a["bar_size"],
                    a["what_to_show"],
                    a["use_rth"],
                    _official_options(a["options"]),
                ),
                samples=(
                    c12_args(**_AAPL, bar_size=5, what_to_show="TRADES", use_rth=True, options=[]),
                    c12_args(
                        **_AAPL,
                        bar_size=5,
                        what_to_show="MIDPOINT",
                        use_rth=False,
                        options=[("a", "1")],
                    ),
                    c12_args(con_id=265598, bar_size=0, what_to_show="", use_rth=False, options=[]),
                    c12_args(
                        **_AAPL, bar_size=5, what_to_show="\u00e9", use_rth=False, options=[]
                    ),  # refused by both (579)
                ),
                args=_with_contract(
                    {
                        "bar_size": st.sampled_from([5]) | ints,
                        "what_to_show": shows,
                        "use_rth": st.booleans(),
                        "options": options,
                    }
                ),
            ),
            req_id_row(out, m.CancelRealTimeBars, "cancelRealTimeBars"),
        ),
    )


# -- incoming: value strategies ---------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
#: prices: -1 and 0, ordinary, tiny, huge, the unset double, +inf ("Infinity")
prices = st.sampled_from([-1.0, 0.0, 185.5, 0.01, 1e-7, 1e22, UNSET_DOUBLE, math.inf]) | finite
#: volumes and WAPs: TWS's -1 (bars without trades) often, ``None`` or any finite decimal
volumes = st.sampled_from([Decimal(-1), Decimal(0)]) | sizes
counts = st.sampled_from([-1, 0, 12]) | int64
masks = st.integers(0, 3) | int64
seconds = st.integers(0, LAST_SECOND).map(lambda n: EPOCH + timedelta(seconds=n))
#: STR fields: aiotws writes printable ASCII only, the official client reads it raw
text = printable
bar_dates = (
    st.sampled_from(
        ["20240102", "20240102 09:30:00 US/Eastern", "20240102  09:30:00", "1704205800", ""]
    )
    | text
)
bar_rows = st.builds(BarRow, bar_dates, prices, prices, prices, prices, volumes, volumes, counts)


def epoch_s(t: datetime) -> int:
    return (t - EPOCH) // timedelta(seconds=1)


def _size(value: Decimal | None) -> Decimal | None:
    return None if value is None or value == UNSET_DECIMAL else value


def _unused(c: Call) -> Any:  # pragma: no cover - rows with theirs_calls never call it
    raise AssertionError("this row compares all callbacks (theirs_calls)")


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


# HISTORICAL_DATA -----------------------------------------------------------------------------


def _bar(b: BarRow) -> tuple[Any, ...]:
    return (b.date, b.open, b.high, b.low, b.close, b.volume, b.wap, b.bar_count)


def _official_bar(b: Any) -> tuple[Any, ...]:
    return (b.date, b.open, b.high, b.low, b.close, _size(b.volume), _size(b.wap), b.barCount)


def bars_view(msg: m.HistoricalData) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = [("historicalData", msg.req_id, _bar(b)) for b in msg.bars]
    if msg.start_date or msg.end_date:
        calls.append(("historicalDataEnd", msg.req_id, msg.start_date, msg.end_date))
    return calls


def official_bars_view(calls: list[Call]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for c in calls:
        if c.name == "historicalData":
            out.append((c.name, c["reqId"], _official_bar(c["bar"])))
        elif c.name == "historicalDataEnd":
            if c["start"] or c["end"]:  # see the module note
                out.append((c.name, c["reqId"], c["start"], c["end"]))
        else:
            out.append((c.name, c.args))
    return out


def _historical_data(v: int) -> st.SearchStrategy[m.HistoricalData]:
    bars = st.lists(bar_rows, max_size=4)
    if v >= SV.HISTORICAL_DATA_END:
        return st.builds(m.HistoricalData, ids, bars=bars)
    return st.builds(m.HistoricalData, ids, text, text, bars)


def _historical_data_samples(v: int) -> list[m.HistoricalData]:
    d = Decimal
    daily = BarRow("20240102", 185.5, 186.0, 184.1, 185.9, d("1000"), d("185.6"), 12)
    intraday = BarRow(
        "20240102 09:30:00 US/Eastern", 185.5, 185.7, 185.4, 185.6, d("0.5"), d("185.55"), 3
    )
    midpoint = BarRow("1704205800", 185.55, 185.6, 185.5, 185.55, d(-1), d(-1), -1)
    unset = BarRow("20240103", 0.0, 1e-7, -1.0, math.inf, None, None, 0)
    rng: dict[str, str] = {}
    if v < SV.HISTORICAL_DATA_END:
        rng = {"start_date": "20240101 09:30:00 US/Eastern", "end_date": "20240105 16:00:00"}
    return [
        m.HistoricalData(1, bars=[daily, intraday], **rng),
        m.HistoricalData(2, bars=[midpoint, unset], **rng),
        m.HistoricalData(3, bars=[], **rng),
        m.HistoricalData(-1),
    ]


# HISTORICAL_TICKS* ---------------------------------------------------------------------------


def ticks_view(msg: m.HistoricalTicks) -> tuple[Any, ...]:
    return (
        msg.req_id,
        [(epoch_s(t.time), t.price, t.size) for t in (row.tick() for row in msg.ticks)],
        msg.done,
    )


def official_ticks_view(c: Call) -> tuple[Any, ...]:
    return (c["reqId"], [(t.time, t.price, _size(t.size)) for t in c["ticks"]], c["done"])


def bid_ask_view(msg: m.HistoricalTicksBidAsk) -> tuple[Any, ...]:
    ticks = [row.tick() for row in msg.ticks]
    return (
        msg.req_id,
        [
            (
                epoch_s(t.time),
                t.bid_price,
                t.ask_price,
                t.bid_size,
                t.ask_size,
                (t.ask_past_high, t.bid_past_low),
            )
            for t in ticks
        ],
        msg.done,
    )


def official_bid_ask_view(c: Call) -> tuple[Any, ...]:
    return (
        c["reqId"],
        [
            (
                t.time,
                t.priceBid,
                t.priceAsk,
                _size(t.sizeBid),
                _size(t.sizeAsk),
                (t.tickAttribBidAsk.askPastHigh, t.tickAttribBidAsk.bidPastLow),
            )
            for t in c["ticks"]
        ],
        c["done"],
    )


def last_view(msg: m.HistoricalTicksLast) -> tuple[Any, ...]:
    ticks = [row.tick() for row in msg.ticks]
    return (
        msg.req_id,
        [
            (
                epoch_s(t.time),
                t.price,
                t.size,
                t.exchange,
                t.special_conditions,
                (t.past_limit, t.unreported),
            )
            for t in ticks
        ],
        msg.done,
    )


def official_last_view(c: Call) -> tuple[Any, ...]:
    return (
        c["reqId"],
        [
            (
                t.time,
                t.price,
                _size(t.size),
                t.exchange,
                t.specialConditions,
                (t.tickAttribLast.pastLimit, t.tickAttribLast.unreported),
            )
            for t in c["ticks"]
        ],
        c["done"],
    )


def real_time_bar_view(msg: m.RealTimeBars) -> tuple[Any, ...]:
    """The wire values as decoded (``bar()`` then maps TWS's -1 to None: not compared)."""
    return (
        msg.req_id,
        epoch_s(msg.time),
        msg.open,
        msg.high,
        msg.low,
        msg.close,
        msg.volume,
        msg.wap,
        msg.count,
    )


T0: Final = EPOCH + timedelta(seconds=1_700_000_000)


#: HISTORICAL_DATA below 196: the range, then the bars (daily TRADES)
_BARS_176: Final = _nul(
    "17", "1", "20240101 09:30:00 US/Eastern", "20240105 16:00:00 US/Eastern", "2",
    "20240102", "185.5", "186.0", "184.1", "185.9", "1000", "185.6", "12",
    "20240103", "186.0", "187.25", "185.0", "187.0", "1234.5", "186.2", "20",
)  # fmt: skip
#: at 195 with an empty range (the official client still calls historicalDataEnd), MIDPOINT
_BARS_195: Final = _nul(
    "17", "4", "", "", "1", "1704205800", "1.0", "1.0", "1.0", "1.0", "-1", "-1", "-1",
)  # fmt: skip
#: from 196: no range (HISTORICAL_DATA_END carries it)
_BARS_196: Final = _nul(
    "17", "1", "1", "20240102 09:30:00 US/Eastern", "185.5", "185.7", "185.4", "185.6",
    "100", "185.55", "3",
)  # fmt: skip
#: HISTORICAL_DATA_UPDATE: count first, close before high, WAP before volume
_UPDATE_176: Final = _nul(
    "90", "1", "7", "20240102 15:59:55 US/Eastern", "185.5", "185.6", "185.7", "185.4",
    "185.55", "300",
)  # fmt: skip
_SCHEDULE_176: Final = _nul(
    "106", "1", "20240101-09:30:00", "20240105-16:00:00", "US/Eastern", "1",
    "20240102-09:30:00", "20240102-16:00:00", "20240102",
)  # fmt: skip
_BID_ASK_176: Final = _nul(
    "97", "1", "1", "1700000000", "1", "185.5", "185.6", "100", "200", "1",
)  # fmt: skip
_LAST_176: Final = _nul(
    "98", "1", "1", "1700000000", "2", "185.5", "100", "NASDAQ", "T", "1",
)  # fmt: skip
#: REAL_TIME_BARS with its version field (3)
_RT_BAR_176: Final = _nul(
    "50", "3", "1", "1700000000", "185.5", "185.7", "185.4", "185.6", "1200", "185.55", "17",
)  # fmt: skip


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    d = Decimal
    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                m.HistoricalData,
                "historicalData",
                ours=bars_view,
                theirs=_unused,
                theirs_calls=official_bars_view,
                messages=_historical_data,
                samples=_historical_data_samples,
                raw=(
                    (176, _BARS_176),
                    (195, _BARS_195),
                    (196, _BARS_196),
                    (200, _nul("17", "1", "0")),
                ),
            ),
            inc.Row(
                m.HistoricalDataEnd,
                "historicalDataEnd",
                ours=lambda msg: (msg.req_id, msg.start_date, msg.end_date),
                theirs=lambda c: (c["reqId"], c["start"], c["end"]),
                messages=lambda v: st.builds(m.HistoricalDataEnd, ids, text, text),
                samples=lambda v: [
                    m.HistoricalDataEnd(
                        1, "20240101 09:30:00 US/Eastern", "20240105 16:00:00 US/Eastern"
                    ),
                    m.HistoricalDataEnd(2),
                ],
                raw=(
                    (196, _nul("108", "1", "20240101-14:30:00", "20240105-21:00:00")),
                    (200, _nul("108", "7", "", "")),
                ),
            ),
            inc.Row(
                m.HistoricalDataUpdate,
                "historicalDataUpdate",
                ours=lambda msg: (msg.req_id, _bar(msg.bar())),
                theirs=lambda c: (c["reqId"], _official_bar(c["bar"])),
                messages=lambda v: st.builds(
                    m.HistoricalDataUpdate,
                    ids,
                    counts,
                    bar_dates,
                    prices,
                    prices,
                    prices,
                    prices,
                    volumes,
                    volumes,
                ),
                samples=lambda v: [
                    m.HistoricalDataUpdate(
                        1,
                        7,
                        "20240102 15:59:55 US/Eastern",
                        185.5,
                        185.6,
                        185.7,
                        185.4,
                        d("185.55"),
                        d("300"),
                    ),
                    m.HistoricalDataUpdate(1, -1, "1704229195", 1.0, 1.0, 1.0, 1.0, d(-1), d(-1)),
                    m.HistoricalDataUpdate(2),
                ],
                raw=((176, _UPDATE_176),),
            ),
            inc.Row(
                m.HistoricalSchedule,
                "historicalSchedule",
                ours=lambda msg: (
                    msg.req_id,
                    msg.start_date_time,
                    msg.end_date_time,
                    msg.time_zone,
                    [(s.start_date_time, s.end_date_time, s.ref_date) for s in msg.sessions],
                ),
                theirs=lambda c: (
                    c["reqId"],
                    c["startDateTime"],
                    c["endDateTime"],
                    c["timeZone"],
                    [(s.startDateTime, s.endDateTime, s.refDate) for s in c["sessions"]],
                ),
                messages=lambda v: st.builds(
                    m.HistoricalSchedule,
                    ids,
                    text,
                    text,
                    st.sampled_from(["US/Eastern", "Europe/London", ""]) | text,
                    st.lists(st.builds(SessionRow, text, text, text), max_size=4),
                ),
                samples=lambda v: [
                    m.HistoricalSchedule(
                        1,
                        "20240101-09:30:00",
                        "20240105-16:00:00",
                        "US/Eastern",
                        [
                            SessionRow("20240102-09:30:00", "20240102-16:00:00", "20240102"),
                            SessionRow("20240103-09:30:00", "20240103-16:00:00", "20240103"),
                        ],
                    ),
                    m.HistoricalSchedule(2),
                ],
                raw=((176, _SCHEDULE_176),),
            ),
            inc.Row(
                m.HeadTimestamp,
                "headTimestamp",
                ours=lambda msg: (msg.req_id, msg.head_timestamp),
                theirs=lambda c: (c["reqId"], c["headTimestamp"]),
                messages=lambda v: st.builds(
                    m.HeadTimestamp,
                    ids,
                    st.sampled_from(["19801212-14:30:00", "345479400", ""]) | text,
                ),
                samples=lambda v: [
                    m.HeadTimestamp(1, "19801212-14:30:00"),
                    m.HeadTimestamp(2, "345479400"),
                    m.HeadTimestamp(3),
                ],
                raw=((176, _nul("88", "1", "19801212-14:30:00")),),
            ),
            inc.Row(
                m.HistogramData,
                "histogramData",
                ours=lambda msg: (msg.req_id, [(e.price, e.size) for e in msg.entries]),
                theirs=lambda c: (c["reqId"], [(i.price, _size(i.size)) for i in c["items"]]),
                messages=lambda v: st.builds(
                    m.HistogramData,
                    ids,
                    st.lists(st.builds(HistogramRow, prices, sizes), max_size=4),
                ),
                samples=lambda v: [
                    m.HistogramData(
                        1, [HistogramRow(185.5, d("1000")), HistogramRow(186.0, d("0.5"))]
                    ),
                    m.HistogramData(2, [HistogramRow(1e-7, None)]),
                    m.HistogramData(3),
                ],
                raw=((176, _nul("89", "1", "2", "185.5", "1000", "186.0", "250")),),
            ),
            inc.Row(
                m.HistoricalTicks,
                "historicalTicks",
                ours=ticks_view,
                theirs=official_ticks_view,
                messages=lambda v: st.builds(
                    m.HistoricalTicks,
                    ids,
                    st.lists(st.builds(TickRow, seconds, masks, prices, sizes), max_size=4),
                    st.booleans(),
                ),
                samples=lambda v: [
                    m.HistoricalTicks(
                        1, [TickRow(T0, 0, 185.55, d("0")), TickRow(T0, 0, 185.6, d("0"))], True
                    ),
                    m.HistoricalTicks(2, [TickRow(T0, 0, 1e-7, None)], False),
                    m.HistoricalTicks(3, [], True),
                ],
                raw=((176, _nul("96", "1", "1", "1700000000", "0", "185.55", "0", "1")),),
            ),
            inc.Row(
                m.HistoricalTicksBidAsk,
                "historicalTicksBidAsk",
                ours=bid_ask_view,
                theirs=official_bid_ask_view,
                messages=lambda v: st.builds(
                    m.HistoricalTicksBidAsk,
                    ids,
                    st.lists(
                        st.builds(TickBidAskRow, seconds, masks, prices, prices, sizes, sizes),
                        max_size=4,
                    ),
                    st.booleans(),
                ),
                samples=lambda v: [
                    m.HistoricalTicksBidAsk(
                        1,
                        [
                            TickBidAskRow(T0, 0, 185.5, 185.6, d("100"), d("200")),
                            TickBidAskRow(T0, 1, 185.5, 185.7, d("100"), d("200")),
                            TickBidAskRow(T0, 2, 185.4, 185.6, d("1"), None),
                            TickBidAskRow(T0, 3, -1.0, 0.0, None, d("0.5")),
                        ],
                        True,
                    ),
                    m.HistoricalTicksBidAsk(2, [], False),
                ],
                raw=((176, _BID_ASK_176),),
            ),
            inc.Row(
                m.HistoricalTicksLast,
                "historicalTicksLast",
                ours=last_view,
                theirs=official_last_view,
                messages=lambda v: st.builds(
                    m.HistoricalTicksLast,
                    ids,
                    st.lists(
                        st.builds(TickLastRow, seconds, masks, prices, sizes, text, text),
                        max_size=4,
                    ),
                    st.booleans(),
                ),
                samples=lambda v: [
                    m.HistoricalTicksLast(
                        1,
                        [
                            TickLastRow(T0, 0, 185.5, d("100"), "NASDAQ", ""),
                            TickLastRow(T0, 1, 185.6, d("5"), "ARCA", "T I"),
                            TickLastRow(T0, 2, 185.7, d("0.25"), "FINRA", "   "),
                            TickLastRow(T0, 3, 0.0, None),
                        ],
                        True,
                    ),
                    m.HistoricalTicksLast(2, [], False),
                ],
                raw=((176, _LAST_176),),
            ),
            inc.Row(
                m.RealTimeBars,
                "realtimeBar",
                ours=real_time_bar_view,
                theirs=lambda c: (
                    c["reqId"],
                    c["time"],
                    c["open_"],
                    c["high"],
                    c["low"],
                    c["close"],
                    _size(c["volume"]),
                    _size(c["wap"]),
                    c["count"],
                ),
                messages=lambda v: st.builds(
                    m.RealTimeBars,
                    ids,
                    seconds,
                    prices,
                    prices,
                    prices,
                    prices,
                    volumes,
                    volumes,
                    counts,
                ),
                samples=lambda v: [
                    m.RealTimeBars(1, T0, 185.5, 185.7, 185.4, 185.6, d("1200"), d("185.55"), 17),
                    m.RealTimeBars(2, T0, 1.0, 1.0, 1.0, 1.0, d(-1), d(-1), -1),
                    m.RealTimeBars(3, T0),
                ],
                raw=((176, _RT_BAR_176),),
            ),
        ),
    )


def __getattr__(name: str) -> Any:
    """``OUTGOING_ROWS`` / ``INCOMING_ROWS`` asked for while this module is still importing."""
    if name == "OUTGOING_ROWS":
        return _outgoing_rows()
    if name == "INCOMING_ROWS":
        return _incoming_rows()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


OUTGOING_ROWS: tuple[Any, ...] = _outgoing_rows()
INCOMING_ROWS: tuple[Any, ...] = _incoming_rows()
