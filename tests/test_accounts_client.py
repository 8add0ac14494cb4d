# mypy: disable-error-code="unreachable,comparison-overlap"
"""The client's live account state, fed decoded messages without a socket.

A ``Client`` is put in the connected state with ``send`` replaced by a list, so each test
sees exactly what would go to TWS and feeds TWS's answers through ``on_messages``, as the
transport would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from aiotws import IB, Stock
from aiotws.client import Client, ClientState
from aiotws.errors import ConnectionLost, RequestError, RequestTimeout
from aiotws.model.account import (
    AccountValue,
    FamilyCode,
    PnL,
    PnLSingle,
    PortfolioItem,
    Position,
)
from aiotws.model.contract import Contract
from aiotws.portfolio import LivePnL, LivePnLSingle
from aiotws.wire.layout import InMessage, OutMessage
from aiotws.wire.messages import ErrMsg
from aiotws.wire.messages.accounts import (
    AccountSummary,
    AccountSummaryEnd,
    AccountUpdateMulti,
    AccountUpdateMultiEnd,
    AcctDownloadEnd,
    AcctUpdateTime,
    AcctValue,
    CancelAccountSummary,
    CancelAccountUpdatesMulti,
    CancelPnl,
    CancelPnlSingle,
    CancelPositions,
    CancelPositionsMulti,
    FamilyCodes,
    Pnl,
    PnlSingle,
    PortfolioValue,
    PositionData,
    PositionEnd,
    PositionMulti,
    PositionMultiEnd,
    ReqAccountSummary,
    ReqAccountUpdatesMulti,
    ReqAcctData,
    ReqFamilyCodes,
    ReqPnl,
    ReqPnlSingle,
    ReqPositions,
    ReqPositionsMulti,
    ReqUserInfo,
    UserInfo,
)

GUARD = 2.0
AAPL = Contract(con_id=265598, symbol="AAPL", sec_type="STK", currency="USD")
MSFT = Contract(con_id=272093, symbol="MSFT", sec_type="STK", currency="USD")

T = TypeVar("T")


def connected(accounts: tuple[str, ...] = ("DU1",)) -> tuple[Client, list[OutMessage]]:
    c = Client()
    sent: list[OutMessage] = []
    c.state = ClientState.CONNECTED
    c.send = sent.append  # type: ignore[method-assign,assignment]
    c.managed_accounts = accounts
    return c, sent


def feed(c: Client, *msgs: InMessage) -> None:
    c.on_messages(list(msgs))


async def start(aw: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``aw`` as a task up to its first wait (it has sent its request by then)."""
    t: asyncio.Task[T] = asyncio.ensure_future(aw)
    await asyncio.sleep(0)
    return t


async def done(t: asyncio.Task[T]) -> T:
    async with asyncio.timeout(GUARD):
        return await t


def lose(c: Client) -> None:
    """The connection goes (TWS closed it)."""
    c.on_connection_lost(None)


def reconnect(c: Client, sent: list[OutMessage]) -> None:
    c.state = ClientState.CONNECTED
    sent.clear()


def pos(account: str, contract: Contract, qty: int | str, cost: float = 10.0) -> PositionData:
    return PositionData(account, contract, Decimal(qty), cost)


def pv(account: str, contract: Contract, qty: int, price: float = 100.0) -> PortfolioValue:
    return PortfolioValue(
        contract, Decimal(qty), price, price * qty, 90.0, None, 1.5, account_name=account
    )


# -- positions ----------------------------------------------------------------------------


async def test_sync_positions_waits_for_position_end_and_keeps_a_live_cache() -> None:
    c, sent = connected()
    seen: list[Position] = []
    c.position_event += seen.append
    t = await start(c.sync_positions())
    assert sent == [ReqPositions()]
    assert not c.positions_active
    feed(c, pos("DU1", AAPL, 100), pos("DU2", AAPL, "0.5"), pos("DU1", MSFT, -20))
    assert not t.done()
    feed(c, PositionEnd())
    got = await done(t)
    assert [(p.account, p.contract.con_id, p.position) for p in got] == [
        ("DU1", AAPL.con_id, Decimal(100)),
        ("DU2", AAPL.con_id, Decimal("0.5")),
        ("DU1", MSFT.con_id, Decimal(-20)),
    ]
    assert len(seen) == 3 and c.positions_active
    assert [p.contract.symbol for p in c.positions_now("DU1")] == ["AAPL", "MSFT"]
    # a second call answers from the cache, nothing sent
    assert await c.sync_positions() == got
    assert sent == [ReqPositions()]
    # an update replaces in place; a position going to 0 is removed (with its event)
    feed(c, pos("DU1", AAPL, 150, 11.0), pos("DU1", MSFT, 0))
    assert [(p.contract.symbol, p.position, p.avg_cost) for p in c.positions_now("DU1")] == [
        ("AAPL", Decimal(150), 11.0)
    ]
    assert seen[-1].position == 0 and seen[-1].contract.symbol == "MSFT"


async def test_concurrent_sync_positions_share_one_subscription() -> None:
    c, sent = connected()
    t1 = await start(c.sync_positions())
    t2 = await start(c.sync_positions())
    feed(c, pos("DU1", AAPL, 1), PositionEnd())
    assert await done(t1) == await done(t2)
    assert sent == [ReqPositions()]


async def test_sync_positions_timeout_keeps_the_subscription() -> None:
    c, sent = connected()
    with pytest.raises(RequestTimeout):
        await c.sync_positions(timeout=0.01)
    t = await start(c.sync_positions())
    feed(c, pos("DU1", AAPL, 5), PositionEnd())
    assert len(await done(t)) == 1
    assert sent == [ReqPositions()]


async def test_cancel_positions() -> None:
    c, sent = connected()
    t = await start(c.sync_positions())
    feed(c, pos("DU1", AAPL, 5), PositionEnd())
    await done(t)
    c.cancel_positions()
    assert sent == [ReqPositions(), CancelPositions()]
    assert not c.positions_active and len(c.positions_now()) == 1  # stale, still readable


# -- account updates -----------------------------------------------------------------------


async def test_sync_account_updates_fills_values_and_portfolio() -> None:
    c, sent = connected()
    values: list[AccountValue] = []
    items: list[PortfolioItem] = []
    times: list[str] = []
    c.account_value_event += values.append
    c.portfolio_event += items.append
    c.account_time_event += times.append
    t = await start(c.sync_account_updates("DU1"))
    assert sent == [ReqAcctData(True, "DU1")]
    feed(
        c,
        AcctValue("NetLiquidation", "100000.00", "USD", "DU1"),
        AcctValue("AccountType", "INDIVIDUAL", "", "DU1"),
        AcctValue("NetLiquidation", "90000.00", "USD", "DU1"),  # replaces by key
        pv("DU1", AAPL, 100),
        pv("DU1", MSFT, 10),
        AcctUpdateTime("14:35"),
    )
    assert not t.done()
    feed(c, AcctDownloadEnd("DU1"))
    await done(t)
    assert c.account_updates_active and c.account_updates_account == "DU1"
    assert {(v.tag, v.value) for v in c.account_values()} == {
        ("NetLiquidation", "90000.00"),
        ("AccountType", "INDIVIDUAL"),
    }
    assert c.account_values("DU2") == []
    assert [
        (p.contract.symbol, p.position, p.realized_pnl, p.unrealized_pnl) for p in c.portfolio()
    ] == [
        ("AAPL", Decimal(100), 1.5, None),
        ("MSFT", Decimal(10), 1.5, None),
    ]
    assert len(values) == 3 and len(items) == 2 and times == ["14:35"]
    assert c.account_update_time == "14:35"
    # idempotent: the same account (or "") sends nothing
    await c.sync_account_updates("DU1")
    await c.sync_account_updates()
    assert sent == [ReqAcctData(True, "DU1")]
    # a portfolio item going to 0 is removed
    feed(c, pv("DU1", MSFT, 0))
    assert [p.contract.symbol for p in c.portfolio("DU1")] == ["AAPL"]
    assert items[-1].position == 0


async def test_another_account_replaces_the_subscription_and_its_state() -> None:
    c, sent = connected(("DU1", "DU2"))
    t = await start(c.sync_account_updates("DU1"))
    feed(c, AcctValue("NetLiquidation", "1", "USD", "DU1"), pv("DU1", AAPL, 1))
    feed(c, AcctDownloadEnd("DU1"))
    await done(t)
    removed: list[PortfolioItem] = []
    c.portfolio_event += removed.append
    t = await start(c.sync_account_updates("DU2"))
    assert sent[-1] == ReqAcctData(True, "DU2")
    feed(c, AcctDownloadEnd("DU1"))  # a late end of the old subscription: ignored
    assert not t.done()
    feed(c, AcctValue("NetLiquidation", "2", "USD", "DU2"), AcctDownloadEnd("DU2"))
    await done(t)
    assert [(v.account, v.value) for v in c.account_values()] == [("DU2", "2")]
    assert c.portfolio() == [] and removed[-1].position == 0
    c.cancel_account_updates()
    assert sent[-1] == ReqAcctData(False, "DU2")
    assert not c.account_updates_active


async def test_unknown_account_fails_the_sync_with_321() -> None:
    c, sent = connected()
    t = await start(c.sync_account_updates("NOPE"))
    feed(c, ErrMsg(-1, 321, "Error validating request.-'bB' : cause - Invalid account code: NOPE"))
    with pytest.raises(RequestError) as e:
        await done(t)
    assert e.value.code == 321 and not c.account_updates_active
    assert c.account_updates_account is None
    # with a live subscription: TWS keeps it, so does the client
    t = await start(c.sync_account_updates("DU1"))
    feed(c, AcctDownloadEnd("DU1"))
    await done(t)
    t = await start(c.sync_account_updates("NOPE"))
    feed(c, ErrMsg(-1, 321, "Error validating request.-'bB' : cause - Invalid account code: NOPE"))
    with pytest.raises(RequestError):
        await done(t)
    assert c.account_updates_active and c.account_updates_account == "DU1"
    n = len(sent)
    await c.sync_account_updates("DU1")
    assert len(sent) == n


# -- connection loss -----------------------------------------------------------------------


async def test_loss_keeps_stale_state_and_resubscribe_sweeps_it() -> None:
    c, sent = connected()
    t = await start(c.sync_positions())
    feed(c, pos("DU1", AAPL, 1), pos("DU1", MSFT, 2), PositionEnd())
    await done(t)
    t2 = await start(c.sync_account_updates())
    feed(c, AcctValue("Cash", "5", "USD", "DU1"), pv("DU1", AAPL, 1), AcctDownloadEnd("DU1"))
    await done(t2)
    lose(c)
    assert not c.positions_active and not c.account_updates_active
    assert len(c.positions_now()) == 2 and len(c.portfolio()) == 1  # stale, readable
    reconnect(c, sent)
    gone: list[Position] = []
    c.position_event += gone.append
    t3 = await start(c.resubscribe_accounts())
    assert sent == [ReqPositions(), ReqAcctData(True, "")]
    # MSFT was closed while the connection was down: the new full set does not mention it
    feed(c, pos("DU1", AAPL, 1), PositionEnd())
    feed(c, AcctValue("Cash", "6", "USD", "DU1"), AcctDownloadEnd("DU1"))
    await done(t3)
    assert [p.contract.symbol for p in c.positions_now()] == ["AAPL"]
    assert gone[-1].contract.symbol == "MSFT" and gone[-1].position == 0
    assert c.portfolio() == []  # not in the new set either
    assert [v.value for v in c.account_values()] == ["6"]


async def test_loss_fails_a_waiting_sync() -> None:
    c, _ = connected()
    t = await start(c.sync_positions())
    lose(c)
    with pytest.raises(ConnectionLost):
        await done(t)


# -- account summary -----------------------------------------------------------------------


async def test_account_summary_one_shot_collects_until_end_and_cancels() -> None:
    c, sent = connected()
    t = await start(c.account_summary(tags="NetLiquidation,BuyingPower"))
    [req] = sent
    assert isinstance(req, ReqAccountSummary)
    assert (req.group_name, req.tags) == ("All", "NetLiquidation,BuyingPower")
    rid = req.req_id
    feed(
        c,
        AccountSummary(rid, "DU1", "NetLiquidation", "100.5", "USD"),
        AccountSummary(rid, "DU1", "BuyingPower", "400", "USD"),
        AccountSummaryEnd(rid),
    )
    got = await done(t)
    assert got == [
        AccountValue("DU1", "NetLiquidation", "100.5", "USD"),
        AccountValue("DU1", "BuyingPower", "400", "USD"),
    ]
    assert sent[-1] == CancelAccountSummary(rid)


async def test_account_summary_322_raises_request_error() -> None:
    c, sent = connected()
    t = await start(c.account_summary())
    rid = sent[0].req_id  # type: ignore[attr-defined]
    feed(c, ErrMsg(rid, 322, "Maximum number of account summary requests exceeded"))
    with pytest.raises(RequestError) as e:
        await done(t)
    assert e.value.code == 322 and e.value.req_id == rid


async def test_live_account_summary_table() -> None:
    c, sent = connected()
    table = c.req_account_summary("All", "NetLiquidation")
    assert sent == [ReqAccountSummary(table.req_id, "All", "NetLiquidation")]
    seen: list[AccountValue] = []
    table.updated += seen.append
    it = table.updates()
    waiter = await start(table.ready())
    feed(c, AccountSummary(table.req_id, "DU1", "NetLiquidation", "1", "USD"))
    assert not waiter.done() and not table.synced
    feed(c, AccountSummaryEnd(table.req_id))
    assert await done(waiter) is table
    assert await anext(it) is table
    feed(c, AccountSummary(table.req_id, "DU1", "NetLiquidation", "2", "USD"))
    assert [v.value for v in table.values()] == ["2"] and len(table) == 1
    assert [v.value for v in seen] == ["1", "2"]
    assert table.rows[("DU1", "NetLiquidation", "USD")].value == "2"
    c.cancel_account_summary(table)
    assert sent[-1] == CancelAccountSummary(table.req_id) and table.done
    async with asyncio.timeout(GUARD):
        assert [x async for x in it] == []


async def test_live_table_rejected_ends_with_the_error() -> None:
    c, _ = connected()
    table = c.req_account_summary()
    it = table.updates()
    feed(c, ErrMsg(table.req_id, 322, "Maximum number of account summary requests exceeded"))
    assert table.done and table.errors[0].code == 322
    with pytest.raises(RequestError):
        await table.ready()
    with pytest.raises(RequestError):
        async with asyncio.timeout(GUARD):
            await anext(it)
    assert c.account_subscriptions() == []


# -- multi --------------------------------------------------------------------------------


async def test_positions_multi_one_shot_and_live() -> None:
    c, sent = connected()
    t = await start(c.positions_multi("DU1", "M1"))
    req = sent[0]
    assert isinstance(req, ReqPositionsMulti) and (req.account, req.model_code) == ("DU1", "M1")
    feed(
        c,
        PositionMulti(req.req_id, "DU1", AAPL, Decimal(3), 1.0, "M1"),
        PositionMulti(req.req_id, "DU1", MSFT, Decimal(0), 0.0, "M1"),  # closed today: left out
        PositionMultiEnd(req.req_id),
    )
    got = await done(t)
    assert got == [Position("DU1", AAPL, Decimal(3), 1.0, "M1")]
    assert sent[-1] == CancelPositionsMulti(req.req_id)

    table = c.req_positions_multi("DU1")
    rid = table.req_id
    feed(c, PositionMulti(rid, "DU1", AAPL, Decimal(3), 1.0), PositionMultiEnd(rid))
    assert table.synced and len(table) == 1
    feed(c, PositionMulti(rid, "DU1", AAPL, Decimal(0), 1.0))
    assert len(table) == 0
    c.cancel_positions_multi(table)
    assert sent[-1] == CancelPositionsMulti(rid)


async def test_account_updates_multi_one_shot_and_live() -> None:
    c, sent = connected()
    t = await start(c.account_updates_multi("DU1", "", True))
    req = sent[0]
    assert isinstance(req, ReqAccountUpdatesMulti) and req.ledger_and_nlv
    feed(
        c,
        AccountUpdateMulti(req.req_id, "DU1", "", "NetLiquidation", "5", "USD"),
        AccountUpdateMultiEnd(req.req_id),
    )
    assert await done(t) == [AccountValue("DU1", "NetLiquidation", "5", "USD", "")]
    assert sent[-1] == CancelAccountUpdatesMulti(req.req_id)
    table = c.req_account_updates_multi("DU1", "M1")
    feed(
        c,
        AccountUpdateMulti(table.req_id, "DU1", "M1", "Cash", "5", "USD"),
        AccountUpdateMultiEnd(table.req_id),
    )
    assert table.rows[("DU1", "Cash", "USD", "M1")].value == "5"
    c.cancel_account_updates_multi(table)
    assert sent[-1] == CancelAccountUpdatesMulti(table.req_id)


# -- PnL ----------------------------------------------------------------------------------


async def test_pnl_is_live_and_updated_in_place() -> None:
    c, sent = connected()
    events: list[LivePnL] = []
    c.pnl_event += events.append
    pnl = c.req_pnl("DU1")
    assert isinstance(pnl, PnL) and pnl.daily_pnl is None
    assert sent == [ReqPnl(pnl.req_id, "DU1", "")]
    assert c.req_pnl("DU1") is pnl and len(sent) == 1  # the same subscription
    mine: list[LivePnL] = []
    pnl.updated += mine.append
    it = pnl.updates()
    ready = await start(pnl.ready())
    feed(c, Pnl(pnl.req_id, 12.5, None, 3.0))
    assert await done(ready) is pnl
    assert (pnl.daily_pnl, pnl.unrealized_pnl, pnl.realized_pnl) == (12.5, None, 3.0)
    assert await anext(it) is pnl
    feed(c, Pnl(pnl.req_id, 13.0, 1.0, 3.0))
    feed(c, Pnl(pnl.req_id, 14.0, 1.0, 3.0))  # a slow consumer sees only the latest state
    assert await anext(it) is pnl and pnl.daily_pnl == 14.0
    assert events == [pnl, pnl, pnl] and mine == events
    assert pnl.record() == PnL("DU1", "", 14.0, 1.0, 3.0)
    assert c.pnls() == [pnl]
    c.cancel_pnl(pnl)
    assert sent[-1] == CancelPnl(pnl.req_id) and pnl.done and not pnl.active
    async with asyncio.timeout(GUARD):
        assert [x async for x in it] == []
    feed(c, Pnl(pnl.req_id, 99.0, 1.0, 3.0))  # late: dropped
    assert pnl.daily_pnl == 14.0 and c.pnls() == []
    assert c.req_pnl("DU1") is not pnl


async def test_pnl_single() -> None:
    c, sent = connected()
    single = c.req_pnl_single("DU1", AAPL.con_id)
    assert isinstance(single, PnLSingle) and isinstance(single, LivePnLSingle)
    assert sent == [ReqPnlSingle(single.req_id, "DU1", "", AAPL.con_id)]
    events: list[LivePnLSingle] = []
    c.pnl_single_event += events.append
    feed(c, PnlSingle(single.req_id, Decimal(100), 1.0, 2.0, None, 15000.0))
    assert (single.position, single.daily_pnl, single.realized_pnl, single.value) == (
        Decimal(100),
        1.0,
        None,
        15000.0,
    )
    assert events == [single]
    assert c.pnl_singles() == [single]
    c.cancel_pnl_single(single)
    assert sent[-1] == CancelPnlSingle(single.req_id) and single.done


async def test_pnl_single_without_reply_times_out_on_ready() -> None:
    c, _ = connected()
    single = c.req_pnl_single("DU1", 1)
    with pytest.raises(TimeoutError):
        await single.ready(0.01)
    assert not single.done


async def test_pnl_error_ends_it() -> None:
    c, _ = connected()
    pnl = c.req_pnl("XX")
    it = pnl.updates()
    feed(c, ErrMsg(pnl.req_id, 321, "Error validating request: invalid account"))
    assert pnl.done and pnl.errors[0].code == 321
    with pytest.raises(RequestError):
        async with asyncio.timeout(GUARD):
            await anext(it)
    assert c.pnls() == []


async def test_live_objects_survive_a_loss_and_resubscribe_with_fresh_ids() -> None:
    c, sent = connected()
    pnl = c.req_pnl("DU1")
    table = c.req_account_summary()
    old_pnl, old_table = pnl.req_id, table.req_id
    feed(c, AccountSummary(old_table, "DU1", "Cash", "1", "USD"))
    feed(c, AccountSummary(old_table, "DU1", "Gone", "1", "USD"), AccountSummaryEnd(old_table))
    it = pnl.updates()
    lose(c)
    assert not pnl.active and not pnl.done and not table.active
    assert len(table) == 2  # stale, readable
    reconnect(c, sent)
    async with asyncio.timeout(GUARD):
        await c.resubscribe_accounts()
    assert pnl.req_id != old_pnl and table.req_id != old_table
    assert pnl.active and table.active and not table.synced
    assert {type(m) for m in sent} == {ReqPnl, ReqAccountSummary}
    feed(c, Pnl(pnl.req_id, 1.0, 2.0, 3.0))
    assert await anext(it) is pnl and pnl.daily_pnl == 1.0
    feed(
        c, AccountSummary(table.req_id, "DU1", "Cash", "2", "USD"), AccountSummaryEnd(table.req_id)
    )
    assert [v.tag for v in table] == ["Cash"]  # the new full set swept "Gone"


async def test_own_disconnect_ends_live_objects() -> None:
    c, _ = connected()
    pnl = c.req_pnl("DU1")
    it = pnl.updates()
    c.state = ClientState.DISCONNECTING
    c.on_connection_lost(None)
    assert pnl.done and c.account_subscriptions() == [] and c.pnls() == []
    async with asyncio.timeout(GUARD):
        assert [x async for x in it] == []


# -- family codes, user info ----------------------------------------------------------------


async def test_family_codes_and_user_info() -> None:
    c, sent = connected()
    t = await start(c.family_codes())
    assert sent == [ReqFamilyCodes()]
    feed(c, FamilyCodes([FamilyCode("DU1", "F1")]))
    assert await done(t) == [FamilyCode("DU1", "F1")]
    t2 = await start(c.user_info())
    req = sent[-1]
    assert isinstance(req, ReqUserInfo)
    feed(c, UserInfo(req.req_id, "WB1"))
    assert await done(t2) == "WB1"


# -- IB facade -----------------------------------------------------------------------------


async def test_ib_facade_delegates() -> None:
    ib = IB()
    c = ib.client
    sent: list[Any] = []
    c.state = ClientState.CONNECTED
    c.send = sent.append  # type: ignore[method-assign,assignment]
    c.managed_accounts = ("DU1",)
    t = await start(ib.positions())
    assert sent == [ReqPositions()]
    feed(c, pos("DU1", AAPL, 7), PositionEnd())
    assert [p.position for p in await done(t)] == [Decimal(7)]
    assert [p.position for p in await ib.positions("DU1")] == [Decimal(7)]  # from the cache
    assert await ib.positions("DU2") == [] and sent == [ReqPositions()]
    assert ib.position_event is c.position_event and ib.pnl_event is c.pnl_event
    pnl = ib.pnl()  # the only managed account
    assert pnl.account == "DU1"
    ib.cancel_pnl("DU1")
    assert pnl.done
    single = ib.pnl_single("DU1", 5)
    ib.cancel_pnl_single("DU1", 5)
    assert single.done
    feed(c, pv("DU1", Stock("AAPL", con_id=1), 1), AcctValue("X", "1", "", "DU1"))
    assert len(ib.portfolio()) == 1 and len(ib.account_values("DU1")) == 1
