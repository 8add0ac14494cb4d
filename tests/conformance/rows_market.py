"""Market data messages: top of book, option calculations, tick-by-tick, depth.

Outgoing rows send the 12-field contract block (``C12``); REQ_MKT_DATA adds the combo legs of a
``BAG`` and the delta-neutral contract, both built from the same argument dict as official
``ComboLeg`` / ``DeltaNeutralContract`` objects. The reserved options arguments
(``mktDataOptions``, ``mktDepthOptions``, ``implVolOptions``, ``optPrcOptions``) are always
the empty list: the official client raises ``NotImplementedError`` for anything else (pinned
in ``test_market.py``), aiotws sends the string it is given.

Official value mappings used by the views:

* sizes: the official ``UNSET_DECIMAL`` is aiotws's ``None``.
* TICK_PRICE: the official decoder makes ``tickPrice`` and, for BID/ASK/LAST and their delayed
  forms, a ``tickSize`` with the price's size; the views compare both callbacks.
* TICK_SIZE of tick type 111 (``NOT_SET``): the official decoder makes no callback.
* TICK_OPTION_COMPUTATION: the official decoder passes ``None`` for TWS's "not computed"
  values; aiotws keeps the raw floats, the view applies the same rule.
* TICK_BY_TICK: one of three callbacks by tick type, none for 0 or an unknown type.
* MKT_DEPTH_EXCHANGES ``aggGroup``: the official decoder reads empty as 0; aiotws as ``None``.
* float arguments the official client writes with ``make_field`` (not ``..._handle_empty``):
  ``inf`` goes out as ``inf`` there, as ``Infinity`` from aiotws (what Java parses); the
  strategies stay finite and ``test_market.py`` pins the difference.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st
from ibapi.client import EClient
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER
from ibapi.contract import ComboLeg as OfficialComboLeg
from ibapi.contract import Contract as OfficialContract
from ibapi.contract import DeltaNeutralContract as OfficialDeltaNeutral

from aiotws.model import ComboLeg, Contract, DeltaNeutralContract, DepthMktDataDescription
from aiotws.wire import messages as m

from .rows_contracts import (
    CONTRACT_KEYS,
    agg_groups,
    any_text,
    ids,
    int64,
    ints,
    out_strikes,
    out_text,
    printable,
    sizes,
    texts,
)
from .support import Call, join_surrogates, req_id_row

__all__ = [
    "C12_KEYS",
    "INCOMING_ROWS",
    "OUTGOING_ROWS",
    "c12_args",
    "official_c12",
    "official_mkt_data_contract",
    "our_c12",
    "our_mkt_data_contract",
]

Args = dict[str, Any]

# Rows are built lazily, as in rows_contracts (see the note there): the tables import this
# module and it needs their Row classes, so nothing here imports a table at import time.
_ROWS: dict[str, tuple[Any, ...]] = {}

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
LAST_SECOND: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())

# -- outgoing ---------------------------------------------------------------------------------

#: the C12 block: aiotws ``Contract`` attribute -> official ``Contract`` attribute
C12_KEYS: Final = CONTRACT_KEYS[:12]


def our_c12(a: Args) -> Contract:
    return Contract(**{k: a[k] for k, _ in C12_KEYS})


def official_c12(a: Args) -> OfficialContract:
    c = OfficialContract()
    for ours, theirs in C12_KEYS:
        value = a[ours]
        if ours == "strike" and value is None:
            value = UNSET_DOUBLE
        setattr(c, theirs, value)
    return c


def our_mkt_data_contract(a: Args) -> Contract:
    c = our_c12(a)
    c.combo_legs = [ComboLeg(*leg) for leg in a["legs"]]
    dn = a["delta_neutral"]
    c.delta_neutral_contract = None if dn is None else DeltaNeutralContract(*dn)
    return c


def official_mkt_data_contract(a: Args) -> OfficialContract:
    c = official_c12(a)
    legs = []
    for con_id, ratio, action, exchange in a["legs"]:
        leg = OfficialComboLeg()
        leg.conId, leg.ratio, leg.action, leg.exchange = con_id, ratio, action, exchange
        legs.append(leg)
    c.comboLegs = legs
    if a["delta_neutral"] is not None:
        dn = OfficialDeltaNeutral()
        dn.conId, dn.delta, dn.price = a["delta_neutral"]
        c.deltaNeutralContract = dn
    return c


def c12_args(**changes: Any) -> Args:
    a: Args = {"req_id": 1, "con_id": 0, "strike": None}
    a.update({k: "" for k, _ in C12_KEYS if k not in a})
    a.update(changes)
    return a


def _mkt_args(**changes: Any) -> Args:
    base: Args = {
        "legs": [],
        "delta_neutral": None,
        "generic_tick_list": "",
        "snapshot": False,
        "regulatory_snapshot": False,
    }
    return c12_args(**{**base, **changes})


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


#: floats the official client writes with ``make_field``: finite only (see the module note)
out_floats = st.sampled_from([0.0, -0.0, -1.0, 1.5, 0.01, 1e-7, 1e22, UNSET_DOUBLE]) | st.floats(
    allow_nan=False, allow_infinity=False
)
generic_ticks = st.sampled_from(["", "233", "100,101,104,106", "mdoff,292", "236,"]) | out_text
tbt_types = st.sampled_from(["Last", "AllLast", "BidAsk", "MidPoint"]) | out_text


@st.composite
def _c12_draw(draw: st.DrawFn, sec_types: st.SearchStrategy[str] = out_text) -> Args:
    a: Args = {
        "req_id": draw(ints),
        "con_id": draw(st.sampled_from([0, 265598]) | ints),
        "strike": draw(out_strikes),
        "sec_type": draw(sec_types),
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
def _mkt_data_args(draw: st.DrawFn) -> Args:
    a = draw(_c12_draw(st.sampled_from(["BAG", "STK", "OPT"]) | out_text))
    legs = st.tuples(ints, ints, st.sampled_from(["BUY", "SELL"]) | out_text, out_text)
    a["legs"] = draw(st.lists(legs, max_size=3)) if a["sec_type"] == "BAG" else []
    a["delta_neutral"] = draw(st.none() | st.tuples(ints, out_floats, out_floats))
    a["generic_tick_list"] = draw(generic_ticks)
    a["snapshot"] = draw(st.booleans())
    a["regulatory_snapshot"] = draw(st.booleans())
    if draw(st.booleans()) and a["legs"]:
        i = draw(st.integers(0, len(a["legs"]) - 1))
        leg = a["legs"][i]
        a["legs"][i] = (leg[0], leg[1], draw(any_text.filter(_is_bad_out_text)), leg[3])
    return _spoil(draw, a)


@st.composite
def _with_c12(draw: st.DrawFn, extra: dict[str, st.SearchStrategy[Any]]) -> Args:
    a = draw(_c12_draw())
    for name, strategy in extra.items():
        a[name] = draw(strategy, label=name)
    return _spoil(draw, a)


def _call_mkt_data(client: EClient, a: Args) -> None:
    client.reqMktData(
        a["req_id"],
        official_mkt_data_contract(a),
        a["generic_tick_list"],
        a["snapshot"],
        a["regulatory_snapshot"],
        [],
    )


def _build_mkt_data(a: Args) -> m.ReqMktData:
    return m.ReqMktData(
        a["req_id"],
        our_mkt_data_contract(a),
        a["generic_tick_list"],
        a["snapshot"],
        a["regulatory_snapshot"],
    )


_AAPL: Final = {"symbol": "AAPL", "sec_type": "STK", "exchange": "SMART", "currency": "USD"}
_SPY_BAG: Final = {"symbol": "SPY", "sec_type": "BAG", "exchange": "SMART", "currency": "USD"}
_AAPL_OPT: Final = {
    **_AAPL,
    "sec_type": "OPT",
    "last_trade_date_or_contract_month": "20261218",
    "strike": 200.0,
    "right": "C",
    "multiplier": "100",
    "trading_class": "AAPL",
}


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                m.ReqMktData,
                "reqMktData",
                build=_build_mkt_data,
                call=_call_mkt_data,
                samples=(
                    _mkt_args(**_AAPL),
                    _mkt_args(**_AAPL, generic_tick_list="233,236", req_id=7),
                    _mkt_args(con_id=265598, exchange="SMART", snapshot=True),
                    _mkt_args(con_id=265598, regulatory_snapshot=True, snapshot=True),
                    _mkt_args(**_AAPL_OPT, generic_tick_list="100,101,106"),
                    _mkt_args(
                        **_SPY_BAG,
                        legs=[(111, 1, "BUY", "SMART"), (222, 2, "SELL", "SMART")],
                        delta_neutral=(756733, 0.5, 400.25),
                    ),
                    _mkt_args(**_SPY_BAG, legs=[]),
                    _mkt_args(**_AAPL, delta_neutral=(756733, -1.0, 0.0)),
                    _mkt_args(**_AAPL, strike=float("inf")),
                    _mkt_args(**_AAPL, generic_tick_list="caf\u00e9"),  # refused by both (579)
                    _mkt_args(**_SPY_BAG, legs=[(1, 1, "\u00e9", "SMART")]),  # refused (579)
                ),
                args=_mkt_data_args(),
            ),
            req_id_row(out, m.CancelMktData, "cancelMktData"),
            out.Row(
                m.ReqMarketDataType,
                "reqMarketDataType",
                build=lambda a: m.ReqMarketDataType(a["market_data_type"]),
                call=lambda client, a: client.reqMarketDataType(a["market_data_type"]),
                samples=tuple({"market_data_type": n} for n in (1, 2, 3, 4, 0, -1, 2**40)),
                args=st.fixed_dictionaries({"market_data_type": st.integers(1, 4) | ints}),
            ),
            out.Row(
                m.ReqCalcImpliedVolat,
                "calculateImpliedVolatility",
                build=lambda a: m.ReqCalcImpliedVolat(
                    a["req_id"], our_c12(a), a["option_price"], a["under_price"]
                ),
                call=lambda client, a: client.calculateImpliedVolatility(
                    a["req_id"], official_c12(a), a["option_price"], a["under_price"], []
                ),
                samples=(
                    c12_args(**_AAPL_OPT, option_price=5.25, under_price=198.5),
                    c12_args(con_id=712345678, option_price=0.0, under_price=0.0),
                    c12_args(**_AAPL_OPT, option_price=1e-7, under_price=UNSET_DOUBLE),
                    c12_args(
                        **{**_AAPL_OPT, "symbol": "\u00e9"}, option_price=1.0, under_price=1.0
                    ),
                ),
                args=_with_c12({"option_price": out_floats, "under_price": out_floats}),
            ),
            out.Row(
                m.ReqCalcOptionPrice,
                "calculateOptionPrice",
                build=lambda a: m.ReqCalcOptionPrice(
                    a["req_id"], our_c12(a), a["volatility"], a["under_price"]
                ),
                call=lambda client, a: client.calculateOptionPrice(
                    a["req_id"], official_c12(a), a["volatility"], a["under_price"], []
                ),
                samples=(
                    c12_args(**_AAPL_OPT, volatility=0.25, under_price=198.5),
                    c12_args(con_id=712345678, volatility=0.0, under_price=-1.0),
                    c12_args(**{**_AAPL_OPT, "right": "\u00e9"}, volatility=1.0, under_price=1.0),
                ),
                args=_with_c12({"volatility": out_floats, "under_price": out_floats}),
            ),
            req_id_row(out, m.CancelCalcImpliedVolat, "cancelCalculateImpliedVolatility"),
            req_id_row(out, m.CancelCalcOptionPrice, "cancelCalculateOptionPrice"),
            out.Row(
                m.ReqTickByTickData,
                "reqTickByTickData",
                build=lambda a: m.ReqTickByTickData(
                    a["req_id"], our_c12(a), a["tick_type"], a["number_of_ticks"], a["ignore_size"]
                ),
                call=lambda client, a: client.reqTickByTickData(
                    a["req_id"],
                    official_c12(a),
                    a["tick_type"],
                    a["number_of_ticks"],
                    a["ignore_size"],
                ),
                samples=(
                    c12_args(**_AAPL, tick_type="Last", number_of_ticks=0, ignore_size=False),
                    c12_args(**_AAPL, tick_type="AllLast", number_of_ticks=1000, ignore_size=True),
                    c12_args(
                        con_id=265598, tick_type="BidAsk", number_of_ticks=10, ignore_size=True
                    ),
                    c12_args(**_AAPL, tick_type="MidPoint", number_of_ticks=-1, ignore_size=False),
                    c12_args(**_AAPL, tick_type="\u00e9", number_of_ticks=0, ignore_size=False),
                ),
                args=_with_c12(
                    {"tick_type": tbt_types, "number_of_ticks": ints, "ignore_size": st.booleans()}
                ),
            ),
            req_id_row(out, m.CancelTickByTickData, "cancelTickByTickData"),
            out.Row(
                m.ReqMktDepth,
                "reqMktDepth",
                build=lambda a: m.ReqMktDepth(
                    a["req_id"], our_c12(a), a["num_rows"], a["is_smart_depth"]
                ),
                call=lambda client, a: client.reqMktDepth(
                    a["req_id"], official_c12(a), a["num_rows"], a["is_smart_depth"], []
                ),
                samples=(
                    c12_args(**_AAPL, num_rows=5, is_smart_depth=False),
                    c12_args(**_AAPL, num_rows=10, is_smart_depth=True),
                    c12_args(con_id=265598, exchange="ISLAND", num_rows=0, is_smart_depth=False),
                    c12_args(**_AAPL, primary_exchange="NASDAQ", num_rows=-1, is_smart_depth=True),
                    c12_args(**{**_AAPL, "currency": "\u00e9"}, num_rows=5, is_smart_depth=False),
                ),
                args=_with_c12({"num_rows": ints, "is_smart_depth": st.booleans()}),
            ),
            out.Row(
                m.CancelMktDepth,
                "cancelMktDepth",
                build=lambda a: m.CancelMktDepth(a["req_id"], a["is_smart_depth"]),
                call=lambda client, a: client.cancelMktDepth(a["req_id"], a["is_smart_depth"]),
                samples=(
                    {"req_id": 1, "is_smart_depth": False},
                    {"req_id": 2, "is_smart_depth": True},
                    {"req_id": -1, "is_smart_depth": False},
                ),
                args=st.fixed_dictionaries({"req_id": ints, "is_smart_depth": st.booleans()}),
            ),
            out.Row(
                m.ReqMktDepthExchanges,
                "reqMktDepthExchanges",
                build=lambda a: m.ReqMktDepthExchanges(),
                call=lambda client, a: client.reqMktDepthExchanges(),
            ),
        ),
    )


# -- incoming: value strategies ---------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
#: prices: -1 (no quote), ordinary, tiny, huge, the unset double, +inf ("Infinity")
prices = st.sampled_from([-1.0, 0.0, 185.5, 0.01, 1e-7, 1e22, UNSET_DOUBLE, math.inf]) | finite
#: greeks: TWS's "not computed" values drawn often
greeks = st.sampled_from([-1.0, -2.0, 0.0, 0.25, -0.5, 1e-7, math.inf]) | finite
#: tick types: the interesting ones often (the implied-size ones, delayed, NOT_SET), any int
tick_types = (
    st.sampled_from([0, 1, 2, 3, 4, 5, 8, 9, 14, 37, 45, 48, 66, 67, 68, 69, 88, 111])
    | st.integers(0, 120)
    | int64
)
masks = st.integers(0, 7) | int64
seconds = st.integers(0, LAST_SECOND).map(lambda n: EPOCH + timedelta(seconds=n))
#: STR fields: aiotws writes printable ASCII only, the official client reads it raw
text = printable


def epoch_s(t: datetime) -> int:
    return (t - EPOCH) // timedelta(seconds=1)


def _size(value: Decimal | None) -> Decimal | None:
    return None if value is None or value == UNSET_DECIMAL else value


def _agg(value: int | None) -> int:
    return 0 if value is None or value == UNSET_INTEGER else value


def _unused(c: Call) -> Any:  # pragma: no cover - rows with theirs_calls never call it
    raise AssertionError("this row compares all callbacks (theirs_calls)")


# TICK_PRICE / TICK_SIZE ----------------------------------------------------------------------


def _price_view(msg: m.TickPrice) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = [
        (
            "tickPrice",
            msg.req_id,
            msg.tick_type,
            msg.price,
            (msg.can_auto_execute, msg.past_limit, msg.pre_open),
        )
    ]
    if msg.size_tick_type is not None:
        calls.append(("tickSize", msg.req_id, msg.size_tick_type, msg.size))
    return calls


def _official_tick_call(c: Call) -> tuple[Any, ...]:
    if c.name == "tickPrice":
        a = c["attrib"]
        return (
            "tickPrice",
            c["reqId"],
            c["tickType"],
            c["price"],
            (a.canAutoExecute, a.pastLimit, a.preOpen),
        )
    if c.name == "tickSize":
        return ("tickSize", c["reqId"], c["tickType"], _size(c["size"]))
    return (c.name, c.args)


def _official_ticks_view(calls: list[Call]) -> list[tuple[Any, ...]]:
    return [_official_tick_call(c) for c in calls]


def _size_view(msg: m.TickSize) -> list[tuple[Any, ...]]:
    if msg.tick_type == 111:  # NOT_SET: the official decoder drops it
        return []
    return [("tickSize", msg.req_id, msg.tick_type, msg.size)]


# TICK_OPTION_COMPUTATION ---------------------------------------------------------------------


def _option_view(msg: m.TickOptionComputation) -> tuple[Any, ...]:
    """The official decoder's rule: "not computed" values (PROTOCOL.md 3.2) are ``None``."""
    return (
        msg.req_id,
        msg.tick_type,
        msg.tick_attrib,
        None if msg.implied_vol < 0 else msg.implied_vol,
        None if msg.delta == -2 else msg.delta,
        None if msg.opt_price == -1 else msg.opt_price,
        None if msg.pv_dividend == -1 else msg.pv_dividend,
        None if msg.gamma == -2 else msg.gamma,
        None if msg.vega == -2 else msg.vega,
        None if msg.theta == -2 else msg.theta,
        None if msg.und_price == -1 else msg.und_price,
    )


_OPTION_PARAMS: Final = (
    "reqId",
    "tickType",
    "tickAttrib",
    "impliedVol",
    "delta",
    "optPrice",
    "pvDividend",
    "gamma",
    "vega",
    "theta",
    "undPrice",
)


# TICK_BY_TICK --------------------------------------------------------------------------------


def _tbt_view(msg: m.TickByTick) -> list[tuple[Any, ...]]:
    t = epoch_s(msg.time)
    if msg.tick_type in (1, 2):
        return [
            (
                "tickByTickAllLast",
                msg.req_id,
                msg.tick_type,
                t,
                msg.price,
                msg.size,
                (msg.past_limit, msg.unreported),
                msg.exchange,
                msg.special_conditions,
            )
        ]
    if msg.tick_type == 3:
        return [
            (
                "tickByTickBidAsk",
                msg.req_id,
                t,
                msg.bid_price,
                msg.ask_price,
                msg.bid_size,
                msg.ask_size,
                (msg.bid_past_low, msg.ask_past_high),
            )
        ]
    if msg.tick_type == 4:
        return [("tickByTickMidPoint", msg.req_id, t, msg.mid_point)]
    return []


def _official_tbt_call(c: Call) -> tuple[Any, ...]:
    if c.name == "tickByTickAllLast":
        a = c["tickAttribLast"]
        return (
            c.name,
            c["reqId"],
            c["tickType"],
            c["time"],
            c["price"],
            _size(c["size"]),
            (a.pastLimit, a.unreported),
            c["exchange"],
            c["specialConditions"],
        )
    if c.name == "tickByTickBidAsk":
        a = c["tickAttribBidAsk"]
        return (
            c.name,
            c["reqId"],
            c["time"],
            c["bidPrice"],
            c["askPrice"],
            _size(c["bidSize"]),
            _size(c["askSize"]),
            (a.bidPastLow, a.askPastHigh),
        )
    if c.name == "tickByTickMidPoint":
        return (c.name, c["reqId"], c["time"], c["midPoint"])
    return (c.name, c.args)


@st.composite
def _tick_by_tick(draw: st.DrawFn) -> m.TickByTick:
    tick_type = draw(st.sampled_from([0, 1, 2, 3, 4]) | st.integers(-5, 10) | int64)
    msg = m.TickByTick(draw(ids), tick_type, draw(seconds))
    if tick_type in (1, 2):
        msg.price = draw(prices)
        msg.size = draw(sizes)
        msg.last_mask = draw(masks)
        msg.exchange = draw(text)
        msg.special_conditions = draw(text)
    elif tick_type == 3:
        msg.bid_price = draw(prices)
        msg.ask_price = draw(prices)
        msg.bid_size = draw(sizes)
        msg.ask_size = draw(sizes)
        msg.bid_ask_mask = draw(masks)
    elif tick_type == 4:
        msg.mid_point = draw(prices)
    return msg


T0: Final = EPOCH + timedelta(seconds=1_700_000_000)


def _tbt_samples(v: int) -> list[m.TickByTick]:
    d = Decimal
    return [
        m.TickByTick(7, 1, T0, price=185.5, size=d("100"), last_mask=2, exchange="NASDAQ"),
        m.TickByTick(7, 2, T0, price=0.0, size=d("0"), last_mask=1, special_conditions="T I"),
        m.TickByTick(7, 2, T0, price=30000.5, size=d("0.0001"), exchange="PAXOS"),
        m.TickByTick(8, 3, T0, bid_price=185.5, ask_price=185.6, bid_size=d("200"), bid_ask_mask=1),
        m.TickByTick(8, 3, T0, bid_price=-1.0, ask_price=1e-7, ask_size=d("5"), bid_ask_mask=2),
        m.TickByTick(9, 4, T0, mid_point=185.55),
        m.TickByTick(9, 0, T0),
        m.TickByTick(9, 17, T0),
    ]


# MKT_DEPTH_EXCHANGES -------------------------------------------------------------------------


def _exchanges_view(msg: m.MktDepthExchanges) -> list[tuple[Any, ...]]:
    return [
        (d.exchange, d.sec_type, d.listing_exch, d.service_data_type, _agg(d.agg_group))
        for d in msg.descriptions
    ]


def _official_exchanges_view(c: Call) -> list[tuple[Any, ...]]:
    return [
        (d.exchange, d.secType, d.listingExch, d.serviceDataType, _agg(d.aggGroup))
        for d in c["depthMktDataDescriptions"]
    ]


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    d = Decimal
    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                m.TickPrice,
                "tickPrice",
                ours=_price_view,
                theirs=_unused,
                theirs_calls=_official_ticks_view,
                messages=lambda v: st.builds(m.TickPrice, ids, tick_types, prices, sizes, masks),
                samples=lambda v: [
                    m.TickPrice(1, 1, 185.5, d("100"), 3),
                    m.TickPrice(1, 2, 185.6, d("300"), 0),
                    m.TickPrice(1, 4, 185.55, d("0.5"), 4),
                    m.TickPrice(1, 9, 184.0, None, 0),  # CLOSE: no size tick
                    m.TickPrice(1, 66, -1.0, None, 0),  # DELAYED_BID, no quote
                    m.TickPrice(1, 67, 10.0, d("1"), 1),
                    m.TickPrice(1, 68, 10.0, d("1"), 2),
                    m.TickPrice(2, 37, 185.5, d("0"), 7),
                ],
                raw=(
                    (176, _nul("1", "6", "1", "1", "185.5", "100", "3")),
                    (200, _nul("1", "6", "2", "9", "184.0", "", "0")),
                    (200, _nul("1", "6", "3", "2", "1.0E-4", "9223372036854775807", "0")),
                    (200, _nul("1", "6", "4", "1", "Infinity", "0.5", "0")),
                ),
            ),
            inc.Row(
                m.TickSize,
                "tickSize",
                ours=_size_view,
                theirs=_unused,
                theirs_calls=_official_ticks_view,
                messages=lambda v: st.builds(m.TickSize, ids, tick_types, sizes),
                samples=lambda v: [
                    m.TickSize(1, 0, d("100")),
                    m.TickSize(1, 8, d("1234567.89")),
                    m.TickSize(1, 5, None),
                    m.TickSize(1, 111, d("1")),  # NOT_SET: no official callback
                ],
                raw=(
                    (176, _nul("2", "6", "1", "0", "100")),
                    (200, _nul("2", "6", "1", "8", "2147483647")),
                ),
            ),
            inc.Row(
                m.TickString,
                "tickString",
                ours=lambda msg: (msg.req_id, msg.tick_type, msg.value),
                theirs=lambda c: (c["reqId"], c["tickType"], join_surrogates(c["value"])),
                messages=lambda v: st.builds(m.TickString, ids, tick_types, texts),
                samples=lambda v: [
                    m.TickString(1, 45, "1700000000"),
                    m.TickString(1, 48, "185.5;100;1700000000123;23000;185.4;true"),
                    m.TickString(1, 59, "0.96,0.98,20260210,0.25"),
                    m.TickString(1, 32, ""),
                    m.TickString(1, 47, "caf\u00e9 \U0001f600 C:\\new"),
                ],
                raw=(
                    (176, _nul("46", "6", "1", "45", "1700000000")),
                    (200, _nul("46", "6", "1", "47", "caf\\u00e9")),
                ),
            ),
            inc.Row(
                m.TickGeneric,
                "tickGeneric",
                ours=lambda msg: (msg.req_id, msg.tick_type, msg.value),
                theirs=lambda c: (c["reqId"], c["tickType"], c["value"]),
                messages=lambda v: st.builds(m.TickGeneric, ids, tick_types, prices),
                samples=lambda v: [
                    m.TickGeneric(1, 49, 0.0),
                    m.TickGeneric(1, 46, 3.0),
                    m.TickGeneric(1, 24, 0.2345),
                    m.TickGeneric(1, 90, -1.0),
                ],
                raw=(
                    (176, _nul("45", "6", "1", "49", "0.0")),
                    (200, _nul("45", "6", "1", "23", "1.0E-4")),
                ),
            ),
            inc.Row(
                m.TickEfp,
                "tickEFP",
                ours=lambda msg: (
                    msg.req_id,
                    msg.tick_type,
                    msg.basis_points,
                    msg.formatted_basis_points,
                    msg.implied_future,
                    msg.hold_days,
                    msg.future_last_trade_date,
                    msg.dividend_impact,
                    msg.dividends_to_last_trade_date,
                ),
                theirs=lambda c: (
                    c["reqId"],
                    c["tickType"],
                    c["basisPoints"],
                    join_surrogates(c["formattedBasisPoints"]),
                    c["totalDividends"],
                    c["holdDays"],
                    join_surrogates(c["futureLastTradeDate"]),
                    c["dividendImpact"],
                    c["dividendsToLastTradeDate"],
                ),
                messages=lambda v: st.builds(
                    m.TickEfp,
                    ids,
                    tick_types,
                    prices,
                    texts,
                    prices,
                    int64,
                    texts,
                    prices,
                    prices,
                ),
                samples=lambda v: [
                    m.TickEfp(1, 38, 0.5, "0.50", 4800.25, 30, "20261218", 0.1, 0.2),
                    m.TickEfp(1, 40),
                ],
                raw=(
                    (
                        176,
                        _nul(
                            "47",
                            "6",
                            "1",
                            "38",
                            "0.5",
                            "0.50",
                            "4800.25",
                            "30",
                            "20261218",
                            "0.1",
                            "0.2",
                        ),
                    ),
                ),
            ),
            inc.Row(
                m.TickOptionComputation,
                "tickOptionComputation",
                ours=_option_view,
                theirs=lambda c: tuple(c[p] for p in _OPTION_PARAMS),
                messages=lambda v: st.builds(
                    m.TickOptionComputation,
                    ids,
                    tick_types,
                    st.sampled_from([0, 1]) | int64,
                    greeks,
                    greeks,
                    greeks,
                    greeks,
                    greeks,
                    greeks,
                    greeks,
                    greeks,
                ),
                samples=lambda v: [
                    m.TickOptionComputation(
                        1, 13, 0, 0.25, 0.55, 5.25, 0.0, 0.02, 0.3, -0.05, 198.5
                    ),
                    m.TickOptionComputation(1, 10, 1),  # nothing computed: all None
                    m.TickOptionComputation(
                        1, 53, 0, -0.5, -2.0, -1.0, -1.0, -2.0, -2.0, -2.0, -1.0
                    ),
                    m.TickOptionComputation(
                        1, 83, 0, 0.0, -1.0, -2.0, -2.0, -1.0, -1.0, -1.0, -2.0
                    ),
                ],
                raw=(
                    (
                        176,
                        _nul(
                            "21",
                            "1",
                            "13",
                            "0",
                            "0.25",
                            "0.55",
                            "5.25",
                            "0.0",
                            "0.02",
                            "0.3",
                            "-0.05",
                            "198.5",
                        ),
                    ),
                    (
                        200,
                        _nul(
                            "21",
                            "2",
                            "12",
                            "1",
                            "-1.0",
                            "-2.0",
                            "-1.0",
                            "-1.0",
                            "-2.0",
                            "-2.0",
                            "-2.0",
                            "-1.0",
                        ),
                    ),
                ),
            ),
            inc.Row(
                m.TickReqParams,
                "tickReqParams",
                ours=lambda msg: (
                    msg.req_id,
                    msg.min_tick,
                    msg.bbo_exchange,
                    msg.snapshot_permissions,
                ),
                theirs=lambda c: (
                    c["tickerId"],
                    c["minTick"],
                    c["bboExchange"],
                    c["snapshotPermissions"],
                ),
                messages=lambda v: st.builds(m.TickReqParams, ids, prices, text, int64),
                samples=lambda v: [m.TickReqParams(1, 0.01, "9c0001", 3), m.TickReqParams(2)],
                raw=((176, _nul("81", "1", "0.01", "9c0001", "3")),),
            ),
            inc.Row(
                m.TickSnapshotEnd,
                "tickSnapshotEnd",
                ours=lambda msg: msg.req_id,
                theirs=lambda c: c["reqId"],
                messages=lambda v: st.builds(m.TickSnapshotEnd, ids),
                samples=lambda v: [m.TickSnapshotEnd(1), m.TickSnapshotEnd(-1)],
                raw=((176, _nul("57", "1", "12")),),
            ),
            inc.Row(
                m.MarketDataType,
                "marketDataType",
                ours=lambda msg: (msg.req_id, msg.market_data_type),
                theirs=lambda c: (c["reqId"], c["marketDataType"]),
                messages=lambda v: st.builds(m.MarketDataType, ids, st.integers(1, 4) | int64),
                samples=lambda v: [m.MarketDataType(1, 1), m.MarketDataType(1, 3)],
                raw=((176, _nul("58", "1", "1", "3")),),
            ),
            inc.Row(
                m.RerouteMktDataReq,
                "rerouteMktDataReq",
                ours=lambda msg: (msg.req_id, msg.con_id, msg.exchange),
                theirs=lambda c: (c["reqId"], c["conId"], c["exchange"]),
                messages=lambda v: st.builds(m.RerouteMktDataReq, ids, int64, text),
                samples=lambda v: [m.RerouteMktDataReq(1, 265598, "SMART")],
                raw=((176, _nul("91", "1", "265598", "SMART")),),
            ),
            inc.Row(
                m.RerouteMktDepthReq,
                "rerouteMktDepthReq",
                ours=lambda msg: (msg.req_id, msg.con_id, msg.exchange),
                theirs=lambda c: (c["reqId"], c["conId"], c["exchange"]),
                messages=lambda v: st.builds(m.RerouteMktDepthReq, ids, int64, text),
                samples=lambda v: [m.RerouteMktDepthReq(1, 265598, "ISLAND")],
                raw=((176, _nul("92", "1", "265598", "ISLAND")),),
            ),
            inc.Row(
                m.TickByTick,
                "tickByTickAllLast",
                ours=_tbt_view,
                theirs=_unused,
                theirs_calls=lambda calls: [_official_tbt_call(c) for c in calls],
                messages=lambda v: _tick_by_tick(),
                samples=_tbt_samples,
                raw=(
                    (176, _nul("99", "7", "1", "1700000000", "185.5", "100", "2", "NASDAQ", "")),
                    (176, _nul("99", "7", "3", "1700000000", "185.5", "185.6", "200", "", "1")),
                    (200, _nul("99", "7", "4", "1700000000", "185.55")),
                    (200, _nul("99", "7", "0", "1700000000")),
                ),
            ),
            inc.Row(
                m.MarketDepth,
                "updateMktDepth",
                ours=lambda msg: (
                    msg.req_id,
                    msg.position,
                    msg.operation,
                    msg.side,
                    msg.price,
                    msg.size,
                ),
                theirs=lambda c: (
                    c["reqId"],
                    c["position"],
                    c["operation"],
                    c["side"],
                    c["price"],
                    _size(c["size"]),
                ),
                messages=lambda v: st.builds(
                    m.MarketDepth,
                    ids,
                    st.integers(0, 20) | int64,
                    st.integers(0, 2) | int64,
                    st.integers(0, 1) | int64,
                    prices,
                    sizes,
                ),
                samples=lambda v: [
                    m.MarketDepth(1, 0, 0, 1, 185.5, d("100")),
                    m.MarketDepth(1, 3, 2, 0, 0.0, None),
                ],
                raw=((176, _nul("12", "1", "1", "0", "0", "1", "185.5", "100")),),
            ),
            inc.Row(
                m.MarketDepthL2,
                "updateMktDepthL2",
                ours=lambda msg: (
                    msg.req_id,
                    msg.position,
                    msg.market_maker,
                    msg.operation,
                    msg.side,
                    msg.price,
                    msg.size,
                    msg.is_smart_depth,
                ),
                theirs=lambda c: (
                    c["reqId"],
                    c["position"],
                    c["marketMaker"],
                    c["operation"],
                    c["side"],
                    c["price"],
                    _size(c["size"]),
                    c["isSmartDepth"],
                ),
                messages=lambda v: st.builds(
                    m.MarketDepthL2,
                    ids,
                    st.integers(0, 20) | int64,
                    text,
                    st.integers(0, 2) | int64,
                    st.integers(0, 1) | int64,
                    prices,
                    sizes,
                    st.booleans(),
                ),
                samples=lambda v: [
                    m.MarketDepthL2(1, 0, "NSDQ", 0, 1, 185.5, d("100"), True),
                    m.MarketDepthL2(1, 9, "", 2, 0, 0.0, None, False),
                ],
                raw=((176, _nul("13", "1", "1", "5", "NSDQ", "1", "1", "185.5", "100", "1")),),
            ),
            inc.Row(
                m.MktDepthExchanges,
                "mktDepthExchanges",
                ours=_exchanges_view,
                theirs=_official_exchanges_view,
                messages=lambda v: st.builds(
                    m.MktDepthExchanges,
                    st.lists(
                        st.builds(DepthMktDataDescription, text, text, text, text, agg_groups),
                        max_size=4,
                    ),
                ),
                samples=lambda v: [
                    m.MktDepthExchanges(
                        [
                            DepthMktDataDescription("ISLAND", "STK", "", "Deep", 1),
                            DepthMktDataDescription("SMART", "STK", "", "Deep2", None),
                        ]
                    ),
                    m.MktDepthExchanges([]),
                ],
                raw=(
                    (
                        176,
                        _nul(
                            "80",
                            "2",
                            "ISLAND",
                            "STK",
                            "",
                            "Deep",
                            "1",
                            "CME",
                            "FUT",
                            "",
                            "Deep2",
                            "2147483647",
                        ),
                    ),
                ),
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
