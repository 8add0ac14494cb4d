"""Corporate events from Wall Street Horizon, and a TWS display group, in one script.

Asks for WSH's meta data (the event types), the next year's events of two stocks, the
earnings dates of a watchlist, then follows TWS's display group 1 and changes its contract.
By default this runs against an embedded TWS simulator (seeded: the same events every run);
``--port`` points it at a real TWS or IB Gateway (WSH needs IB's research subscription).

    python examples/corporate_events.py
    python examples/corporate_events.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import date

from aiotws import IB, Stock, TWSConnectionError
from aiotws.errors import FundamentalDataRemoved, RequestError
from aiotws.model import WshEventData
from aiotws.sim import Simulator


async def show(ib: IB) -> None:
    aapl, msft = await ib.qualify(Stock("AAPL"), Stock("MSFT"))
    meta = await ib.wsh_meta_data()
    print("WSH event types: " + ", ".join(f"{t.tag} ({t.name})" for t in meta.event_types))

    events = await ib.wsh_event_data(WshEventData(con_id=aapl.con_id, total_limit=8))
    print(f"next events of {aapl.symbol}:")
    for e in events:
        print(f"  {e.date}  {e.event_type:<10} {e.data}")

    query = WshEventData(
        filter={"watchlist": [str(aapl.con_id), str(msft.con_id)], "wshe_ed": "true"},
        start_date=date.today(),
        total_limit=6,
    )
    earnings = await ib.wsh_event_data(query)
    print("earnings dates: " + ", ".join(f"{e.symbol} {e.date}" for e in earnings))

    try:
        ib.fundamental_data(aapl, "ReportsFinSummary")
    except FundamentalDataRemoved as e:
        print(f"fundamental data: {e}"[:100] + "...")

    groups = await ib.display_groups()
    group = await ib.display_group(groups[0]).wait_ready()
    print(f"display group {group.group_id} shows {group.contract_info!r}")
    await group.update(msft)
    print(f"display group {group.group_id} now shows con id {group.con_id} on {group.exchange}")
    ib.cancel_display_group(group)


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
        try:
            await show(ib)
        except RequestError as e:  # a real TWS without the WSH subscription: 10276/10277
            print(f"TWS refused: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
