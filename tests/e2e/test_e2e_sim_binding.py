"""Orders entered in TWS itself ("manual" orders) and client 0's binding of them, against the
simulator through real sockets: with the low-level ``Client`` (messages as TWS sends them)
and with the high-level ``IB`` (its order book follows ORDER_BOUND)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from order_recorder import Recorder

from aiotws import IB, Client, LimitOrder, MarketOrder, Stock
from aiotws.client import ErrorInfo
from aiotws.model.account import ExecutionFilter
from aiotws.model.order import Order
from aiotws.sim import Simulator
from aiotws.sim.matching import SimOrder
from aiotws.sim.orders import cancel_manual_order, desk_of, place_manual_order
from aiotws.trade import Trade
from aiotws.wire.connection import API_PREFIX
from aiotws.wire.framing import frame
from aiotws.wire.messages.accounts import (
    CommissionAndFeesReport,
    ExecutionData,
    ExecutionDataEnd,
    ReqExecutions,
)
from aiotws.wire.messages.orders import (
    CancelOrder,
    CompletedOrder,
    CompletedOrdersEnd,
    OpenOrder,
    OrderBound,
    OrderStatusMsg,
    PlaceOrder,
    ReqAllOpenOrders,
    ReqAutoOpenOrders,
    ReqCompletedOrders,
)

GUARD = 5.0
AAPL = Stock("AAPL", "SMART", "USD")


def _status(order_id: int, status: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, OrderStatusMsg) and m.order_id == order_id and m.status == status


def _rest(sim: Simulator, qty: int = 10) -> Order:
    """A buy limit well below the market: it rests."""
    return LimitOrder("BUY", qty, round(sim.market.quote(265598).bid - 20, 2))


@pytest.fixture
async def bsim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, tick_interval=0.01, master_client_id=9) as s:
        yield s


@pytest.fixture
async def connect(bsim: Simulator) -> AsyncIterator[Callable[..., Any]]:
    clients: list[Client] = []

    async def open_client(client_id: int = 0, sim: Simulator | None = None) -> Recorder:
        to = sim or bsim
        c = Client()
        r = Recorder(c)  # hooked up before the connect: sees the replay too
        async with asyncio.timeout(GUARD):
            await c.connect(to.host, to.port, client_id=client_id)
        clients.append(c)
        return r

    yield open_client
    for c in clients:
        if c.is_connected():
            c.disconnect()
            async with asyncio.timeout(GUARD):
                await c.wait_closed()


# -- the low-level client ----------------------------------------------------------------------


async def test_manual_orders_are_seen_by_client_0_only(connect: Any, bsim: Simulator) -> None:
    zero: Recorder = await connect(0)
    one: Recorder = await connect(1)
    master: Recorder = await connect(9)
    manual = place_manual_order(bsim, AAPL, _rest(bsim))
    assert manual.manual and manual.client_id == 0 and manual.order_id == 0
    await zero.wait(_status(0, "Submitted"))
    opened = zero.of(OpenOrder)[0]
    assert (opened.order_id, opened.client_id, opened.perm_id) == (0, 0, manual.perm_id)
    assert opened.contract.con_id == 265598 and opened.account == bsim.config.accounts[0]
    await one.sync()
    await master.sync()  # the master (not client 0) does not follow TWS's orders
    assert one.of(OpenOrder) == [] and master.of(OpenOrder) == []
    # REQ_OPEN_ORDERS of another client: its own orders only; REQ_ALL_OPEN_ORDERS: all of
    # them, the manual one too, and nothing is bound
    mark = await one.open_orders()
    assert one.of(OpenOrder, mark) == []
    mark = await one.open_orders(ReqAllOpenOrders())
    assert [(m.order_id, m.perm_id) for m in one.of(OpenOrder, mark)] == [(0, manual.perm_id)]
    assert manual.order_id == 0 and zero.of(OrderBound) == []


async def test_req_open_orders_of_client_0_binds_them(connect: Any, bsim: Simulator) -> None:
    first = place_manual_order(bsim, AAPL, _rest(bsim))  # before client 0 connects
    zero: Recorder = await connect(0)
    # the connect-time replay shows it unbound
    replayed = await zero.wait(lambda m: isinstance(m, OpenOrder))
    assert (replayed.order_id, replayed.perm_id) == (0, first.perm_id)
    second = place_manual_order(bsim, AAPL, _rest(bsim, 20))
    await zero.wait(lambda m: isinstance(m, OpenOrder) and m.perm_id == second.perm_id)
    base = bsim.next_order_id(0)
    mark = await zero.open_orders()
    bound = zero.of(OrderBound, mark)
    assert [(b.perm_id, b.client_id, b.order_id) for b in bound] == [
        (first.perm_id, 0, base),
        (second.perm_id, 0, base + 1),
    ]
    listed = zero.of(OpenOrder, mark)
    assert [(m.order_id, m.perm_id) for m in listed] == [
        (base, first.perm_id),
        (base + 1, second.perm_id),
    ]
    # ORDER_BOUND comes before the OPEN_ORDER that carries the new id
    assert zero.msgs.index(bound[0]) < zero.msgs.index(listed[0])
    assert (first.order_id, second.order_id) == (base, base + 1)
    assert bsim.next_order_id(0) == base + 2  # the next valid id moved past them
    assert await zero.client.req_ids() == base + 2
    # asking again binds nothing more
    mark = await zero.open_orders()
    assert zero.of(OrderBound, mark) == [] and len(zero.of(OpenOrder, mark)) == 2
    # bound: client 0 modifies and cancels them by their ids
    mark = len(zero.msgs)
    zero.client.send(PlaceOrder.from_order(base + 1, AAPL, _rest(bsim, 30)))
    modified = await zero.wait(lambda m: isinstance(m, OpenOrder) and m.order_id == base + 1, mark)
    assert modified.perm_id == second.perm_id and int(modified.total_quantity or 0) == 30
    zero.client.send(CancelOrder(base))
    await zero.wait(_status(base, "Cancelled"))
    err = await zero.wait(lambda m: isinstance(m, ErrorInfo) and m.req_id == base)
    assert err.code == 202
    assert first.done and not second.done


async def test_negative_binding_ids(connect: Any) -> None:
    async with Simulator(port=0, seed=1, tick_interval=0.01, bind_negative_ids=True) as sim:
        zero: Recorder = await connect(0, sim)
        a = place_manual_order(sim, AAPL, _rest(sim))
        b = place_manual_order(sim, AAPL, _rest(sim))
        base = sim.next_order_id(0)
        mark = await zero.open_orders()
        assert [(x.perm_id, x.order_id) for x in zero.of(OrderBound, mark)] == [
            (a.perm_id, -1),
            (b.perm_id, -2),
        ]
        assert sim.next_order_id(0) == base  # client 0's own ids are untouched
        zero.client.send(CancelOrder(-2))
        await zero.wait(_status(-2, "Cancelled"))
        assert b.done and not a.done
        # a new API order of client 0 with a positive id is not affected
        oid = zero.client.next_id()
        zero.client.send(PlaceOrder.from_order(oid, AAPL, _rest(sim)))
        await zero.wait(_status(oid, "Submitted"))


async def test_auto_open_orders_binds_as_they_are_placed(connect: Any, bsim: Simulator) -> None:
    zero: Recorder = await connect(0)
    one: Recorder = await connect(1)
    zero.client.send(ReqAutoOpenOrders(True))
    mark = await zero.sync()
    assert zero.msgs[mark:] == []  # no reply, as TWS
    base = bsim.next_order_id(0)
    filled = place_manual_order(bsim, AAPL, MarketOrder("BUY", 10))
    assert filled.order_id == base
    await zero.wait(_status(base, "Filled"))
    await zero.wait(lambda m: isinstance(m, CommissionAndFeesReport))
    [bound] = zero.of(OrderBound)
    assert (bound.perm_id, bound.order_id) == (filled.perm_id, base)
    assert zero.msgs.index(bound) < zero.msgs.index(zero.of(OpenOrder)[0])
    assert all(m.order_id == base for m in zero.of(OpenOrder) + zero.of(OrderStatusMsg))
    [x] = zero.of(ExecutionData)
    assert (x.order_id, x.client_id, x.perm_id) == (base, 0, filled.perm_id)
    # switched off: the next one stays unbound
    zero.client.send(ReqAutoOpenOrders(False))
    await zero.sync()
    mark = len(zero.msgs)
    later = place_manual_order(bsim, AAPL, _rest(bsim))
    await zero.wait(_status(0, "Submitted"), mark)
    assert later.order_id == 0 and zero.of(OrderBound, mark) == []
    # only client 0 may ask: 327
    one.client.send(ReqAutoOpenOrders(True))
    await one.sync()
    assert [e.code for e in one.errors(-1)][-1] == 327


async def test_orders_of_other_api_clients_are_never_bound(connect: Any, bsim: Simulator) -> None:
    one: Recorder = await connect(1)
    zero: Recorder = await connect(0)
    oid = one.client.next_id()
    one.client.send(PlaceOrder.from_order(oid, AAPL, _rest(bsim)))
    await one.wait(_status(oid, "Submitted"))
    zero.client.send(ReqAutoOpenOrders(True))
    mark = await zero.open_orders()
    assert zero.of(OrderBound, mark) == [] and zero.of(OpenOrder, mark) == []
    zero.client.send(CancelOrder(oid))
    await zero.sync()
    assert [e.code for e in zero.errors(oid)] == [10147]
    live = desk_of(bsim).engine.get(1, oid)
    assert live is not None and not live.done and live.client_id == 1


async def test_read_only_refuses_the_binding(connect: Any) -> None:
    async with Simulator(port=0, seed=1, tick_interval=0.01, read_only=True) as sim:
        zero: Recorder = await connect(0, sim)
        zero.client.send(ReqAutoOpenOrders(True))
        await zero.sync()
        [refused] = [e for e in zero.errors(-1) if e.code == 321]
        assert "Read-Only mode" in refused.text
        manual = place_manual_order(sim, AAPL, _rest(sim))
        await zero.wait(_status(0, "Submitted"))
        mark = await zero.open_orders()
        assert [e.code for e in zero.errors(-1, mark)] == [321]
        assert "Read-Only mode" in zero.errors(-1, mark)[0].text
        assert zero.of(OrderBound) == [] and manual.order_id == 0
        # the listing still comes, the manual order with id 0
        assert [(m.order_id, m.perm_id) for m in zero.of(OpenOrder, mark)] == [(0, manual.perm_id)]
        # another client's REQ_OPEN_ORDERS binds nothing, so it is not refused
        one: Recorder = await connect(1, sim)
        await one.open_orders()
        assert [e.code for e in one.errors(-1) if e.code == 321] == []


async def test_manual_executions_and_completed_orders(connect: Any, bsim: Simulator) -> None:
    zero: Recorder = await connect(0)
    master: Recorder = await connect(9)
    filled = place_manual_order(bsim, AAPL, MarketOrder("SELL", 5))
    await zero.wait(_status(0, "Filled"))
    await zero.wait(lambda m: isinstance(m, CommissionAndFeesReport))
    [x] = zero.of(ExecutionData)
    assert (x.req_id, x.order_id, x.client_id, x.side) == (-1, 0, 0, "SLD")
    resting = place_manual_order(bsim, AAPL, _rest(bsim))
    await zero.wait(lambda m: isinstance(m, OpenOrder) and m.perm_id == resting.perm_id)
    cancel_manual_order(bsim, resting)
    await zero.wait(lambda m: isinstance(m, OrderStatusMsg) and m.status == "Cancelled")
    assert zero.errors(0) == []  # no 202 for an order without an API id
    await master.sync()  # the master (client 9) followed none of it
    assert master.of(OpenOrder) == [] and master.of(ExecutionData) == []
    for rec, expect in ((master, 0), (zero, 1)):
        rec.client.send(ReqExecutions(77, ExecutionFilter()))
        await rec.wait(lambda m: isinstance(m, ExecutionDataEnd) and m.req_id == 77)
        assert len([e for e in rec.of(ExecutionData) if e.req_id == 77]) == expect
    for api_only, expect in ((True, 0), (False, 2)):
        mark = len(zero.msgs)
        zero.client.send(ReqCompletedOrders(api_only))
        await zero.wait(lambda m: isinstance(m, CompletedOrdersEnd), mark)
        assert len(zero.of(CompletedOrder, mark)) == expect
    assert filled.done and resting.done


async def test_order_bound_needs_server_144(bsim: Simulator) -> None:
    """Below MIN_SERVER_VER_API_BIND_ORDER there is no ORDER_BOUND: only the OPEN_ORDER with
    the new id tells."""
    manual = place_manual_order(bsim, AAPL, _rest(bsim))
    async with asyncio.timeout(GUARD):
        reader, writer = await asyncio.open_connection(bsim.host, bsim.port)
    try:
        writer.write(API_PREFIX + frame(b"v100..143"))

        async def payload() -> bytes:
            async with asyncio.timeout(GUARD):
                head = await reader.readexactly(4)
                return await reader.readexactly(int.from_bytes(head, "big"))

        hello = await payload()
        assert hello.split(b"\0")[0] == b"143"
        # START_API (71, version 2, client 0) and REQ_OPEN_ORDERS (5, version 1), by hand:
        # aiotws's own encoder speaks 157 and up only
        writer.write(frame(b"71\x002\x000\x00\x00") + frame(b"5\x001\x00"))
        ids: list[int] = []
        while 53 not in ids or ids.count(53) < 2:  # the replay's end, then the answer's
            ids.append(int((await payload()).split(b"\0")[0]))
        assert 100 not in ids and 5 in ids
        assert manual.order_id == bsim.next_order_id(0) - 1 > 0
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


# -- the high-level IB -------------------------------------------------------------------------


async def _ib(sim: Simulator, client_id: int = 0) -> IB:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=client_id)
    return ib


async def _close(ib: IB) -> None:
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


async def _trade_of(ib: IB, perm_id: int) -> Trade:
    async with asyncio.timeout(GUARD):
        while True:
            for t in ib.trades():
                if t.order.perm_id == perm_id:
                    return t
            await ib.client.req_managed_accounts()


async def test_ib_client_0_binds_at_connect(bsim: Simulator) -> None:
    manual = place_manual_order(bsim, AAPL, _rest(bsim))
    base = bsim.next_order_id(0)
    ib = await _ib(bsim, 0)
    try:
        # the connect-time sync sent REQ_AUTO_OPEN_ORDERS(true) and REQ_OPEN_ORDERS: bound
        trade = await _trade_of(ib, manual.perm_id)
        assert manual.order_id == base
        assert (trade.order.order_id, trade.order.client_id) == (base, 0)
        assert trade in ib.open_trades() and trade.status == "Submitted"
        # placed after the connect: bound as it is placed (auto-binding is on)
        later = place_manual_order(bsim, AAPL, _rest(bsim, 20))
        t2 = await _trade_of(ib, later.perm_id)
        assert later.order_id == base + 1 and t2.order.order_id == base + 1
        ib.cancel_order(trade)
        async with asyncio.timeout(GUARD):
            await trade.done()
        assert trade.status == "Cancelled" and manual.done and not later.done
    finally:
        await _close(ib)


async def test_ib_req_open_orders_binds_after_auto_bind_is_off(bsim: Simulator) -> None:
    ib = await _ib(bsim, 0)
    try:
        ib.req_auto_open_orders(False)
        async with asyncio.timeout(GUARD):
            await ib.client.req_managed_accounts()  # the simulator has it
        manual = place_manual_order(bsim, AAPL, _rest(bsim))
        trade = await _trade_of(ib, manual.perm_id)
        assert trade.order.order_id == 0 and manual.order_id == 0
        async with asyncio.timeout(GUARD):
            trades = await ib.req_open_orders()
        assert trade in trades
        assert trade.order.order_id == manual.order_id > 0
        ib.cancel_order(trade)
        async with asyncio.timeout(GUARD):
            await trade.done()
        assert manual.done
    finally:
        await _close(ib)


async def test_ib_other_clients_do_not_see_manual_orders(bsim: Simulator) -> None:
    ib = await _ib(bsim, 1)
    try:
        place_manual_order(bsim, AAPL, MarketOrder("BUY", 10))
        async with asyncio.timeout(GUARD):
            await ib.req_open_orders()
            await ib.client.req_managed_accounts()
        assert ib.trades() == [] and ib.fills() == []
        async with asyncio.timeout(GUARD):
            everything = await ib.req_open_orders(all_clients=True)
        assert everything == []  # the market order filled; nothing is open
    finally:
        await _close(ib)


async def test_ib_new_orders_do_not_reuse_bound_ids(bsim: Simulator) -> None:
    ib = await _ib(bsim, 0)
    try:
        manual: list[SimOrder] = [place_manual_order(bsim, AAPL, _rest(bsim)) for _ in range(6)]
        for m in manual:
            await _trade_of(ib, m.perm_id)
        bound = {m.order_id for m in manual}
        trade = ib.place_order(AAPL, _rest(bsim, 7))
        assert trade.order.order_id not in bound
    finally:
        await _close(ib)
