"""Historical data messages: hand-written frames (PROTOCOL.md 6.6-6.9), gates, mask bits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aiotws.errors import MalformedMessage, UnsupportedByServer
from aiotws.model import (
    Bag,
    ComboLeg,
    Contract,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    RealTimeBar,
)
from aiotws.wire import decode_in, decode_out, encode
from aiotws.wire import messages as M
from aiotws.wire.codec import encode_payload
from aiotws.wire.messages.historical import (
    BarRow,
    HistogramRow,
    SessionRow,
    TickBidAskRow,
    TickLastRow,
    TickRow,
)

from .roundtrip import both_ways, decode, nul

T = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000
D = Decimal


AAPL = Contract(sec_type="STK", symbol="AAPL", exchange="SMART", currency="USD")
C12_AAPL = ["0", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", ""]
DAILY = BarRow("20240102", 185.5, 186.0, 184.1, 185.9, D("1000"), D("185.6"), 12)
MIDPOINT = BarRow("20240103", 186.0, 187.25, 185.0, 187.0, D(-1), D(-1), -1)
BAR_FIELDS = [
    *("20240102", "185.5", "186.0", "184.1", "185.9", "1000", "185.6", "12"),
    *("20240103", "186.0", "187.25", "185.0", "187.0", "-1", "-1", "-1"),
]


# -- HISTORICAL_DATA and the 196 gate ---------------------------------------------------------


def test_historical_data_at_176_carries_the_range() -> None:
    msg = M.HistoricalData(
        1, "20240101 09:30:00 US/Eastern", "20240105 16:00:00", [DAILY, MIDPOINT]
    )
    both_ways(
        msg,
        176,
        nul("17", "1", "20240101 09:30:00 US/Eastern", "20240105 16:00:00", "2", *BAR_FIELDS),
    )


def test_historical_data_at_196_has_only_bars() -> None:
    both_ways(M.HistoricalData(1, bars=[DAILY, MIDPOINT]), 196, nul("17", "1", "2", *BAR_FIELDS))
    both_ways(
        M.HistoricalDataEnd(1, "20240101", "20240105"), 196, nul("108", "1", "20240101", "20240105")
    )


def test_historical_data_range_is_removed_at_196() -> None:
    msg = M.HistoricalData(1, "20240101", "20240105", [DAILY])
    with pytest.raises(UnsupportedByServer, match="removed at server version 196") as e:
        encode(msg, 196)
    assert (e.value.message, e.value.field, e.value.removed) == (
        "HistoricalData",
        "start_date",
        True,
    )
    encode(msg, 195)  # fine below the gate


def test_historical_data_frames_do_not_cross_the_gate() -> None:
    at_176 = nul("17", "1", "20240101", "20240105", "1", *BAR_FIELDS[:8])
    with pytest.raises(MalformedMessage):
        decode_in(at_176, 196, strict=True)
    at_196 = nul("17", "1", "1", *BAR_FIELDS[:8])
    with pytest.raises(MalformedMessage):
        decode_in(at_196, 195, strict=True)


def test_bar_values_stay_as_sent() -> None:
    """Dates stay strings, -1 stays -1; empty sizes are ``None``, empty prices 0.0."""
    payload = nul("17", "3", "1", "1704205800", "", "1.0E-4", "Infinity", "1", "", "", "")
    for msg in decode(payload, 200, M.HistoricalData):
        assert isinstance(msg, M.HistoricalData)
        assert msg.bars == [BarRow("1704205800", 0.0, 1e-4, float("inf"), 1.0, None, None, 0)]


def test_historical_data_update_order() -> None:
    """HISTORICAL_DATA_UPDATE: count first, close before high, WAP before volume."""
    msg = M.HistoricalDataUpdate(
        1, 7, "20240102 15:59:55 US/Eastern", 185.5, 185.6, 185.7, 185.4, D("185.55"), D("300")
    )
    payload = nul(
        "90", "1", "7", "20240102 15:59:55 US/Eastern", "185.5", "185.6", "185.7", "185.4",
        "185.55", "300",
    )  # fmt: skip
    both_ways(msg, 176, payload)
    assert msg.bar() == BarRow(
        "20240102 15:59:55 US/Eastern", 185.5, 185.7, 185.4, 185.6, D("300"), D("185.55"), 7
    )


def test_schedule_head_timestamp_histogram() -> None:
    sessions = [SessionRow("20240102-09:30:00", "20240102-16:00:00", "20240102")]
    payload = nul(
        "106", "1", "20240101-09:30:00", "20240105-16:00:00", "US/Eastern",
        "1", "20240102-09:30:00", "20240102-16:00:00", "20240102",
    )  # fmt: skip
    both_ways(
        M.HistoricalSchedule(1, "20240101-09:30:00", "20240105-16:00:00", "US/Eastern", sessions),
        176,
        payload,
    )
    both_ways(M.HeadTimestamp(4, "19801212-14:30:00"), 200, nul("88", "4", "19801212-14:30:00"))
    both_ways(
        M.HistogramData(5, [HistogramRow(185.5, D("1000")), HistogramRow(186.0, None)]),
        200,
        nul("89", "5", "2", "185.5", "1000", "186.0", ""),
    )


# -- historical ticks ---------------------------------------------------------------------------


def test_midpoint_ticks_keep_the_placeholder() -> None:
    msg = M.HistoricalTicks(1, [TickRow(T, 0, 185.55, D(0))], True)
    both_ways(msg, 176, nul("96", "1", "1", "1700000000", "0", "185.55", "0", "1"))
    assert msg.ticks[0].tick() == HistoricalTick(T, 185.55, D(0))


@pytest.mark.parametrize(
    ("mask", "ask_past_high", "bid_past_low"),
    [(0, False, False), (1, True, False), (2, False, True), (3, True, True)],
)
def test_bid_ask_mask_bits(mask: int, ask_past_high: bool, bid_past_low: bool) -> None:
    """HISTORICAL_TICKS_BID_ASK: bit 0 ask past high, bit 1 bid past low (TICK_BY_TICK's
    BidAsk mask has them the other way round, PROTOCOL.md 6.9)."""
    payload = nul("97", "1", "1", "1700000000", str(mask), "185.5", "185.6", "100", "", "0")
    for msg in decode(payload, 200, M.HistoricalTicksBidAsk):
        assert isinstance(msg, M.HistoricalTicksBidAsk)
        (row,) = msg.ticks
        assert row == TickBidAskRow(T, mask, 185.5, 185.6, D(100), None)
        assert (row.ask_past_high, row.bid_past_low) == (ask_past_high, bid_past_low)
        assert row.tick() == HistoricalTickBidAsk(
            T, 185.5, 185.6, D(100), None, ask_past_high, bid_past_low
        )
        assert msg.done is False
    tbt = M.TickByTick(1, 3, T, bid_ask_mask=mask)
    assert (tbt.bid_past_low, tbt.ask_past_high) == (bool(mask & 1), bool(mask & 2))


def test_last_mask_bits() -> None:
    rows = [TickLastRow(T, 1, 185.5, D(100), "NASDAQ", "T"), TickLastRow(T, 2, 185.6, D(1), "ARCA")]
    msg = M.HistoricalTicksLast(1, rows, True)
    payload = nul(
        "98", "1", "2",
        "1700000000", "1", "185.5", "100", "NASDAQ", "T",
        "1700000000", "2", "185.6", "1", "ARCA", "",
        "1",
    )  # fmt: skip
    both_ways(msg, 200, payload)
    assert [t.tick() for t in msg.ticks] == [
        HistoricalTickLast(T, 185.5, D(100), "NASDAQ", "T", True, False),
        HistoricalTickLast(T, 185.6, D(1), "ARCA", "", False, True),
    ]


# -- real-time bars -------------------------------------------------------------------------------


def test_real_time_bars() -> None:
    msg = M.RealTimeBars(1, T, 185.5, 185.7, 185.4, 185.6, D("1200"), D("185.55"), 17)
    payload = nul(
        "50", "3", "1", "1700000000", "185.5", "185.7", "185.4", "185.6", "1200", "185.55", "17"
    )  # fmt: skip
    both_ways(msg, 176, payload)
    assert msg.time.tzinfo is UTC
    assert msg.bar() == RealTimeBar(T, 185.5, 185.7, 185.4, 185.6, D("1200"), D("185.55"), 17)


def test_real_time_bar_requests() -> None:
    both_ways(
        M.ReqRealTimeBars(3, AAPL, 5, "MIDPOINT", True, "a=1;"),
        200,
        nul("50", "3", "3", *C12_AAPL, "5", "MIDPOINT", "1", "a=1;"),
    )
    both_ways(M.CancelRealTimeBars(3), 200, nul("51", "1", "3"))


# -- requests ---------------------------------------------------------------------------------


def test_req_historical_data() -> None:
    msg = M.ReqHistoricalData(
        7, AAPL, "20240102 16:00:00 US/Eastern", "5 mins", "2 D", True, "TRADES", 2,
        keep_up_to_date=True, chart_options="a=b;",
    )  # fmt: skip
    both_ways(
        msg,
        176,
        nul(
            "20", "7", *C12_AAPL, "0", "20240102 16:00:00 US/Eastern", "5 mins", "2 D", "1",
            "TRADES", "2", "1", "a=b;",
        ),
    )  # fmt: skip
    both_ways(M.CancelHistoricalData(7), 176, nul("25", "1", "7"))


SPREAD_LEGS = [ComboLeg(111, 1, "BUY", "SMART"), ComboLeg(222, 2, "SELL", "SMART")]
C12_SPREAD = ["0", "SPY", "BAG", "", "", "", "", "SMART", "", "USD", "", ""]
SPREAD_PAYLOAD = nul(
    "20", "1", *C12_SPREAD, "1", "", "1 day", "1 M", "0", "TRADES", "1",
    "2", "111", "1", "BUY", "SMART", "222", "2", "SELL", "SMART", "0", "",
)  # fmt: skip


def test_req_historical_data_bag_legs_follow_format_date() -> None:
    spread = Bag(symbol="SPY", exchange="SMART", currency="USD", combo_legs=SPREAD_LEGS)
    spread.include_expired = True
    msg = M.ReqHistoricalData(1, spread, "", "1 day", "1 M")
    assert msg.combo_legs == SPREAD_LEGS  # taken from the contract
    assert encode_payload(msg, 200) == SPREAD_PAYLOAD
    for got in decode(SPREAD_PAYLOAD, 200, M.ReqHistoricalData):
        assert isinstance(got, M.ReqHistoricalData)
        assert got.combo_legs == SPREAD_LEGS
        assert got.contract.combo_legs == SPREAD_LEGS  # and put back into it
        assert got.contract.sec_type == "BAG" and got.contract.include_expired


def test_req_historical_data_legs_given_apart() -> None:
    plain = Contract(sec_type="BAG", symbol="SPY", exchange="SMART", currency="USD")
    msg = M.ReqHistoricalData(1, plain, "", "1 day", "1 M", combo_legs=list(SPREAD_LEGS))
    assert msg.contract.combo_legs == SPREAD_LEGS
    assert plain.combo_legs == []  # the caller's contract is left alone
    with pytest.raises(ValueError, match="combo_legs"):
        M.ReqHistoricalData(
            1, Contract(sec_type="BAG", combo_legs=SPREAD_LEGS[:1]), combo_legs=SPREAD_LEGS
        )


def test_legs_of_a_non_bag_stay_off_the_wire() -> None:
    odd = Contract(sec_type="STK", symbol="SPY", combo_legs=list(SPREAD_LEGS))
    payload = encode_payload(M.ReqHistoricalData(1, odd), 200)
    assert b"111" not in payload


def test_schedule_needs_165() -> None:
    msg = M.ReqHistoricalData(1, AAPL, "", "1 day", "1 M", what_to_show="SCHEDULE")
    with pytest.raises(UnsupportedByServer, match="needs server version 165") as e:
        encode(msg, 164)
    assert (e.value.message, e.value.field, e.value.needed) == (
        "ReqHistoricalData",
        "what_to_show",
        165,
    )
    assert decode_out(encode(msg, 165)[4:], 165) == msg
    encode(M.ReqHistoricalData(1, AAPL, what_to_show="TRADES"), 157)


def test_head_timestamp_histogram_and_ticks_requests() -> None:
    both_ways(
        M.ReqHeadTimestamp(2, AAPL, False, "BID_ASK", 2),
        176,
        nul("87", "2", *C12_AAPL, "0", "0", "BID_ASK", "2"),
    )
    both_ways(M.CancelHeadTimestamp(2), 176, nul("90", "2"))
    both_ways(
        M.ReqHistogramData(3, AAPL, True, "3 days"),
        176,
        nul("88", "3", *C12_AAPL, "0", "1", "3 days"),
    )
    both_ways(M.CancelHistogramData(3), 176, nul("89", "3"))
    start = "20240102 09:30:00 US/Eastern"
    both_ways(
        M.ReqHistoricalTicks(4, AAPL, start, "", 1000, "BID_ASK", True, True),
        176,
        nul("96", "4", *C12_AAPL, "0", start, "", "1000", "BID_ASK", "1", "1", ""),
    )


# -- the rows' generated decoder and its checked fallback -------------------------------------


def test_rows_fall_back_to_the_checked_read() -> None:
    """``Infinite`` (ib_async's spelling) fails the generated reader's ``float``; the checked
    read that follows takes it, and a bad field is named in the error."""
    payload = nul("17", "1", "1", "20240102", "Infinite", "1", "1", "1", "", "", "0")
    for msg in decode(payload, 200, M.HistoricalData):
        assert isinstance(msg, M.HistoricalData)
        assert msg.bars[0].open == float("inf")
    with pytest.raises(MalformedMessage, match="high"):
        decode_in(nul("17", "1", "1", "20240102", "1", "x", "1", "1", "", "", "0"), 200)
    with pytest.raises(MalformedMessage, match="ended early"):
        decode_in(nul("17", "1", "2", "20240102", "1", "1", "1", "1", "", "", "0"), 200)
    with pytest.raises(MalformedMessage, match="list count 9"):
        decode_in(nul("17", "1", "9", "20240102", "1", "1", "1", "1", "", "", "0"), 200)


def test_many_rows_decode_alike_on_both_paths() -> None:
    bars = [
        BarRow(f"20240102 {i // 60:02d}:{i % 60:02d}:00", 1.0 + i, 2.0, 0.5, 1.5, D(i), None, i)
        for i in range(500)
    ]
    msg = M.HistoricalData(9, bars=bars)
    payload = encode_payload(msg, 200)
    assert decode(payload, 200, M.HistoricalData) == [msg, msg]


def test_real_time_bar_maps_tws_minus_one_to_none() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from aiotws.wire.messages.historical import RealTimeBars

    t = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    quote = RealTimeBars(1, t, 1.5, 1.6, 1.4, 1.55, Decimal(-1), Decimal(-1), -1).bar()
    assert (quote.volume, quote.wap, quote.count) == (None, None, None)
    trade = RealTimeBars(1, t, 1.5, 1.6, 1.4, 1.55, Decimal(300), Decimal("1.52"), 4).bar()
    assert (trade.volume, trade.wap, trade.count) == (Decimal(300), Decimal("1.52"), 4)
