"""Tick flood: TICK_PRICE/TICK_SIZE frames over loopback into one Ticker, side by side.

A minimal raw TWS runs in a child process. For each run it answers the handshake (server
version 176, which ib_async 2.1 and aiotws both speak), START_API and REQ_POSITIONS, then,
on REQ_MKT_DATA, builds the whole flood of frames for that request id *before* starting the
clock and writes it in one go. The client proves it decoded everything by ending with the
last values sent (bid, ask and last of the final three ticks). Timed: from the server's
first write to the client seeing those values. The server and the client share the system
monotonic clock (``time.perf_counter``).

Clients: aiotws (``IB.market_data`` → ``Ticker``), ib_async 2.1 (``IB.reqMktData`` →
``Ticker``; skipped when not installed), and a floor: a bare asyncio Protocol that only
frames and splits fields. No assertion on speed anywhere: numbers are printed.

    python benchmarks/bench_ticks.py [--messages 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import struct
import sys
import time
from typing import Any

from rawtws import accept, answer_startup, frame, recv_frame

FINAL = {1: 987.25, 2: 987.5, 4: 987.375}  # bid, ask, last of the closing ticks
PAYLOAD_IDS = (1, 1, 1, 2, 2, 2)  # TICK_PRICE x3, TICK_SIZE x3 per cycle


def _flood(req_id: int, n: int) -> bytes:
    """``n`` tick frames for ``req_id`` ending with the FINAL prices."""
    rid = str(req_id).encode()
    out = []
    cycle = [
        (1, 1, 0, 3),  # TICK_PRICE bid, size tick 0
        (1, 2, 0, 3),  # TICK_PRICE ask
        (1, 4, 0, 3),  # TICK_PRICE last
        (2, 0, 0, 0),  # TICK_SIZE bid size
        (2, 3, 0, 0),  # TICK_SIZE ask size
        (2, 5, 0, 0),  # TICK_SIZE last size
    ]
    for i in range(n - 3):
        kind, tick, _, mask = cycle[i % 6]
        price = 100.0 + (i % 400) * 0.25
        size = 100 + i % 50
        if kind == 1:
            p = b"1\x006\x00%s\x00%d\x00%s\x00%d\x00%d\x00" % (
                rid,
                tick,
                repr(price).encode(),
                size,
                mask,
            )
        else:
            p = b"2\x006\x00%s\x00%d\x00%d\x00" % (rid, tick, size)
        out.append(frame(p))
    for tick, price in FINAL.items():
        out.append(
            frame(b"1\x006\x00%s\x00%d\x00%s\x00100\x003\x00" % (rid, tick, repr(price).encode()))
        )
    return b"".join(out)


def _serve(sock: socket.socket, n: int, start: Any) -> None:
    """Serve clients one after the other until killed."""
    while True:
        conn, buf = accept(sock)
        while True:
            payload = recv_frame(conn, buf)
            if payload is None:
                break
            fields = payload.split(b"\x00")
            msg_id = int(fields[0])
            if answer_startup(conn, msg_id):
                continue
            if msg_id == 1:  # REQ_MKT_DATA: V=11, reqId, ...
                flood = _flood(int(fields[2]), n)
                start.value = time.perf_counter()
                conn.sendall(flood)
        conn.close()


class _Server:
    def __init__(self, n: int) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.start = mp.get_context("fork").Value("d", 0.0)
        self.proc = mp.get_context("fork").Process(
            target=_serve, args=(self.sock, n, self.start), daemon=True
        )
        self.proc.start()

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.sock.close()


# -- clients ---------------------------------------------------------------------------------


def _is_final(bid: float, ask: float, last: float) -> bool:
    return bid == FINAL[1] and ask == FINAL[2] and last == FINAL[4]


async def run_aiotws(port: int) -> float:
    from aiotws import IB, StartupSync, Stock

    # the raw TWS answers no startup sync (open orders, positions …): load nothing, as
    # ib_async's StartupFetchNONE below
    ib = IB(rate=0, sync=StartupSync.none())
    await ib.connect("127.0.0.1", port, client_id=1)
    done = asyncio.get_running_loop().create_future()

    def check(t: Any) -> None:
        if not done.done() and _is_final(t.bid, t.ask, t.last):
            done.set_result(time.perf_counter())

    ticker = ib.market_data(Stock("AAPL", con_id=265598))
    ticker.updated += check
    end = await done
    ib.disconnect()
    await ib.wait_closed()
    return float(end)


async def run_ib_async(port: int) -> float:
    from ib_async import IB, Stock  # type: ignore[import-not-found]
    from ib_async.ib import StartupFetchNONE  # type: ignore[import-not-found]

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, fetchFields=StartupFetchNONE)
    done = asyncio.get_running_loop().create_future()
    ticker = ib.reqMktData(Stock("AAPL", "SMART", "USD", conId=265598))

    def check(t: Any) -> None:
        if not done.done() and _is_final(t.bid, t.ask, t.last):
            done.set_result(time.perf_counter())

    ticker.updateEvent += check
    end = await done
    ib.disconnect()
    return float(end)


class _Floor(asyncio.Protocol):
    """Frames and splits fields; nothing else. The lower bound of any Python client."""

    def __init__(self, n: int, done: asyncio.Future[float]) -> None:
        self.n = n
        self.done = done
        self.buf = bytearray()
        self.count = 0
        self.state = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(b"API\x00" + frame(b"v157..176"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        unpack = struct.unpack_from
        while end - pos >= 4:
            (size,) = unpack(">I", buf, pos)
            if end - pos - 4 < size:
                break
            fields = bytes(buf[pos + 4 : pos + 4 + size]).split(b"\x00")
            pos += 4 + size
            self._on(fields)
        del buf[:pos]

    def _on(self, fields: list[bytes]) -> None:
        assert self.transport is not None
        if self.state == 0:  # handshake reply
            self.state = 1
            self.transport.write(frame(b"71\x002\x001\x00\x00"))
        elif self.state == 1 and fields[0] == b"9":
            self.state = 2
            self.transport.write(frame(b"1\x0011\x001\x00" + b"\x00" * 20))
        elif self.state == 2 and fields[0] in (b"1", b"2"):
            self.count += 1
            if self.count == self.n and not self.done.done():
                self.done.set_result(time.perf_counter())


async def run_floor(port: int, n: int) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    transport, _ = await loop.create_connection(lambda: _Floor(n, done), "127.0.0.1", port)
    end = await done
    transport.close()
    return end


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    args, _ = p.parse_known_args(argv)
    n = args.messages
    server = _Server(n)
    try:
        clients: list[tuple[str, Any]] = [
            ("floor (frame + split only)", lambda: run_floor(server.port, n)),
            ("aiotws", lambda: run_aiotws(server.port)),
        ]
        try:
            import ib_async  # type: ignore[import-not-found]  # noqa: F401

            clients.append(("ib_async 2.1", lambda: run_ib_async(server.port)))
        except ImportError:
            print("ib_async not installed: skipped (nox -s bench installs it)")
        # rounds interleave the clients, so a slower stretch of a shared machine costs each
        # of them alike; each client keeps its best round
        best = dict.fromkeys((name for name, _ in clients), float("inf"))
        for _ in range(args.repeat):
            for name, run in clients:
                server.start.value = 0.0
                end = asyncio.run(run())
                best[name] = min(best[name], end - server.start.value)
        results = {name: n / elapsed for name, elapsed in best.items()}
    finally:
        server.close()
    floor = results.get("floor (frame + split only)", 0.0)
    ib_async_rate = results.get("ib_async 2.1")
    print(f"{n:,} TICK_PRICE/TICK_SIZE frames over loopback into one ticker, best of {args.repeat}")
    print(f"{'client':<28} {'msgs/s':>12} {'vs floor':>9} {'vs ib_async':>12}")
    for name, rate in results.items():
        rel = f"{rate / ib_async_rate:.2f}x" if ib_async_rate else "-"
        print(f"{name:<28} {rate:>12,.0f} {rate / floor:>8.2f}x {rel:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
