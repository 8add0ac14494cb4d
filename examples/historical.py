"""Historical bars, a live-updating bar list, ticks and a chunked download.

By default this runs against an embedded TWS simulator (history from the same seeded price
process as its live quotes); ``--port`` points it at a real TWS or IB Gateway.

    python examples/historical.py
    python examples/historical.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import UTC, datetime, timedelta

from aiotws import IB, InvalidHistoricalRequest, Stock, TWSConnectionError
from aiotws.sim import Simulator


async def show(ib: IB) -> None:
    (aapl,) = await ib.qualify(Stock("AAPL"))
    daily = await ib.historical_bars(aapl, duration="1 M", bar_size="1 day")
    print(f"{len(daily)} daily bars; last: {daily[-1].date} close {daily[-1].close}")

    bars = await ib.historical_bars(aapl, duration="1 D", bar_size="5 mins", use_rth=True)
    b = bars[-1]
    print(f"{len(bars)} 5-minute bars; last starts {b.date:%Y-%m-%d %H:%M %Z}, volume {b.volume}")

    mid = await ib.historical_bars(aapl, duration="1 D", bar_size="1 hour", what_to_show="MIDPOINT")
    print(f"MIDPOINT bars have no volume: {mid[-1].volume}")

    try:  # refused before anything is sent, with the error TWS would give
        await ib.historical_bars(aapl, duration="1 D", bar_size="1 secs")
    except InvalidHistoricalRequest as e:
        print(f"refused: {e} (TWS would answer {e.code})")

    head = await ib.head_timestamp(aapl)
    print(f"TRADES data since {head:%Y-%m-%d}")
    ticks = await ib.historical_ticks(
        aapl, end=datetime.now(UTC), number_of_ticks=5, what_to_show="BID_ASK", use_rth=False
    )
    for t in ticks[-2:]:
        print(f"tick {t.time:%H:%M:%S} {t.bid_price} / {t.ask_price}")  # type: ignore[union-attr]

    waits: list[str] = []
    ib.historical_pacer.waiting += lambda reason, delay: waits.append(str(reason))
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    done: list[int] = []
    week = await ib.historical_bars_range(
        aapl, end - timedelta(days=3), end, "1 min", progress=lambda d, total: done.append(d)
    )
    times = [b.date for b in week]
    assert len(times) == len(set(times))  # stitched: one bar per time
    print(
        f"3 days of minute bars in {len(done)} chunks: {len(week)} bars, pacer waits {len(waits)}"
    )


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
