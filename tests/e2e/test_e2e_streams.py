"""``Client.request_stream`` end to end: iteration, events, the bounded buffer, cancellation.

Streams here use keyless session messages the simulator can be made to send at will
(NEXT_VALID_ID, CURRENT_TIME); keyed streams are exercised through their errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from aiotws import Client, RequestError, Stream
from aiotws.sim import SimSession, Simulator
from aiotws.wire.messages import (
    CurrentTime,
    NextValidId,
    ReqCurrentTime,
    ReqIds,
    ReqManagedAccts,
)

GUARD = 5.0
Sync = Callable[[], Awaitable[Any]]


async def _ids_stream(client: Client, **kw: Any) -> Stream[Any]:
    """A subscription to NEXT_VALID_ID; its first item is the simulator's answer to REQ_IDS.

    Returns once that answer arrived, so items the test makes the simulator send come after.
    """
    stream = client.request_stream(ReqIds(), (NextValidId,), (), **kw)
    async with asyncio.timeout(GUARD):
        await client.req_managed_accounts()
    return stream


async def _take(stream: Stream[Any], n: int) -> list[Any]:
    out: list[Any] = []
    async with asyncio.timeout(GUARD):
        async for item in stream:
            out.append(item)
            if len(out) == n:
                break
    return out


def _count_cancels(sim: Simulator) -> int:
    return sum(isinstance(m, ReqCurrentTime) for m in sim.requests)


async def test_async_iteration_and_updated_event(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    stream = await _ids_stream(client)
    updates: list[Any] = []
    stream.updated += updates.append
    for n in (100, 101, 102):
        session.send(NextValidId(n))
    items = await _take(stream, 4)
    assert [m.order_id for m in items] == [1, 100, 101, 102]
    assert updates == items[1:]  # the handler was attached after the first item
    assert not stream.done
    assert len(client._registry) == 1
    stream.cancel()
    assert stream.done and stream.error is None
    assert len(client._registry) == 0


async def test_bounded_buffer_drops_oldest(
    client: Client, sim: Simulator, session: SimSession, sync: Sync
) -> None:
    stream = await _ids_stream(client, maxlen=3)
    for n in range(100, 105):
        session.send(NextValidId(n))
    await sync()  # all six items (the REQ_IDS answer + five) have been pushed
    assert stream.dropped == 3
    assert "buffered=3" in repr(stream)
    stream.cancel()
    # what is left is the newest three, then the end
    rest = await _collect(stream)
    assert [m.order_id for m in rest] == [102, 103, 104]


async def _collect(stream: Stream[Any]) -> list[Any]:
    async with asyncio.timeout(GUARD):
        return await stream.collect()


async def test_updated_event_sees_every_item_even_when_the_buffer_drops(
    client: Client, session: SimSession, sync: Sync
) -> None:
    stream = await _ids_stream(client, maxlen=1)
    seen: list[int] = []
    stream.updated += lambda m: seen.append(m.order_id)
    for n in range(10, 15):
        session.send(NextValidId(n))
    await sync()
    assert seen == [10, 11, 12, 13, 14]
    assert stream.dropped == 5
    stream.cancel()


async def test_cancel_ends_iteration_and_sends_the_cancel_message(
    client: Client, sim: Simulator, session: SimSession, sync: Sync
) -> None:
    stream = await _ids_stream(client, cancel=ReqCurrentTime)
    ended: list[Any] = []
    stream.ended += ended.append

    async def consume() -> list[Any]:
        return [m async for m in stream]

    task = asyncio.ensure_future(consume())
    stream.cancel()
    async with asyncio.timeout(GUARD):
        items = await task
    assert [m.order_id for m in items] == [1]
    assert ended == [stream]
    assert stream.done and stream.error is None
    assert len(client._registry) == 0
    await sync()
    assert _count_cancels(sim) == 1
    # nothing more reaches the ended stream; a second cancel is a no-op
    session.send(NextValidId(500))
    await sync()
    stream.cancel()
    assert _count_cancels(sim) == 1
    assert await _collect(stream) == []


async def test_cancelling_the_iterating_task_cancels_the_request(
    client: Client, sim: Simulator, sync: Sync
) -> None:
    stream = await _ids_stream(client, cancel=ReqCurrentTime)
    got: list[Any] = []

    async def consume() -> None:
        async for m in stream:
            got.append(m)

    task = asyncio.ensure_future(consume())
    async with asyncio.timeout(GUARD):
        # let the consumer take the buffered item and block for the next one
        while not got:
            await client.req_managed_accounts()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.done
    assert len(client._registry) == 0
    await sync()
    assert _count_cancels(sim) == 1


async def test_async_with_cancels_on_exit(client: Client, sim: Simulator, sync: Sync) -> None:
    async with await _ids_stream(client, cancel=ReqCurrentTime) as stream:
        [first] = await _take(stream, 1)
        assert first.order_id == 1
    assert stream.done
    assert len(client._registry) == 0
    await sync()
    assert _count_cancels(sim) == 1


async def test_stream_ends_on_its_end_message(
    client: Client, session: SimSession, sync: Sync
) -> None:
    # REQ_MANAGED_ACCTS as the trigger: its answer is not part of this stream
    stream = client.request_stream(ReqManagedAccts(), (CurrentTime,), (NextValidId,))
    t1 = datetime(2030, 1, 1, tzinfo=UTC)
    t2 = datetime(2030, 1, 2, tzinfo=UTC)
    session.send(CurrentTime(t1))
    session.send(CurrentTime(t2))
    session.send(NextValidId(77))
    items = await _collect(stream)
    assert [m.time for m in items] == [t1, t2]
    assert stream.done and stream.error is None
    assert stream.end_message == NextValidId(77)
    assert len(client._registry) == 0
    # the end message was also seen by the client (the id counter follows it)
    await sync()
    assert client.next_id() == 77


async def test_keyed_stream_error_ends_iteration_with_it(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    k = client.next_id()
    stream = client.request_stream(ReqCurrentTime(), (CurrentTime,), key=k)
    session.send_error(k, 200, "No security definition has been found for the request")
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError) as info:
            async for _ in stream:
                pass
    assert info.value.code == 200 and info.value.req_id == k
    assert stream.error is info.value
    assert len(client._registry) == 0


async def test_keyed_stream_query_cancelled_ends_cleanly(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    k = client.next_id()
    stream = client.request_stream(ReqCurrentTime(), (CurrentTime,), key=k)
    session.send_error(k, 162, f"API historical data query cancelled: {k}")
    assert await _collect(stream) == []
    assert stream.done and stream.error is None


async def test_duplicate_stream_key_is_refused_before_the_wire(
    client: Client, sim: Simulator
) -> None:
    sim.faults.unanswered.add(ReqCurrentTime)
    k = client.next_id()
    first = client.request_stream(ReqCurrentTime(), (CurrentTime,), key=k)
    with pytest.raises(Exception, match="already in flight"):
        client.request_stream(ReqCurrentTime(), (CurrentTime,), key=k)
    assert len(client._registry) == 1
    first.cancel()
    assert len(client._registry) == 0
    async with asyncio.timeout(GUARD):
        await client.req_managed_accounts()
    # only the first REQ_CURRENT_TIME went out
    assert sum(isinstance(m, ReqCurrentTime) for m in sim.requests) == 1
    assert [type(m) for m in sim.requests] == [ReqCurrentTime, ReqManagedAccts]
