"""A minimal raw TWS for the benchmarks: framing, the handshake and the startup answers.

Not a simulator: each benchmark's server answers its own request with frames built before
the clock starts, so only client work is timed. Shared by ``bench_ticks.py``,
``bench_many_tickers.py`` and ``bench_bars.py``.
"""

from __future__ import annotations

import socket
import struct

SERVER_VERSION = 176  # ib_async 2.1 and aiotws both speak it


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def recv_frame(conn: socket.socket, buf: bytearray) -> bytes | None:
    """The next frame's payload (``None`` at EOF); ``buf`` keeps what follows it."""
    while True:
        if len(buf) >= 4:
            (size,) = struct.unpack_from(">I", buf)
            if len(buf) >= 4 + size:
                payload = bytes(buf[4 : 4 + size])
                del buf[: 4 + size]
                return payload
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk


def accept(sock: socket.socket, version: int = SERVER_VERSION) -> tuple[socket.socket, bytearray]:
    """Accept one client and answer its handshake; returns the connection and its buffer."""
    conn, _ = sock.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    while len(buf) < 4:
        buf += conn.recv(4096)
    del buf[:4]  # "API\0"
    recv_frame(conn, buf)  # version range
    conn.sendall(frame(b"%d\x0020261201 12:00:00 EST\x00" % version))
    return conn, buf


def answer_startup(conn: socket.socket, msg_id: int) -> bool:
    """START_API (managed accounts, next valid id) and REQ_POSITIONS (ib_async's connect)."""
    if msg_id == 71:
        conn.sendall(frame(b"15\x001\x00DU111111\x00") + frame(b"9\x001\x001\x00"))
        return True
    if msg_id == 61:
        conn.sendall(frame(b"62\x001\x00"))
        return True
    return False


def listen() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock
