"""Orders: placing, modifying and cancelling, live trades, executions and completed orders.

The client keeps one order book of :class:`~aiotws.trade.Trade` objects, keyed by TWS's
permanent id (``perm_id``, unique across clients and sessions) and by ``(client_id,
order_id)`` until TWS gave the perm id. Every order message updates it, whoever placed the
order: OPEN_ORDER, ORDER_STATUS, COMPLETED_ORDER, ORDER_BOUND, executions and commission
reports (merged by ``exec_id`` in whatever order they come). So an order placed by another
client (seen by the master client), bound from TWS (client 0), replayed at connect or
reported only as a completed order is the same ``Trade`` each time, never a duplicate.

Errors TWS sends with an order id reach that order's trade (see :mod:`aiotws.trade` for
which ones end it). Order ids come from the client's one id counter (seeded by
NEXT_VALID_ID), so they are never reused within a connection; TWS enforces the rest (103).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from eventkit import Event

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import ConnectionLost
from aiotws.model.account import CommissionReport, Execution, ExecutionFilter, Fill
from aiotws.model.contract import Contract
from aiotws.model.order import Order, OrderCancel, OrderState, OrderStatus
from aiotws.trade import OrderStatusInfo, Trade
from aiotws.wire.codes import ErrorKind
from aiotws.wire.layout import OutMessage
from aiotws.wire.messages.accounts import (
    CommissionAndFeesReport,
    ExecutionData,
    ExecutionDataEnd,
    ReqExecutions,
)
from aiotws.wire.messages.orders import (
    CancelOrder,
    CompletedOrder,
    CompletedOrdersEnd,
    DeltaNeutralValidation,
    ExerciseOptions,
    OpenOrder,
    OpenOrderEnd,
    OrderBound,
    OrderStatusMsg,
    PlaceOrder,
    ReqAllOpenOrders,
    ReqAutoOpenOrders,
    ReqCompletedOrders,
    ReqGlobalCancel,
    ReqOpenOrders,
)

if TYPE_CHECKING:
    from aiotws.client import ErrorInfo

__all__ = ["CANCEL_REJECT_CODES", "REJECT_CODES", "OrderCalls"]

log = logging.getLogger("aiotws.orders")

_ZERO: Final = Decimal(0)
#: errors that end an order even after TWS acknowledged it (201 rejected, 202 cancelled)
REJECT_CODES: Final = frozenset({201})
#: errors that refuse a cancel: the order keeps its status (and may still fill)
CANCEL_REJECT_CODES: Final = frozenset({135, 136, 161, 10147, 10148})
#: order fields an OPEN_ORDER updates on a known trade's order (TWS's current terms)
_TWS_OWNED: Final = ("total_quantity", "order_type", "lmt_price", "aux_price", "tif")


def _price(x: float | None) -> float | None:
    return x if x else None


class OrderCalls(CoreBase):
    """PLACE_ORDER, CANCEL_ORDER, the order lists, executions and the live order book.

    Events (eventkit), each also on :class:`~aiotws.IB`: ``new_order_event(trade)`` (placed
    by this client), ``order_modify_event(trade)``, ``cancel_order_event(trade)`` (a cancel
    was sent), ``open_order_event(trade)`` (OPEN_ORDER), ``order_status_event(trade)`` (a
    status change), ``exec_details_event(trade, fill)`` (a new execution; ``trade`` is
    ``None`` for an order this client does not know), ``commission_report_event(trade, fill,
    report)``, ``completed_order_event(trade)``, ``order_error_event(trade, RequestError)``.
    """

    _trades_by_perm: dict[int, Trade]
    _trades_by_key: dict[tuple[int, int], Trade]
    _trades: list[Trade]
    _fills: dict[str, Fill]
    _early_reports: dict[str, CommissionReport]
    _unowned_fills: dict[int, list[Fill]]
    _acked: set[int]
    _cancel_from: dict[int, OrderStatusInfo]
    _what_ifs: dict[int, asyncio.Future[OrderState]]

    def _init_orders(self) -> None:
        self._trades_by_perm = {}
        self._trades_by_key = {}
        self._trades = []
        self._fills = {}
        self._early_reports = {}
        self._unowned_fills = {}
        self._acked = set()
        self._cancel_from = {}
        self._what_ifs = {}
        self.new_order_event = Event("new_order_event")
        self.order_modify_event = Event("order_modify_event")
        self.cancel_order_event = Event("cancel_order_event")
        self.open_order_event = Event("open_order_event")
        self.order_status_event = Event("order_status_event")
        self.exec_details_event = Event("exec_details_event")
        self.commission_report_event = Event("commission_report_event")
        self.completed_order_event = Event("completed_order_event")
        self.order_error_event = Event("order_error_event")
        self.on(OpenOrder, self._on_open_order)
        self.on(OrderStatusMsg, self._on_order_status)
        self.on(ExecutionData, self._on_execution)
        self.on(CommissionAndFeesReport, self._on_commission_report)
        self.on(CompletedOrder, self._on_completed_order)
        self.on(OrderBound, self._on_order_bound)
        self.on(DeltaNeutralValidation, self._on_delta_neutral_validation)
        self.disconnected += self._fail_what_ifs

    # -- placing ---------------------------------------------------------------------------

    def place_order(self, contract: Contract, order: Order) -> Trade:
        """Place ``order`` (``order_id`` 0: a new order with the next id) or modify it.

        An order whose ``order_id`` this client placed before is *modified*: PLACE_ORDER again
        with the same id (same ``Trade``). Raises ``ValueError`` for an order that cannot be
        valid (no action, no quantity …) and for modifying a done order, and the encoder's
        errors (:class:`~aiotws.errors.UnsupportedByServer` …), all before anything is sent.
        """
        order.validate()
        key = (self.client_id, order.order_id)
        trade = self._trades_by_key.get(key) if order.order_id else None
        if trade is not None:
            if trade.is_done():
                raise ValueError(
                    f"order {order.order_id} is {trade.status}: a done order cannot be modified"
                )
            self.send(PlaceOrder.from_order(order.order_id, contract, order))
            trade.order, trade.contract = order, contract
            trade._log("Modify")
            trade.modify_event.emit(trade)
            trade._changed()
            self.order_modify_event.emit(trade)
            return trade
        fresh = order.order_id == 0
        if fresh:
            order.order_id = self.next_id()
        else:
            self._use_id(order.order_id)
        try:
            self.send(PlaceOrder.from_order(order.order_id, contract, order))
        except BaseException:
            if fresh:
                order.order_id = 0
            raise
        order.client_id = self.client_id
        trade = Trade(contract, order)
        trade._log("PendingSubmit")
        self._index(trade)
        self.new_order_event.emit(trade)
        return trade

    def place_orders(self, contract: Contract, orders: Iterable[Order]) -> list[Trade]:
        """Place orders that belong together (a bracket from :func:`~aiotws.model.order.
        bracket`, a parent and its children): each later order with ``parent_id`` 0 becomes a
        child of the first, which gets its id first. Only the last should transmit."""
        batch = list(orders)
        if not batch:
            return []
        parent = batch[0]
        if parent.order_id == 0:
            parent.order_id = self.next_id()
        for child in batch[1:]:
            if child.parent_id == 0:
                child.parent_id = parent.order_id
            if child.order_id == 0:
                child.order_id = self.next_id()
        return [self.place_order(contract, o) for o in batch]

    def cancel_order(self, order: Order | Trade, cancel: OrderCancel | None = None) -> Trade | None:
        """Cancel an order of this client (CANCEL_ORDER); returns its trade if known.

        The trade goes ``PendingCancel`` at once; TWS confirms with ``Cancelled`` (and a 202),
        or refuses (10147 not found, 10148/161 not cancellable), which restores its status.
        """
        o = order.order if isinstance(order, Trade) else order
        if not o.order_id:
            raise ValueError("this order has no order id: it was never placed")
        self.send(CancelOrder.from_cancel(o.order_id, cancel))
        trade = order if isinstance(order, Trade) else self.trade_of(o)
        if trade is not None and not trade.is_done():
            self._cancel_from[id(trade)] = trade.order_status
            trade._status_to(OrderStatus.PENDING_CANCEL, "cancel sent")
            trade.cancel_event.emit(trade)
            self.cancel_order_event.emit(trade)
        return trade

    def cancel_all_orders(self, cancel: OrderCancel | None = None) -> None:
        """Cancel every open order of every client and of TWS itself (REQ_GLOBAL_CANCEL)."""
        self.send(ReqGlobalCancel.from_cancel(cancel))

    async def what_if(
        self, contract: Contract, order: Order, *, timeout: Timeout = ...
    ) -> OrderState:
        """The margin and commission impact of ``order`` without placing it.

        A copy of ``order`` goes out with ``what_if=True`` and a fresh id; TWS answers with
        one OPEN_ORDER whose state has the margins (``init_margin_change`` …) and the
        commission estimate. Raises :class:`~aiotws.errors.RequestError` if TWS refuses it.
        """
        o = copy.deepcopy(order)
        o.what_if = True
        o.order_id = self.next_id()
        o.validate()
        fut: asyncio.Future[OrderState] = asyncio.get_running_loop().create_future()
        self._what_ifs[o.order_id] = fut
        try:
            self.send(PlaceOrder.from_order(o.order_id, contract, o))
            limit = self._timeout(timeout)
            async with asyncio.timeout(limit):
                return await fut
        finally:
            self._what_ifs.pop(o.order_id, None)

    def exercise_options(
        self,
        contract: Contract,
        exercise_action: int,
        quantity: int,
        account: str = "",
        override: bool = False,
        *,
        manual_order_time: str = "",
    ) -> int:
        """Exercise (``exercise_action`` 1) or lapse (2) options (EXERCISE_OPTIONS).

        Returns the request id TWS's errors will carry (see ``order_error_event`` / the
        client's ``errors``); the exercise itself shows as executions and position changes.
        """
        if exercise_action not in (1, 2):
            raise ValueError("exercise_action must be 1 (exercise) or 2 (lapse)")
        if quantity <= 0:
            raise ValueError(f"exercise quantity must be positive, not {quantity}")
        req_id = self.next_id()
        self.send(
            ExerciseOptions(
                req_id,
                contract,
                exercise_action,
                quantity,
                account,
                1 if override else 0,
                manual_order_time=manual_order_time,
            )
        )
        return req_id

    def req_auto_open_orders(self, auto_bind: bool = True) -> None:
        """Client 0 only: bind orders entered in TWS to the API from now on (else TWS 327)."""
        self.send(ReqAutoOpenOrders(auto_bind))

    # -- lists -----------------------------------------------------------------------------

    async def sync_open_orders(
        self, all_clients: bool = False, *, timeout: Timeout = ...
    ) -> list[Trade]:
        """Ask TWS for the open orders (REQ_OPEN_ORDERS, or REQ_ALL_OPEN_ORDERS with
        ``all_clients``) and wait for OPEN_ORDER_END; returns the open trades.

        The replies update the order book as they come; client 0's REQ_OPEN_ORDERS also
        binds TWS's manual orders (ORDER_BOUND).
        """
        msg: OutMessage = ReqAllOpenOrders() if all_clients else ReqOpenOrders()
        await self.request(msg, OpenOrderEnd, timeout=timeout)
        return self.open_trades()

    async def sync_completed_orders(
        self, api_only: bool = False, *, timeout: Timeout = ...
    ) -> list[Trade]:
        """Today's filled and cancelled orders (REQ_COMPLETED_ORDERS), as trades merged into
        the order book. TWS is known to leave this one unfinished: keep the timeout."""
        items, _ = await self.request_list(
            ReqCompletedOrders(api_only), (CompletedOrder,), (CompletedOrdersEnd,), timeout=timeout
        )
        trades: list[Trade] = []
        for m in items:
            assert isinstance(m, CompletedOrder)
            t = self._trades_by_perm.get(m.perm_id)
            if t is not None and t not in trades:
                trades.append(t)
        return trades

    async def sync_executions(
        self, filter: ExecutionFilter | None = None, *, timeout: Timeout = ...
    ) -> list[Fill]:
        """The executions matching ``filter`` (REQ_EXECUTIONS; default: all of today's this
        login may see), as fills merged into the book (their commission reports join them
        as they arrive). TWS is known to leave this one unfinished: keep the timeout."""
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqExecutions(req_id, filter or ExecutionFilter()),
            (ExecutionData,),
            (ExecutionDataEnd,),
            key=req_id,
            timeout=timeout,
        )
        out: list[Fill] = []
        for m in items:
            assert isinstance(m, ExecutionData)
            f = self._fills.get(m.exec_id)
            if f is not None:
                out.append(f)
        return out

    def trades(self) -> list[Trade]:
        """Every trade this session knows, in the order it learned of them."""
        return list(self._trades)

    def open_trades(self) -> list[Trade]:
        """The trades that are not done."""
        return [t for t in self._trades if not t.is_done()]

    def fills(self) -> list[Fill]:
        """Every execution this session saw (live or from REQ_EXECUTIONS), in arrival order."""
        return list(self._fills.values())

    def trade_of(self, order: Order) -> Trade | None:
        """The trade of ``order`` (by perm id, else by client and order id)."""
        return self._find(order.perm_id, order.client_id or self.client_id, order.order_id)

    # -- the order book ----------------------------------------------------------------------

    def _find(self, perm_id: int, client_id: int, order_id: int) -> Trade | None:
        t = self._trades_by_perm.get(perm_id) if perm_id else None
        if t is None and order_id:
            t = self._trades_by_key.get((client_id, order_id))
            if t is not None and perm_id:
                known = t.order.perm_id
                if known and known != perm_id:
                    return None  # the same id of another session: a different order
                self._trades_by_perm[perm_id] = t
        return t

    def _index(self, trade: Trade) -> None:
        o = trade.order
        if o.perm_id:
            self._trades_by_perm[o.perm_id] = trade
        if o.order_id:
            self._trades_by_key[(o.client_id, o.order_id)] = trade
        self._trades.append(trade)
        if o.perm_id:
            for f in self._unowned_fills.pop(o.perm_id, ()):
                trade._add_fill(f)

    def _adopt(self, contract: Contract, order: Order) -> Trade:
        trade = Trade(contract, order)
        trade._log("seen")
        self._index(trade)
        return trade

    def _on_open_order(self, m: OpenOrder) -> None:
        fut = self._what_ifs.get(m.order_id)
        if fut is not None and m.what_if:
            if not fut.done():
                fut.set_result(m.to_order_state())
            return
        state = m.to_order_state()
        if m.client_id == self.client_id and m.order_id > 0:
            self._use_id(m.order_id)  # ids TWS knows for this client are used ids
        trade = self._find(m.perm_id, m.client_id, m.order_id)
        if trade is None:
            trade = self._adopt(m.to_contract(), m.to_order())
        else:
            o = trade.order
            if m.perm_id:
                o.perm_id = m.perm_id
            o.client_id = m.client_id
            for name in _TWS_OWNED:  # the order as TWS now works it (a modify in TWS …)
                value = getattr(m, name)
                if value != getattr(o, name):
                    setattr(o, name, value)
            if not trade.contract.con_id:
                trade.contract = m.to_contract()
        trade.order_state = state
        self._acked.add(id(trade))
        if state.status and state.status != trade.status and not trade.is_filled():
            perm_id = m.perm_id or trade.order_status.perm_id
            trade._status_to(state.status, perm_id=perm_id, client_id=m.client_id)
        else:
            trade._changed()
        self.open_order_event.emit(trade)

    def _on_order_status(self, m: OrderStatusMsg) -> None:
        trade = self._find(m.perm_id, m.client_id, m.order_id)
        if trade is None:
            log.debug("ORDER_STATUS for unknown order %d (perm %d)", m.order_id, m.perm_id)
            return
        self._acked.add(id(trade))
        if m.status != OrderStatus.PENDING_CANCEL:
            self._cancel_from.pop(id(trade), None)
        if trade.is_filled() and m.status != OrderStatus.FILLED:
            return  # a late duplicate; a filled order does not come back
        info = OrderStatusInfo(
            m.order_id,
            m.status,
            m.filled if m.filled is not None else _ZERO,
            m.remaining if m.remaining is not None else _ZERO,
            _price(m.avg_fill_price),
            m.perm_id,
            m.parent_id,
            _price(m.last_fill_price),
            m.client_id,
            m.why_held,
            _price(m.mkt_cap_price),
        )
        changed = info != trade.order_status
        trade._set_status(info)
        if changed:
            self.order_status_event.emit(trade)

    def _on_completed_order(self, m: CompletedOrder) -> None:
        state = m.to_order_state()
        trade = self._trades_by_perm.get(m.perm_id) if m.perm_id else None
        if trade is None:
            trade = self._adopt(m.to_contract(), m.to_order())
        trade.order_state = state
        status = state.status or state.completed_status
        if status and status != trade.status and not trade.is_done():
            trade._status_to(status, state.completed_status, perm_id=m.perm_id)
        self.completed_order_event.emit(trade)

    def _on_order_bound(self, m: OrderBound) -> None:
        if m.client_id == self.client_id and m.order_id > 0:
            self._use_id(m.order_id)  # a bound order's id is used: never place under it
        trade = self._trades_by_perm.get(m.perm_id)
        if trade is not None:
            trade.order.order_id = m.order_id
            trade.order.client_id = m.client_id
            self._trades_by_key[(m.client_id, m.order_id)] = trade
            trade._log(f"bound to API order id {m.order_id}")

    def _on_delta_neutral_validation(self, m: DeltaNeutralValidation) -> None:
        # TWS validated the hedge of order m.req_id: the trade's contract carries TWS's one
        trade = self._trades_by_key.get((self.client_id, m.req_id))
        if trade is None:
            log.info("delta-neutral validation for unknown order %d: %s", m.req_id, m.record())
            return
        trade.contract.delta_neutral_contract = m.record()
        trade._log(
            f"delta-neutral contract validated: con_id {m.con_id}, delta {m.delta:g}, "
            f"price {m.price:g}"
        )
        trade._changed()

    def _on_execution(self, m: ExecutionData) -> None:
        if m.exec_id in self._fills:
            return  # seen live, now again in an answer to REQ_EXECUTIONS
        e: Execution = m.record()
        fill = Fill(m.contract, e, self._early_reports.pop(m.exec_id, None))
        if fill.time is None:
            fill.time = datetime.now(UTC)
        self._fills[m.exec_id] = fill
        trade = self._find(e.perm_id, e.client_id, e.order_id)
        if trade is None:
            self._unowned_fills.setdefault(e.perm_id, []).append(fill)
        else:
            trade._add_fill(fill)
            if fill.commission_report is not None:
                trade._add_commission(fill, fill.commission_report)
            self._complete_by_fills(trade)
        self.exec_details_event.emit(trade, fill)
        if fill.commission_report is not None:
            self.commission_report_event.emit(trade, fill, fill.commission_report)

    def _complete_by_fills(self, trade: Trade) -> None:
        # "a fully executed order does not always produce Filled": executions decide too
        total = trade.order.total_quantity
        if total and not trade.is_done() and trade.filled_quantity() >= total:
            trade._status_to(
                OrderStatus.FILLED,
                "filled (by executions)",
                filled=trade.filled_quantity(),
                remaining=_ZERO,
                avg_fill_price=trade.avg_fill_price(),
            )
            self.order_status_event.emit(trade)

    def _on_commission_report(self, m: CommissionAndFeesReport) -> None:
        report = m.record()
        fill = self._fills.get(m.exec_id)
        if fill is None:
            self._early_reports[m.exec_id] = report
            return
        fill.commission_report = report
        e = fill.execution
        trade = self._find(e.perm_id, e.client_id, e.order_id)
        if trade is not None:
            trade._add_commission(fill, report)
        self.commission_report_event.emit(trade, fill, report)

    def _order_error(self, info: ErrorInfo) -> bool:
        """An ERR_MSG whose id no request claimed: is it an order's? (called by the client)"""
        err = info.to_exception()
        fut = self._what_ifs.get(info.req_id)
        if fut is not None:
            if info.kind is ErrorKind.ERROR and not fut.done():
                fut.set_exception(err)
            return True
        trade = self._trades_by_key.get((self.client_id, info.req_id))
        if trade is None:
            return False
        if info.kind is ErrorKind.CANCELLED:
            if not trade.is_done():
                trade.errors.append(err)
                trade._status_to(OrderStatus.CANCELLED, info.text)
                trade.error_event.emit(trade, err)
            self.order_error_event.emit(trade, err)
            return True
        if info.kind is not ErrorKind.ERROR:  # warnings and notices: the order goes on
            trade._add_error(err, terminal=False)
            self.order_error_event.emit(trade, err)
            return True
        if info.code in CANCEL_REJECT_CODES:
            previous = self._cancel_from.pop(id(trade), None)
            trade._add_error(err, terminal=False)
            if previous is not None and trade.status == OrderStatus.PENDING_CANCEL:
                trade._set_status(previous, "cancel refused")
        else:
            acked = id(trade) in self._acked
            terminal = not trade.is_done() and (info.code in REJECT_CODES or not acked)
            trade._add_error(err, terminal=terminal)
        self.order_error_event.emit(trade, err)
        return True

    def _fail_what_ifs(self, exc: BaseException | None = None) -> None:
        for fut in self._what_ifs.values():
            if not fut.done():
                fut.set_exception(ConnectionLost("what-if order: connection to TWS lost"))
