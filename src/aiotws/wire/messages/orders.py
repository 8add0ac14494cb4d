"""Order messages: placing, cancelling and listing orders, and what TWS reports about them.

Layouts from PROTOCOL.md 6.10-6.13 and 6.20, checked field by field against the official
client 10.51 (server versions 157..200). PLACE_ORDER, OPEN_ORDER and COMPLETED_ORDER are flat
layouts: one message field per wire field, in wire order, with its gate, because their
conditional parts depend on both the contract and the order (combo legs for a ``BAG``,
``minTradeQty`` for ``IBKRATS``, the delta-neutral block, peg-to-bench, scale, hedge, algo
and condition blocks). Their field names are the :class:`~aiotws.model.Order` attribute names,
so ``from_order`` / ``to_order`` convert by name; the contract is one embedded block.

Custom codecs (this module): :data:`CONDITION` (the polymorphic order condition),
:data:`TAG_VALUE_STRING` (``tag=value;`` lists in one field), :data:`SENTINEL_FLOAT` (an
optional float the official client writes as the literal ``1.7976931348623157e+308``),
:data:`OPT_BOOL` (``None``/``0``/``1``) and :class:`Const` (deprecated or reserved fields
with a fixed value).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from aiotws.model.contract import ComboLeg, Contract, DeltaNeutralContract, TagValue
from aiotws.model.order import (
    CONDITION_TYPES,
    ExecutionCondition,
    MarginCondition,
    Order,
    OrderAllocation,
    OrderCancel,
    OrderComboLeg,
    OrderCondition,
    OrderState,
    PercentChangeCondition,
    PriceCondition,
    SoftDollarTier,
    TimeCondition,
    VolumeCondition,
    is_peg_bench,
    is_peg_best,
    is_peg_mid,
)
from aiotws.wire.fields import (
    BOOL,
    DECIMAL,
    FLOAT,
    INT,
    OPT_FLOAT,
    SENTINEL_INT,
    STR,
    UNSET_DOUBLE,
    Codec,
    FieldError,
    FieldReader,
    FieldWriter,
    ListOf,
    Scalar,
    format_float,
)
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import (
    InMessage,
    Layout,
    OutMessage,
    StructCodec,
    block_field,
    message,
    since,
    wire,
)
from aiotws.wire.messages.contracts import CONTRACT_BLOCK
from aiotws.wire.messages.market import Flagged
from aiotws.wire.versions import SV

__all__ = [
    "CONDITION",
    "OPT_BOOL",
    "SENTINEL_FLOAT",
    "TAG_VALUE_STRING",
    "CancelOrder",
    "CompletedOrder",
    "CompletedOrdersEnd",
    "Const",
    "DeltaNeutralValidation",
    "ExerciseOptions",
    "OpenOrder",
    "OpenOrderEnd",
    "OrderBound",
    "OrderStatusMsg",
    "PlaceOrder",
    "ReqAllOpenOrders",
    "ReqAutoOpenOrders",
    "ReqCompletedOrders",
    "ReqGlobalCancel",
    "ReqOpenOrders",
]

T = TypeVar("T")

# -- custom codecs ----------------------------------------------------------------------------


class Const(Scalar[str]):
    """A field with one fixed value: deprecated (``sharesAllocation``, ``eTradeOnly``) or
    reserved (the 187-189 RFQ placeholders). Writes ``text``; reads any text as ``text``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__(f"const {text!r}")
        self.text = text

    def parse(self, s: str) -> str:
        return self.text

    def write(self, w: FieldWriter, value: str) -> None:
        w.out.append(self.text)


_EMPTY: Final = Const("")
_ZERO: Final = Const("0")
_UNSET_INT_TEXT: Final = Const("2147483647")


class _SentinelFloat(Scalar[float | None]):
    """An optional float written as the official client does with ``make_field``: ``None``
    as ``1.7976931348623157e+308`` (``triggerPrice``, ``cashQty`` …); reads as OPT_FLOAT."""

    __slots__ = ()

    def parse(self, s: str) -> float | None:
        return OPT_FLOAT.parse(s)

    def write(self, w: FieldWriter, value: float | None) -> None:
        if value is None or value == UNSET_DOUBLE:
            w.out.append(str(UNSET_DOUBLE))
        else:
            FLOAT.write(w, value)


class _OptBool(Scalar[bool | None]):
    """A tri-state flag: ``None`` as an empty field, else ``0``/``1`` (``usePriceMgmtAlgo``)."""

    __slots__ = ()

    def parse(self, s: str) -> bool | None:
        return None if s == "" else BOOL.parse(s)

    def write(self, w: FieldWriter, value: bool | None) -> None:
        if value is None:
            w.out.append("")
        else:
            BOOL.write(w, value)


class _TagValueString(Scalar[list[TagValue]]):
    """A TagValue list in one field: ``tag1=value1;tag2=value2;`` (``orderMiscOptions``)."""

    __slots__ = ()

    def parse(self, s: str) -> list[TagValue]:
        out = []
        for part in s.split(";"):
            if part:
                tag, _, value = part.partition("=")
                out.append(TagValue(tag, value))
        return out

    def write(self, w: FieldWriter, value: list[TagValue]) -> None:
        parts = []
        for tv in value:
            if "=" in tv.tag or ";" in tv.tag or ";" in tv.value or not tv.tag:
                raise FieldError(f"tag/value {tv!r} cannot be written as 'tag=value;'")
            parts.append(f"{tv.tag}={tv.value};")
        STR.write(w, "".join(parts))


class _Condition(Codec[OrderCondition]):
    """One order condition: its type code, ``a``/``o`` (and/or), then the type's fields
    (official ``order_condition.py``): execution ``secType, exchange, symbol``; the others
    ``isMore, value`` plus ``conId, exchange`` for contract-based ones and ``triggerMethod``
    for price."""

    __slots__ = ()

    def read(self, r: FieldReader) -> OrderCondition:
        code = INT.read(r)
        cls = CONDITION_TYPES.get(code)
        if cls is None:
            raise FieldError(f"unknown order condition type {code}")
        conj = r.next()
        conjunction = "and" if conj == "a" else "or"
        if cls is ExecutionCondition:
            return ExecutionCondition(
                STR.read(r), STR.read(r), STR.read(r), conjunction=conjunction
            )
        is_more = BOOL.read(r)
        text = r.next()
        if cls is TimeCondition:
            return TimeCondition(text, is_more, conjunction=conjunction)
        if cls is MarginCondition:
            return MarginCondition(_float(text), is_more, conjunction=conjunction)
        con_id = INT.read(r)
        exchange = STR.read(r)
        if cls is PriceCondition:
            trigger = INT.read(r)
            return PriceCondition(
                _float(text), con_id, exchange, is_more, trigger, conjunction=conjunction
            )
        if cls is VolumeCondition:
            try:
                volume = int(text)
            except ValueError:
                raise FieldError(f"not a volume: {text!r}") from None
            return VolumeCondition(volume, con_id, exchange, is_more, conjunction=conjunction)
        return PercentChangeCondition(
            _float(text), con_id, exchange, is_more, conjunction=conjunction
        )

    def write(self, w: FieldWriter, value: OrderCondition) -> None:
        if type(value) not in CONDITION_TYPES.values():
            raise FieldError(f"not an order condition: {value!r}")
        INT.write(w, value.TYPE)
        w.out.append("a" if value.conjunction == "and" else "o")
        if isinstance(value, ExecutionCondition):
            for s in (value.sec_type, value.exchange, value.symbol):
                STR.write(w, s)
            return
        if isinstance(value, TimeCondition):
            BOOL.write(w, value.is_more)
            STR.write(w, value.time)
            return
        if isinstance(value, MarginCondition):
            BOOL.write(w, value.is_more)
            w.out.append(format_float(value.percent))
            return
        assert isinstance(value, (PriceCondition, VolumeCondition, PercentChangeCondition))
        BOOL.write(w, value.is_more)
        if isinstance(value, PriceCondition):
            w.out.append(format_float(value.price))
        elif isinstance(value, VolumeCondition):
            INT.write(w, value.volume)
        else:
            w.out.append(format_float(value.change_percent))
        INT.write(w, value.con_id)
        STR.write(w, value.exchange)
        if isinstance(value, PriceCondition):
            INT.write(w, value.trigger_method)


def _float(text: str) -> float:
    v = FLOAT.parse(text)
    if math.isnan(v):
        raise FieldError(f"not a number: {text!r}")
    return v


SENTINEL_FLOAT: Final[Scalar[float | None]] = _SentinelFloat("float | None (unset = max double)")
OPT_BOOL: Final[Scalar[bool | None]] = _OptBool("bool | None")
TAG_VALUE_STRING: Final[Scalar[list[TagValue]]] = _TagValueString("list[TagValue] (tag=value;)")
CONDITION: Final[Codec[OrderCondition]] = _Condition("OrderCondition")

# -- blocks -----------------------------------------------------------------------------------

#: PLACE_ORDER's contract: C12, secIdType, secId
_PLACE_CONTRACT: Final = StructCodec(
    Contract,
    (
        *CONTRACT_BLOCK.layout.specs,
        block_field("sec_id_type", STR, default=""),
        block_field("sec_id", STR, default=""),
    ),
    "Contract",
)
_C11_SPECS: Final = tuple(s for s in CONTRACT_BLOCK.layout.specs if s.name != "primary_exchange")
#: OPEN_ORDER / COMPLETED_ORDER / EXERCISE_OPTIONS contract: C12 without primaryExchange
_C11: Final = StructCodec(Contract, _C11_SPECS, "Contract")

_TAG_VALUE: Final = StructCodec(
    TagValue, (block_field("tag", STR, default=""), block_field("value", STR, default=""))
)
_COMBO_LEG: Final = StructCodec(
    ComboLeg,
    (
        block_field("con_id", INT, default=0),
        block_field("ratio", INT, default=0),
        block_field("action", STR, default=""),
        block_field("exchange", STR, default=""),
        block_field("open_close", INT, default=0),
        block_field("short_sale_slot", INT, default=0),
        block_field("designated_location", STR, default=""),
        block_field("exempt_code", INT, default=-1),
    ),
    "ComboLeg",
)
_ORDER_COMBO_LEG: Final = StructCodec(
    OrderComboLeg, (block_field("price", OPT_FLOAT),), "OrderComboLeg"
)
_DELTA_NEUTRAL: Final = Flagged(
    StructCodec(
        DeltaNeutralContract,
        (
            block_field("con_id", INT, default=0),
            block_field("delta", FLOAT, default=0.0),
            block_field("price", FLOAT, default=0.0),
        ),
        "DeltaNeutralContract",
    )
)
_SOFT_DOLLAR_OUT: Final = StructCodec(
    SoftDollarTier,
    (block_field("name", STR, default=""), block_field("value", STR, default="")),
    "SoftDollarTier",
)
_SOFT_DOLLAR_IN: Final = StructCodec(
    SoftDollarTier,
    (
        block_field("name", STR, default=""),
        block_field("value", STR, default=""),
        block_field("display_name", STR, default=""),
    ),
    "SoftDollarTier",
)
_ALLOCATION: Final = StructCodec(
    OrderAllocation,
    (
        block_field("account", STR, default=""),
        block_field("position", DECIMAL),
        block_field("position_desired", DECIMAL),
        block_field("position_after", DECIMAL),
        block_field("desired_alloc_qty", DECIMAL),
        block_field("allowed_alloc_qty", DECIMAL),
        block_field("is_monetary", BOOL, default=False),
    ),
    "OrderAllocation",
)
_PREVIEW: Final = SV.FULL_ORDER_PREVIEW_FIELDS
#: OPEN_ORDER's order state (what-if margins arrive as text; unset forms read as None)
_ORDER_STATE: Final = StructCodec(
    OrderState,
    (
        block_field("status", STR, default=""),
        *(
            block_field(f"{k}_{when}", OPT_FLOAT)
            for when in ("before", "change", "after")
            for k in ("init_margin", "maint_margin", "equity_with_loan")
            if when != "after"
        ),
        *(
            block_field(f"{k}_after", OPT_FLOAT)
            for k in ("init_margin", "maint_margin", "equity_with_loan")
        ),
        block_field("commission", OPT_FLOAT),
        block_field("min_commission", OPT_FLOAT),
        block_field("max_commission", OPT_FLOAT),
        block_field("commission_currency", STR, default=""),
        block_field("margin_currency", STR, since=_PREVIEW, default=""),
        *(
            block_field(f"{k}_{when}_outside_rth", OPT_FLOAT, since=_PREVIEW)
            for when in ("before", "change", "after")
            for k in ("init_margin", "maint_margin", "equity_with_loan")
        ),
        block_field("suggested_size", DECIMAL, since=_PREVIEW),
        block_field("reject_reason", STR, since=_PREVIEW, default=""),
        block_field("order_allocations", ListOf(_ALLOCATION), since=_PREVIEW, default=[]),
        block_field("warning_text", STR, default=""),
    ),
    "OrderState",
)


# -- conditions of the conditional blocks (values read so far, or the message on encode) -------

V = Mapping[str, Any]


def _is_bag(v: V) -> bool:
    return bool(v["contract"].sec_type == "BAG")


def _has_dn(v: V) -> bool:
    return bool(v["delta_neutral_order_type"])


def _is_scale(v: V) -> bool:
    inc = v["scale_price_increment"]
    return inc is not None and inc > 0.0


def _has_hedge(v: V) -> bool:
    return bool(v["hedge_type"])


def _has_algo(v: V) -> bool:
    return bool(v["algo_strategy"])


def _peg_bench(v: V) -> bool:
    return is_peg_bench(v["order_type"])


def _peg_best(v: V) -> bool:
    return is_peg_best(v["order_type"])


def _mid_offsets(v: V) -> bool:
    t = v["order_type"]
    return is_peg_mid(t) or (is_peg_best(t) and v.get("compete_against_best_offset") == math.inf)


def _has_conditions(v: V) -> bool:
    return bool(v["conditions"])


def _ibkrats(v: V) -> bool:
    return bool(v["contract"].exchange == "IBKRATS")


# -- conversions ------------------------------------------------------------------------------

_ORDER_ATTRS: Final = frozenset(f.name for f in dataclasses.fields(Order))
_NAMES: dict[type, tuple[str, ...]] = {}


def _order_names(cls: type) -> tuple[str, ...]:
    """The message fields of ``cls`` that are :class:`Order` attributes."""
    names = _NAMES.get(cls)
    if names is None:
        layout: Layout = cls.LAYOUT  # type: ignore[attr-defined]
        names = tuple(s.name for s in layout.specs if s.name in _ORDER_ATTRS)
        _NAMES[cls] = names
    return names


def _copy(value: T) -> T:
    return list(value) if isinstance(value, list) else value  # type: ignore[return-value]


def _block(codec: StructCodec[Contract], contract: Contract) -> Contract:
    """The part of ``contract`` a block carries (what decoding gives back)."""
    return Contract(**{s.name: getattr(contract, s.name) for s in codec.layout.specs})


def _drop_absent(msg: Any) -> Any:
    """Reset fields whose condition is false: they are not on the wire, so a decoded message
    has their defaults (the encoder skips them either way)."""
    for spec in type(msg).LAYOUT.absent(msg):
        setattr(msg, spec.name, spec.default_value())
    return msg


def _to_order(msg: Any, **extra: Any) -> Order:
    order = Order()
    for name in _order_names(type(msg)):
        setattr(order, name, _copy(getattr(msg, name)))
    for name, value in extra.items():
        setattr(order, name, value)
    return order


def _with_legs(msg: Any) -> Contract:
    c: Contract = dataclasses.replace(msg.contract)
    c.combo_legs = list(msg.combo_legs)
    c.delta_neutral_contract = msg.delta_neutral_contract
    if hasattr(msg, "combo_legs_descrip"):
        c.combo_legs_descrip = msg.combo_legs_descrip
    return c


# -- PLACE_ORDER ------------------------------------------------------------------------------


@message(Out.PLACE_ORDER)
@dataclass(slots=True)
class PlaceOrder(OutMessage):
    """Place (or modify, with the same ``order_id``) an order. Build with :meth:`from_order`.

    Answered by OPEN_ORDER and ORDER_STATUS (OPEN_ORDER only for a what-if order), or ERR_MSG
    with id = ``order_id``. Each field below is one wire field, in wire order.
    """

    order_id: int = 0
    contract: Contract = wire(default_factory=Contract, codec=_PLACE_CONTRACT)
    action: str = ""
    total_quantity: Decimal | None = None
    order_type: str = ""
    lmt_price: float | None = None
    aux_price: float | None = None
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    open_close: str = ""
    origin: int = 0
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0
    block_order: bool = False
    sweep_to_fill: bool = False
    display_size: int = 0
    trigger_method: int = 0
    outside_rth: bool = False
    hidden: bool = False
    combo_legs: list[ComboLeg] = wire(default_factory=list, codec=ListOf(_COMBO_LEG), when=_is_bag)
    order_combo_legs: list[OrderComboLeg] = wire(
        default_factory=list, codec=ListOf(_ORDER_COMBO_LEG), when=_is_bag
    )
    smart_combo_routing_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE), when=_is_bag
    )
    shares_allocation: str = wire("", codec=_EMPTY)
    discretionary_amt: float = 0.0
    good_after_time: str = ""
    good_till_date: str = ""
    fa_group: str = ""
    fa_method: str = ""
    fa_percentage: str = ""
    fa_profile: str = wire("", codec=_EMPTY, until=SV.FA_PROFILE_DESUPPORT)
    model_code: str = ""
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1
    oca_type: int = 0
    rule_80a: str = ""
    settling_firm: str = ""
    all_or_none: bool = False
    min_qty: int | None = None
    percent_offset: float | None = None
    e_trade_only: str = wire("0", codec=_ZERO)
    firm_quote_only: str = wire("0", codec=_ZERO)
    nbbo_price_cap: str = wire("", codec=_EMPTY)
    auction_strategy: int = 0
    starting_price: float | None = None
    stock_ref_price: float | None = None
    delta: float | None = None
    stock_range_lower: float | None = None
    stock_range_upper: float | None = None
    override_percentage_constraints: bool = False
    volatility: float | None = None
    volatility_type: int | None = None
    delta_neutral_order_type: str = ""
    delta_neutral_aux_price: float | None = None
    delta_neutral_con_id: int = wire(0, when=_has_dn)
    delta_neutral_settling_firm: str = wire("", when=_has_dn)
    delta_neutral_clearing_account: str = wire("", when=_has_dn)
    delta_neutral_clearing_intent: str = wire("", when=_has_dn)
    delta_neutral_open_close: str = wire("", when=_has_dn)
    delta_neutral_short_sale: bool = wire(False, when=_has_dn)
    delta_neutral_short_sale_slot: int = wire(0, when=_has_dn)
    delta_neutral_designated_location: str = wire("", when=_has_dn)
    continuous_update: bool = False
    reference_price_type: int | None = None
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    scale_init_level_size: int | None = None
    scale_subs_level_size: int | None = None
    scale_price_increment: float | None = None
    scale_price_adjust_value: float | None = wire(None, when=_is_scale)
    scale_price_adjust_interval: int | None = wire(None, when=_is_scale)
    scale_profit_offset: float | None = wire(None, when=_is_scale)
    scale_auto_reset: bool = wire(False, when=_is_scale)
    scale_init_position: int | None = wire(None, when=_is_scale)
    scale_init_fill_qty: int | None = wire(None, when=_is_scale)
    scale_random_percent: bool = wire(False, when=_is_scale)
    scale_table: str = ""
    active_start_time: str = ""
    active_stop_time: str = ""
    hedge_type: str = ""
    hedge_param: str = wire("", when=_has_hedge)
    opt_out_smart_routing: bool = False
    clearing_account: str = ""
    clearing_intent: str = ""
    not_held: bool = False
    delta_neutral_contract: DeltaNeutralContract | None = wire(None, codec=_DELTA_NEUTRAL)
    algo_strategy: str = ""
    algo_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE), when=_has_algo
    )
    algo_id: str = ""
    what_if: bool = False
    order_misc_options: list[TagValue] = wire(default_factory=list, codec=TAG_VALUE_STRING)
    solicited: bool = False
    randomize_size: bool = False
    randomize_price: bool = False
    reference_contract_id: int = wire(0, when=_peg_bench)
    is_pegged_change_amount_decrease: bool = wire(False, when=_peg_bench)
    pegged_change_amount: float = wire(0.0, when=_peg_bench)
    reference_change_amount: float = wire(0.0, when=_peg_bench)
    reference_exchange_id: str = wire("", when=_peg_bench)
    conditions: list[OrderCondition] = wire(default_factory=list, codec=ListOf(CONDITION))
    conditions_ignore_rth: bool = wire(False, when=_has_conditions)
    conditions_cancel_order: bool = wire(False, when=_has_conditions)
    adjusted_order_type: str = ""
    trigger_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    lmt_price_offset: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_stop_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_stop_limit_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_trailing_amount: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjustable_trailing_unit: int = 0
    ext_operator: str = ""
    soft_dollar_tier: SoftDollarTier = wire(default_factory=SoftDollarTier, codec=_SOFT_DOLLAR_OUT)
    cash_qty: float | None = wire(None, codec=SENTINEL_FLOAT)
    mifid2_decision_maker: str = ""
    mifid2_decision_algo: str = ""
    mifid2_execution_trader: str = ""
    mifid2_execution_algo: str = ""
    dont_use_auto_price_for_hedge: bool = False
    is_oms_container: bool = False
    discretionary_up_to_limit_price: bool = False
    use_price_mgmt_algo: bool | None = wire(None, codec=OPT_BOOL)
    duration: int | None = since(SV.DURATION, None, codec=SENTINEL_INT)
    post_to_ats: int | None = since(SV.POST_TO_ATS, None, codec=SENTINEL_INT)
    auto_cancel_parent: bool = since(SV.AUTO_CANCEL_PARENT, False)
    advanced_error_override: str = since(SV.ADVANCED_ORDER_REJECT, "")
    manual_order_time: str = since(SV.MANUAL_ORDER_TIME, "")
    min_trade_qty: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None, when=_ibkrats)
    min_compete_size: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None, when=_peg_best)
    compete_against_best_offset: float | None = since(
        SV.PEGBEST_PEGMID_OFFSETS, None, when=_peg_best
    )
    mid_offset_at_whole: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None, when=_mid_offsets)
    mid_offset_at_half: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None, when=_mid_offsets)
    customer_account: str = since(SV.CUSTOMER_ACCOUNT, "")
    professional_customer: bool = since(SV.PROFESSIONAL_CUSTOMER, False)
    rfq_placeholder: str = wire("", codec=_EMPTY, since=SV.RFQ_FIELDS, until=SV.UNDO_RFQ_FIELDS)
    rfq_placeholder_int: str = wire(
        "2147483647", codec=_UNSET_INT_TEXT, since=SV.RFQ_FIELDS, until=SV.UNDO_RFQ_FIELDS
    )
    include_overnight: bool = since(SV.INCLUDE_OVERNIGHT, False)
    manual_order_indicator: int | None = since(SV.CME_TAGGING_FIELDS, None, codec=SENTINEL_INT)
    imbalance_only: bool = since(SV.IMBALANCE_ONLY, False)

    @classmethod
    def from_order(cls, order_id: int, contract: Contract, order: Order) -> PlaceOrder:
        """The message for placing ``order`` on ``contract`` under ``order_id``.

        Combo legs and the delta-neutral contract come from ``contract``; fields the wire does
        not carry for this contract and order type are left out (as TWS would not read them).
        """
        kw = {name: _copy(getattr(order, name)) for name in _order_names(cls)}
        kw["order_id"] = order_id
        msg = cls(
            contract=_block(_PLACE_CONTRACT, contract),
            combo_legs=list(contract.combo_legs),
            delta_neutral_contract=contract.delta_neutral_contract,
            **kw,
        )
        return _drop_absent(msg)  # type: ignore[no-any-return]

    def to_order(self) -> Order:
        """The order this message places (the simulator's side)."""
        return _to_order(self)

    def to_contract(self) -> Contract:
        """The contract, with its combo legs and delta-neutral contract."""
        return _with_legs(self)


# -- CANCEL_ORDER, REQ_GLOBAL_CANCEL ----------------------------------------------------------


@message(Out.CANCEL_ORDER, version=1, version_until=SV.CME_TAGGING_FIELDS)
@dataclass(slots=True)
class CancelOrder(OutMessage):
    """Cancel order ``order_id``. Build with :meth:`from_cancel` to pass an ``OrderCancel``.

    Success: ORDER_STATUS ``Cancelled`` (often with ERR_MSG 202); failure: ERR_MSG 10147,
    10148, 161 or 135 with id = ``order_id``.
    """

    order_id: int = 0
    manual_order_cancel_time: str = since(SV.MANUAL_ORDER_TIME, "")
    rfq_placeholder_1: str = wire("", codec=_EMPTY, since=SV.RFQ_FIELDS, until=SV.UNDO_RFQ_FIELDS)
    rfq_placeholder_2: str = wire("", codec=_EMPTY, since=SV.RFQ_FIELDS, until=SV.UNDO_RFQ_FIELDS)
    rfq_placeholder_3: str = wire(
        "2147483647", codec=_UNSET_INT_TEXT, since=SV.RFQ_FIELDS, until=SV.UNDO_RFQ_FIELDS
    )
    ext_operator: str = since(SV.CME_TAGGING_FIELDS, "")
    manual_order_indicator: int | None = since(SV.CME_TAGGING_FIELDS, None, codec=SENTINEL_INT)

    @classmethod
    def from_cancel(cls, order_id: int, cancel: OrderCancel | None = None) -> CancelOrder:
        c = cancel or OrderCancel()
        return cls(
            order_id,
            manual_order_cancel_time=c.manual_order_cancel_time,
            ext_operator=c.ext_operator,
            manual_order_indicator=c.manual_order_indicator,
        )

    def to_cancel(self) -> OrderCancel:
        return OrderCancel(
            self.manual_order_cancel_time, self.ext_operator, self.manual_order_indicator
        )


@message(Out.REQ_GLOBAL_CANCEL, version=1, version_until=SV.CME_TAGGING_FIELDS)
@dataclass(slots=True)
class ReqGlobalCancel(OutMessage):
    """Cancel every open order of every client (no direct reply; ORDER_STATUS per order)."""

    ext_operator: str = since(SV.CME_TAGGING_FIELDS, "")
    manual_order_indicator: int | None = since(SV.CME_TAGGING_FIELDS, None, codec=SENTINEL_INT)

    @classmethod
    def from_cancel(cls, cancel: OrderCancel | None = None) -> ReqGlobalCancel:
        c = cancel or OrderCancel()
        return cls(c.ext_operator, c.manual_order_indicator)


# -- order lists ------------------------------------------------------------------------------


@message(Out.REQ_OPEN_ORDERS, version=1)
@dataclass(slots=True)
class ReqOpenOrders(OutMessage):
    """This client's open orders: OPEN_ORDER (and ORDER_STATUS) each, then OPEN_ORDER_END."""


@message(Out.REQ_ALL_OPEN_ORDERS, version=1)
@dataclass(slots=True)
class ReqAllOpenOrders(OutMessage):
    """Every client's open orders (and TWS's own): OPEN_ORDER each, then OPEN_ORDER_END."""


@message(Out.REQ_AUTO_OPEN_ORDERS, version=1)
@dataclass(slots=True)
class ReqAutoOpenOrders(OutMessage):
    """Client 0 only: bind orders placed in TWS to this client (``auto_bind``)."""

    auto_bind: bool = False


@message(Out.REQ_COMPLETED_ORDERS)
@dataclass(slots=True)
class ReqCompletedOrders(OutMessage):
    """Filled and cancelled orders of the day: COMPLETED_ORDER each, then
    COMPLETED_ORDERS_END. ``api_only``: only orders placed through the API."""

    api_only: bool = False


@message(Out.EXERCISE_OPTIONS, version=2)
@dataclass(slots=True)
class ExerciseOptions(OutMessage):
    """Exercise (``exercise_action`` 1) or lapse (2) ``exercise_quantity`` options.

    ``override`` 1 exercises even out of the money. Errors come with id = ``req_id``.
    """

    req_id: int = 0
    contract: Contract = wire(default_factory=Contract, codec=_C11)
    exercise_action: int = 1
    exercise_quantity: int = 0
    account: str = ""
    override: int = 0
    manual_order_time: str = since(SV.MANUAL_ORDER_TIME_EXERCISE_OPTIONS, "")
    customer_account: str = since(SV.CUSTOMER_ACCOUNT, "")
    professional_customer: bool = since(SV.PROFESSIONAL_CUSTOMER, False)


# -- OPEN_ORDER -------------------------------------------------------------------------------


@message(In.OPEN_ORDER)
@dataclass(slots=True)
class OpenOrder(InMessage):
    """An open order: its contract, the order and its state. Convert with :meth:`to_order`,
    :meth:`to_contract` and :meth:`to_order_state`; build with :meth:`from_order`.

    Sent after PLACE_ORDER, for REQ_OPEN_ORDERS / REQ_ALL_OPEN_ORDERS, at connect and on
    changes. A what-if order comes back as OPEN_ORDER only, with the margin fields set.
    ``trail_stop_price`` is on the wire twice; the second (``trail_stop_price_2``) wins.
    """

    order_id: int = 0
    contract: Contract = wire(default_factory=Contract, codec=_C11)
    action: str = ""
    total_quantity: Decimal | None = None
    order_type: str = ""
    lmt_price: float | None = None
    aux_price: float | None = None
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    open_close: str = ""
    origin: int = 0
    order_ref: str = ""
    client_id: int = 0
    perm_id: int = 0
    outside_rth: bool = False
    hidden: bool = False
    discretionary_amt: float = 0.0
    good_after_time: str = ""
    shares_allocation: str = wire("", codec=_EMPTY)
    fa_group: str = ""
    fa_method: str = ""
    fa_percentage: str = ""
    fa_profile: str = wire("", codec=_EMPTY, until=SV.FA_PROFILE_DESUPPORT)
    model_code: str = ""
    good_till_date: str = ""
    rule_80a: str = ""
    percent_offset: float | None = None
    settling_firm: str = ""
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1
    auction_strategy: int = 0
    starting_price: float | None = None
    stock_ref_price: float | None = None
    delta: float | None = None
    stock_range_lower: float | None = None
    stock_range_upper: float | None = None
    display_size: int = 0
    block_order: bool = False
    sweep_to_fill: bool = False
    all_or_none: bool = False
    min_qty: int | None = None
    oca_type: int = 0
    e_trade_only: str = wire("0", codec=_ZERO)
    firm_quote_only: str = wire("0", codec=_ZERO)
    nbbo_price_cap: str = wire("", codec=_EMPTY)
    parent_id: int = 0
    trigger_method: int = 0
    volatility: float | None = None
    volatility_type: int | None = wire(None, codec=SENTINEL_INT)
    delta_neutral_order_type: str = ""
    delta_neutral_aux_price: float | None = None
    delta_neutral_con_id: int = wire(0, when=_has_dn)
    delta_neutral_settling_firm: str = wire("", when=_has_dn)
    delta_neutral_clearing_account: str = wire("", when=_has_dn)
    delta_neutral_clearing_intent: str = wire("", when=_has_dn)
    delta_neutral_open_close: str = wire("", when=_has_dn)
    delta_neutral_short_sale: bool = wire(False, when=_has_dn)
    delta_neutral_short_sale_slot: int = wire(0, when=_has_dn)
    delta_neutral_designated_location: str = wire("", when=_has_dn)
    continuous_update: bool = False
    reference_price_type: int | None = wire(None, codec=SENTINEL_INT)
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    basis_points: float | None = None
    basis_points_type: int | None = None
    combo_legs_descrip: str = ""
    combo_legs: list[ComboLeg] = wire(default_factory=list, codec=ListOf(_COMBO_LEG))
    order_combo_legs: list[OrderComboLeg] = wire(
        default_factory=list, codec=ListOf(_ORDER_COMBO_LEG)
    )
    smart_combo_routing_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE)
    )
    scale_init_level_size: int | None = None
    scale_subs_level_size: int | None = None
    scale_price_increment: float | None = None
    scale_price_adjust_value: float | None = wire(None, when=_is_scale)
    scale_price_adjust_interval: int | None = wire(None, when=_is_scale)
    scale_profit_offset: float | None = wire(None, when=_is_scale)
    scale_auto_reset: bool = wire(False, when=_is_scale)
    scale_init_position: int | None = wire(None, when=_is_scale)
    scale_init_fill_qty: int | None = wire(None, when=_is_scale)
    scale_random_percent: bool = wire(False, when=_is_scale)
    hedge_type: str = ""
    hedge_param: str = wire("", when=_has_hedge)
    opt_out_smart_routing: bool = False
    clearing_account: str = ""
    clearing_intent: str = ""
    not_held: bool = False
    delta_neutral_contract: DeltaNeutralContract | None = wire(None, codec=_DELTA_NEUTRAL)
    algo_strategy: str = ""
    algo_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE), when=_has_algo
    )
    solicited: bool = False
    what_if: bool = False
    order_state: OrderState = wire(default_factory=OrderState, codec=_ORDER_STATE)
    randomize_size: bool = False
    randomize_price: bool = False
    reference_contract_id: int = wire(0, when=_peg_bench)
    is_pegged_change_amount_decrease: bool = wire(False, when=_peg_bench)
    pegged_change_amount: float = wire(0.0, when=_peg_bench)
    reference_change_amount: float = wire(0.0, when=_peg_bench)
    reference_exchange_id: str = wire("", when=_peg_bench)
    conditions: list[OrderCondition] = wire(default_factory=list, codec=ListOf(CONDITION))
    conditions_ignore_rth: bool = wire(False, when=_has_conditions)
    conditions_cancel_order: bool = wire(False, when=_has_conditions)
    adjusted_order_type: str = ""
    trigger_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    trail_stop_price_2: float | None = wire(None, codec=SENTINEL_FLOAT)
    lmt_price_offset: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_stop_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_stop_limit_price: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjusted_trailing_amount: float | None = wire(None, codec=SENTINEL_FLOAT)
    adjustable_trailing_unit: int = 0
    soft_dollar_tier: SoftDollarTier = wire(default_factory=SoftDollarTier, codec=_SOFT_DOLLAR_IN)
    cash_qty: float | None = wire(None, codec=SENTINEL_FLOAT)
    dont_use_auto_price_for_hedge: bool = False
    is_oms_container: bool = False
    discretionary_up_to_limit_price: bool = False
    use_price_mgmt_algo: bool = False
    duration: int | None = since(SV.DURATION, None)
    post_to_ats: int | None = since(SV.POST_TO_ATS, None)
    auto_cancel_parent: bool = since(SV.AUTO_CANCEL_PARENT, False)
    min_trade_qty: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    min_compete_size: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    compete_against_best_offset: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    mid_offset_at_whole: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    mid_offset_at_half: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    customer_account: str = since(SV.CUSTOMER_ACCOUNT, "")
    professional_customer: bool = since(SV.PROFESSIONAL_CUSTOMER, False)
    bond_accrued_interest: str = since(SV.BOND_ACCRUED_INTEREST, "")
    include_overnight: bool = since(SV.INCLUDE_OVERNIGHT, False)
    ext_operator: str = since(SV.CME_TAGGING_FIELDS_IN_OPEN_ORDER, "")
    manual_order_indicator: int | None = since(SV.CME_TAGGING_FIELDS_IN_OPEN_ORDER, None)
    submitter: str = since(SV.SUBMITTER, "")
    imbalance_only: bool = since(SV.IMBALANCE_ONLY, False)

    @classmethod
    def from_order(
        cls, contract: Contract, order: Order, state: OrderState, version: int = 200
    ) -> OpenOrder:
        """The message TWS would send for ``order`` (the simulator's side); fields
        ``version`` cannot carry are left at their defaults."""
        kw = {name: _copy(getattr(order, name)) for name in _order_names(cls)}
        kw["use_price_mgmt_algo"] = bool(order.use_price_mgmt_algo)
        msg = cls(
            contract=_block(_C11, contract),
            combo_legs_descrip=contract.combo_legs_descrip,
            combo_legs=list(contract.combo_legs),
            delta_neutral_contract=contract.delta_neutral_contract,
            order_state=_state_at(state, version),
            trail_stop_price_2=order.trail_stop_price,
            **kw,
        )
        return _at_version(_drop_absent(msg), version)  # type: ignore[no-any-return]

    def to_order(self) -> Order:
        return _to_order(self, trail_stop_price=self.trail_stop_price_2)

    def to_contract(self) -> Contract:
        return _with_legs(self)

    def to_order_state(self) -> OrderState:
        return dataclasses.replace(
            self.order_state, order_allocations=list(self.order_state.order_allocations)
        )


def _at_version(msg: Any, version: int) -> Any:
    for spec in type(msg).LAYOUT.specs:
        if not spec.active(version):
            setattr(msg, spec.name, spec.default_value())
    return msg


def _state_at(state: OrderState, version: int) -> OrderState:
    """The part of ``state`` OPEN_ORDER carries at ``version``."""
    s = OrderState()
    for spec in _ORDER_STATE.layout.specs:
        if spec.active(version):
            setattr(s, spec.name, _copy(getattr(state, spec.name)))
    return s


@message(In.OPEN_ORDER_END, version=1)
@dataclass(slots=True)
class OpenOrderEnd(InMessage):
    """Ends the OPEN_ORDER replay (connect, REQ_OPEN_ORDERS, REQ_ALL_OPEN_ORDERS)."""


# -- ORDER_STATUS, ORDER_BOUND ----------------------------------------------------------------


@message(In.ORDER_STATUS)
@dataclass(slots=True)
class OrderStatusMsg(InMessage):
    """An order's status and fills so far. Duplicates are normal; a fully filled order does
    not always report ``Filled`` (derive completion from executions too)."""

    order_id: int = 0
    status: str = ""
    filled: Decimal | None = None
    remaining: Decimal | None = None
    avg_fill_price: float = 0.0
    perm_id: int = 0
    parent_id: int = 0
    last_fill_price: float = 0.0
    client_id: int = 0
    why_held: str = ""
    mkt_cap_price: float = 0.0


@message(In.ORDER_BOUND)
@dataclass(slots=True)
class OrderBound(InMessage):
    """An order placed elsewhere (TWS, another API client) got an API order id."""

    perm_id: int = 0
    client_id: int = 0
    order_id: int = 0


# -- COMPLETED_ORDER --------------------------------------------------------------------------


@message(In.COMPLETED_ORDER)
@dataclass(slots=True)
class CompletedOrder(InMessage):
    """A filled or cancelled order (REQ_COMPLETED_ORDERS): like OPEN_ORDER without the order
    id and with its own tail (``completed_time``, ``completed_status`` …)."""

    contract: Contract = wire(default_factory=Contract, codec=_C11)
    action: str = ""
    total_quantity: Decimal | None = None
    order_type: str = ""
    lmt_price: float | None = None
    aux_price: float | None = None
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    open_close: str = ""
    origin: int = 0
    order_ref: str = ""
    perm_id: int = 0
    outside_rth: bool = False
    hidden: bool = False
    discretionary_amt: float = 0.0
    good_after_time: str = ""
    fa_group: str = ""
    fa_method: str = ""
    fa_percentage: str = ""
    fa_profile: str = wire("", codec=_EMPTY, until=SV.FA_PROFILE_DESUPPORT)
    model_code: str = ""
    good_till_date: str = ""
    rule_80a: str = ""
    percent_offset: float | None = None
    settling_firm: str = ""
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1
    starting_price: float | None = None
    stock_ref_price: float | None = None
    delta: float | None = None
    stock_range_lower: float | None = None
    stock_range_upper: float | None = None
    display_size: int = 0
    sweep_to_fill: bool = False
    all_or_none: bool = False
    min_qty: int | None = None
    oca_type: int = 0
    trigger_method: int = 0
    volatility: float | None = None
    volatility_type: int | None = wire(None, codec=SENTINEL_INT)
    delta_neutral_order_type: str = ""
    delta_neutral_aux_price: float | None = None
    delta_neutral_con_id: int = wire(0, when=_has_dn)
    delta_neutral_short_sale: bool = wire(False, when=_has_dn)
    delta_neutral_short_sale_slot: int = wire(0, when=_has_dn)
    delta_neutral_designated_location: str = wire("", when=_has_dn)
    continuous_update: bool = False
    reference_price_type: int | None = wire(None, codec=SENTINEL_INT)
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    combo_legs_descrip: str = ""
    combo_legs: list[ComboLeg] = wire(default_factory=list, codec=ListOf(_COMBO_LEG))
    order_combo_legs: list[OrderComboLeg] = wire(
        default_factory=list, codec=ListOf(_ORDER_COMBO_LEG)
    )
    smart_combo_routing_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE)
    )
    scale_init_level_size: int | None = None
    scale_subs_level_size: int | None = None
    scale_price_increment: float | None = None
    scale_price_adjust_value: float | None = wire(None, when=_is_scale)
    scale_price_adjust_interval: int | None = wire(None, when=_is_scale)
    scale_profit_offset: float | None = wire(None, when=_is_scale)
    scale_auto_reset: bool = wire(False, when=_is_scale)
    scale_init_position: int | None = wire(None, when=_is_scale)
    scale_init_fill_qty: int | None = wire(None, when=_is_scale)
    scale_random_percent: bool = wire(False, when=_is_scale)
    hedge_type: str = ""
    hedge_param: str = wire("", when=_has_hedge)
    clearing_account: str = ""
    clearing_intent: str = ""
    not_held: bool = False
    delta_neutral_contract: DeltaNeutralContract | None = wire(None, codec=_DELTA_NEUTRAL)
    algo_strategy: str = ""
    algo_params: list[TagValue] = wire(
        default_factory=list, codec=ListOf(_TAG_VALUE), when=_has_algo
    )
    solicited: bool = False
    status: str = ""
    randomize_size: bool = False
    randomize_price: bool = False
    reference_contract_id: int = wire(0, when=_peg_bench)
    is_pegged_change_amount_decrease: bool = wire(False, when=_peg_bench)
    pegged_change_amount: float = wire(0.0, when=_peg_bench)
    reference_change_amount: float = wire(0.0, when=_peg_bench)
    reference_exchange_id: str = wire("", when=_peg_bench)
    conditions: list[OrderCondition] = wire(default_factory=list, codec=ListOf(CONDITION))
    conditions_ignore_rth: bool = wire(False, when=_has_conditions)
    conditions_cancel_order: bool = wire(False, when=_has_conditions)
    trail_stop_price_2: float | None = wire(None, codec=SENTINEL_FLOAT)
    lmt_price_offset: float | None = wire(None, codec=SENTINEL_FLOAT)
    cash_qty: float | None = wire(None, codec=SENTINEL_FLOAT)
    dont_use_auto_price_for_hedge: bool = False
    is_oms_container: bool = False
    auto_cancel_date: str = ""
    filled_quantity: Decimal | None = None
    ref_futures_con_id: int = 0
    auto_cancel_parent: bool = False
    shareholder: str = ""
    imbalance_only: bool = False
    route_marketable_to_bbo: bool = False
    parent_perm_id: int = 0
    completed_time: str = ""
    completed_status: str = ""
    min_trade_qty: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    min_compete_size: int | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    compete_against_best_offset: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    mid_offset_at_whole: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    mid_offset_at_half: float | None = since(SV.PEGBEST_PEGMID_OFFSETS, None)
    customer_account: str = since(SV.CUSTOMER_ACCOUNT, "")
    professional_customer: bool = since(SV.PROFESSIONAL_CUSTOMER, False)
    submitter: str = since(SV.SUBMITTER, "")

    @classmethod
    def from_order(
        cls, contract: Contract, order: Order, state: OrderState, version: int = 200
    ) -> CompletedOrder:
        kw = {name: _copy(getattr(order, name)) for name in _order_names(cls)}
        kw["route_marketable_to_bbo"] = bool(order.route_marketable_to_bbo)
        msg = cls(
            contract=_block(_C11, contract),
            combo_legs_descrip=contract.combo_legs_descrip,
            combo_legs=list(contract.combo_legs),
            delta_neutral_contract=contract.delta_neutral_contract,
            status=state.status,
            completed_time=state.completed_time,
            completed_status=state.completed_status,
            trail_stop_price_2=order.trail_stop_price,
            **kw,
        )
        return _at_version(_drop_absent(msg), version)  # type: ignore[no-any-return]

    def to_order(self) -> Order:
        return _to_order(self, trail_stop_price=self.trail_stop_price_2)

    def to_contract(self) -> Contract:
        return _with_legs(self)

    def to_order_state(self) -> OrderState:
        return OrderState(
            status=self.status,
            completed_time=self.completed_time,
            completed_status=self.completed_status,
        )


@message(In.COMPLETED_ORDERS_END)
@dataclass(slots=True)
class CompletedOrdersEnd(InMessage):
    """Ends the answer to REQ_COMPLETED_ORDERS."""


# -- delta-neutral validation (issue 9) -------------------------------------------------------


@message(In.DELTA_NEUTRAL_VALIDATION, version=1)
@dataclass(slots=True)
class DeltaNeutralValidation(InMessage):
    """TWS validated the delta-neutral contract of the order ``req_id`` (its order id) and
    sends the hedge it will use: ``con_id``, ``delta``, ``price``. Text only (no schema)."""

    req_id: int
    con_id: int = 0
    delta: float = 0.0
    price: float = 0.0

    def record(self) -> DeltaNeutralContract:
        """The validated hedge as the model record."""
        return DeltaNeutralContract(self.con_id, self.delta, self.price)
