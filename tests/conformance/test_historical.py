"""Historical data messages beyond the generic tables (rows in ``rows_historical.py``).

The tables check every row at ``support.VERSIONS``; here the same rows run at the versions
where a gate of these messages flips (165 ``HISTORICAL_SCHEDULE``, 196
``HISTORICAL_DATA_END``), and the official client's behaviour is pinned where it differs
from aiotws or where the views paper over a difference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ibapi.errors import UPDATE_TWS

from aiotws.errors import MalformedMessage, UnsupportedByServer
from aiotws.model import Contract
from aiotws.wire import decode_in, decode_out, encode
from aiotws.wire import messages as m
from aiotws.wire.messages.historical import BarRow, TickBidAskRow, TickLastRow, TickRow

from . import test_incoming, test_outgoing
from .rows_historical import INCOMING_ROWS, OUTGOING_ROWS, hist_args, official_hist_contract
from .support import official_decode, offline_client

T = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000
BAR = BarRow("20240102", 185.5, 186.0, 184.1, 185.9, Decimal("1000"), Decimal("185.6"), 12)
#: the versions around the gates of these messages inside 157..200
FLIPS = (164, 165, 195, 196)


@pytest.mark.parametrize("version", FLIPS)
@pytest.mark.parametrize("row", OUTGOING_ROWS, ids=lambda r: r.id)
def test_outgoing_samples_at_the_gates(row: test_outgoing.Row, version: int) -> None:
    for args in row.samples:
        test_outgoing.check(row, args, version)


@pytest.mark.parametrize("version", FLIPS)
@pytest.mark.parametrize("row", INCOMING_ROWS, ids=lambda r: r.id)
def test_incoming_samples_at_the_gates(row: test_incoming.Row, version: int) -> None:
    for msg in row.samples(version):
        test_incoming.check(row, msg, version)


def test_historical_data_callbacks_at_195_and_196() -> None:
    """Below 196 HISTORICAL_DATA ends the request: the official decoder calls
    ``historicalDataEnd`` after the bars, even for an empty range (which the table's views
    leave out). From 196 it makes only the bar callbacks; HISTORICAL_DATA_END ends it."""
    old = encode(m.HistoricalData(1, "", "", [BAR]), 195)[4:]
    assert [c.name for c in official_decode(old, 195)] == ["historicalData", "historicalDataEnd"]
    (_, end) = official_decode(old, 195)
    assert end.args == {"reqId": 1, "start": "", "end": ""}

    new = encode(m.HistoricalData(1, bars=[BAR]), 196)[4:]
    assert [c.name for c in official_decode(new, 196)] == ["historicalData"]
    done = encode(m.HistoricalDataEnd(1, "a", "b"), 196)[4:]
    (call,) = official_decode(done, 196)
    assert call.args == {"reqId": 1, "start": "a", "end": "b"}


def test_historical_data_range_is_gone_from_196() -> None:
    with pytest.raises(UnsupportedByServer) as e:
        encode(m.HistoricalData(1, "20240101", "20240105", [BAR]), 196)
    assert (e.value.field, e.value.needed, e.value.removed) == ("start_date", 196, True)
    # the bytes of 195 read at 196: the start date is taken for the bar count
    old = encode(m.HistoricalData(1, "20240101", "20240105", [BAR]), 195)[4:]
    with pytest.raises(MalformedMessage):
        decode_in(old, 196, strict=True)


@pytest.mark.parametrize("version", [157, 164])
def test_end_and_schedule_decode_below_their_gates_officially(version: int) -> None:
    """HISTORICAL_DATA_END and HISTORICAL_SCHEDULE have no gate in the official decoder:
    aiotws decodes (and the sim can encode) them at any version too; only TWS's choice of
    when to send them depends on the version."""
    end = encode(m.HistoricalDataEnd(3, "a", "b"), version)[4:]
    assert [c.name for c in official_decode(end, version)] == ["historicalDataEnd"]
    sched = encode(m.HistoricalSchedule(3, "s", "e", "US/Eastern"), version)[4:]
    assert [c.name for c in official_decode(sched, version)] == ["historicalSchedule"]
    assert decode_in(sched, version, strict=True) == m.HistoricalSchedule(3, "s", "e", "US/Eastern")


def test_schedule_needs_165_on_both_sides() -> None:
    a = hist_args(con_id=265598, what_to_show="SCHEDULE")
    client, conn, wrapper = offline_client(164)
    client.reqHistoricalData(
        1, official_hist_contract(a), "", "1 D", "1 day", "SCHEDULE", 1, 1, False, []
    )
    assert not conn.sent
    assert [e["errorCode"] for e in wrapper.errors()] == [UPDATE_TWS.code()]
    msg = m.ReqHistoricalData(1, Contract(con_id=265598), "", "1 day", "1 D", True, "SCHEDULE")
    with pytest.raises(UnsupportedByServer) as e:
        encode(msg, 164)
    assert (e.value.field, e.value.needed) == ("what_to_show", 165)
    assert decode_out(encode(msg, 165)[4:], 165) == msg


def _sent(version: int, call: object) -> bytes:
    client, conn, wrapper = offline_client(version)
    call(client)  # type: ignore[operator]
    assert not wrapper.errors(), wrapper.errors()
    (data,) = conn.sent
    return data


def test_captured_ib_async_request_at_178() -> None:
    """PROTOCOL.md 6.6: the captured REQ_HISTORICAL_DATA of a bond, both encoders."""
    expected = (
        "20|1|0|US912797PA95|BOND||0.0|||SMART||USD|||0|20250413 21:56:00 UTC|1 day|8 D|1|"
        "MIDPOINT|1|0||"
    ).replace("|", "\0")
    a = hist_args(
        symbol="US912797PA95", sec_type="BOND", strike=0.0, exchange="SMART", currency="USD"
    )
    theirs = _sent(
        178,
        lambda c: c.reqHistoricalData(
            1,
            official_hist_contract(a),
            "20250413 21:56:00 UTC",
            "8 D",
            "1 day",
            "MIDPOINT",
            1,
            1,
            False,
            [],
        ),
    )
    contract = Contract(
        sec_type="BOND", symbol="US912797PA95", strike=0.0, exchange="SMART", currency="USD"
    )
    ours = encode(
        m.ReqHistoricalData(
            1, contract, "20250413 21:56:00 UTC", "1 day", "8 D", True, "MIDPOINT", 1
        ),
        178,
    )
    assert theirs[4:] == ours[4:] == expected.encode()


def test_use_rth_other_ints_are_written_as_one() -> None:
    """A deliberate difference: ``useRTH`` is 0 or 1 to TWS, and aiotws's field is a bool.
    The official client takes an int and writes any other value (2) as itself."""
    a = hist_args(symbol="AAPL", sec_type="STK")
    theirs = _sent(
        176,
        lambda c: c.reqHistoricalData(
            1, official_hist_contract(a), "", "1 D", "1 day", "TRADES", 2, 1, False, []
        ),
    )
    msg = m.ReqHistoricalData(1, Contract(sec_type="STK", symbol="AAPL"), "", "1 day", "1 D")
    msg.use_rth = 2  # type: ignore[assignment]
    ours = encode(msg, 176)
    assert b"\x001 day\x001 D\x002\x00TRADES\x00" in theirs
    assert b"\x001 day\x001 D\x001\x00TRADES\x00" in ours


def test_chart_options_join_like_the_official_client() -> None:
    from ibapi.tag_value import TagValue

    a = hist_args(symbol="AAPL")
    theirs = _sent(
        200,
        lambda c: c.reqHistoricalData(
            1,
            official_hist_contract(a),
            "",
            "1 D",
            "1 day",
            "TRADES",
            1,
            1,
            True,
            [TagValue("a", "1"), TagValue("b", "")],
        ),
    )
    ours = encode(
        m.ReqHistoricalData(
            1,
            Contract(symbol="AAPL"),
            "",
            "1 day",
            "1 D",
            True,
            keep_up_to_date=True,
            chart_options="a=1;b=;",
        ),
        200,
    )
    assert theirs == ours
    assert ours.endswith(b"\x001\x00a=1;b=;\x00")


def test_bid_ask_mask_bits_officially() -> None:
    """HISTORICAL_TICKS_BID_ASK: bit 0 is askPastHigh, bit 1 bidPastLow, the reverse of
    TICK_BY_TICK's BidAsk mask (pitfall 8; TICK_BY_TICK is pinned in test_market)."""
    rows = [TickBidAskRow(T, mask, 1.0, 2.0) for mask in (1, 2)]
    (call,) = official_decode(encode(m.HistoricalTicksBidAsk(1, rows, True), 200)[4:], 200)
    attribs = [
        (t.tickAttribBidAsk.askPastHigh, t.tickAttribBidAsk.bidPastLow) for t in call["ticks"]
    ]
    assert attribs == [(True, False), (False, True)]
    assert [(r.ask_past_high, r.bid_past_low) for r in rows] == attribs


def test_last_mask_bits_officially() -> None:
    rows = [TickLastRow(T, mask, 1.0, Decimal(1)) for mask in (1, 2)]
    (call,) = official_decode(encode(m.HistoricalTicksLast(1, rows, True), 200)[4:], 200)
    attribs = [(t.tickAttribLast.pastLimit, t.tickAttribLast.unreported) for t in call["ticks"]]
    assert attribs == [(True, False), (False, True)]
    assert [(r.past_limit, r.unreported) for r in rows] == attribs


def test_midpoint_tick_placeholder_is_skipped_officially() -> None:
    """The int after a MIDPOINT tick's time is always 0 from TWS; the official decoder skips
    it unread, aiotws keeps it as ``mask`` so the frame round trips."""
    payload = b"96\x001\x001\x001700000000\x007\x00185.55\x000\x001\x00"
    (call,) = official_decode(payload, 176)
    (tick,) = call["ticks"]
    assert (tick.time, tick.price, tick.size, call["done"]) == (1700000000, 185.55, 0, True)
    ours = decode_in(payload, 176, strict=True)
    assert ours == m.HistoricalTicks(1, [TickRow(T, 7, 185.55, Decimal(0))], True)


def test_no_value_bars_are_minus_one_on_both_sides() -> None:
    """TWS's -1 volume, WAP and count (bars without trades) reach both clients as -1; the
    client layer, not the wire, turns them into ``None``."""
    bar = BarRow("20240102", 1.0, 1.0, 1.0, 1.0, Decimal(-1), Decimal(-1), -1)
    (call,) = official_decode(encode(m.HistoricalData(1, bars=[bar]), 200)[4:], 200)
    b = call["bar"]
    assert (b.volume, b.wap, b.barCount) == (Decimal(-1), Decimal(-1), -1)
