"""The client's order book without a socket: decoded order messages in, Trades out.

Each test places through a client whose ``send`` records the message, then feeds the
messages TWS would send (in the orders TWS sends them, and in the orders it sometimes does:
commission report before its execution, a fill without ``Filled``), and checks the trade.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from aiotws import Client
from aiotws.errors import OrderCancelled, OrderRejected
from aiotws.model.account import CommissionReport, Execution
from aiotws.model.contract import Stock
from aiotws.model.order import LimitOrder, MarketOrder, OrderState, OrderStatus, bracket
from aiotws.trade import Trade
from aiotws.wire.layout import OutMessage
from aiotws.wire.messages import ErrMsg
from aiotws.wire.messages.accounts import CommissionAndFeesReport, ExecutionData
from aiotws.wire.messages.orders import (
    CancelOrder,
    CompletedOrder,
    OpenOrder,
    OrderBound,
    OrderStatusMsg,
    PlaceOrder,
)

AAPL = Stock("AAPL", "SMART", "USD", con_id=265598)
CLIENT = 7


def _client() -> tuple[Client, list[OutMessage]]:
    c = Client()
    c.client_id = CLIENT
    c._next_id = 100
    sent: list[OutMessage] = []
    c.send = sent.append  # type: ignore[method-assign]
    return c, sent


def feed(c: Client, *msgs: Any) -> None:
    c.on_messages(list(msgs))


def open_order(trade: Trade, status: str, perm_id: int = 9001) -> OpenOrder:
    o = trade.order
    return OpenOrder.from_order(
        trade.contract,
        o.__class__(**{**_fields(o), "perm_id": perm_id, "client_id": CLIENT}),
        OrderState(status=status),
    )


def _fields(o: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}


def status(
    trade: Trade, s: str, filled: str = "0", remaining: str | None = None, avg: float = 0.0
) -> OrderStatusMsg:
    total = trade.order.total_quantity or Decimal(0)
    rem = Decimal(remaining) if remaining is not None else total - Decimal(filled)
    return OrderStatusMsg(
        trade.order.order_id, s, Decimal(filled), rem, avg, 9001, 0, avg, CLIENT, "", 0.0
    )


def execution(trade: Trade, exec_id: str, shares: str, price: float) -> ExecutionData:
    e = Execution(
        exec_id=exec_id,
        acct_number="DU1",
        exchange="ISLAND",
        side="BOT" if trade.order.action == "BUY" else "SLD",
        shares=Decimal(shares),
        price=price,
        perm_id=9001,
        client_id=CLIENT,
        order_id=trade.order.order_id,
        cum_qty=Decimal(shares),
        avg_price=price,
        time_text="20261201 10:00:00 America/New_York",
    )
    return ExecutionData.from_record(-1, trade.contract, e)


def report(exec_id: str, commission: float = 1.0) -> CommissionAndFeesReport:
    return CommissionAndFeesReport.from_record(CommissionReport(exec_id, commission, "USD"))


def err(req_id: int, code: int, text: str, json: str = "") -> ErrMsg:
    return ErrMsg(req_id, code, text, json, None)


async def test_place_assigns_ids_and_follows_status_to_filled() -> None:
    c, sent = _client()
    order = LimitOrder("BUY", 100, 150.0)
    trade = c.place_order(AAPL, order)
    assert order.order_id == 100 and order.client_id == CLIENT
    assert isinstance(sent[0], PlaceOrder) and sent[0].order_id == 100
    assert trade.status == OrderStatus.PENDING_SUBMIT and not trade.is_done()
    seen: list[str] = []
    trade.status_event += lambda t: seen.append(t.status)
    fills: list[Any] = []
    trade.fill_event += lambda t, f: fills.append(f)
    feed(c, open_order(trade, "PreSubmitted"), status(trade, "PreSubmitted"))
    feed(c, status(trade, "Submitted"))
    feed(c, execution(trade, "e.01", "40", 150.0), report("e.01", 1.0))
    feed(c, status(trade, "Submitted", "40", avg=150.0))
    feed(c, report("e.02", 0.5), execution(trade, "e.02", "60", 149.5))  # report first
    feed(c, status(trade, "Filled", "100", avg=149.7))
    assert seen == ["PreSubmitted", "Submitted", "Filled"]
    assert trade.order.perm_id == 9001
    assert (
        [f.execution.exec_id for f in trade.fills]
        == ["e.01", "e.02"]
        == [f.execution.exec_id for f in fills]
    )
    assert all(f.commission_report is not None for f in trade.fills)
    assert trade.commission() == 1.5
    assert trade.filled_quantity() == 100 and trade.remaining() == 0
    assert trade.avg_fill_price() == pytest.approx(149.7)
    assert trade.is_filled() and trade.is_done()
    assert await trade.filled(timeout=1) is trade
    assert [e.status for e in trade.log][:3] == ["PendingSubmit", "PreSubmitted", "Submitted"]
    assert c.trades() == [trade] and c.open_trades() == []
    assert len(c.fills()) == 2


async def test_done_waits_and_executions_alone_complete_an_order() -> None:
    c, _ = _client()
    trade = c.place_order(AAPL, MarketOrder("SELL", 10))
    waiter = asyncio.ensure_future(trade.done())
    feed(c, open_order(trade, "Submitted"), status(trade, "Submitted"))
    await asyncio.sleep(0)
    assert not waiter.done()
    feed(c, execution(trade, "x.01", "10", 99.0))  # TWS sent no Filled
    assert await asyncio.wait_for(waiter, 1) is trade
    assert trade.is_filled() and trade.log[-1].message == "filled (by executions)"


async def test_rejection_before_ack_is_terminal_with_the_error() -> None:
    c, _ = _client()
    trade = c.place_order(AAPL, LimitOrder("BUY", 100, 150.001))
    reject = '{"rejectReason": "price increment"}'
    feed(c, err(trade.order.order_id, 110, "The price does not conform", reject))
    assert trade.is_done() and trade.status == OrderStatus.INACTIVE and trade.rejected
    assert trade.error is not None and trade.error.code == 110
    assert trade.advanced_order_reject == {"rejectReason": "price increment"}
    assert await trade.done() is trade  # done() never raises for the outcome
    with pytest.raises(OrderRejected) as info:
        await trade.filled()
    assert info.value.error is trade.error and info.value.trade is trade


async def test_modification_error_keeps_the_live_order() -> None:
    c, sent = _client()
    order = LimitOrder("BUY", 100, 150.0)
    trade = c.place_order(AAPL, order)
    feed(c, open_order(trade, "Submitted"), status(trade, "Submitted"))
    modified: list[Trade] = []
    trade.modify_event += modified.append
    order.lmt_price = 150.001
    assert c.place_order(AAPL, order) is trade
    assert isinstance(sent[-1], PlaceOrder) and sent[-1].order_id == order.order_id
    assert modified == [trade] and len(c.trades()) == 1
    feed(c, err(order.order_id, 110, "The price does not conform"))
    assert trade.status == OrderStatus.SUBMITTED and not trade.is_done()
    assert trade.error is None and trade.errors[-1].code == 110


async def test_201_after_ack_ends_the_order() -> None:
    c, _ = _client()
    trade = c.place_order(AAPL, LimitOrder("BUY", 100, 150.0))
    feed(c, open_order(trade, "PreSubmitted"), status(trade, "PreSubmitted"))
    feed(c, err(trade.order.order_id, 201, "Order rejected - reason: margin"))
    assert trade.is_done() and trade.error is not None and trade.error.code == 201


async def test_warning_never_changes_the_order() -> None:
    c, _ = _client()
    trade = c.place_order(AAPL, LimitOrder("BUY", 100, 150.0))
    errors: list[Any] = []
    c.order_error_event += lambda t, e: errors.append(e.code)
    feed(c, err(trade.order.order_id, 2109, "Outside RTH ignored"))
    feed(c, err(trade.order.order_id, 10349, "Order TIF was set to DAY"))
    assert trade.status == OrderStatus.PENDING_SUBMIT and not trade.is_done()
    assert errors == [2109, 10349]


async def test_cancel_and_cancel_refused() -> None:
    c, sent = _client()
    trade = c.place_order(AAPL, LimitOrder("BUY", 100, 150.0))
    feed(c, open_order(trade, "Submitted"), status(trade, "Submitted"))
    c.cancel_order(trade)
    assert isinstance(sent[-1], CancelOrder) and sent[-1].order_id == trade.order.order_id
    assert trade.status == OrderStatus.PENDING_CANCEL
    feed(c, err(trade.order.order_id, 10148, "cannot be cancelled, state: Filled"))
    assert trade.status == OrderStatus.SUBMITTED  # restored: the cancel did not happen
    c.cancel_order(trade.order)
    cancelled: list[Trade] = []
    trade.cancelled_event += cancelled.append
    feed(c, status(trade, "Cancelled"), err(trade.order.order_id, 202, "Order Canceled - reason:"))
    assert trade.status == OrderStatus.CANCELLED and cancelled == [trade]
    assert trade.error is None
    with pytest.raises(OrderCancelled):
        await trade.filled()


async def test_a_done_order_cannot_be_modified() -> None:
    c, _ = _client()
    order = MarketOrder("BUY", 1)
    trade = c.place_order(AAPL, order)
    feed(c, status(trade, "Filled", "1"))
    with pytest.raises(ValueError, match="cannot be modified"):
        c.place_order(AAPL, order)


def test_a_bad_order_raises_before_the_wire() -> None:
    c, sent = _client()
    order = LimitOrder("BUY", 100, 150.0)
    order.total_quantity = None
    with pytest.raises(ValueError):
        c.place_order(AAPL, order)
    assert sent == [] and order.order_id == 0 and c.trades() == []


def test_bracket_children_get_the_parent_id() -> None:
    c, sent = _client()
    parent, tp, sl = bracket("BUY", 100, 150.0, 160.0, 140.0)
    trades = c.place_orders(AAPL, [parent, tp, sl])
    assert [t.order.order_id for t in trades] == [100, 101, 102]
    assert tp.parent_id == sl.parent_id == 100 and parent.parent_id == 0
    assert [m.transmit for m in sent if isinstance(m, PlaceOrder)] == [False, False, True]


async def test_other_clients_orders_and_completed_orders_are_one_trade_each() -> None:
    c, _ = _client()
    foreign = LimitOrder("SELL", 5, 200.0, order_id=3, client_id=2, perm_id=777)
    msg = OpenOrder.from_order(AAPL, foreign, OrderState(status="Submitted"))
    seen: list[Trade] = []
    c.open_order_event += seen.append
    feed(c, msg)
    st = OrderStatusMsg(3, "Submitted", Decimal(0), Decimal(5), 0.0, 777, 0, 0.0, 2, "", 0.0)
    feed(c, st, msg)
    assert len(c.trades()) == 1 and seen[0] is seen[1]
    trade = seen[0]
    assert trade.order.client_id == 2 and trade.status == OrderStatus.SUBMITTED
    done = CompletedOrder.from_order(
        AAPL, foreign, OrderState(status="Filled", completed_status="Filled")
    )
    feed(c, done)
    assert len(c.trades()) == 1 and trade.status == OrderStatus.FILLED
    bound = OrderBound(777, 0, -5)
    feed(c, bound)
    assert trade.order.order_id == -5


async def test_fills_of_unknown_orders_join_their_trade_later() -> None:
    c, _ = _client()
    foreign = LimitOrder("BUY", 5, 200.0, order_id=3, client_id=2, perm_id=9001)
    t0 = Trade(AAPL, foreign)
    events: list[Any] = []
    c.exec_details_event += lambda t, f: events.append(t)
    x = execution(t0, "u.01", "5", 200.0)
    x.client_id = 2
    feed(c, x, report("u.01"))
    assert events == [None] and len(c.fills()) == 1
    feed(c, OpenOrder.from_order(AAPL, foreign, OrderState(status="Filled")))
    [trade] = c.trades()
    assert [f.execution.exec_id for f in trade.fills] == ["u.01"]
    assert trade.fills[0].commission_report is not None


async def test_what_if_returns_the_state_and_places_nothing() -> None:
    c, sent = _client()
    order = LimitOrder("BUY", 100, 150.0)
    task = asyncio.ensure_future(c.what_if(AAPL, order, timeout=2))
    await asyncio.sleep(0)
    msg = sent[-1]
    assert isinstance(msg, PlaceOrder) and msg.what_if and order.what_if is False
    answer = OpenOrder.from_order(
        AAPL,
        LimitOrder("BUY", 100, 150.0, order_id=msg.order_id, what_if=True),
        OrderState(status="PreSubmitted", init_margin_change=7500.0, commission=1.0),
    )
    feed(c, answer)
    state = await task
    assert state.init_margin_change == 7500.0 and state.commission == 1.0
    assert c.trades() == []


async def test_what_if_error_raises() -> None:
    c, sent = _client()
    task = asyncio.ensure_future(c.what_if(AAPL, LimitOrder("BUY", 1, 1.0), timeout=2))
    await asyncio.sleep(0)
    msg = sent[-1]
    assert isinstance(msg, PlaceOrder)
    feed(c, err(msg.order_id, 201, "Order rejected - reason: no trading permissions"))
    with pytest.raises(Exception, match="201"):
        await task


async def test_updates_iterator_ends_when_done() -> None:
    c, _ = _client()
    trade = c.place_order(AAPL, MarketOrder("BUY", 1))
    statuses: list[str] = []

    async def follow() -> None:
        async for t in trade.updates():
            statuses.append(t.status)

    task = asyncio.ensure_future(follow())
    await asyncio.sleep(0)
    feed(c, status(trade, "Submitted"))
    await asyncio.sleep(0)
    feed(c, status(trade, "Filled", "1"))
    await asyncio.wait_for(task, 1)
    assert statuses[-1] == "Filled"


async def test_open_order_brings_tws_terms_to_the_order() -> None:
    c, _ = _client()
    order = LimitOrder("BUY", 100, 150.0)
    trade = c.place_order(AAPL, order)
    feed(c, open_order(trade, "Submitted"))
    changed = LimitOrder("BUY", 200, 149.5, order_id=order.order_id, client_id=CLIENT)
    feed(c, OpenOrder.from_order(AAPL, changed, OrderState(status="Submitted")))  # TWS window
    assert trade.order is order
    assert order.total_quantity == 200 and order.lmt_price == 149.5
    assert order.perm_id == 9001  # an OPEN_ORDER without a perm id keeps the known one
