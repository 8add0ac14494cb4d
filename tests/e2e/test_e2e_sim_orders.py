"""Orders against the simulator through real sockets, with the low-level ``Client``: statuses
in TWS's order, fills with their commission reports, TWS's rejections, what-if orders, the
master client, open orders replayed at reconnect, executions and completed orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from order_recorder import Recorder

from aiotws import Client, LimitOrder, MarketOrder, Stock
from aiotws.client import ErrorInfo
from aiotws.model.account import ExecutionFilter
from aiotws.model.order import Order, StopOrder, bracket
from aiotws.sim import Simulator
from aiotws.sim.accounts import ledger_of, seed_position
from aiotws.sim.marketdata import step_market
from aiotws.sim.orders import close_session, desk_of, step_orders
from aiotws.wire.messages.accounts import (
    CommissionAndFeesReport,
    ExecutionData,
    ExecutionDataEnd,
    ReqExecutions,
)
from aiotws.wire.messages.market import ReqMktData, TickPrice
from aiotws.wire.messages.orders import (
    CancelOrder,
    CompletedOrder,
    CompletedOrdersEnd,
    ExerciseOptions,
    OpenOrder,
    OpenOrderEnd,
    OrderStatusMsg,
    PlaceOrder,
    ReqAllOpenOrders,
    ReqAutoOpenOrders,
    ReqCompletedOrders,
    ReqGlobalCancel,
    ReqOpenOrders,
)

GUARD = 5.0
AAPL = Stock("AAPL", "SMART", "USD")
MSFT = Stock("MSFT", "SMART", "USD")


@pytest.fixture
async def osim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, tick_interval=0.01, master_client_id=9) as s:
        yield s


@pytest.fixture
async def connect(osim: Simulator) -> AsyncIterator[Callable[..., Any]]:
    clients: list[Client] = []

    async def open_client(client_id: int = 1) -> Recorder:
        c = Client()
        async with asyncio.timeout(GUARD):
            await c.connect(osim.host, osim.port, client_id=client_id)
        clients.append(c)
        return Recorder(c)

    yield open_client
    for c in clients:
        if c.is_connected():
            c.disconnect()
            async with asyncio.timeout(GUARD):
                await c.wait_closed()


def _is_status(oid: int, status: str) -> Callable[[Any], bool]:
    return lambda m: isinstance(m, OrderStatusMsg) and m.order_id == oid and m.status == status


async def test_limit_rests_then_cancels(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect()
    bid = osim.market.quote(265598).bid
    oid = r.place(AAPL, LimitOrder("BUY", 100, round(bid - 20, 2)))
    await r.wait(_is_status(oid, "Submitted"))
    r.client.send(CancelOrder(oid))
    await r.wait(_is_status(oid, "Cancelled"))
    err = await r.wait(lambda m: isinstance(m, ErrorInfo) and m.req_id == oid)
    assert (err.code, err.text) == (202, "Order Canceled - reason:")
    assert r.statuses(oid) == ["PreSubmitted", "Submitted", "Cancelled"]
    opens = [m for m in r.of(OpenOrder) if m.order_id == oid]
    assert [m.order_state.status for m in opens] == ["PreSubmitted", "Submitted"]
    o = opens[0]
    assert o.contract.con_id == 265598 and o.client_id == 1 and o.perm_id > 0
    assert o.account == osim.config.accounts[0] and o.total_quantity == Decimal(100)
    # cancelling again: 10148; an unknown id: 10147
    r.client.send(CancelOrder(oid))
    r.client.send(CancelOrder(oid + 1000))
    await r.sync()
    assert [e.code for e in r.errors(oid)][-1] == 10148
    assert [(e.code, e.text) for e in r.errors(oid + 1000)] == [
        (10147, f"OrderId {oid + 1000} that needs to be cancelled is not found.")
    ]


async def test_market_order_fills_with_its_commission_report(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect()
    oid = r.place(AAPL, MarketOrder("BUY", 100))
    await r.wait(_is_status(oid, "Filled"))
    await r.wait(lambda m: isinstance(m, CommissionAndFeesReport))
    [x] = r.of(ExecutionData)
    [c] = r.of(CommissionAndFeesReport)
    assert x.req_id == -1 and x.order_id == oid and x.side == "BOT"
    assert x.shares == Decimal(100) and x.cum_qty == Decimal(100) and x.price > 0
    assert x.contract.con_id == 265598 and x.client_id == 1
    assert c.exec_id == x.exec_id and c.commission == 1.0 and c.currency == "USD"
    assert c.realized_pnl is None  # an opening trade
    assert x.time.endswith("America/New_York")
    final = [m for m in r.of(OrderStatusMsg) if m.order_id == oid][-1]
    assert (final.filled, final.remaining, final.avg_fill_price) == (
        Decimal(100),
        Decimal(0),
        x.price,
    )
    assert [m.order_state.status for m in r.of(OpenOrder)][-1] == "Filled"


async def test_partial_fills_on_the_market_clock(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect()
    displayed = osim.market.quote(265598).ask_size
    oid = r.place(AAPL, MarketOrder("BUY", displayed + 500))
    await r.wait(_is_status(oid, "Filled"))
    fills = [m for m in r.of(ExecutionData) if m.order_id == oid]
    assert len(fills) >= 2 and fills[0].shares == displayed
    assert sum(f.shares or Decimal(0) for f in fills) == displayed + 500
    assert fills[-1].cum_qty == displayed + 500
    partial = [m for m in r.of(OrderStatusMsg) if m.order_id == oid and m.status == "Submitted"]
    assert any(m.filled == displayed and m.remaining == 500 for m in partial)


async def test_rejections(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect()
    # 110: off the price ladder
    bad = r.place(AAPL, LimitOrder("BUY", 10, 100.005))
    # 200: no such contract
    unknown = r.place(Stock("NOSUCHSYM", "SMART", "USD"), LimitOrder("BUY", 10, 100.0))
    ok = r.place(AAPL, LimitOrder("BUY", 10, 100.0))
    # 103: an id below one already used (a valid order this time)
    r.client.send(PlaceOrder.from_order(bad, AAPL, LimitOrder("BUY", 10, 100.0)))
    # 201: more than the account can carry
    huge = r.place(AAPL, MarketOrder("BUY", 1_000_000))
    await r.sync()
    assert [e.code for e in r.errors(bad)] == [110, 103]
    assert r.errors(bad)[0].text == (
        "The price does not conform to the minimum price variation for this contract."
    )
    assert [e.code for e in r.errors(unknown)] == [200]
    [margin] = r.errors(huge)
    assert margin.code == 201 and margin.text.startswith("Order rejected - reason:")
    assert isinstance(margin.advanced_order_reject, dict)
    assert "rejectReason" in margin.advanced_order_reject
    assert r.statuses(huge) == ["Inactive"]
    assert r.statuses(bad) == [] and r.statuses(unknown) == []
    # a modification of a live order off the ladder: a warning, the order unchanged
    mark = len(r.msgs)
    r.client.send(PlaceOrder.from_order(ok, AAPL, LimitOrder("BUY", 10, 100.001)))
    await r.sync()
    assert [e.code for e in r.errors(ok, mark)] == [110]
    live = desk_of(osim).engine.get(1, ok)
    assert live is not None and live.order.lmt_price == 100.0 and not live.done


async def test_modify_keeps_the_perm_id(connect: Any) -> None:
    r: Recorder = await connect()
    oid = r.place(AAPL, LimitOrder("BUY", 10, 100.0))
    await r.wait(_is_status(oid, "Submitted"))
    mark = len(r.msgs)
    r.client.send(PlaceOrder.from_order(oid, AAPL, LimitOrder("BUY", 20, 101.0)))
    opened = await r.wait(lambda m: isinstance(m, OpenOrder) and m.order_id == oid, mark)
    assert opened.total_quantity == Decimal(20) and opened.lmt_price == 101.0
    assert opened.perm_id == r.of(OpenOrder)[0].perm_id


async def test_what_if_answers_one_open_order_with_margins(connect: Any) -> None:
    r: Recorder = await connect()
    oid = r.place(AAPL, LimitOrder("BUY", 100, 100.0, what_if=True))
    await r.sync()
    [o] = r.of(OpenOrder)
    s = o.order_state
    assert o.order_id == oid and o.what_if and s.status == "PreSubmitted"
    assert s.init_margin_change is not None and s.init_margin_change > 0
    assert s.init_margin_before is not None
    assert s.init_margin_after == pytest.approx(s.init_margin_before + s.init_margin_change)
    assert s.equity_with_loan_before is not None and s.equity_with_loan_before > 0
    assert s.commission == 1.0 and s.commission_currency == "USD"
    assert r.of(OrderStatusMsg) == [] and r.errors(oid) == []
    await r.sync()
    r.client.send(ReqOpenOrders())
    await r.wait(lambda m: isinstance(m, OpenOrderEnd))
    assert len(r.of(OpenOrder)) == 1  # nothing was booked


async def test_master_client_sees_every_clients_orders(connect: Any) -> None:
    a: Recorder = await connect(1)
    other: Recorder = await connect(2)
    master: Recorder = await connect(9)
    oid = a.place(AAPL, MarketOrder("BUY", 10))
    await a.wait(_is_status(oid, "Filled"))
    await master.wait(_is_status(oid, "Filled"))
    await master.wait(lambda m: isinstance(m, CommissionAndFeesReport))
    assert [m.client_id for m in master.of(OpenOrder)] == [1, 1, 1]
    assert master.of(ExecutionData)[0].exec_id == a.of(ExecutionData)[0].exec_id
    await other.sync()
    assert other.of(OpenOrder) == [] and other.of(ExecutionData) == []
    # REQ_EXECUTIONS: the master sees them all, another client only its own
    for rec, expect in ((other, 0), (master, 1)):
        rec.client.send(ReqExecutions(77, ExecutionFilter()))
        await rec.wait(lambda m: isinstance(m, ExecutionDataEnd) and m.req_id == 77)
        assert len([x for x in rec.of(ExecutionData) if x.req_id == 77]) == expect
    # another client cannot cancel it: the id is not one of its orders
    resting = a.place(AAPL, LimitOrder("BUY", 10, 100.0))
    await a.wait(_is_status(resting, "Submitted"))
    other.client.send(CancelOrder(resting))
    await other.sync()
    assert [e.code for e in other.errors(resting)] == [10147]
    other.client.send(ReqAllOpenOrders())
    await other.wait(lambda m: isinstance(m, OpenOrderEnd))
    assert [m.order_id for m in other.of(OpenOrder)] == [resting]
    other.client.send(ReqAutoOpenOrders(True))
    await other.sync()
    assert [e.code for e in other.errors(-1)][-1] == 327


async def test_reconnect_replays_open_orders(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    oid = r.place(AAPL, LimitOrder("BUY", 10, 100.0))
    await r.wait(_is_status(oid, "Submitted"))
    perm = r.of(OpenOrder)[0].perm_id
    await osim.drop_connections()
    again: Recorder = await connect(1)
    # the replay may race the recorder's hookup: ask too, it answers the same way
    again.client.send(ReqOpenOrders())
    await again.wait(lambda m: isinstance(m, OpenOrderEnd))
    opens = again.of(OpenOrder)
    assert opens and {m.order_id for m in opens} == {oid} and opens[0].perm_id == perm
    assert again.statuses(oid)[0] == "Submitted"
    assert again.client._next_id > oid  # NEXT_VALID_ID moved past the used id
    again.client.send(CancelOrder(oid))
    await again.wait(_is_status(oid, "Cancelled"))


async def test_replay_at_connect(osim: Simulator) -> None:
    """The connect burst: OPEN_ORDER + ORDER_STATUS for each open order, OPEN_ORDER_END."""
    c = Client()
    seen: list[Any] = []
    for t in (OpenOrder, OrderStatusMsg, OpenOrderEnd):
        c.on(t, seen.append)
    async with asyncio.timeout(GUARD):
        await c.connect(osim.host, osim.port, client_id=3)
    oid = c.next_id()
    c.send(PlaceOrder.from_order(oid, AAPL, LimitOrder("SELL", 10, 999.0)))
    async with asyncio.timeout(GUARD):
        await c.req_managed_accounts()
    c.disconnect()
    await c.wait_closed()
    c2 = Client()
    replay: list[Any] = []
    for t in (OpenOrder, OrderStatusMsg, OpenOrderEnd):
        c2.on(t, replay.append)
    async with asyncio.timeout(GUARD):
        await c2.connect(osim.host, osim.port, client_id=3)
        await c2.req_managed_accounts()
    assert [type(m).__name__ for m in replay] == ["OpenOrder", "OrderStatusMsg", "OpenOrderEnd"]
    assert replay[0].order_id == oid
    c2.disconnect()
    await c2.wait_closed()


async def test_executions_with_filters(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    buy = r.place(AAPL, MarketOrder("BUY", 10))
    sell = r.place(AAPL, MarketOrder("SELL", 5))
    other = r.place(MSFT, MarketOrder("BUY", 3))
    for oid in (buy, sell, other):
        await r.wait(_is_status(oid, "Filled"))
    await r.sync()
    when = osim.market_time()

    async def ask(req_id: int, f: ExecutionFilter) -> list[ExecutionData]:
        mark = len(r.msgs)
        r.client.send(ReqExecutions(req_id, f))
        await r.wait(lambda m: isinstance(m, ExecutionDataEnd) and m.req_id == req_id, mark)
        got = [x for x in r.of(ExecutionData, mark) if x.req_id == req_id]
        reports = {c.exec_id for c in r.of(CommissionAndFeesReport, mark)}
        assert {x.exec_id for x in got} <= reports  # each with its commission report
        return got

    assert len(await ask(10, ExecutionFilter())) == 3
    assert {x.order_id for x in await ask(11, ExecutionFilter(symbol="AAPL"))} == {buy, sell}
    assert [x.order_id for x in await ask(12, ExecutionFilter(side="SELL"))] == [sell]
    assert [x.order_id for x in await ask(13, ExecutionFilter(sec_type="STK", side="BUY"))] == [
        buy,
        other,
    ]
    assert len(await ask(14, ExecutionFilter(acct_code="DU0000000"))) == 0
    assert len(await ask(15, ExecutionFilter(client_id=1))) == 3
    assert len(await ask(16, ExecutionFilter(client_id=2))) == 0
    later = when.replace(microsecond=0).timestamp() + 3600
    after = datetime.fromtimestamp(later, UTC)
    assert await ask(17, ExecutionFilter(time=f"{after:%Y%m%d-%H:%M:%S}")) == []
    before = datetime.fromtimestamp(later - 7200, UTC)
    assert len(await ask(18, ExecutionFilter(time=f"{before:%Y%m%d-%H:%M:%S}"))) == 3
    x = (await ask(19, ExecutionFilter(symbol="MSFT")))[0]
    assert x.contract.symbol == "MSFT" and x.shares == Decimal(3)


async def test_completed_orders(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    filled = r.place(AAPL, MarketOrder("BUY", 10))
    resting = r.place(AAPL, LimitOrder("BUY", 10, 100.0))
    await r.wait(_is_status(filled, "Filled"))
    await r.wait(_is_status(resting, "Submitted"))
    r.client.send(CancelOrder(resting))
    await r.wait(_is_status(resting, "Cancelled"))
    r.client.send(ReqCompletedOrders(False))
    await r.wait(lambda m: isinstance(m, CompletedOrdersEnd))
    done = r.of(CompletedOrder)
    assert [(m.status, m.order_type) for m in done] == [("Filled", "MKT"), ("Cancelled", "LMT")]
    assert done[0].filled_quantity == Decimal(10) and done[0].completed_time
    assert done[0].perm_id == r.of(OpenOrder)[0].perm_id


async def test_bracket_and_global_cancel(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    ask = osim.market.quote(265598).ask
    first = r.client.next_id()
    parent, tp, sl = bracket("BUY", 10, round(ask - 30, 2), round(ask + 30, 2), round(ask - 40, 2))
    parent.order_id = first
    for o in (tp, sl):
        o.parent_id = first
    r.client.send(PlaceOrder.from_order(first, AAPL, parent))
    mark = await r.sync()
    assert r.of(OpenOrder, mark) == [] and r.of(OpenOrder) == []  # held until the last child
    tp_id = r.client.next_id()
    r.client.send(PlaceOrder.from_order(tp_id, AAPL, tp))
    sl_id = r.client.next_id()
    r.client.send(PlaceOrder.from_order(sl_id, AAPL, sl))
    await r.wait(_is_status(sl_id, "PreSubmitted"))
    await r.sync()
    assert r.statuses(first) == ["PreSubmitted", "Submitted"]
    assert r.statuses(tp_id) == ["PreSubmitted"] and r.statuses(sl_id) == ["PreSubmitted"]
    stop = r.place(AAPL, StopOrder("SELL", 5, round(ask - 50, 2), tif="GTC"))
    await r.wait(_is_status(stop, "PreSubmitted"))
    r.client.send(ReqGlobalCancel())
    for oid in (first, tp_id, sl_id, stop):
        await r.wait(_is_status(oid, "Cancelled"))
    assert desk_of(osim).engine.open_orders() == []


async def test_close_runs_the_close_orders(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    moc = r.place(AAPL, Order(action="BUY", total_quantity=Decimal(10), order_type="MOC"))
    day = r.place(AAPL, LimitOrder("BUY", 10, 100.0))
    gtc = r.place(AAPL, LimitOrder("BUY", 10, 100.0, tif="GTC"))
    await r.wait(_is_status(gtc, "Submitted"))
    assert r.statuses(moc) == ["PreSubmitted"]
    close_session(osim)
    await r.wait(_is_status(moc, "Filled"))
    await r.wait(_is_status(day, "Cancelled"))
    await r.sync()
    assert r.statuses(gtc) == ["PreSubmitted", "Submitted"]


async def test_reject_json_only_from_166(osim: Simulator) -> None:
    c = Client(max_version=165)
    errors: list[ErrorInfo] = []
    c.errors += errors.append
    async with asyncio.timeout(GUARD):
        await c.connect(osim.host, osim.port, client_id=4)
    oid = c.next_id()
    c.send(PlaceOrder.from_order(oid, AAPL, MarketOrder("BUY", 1_000_000)))
    async with asyncio.timeout(GUARD):
        await c.req_managed_accounts()
    [e] = [e for e in errors if e.req_id == oid]
    assert e.code == 201 and e.advanced_order_reject is None
    c.disconnect()
    await c.wait_closed()


async def test_exercise_options(connect: Any, osim: Simulator) -> None:
    r: Recorder = await connect(1)
    account = osim.config.accounts[0]
    call = osim.universe.options_of(265598)[0].contract
    seed_position(osim, account, call, Decimal(2), 500.0)
    r.client.send(ExerciseOptions(31, call, 1, 5, account, 0))  # more than held
    r.client.send(ExerciseOptions(32, AAPL, 1, 1, account, 0))  # not an option
    r.client.send(ExerciseOptions(33, call, 1, 1, account, 0))
    await r.sync()
    assert [e.code for e in r.errors(31)] == [321] and [e.code for e in r.errors(32)] == [321]
    assert r.errors(33) == []
    legs = [(x.contract.con_id, x.side, x.shares, x.price) for x in r.of(ExecutionData)]
    assert legs == [
        (call.con_id, "SLD", Decimal(1), 0.0),
        (265598, "BOT", Decimal(100), call.strike),
    ]
    ledger = ledger_of(osim)
    assert ledger.position(account, call.con_id) == Decimal(1)
    assert ledger.position(account, 265598) == Decimal(100)


async def test_the_clock_moves_instruments_with_orders_once_per_tick() -> None:
    async with Simulator(port=0, seed=1, tick_interval=0) as sim:  # no clock: we step it
        c = Client()
        ticks: list[TickPrice] = []
        c.on(TickPrice, ticks.append)
        async with asyncio.timeout(GUARD):
            await c.connect(sim.host, sim.port, client_id=1)
        oid = c.next_id()
        c.send(PlaceOrder.from_order(oid, MSFT, LimitOrder("BUY", 10, 1.0)))
        async with asyncio.timeout(GUARD):
            await c.req_managed_accounts()
        con_id = desk_of(sim).engine.live_con_ids()[0]
        s0 = sim.market.serial(con_id)
        step_market(sim)
        step_orders(sim)  # nobody else moved it: the order desk does
        assert sim.market.serial(con_id) == s0 + 1
        c.send(ReqMktData(7, MSFT))
        async with asyncio.timeout(GUARD):
            await c.req_managed_accounts()
        s1 = sim.market.serial(con_id)
        step_market(sim)  # the subscription moves it ...
        step_orders(sim)  # ... and the desk does not move it again
        assert sim.market.serial(con_id) == s1 + 1
        c.disconnect()
        await c.wait_closed()
