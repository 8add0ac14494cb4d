"""The simulator's restart (TWS's daily auto-restart): every connection closes, connects are
refused while it is down, and it comes back on the same port with its state: orders,
executions, positions, the next valid ids and the market."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from aiotws import IB, ConnectionRefused, LimitOrder, MarketOrder, Stock
from aiotws.sim import Simulator
from aiotws.sim.orders import desk_of

GUARD = 5.0
AAPL = Stock("AAPL", "SMART", "USD")


@pytest.fixture
async def rsim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, tick_interval=0.01) as s:
        yield s


def _state(sim: Simulator) -> tuple[bool, bool]:
    return sim.is_serving, sim.restarting


async def _ib(sim: Simulator, client_id: int = 1) -> IB:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=client_id, timeout=GUARD)
    return ib


async def test_state_survives_a_restart(rsim: Simulator) -> None:
    ib = await _ib(rsim)
    bid = rsim.market.quote(265598).bid
    resting = ib.place_order(AAPL, LimitOrder("BUY", 10, round(bid - 20, 2)))
    filled = ib.place_order(AAPL, MarketOrder("BUY", 100))
    async with asyncio.timeout(GUARD):
        await filled.filled()
        await ib.req_open_orders()  # a round trip: the resting order's statuses are in
    assert resting.status == "Submitted"
    perm = resting.order.perm_id
    [fill] = ib.fills()
    next_id = rsim.next_order_id(1)
    port = rsim.port
    async with asyncio.timeout(GUARD):
        await rsim.restart(0.2)
        await ib.wait_closed()
    assert not ib.is_connected()
    assert rsim.port == port and rsim.is_serving and not rsim.restarting
    again = await _ib(rsim)
    try:
        # the connect-time sync replays the order, the position and the execution
        [trade] = again.open_trades()
        assert trade.order.perm_id == perm and trade.order.order_id == resting.order.order_id
        async with asyncio.timeout(GUARD):
            positions = await again.positions()
        [pos] = [p for p in positions if p.contract.con_id == 265598]
        assert pos.position == Decimal(100)
        assert [f.execution.exec_id for f in again.fills()] == [fill.execution.exec_id]
        assert rsim.next_order_id(1) == next_id
        # and the order is still alive in the engine: it can be cancelled
        again.cancel_order(trade)
        async with asyncio.timeout(GUARD):
            await trade.done()
        assert trade.status == "Cancelled"
        live = desk_of(rsim).engine.by_perm_id(perm)
        assert live is not None and live.done
        # a new order gets an id past the ones used before the restart
        fresh = again.place_order(AAPL, LimitOrder("BUY", 1, round(bid - 20, 2)))
        assert fresh.order.order_id >= next_id
    finally:
        again.disconnect()
        async with asyncio.timeout(GUARD):
            await again.wait_closed()


async def test_connects_are_refused_while_it_is_down(rsim: Simulator) -> None:
    port = rsim.port
    restart = asyncio.create_task(rsim.restart(0.5))
    await asyncio.sleep(0)  # one step of the restart: the listening socket is closed
    assert _state(rsim) == (False, True)  # (serving, restarting)
    with pytest.raises(ConnectionRefused):
        async with asyncio.timeout(GUARD):
            await IB().connect(rsim.host, port, client_id=1, timeout=GUARD)
    async with asyncio.timeout(GUARD):
        await restart
    assert _state(rsim) == (True, False) and rsim.port == port
    ib = await _ib(rsim)
    assert ib.is_connected()
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


async def test_restart_without_downtime_and_market_clock(rsim: Simulator) -> None:
    ib = await _ib(rsim, 3)
    ticker = ib.market_data(AAPL)
    async with asyncio.timeout(GUARD):
        await ticker.ready()
    serial = rsim.market.serial(265598)
    async with asyncio.timeout(GUARD):
        await rsim.restart()
        await ib.wait_closed()
    assert 3 not in rsim.clients and not rsim.sessions  # per-connection state is gone
    again = await _ib(rsim, 3)  # the client id is free again
    try:
        t2 = again.market_data(AAPL)
        async with asyncio.timeout(GUARD):
            await t2.ready()
            await anext(t2.updates())  # the market clock still runs
        assert rsim.market.serial(265598) > serial
    finally:
        again.disconnect()
        async with asyncio.timeout(GUARD):
            await again.wait_closed()


async def test_restart_of_a_stopped_simulator_raises() -> None:
    sim = Simulator(port=0)
    with pytest.raises(RuntimeError):
        await sim.restart()
