"""Market scanners: browse the parameters, one scan, and a live scan that refreshes.

By default this runs against an embedded TWS simulator (seeded; it refreshes a live scan
every 0.3 s here instead of TWS's 30 s); ``--port`` points it at a real TWS or IB Gateway.

    python examples/scanner.py
    python examples/scanner.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import IB, TWSConnectionError
from aiotws.errors import InvalidScannerSubscription, RequestError
from aiotws.model import ScannerSubscription, ScanRow
from aiotws.sim import Simulator
from aiotws.sim import scanner as sim_scanner

REFRESHES = 2  # live result sets to show after the first


def table(rows: list[ScanRow]) -> str:
    return ", ".join(f"{r.rank}:{r.contract.local_symbol or r.contract.symbol}" for r in rows)


async def show(ib: IB) -> None:
    params = await ib.scanner_parameters()
    print(params)
    print("instrument types:", ", ".join(i.code for i in params.instruments))
    print("US stock scans:", ", ".join(params.scan_codes("STK")[:8]), "...")
    print("US stock locations:", ", ".join(loc.code for loc in params.locations("STK")[:6]))
    print("US stock filters:", ", ".join(f.code for f in params.filters("STK")[:6]), "...")
    print("search 'volume':", ", ".join(x.code for x in params.find("volume")))

    # one scan: subscribe, first result set, cancel (ib_async reqScannerData)
    top = await ib.scan(
        ScannerSubscription("TOP_PERC_GAIN", "STK", "STK.US.MAJOR", number_of_rows=5),
        {"priceAbove": 10},  # a filter tag from params.filters("STK")
    )
    print(f"top % gainers above $10: {table(top)}")

    # a live scan: the list is replaced as a whole on every refresh
    live = ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=5))
    live.updated += lambda r: print(f"  refresh {r.sets}: {table(r)}")
    first = await live.first(timeout=10)
    print(f"most active: {table(first)}")
    n = 0
    async for _rows in live:  # each result set; stops when cancelled
        n += 1
        if n >= REFRESHES:
            break
    ib.cancel_scanner(live)

    # checked before anything is sent
    try:
        ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=500))
    except InvalidScannerSubscription as e:
        print(f"refused locally: {e}")
    # refused by TWS (the simulator answers as TWS does)
    try:
        await ib.scan(ScannerSubscription("NO_SUCH_SCAN"))
    except RequestError as e:
        print(f"refused by TWS: {e.code} {e.message}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim_scanner.REFRESH_INTERVAL = 0.3  # TWS: about 30 s
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
