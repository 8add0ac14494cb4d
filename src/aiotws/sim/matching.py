"""The simulator's matching engine: simulated orders against the simulated top of book.

Pure logic: no asyncio, no wire types, no clock. Every call that moves time takes ``now``;
every call that may fill takes the market the order sees (a :class:`Touch`). Calls return
the :data:`Event` s TWS would report, in order: :class:`StatusUpdate` (an ORDER_STATUS, with
an OPEN_ORDER when ``open_order``; a cancel with a ``reason`` also gets ERR_MSG 202) and
:class:`FillEvent` (an EXECUTION_DATA and its COMMISSION_REPORT). Requests TWS refuses raise
:class:`OrderError` with TWS's code.

The model, as TWS behaves (or as close as a simulator gets):

* ``MKT`` takes the touch (buys at the ask, sells at the bid), at most the displayed size per
  market snapshot; the rest fills on later snapshots. A :class:`Touch`'s ``serial`` names its
  snapshot: liquidity taken from one snapshot is not offered again.
* ``LMT`` fills at the touch when marketable on arrival (or after a modification); resting, it
  fills at its limit once the touch or a trade reaches it.
* ``STP`` / ``STP LMT`` trigger when the reference price (``trigger_method``: the last trade
  by default, the touch when there is none, the midpoint for 8) reaches the stop, then act as
  ``MKT`` / ``LMT``. ``MIT`` / ``LIT`` trigger on the other side. ``TRAIL`` / ``TRAIL LIMIT``
  keep a stop ``aux_price`` (or ``trailing_percent``) away from the best reference seen; the
  limit of ``TRAIL LIMIT`` is the stop ∓ ``lmt_price_offset`` (or ``lmt_price``).
  Untriggered orders are ``PreSubmitted`` (IB simulates them); working orders ``Submitted``.
* ``MOC`` / ``LOC`` wait for :meth:`MatchingEngine.close_session`, which also cancels the
  working ``DAY`` orders.
* TIF ``DAY``, ``GTC``, ``IOC`` (what is there now, the rest cancelled), ``FOK`` (all now or
  cancelled), ``GTD`` (``good_till_date``); ``all_or_none`` fills only all of the remainder.
* OCA groups (per account): type 1 cancels the others on a fill, 2 and 3 reduce them by the
  filled size. A bracket's children (``parent_id``) wait ``PreSubmitted`` until the parent is
  filled, then work, reducing each other as an OCA group (an explicit ``oca_group`` wins).
  Cancelling a parent cancels its children.
* ``transmit=False`` holds an order in "TWS" without a word to the API (as TWS does); a later
  order of the same bracket with ``transmit=True`` (or re-placing it with ``transmit=True``)
  sends the whole group.
* A PLACE_ORDER with the id of a live order of the same client modifies it (perm id kept).
* Orders entered in TWS itself (:meth:`MatchingEngine.place_manual`) belong to client 0
  with order id 0 (``manual``) and work like any other; :meth:`MatchingEngine.bind` gives one
  an API order id, after which client 0 modifies and cancels it by that id.
* Commission: IB's fixed pricing (:func:`ib_commission`), charged on the order's cumulative
  fills (the order's minimum applies once).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Final, TypeAlias

from aiotws.model.contract import Contract
from aiotws.model.order import Order, OrderStatus
from aiotws.timezones import parse_tws_datetime

__all__ = [
    "ORDER_TYPE_CODES",
    "SUPPORTED_ORDER_TYPES",
    "TIFS",
    "Event",
    "FillEvent",
    "MatchingEngine",
    "OrderError",
    "SimExecution",
    "SimOrder",
    "StatusUpdate",
    "Touch",
    "fills_of",
    "ib_commission",
]

_ZERO: Final = Decimal(0)

#: order type -> its code in ContractDetails.order_types
ORDER_TYPE_CODES: Final[Mapping[str, str]] = {
    "MKT": "MKT",
    "LMT": "LMT",
    "STP": "STP",
    "STP LMT": "STPLMT",
    "TRAIL": "TRAIL",
    "TRAIL LIMIT": "TRAILLMT",
    "MOC": "MOC",
    "LOC": "LOC",
    "MIT": "MIT",
    "LIT": "LIT",
}
SUPPORTED_ORDER_TYPES: Final = frozenset(ORDER_TYPE_CODES)
TIFS: Final = frozenset({"DAY", "GTC", "IOC", "FOK", "GTD"})

_TRIGGERED_TYPES: Final = frozenset({"STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MIT", "LIT"})
_CLOSE_TYPES: Final = frozenset({"MOC", "LOC"})
_DONE: Final = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.INACTIVE})


class OrderError(Exception):
    """TWS refuses a request: ``code`` and ``text`` are its ERR_MSG."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class Touch:
    """The market an order sees: top of book, last trade (``None`` where there is none) and
    ``serial``, naming the snapshot (its displayed size is taken only once)."""

    bid: float | None
    ask: float | None
    bid_size: Decimal
    ask_size: Decimal
    last: float | None
    last_size: Decimal
    serial: int

    @property
    def midpoint(self) -> float | None:
        if self.bid is None or self.ask is None:
            return self.last
        return round((self.bid + self.ask) / 2, 10)


@dataclass(slots=True)
class SimExecution:
    """One fill, as EXECUTION_DATA and COMMISSION_REPORT report it. ``realized_pnl`` is set
    by whoever books the fill in the account (``None``: an opening trade)."""

    exec_id: str
    time: datetime
    client_id: int
    order_id: int
    perm_id: int
    account: str
    contract: Contract
    side: str
    shares: Decimal
    price: float
    cum_qty: Decimal
    avg_price: float
    order_ref: str
    commission: float
    currency: str
    realized_pnl: float | None = None
    model_code: str = ""
    last_liquidity: int = 1
    #: the fill of an order entered in TWS (seen by client 0 only)
    manual: bool = False


@dataclass(slots=True, eq=False)
class SimOrder:
    """An order in the book. ``order`` is the order as placed (or last modified), with its
    ``order_id``, ``client_id``, ``perm_id`` and ``account`` filled in. ``manual``: entered in
    TWS (client 0; order id 0 until :meth:`MatchingEngine.bind` gives it one)."""

    client_id: int
    order_id: int
    perm_id: int
    contract: Contract
    order: Order
    placed: datetime
    tick: float = 0.01
    status: OrderStatus = OrderStatus.PRE_SUBMITTED
    filled: Decimal = _ZERO
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    commission: float = 0.0
    transmitted: bool = False
    working: bool = False
    triggered: bool = False
    evaluated: bool = False
    expires: datetime | None = None
    parent: SimOrder | None = None
    children: list[SimOrder] = field(default_factory=list)
    completed_time: datetime | None = None
    completed_status: str = ""
    why_held: str = ""
    manual: bool = False

    @property
    def key(self) -> tuple[int, int]:
        return (self.client_id, self.order_id)

    @property
    def con_id(self) -> int:
        return self.contract.con_id

    @property
    def order_type(self) -> str:
        return self.order.order_type

    @property
    def account(self) -> str:
        return self.order.account

    @property
    def total(self) -> Decimal:
        return self.order.total_quantity or _ZERO

    @property
    def remaining(self) -> Decimal:
        return max(self.total - self.filled, _ZERO)

    @property
    def is_buy(self) -> bool:
        return self.order.action == "BUY"

    @property
    def side(self) -> str:
        return "BOT" if self.is_buy else "SLD"

    @property
    def done(self) -> bool:
        return self.status in _DONE

    @property
    def live(self) -> bool:
        """Transmitted and not done: what REQ_OPEN_ORDERS reports."""
        return self.transmitted and not self.done


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """An ORDER_STATUS (with an OPEN_ORDER first when ``open_order``); a cancellation with a
    ``reason`` is also announced by ERR_MSG 202 ``Order Canceled - reason:<reason>``."""

    order: SimOrder
    status: OrderStatus
    filled: Decimal
    remaining: Decimal
    avg_fill_price: float
    last_fill_price: float
    open_order: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A fill: EXECUTION_DATA (req id -1) and its COMMISSION_REPORT."""

    order: SimOrder
    execution: SimExecution


Event: TypeAlias = StatusUpdate | FillEvent


def _fee(contract: Contract, shares: Decimal, price: float) -> float:
    qty = float(shares)
    try:
        mult = float(contract.multiplier) if contract.multiplier else 1.0
    except ValueError:
        mult = 1.0
    value = abs(qty * price * mult)
    sec = contract.sec_type
    if sec in ("STK", "CFD", "WAR", "FUND"):
        return min(max(0.005 * qty, 1.0), 0.01 * value) if value > 0 else 0.0
    if sec in ("OPT", "FOP", "IOPT"):
        return max(0.65 * qty, 1.0)
    if sec == "FUT":
        return 0.85 * qty
    if sec == "CASH":
        return max(0.00002 * value, 2.0)
    if sec == "CRYPTO":
        return max(0.0018 * value, 1.75)
    if sec == "BOND":
        return max(0.0001 * value, 5.0)
    return max(0.005 * qty, 1.0)


def ib_commission(contract: Contract, shares: Decimal, price: float) -> float:
    """IB's fixed pricing for an order of ``shares`` at average ``price`` (in the account's
    currency, no conversion): stocks $0.005 a share, at least $1.00, at most 1% of the trade
    value; options $0.65 a contract (min $1.00); futures $0.85 a contract; forex 0.2 bp (min
    $2.00); crypto 0.18% (min $1.75); bonds 0.01% (min $5.00)."""
    return round(_fee(contract, shares, price), 6)


def _round_to(x: float, tick: float) -> float:
    if tick <= 0:
        return x
    return round(round(x / tick) * tick, 10)


class MatchingEngine:
    """The order book of a simulated TWS. See the module docstring for the model.

    ``seed`` makes perm ids and execution ids deterministic; ``currency`` is the commission
    currency; ``commission(contract, shares, avg_price)`` prices an order's cumulative fills;
    ``zone`` reads a ``good_till_date`` without a zone (TWS's own zone).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        currency: str = "USD",
        commission: Callable[[Contract, Decimal, float], float] = ib_commission,
        zone: tzinfo = UTC,
    ) -> None:
        self.zone = zone
        rng = random.Random(f"aiotws.sim.matching:{seed}")
        self.currency = currency
        self._commission = commission
        self._next_perm = rng.randrange(1_000_000_000, 1_500_000_000)
        self._exec_prefix = rng.randrange(1 << 16, 1 << 32)
        self._exec_seq = rng.randrange(1 << 24, 1 << 28)
        self._by_key: dict[tuple[int, int], SimOrder] = {}
        self._by_perm: dict[int, SimOrder] = {}
        self._max_id: dict[int, int] = {}
        #: con_id -> (snapshot serial, side -> size taken from it)
        self._taken: dict[int, tuple[int, dict[str, Decimal]]] = {}
        self.executions: list[SimExecution] = []
        self._completed: list[SimOrder] = []

    # -- queries --------------------------------------------------------------------------

    def get(self, client_id: int, order_id: int) -> SimOrder | None:
        return self._by_key.get((client_id, order_id))

    def by_perm_id(self, perm_id: int) -> SimOrder | None:
        return self._by_perm.get(perm_id)

    def orders(self) -> list[SimOrder]:
        """Every order booked, in perm id order."""
        return [self._by_perm[p] for p in sorted(self._by_perm)]

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        """Transmitted orders not yet done (of ``client_id``, or of every client; client 0's
        include the manual orders)."""
        return [
            o for o in self.orders() if o.live and (client_id is None or o.client_id == client_id)
        ]

    def unbound(self) -> list[SimOrder]:
        """The open manual orders without an API order id yet."""
        return [o for o in self.orders() if o.manual and o.live and o.order_id == 0]

    def completed_orders(self) -> list[SimOrder]:
        """Filled, cancelled and rejected orders, in the order they completed."""
        return list(self._completed)

    def live_con_ids(self) -> list[int]:
        """The instruments with live orders (their market must move for them to fill)."""
        return sorted({o.con_id for o in self.orders() if o.live})

    # -- placing --------------------------------------------------------------------------

    def validate(self, client_id: int, order_id: int, order: Order) -> SimOrder | None:
        """Checks of PLACE_ORDER that need only the book: the live order it modifies (or
        ``None`` for a new order); raises :class:`OrderError` as TWS refuses."""
        existing = self._by_key.get((client_id, order_id))
        if existing is not None:
            if existing.status is OrderStatus.FILLED:
                raise OrderError(104, "Can't modify a filled order.")
            if existing.done:
                raise OrderError(103, "Duplicate order id")
        else:
            if order_id <= self._max_id.get(client_id, 0):
                raise OrderError(103, "Duplicate order id")
            if order_id <= 0:
                raise OrderError(321, "Error validating request.-'bN' : cause - Invalid order id")
        self._check(order)
        q = order.total_quantity
        assert q is not None
        if existing is not None:
            if order.action != existing.order.action:
                raise OrderError(105, "Order being modified does not match original order.")
            if q <= existing.filled:
                raise OrderError(
                    321,
                    "Error validating request.-'bN' : cause - The order size cannot be "
                    "reduced below the filled size",
                )
        elif order.parent_id:
            parent = self._by_key.get((client_id, order.parent_id))
            if parent is None or parent.status in (OrderStatus.CANCELLED, OrderStatus.INACTIVE):
                raise OrderError(
                    201, f"Order rejected - reason:Parent order {order.parent_id} not found"
                )
        return existing

    def _check(self, order: Order) -> None:
        """The checks of an order's own fields (size, type, TIF, action, prices, GTD)."""
        q = order.total_quantity
        if q is None or not q.is_finite() or q <= 0:
            raise OrderError(434, "The order size cannot be zero.")
        otype = order.order_type.strip().upper()
        if otype not in SUPPORTED_ORDER_TYPES:
            raise OrderError(
                387,
                f"Unsupported order type for this exchange and security type. "
                f"(aiotws sim does not simulate {order.order_type!r} orders)",
            )
        tif = (order.tif or "DAY").strip().upper()
        if tif not in TIFS:
            raise OrderError(
                321, f"Error validating request.-'bN' : cause - Invalid time in force {order.tif!r}"
            )
        if order.action not in ("BUY", "SELL", "SSHORT"):
            raise OrderError(
                321, f"Error validating request.-'bN' : cause - Invalid action {order.action!r}"
            )
        try:
            replace(order, order_type=otype).validate()
        except ValueError as e:
            raise OrderError(321, f"Error validating request.-'bN' : cause - {e}") from None
        if tif == "GTD" and self._gtd(order) is None:
            raise OrderError(
                321,
                "Error validating request.-'bN' : cause - Invalid good till date "
                f"{order.good_till_date!r}",
            )

    def place(
        self,
        client_id: int,
        order_id: int,
        contract: Contract,
        order: Order,
        now: datetime,
        touch: Touch | None = None,
        *,
        tick: float = 0.01,
    ) -> list[Event]:
        """PLACE_ORDER: book a new order or modify a live one (same client and id).

        ``contract`` is the qualified contract, ``touch`` its market now, ``tick`` the price
        increment (for trailing stops)."""
        existing = self.validate(client_id, order_id, order)
        if existing is not None:
            return self._modify(existing, order, now, touch)
        o = self._book(client_id, order_id, contract, order, now, tick)
        if order.parent_id:
            o.parent = self._by_key[(client_id, order.parent_id)]
            o.parent.children.append(o)
            o.order.parent_perm_id = o.parent.perm_id
        if not order.transmit:
            return []
        return self._transmit(o, now, touch)

    def place_manual(
        self,
        contract: Contract,
        order: Order,
        now: datetime,
        touch: Touch | None = None,
        *,
        tick: float = 0.01,
        order_id: int = 0,
    ) -> tuple[SimOrder, list[Event]]:
        """An order entered in TWS's window: client 0, order id 0 (until :meth:`bind`; or
        bound at once to ``order_id``), a perm id; transmitted at once. Raises
        :class:`OrderError` as PLACE_ORDER would and ``ValueError`` for a bracket child (TWS's
        own brackets are not simulated)."""
        if order.parent_id:
            raise ValueError("a manual order cannot be a bracket child")
        self._check(order)
        o = self._book(0, 0, contract, replace(order, transmit=True), now, tick)
        o.manual = True
        o.transmitted = True
        if order_id:
            self.bind(o, order_id)
        return o, self._accept(o, now, touch)

    def bind(self, o: SimOrder, order_id: int) -> None:
        """Give the manual order ``o`` the API order id ``order_id`` of client 0 (ORDER_BOUND)."""
        if not o.manual or o.order_id != 0:
            raise ValueError(f"order {o.perm_id} is not an unbound manual order")
        if order_id == 0 or (0, order_id) in self._by_key:
            raise ValueError(f"order id {order_id} of client 0 is taken")
        o.order_id = order_id
        o.order.order_id = order_id
        self._by_key[o.key] = o
        self._max_id[0] = max(self._max_id.get(0, 0), order_id)

    def reject(
        self,
        client_id: int,
        order_id: int,
        contract: Contract,
        order: Order,
        now: datetime,
        reason: str,
    ) -> list[Event]:
        """Book an order TWS refused after reading it (margin): it ends ``Inactive``."""
        o = self._book(client_id, order_id, contract, order, now, 0.01)
        o.transmitted = True
        o.status = OrderStatus.INACTIVE
        o.completed_time = now
        o.completed_status = f"Rejected: {reason}"
        self._completed.append(o)
        return [self._update(o)]

    def _book(
        self,
        client_id: int,
        order_id: int,
        contract: Contract,
        order: Order,
        now: datetime,
        tick: float,
    ) -> SimOrder:
        perm = self._next_perm
        self._next_perm += 1
        o = replace(
            order,
            order_id=order_id,
            client_id=client_id,
            perm_id=perm,
            order_type=order.order_type.strip().upper(),
            tif=(order.tif or "DAY").strip().upper(),
        )
        so = SimOrder(client_id, order_id, perm, contract, o, now, tick)
        so.expires = self._gtd(o) if o.tif == "GTD" else None
        self._by_perm[perm] = so
        if order_id:  # a manual order has none until it is bound
            self._by_key[so.key] = so
            self._max_id[client_id] = max(self._max_id.get(client_id, 0), order_id)
        return so

    def _gtd(self, order: Order) -> datetime | None:
        text = order.good_till_date.strip()
        return parse_tws_datetime(text, self.zone) if text else None

    def _transmit(self, o: SimOrder, now: datetime, touch: Touch | None) -> list[Event]:
        """Send ``o`` and the held orders of its bracket (the parent first)."""
        root = o.parent or o
        group = [root, *root.children]
        events: list[Event] = []
        for member in group:
            if member.transmitted or member.done:
                continue
            if member is not root and member is not o and member.order_id > o.order_id:
                continue  # placed after o: waits for its own transmit
            member.transmitted = True
            events += self._accept(member, now, touch)
        return events

    def _accept(self, o: SimOrder, now: datetime, touch: Touch | None) -> list[Event]:
        o.status = OrderStatus.PRE_SUBMITTED
        events: list[Event] = [self._update(o, open_order=True)]
        if o.parent is not None and o.parent.status is not OrderStatus.FILLED:
            return events
        return events + self._start(o, now, touch)

    def _start(self, o: SimOrder, now: datetime, touch: Touch | None) -> list[Event]:
        """``o`` begins to work (on arrival, or when its parent filled)."""
        o.working = True
        events: list[Event] = []
        if o.order_type in ("MKT", "LMT"):
            o.triggered = True
            o.status = OrderStatus.SUBMITTED
            events.append(self._update(o, open_order=True))
        if touch is not None:
            events += self._evaluate(o, touch, now, fresh=True)
        return events

    # -- modifying and cancelling ---------------------------------------------------------

    def _modify(self, o: SimOrder, order: Order, now: datetime, touch: Touch | None) -> list[Event]:
        old = o.order
        new = replace(
            order,
            order_id=o.order_id,
            client_id=o.client_id,
            perm_id=o.perm_id,
            parent_perm_id=old.parent_perm_id,
            parent_id=old.parent_id,
            order_type=order.order_type.strip().upper(),
            tif=(order.tif or "DAY").strip().upper(),
        )
        if (new.aux_price, new.trailing_percent) != (old.aux_price, old.trailing_percent):
            new.trail_stop_price = order.trail_stop_price
        elif new.trail_stop_price is None:
            new.trail_stop_price = old.trail_stop_price
        o.order = new
        o.expires = self._gtd(new) if new.tif == "GTD" else None
        if new.order_type != old.order_type and new.order_type not in ("MKT", "LMT"):
            o.triggered = False
            if o.working:
                o.status = OrderStatus.PRE_SUBMITTED
        if not o.transmitted:
            if not new.transmit:
                return []
            return self._transmit(o, now, touch)
        events: list[Event] = [self._update(o, open_order=True)]
        if o.working and touch is not None:
            if new.order_type in ("MKT", "LMT") and not o.triggered:
                o.triggered = True
                o.status = OrderStatus.SUBMITTED
                events.append(self._update(o, open_order=True))
            events += self._evaluate(o, touch, now, fresh=True)
        return events

    def cancel(self, client_id: int, order_id: int, now: datetime) -> list[Event]:
        """CANCEL_ORDER from ``client_id``; raises :class:`OrderError` 10147 / 10148."""
        o = self._by_key.get((client_id, order_id))
        if o is None:
            raise OrderError(10147, f"OrderId {order_id} that needs to be cancelled is not found.")
        if o.done:
            raise OrderError(
                10148,
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                f"state: {o.status.value}.",
            )
        return self._cancel(o, now, "")

    def cancel_order(self, o: SimOrder, now: datetime) -> list[Event]:
        """Cancel ``o`` as TWS's window does (any order, by reference; nothing if done)."""
        return self._cancel(o, now, "")

    def cancel_all(self, now: datetime) -> list[Event]:
        """REQ_GLOBAL_CANCEL: every order not done, of every client."""
        events: list[Event] = []
        for o in self.orders():
            if not o.done:
                events += self._cancel(o, now, "")
        return events

    def _cancel(self, o: SimOrder, now: datetime, reason: str) -> list[Event]:
        if o.done:
            return []
        o.status = OrderStatus.CANCELLED
        o.working = False
        o.completed_time = now
        o.completed_status = "Cancelled" + (f": {reason}" if reason else " by Trader")
        self._completed.append(o)
        events: list[Event] = [self._update(o, reason=reason)] if o.transmitted else []
        for child in o.children:
            events += self._cancel(child, now, f"Parent order {o.order_id} was cancelled")
        return events

    # -- the market moves -----------------------------------------------------------------

    def step(self, con_id: int, touch: Touch, now: datetime) -> list[Event]:
        """A new market snapshot of ``con_id``: the working orders on it react."""
        events: list[Event] = []
        for o in self.orders():
            if o.con_id == con_id and o.live and o.working:
                events += self._evaluate(o, touch, now, fresh=False)
        return events

    def expire(self, now: datetime) -> list[Event]:
        """Cancel the GTD orders whose time has come."""
        events: list[Event] = []
        for o in self.orders():
            if not o.done and o.expires is not None and now >= o.expires:
                events += self._cancel(o, now, "GTD expired")
        return events

    def close_session(self, now: datetime, closes: Mapping[int, float]) -> list[Event]:
        """The session close: ``MOC`` fill at the closing price (``closes[con_id]``), ``LOC``
        when it is at or better than the limit; ``DAY`` orders (and close orders without a
        closing price or whose limit was missed) are cancelled. GTC and GTD orders stay."""
        events: list[Event] = []
        for o in self.orders():
            if o.done:
                continue
            t = o.order_type
            if o.working and t in _CLOSE_TYPES:
                price = closes.get(o.con_id)
                if price is not None and (t == "MOC" or self._within(o, price, o.order.lmt_price)):
                    events += self._fill(o, o.remaining, price, now, None)
                    continue
                events += self._cancel(o, now, "Close order was not filled")
            elif o.order.tif == "DAY":
                events += self._cancel(o, now, "")
        return events

    # -- matching -------------------------------------------------------------------------

    @staticmethod
    def _within(o: SimOrder, price: float, limit: float | None) -> bool:
        if limit is None:
            return True
        return price <= limit + 1e-9 if o.is_buy else price >= limit - 1e-9

    def _reference(self, o: SimOrder, touch: Touch) -> float | None:
        """The price that triggers ``o`` (its ``trigger_method``)."""
        method = o.order.trigger_method
        touch_side = touch.ask if o.is_buy else touch.bid
        if method in (1, 4):
            return touch_side if touch_side is not None else touch.last
        if method == 8:
            return touch.midpoint
        return touch.last if touch.last is not None else touch_side

    def _trigger(self, o: SimOrder, touch: Touch) -> bool:
        ref = self._reference(o, touch)
        if ref is None:
            return False
        t, order = o.order_type, o.order
        if t in ("TRAIL", "TRAIL LIMIT"):
            amount = (
                order.aux_price
                if order.aux_price is not None
                else ref * (order.trailing_percent or 0.0) / 100
            )
            target = _round_to(ref + amount if o.is_buy else ref - amount, o.tick)
            stop = order.trail_stop_price
            stop = target if stop is None else min(stop, target) if o.is_buy else max(stop, target)
            order.trail_stop_price = stop
            hit = ref >= stop if o.is_buy else ref <= stop
            if hit and t == "TRAIL LIMIT" and order.lmt_price_offset is not None:
                off = order.lmt_price_offset
                order.lmt_price = _round_to(stop + off if o.is_buy else stop - off, o.tick)
            return hit
        level = order.aux_price
        if level is None:
            return False
        if t in ("STP", "STP LMT"):
            return ref >= level if o.is_buy else ref <= level
        return ref <= level if o.is_buy else ref >= level  # MIT, LIT

    def _limit(self, o: SimOrder) -> float | None:
        if o.order_type in ("LMT", "STP LMT", "TRAIL LIMIT", "LIT", "LOC"):
            return o.order.lmt_price
        return None

    def _available(
        self, o: SimOrder, touch: Touch, limit: float | None, fresh: bool
    ) -> tuple[Decimal, float, str]:
        """How much ``o`` can take from ``touch`` now, at what price, from which side."""
        taken = self._taken_at(o.con_id, touch.serial)
        if o.is_buy:
            price, size, side = touch.ask, touch.ask_size, "ask"
        else:
            price, size, side = touch.bid, touch.bid_size, "bid"
        if price is not None and self._within(o, price, limit):
            fill_price = price if fresh or limit is None else limit
            return max(size - taken.get(side, _ZERO), _ZERO), fill_price, side
        last = touch.last
        if limit is not None and not fresh and last is not None:
            through = last < limit if o.is_buy else last > limit
            if through:
                return max(touch.last_size - taken.get("last", _ZERO), _ZERO), limit, "last"
        return _ZERO, 0.0, side

    def _taken_at(self, con_id: int, serial: int) -> dict[str, Decimal]:
        entry = self._taken.get(con_id)
        if entry is None or entry[0] != serial:
            entry = self._taken[con_id] = (serial, {})
        return entry[1]

    def _evaluate(self, o: SimOrder, touch: Touch, now: datetime, *, fresh: bool) -> list[Event]:
        if o.done or not o.working:
            return []
        if o.expires is not None and now >= o.expires:
            return self._cancel(o, now, "GTD expired")
        if o.order_type in _CLOSE_TYPES:
            return []
        events: list[Event] = []
        if not o.triggered:
            if not self._trigger(o, touch):
                return []
            o.triggered = True
            o.status = OrderStatus.SUBMITTED
            fresh = True
            events.append(self._update(o, open_order=True))
        first = not o.evaluated
        o.evaluated = True
        limit = self._limit(o)
        size, price, side = self._available(o, touch, limit, fresh)
        tif = o.order.tif
        want = o.remaining
        if ((tif == "FOK" and first) or o.order.all_or_none) and size < want:
            if tif == "FOK":
                return events + self._cancel(o, now, "")
            return events
        shares = min(size, want)
        if shares > 0:
            self._taken_at(o.con_id, touch.serial)[side] = (
                self._taken_at(o.con_id, touch.serial).get(side, _ZERO) + shares
            )
            events += self._fill(o, shares, price, now, touch)
        if tif == "IOC" and first and not o.done:
            events += self._cancel(o, now, "")
        return events

    def _fill(
        self, o: SimOrder, shares: Decimal, price: float, now: datetime, touch: Touch | None
    ) -> list[Event]:
        before = o.filled
        cum = before + shares
        avg = (o.avg_fill_price * float(before) + price * float(shares)) / float(cum)
        o.filled = cum
        o.avg_fill_price = round(avg, 10)
        o.last_fill_price = price
        total_fee = self._commission(o.contract, cum, o.avg_fill_price)
        fee = round(max(total_fee - o.commission, 0.0), 6)
        o.commission += fee
        self._exec_seq += 1
        ex = SimExecution(
            exec_id=f"{self._exec_prefix:08x}.{self._exec_seq:08x}.01.01",
            time=now,
            client_id=o.client_id,
            order_id=o.order_id,
            perm_id=o.perm_id,
            account=o.account,
            contract=o.contract,
            side=o.side,
            shares=shares,
            price=price,
            cum_qty=cum,
            avg_price=o.avg_fill_price,
            order_ref=o.order.order_ref,
            commission=fee,
            currency=self.currency,
            model_code=o.order.model_code,
            last_liquidity=2 if o.order_type in ("MKT",) else 1,
            manual=o.manual,
        )
        self.executions.append(ex)
        events: list[Event] = [FillEvent(o, ex)]
        if o.remaining > 0:
            events.append(self._update(o))
        else:
            o.status = OrderStatus.FILLED
            o.working = False
            o.completed_time = now
            o.completed_status = "Filled"
            self._completed.append(o)
            events.append(self._update(o))
            events.append(self._update(o, open_order=True))
        events += self._oca(o, shares, now, touch)
        if o.status is OrderStatus.FILLED:
            for child in o.children:
                if child.transmitted and not child.done and not child.working:
                    same = touch if touch is not None and child.con_id == o.con_id else None
                    events += self._start(child, now, same)
        return events

    def _siblings(self, o: SimOrder) -> tuple[list[SimOrder], int]:
        """The other live orders of ``o``'s OCA group, and the group's OCA type."""
        if o.order.oca_group:
            others = [
                x
                for x in self.orders()
                if x is not o
                and not x.done
                and x.order.oca_group == o.order.oca_group
                and x.account == o.account
            ]
            return others, o.order.oca_type or 1
        if o.parent is not None:
            return [x for x in o.parent.children if x is not o and not x.done], 2
        return [], 0

    def _oca(self, o: SimOrder, shares: Decimal, now: datetime, touch: Touch | None) -> list[Event]:
        others, kind = self._siblings(o)
        events: list[Event] = []
        for x in others:
            if kind == 1:
                events += self._cancel(x, now, f"OCA group {o.order.oca_group} was filled")
                continue
            x.order.total_quantity = max((x.order.total_quantity or _ZERO) - shares, x.filled)
            if x.remaining <= 0:
                events += self._cancel(x, now, "OCA group was filled")
            elif x.transmitted:
                events.append(self._update(x, open_order=True))
        return events

    @staticmethod
    def _update(
        o: SimOrder, *, open_order: bool = False, reason: str | None = None
    ) -> StatusUpdate:
        return StatusUpdate(
            o,
            o.status,
            o.filled,
            o.remaining,
            o.avg_fill_price,
            o.last_fill_price,
            open_order,
            reason,
        )

    # -- exercise -------------------------------------------------------------------------

    def book_execution(
        self,
        client_id: int,
        account: str,
        contract: Contract,
        side: str,
        shares: Decimal,
        price: float,
        now: datetime,
        *,
        order_ref: str = "",
    ) -> SimExecution:
        """Record an execution that no order made (an option exercise and its delivery)."""
        self._exec_seq += 1
        ex = SimExecution(
            exec_id=f"{self._exec_prefix:08x}.{self._exec_seq:08x}.01.01",
            time=now,
            client_id=client_id,
            order_id=0,
            perm_id=0,
            account=account,
            contract=contract,
            side=side,
            shares=shares,
            price=price,
            cum_qty=shares,
            avg_price=price,
            order_ref=order_ref,
            commission=0.0,
            currency=self.currency,
        )
        self.executions.append(ex)
        return ex


def fills_of(events: Iterable[Event]) -> list[FillEvent]:
    """The fills among ``events`` (for tests)."""
    return [e for e in events if isinstance(e, FillEvent)]
