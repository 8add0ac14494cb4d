"""Several live tickers at once: one ``updated`` event for all, a snapshot, a price table.

By default this runs against an embedded TWS simulator (seeded, its market steps every
50 ms); ``--port`` points it at a real TWS or IB Gateway.

    python examples/quotes.py
    python examples/quotes.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import IB, Crypto, Forex, Stock, Ticker, TWSConnectionError
from aiotws.sim import Simulator

UPDATES = 12  # stop after this many ticker updates (or SECONDS)
SECONDS = 3.0


def name(t: Ticker) -> str:
    c = t.contract
    return f"{c.symbol}.{c.currency}" if c.sec_type == "CASH" else c.symbol


def line(t: Ticker) -> str:
    last = f"{t.last:.2f}" if t.last == t.last else "-"  # NaN: no trade (forex)
    return f"{name(t):<8} {t.bid:>12.5g} x {t.ask:<12.5g} last {last:>9}"


async def show(ib: IB) -> None:
    contracts = await ib.qualify(
        Stock("AAPL"), Stock("MSFT"), Stock("SPY"), Forex("EURUSD"), Crypto("BTC", "PAXOS", "USD")
    )
    tickers = [ib.market_data(c) for c in contracts]
    await asyncio.gather(*(t.ready(10) for t in tickers))
    print("first quotes:")
    for t in tickers:
        print("  " + line(t))

    # one handler for every ticker: called once per network read that changed it
    seen: list[Ticker] = []
    enough = asyncio.Event()

    def on_update(t: Ticker) -> None:
        seen.append(t)
        if len(seen) >= UPDATES:
            enough.set()

    for t in tickers:
        t.updated += on_update
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(enough.wait(), SECONDS)
    for t in tickers:
        t.updated -= on_update
    counts = {name(t): sum(s is t for s in seen) for t in tickers}
    print(f"{len(seen)} updates: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("now:")
    for t in tickers:
        spread = t.ask - t.bid
        print(f"  {line(t)} mid {t.mid():.5g} spread {spread:.5g}")
        ib.cancel_market_data(t)

    snap = await ib.snapshot(contracts[0])  # one-shot: no subscription left behind
    print(f"snapshot {line(snap)} volume {snap.volume}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1, tick_interval=0.05))
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port}; pass --port for a real TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        await show(ib)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
