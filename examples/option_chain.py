"""An option chain: its expiries and strikes, then the quotes and greeks of the calls and
puts nearest the money, and TWS's option calculator.

By default this runs against an embedded TWS simulator (its options are priced by
Black-Scholes from the simulated underlying, with a small smile); ``--port`` points it at
a real TWS or IB Gateway (which needs option market data permissions).

    python examples/option_chain.py
    python examples/option_chain.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys

from aiotws import IB, Option, RequestError, Stock, Ticker, TWSConnectionError
from aiotws.sim import Simulator

STRIKES = 3  # per side of the money


def greeks(t: Ticker) -> str:
    g = t.model_greeks
    if g is None:
        return "(no model greeks)"
    return (
        f"iv {g.implied_vol:6.3f} delta {g.delta:+.3f} gamma {g.gamma:.4f} "
        f"vega {g.vega:.3f} theta {g.theta:+.3f}"
    )


async def show(ib: IB) -> None:
    (aapl,) = await ib.qualify(Stock("AAPL"))
    und = await ib.snapshot(aapl)
    spot = und.last if not math.isnan(und.last) else und.mid()
    chains = await ib.option_chain(aapl)
    for c in chains[:3]:
        print(
            f"chain {c.exchange:<8} {c.trading_class:<6} x{c.multiplier}: "
            f"{len(c.expirations)} expiries, {len(c.strikes)} strikes"
        )
    chain = next(c for c in chains if c.exchange == "SMART")
    expiry = sorted(chain.expirations)[1]  # the second expiry: not expiring today
    near = sorted(sorted(chain.strikes, key=lambda k: abs(k - spot))[: 2 * STRIKES])
    print(f"AAPL {spot:.2f}; expiry {expiry}, strikes {near}")

    # not every strike of the chain exists for every expiry: qualify and keep what exists
    wanted = [Option("AAPL", expiry, k, right, "SMART") for k in near for right in "CP"]
    options = []
    for o in wanted:
        with contextlib.suppress(RequestError):
            options += await ib.qualify(o)
    tickers = [ib.market_data(o) for o in options]
    await asyncio.gather(*(t.ready(10) for t in tickers))
    for t in tickers:
        c = t.contract
        print(f"  {c.right} {c.strike:>7.2f}  {t.bid:>6.2f} / {t.ask:<6.2f}  {greeks(t)}")
        ib.cancel_market_data(t)

    # TWS's calculator: the option's price at a volatility, and the volatility at a price
    call = options[0]
    priced = await ib.calc_option_price(call, volatility=0.30, under_price=spot)
    print(f"{call.local_symbol or call.symbol}: price at 30% vol {priced.opt_price:.2f}")
    implied = await ib.calc_implied_volatility(call, priced.opt_price, spot)
    print(f"  and the vol that price implies: {implied.implied_vol:.3f}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1))
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
