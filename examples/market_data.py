"""Qualify contracts, stream live quotes, read an option chain and a depth book.

By default this runs against an embedded TWS simulator (seeded, so the output is the same
shape every run); ``--port`` points it at a real TWS or IB Gateway.

    python examples/market_data.py
    python examples/market_data.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import IB, Forex, Option, RequestError, Stock, TWSConnectionError
from aiotws.sim import Simulator


async def show(ib: IB) -> None:
    aapl, eurusd = await ib.qualify(Stock("AAPL"), Forex("EURUSD"))
    print(f"qualified: {aapl!r}\n           {eurusd!r}")

    # live tickers: updated in place, once per network read
    tickers = [ib.market_data(c) for c in (aapl, eurusd)]
    for t in tickers:
        await t.ready(10)
    n = 0
    async for t in tickers[0].updates():  # latest state: a slow loop skips, never queues
        print(f"AAPL  {t.bid:>8.2f} x {t.ask:<8.2f} last {t.last:.2f} vol {t.volume}")
        n += 1
        if n == 3:
            break
    print(f"EURUSD {tickers[1].bid:.5f} / {tickers[1].ask:.5f}")
    for t in tickers:
        ib.cancel_market_data(t)

    # an option chain slice and one option's greeks
    chain = next(c for c in await ib.option_chain(aapl) if c.exchange == "SMART")
    expiry = sorted(chain.expirations)[0]
    spot = tickers[0].last
    strike = min(chain.strikes, key=lambda k: abs(k - spot))
    size = f"{len(chain.expirations)} expiries, {len(chain.strikes)} strikes"
    print(f"chain: {size}; nearest call {expiry} {strike}")
    (call,) = await ib.qualify(Option("AAPL", expiry, strike, "C", "SMART"))
    opt = ib.market_data(call)
    await opt.ready(10)
    g = opt.model_greeks
    if g is not None:
        print(f"       model price {g.opt_price:.2f} iv {g.implied_vol:.3f} delta {g.delta:.3f}")
    ib.cancel_market_data(opt)

    # a depth book kept by TWS's insert/update/delete operations
    book = ib.market_depth(aapl, rows=3)
    await book.ready(10)
    for bid, ask in zip(book.bids, book.asks, strict=False):
        print(f"book:  {bid.size:>6} @ {bid.price:.2f} | {ask.price:.2f} x {ask.size}")
    ib.cancel_market_depth(book)

    try:
        await ib.qualify(Stock("NO SUCH THING"))
    except RequestError as e:
        print(f"unknown contract: error {e.code}: {e.message}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, tick_interval=0.05))
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
