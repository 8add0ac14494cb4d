"""Market data messages: golden bytes (PROTOCOL.md 6.3-6.5), attribute bits, tick records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aiotws.errors import InvalidField
from aiotws.model import (
    ComboLeg,
    Contract,
    DeltaNeutralContract,
    DepthMktDataDescription,
    MarketDataType,
    Stock,
    TickAttrib,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickLast,
    TickByTickMidPoint,
    TickType,
)
from aiotws.wire import decode_in, decode_out, encode, frame
from aiotws.wire import messages as M
from aiotws.wire.codec import encode_payload
from aiotws.wire.layout import Message

from .roundtrip import decode, nul

T = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000


AAPL = Contract(sec_type="STK", symbol="AAPL", exchange="SMART", currency="USD")
C12_AAPL = ["0", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""]
SPREAD = Contract(
    sec_type="BAG",
    symbol="SPY",
    exchange="SMART",
    currency="USD",
    combo_legs=[ComboLeg(111, 1, "BUY", "SMART"), ComboLeg(222, 2, "SELL", "SMART")],
    delta_neutral_contract=DeltaNeutralContract(756733, 0.5, 400.25),
)
C12_SPREAD = ["0", "SPY", "BAG", "", "", "", "", "SMART", "", "USD", "", ""]
#: REQ_MKT_DATA for SPREAD: C12, 2 legs, delta-neutral present, generic "", snapshot 1, reg 0, ""
SPREAD_PAYLOAD = nul(
    "1", "11", "6", *C12_SPREAD, "2", "111", "1", "BUY", "SMART", "222", "2", "SELL", "SMART",
    "1", "756733", "0.5", "400.25", "", "1", "0", "",
)  # fmt: skip

GOLDEN: list[tuple[Message, int, bytes]] = [
    # top of book (PROTOCOL.md 6.3)
    (
        M.TickPrice(1, 1, 185.5, Decimal("100"), 3),
        176,
        nul("1", "6", "1", "1", "185.5", "100", "3"),
    ),
    (M.TickPrice(1, 9, 184.0, None, 0), 200, nul("1", "6", "1", "9", "184.0", "", "0")),
    (M.TickSize(1, 8, Decimal("1234.5")), 176, nul("2", "6", "1", "8", "1234.5")),
    (M.TickString(1, 45, "1700000000"), 176, nul("46", "6", "1", "45", "1700000000")),
    (M.TickGeneric(1, 49, 1.0), 176, nul("45", "6", "1", "49", "1.0")),
    (
        M.TickEfp(1, 38, 0.5, "0.50", 4800.25, 30, "20261218", 0.1, 0.2),
        176,
        nul("47", "6", "1", "38", "0.5", "0.50", "4800.25", "30", "20261218", "0.1", "0.2"),
    ),
    (
        M.TickOptionComputation(3, 13, 0, 0.25, 0.55, 5.25, 0.0, 0.02, 0.3, -0.05, 198.5),
        176,
        nul("21", "3", "13", "0", "0.25", "0.55", "5.25", "0.0", "0.02", "0.3", "-0.05", "198.5"),
    ),
    (M.TickReqParams(1, 0.01, "9c0001", 3), 176, nul("81", "1", "0.01", "9c0001", "3")),
    (M.TickSnapshotEnd(12), 176, nul("57", "1", "12")),
    (M.MarketDataType(1, 3), 176, nul("58", "1", "1", "3")),
    (M.RerouteMktDataReq(1, 265598, "SMART"), 176, nul("91", "1", "265598", "SMART")),
    # tick-by-tick (6.4), one of each type
    (
        M.TickByTick(7, 1, T, 185.5, Decimal("100"), 2, "NASDAQ", "T"),
        176,
        nul("99", "7", "1", "1700000000", "185.5", "100", "2", "NASDAQ", "T"),
    ),
    (
        M.TickByTick(7, 2, T, 0.0, Decimal("0"), 1, "", ""),
        200,
        nul("99", "7", "2", "1700000000", "0.0", "0", "1", "", ""),
    ),
    (
        M.TickByTick(
            8,
            3,
            T,
            bid_price=185.5,
            ask_price=185.6,
            bid_size=Decimal("200"),
            ask_size=Decimal("300"),
            bid_ask_mask=1,
        ),
        176,
        nul("99", "8", "3", "1700000000", "185.5", "185.6", "200", "300", "1"),
    ),
    (M.TickByTick(9, 4, T, mid_point=185.55), 176, nul("99", "9", "4", "1700000000", "185.55")),
    (M.TickByTick(9, 0, T), 176, nul("99", "9", "0", "1700000000")),
    # depth (6.5)
    (
        M.MarketDepth(1, 0, 0, 1, 185.5, Decimal("100")),
        176,
        nul("12", "1", "1", "0", "0", "1", "185.5", "100"),
    ),
    (
        M.MarketDepthL2(1, 5, "NSDQ", 1, 1, 185.5, Decimal("100"), True),
        176,
        nul("13", "1", "1", "5", "NSDQ", "1", "1", "185.5", "100", "1"),
    ),
    (
        M.MktDepthExchanges(
            [
                DepthMktDataDescription("ISLAND", "STK", "", "Deep", 1),
                DepthMktDataDescription("SMART", "STK", "", "Deep2", None),
            ]
        ),
        176,
        nul("80", "2", "ISLAND", "STK", "", "Deep", "1", "SMART", "STK", "", "Deep2", ""),
    ),
    (M.RerouteMktDepthReq(1, 265598, "ISLAND"), 176, nul("92", "1", "265598", "ISLAND")),
    # requests
    (
        M.ReqMktData(5, AAPL, "233,236"),
        176,
        nul("1", "11", "5", *C12_AAPL, "0", "233,236", "0", "0", ""),
    ),
    (
        M.ReqMktData(6, SPREAD, snapshot=True),
        200,
        SPREAD_PAYLOAD,
    ),
    (
        M.ReqMktData(7, Contract(sec_type="BAG", symbol="SPY")),
        176,
        nul("1", "11", "7", "0", "SPY", "BAG", *[""] * 9, "0", "0", "", "0", "0", ""),
    ),
    (M.CancelMktData(5), 176, nul("2", "2", "5")),
    (M.ReqMarketDataType(MarketDataType.DELAYED), 176, nul("59", "1", "3")),
    (
        M.ReqTickByTickData(3, AAPL, "BidAsk", 10, True),
        176,
        nul("97", "3", *C12_AAPL, "BidAsk", "10", "1"),
    ),
    (M.CancelTickByTickData(3), 176, nul("98", "3")),
    (M.ReqMktDepth(4, AAPL, 5, True), 176, nul("10", "5", "4", *C12_AAPL, "5", "1", "")),
    (M.CancelMktDepth(4, True), 176, nul("11", "1", "4", "1")),
    (M.ReqMktDepthExchanges(), 176, nul("82")),
    (
        M.ReqCalcImpliedVolat(8, AAPL, 5.25, 198.5),
        176,
        nul("54", "3", "8", *C12_AAPL, "5.25", "198.5", ""),
    ),
    (
        M.ReqCalcOptionPrice(9, AAPL, 0.25, 198.5),
        176,
        nul("55", "3", "9", *C12_AAPL, "0.25", "198.5", ""),
    ),
    (M.CancelCalcImpliedVolat(8), 176, nul("56", "1", "8")),
    (M.CancelCalcOptionPrice(9), 176, nul("57", "1", "9")),
]


@pytest.mark.parametrize(
    ("msg", "version", "payload"),
    GOLDEN,
    ids=[f"{type(m).__name__}-{i}" for i, (m, _, _) in enumerate(GOLDEN)],
)
def test_golden(msg: Message, version: int, payload: bytes) -> None:
    assert encode_payload(msg, version) == payload
    assert encode(msg, version) == frame(payload)
    for got in decode(payload, version, type(msg)):
        assert got == msg


def test_tick_price_and_size_decode_on_the_fast_path() -> None:
    for cls in (M.TickPrice, M.TickSize):
        for v in (157, 176, 200):
            assert cls.LAYOUT.fast_reader(v) is not None, (cls, v)


def test_unknown_tick_ids_decode() -> None:
    msg = decode_in(nul("1", "6", "1", "4242", "1.5", "1", "0"), 200)
    assert isinstance(msg, M.TickPrice)
    assert msg.tick_type == 4242 and msg.size_tick_type is None


def test_tick_price_sentinels_and_forms() -> None:
    msg = decode_in(nul("1", "6", "1", "2", "1.0E-4", "9223372036854775807", "0"), 200)
    assert msg == M.TickPrice(1, 2, 1e-4, None, 0)
    msg = decode_in(nul("1", "6", "1", "1", "Infinity", "0.5", "0"), 200)
    assert isinstance(msg, M.TickPrice) and msg.price == float("inf")
    assert msg.size == Decimal("0.5")


@pytest.mark.parametrize(
    ("mask", "bits"),
    [
        (0, (False, False, False)),
        (1, (True, False, False)),
        (2, (False, True, False)),
        (4, (False, False, True)),
        (7, (True, True, True)),
    ],
)
def test_tick_price_attribute_bits(mask: int, bits: tuple[bool, bool, bool]) -> None:
    msg = M.TickPrice(1, 1, 1.0, None, mask)
    assert (msg.can_auto_execute, msg.past_limit, msg.pre_open) == bits
    assert msg.attrib == TickAttrib(*bits)
    assert TickAttrib.from_mask(mask).mask == mask


def test_implied_size_ticks() -> None:
    implied = {t: M.TickPrice(1, t, 1.0).size_tick_type for t in (1, 2, 4, 66, 67, 68, 6, 9, 37)}
    assert implied == {
        TickType.BID: TickType.BID_SIZE,
        TickType.ASK: TickType.ASK_SIZE,
        TickType.LAST: TickType.LAST_SIZE,
        TickType.DELAYED_BID: TickType.DELAYED_BID_SIZE,
        TickType.DELAYED_ASK: TickType.DELAYED_ASK_SIZE,
        TickType.DELAYED_LAST: TickType.DELAYED_LAST_SIZE,
        6: None,
        9: None,
        37: None,
    }


def test_tick_type_enum_matches_the_official_table() -> None:
    assert len(TickType) == 112
    assert TickType(0) is TickType.BID_SIZE and TickType.NOT_SET == 111
    assert TickType.DELAYED_LAST_TIMESTAMP == 88 and TickType.ETF_NAV_LOW == 99
    assert TickType.NOT_USED == 47 and TickType.ODD_LOT_ASK_EXCH == 110
    assert [int(t) for t in TickType] == list(range(112))


def test_market_data_type_values() -> None:
    assert [int(t) for t in MarketDataType] == [1, 2, 3, 4]
    assert MarketDataType.DELAYED_FROZEN.name == "DELAYED_FROZEN"


def test_tick_by_tick_last_bits_and_record() -> None:
    for mask, bits in (
        (0, (False, False)),
        (1, (True, False)),
        (2, (False, True)),
        (3, (True, True)),
    ):
        msg = M.TickByTick(1, 1, T, 1.0, Decimal("1"), mask, "X", "")
        assert (msg.past_limit, msg.unreported) == bits
        assert msg.attr_mask == mask
    last = M.TickByTick(1, 1, T, 185.5, Decimal("100"), 2, "NASDAQ", "T").tick()
    assert last == TickByTickLast(T, 185.5, Decimal("100"), False, True, "NASDAQ", "T")
    assert type(last) is TickByTickLast
    all_last = M.TickByTick(1, 2, T, 0.0, Decimal("0"), 1).tick()
    assert isinstance(all_last, TickByTickAllLast) and all_last.past_limit  # a halt
    assert all_last.time.tzinfo is not None


def test_tick_by_tick_bid_ask_bit_order() -> None:
    """TICK_BY_TICK: bit 0 bid past low, bit 1 ask past high (pitfall 8: reversed in
    HISTORICAL_TICKS_BID_ASK)."""
    low = M.TickByTick(1, 3, T, bid_price=1.0, ask_price=2.0, bid_ask_mask=1)
    high = M.TickByTick(1, 3, T, bid_price=1.0, ask_price=2.0, bid_ask_mask=2)
    assert (low.bid_past_low, low.ask_past_high) == (True, False)
    assert (high.bid_past_low, high.ask_past_high) == (False, True)
    assert low.attr_mask == 1
    assert low.tick() == TickByTickBidAsk(T, 1.0, 2.0, None, None, True, False)
    decoded = decode_in(nul("99", "8", "3", "1700000000", "1", "2", "3", "4", "2"), 200)
    assert isinstance(decoded, M.TickByTick)
    assert decoded.tick() == TickByTickBidAsk(T, 1.0, 2.0, Decimal(3), Decimal(4), False, True)


def test_tick_by_tick_mid_point_and_none() -> None:
    assert M.TickByTick(1, 4, T, mid_point=2.5).tick() == TickByTickMidPoint(T, 2.5)
    assert M.TickByTick(1, 0, T).tick() is None
    assert M.TickByTick(1, 99, T).tick() is None
    assert M.TickByTick(1, 4, T, mid_point=2.5).attr_mask == 0


def test_tick_by_tick_fields_of_other_kinds_are_not_sent() -> None:
    # a MidPoint message with a stray price: only the MidPoint layout goes out
    msg = M.TickByTick(9, 4, T, price=1.0, mid_point=2.5)
    assert encode_payload(msg, 200) == nul("99", "9", "4", "1700000000", "2.5")


def test_depth_exchanges_agg_group_unset_forms() -> None:
    payload = nul("80", "2", "A", "STK", "", "Deep", "2147483647", "B", "FUT", "CME", "Deep2", "")
    msg = decode_in(payload, 200)
    assert isinstance(msg, M.MktDepthExchanges)
    assert [d.agg_group for d in msg.descriptions] == [None, None]
    assert msg.descriptions[1] == DepthMktDataDescription("B", "FUT", "CME", "Deep2")


def test_req_mkt_data_non_bag_legs_stay_off_the_wire() -> None:
    # combo legs go out for a BAG only, as in the official client
    stk = Stock("AAPL", "SMART", "USD")
    stk.combo_legs = [ComboLeg(1, 1, "BUY", "SMART")]
    assert encode_payload(M.ReqMktData(5, stk), 176) == encode_payload(M.ReqMktData(5, AAPL), 176)


def test_req_mkt_data_bag_round_trip_keeps_legs() -> None:
    payload = encode_payload(M.ReqMktData(6, SPREAD, snapshot=True), 200)
    got = decode_out(payload, 200)
    assert isinstance(got, M.ReqMktData)
    assert got.contract.combo_legs == SPREAD.combo_legs
    assert got.contract.delta_neutral_contract == DeltaNeutralContract(756733, 0.5, 400.25)


def test_req_mkt_data_bad_leg_text_is_refused() -> None:
    bag = Contract(sec_type="BAG", combo_legs=[ComboLeg(1, 1, "ach\u00e9t", "SMART")])
    with pytest.raises(InvalidField) as e:
        encode(M.ReqMktData(1, bag), 176)
    assert e.value.field == "contract"


def test_option_computation_keeps_not_computed_values() -> None:
    payload = nul(
        "21", "1", "10", "1", "-1.0", "-2.0", "-1.0", "-1.0", "-2.0", "-2.0", "-2.0", "-1.0"
    )
    msg = decode_in(payload, 200)
    assert msg == M.TickOptionComputation(1, 10, 1)
    assert encode_payload(msg, 200) == payload
