"""Unit tests of the request correlator (``aiotws.requests``), without sockets.

The futures need a running loop, so the tests are async. Keyed messages are test-only
``InMessage`` dataclasses (never registered with the codec): the registry only looks at a
message's type and its ``req_id``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from aiotws.errors import ConnectionLost, RequestError, TWSError
from aiotws.requests import (
    Collect,
    Pending,
    Registry,
    Single,
    Stream,
    StreamPending,
    connection_lost,
)
from aiotws.wire.layout import InMessage
from aiotws.wire.messages import CurrentTime, ManagedAccts, NextValidId


@dataclass
class Tick(InMessage):
    req_id: int
    value: float = 0.0


@dataclass
class TickEnd(InMessage):
    req_id: int


@dataclass
class Other(InMessage):
    req_id: int


T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _err(code: int = 200, req_id: int = -1, text: str = "no") -> RequestError:
    return RequestError(code, text, req_id)


def _stream(maxlen: int = 10_000) -> Stream[Any]:
    return Stream("Test", maxlen)


# -- keyless routing -----------------------------------------------------------------------


async def test_keyless_single() -> None:
    reg = Registry()
    p = Single(None, (CurrentTime,), "ReqCurrentTime")
    reg.add(p)
    assert len(reg) == 1
    msg = CurrentTime(T0)
    assert reg.route(msg)
    assert p.future.result() is msg
    assert p.done
    assert len(reg) == 0
    assert not reg.route(CurrentTime(T0))  # nobody waits any more


async def test_keyless_is_fifo_per_type() -> None:
    reg = Registry()
    ps = [Single(None, (CurrentTime,), f"r{i}") for i in range(3)]
    for p in ps:
        reg.add(p)
    other = Single(None, (NextValidId,), "ids")
    reg.add(other)
    msgs = [CurrentTime(T0.replace(second=i)) for i in range(3)]
    for m in msgs:
        assert reg.route(m)
    assert [p.future.result() for p in ps] == msgs
    assert not other.future.done()
    assert len(reg) == 1


async def test_keyless_message_type_nobody_waits_for() -> None:
    reg = Registry()
    reg.add(Single(None, (CurrentTime,), "t"))
    assert not reg.route(NextValidId(5))
    assert not reg.route(ManagedAccts(("DU1",)))
    assert len(reg) == 1


async def test_keyless_pending_on_several_types_counts_once() -> None:
    reg = Registry()
    p = StreamPending(None, (CurrentTime, NextValidId), (ManagedAccts,), _stream())
    reg.add(p)
    assert len(reg) == 1
    assert reg.route(CurrentTime(T0))
    assert reg.route(NextValidId(3))
    assert reg.route(ManagedAccts(()))  # the end: removed from every queue
    assert len(reg) == 0
    assert not reg.route(CurrentTime(T0))


# -- keyed routing -------------------------------------------------------------------------


async def test_keyed_single() -> None:
    reg = Registry()
    p = Single(7, (Tick,), "t")
    reg.add(p)
    assert reg.get(7) is p
    assert not reg.route(Tick(8))
    assert not p.future.done()
    assert reg.route(Tick(7, 1.5))
    assert p.future.result() == Tick(7, 1.5)
    assert reg.get(7) is None
    assert len(reg) == 0


async def test_keyed_message_of_a_type_not_accepted_is_not_consumed() -> None:
    reg = Registry()
    p = Single(7, (Tick,), "t")
    reg.add(p)
    assert not reg.route(Other(7))
    assert not p.future.done()
    assert reg.get(7) is p
    assert reg.route(Tick(7))


async def test_keyed_message_never_goes_to_a_keyless_request() -> None:
    reg = Registry()
    p = Single(None, (Tick,), "t")
    reg.add(p)
    assert not reg.route(Tick(3))
    assert not p.future.done()


async def test_duplicate_key_raises() -> None:
    reg = Registry()
    first = Single(7, (Tick,), "t")
    reg.add(first)
    with pytest.raises(TWSError, match="request id 7 is already in flight"):
        reg.add(Collect(7, (Tick,), (TickEnd,), "c"))
    assert reg.get(7) is first
    assert len(reg) == 1


async def test_same_key_after_the_first_ended() -> None:
    reg = Registry()
    reg.add(Single(7, (Tick,), "t"))
    reg.route(Tick(7))
    again = Single(7, (Tick,), "t")
    reg.add(again)
    assert reg.get(7) is again


# -- discard -------------------------------------------------------------------------------


async def test_discard_is_idempotent() -> None:
    reg = Registry()
    keyed = Single(1, (Tick,), "k")
    keyless = StreamPending(None, (CurrentTime, NextValidId), (), _stream())
    reg.add(keyed)
    reg.add(keyless)
    for _ in range(2):
        reg.discard(keyed)
        reg.discard(keyless)
    assert keyed.done and keyless.done
    assert len(reg) == 0
    assert not reg.route(Tick(1))
    assert not reg.route(NextValidId(1))


async def test_discard_of_a_stale_pending_keeps_the_new_one() -> None:
    reg = Registry()
    old = Single(1, (Tick,), "old")
    reg.add(old)
    reg.discard(old)
    new = Single(1, (Tick,), "new")
    reg.add(new)
    reg.discard(old)  # a late cleanup of the old request
    assert reg.get(1) is new


async def test_discard_never_added() -> None:
    reg = Registry()
    reg.discard(Single(None, (CurrentTime,), "x"))
    reg.discard(Single(3, (Tick,), "y"))
    assert len(reg) == 0


# -- errors and warnings -------------------------------------------------------------------


async def test_route_error() -> None:
    reg = Registry()
    p = Single(4, (Tick,), "t")
    reg.add(p)
    assert not reg.route_error(5, _err(req_id=5))
    err = _err(req_id=4)
    assert reg.route_error(4, err)
    assert p.future.exception() is err
    assert p.done and len(reg) == 0
    assert not reg.route_error(4, _err(req_id=4))  # already ended


async def test_route_error_cancelled() -> None:
    reg = Registry()
    single = Single(1, (Tick,), "s")
    collect = Collect(2, (Tick,), (TickEnd,), "c")
    sp = StreamPending(3, (Tick,), (), _stream())
    for p in (single, collect, sp):
        reg.add(p)
    reg.route(Tick(2, 1.0))
    cancelled = RequestError(162, "query cancelled", -1, kind="cancelled")
    for k in (1, 2, 3):
        assert reg.route_error(k, cancelled, cancelled=True)
    # a single request has nothing to show: the cancel is its error
    assert single.future.exception() is cancelled
    # a list request ends with what arrived so far and no end message
    assert collect.future.result() == ([Tick(2, 1.0)], None)
    # a stream ends cleanly
    assert sp.stream.done and sp.stream.error is None
    assert len(reg) == 0


async def test_route_warning_keeps_the_request() -> None:
    reg = Registry()
    p = Single(4, (Tick,), "t")
    reg.add(p)
    w = RequestError(2109, "outsideRth ignored", 4, kind="warning")
    assert reg.route_warning(4, w)
    assert reg.route_warning(4, w)
    assert p.warnings == [w, w]
    assert not p.future.done()
    assert reg.get(4) is p
    assert not reg.route_warning(99, w)


# -- fail_all ------------------------------------------------------------------------------


async def test_fail_all() -> None:
    reg = Registry()
    a = Single(1, (Tick,), "ReqA")
    b = Single(None, (CurrentTime,), "ReqB")
    c = Collect(2, (Tick,), (TickEnd,), "ReqC")
    s = StreamPending(None, (CurrentTime, NextValidId), (), _stream())
    for p in (a, b, c, s):
        reg.add(p)
    n = reg.fail_all(connection_lost)
    assert n == 4
    assert len(reg) == 0
    for p in (a, b, c):
        exc = p.future.exception()
        assert isinstance(exc, ConnectionLost)
        assert str(exc).startswith(p.what + ":")
    assert isinstance(s.stream.error, ConnectionLost)
    assert all(p.done for p in (a, b, c, s))
    assert reg.fail_all(connection_lost) == 0
    assert not reg.route(CurrentTime(T0))


async def test_fail_all_gives_each_request_its_own_exception() -> None:
    reg = Registry()
    ps = [Single(i, (Tick,), f"r{i}") for i in range(3)]
    for p in ps:
        reg.add(p)
    reg.fail_all(connection_lost)
    excs = [p.future.exception() for p in ps]
    assert len({id(e) for e in excs}) == 3


# -- the shapes ----------------------------------------------------------------------------


async def test_collect_until_end() -> None:
    reg = Registry()
    p = Collect(9, (Tick,), (TickEnd,), "c")
    reg.add(p)
    for v in (1.0, 2.0, 3.0):
        assert reg.route(Tick(9, v))
    assert not p.future.done()
    assert reg.route(TickEnd(9))
    items, end = p.future.result()
    assert [t.value for t in items] == [1.0, 2.0, 3.0]
    assert end == TickEnd(9)
    assert len(reg) == 0


async def test_keyless_collect() -> None:
    reg = Registry()
    p = Collect(None, (CurrentTime,), (NextValidId,), "c")
    reg.add(p)
    reg.route(CurrentTime(T0))
    reg.route(NextValidId(2))
    assert p.future.result() == ([CurrentTime(T0)], NextValidId(2))
    assert len(reg) == 0


async def test_single_after_its_future_was_cancelled() -> None:
    p = Single(None, (CurrentTime,), "t")
    p.future.cancel()
    assert p.feed(CurrentTime(T0))  # no InvalidStateError
    p.fail(_err())
    c = Collect(None, (CurrentTime,), (NextValidId,), "c")
    c.future.cancel()
    assert c.feed(NextValidId(1))
    c.fail(_err())
    c.cancelled_by_tws(_err())


async def test_base_pending_is_abstract() -> None:
    p = Pending(None, (CurrentTime,), "x")
    with pytest.raises(NotImplementedError):
        p.feed(CurrentTime(T0))
    with pytest.raises(NotImplementedError):
        p.fail(_err())


async def test_stream_pending_with_end() -> None:
    reg = Registry()
    st = _stream()
    p = StreamPending(5, (Tick,), (TickEnd,), st)
    reg.add(p)
    reg.route(Tick(5, 1.0))
    reg.route(Tick(5, 2.0))
    assert not st.done
    reg.route(TickEnd(5))
    assert st.done and st.end_message == TickEnd(5)
    assert [t.value for t in await st.collect()] == [1.0, 2.0]
    assert len(reg) == 0


async def test_subscription_never_ends_by_itself() -> None:
    reg = Registry()
    st = _stream()
    p = StreamPending(5, (Tick, TickEnd), (), st)
    reg.add(p)
    reg.route(Tick(5))
    reg.route(TickEnd(5))  # an accepted item, not an end, for a subscription
    assert not st.done
    assert reg.get(5) is p


def _consumer(st: Stream[Any], body: Any) -> tuple[asyncio.Future[Any], asyncio.Future[None]]:
    """A task running ``body()``; ``started`` resolves once it is blocked inside the stream."""
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run() -> Any:
        started.set_result(None)  # our waiter resumes only after this task blocks below
        return await body()

    return asyncio.ensure_future(run()), started


# -- Stream --------------------------------------------------------------------------------


async def test_stream_bounded_buffer_drops_oldest() -> None:
    st: Stream[int] = Stream("S", maxlen=3)
    updates: list[int] = []
    st.updated += updates.append
    for i in range(7):
        st._push(i)
    assert st.dropped == 4
    assert updates == list(range(7))  # the event sees everything
    st._end()
    assert await st.collect() == [4, 5, 6]


async def test_stream_maxlen_one() -> None:
    st: Stream[int] = Stream("S", maxlen=1)
    st._push(1)
    st._push(2)
    assert st.dropped == 1
    assert await anext(st) == 2


async def test_stream_iteration_wakes_on_push_and_end() -> None:
    st: Stream[int] = Stream("S")

    task, started = _consumer(st, st.collect)
    await started  # resolved in the same step in which the consumer blocks
    assert st._waiter is not None
    st._push(1)
    st._push(2)
    st._end(None, "END")
    async with asyncio.timeout(5):
        assert await task == [1, 2]
    assert st.end_message == "END"


async def test_stream_error_after_buffered_items() -> None:
    st: Stream[int] = Stream("S")
    st._push(1)
    err = _err()
    st._end(err)
    assert await anext(st) == 1
    with pytest.raises(RequestError) as info:
        await anext(st)
    assert info.value is err
    with pytest.raises(RequestError):  # and again: an ended stream stays ended
        await anext(st)


async def test_stream_end_is_idempotent() -> None:
    st: Stream[int] = Stream("S")
    ended: list[Any] = []
    st.ended += ended.append
    first = _err(1)
    st._end(first)
    st._end(_err(2))
    st._end()
    assert st.error is first
    assert ended == [st]


async def test_stream_cancel_calls_on_cancel_once() -> None:
    st: Stream[int] = Stream("S")
    calls: list[int] = []
    st._on_cancel = lambda: calls.append(1)
    st._push(1)
    st.cancel()
    st.cancel()
    assert calls == [1]
    assert st.done and st.error is None
    assert await st.collect() == [1]  # items that arrived stay readable


async def test_stream_cancel_after_end_sends_nothing() -> None:
    st: Stream[int] = Stream("S")
    calls: list[int] = []
    st._on_cancel = lambda: calls.append(1)
    st._end()
    st.cancel()
    assert calls == []


async def test_cancelling_the_consumer_cancels_the_stream() -> None:
    st: Stream[int] = Stream("S")
    calls: list[int] = []
    st._on_cancel = lambda: calls.append(1)
    task, started = _consumer(st, lambda: anext(st))
    await started
    assert st._waiter is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls == [1]
    assert st.done
    assert st._waiter is None


async def test_stream_async_with_cancels() -> None:
    st: Stream[int] = Stream("S")
    calls: list[int] = []
    st._on_cancel = lambda: calls.append(1)
    async with st as same:
        assert same is st
    assert calls == [1]
    assert st.done


async def test_stream_repr() -> None:
    st: Stream[int] = Stream("ReqX")
    st._push(1)
    assert repr(st) == "<Stream ReqX live buffered=1>"
    st._end()
    assert "done" in repr(st)
