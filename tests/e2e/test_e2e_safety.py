"""Safety on connect: ``expect="paper" | "live"``, read-only API and 10197 explained."""

from __future__ import annotations

import asyncio
import logging

import pytest

from aiotws import IB, AccountKindMismatch, MarketOrder, Stock
from aiotws.sim import Simulator

GUARD = 10.0


@pytest.mark.parametrize(
    ("accounts", "kind"),
    [(("DU111",), "paper"), (("U111",), "live"), (("DU1", "U2"), "mixed")],
)
async def test_account_kind(accounts: tuple[str, ...], kind: str) -> None:
    async with (
        Simulator(port=0, accounts=accounts) as sim,
        asyncio.timeout(GUARD),
        IB.connect_to(sim.host, sim.port, 1) as ib,
    ):
        assert ib.account_kind == kind


async def test_expect_live_refuses_a_paper_account_before_anything_is_sent() -> None:
    async with Simulator(port=0) as sim:
        ib = IB()
        with pytest.raises(AccountKindMismatch, match="expected a live account") as info:
            async with asyncio.timeout(GUARD):
                await ib.connect(sim.host, sim.port, 1, expect="live")
        assert info.value.accounts == ("DU1234567",) and info.value.expected == "live"
        assert not ib.is_connected()
        assert all(type(m).__name__ not in ("ReqPositions", "ReqOpenOrders") for m in sim.requests)


async def test_expect_paper_passes_on_paper_and_refuses_live() -> None:
    async with Simulator(port=0) as sim:
        async with asyncio.timeout(GUARD):
            ib = await IB.connect_to(sim.host, sim.port, 1, expect="paper")
        assert ib.is_connected()
        ib.disconnect()
        await ib.wait_closed()
    async with Simulator(port=0, accounts=("U7654321",)) as sim:
        with pytest.raises(AccountKindMismatch):
            async with asyncio.timeout(GUARD):
                await IB.connect_to(sim.host, sim.port, 1, expect="paper")


async def test_read_only_api_is_detected_and_explained(caplog: pytest.LogCaptureFixture) -> None:
    async with (
        Simulator(port=0, read_only=True) as sim,
        asyncio.timeout(GUARD),
        IB.connect_to(sim.host, sim.port, 1) as ib,
    ):
        [aapl] = await ib.qualify(Stock("AAPL"))
        with caplog.at_level(logging.WARNING, logger="aiotws.ib"):
            trade = ib.place_order(aapl, MarketOrder("BUY", 1))
            await trade.done(timeout=GUARD)
        assert trade.rejected and ib.read_only_api
        assert any("Read-Only API" in r.getMessage() for r in caplog.records)


async def test_10197_is_explained(caplog: pytest.LogCaptureFixture) -> None:
    async with (
        Simulator(port=0) as sim,
        asyncio.timeout(GUARD),
        IB.connect_to(sim.host, sim.port, 1) as ib,
    ):
        with caplog.at_level(logging.WARNING, logger="aiotws.ib"):
            sim.broadcast_error(10197, "No market data during competing live session")
            await ib.current_time()
        assert any("logged in elsewhere" in r.getMessage() for r in caplog.records)
