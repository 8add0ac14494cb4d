"""Live bars: a keep-up-to-date bar list (its last bar revised in place, new bars appended)
and TWS's 5-second real-time bars.

By default this runs against an embedded TWS simulator set inside a trading session with
its clock at 120x (so minute bars roll over twice a second and 5-second bars arrive
24 times a second); ``--port`` points it at a real TWS or IB Gateway, where bars come at
the market's own pace (and not at all outside trading hours: it then gives up after a few
seconds).

    python examples/live_bars.py
    python examples/live_bars.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import UTC, datetime, time

from aiotws import IB, BarList, Stock, TWSConnectionError
from aiotws.sim import Simulator
from aiotws.sim.calendar import previous_business_day

SECONDS = 4.0  # at most this long for each kind of bars


def fmt(b: object) -> str:
    d = getattr(b, "date", None) or getattr(b, "time", None)
    o, h, lo, c = (getattr(b, k) for k in ("open", "high", "low", "close"))
    return f"{d:%H:%M:%S %Z} o {o:.2f} h {h:.2f} l {lo:.2f} c {c:.2f} v {getattr(b, 'volume', '')}"


async def show(ib: IB) -> None:
    (aapl,) = await ib.qualify(Stock("AAPL"))

    bars = await ib.historical_bars(aapl, None, "1800 S", "1 min", keep_up_to_date=True)
    print(f"{len(bars)} minute bars; the one in progress: {fmt(bars[-1])}")
    rolled: list[int] = []

    def on_bars(bars: BarList, new_bar: bool) -> None:
        if new_bar:
            rolled.append(len(bars))
            print(f"  new bar; the finished one: {fmt(bars[-2])}")

    bars.updated += on_bars
    updates = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SECONDS):
            async for b in bars.updates():  # latest state: a slow consumer skips, never lags
                updates += 1
                if updates % 20 == 0:
                    print(f"  revised: {fmt(b[-1])}")
                if len(rolled) >= 2:
                    break
    ib.cancel_historical_bars(bars)
    print(f"keep-up-to-date: {updates} updates, {len(rolled)} new bars, now {len(bars)} bars")

    rt = ib.real_time_bars(aapl, "TRADES", use_rth=False, max_bars=100)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SECONDS):
            async for r in rt.updates():
                print(f"  5-second bar {fmt(r[-1])}")
                if len(r) >= 5:
                    break
    ib.cancel_real_time_bars(rt)
    print(f"real-time bars: {len(rt)}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            # the last business day, 10:30 or 11:30 in New York: inside AAPL's regular hours
            day = previous_business_day(datetime.now(UTC).date())
            start = datetime.combine(day, time(15, 30), UTC)
            sim = await stack.enter_async_context(
                Simulator(port=0, seed=1, market_start=start, market_speed=120, tick_interval=0.05)
            )
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port} at {start:%Y-%m-%d %H:%M} UTC, 120x)")
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
