"""Fixtures for the end-to-end tests: a simulator on loopback port 0 and an ``IB`` connected to it.

No test sleeps: each awaits the event it expects, under ``asyncio.timeout(5)`` so a bug fails
fast instead of hanging. ``sync`` is a round trip through the simulator: the simulator answers
requests in order on one socket, so once its reply is back every message the simulator wrote
before it (and every request the client sent before it) has been processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiotws import IB, Client
from aiotws.sim import SimSession, Simulator
from aiotws.wire import ClientConnection, InMessage, OutMessage, codec
from aiotws.wire.connection import API_PREFIX
from aiotws.wire.framing import frame

#: the guard around every await that could hang if the code under test is wrong
GUARD = 5.0


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1) as s:
        yield s


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
    sim.requests.clear()  # tests look at their own requests, not the connect-time sync's
    yield ib
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


@pytest.fixture
def client(ib: IB) -> Client:
    return ib.client


@pytest.fixture
def session(sim: Simulator, ib: IB) -> SimSession:
    """The simulator's side of the ``ib`` connection."""
    return sim.clients[1]


@pytest.fixture
def sync(client: Client) -> Callable[[], Awaitable[Any]]:
    """A round trip through the simulator (REQ_MANAGED_ACCTS), as an ordering barrier."""

    async def barrier() -> None:
        async with asyncio.timeout(GUARD):
            await client.req_managed_accounts()

    return barrier


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (bound, read back, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
async def loop_exceptions() -> AsyncIterator[list[dict[str, Any]]]:
    """Contexts passed to the running loop's exception handler while the test runs."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    yield seen
    loop.set_exception_handler(old)


class RawClient:
    """A hand-driven client socket: the handshake, then frames written and read one by one."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = ClientConnection()
        self.version = 0

    async def handshake(self, versions: str = "v157..200") -> int:
        self.writer.write(API_PREFIX + frame(versions.encode("ascii")))
        payload = await self.read_payload()
        parts = payload.split(b"\0")
        assert len(parts) == 3, payload
        self.version = int(parts[0])
        # Teach the sans-I/O connection the negotiated version so it can encode for us.
        self.conn.receive_data(frame(payload))
        return self.version

    def send(self, msg: OutMessage) -> None:
        self.writer.write(self.conn.send(msg))

    def send_payload(self, payload: bytes) -> None:
        self.writer.write(frame(payload))

    async def read_payload(self) -> bytes:
        async with asyncio.timeout(GUARD):
            head = await self.reader.readexactly(4)
            return await self.reader.readexactly(int.from_bytes(head, "big"))

    async def read(self) -> InMessage:
        return codec.decode_in(await self.read_payload(), self.version)

    async def read_until(self, cls: type[InMessage]) -> InMessage:
        while True:
            m = await self.read()
            if isinstance(m, cls):
                return m

    async def at_eof(self) -> bool:
        async with asyncio.timeout(GUARD):
            return await self.reader.read() == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
async def raw(sim: Simulator) -> AsyncIterator[Callable[..., Awaitable[RawClient]]]:
    """Open raw client sockets to ``sim`` (or another simulator); all closed at teardown."""
    opened: list[RawClient] = []

    async def open_raw(target: Simulator | None = None) -> RawClient:
        to = target or sim
        async with asyncio.timeout(GUARD):
            reader, writer = await asyncio.open_connection(to.host, to.port)
        c = RawClient(reader, writer)
        opened.append(c)
        return c

    yield open_raw
    for c in opened:
        await c.close()
