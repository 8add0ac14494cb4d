"""Display groups, soft dollar tiers, verify/auth and delta-neutral validation, through
``IB`` / ``Client`` against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aiotws import IB, Client
from aiotws.errors import ExtraAuthRequired, RequestError, RequestTimeout
from aiotws.model import (
    Contract,
    DeltaNeutralContract,
    DisplayGroupSelection,
    LimitOrder,
    SoftDollarTier,
    VerifyOutcome,
)
from aiotws.sim import Simulator
from aiotws.sim.display import (
    DEFAULT_SOFT_DOLLAR_TIERS,
    NOT_A_VENDOR,
    display_group_of,
    set_display_group,
    set_soft_dollar_tiers,
)
from aiotws.wire.messages import display as D
from aiotws.wire.messages.orders import DeltaNeutralValidation

GUARD = 5.0
AAPL = Contract(con_id=265598, symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")


async def _connect(sim: Simulator, client_id: int, **kw: object) -> Client:
    c = Client()
    for k, v in kw.items():
        setattr(c, k, v)
    async with asyncio.timeout(GUARD):
        await c.connect(sim.host, sim.port, client_id)
    return c


@pytest.fixture
async def other(sim: Simulator) -> AsyncIterator[Client]:
    c = await _connect(sim, 2)
    yield c
    c.disconnect()
    await c.wait_closed()


async def test_display_groups_list(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        assert await ib.display_groups() == [1, 2, 3, 4, 5, 6, 7]


async def test_subscribe_update_broadcast(ib: IB, sim: Simulator, other: Client) -> None:
    set_display_group(sim, 3, "8314@SMART")
    group = ib.display_group(3)
    watcher = other.display_group(3)
    async with asyncio.timeout(GUARD):
        await group.wait_ready()
        await watcher.wait_ready()
    assert (group.contract_info, group.con_id, group.exchange) == ("8314@SMART", 8314, "SMART")
    seen: list[str] = []
    watcher.updated += lambda g: seen.append(g.contract_info)
    async with asyncio.timeout(GUARD):
        await ib.update_display_group(group, AAPL)
    assert group.con_id == 265598
    assert group.contract() == Contract(con_id=265598, exchange="SMART")
    assert display_group_of(sim, 3) == "265598@SMART"
    async with asyncio.timeout(GUARD):
        while not seen:
            await asyncio.sleep(0)  # the other connection's frame is in flight
            await other.req_managed_accounts()
    assert seen == ["265598@SMART"]
    # the user clicks in TWS: both hear of it, through the iterator too
    it = aiter(group)
    first = await anext(it)  # buffered: the initial report
    assert first == DisplayGroupSelection("8314@SMART", 8314, "SMART")
    assert (await anext(it)).con_id == 265598
    assert set_display_group(sim, 3, "none") == 2
    async with asyncio.timeout(GUARD):
        sel = await anext(it)
    assert sel.is_empty and group.con_id is None
    # an unrelated group's change reaches nobody here
    assert set_display_group(sim, 5, "combo") == 0
    ib.cancel_display_group(group)
    assert group.done
    await ib.client.req_managed_accounts()
    assert any(isinstance(m, D.UnsubscribeFromGroupEvents) for m in sim.requests)
    with pytest.raises(StopAsyncIteration):
        await anext(it)


async def test_display_group_errors(ib: IB, sim: Simulator) -> None:
    with pytest.raises(ValueError):
        ib.display_group(8)
    group = ib.display_group(1)
    await group.wait_ready(timeout=GUARD)
    with pytest.raises(ValueError):
        await group.update(Contract(symbol="AAPL"))  # not qualified
    with pytest.raises(RequestError) as e:
        await group.update("junk", timeout=GUARD)  # refused (321): the update fails ...
    assert (e.value.code, e.value.req_id) == (321, group.req_id)
    assert not group.done  # ... and the group stays subscribed
    async with asyncio.timeout(GUARD):
        await group.update(AAPL)
    assert group.con_id == 265598
    # a group that never echoes (the simulator answers nothing) times the update out
    sim.faults.unanswered.add(D.UpdateDisplayGroup)
    with pytest.raises(RequestTimeout):
        await group.update("none", timeout=0.05)


async def test_display_group_survives_a_reconnect(sim: Simulator) -> None:
    c = await _connect(sim, 5, keep_live=True)
    try:
        group = c.display_group(2)
        await group.wait_ready(timeout=GUARD)
        old_id = group.req_id
        lost: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        c.disconnected += lambda exc: lost.done() or lost.set_result(exc)
        await sim.drop_connections()
        async with asyncio.timeout(GUARD):
            await lost
        assert group.stale and not group.done
        set_display_group(sim, 2, "272093@NASDAQ")  # while away
        async with asyncio.timeout(GUARD):
            await c.connect(sim.host, sim.port, 5)
        assert c.resume_live() >= 1
        async with asyncio.timeout(GUARD):
            sel = None
            async for sel in group.updates():
                if sel.con_id == 272093:
                    break
        assert sel is not None and sel.exchange == "NASDAQ"
        assert group.req_id != old_id and not group.stale
    finally:
        c.disconnect()
        await c.wait_closed()


async def test_soft_dollar_tiers(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        assert await ib.soft_dollar_tiers() == list(DEFAULT_SOFT_DOLLAR_TIERS)
        set_soft_dollar_tiers(sim, [SoftDollarTier("A", "1", "Tier A")])
        assert await ib.soft_dollar_tiers() == [SoftDollarTier("A", "1", "Tier A")]
        set_soft_dollar_tiers(sim, [])
        assert await ib.soft_dollar_tiers() == []


async def test_verify_needs_extra_auth(ib: IB, sim: Simulator) -> None:
    c = ib.client
    for call in (
        lambda: c.verify_request("app", "1.0"),
        lambda: c.verify_message("data"),
        lambda: c.verify_and_auth_request("app", "1.0", "key"),
        lambda: c.verify_and_auth_message("data", "resp"),
    ):
        with pytest.raises(ExtraAuthRequired):
            await call()
    await c.req_managed_accounts()
    assert [type(m).__name__ for m in sim.requests] == ["ReqManagedAccts"]


async def test_verify_answered_as_for_a_non_vendor(sim: Simulator) -> None:
    c = await _connect(sim, 6, extra_auth=True)
    try:
        async with asyncio.timeout(GUARD):
            fail = VerifyOutcome(False, NOT_A_VENDOR)
            assert await c.verify_request("app", "1.0") == fail
            assert await c.verify_message("data") == fail
            assert await c.verify_and_auth_request("app", "1.0", "key") == fail
            assert await c.verify_and_auth_message("data", "resp") == fail
    finally:
        c.disconnect()
        await c.wait_closed()


async def test_delta_neutral_validation(ib: IB, sim: Simulator) -> None:
    contract = Contract(
        con_id=265598,
        symbol="AAPL",
        sec_type="STK",
        exchange="SMART",
        currency="USD",
        delta_neutral_contract=DeltaNeutralContract(con_id=265598, delta=0.123456, price=0.0),
    )
    validated: list[DeltaNeutralValidation] = []
    ib.client.on(DeltaNeutralValidation, validated.append)
    trade = ib.place_order(contract, LimitOrder("BUY", 1, 1.0))
    async with asyncio.timeout(GUARD):
        while not validated:
            await ib.client.req_managed_accounts()
    (v,) = validated
    assert v.req_id == trade.order.order_id
    inst = sim.universe.by_con_id(265598)
    assert inst is not None
    dn = trade.contract.delta_neutral_contract
    assert dn == DeltaNeutralContract(265598, 0.1235, v.price)
    assert v.price == pytest.approx(inst.price, abs=inst.tick)
    assert any("delta-neutral" in entry.message for entry in trade.log)
    # an order without one gets none
    validated.clear()
    ib.place_order(AAPL, LimitOrder("BUY", 1, 1.0))
    await ib.client.req_managed_accounts()
    assert validated == []
