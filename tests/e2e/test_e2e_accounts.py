# mypy: disable-error-code="unreachable"
"""Accounts, positions, portfolio and PnL through ``IB`` against the simulator.

The ``ib`` fixture connects with the default startup sync (positions and the only account's
updates), so the live account state is up when a test starts. The simulator's clock runs 50
times as fast as real time and ticks every 10 ms, so the once-a-second PnL stream updates
about every 20 ms. No sleeps: every wait is for an event, under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from aiotws import IB
from aiotws.errors import RequestError
from aiotws.model.account import AccountSummaryTags, PortfolioItem, Position
from aiotws.model.contract import Contract
from aiotws.sim import Simulator
from aiotws.sim.accounts import ledger_of, publish_account, publish_fill, seed_position

ACCT = "DU1234567"
AAPL = Contract(
    sec_type="STK", con_id=265598, symbol="AAPL", exchange="SMART", primary_exchange="NASDAQ",
    currency="USD", local_symbol="AAPL", trading_class="NMS",
)  # fmt: skip
MSFT = Contract(sec_type="STK", con_id=272093, symbol="MSFT", currency="USD")
SPEED = 50.0
GUARD = 5.0


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    t0 = time.monotonic()
    async with Simulator(
        port=0, seed=1, tick_interval=0.01, clock=lambda: t0 + (time.monotonic() - t0) * SPEED
    ) as s:
        yield s


async def until(event: Any, check: Callable[[Any], bool]) -> Any:
    """The next emission of ``event`` for which ``check`` holds."""
    fut = watch(event, check)
    async with asyncio.timeout(GUARD):
        return await fut


async def test_connect_syncs_positions_and_account(sim: Simulator) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.5)
    async with asyncio.timeout(GUARD):
        ib = await IB().connect(sim.host, sim.port, client_id=3)
    try:
        assert ib.last_sync is not None and ib.last_sync.complete
        assert ib.client.positions_active and ib.client.account_updates_active
        [p] = await ib.positions()
        assert (p.account, p.contract.con_id, p.position, p.avg_cost) == (
            ACCT,
            AAPL.con_id,
            Decimal(100),
            150.5,
        )
        [item] = ib.portfolio()
        assert (item.account, item.contract.symbol, item.position) == (ACCT, "AAPL", Decimal(100))
        tags = {v.tag for v in ib.account_values(ACCT)}
        assert {"NetLiquidation", "TotalCashValue", "BuyingPower"} <= tags
    finally:
        ib.disconnect()
        async with asyncio.timeout(GUARD):
            await ib.wait_closed()


async def test_positions_follow_fills_and_a_closed_position_goes(sim: Simulator, ib: IB) -> None:
    assert await ib.positions() == []
    item = watch(ib.portfolio_event, lambda i: i.contract.con_id == MSFT.con_id)
    got: Position = await _after(
        lambda: seed_position(sim, ACCT, MSFT, Decimal(10), 400.0),
        ib.position_event,
        lambda p: p.contract.con_id == MSFT.con_id,
    )
    assert got.position == 10
    assert [(p.contract.con_id, p.position) for p in await ib.positions(ACCT)] == [
        (MSFT.con_id, Decimal(10))
    ]
    async with asyncio.timeout(GUARD):
        first: PortfolioItem = await item
    assert first.position == 10 and first.account == ACCT
    assert [i.contract.con_id for i in ib.portfolio(ACCT)] == [MSFT.con_id]
    # closing it: removed from positions and portfolio
    ledger_of(sim).apply_fill(ACCT, MSFT, "SLD", Decimal(10), 401.0, 1.0)
    gone = watch(ib.portfolio_event, lambda i: i.position == 0)
    await _after(
        lambda: publish_fill(sim, ACCT, MSFT.con_id),
        ib.position_event,
        lambda p: p.position == 0,
    )
    async with asyncio.timeout(GUARD):
        await gone
    assert await ib.positions() == [] and ib.portfolio() == []


def watch(event: Any, check: Callable[[Any], bool]) -> asyncio.Future[Any]:
    """A future of the first emission of ``event`` for which ``check`` holds (listening now)."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on(x: Any) -> None:
        if not fut.done() and check(x):
            fut.set_result(x)
            event.disconnect(on)

    event += on
    return fut


async def _after(action: Callable[[], object], event: Any, check: Callable[[Any], bool]) -> Any:
    """Run ``action`` and wait for the first matching emission of ``event`` it causes."""
    fut = watch(event, check)
    action()
    async with asyncio.timeout(GUARD):
        return await fut


async def test_account_values_update(sim: Simulator, ib: IB) -> None:
    before = {v.tag: v.value for v in ib.account_values(ACCT) if v.currency in ("USD", "")}
    assert "NetLiquidation" in before
    ledger_of(sim).deposit(ACCT, 1000.0)
    v = await _after(
        lambda: publish_account(sim, ACCT),
        ib.account_value_event,
        lambda v: v.tag == "TotalCashValue" and v.currency == "USD",
    )
    assert float(v.value) == pytest.approx(float(before["TotalCashValue"]) + 1000.0)
    now = {x.tag: x.value for x in ib.account_values(ACCT) if x.currency == "USD"}
    assert now["TotalCashValue"] == v.value
    assert ib.client.account_update_time  # ACCT_UPDATE_TIME arrived (HH:MM)


async def test_account_summary_once_live_and_the_third_is_refused(sim: Simulator, ib: IB) -> None:
    values = await ib.account_summary(tags="NetLiquidation,BuyingPower,AccountType")
    assert {(v.account, v.tag) for v in values} == {
        (ACCT, "NetLiquidation"),
        (ACCT, "BuyingPower"),
        (ACCT, "AccountType"),
    }
    # the one-shot cancelled its subscription: two live ones fit, a third does not
    t1 = ib.subscribe_account_summary(tags=AccountSummaryTags.NET_LIQUIDATION)
    t2 = ib.subscribe_account_summary()
    async with asyncio.timeout(GUARD):
        await t1.ready()
        await t2.ready()
    assert [v.tag for v in t1] == ["NetLiquidation"]
    assert len(t2) >= 20
    with pytest.raises(RequestError) as e:
        await ib.account_summary(timeout=GUARD)
    assert e.value.code == 322
    # live: a deposit changes the summary
    ledger_of(sim).deposit(ACCT, 500.0)
    old = t1.rows[(ACCT, "NetLiquidation", "USD")].value
    await _after(lambda: publish_account(sim, ACCT), t1.updated, lambda v: v.value != old)
    assert float(t1.rows[(ACCT, "NetLiquidation", "USD")].value) == pytest.approx(
        float(old) + 500.0
    )
    ib.cancel_account_summary(t1)
    ib.cancel_account_summary(t2)
    assert t1.done and t2.done
    assert len(await ib.account_summary(tags="NetLiquidation", timeout=GUARD)) == 1


async def test_pnl_streams_and_cancels(sim: Simulator, ib: IB) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 100.0)
    pnl = ib.pnl()
    assert pnl.account == ACCT and ib.pnl(ACCT) is pnl
    seen = []
    async with asyncio.timeout(GUARD):
        await pnl.ready()
        async for p in pnl.updates():
            seen.append(p.unrealized_pnl)
            if len(seen) == 3:
                break
    assert pnl.unrealized_pnl is not None and pnl.daily_pnl is not None
    ib.cancel_pnl(pnl)
    assert pnl.done and ib.client.pnls() == []


async def test_pnl_single_held_and_not_held(sim: Simulator, ib: IB) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 100.0)
    single = ib.pnl_single(ACCT, AAPL.con_id)
    async with asyncio.timeout(GUARD):
        await single.ready()
    assert single.position == 100 and single.value is not None
    events = await until(ib.pnl_single_event, lambda s: s is single)
    assert events is single
    ib.cancel_pnl_single(single)
    assert single.done
    # a con_id the account does not hold: TWS sends nothing at all
    none = ib.pnl_single(ACCT, MSFT.con_id)
    with pytest.raises(TimeoutError):
        await none.ready(0.2)
    ib.cancel_pnl_single(ACCT, MSFT.con_id)
    assert none.done


async def test_positions_multi_and_account_updates_multi(sim: Simulator, ib: IB) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(7), 100.0)
    [p] = await ib.positions_multi(ACCT)
    assert (p.account, p.contract.con_id, p.position) == (ACCT, AAPL.con_id, Decimal(7))
    values = await ib.account_updates_multi(ACCT)
    assert "NetLiquidation" in {v.tag for v in values}
    ledger = await ib.account_updates_multi(ACCT, ledger_and_nlv=True)
    assert ledger and len(ledger) < len(values)
    table = ib.client.req_positions_multi(ACCT)
    async with asyncio.timeout(GUARD):
        await table.ready()
    assert [r.position for r in table] == [Decimal(7)]
    ib.client.cancel_positions_multi(table)


async def test_family_codes_and_user_info(sim: Simulator, ib: IB) -> None:
    codes = await ib.family_codes()
    assert [c.account_id for c in codes] == [ACCT]
    assert await ib.user_info() == ""
    sim.store["white_branding_id"] = "WB"
    assert await ib.user_info() == "WB"


async def test_unknown_accounts_are_refused(ib: IB) -> None:
    with pytest.raises(RequestError) as e:
        await ib.positions_multi("NOPE", timeout=GUARD)
    assert e.value.code == 321
    with pytest.raises(RequestError) as e:
        await ib.account_updates("NOPE", timeout=GUARD)
    assert e.value.code == 321
    assert ib.client.account_updates_account == ACCT and ib.client.account_updates_active


async def test_connection_loss_keeps_state_and_resubscribe_restores(sim: Simulator, ib: IB) -> None:
    await _after(
        lambda: seed_position(sim, ACCT, AAPL, Decimal(5), 100.0),
        ib.position_event,
        lambda p: p.contract.con_id == AAPL.con_id,
    )
    pnl = ib.pnl()
    async with asyncio.timeout(GUARD):
        await pnl.ready()
    lost = watch(ib.disconnected, lambda exc: exc is not None)
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        await lost
    c = ib.client
    assert not c.positions_active and not pnl.active and not pnl.done
    assert len(c.positions_now()) == 1 and ib.account_values()  # stale, readable
    # closed while the connection was down
    seed_position(sim, ACCT, AAPL, Decimal(0), 0.0)
    async with asyncio.timeout(GUARD):
        await c.connect(sim.host, sim.port, client_id=1)
        old = pnl.req_id
        await c.resubscribe_accounts()
    assert c.positions_active and c.account_updates_active
    assert c.positions_now() == [] and c.portfolio() == []
    assert pnl.active and pnl.req_id != old
    async with asyncio.timeout(GUARD):
        async for _ in pnl.updates():
            break
