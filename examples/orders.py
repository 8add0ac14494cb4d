"""Orders end to end: a what-if, a market order to its fill, a bracket, a modify, a cancel,
a rejection, and the account after it all.

By default this runs against an embedded TWS simulator, whose matching engine fills orders
on its simulated market. ``--port`` points it at a real TWS or IB Gateway: it then places
real orders, so it refuses to unless every managed account is a paper account (DU…).

    python examples/orders.py
    python examples/orders.py --port 7497 --client-id 7     # a paper TWS
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import (
    IB,
    LimitOrder,
    MarketOrder,
    OrderRejected,
    Stock,
    TWSConnectionError,
    bracket,
)
from aiotws.sim import Simulator


async def show(ib: IB) -> None:
    (aapl,) = await ib.qualify(Stock("AAPL"))
    ticker = ib.market_data(aapl)
    await ticker.ready(timeout=10)
    print(f"AAPL {ticker.bid} / {ticker.ask}")

    state = await ib.what_if(aapl, MarketOrder("BUY", 100))
    print(f"what-if BUY 100: margin +{state.init_margin_change:,.2f}, fee {state.commission}")

    trade = ib.place_order(aapl, MarketOrder("BUY", 100))
    await trade.filled(timeout=30)  # raises OrderRejected / OrderCancelled otherwise
    for f in trade.fills:
        fee = f.commission_report.commission if f.commission_report else None
        print(f"filled {f.execution.shares} @ {f.execution.price} (commission {fee})")

    # a bracket: the entry rests below the market, its exits wait for it
    entry = round(ticker.bid * 0.95, 2)
    parent, take_profit, stop_loss = bracket(
        "BUY", 100, entry, round(entry * 1.1, 2), round(entry * 0.9, 2)
    )
    trades = ib.place_bracket(aapl, parent, take_profit, stop_loss)
    await trades[0].updates().__anext__()
    print("bracket:", ", ".join(f"{t.order.order_type} {t.status}" for t in trades))

    parent.lmt_price = round(entry * 0.99, 2)  # modify: the same order id, the same trade
    assert ib.place_order(aapl, parent) is trades[0]
    ib.cancel_order(parent)  # TWS cancels the children with their parent
    for t in trades:
        await t.done(timeout=10)
    print("after cancel:", ", ".join(f"{t.order.order_type} {t.status}" for t in trades))

    bad = ib.place_order(aapl, LimitOrder("BUY", 100, ticker.bid + 0.001))  # off the tick grid
    try:
        await bad.filled(timeout=10)
    except OrderRejected as e:
        print(f"rejected: {e.error.code if e.error else '?'} {e.error.message if e.error else e}")
    ib.cancel_market_data(ticker)

    for p in await ib.positions():
        print(f"position {p.account} {p.contract.symbol} {p.position} @ {p.avg_cost:.4f}")
    values = {(v.tag, v.currency): v.value for v in ib.account_values()}
    print(f"net liquidation {values.get(('NetLiquidation', 'USD'))} USD")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real (paper) TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0))
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port}; pass --port for a paper TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        if port != args.port or all(a.startswith("D") for a in ib.managed_accounts):
            await show(ib)
        else:
            print("refusing to place orders: not every account is a paper account", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
