"""The simulator's accounts through sockets, with the low-level ``Client``: positions, account
updates and summaries, PnL, family codes and user info.

Fills are booked straight into the ledger (``ledger_of(sim).apply_fill`` + ``publish_fill``),
as the order engine does. The simulator's clock runs 50 times as fast as real time and ticks
every 10 ms, so the once-a-second PnL stream takes about 20 ms per update.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from aiotws import Client
from aiotws.client import ErrorInfo
from aiotws.model.contract import Contract
from aiotws.sim import Simulator
from aiotws.sim.accounts import ledger_of, publish_fill, seed_position
from aiotws.wire.messages.accounts import (
    AccountSummary,
    AccountSummaryEnd,
    AccountUpdateMulti,
    AccountUpdateMultiEnd,
    AcctDownloadEnd,
    AcctUpdateTime,
    AcctValue,
    CancelAccountSummary,
    CancelPnl,
    CancelPositions,
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

ACCT = "DU1234567"
AAPL = Contract(
    sec_type="STK", con_id=265598, symbol="AAPL", exchange="SMART", primary_exchange="NASDAQ",
    currency="USD", local_symbol="AAPL", trading_class="NMS",
)  # fmt: skip
MSFT = Contract(sec_type="STK", con_id=272093, symbol="MSFT", currency="USD")
SPEED = 50.0
GUARD = 5.0

T = TypeVar("T")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    t0 = time.monotonic()
    async with Simulator(
        port=0, seed=1, tick_interval=0.01, clock=lambda: t0 + (time.monotonic() - t0) * SPEED
    ) as s:
        yield s


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    c = Client()
    await c.connect(sim.host, sim.port, client_id=1, timeout=GUARD)
    yield c
    c.disconnect()
    async with asyncio.timeout(GUARD):
        await c.wait_closed()


class Inbox:
    """Every message of some types (and every ERR_MSG) the client receives, in order."""

    def __init__(self, client: Client, *types: type[Any]) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()
        for t in types:
            client.on(t, self._add)
        client.errors += self._add

    def _add(self, m: object) -> None:
        self.items.append(m)
        self._changed.set()

    def of(self, t: type[T]) -> list[T]:
        return [m for m in self.items if isinstance(m, t)]

    def errors(self, code: int) -> list[ErrorInfo]:
        return [e for e in self.of(ErrorInfo) if e.code == code]

    async def until(self, done: Callable[[Inbox], object]) -> None:
        async with asyncio.timeout(GUARD):
            while not done(self):
                self._changed.clear()
                await self._changed.wait()

    def clear(self) -> None:
        self.items.clear()


async def test_positions_dump_end_and_updates(sim: Simulator, client: Client) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.5)
    inbox = Inbox(client, PositionData, PositionEnd)
    client.send(ReqPositions())
    await inbox.until(lambda i: i.of(PositionEnd))
    [p] = inbox.of(PositionData)
    assert (p.account, p.contract.con_id, p.contract.symbol) == (ACCT, AAPL.con_id, "AAPL")
    assert (p.position, p.avg_cost) == (Decimal(100), 150.5)
    inbox.clear()
    ledger_of(sim).apply_fill(ACCT, MSFT, "BOT", Decimal(10), 400.0, 1.0)
    publish_fill(sim, ACCT, MSFT.con_id)
    await inbox.until(lambda i: i.of(PositionData))
    [u] = inbox.of(PositionData)
    assert (u.contract.con_id, u.position, u.avg_cost) == (MSFT.con_id, 10, pytest.approx(400.1))
    # a position that went to 0 is sent once with 0
    inbox.clear()
    ledger_of(sim).apply_fill(ACCT, MSFT, "SLD", Decimal(10), 401.0, 1.0)
    publish_fill(sim, ACCT, MSFT.con_id)
    await inbox.until(lambda i: i.of(PositionData))
    assert inbox.of(PositionData)[0].position == 0
    # after CANCEL_POSITIONS nothing more
    client.send(CancelPositions())
    await client.req_managed_accounts(timeout=GUARD)
    inbox.clear()
    publish_fill(sim, ACCT, AAPL.con_id)
    await client.req_managed_accounts(timeout=GUARD)
    assert inbox.of(PositionData) == []


async def test_positions_multi_filters_by_account(sim: Simulator, client: Client) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(5), 100.0)
    inbox = Inbox(client, PositionMulti, PositionMultiEnd)
    client.send(ReqPositionsMulti(7, ACCT, ""))
    client.send(ReqPositionsMulti(8, "", "SOMEMODEL"))
    await inbox.until(lambda i: len(i.of(PositionMultiEnd)) == 2)
    [p] = inbox.of(PositionMulti)
    assert (p.req_id, p.account, p.contract.con_id, p.position) == (7, ACCT, AAPL.con_id, 5)
    client.send(ReqPositionsMulti(9, "DU999", ""))
    await inbox.until(lambda i: i.errors(321))
    assert inbox.errors(321)[0].req_id == 9


async def test_account_updates_dump_end_update_and_replacement(
    sim: Simulator, client: Client
) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.0)
    inbox = Inbox(client, AcctValue, PortfolioValue, AcctUpdateTime, AcctDownloadEnd)
    client.send(ReqAcctData(True, ACCT))
    await inbox.until(lambda i: i.of(AcctDownloadEnd))
    values = {(v.key, v.currency): v.value for v in inbox.of(AcctValue)}
    assert values[("AccountCode", "")] == ACCT
    assert values[("AccountReady", "")] == "true"
    nlv = float(values[("NetLiquidation", "USD")])
    cash = float(values[("TotalCashValue", "USD")])
    stock = float(values[("StockMarketValue", "BASE")])
    assert cash == sim.config.starting_cash
    assert nlv == pytest.approx(cash + stock, abs=0.02)
    [pv] = inbox.of(PortfolioValue)
    assert (pv.contract.con_id, pv.position, pv.average_cost, pv.account_name) == (
        AAPL.con_id,
        100,
        150.0,
        ACCT,
    )
    assert pv.market_value == pytest.approx(100 * pv.market_price, abs=0.01)
    assert pv.unrealized_pnl == pytest.approx(pv.market_value - 15_000, abs=0.01)
    assert len(inbox.of(AcctUpdateTime)) == 1
    assert len(inbox.of(AcctUpdateTime)[0].time_stamp) == 5  # HH:MM
    assert inbox.of(AcctDownloadEnd)[0].account_name == ACCT
    # a fill: PORTFOLIO_VALUE, the changed values, then the time
    inbox.clear()
    ledger_of(sim).apply_fill(ACCT, MSFT, "BOT", Decimal(10), 400.0, 1.0)
    publish_fill(sim, ACCT, MSFT.con_id)
    await inbox.until(lambda i: i.of(AcctUpdateTime))
    assert [p.contract.con_id for p in inbox.of(PortfolioValue)] == [MSFT.con_id]
    changed = {v.key for v in inbox.of(AcctValue)}
    assert {"TotalCashValue", "CashBalance", "StockMarketValue"} <= changed
    assert "AccountCode" not in changed
    # a second subscription replaces the first with notice 2100
    inbox.clear()
    client.send(ReqAcctData(True, ACCT))
    await inbox.until(lambda i: i.of(AcctDownloadEnd))
    assert inbox.errors(2100)
    # an unknown account
    client.send(ReqAcctData(True, "DU999"))
    await inbox.until(lambda i: i.errors(321))


async def test_account_updates_follow_the_market(sim: Simulator, client: Client) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.0)
    inbox = Inbox(client, PortfolioValue, AcctDownloadEnd)
    client.send(ReqAcctData(True, ACCT))
    await inbox.until(lambda i: i.of(AcctDownloadEnd))
    first = inbox.of(PortfolioValue)[0].market_price
    t = sim.market_time()
    for k in range(1, 200):  # move the market until the quote's midpoint changes
        sim.market.step(AAPL.con_id, t + timedelta(seconds=k / 4))
        if sim.market.quote(AAPL.con_id).midpoint != first:
            break
    await inbox.until(lambda i: len(i.of(PortfolioValue)) >= 2)
    assert inbox.of(PortfolioValue)[-1].market_price != first


async def test_account_updates_multi(sim: Simulator, client: Client) -> None:
    inbox = Inbox(client, AccountUpdateMulti, AccountUpdateMultiEnd)
    client.send(ReqAccountUpdatesMulti(3, ACCT, "", False))
    client.send(ReqAccountUpdatesMulti(4, ACCT, "", True))
    await inbox.until(lambda i: len(i.of(AccountUpdateMultiEnd)) == 2)
    full = {m.key for m in inbox.of(AccountUpdateMulti) if m.req_id == 3}
    ledger = {m.key for m in inbox.of(AccountUpdateMulti) if m.req_id == 4}
    assert {"NetLiquidation", "BuyingPower", "CashBalance"} <= full
    assert "NetLiquidation" in ledger and "CashBalance" in ledger
    assert "BuyingPower" not in ledger
    inbox.clear()
    ledger_of(sim).apply_fill(ACCT, MSFT, "BOT", Decimal(1), 400.0, 1.0)
    publish_fill(sim, ACCT, MSFT.con_id)
    await inbox.until(lambda i: any(m.key == "CashBalance" for m in i.of(AccountUpdateMulti)))


async def test_account_summary_tags_updates_and_limit(sim: Simulator, client: Client) -> None:
    inbox = Inbox(client, AccountSummary, AccountSummaryEnd)
    client.send(ReqAccountSummary(11, "All", "NetLiquidation,BuyingPower,AccountType"))
    client.send(ReqAccountSummary(12, "All", "$LEDGER:ALL"))
    await inbox.until(lambda i: len(i.of(AccountSummaryEnd)) == 2)
    first = [(m.account, m.tag, m.value, m.currency) for m in inbox.of(AccountSummary)]
    cash = f"{sim.config.starting_cash:.2f}"
    assert first[:3] == [
        (ACCT, "NetLiquidation", cash, "USD"),
        (ACCT, "BuyingPower", f"{4 * sim.config.starting_cash:.2f}", "USD"),
        (ACCT, "AccountType", "INDIVIDUAL", ""),
    ]
    ledger_rows = [m for m in inbox.of(AccountSummary) if m.req_id == 12]
    assert {m.currency for m in ledger_rows} == {"USD", "BASE"}
    assert (ACCT, "CashBalance", cash, "BASE") in [
        (m.account, m.tag, m.value, m.currency) for m in ledger_rows
    ]
    # the third active subscription is refused
    client.send(ReqAccountSummary(13, "All", "NetLiquidation"))
    await inbox.until(lambda i: i.errors(322))
    assert inbox.errors(322)[0].req_id == 13
    assert "Maximum number of account summary requests exceeded" in inbox.errors(322)[0].text
    # updates on change
    inbox.clear()
    ledger_of(sim).apply_fill(ACCT, MSFT, "BOT", Decimal(10), 400.0, 1.0)
    publish_fill(sim, ACCT, MSFT.con_id)
    await inbox.until(
        lambda i: (
            any(m.tag == "BuyingPower" for m in i.of(AccountSummary))
            and any(m.req_id == 12 and m.tag == "CashBalance" for m in i.of(AccountSummary))
        )
    )
    # after a cancel there is room again
    client.send(CancelAccountSummary(11))
    client.send(ReqAccountSummary(14, "All", "NetLiquidation"))
    await inbox.until(lambda i: any(e.req_id == 14 for e in i.of(AccountSummaryEnd)))
    client.send(ReqAccountSummary(14, "All", "NetLiquidation"))  # duplicate id
    await inbox.until(lambda i: any(e.req_id == 14 for e in i.errors(322)))


async def test_pnl_stream_ticks(sim: Simulator, client: Client) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.0)
    inbox = Inbox(client, Pnl)
    client.send(ReqPnl(21, ACCT, ""))
    await inbox.until(lambda i: len(i.of(Pnl)) >= 3)
    p = inbox.of(Pnl)[0]
    expected = ledger_of(sim).pnl(ACCT)
    assert p.req_id == 21
    assert p.unrealized_pnl == pytest.approx(expected.unrealized_pnl, abs=0.02)
    assert p.realized_pnl == 0.0
    # a fill makes the next tick report at once
    r = ledger_of(sim).apply_fill(ACCT, AAPL, "SLD", Decimal(50), 160.0, 1.0)
    publish_fill(sim, ACCT, AAPL.con_id)
    assert r is not None
    await inbox.until(lambda i: i.of(Pnl)[-1].realized_pnl == pytest.approx(r))
    client.send(CancelPnl(21))
    client.send(ReqPnl(22, ACCT, ""))  # a second stream shows the clock still runs
    await client.req_managed_accounts(timeout=GUARD)
    inbox.clear()
    await inbox.until(lambda i: len(i.of(Pnl)) >= 2)
    assert {m.req_id for m in inbox.of(Pnl)} == {22}


async def test_pnl_single_held_and_unheld(sim: Simulator, client: Client) -> None:
    seed_position(sim, ACCT, AAPL, Decimal(100), 150.0)
    inbox = Inbox(client, PnlSingle)
    client.send(ReqPnlSingle(31, ACCT, "", MSFT.con_id))  # not held: no reply at all
    client.send(ReqPnlSingle(32, ACCT, "", AAPL.con_id))
    await inbox.until(lambda i: len(i.of(PnlSingle)) >= 2)
    assert {m.req_id for m in inbox.of(PnlSingle)} == {32}
    assert inbox.of(ErrorInfo) == []
    m = inbox.of(PnlSingle)[0]
    assert m.position == 100
    assert m.value == pytest.approx(100 * ledger_of(sim).market_price(AAPL.con_id), abs=0.02)
    assert m.unrealized_pnl == pytest.approx(m.value - 15_000, abs=0.02)


async def test_family_codes_and_user_info(client: Client) -> None:
    inbox = Inbox(client, FamilyCodes, UserInfo)
    client.send(ReqFamilyCodes())
    client.send(ReqUserInfo(41))
    await inbox.until(lambda i: i.of(FamilyCodes) and i.of(UserInfo))
    [fc] = inbox.of(FamilyCodes)
    assert [(c.account_id, c.family_code) for c in fc.codes] == [(ACCT, "")]
    [ui] = inbox.of(UserInfo)
    assert (ui.req_id, ui.white_branding_id) == (41, "")
