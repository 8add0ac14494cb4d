"""Watch an account: positions, the portfolio with market values, key account values, and
live PnL (the account's and one position's) as the market moves and an order fills.

By default this runs against an embedded TWS simulator whose account is given two
positions before the monitor connects; its ledger revalues them on the simulated market
(PnL about once a second, at once after a fill). ``--port`` points it at a real TWS or IB
Gateway, where it only watches (``--buy`` also buys 1 share of AAPL on a paper account).

    python examples/portfolio_monitor.py
    python examples/portfolio_monitor.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from decimal import Decimal

from aiotws import IB, LivePnL, MarketOrder, PortfolioItem, Stock, TWSConnectionError
from aiotws.sim import Simulator
from aiotws.sim.accounts import seed_position

SECONDS = 2.5  # how long to watch the PnL
TAGS = ("NetLiquidation", "TotalCashValue", "GrossPositionValue", "MaintMarginReq", "BuyingPower")


def money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


def show_pnl(p: LivePnL) -> None:
    print(
        f"  PnL {p.account}: daily {money(p.daily_pnl)} unrealized {money(p.unrealized_pnl)} "
        f"realized {money(p.realized_pnl)}"
    )


async def show(ib: IB, buy: bool) -> None:
    for pos in await ib.positions():
        c = pos.contract
        print(f"position {pos.account} {c.symbol:<5} {pos.position:>6} @ {pos.avg_cost:.2f}")
    for item in ib.portfolio():
        print(
            f"portfolio {item.contract.symbol:<5} {item.position:>6} x {item.market_price:.2f} "
            f"= {money(item.market_value)} (unrealized {money(item.unrealized_pnl)})"
        )
    values = {(v.tag, v.currency): v.value for v in ib.account_values()}
    for tag in TAGS:
        print(f"  {tag:<20} {values.get((tag, 'USD'), '-')}")

    # quotes of the held instruments (in the simulator, this is also what moves their prices)
    tickers = [ib.market_data(item.contract) for item in ib.portfolio()]
    changes: list[PortfolioItem] = []
    ib.portfolio_event += changes.append  # every PORTFOLIO_VALUE TWS sends
    pnl = await ib.pnl().ready()
    show_pnl(pnl)
    (aapl,) = await ib.qualify(Stock("AAPL"))
    single = await ib.pnl_single(pnl.account, aapl.con_id).ready()
    print(f"  PnL AAPL: daily {money(single.daily_pnl)} value {money(single.value)}")

    if buy:
        trade = ib.place_order(aapl, MarketOrder("BUY", 1))
        await trade.filled(timeout=30)
        print(f"bought 1 AAPL @ {trade.fills[-1].execution.price}: the PnL follows at once")
    updates = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SECONDS):
            async for p in pnl.updates():
                show_pnl(p)
                updates += 1
                if updates == 2:
                    break
    print(f"{updates} PnL updates, {len(changes)} portfolio updates; now:")
    for item in ib.portfolio():
        upnl = money(item.unrealized_pnl)
        print(f"  {item.contract.symbol:<5} {item.position:>6} unrealized {upnl}")
    ib.cancel_pnl(pnl)
    for t in tickers:
        ib.cancel_market_data(t)
    ib.cancel_pnl_single(single)


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    p.add_argument("--buy", action="store_true", help="buy 1 AAPL (default with the simulator)")
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        buy = args.buy
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1, tick_interval=0.05))
            account = sim.config.accounts[0]
            u = sim.universe
            for symbol, qty, cost in (("AAPL", 100, 200.0), ("MSFT", -50, 450.0)):
                [details] = u.match(Stock(symbol))
                seed_position(sim, account, details.contract, Decimal(qty), cost)
            host, port, buy = sim.host, sim.port, True
            print(f"(embedded simulator on {host}:{port}; pass --port for a real TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        if buy and ib.account_kind != "paper":
            print("refusing to buy: not a paper account", file=sys.stderr)
            buy = False
        await show(ib, buy)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
