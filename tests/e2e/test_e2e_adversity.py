"""Connection loss and bad input: every request ends, and garbage never kills the session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from aiotws import IB, Client, ConnectionLost, NotConnected, TWSConnectionError
from aiotws.errors import DecodeError, MalformedMessage, UnknownMessageId
from aiotws.sim import SimSession, Simulator
from aiotws.wire.framing import frame
from aiotws.wire.messages import CurrentTime, NextValidId, ReqCurrentTime, ReqIds

GUARD = 5.0
Sync = Callable[[], Awaitable[Any]]


async def _next(event: Any) -> Any:
    return await event


async def _in_flight(client: Client, sim: Simulator, n: int) -> None:
    async with asyncio.timeout(GUARD):
        while sum(isinstance(m, ReqCurrentTime) for m in sim.requests) < n:
            await client.req_managed_accounts()


def _start_everything(client: Client) -> tuple[list[asyncio.Future[Any]], Any]:
    k1, k2 = client.next_id(), client.next_id()
    tasks = [
        asyncio.ensure_future(client.current_time(timeout=None)),
        asyncio.ensure_future(client.current_time(timeout=None)),
        asyncio.ensure_future(client.request(ReqCurrentTime(), CurrentTime, key=k1, timeout=None)),
        asyncio.ensure_future(
            client.request_list(
                ReqCurrentTime(), (CurrentTime,), (NextValidId,), key=k2, timeout=None
            )
        ),
    ]
    stream = client.request_stream(ReqIds(), (NextValidId,), ())
    return tasks, stream


# -- connection loss -----------------------------------------------------------------------


async def test_drop_fails_everything_in_flight(ib: IB, sim: Simulator) -> None:
    client = ib.client
    sim.faults.unanswered.add(ReqCurrentTime)
    tasks, stream = _start_everything(client)
    await _in_flight(client, sim, 4)
    assert len(client._registry) == 5
    lost = asyncio.ensure_future(_next(ib.disconnected))
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await lost
    for r in results:
        assert isinstance(r, ConnectionLost), r
        assert isinstance(r, TWSConnectionError) and isinstance(r, ConnectionError)
        assert "connection to TWS lost" in str(r)
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConnectionLost):
            async for _ in stream:
                pass
    assert isinstance(stream.error, ConnectionLost)
    assert len(client._registry) == 0
    assert not ib.is_connected()
    with pytest.raises(NotConnected):
        await ib.current_time()


async def test_unexpected_loss_reports_an_exception(ib: IB, sim: Simulator) -> None:
    lost = asyncio.ensure_future(_next(ib.disconnected))
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        exc = await lost
    # a clean close by TWS (no socket error) is still a loss, not our own disconnect
    assert isinstance(exc, ConnectionLost)
    assert f"{sim.host}:{sim.port}" in str(exc)


async def test_unexpected_loss_fires_disconnected_once(ib: IB, sim: Simulator) -> None:
    seen: list[Any] = []
    ib.disconnected += seen.append
    lost = asyncio.ensure_future(_next(ib.disconnected))
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        await lost
        await ib.wait_closed()
    assert len(seen) == 1
    assert not ib.is_connected()


async def test_user_disconnect_reports_none_and_ends_requests(ib: IB, sim: Simulator) -> None:
    client = ib.client
    sim.faults.unanswered.add(ReqCurrentTime)
    tasks, stream = _start_everything(client)
    await _in_flight(client, sim, 4)
    seen: list[Any] = []
    ib.disconnected += seen.append
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert seen == [None]
    assert all(isinstance(r, ConnectionLost) for r in results)
    assert stream.done and isinstance(stream.error, ConnectionLost)
    assert len(client._registry) == 0
    ib.disconnect()  # idempotent
    await ib.wait_closed()


async def test_reconnect_after_a_drop(ib: IB, sim: Simulator) -> None:
    lost = asyncio.ensure_future(_next(ib.disconnected))
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        await lost
        await ib.connect(sim.host, sim.port, client_id=1)
        assert ib.is_connected()
        assert isinstance(await ib.current_time(), datetime)


async def test_simulator_stop_while_connected(sim: Simulator) -> None:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
        lost = asyncio.ensure_future(_next(ib.disconnected))
        await sim.stop()
        await lost
    assert not ib.is_connected()


# -- bad input -----------------------------------------------------------------------------


async def _decode_error(client: Client, session: SimSession, raw: bytes) -> DecodeError:
    got = asyncio.ensure_future(_next(client.decode_errors))
    session.write(raw)
    async with asyncio.timeout(GUARD):
        e = await got
    assert isinstance(e, DecodeError)
    return e


async def test_unknown_message_id_is_skipped(
    client: Client, session: SimSession, caplog: pytest.LogCaptureFixture
) -> None:
    e = await _decode_error(client, session, frame(b"9999\0x\0"))
    assert isinstance(e, UnknownMessageId)
    assert e.msg_id == 9999
    assert e.payload == b"9999\0x\0"
    assert any("did not decode" in r.getMessage() for r in caplog.records)
    async with asyncio.timeout(GUARD):
        assert isinstance(await client.current_time(), datetime)
    assert client.is_connected()


async def test_malformed_next_valid_id_is_skipped(client: Client, session: SimSession) -> None:
    before = client._next_id
    e = await _decode_error(client, session, frame(b"9\x001\x00notanint\x00"))
    assert isinstance(e, MalformedMessage)
    assert e.msg_id == 9
    assert e.message == "NextValidId"
    assert e.payload == b"9\x001\x00notanint\x00"
    assert client._next_id == before
    async with asyncio.timeout(GUARD):
        assert isinstance(await client.current_time(), datetime)
        assert await client.req_ids() >= 1


@pytest.mark.parametrize(
    "payload",
    [b"", b"abc\0", b"4\0", b"\xff\xfe\0\0", b"49\x001\x00soon\x00"],
    ids=["empty", "non-numeric-id", "truncated-errmsg", "binary", "bad-current-time"],
)
async def test_garbage_frames_never_kill_the_session(
    client: Client,
    session: SimSession,
    loop_exceptions: list[dict[str, Any]],
    payload: bytes,
) -> None:
    e = await _decode_error(client, session, frame(payload))
    assert e.payload == payload
    async with asyncio.timeout(GUARD):
        assert isinstance(await client.current_time(), datetime)
    assert loop_exceptions == []


async def test_garbage_between_answers_in_one_read(client: Client, session: SimSession) -> None:
    """A bad frame in the middle of a batch does not lose the good frames around it."""
    errors: list[DecodeError] = []
    client.decode_errors += errors.append
    ids: list[int] = []
    client.on(NextValidId, lambda m: ids.append(m.order_id))
    session.write(
        session.conn.send(NextValidId(50)) + frame(b"9999\0\0") + session.conn.send(NextValidId(51))
    )
    async with asyncio.timeout(GUARD):
        await client.req_managed_accounts()
    assert ids == [50, 51]
    assert len(errors) == 1


async def test_oversized_frame_closes_the_connection_cleanly(
    ib: IB,
    sim: Simulator,
    session: SimSession,
    loop_exceptions: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = ib.client
    sim.faults.unanswered.add(ReqCurrentTime)
    task = asyncio.ensure_future(client.current_time(timeout=None))
    await _in_flight(client, sim, 1)
    lost = asyncio.ensure_future(_next(ib.disconnected))
    session.write((0x1000000).to_bytes(4, "big") + b"x" * 16)
    async with asyncio.timeout(GUARD):
        assert isinstance(await lost, ConnectionLost)
        await session.closed  # the client really closed the socket
        with pytest.raises(ConnectionLost):
            await task
    assert not ib.is_connected()
    assert len(client._registry) == 0
    assert loop_exceptions == []
    assert any(r.name == "aiotws.protocol" and "exceeds" in r.getMessage() for r in caplog.records)


async def test_oversized_frame_then_reconnect(ib: IB, sim: Simulator, session: SimSession) -> None:
    lost = asyncio.ensure_future(_next(ib.disconnected))
    session.write((0xFFFFFFFF).to_bytes(4, "big"))
    async with asyncio.timeout(GUARD):
        await lost
        await session.closed
        await ib.connect(sim.host, sim.port, client_id=1)
        assert isinstance(await ib.current_time(), datetime)


async def test_decode_errors_are_logged_not_raised(
    client: Client, session: SimSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="aiotws"):
        await _decode_error(client, session, frame(b"9999\0"))
    [rec] = [r for r in caplog.records if r.name == "aiotws.client"]
    assert rec.levelno == logging.WARNING
