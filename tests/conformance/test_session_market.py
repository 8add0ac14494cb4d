"""The official client asks ``aiotws sim`` for contracts and market data, and gets what TWS sends.

Contract details, option chains, symbol search, market rules and SMART components; top-of-book
market data (live, snapshot, generic ticks, delayed, options, errors); tick-by-tick data and
market depth. Every exchange goes through real sockets: an official ``EClient`` against an
in-process :class:`aiotws.sim.Simulator` (see ``support.py``).

"Nothing more arrives" is shown without sleeping: a second, live subscription on the same
instrument (the *witness*) keeps receiving the market's updates while the cancelled one gets
none, and a REQ_CURRENT_TIME round trip orders the two streams.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import pytest
from ibapi.contract import Contract
from ibapi.ticktype import TickTypeEnum as TT

from aiotws.sim import server as sim_server
from aiotws.wire.messages import (
    CancelMktDepth,
    CancelTickByTickData,
    ReqMktDepth,
    ReqMktDepthExchanges,
    ReqTickByTickData,
)

from .support import VERSIONS, Call, Harness, OfficialSession, round_trip, wait_for_count

AAPL_CON_ID: Final = 265598
#: the market clock of the simulators here (seconds between updates)
CLOCK: Final = 0.02
#: callbacks a witness subscription must receive before "nothing more arrived" is accepted
WITNESS_TICKS: Final = 20
_HOURS: Final = re.compile(
    r"\d{8}:(?:CLOSED|\d{4}-\d{8}:\d{4})(?:;\d{8}:(?:CLOSED|\d{4}-\d{8}:\d{4}))*"
)


def _missing(*types: type) -> list[str]:
    return [t.__name__ for t in types if t not in sim_server._HANDLERS]


_NO_TBT = _missing(ReqTickByTickData, CancelTickByTickData)
_NO_DEPTH = _missing(ReqMktDepth, CancelMktDepth)
_NO_DEPTH_EXCHANGES = _missing(ReqMktDepthExchanges)

needs_tick_by_tick = pytest.mark.skipif(
    bool(_NO_TBT), reason=f"aiotws.sim has no handler for {', '.join(_NO_TBT)} (yet)"
)
needs_depth = pytest.mark.skipif(
    bool(_NO_DEPTH), reason=f"aiotws.sim has no handler for {', '.join(_NO_DEPTH)} (yet)"
)
needs_depth_exchanges = pytest.mark.skipif(
    bool(_NO_DEPTH_EXCHANGES),
    reason=f"aiotws.sim has no handler for {', '.join(_NO_DEPTH_EXCHANGES)} (yet)",
)


# -- helpers ----------------------------------------------------------------------------------


def _contract(**fields: Any) -> Contract:
    c = Contract()
    for name, value in fields.items():
        assert hasattr(c, name), name
        setattr(c, name, value)
    return c


def _aapl() -> Contract:
    return _contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")


def _req_id(c: Call) -> Any:
    return c.args.get("reqId", c.args.get("tickerId"))


def _of(req_id: int, *names: str) -> Callable[[Call], bool]:
    """Callbacks for ``req_id`` (any of ``names``, or any name but ``error``)."""
    if names:
        return lambda c: c.name in names and _req_id(c) == req_id
    return lambda c: c.name != "error" and _req_id(c) == req_id


def _tick(req_id: int, name: str, tick_type: int) -> Callable[[Call], bool]:
    return lambda c: c.name == name and _req_id(c) == req_id and c["tickType"] == tick_type


def _calls(s: OfficialSession, where: Callable[[Call], bool], start: int = 0) -> list[Call]:
    with s.wrapper._cond:
        return [c for c in s.wrapper.calls[start:] if where(c)]


def _index_of(s: OfficialSession, call: Call) -> int:
    with s.wrapper._cond:
        return next(i for i, c in enumerate(s.wrapper.calls) if c is call)


def _errors_for(s: OfficialSession, req_id: int, start: int = 0) -> list[int]:
    return [e["errorCode"] for e in s.wrapper.errors(start) if e["reqId"] == req_id]


def _assert_quiet_after_cancel(
    s: OfficialSession, victim: int, witness: Callable[[Call], bool], count: int = WITNESS_TICKS
) -> None:
    """After the cancel of ``victim`` was sent: once the server has handled it (a round trip),
    the live ``witness`` receives ``count`` more updates while ``victim`` receives nothing."""
    after = round_trip(s)
    wait_for_count(s.wrapper, witness, count, start=after)
    round_trip(s)
    late = _calls(s, _of(victim), after)
    assert late == [], f"{len(late)} callbacks for {victim} after its cancel: {late[:3]}"
    assert _errors_for(s, victim, after) == []


def _near_now(epoch_s: int) -> bool:
    return abs(epoch_s - time.time()) < 86_400


def _aapl_call_option(s: OfficialSession, req_id: int) -> Contract:
    """An at-the-money AAPL call from the SMART chain of REQ_SEC_DEF_OPT_PARAMS."""
    mark = s.wrapper.mark()
    s.client.reqSecDefOptParams(req_id, "AAPL", "", "STK", AAPL_CON_ID)
    s.wrapper.wait_for("securityDefinitionOptionParameterEnd", _of(req_id), start=mark)
    chains = _calls(s, _of(req_id, "securityDefinitionOptionParameter"), mark)
    assert chains
    for chain in chains:
        assert chain["underlyingConId"] == AAPL_CON_ID
        assert chain["multiplier"] == "100"
        assert chain["expirations"] and chain["strikes"]
    (smart,) = (c for c in chains if c["exchange"] == "SMART")
    expirations = sorted(smart["expirations"])
    assert all(re.fullmatch(r"\d{8}", e) for e in expirations)
    strikes = sorted(smart["strikes"])
    middle = (strikes[0] + strikes[-1]) / 2  # every expiry lists the strikes around the money
    strike = min(strikes, key=lambda k: abs(k - middle))
    return _contract(
        symbol="AAPL",
        secType="OPT",
        exchange="SMART",
        currency="USD",
        lastTradeDateOrContractMonth=expirations[len(expirations) // 2],
        strike=strike,
        right="C",
    )


# -- contract details -------------------------------------------------------------------------


def test_contract_details_of_aapl(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqContractDetails(11, _aapl())
    s.wrapper.wait_for("contractDetailsEnd", _of(11), start=mark)
    calls = _calls(s, _of(11), mark)
    assert [c.name for c in calls] == ["contractDetails", "contractDetailsEnd"]
    assert _errors_for(s, 11, mark) == []
    d = calls[0]["contractDetails"]
    c = d.contract
    assert (c.conId, c.symbol, c.secType, c.exchange, c.currency) == (
        AAPL_CON_ID,
        "AAPL",
        "STK",
        "SMART",
        "USD",
    )
    assert c.primaryExchange == "NASDAQ"
    assert c.localSymbol == "AAPL"
    assert d.minTick == 0.01
    assert len(d.longName) > 3 and d.longName.upper().startswith("APPLE")
    assert d.timeZoneId
    assert _HOURS.fullmatch(d.tradingHours), d.tradingHours
    assert _HOURS.fullmatch(d.liquidHours), d.liquidHours
    exchanges = d.validExchanges.split(",")
    assert "SMART" in exchanges and "NASDAQ" in exchanges
    rule_ids = d.marketRuleIds.split(",")
    assert all(r.isdigit() for r in rule_ids)
    assert len(rule_ids) == len(exchanges)  # TWS: one market rule per valid exchange
    assert "LMT" in d.orderTypes.split(",")
    assert d.minSize > 0 and isinstance(d.minSize, Decimal)


def test_contract_details_ambiguous_symbol_answers_every_match(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqContractDetails(12, _contract(symbol="IBM", secType="STK", exchange="SMART"))
    s.wrapper.wait_for("contractDetailsEnd", _of(12), start=mark)
    calls = _calls(s, _of(12), mark)
    assert [c.name for c in calls][-1] == "contractDetailsEnd"
    details = [c["contractDetails"] for c in calls[:-1]]
    assert len(details) >= 2
    assert {c.name for c in calls[:-1]} == {"contractDetails"}
    assert {d.contract.symbol for d in details} == {"IBM"}
    assert {"USD", "CHF"} <= {d.contract.currency for d in details}
    assert len({d.contract.conId for d in details}) == len(details)
    assert _errors_for(s, 12, mark) == []


def test_contract_details_unknown_symbol_is_error_200_without_end(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqContractDetails(13, _contract(symbol="XYZZY", secType="STK", exchange="SMART"))
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 13, start=mark)
    assert err["errorCode"] == 200
    round_trip(s)
    assert _calls(s, _of(13), mark) == []  # no contractDetails, no contractDetailsEnd


def test_bond_contract_details(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqContractDetails(14, _contract(secType="BOND", exchange="SMART", currency="USD"))
    s.wrapper.wait_for("contractDetailsEnd", _of(14), start=mark)
    calls = _calls(s, _of(14), mark)
    assert [c.name for c in calls][-1] == "contractDetailsEnd"
    assert calls[:-1] and {c.name for c in calls[:-1]} == {"bondContractDetails"}
    for call in calls[:-1]:
        d = call["contractDetails"]
        assert d.contract.secType == "BOND"
        assert d.contract.currency == "USD"
        assert d.contract.conId > 0
        assert d.cusip
        assert d.coupon > 0
        assert re.fullmatch(r"\d{8}", d.maturity), d.maturity
        assert d.minTick > 0
        assert d.longName


def test_option_contract_from_sec_def_opt_params(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    option = _aapl_call_option(s, 15)
    mark = s.wrapper.mark()
    s.client.reqContractDetails(16, option)
    s.wrapper.wait_for("contractDetailsEnd", _of(16), start=mark)
    calls = _calls(s, _of(16), mark)
    assert [c.name for c in calls] == ["contractDetails", "contractDetailsEnd"]
    d = calls[0]["contractDetails"]
    c = d.contract
    assert (c.symbol, c.secType, c.right, c.strike) == ("AAPL", "OPT", "C", option.strike)
    assert c.lastTradeDateOrContractMonth.startswith(option.lastTradeDateOrContractMonth)
    assert c.multiplier == "100"
    assert c.conId > 0 and c.conId != AAPL_CON_ID
    assert c.localSymbol.startswith("AAPL")
    assert d.underConId == AAPL_CON_ID


def test_matching_symbols(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqMatchingSymbols(17, "AA")
    samples = s.wrapper.wait_for("symbolSamples", _of(17), start=mark)
    found = {d.contract.symbol: d for d in samples["contractDescriptions"]}
    assert "AAPL" in found
    aapl = found["AAPL"]
    assert aapl.contract.conId == AAPL_CON_ID
    assert aapl.contract.secType == "STK"
    assert aapl.contract.primaryExchange == "NASDAQ"
    assert aapl.contract.currency == "USD"
    assert "OPT" in aapl.derivativeSecTypes


def test_market_rule_of_aapl(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqContractDetails(18, _aapl())
    d = s.wrapper.wait_for("contractDetails", _of(18), start=mark)["contractDetails"]
    rule_id = int(d.marketRuleIds.split(",")[0])
    mark = s.wrapper.mark()
    s.client.reqMarketRule(rule_id)
    rule = s.wrapper.wait_for("marketRule", start=mark)
    assert rule["marketRuleId"] == rule_id
    increments = rule["priceIncrements"]
    assert increments
    assert increments[0].lowEdge == 0
    assert increments[0].increment == d.minTick
    edges = [i.lowEdge for i in increments]
    assert edges == sorted(edges) and len(set(edges)) == len(edges)
    assert all(i.increment > 0 for i in increments)


def test_smart_components_of_the_bbo_exchange(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqMktData(19, _aapl(), "", True, False, [])
    bbo = s.wrapper.wait_for("tickReqParams", _of(19), start=mark)["bboExchange"]
    assert bbo
    s.wrapper.wait_for("tickSnapshotEnd", _of(19), start=mark)
    mark = s.wrapper.mark()
    s.client.reqSmartComponents(20, bbo)
    components = s.wrapper.wait_for("smartComponents", _of(20), start=mark)["smartComponentMap"]
    assert components
    bits = [c.bitNumber for c in components]
    assert len(set(bits)) == len(bits)
    assert all(isinstance(c.exchangeLetter, str) and len(c.exchangeLetter) == 1 for c in components)
    assert {"NASDAQ", "NYSE"} <= {c.exchange for c in components}


# -- top-of-book market data ------------------------------------------------------------------


def _burst(s: OfficialSession, req_id: int, start: int) -> list[Call]:
    """Every callback for ``req_id`` up to its LAST_TIMESTAMP string (the initial burst has one;
    the halted status follows it)."""
    s.wrapper.wait_for("tickString", _tick(req_id, "tickString", TT.LAST_TIMESTAMP), start=start)
    s.wrapper.wait_for("tickGeneric", _tick(req_id, "tickGeneric", TT.HALTED), start=start)
    calls = _calls(s, _of(req_id), start)
    end = next(i for i, c in enumerate(calls) if c.name == "tickGeneric")
    return calls[: end + 1]


def test_mkt_data_initial_ticks(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktData(21, _aapl(), "", False, False, [])
    burst = _burst(s, 21, mark)
    assert burst[0].name == "tickReqParams"
    params = burst[0]
    assert params["minTick"] == 0.01
    assert params["bboExchange"]
    assert isinstance(params["snapshotPermissions"], int)
    assert _errors_for(s, 21, mark) == []
    prices = {c["tickType"]: c["price"] for c in burst if c.name == "tickPrice"}
    assert {TT.BID, TT.ASK, TT.LAST} <= set(prices)
    assert all(prices[t] > 0 for t in (TT.BID, TT.ASK, TT.LAST))
    assert prices[TT.BID] < prices[TT.ASK]
    # the official decoder reports the size of BID/ASK/LAST itself, right after the price;
    # TWS then sends the same size as its own TICK_SIZE (PROTOCOL.md 6.3)
    implied = {TT.BID: TT.BID_SIZE, TT.ASK: TT.ASK_SIZE, TT.LAST: TT.LAST_SIZE}
    for i, c in enumerate(burst):
        if c.name == "tickPrice" and c["tickType"] in implied:
            size_type = implied[c["tickType"]]
            following = burst[i + 1 : i + 3]
            assert [(f.name, f["tickType"]) for f in following] == [("tickSize", size_type)] * 2
            assert following[0]["size"] == following[1]["size"]
    sizes = [c for c in burst if c.name == "tickSize"]
    assert {TT.BID_SIZE, TT.ASK_SIZE, TT.LAST_SIZE, TT.VOLUME} <= {c["tickType"] for c in sizes}
    assert all(isinstance(c["size"], Decimal) and c["size"] > 0 for c in sizes)
    (stamp,) = (c for c in burst if c.name == "tickString" and c["tickType"] == TT.LAST_TIMESTAMP)
    assert stamp["value"].isdigit() and _near_now(int(stamp["value"]))


def test_mkt_data_updates_on_the_clock_until_cancelled(harness: Harness) -> None:
    sim = harness.sim(tick_interval=CLOCK)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqMktData(22, _aapl(), "", False, False, [])
    s.client.reqMktData(23, _aapl(), "", False, False, [])  # the witness
    burst = _burst(s, 22, mark)
    requests = harness.loop.call(lambda: len(sim.requests))
    after_burst = _index_of(s, burst[-1]) + 1
    quotes = (TT.BID, TT.ASK)
    updates = wait_for_count(
        s.wrapper,
        lambda c: _of(22, "tickPrice")(c) and c["tickType"] in quotes,
        5,
        start=after_burst,
    )
    assert all(u["price"] > 0 for u in updates)
    assert harness.loop.call(lambda: len(sim.requests)) == requests  # pushed, not asked for
    s.client.cancelMktData(22)
    _assert_quiet_after_cancel(s, 22, _of(23, "tickPrice", "tickSize", "tickString"))


def test_mkt_data_snapshot_ends_with_snapshot_end(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktData(24, _aapl(), "", False, False, [])  # the witness keeps the clock going
    s.client.reqMktData(25, _aapl(), "", True, False, [])
    s.wrapper.wait_for("tickSnapshotEnd", _of(25), start=mark)
    calls = _calls(s, _of(25), mark)
    assert calls[0].name == "tickReqParams"
    assert calls[-1].name == "tickSnapshotEnd"
    prices = {c["tickType"]: c["price"] for c in calls if c.name == "tickPrice"}
    assert {TT.BID, TT.ASK, TT.LAST} <= set(prices)
    assert 0 < prices[TT.BID] < prices[TT.ASK]
    assert _errors_for(s, 25, mark) == []
    # a snapshot is no subscription: the market moves on and sends it nothing more
    _assert_quiet_after_cancel(s, 25, _of(24, "tickPrice", "tickSize", "tickString"))


def test_mkt_data_generic_ticks_rt_volume_and_shortable(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktData(26, _aapl(), "233,236", False, False, [])
    rt = s.wrapper.wait_for("tickString", _tick(26, "tickString", TT.RT_VOLUME), start=mark)
    shortable = s.wrapper.wait_for(
        "tickGeneric", _tick(26, "tickGeneric", TT.SHORTABLE), start=mark
    )
    assert _errors_for(s, 26, mark) == []
    # RT_VOLUME: price;size;time ms;total volume;VWAP;single trade flag
    price, size, ms, volume, vwap, single = rt["value"].split(";")
    assert float(price) > 0 and float(size) > 0 and float(volume) > 0 and float(vwap) > 0
    assert ms.isdigit() and _near_now(int(ms) // 1000)
    assert single in ("true", "false")
    assert 0 <= shortable["value"] <= 3
    s.client.cancelMktData(26)


def test_delayed_market_data(harness: Harness) -> None:
    # AAPL without a market data subscription: 10167, then delayed data
    s = harness.connect(harness.sim(tick_interval=CLOCK, no_market_data=("AAPL",)))
    mark = s.wrapper.mark()
    s.client.reqMarketDataType(3)
    s.client.reqMktData(27, _aapl(), "", False, False, [])
    s.wrapper.wait_for("marketDataType", _of(27), start=mark)
    s.wrapper.wait_for("tickPrice", _tick(27, "tickPrice", TT.DELAYED_ASK), start=mark)
    round_trip(s)
    calls = _calls(s, _of(27), mark)
    names = [c.name for c in calls]
    assert names[0] == "tickReqParams"
    assert calls[names.index("marketDataType")]["marketDataType"] == 3
    assert names.index("marketDataType") < names.index("tickPrice")
    prices = {c["tickType"]: c["price"] for c in calls if c.name == "tickPrice"}
    assert {TT.DELAYED_BID, TT.DELAYED_ASK} <= set(prices)
    assert 0 < prices[TT.DELAYED_BID] < prices[TT.DELAYED_ASK]
    live = {TT.BID, TT.ASK, TT.LAST, TT.BID_SIZE, TT.ASK_SIZE, TT.LAST_SIZE}
    assert not [c for c in calls if c.name in ("tickPrice", "tickSize") and c["tickType"] in live]
    assert _errors_for(s, 27, mark) == [10167]
    s.client.cancelMktData(27)


def test_delayed_request_for_a_subscribed_symbol_gets_live_data(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMarketDataType(3)
    s.client.reqMktData(28, _aapl(), "", False, False, [])
    s.wrapper.wait_for("marketDataType", _of(28), start=mark)
    s.wrapper.wait_for("tickPrice", _tick(28, "tickPrice", TT.ASK), start=mark)
    round_trip(s)
    calls = _calls(s, _of(28), mark)
    assert [c["marketDataType"] for c in calls if c.name == "marketDataType"] == [1]
    delayed = set(range(TT.DELAYED_BID, TT.DELAYED_OPEN + 1))
    ticks = [c for c in calls if c.name in ("tickPrice", "tickSize")]
    assert ticks and not [c for c in ticks if c["tickType"] in delayed]
    assert _errors_for(s, 28, mark) == []
    s.client.cancelMktData(28)


def test_not_subscribed_is_error_354_and_competing_session_10197(harness: Harness) -> None:
    sim = harness.sim(tick_interval=CLOCK, no_market_data=("AAPL",))
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqMktData(29, _aapl(), "", False, False, [])
    round_trip(s)
    assert _errors_for(s, 29, mark) == [354]
    assert _calls(s, _of(29), mark) == []
    harness.loop.call(sim.competing_session, True)
    mark = s.wrapper.mark()
    msft = _contract(symbol="MSFT", secType="STK", exchange="SMART", currency="USD")
    s.client.reqMktData(30, msft, "", False, False, [])
    round_trip(s)
    assert _errors_for(s, 30, mark) == [10197]
    assert not [c for c in _calls(s, _of(30), mark) if c.name in ("tickPrice", "tickSize")]


def test_option_market_data_model_computation(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    option = _aapl_call_option(s, 28)
    mark = s.wrapper.mark()
    s.client.reqMktData(29, option, "", False, False, [])
    model = s.wrapper.wait_for(
        "tickOptionComputation", _tick(29, "tickOptionComputation", TT.MODEL_OPTION), start=mark
    )
    assert _errors_for(s, 29, mark) == []
    assert 0 < model["delta"] < 1
    assert model["impliedVol"] > 0
    assert model["optPrice"] > 0
    assert model["undPrice"] > 0
    assert model["gamma"] >= 0 and model["vega"] >= 0
    params = s.wrapper.wait_for("tickReqParams", _of(29), start=mark)
    assert params["minTick"] > 0
    s.client.cancelMktData(29)


@pytest.mark.parametrize(
    "contract",
    [
        _contract(symbol="XYZZY", secType="STK", exchange="SMART", currency="USD"),
        _contract(symbol="IBM", secType="STK", exchange="SMART"),  # USD and CHF: ambiguous
    ],
    ids=["unknown", "ambiguous"],
)
def test_mkt_data_for_no_single_contract_is_error_200(harness: Harness, contract: Contract) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktData(30, contract, "", False, False, [])
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 30, start=mark)
    assert err["errorCode"] == 200
    round_trip(s)
    assert _calls(s, _of(30), mark) == []


def test_mkt_data_lines_exhausted_is_error_101(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK, market_data_lines=2))
    mark = s.wrapper.mark()
    for req_id in (31, 32, 33):
        s.client.reqMktData(req_id, _aapl(), "", False, False, [])
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 33, start=mark)
    assert err["errorCode"] == 101
    round_trip(s)
    for req_id in (31, 32):
        assert _errors_for(s, req_id, mark) == []
        s.wrapper.wait_for("tickReqParams", _of(req_id), start=mark)
    assert _calls(s, _of(33), mark) == []
    # a cancel frees its line
    s.client.cancelMktData(31)
    mark = s.wrapper.mark()
    s.client.reqMktData(34, _aapl(), "", False, False, [])
    s.wrapper.wait_for("tickReqParams", _of(34), start=mark)
    assert _errors_for(s, 34, mark) == []


# -- tick-by-tick -----------------------------------------------------------------------------

_TBT_CALLBACK: Final = {
    "Last": "tickByTickAllLast",
    "AllLast": "tickByTickAllLast",
    "BidAsk": "tickByTickBidAsk",
    "MidPoint": "tickByTickMidPoint",
}


@needs_tick_by_tick
@pytest.mark.parametrize("kind", list(_TBT_CALLBACK))
def test_tick_by_tick(harness: Harness, kind: str) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqTickByTickData(41, _aapl(), kind, 0, False)
    ticks = wait_for_count(s.wrapper, _of(41, _TBT_CALLBACK[kind]), 5, start=mark)
    s.client.cancelTickByTickData(41)
    assert _errors_for(s, 41, mark) == []
    others = set(_TBT_CALLBACK.values()) - {_TBT_CALLBACK[kind]}
    assert _calls(s, _of(41, *others), mark) == []
    times = [t["time"] for t in ticks]
    assert all(isinstance(x, int) and _near_now(x) for x in times)
    assert times == sorted(times)  # epoch seconds: several ticks may share one
    if kind in ("Last", "AllLast"):
        for t in ticks:
            assert t["tickType"] == (1 if kind == "Last" else 2)
            assert t["price"] > 0
            assert isinstance(t["size"], Decimal) and t["size"] > 0
            assert isinstance(t["exchange"], str)
            assert not t["tickAttribLast"].pastLimit  # not halted
    elif kind == "BidAsk":
        for t in ticks:
            assert 0 < t["bidPrice"] < t["askPrice"]
            assert isinstance(t["bidSize"], Decimal) and t["bidSize"] > 0
            assert isinstance(t["askSize"], Decimal) and t["askSize"] > 0
    else:
        mids = [t["midPoint"] for t in ticks]
        assert all(m > 0 for m in mids)
        assert max(mids) < 1.1 * min(mids)


@needs_tick_by_tick
def test_cancel_tick_by_tick_data(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqTickByTickData(42, _aapl(), "BidAsk", 0, False)
    s.client.reqTickByTickData(43, _aapl(), "BidAsk", 0, False)  # the witness
    s.wrapper.wait_for("tickByTickBidAsk", _of(42), start=mark)
    s.client.cancelTickByTickData(42)
    _assert_quiet_after_cancel(s, 42, _of(43, "tickByTickBidAsk"), count=5)


# -- market depth -----------------------------------------------------------------------------


class _Book:
    """A client's book, kept by applying the operations as IB documents them."""

    def __init__(self) -> None:
        self.sides: dict[int, list[tuple[float, Decimal]]] = {0: [], 1: []}

    def apply(self, c: Call) -> None:
        rows = self.sides[c["side"]]
        pos, op = c["position"], c["operation"]
        row = (c["price"], c["size"])
        if op == 0:
            assert 0 <= pos <= len(rows), f"insert at {pos} into {len(rows)} rows"
            rows.insert(pos, row)
        elif op == 1:
            assert 0 <= pos < len(rows), f"update of row {pos} of {len(rows)}"
            rows[pos] = row
        else:
            assert op == 2, f"operation {op}"
            assert 0 <= pos < len(rows), f"delete of row {pos} of {len(rows)}"
            del rows[pos]

    def check(self, depth: int) -> None:
        asks = [p for p, _ in self.sides[0]]
        bids = [p for p, _ in self.sides[1]]
        assert len(asks) == len(bids) == depth, (asks, bids)
        assert asks == sorted(asks) and len(set(asks)) == depth
        assert bids == sorted(bids, reverse=True) and len(set(bids)) == depth
        assert 0 < bids[0] < asks[0]
        assert all(
            isinstance(sz, Decimal) and sz > 0 for side in self.sides.values() for _, sz in side
        )


def _check_depth_stream(
    s: OfficialSession, req_id: int, name: str, start: int, rows: int
) -> list[Call]:
    """The first ``2 * rows`` operations build the book; later ones keep it ``rows`` deep."""
    initial = wait_for_count(s.wrapper, _of(req_id, name), 2 * rows, start=start)
    assert [c["operation"] for c in initial] == [0] * (2 * rows)
    book = _Book()
    for c in initial:
        book.apply(c)
    book.check(rows)
    wait_for_count(s.wrapper, _of(req_id, name), 2 * rows + 5, start=start)  # updates
    round_trip(s)  # the sim sends each market step whole: stop between two of them
    ops = _calls(s, _of(req_id, name), start)
    for c in ops[2 * rows :]:
        book.apply(c)
    book.check(rows)
    assert _errors_for(s, req_id, start) == []
    return ops


@needs_depth
def test_mkt_depth_builds_and_updates_a_book(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktDepth(51, _aapl(), 5, False, [])
    s.client.reqMktDepth(52, _aapl(), 5, False, [])  # the witness
    ops = _check_depth_stream(s, 51, "updateMktDepth", mark, 5)
    assert {c["operation"] for c in ops[10:]} & {1, 2}  # updates, not only inserts
    assert _calls(s, _of(51, "updateMktDepthL2"), mark) == []
    s.client.cancelMktDepth(51, False)
    _assert_quiet_after_cancel(s, 51, _of(52, "updateMktDepth"), count=10)


@needs_depth
def test_smart_depth_reports_market_makers(harness: Harness) -> None:
    s = harness.connect(harness.sim(tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktDepth(53, _aapl(), 5, True, [])
    ops = _check_depth_stream(s, 53, "updateMktDepthL2", mark, 5)
    assert all(c["isSmartDepth"] is True for c in ops)
    makers = {c["marketMaker"] for c in ops}
    assert all(isinstance(m, str) and m for m in makers)
    assert len(makers) > 1  # SMART depth aggregates several exchanges
    assert _calls(s, _of(53, "updateMktDepth"), mark) == []
    s.client.cancelMktDepth(53, True)


@needs_depth_exchanges
def test_mkt_depth_exchanges(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqMktDepthExchanges()
    descriptions = s.wrapper.wait_for("mktDepthExchanges", start=mark)["depthMktDataDescriptions"]
    assert descriptions
    for d in descriptions:
        assert d.exchange and d.secType
        assert d.serviceDataType in ("Deep", "Deep2")
        assert isinstance(d.aggGroup, int)
    assert "STK" in {d.secType for d in descriptions}


# -- the same at every server version the conformance tables check -------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_contract_details_at_version(harness: Harness, version: int) -> None:
    """CONTRACT_DATA and BOND_CONTRACT_DATA change layout at 164, 182 and 188 (PROTOCOL.md 6.2)."""
    s = harness.connect(harness.sim(max_version=version))
    assert s.server_version == version
    mark = s.wrapper.mark()
    s.client.reqContractDetails(61, _aapl())
    s.client.reqContractDetails(62, _contract(secType="BOND", exchange="SMART", currency="USD"))
    s.wrapper.wait_for("contractDetailsEnd", _of(61), start=mark)
    s.wrapper.wait_for("contractDetailsEnd", _of(62), start=mark)
    (stock,) = (c["contractDetails"] for c in _calls(s, _of(61, "contractDetails"), mark))
    assert stock.contract.conId == AAPL_CON_ID
    assert stock.contract.primaryExchange == "NASDAQ"
    assert stock.minTick == 0.01
    assert stock.longName.upper().startswith("APPLE")
    assert _HOURS.fullmatch(stock.tradingHours) and _HOURS.fullmatch(stock.liquidHours)
    assert stock.timeZoneId
    assert len(stock.marketRuleIds.split(",")) == len(stock.validExchanges.split(","))
    if version >= 164:  # SIZE_RULES
        assert stock.minSize == 1 and stock.sizeIncrement == 1
    bonds = [c["contractDetails"] for c in _calls(s, _of(62, "bondContractDetails"), mark)]
    assert bonds
    for bond in bonds:
        assert bond.contract.secType == "BOND"
        assert bond.cusip and bond.coupon > 0 and re.fullmatch(r"\d{8}", bond.maturity)
        if version >= 188:  # BOND_TRADING_HOURS
            assert bond.timeZoneId and _HOURS.fullmatch(bond.tradingHours)
        else:
            assert bond.tradingHours == ""
    assert [e for e in s.wrapper.errors(mark) if e["reqId"] in (61, 62)] == []


@pytest.mark.parametrize("version", VERSIONS)
def test_market_streams_at_version(harness: Harness, version: int) -> None:
    s = harness.connect(harness.sim(max_version=version, tick_interval=CLOCK))
    mark = s.wrapper.mark()
    s.client.reqMktData(63, _aapl(), "", False, False, [])
    burst = _burst(s, 63, mark)
    prices = {c["tickType"]: c["price"] for c in burst if c.name == "tickPrice"}
    assert 0 < prices[TT.BID] < prices[TT.ASK]
    if not _NO_TBT:
        s.client.reqTickByTickData(64, _aapl(), "BidAsk", 0, False)
    if not _NO_DEPTH:
        s.client.reqMktDepth(65, _aapl(), 3, True, [])
    if not _NO_TBT:
        bid_ask = wait_for_count(s.wrapper, _of(64, "tickByTickBidAsk"), 3, start=mark)
        assert all(0 < t["bidPrice"] < t["askPrice"] for t in bid_ask)
    if not _NO_DEPTH:
        ops = wait_for_count(s.wrapper, _of(65, "updateMktDepthL2"), 6, start=mark)
        book = _Book()
        for c in ops:
            book.apply(c)
        book.check(3)
        assert all(c["isSmartDepth"] is True and c["marketMaker"] for c in ops)
    assert [e for e in s.wrapper.errors(mark) if e["reqId"] in (63, 64, 65)] == []
