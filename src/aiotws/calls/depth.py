"""Market depth: REQ_MKT_DEPTH subscriptions feeding :class:`~aiotws.orderbook.OrderBook`.

MARKET_DEPTH and MARKET_DEPTH_L2 take the client's hot path (:meth:`Client.consume`): each
operation is applied to its book straight away, and every book touched by one network read
fires ``updated`` once at the end of that read (``batch_done``). Errors reach the book
through the correlator: 317 (book reset) clears the book and the subscription goes on; any
other error (309 too many depth requests, 10092 no depth for this instrument, 316 halted
…) ends it. CANCEL_MKT_DEPTH has no reply (PROTOCOL.md pitfall 1): the book ends at once.

With ``Client.keep_live`` a lost connection suspends the books (kept, ``stale``, rows still
readable); ``Client.resume_live`` clears each and subscribes it again under a fresh request
id (TWS sends the whole book again).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import RequestError
from aiotws.model.contract import Contract
from aiotws.model.ticks import DepthMktDataDescription
from aiotws.orderbook import OrderBook
from aiotws.requests import LiveHook, Pending
from aiotws.wire.messages.depth import (
    CancelMktDepth,
    MarketDepth,
    MarketDepthL2,
    MktDepthExchanges,
    ReqMktDepth,
    ReqMktDepthExchanges,
    RerouteMktDepthReq,
)

if TYPE_CHECKING:
    from aiotws.wire.layout import InMessage

    M = TypeVar("M", bound=InMessage)

__all__ = ["DepthCalls"]

log = logging.getLogger("aiotws.depth")

#: ERR_MSG 317: TWS reset the book (clear it; the subscription goes on)
DEPTH_RESET = 317


class _BookPending(Pending):
    """The correlator's view of a depth subscription: only errors and warnings route here."""

    __slots__ = ("book", "owner")

    def __init__(self, owner: DepthCalls, book: OrderBook) -> None:
        super().__init__(book.req_id, (), f"market depth {book.contract.symbol}")
        self.owner = owner
        self.book = book

    def feed(self, msg: Any) -> bool:  # pragma: no cover - accepts no message types
        return False

    def fail(self, exc: BaseException) -> None:
        book = self.book
        if isinstance(exc, RequestError):
            book.on_error(exc)
            if exc.code == DEPTH_RESET and not book.done:
                # TWS resends the book after a reset: clear it and keep the subscription
                # (the correlator dropped this request on the error; register it again)
                self.owner._reset_book(book)
                self.done = False
                self.owner._registry.add(self)
                return
        self.owner._drop_book(book)
        book._fail(exc)

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.book.on_error(warning)
        if warning.code == DEPTH_RESET:
            self.owner._reset_book(self.book)


class DepthCalls(CoreBase):
    """REQ_MKT_DEPTH, CANCEL_MKT_DEPTH, REQ_MKT_DEPTH_EXCHANGES and the depth messages."""

    _books: dict[int, OrderBook]
    _dirty_books: list[OrderBook]

    def _init_depth(self) -> None:
        self._books = {}
        self._dirty_books = []
        self._live_hooks.append(
            LiveHook(self._suspend_books, self._resume_books, self._end_suspended_books)
        )
        self.consume(MarketDepth, self._on_market_depth)
        self.consume(MarketDepthL2, self._on_market_depth_l2)
        self.consume(RerouteMktDepthReq, self._on_depth_reroute)
        self.batch_done += self._end_depth_batch
        self.disconnected += self._on_depth_disconnect

    # -- requests ------------------------------------------------------------------------

    def req_mkt_depth(self, contract: Contract, rows: int = 5, smart: bool = False) -> OrderBook:
        """Subscribe to ``rows`` levels of ``contract``'s book; returns the live book.

        ``smart``: SMART depth (the book aggregated over the exchanges of
        :meth:`req_mkt_depth_exchanges`, rows tagged with their exchange).
        """
        if rows < 1:
            raise ValueError("rows must be at least 1")
        req_id = self.next_id()
        book = OrderBook(contract, req_id, rows, smart)
        self._subscribe_book(book, ReqMktDepth(req_id, contract, rows, smart))
        return book

    def _subscribe_book(self, book: OrderBook, request: ReqMktDepth) -> None:
        pending = _BookPending(self, book)
        self._registry.add(pending)
        self._books[request.req_id] = book
        try:
            self.send(request)
        except BaseException:
            self._registry.discard(pending)
            del self._books[request.req_id]
            raise

    def cancel_mkt_depth(self, book: OrderBook) -> None:
        """End ``book``'s subscription at TWS (no reply comes; it ends here at once)."""
        if self._books.get(book.req_id) is not book:
            return
        active = self._active_book(book)  # else suspended: there is no request to cancel
        self._drop_book(book)
        if active and self.is_connected():
            self.send(CancelMktDepth(book.req_id, book.smart))
        book._close()

    async def req_mkt_depth_exchanges(
        self, *, timeout: Timeout = ...
    ) -> list[DepthMktDataDescription]:
        """The exchanges that offer market depth, and their service data type (L1/L2)."""
        m = await self.request(ReqMktDepthExchanges(), MktDepthExchanges, timeout=timeout)
        return list(m.descriptions)

    def order_books(self) -> list[OrderBook]:
        """The live depth subscriptions."""
        return list(self._books.values())

    # -- internals -----------------------------------------------------------------------

    def _drop_book(self, book: OrderBook) -> None:
        if self._books.get(book.req_id) is book:
            del self._books[book.req_id]
        p = self._registry.get(book.req_id)
        if p is not None:
            self._registry.discard(p)
        if book in self._dirty_books:
            self._dirty_books.remove(book)

    def _reset_book(self, book: OrderBook) -> None:
        if not book._dirty:
            self._dirty_books.append(book)
        book.reset()

    def _on_market_depth(self, m: MarketDepth) -> None:
        book = self._books.get(m.req_id)
        if book is not None:
            if not book._dirty:
                self._dirty_books.append(book)
            book.apply(m.position, m.operation, m.side, m.price, m.size)

    def _on_market_depth_l2(self, m: MarketDepthL2) -> None:
        book = self._books.get(m.req_id)
        if book is not None:
            if not book._dirty:
                self._dirty_books.append(book)
            book.apply(m.position, m.operation, m.side, m.price, m.size, m.market_maker)

    def _on_depth_reroute(self, m: RerouteMktDepthReq) -> None:
        """As for market data: the same book, subscribed to the contract TWS names."""
        book = self._books.get(m.req_id)
        if book is None:
            log.info("market depth %d rerouted to con_id %d: no such book", m.req_id, m.con_id)
            return
        self._drop_book(book)
        target = Contract(con_id=m.con_id, exchange=m.exchange)
        book.req_id = self.next_id()
        book.rerouted_to = target
        log.info(
            "market depth of %s rerouted by TWS to con_id %d on %s (request %d is now %d)",
            book.contract.symbol or book.contract.local_symbol,
            m.con_id,
            m.exchange,
            m.req_id,
            book.req_id,
        )
        self._subscribe_book(book, ReqMktDepth(book.req_id, target, book.num_rows, book.smart))

    def _end_depth_batch(self) -> None:
        dirty = self._dirty_books
        if dirty:
            now = datetime.now(UTC)
            for book in dirty:
                book._batch_end(now)
            dirty.clear()

    def _on_depth_disconnect(self, exc: BaseException | None) -> None:
        self._dirty_books.clear()

    # -- kept across connections (Client.keep_live / resume_live) ---------------------------

    def _active_book(self, book: OrderBook) -> bool:
        p = self._registry.get(book.req_id)
        return isinstance(p, _BookPending) and p.book is book

    def _suspend_books(self) -> int:
        n = 0
        for book in self._books.values():
            p = self._registry.get(book.req_id)
            if isinstance(p, _BookPending) and p.book is book:
                self._registry.discard(p)
                book.stale = True
                n += 1
        return n

    def _resume_books(self, cancel_old: bool) -> int:
        n = 0
        for book in list(self._books.values()):
            if self._active_book(book):
                if not cancel_old:
                    continue
                p = self._registry.get(book.req_id)
                if p is not None:
                    self._registry.discard(p)
                self.send(CancelMktDepth(book.req_id, book.smart))
            del self._books[book.req_id]
            if book in self._dirty_books:
                self._dirty_books.remove(book)
            book._dirty = False
            book.bids.clear()  # TWS sends the whole book again
            book.asks.clear()
            book.stale = True
            book.req_id = self.next_id()
            target = book.rerouted_to or book.contract
            try:
                self._subscribe_book(
                    book, ReqMktDepth(book.req_id, target, book.num_rows, book.smart)
                )
            except Exception as e:  # the request cannot be sent: the book ends with it
                log.warning("re-subscribing market depth of %s failed: %s", target.symbol, e)
                book._fail(e)
                continue
            n += 1
        return n

    def _end_suspended_books(self, exc: BaseException) -> int:
        n = 0
        for book in list(self._books.values()):
            if not self._active_book(book):
                self._drop_book(book)
                book._fail(exc)
                n += 1
        return n
