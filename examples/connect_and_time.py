"""Connect, then print the server version, the managed accounts and TWS's clock.

By default this starts an embedded TWS simulator on a free loopback port and connects to
it, so it runs anywhere. Point it at a real TWS or IB Gateway with ``--port`` (and
``--host``/``--client-id``): 7497 TWS paper, 7496 TWS live, 4002 Gateway paper, 4001
Gateway live.

    python examples/connect_and_time.py
    python examples/connect_and_time.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import IB, TWSConnectionError
from aiotws.sim import Simulator


async def show(host: str, port: int, client_id: int) -> None:
    async with IB.connect_to(host, port, client_id=client_id, timeout=5.0) as ib:
        print(f"connected:      {ib!r}")
        print(f"server version: {ib.server_version}")
        print(f"accounts:       {', '.join(ib.managed_accounts)}")
        print(f"connected at:   {ib.connection_time}")
        print(f"server time:    {await ib.current_time()}")  # tz-aware, UTC
        print(f"next order id:  {await ib.req_ids()}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)

    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0))
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port}; pass --port for a real TWS)")
        try:
            await show(host, port, args.client_id)
        except TWSConnectionError as e:  # ConnectionRefused, ConnectTimeout, ClientIdInUse …
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
