"""Live scanner results: one subscription's latest result set, replaced as a whole.

TWS answers a scanner subscription with a whole result set (SCANNER_DATA, up to 50 ranked
rows) and sends a new whole set on every refresh, about every 30 seconds. A
:class:`ScanResults` is a ``list`` of :class:`~aiotws.model.scanner.ScanRow` holding the
latest set: each new set replaces the list's contents, fires ``updated(results)`` and wakes
the async iterators, which yield each set as a list of its own (latest state: a consumer
slower than the refreshes skips the sets in between, memory stays bounded). ``await
results`` (or :meth:`ScanResults.first`) waits for the first set.

ERR_MSG 165 ("no items retrieved") for the subscription is an empty set. A TWS error ends the
subscription: the iterators and a pending ``first()`` raise its
:class:`~aiotws.errors.RequestError`. With ``Client.keep_live`` a lost connection keeps the
object (``stale`` true, iterators waiting) and ``Client.resume_live`` subscribes again under
a fresh request id.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
from typing import Any

from eventkit import Event

from aiotws.errors import RequestError, TWSError
from aiotws.model.contract import TagValue
from aiotws.model.scanner import ScannerSubscription, ScanRow

__all__ = ["ScanResults", "ScanUpdates"]


class ScanUpdates:
    """An async iterator over a :class:`ScanResults`' result sets (latest set only)."""

    def __init__(self, owner: ScanResults) -> None:
        self.owner = owner
        self.pending: list[ScanRow] | None = None
        self.done = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None

    def _offer(self, rows: list[ScanRow]) -> None:
        self.pending = rows
        self._wake()

    def _end(self, error: BaseException | None) -> None:
        self.done = True
        self.error = error
        self._wake()

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def __aiter__(self) -> ScanUpdates:
        return self

    async def __anext__(self) -> list[ScanRow]:
        while self.pending is None and not self.done:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        if self.pending is not None:
            rows, self.pending = self.pending, None
            return rows
        self._detach()
        if self.error is not None:
            raise self.error
        raise StopAsyncIteration

    def _detach(self) -> None:
        if self in self.owner._iters:
            self.owner._iters.remove(self)

    async def aclose(self) -> None:
        self._detach()


class ScanResults(list[ScanRow]):
    """The live result set of one scanner subscription (ib_async: ``ScanDataList``).

    Attributes: ``subscription``, ``filter_options`` and ``options`` (what was asked);
    ``req_id`` (the current request id; a new one after a resubscription); ``time`` (when
    the latest set arrived, UTC, ``None`` before the first); ``sets`` (how many arrived);
    ``stale`` (True from a lost connection until the first set after resubscribing);
    ``errors`` (TWS's errors and notices for it); ``updated`` (eventkit, fired with the
    results after each set).
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_first",
        "_iters",
        "errors",
        "filter_options",
        "options",
        "req_id",
        "sets",
        "stale",
        "subscription",
        "time",
        "updated",
    )

    def __init__(
        self,
        subscription: ScannerSubscription,
        filter_options: list[TagValue] | None = None,
        options: list[TagValue] | None = None,
        req_id: int = -1,
    ) -> None:
        super().__init__()
        self.subscription = subscription
        self.filter_options = list(filter_options or [])
        self.options = list(options or [])
        self.req_id = req_id
        self.time: datetime | None = None
        self.sets = 0
        self.stale = False
        self.errors: list[RequestError] = []
        self.updated = Event("scanner.updated")
        self._iters: list[ScanUpdates] = []
        self._first: asyncio.Future[list[ScanRow]] | None = None
        self._closed: bool | BaseException = False

    __hash__ = None

    # -- state ---------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the subscription ended (cancelled, failed, or disconnected by you)."""
        return self._closed is not False

    @property
    def error(self) -> BaseException | None:
        """What ended the subscription, if it failed."""
        return self._closed if isinstance(self._closed, BaseException) else None

    # -- consumer side -------------------------------------------------------------------

    async def first(self, timeout: float | None = None) -> list[ScanRow]:
        """The first result set (at once if it arrived); raises the subscription's error,
        or ``TimeoutError`` after ``timeout`` seconds."""
        if self.sets:
            return list(self)
        fut = self._first_future()
        async with asyncio.timeout(timeout):
            return list(await asyncio.shield(fut))

    def __await__(self) -> Generator[Any, None, list[ScanRow]]:
        return self.first().__await__()

    def updates(self) -> AsyncIterator[list[ScanRow]]:
        """Yields each result set (a list of its own); ends with the subscription."""
        it = ScanUpdates(self)
        self._iters.append(it)
        if self._closed is not False:
            it._end(self.error)
        return it

    def __aiter__(self) -> AsyncIterator[list[ScanRow]]:
        return self.updates()

    def df(self) -> Any:
        """The rows as a pandas DataFrame (rank, symbol, sec_type, con_id, …)."""
        try:
            pd = importlib.import_module("pandas")
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("df() needs pandas: pip install 'aiotws[pandas]'") from None
        cols = ["rank", "symbol", "sec_type", "con_id", "exchange", "currency", "market_name"]
        cols += ["distance", "benchmark", "projection", "legs"]
        data = [
            [
                r.rank,
                r.contract.symbol,
                r.contract.sec_type,
                r.contract.con_id,
                r.contract.exchange,
                r.contract.currency,
                r.market_name,
                r.distance,
                r.benchmark,
                r.projection,
                r.legs,
            ]
            for r in self
        ]
        return pd.DataFrame(data, columns=cols)

    def __repr__(self) -> str:
        s = self.subscription
        state = "done" if self.done else "stale" if self.stale else "live"
        top = ", ".join(r.contract.symbol or r.contract.local_symbol for r in self[:5])
        more = "…" if len(self) > 5 else ""
        return (
            f"<ScanResults {s.scan_code} {s.instrument} {s.location_code} {len(self)} rows"
            f"{f' [{top}{more}]' if top else ''} {state}>"
        )

    # -- producer side (the client) ------------------------------------------------------

    def _first_future(self) -> asyncio.Future[list[ScanRow]]:
        fut = self._first
        if fut is None:
            fut = self._first = asyncio.get_running_loop().create_future()
            if isinstance(self._closed, BaseException):
                fut.set_exception(self._closed)
            elif self._closed:
                fut.set_exception(TWSError("scanner subscription ended before any results"))
        return fut

    def _on_set(self, rows: list[ScanRow]) -> None:
        """A whole new result set."""
        self[:] = rows
        self.sets += 1
        self.stale = False
        self.time = datetime.now(UTC)
        fut = self._first
        if fut is not None and not fut.done():
            fut.set_result(list(rows))
        for it in list(self._iters):
            it._offer(list(rows))
        self.updated.emit(self)

    def _close(self, error: BaseException | None = None) -> None:
        if self._closed is not False:
            return
        self._closed = error if error is not None else True
        fut = self._first
        if fut is not None and not fut.done():
            fut.set_exception(error or TWSError("scanner subscription ended before any results"))
            fut.exception()  # retrieved: an awaiting caller still gets it raised
        for it in list(self._iters):
            it._end(error)
