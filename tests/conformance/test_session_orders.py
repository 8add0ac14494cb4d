"""The official client places, modifies, cancels and follows orders against ``aiotws sim``.

Every exchange goes through real sockets: an official ``EClient`` against an in-process
:class:`aiotws.sim.Simulator` (see ``support.py``). The callbacks (``openOrder``,
``orderStatus``, ``execDetails``, ``commissionAndFeesReport``, ``completedOrder``, ``error``)
must decode without errors and carry the values the simulator's engine
(:func:`aiotws.sim.orders.desk_of`) booked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import pytest
from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel

from aiotws import LimitOrder, Stock
from aiotws.sim import Simulator
from aiotws.sim.orders import desk_of, place_manual_order

from .support import Call, Harness, OfficialSession, round_trip

AAPL_CON_ID: Final = 265598
CLOCK: Final = 0.01
#: codes a healthy session sends that are not about orders
_NOTICES: Final = frozenset({2104, 2106, 2158})


def _aapl() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def _order(action: str, qty: int, order_type: str = "MKT", lmt: float | None = None) -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType = action, Decimal(qty), order_type
    if lmt is not None:
        o.lmtPrice = lmt
    return o


def _of(order_id: int, name: str, status: str | None = None) -> Callable[[Call], bool]:
    return lambda c: (
        c.name == name and c["orderId"] == order_id and (status is None or c["status"] == status)
    )


def _calls(s: OfficialSession, where: Callable[[Call], bool], start: int = 0) -> list[Call]:
    with s.wrapper._cond:
        return [c for c in s.wrapper.calls[start:] if where(c)]


def _order_errors(s: OfficialSession, start: int = 0) -> list[tuple[int, int]]:
    return [
        (e["reqId"], e["errorCode"])
        for e in s.wrapper.errors(start)
        if e["errorCode"] not in _NOTICES
    ]


def _session(
    harness: Harness, version: int | None = None, **settings: Any
) -> tuple[Simulator, OfficialSession]:
    if version is not None:
        settings["max_version"] = version
    sim = harness.sim(seed=1, tick_interval=CLOCK, **settings)
    return sim, harness.connect(sim)


def _next_id(s: OfficialSession) -> int:
    return int(s.wrapper.named("nextValidId")[-1]["orderId"])


@pytest.mark.parametrize("version", [157, 176, 200])
def test_market_order_fills_and_reports(harness: Harness, version: int) -> None:
    sim, s = _session(harness, version)
    assert s.server_version == version
    oid = _next_id(s)
    mark = s.wrapper.mark()
    s.client.placeOrder(oid, _aapl(), _order("BUY", 100))
    s.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Filled"), start=mark)
    report = s.wrapper.wait_for("commissionAndFeesReport", start=mark)
    [ex] = s.wrapper.named("execDetails", mark)
    execution, contract = ex["execution"], ex["contract"]
    booked = harness.loop.call(lambda: desk_of(sim).engine.executions[0])
    assert ex["reqId"] == -1 and contract.conId == AAPL_CON_ID and contract.symbol == "AAPL"
    assert execution.execId == booked.exec_id and execution.orderId == oid
    assert execution.shares == Decimal(100) and execution.cumQty == Decimal(100)
    assert execution.price == booked.price and execution.side == "BOT"
    assert execution.permId == booked.perm_id and execution.clientId == 1
    assert execution.acctNumber == sim.config.accounts[0]
    report = report["commissionAndFeesReport"]
    assert report.execId == execution.execId and report.commissionAndFees == 1.0
    assert report.currency == "USD"
    round_trip(s)  # the repeated Filled may still be on its way
    statuses = [c["status"] for c in _calls(s, _of(oid, "orderStatus"), mark)]
    assert statuses == ["PreSubmitted", "Submitted", "Filled", "Filled"]
    final = _calls(s, _of(oid, "orderStatus"), mark)[-1]
    assert (final["filled"], final["remaining"]) == (Decimal(100), Decimal(0))
    assert final["avgFillPrice"] == booked.price and final["permId"] == booked.perm_id
    opens = _calls(s, _of(oid, "openOrder"), mark)
    assert [c["orderState"].status for c in opens] == ["PreSubmitted", "Submitted", "Filled"]
    o = opens[-1]["order"]
    assert o.orderType == "MKT" and o.totalQuantity == Decimal(100) and o.permId == booked.perm_id
    assert o.account == sim.config.accounts[0] and o.clientId == 1
    assert _order_errors(s, mark) == []


def test_modify_then_cancel(harness: Harness) -> None:
    sim, s = _session(harness)
    oid = _next_id(s)
    bid = harness.loop.call(lambda: sim.market.quote(AAPL_CON_ID).bid)
    price = round(bid - 20, 2)
    mark = s.wrapper.mark()
    s.client.placeOrder(oid, _aapl(), _order("BUY", 10, "LMT", price))
    s.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Submitted"), start=mark)
    perm = _calls(s, _of(oid, "openOrder"), mark)[0]["order"].permId
    after = s.wrapper.mark()
    s.client.placeOrder(oid, _aapl(), _order("BUY", 20, "LMT", price - 1))
    changed = s.wrapper.wait_for("openOrder", _of(oid, "openOrder"), start=after)
    assert changed["order"].totalQuantity == Decimal(20)
    assert changed["order"].lmtPrice == pytest.approx(price - 1)
    assert changed["order"].permId == perm
    s.client.cancelOrder(oid, OrderCancel())
    done = s.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Cancelled"), start=after)
    assert done["remaining"] == Decimal(20) and done["filled"] == Decimal(0)
    err = s.wrapper.wait_for("error", lambda c: c["errorCode"] == 202, start=after)
    assert err["reqId"] == oid and err["errorString"] == "Order Canceled - reason:"
    # a second cancel: 10148
    s.client.cancelOrder(oid, OrderCancel())
    round_trip(s)
    assert _order_errors(s, after)[-1] == (oid, 10148)


def test_open_orders_executions_and_completed_orders(harness: Harness) -> None:
    _sim, s = _session(harness)
    oid = _next_id(s)
    s.client.placeOrder(oid, _aapl(), _order("BUY", 10))
    s.client.placeOrder(oid + 1, _aapl(), _order("SELL", 5, "LMT", 999.0))
    s.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Filled"))
    s.wrapper.wait_for("orderStatus", _of(oid + 1, "orderStatus", "Submitted"))
    mark = s.wrapper.mark()
    s.client.reqOpenOrders()
    s.wrapper.wait_for("openOrderEnd", start=mark)
    opens = _calls(s, lambda c: c.name == "openOrder", mark)
    assert [c["orderId"] for c in opens] == [oid + 1]
    assert opens[0]["order"].lmtPrice == 999.0 and opens[0]["orderState"].status == "Submitted"
    mark = s.wrapper.mark()
    f = ExecutionFilter()
    f.side = "BUY"
    s.client.reqExecutions(42, f)
    s.wrapper.wait_for("execDetailsEnd", lambda c: c["reqId"] == 42, start=mark)
    [ex] = s.wrapper.named("execDetails", mark)
    assert ex["reqId"] == 42 and ex["execution"].orderId == oid
    s.wrapper.wait_for(
        "commissionAndFeesReport",
        lambda c: c["commissionAndFeesReport"].execId == ex["execution"].execId,
        start=mark,
    )
    s.client.cancelOrder(oid + 1, OrderCancel())
    s.wrapper.wait_for("orderStatus", _of(oid + 1, "orderStatus", "Cancelled"))
    mark = s.wrapper.mark()
    s.client.reqCompletedOrders(False)
    s.wrapper.wait_for("completedOrdersEnd", start=mark)
    done = s.wrapper.named("completedOrder", mark)
    assert [(c["order"].orderType, c["orderState"].status) for c in done] == [
        ("MKT", "Filled"),
        ("LMT", "Cancelled"),
    ]
    assert done[0]["contract"].conId == AAPL_CON_ID
    assert done[0]["order"].filledQuantity == Decimal(10)
    assert done[0]["orderState"].completedTime
    assert [code for _, code in _order_errors(s)] == [202]


def test_rejections_and_what_if(harness: Harness) -> None:
    _sim, s = _session(harness)
    oid = _next_id(s)
    mark = s.wrapper.mark()
    s.client.placeOrder(oid, _aapl(), _order("BUY", 10, "LMT", 100.005))
    s.client.placeOrder(oid + 1, _aapl(), _order("BUY", 1_000_000))
    what_if = _order("BUY", 100, "LMT", 100.0)
    what_if.whatIf = True
    s.client.placeOrder(oid + 2, _aapl(), what_if)
    round_trip(s)
    assert _order_errors(s, mark) == [(oid, 110), (oid + 1, 201)]
    [margin] = [e for e in s.wrapper.errors(mark) if e["errorCode"] == 201]
    assert "rejectReason" in json.loads(margin["advancedOrderRejectJson"])
    assert [c["status"] for c in _calls(s, _of(oid + 1, "orderStatus"), mark)] == ["Inactive"]
    [preview] = _calls(s, _of(oid + 2, "openOrder"), mark)
    state = preview["orderState"]
    assert state.status == "PreSubmitted" and preview["order"].whatIf
    assert float(state.initMarginChange) > 0 and float(state.equityWithLoanBefore) > 0
    assert state.commissionAndFees == 1.0 and state.commissionAndFeesCurrency == "USD"
    assert _calls(s, _of(oid + 2, "orderStatus"), mark) == []


def test_master_client_follows_another_clients_orders(harness: Harness) -> None:
    sim = harness.sim(seed=1, tick_interval=CLOCK, master_client_id=9)
    a = harness.connect(sim, 1)
    master = harness.connect(sim, 9)
    oid = _next_id(a)
    a.client.placeOrder(oid, _aapl(), _order("SELL", 10))
    master.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Filled"))
    master.wrapper.wait_for("commissionAndFeesReport")
    [ex] = master.wrapper.named("execDetails")
    assert ex["execution"].clientId == 1 and ex["execution"].side == "SLD"
    assert all(c["order"].clientId == 1 for c in master.wrapper.named("openOrder"))


@pytest.mark.parametrize("negative", [False, True])
def test_client_0_binds_manual_orders(harness: Harness, negative: bool) -> None:
    """TWS's own orders reach client 0 with order id 0; REQ_OPEN_ORDERS binds them
    (orderBound), REQ_AUTO_OPEN_ORDERS binds the later ones; client 0 then cancels by id."""
    sim = harness.sim(seed=1, tick_interval=CLOCK, bind_negative_ids=negative)
    bid = sim.market.quote(AAPL_CON_ID).bid
    rest = LimitOrder("BUY", 10, round(bid - 20, 2))
    first = harness.loop.call(place_manual_order, sim, Stock("AAPL"), rest)
    zero = harness.connect(sim, 0)
    zero.wrapper.wait_for("openOrderEnd")  # the replay: unbound
    [replayed] = zero.wrapper.named("openOrder")
    assert replayed["orderId"] == 0 and replayed["order"].clientId == 0
    assert replayed["order"].permId == first.perm_id
    mark = zero.wrapper.mark()
    zero.client.reqOpenOrders()
    zero.wrapper.wait_for("openOrderEnd", start=mark)
    [bound] = zero.wrapper.named("orderBound", mark)
    oid = -1 if negative else _next_id(zero)
    assert (bound["permId"], bound["clientId"], bound["orderId"]) == (first.perm_id, 0, oid)
    assert [c["orderId"] for c in zero.wrapper.named("openOrder", mark)] == [oid]
    mark = zero.wrapper.mark()
    zero.client.reqAutoOpenOrders(True)
    round_trip(zero)
    later = harness.loop.call(place_manual_order, sim, Stock("AAPL"), rest)
    zero.wrapper.wait_for("orderStatus", lambda c: c["permId"] == later.perm_id, start=mark)
    [auto] = zero.wrapper.named("orderBound", mark)
    assert auto["orderId"] == later.order_id == (-2 if negative else oid + 1)
    zero.client.cancelOrder(oid, OrderCancel())
    zero.wrapper.wait_for("orderStatus", _of(oid, "orderStatus", "Cancelled"))
    zero.wrapper.wait_for("error", lambda c: c["errorCode"] == 202)
    assert _order_errors(zero) == [(oid, 202)]
