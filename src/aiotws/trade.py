"""``Trade``: one order's life, kept current by TWS's order messages.

A :class:`Trade` holds the order as placed (or as TWS last reported it), its contract, its
:class:`OrderStatusInfo` (the numbers of the last ORDER_STATUS), its :class:`Fill` list
(each execution merged with its commission report by ``exec_id``, whichever arrived first),
and a log of what happened, with times. Its state changes only on what TWS says
(OPEN_ORDER, ORDER_STATUS, executions) and on the errors TWS sends for its order id; an
informational code never touches it.

Terminal outcomes and ``done()``
--------------------------------
A trade is *done* when its status is ``Filled``, ``Cancelled``, ``ApiCancelled`` or
``Inactive`` (IB: "received by the system but no longer active because it was rejected or
cancelled"), or when TWS rejected the order before acknowledging it (error 201, 110, 103,
203 …: the trade goes ``Inactive`` with :attr:`Trade.error` set). An error for an order TWS
already works (a modification refused with 110, 321, 105 …) is recorded in
:attr:`Trade.errors` and emitted, and the order keeps its status, as TWS keeps the order.

``await trade.done()`` returns the trade whatever the outcome and never raises for it: look
at :meth:`Trade.is_filled`, :attr:`Trade.error`. ``await trade.filled()`` returns the trade
only if it filled completely and raises :class:`~aiotws.errors.OrderRejected` or
:class:`~aiotws.errors.OrderCancelled` otherwise. Neither ends when the connection drops: the
order lives on in TWS, and the next connection's sync brings its news.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Any, Final

from eventkit import Event

from aiotws.errors import OrderCancelled, OrderNotFilled, OrderRejected, RequestError
from aiotws.live import LatestUpdates
from aiotws.model.account import CommissionReport, Fill
from aiotws.model.contract import Contract
from aiotws.model.order import DONE_STATUSES, Order, OrderState, OrderStatus

__all__ = ["DONE_STATES", "OrderStatusInfo", "Trade", "TradeLogEntry"]

log = logging.getLogger("aiotws.trade")

_ZERO: Final = Decimal(0)

#: statuses after which nothing more happens to an order
DONE_STATES: Final = DONE_STATUSES
#: statuses of an order that is (or is about to be) working
ACTIVE_STATES: Final = frozenset(
    {
        OrderStatus.PENDING_SUBMIT,
        OrderStatus.API_PENDING,
        OrderStatus.PRE_SUBMITTED,
        OrderStatus.SUBMITTED,
        OrderStatus.PENDING_CANCEL,
    }
)


@dataclass(slots=True)
class OrderStatusInfo:
    """What the last ORDER_STATUS said (before any: ``PendingSubmit`` and nothing filled).

    Prices TWS leaves at 0 (no fill yet, no cap) read as ``None``.
    """

    order_id: int = 0
    status: str = OrderStatus.PENDING_SUBMIT
    filled: Decimal = _ZERO
    remaining: Decimal = _ZERO
    avg_fill_price: float | None = None
    perm_id: int = 0
    parent_id: int = 0
    last_fill_price: float | None = None
    client_id: int = 0
    why_held: str = ""
    mkt_cap_price: float | None = None


@dataclass(frozen=True, slots=True)
class TradeLogEntry:
    """One line of a trade's history: when, the status then, and what happened."""

    time: datetime
    status: str
    message: str = ""
    error_code: int = 0


class Trade:
    """An order, its contract, its status, fills and history; updated in place.

    Events (eventkit): ``status_event(trade)`` on every status change, ``modify_event(trade)``
    when the order was re-placed (modified), ``fill_event(trade, fill)`` per new execution,
    ``commission_report_event(trade, fill, report)``, ``filled_event(trade)`` once when fully
    filled, ``cancel_event(trade)`` when a cancel was sent, ``cancelled_event(trade)`` once when
    cancelled, ``error_event(trade, RequestError)`` for each error or warning TWS sent for
    it, and ``updated(trade)`` after any of these. ``async for t in trade.updates()`` yields
    the trade after each change and ends when it is done.
    """

    __slots__ = (
        "_done",
        "_waiters",
        "advanced_order_reject",
        "cancel_event",
        "cancelled_event",
        "commission_report_event",
        "contract",
        "error",
        "error_event",
        "errors",
        "fill_event",
        "filled_event",
        "fills",
        "log",
        "modify_event",
        "order",
        "order_state",
        "order_status",
        "status_event",
        "updated",
    )

    def __init__(
        self,
        contract: Contract,
        order: Order,
        order_status: OrderStatusInfo | None = None,
        fills: list[Fill] | None = None,
        log: list[TradeLogEntry] | None = None,
    ) -> None:
        self.contract = contract
        self.order = order
        self.order_status = order_status or OrderStatusInfo(
            order.order_id,
            remaining=order.total_quantity or _ZERO,
            perm_id=order.perm_id,
            parent_id=order.parent_id,
            client_id=order.client_id,
        )
        #: the last OrderState TWS sent with OPEN_ORDER / COMPLETED_ORDER
        self.order_state: OrderState | None = None
        self.fills: list[Fill] = fills if fills is not None else []
        self.log: list[TradeLogEntry] = log if log is not None else []
        #: the error that rejected the order (it is then done), else ``None``
        self.error: RequestError | None = None
        #: every error and warning TWS sent for this order, in order
        self.errors: list[RequestError] = []
        #: the parsed advanced order reject JSON of the last rejection, if any
        self.advanced_order_reject: object = None
        self.status_event = Event("status_event")
        self.modify_event = Event("modify_event")
        self.fill_event = Event("fill_event")
        self.commission_report_event = Event("commission_report_event")
        self.filled_event = Event("filled_event")
        self.cancel_event = Event("cancel_event")
        self.cancelled_event = Event("cancelled_event")
        self.error_event = Event("error_event")
        self.updated = Event("updated")
        self._done: asyncio.Future[Trade] | None = None
        self._waiters: list[LatestUpdates[Trade]] = []

    # -- reading -------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """The order's status (:class:`~aiotws.model.order.OrderStatus` values)."""
        return self.order_status.status

    def is_active(self) -> bool:
        """True while the order is (or is about to be) working at TWS."""
        return self.order_status.status in ACTIVE_STATES

    def is_done(self) -> bool:
        """True once nothing more will happen to the order (see the module docstring)."""
        return self.order_status.status in DONE_STATES

    def is_filled(self) -> bool:
        """True when the whole quantity executed."""
        return self.order_status.status == OrderStatus.FILLED

    @property
    def rejected(self) -> bool:
        """True when TWS rejected the order (:attr:`error` says why)."""
        return self.error is not None

    def filled_quantity(self) -> Decimal:
        """How much has executed: the executions' sum, or ORDER_STATUS's if that is larger."""
        total = sum((f.execution.shares for f in self.fills), _ZERO)
        return max(total, self.order_status.filled)

    def remaining(self) -> Decimal:
        """How much is left to execute (0 once done)."""
        if self.is_done():
            return _ZERO
        return max((self.order.total_quantity or _ZERO) - self.filled_quantity(), _ZERO)

    def commission(self) -> float:
        """The commissions reported so far (reports not yet arrived count 0)."""
        return sum(
            f.commission_report.commission for f in self.fills if f.commission_report is not None
        )

    def avg_fill_price(self) -> float | None:
        """The quantity-weighted average price of the executions (``None`` before any)."""
        qty = sum((f.execution.shares for f in self.fills), _ZERO)
        if not qty:
            return self.order_status.avg_fill_price
        value = sum(float(f.execution.shares) * f.execution.price for f in self.fills)
        return value / float(qty)

    # -- waiting -------------------------------------------------------------------------------

    async def done(self, timeout: float | None = None) -> Trade:
        """Wait until the trade is done (filled, cancelled or rejected); returns it.

        Never raises for the outcome (see :meth:`filled`); ``timeout`` raises
        ``TimeoutError`` (the order stays as it is at TWS).
        """
        if self.is_done():
            return self
        if self._done is None or self._done.done():
            self._done = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self._done)

    async def filled(self, timeout: float | None = None) -> Trade:
        """Wait until the order filled completely; returns the trade.

        Raises :class:`~aiotws.errors.OrderRejected` (``.error`` is TWS's error) or
        :class:`~aiotws.errors.OrderCancelled` when it ended otherwise (both carry
        ``.trade``; its ``fills`` hold any partial execution).
        """
        await self.done(timeout)
        if self.is_filled():
            return self
        raise self.outcome_error()

    def outcome_error(self) -> OrderNotFilled:
        """The exception :meth:`filled` raises for this (done, unfilled) trade."""
        oid = self.order.order_id
        filled = self.filled_quantity()
        part = f" after {filled} of {self.order.total_quantity} filled" if filled else ""
        if self.error is not None:
            return OrderRejected(
                f"order {oid} rejected: TWS error {self.error.code}: {self.error.message}",
                self,
                self.error,
            )
        if self.status == OrderStatus.INACTIVE:
            last = self.errors[-1] if self.errors else None
            why = f": TWS error {last.code}: {last.message}" if last else ""
            return OrderRejected(f"order {oid} inactive{part}{why}", self, last)
        return OrderCancelled(f"order {oid} {self.status}{part}", self)

    def updates(self) -> AsyncIterator[Trade]:
        """An async iterator over updates; each step yields this trade, newest state.

        Ends after the update that made the trade done. A slow consumer skips states.
        """
        return LatestUpdates(self, self._waiters, self.is_done())

    # -- changes (called by the client's order book) -------------------------------------------

    def _log(self, message: str = "", code: int = 0, time: datetime | None = None) -> None:
        self.log.append(TradeLogEntry(time or datetime.now(UTC), self.status, message, code))

    def _status_to(self, status: str, message: str = "", **changes: Any) -> None:
        """Move to ``status`` (other ORDER_STATUS numbers from ``changes``), as TWS reported
        it or as the client derived it (a cancel sent, executions that add up)."""
        self._set_status(dataclasses.replace(self.order_status, status=status, **changes), message)

    def _set_status(self, info: OrderStatusInfo, message: str = "") -> None:
        old = self.order_status.status
        self.order_status = info
        if info.perm_id and not self.order.perm_id:
            self.order.perm_id = info.perm_id
        if info.status != old:
            self._log(message)
            self.status_event.emit(self)
            if info.status == OrderStatus.FILLED:
                self.filled_event.emit(self)
            elif info.status in (OrderStatus.CANCELLED, OrderStatus.API_CANCELLED):
                self.cancelled_event.emit(self)
        self._changed()

    def _changed(self) -> None:
        self.updated.emit(self)
        done = self.is_done()
        for w in list(self._waiters):
            if done:
                w.finish()
            else:
                w.wake()
        if done:
            fut = self._done
            if fut is not None and not fut.done():
                fut.set_result(self)

    def _add_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        e = fill.execution
        self._log(f"Fill {e.shares}@{e.price}", time=fill.time)
        self.fill_event.emit(self, fill)
        self._changed()

    def _add_commission(self, fill: Fill, report: CommissionReport) -> None:
        self.commission_report_event.emit(self, fill, report)
        self._changed()

    def _add_error(self, err: RequestError, terminal: bool) -> None:
        self.errors.append(err)
        if err.advanced_order_reject is not None:
            self.advanced_order_reject = err.advanced_order_reject
        if terminal:
            self.error = err
            self.order_status = dataclasses.replace(
                self.order_status, status=OrderStatus.INACTIVE, remaining=_ZERO
            )
        self._log(err.message, err.code, err.time)
        self.error_event.emit(self, err)
        if terminal:
            self.status_event.emit(self)
        self._changed()

    def __repr__(self) -> str:
        o = self.order
        c = self.contract
        price = "" if o.lmt_price is None else f" @{o.lmt_price}"
        return (
            f"<Trade {o.order_id} {o.action} {o.total_quantity} {c.local_symbol or c.symbol} "
            f"{o.order_type}{price} {self.status} filled={self.filled_quantity()}>"
        )

    def _repr_html_(self) -> str:
        """The order, its status and fills, and the last log lines, for notebooks."""

        try:
            o, c = self.order, self.contract

            def table(head: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
                th = "".join(f"<th>{h}</th>" for h in head)
                trs = "".join(
                    "<tr>"
                    + "".join(f"<td>{'' if v is None else escape(str(v))}</td>" for v in r)
                    + "</tr>"
                    for r in rows
                )
                return f"<table><tr>{th}</tr>{trs}</table>"

            summary = table(
                ("order", "action", "quantity", "symbol", "type", "limit", "aux", "tif",
                 "status", "filled", "remaining", "avg price", "commission"),
                [(o.order_id, o.action, o.total_quantity, c.local_symbol or c.symbol,
                  o.order_type, o.lmt_price, o.aux_price, o.tif, self.status,
                  self.filled_quantity(), self.remaining(), self.avg_fill_price(),
                  self.commission() or None)],
            )  # fmt: skip
            parts = [summary]
            if self.fills:
                fills = self.fills[-5:]
                parts.append(
                    (f"<div>last 5 of {len(self.fills)} fills</div>" if len(self.fills) > 5 else "")
                    + table(
                        ("time", "exec id", "exchange", "shares", "price", "commission"),
                        [(f.time, f.execution.exec_id, f.execution.exchange, f.execution.shares,
                          f.execution.price,
                          None if f.commission_report is None else f.commission_report.commission)
                         for f in fills],
                    )
                )  # fmt: skip
            if self.log:
                parts.append(
                    table(
                        ("time (UTC)", "status", "message", "code"),
                        [(e.time.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3], e.status, e.message,
                          e.error_code or None) for e in self.log[-5:]],
                    )
                )  # fmt: skip
            return "<div>" + "".join(parts) + "</div>"
        except Exception:
            return f"<pre>{escape(object.__repr__(self))}</pre>"
