"""Order messages: PLACE_ORDER against ``EClient.placeOrder`` for a wide catalogue of orders,
the cancels and order-list requests, and OPEN_ORDER / COMPLETED_ORDER / ORDER_STATUS /
ORDER_BOUND against the official decoder.

Our ``Order`` / ``Contract`` / ``OrderState`` map onto the official objects attribute by
attribute (snake_case to camelCase, ``rule_80a`` to ``rule80A``, ``commission`` to
``commissionAndFees``); ``None`` becomes the official default, which is TWS's "unset"
sentinel. The views compare official objects with ours after the reverse mapping (official
sentinels to ``None``).

Deliberate differences (pinned in ``test_orders.py``): an unset ``total_quantity`` goes out
empty (the official client writes ``UNSET_DECIMAL`` as a 39-digit number); quantities are
written in plain notation (the official ``str(Decimal)`` may use exponent form).
"""

from __future__ import annotations

import dataclasses
import math
import re
from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st
from ibapi import order_condition as oc
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER, UNSET_LONG
from ibapi.contract import ComboLeg as OfficialComboLeg
from ibapi.contract import Contract as OfficialContract
from ibapi.contract import DeltaNeutralContract as OfficialDeltaNeutral
from ibapi.order import Order as OfficialOrder
from ibapi.order import OrderComboLeg as OfficialOrderComboLeg
from ibapi.order_cancel import OrderCancel as OfficialOrderCancel
from ibapi.softdollartier import SoftDollarTier as OfficialSoftDollarTier
from ibapi.tag_value import TagValue as OfficialTagValue

from aiotws.model import ComboLeg, Contract, DeltaNeutralContract, TagValue
from aiotws.model.order import (
    ExecutionCondition,
    LimitIfTouchedOrder,
    LimitOnCloseOrder,
    LimitOrder,
    MarginCondition,
    MarketIfTouchedOrder,
    MarketOnCloseOrder,
    MarketOrder,
    Order,
    OrderAllocation,
    OrderCancel,
    OrderComboLeg,
    OrderCondition,
    OrderState,
    PegBenchOrder,
    PegMidOrder,
    PegMktOrder,
    PercentChangeCondition,
    PriceCondition,
    RelativeOrder,
    SoftDollarTier,
    StopLimitOrder,
    StopOrder,
    TimeCondition,
    TrailingStopLimitOrder,
    TrailingStopOrder,
    VolumeCondition,
    bracket,
    oca,
)
from aiotws.wire import messages as m
from aiotws.wire.messages import orders as mo

from .rows_contracts import CONTRACT_KEYS, ints
from .support import Call

__all__ = [
    "INCOMING_ROWS",
    "ORDER_SAMPLES",
    "OUTGOING_ROWS",
    "official_contract",
    "official_order",
    "order_view",
]

Args = dict[str, Any]
_ROWS: dict[str, tuple[Any, ...]] = {}

# -- our model -> official objects --------------------------------------------------------------

_RENAMES: Final = {"rule_80a": "rule80A"}
_STATE_RENAMES: Final = {
    "commission": "commissionAndFees",
    "min_commission": "minCommissionAndFees",
    "max_commission": "maxCommissionAndFees",
    "commission_currency": "commissionAndFeesCurrency",
    "init_margin_before_outside_rth": "initMarginBeforeOutsideRTH",
    "maint_margin_before_outside_rth": "maintMarginBeforeOutsideRTH",
    "equity_with_loan_before_outside_rth": "equityWithLoanBeforeOutsideRTH",
    "init_margin_change_outside_rth": "initMarginChangeOutsideRTH",
    "maint_margin_change_outside_rth": "maintMarginChangeOutsideRTH",
    "equity_with_loan_change_outside_rth": "equityWithLoanChangeOutsideRTH",
    "init_margin_after_outside_rth": "initMarginAfterOutsideRTH",
    "maint_margin_after_outside_rth": "maintMarginAfterOutsideRTH",
    "equity_with_loan_after_outside_rth": "equityWithLoanAfterOutsideRTH",
}


def camel(name: str, renames: dict[str, str] = _RENAMES) -> str:
    if name in renames:
        return renames[name]
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _tag_values(tvs: list[TagValue]) -> list[OfficialTagValue] | None:
    return [OfficialTagValue(tv.tag, tv.value) for tv in tvs] or None


def official_condition(c: OrderCondition) -> oc.OrderCondition:
    cond: oc.OrderCondition
    if isinstance(c, PriceCondition):
        cond = oc.PriceCondition(c.trigger_method, c.con_id, c.exchange, c.is_more, c.price)
    elif isinstance(c, TimeCondition):
        cond = oc.TimeCondition(c.is_more, c.time)
    elif isinstance(c, MarginCondition):
        cond = oc.MarginCondition(c.is_more, c.percent)
    elif isinstance(c, ExecutionCondition):
        cond = oc.ExecutionCondition(c.sec_type, c.exchange, c.symbol)
    elif isinstance(c, VolumeCondition):
        cond = oc.VolumeCondition(c.con_id, c.exchange, c.is_more, c.volume)
    else:
        assert isinstance(c, PercentChangeCondition)
        cond = oc.PercentChangeCondition(c.con_id, c.exchange, c.is_more, c.change_percent)
    cond.isConjunctionConnection = c.conjunction == "and"
    return cond


def official_order(o: Order) -> OfficialOrder:
    off = OfficialOrder()
    for f in dataclasses.fields(Order):
        value = getattr(o, f.name)
        name = camel(f.name)
        assert hasattr(off, name), name
        if f.name in ("algo_params", "smart_combo_routing_params", "order_misc_options"):
            value = _tag_values(value)
        elif f.name == "order_combo_legs":
            legs = []
            for leg in value:
                ol = OfficialOrderComboLeg()
                ol.price = UNSET_DOUBLE if leg.price is None else leg.price
                legs.append(ol)
            value = legs or None
        elif f.name == "conditions":
            value = [official_condition(c) for c in value]
        elif f.name == "soft_dollar_tier":
            value = OfficialSoftDollarTier(value.name, value.value, value.display_name)
        elif value is None:
            value = getattr(off, name)  # the official default is TWS's unset sentinel
        setattr(off, name, value)
    return off


def official_contract(c: Contract) -> OfficialContract:
    off = OfficialContract()
    for ours, theirs in CONTRACT_KEYS:
        value = getattr(c, ours)
        if ours == "strike" and value is None:
            value = UNSET_DOUBLE
        setattr(off, theirs, value)
    legs = []
    for leg in c.combo_legs:
        ol = OfficialComboLeg()
        ol.conId, ol.ratio, ol.action, ol.exchange = leg.con_id, leg.ratio, leg.action, leg.exchange
        ol.openClose, ol.shortSaleSlot = leg.open_close, leg.short_sale_slot
        ol.designatedLocation, ol.exemptCode = leg.designated_location, leg.exempt_code
        legs.append(ol)
    off.comboLegs = legs or None
    if c.delta_neutral_contract is not None:
        dn = OfficialDeltaNeutral()
        dn.conId = c.delta_neutral_contract.con_id
        dn.delta = c.delta_neutral_contract.delta
        dn.price = c.delta_neutral_contract.price
        off.deltaNeutralContract = dn
    off.comboLegsDescrip = c.combo_legs_descrip
    return off


# -- official objects -> comparable views ------------------------------------------------------


def _unset(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, float) and v == UNSET_DOUBLE:
        return None
    if isinstance(v, int) and v in (UNSET_INTEGER, UNSET_LONG):
        return None
    if isinstance(v, Decimal) and v == UNSET_DECIMAL:
        return None
    return v


def _num(v: Any) -> Any:
    """A what-if margin: text on the official side, a float (or ``None``) on ours."""
    if v is None or v == "":
        return None
    f = float(v)
    return None if f == UNSET_DOUBLE else f


def condition_view(c: Any) -> tuple[Any, ...]:
    if isinstance(c, OrderCondition):
        d = dataclasses.asdict(c)
        return (type(c).TYPE, tuple(sorted(d.items())))
    conj = "and" if c.isConjunctionConnection else "or"
    t = c.type()
    if t == 1:
        d = {
            "price": c.price,
            "con_id": c.conId,
            "exchange": c.exchange,
            "is_more": c.isMore,
            "trigger_method": c.triggerMethod,
        }
    elif t == 3:
        d = {"time": c.time, "is_more": c.isMore}
    elif t == 4:
        d = {"percent": c.percent, "is_more": c.isMore}
    elif t == 5:
        d = {"sec_type": c.secType, "exchange": c.exchange, "symbol": c.symbol}
    elif t == 6:
        d = {"volume": c.volume, "con_id": c.conId, "exchange": c.exchange, "is_more": c.isMore}
    else:
        d = {
            "change_percent": c.changePercent,
            "con_id": c.conId,
            "exchange": c.exchange,
            "is_more": c.isMore,
        }
    d["conjunction"] = conj
    return (t, tuple(sorted(d.items())))


def _ours_field(name: str, v: Any) -> Any:
    if name in ("algo_params", "smart_combo_routing_params", "order_misc_options"):
        return tuple((tv.tag, tv.value) for tv in v)
    if name == "order_combo_legs":
        return tuple(leg.price for leg in v)
    if name == "conditions":
        return tuple(condition_view(c) for c in v)
    if name == "soft_dollar_tier":
        return (v.name, v.value, v.display_name)
    return _unset(v)


def _theirs_field(name: str, v: Any) -> Any:
    if name in ("algo_params", "smart_combo_routing_params", "order_misc_options"):
        return tuple((tv.tag, tv.value) for tv in v or ())
    if name == "order_combo_legs":
        return tuple(_unset(leg.price) for leg in v or ())
    if name == "conditions":
        return tuple(condition_view(c) for c in v or ())
    if name == "soft_dollar_tier":
        return (v.name, v.val, v.displayName)
    return _unset(v)


def order_view(o: Any, names: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(o, Order):
        return {n: _ours_field(n, getattr(o, n)) for n in names}
    return {n: _theirs_field(n, getattr(o, camel(n))) for n in names}


def contract_view(c: Any) -> dict[str, Any]:
    keys = [k for k in CONTRACT_KEYS if k[0] != "primary_exchange"][:11]
    if isinstance(c, Contract):
        d = {k: getattr(c, k) for k, _ in keys}
        d["strike"] = d["strike"] or 0.0
        legs = [dataclasses.astuple(leg) for leg in c.combo_legs]
        dn = c.delta_neutral_contract
        d["legs"] = legs
        d["dn"] = None if dn is None else dataclasses.astuple(dn)
        d["descrip"] = c.combo_legs_descrip
        return d
    d = {k: getattr(c, t) for k, t in keys}
    d["strike"] = _unset(d["strike"]) or 0.0
    d["legs"] = [
        (
            leg.conId,
            leg.ratio,
            leg.action,
            leg.exchange,
            leg.openClose,
            leg.shortSaleSlot,
            leg.designatedLocation,
            leg.exemptCode,
        )
        for leg in c.comboLegs or ()
    ]
    dn = c.deltaNeutralContract
    d["dn"] = None if dn is None else (dn.conId, dn.delta, dn.price)
    d["descrip"] = c.comboLegsDescrip
    return d


_STATE_NAMES: Final = tuple(f.name for f in dataclasses.fields(OrderState))
_MARGINS: Final = frozenset(
    f"{k}_{w}"
    for k in ("init_margin", "maint_margin", "equity_with_loan")
    for w in ("before", "change", "after")
)


def state_view(s: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in _STATE_NAMES:
        if isinstance(s, OrderState):
            v = getattr(s, n)
            v = [dataclasses.astuple(a) for a in v] if n == "order_allocations" else _unset(v)
        else:
            v = getattr(s, camel(n, _STATE_RENAMES))
            if n in _MARGINS:
                v = _num(v)
            elif n == "order_allocations":
                v = [
                    (
                        a.account,
                        _unset(a.position),
                        _unset(a.positionDesired),
                        _unset(a.positionAfter),
                        _unset(a.desiredAllocQty),
                        _unset(a.allowedAllocQty),
                        a.isMonetary,
                    )
                    for a in v or ()
                ]
            else:
                v = _unset(v)
        out[n] = v
    return out


# -- the catalogue ------------------------------------------------------------------------------

AAPL: Final = Contract(
    sec_type="STK", symbol="AAPL", exchange="SMART", currency="USD", primary_exchange="NASDAQ"
)
AAPL_OPT: Final = Contract(
    sec_type="OPT",
    symbol="AAPL",
    last_trade_date_or_contract_month="20261218",
    strike=200.0,
    right="C",
    multiplier="100",
    exchange="SMART",
    currency="USD",
    trading_class="AAPL",
)
ES: Final = Contract(sec_type="FUT", con_id=495512563, exchange="CME", currency="USD")
SPREAD: Final = Contract(
    sec_type="BAG",
    symbol="SPY",
    exchange="SMART",
    currency="USD",
    combo_legs=[ComboLeg(111, 1, "BUY", "SMART"), ComboLeg(222, 1, "SELL", "SMART", 0, 0, "", -1)],
)
ATS: Final = Contract(sec_type="STK", symbol="IBM", exchange="IBKRATS", currency="USD")


def _o(order: Order, **changes: Any) -> Order:
    for k, v in changes.items():
        setattr(order, k, v)
    return order


def _catalogue() -> list[tuple[str, Contract, Order]]:
    parent, take_profit, stop_loss = bracket("BUY", 100, 150.0, 160.0, 140.0, parent_id=41)
    a, b = oca([LimitOrder("BUY", 1, 10.0), StopOrder("SELL", 1, 9.0)], "grp1", 2)
    conds = [
        PriceCondition(150.25, 265598, "SMART", True, 2),
        TimeCondition("20261218 09:30:00 US/Eastern", False, conjunction="or"),
        MarginCondition(30.0, True),
        ExecutionCondition("STK", "SMART", "AAPL"),
        VolumeCondition(100000, 265598, "SMART", True),
        PercentChangeCondition(2.5, 265598, "SMART", False, conjunction="or"),
    ]
    return [
        ("mkt", AAPL, MarketOrder("BUY", 100)),
        ("lmt", AAPL, LimitOrder("BUY", 100, 150.5)),
        ("lmt-gtc-rth", AAPL, LimitOrder("SELL", "12.5", 0.01, tif="GTC", outside_rth=True)),
        ("stp", AAPL, StopOrder("SELL", 100, 140.0)),
        ("stp-lmt", AAPL, StopLimitOrder("SELL", 100, 139.5, 140.0)),
        ("trail-amt", AAPL, TrailingStopOrder("SELL", 100, trail_amount=1.5)),
        (
            "trail-pct",
            AAPL,
            TrailingStopOrder("SELL", 100, trail_percent=2.0, trail_stop_price=145.0),
        ),
        (
            "trail-lmt",
            AAPL,
            TrailingStopLimitOrder("SELL", 100, limit_price_offset=0.1, trail_amount=1.0),
        ),
        ("moc", AAPL, MarketOnCloseOrder("BUY", 10)),
        ("loc", AAPL, LimitOnCloseOrder("BUY", 10, 151.0)),
        ("mit", AAPL, MarketIfTouchedOrder("BUY", 10, 149.0)),
        ("lit", AAPL, LimitIfTouchedOrder("BUY", 10, 149.5, 149.0)),
        ("rel", AAPL, RelativeOrder("BUY", 10, 0.01, price_cap=151.0)),
        ("peg-mkt", AAPL, PegMktOrder("BUY", 10, 0.05)),
        (
            "peg-mid",
            ATS,
            PegMidOrder(
                "BUY",
                10,
                150.0,
                mid_offset_at_whole=0.01,
                mid_offset_at_half=0.005,
                min_trade_qty=5,
            ),
        ),
        (
            "peg-best",
            ATS,
            _o(
                LimitOrder("BUY", 10, 150.0),
                order_type="PEG BEST",
                min_compete_size=100,
                compete_against_best_offset=0.02,
            ),
        ),
        (
            "peg-best-up-to-mid",
            AAPL,
            _o(
                LimitOrder("BUY", 10, 150.0),
                order_type="PEG BEST",
                min_compete_size=100,
                compete_against_best_offset=math.inf,
                mid_offset_at_whole=0.01,
                mid_offset_at_half=0.0,
            ),
        ),
        (
            "peg-bench",
            AAPL_OPT,
            PegBenchOrder(
                "BUY", 1, 5.0, 756733, "ARCA", 0.05, 0.1, is_pegged_change_amount_decrease=True
            ),
        ),
        ("bracket-parent", AAPL, parent),
        ("bracket-tp", AAPL, take_profit),
        ("bracket-sl", AAPL, stop_loss),
        ("oca-a", AAPL, a),
        ("oca-b", AAPL, b),
        (
            "algo-vwap",
            AAPL,
            LimitOrder(
                "BUY",
                1000,
                150.0,
                algo_strategy="Vwap",
                algo_params=[
                    TagValue("maxPctVol", "0.2"),
                    TagValue("startTime", "09:30:00 US/Eastern"),
                    TagValue("noTakeLiq", "1"),
                ],
            ),
        ),
        ("algo-empty-params", AAPL, MarketOrder("BUY", 1, algo_strategy="Adaptive")),
        ("algo-params-no-strategy", AAPL, MarketOrder("BUY", 1)),
        (
            "conditions",
            AAPL,
            LimitOrder(
                "BUY",
                100,
                150.0,
                conditions=conds,
                conditions_ignore_rth=True,
                conditions_cancel_order=True,
            ),
        ),
        *(
            (f"condition-{type(c).__name__}", AAPL, LimitOrder("BUY", 1, 1.0, conditions=[c]))
            for c in conds
        ),
        (
            "fa",
            AAPL,
            MarketOrder(
                "BUY",
                100,
                fa_group="GroupA",
                fa_method="PctChange",
                fa_percentage="10",
                model_code="M1",
            ),
        ),
        ("account", AAPL, MarketOrder("BUY", 1, account="DU1234567", order_ref="ref-7")),
        (
            "soft-dollar",
            AAPL,
            MarketOrder("BUY", 1, soft_dollar_tier=SoftDollarTier("tier1", "val1")),
        ),
        (
            "cash-qty",
            Contract(sec_type="CASH", symbol="EUR", currency="USD", exchange="IDEALPRO"),
            _o(MarketOrder("BUY", 1), total_quantity=Decimal(0), cash_qty=25000.0),
        ),
        (
            "combo-prices",
            SPREAD,
            _o(
                LimitOrder("BUY", 1, 1.25),
                order_combo_legs=[OrderComboLeg(1.5), OrderComboLeg(None)],
                smart_combo_routing_params=[TagValue("NonGuaranteed", "1")],
            ),
        ),
        ("combo-no-prices", SPREAD, LimitOrder("BUY", 1, -0.5)),
        (
            "delta-neutral",
            AAPL_OPT,
            _o(
                LimitOrder("BUY", 1, 5.0),
                order_type="VOL",
                lmt_price=None,
                volatility=0.3,
                volatility_type=2,
                delta_neutral_order_type="LMT",
                delta_neutral_aux_price=150.0,
                delta_neutral_con_id=265598,
                delta_neutral_settling_firm="F",
                delta_neutral_clearing_account="CA",
                delta_neutral_clearing_intent="IB",
                delta_neutral_open_close="O",
                delta_neutral_short_sale=True,
                delta_neutral_short_sale_slot=1,
                delta_neutral_designated_location="X",
                continuous_update=True,
                reference_price_type=1,
            ),
        ),
        (
            "dn-contract",
            dataclasses.replace(
                AAPL_OPT, delta_neutral_contract=DeltaNeutralContract(265598, 0.5, 150.25)
            ),
            LimitOrder("BUY", 1, 5.0),
        ),
        (
            "scale",
            AAPL,
            LimitOrder(
                "BUY",
                1000,
                150.0,
                scale_init_level_size=100,
                scale_subs_level_size=50,
                scale_price_increment=0.1,
                scale_price_adjust_value=0.05,
                scale_price_adjust_interval=60,
                scale_profit_offset=0.5,
                scale_auto_reset=True,
                scale_init_position=10,
                scale_init_fill_qty=5,
                scale_random_percent=True,
                scale_table="1/2/3",
                active_start_time="20260101 09:30:00 US/Eastern",
                active_stop_time="20260101 16:00:00 US/Eastern",
            ),
        ),
        ("scale-no-increment", AAPL, LimitOrder("BUY", 100, 150.0, scale_init_level_size=100)),
        ("hedge", AAPL, LimitOrder("BUY", 100, 150.0, hedge_type="B", hedge_param="beta=1.2")),
        (
            "adjusted-stop",
            AAPL,
            StopOrder(
                "SELL",
                100,
                140.0,
                adjusted_order_type="STP LMT",
                trigger_price=145.0,
                adjusted_stop_price=143.0,
                adjusted_stop_limit_price=142.5,
                adjusted_trailing_amount=1.0,
                adjustable_trailing_unit=1,
                lmt_price_offset=0.2,
            ),
        ),
        ("manual-time", AAPL, LimitOrder("BUY", 1, 1.0, manual_order_time="20260101-09:30:00")),
        ("what-if", AAPL, LimitOrder("BUY", 100, 150.0, what_if=True)),
        (
            "misc",
            AAPL,
            LimitOrder(
                "BUY",
                100,
                150.0,
                good_after_time="20260101 09:30:00",
                good_till_date="20260201",
                all_or_none=True,
                min_qty=10,
                percent_offset=0.5,
                display_size=10,
                hidden=True,
                block_order=True,
                sweep_to_fill=True,
                trigger_method=2,
                rule_80a="A",
                open_close="O",
                origin=1,
                short_sale_slot=2,
                designated_location="DL",
                exempt_code=3,
                discretionary_amt=0.05,
                opt_out_smart_routing=True,
                auction_strategy=1,
                starting_price=1.0,
                stock_ref_price=2.0,
                delta=0.5,
                stock_range_lower=1.0,
                stock_range_upper=3.0,
                override_percentage_constraints=True,
                settling_firm="SF",
                clearing_account="CA",
                clearing_intent="Away",
                not_held=True,
                algo_id="A1",
                solicited=True,
                randomize_size=True,
                randomize_price=True,
                order_misc_options=[TagValue("k", "v"), TagValue("k2", "")],
                ext_operator="op",
                mifid2_decision_maker="dm",
                mifid2_decision_algo="da",
                mifid2_execution_trader="et",
                mifid2_execution_algo="ea",
                dont_use_auto_price_for_hedge=True,
                is_oms_container=True,
                discretionary_up_to_limit_price=True,
                use_price_mgmt_algo=True,
            ),
        ),
        ("price-mgmt-off", AAPL, LimitOrder("BUY", 1, 1.0, use_price_mgmt_algo=False)),
        ("duration", AAPL, LimitOrder("BUY", 1, 1.0, tif="DTC", duration=60)),
        ("post-to-ats", AAPL, LimitOrder("BUY", 1, 1.0, post_to_ats=1)),
        ("auto-cancel-parent", AAPL, LimitOrder("BUY", 1, 1.0, auto_cancel_parent=True)),
        (
            "advanced-error-override",
            AAPL,
            LimitOrder("BUY", 1, 1.0, advanced_error_override="8229"),
        ),
        ("customer-account", AAPL, LimitOrder("BUY", 1, 1.0, customer_account="C1")),
        ("professional", AAPL, LimitOrder("BUY", 1, 1.0, professional_customer=True)),
        ("overnight", AAPL, LimitOrder("BUY", 1, 1.0, include_overnight=True)),
        (
            "manual-indicator",
            ES,
            LimitOrder("BUY", 1, 5000.25, manual_order_indicator=1, ext_operator="me"),
        ),
        ("imbalance-only", AAPL, _o(MarketOnCloseOrder("BUY", 1), imbalance_only=True)),
        ("fractional", AAPL, MarketOrder("BUY", "0.001")),
        (
            "sec-id",
            Contract(
                sec_type="STK",
                sec_id_type="ISIN",
                sec_id="US0378331005",
                exchange="SMART",
                currency="USD",
            ),
            MarketOrder("BUY", 1),
        ),
        ("non-ascii-refused", AAPL, MarketOrder("BUY", 1, order_ref="caf\u00e9")),
    ]


#: (name, contract, order) of every sample order
ORDER_SAMPLES: Final = _catalogue()


def _place_build(a: Args) -> m.OutMessage:  # type: ignore[name-defined]
    return mo.PlaceOrder.from_order(a["order_id"], a["contract"], a["order"])


def _place_call(client: Any, a: Args) -> None:
    client.placeOrder(a["order_id"], official_contract(a["contract"]), official_order(a["order"]))


_SAFE = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="=;"), max_size=8
)


@st.composite
def _place_args(draw: st.DrawFn) -> Args:
    _name, contract, order = draw(st.sampled_from(ORDER_SAMPLES))
    order = dataclasses.replace(order)
    order.lmt_price = draw(st.none() | st.floats(-1e6, 1e6, allow_nan=False))
    order.total_quantity = draw(st.decimals(0, 10**6, places=3))
    order.order_ref = draw(_SAFE)
    order.transmit = draw(st.booleans())
    order.parent_id = draw(ints)
    return {"order_id": draw(ints), "contract": contract, "order": order}


def _cancel_call(client: Any, a: Args) -> None:
    c = OfficialOrderCancel()
    c.manualOrderCancelTime = a["time"]
    c.extOperator = a["ext"]
    c.manualOrderIndicator = UNSET_INTEGER if a["indicator"] is None else a["indicator"]
    client.cancelOrder(a["order_id"], c)


def _global_cancel_call(client: Any, a: Args) -> None:
    c = OfficialOrderCancel()
    c.extOperator = a["ext"]
    c.manualOrderIndicator = UNSET_INTEGER if a["indicator"] is None else a["indicator"]
    client.reqGlobalCancel(c)


_CANCELS: Final = (
    {"order_id": 7, "time": "", "ext": "", "indicator": None},
    {"order_id": 7, "time": "20260101-09:30:00", "ext": "", "indicator": None},
    {"order_id": 8, "time": "", "ext": "op", "indicator": None},
    {"order_id": 9, "time": "", "ext": "", "indicator": 1},
    {"order_id": 9, "time": "20260101-09:30:00", "ext": "op", "indicator": 0},
    {"order_id": 9, "time": "caf\u00e9", "ext": "", "indicator": None},
)


def _exercise_call(client: Any, a: Args) -> None:
    client.exerciseOptions(
        a["req_id"],
        official_contract(a["contract"]),
        a["action"],
        a["quantity"],
        a["account"],
        a["override"],
        a["time"],
        a["customer"],
        a["professional"],
    )


def _exercise_build(a: Args) -> Any:
    return m_orders().ExerciseOptions(
        a["req_id"],
        dataclasses.replace(a["contract"], primary_exchange=""),
        a["action"],
        a["quantity"],
        a["account"],
        a["override"],
        a["time"],
        a["customer"],
        a["professional"],
    )


def m_orders() -> Any:
    return mo


_EXERCISES: Final = tuple(
    {
        "req_id": 3,
        "contract": dataclasses.replace(AAPL_OPT, con_id=c),
        "action": act,
        "quantity": 1,
        "account": "DU1",
        "override": ov,
        "time": t,
        "customer": cu,
        "professional": pr,
    }
    for c, act, ov, t, cu, pr in (
        (0, 1, 0, "", "", False),
        (123, 2, 1, "", "", False),
        (0, 1, 0, "20260101-16:00:00", "", False),
        (0, 1, 0, "", "C1", False),
        (0, 1, 0, "", "", True),
    )
)


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                mo.PlaceOrder,
                "placeOrder",
                build=_place_build,
                call=_place_call,
                samples=tuple(
                    {"order_id": i + 1, "contract": c, "order": o}
                    for i, (_, c, o) in enumerate(ORDER_SAMPLES)
                ),
                args=_place_args(),
            ),
            out.Row(
                mo.CancelOrder,
                "cancelOrder",
                build=lambda a: mo.CancelOrder.from_cancel(
                    a["order_id"], OrderCancel(a["time"], a["ext"], a["indicator"])
                ),
                call=_cancel_call,
                samples=_CANCELS,
            ),
            out.Row(
                mo.ReqGlobalCancel,
                "reqGlobalCancel",
                build=lambda a: mo.ReqGlobalCancel.from_cancel(
                    OrderCancel("", a["ext"], a["indicator"])
                ),
                call=_global_cancel_call,
                samples=tuple(a for a in _CANCELS if not a["time"]),
            ),
            out.Row(
                mo.ReqOpenOrders,
                "reqOpenOrders",
                build=lambda a: mo.ReqOpenOrders(),
                call=lambda client, a: client.reqOpenOrders(),
            ),
            out.Row(
                mo.ReqAllOpenOrders,
                "reqAllOpenOrders",
                build=lambda a: mo.ReqAllOpenOrders(),
                call=lambda client, a: client.reqAllOpenOrders(),
            ),
            out.Row(
                mo.ReqAutoOpenOrders,
                "reqAutoOpenOrders",
                build=lambda a: mo.ReqAutoOpenOrders(a["b"]),
                call=lambda client, a: client.reqAutoOpenOrders(a["b"]),
                samples=({"b": True}, {"b": False}),
                args=st.fixed_dictionaries({"b": st.booleans()}),
            ),
            out.Row(
                mo.ReqCompletedOrders,
                "reqCompletedOrders",
                build=lambda a: mo.ReqCompletedOrders(a["b"]),
                call=lambda client, a: client.reqCompletedOrders(a["b"]),
                samples=({"b": True}, {"b": False}),
                args=st.fixed_dictionaries({"b": st.booleans()}),
            ),
            out.Row(
                mo.ExerciseOptions,
                "exerciseOptions",
                build=_exercise_build,
                call=_exercise_call,
                samples=_EXERCISES,
            ),
        ),
    )


# -- incoming -----------------------------------------------------------------------------------

_STATES: Final = (
    OrderState(status="Submitted"),
    OrderState(
        status="PreSubmitted",
        init_margin_before=1000.5,
        maint_margin_before=900.0,
        equity_with_loan_before=50000.0,
        init_margin_change=150.25,
        maint_margin_change=120.0,
        equity_with_loan_change=-1.5,
        init_margin_after=1150.75,
        maint_margin_after=1020.0,
        equity_with_loan_after=49998.5,
        commission=1.0,
        min_commission=0.35,
        max_commission=2.5,
        commission_currency="USD",
        margin_currency="USD",
        init_margin_before_outside_rth=1.0,
        maint_margin_before_outside_rth=2.0,
        equity_with_loan_before_outside_rth=3.0,
        init_margin_change_outside_rth=4.0,
        maint_margin_change_outside_rth=5.0,
        equity_with_loan_change_outside_rth=6.0,
        init_margin_after_outside_rth=7.0,
        maint_margin_after_outside_rth=8.0,
        equity_with_loan_after_outside_rth=9.0,
        suggested_size=Decimal("12.5"),
        reject_reason="none",
        order_allocations=[
            OrderAllocation("DU1", Decimal(1), Decimal(2), Decimal(3), Decimal(4), None, True)
        ],
        warning_text="careful",
    ),
)


def _open_samples(version: int) -> list[Any]:
    out = []
    for i, (_, contract, order) in enumerate(ORDER_SAMPLES):
        if _bad_text(order):
            continue
        o = dataclasses.replace(order, order_id=i + 1, client_id=3, perm_id=10**9 + i)
        state = _STATES[i % len(_STATES)]
        out.append(mo.OpenOrder.from_order(contract, o, state, version))
    return out


def _completed_samples(version: int) -> list[Any]:
    out = []
    for i, (_, contract, order) in enumerate(ORDER_SAMPLES):
        if _bad_text(order):
            continue
        o = dataclasses.replace(
            order,
            perm_id=10**9 + i,
            auto_cancel_date="20260101",
            filled_quantity=Decimal("5"),
            ref_futures_con_id=7,
            shareholder="sh",
            route_marketable_to_bbo=True,
            parent_perm_id=99,
        )
        state = OrderState(
            status="Filled", completed_time="20260101 10:00:00", completed_status="Filled Size: 5"
        )
        out.append(mo.CompletedOrder.from_order(contract, o, state, version))
    return out


def _bad_text(order: Order) -> bool:
    return bool(re.search(r"[^\x20-\x7e]", order.order_ref))


def _open_names() -> tuple[str, ...]:
    return mo._order_names(mo.OpenOrder)


def _completed_names() -> tuple[str, ...]:
    return mo._order_names(mo.CompletedOrder)


def _open_ours(msg: Any) -> Any:
    return (
        msg.order_id,
        contract_view(msg.to_contract()),
        order_view(msg.to_order(), _open_names()),
        state_view(msg.to_order_state()),
    )


def _open_theirs(c: Call) -> Any:
    return (
        c["orderId"],
        contract_view(c["contract"]),
        order_view(c["order"], _open_names()),
        state_view(c["orderState"]),
    )


def _completed_ours(msg: Any) -> Any:
    state = msg.to_order_state()
    return (
        contract_view(msg.to_contract()),
        order_view(msg.to_order(), _completed_names()),
        (state.status, state.completed_time, state.completed_status),
    )


def _completed_theirs(c: Call) -> Any:
    s = c["orderState"]
    return (
        contract_view(c["contract"]),
        order_view(c["order"], _completed_names()),
        (s.status, s.completedTime, s.completedStatus),
    )


_STATUS_KEYS: Final = (
    ("order_id", "orderId"),
    ("status", "status"),
    ("filled", "filled"),
    ("remaining", "remaining"),
    ("avg_fill_price", "avgFillPrice"),
    ("perm_id", "permId"),
    ("parent_id", "parentId"),
    ("last_fill_price", "lastFillPrice"),
    ("client_id", "clientId"),
    ("why_held", "whyHeld"),
    ("mkt_cap_price", "mktCapPrice"),
)

_printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
_dec = st.none() | st.decimals(0, 10**9, places=4)
_fin = st.floats(allow_nan=False, allow_infinity=False)


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                mo.OpenOrder,
                "openOrder",
                ours=_open_ours,
                theirs=_open_theirs,
                messages=lambda v: st.sampled_from(_open_samples(v)),
                samples=_open_samples,
            ),
            inc.Row(
                mo.OpenOrderEnd,
                "openOrderEnd",
                ours=lambda msg: (),
                theirs=lambda c: (),
                messages=lambda v: st.just(mo.OpenOrderEnd()),
                samples=lambda v: [mo.OpenOrderEnd()],
                raw=((176, b"53\x001\x00"),),
            ),
            inc.Row(
                mo.CompletedOrder,
                "completedOrder",
                ours=_completed_ours,
                theirs=_completed_theirs,
                messages=lambda v: st.sampled_from(_completed_samples(v)),
                samples=_completed_samples,
            ),
            inc.Row(
                mo.CompletedOrdersEnd,
                "completedOrdersEnd",
                ours=lambda msg: (),
                theirs=lambda c: (),
                messages=lambda v: st.just(mo.CompletedOrdersEnd()),
                samples=lambda v: [mo.CompletedOrdersEnd()],
                raw=((176, b"102\x00"),),
            ),
            inc.Row(
                mo.OrderStatusMsg,
                "orderStatus",
                ours=lambda msg: tuple(getattr(msg, k) for k, _ in _STATUS_KEYS),
                theirs=lambda c: tuple(
                    _unset(c[t]) if isinstance(c[t], Decimal) else c[t] for _, t in _STATUS_KEYS
                ),
                messages=lambda v: st.builds(
                    mo.OrderStatusMsg,
                    st.integers(-(2**31), 2**31 - 2),
                    st.sampled_from(["Submitted", "Filled", "Cancelled"]) | _printable,
                    _dec,
                    _dec,
                    _fin,
                    st.integers(0, 2**62),
                    st.integers(0, 2**31 - 2),
                    _fin,
                    st.integers(0, 2**31 - 2),
                    _printable,
                    _fin,
                ),
                samples=lambda v: [
                    mo.OrderStatusMsg(
                        7, "Submitted", Decimal(0), Decimal(100), 0.0, 123456789, 0, 0.0, 1, "", 0.0
                    ),
                    mo.OrderStatusMsg(
                        7, "Filled", Decimal("100"), Decimal(0), 150.25, 2**40, 6, 150.5, 1, "", 0.0
                    ),
                    mo.OrderStatusMsg(
                        8,
                        "PreSubmitted",
                        Decimal("0.5"),
                        Decimal("1.5"),
                        0.0,
                        1,
                        0,
                        0.0,
                        0,
                        "locate",
                        151.0,
                    ),
                ],
                raw=(
                    (
                        176,
                        b"3\x007\x00Filled\x00100\x000\x00150.25\x00123\x000\x00150.25\x001"
                        b"\x00\x000.0\x00",
                    ),
                ),
            ),
            inc.Row(
                mo.OrderBound,
                "orderBound",
                ours=lambda msg: (msg.perm_id, msg.client_id, msg.order_id),
                theirs=lambda c: (c["permId"], c["clientId"], c["orderId"]),
                messages=lambda v: st.builds(
                    mo.OrderBound,
                    st.integers(0, 2**62),
                    st.integers(-1, 2**31),
                    st.integers(-1, 2**31),
                ),
                samples=lambda v: [mo.OrderBound(123456789, 0, 5), mo.OrderBound(2**40, -1, 0)],
            ),
        ),
    )


def __getattr__(name: str) -> Any:
    """``OUTGOING_ROWS`` / ``INCOMING_ROWS`` asked for while this module is still importing."""
    if name == "OUTGOING_ROWS":
        return _outgoing_rows()
    if name == "INCOMING_ROWS":
        return _incoming_rows()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


OUTGOING_ROWS: tuple[Any, ...] = _outgoing_rows()
INCOMING_ROWS: tuple[Any, ...] = _incoming_rows()
