"""Many tickers: 10,000 live Tickers at once, RSS per Ticker and update latency, side by side.

A minimal raw TWS runs in a child process. For each client it answers the handshake (server
version 176), START_API (MANAGED_ACCTS + NEXT_VALID_ID) and REQ_POSITIONS (POSITION_END,
which ib_async asks for on connect), and records the request id of every REQ_MKT_DATA. Once
all N subscriptions have arrived it streams rounds: each round is one TICK_PRICE (bid, ask
or last, at realistic prices) per ticker, then one TICK_STRING (tick type 45,
LAST_TIMESTAMP) on the round's last ticker whose value carries the round number. The
server notes the ``time.perf_counter()`` at which each round was fully written (handed to
the kernel); the client notes when its last ticker shows that round's timestamp and
acknowledges with REQ_CURRENT_TIME, which lets the server send the next round (closed
loop: a round's latency is not queueing behind earlier rounds). Latency per round =
client seen - server written, on the system-wide monotonic clock both processes share.

Round 0 is the warm-up: every ticker has its first tick, then the client reads its RSS
(``/proc/self/statm``) and reports (after - before) / N, "before" being taken right after
connecting, before the first subscription. Rounds 1..R are timed. Subscribe time: from the
client's first subscription call to the server having read the N-th REQ_MKT_DATA.

Each client runs in a fresh interpreter (``sys.executable this-file --client NAME``) so
RSS numbers don't mix. Clients: aiotws (``IB(rate=0)``: no client-side pacing, or 10,000
subscriptions would take minutes at TWS's 50 msg/s) and ib_async 2.1 (``reqMktData``, with
``client.MaxRequests = 0`` for the same reason; skipped when not installed). No assertion
on numbers anywhere: they are printed.

    python benchmarks/bench_many_tickers.py [--tickers 10000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from rawtws import accept, answer_startup, frame, recv_frame

TS_BASE = 1_767_225_600  # 2026-01-01 UTC: LAST_TIMESTAMP value of round r is TS_BASE + r
TICK_TYPES = (1, 2, 4)  # bid, ask, last


def _round(req_ids: list[bytes], r: int) -> bytes:
    """One TICK_PRICE per ticker, then LAST_TIMESTAMP = TS_BASE + r on the last one."""
    out = []
    for i, rid in enumerate(req_ids):
        tick = TICK_TYPES[(i + r) % 3]
        price = 20.0 + (i % 4000) * 0.05 + (r % 20) * 0.01 + (0.01 if tick == 2 else 0.0)
        out.append(
            frame(
                b"1\x006\x00%s\x00%d\x00%.2f\x00%d\x003\x00"
                % (rid, tick, price, 100 + (i + r) % 50)
            )
        )
    out.append(frame(b"46\x006\x00%s\x0045\x00%d\x00" % (req_ids[-1], TS_BASE + r)))
    return b"".join(out)


def _serve(sock: socket.socket, n: int, rounds: int, written: Any, subscribed: Any) -> None:
    """Serve clients one after the other until killed."""
    while True:
        conn, buf = accept(sock)
        req_ids: list[bytes] = []
        next_round: bytes | None = None
        r = 0
        while True:
            payload = recv_frame(conn, buf)
            if payload is None:
                break
            fields = payload.split(b"\x00")
            msg_id = int(fields[0])
            if answer_startup(conn, msg_id):
                continue
            if msg_id == 1:  # REQ_MKT_DATA: V=11, reqId, ...
                req_ids.append(fields[2])
                if len(req_ids) == n:
                    subscribed.value = time.perf_counter()
                    conn.sendall(_round(req_ids, 0))  # warm-up: every ticker's first tick
                    written[0] = time.perf_counter()
                    next_round = _round(req_ids, 1)
            elif msg_id == 49 and next_round is not None:  # REQ_CURRENT_TIME: round r seen
                r += 1
                if r > rounds:
                    next_round = None
                    continue
                conn.sendall(next_round)
                written[r] = time.perf_counter()
                next_round = _round(req_ids, r + 1) if r < rounds else None
        conn.close()


class _Server:
    def __init__(self, n: int, rounds: int) -> None:
        ctx = mp.get_context("fork")
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.written = ctx.Array("d", rounds + 1, lock=False)
        self.subscribed = ctx.Value("d", 0.0, lock=False)
        self.proc = ctx.Process(
            target=_serve,
            args=(self.sock, n, rounds, self.written, self.subscribed),
            daemon=True,
        )
        self.proc.start()

    def reset(self) -> None:
        for i in range(len(self.written)):
            self.written[i] = 0.0
        self.subscribed.value = 0.0

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.sock.close()


# -- clients (each in its own interpreter) ---------------------------------------------------


def _rss() -> int:
    """Resident set size of this process in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _settled_rss() -> int:
    gc.collect()
    return _rss()


class _Rounds:
    """The client's side of the rounds: when each was seen, and the ack that asks for more."""

    def __init__(self, rounds: int, ack: Any) -> None:
        self.rounds = rounds
        self.ack = ack
        self.seen: list[float] = [0.0] * (rounds + 1)
        self.next = 0
        self.warm: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_timestamp(self, ts: Any) -> None:
        """The last ticker's LAST_TIMESTAMP (a datetime, or None) after an update."""
        if ts is None:
            return
        r = int(ts.timestamp()) - TS_BASE
        if r != self.next:
            return
        self.seen[r] = time.perf_counter()
        self.next += 1
        if r == 0:
            self.warm.set_result(None)  # the client acks once it has read its RSS
        elif r < self.rounds:
            self.ack()
        else:
            self.done.set_result(None)


async def client_aiotws(port: int, n: int, rounds: int) -> dict[str, Any]:
    from aiotws import IB, Stock
    from aiotws.wire.messages import ReqCurrentTime

    ib = IB(rate=0)
    await ib.connect("127.0.0.1", port, client_id=1)
    contracts = [Stock(f"S{i:05d}", con_id=100_000 + i) for i in range(n)]
    before = _settled_rss()
    state = _Rounds(rounds, lambda: ib.client.send(ReqCurrentTime()))
    t0 = time.perf_counter()
    tickers = [ib.market_data(c) for c in contracts]
    last = tickers[-1]
    last.updated += lambda t: state.on_timestamp(t.last_timestamp)
    await state.warm
    after = _settled_rss()
    state.ack()
    await state.done
    end = _settled_rss()
    ib.disconnect()
    await ib.wait_closed()
    return {"t0": t0, "before": before, "after": after, "end": end, "seen": state.seen}


async def client_ib_async(port: int, n: int, rounds: int) -> dict[str, Any]:
    from ib_async import IB, Stock  # type: ignore[import-not-found]
    from ib_async.ib import StartupFetchNONE  # type: ignore[import-not-found]

    ib = IB()
    ib.client.MaxRequests = 0  # no client-side throttle (default: 45 requests per second)
    await ib.connectAsync("127.0.0.1", port, clientId=1, fetchFields=StartupFetchNONE)
    contracts = [Stock(f"S{i:05d}", "SMART", "USD", conId=100_000 + i) for i in range(n)]
    before = _settled_rss()
    state = _Rounds(rounds, ib.client.reqCurrentTime)
    t0 = time.perf_counter()
    tickers = [ib.reqMktData(c) for c in contracts]
    last = tickers[-1]
    last.updateEvent += lambda t: state.on_timestamp(t.lastTimestamp)
    await state.warm
    after = _settled_rss()
    state.ack()
    await state.done
    end = _settled_rss()
    ib.disconnect()
    return {"t0": t0, "before": before, "after": after, "end": end, "seen": state.seen}


CLIENTS = {"aiotws": client_aiotws, "ib_async": client_ib_async}
LABELS = {"aiotws": "aiotws (rate=0)", "ib_async": "ib_async 2.1 (MaxRequests=0)"}


def _client_main(args: argparse.Namespace) -> int:
    result = asyncio.run(CLIENTS[args.client](args.port, args.tickers, args.rounds))
    print(json.dumps(result))
    return 0


def _run_client(name: str, server: _Server, n: int, rounds: int, timeout: float) -> dict[str, Any]:
    server.reset()
    cmd = [sys.executable, os.path.abspath(__file__), "--client", name, "--port", str(server.port)]
    cmd += ["--tickers", str(n), "--rounds", str(rounds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{name} client failed:\n{out.stderr}")
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    lat = [
        (res["seen"][r] - server.written[r]) * 1e3
        for r in range(1, rounds + 1)
        if server.written[r] and res["seen"][r]
    ]
    lat.sort()
    return {
        "subscribe": server.subscribed.value - res["t0"],
        "rss": (res["after"] - res["before"]) / n,
        "growth": (res["end"] - res["after"]) / n,
        "median": statistics.median(lat) if lat else float("nan"),
        "p99": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))] if lat else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--tickers", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--client", choices=sorted(CLIENTS), help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per client")
    args, _ = p.parse_known_args(argv)
    if args.client:
        return _client_main(args)
    n, rounds = args.tickers, args.rounds
    names = ["aiotws"]
    try:
        import ib_async  # type: ignore[import-not-found]  # noqa: F401

        names.append("ib_async")
    except ImportError:
        print("ib_async not installed: skipped (nox -s bench installs it)")
    server = _Server(n, rounds)
    results: dict[str, dict[str, float]] = {}
    try:
        for name in names:
            results[name] = _run_client(name, server, n, rounds, args.timeout)
    finally:
        server.close()
    print(
        f"{n:,} live tickers over loopback, {rounds} timed rounds of one TICK_PRICE per ticker;"
        " each client in a fresh interpreter, client-side request pacing off"
    )
    print(
        f"{'client':<30} {'subscribe s':>11} {'RSS/ticker B':>13}"
        f" {'latency med ms':>15} {'p99 ms':>8}"
    )
    for name, r in results.items():
        print(
            f"{LABELS[name]:<30} {r['subscribe']:>11.3f} {r['rss']:>13,.0f}"
            f" {r['median']:>15.2f} {r['p99']:>8.2f}"
        )
    growth = ", ".join(f"{name} {r['growth']:+,.0f}" for name, r in results.items())
    print(f"RSS change per ticker over the {rounds} timed rounds (bytes): {growth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
