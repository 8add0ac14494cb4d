"""The order model: helpers, bracket, OCA, validation (no I/O)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from aiotws.model.order import (
    LimitIfTouchedOrder,
    LimitOnCloseOrder,
    LimitOrder,
    MarketIfTouchedOrder,
    MarketOnCloseOrder,
    MarketOrder,
    OcaType,
    Order,
    OrderStatus,
    PegBenchOrder,
    PegMidOrder,
    PegMktOrder,
    PriceCondition,
    RelativeOrder,
    StopLimitOrder,
    StopOrder,
    TrailingStopLimitOrder,
    TrailingStopOrder,
    bracket,
    oca,
)


def test_unset_values_are_none() -> None:
    o = Order()
    assert o.lmt_price is None and o.aux_price is None and o.total_quantity is None
    assert o.cash_qty is None and o.trigger_price is None and o.duration is None
    assert o.transmit is True and o.exempt_code == -1


@pytest.mark.parametrize(
    ("order", "order_type", "lmt", "aux"),
    [
        (MarketOrder("BUY", 100), "MKT", None, None),
        (LimitOrder("sell", 5, 10.5), "LMT", 10.5, None),
        (StopOrder("SELL", 5, 9.0), "STP", None, 9.0),
        (StopLimitOrder("SELL", 5, 8.9, 9.0), "STP LMT", 8.9, 9.0),
        (MarketOnCloseOrder("BUY", 1), "MOC", None, None),
        (LimitOnCloseOrder("BUY", 1, 10.0), "LOC", 10.0, None),
        (MarketIfTouchedOrder("BUY", 1, 9.5), "MIT", None, 9.5),
        (LimitIfTouchedOrder("BUY", 1, 9.6, 9.5), "LIT", 9.6, 9.5),
        (RelativeOrder("BUY", 1, 0.01, price_cap=10.0), "REL", 10.0, 0.01),
        (PegMktOrder("BUY", 1, 0.02), "PEG MKT", None, 0.02),
        (PegMidOrder("BUY", 1, 10.0), "PEG MID", 10.0, 0.0),
        (TrailingStopOrder("SELL", 1, trail_amount=0.5), "TRAIL", None, 0.5),
    ],
)
def test_helpers(order: Order, order_type: str, lmt: float | None, aux: float | None) -> None:
    assert order.order_type == order_type
    assert (order.lmt_price, order.aux_price) == (lmt, aux)
    assert isinstance(order.total_quantity, Decimal)
    assert order.action in ("BUY", "SELL")


def test_trailing_variants() -> None:
    t = TrailingStopOrder("SELL", 1, trail_percent=2.0, trail_stop_price=99.0)
    assert t.trailing_percent == 2.0 and t.aux_price is None and t.trail_stop_price == 99.0
    tl = TrailingStopLimitOrder("SELL", 1, limit_price_offset=0.1, trail_amount=1.0)
    assert tl.order_type == "TRAIL LIMIT" and tl.lmt_price_offset == 0.1
    with pytest.raises(ValueError, match="trail amount"):
        TrailingStopOrder("SELL", 1)
    with pytest.raises(ValueError, match="not both"):
        TrailingStopOrder("SELL", 1, trail_amount=1.0, trail_percent=1.0)


def test_peg_bench() -> None:
    o = PegBenchOrder("BUY", 1, 5.0, 756733, "ARCA", 0.05, 0.1)
    assert o.order_type == "PEG BENCH" and o.reference_contract_id == 756733
    assert o.reference_exchange_id == "ARCA" and o.starting_price == 5.0


def test_quantity_forms() -> None:
    assert MarketOrder("BUY", "0.001").total_quantity == Decimal("0.001")
    assert MarketOrder("BUY", 2.5).total_quantity == Decimal("2.5")
    assert MarketOrder("BUY", Decimal("7")).total_quantity == Decimal(7)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MarketOrder("BUY", -1), "positive"),
        (lambda: MarketOrder("BUY", 0), "positive"),
        (lambda: MarketOrder("BUY", "nan"), "positive"),
        (lambda: MarketOrder("HOLD", 1), "BUY, SELL"),
        (lambda: LimitOrder("BUY", 1, math.inf), "finite"),
        (lambda: LimitOrder("BUY", 1, None), "number"),  # type: ignore[arg-type]
        (lambda: MarketOrder("BUY", True), "bool"),  # type: ignore[arg-type]
    ],
)
def test_helper_validation(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_validate() -> None:
    with pytest.raises(ValueError, match="needs lmt_price"):
        Order(action="BUY", total_quantity=Decimal(1), order_type="LMT").validate()
    with pytest.raises(ValueError, match="needs aux_price"):
        Order(action="BUY", total_quantity=Decimal(1), order_type="STP").validate()
    with pytest.raises(ValueError, match="quantity is required"):
        Order(action="BUY", order_type="MKT").validate()
    with pytest.raises(ValueError, match="non-negative"):
        Order(action="BUY", order_type="MKT", total_quantity=Decimal(-1)).validate()
    with pytest.raises(ValueError, match="action is required"):
        Order(order_type="MKT", total_quantity=Decimal(1)).validate()
    Order(action="BUY", order_type="MKT", cash_qty=1000.0).validate()


def test_bracket() -> None:
    parent, tp, sl = bracket("BUY", 10, 100.0, 110.0, 95.0, tif="GTC")
    assert (parent.order_type, tp.order_type, sl.order_type) == ("LMT", "LMT", "STP")
    assert (parent.action, tp.action, sl.action) == ("BUY", "SELL", "SELL")
    assert (parent.transmit, tp.transmit, sl.transmit) == (False, False, True)
    assert tp.parent_id == sl.parent_id == parent.order_id == 0
    assert tp.lmt_price == 110.0 and sl.aux_price == 95.0
    assert all(o.tif == "GTC" for o in (parent, tp, sl))
    p2, tp2, sl2 = bracket("SELL", 1, 100.0, 90.0, 105.0, parent_id=7)
    assert p2.order_id == 7 and tp2.parent_id == sl2.parent_id == 7
    assert tp2.action == "BUY"
    with pytest.raises(ValueError, match="stop_loss_price < limit_price"):
        bracket("BUY", 1, 100.0, 90.0, 95.0)
    with pytest.raises(ValueError, match="take_profit_price < limit_price"):
        bracket("SELL", 1, 100.0, 110.0, 95.0)


def test_oca() -> None:
    orders = oca([LimitOrder("BUY", 1, 1.0), StopOrder("SELL", 1, 0.5)], "g1")
    assert [(o.oca_group, o.oca_type) for o in orders] == [("g1", 1), ("g1", 1)]
    assert oca([MarketOrder("BUY", 1)], "g", OcaType.REDUCE_NON_BLOCK)[0].oca_type == 3
    with pytest.raises(ValueError, match="name"):
        oca([], "")
    with pytest.raises(ValueError, match="oca_type"):
        oca([], "g", 4)


def test_conditions_and_status() -> None:
    c = PriceCondition(10.0, 1, "SMART", conjunction="or")
    assert c.TYPE == 1 and c.is_more and c.conjunction == "or"
    with pytest.raises(ValueError, match="conjunction"):
        PriceCondition(conjunction="xor")
    assert OrderStatus("Filled").is_done and not OrderStatus.SUBMITTED.is_done
    assert OrderStatus.INACTIVE.is_done and not OrderStatus.PENDING_CANCEL.is_done
