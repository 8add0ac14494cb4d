"""Financial advisors end to end: ``IB`` against an advisor-login simulator on loopback.

Reading and replacing groups (the replaced groups are read back, and survive a restart),
aliases, legacy profiles below 177 and their refusal from 177, a non-FA login refused with
TWS's 321, and FA orders over a three-account group: EqualQuantity and NetLiq allocations
whose per-account positions add up to the order and match the method.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from aiotws import IB, MarketOrder, Order, Stock
from aiotws.errors import RequestError, UnsupportedByServer
from aiotws.model.advisor import FaAlias, FaDataType, FaGroup, FaMethod, FaProfileType
from aiotws.sim import Simulator
from aiotws.sim.accounts import ledger_of
from aiotws.sim.advisor import (
    NON_FA_TEXT,
    REPLACED_TEXT,
    apportion,
    fa_book_of,
    register_allocation,
    split_fill,
)

GUARD = 5.0

MASTER = "DF1234567"
CLIENTS = ("DU1234568", "DU1234569", "DU1234570")
ACCOUNTS = (MASTER, *CLIENTS)
D = Decimal


async def _connect(sim: Simulator, client_id: int = 1) -> IB:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=client_id)
    return ib


@pytest.fixture
async def fa_sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, accounts=ACCOUNTS, tick_interval=0.01) as s:
        yield s


@pytest.fixture
async def fa_ib(fa_sim: Simulator) -> AsyncIterator[IB]:
    ib = await _connect(fa_sim)
    yield ib
    ib.disconnect()


async def test_read_seeded_groups_and_aliases(fa_ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        groups = await fa_ib.fa_groups()
        aliases = await fa_ib.fa_aliases()
    by_name = {g.name: g for g in groups}
    assert by_name["Everyone"].method is FaMethod.AVAILABLE_EQUITY
    assert by_name["EqualSplit"].accounts == list(CLIENTS)
    assert by_name["Split6040"].amounts() == {CLIENTS[0]: D(60), CLIENTS[1]: D(40)}
    assert aliases[0] == FaAlias(MASTER, "Advisor")
    assert [a.alias for a in aliases[1:]] == ["Client 1", "Client 2", "Client 3"]
    raw = await fa_ib.request_fa(FaDataType.GROUPS)
    assert raw.lstrip().startswith("<?xml") and "<ListOfGroups>" in raw


async def test_concurrent_reads_get_their_own_kind(fa_ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        groups, aliases = await asyncio.gather(
            fa_ib.request_fa(FaDataType.GROUPS), fa_ib.request_fa(FaDataType.ALIASES)
        )
    assert "<ListOfGroups>" in groups and "<ListOfAccountAliases>" in aliases


async def test_replace_groups_then_read_back(fa_sim: Simulator, fa_ib: IB) -> None:
    new = [
        FaGroup.of("Growth & Income", FaMethod.RATIO, {CLIENTS[0]: 1, CLIENTS[2]: 3}),
        FaGroup.of("Pair", FaMethod.EQUAL, CLIENTS[:2]),
    ]
    async with asyncio.timeout(GUARD):
        text = await fa_ib.replace_fa_groups(new)
        back = await fa_ib.fa_groups()
    assert text == REPLACED_TEXT
    assert [(g.name, g.method, g.accounts) for g in back] == [
        ("Growth & Income", FaMethod.RATIO, [CLIENTS[0], CLIENTS[2]]),
        ("Pair", FaMethod.EQUAL, list(CLIENTS[:2])),
    ]
    assert back[0].amounts() == {CLIENTS[0]: D(1), CLIENTS[2]: D(3)}
    # the configuration survives TWS's restart
    fa_ib.disconnect()
    await fa_sim.restart()
    ib2 = await _connect(fa_sim, 2)
    try:
        async with asyncio.timeout(GUARD):
            assert [g.name for g in await ib2.fa_groups()] == ["Growth & Income", "Pair"]
    finally:
        ib2.disconnect()


async def test_replace_refusals(fa_ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError) as e:
            await fa_ib.replace_fa_groups([FaGroup.of("X", FaMethod.NET_LIQ, ["DU9999999"])])
        assert e.value.code == 10231 and "DU9999999" in e.value.message
        with pytest.raises(RequestError) as e:
            await fa_ib.replace_fa(FaDataType.GROUPS, "<ListOfGroups><Group>")
        assert e.value.code == 321 and "Invalid FA XML" in e.value.message
        with pytest.raises(RequestError) as e:
            await fa_ib.replace_fa(FaDataType.ALIASES, "<ListOfAccountAliases/>")
        assert e.value.code == 321
        # still the seeded groups
        assert "Everyone" in [g.name for g in await fa_ib.fa_groups()]
    # refused before the wire
    with pytest.raises(ValueError, match="needs an amount"):
        await fa_ib.replace_fa_groups([FaGroup.of("P", FaMethod.PERCENT, CLIENTS)])
    with pytest.raises(ValueError, match="two FA groups"):
        g = FaGroup.of("P", FaMethod.NET_LIQ, CLIENTS)
        await fa_ib.replace_fa_groups([g, g])


async def test_profiles_refused_from_177(fa_ib: IB) -> None:
    assert fa_ib.client.server_version >= 177
    with pytest.raises(UnsupportedByServer) as e:
        await fa_ib.fa_profiles()
    assert e.value.removed and e.value.needed == 177


async def test_profiles_and_legacy_groups_below_177() -> None:
    async with Simulator(port=0, seed=1, accounts=ACCOUNTS, max_version=176) as sim:
        ib = await _connect(sim)
        try:
            async with asyncio.timeout(GUARD):
                groups = await ib.fa_groups()
                profiles = await ib.fa_profiles()
                raw = await ib.request_fa(FaDataType.GROUPS)
                assert "<String>" in raw and "EqualQuantity" in raw
                # the user-specified methods are profiles here
                assert "Split6040" not in [g.name for g in groups]
                assert {g.name: g.method for g in groups}["EqualSplit"] is FaMethod.EQUAL_QUANTITY
                [p] = profiles
                assert (p.name, p.type) == ("Split6040", FaProfileType.PERCENTAGES)
                # replacing groups keeps the profiles; written in the legacy shape
                await ib.replace_fa_groups([FaGroup.of("Two", FaMethod.NET_LIQ, CLIENTS[1:])])
                assert [g.name for g in await ib.fa_groups()] == ["Two"]
                assert [p.name for p in await ib.fa_profiles()] == ["Split6040"]
                with pytest.raises(ValueError, match="legacy"):
                    await ib.replace_fa_groups([FaGroup.of("R", FaMethod.RATIO, {CLIENTS[0]: 1})])
        finally:
            ib.disconnect()
    assert [g.name for g in fa_book_of(sim).groups] == ["Two", "Split6040"]


async def test_non_fa_login_is_refused(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError) as e:
            await ib.fa_groups()
        assert (e.value.code, e.value.message, e.value.req_id) == (321, NON_FA_TEXT, -1)
        with pytest.raises(RequestError) as e:
            await ib.replace_fa_groups([FaGroup.of("G", FaMethod.NET_LIQ, ["DU1234567"])])
        assert e.value.code == 321 and e.value.req_id >= 0
        # the connection goes on
        await ib.client.current_time()


async def _fa_fill(ib: IB, group: str, qty: int, method: str = "") -> dict[str, Decimal]:
    [aapl] = await ib.qualify(Stock("AAPL", "SMART", "USD"))
    trade = ib.place_fa_order(aapl, MarketOrder("BUY", qty), group, method)
    async with asyncio.timeout(GUARD):
        await trade.filled()
    assert trade.filled_quantity() == qty
    by_acct: dict[str, Decimal] = {}
    for f in trade.fills:
        assert f.execution.perm_id == trade.order.perm_id
        assert f.execution.order_id == trade.order.order_id
        by_acct[f.execution.acct_number] = (
            by_acct.get(f.execution.acct_number, D(0)) + f.execution.shares
        )
    assert sum(by_acct.values()) == qty
    async with asyncio.timeout(GUARD):
        positions = await ib.positions()
    held = {p.account: p.position for p in positions if p.contract.con_id == aapl.con_id}
    assert held == by_acct  # positions are booked per client account, none on the master
    return by_acct


async def test_fa_order_equal_quantity(fa_ib: IB) -> None:
    got = await _fa_fill(fa_ib, "EqualSplit", 100)
    # 100 over 3: 33 each, the one left to the first account
    assert got == {CLIENTS[0]: D(34), CLIENTS[1]: D(33), CLIENTS[2]: D(33)}


async def test_fa_order_net_liq(fa_sim: Simulator, fa_ib: IB) -> None:
    ledger = ledger_of(fa_sim)
    ledger.deposit(CLIENTS[1], 1_000_000.0)  # 2 M
    ledger.deposit(CLIENTS[2], 3_000_000.0)  # 4 M
    got = await _fa_fill(fa_ib, "ByNetLiq", 700)
    assert got == {CLIENTS[0]: D(100), CLIENTS[1]: D(200), CLIENTS[2]: D(400)}
    # account values follow per account: stock value in each client, none in the master
    for a in CLIENTS:
        assert ledger.totals(a).stock_value > 0
    assert ledger.totals(MASTER).stock_value == 0


async def test_fa_order_method_override_and_contracts(fa_sim: Simulator, fa_ib: IB) -> None:
    # the group's own method is AvailableEquity; the order asks for EqualQuantity
    got = await _fa_fill(fa_ib, "Everyone", 10, "EqualQuantity")
    assert got == {CLIENTS[0]: D(4), CLIENTS[1]: D(3), CLIENTS[2]: D(3)}
    async with asyncio.timeout(GUARD):
        await fa_ib.replace_fa_groups(
            [FaGroup.of("Fixed", FaMethod.CONTRACTS_OR_SHARES, {CLIENTS[0]: 5, CLIENTS[2]: 7})]
        )
    [aapl] = await fa_ib.qualify(Stock("AAPL", "SMART", "USD"))
    # no size: ContractsOrShares computes it (the sum of the amounts)
    trade = fa_ib.place_fa_order(aapl, Order(action="BUY", order_type="MKT"), "Fixed")
    async with asyncio.timeout(GUARD):
        await trade.filled()
    assert sorted((f.execution.acct_number, f.execution.shares) for f in trade.fills) == [
        (CLIENTS[0], D(5)),
        (CLIENTS[2], D(7)),
    ]


async def test_fa_order_refusals(fa_ib: IB, ib: IB) -> None:
    [aapl] = await fa_ib.qualify(Stock("AAPL", "SMART", "USD"))
    with pytest.raises(ValueError, match="only for fa_method PctChange"):
        fa_ib.place_fa_order(aapl, MarketOrder("BUY", 10), "Everyone", "NetLiq", "10")
    trade = fa_ib.place_fa_order(aapl, MarketOrder("BUY", 10), "NoSuchGroup")
    async with asyncio.timeout(GUARD):
        await trade.done()
    assert trade.error is not None and trade.error.code == 321
    assert "NoSuchGroup" in trade.error.message
    # an FA order on a login that is not an advisor's: TWS's call, and it refuses
    [aapl2] = await ib.qualify(Stock("AAPL", "SMART", "USD"))
    t2 = ib.place_fa_order(aapl2, MarketOrder("BUY", 10), "Everyone")
    async with asyncio.timeout(GUARD):
        await t2.done()
    assert t2.error is not None and t2.error.code == 321


async def test_account_summary_of_an_fa_group(fa_ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        await fa_ib.replace_fa_groups([FaGroup.of("Two", FaMethod.NET_LIQ, CLIENTS[:2])])
        rows = await fa_ib.account_summary("Two", "NetLiquidation")
        everyone = await fa_ib.account_summary("All", "NetLiquidation")
        with pytest.raises(RequestError) as e:
            await fa_ib.account_summary("NoSuchGroup", "NetLiquidation")
    assert {r.account for r in rows} == set(CLIENTS[:2])
    assert {r.account for r in everyone} == set(ACCOUNTS)
    assert e.value.code == 321


def test_apportion_rules() -> None:
    # IB's EqualQuantity example: 400 over six accounts is 66 each, then one more in turn
    six = {f"A{i}": D(1) for i in range(6)}
    assert list(apportion(D(400), six).values()) == [D(67)] * 4 + [D(66)] * 2
    # IB's NetLiq example: 25k / 50k / 100k is 1:2:4 of 700
    assert apportion(D(700), {"A": D(25_000), "B": D(50_000), "C": D(100_000)}) == {
        "A": D(100), "B": D(200), "C": D(400),
    }  # fmt: skip
    # fractional sizes split in their smallest step; zero weights get nothing
    assert apportion(D("1.5"), {"A": D(1), "B": D(1), "C": D(0)}) == {
        "A": D("0.8"), "B": D("0.7"), "C": D("0.0"),
    }  # fmt: skip
    with pytest.raises(ValueError):
        apportion(D(10), {"A": D(0)})


async def test_partial_fills_stay_on_the_plan() -> None:
    sim = Simulator(accounts=ACCOUNTS)
    register_allocation(sim, 77, {CLIENTS[0]: D(50), CLIENTS[1]: D(30), CLIENTS[2]: D(20)})
    parts = [dict(split_fill(sim, 77, D(q))) for q in (10, 35, 55)]
    assert parts[0] == {CLIENTS[0]: D(5), CLIENTS[1]: D(3), CLIENTS[2]: D(2)}
    totals = {a: sum((p.get(a, D(0)) for p in parts), D(0)) for a in CLIENTS}
    assert totals == {CLIENTS[0]: D(50), CLIENTS[1]: D(30), CLIENTS[2]: D(20)}
    assert split_fill(sim, 78, D(5)) == []  # not an FA order
