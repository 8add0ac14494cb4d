"""Simulator handlers for orders and executions, over the matching engine
(:class:`~aiotws.sim.matching.MatchingEngine`).

The book lives in ``sim.store["orders"]`` (:func:`desk_of`): it outlives client connections
and :meth:`~aiotws.sim.server.Simulator.drop_connections`, as TWS's does, so a client that
reconnects with the same id sees its open orders again (replayed at connect when
``config.download_open_orders``) and can modify or cancel them.

What each request gets, as TWS answers it:

* PLACE_ORDER: 200 for a contract that matches no instrument or several; 321 for an account
  not managed here; 103 for an id at or below one the client used (that is not a live order
  of it), 104 for the id of a filled order; 434 for a size ≤ 0; 387 for an order type the
  instrument does not take or the simulator does not simulate (it does MKT, LMT, STP,
  STP LMT, TRAIL, TRAIL LIMIT, MOC, LOC, MIT, LIT); 321 for a bad TIF or missing prices; 110
  for a price off the instrument's price ladder (for a modification of a live order 110 is a
  warning and the order stays as it was, as TWS does); 201 with an advanced order reject JSON
  (server 166+) when the account's margin would not carry it (the order ends ``Inactive``).
  A what-if order gets one OPEN_ORDER whose state carries the margin before / change /
  after and the commission estimate (status ``PreSubmitted``), and is not booked.
  Accepted: OPEN_ORDER + ORDER_STATUS ``PreSubmitted``, then (for a working MKT/LMT)
  OPEN_ORDER + ORDER_STATUS ``Submitted``; untriggered stops, close orders and bracket
  children stay ``PreSubmitted``. Each fill: EXECUTION_DATA (id -1) and COMMISSION_REPORT
  (the report first with the seeded chance ``config.commission_report_first``), then
  ORDER_STATUS with filled / remaining / average price; the last fill: ORDER_STATUS,
  OPEN_ORDER and ORDER_STATUS ``Filled`` (TWS repeats). A ``transmit=False`` order is held
  silently until its bracket is transmitted.
* CANCEL_ORDER: ORDER_STATUS ``Cancelled`` and ERR_MSG 202 ``Order Canceled - reason:``;
  10147 for an id the client has no order under; 10148 for an order already done.
  REQ_GLOBAL_CANCEL cancels every order of every client.
* REQ_OPEN_ORDERS (this client's; client 0's include the manual orders), REQ_ALL_OPEN_ORDERS
  (every client's and the manual ones, binding nothing): OPEN_ORDER + ORDER_STATUS each, then
  OPEN_ORDER_END. From client 0, REQ_OPEN_ORDERS first *binds* every open manual order that
  has no API order id: it gets the next order id of client 0 (or, with
  ``config.bind_negative_ids``, the next of -1, -2, …), announced by ORDER_BOUND (server
  144+, ``MIN_SERVER_VER_API_BIND_ORDER``), and its OPEN_ORDER carries the id.
* REQ_AUTO_OPEN_ORDERS: client 0 only (else 327); no reply. With ``auto_bind`` true, manual
  orders placed from then on are bound to client 0 as they are placed (ORDER_BOUND before
  their first OPEN_ORDER); false stops that.
* Read-only mode (``config.read_only``) refuses the binding with 321 (the Read-Only text, id
  -1): REQ_AUTO_OPEN_ORDERS(true) from client 0 is not switched on; REQ_OPEN_ORDERS from
  client 0 binds nothing (the refusal), then lists the orders as usual, unbound ones with id 0.
* REQ_COMPLETED_ORDERS: COMPLETED_ORDER for each filled, cancelled or rejected order, then
  COMPLETED_ORDERS_END; ``api_only`` leaves out the manual orders.
* REQ_EXECUTIONS: EXECUTION_DATA (with the request id) and COMMISSION_REPORT for each
  execution that passes the filter (client id, account, time — ``yyyymmdd hh:mm:ss`` in the
  TWS zone, with a zone, or ``yyyymmdd-hh:mm:ss`` UTC — symbol, sec type, exchange, side,
  and from server 200 the last N days / specific dates), then EXECUTION_DATA_END. A client
  sees only its own executions unless it is the master client.
* EXERCISE_OPTIONS: 321 unless the contract is an option the account holds enough of (long,
  for an exercise); an exercise books the option's closing and the underlying's delivery as
  executions (no commission) in the account; a lapse closes the position at 0.

Manual orders (entered in TWS's window: :func:`place_manual_order`, :func:`cancel_manual_order`)
are client 0's: order id 0 until bound, a perm id; they work and fill like any order.

Order messages (OPEN_ORDER, ORDER_STATUS, EXECUTION_DATA, COMMISSION_REPORT) go to the placing
client and to the master client (``config.master_client_id``); those of manual orders, bound
or not, only to client 0 (the master sees TWS's orders only when it is client 0); errors only
to the client that asked. Fills move the account (``aiotws.sim.accounts``). On the market clock
(:func:`step_orders`) the instruments with live orders move (those no market data
subscription already moved) and their orders react; when the simulated time crosses 16:00
New York on a business day, :func:`close_session` runs the close.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from aiotws.model.account import Execution, ExecutionFilter, format_execution_time
from aiotws.model.contract import Contract, ContractDetails
from aiotws.model.order import Order, OrderState
from aiotws.sim import display as _sim_display
from aiotws.sim.accounts import ledger_of, publish_fill
from aiotws.sim.advisor import (
    AllocationError,
    allocation_state,
    plan_allocation,
    register_allocation,
    split_fill,
)
from aiotws.sim.calendar import is_business_day
from aiotws.sim.matching import (
    ORDER_TYPE_CODES,
    Event,
    FillEvent,
    MatchingEngine,
    OrderError,
    SimExecution,
    SimOrder,
    StatusUpdate,
    Touch,
    ib_commission,
)
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
from aiotws.sim.universe import increment_at
from aiotws.timezones import parse_tws_datetime
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
from aiotws.wire.versions import SV

__all__ = [
    "OrderDesk",
    "bind_manual_orders",
    "cancel_manual_order",
    "close_session",
    "desk_of",
    "place_manual_order",
    "step_orders",
    "touch_of",
]

_STORE: Final = "orders"
_NEW_YORK: Final = ZoneInfo("America/New_York")
_CLOSE: Final = time(16, 0)
#: order types whose lmt_price / aux_price must be on the price ladder
_LIMIT_PRICED: Final = frozenset({"LMT", "STP LMT", "LOC", "LIT"})
_STOP_PRICED: Final = frozenset({"STP", "STP LMT", "MIT", "LIT"})
#: the session state key of client 0's REQ_AUTO_OPEN_ORDERS setting
_AUTO_BIND: Final = "auto_bind"


@dataclass(slots=True)
class OrderDesk:
    """The simulator's order state: the engine, and what the clock hook remembers."""

    engine: MatchingEngine
    rng: random.Random
    #: con_id -> the market's serial when the clock hook last looked at it
    seen: dict[int, int] = field(default_factory=dict)
    #: the simulated time the clock hook last ran at (for the session close)
    last_time: datetime | None = None
    #: the last negative order id given to a bound manual order (``bind_negative_ids``)
    last_negative_id: int = 0


def desk_of(sim: Simulator) -> OrderDesk:
    """The simulator's :class:`OrderDesk` (``sim.store["orders"]``), made on first use; from
    then on new connections get their open orders replayed."""
    desk = sim.store.get(_STORE)
    if desk is None:
        cfg = sim.config
        desk = OrderDesk(
            MatchingEngine(cfg.seed, currency=cfg.base_currency, zone=ZoneInfo(cfg.time_zone)),
            random.Random(f"aiotws.sim.orders:{cfg.seed}"),
        )
        sim.store[_STORE] = desk
        sim.on_session_start.append(_replay)
    assert isinstance(desk, OrderDesk)
    return desk


def touch_of(sim: Simulator, con_id: int) -> Touch | None:
    """The simulated market of ``con_id`` as an order sees it (``None``: not traded here)."""
    try:
        q = sim.market.quote(con_id)
    except KeyError:
        return None
    return Touch(
        bid=q.bid if q.bid > 0 else None,
        ask=q.ask if q.ask > 0 else None,
        bid_size=q.bid_size,
        ask_size=q.ask_size,
        last=q.last if q.last > 0 else None,
        last_size=q.last_size,
        serial=sim.market.serial(con_id),
    )


# -- sending ----------------------------------------------------------------------------------


def _sees(session: SimSession, client_id: int, manual: bool) -> bool:
    """Does ``session`` follow the orders (and executions) of ``client_id`` / TWS?"""
    if manual:
        return session.client_id == 0
    return session.client_id == client_id or session.is_master


def _audience(sim: Simulator, client_id: int, manual: bool = False) -> list[SimSession]:
    out = []
    s = sim.clients.get(0 if manual else client_id)
    if manual:
        return [s] if s is not None else []
    if s is not None:
        out.append(s)
    master = sim.config.master_client_id
    if master is not None and master != client_id:
        m = sim.clients.get(master)
        if m is not None:
            out.append(m)
    return out


def _open_order(session: SimSession, o: SimOrder, status: str) -> OpenOrder:
    return OpenOrder.from_order(
        o.contract, o.order, OrderState(status=status), version=session.version
    )


def _order_status(o: SimOrder, u: StatusUpdate | None = None) -> OrderStatusMsg:
    if u is None:
        u = StatusUpdate(o, o.status, o.filled, o.remaining, o.avg_fill_price, o.last_fill_price)
    return OrderStatusMsg(
        o.order_id,
        u.status.value,
        u.filled,
        u.remaining,
        u.avg_fill_price,
        o.perm_id,
        o.order.parent_id,
        u.last_fill_price,
        o.client_id,
        o.why_held,
        0.0,
    )


def _exec_time(sim: Simulator, when: datetime) -> str:
    return format_execution_time(when.astimezone(ZoneInfo(sim.config.time_zone)))


def _exchange(c: Contract) -> str:
    if c.exchange and c.exchange != "SMART":
        return c.exchange
    return c.primary_exchange or c.exchange


def _execution_data(
    sim: Simulator, session: SimSession, req_id: int, x: SimExecution
) -> ExecutionData:
    exchange = _exchange(x.contract)
    e = Execution(
        exec_id=x.exec_id,
        time_text=_exec_time(sim, x.time),
        acct_number=x.account,
        exchange=exchange,
        side=x.side,
        shares=x.shares,
        price=x.price,
        perm_id=x.perm_id,
        client_id=x.client_id,
        order_id=x.order_id,
        cum_qty=x.cum_qty,
        avg_price=x.avg_price,
        order_ref=x.order_ref,
        model_code=x.model_code,
        last_liquidity=x.last_liquidity,
    )
    contract = x.contract.copy(exchange=exchange)
    return ExecutionData.from_record(req_id, contract, e, session.version)


def _commission_report(x: SimExecution) -> CommissionAndFeesReport:
    return CommissionAndFeesReport(x.exec_id, x.commission, x.currency, x.realized_pnl, None, 0)


def _report_execution(
    sim: Simulator, desk: OrderDesk, targets: list[SimSession], x: SimExecution
) -> None:
    """EXECUTION_DATA and its commission report to each client that sees the order (the
    report first with the configured chance, as TWS sometimes does), then the account's
    position and PnL updates."""
    report_first = desk.rng.random() < sim.config.commission_report_first
    for s in targets:
        data = _execution_data(sim, s, -1, x)
        report = _commission_report(x)
        for m in (report, data) if report_first else (data, report):
            s.send(m)
    publish_fill(sim, x.account, x.contract.con_id)


def _dispatch(sim: Simulator, events: list[Event]) -> None:
    """Send what the engine reports to the clients that see it; book fills in the ledger."""
    desk = desk_of(sim)
    for ev in events:
        o = ev.order
        targets = _audience(sim, o.client_id, o.manual)
        if isinstance(ev, FillEvent):
            x = ev.execution
            parts = split_fill(sim, x.perm_id, x.shares) if o.order.fa_group else []
            if parts:
                _dispatch_allocations(sim, desk, targets, x, parts)
                continue
            x.realized_pnl = ledger_of(sim).apply_fill(
                x.account, x.contract, x.side, x.shares, x.price, x.commission
            )
            _report_execution(sim, desk, targets, x)
            continue
        for s in targets:
            if ev.open_order:
                s.send(_open_order(s, o, ev.status.value))
            s.send(_order_status(o, ev))
        if ev.reason is not None and o.order_id:
            s_own = sim.clients.get(o.client_id)
            if s_own is not None:
                s_own.send_error(o.order_id, 202, f"Order Canceled - reason:{ev.reason}")


def _dispatch_allocations(
    sim: Simulator,
    desk: OrderDesk,
    targets: list[SimSession],
    x: SimExecution,
    parts: list[tuple[str, Decimal]],
) -> None:
    """An FA order's fill: one execution per account of the group (its share of ``x``, its
    own exec id and commission), booked in that account; they replace the block execution
    ``x`` in the engine's record (REQ_EXECUTIONS), so executions add up to the fill."""
    state = allocation_state(sim, x.perm_id)
    assert state is not None
    ledger = ledger_of(sim)
    stem = x.exec_id.rpartition(".")[0]
    allocated = []
    for i, (acct, q) in enumerate(parts, 1):
        cum = state.booked[acct]
        value = state.value.get(acct, 0.0) + float(q) * x.price
        state.value[acct] = value
        avg = round(value / float(cum), 10)
        paid = state.commission.get(acct, 0.0)
        fee = round(max(ib_commission(x.contract, cum, avg) - paid, 0.0), 6)
        state.commission[acct] = paid + fee
        a = replace(
            x, exec_id=f"{stem}.{i:02d}", account=acct, shares=q, cum_qty=cum, avg_price=avg,
            commission=fee,
        )  # fmt: skip
        a.realized_pnl = ledger.apply_fill(acct, a.contract, a.side, q, a.price, fee)
        allocated.append(a)
    execs = desk.engine.executions
    at = next((i for i, e in enumerate(execs) if e is x), None)
    if at is not None:
        execs[at : at + 1] = allocated
    for a in allocated:
        _report_execution(sim, desk, targets, a)


def _replay(session: SimSession) -> None:
    """At connect ("Download open orders on connection"): the client's open orders."""
    sim = session.sim
    if not sim.config.download_open_orders or session.client_id is None:
        return
    desk = desk_of(sim)
    orders = [o for o in desk.engine.open_orders() if _sees(session, o.client_id, o.manual)]
    if not orders:
        return
    _send_open_orders(session, orders)


def _send_open_orders(session: SimSession, orders: list[SimOrder]) -> None:
    for o in orders:
        session.send(_open_order(session, o, o.status.value))
        session.send(_order_status(o))
    session.send(OpenOrderEnd())


# -- PLACE_ORDER ------------------------------------------------------------------------------


def _details(session: SimSession, req_id: int, contract: Contract) -> ContractDetails | None:
    matches = session.sim.universe.match(contract)
    if len(matches) != 1:
        what = "is ambiguous" if matches else "has not been found"
        session.send_error(
            req_id, 200, f"No security definition has been found for the request ({what})"
        )
        return None
    return matches[0]


def _increment(sim: Simulator, details: ContractDetails, price: float) -> float:
    for rule_id in details.market_rule_ids[:1]:
        rule = sim.universe.market_rule(rule_id)
        if rule:
            return increment_at(rule, price)
    return details.min_tick


def _off_ladder(sim: Simulator, details: ContractDetails, order: Order) -> float | None:
    """The first price of ``order`` that is not on the instrument's price ladder."""
    t = order.order_type.strip().upper()
    prices = []
    if t in _LIMIT_PRICED and order.lmt_price is not None:
        prices.append(order.lmt_price)
    if t in _STOP_PRICED and order.aux_price is not None:
        prices.append(order.aux_price)
    for p in prices:
        inc = _increment(sim, details, p)
        if inc > 0 and abs(p / inc - round(p / inc)) > 1e-6:
            return p
    return None


def _reference_price(sim: Simulator, con_id: int, order: Order) -> float:
    if order.lmt_price is not None and order.lmt_price > 0:
        return order.lmt_price
    touch = touch_of(sim, con_id)
    if touch is not None:
        side = touch.ask if order.action == "BUY" else touch.bid
        for p in (side, touch.last, touch.midpoint):
            if p is not None and p > 0:
                return p
    inst = sim.universe.by_con_id(con_id)
    return inst.price if inst is not None else 0.0


def _reject_json(reason: str) -> str:
    return json.dumps({"rejectReason": reason, "rejectReasonId": "MARGIN"}, separators=(",", ":"))


@handles(PlaceOrder)
def _place_order(session: SimSession, msg: PlaceOrder) -> None:
    sim = session.sim
    desk = desk_of(sim)
    engine = desk.engine
    assert session.client_id is not None
    cid, oid = session.client_id, msg.order_id
    order = msg.to_order()
    details = _details(session, oid, msg.to_contract())
    if details is None:
        return
    contract = details.contract
    account = order.account or sim.config.accounts[0]
    if account not in sim.config.accounts:
        session.send_error(
            oid, 321, f"Error validating request.-'bN' : cause - Invalid account code {account}"
        )
        return
    order.account = account
    otype = order.order_type.strip().upper()
    code = ORDER_TYPE_CODES.get(otype)
    if code is not None and code not in details.order_types:
        session.send_error(oid, 387, "Unsupported order type for this exchange and security type.")
        return
    fa_plan: dict[str, Decimal] | None = None
    if order.fa_group:
        try:
            fa_plan = plan_allocation(
                sim, contract, order, _reference_price(sim, contract.con_id, order)
            )
        except AllocationError as e:
            session.send_error(oid, e.code, e.text)
            return
    try:
        existing = engine.validate(cid, oid, order)
    except OrderError as e:
        session.send_error(oid, e.code, e.text)
        return
    bad = _off_ladder(sim, details, order)
    if bad is not None:
        text = "The price does not conform to the minimum price variation for this contract."
        session.send_error(oid, 110, text)
        return  # a new order is rejected; a live one stays as it was (110 is then a warning)
    now = sim.market_time()
    qty = order.total_quantity or Decimal(0)
    price = _reference_price(sim, contract.con_id, order)
    if order.what_if:
        _what_if(session, oid, contract, order, qty, price)
        return
    if existing is None:
        shares = fa_plan if fa_plan else {account: qty}
        impacts = [
            ledger_of(sim).margin_impact(acct, contract, order.action, part, price)
            for acct, part in shares.items()
        ]
        impact = next((i for i in impacts if not i.ok), impacts[0])
        if not impact.ok:
            reason = (
                "YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR "
                f"EQUITY WITH LOAN VALUE [{impact.ewl_after:.2f} {sim.config.base_currency}] "
                f"MUST EXCEED THE INITIAL MARGIN [{impact.init_after:.2f} "
                f"{sim.config.base_currency}]"
            )
            events = engine.reject(cid, oid, contract, order, now, reason)
            sim.use_order_id(cid, oid)
            session.send_error(oid, 201, f"Order rejected - reason:{reason}", _reject_json(reason))
            _dispatch(sim, events)
            return
    events = engine.place(
        cid, oid, contract, order, now, touch_of(sim, contract.con_id), tick=details.min_tick
    )
    placed = engine.get(cid, oid)
    if fa_plan is not None and placed is not None:
        register_allocation(sim, placed.perm_id, fa_plan)
    sim.use_order_id(cid, oid)
    desk.seen.setdefault(contract.con_id, sim.market.serial(contract.con_id))
    _sim_display.validate_delta_neutral(session, msg)  # DELTA_NEUTRAL_VALIDATION, if any
    _dispatch(sim, events)
    sim.ensure_market_clock()


def _what_if(
    session: SimSession, oid: int, contract: Contract, order: Order, qty: Decimal, price: float
) -> None:
    sim = session.sim
    impact = ledger_of(sim).margin_impact(order.account, contract, order.action, qty, price)
    fee = ib_commission(contract, qty, price)
    ccy = sim.config.base_currency
    state = OrderState(
        status="PreSubmitted",
        init_margin_before=impact.init_before,
        maint_margin_before=impact.maint_before,
        equity_with_loan_before=impact.ewl_before,
        init_margin_change=impact.init_change,
        maint_margin_change=impact.maint_change,
        equity_with_loan_change=impact.ewl_change,
        init_margin_after=impact.init_after,
        maint_margin_after=impact.maint_after,
        equity_with_loan_after=impact.ewl_after,
        commission=fee,
        min_commission=fee,
        max_commission=fee,
        commission_currency=ccy,
        margin_currency=ccy,
        warning_text="" if impact.ok else "The order would exceed the available funds",
    )
    o = replace(order, order_id=oid, client_id=session.client_id or 0, what_if=True)
    session.send(OpenOrder.from_order(contract, o, state, version=session.version))


# -- manual orders and binding ----------------------------------------------------------------


def _auto_binder(sim: Simulator) -> SimSession | None:
    """Client 0's session if it asked to bind manual orders as they are placed."""
    s = sim.clients.get(0)
    if s is None or not s.state.get(_AUTO_BIND) or sim.config.read_only:
        return None
    return s


def _new_bound_id(sim: Simulator) -> int:
    """The API order id TWS gives a manual order it binds to client 0."""
    if sim.config.bind_negative_ids:
        desk = desk_of(sim)
        desk.last_negative_id -= 1
        return desk.last_negative_id
    oid = sim.next_order_id(0)
    sim.use_order_id(0, oid)
    return oid


def _announce_bound(sim: Simulator, o: SimOrder) -> None:
    s = sim.clients.get(0)
    if s is not None and s.version >= SV.API_BIND_ORDER:
        s.send(OrderBound(o.perm_id, 0, o.order_id))


def place_manual_order(sim: Simulator, contract: Contract, order: Order) -> SimOrder:
    """Place ``order`` as if entered in TWS's own window (a "manual" order).

    It belongs to client 0 with order id 0 and gets a perm id; it works and fills on the
    matching engine like any order, and client 0 sees it (OPEN_ORDER, ORDER_STATUS,
    executions). When client 0 asked for REQ_AUTO_OPEN_ORDERS(true) it is bound at once
    (ORDER_BOUND, then its OPEN_ORDER with the new id). Raises ``ValueError`` for a contract
    that matches no instrument or several, or an account not managed here, and
    :class:`~aiotws.sim.matching.OrderError` for an order TWS would refuse (as PLACE_ORDER)."""
    matches = sim.universe.match(contract)
    if len(matches) != 1:
        raise ValueError(f"{contract} matches {len(matches)} instruments, not one")
    details = matches[0]
    qualified = details.contract
    order = replace(order)
    order.account = order.account or sim.config.accounts[0]
    if order.account not in sim.config.accounts:
        raise ValueError(f"account {order.account!r} is not managed here")
    bad = _off_ladder(sim, details, order)
    if bad is not None:
        raise OrderError(
            110, "The price does not conform to the minimum price variation for this contract."
        )
    desk = desk_of(sim)
    binder = _auto_binder(sim)
    oid = _new_bound_id(sim) if binder is not None else 0
    o, events = desk.engine.place_manual(
        qualified,
        order,
        sim.market_time(),
        touch_of(sim, qualified.con_id),
        tick=details.min_tick,
        order_id=oid,
    )
    if oid:
        _announce_bound(sim, o)
    desk.seen.setdefault(qualified.con_id, sim.market.serial(qualified.con_id))
    _dispatch(sim, events)
    sim.ensure_market_clock()
    return o


def cancel_manual_order(sim: Simulator, order: SimOrder) -> None:
    """Cancel ``order`` from TWS's window (any order; nothing happens if it is done)."""
    _dispatch(sim, desk_of(sim).engine.cancel_order(order, sim.market_time()))


def bind_manual_orders(sim: Simulator) -> list[SimOrder]:
    """Bind every open manual order without an API order id to client 0, as client 0's
    REQ_OPEN_ORDERS does (ORDER_BOUND to client 0 for each); returns them."""
    engine = desk_of(sim).engine
    bound = engine.unbound()
    for o in bound:
        engine.bind(o, _new_bound_id(sim))
        _announce_bound(sim, o)
    return bound


# -- cancelling -------------------------------------------------------------------------------


@handles(CancelOrder)
def _cancel_order(session: SimSession, msg: CancelOrder) -> None:
    sim = session.sim
    assert session.client_id is not None
    try:
        events = desk_of(sim).engine.cancel(session.client_id, msg.order_id, sim.market_time())
    except OrderError as e:
        session.send_error(msg.order_id, e.code, e.text)
        return
    _dispatch(sim, events)


@handles(ReqGlobalCancel)
def _req_global_cancel(session: SimSession, msg: ReqGlobalCancel) -> None:
    sim = session.sim
    _dispatch(sim, desk_of(sim).engine.cancel_all(sim.market_time()))


# -- open and completed orders ----------------------------------------------------------------


@handles(ReqOpenOrders)
def _req_open_orders(session: SimSession, msg: ReqOpenOrders) -> None:
    sim = session.sim
    if session.client_id == 0:
        if sim.config.read_only:
            session.refuse_read_only(ReqOpenOrders.MSG_ID, -1)
        else:
            bind_manual_orders(sim)
    _send_open_orders(session, desk_of(sim).engine.open_orders(session.client_id))


@handles(ReqAllOpenOrders)
def _req_all_open_orders(session: SimSession, msg: ReqAllOpenOrders) -> None:
    _send_open_orders(session, desk_of(session.sim).engine.open_orders())


@handles(ReqAutoOpenOrders)
def _req_auto_open_orders(session: SimSession, msg: ReqAutoOpenOrders) -> None:
    if session.client_id != 0:
        session.send_error(
            -1, 327, "Only the client with id 0 can bind orders placed manually in TWS"
        )
        return
    if msg.auto_bind and session.sim.config.read_only:
        session.refuse_read_only(ReqAutoOpenOrders.MSG_ID, -1)
        return
    session.state[_AUTO_BIND] = msg.auto_bind


@handles(ReqCompletedOrders)
def _req_completed_orders(session: SimSession, msg: ReqCompletedOrders) -> None:
    sim = session.sim
    for o in desk_of(sim).engine.completed_orders():
        if o.manual and msg.api_only:
            continue
        order = replace(o.order, filled_quantity=o.filled)
        state = OrderState(
            status=o.status.value,
            completed_time=_exec_time(sim, o.completed_time or o.placed),
            completed_status=o.completed_status,
        )
        session.send(CompletedOrder.from_order(o.contract, order, state, session.version))
    session.send(CompletedOrdersEnd())


# -- executions -------------------------------------------------------------------------------


def _passes(sim: Simulator, f: ExecutionFilter, x: SimExecution, after: datetime | None) -> bool:
    c = x.contract
    side = f.side.strip().upper()
    if f.client_id and x.client_id != f.client_id:
        return False
    if f.acct_code and x.account != f.acct_code:
        return False
    if after is not None and x.time < after:
        return False
    if f.symbol and c.symbol.upper() != f.symbol.strip().upper():
        return False
    if f.sec_type and c.sec_type != f.sec_type.strip().upper():
        return False
    if f.exchange and f.exchange.strip().upper() not in (c.exchange, _exchange(c)):
        return False
    if side and {"BUY": "BOT", "SELL": "SLD", "SSHORT": "SLD"}.get(side, side) != x.side:
        return False
    zone = ZoneInfo(sim.config.time_zone)
    day = x.time.astimezone(zone).date()
    if f.specific_dates and f"{day:%Y%m%d}" not in f.specific_dates:
        return False
    if f.last_n_days is not None and f.last_n_days > 0:
        today = sim.market_time().astimezone(zone).date()
        if day <= today - timedelta(days=f.last_n_days):
            return False
    return True


@handles(ReqExecutions)
def _req_executions(session: SimSession, msg: ReqExecutions) -> None:
    sim = session.sim
    f = msg.filter
    after = None
    if f.time.strip():
        after = parse_tws_datetime(f.time.strip(), ZoneInfo(sim.config.time_zone))
        if after is None:
            session.send_error(
                msg.req_id,
                321,
                "Error validating request.-'bN' : cause - Invalid execution filter time "
                f"{f.time!r}",
            )
            return
    for x in desk_of(sim).engine.executions:
        if not _sees(session, x.client_id, x.manual):
            continue
        if _passes(sim, f, x, after):
            session.send(_execution_data(sim, session, msg.req_id, x))
            session.send(_commission_report(x))
    session.send(ExecutionDataEnd(msg.req_id))


# -- exercise ---------------------------------------------------------------------------------


@handles(ExerciseOptions)
def _exercise_options(session: SimSession, msg: ExerciseOptions) -> None:
    sim = session.sim
    req_id = msg.req_id

    def refuse(why: str) -> None:
        session.send_error(req_id, 321, f"Error validating request.-'bN' : cause - {why}")

    details = _details(session, req_id, msg.contract)
    if details is None:
        return
    opt = details.contract
    if opt.sec_type not in ("OPT", "FOP"):
        refuse(f"Exercise is only for options, not {opt.sec_type}")
        return
    account = msg.account or sim.config.accounts[0]
    if account not in sim.config.accounts:
        refuse(f"Invalid account code {account}")
        return
    if msg.exercise_action not in (1, 2):
        refuse(f"Invalid exercise action {msg.exercise_action}")
        return
    qty = Decimal(msg.exercise_quantity)
    if qty <= 0:
        refuse("The exercise quantity must be positive")
        return
    ledger = ledger_of(sim)
    held = ledger.position(account, opt.con_id)
    if held < qty:
        refuse(f"Position of {held} in {opt.local_symbol or opt.symbol} is less than {qty}")
        return
    und = _underlying(sim, details)
    if msg.exercise_action == 1 and und is None:
        refuse(f"No deliverable found for {opt.local_symbol or opt.symbol}")
        return
    engine = desk_of(sim).engine
    now = sim.market_time()
    cid = session.client_id or 0
    booked = [engine.book_execution(cid, account, opt, "SLD", qty, 0.0, now)]
    if msg.exercise_action == 1 and und is not None:
        try:
            mult = Decimal(opt.multiplier or "100")
        except ArithmeticError:
            mult = Decimal(100)
        side = "BOT" if opt.right in ("C", "CALL") else "SLD"
        strike = opt.strike or 0.0
        booked.append(engine.book_execution(cid, account, und, side, qty * mult, strike, now))
    for x in booked:
        x.realized_pnl = ledger.apply_fill(x.account, x.contract, x.side, x.shares, x.price, 0.0)
        for s in _audience(sim, x.client_id):
            s.send(_execution_data(sim, s, -1, x))
            s.send(_commission_report(x))
        publish_fill(sim, account, x.contract.con_id)


def _underlying(sim: Simulator, details: ContractDetails) -> Contract | None:
    if details.under_con_id:
        inst = sim.universe.by_con_id(details.under_con_id)
        if inst is not None:
            return inst.contract
    return None


# -- the clock --------------------------------------------------------------------------------


def _close_time(when: datetime) -> datetime | None:
    """16:00 New York on the day of ``when`` (New York), if it is a business day."""
    d: date = when.astimezone(_NEW_YORK).date()
    if not is_business_day(d):
        return None
    return datetime.combine(d, _CLOSE, _NEW_YORK)


def close_session(sim: Simulator, now: datetime | None = None) -> int:
    """Run the session close now: MOC / LOC fill at the closing price (the last trade, else
    the midpoint), DAY orders are cancelled. Returns how many events it reported."""
    desk = desk_of(sim)
    now = now or sim.market_time()
    closes: dict[int, float] = {}
    for con_id in desk.engine.live_con_ids():
        t = touch_of(sim, con_id)
        p = None if t is None else (t.last if t.last is not None else t.midpoint)
        if p is not None:
            closes[con_id] = p
    events = desk.engine.close_session(now, closes)
    _dispatch(sim, events)
    return len(events)


@on_clock
def step_orders(sim: Simulator, now: datetime | None = None) -> int:
    """The market clock for orders: move the instruments with live orders (unless market data
    subscribers already moved them), let their orders react, run the close when the simulated
    time crosses it. Returns how many events were reported."""
    desk = sim.store.get(_STORE)
    if not isinstance(desk, OrderDesk):
        return 0
    engine = desk.engine
    wall = now or datetime.now(UTC)
    market_now = sim.market_time()
    count = 0
    expired = engine.expire(market_now)
    _dispatch(sim, expired)
    count += len(expired)
    for con_id in engine.live_con_ids():
        try:
            serial = sim.market.serial(con_id)
        except KeyError:
            continue
        if desk.seen.get(con_id) == serial:  # nobody stepped it since we last looked
            sim.market.step(con_id, wall)
        desk.seen[con_id] = sim.market.serial(con_id)
        touch = touch_of(sim, con_id)
        if touch is None:
            continue
        events = engine.step(con_id, touch, market_now)
        _dispatch(sim, events)
        count += len(events)
    last, desk.last_time = desk.last_time, market_now
    if last is not None:
        close = _close_time(market_now)
        if close is not None and last < close <= market_now:
            count += close_session(sim, market_now)
    return count
