"""Receive-path throughput: aiotws, naive re-slicing loops and ib_async on the same bytes.

One run, one input, side by side (STYLE.md section 15). The input is a flood of
length-prefixed frames delivered in fixed-size chunks, as a socket read would deliver them
(frames straddle chunk boundaries):

* **framing** -- 100k frames shaped like TICK_PRICE text messages
  (``1 6 <reqId> 1 185.25 100 3``, 29 bytes each with the prefix), split into payloads:

  - ``aiotws Framer.feed``: walks an offset, slices each payload once, drops the consumed
    prefix once per read;
  - ``naive re-slice``: ``data += chunk`` then ``data = data[end:]`` per message, the loop
    shape of ib_async's ``Client._onSocketHasData``;
  - ``naive read_msg``: a ``read_msg(buf) -> (size, msg, rest)`` helper returning the unread
    tail per message, the shape of the official client's ``comm.read_msg``.

  The two naive loops are written here from those descriptions as baselines; they copy no
  code from either project.

* **decode** -- framing, field split and full decode into messages or handler calls:

  - ``aiotws ClientConnection.receive_data`` on NEXT_VALID_ID frames (``9 1 <n>``): framing,
    UTF-8 decode, field split, the layout-driven decoder and the ``NextValidId`` dataclass.
    aiotws's tick decoders arrive in a later release, so this decodes the messages that
    exist today;
  - ``ib_async 2.1 Client._onSocketHasData`` on the same NEXT_VALID_ID frames and on the
    TICK_PRICE frames, with a stub wrapper whose ``nextValidId`` / ``priceSizeTick`` do
    nothing: ib_async's own framing, split, decoder and dispatch, without its Ticker
    bookkeeping. Skipped, with a note, when ib_async is not importable.

Timing: ``time.perf_counter``, best of ``--repeats`` runs, fresh parser state per run (set
up outside the timed region). Numbers are for reading, never for assertions.

    python benchmarks/bench_framing.py [--frames 100000] [--repeats 5] [--chunk 65536 ...]
"""

from __future__ import annotations

import argparse
import gc
import logging
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiotws.wire import ClientConnection, Framer, frame
from aiotws.wire.messages import NextValidId

Run = Callable[[list[bytes]], int]
Setup = Callable[[], Run]

DEFAULT_FRAMES = 100_000
DEFAULT_CHUNKS = (64 * 1024, 256 * 1024)
IB_ASYNC_VERSION = 178  # ib_async 2.1 negotiates at most server version 178
AIOTWS_VERSION = 200


# -- input ------------------------------------------------------------------------------------


def tick_price_stream(n: int) -> bytes:
    """``n`` framed TICK_PRICE-shaped messages: id 1, version 6, reqId, tick 1 (bid) …"""
    return b"".join(
        frame(b"1\x006\x00" + str(1000 + i % 1000).encode() + b"\x001\x00185.25\x00100\x003\x00")
        for i in range(n)
    )


def next_valid_id_stream(n: int) -> bytes:
    """``n`` framed NEXT_VALID_ID messages: id 9, version 1, order id."""
    return b"".join(frame(b"9\x001\x00" + str(i + 1).encode() + b"\x00") for i in range(n))


def chunked(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


# -- aiotws -----------------------------------------------------------------------------------


def aiotws_framer() -> Run:
    framer = Framer()

    def run(chunks: list[bytes]) -> int:
        feed = framer.feed
        n = 0
        for chunk in chunks:
            n += len(feed(chunk))
        return n

    return run


def aiotws_decode() -> Run:
    conn = ClientConnection()
    conn.initiate()
    (hs,) = conn.receive_data(frame(f"{AIOTWS_VERSION}\x0020261201 12:00:00 EST\x00".encode()))
    assert conn.server_version == AIOTWS_VERSION, hs

    def run(chunks: list[bytes]) -> int:
        receive = conn.receive_data
        n = 0
        last: Any = None
        for chunk in chunks:
            events = receive(chunk)
            n += len(events)
            if events:
                last = events[-1]
        assert isinstance(last, NextValidId), last
        return n

    return run


# -- naive baselines (written for this benchmark) ---------------------------------------------

_LEN = struct.Struct(">I")


def naive_reslice() -> Run:
    """Append each read to a bytes buffer; re-slice the unread tail after every message."""
    state = {"data": b""}

    def run(chunks: list[bytes]) -> int:
        unpack = _LEN.unpack
        data = state["data"]
        n = 0
        for chunk in chunks:
            data += chunk
            while len(data) >= 4:
                end = 4 + unpack(data[:4])[0]
                if len(data) < end:
                    break
                payload = data[4:end]
                data = data[end:]  # copies the whole unread tail, once per message
                n += payload is not None
        state["data"] = data
        return n

    return run


def _read_msg(buf: bytes) -> tuple[int, bytes | None, bytes]:
    """``(size, payload or None, rest)``: one message off the front of ``buf``."""
    if len(buf) < 4:
        return 0, None, buf
    size = _LEN.unpack(buf[:4])[0]
    if len(buf) - 4 < size:
        return size, None, buf
    return size, buf[4 : 4 + size], buf[4 + size :]


def naive_read_msg() -> Run:
    """A reader loop over a helper that returns the unread tail with every message."""
    state = {"buf": b""}

    def run(chunks: list[bytes]) -> int:
        buf = state["buf"]
        n = 0
        for chunk in chunks:
            buf += chunk
            while buf:
                _, msg, buf = _read_msg(buf)
                if msg is None:
                    break
                n += 1
        state["buf"] = buf
        return n

    return run


# -- ib_async ---------------------------------------------------------------------------------


class _StubWrapper:
    """Just the wrapper methods ib_async's decoder calls for these two messages."""

    def __init__(self) -> None:
        self.count = 0

    def priceSizeTick(self, req_id: int, tick_type: int, price: float, size: float) -> None:
        self.count += 1

    def nextValidId(self, order_id: int) -> None:
        self.count += 1


def ib_async_available() -> str | None:
    """ib_async's version, or ``None`` when it cannot be imported."""
    try:
        import ib_async
    except ImportError:
        return None
    return str(getattr(ib_async, "__version__", "?"))


def ib_async_client() -> Run:
    """ib_async's ``Client`` past its handshake, parsing with a stub wrapper."""
    from ib_async.client import Client

    # A frame ib_async cannot decode is logged with a traceback; the frame count check in
    # best_of() reports it instead, without flooding the terminal.
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    wrapper = _StubWrapper()
    client = Client(wrapper)
    client._serverVersion = IB_ASYNC_VERSION
    client.decoder.serverVersion = IB_ASYNC_VERSION
    client.connState = Client.CONNECTED
    client._apiReady = True  # past the start-up snooping of ids 9 and 15, as when live

    def run(chunks: list[bytes]) -> int:
        on_data = client._onSocketHasData
        wrapper.count = 0
        for chunk in chunks:
            on_data(chunk)
        return wrapper.count

    return run


# -- harness ----------------------------------------------------------------------------------


@dataclass
class Case:
    group: str
    name: str
    workload: str
    setup: Setup
    baseline: bool = False


@dataclass
class Result:
    case: Case
    frames: int
    nbytes: int
    seconds: float

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / self.seconds / 1e6


def best_of(setup: Setup, chunks: list[bytes], repeats: int, expect: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        run = setup()
        gc.collect()
        t0 = time.perf_counter()
        n = run(chunks)
        dt = time.perf_counter() - t0
        if n != expect:
            raise RuntimeError(f"parsed {n} frames, expected {expect}")
        best = min(best, dt)
    return best


def cases(with_ib_async: bool) -> list[Case]:
    out = [
        Case("framing", "aiotws Framer.feed", "tick_price", aiotws_framer, baseline=True),
        Case("framing", "naive re-slice (ib_async-style loop)", "tick_price", naive_reslice),
        Case("framing", "naive read_msg (ibapi comm-style loop)", "tick_price", naive_read_msg),
        Case(
            "decode",
            "aiotws ClientConnection.receive_data",
            "next_valid_id",
            aiotws_decode,
            baseline=True,
        ),
    ]
    if with_ib_async:
        out += [
            Case("decode", "ib_async Client._onSocketHasData", "next_valid_id", ib_async_client),
            Case("decode", "ib_async Client._onSocketHasData", "tick_price", ib_async_client),
        ]
    return out


def format_table(chunk: int, results: Sequence[Result]) -> str:
    base = {r.case.group: r.frames_per_s for r in results if r.case.baseline}
    header = ("group", "implementation", "frames", "frames/s", "MB/s", "vs aiotws")
    rows = [
        (
            r.case.group,
            r.case.name,
            r.case.workload,
            f"{r.frames_per_s:,.0f}",
            f"{r.mb_per_s:,.1f}",
            f"{r.frames_per_s / base[r.case.group]:.2f}x",
        )
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    right = {2: False, 3: True, 4: True, 5: True}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if right.get(i) else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    title = f"chunks of {chunk // 1024} KiB"
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([title, line(header), sep, *(line(r) for r in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="framing/decode throughput, aiotws vs others")
    p.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
    p.add_argument("--repeats", type=int, default=5, help="best of N runs")
    p.add_argument("--chunk", type=int, action="append", help="read size in bytes (repeatable)")
    args, _ = p.parse_known_args(argv)
    chunk_sizes = tuple(args.chunk or DEFAULT_CHUNKS)

    streams = {
        "tick_price": tick_price_stream(args.frames),
        "next_valid_id": next_valid_id_stream(args.frames),
    }
    ib_async_version = ib_async_available()
    print(
        f"Python {sys.version.split()[0]}, {args.frames:,} frames, best of {args.repeats}; "
        f"tick_price {len(streams['tick_price']) / 1e6:.2f} MB, "
        f"next_valid_id {len(streams['next_valid_id']) / 1e6:.2f} MB"
    )
    if ib_async_version is None:
        print("ib_async is not installed: skipping its rows (nox -s bench installs 2.1.0)")
    else:
        print(f"ib_async {ib_async_version} (parsing at server version {IB_ASYNC_VERSION})")
    print("'vs aiotws' compares frames/s with the aiotws row of the same group.")

    for size in chunk_sizes:
        results = []
        for case in cases(ib_async_version is not None):
            stream = streams[case.workload]
            chunks = chunked(stream, size)
            secs = best_of(case.setup, chunks, args.repeats, args.frames)
            results.append(Result(case, args.frames, len(stream), secs))
        print()
        print(format_table(size, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
