"""Order messages: hand-written frames (PROTOCOL.md 6.10-6.13) in both directions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiotws.errors import InvalidField, UnsupportedByServer
from aiotws.model import Contract, Stock, TagValue
from aiotws.model.order import (
    ExecutionCondition,
    LimitOrder,
    MarginCondition,
    OrderCancel,
    OrderState,
    PriceCondition,
    TimeCondition,
    bracket,
)
from aiotws.wire import decode_in, decode_out, encode
from aiotws.wire.messages import orders as mo

AAPL = Stock("AAPL", "SMART", "USD")

HEAD = ["3", "5"]  # PLACE_ORDER id, order id
C14 = ["0", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", "", "", ""]
MAIN = ["BUY", "100", "LMT", "150.5", ""]
EXTENDED = ["", "", "", "", "0", "", "1", "0", "0", "0", "0", "0", "0", "0"]
MISC = [
    "",
    "0.0",
    "",
    "",
    "",
    "",
    "",  # shares allocation, discretionary, times, FA group/method/%
]
MISC2 = [
    "",
    "0",
    "",
    "-1",
    "0",
    "",
    "",
    "0",
    "",
    "",
    "0",
    "0",
    "",
    "0",  # model code .. auction
    "",
    "",
    "",
    "",
    "",
    "0",  # box / peg-to-stock, override constraints
]
VOL = ["", "", "", "", "0", ""]  # volatility, type, DN type, DN aux, continuous, ref price type
TRAIL_SCALE = ["", "", "", "", "", "", "", ""]  # trail stop/%, scale init/subs/inc, table, times
HEDGE = ["", "0", "", "", "0", "0"]  # hedge type, opt out, clearing acct/intent, not held, DN
ALGO = ["", "", "0", "", "0", "0", "0"]  # strategy, algo id, what-if, misc, solicited, random
MAX = "1.7976931348623157e+308"
PEG = ["0", "", MAX, MAX, MAX, MAX, MAX, "0"]  # conditions, adjusted order
LATER = ["", "", "", MAX, "", "", "", "", "0", "0", "0", ""]


def lmt_fields(version: int) -> list[str]:
    fields = [*HEAD, *C14, *MAIN, *EXTENDED, *MISC]
    if version < 177:
        fields.append("")  # faProfile
    fields += [*MISC2, *VOL, *TRAIL_SCALE, *HEDGE, *ALGO, *PEG, *LATER]
    if version >= 158:
        fields.append("2147483647")  # duration
    if version >= 160:
        fields.append("2147483647")  # postToAts
    if version >= 162:
        fields.append("0")  # autoCancelParent
    if version >= 166:
        fields.append("")  # advancedErrorOverride
    if version >= 169:
        fields.append("")  # manualOrderTime
    if version >= 183:
        fields.append("")  # customerAccount
    if version >= 184:
        fields.append("0")  # professionalCustomer
    if 187 <= version < 190:
        fields += ["", "2147483647"]
    if version >= 189:
        fields.append("0")  # includeOvernight
    if version >= 192:
        fields.append("2147483647")  # manualOrderIndicator
    if version >= 199:
        fields.append("0")  # imbalanceOnly
    return fields


def payload(fields: list[str]) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


@pytest.mark.parametrize("version", [157, 176, 187, 200])
def test_lmt_order_frame(version: int) -> None:
    msg = mo.PlaceOrder.from_order(5, AAPL, LimitOrder("BUY", 100, 150.5))
    assert encode(msg, version)[4:] == payload(lmt_fields(version))
    assert decode_out(payload(lmt_fields(version)), version) == msg


def test_place_order_round_trips_to_the_model() -> None:
    order = LimitOrder(
        "BUY",
        100,
        150.5,
        tif="GTC",
        algo_strategy="Vwap",
        algo_params=[TagValue("maxPctVol", "0.1")],
    )
    msg = mo.PlaceOrder.from_order(9, AAPL, order)
    got = decode_out(encode(msg, 200)[4:], 200)
    assert isinstance(got, mo.PlaceOrder)
    back = got.to_order()
    assert back.order_id == 9
    assert back.tif == "GTC" and back.algo_params == [TagValue("maxPctVol", "0.1")]
    assert back.lmt_price == 150.5 and back.total_quantity == Decimal(100)


def test_bracket_frames_link_children_to_the_parent() -> None:
    parent, tp, sl = bracket("BUY", 10, 100.0, 110.0, 95.0, parent_id=41)
    frames = []
    for i, o in zip((41, 42, 43), (parent, tp, sl), strict=True):
        if i != 41:
            assert o.parent_id == 41
        frames.append(encode(mo.PlaceOrder.from_order(i, AAPL, o), 176)[4:].split(b"\0"))
    transmit, parent_id = 27, 28  # after id, order id, C14, 5 main and 6 extended fields
    assert [f[transmit] for f in frames] == [b"0", b"0", b"1"]
    assert [f[parent_id] for f in frames] == [b"0", b"41", b"41"]
    assert [f[16:19] for f in frames] == [
        [b"BUY", b"10", b"LMT"],
        [b"SELL", b"10", b"LMT"],
        [b"SELL", b"10", b"STP"],
    ]


def test_condition_fields() -> None:
    order = LimitOrder(
        "BUY",
        1,
        1.0,
        conditions=[
            PriceCondition(150.25, 265598, "SMART", True, 2),
            TimeCondition("20261218 09:30:00 US/Eastern", False, conjunction="or"),
            MarginCondition(30.0, True),
            ExecutionCondition("STK", "SMART", "AAPL"),
        ],
        conditions_ignore_rth=True,
    )
    fields = encode(mo.PlaceOrder.from_order(1, AAPL, order), 200)[4:].decode().split("\0")
    i = next(i for i in range(len(fields)) if fields[i : i + 3] == ["4", "1", "a"])
    assert fields[i : i + 23] == [
        "4",
        "1", "a", "1", "150.25", "265598", "SMART", "2",
        "3", "o", "0", "20261218 09:30:00 US/Eastern",
        "4", "a", "1", "30.0",
        "5", "a", "STK", "SMART", "AAPL",
        "1", "0",
    ]  # fmt: skip


def test_gates_refuse_fields_the_server_lacks() -> None:
    msg = mo.PlaceOrder.from_order(1, AAPL, LimitOrder("BUY", 1, 1.0, manual_order_time="x"))
    with pytest.raises(UnsupportedByServer) as e:
        encode(msg, 168)
    assert e.value.field == "manual_order_time"
    assert encode(msg, 169)
    cancel = mo.CancelOrder.from_cancel(3, OrderCancel(ext_operator="me"))
    with pytest.raises(UnsupportedByServer):
        encode(cancel, 191)


def test_non_ascii_text_is_refused() -> None:
    msg = mo.PlaceOrder.from_order(1, AAPL, LimitOrder("BUY", 1, 1.0, order_ref="caf\u00e9"))
    with pytest.raises(InvalidField) as e:
        encode(msg, 200)
    assert e.value.field == "order_ref"


@pytest.mark.parametrize(
    ("version", "fields"),
    [
        (157, ["1", "7"]),
        (169, ["1", "7", "t"]),
        (187, ["1", "7", "t", "", "", "2147483647"]),
        (190, ["1", "7", "t"]),
        (192, ["7", "t", "", "2147483647"]),
    ],
)
def test_cancel_order_layouts(version: int, fields: list[str]) -> None:
    cancel = OrderCancel("t" if version >= 169 else "")
    msg = mo.CancelOrder.from_cancel(7, cancel)
    assert encode(msg, version)[4:] == payload(["4", *fields])
    assert decode_out(payload(["4", *fields]), version) == msg


def test_global_cancel_layouts() -> None:
    assert encode(mo.ReqGlobalCancel(), 191)[4:] == b"58\x001\x00"
    assert encode(mo.ReqGlobalCancel.from_cancel(OrderCancel("", "op", 1)), 192)[4:] == (
        b"58\x00op\x001\x00"
    )


def test_what_if_open_order_decodes_margins() -> None:
    order = LimitOrder("BUY", 100, 150.0, what_if=True, order_id=12, perm_id=555, client_id=1)
    state = OrderState(
        status="PreSubmitted",
        init_margin_before=1000.5,
        init_margin_change=150.25,
        init_margin_after=1150.75,
        commission=1.0,
        min_commission=0.35,
        max_commission=2.5,
        commission_currency="USD",
        margin_currency="USD",
        suggested_size=Decimal(100),
        warning_text="check",
    )
    msg = mo.OpenOrder.from_order(AAPL, order, state, 200)
    raw = encode(msg, 200)[4:]
    got = decode_in(raw, 200, strict=True)
    assert isinstance(got, mo.OpenOrder)
    s = got.to_order_state()
    assert (s.init_margin_before, s.init_margin_change, s.init_margin_after) == (
        1000.5,
        150.25,
        1150.75,
    )
    assert s.maint_margin_before is None and s.commission == 1.0
    assert s.suggested_size == Decimal(100) and s.warning_text == "check"
    assert got.to_order().what_if and got.to_order().perm_id == 555
    # TWS writes unset margins as the Java max double: still None
    text = raw.replace(b"\x001000.5\x00", b"\x001.7976931348623157E308\x00")
    s2 = decode_in(text, 200).to_order_state()  # type: ignore[attr-defined]
    assert s2.init_margin_before is None
    # below 195 the full-preview fields are not on the wire
    old = mo.OpenOrder.from_order(AAPL, order, state, 194)
    assert old.order_state.margin_currency == "" and old.order_state.suggested_size is None
    assert decode_in(encode(old, 194)[4:], 194, strict=True) == old


def test_order_status_frame() -> None:
    raw = b"3\x007\x00Filled\x00100\x000\x00150.25\x00123\x000\x00150.25\x001\x00\x000.0\x00"
    msg = decode_in(raw, 176, strict=True)
    assert msg == mo.OrderStatusMsg(
        7, "Filled", Decimal(100), Decimal(0), 150.25, 123, 0, 150.25, 1, "", 0.0
    )
    assert encode(msg, 176)[4:] == raw


def test_combo_order_carries_legs_and_prices() -> None:
    from aiotws.model import ComboLeg
    from aiotws.model.order import OrderComboLeg

    bag = Contract(
        sec_type="BAG",
        symbol="SPY",
        exchange="SMART",
        currency="USD",
        combo_legs=[ComboLeg(1, 1, "BUY", "SMART"), ComboLeg(2, 1, "SELL", "SMART")],
    )
    order = LimitOrder("BUY", 1, 0.5, order_combo_legs=[OrderComboLeg(1.0), OrderComboLeg()])
    msg = mo.PlaceOrder.from_order(1, bag, order)
    got = decode_out(encode(msg, 200)[4:], 200)
    assert got == msg
    assert isinstance(got, mo.PlaceOrder)
    assert [leg.con_id for leg in got.to_contract().combo_legs] == [1, 2]
    assert got.to_order().order_combo_legs == [OrderComboLeg(1.0), OrderComboLeg(None)]
    # not a BAG: no combo fields on the wire, and from_order leaves them out
    assert mo.PlaceOrder.from_order(1, AAPL, order).order_combo_legs == []
