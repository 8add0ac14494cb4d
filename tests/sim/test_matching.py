"""The simulator's matching engine on its own: order types, fills, TIFs, OCA, brackets,
modification, cancellation and the session close."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aiotws.model.contract import Contract
from aiotws.model.order import (
    LimitOnCloseOrder,
    LimitOrder,
    MarketIfTouchedOrder,
    MarketOnCloseOrder,
    MarketOrder,
    Order,
    OrderStatus,
    StopLimitOrder,
    StopOrder,
    TrailingStopLimitOrder,
    TrailingStopOrder,
    bracket,
    oca,
)
from aiotws.sim.matching import (
    FillEvent,
    MatchingEngine,
    OrderError,
    StatusUpdate,
    Touch,
    fills_of,
    ib_commission,
)

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
STK = Contract(con_id=101, symbol="XYZ", sec_type="STK", exchange="SMART", currency="USD")
OPT = Contract(
    con_id=202, symbol="XYZ", sec_type="OPT", exchange="SMART", currency="USD", multiplier="100"
)
_serials = itertools.count(1)


def touch(
    bid: float | None,
    ask: float | None,
    size: int = 100,
    last: float | None = None,
    last_size: int = 100,
) -> Touch:
    s = Decimal(size)
    return Touch(bid, ask, s, s, last, Decimal(last_size), next(_serials))


@pytest.fixture
def engine() -> MatchingEngine:
    return MatchingEngine(seed=7)


def place(
    engine: MatchingEngine,
    order_id: int,
    order: Order,
    t: Touch | None = None,
    *,
    client_id: int = 1,
    contract: Contract = STK,
) -> list[FillEvent | StatusUpdate]:
    order.account = order.account or "DU1"
    return engine.place(client_id, order_id, contract, order, T0, t)


def statuses(events: list[FillEvent | StatusUpdate], order_id: int | None = None) -> list[str]:
    return [
        e.status.value
        for e in events
        if isinstance(e, StatusUpdate) and (order_id is None or e.order.order_id == order_id)
    ]


# -- market and limit orders ----------------------------------------------------------------


def test_market_order_takes_the_touch(engine: MatchingEngine) -> None:
    ev = place(engine, 1, MarketOrder("BUY", 50), touch(99.0, 100.0))
    [fill] = fills_of(ev)
    x = fill.execution
    assert (x.side, x.shares, x.price, x.cum_qty) == ("BOT", Decimal(50), 100.0, Decimal(50))
    assert statuses(ev) == ["PreSubmitted", "Submitted", "Filled", "Filled"]
    assert [e.open_order for e in ev if isinstance(e, StatusUpdate)] == [True, True, False, True]
    o = engine.get(1, 1)
    assert o is not None and o.status is OrderStatus.FILLED and o.remaining == 0
    sell = place(engine, 2, MarketOrder("SELL", 10), touch(99.0, 100.0))
    assert fills_of(sell)[0].execution.price == 99.0
    assert fills_of(sell)[0].execution.side == "SLD"


def test_market_order_bigger_than_the_displayed_size_fills_in_parts(
    engine: MatchingEngine,
) -> None:
    t = touch(99.0, 100.0, size=30)
    ev = place(engine, 1, MarketOrder("BUY", 70), t)
    assert [f.execution.shares for f in fills_of(ev)] == [Decimal(30)]
    assert statuses(ev)[-1] == "Submitted"
    assert engine.step(STK.con_id, t, T0) == []  # the same snapshot offers nothing more
    ev2 = engine.step(STK.con_id, touch(99.0, 100.5, size=30), T0)
    ev3 = engine.step(STK.con_id, touch(99.0, 101.0, size=30), T0)
    fills = [f.execution for f in fills_of(ev2 + ev3)]
    assert [f.shares for f in fills] == [Decimal(30), Decimal(10)]
    assert [f.cum_qty for f in fills] == [Decimal(60), Decimal(70)]
    o = engine.get(1, 1)
    assert o is not None and o.status is OrderStatus.FILLED
    assert o.avg_fill_price == pytest.approx((30 * 100 + 30 * 100.5 + 10 * 101) / 70)
    last = [e for e in ev3 if isinstance(e, StatusUpdate)][-1]
    assert (last.filled, last.remaining) == (Decimal(70), Decimal(0))


def test_two_orders_share_one_snapshot(engine: MatchingEngine) -> None:
    t = touch(99.0, 100.0, size=100)
    place(engine, 1, MarketOrder("BUY", 80), t)
    ev = place(engine, 2, MarketOrder("BUY", 80), t)
    assert [f.execution.shares for f in fills_of(ev)] == [Decimal(20)]


def test_limit_rests_then_fills_at_its_limit_when_crossed(engine: MatchingEngine) -> None:
    ev = place(engine, 1, LimitOrder("BUY", 100, 98.0), touch(99.0, 100.0))
    assert fills_of(ev) == [] and statuses(ev) == ["PreSubmitted", "Submitted"]
    assert engine.step(STK.con_id, touch(98.5, 99.0), T0) == []
    ev = engine.step(STK.con_id, touch(97.0, 97.5, size=500), T0)
    [f] = fills_of(ev)
    assert (f.execution.price, f.execution.shares) == (98.0, Decimal(100))


def test_marketable_limit_fills_at_the_touch(engine: MatchingEngine) -> None:
    ev = place(engine, 1, LimitOrder("SELL", 10, 95.0), touch(99.0, 100.0))
    assert fills_of(ev)[0].execution.price == 99.0


def test_a_trade_through_the_limit_fills_a_resting_order(engine: MatchingEngine) -> None:
    place(engine, 1, LimitOrder("SELL", 10, 101.0), touch(99.0, 100.0))
    ev = engine.step(STK.con_id, touch(100.0, 100.5, last=101.5, last_size=5), T0)
    [f] = fills_of(ev)
    assert (f.execution.price, f.execution.shares) == (101.0, Decimal(5))


# -- triggered orders -----------------------------------------------------------------------


def test_stop_triggers_on_the_last_then_acts_as_market(engine: MatchingEngine) -> None:
    ev = place(engine, 1, StopOrder("SELL", 10, 95.0), touch(99.0, 100.0, last=99.5))
    assert statuses(ev) == ["PreSubmitted"]
    assert engine.step(STK.con_id, touch(96.0, 96.5, last=96.0), T0) == []
    ev = engine.step(STK.con_id, touch(94.5, 95.0, last=94.9), T0)
    assert statuses(ev)[0] == "Submitted"
    assert fills_of(ev)[0].execution.price == 94.5


def test_stop_limit_becomes_a_limit(engine: MatchingEngine) -> None:
    place(engine, 1, StopLimitOrder("BUY", 10, 101.5, 101.0), touch(99.0, 100.0, last=99.5))
    ev = engine.step(STK.con_id, touch(101.5, 102.0, last=101.2), T0)
    assert statuses(ev) == ["Submitted"] and fills_of(ev) == []  # ask above the limit
    ev = engine.step(STK.con_id, touch(101.0, 101.4, last=101.2), T0)
    assert fills_of(ev)[0].execution.price == 101.5  # resting: at its limit


def test_trailing_stop_follows_the_market(engine: MatchingEngine) -> None:
    place(engine, 1, TrailingStopOrder("SELL", 10, trail_amount=1.0), touch(99, 100, last=100.0))
    o = engine.get(1, 1)
    assert o is not None
    engine.step(STK.con_id, touch(100, 101, last=100.0), T0)
    assert o.order.trail_stop_price == 99.0
    engine.step(STK.con_id, touch(102, 103, last=103.0), T0)
    assert o.order.trail_stop_price == 102.0
    assert engine.step(STK.con_id, touch(101.5, 102, last=102.5), T0) == []
    assert o.order.trail_stop_price == 102.0  # never moves back
    ev = engine.step(STK.con_id, touch(101.8, 102.1, last=101.9), T0)
    assert fills_of(ev)[0].execution.price == 101.8


def test_trailing_percent_and_trail_limit(engine: MatchingEngine) -> None:
    order = TrailingStopLimitOrder("BUY", 10, limit_price_offset=0.5, trail_percent=2.0)
    place(engine, 1, order, touch(99, 100, last=100.0))
    o = engine.get(1, 1)
    assert o is not None
    engine.step(STK.con_id, touch(99, 100, last=100.0), T0)
    assert o.order.trail_stop_price == 102.0
    ev = engine.step(STK.con_id, touch(102.0, 102.2, last=102.1), T0)
    assert o.order.lmt_price == 102.5
    assert fills_of(ev)[0].execution.price == 102.2


def test_market_if_touched(engine: MatchingEngine) -> None:
    place(engine, 1, MarketIfTouchedOrder("BUY", 10, 97.0), touch(99, 100, last=99.5))
    assert engine.step(STK.con_id, touch(98, 98.5, last=98.2), T0) == []
    ev = engine.step(STK.con_id, touch(96.9, 97.0, last=96.95), T0)
    assert fills_of(ev)[0].execution.price == 97.0


# -- time in force --------------------------------------------------------------------------


def test_ioc_fills_what_is_there_and_cancels_the_rest(engine: MatchingEngine) -> None:
    ev = place(engine, 1, LimitOrder("BUY", 100, 100.0, tif="IOC"), touch(99, 100, size=40))
    assert [f.execution.shares for f in fills_of(ev)] == [Decimal(40)]
    last = [e for e in ev if isinstance(e, StatusUpdate)][-1]
    assert (last.status, last.filled, last.remaining) == (
        OrderStatus.CANCELLED,
        Decimal(40),
        Decimal(60),
    )
    assert last.reason == ""


def test_fok_is_all_or_nothing(engine: MatchingEngine) -> None:
    ev = place(engine, 1, MarketOrder("BUY", 100, tif="FOK"), touch(99, 100, size=40))
    assert fills_of(ev) == [] and statuses(ev)[-1] == "Cancelled"
    ev = place(engine, 2, MarketOrder("BUY", 100, tif="FOK"), touch(99, 100, size=400))
    assert [f.execution.shares for f in fills_of(ev)] == [Decimal(100)]


def test_gtd_expires(engine: MatchingEngine) -> None:
    gtd = LimitOrder("BUY", 10, 90.0, tif="GTD", good_till_date="20250303 10:30:00 US/Eastern")
    place(engine, 1, gtd, touch(99, 100))
    assert engine.expire(T0 + timedelta(minutes=29)) == []
    ev = engine.expire(T0 + timedelta(minutes=31))
    assert statuses(ev) == ["Cancelled"]


def test_close_runs_moc_loc_and_cancels_day_orders(engine: MatchingEngine) -> None:
    t = touch(99, 100)
    place(engine, 1, MarketOnCloseOrder("BUY", 10), t)
    place(engine, 2, LimitOnCloseOrder("SELL", 10, 99.0), t)
    place(engine, 3, LimitOnCloseOrder("SELL", 10, 101.0), t)
    place(engine, 4, LimitOrder("BUY", 10, 90.0), t)
    place(engine, 5, LimitOrder("BUY", 10, 90.0, tif="GTC"), t)
    assert engine.step(STK.con_id, touch(99, 100), T0) == []  # close orders wait
    ev = engine.close_session(T0, {STK.con_id: 100.25})
    fills = {f.order.order_id: f.execution.price for f in fills_of(ev)}
    assert fills == {1: 100.25, 2: 100.25}
    for oid, status in ((3, "Cancelled"), (4, "Cancelled"), (5, "Submitted")):
        o = engine.get(1, oid)
        assert o is not None and o.status.value == status
    assert [o.order_id for o in engine.open_orders()] == [5]


# -- OCA and brackets -----------------------------------------------------------------------


def test_oca_type_1_cancels_the_others(engine: MatchingEngine) -> None:
    a, b = oca([LimitOrder("BUY", 10, 95.0), LimitOrder("BUY", 10, 90.0)], "grp", 1)
    place(engine, 1, a, touch(99, 100))
    place(engine, 2, b, touch(99, 100))
    ev = engine.step(STK.con_id, touch(94, 94.5), T0)
    assert [f.order.order_id for f in fills_of(ev)] == [1]
    cancel = [e for e in ev if isinstance(e, StatusUpdate) and e.order.order_id == 2]
    assert cancel[-1].status is OrderStatus.CANCELLED and cancel[-1].reason


def test_oca_type_2_reduces_the_others(engine: MatchingEngine) -> None:
    a, b = oca([LimitOrder("BUY", 10, 95.0), LimitOrder("BUY", 10, 90.0)], "grp", 2)
    place(engine, 1, a, touch(99, 100))
    place(engine, 2, b, touch(99, 100))
    engine.step(STK.con_id, touch(94, 94.5, size=4), T0)
    other = engine.get(1, 2)
    assert other is not None and other.remaining == Decimal(6) and not other.done


def test_bracket_children_wait_for_the_parent_then_cancel_each_other(
    engine: MatchingEngine,
) -> None:
    parent, tp, sl = bracket("BUY", 10, 99.0, 105.0, 95.0, parent_id=1)
    tp.order_id, sl.order_id = 2, 3
    t = touch(99.5, 100.0)
    assert place(engine, 1, parent, t) == []  # transmit=False: held silently
    assert place(engine, 2, tp, t) == []
    ev = place(engine, 3, sl, t)  # the last one sends the three
    assert [(e.order.order_id, e.status.value) for e in ev if isinstance(e, StatusUpdate)] == [
        (1, "PreSubmitted"),
        (1, "Submitted"),
        (2, "PreSubmitted"),
        (3, "PreSubmitted"),
    ]
    # the parent fills: the take profit starts working, the stop loss waits for its trigger
    ev = engine.step(STK.con_id, touch(98.5, 98.9, last=98.9), T0)
    assert [f.order.order_id for f in fills_of(ev)] == [1]
    assert statuses(ev, 2) == ["Submitted"] and statuses(ev, 3) == []
    # the take profit fills: the stop loss is cancelled
    ev = engine.step(STK.con_id, touch(105.5, 106.0, last=105.5), T0)
    assert [f.order.order_id for f in fills_of(ev)] == [2]
    assert statuses(ev, 3) == ["Cancelled"]
    assert engine.open_orders() == []


def test_cancelling_a_parent_cancels_its_children(engine: MatchingEngine) -> None:
    parent, tp, sl = bracket("BUY", 10, 90.0, 105.0, 85.0, parent_id=1)
    tp.order_id, sl.order_id = 2, 3
    t = touch(99.5, 100.0)
    for oid, o in ((1, parent), (2, tp), (3, sl)):
        place(engine, oid, o, t)
    ev = engine.cancel(1, 1, T0)
    assert [(e.order.order_id, e.status.value) for e in ev if isinstance(e, StatusUpdate)] == [
        (1, "Cancelled"),
        (2, "Cancelled"),
        (3, "Cancelled"),
    ]


# -- modify and cancel ----------------------------------------------------------------------


def test_modify_keeps_the_perm_id_and_can_make_it_marketable(engine: MatchingEngine) -> None:
    place(engine, 1, LimitOrder("BUY", 10, 95.0), touch(99, 100))
    o = engine.get(1, 1)
    assert o is not None
    perm = o.perm_id
    ev = place(engine, 1, LimitOrder("BUY", 20, 96.0), touch(99, 100))
    assert statuses(ev) == ["Submitted"] and ev[0].open_order  # type: ignore[union-attr]
    assert o.perm_id == perm and o.total == 20 and o.order.lmt_price == 96.0
    ev = place(engine, 1, LimitOrder("BUY", 20, 100.0), touch(99, 100))
    assert fills_of(ev)[0].execution.price == 100.0
    assert fills_of(ev)[0].execution.perm_id == perm


def test_modify_errors(engine: MatchingEngine) -> None:
    place(engine, 1, MarketOrder("BUY", 10), touch(99, 100))
    with pytest.raises(OrderError) as e:
        place(engine, 1, MarketOrder("BUY", 20), touch(99, 100))
    assert e.value.code == 104
    place(engine, 2, LimitOrder("BUY", 10, 90.0), touch(99, 100))
    with pytest.raises(OrderError) as e:
        place(engine, 2, LimitOrder("SELL", 10, 90.0), touch(99, 100))
    assert e.value.code == 105


def test_new_order_validation(engine: MatchingEngine) -> None:
    place(engine, 5, LimitOrder("BUY", 10, 90.0), touch(99, 100))
    cases: list[tuple[int, Order, int]] = [
        (5, LimitOrder("BUY", 10, 90.0), 0),  # a modification: fine
        (4, LimitOrder("BUY", 10, 90.0), 103),  # below a used id
        (6, Order(action="BUY", total_quantity=Decimal(0), order_type="MKT"), 434),
        (6, Order(action="BUY", total_quantity=Decimal(1), order_type="REL"), 387),
        (6, Order(action="BUY", total_quantity=Decimal(1), order_type="LMT"), 321),
        (6, LimitOrder("BUY", 10, 90.0, tif="OPG"), 321),
        (6, LimitOrder("BUY", 10, 90.0, parent_id=99), 201),
    ]
    for oid, order, code in cases:
        if code == 0:
            engine.validate(1, oid, order)
            continue
        with pytest.raises(OrderError) as e:
            engine.validate(1, oid, order)
        assert e.value.code == code, (order, e.value)
    # another client has its own ids
    assert engine.validate(2, 1, LimitOrder("BUY", 1, 90.0)) is None


def test_cancel(engine: MatchingEngine) -> None:
    place(engine, 1, LimitOrder("BUY", 10, 90.0), touch(99, 100))
    ev = engine.cancel(1, 1, T0)
    assert statuses(ev) == ["Cancelled"] and ev[0].reason == ""  # type: ignore[union-attr]
    with pytest.raises(OrderError) as e:
        engine.cancel(1, 1, T0)
    assert e.value.code == 10148 and "state: Cancelled" in e.value.text
    with pytest.raises(OrderError) as e:
        engine.cancel(1, 9, T0)
    assert (e.value.code, e.value.text) == (
        10147,
        "OrderId 9 that needs to be cancelled is not found.",
    )
    with pytest.raises(OrderError) as e:
        engine.cancel(2, 1, T0)  # not this client's
    assert e.value.code == 10147
    place(engine, 2, MarketOrder("BUY", 10), touch(99, 100))
    with pytest.raises(OrderError) as e:
        engine.cancel(1, 2, T0)
    assert e.value.text.endswith("state: Filled.")


def test_global_cancel_and_completed_orders(engine: MatchingEngine) -> None:
    place(engine, 1, LimitOrder("BUY", 10, 90.0), touch(99, 100))
    place(engine, 1, LimitOrder("BUY", 10, 90.0), touch(99, 100), client_id=2)
    place(engine, 2, MarketOrder("BUY", 10), touch(99, 100), client_id=2)
    ev = engine.cancel_all(T0)
    assert statuses(ev) == ["Cancelled", "Cancelled"]
    assert engine.open_orders() == []
    assert [o.status.value for o in engine.completed_orders()] == [
        "Filled",
        "Cancelled",
        "Cancelled",
    ]


def test_perm_ids_and_exec_ids(engine: MatchingEngine) -> None:
    place(engine, 1, MarketOrder("BUY", 10), touch(99, 100))
    place(engine, 2, MarketOrder("BUY", 10), touch(99, 100))
    a, b = engine.executions
    pa, pb = a.perm_id, b.perm_id
    assert pb == pa + 1
    assert a.exec_id != b.exec_id
    parts = a.exec_id.split(".")
    assert len(parts) == 4 and parts[2:] == ["01", "01"] and len(parts[0]) == 8
    again = MatchingEngine(seed=7)
    again.place(1, 1, STK, MarketOrder("BUY", 10, account="DU1"), T0, touch(99, 100))
    assert again.executions[0].exec_id == a.exec_id  # seeded


def test_commission() -> None:
    assert ib_commission(STK, Decimal(100), 50.0) == 1.0  # the minimum
    assert ib_commission(STK, Decimal(1000), 50.0) == 5.0
    assert ib_commission(STK, Decimal(1000), 0.20) == 2.0  # at most 1% of the value
    assert ib_commission(OPT, Decimal(3), 2.0) == pytest.approx(1.95)


def test_commission_minimum_applies_once_per_order(engine: MatchingEngine) -> None:
    place(engine, 1, MarketOrder("BUY", 300), touch(99, 100, size=100))
    engine.step(STK.con_id, touch(99, 100, size=100), T0)
    engine.step(STK.con_id, touch(99, 100, size=100), T0)
    fees = [x.commission for x in engine.executions]
    assert len(fees) == 3 and sum(fees) == pytest.approx(1.5)


def test_gtd_without_a_zone_is_read_in_the_engines_zone() -> None:
    engine = MatchingEngine(seed=1, zone=ZoneInfo("America/New_York"))
    gtd = LimitOrder("BUY", 10, 90.0, tif="GTD", good_till_date="20250303 10:30:00")
    place(engine, 1, gtd, touch(99, 100))
    o = engine.get(1, 1)
    assert o is not None and o.expires == T0 + timedelta(minutes=30)


def test_modify_a_limit_into_a_stop_waits_for_the_trigger(engine: MatchingEngine) -> None:
    place(engine, 1, LimitOrder("SELL", 10, 110.0), touch(99, 100, last=99.5))
    ev = place(engine, 1, StopOrder("SELL", 10, 95.0), touch(99, 100, last=99.5))
    assert statuses(ev) == ["PreSubmitted"]
    ev = engine.step(STK.con_id, touch(94, 94.5, last=94.0), T0)
    assert statuses(ev)[0] == "Submitted" and fills_of(ev)[0].execution.price == 94.0


def test_held_order_is_transmitted_by_a_modification(engine: MatchingEngine) -> None:
    assert place(engine, 1, LimitOrder("BUY", 10, 90.0, transmit=False), touch(99, 100)) == []
    assert engine.open_orders() == []
    ev = place(engine, 1, LimitOrder("BUY", 10, 90.0), touch(99, 100))
    assert statuses(ev) == ["PreSubmitted", "Submitted"]


def test_manual_orders_work_and_are_bound(engine: MatchingEngine) -> None:
    rest, ev = engine.place_manual(STK, LimitOrder("BUY", 10, 9.0), T0, touch(10.0, 10.1))
    assert rest.manual and (rest.client_id, rest.order_id) == (0, 0) and rest.perm_id > 0
    assert [e.status for e in ev if isinstance(e, StatusUpdate)] == [
        OrderStatus.PRE_SUBMITTED,
        OrderStatus.SUBMITTED,
    ]
    mkt, ev = engine.place_manual(STK, MarketOrder("SELL", 10), T0, touch(10.0, 10.1))
    [fill] = fills_of(ev)
    assert fill.execution.manual and fill.execution.order_id == 0 and mkt.done
    assert engine.unbound() == [rest] and engine.get(0, 0) is None
    assert engine.open_orders(0) == [rest]  # client 0's open orders include it
    # client 0 has no order 0: nothing to cancel or modify until it is bound
    with pytest.raises(OrderError) as e:
        engine.cancel(0, 0, T0)
    assert e.value.code == 10147
    engine.bind(rest, 5)
    assert rest.order_id == rest.order.order_id == 5 and engine.get(0, 5) is rest
    assert engine.unbound() == []
    with pytest.raises(ValueError):
        engine.bind(rest, 6)  # bound already
    # client 0 now modifies it by its id; a new order of client 0 must use a higher id
    engine.place(0, 5, STK, LimitOrder("BUY", 20, 9.0), T0, touch(10.0, 10.1))
    assert rest.total == 20 and rest.perm_id == rest.order.perm_id
    with pytest.raises(OrderError) as e:
        engine.validate(0, 4, LimitOrder("BUY", 1, 9.0))
    assert e.value.code == 103
    engine.cancel(0, 5, T0)
    assert rest.done


def test_manual_orders_bound_to_negative_ids(engine: MatchingEngine) -> None:
    o, _ = engine.place_manual(STK, LimitOrder("BUY", 10, 9.0), T0, order_id=-1)
    assert o.order_id == -1 and engine.get(0, -1) is o
    # modifying by the negative id is fine; a new API order with one is not
    engine.place(0, -1, STK, LimitOrder("BUY", 10, 8.5), T0)
    assert o.order.lmt_price == 8.5
    with pytest.raises(OrderError) as e:
        engine.validate(0, -2, LimitOrder("BUY", 10, 9.0))
    assert e.value.code in (103, 321)
    engine.cancel_order(o, T0)
    assert o.done and engine.cancel_order(o, T0) == []


def test_manual_order_validation(engine: MatchingEngine) -> None:
    with pytest.raises(OrderError) as e:
        engine.place_manual(STK, Order(action="BUY", total_quantity=Decimal(0)), T0)
    assert e.value.code == 434
    child = LimitOrder("SELL", 10, 11.0)
    child.parent_id = 3
    with pytest.raises(ValueError):
        engine.place_manual(STK, child, T0)
    assert engine.orders() == []
