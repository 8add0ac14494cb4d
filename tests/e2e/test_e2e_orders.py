"""Orders through ``IB`` against the simulator's matching engine: the flows a trader runs.

A market order to its fill (execution and commission merged), a bracket whose parent fills
and whose filled take-profit cancels the stop, a partial fill then a cancel, a modify, a
what-if, rejections (price increment before the wire reaches TWS's 110, margin 201 with its
JSON), two clients and a master client, and the state a reconnecting client gets back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from aiotws import (
    IB,
    LimitOrder,
    MarketOrder,
    OrderRejected,
    OrderStatus,
    StartupSync,
    Stock,
    StopOrder,
    Trade,
    bracket,
)
from aiotws.sim import Simulator
from aiotws.wire.messages.accounts import ReqExecutions

GUARD = 10.0


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=3, tick_interval=0.02) as s:
        yield s


async def _connect(sim: Simulator, client_id: int = 1, **options: object) -> IB:
    async with asyncio.timeout(GUARD):
        return await IB.connect_to(sim.host, sim.port, client_id, **options)  # type: ignore[arg-type]


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    ib = await _connect(sim)
    yield ib
    ib.disconnect()
    await ib.wait_closed()


async def _aapl(ib: IB) -> Stock:
    [aapl] = await ib.qualify(Stock("AAPL"))
    assert isinstance(aapl, Stock)
    return aapl


async def _quote(ib: IB, contract: Stock) -> tuple[float, float]:
    t = ib.market_data(contract)
    await t.ready(timeout=GUARD)
    bid, ask = t.bid, t.ask
    ib.cancel_market_data(t)
    return bid, ask


async def _until(trade: Trade, *statuses: str) -> None:
    await _until_true(trade, lambda: trade.status in statuses)
    assert trade.status in statuses, trade.log


async def _until_true(trade: Trade, cond: Callable[[], bool]) -> None:
    async with asyncio.timeout(GUARD):
        if cond():
            return
        async for _ in trade.updates():
            if cond():
                return


async def test_market_order_fills_with_execution_and_commission(ib: IB) -> None:
    aapl = await _aapl(ib)
    seen: list[str] = []
    trade = ib.place_order(aapl, MarketOrder("BUY", 100))
    trade.status_event += lambda t: seen.append(t.status)
    assert await trade.filled(timeout=GUARD) is trade
    assert trade.filled_quantity() == Decimal(100) and trade.order.perm_id > 0
    await _until_true(trade, lambda: all(f.commission_report for f in trade.fills))
    for f in trade.fills:
        assert f.commission_report is not None
        assert f.commission_report.exec_id == f.execution.exec_id
        assert f.execution.time is not None and f.execution.time.tzinfo is not None
    assert trade.commission() >= 1.0
    assert seen[-1] == OrderStatus.FILLED
    assert [f.execution.exec_id for f in ib.fills()] == [f.execution.exec_id for f in trade.fills]
    positions = await ib.positions()
    assert any(p.contract.con_id == aapl.con_id and p.position == 100 for p in positions)


async def test_resting_limit_order_cancels(ib: IB) -> None:
    aapl = await _aapl(ib)
    bid, _ = await _quote(ib, aapl)
    trade = ib.place_order(aapl, LimitOrder("BUY", 100, round(bid * 0.9, 2)))
    await _until(trade, OrderStatus.SUBMITTED)
    assert ib.open_trades() == [trade]
    ib.cancel_order(trade)
    assert trade.status == OrderStatus.PENDING_CANCEL
    await trade.done(timeout=GUARD)
    assert trade.status == OrderStatus.CANCELLED and trade.error is None
    assert [e.status for e in trade.log][:1] == ["PendingSubmit"]
    assert ib.open_trades() == []


async def test_modify_keeps_the_order_id_and_the_trade(ib: IB) -> None:
    aapl = await _aapl(ib)
    bid, ask = await _quote(ib, aapl)
    order = LimitOrder("BUY", 100, round(bid * 0.9, 2))
    trade = ib.place_order(aapl, order)
    await _until(trade, OrderStatus.SUBMITTED)
    perm = trade.order.perm_id
    order.lmt_price = round(ask * 1.01, 2)  # now marketable
    assert ib.place_order(aapl, order) is trade
    await trade.filled(timeout=GUARD)
    assert trade.order.perm_id == perm and any(e.message == "Modify" for e in trade.log)


async def test_bracket_parent_fills_then_take_profit_cancels_the_stop(ib: IB) -> None:
    aapl = await _aapl(ib)
    bid, ask = await _quote(ib, aapl)
    parent, take_profit, stop_loss = bracket(
        "BUY", 100, round(ask * 1.01, 2), round(ask * 1.5, 2), round(bid * 0.5, 2)
    )
    trades = ib.place_bracket(aapl, parent, take_profit, stop_loss)
    assert [t.order.parent_id for t in trades] == [0, parent.order_id, parent.order_id]
    await trades[0].filled(timeout=GUARD)
    await _until(trades[1], OrderStatus.SUBMITTED, OrderStatus.PRE_SUBMITTED)
    assert not trades[2].is_done()
    take_profit.lmt_price = round(bid * 0.99, 2)  # marketable now: it fills
    ib.place_order(aapl, take_profit)
    await trades[1].filled(timeout=GUARD)
    await trades[2].done(timeout=GUARD)
    assert trades[2].status == OrderStatus.CANCELLED
    assert [p.position for p in await ib.positions() if p.contract.con_id == aapl.con_id] in (
        [],
        [Decimal(0)],
    )


async def test_partial_fill_then_cancel(ib: IB) -> None:
    aapl = await _aapl(ib)
    _, ask = await _quote(ib, aapl)
    trade = ib.place_order(aapl, LimitOrder("BUY", 5000, round(ask * 1.001, 2)))
    await _until_true(trade, lambda: bool(trade.fills))
    ib.cancel_order(trade)
    await trade.done(timeout=GUARD)
    assert trade.status == OrderStatus.CANCELLED
    assert 0 < trade.filled_quantity() < Decimal(5000)
    with pytest.raises(Exception, match="Cancelled"):
        await trade.filled()


async def test_what_if_places_nothing(ib: IB) -> None:
    aapl = await _aapl(ib)
    state = await ib.what_if(aapl, MarketOrder("BUY", 100))
    assert state.init_margin_change is not None and state.init_margin_change > 0
    assert state.commission is not None and state.commission > 0
    assert ib.trades() == [] and ib.fills() == []


async def test_rejections_reach_their_trade(ib: IB) -> None:
    aapl = await _aapl(ib)
    bid, _ = await _quote(ib, aapl)
    off_tick = ib.place_order(aapl, LimitOrder("BUY", 100, round(bid * 0.9, 2) + 0.001))
    with pytest.raises(OrderRejected) as info:
        await off_tick.filled(timeout=GUARD)
    assert info.value.error is not None and info.value.error.code == 110
    assert off_tick.status == OrderStatus.INACTIVE
    huge = ib.place_order(aapl, MarketOrder("BUY", 10_000_000))
    await huge.done(timeout=GUARD)
    assert huge.error is not None and huge.error.code == 201
    assert huge.advanced_order_reject is not None
    assert not huge.fills


async def test_a_rejected_stop_does_not_disturb_other_orders(ib: IB) -> None:
    aapl = await _aapl(ib)
    bid, _ = await _quote(ib, aapl)
    good = ib.place_order(aapl, StopOrder("SELL", 100, round(bid * 0.5, 2)))
    bad = ib.place_order(aapl, StopOrder("SELL", 100, round(bid * 0.5, 2) + 0.003))
    await bad.done(timeout=GUARD)
    assert bad.rejected
    assert not good.is_done()


async def test_master_client_sees_every_clients_orders(sim: Simulator) -> None:
    sim.config.master_client_id = 9
    one, other, master = await _connect(sim, 1), await _connect(sim, 2), await _connect(sim, 9)
    try:
        aapl = await _aapl(one)
        bid, _ = await _quote(one, aapl)
        seen: list[Trade] = []
        master.open_order_event += seen.append
        mine = one.place_order(aapl, LimitOrder("BUY", 100, round(bid * 0.9, 2)))
        await _until(mine, OrderStatus.SUBMITTED)
        await master.current_time()  # a round trip: the sim wrote to the master before
        assert seen[0].order.perm_id == mine.order.perm_id and seen[0].order.client_id == 1
        assert other.trades() == []  # a plain client sees only its own orders
        [theirs] = await other.req_open_orders(all_clients=True)
        assert theirs.order.perm_id == mine.order.perm_id
        one.cancel_order(mine)
        await mine.done(timeout=GUARD)
        await seen[0].done(timeout=GUARD)
        assert seen[0].status == OrderStatus.CANCELLED
    finally:
        for x in (one, other, master):
            x.disconnect()
            await x.wait_closed()


async def test_a_reconnecting_client_gets_its_orders_and_fills_back(sim: Simulator) -> None:
    ib = await _connect(sim)
    aapl = await _aapl(ib)
    bid, _ = await _quote(ib, aapl)
    resting = ib.place_order(aapl, LimitOrder("BUY", 100, round(bid * 0.9, 2)))
    filled = ib.place_order(aapl, MarketOrder("BUY", 100))
    await _until(resting, OrderStatus.SUBMITTED)
    await filled.filled(timeout=GUARD)
    ib.disconnect()
    await ib.wait_closed()

    again = await _connect(sim)
    try:
        assert again.last_sync is not None and again.last_sync.complete, again.last_sync
        [open_trade] = again.open_trades()
        assert open_trade.order.perm_id == resting.order.perm_id
        assert open_trade.order.order_id == resting.order.order_id
        exec_ids = {f.execution.exec_id for f in again.fills()}
        assert exec_ids == {f.execution.exec_id for f in filled.fills}
        assert any(p.position == 100 for p in await again.positions())
        again.cancel_order(open_trade)
        await open_trade.done(timeout=GUARD)
        assert open_trade.status == OrderStatus.CANCELLED
        later = again.place_order(aapl, MarketOrder("SELL", 100))
        assert later.order.order_id > filled.order.order_id  # ids are never reused
        await later.filled(timeout=GUARD)
    finally:
        again.disconnect()
        await again.wait_closed()


async def test_a_sync_step_tws_never_ends_is_partial_not_fatal(sim: Simulator) -> None:
    sim.faults.unanswered.add(ReqExecutions)
    reports: list[object] = []
    ib = IB(sync=StartupSync(step_timeout=0.3))
    ib.partial_sync += reports.append
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, 1)
    try:
        assert ib.is_connected() and ib.last_sync is not None
        assert [s.name for s in ib.last_sync.failed()] == ["executions"]
        assert reports == [ib.last_sync]
        assert {s.name for s in ib.last_sync.steps if s.ok} >= {"open orders", "positions"}
    finally:
        ib.disconnect()
        await ib.wait_closed()
