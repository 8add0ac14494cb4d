"""A long-running service skeleton: one ``IB`` that outlives TWS restarts, its session
events logged, its work resumed on ``restored``, and a clean stop on SIGINT/SIGTERM.

The session supervisor reconnects with capped backoff (no attempt limit), then re-syncs
orders, positions and executions and re-issues every live subscription on the same objects:
the ticker below keeps updating after a restart without the service doing anything.

By default this runs against an embedded TWS simulator that, while the service runs, goes
through a daily restart and an IB-side outage (1100, then 1102), and stops after
``--seconds`` (default 2.5). ``--port`` points it at a real TWS or IB Gateway, where it runs
until interrupted (or ``--seconds``).

    python examples/service.py
    python examples/service.py --port 7497 --client-id 7 --seconds 0   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time

from aiotws import IB, Stock, SyncReport, TWSConnectionError
from aiotws.session import ReconnectPolicy, SessionStatus
from aiotws.sim import Simulator

T0 = time.monotonic()


def log(text: str) -> None:
    print(f"[{time.monotonic() - T0:5.2f}s] {text}", flush=True)


def wire_events(ib: IB) -> None:
    """What a service logs (and alerts on): every change of the session's state."""
    ib.session_state += lambda st: log(f"session: {st}")
    ib.disconnected += lambda exc: log(f"disconnected: {exc!r}" if exc else "disconnected")
    ib.reconnecting += lambda n, delay: log(f"reconnecting: attempt {n} in {delay:.2f}s")
    ib.connectivity += lambda e: log(f"TWS <-> IB: {e.code} {e.text}")

    def on_restored(report: SyncReport) -> None:
        st = ib.session.status
        log(
            f"restored after {st.last_restore_seconds or 0:.2f}s (sync complete: {report.complete})"
        )

    ib.restored += on_restored


async def work(ib: IB, stop: asyncio.Event) -> None:
    """The service's own job: here, follow one ticker and report it every 0.5 s."""
    (aapl,) = await ib.qualify(Stock("AAPL"))
    ticker = ib.market_data(aapl)  # kept alive across reconnects by the session
    await ticker.ready(10)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
        status: SessionStatus = ib.session.status
        state = "live" if status.healthy and not ticker.stale else "stale"
        log(f"AAPL {ticker.bid} / {ticker.ask} ({state})")
    ib.cancel_market_data(ticker)


async def chaos(sim: Simulator) -> None:
    """What the embedded simulator puts the service through."""
    await asyncio.sleep(0.6)
    log("sim: daily restart, down 0.5 s")
    await sim.restart(0.5)
    await asyncio.sleep(0.8)
    log("sim: IB connectivity lost")
    sim.connectivity_lost()
    await asyncio.sleep(0.4)
    sim.connectivity_restored(data_lost=False)


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    p.add_argument("--seconds", type=float, default=None, help="run time (0: until stopped)")
    args = p.parse_args(argv)
    # aiotws logs what the session does and what comes next (aiotws.session, aiotws.client)
    logging.basicConfig(level=logging.WARNING, format="    log %(name)s: %(message)s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    seconds = args.seconds if args.seconds is not None else (2.5 if args.port is None else 0)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        sim: Simulator | None = None
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1, tick_interval=0.05))
            sim.config.connectivity_repeat = 0.2
            host, port = sim.host, sim.port
            log(f"(embedded simulator on {host}:{port}; pass --port for a real TWS)")
        # a service reconnects forever; the delays here are short for the demo
        policy = ReconnectPolicy(initial_delay=0.2, max_delay=30.0, heartbeat=10.0)
        ib = IB(reconnect=policy)
        wire_events(ib)
        try:
            await ib.connect(host, port, client_id=args.client_id)
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        stack.callback(ib.disconnect)
        log(f"connected: server {ib.server_version}, accounts {ib.managed_accounts}")
        if seconds > 0:
            loop.call_later(seconds, stop.set)
        tasks = [asyncio.create_task(work(ib, stop))]
        if sim is not None:
            tasks.append(asyncio.create_task(chaos(sim)))
        await stop.wait()
        await asyncio.gather(*tasks)
        log(f"stopping: {ib.session.status.restores} restore(s)")
        ib.disconnect()
        await ib.wait_closed()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
