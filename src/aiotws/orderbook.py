"""``OrderBook``: the live market depth (level 2) of one REQ_MKT_DEPTH subscription.

TWS describes the book as two position-indexed lists and sends operations on them
(MARKET_DEPTH, or MARKET_DEPTH_L2 with the market maker / exchange of the row): operation
0 inserts a row *at* ``position`` (rows below move down), 1 replaces the row at
``position``, 2 deletes the row at ``position`` (rows below move up); side 0 is the ask
side, 1 the bid side. Applied in order, the lists are the book: ``asks`` ascending from the
best ask, ``bids`` descending from the best bid.

Like :class:`~aiotws.ticker.Ticker`, an order book is updated in place and coalesced per
network read: ``updated`` fires once per read that changed it, and ``async for book in
book.updates()`` yields the latest state (a slow consumer skips states, never buffers).
TWS's error 317 (the book was reset) clears it and the subscription goes on; 316 (depth
halted) and every other error end it with that error (also recorded on ``errors``).

``stale`` is True while the subscription waits out a lost connection (``Client.keep_live``)
and after it was re-issued (``Client.resume_live``, which clears the rows: TWS sends the
whole book again) until the first update.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from eventkit import Event

from aiotws.live import LatestUpdates
from aiotws.model.contract import Contract

if TYPE_CHECKING:
    from aiotws.errors import RequestError

__all__ = ["ASK", "BID", "DELETE", "INSERT", "UPDATE", "DepthLevel", "OrderBook"]

#: depth operations
INSERT: Final = 0
UPDATE: Final = 1
DELETE: Final = 2
#: depth sides
ASK: Final = 0
BID: Final = 1

_ZERO: Final = Decimal(0)


@dataclass(slots=True, frozen=True)
class DepthLevel:
    """One row of a book side; ``market_maker`` is the market maker (or, for SMART depth,
    the exchange) of the row, ``""`` for plain MARKET_DEPTH."""

    price: float
    size: Decimal
    market_maker: str = ""


class OrderBook:
    """Live market depth for one contract, updated in place.

    ``bids`` (best first, descending) and ``asks`` (best first, ascending) are lists of
    :class:`DepthLevel`; ``time`` is the tz-aware time of the latest update. ``updated``
    (eventkit) fires with the book once per network read that changed it. ``errors``
    collects the TWS errors of the subscription (317 resets are kept there too).
    """

    __slots__ = (
        "__weakref__",
        "_closed",
        "_dirty",
        "_ready",
        "_waiters",
        "asks",
        "bids",
        "contract",
        "errors",
        "num_rows",
        "req_id",
        "rerouted_to",
        "resets",
        "smart",
        "stale",
        "time",
        "updated",
    )

    def __init__(
        self, contract: Contract, req_id: int = -1, num_rows: int = 5, smart: bool = False
    ) -> None:
        self.contract = contract
        self.req_id = req_id
        self.num_rows = num_rows
        self.smart = smart
        self.bids: list[DepthLevel] = []
        self.asks: list[DepthLevel] = []
        self.time: datetime | None = None
        self.errors: list[RequestError] = []
        #: how many times TWS reset the book (error 317)
        self.resets = 0
        #: the contract TWS rerouted this subscription to (REROUTE_MKT_DEPTH_REQ, CFDs)
        self.rerouted_to: Contract | None = None
        #: True from a lost connection (kept by ``Client.keep_live``) to the first update
        #: after ``Client.resume_live``
        self.stale = False
        self.updated = Event("orderbook.updated")
        self._dirty = False
        self._ready: asyncio.Future[OrderBook] | None = None
        self._waiters: list[LatestUpdates[Any]] = []
        #: False while live; True (or the error) once the subscription ended
        self._closed: bool | BaseException = False

    # -- reading -----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the subscription ended (cancelled, failed or disconnected)."""
        return self._closed is not False

    def best_bid(self) -> DepthLevel | None:
        return self.bids[0] if self.bids else None

    def best_ask(self) -> DepthLevel | None:
        return self.asks[0] if self.asks else None

    # -- updates (called by the client) --------------------------------------------------------

    def apply(
        self,
        position: int,
        operation: int,
        side: int,
        price: float,
        size: Decimal | None,
        market_maker: str = "",
    ) -> None:
        """Apply one MARKET_DEPTH(_L2) operation as TWS describes it.

        Lenient where TWS is known to be sloppy: an update one past the end appends, a
        delete of a missing row is ignored; an unknown operation or side is ignored.
        """
        rows = self.asks if side == ASK else self.bids if side == BID else None
        if rows is None:
            return
        self._dirty = True
        if operation == DELETE:
            if 0 <= position < len(rows):
                del rows[position]
            return
        level = DepthLevel(price, size if size is not None else _ZERO, market_maker)
        if operation == INSERT:
            rows.insert(max(position, 0), level)
        elif operation == UPDATE:
            if 0 <= position < len(rows):
                rows[position] = level
            else:
                rows.append(level)

    def reset(self) -> None:
        """Clear both sides (TWS's 317 "market depth data has been reset")."""
        self.bids.clear()
        self.asks.clear()
        self.resets += 1
        self._dirty = True

    def on_error(self, error: RequestError) -> None:
        """Record a TWS error or warning for this subscription."""
        self.errors.append(error)

    def _batch_end(self, now: datetime) -> None:
        """End of one network read: fire ``updated`` once if anything changed."""
        if not self._dirty:
            return
        self._dirty = False
        self.stale = False
        self.time = now
        r = self._ready
        if r is not None and not r.done() and self._is_ready():
            r.set_result(self)
        for w in self._waiters:
            w.wake()
        if len(self.updated):  # no listeners: skip the emit (thousands of tickers per read)
            self.updated.emit(self)

    def _fail(self, exc: BaseException) -> None:
        self._close(exc)
        r = self._ready
        if r is not None and not r.done():
            r.set_exception(exc)
            r.exception()  # retrieved: a waiter gets it raised, none may wait any more

    def _close(self, error: BaseException | None = None) -> None:
        """The subscription ended: update iterators finish (raising ``error`` if given)."""
        if self._closed is not False:
            return
        self._closed = error if error is not None else True
        for w in list(self._waiters):
            w.end(error)
        r = self._ready
        if r is not None and not r.done() and error is None:
            r.set_exception(asyncio.InvalidStateError("the market depth subscription has ended"))
            r.exception()

    def _is_ready(self) -> bool:
        return bool(self.bids or self.asks)

    # -- awaiting ------------------------------------------------------------------------------

    async def ready(self, timeout: float | None = 10.0) -> OrderBook:
        """Wait until the book has rows on at least one side."""
        if self._is_ready():
            return self
        closed = self._closed
        if isinstance(closed, BaseException):
            raise closed
        if closed:
            raise asyncio.InvalidStateError("the market depth subscription has ended")
        if self._ready is None or self._ready.done():
            self._ready = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self._ready)

    def updates(self) -> AsyncIterator[OrderBook]:
        """An async iterator over updates; each step yields this book in its latest state.

        Never buffers more than one pending update; ends when the subscription ends (raising
        its error if it failed).
        """
        return LatestUpdates(self, self._waiters, self._closed)

    def __repr__(self) -> str:
        sym = self.contract.local_symbol or self.contract.symbol
        bid, ask = self.best_bid(), self.best_ask()
        top = f"{bid.price if bid else '-'} / {ask.price if ask else '-'}"
        return f"<OrderBook {sym} {top} rows={len(self.bids)}x{len(self.asks)}>"
