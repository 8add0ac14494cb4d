"""Session-level requests end to end, and every way a request can end without an answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiotws import IB, Client, NotConnected, RequestTimeout
from aiotws.errors import UnsupportedByServer
from aiotws.sim import SimSession, Simulator
from aiotws.wire.messages import (
    CurrentTime,
    ReqCurrentTime,
    ReqCurrentTimeInMillis,
    ReqIds,
    ReqManagedAccts,
    SetServerLogLevel,
)

GUARD = 5.0
Sync = Callable[[], Awaitable[Any]]


def _near_now(t: datetime, slack: float = 5.0) -> bool:
    return abs(t - datetime.now(UTC)) < timedelta(seconds=slack)


# -- answered requests ---------------------------------------------------------------------


async def test_current_time(client: Client) -> None:
    async with asyncio.timeout(GUARD):
        t = await client.current_time()
    assert t.tzinfo is not None and t.utcoffset() == timedelta(0)
    assert t.microsecond == 0  # whole seconds
    assert _near_now(t)


async def test_current_time_millis(client: Client, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        t = await client.current_time_millis()
    assert t.utcoffset() == timedelta(0)
    assert _near_now(t)
    assert isinstance(sim.requests[-1], ReqCurrentTimeInMillis)


async def test_ib_current_time_uses_millis_at_197_and_seconds_below(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        assert _near_now(await ib.current_time())
    assert isinstance(sim.requests[-1], ReqCurrentTimeInMillis)
    async with (
        Simulator(port=0, max_version=196) as old,
        IB.connect_to(old.host, old.port, client_id=1, timeout=GUARD) as ib196,
    ):
        async with asyncio.timeout(GUARD):
            assert _near_now(await ib196.current_time())
        assert isinstance(old.requests[-1], ReqCurrentTime)


async def test_current_time_millis_unsupported_before_the_wire() -> None:
    async with (
        Simulator(port=0, max_version=196) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        sim.requests.clear()  # the connect-time sync's
        c = ib.client
        with pytest.raises(UnsupportedByServer) as info:
            await c.current_time_millis()
        assert info.value.needed == 197 and info.value.version == 196
        assert len(c._registry) == 0
        async with asyncio.timeout(GUARD):
            await c.req_managed_accounts()  # a round trip: the session is fine
        assert not any(isinstance(m, ReqCurrentTimeInMillis) for m in sim.requests)
        assert [type(m) for m in sim.requests] == [ReqManagedAccts]


async def test_req_ids(client: Client, sim: Simulator) -> None:
    sim.use_order_id(1, 41)
    async with asyncio.timeout(GUARD):
        n = await client.req_ids()
    assert n == 42
    assert isinstance(sim.requests[-1], ReqIds)
    # the client's id counter follows TWS's
    assert client.next_id() == 42


async def test_req_managed_accounts(client: Client) -> None:
    async with asyncio.timeout(GUARD):
        assert await client.req_managed_accounts() == ("DU1234567",)


async def test_set_server_log_level(client: Client, session: SimSession, sync: Sync) -> None:
    assert session.log_level == 2
    client.set_server_log_level(5)
    await sync()
    assert session.log_level == 5


@pytest.mark.parametrize("level", [0, 6, -1])
async def test_set_server_log_level_invalid_is_local(
    client: Client, sim: Simulator, level: int
) -> None:
    with pytest.raises(ValueError, match=r"1\.\.5"):
        client.set_server_log_level(level)
    assert not any(isinstance(m, SetServerLogLevel) for m in sim.requests)


async def test_concurrent_keyless_requests_all_answered(client: Client, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        times = await asyncio.gather(*(client.current_time() for _ in range(10)))
    assert len(times) == 10
    assert all(_near_now(t) for t in times)
    assert sum(isinstance(m, ReqCurrentTime) for m in sim.requests) == 10
    assert len(client._registry) == 0


async def test_mixed_concurrent_requests(client: Client) -> None:
    async with asyncio.timeout(GUARD):
        t, ids, accts, t2 = await asyncio.gather(
            client.current_time(),
            client.req_ids(),
            client.req_managed_accounts(),
            client.current_time_millis(),
        )
    assert _near_now(t) and _near_now(t2)
    assert ids >= 1
    assert accts == ("DU1234567",)


async def test_not_connected_before_connect_and_after_disconnect(ib: IB) -> None:
    fresh = Client()
    with pytest.raises(NotConnected, match="ReqCurrentTime"):
        await fresh.current_time()
    with pytest.raises(NotConnected):
        fresh.send(ReqIds())
    assert len(fresh._registry) == 0
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()
    with pytest.raises(NotConnected) as info:
        await ib.current_time()
    assert isinstance(info.value, ConnectionError)
    with pytest.raises(NotConnected):
        ib.set_server_log_level(3)
    assert len(ib.client._registry) == 0


# -- timeouts ------------------------------------------------------------------------------


async def test_request_timeout(client: Client, sim: Simulator) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestTimeout) as info:
            await client.current_time(timeout=0.2)
    assert 0.15 < loop.time() - start < 2.0
    e = info.value
    assert isinstance(e, TimeoutError)
    assert e.timeout == 0.2
    assert e.what == "ReqCurrentTime"
    assert "0.2 s" in str(e)
    assert len(client._registry) == 0
    assert isinstance(sim.requests[-1], ReqCurrentTime)  # it did reach the simulator


async def test_default_request_timeout_applies(sim: Simulator) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    async with IB.connect_to(sim.host, sim.port, client_id=1, request_timeout=0.2) as ib:
        async with asyncio.timeout(GUARD):
            with pytest.raises(RequestTimeout):
                await ib.client.current_time()
        assert len(ib.client._registry) == 0


async def test_late_reply_after_timeout_is_dropped_quietly(
    client: Client,
    sim: Simulator,
    session: SimSession,
    sync: Sync,
    caplog: pytest.LogCaptureFixture,
    loop_exceptions: list[dict[str, Any]],
) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestTimeout):
            await client.current_time(timeout=0.2)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="aiotws"):
        session.send(CurrentTime(datetime.now(UTC)))
        await sync()
    assert len(client._registry) == 0
    assert client.is_connected()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("dropped CurrentTime" in r.getMessage() for r in caplog.records)
    assert loop_exceptions == []
    # a later request is not confused by the late reply
    sim.faults.unanswered.clear()
    async with asyncio.timeout(GUARD):
        assert _near_now(await client.current_time())


async def test_timeout_sends_the_cancel_message(client: Client, sim: Simulator, sync: Sync) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestTimeout):
            await client.request(ReqCurrentTime(), CurrentTime, timeout=0.2, cancel=ReqIds)
    await sync()
    kinds = [type(m) for m in sim.requests]
    assert kinds == [ReqCurrentTime, ReqIds, ReqManagedAccts]
    assert len(client._registry) == 0


async def test_timeout_none_waits_until_answered(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    task = asyncio.ensure_future(client.current_time(timeout=None))
    async with asyncio.timeout(GUARD):
        while not any(isinstance(m, ReqCurrentTime) for m in sim.requests):
            await client.req_managed_accounts()  # round trips until the simulator has it
    assert not task.done()
    sent = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    session.send(CurrentTime(sent))
    async with asyncio.timeout(GUARD):
        assert await task == sent


# -- cancellation --------------------------------------------------------------------------


async def _in_flight(client: Client, sim: Simulator, cls: type) -> None:
    """Wait until the simulator recorded a ``cls`` request (round trips, no sleeping)."""
    async with asyncio.timeout(GUARD):
        while not any(isinstance(m, cls) for m in sim.requests):
            await client.req_managed_accounts()


async def test_cancelling_the_awaiting_task(client: Client, sim: Simulator, sync: Sync) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    task = asyncio.ensure_future(
        client.request(ReqCurrentTime(), CurrentTime, timeout=None, cancel=ReqIds)
    )
    await _in_flight(client, sim, ReqCurrentTime)
    assert len(client._registry) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(client._registry) == 0
    await sync()
    kinds = [type(m) for m in sim.requests]
    # the cancel went out after the request, once
    assert kinds.count(ReqIds) == 1
    assert kinds.index(ReqIds) > kinds.index(ReqCurrentTime)


async def test_cancelled_request_without_cancel_message(client: Client, sim: Simulator) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    task = asyncio.ensure_future(client.current_time(timeout=None))
    await _in_flight(client, sim, ReqCurrentTime)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(client._registry) == 0
    assert client.is_connected()


async def test_outer_timeout_cancels_the_request(
    client: Client, sim: Simulator, sync: Sync
) -> None:
    """A caller's own ``asyncio.timeout`` is a cancellation: the cancel message goes out."""
    sim.faults.unanswered.add(ReqCurrentTime)
    with pytest.raises(TimeoutError) as info:
        async with asyncio.timeout(0.2):
            await client.request(ReqCurrentTime(), CurrentTime, timeout=None, cancel=ReqIds)
    assert not isinstance(info.value, RequestTimeout)
    assert len(client._registry) == 0
    await sync()
    assert [type(m) for m in sim.requests].count(ReqIds) == 1


async def test_ib_request_timeouts(ib: IB, sim: Simulator) -> None:
    sim.faults.unanswered.add(ReqCurrentTimeInMillis)
    sim.faults.unanswered.add(ReqIds)
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestTimeout):
            await ib.current_time(timeout=0.1)
        with pytest.raises(RequestTimeout):
            await ib.req_ids(timeout=0.1)
    assert len(ib.client._registry) == 0
