"""Orders: what to trade and how, the state TWS reports back, and builders for common types.

``Order`` carries every field of TWS's text protocol (server versions 157..200) with Python
names; unset values are ``None`` (or ``""`` / ``False`` / ``0`` where TWS itself has no
"unset"), never TWS's sentinels. Quantities are ``Decimal``. Order ids are not chosen here:
leave ``order_id`` at 0 and the client assigns the next valid id when the order is placed
(for a :func:`bracket`, the parent first, then each child, with ``parent_id`` rewritten to the
parent's new id).

Order conditions (``conditions``) are small records, one class per TWS condition type.
No I/O.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Final

from aiotws.model.advisor import check_fa_order
from aiotws.model.contract import TagValue

__all__ = [
    "COMPETE_AGAINST_BEST_OFFSET_UP_TO_MID",
    "DONE_STATUSES",
    "ExecutionCondition",
    "LimitIfTouchedOrder",
    "LimitOnCloseOrder",
    "LimitOrder",
    "MarginCondition",
    "MarketIfTouchedOrder",
    "MarketOnCloseOrder",
    "MarketOrder",
    "OcaType",
    "Order",
    "OrderAllocation",
    "OrderCancel",
    "OrderComboLeg",
    "OrderCondition",
    "OrderState",
    "OrderStatus",
    "PegBenchOrder",
    "PegMidOrder",
    "PegMktOrder",
    "PercentChangeCondition",
    "PriceCondition",
    "RelativeOrder",
    "SoftDollarTier",
    "StopLimitOrder",
    "StopOrder",
    "TimeCondition",
    "TrailingStopLimitOrder",
    "TrailingStopOrder",
    "VolumeCondition",
    "bracket",
    "is_peg_bench",
    "is_peg_best",
    "is_peg_mid",
    "oca",
]

#: ``competeAgainstBestOffset`` meaning "up to mid" (PEG BEST); TWS writes it ``Infinity``.
COMPETE_AGAINST_BEST_OFFSET_UP_TO_MID: Final = math.inf


class OrderStatus(enum.StrEnum):
    """Order status values of ORDER_STATUS / OPEN_ORDER (PROTOCOL.md 6.12)."""

    API_PENDING = "ApiPending"
    PENDING_SUBMIT = "PendingSubmit"
    PENDING_CANCEL = "PendingCancel"
    PRE_SUBMITTED = "PreSubmitted"
    SUBMITTED = "Submitted"
    API_CANCELLED = "ApiCancelled"
    CANCELLED = "Cancelled"
    FILLED = "Filled"
    INACTIVE = "Inactive"
    API_UPDATE = "ApiUpdate"

    @property
    def is_done(self) -> bool:
        """True for the final states (nothing more will happen to the order): Filled,
        Cancelled, ApiCancelled and Inactive (IB: "no longer active because it was rejected
        or cancelled")."""
        return self in DONE_STATUSES


#: the statuses after which nothing more happens to an order
DONE_STATUSES: Final = frozenset(
    {OrderStatus.API_CANCELLED, OrderStatus.CANCELLED, OrderStatus.FILLED, OrderStatus.INACTIVE}
)


class OcaType(enum.IntEnum):
    """What happens to the other orders of an OCA group when one fills."""

    CANCEL_WITH_BLOCK = 1
    REDUCE_WITH_BLOCK = 2
    REDUCE_NON_BLOCK = 3


def is_peg_bench(order_type: str) -> bool:
    return order_type in ("PEG BENCH", "PEGBENCH")


def is_peg_mid(order_type: str) -> bool:
    return order_type in ("PEG MID", "PEGMID")


def is_peg_best(order_type: str) -> bool:
    return order_type in ("PEG BEST", "PEGBEST")


# -- small records ----------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class SoftDollarTier:
    """A soft dollar tier (``name``/``value`` identify it; ``display_name`` is TWS's label)."""

    name: str = ""
    value: str = ""
    display_name: str = ""


@dataclass(slots=True)
class OrderComboLeg:
    """The per-leg price of a combo order (``None``: no leg price)."""

    price: float | None = None


@dataclass(slots=True)
class OrderCancel:
    """Options of a cancel (CANCEL_ORDER, REQ_GLOBAL_CANCEL).

    ``manual_order_cancel_time`` needs server 169; ``ext_operator`` and
    ``manual_order_indicator`` 192 (CME tagging).
    """

    manual_order_cancel_time: str = ""
    ext_operator: str = ""
    manual_order_indicator: int | None = None


# -- conditions -------------------------------------------------------------------------------


@dataclass(slots=True)
class OrderCondition:
    """Base of the order conditions. ``conjunction``: how this condition joins the next one,
    ``"and"`` or ``"or"``."""

    #: TWS's condition type code (PROTOCOL.md 6.10)
    TYPE: ClassVar[int] = 0

    def __post_init__(self) -> None:
        if self.conjunction not in ("and", "or"):
            raise ValueError(f"conjunction must be 'and' or 'or', not {self.conjunction!r}")

    conjunction: str = field(default="and", kw_only=True)


@dataclass(slots=True)
class PriceCondition(OrderCondition):
    """True when the price of ``con_id`` on ``exchange`` is >= (``is_more``) or <= ``price``.

    ``trigger_method``: 0 default, 1 double bid/ask, 2 last, 3 double last, 4 bid/ask,
    7 last or bid/ask, 8 mid-point.
    """

    TYPE: ClassVar[int] = 1
    price: float = 0.0
    con_id: int = 0
    exchange: str = ""
    is_more: bool = True
    trigger_method: int = 0


@dataclass(slots=True)
class TimeCondition(OrderCondition):
    """True after (``is_more``) or before ``time`` (``yyyymmdd hh:mm:ss [zone]``)."""

    TYPE: ClassVar[int] = 3
    time: str = ""
    is_more: bool = True


@dataclass(slots=True)
class MarginCondition(OrderCondition):
    """True when the margin cushion percent is >= (``is_more``) or <= ``percent``."""

    TYPE: ClassVar[int] = 4
    percent: float = 0.0
    is_more: bool = True


@dataclass(slots=True)
class ExecutionCondition(OrderCondition):
    """True when a trade happens in ``symbol`` (``sec_type``) on ``exchange``."""

    TYPE: ClassVar[int] = 5
    sec_type: str = ""
    exchange: str = ""
    symbol: str = ""


@dataclass(slots=True)
class VolumeCondition(OrderCondition):
    """True when the traded volume of ``con_id`` is >= (``is_more``) or <= ``volume``."""

    TYPE: ClassVar[int] = 6
    volume: int = 0
    con_id: int = 0
    exchange: str = ""
    is_more: bool = True


@dataclass(slots=True)
class PercentChangeCondition(OrderCondition):
    """True when ``con_id`` changed by >= (``is_more``) or <= ``change_percent`` percent
    since the previous close."""

    TYPE: ClassVar[int] = 7
    change_percent: float = 0.0
    con_id: int = 0
    exchange: str = ""
    is_more: bool = True


#: condition classes by TWS type code
CONDITION_TYPES: Final[dict[int, type[OrderCondition]]] = {
    c.TYPE: c
    for c in (
        PriceCondition,
        TimeCondition,
        MarginCondition,
        ExecutionCondition,
        VolumeCondition,
        PercentChangeCondition,
    )
}


# -- the order --------------------------------------------------------------------------------


@dataclass(slots=True)
class Order:
    """A TWS order: every field of PLACE_ORDER / OPEN_ORDER / COMPLETED_ORDER.

    Fields newer than the negotiated server version must stay at their defaults (the encoder
    raises :class:`~aiotws.errors.UnsupportedByServer` otherwise). Order-type specific fields
    only go on the wire where TWS reads them: delta-neutral fields when
    ``delta_neutral_order_type`` is set, scale fields when ``scale_price_increment > 0``,
    ``hedge_param`` with a ``hedge_type``, ``algo_params`` with an ``algo_strategy``,
    pegged-to-benchmark fields for ``PEG BENCH``, mid offsets for ``PEG MID`` / ``PEG BEST``.
    """

    # identity (client_id / perm_id are TWS's; order_id is assigned at placement)
    order_id: int = 0
    client_id: int = 0
    perm_id: int = 0
    parent_perm_id: int = 0
    # main
    action: str = ""
    total_quantity: Decimal | None = None
    order_type: str = ""
    lmt_price: float | None = None
    aux_price: float | None = None
    # extended
    tif: str = ""
    active_start_time: str = ""
    active_stop_time: str = ""
    oca_group: str = ""
    oca_type: int = 0
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0
    block_order: bool = False
    sweep_to_fill: bool = False
    display_size: int = 0
    trigger_method: int = 0
    outside_rth: bool = False
    hidden: bool = False
    good_after_time: str = ""
    good_till_date: str = ""
    rule_80a: str = ""
    all_or_none: bool = False
    min_qty: int | None = None
    percent_offset: float | None = None
    override_percentage_constraints: bool = False
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    # financial advisors
    fa_group: str = ""
    fa_method: str = ""
    fa_percentage: str = ""
    model_code: str = ""
    # institutional / short sale
    open_close: str = ""
    origin: int = 0
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1
    discretionary_amt: float = 0.0
    opt_out_smart_routing: bool = False
    # box and volatility orders
    auction_strategy: int = 0
    starting_price: float | None = None
    stock_ref_price: float | None = None
    delta: float | None = None
    stock_range_lower: float | None = None
    stock_range_upper: float | None = None
    randomize_price: bool = False
    randomize_size: bool = False
    volatility: float | None = None
    volatility_type: int | None = None
    delta_neutral_order_type: str = ""
    delta_neutral_aux_price: float | None = None
    delta_neutral_con_id: int = 0
    delta_neutral_settling_firm: str = ""
    delta_neutral_clearing_account: str = ""
    delta_neutral_clearing_intent: str = ""
    delta_neutral_open_close: str = ""
    delta_neutral_short_sale: bool = False
    delta_neutral_short_sale_slot: int = 0
    delta_neutral_designated_location: str = ""
    continuous_update: bool = False
    reference_price_type: int | None = None
    # EFP
    basis_points: float | None = None
    basis_points_type: int | None = None
    # scale
    scale_init_level_size: int | None = None
    scale_subs_level_size: int | None = None
    scale_price_increment: float | None = None
    scale_price_adjust_value: float | None = None
    scale_price_adjust_interval: int | None = None
    scale_profit_offset: float | None = None
    scale_auto_reset: bool = False
    scale_init_position: int | None = None
    scale_init_fill_qty: int | None = None
    scale_random_percent: bool = False
    scale_table: str = ""
    # hedge
    hedge_type: str = ""
    hedge_param: str = ""
    # clearing
    account: str = ""
    settling_firm: str = ""
    clearing_account: str = ""
    clearing_intent: str = ""
    # algos
    algo_strategy: str = ""
    algo_params: list[TagValue] = field(default_factory=list)
    smart_combo_routing_params: list[TagValue] = field(default_factory=list)
    algo_id: str = ""
    # what-if
    what_if: bool = False
    not_held: bool = False
    solicited: bool = False
    # combos
    order_combo_legs: list[OrderComboLeg] = field(default_factory=list)
    order_misc_options: list[TagValue] = field(default_factory=list)
    # pegged to benchmark
    reference_contract_id: int = 0
    pegged_change_amount: float = 0.0
    is_pegged_change_amount_decrease: bool = False
    reference_change_amount: float = 0.0
    reference_exchange_id: str = ""
    # adjusted orders
    adjusted_order_type: str = ""
    trigger_price: float | None = None
    adjusted_stop_price: float | None = None
    adjusted_stop_limit_price: float | None = None
    adjusted_trailing_amount: float | None = None
    adjustable_trailing_unit: int = 0
    lmt_price_offset: float | None = None
    # conditions
    conditions: list[OrderCondition] = field(default_factory=list)
    conditions_cancel_order: bool = False
    conditions_ignore_rth: bool = False
    # later fields
    ext_operator: str = ""
    soft_dollar_tier: SoftDollarTier = field(default_factory=SoftDollarTier)
    cash_qty: float | None = None
    mifid2_decision_maker: str = ""
    mifid2_decision_algo: str = ""
    mifid2_execution_trader: str = ""
    mifid2_execution_algo: str = ""
    dont_use_auto_price_for_hedge: bool = False
    is_oms_container: bool = False
    discretionary_up_to_limit_price: bool = False
    #: ``None``: TWS's default; ``True``/``False``: use (or not) the price management algo
    use_price_mgmt_algo: bool | None = None
    duration: int | None = None
    post_to_ats: int | None = None
    auto_cancel_parent: bool = False
    advanced_error_override: str = ""
    manual_order_time: str = ""
    min_trade_qty: int | None = None
    min_compete_size: int | None = None
    #: ``COMPETE_AGAINST_BEST_OFFSET_UP_TO_MID`` (+inf) means "up to mid"
    compete_against_best_offset: float | None = None
    mid_offset_at_whole: float | None = None
    mid_offset_at_half: float | None = None
    customer_account: str = ""
    professional_customer: bool = False
    bond_accrued_interest: str = ""
    include_overnight: bool = False
    manual_order_indicator: int | None = None
    submitter: str = ""
    imbalance_only: bool = False
    # COMPLETED_ORDER only
    auto_cancel_date: str = ""
    filled_quantity: Decimal | None = None
    ref_futures_con_id: int = 0
    shareholder: str = ""
    route_marketable_to_bbo: bool | None = None

    def validate(self) -> None:
        """Checks that need no TWS: raises ``ValueError`` with what is wrong."""
        if not self.action:
            raise ValueError("order action is required (BUY, SELL or SSHORT)")
        if self.action not in ("BUY", "SELL", "SSHORT", "SLONG"):
            raise ValueError(f"order action must be BUY, SELL or SSHORT, not {self.action!r}")
        q = self.total_quantity
        if q is not None and (not q.is_finite() or q < 0):
            raise ValueError(f"order quantity must be a non-negative number, not {q}")
        if (q is None or q == 0) and self.cash_qty is None and not self.fa_group:
            raise ValueError("order quantity is required (total_quantity or cash_qty)")
        if self.cash_qty is not None and self.cash_qty <= 0:
            raise ValueError(f"cash quantity must be positive, not {self.cash_qty}")
        needs = _NEEDS.get(self.order_type.upper(), ())
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.order_type} order needs {name}")
        if self.order_type.upper() in ("TRAIL", "TRAIL LIMIT"):
            if self.aux_price is None and self.trailing_percent is None:
                raise ValueError(
                    f"a {self.order_type} order needs a trail amount (aux_price) "
                    "or trailing_percent"
                )
            if self.aux_price is not None and self.trailing_percent is not None:
                raise ValueError("give a trail amount (aux_price) or trailing_percent, not both")
        for name in ("lmt_price", "aux_price", "trailing_percent"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{name} must be finite, not {v}")
        if self.trailing_percent is not None and not 0 < self.trailing_percent < 100:
            raise ValueError(f"trailing_percent must be in (0, 100), not {self.trailing_percent}")
        if self.fa_group or self.fa_method or self.fa_percentage:
            check_fa_order(self.fa_group, self.fa_method, self.fa_percentage)


#: fields an order type cannot do without
_NEEDS: Final[dict[str, tuple[str, ...]]] = {
    "LMT": ("lmt_price",),
    "STP": ("aux_price",),
    "STP LMT": ("lmt_price", "aux_price"),
    "LOC": ("lmt_price",),
    "MIT": ("aux_price",),
    "LIT": ("lmt_price", "aux_price"),
    "TRAIL LIMIT": ("lmt_price_offset",),
}


@dataclass(slots=True)
class OrderAllocation:
    """One account's share of an FA order in a what-if preview (server 195+)."""

    account: str = ""
    position: Decimal | None = None
    position_desired: Decimal | None = None
    position_after: Decimal | None = None
    desired_alloc_qty: Decimal | None = None
    allowed_alloc_qty: Decimal | None = None
    is_monetary: bool = False


@dataclass(slots=True)
class OrderState:
    """What OPEN_ORDER / COMPLETED_ORDER say about an order: its status and, for a what-if
    order, the margin and commission impact (unset values are ``None``)."""

    status: str = ""
    init_margin_before: float | None = None
    maint_margin_before: float | None = None
    equity_with_loan_before: float | None = None
    init_margin_change: float | None = None
    maint_margin_change: float | None = None
    equity_with_loan_change: float | None = None
    init_margin_after: float | None = None
    maint_margin_after: float | None = None
    equity_with_loan_after: float | None = None
    commission: float | None = None
    min_commission: float | None = None
    max_commission: float | None = None
    commission_currency: str = ""
    margin_currency: str = ""
    init_margin_before_outside_rth: float | None = None
    maint_margin_before_outside_rth: float | None = None
    equity_with_loan_before_outside_rth: float | None = None
    init_margin_change_outside_rth: float | None = None
    maint_margin_change_outside_rth: float | None = None
    equity_with_loan_change_outside_rth: float | None = None
    init_margin_after_outside_rth: float | None = None
    maint_margin_after_outside_rth: float | None = None
    equity_with_loan_after_outside_rth: float | None = None
    suggested_size: Decimal | None = None
    reject_reason: str = ""
    order_allocations: list[OrderAllocation] = field(default_factory=list)
    warning_text: str = ""
    completed_time: str = ""
    completed_status: str = ""


# -- helpers ----------------------------------------------------------------------------------


def _qty(quantity: Decimal | float | str) -> Decimal:
    if isinstance(quantity, bool):
        raise ValueError("order quantity must be a number, not a bool")
    q = quantity if isinstance(quantity, Decimal) else Decimal(str(quantity))
    if not q.is_finite() or q <= 0:
        raise ValueError(f"order quantity must be positive, not {quantity}")
    return q


def _action(action: str) -> str:
    a = action.upper()
    if a not in ("BUY", "SELL", "SSHORT"):
        raise ValueError(f"order action must be BUY, SELL or SSHORT, not {action!r}")
    return a


def _price(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, not {value}")
    return v


def _make(order_type: str, action: str, quantity: Decimal | float | str, **fields: object) -> Order:
    order = Order(action=_action(action), total_quantity=_qty(quantity), order_type=order_type)
    for name, value in fields.items():
        setattr(order, name, value)
    order.validate()
    return order


def MarketOrder(action: str, quantity: Decimal | float | str, **fields: object) -> Order:
    """A market order (``MKT``)."""
    return _make("MKT", action, quantity, **fields)


def LimitOrder(
    action: str, quantity: Decimal | float | str, limit_price: float, **fields: object
) -> Order:
    """A limit order (``LMT``) at ``limit_price``."""
    return _make("LMT", action, quantity, lmt_price=_price("limit_price", limit_price), **fields)


def StopOrder(
    action: str, quantity: Decimal | float | str, stop_price: float, **fields: object
) -> Order:
    """A stop order (``STP``): a market order once ``stop_price`` trades."""
    return _make("STP", action, quantity, aux_price=_price("stop_price", stop_price), **fields)


def StopLimitOrder(
    action: str,
    quantity: Decimal | float | str,
    limit_price: float,
    stop_price: float,
    **fields: object,
) -> Order:
    """A stop-limit order (``STP LMT``): a limit order at ``limit_price`` once ``stop_price``
    trades."""
    return _make(
        "STP LMT",
        action,
        quantity,
        lmt_price=_price("limit_price", limit_price),
        aux_price=_price("stop_price", stop_price),
        **fields,
    )


def TrailingStopOrder(
    action: str,
    quantity: Decimal | float | str,
    *,
    trail_amount: float | None = None,
    trail_percent: float | None = None,
    trail_stop_price: float | None = None,
    **fields: object,
) -> Order:
    """A trailing stop (``TRAIL``) by ``trail_amount`` (price units) or ``trail_percent``.

    ``trail_stop_price``: the initial stop (TWS computes it when ``None``).
    """
    return _make(
        "TRAIL",
        action,
        quantity,
        aux_price=None if trail_amount is None else _price("trail_amount", trail_amount),
        trailing_percent=None if trail_percent is None else _price("trail_percent", trail_percent),
        trail_stop_price=trail_stop_price,
        **fields,
    )


def TrailingStopLimitOrder(
    action: str,
    quantity: Decimal | float | str,
    *,
    limit_price_offset: float,
    trail_amount: float | None = None,
    trail_percent: float | None = None,
    trail_stop_price: float | None = None,
    **fields: object,
) -> Order:
    """A trailing stop-limit (``TRAIL LIMIT``): the stop trails by ``trail_amount`` or
    ``trail_percent``; when hit, a limit order goes out ``limit_price_offset`` from it."""
    return _make(
        "TRAIL LIMIT",
        action,
        quantity,
        aux_price=None if trail_amount is None else _price("trail_amount", trail_amount),
        trailing_percent=None if trail_percent is None else _price("trail_percent", trail_percent),
        trail_stop_price=trail_stop_price,
        lmt_price_offset=_price("limit_price_offset", limit_price_offset),
        **fields,
    )


def MarketOnCloseOrder(action: str, quantity: Decimal | float | str, **fields: object) -> Order:
    """A market-on-close order (``MOC``)."""
    return _make("MOC", action, quantity, **fields)


def LimitOnCloseOrder(
    action: str, quantity: Decimal | float | str, limit_price: float, **fields: object
) -> Order:
    """A limit-on-close order (``LOC``)."""
    return _make("LOC", action, quantity, lmt_price=_price("limit_price", limit_price), **fields)


def MarketIfTouchedOrder(
    action: str, quantity: Decimal | float | str, trigger_price: float, **fields: object
) -> Order:
    """A market-if-touched order (``MIT``): a market order once ``trigger_price`` trades."""
    return _make(
        "MIT", action, quantity, aux_price=_price("trigger_price", trigger_price), **fields
    )


def LimitIfTouchedOrder(
    action: str,
    quantity: Decimal | float | str,
    limit_price: float,
    trigger_price: float,
    **fields: object,
) -> Order:
    """A limit-if-touched order (``LIT``)."""
    return _make(
        "LIT",
        action,
        quantity,
        lmt_price=_price("limit_price", limit_price),
        aux_price=_price("trigger_price", trigger_price),
        **fields,
    )


def RelativeOrder(
    action: str,
    quantity: Decimal | float | str,
    offset: float,
    *,
    price_cap: float | None = None,
    **fields: object,
) -> Order:
    """A relative (pegged-to-primary) order (``REL``): ``offset`` from the NBBO, capped at
    ``price_cap`` (``None``: no cap)."""
    return _make(
        "REL",
        action,
        quantity,
        aux_price=_price("offset", offset),
        lmt_price=None if price_cap is None else _price("price_cap", price_cap),
        **fields,
    )


def PegMktOrder(
    action: str, quantity: Decimal | float | str, offset: float = 0.0, **fields: object
) -> Order:
    """A pegged-to-market order (``PEG MKT``) ``offset`` from the market."""
    return _make("PEG MKT", action, quantity, aux_price=_price("offset", offset), **fields)


def PegMidOrder(
    action: str,
    quantity: Decimal | float | str,
    limit_price: float,
    offset: float = 0.0,
    *,
    mid_offset_at_whole: float | None = None,
    mid_offset_at_half: float | None = None,
    **fields: object,
) -> Order:
    """A pegged-to-midpoint order (``PEG MID``, IBKRATS or SMART) capped at ``limit_price``."""
    return _make(
        "PEG MID",
        action,
        quantity,
        lmt_price=_price("limit_price", limit_price),
        aux_price=_price("offset", offset),
        mid_offset_at_whole=mid_offset_at_whole,
        mid_offset_at_half=mid_offset_at_half,
        **fields,
    )


def PegBenchOrder(
    action: str,
    quantity: Decimal | float | str,
    starting_price: float,
    reference_contract_id: int,
    reference_exchange: str,
    pegged_change_amount: float,
    reference_change_amount: float,
    *,
    is_pegged_change_amount_decrease: bool = False,
    stock_ref_price: float | None = None,
    **fields: object,
) -> Order:
    """A pegged-to-benchmark order (``PEG BENCH``): the price moves by
    ``pegged_change_amount`` each time the reference contract moves by
    ``reference_change_amount``."""
    return _make(
        "PEG BENCH",
        action,
        quantity,
        starting_price=_price("starting_price", starting_price),
        reference_contract_id=reference_contract_id,
        reference_exchange_id=reference_exchange,
        pegged_change_amount=_price("pegged_change_amount", pegged_change_amount),
        reference_change_amount=_price("reference_change_amount", reference_change_amount),
        is_pegged_change_amount_decrease=is_pegged_change_amount_decrease,
        stock_ref_price=stock_ref_price,
        **fields,
    )


def bracket(
    action: str,
    quantity: Decimal | float | str,
    limit_price: float,
    take_profit_price: float,
    stop_loss_price: float,
    *,
    parent_id: int = 0,
    **fields: object,
) -> tuple[Order, Order, Order]:
    """A bracket: a ``LMT`` entry and, on the other side, a take-profit ``LMT`` and a
    stop-loss ``STP``, returned as ``(parent, take_profit, stop_loss)``.

    Only the last (the stop loss) has ``transmit=True``: TWS holds the parent and the take
    profit until it arrives, so the three go live together. The children's ``parent_id`` is
    ``parent_id``: leave it 0 and place the three in order; the client gives the parent the
    next valid id and rewrites the children's ``parent_id`` to it (or assign ids yourself:
    pass the parent's id here and set each ``order_id``). ``fields`` apply to all three.
    """
    a = _action(action)
    if a == "SSHORT":
        raise ValueError("a bracket entry must be BUY or SELL")
    lp = _price("limit_price", limit_price)
    tp = _price("take_profit_price", take_profit_price)
    sl = _price("stop_loss_price", stop_loss_price)
    if a == "BUY" and not sl < lp < tp:
        raise ValueError("a BUY bracket needs stop_loss_price < limit_price < take_profit_price")
    if a == "SELL" and not tp < lp < sl:
        raise ValueError("a SELL bracket needs take_profit_price < limit_price < stop_loss_price")
    other = "SELL" if a == "BUY" else "BUY"
    parent = LimitOrder(a, quantity, lp, order_id=parent_id, transmit=False, **fields)
    take_profit = LimitOrder(other, quantity, tp, parent_id=parent_id, transmit=False, **fields)
    stop_loss = StopOrder(other, quantity, sl, parent_id=parent_id, transmit=True, **fields)
    return parent, take_profit, stop_loss


def oca(
    orders: Iterable[Order], group: str, oca_type: int | OcaType = OcaType.CANCEL_WITH_BLOCK
) -> list[Order]:
    """Put ``orders`` in the one-cancels-all group ``group`` (modified in place, returned)."""
    if not group:
        raise ValueError("an OCA group needs a name")
    t = int(oca_type)
    if t not in (1, 2, 3):
        raise ValueError(f"oca_type must be 1, 2 or 3, not {oca_type}")
    out: Sequence[Order] = list(orders)
    for o in out:
        o.oca_group = group
        o.oca_type = t
    return list(out)
