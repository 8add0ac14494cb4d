"""Record a session, then replay it: TWS's recorded answers, without TWS.

The session (a contract lookup, daily bars and a market order to its fill) is recorded
against an embedded TWS simulator to a temporary ``.twsrec`` file (account ids redacted),
then played back by a ``ReplayServer`` to a fresh client, which gets the same results. A
last client asks for something else and the replay says where it strayed.
See docs/record-replay.md.

    python examples/record_replay.py
    python examples/record_replay.py --keep session.twsrec   # keep the recording
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from aiotws import IB, MarketOrder, Stock, TWSConnectionError
from aiotws.record import Recording
from aiotws.replay import ReplayMismatch, ReplayServer
from aiotws.sim import Simulator


async def session(ib: IB, symbol: str = "AAPL") -> dict[str, Any]:
    """What the recorded and the replayed client both do."""
    [stock] = await ib.qualify(Stock(symbol))
    bars = await ib.historical_bars(stock, duration="5 D", bar_size="1 day")
    trade = ib.place_order(stock, MarketOrder("BUY", 10))
    await trade.filled(timeout=10)
    return {
        "accounts": list(ib.managed_accounts),
        "con_id": stock.con_id,
        "closes": [b.close for b in bars],
        "fill": (trade.order.order_id, trade.avg_fill_price(), trade.fills[0].execution.exec_id),
    }


async def record(path: Path) -> dict[str, Any]:
    async with Simulator(port=0, seed=1) as sim:
        ib = IB(reconnect=False)
        recorder = ib.client.start_recording(path, redact=True)  # before connect: all of it
        await ib.connect(sim.host, sim.port, client_id=7)
        try:
            return await session(ib)
        finally:
            ib.disconnect()
            await ib.wait_closed()
            await recorder.aclose()  # the file is complete once this returns


def show(result: dict[str, Any]) -> str:
    order_id, price, exec_id = result["fill"]
    closes = ", ".join(f"{c:.2f}" for c in result["closes"])
    return (
        f"accounts {result['accounts']}, con_id {result['con_id']}, closes [{closes}], "
        f"order {order_id} filled at {price:.2f} ({exec_id})"
    )


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--keep", metavar="FILE", help="copy the recording to FILE")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session.twsrec"

        original = await record(path)
        print(f"recorded: {show(original)}")
        rec = Recording.load(path)
        [conn] = rec.connections
        kinds = Counter("sent" if f.direction == "out" else "received" for f in conn.frames)
        print(
            f"{path.name}: {len(path.read_text().splitlines())} lines, {kinds['sent']} frames "
            f"sent and {kinds['received']} received, server version {conn.server_version}, "
            f"client id {conn.client_id}, redacted: {rec.redacted}"
        )
        print("  first requests:", ", ".join(f.name for f in conn.requests[:4]), "…")

        # the replay: a fake TWS on a free port; no simulator runs now
        # (strict: leaving the block raises ReplayMismatch if the client strayed)
        async with (
            ReplayServer(path) as server,
            IB.connect_to(server.host, server.port, server.client_id) as ib,
        ):
            replayed = await session(ib)
        print(f"replayed: {show(replayed)}")
        same = {**replayed, "accounts": None} == {**original, "accounts": None}
        print(f"same result: {same} (the accounts as redacted in the file)")

        # a client that strays: the replay closes its connection and says why
        logging.getLogger("aiotws").setLevel(logging.ERROR)  # no warnings: it is on purpose
        try:
            async with (
                ReplayServer(path) as server,
                IB.connect_to(server.host, server.port, server.client_id, reconnect=False) as ib,
            ):
                try:
                    await session(ib, "MSFT")
                except TWSConnectionError as e:
                    print(f"the straying client: {e}")
        except ReplayMismatch as e:
            print(f"the replay: {e}")

        if args.keep:
            shutil.copyfile(path, args.keep)
            print(f"kept the recording as {args.keep} (play it: aiotws replay {args.keep})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
