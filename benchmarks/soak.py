"""Soak: many daily restarts in compressed time under 100 subscriptions and open orders.

An ``IB`` with 100 market data subscriptions and a few open orders lives through ``--restarts``
simulator restarts (each down ``--downtime`` seconds, alternating refused and
accepted-and-closed connections, as TWS restarting and at its login screen). After each it
checks that nothing was lost: every ticker updates again on the same object, every open
order is the same trade, no fill is missing or counted twice, and it reports the recovery
time (restart over → restored), the time until every ticker updated again, and the memory
before and after. Exits 1 if anything was lost.

    python benchmarks/soak.py                    # 24 restarts
    python benchmarks/soak.py --restarts 5 --downtime 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from typing import Any

from aiotws import IB, LimitOrder, MarketOrder, Stock, Ticker
from aiotws.session import ReconnectPolicy
from aiotws.sim import Simulator


def _wait(event: Any) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args[0] if args else None)
        event.disconnect(on)

    event += on
    return fut


async def _all_update(tickers: list[Ticker], timeout: float) -> None:
    async def one(t: Ticker) -> None:
        async for _ in t.updates():
            return

    async with asyncio.timeout(timeout):
        await asyncio.gather(*(one(t) for t in tickers))


async def soak(restarts: int, downtime: float, subscriptions: int, trace: bool) -> int:
    if trace:  # deep tracebacks tell the simulator's allocations from ours (and slow it)
        tracemalloc.start(40)
    async with Simulator(port=0, seed=7, tick_interval=0.05, market_data_lines=1000) as sim:
        policy = ReconnectPolicy(initial_delay=0.1, max_delay=1.0, connect_timeout=2.0)
        ib = IB(reconnect=policy)
        await ib.connect(sim.host, sim.port, 1)
        instruments = [
            i for i in sim.universe.instruments if i.contract.sec_type in ("STK", "FUT", "CASH")
        ]
        contracts = [instruments[k % len(instruments)].contract for k in range(subscriptions)]
        tickers = [ib.market_data(c) for c in contracts]
        await _all_update(tickers, 30)
        [aapl] = await ib.qualify(Stock("AAPL"))
        bid = tickers[0].bid
        resting = [
            ib.place_order(aapl, LimitOrder("BUY", 10, round(bid * (0.7 + k / 100), 2), tif="GTC"))
            for k in range(5)
        ]
        filled = ib.place_order(aapl, MarketOrder("BUY", 10))
        await filled.filled(timeout=10)
        fills = {f.execution.exec_id for f in ib.fills()}
        gc.collect()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        mem0 = tracemalloc.get_traced_memory()[0] if trace else 0
        snap0 = tracemalloc.take_snapshot() if trace else None
        recover: list[float] = []
        resume: list[float] = []
        lost: list[str] = []
        for n in range(restarts):
            restored = _wait(ib.restored)
            mode = "refuse" if n % 2 == 0 else "accept_close"
            await sim.restart(downtime, mode=mode)
            t0 = time.perf_counter()
            async with asyncio.timeout(60):
                await restored
            t1 = time.perf_counter()
            try:
                await _all_update(tickers, 30)
            except TimeoutError:
                stuck = sum(1 for t in tickers if t.stale) if hasattr(tickers[0], "stale") else "?"
                lost.append(f"restart {n + 1}: tickers did not all update again ({stuck} stale)")
            t2 = time.perf_counter()
            recover.append(t1 - t0)
            resume.append(t2 - t0)
            if ib.tickers() != tickers:
                lost.append(f"restart {n + 1}: the ticker list changed")
            if ib.open_trades() != resting:
                lost.append(f"restart {n + 1}: open trades {ib.open_trades()}")
            now = {f.execution.exec_id for f in ib.fills()}
            if now != fills or len(filled.fills) != 1:
                lost.append(f"restart {n + 1}: fills {sorted(now)} vs {sorted(fills)}")
        gc.collect()
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        mem1 = tracemalloc.get_traced_memory()[0] if trace else 0
        sim_requests = len(sim.requests)
        growth = tracemalloc.take_snapshot().compare_to(snap0, "traceback") if snap0 else []

        def in_sim(d: tracemalloc.StatisticDiff) -> bool:
            return any("/aiotws/sim/" in f.filename for f in d.traceback)

        sim_growth = sum(d.size_diff for d in growth if in_sim(d))
        client_growth = sum(
            d.size_diff
            for d in growth
            if not in_sim(d) and any("/aiotws/" in f.filename for f in d.traceback)
        )
        for t in resting:
            ib.cancel_order(t)
        ib.disconnect()
        await ib.wait_closed()
    print(f"soak: {restarts} restarts, {downtime:g} s down each, {subscriptions} subscriptions")
    print(
        f"  recovery (back up -> restored): median {statistics.median(recover) * 1000:.0f} ms, "
        f"max {max(recover) * 1000:.0f} ms"
    )
    print(
        f"  every ticker updating again:    median {statistics.median(resume) * 1000:.0f} ms, "
        f"max {max(resume) * 1000:.0f} ms"
    )
    print(f"  peak RSS: {rss0 / 1e3:.1f} MB before the restarts, {rss1 / 1e3:.1f} MB after")
    if trace:
        print(
            f"  memory (traced): {mem0 / 1e6:.1f} MB before, {mem1 / 1e6:.1f} MB after "
            f"({(mem1 - mem0) / 1e3:+.0f} kB in all; allocated in the client's code "
            f"{client_growth / 1e3:+.0f} kB, in the simulator's {sim_growth / 1e3:+.0f} kB, which "
            f"keeps every request: {sim_requests})"
        )
    print(f"  restores counted by the session: {ib.session.status.restores}")
    if lost:
        print("  LOST:")
        for line in lost:
            print(f"    {line}")
        return 1
    print("  lost: nothing")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--restarts", type=int, default=24)
    p.add_argument("--downtime", type=float, default=0.5)
    p.add_argument("--subscriptions", type=int, default=100)
    p.add_argument("--trace-memory", action="store_true", help="attribute memory growth")
    a = p.parse_args()
    return asyncio.run(soak(a.restarts, a.downtime, a.subscriptions, a.trace_memory))


if __name__ == "__main__":
    sys.exit(main())
