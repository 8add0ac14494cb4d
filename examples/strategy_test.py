"""A tiny strategy and its tests against the simulator, deterministic and sleep-free.

``DipBuyer`` buys once the bid falls ``drop`` below where it was at the start, then rests a
take-profit ``gain`` above its fill. The tests drive the simulator's market clock step by
step (``tick_interval=0``: the market moves only when a test steps it), so every run sees
the same prices.

Run as a script, it runs its own tests and prints PASS/FAIL for each (exit status 1 on a
failure). The same file is a pytest module: the ``aiotws.testing`` plugin, installed with
aiotws, gives the fixtures ``aiotws_ib`` and ``aiotws_market`` and reads the
``aiotws_sim`` marker (pytest and pytest-asyncio needed):

    python examples/strategy_test.py
    pytest examples/strategy_test.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aiotws import IB, Contract, LimitOrder, MarketOrder, Stock, Trade
from aiotws.sim import SimConfig, Simulator
from aiotws.testing import SimDriver, fast_reconnect

# -- the strategy ---------------------------------------------------------------------------


class DipBuyer:
    def __init__(
        self,
        ib: IB,
        contract: Contract,
        quantity: int = 100,
        drop: float = 0.05,
        gain: float = 0.05,
    ) -> None:
        self.ib, self.contract = ib, contract
        self.quantity, self.drop, self.gain = quantity, drop, gain
        self.reference: float | None = None

    async def run(self) -> tuple[Trade, Trade]:
        """Wait for the dip, buy, place the take-profit; returns (entry, exit)."""
        ticker = self.ib.market_data(self.contract)
        await ticker.ready()
        self.reference = ticker.bid
        async for t in ticker.updates():
            if t.bid <= self.reference - self.drop:
                break
        self.ib.cancel_market_data(ticker)
        entry = self.ib.place_order(self.contract, MarketOrder("BUY", self.quantity))
        await entry.filled()
        price = round(entry.order_status.avg_fill_price + self.gain, 2)
        exit_ = self.ib.place_order(self.contract, LimitOrder("SELL", self.quantity, price))
        await exit_.updates().__anext__()  # acknowledged by TWS
        return entry, exit_


# -- its tests ------------------------------------------------------------------------------

#: the simulator of every test: seeded, no clock of its own (the tests step it)
SIM: dict[str, Any] = {"seed": 1, "tick_interval": 0}

pytestmark = [pytest.mark.asyncio, pytest.mark.aiotws_sim(**SIM)]


async def drive(market: SimDriver, ib: IB, work: Awaitable[Any], rounds: int = 500) -> Any:
    """Step the market until ``work`` is done: a few steps, then a round trip so the client
    has read what they sent (round trips are requests, and the client paces requests at
    45 a second: step several times per round trip)."""
    task = asyncio.ensure_future(work)
    for _ in range(rounds):
        if task.done():
            return task.result()
        market.step(3)
        await market.barrier(ib)
        await asyncio.sleep(0)  # let the strategy react
    task.cancel()
    raise AssertionError(f"not done after {3 * rounds} market steps")


async def test_it_buys_the_dip_and_rests_a_take_profit(
    aiotws_ib: IB, aiotws_market: SimDriver
) -> None:
    strategy = DipBuyer(aiotws_ib, Stock("AAPL"))
    entry, exit_ = await drive(aiotws_market, aiotws_ib, strategy.run())
    assert strategy.reference is not None
    fill = entry.order_status.avg_fill_price
    assert fill <= strategy.reference - strategy.drop + 0.05  # bought on the dip (+ spread)
    assert exit_.order.lmt_price == round(fill + strategy.gain, 2)
    assert exit_.status in ("PreSubmitted", "Submitted")
    [position] = await aiotws_ib.positions()
    assert position.position == 100


async def test_it_does_not_trade_while_halted(aiotws_ib: IB, aiotws_market: SimDriver) -> None:
    aiotws_market.halt("AAPL")  # prices freeze: no dip can come
    strategy = DipBuyer(aiotws_ib, Stock("AAPL"))
    task = asyncio.ensure_future(strategy.run())
    for _ in range(10):
        aiotws_market.step(20)
        await aiotws_market.barrier(aiotws_ib)
    assert not task.done() and aiotws_ib.trades() == []
    aiotws_market.resume("AAPL")
    await drive(aiotws_market, aiotws_ib, task)
    assert len(aiotws_ib.trades()) == 2


async def test_it_survives_a_tws_restart(aiotws_ib: IB, aiotws_market: SimDriver) -> None:
    strategy = DipBuyer(aiotws_ib, Stock("AAPL"), drop=0.10)
    task = asyncio.ensure_future(strategy.run())
    aiotws_market.step(5)
    await aiotws_market.barrier(aiotws_ib)
    await aiotws_market.restart(0.1, wait=aiotws_ib)  # the ticker is re-subscribed for it
    entry, _ = await drive(aiotws_market, aiotws_ib, task)
    assert entry.order_status.status == "Filled"
    assert aiotws_ib.session.status.restores == 1


# -- run as a script: the same tests, with the fixtures made by hand -------------------------

TESTS: list[Callable[[IB, SimDriver], Awaitable[None]]] = [
    test_it_buys_the_dip_and_rests_a_take_profit,
    test_it_does_not_trade_while_halted,
    test_it_survives_a_tws_restart,
]


async def main() -> int:
    failed = 0
    for test in TESTS:
        t0 = time.monotonic()
        async with Simulator(SimConfig(**SIM)) as sim:
            ib = IB(reconnect=fast_reconnect())
            await ib.connect(sim.host, sim.port, client_id=1)
            try:
                async with asyncio.timeout(20):
                    await test(ib, SimDriver(sim))
                outcome = "PASS"
            except Exception as e:  # a failed check, or a bug: report it, run the rest
                outcome, failed = f"FAIL {type(e).__name__}: {e}", failed + 1
            finally:
                ib.disconnect()
                await ib.wait_closed()
        print(f"{outcome[:4]} {test.__name__} ({time.monotonic() - t0:.2f}s){outcome[4:]}")
    print(f"{len(TESTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
