"""A financial advisor's day: read the FA groups, add one, and allocate an order across it.

By default this runs against an embedded TWS simulator logged in as an advisor (master
account DF1234567 with three client accounts); ``--port`` points it at a real TWS or IB
Gateway with an advisor login (careful: ``--place`` there places a real order, and
replacing groups overwrites the advisor's configuration).

    python examples/advisor.py
    python examples/advisor.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from decimal import Decimal

from aiotws import IB, MarketOrder, Stock, TWSConnectionError
from aiotws.errors import RequestError
from aiotws.model.advisor import FaGroup, FaMethod
from aiotws.sim import Simulator

ADVISOR = ("DF1234567", "DU1234568", "DU1234569", "DU1234570")


async def show(ib: IB, replace: bool, place: bool) -> None:
    try:
        groups = await ib.fa_groups()
    except RequestError as e:  # 321: this login is not an advisor's
        print(f"not an advisor login: {e.code} {e.message}")
        return
    aliases = {a.account: a.alias for a in await ib.fa_aliases()}
    print("FA groups:")
    for g in groups:
        members = ", ".join(
            f"{aliases.get(m.account, m.account)}"
            + (f"={m.amount}" if m.amount is not None else "")
            for m in g.members
        )
        print(f"  {g.name:<12} {g.method!s:<18} {members}")
    clients = [a for a in ib.client.managed_accounts if not a.startswith(("DF", "F"))]
    if replace and len(clients) >= 2:
        # TWS replaces *all* groups: keep the ones there are and add a new one
        pair = FaGroup.of("FirstTwo", FaMethod.RATIO, {clients[0]: 1, clients[1]: 2})
        text = await ib.replace_fa_groups([g for g in groups if g.name != pair.name] + [pair])
        print(f"replaced groups: {text!r}")
    if place:
        [aapl] = await ib.qualify(Stock("AAPL", "SMART", "USD"))
        trade = ib.place_fa_order(
            aapl, MarketOrder("BUY", 90), "FirstTwo" if replace else "Everyone"
        )
        await trade.done(timeout=10)
        print(f"order {trade.order.order_id} {trade.status}, {trade.filled_quantity()} filled:")
        for f in trade.fills:
            e = f.execution
            print(
                f"  {aliases.get(e.acct_number, e.acct_number):<10} {e.shares:>4} @ {e.price:.2f}"
            )
        held: dict[str, Decimal] = {}
        for p in await ib.positions():
            if p.contract.con_id == aapl.con_id:
                held[p.account] = p.position
        print("AAPL positions per account:", held)


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    p.add_argument("--no-replace", action="store_true", help="do not replace the FA groups")
    p.add_argument("--no-place", action="store_true", help="do not place the FA order")
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(
                Simulator(port=0, seed=1, accounts=ADVISOR, tick_interval=0.05)
            )
            host, port = sim.host, sim.port
            print(f"(embedded advisor simulator on {host}:{port}; pass --port for a real TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        await show(ib, not args.no_replace, not args.no_place)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
