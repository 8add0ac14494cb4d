"""A chunked download of minute bars to CSV (and Parquet when pandas and pyarrow are
installed), with progress, in a temporary directory.

``ib.download_bars`` splits a long range into requests TWS accepts, runs several at once
within IB's pacing rules, and stitches the answers (one bar per time). A failed chunk
raises ``DownloadIncomplete``, keeping what arrived; awaiting ``run()`` again fetches only
what is missing.

By default this runs against an embedded TWS simulator (history from the same seeded price
process as its live quotes); ``--port`` points it at a real TWS or IB Gateway.

    python examples/history_download.py
    python examples/history_download.py --port 7497 --client-id 7 --days 10 --out ./data
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import importlib.util
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiotws import IB, BarList, DownloadIncomplete, Stock, TWSConnectionError
from aiotws.sim import Simulator

FIELDS = ("date", "open", "high", "low", "close", "volume", "wap", "bar_count")


def write_csv(bars: BarList, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for b in bars:
            w.writerow(
                [b.date.isoformat(), b.open, b.high, b.low, b.close, b.volume, b.wap, b.bar_count]
            )


async def show(ib: IB, days: int, out: Path) -> None:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    for symbol in ("AAPL", "MSFT"):
        (contract,) = await ib.qualify(Stock(symbol))
        dl = ib.download_bars(contract, start, end, "1 min", use_rth=True, concurrency=4)
        dl.progress += lambda done, total, s=symbol: print(f"  {s}: chunk {done}/{total}")
        print(f"{dl.describe()}: {dl.total} requests")
        try:
            bars = await dl.run()
        except DownloadIncomplete as e:
            print(f"  {e}; resuming")
            bars = await dl.run()  # only the missing chunks
        if not bars:
            print("  no bars (a market holiday?)")
            continue
        path = out / f"{symbol}_1min.csv"
        write_csv(bars, path)
        print(f"  {len(bars)} bars {bars[0].date:%m-%d %H:%M} .. {bars[-1].date:%m-%d %H:%M}")
        print(f"  -> {path} ({path.stat().st_size:,} bytes)")
        with path.open() as f:
            print("     " + "     ".join([next(f), next(f)]), end="")
        if importlib.util.find_spec("pandas") and importlib.util.find_spec("pyarrow"):
            df = bars.df()
            df.to_parquet(out / f"{symbol}_1min.parquet")
            print(f"  -> {out / f'{symbol}_1min.parquet'} ({len(df)} rows)")
    if not importlib.util.find_spec("pandas"):
        print("(pip install pandas pyarrow to also write Parquet)")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    p.add_argument("--days", type=int, default=3, help="days of minute bars (default 3)")
    p.add_argument("--out", type=Path, default=None, help="directory (default: a temporary one)")
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
        out = args.out or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        out.mkdir(parents=True, exist_ok=True)
        await show(ib, args.days, out)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
