"""Connecting to the simulator: ready state, negotiated version, accounts, notices, failures."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiotws import (
    IB,
    Client,
    ClientIdInUse,
    ConnectionRefused,
    ConnectTimeout,
    ErrorInfo,
    ErrorKind,
    StartupSync,
    TWSConnectionError,
    TWSError,
)
from aiotws.client import ClientState
from aiotws.errors import RemoteProtocolError, UnsupportedServerVersion
from aiotws.sim import Simulator
from aiotws.wire.framing import frame
from aiotws.wire.messages import ManagedAccts, NextValidId

GUARD = 5.0

# -- ready state ---------------------------------------------------------------------------


async def test_ready_after_next_valid_id_and_managed_accounts(sim: Simulator) -> None:
    ib = IB(sync=StartupSync.none())  # the sync's REQ_EXECUTIONS would take an id
    seen: list[str] = []
    ib.client.on(NextValidId, lambda m: seen.append("NEXT_VALID_ID"))
    ib.client.on(ManagedAccts, lambda m: seen.append("MANAGED_ACCTS"))
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
    try:
        # connect() returned only once both arrived
        assert sorted(seen) == ["MANAGED_ACCTS", "NEXT_VALID_ID"]
        assert ib.is_connected()
        assert ib.client.state is ClientState.CONNECTED
        assert ib.client.client_id == 1
        # the id counter was seeded by NEXT_VALID_ID (the simulator starts at 1)
        assert ib.client.next_id() == sim.next_order_id(1)
        assert 1 in sim.clients and sim.clients[1].started
    finally:
        ib.disconnect()
        await ib.wait_closed()
    assert not ib.is_connected()


async def test_default_server_version_is_200(ib: IB) -> None:
    assert ib.server_version == 200
    assert ib.client.server_version == 200


async def test_server_version_follows_simulator_max() -> None:
    async with (
        Simulator(port=0, max_version=176) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        assert ib.server_version == 176
        assert sim.clients[1].version == 176
        # requests work at the older version too
        assert (await ib.current_time()).tzinfo is not None


async def test_server_version_follows_client_max(sim: Simulator) -> None:
    c = Client(max_version=178)
    await c.connect(sim.host, sim.port, 1, timeout=GUARD)
    try:
        assert c.server_version == 178
        assert sim.clients[1].version == 178
    finally:
        c.disconnect()
        await c.wait_closed()


async def test_managed_accounts_default(ib: IB) -> None:
    assert ib.managed_accounts == ["DU1234567"]
    assert ib.client.managed_accounts == ("DU1234567",)


async def test_managed_accounts_advisor() -> None:
    accounts = ("DF111", "DU222", "DU333")
    async with (
        Simulator(port=0, accounts=accounts) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        assert ib.managed_accounts == list(accounts)
        assert await ib.client.req_managed_accounts() == accounts


async def test_connection_time_is_tz_aware(ib: IB) -> None:
    ct = ib.connection_time
    assert ct is not None
    assert ct.tzinfo is not None and ct.utcoffset() is not None
    # whole seconds in the simulator's zone; within a few seconds of now
    assert abs(ct - datetime.now(UTC)) < timedelta(seconds=5)
    assert ib.client.connection_time_text.startswith(ct.strftime("%Y%m%d"))


async def test_farm_notices_are_events_not_failures(sim: Simulator) -> None:
    ib = IB()
    farms: list[ErrorInfo] = []
    errors: list[ErrorInfo] = []
    ib.farm_status += farms.append
    ib.errors += errors.append
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
        try:
            # the notices were written before any later reply: one round trip has them all
            await ib.client.req_managed_accounts()
            assert [e.code for e in farms] == [2104, 2106, 2158]
            assert all(e.kind is ErrorKind.FARM and e.req_id == -1 for e in farms)
            assert [e.code for e in errors] == [2104, 2106, 2158]
            assert "usfarm" in farms[0].text
            # at server 200 every ERR_MSG carries its time
            assert all(e.time is not None and e.time.tzinfo is not None for e in farms)
            # nothing failed: the session still answers
            assert ib.is_connected()
            assert isinstance(await ib.current_time(), datetime)
        finally:
            ib.disconnect()
            await ib.wait_closed()


async def test_connect_to_as_context_manager(sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        async with IB.connect_to(sim.host, sim.port, client_id=7, timeout=GUARD) as ib:
            assert ib.is_connected()
            assert ib.client.client_id == 7
            session = sim.clients[7]
        # the exit disconnected and waited for the socket
        assert not ib.is_connected()
        await session.closed
    assert 7 not in sim.clients


async def test_connect_to_awaited(sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        ib = await IB.connect_to(sim.host, sim.port, client_id=3, timeout=GUARD, request_timeout=4)
        try:
            assert isinstance(ib, IB)
            assert ib.is_connected()
            assert ib.client.request_timeout == 4
            assert "connected" in repr(ib)
        finally:
            ib.disconnect()
            await ib.wait_closed()


async def test_connected_and_disconnected_events(sim: Simulator) -> None:
    ib = IB()
    connected: list[object] = []
    disconnected: list[BaseException | None] = []
    ib.connected += lambda: connected.append(True)
    ib.disconnected += disconnected.append
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
        assert connected == [True]
        assert disconnected == []
        closed = asyncio.ensure_future(_next(ib.disconnected))
        ib.disconnect()
        await ib.wait_closed()
        assert await closed is None
    assert connected == [True]
    assert disconnected == [None]


async def _next(event: Any) -> Any:
    return await event


async def test_connect_twice_is_an_error(ib: IB, sim: Simulator) -> None:
    with pytest.raises(TWSError, match="while connected"):
        await ib.connect(sim.host, sim.port, client_id=2)
    assert ib.is_connected()


# -- failures ------------------------------------------------------------------------------


async def test_nothing_listening_is_connection_refused(free_port: int) -> None:
    ib = IB()
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConnectionRefused) as info:
            await ib.connect("127.0.0.1", free_port, client_id=1, timeout=GUARD)
    e = info.value
    assert isinstance(e, ConnectionRefusedError)
    assert isinstance(e, TWSConnectionError) and isinstance(e, ConnectionError)
    assert f"127.0.0.1:{free_port}" in str(e)
    assert "refused" in str(e)
    assert ib.client.state is ClientState.DISCONNECTED


async def test_silent_handshake_is_connect_timeout(sim: Simulator) -> None:
    sim.faults.silent_handshake = True
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConnectTimeout) as info:
            await IB().connect(sim.host, sim.port, client_id=1, timeout=0.3)
    assert loop.time() - start < 2.0
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, TWSConnectionError)
    assert "handshake reply" in str(info.value)
    assert "0.3 s" in str(info.value)


async def test_silent_start_api_is_connect_timeout_naming_next_valid_id(sim: Simulator) -> None:
    sim.faults.silent_start_api = True
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConnectTimeout, match="NEXT_VALID_ID"):
            await IB().connect(sim.host, sim.port, client_id=1, timeout=0.3)


async def test_close_on_accept_is_connection_error_not_a_hang(sim: Simulator) -> None:
    sim.faults.close_on_accept = True
    async with asyncio.timeout(GUARD):
        with pytest.raises(TWSConnectionError) as info:
            # a generous connect timeout: the error must come from the close, not the clock
            await IB().connect(sim.host, sim.port, client_id=1, timeout=30)
    assert not isinstance(info.value, ConnectTimeout)
    assert "closed the connection before it was ready" in str(info.value)


async def test_client_id_in_use(ib: IB, sim: Simulator) -> None:
    second = IB()
    async with asyncio.timeout(GUARD):
        with pytest.raises(ClientIdInUse) as info:
            await second.connect(sim.host, sim.port, client_id=1, timeout=GUARD)
    e = info.value
    assert isinstance(e, TWSConnectionError)
    assert e.client_id == 1
    assert "already in use" in str(e)
    assert not second.is_connected()
    # the first client is untouched
    assert ib.is_connected()
    assert sim.clients[1] is not None
    async with asyncio.timeout(GUARD):
        assert isinstance(await ib.current_time(), datetime)


async def test_client_id_free_again_after_wait_closed(ib: IB, sim: Simulator) -> None:
    session = sim.clients[1]
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()
        await session.closed  # the simulator saw the close too
        async with IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as again:
            assert again.is_connected()


async def test_version_ranges_without_overlap_fail_fast() -> None:
    async with Simulator(port=0, min_version=190) as sim:
        c = Client(max_version=178)
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.timeout(GUARD):
            with pytest.raises(TWSConnectionError) as info:
                await c.connect(sim.host, sim.port, 1, timeout=30)
        assert loop.time() - start < 2.0
        assert not isinstance(info.value, ConnectTimeout)
        assert c.state is ClientState.DISCONNECTED
        assert sim.clients == {}


async def test_same_ib_connects_after_failures(sim: Simulator, free_port: int) -> None:
    ib = IB()
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConnectionRefused):
            await ib.connect("127.0.0.1", free_port, client_id=1)
        sim.faults.silent_handshake = True
        with pytest.raises(ConnectTimeout):
            await ib.connect(sim.host, sim.port, client_id=1, timeout=0.2)
        sim.faults.silent_handshake = False
        sim.faults.close_on_accept = True
        with pytest.raises(TWSConnectionError):
            await ib.connect(sim.host, sim.port, client_id=1)
        sim.faults.close_on_accept = False
        await ib.connect(sim.host, sim.port, client_id=1)
        try:
            assert ib.is_connected()
            assert ib.managed_accounts == ["DU1234567"]
            assert isinstance(await ib.current_time(), datetime)
        finally:
            ib.disconnect()
            await ib.wait_closed()


async def test_failed_connect_leaves_no_unretrieved_future(
    sim: Simulator, loop_exceptions: list[dict[str, Any]]
) -> None:
    """A connect that fails must not leave a future whose exception nobody reads.

    (asyncio reports those as "Future exception was never retrieved" when collected.)
    """
    async with asyncio.timeout(GUARD):
        sim.faults.close_on_accept = True
        c = Client()
        with pytest.raises(TWSConnectionError):
            await c.connect(sim.host, sim.port, 1)
        sim.faults.close_on_accept = False
        sim.faults.silent_handshake = True
        with pytest.raises(ConnectTimeout):
            await c.connect(sim.host, sim.port, 1, timeout=0.2)
        del c
        gc.collect()
    assert [ctx.get("message") for ctx in loop_exceptions] == []


# -- a peer that is not TWS ----------------------------------------------------------------


async def _fake_server(reply: bytes) -> tuple[asyncio.Server, int]:
    """A server that reads the client's opening and answers ``reply``, then stays silent."""
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.readexactly(4)  # API\0
        n = int.from_bytes(await reader.readexactly(4), "big")
        await reader.readexactly(n)
        writer.write(reply)
        await reader.read()  # until the client goes
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_server_answering_an_unsupported_version() -> None:
    server, port = await _fake_server(frame(b"150\x0020260101 10:00:00 EST\x00"))
    async with server:
        async with asyncio.timeout(GUARD):
            with pytest.raises(UnsupportedServerVersion, match="150"):
                await Client().connect("127.0.0.1", port, 1, timeout=GUARD)


@pytest.mark.parametrize(
    "reply",
    [frame(b"HTTP/1.1\x00400 Bad Request\x00"), (0x1000000).to_bytes(4, "big")],
    ids=["bad-version-text", "oversized-frame"],
)
async def test_peer_with_a_bad_handshake_raises_a_connection_error(reply: bytes) -> None:
    """DESIGN.md: connect raises ConnectionError subclasses on failure."""
    server, port = await _fake_server(reply)
    async with server:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ConnectionError) as info:
                await Client().connect("127.0.0.1", port, 1, timeout=GUARD)
    assert isinstance(info.value.__cause__, RemoteProtocolError)


async def test_connect_options_reach_the_server(sim: Simulator) -> None:
    async with IB.connect_to(
        sim.host, sim.port, client_id=1, timeout=GUARD, connect_options="+PACEAPI"
    ) as ib:
        assert ib.is_connected()
        hello = sim.clients[1].conn.hello
        assert hello is not None
        assert hello.options == "+PACEAPI"
        assert (hello.min_version, hello.max_version) == (157, 200)
