"""The request correlator: every in-flight request, and the routing of TWS's answers to them.

Four request shapes cover the whole API:

=============== ======================================== ===================================
shape           ends when                                 class
=============== ======================================== ===================================
single reply    the first reply message                   :class:`Single`
list until End  an End message (items collected)          :class:`Collect`
stream          an End message; items delivered as they   :class:`StreamPending` + :class:`Stream`
                come
subscription    cancelled by the user (no End)            :class:`StreamPending` + :class:`Stream`
=============== ======================================== ===================================

Replies are routed by ``req_id`` when the message has one, else (CURRENT_TIME, NEXT_VALID_ID,
MANAGED_ACCTS …) to the oldest request waiting for that message type, so two concurrent
``current_time()`` calls each get an answer. Errors are routed by the id TWS puts in ERR_MSG.
Every request reaches exactly one terminal state: result, error, timeout, cancelled or
``ConnectionLost``. A message for a request that already ended is dropped with a debug log.

Live subscriptions can outlive a connection (``Client.keep_live``): on a loss each domain
mixin takes its subscriptions out of the registry before :meth:`Registry.fail_all` (so they
are not ended), and puts them back under fresh request ids on ``Client.resume_live``. Each
mixin contributes one :class:`LiveHook` for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, NamedTuple, TypeVar

from eventkit import Event

from aiotws.errors import ConnectionLost, RequestError, TWSError
from aiotws.wire.layout import InMessage

__all__ = ["Collect", "LiveHook", "Pending", "Registry", "Single", "Stream", "StreamPending"]

log = logging.getLogger("aiotws.requests")

T = TypeVar("T")
Accepts = tuple[type[InMessage], ...]


class Pending:
    """One in-flight request as the registry sees it."""

    __slots__ = ("accepts", "done", "key", "match", "warnings", "what")

    def __init__(self, key: int | None, accepts: Accepts, what: str) -> None:
        self.key = key
        self.accepts = accepts
        self.what = what
        self.done = False
        #: for keyless requests: which of the awaited messages are this request's answer
        #: (e.g. MARKET_RULE by rule id); ``None`` takes the first
        self.match: Callable[[InMessage], bool] | None = None
        #: warnings TWS attached to this request (code >= 2100, 10167 …), never failures
        self.warnings: list[RequestError] = []

    def feed(self, msg: InMessage) -> bool:
        """Take one routed message; return ``True`` when the request is complete."""
        raise NotImplementedError

    def fail(self, exc: BaseException) -> None:
        """End the request with ``exc``."""
        raise NotImplementedError

    def cancelled_by_tws(self, err: RequestError) -> None:
        """TWS ended the request as cancelled (162 "query cancelled"); default: an error."""
        self.fail(err)

    def warn(self, warning: RequestError) -> None:
        """A warning TWS attached to this request; it goes on."""
        self.warnings.append(warning)


class Single(Pending):
    """A request answered by exactly one message."""

    __slots__ = ("future",)

    def __init__(self, key: int | None, accepts: Accepts, what: str) -> None:
        super().__init__(key, accepts, what)
        self.future: asyncio.Future[InMessage] = asyncio.get_running_loop().create_future()

    def feed(self, msg: InMessage) -> bool:
        if not self.future.done():
            self.future.set_result(msg)
        return True

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class Collect(Pending):
    """A request answered by items and then an End message; resolves to ``(items, end)``."""

    __slots__ = ("end_types", "future", "items")

    def __init__(self, key: int | None, items: Accepts, end: Accepts, what: str) -> None:
        super().__init__(key, items + end, what)
        self.end_types = end
        self.items: list[InMessage] = []
        self.future: asyncio.Future[tuple[list[InMessage], InMessage | None]] = (
            asyncio.get_running_loop().create_future()
        )

    def feed(self, msg: InMessage) -> bool:
        if isinstance(msg, self.end_types):
            if not self.future.done():
                self.future.set_result((self.items, msg))
            return True
        self.items.append(msg)
        return False

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)

    def cancelled_by_tws(self, err: RequestError) -> None:
        # A TWS-side cancel of a list request ends it with what arrived so far.
        if not self.future.done():
            self.future.set_result((self.items, None))


class Stream(Generic[T]):
    """Items of a streaming request or subscription.

    Both an eventkit event (``stream.updated += handler``, called with each item) and an
    async iterator (``async for item in stream``). The iterator's buffer is bounded
    (``maxlen``): a consumer that falls behind loses the oldest items, counted in
    :attr:`dropped`, and memory never grows without bound.

    The iterator ends when the request ends (an End message, or :meth:`cancel`), and raises
    the request's error if it failed (``RequestError``, ``ConnectionLost``). Cancelling the
    task that iterates cancels the request at TWS. ``async with stream:`` cancels on exit.

    :attr:`stale` is True while a live subscription waits out a lost connection
    (``Client.keep_live``) and after it was re-issued (``Client.resume_live``) until its
    first item: the iterator just waits meanwhile, it does not end.
    """

    def __init__(self, what: str, maxlen: int = 10_000) -> None:
        self.what = what
        self.updated: Event = Event(f"{what}.updated")
        self.ended: Event = Event(f"{what}.ended")
        self.error: BaseException | None = None
        self.done = False
        self.dropped = 0
        #: True from a suspension by a lost connection until the first item after resuming
        self.stale = False
        self.end_message: Any = None
        self._items: deque[T] = deque()
        self._maxlen = maxlen
        self._waiter: asyncio.Future[None] | None = None
        self._on_cancel: Callable[[], None] | None = None

    # -- producer side ---------------------------------------------------------------------

    def _push(self, item: T) -> None:
        items = self._items
        if len(items) >= self._maxlen:
            items.popleft()
            self.dropped += 1
        items.append(item)
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        self.updated.emit(item)

    def _end(self, error: BaseException | None = None, end_message: Any = None) -> None:
        if self.done:
            return
        self.done = True
        self.error = error
        self.end_message = end_message
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)
        self.ended.emit(self)

    # -- consumer side ---------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancel the request at TWS (if it has a cancel message) and end the stream."""
        if self.done:
            return
        on_cancel, self._on_cancel = self._on_cancel, None
        if on_cancel is not None:
            on_cancel()
        self._end()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._items:
                return self._items.popleft()
            if self.done:
                if self.error is not None:
                    raise self.error
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            except asyncio.CancelledError:
                self.cancel()
                raise
            finally:
                self._waiter = None

    async def collect(self) -> list[T]:
        """Await the end of the stream and return every item not yet consumed."""
        return [item async for item in self]

    async def __aenter__(self) -> Stream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cancel()

    def __repr__(self) -> str:
        state = "done" if self.done else "live"
        return f"<Stream {self.what} {state} buffered={len(self._items)}>"


class StreamPending(Pending):
    """Feeds a :class:`Stream`; ends on one of ``end`` (none for a subscription)."""

    __slots__ = ("end_types", "stream")

    def __init__(self, key: int | None, items: Accepts, end: Accepts, stream: Stream[Any]) -> None:
        super().__init__(key, items + end, stream.what)
        self.end_types = end
        self.stream = stream

    def feed(self, msg: InMessage) -> bool:
        if self.end_types and isinstance(msg, self.end_types):
            self.stream._end(None, msg)
            return True
        self.stream._push(msg)
        return False

    def fail(self, exc: BaseException) -> None:
        self.stream._end(exc)

    def cancelled_by_tws(self, err: RequestError) -> None:
        self.stream._end(None)


class Registry:
    """In-flight requests, by request id and by awaited message type."""

    __slots__ = ("_by_id", "_by_type")

    def __init__(self) -> None:
        self._by_id: dict[int, Pending] = {}
        self._by_type: dict[type[InMessage], deque[Pending]] = {}

    def __len__(self) -> int:
        return len(self._by_id) + len({id(p) for q in self._by_type.values() for p in q})

    def add(self, p: Pending) -> None:
        if p.key is not None:
            if p.key in self._by_id:
                raise TWSError(f"request id {p.key} is already in flight")
            self._by_id[p.key] = p
        else:
            for t in p.accepts:
                self._by_type.setdefault(t, deque()).append(p)

    def get(self, key: int) -> Pending | None:
        return self._by_id.get(key)

    def keyed(self) -> list[Pending]:
        """The requests routed by request id (a copy: safe to discard while iterating)."""
        return list(self._by_id.values())

    def discard(self, p: Pending) -> None:
        p.done = True
        if p.key is not None:
            if self._by_id.get(p.key) is p:
                del self._by_id[p.key]
        else:
            for t in p.accepts:
                q = self._by_type.get(t)
                if q is not None and p in q:
                    q.remove(p)

    def route(self, msg: InMessage) -> bool:
        """Deliver ``msg`` to its request; ``False`` if no request wants it."""
        req_id = getattr(msg, "req_id", None)
        if req_id is not None:
            p = self._by_id.get(req_id)
            if p is not None and isinstance(msg, p.accepts):
                if p.feed(msg):
                    self.discard(p)
                return True
            return False
        q = self._by_type.get(type(msg))
        if q:
            for p in q:
                if p.match is None or p.match(msg):
                    if p.feed(msg):
                        self.discard(p)
                    return True
        return False

    def route_error(self, req_id: int, err: RequestError, cancelled: bool = False) -> bool:
        """End the request ``req_id`` with ``err``; ``False`` if there is none."""
        p = self._by_id.get(req_id)
        if p is None:
            return False
        self.discard(p)
        if cancelled:
            p.cancelled_by_tws(err)
        else:
            p.fail(err)
        return True

    def route_warning(self, req_id: int, warning: RequestError) -> bool:
        p = self._by_id.get(req_id)
        if p is None:
            return False
        p.warn(warning)
        return True

    def fail_all(self, exc_factory: Callable[[Pending], BaseException]) -> int:
        """End every request (the connection is gone); returns how many there were."""
        pending = list(self._by_id.values())
        seen = {id(p) for p in pending}
        for q in self._by_type.values():
            for p in q:
                if id(p) not in seen:
                    seen.add(id(p))
                    pending.append(p)
        self._by_id.clear()
        self._by_type.clear()
        for p in pending:
            p.done = True
            p.fail(exc_factory(p))
        return len(pending)


class LiveHook(NamedTuple):
    """One domain's part in keeping live subscriptions across connections.

    ``suspend()``: the connection is gone (``Client.keep_live``): take the live
    subscriptions out of the registry, keep their objects (marked stale); returns how many.
    ``resume(cancel_old)``: re-issue the suspended ones under fresh request ids (with
    ``cancel_old`` also the active ones, each cancelled first); returns how many.
    ``end(exc)``: end the suspended ones with ``exc`` (nothing will resume them); returns
    how many.
    """

    suspend: Callable[[], int]
    resume: Callable[[bool], int]
    end: Callable[[BaseException], int]


def connection_lost(p: Pending) -> ConnectionLost:
    """The exception an in-flight request ends with when the connection goes."""
    return ConnectionLost(f"{p.what}: connection to TWS lost while the request was in flight")
