"""Market data messages beyond the generic tables (rows in ``rows_market.py``).

Pins the official client's behaviour where it differs from aiotws, or where the tables' views
paper over a difference, so a change in ``ibapi`` shows up here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ibapi.const import UNSET_DECIMAL
from ibapi.errors import FAIL_SEND_REQCALCIMPLIEDVOLAT, FAIL_SEND_REQMKT

from aiotws.errors import InvalidField
from aiotws.wire import decode_in, encode
from aiotws.wire import messages as m

from .rows_market import c12_args, official_c12, official_mkt_data_contract, our_c12
from .support import official_decode, offline_client

T = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
OPT = c12_args(symbol="AAPL", sec_type="OPT", strike=200.0, right="C", exchange="SMART")


def test_tick_price_reports_the_size_twice() -> None:
    """Pitfall 14: TICK_PRICE BID makes ``tickPrice`` *and* ``tickSize(BID_SIZE)``; TWS sends
    its own TICK_SIZE as well, so a ticker must apply sizes idempotently."""
    price = encode(m.TickPrice(1, 1, 185.5, Decimal("100"), 1), 176)[4:]
    size = encode(m.TickSize(1, 0, Decimal("100")), 176)[4:]
    calls = official_decode(price, 176) + official_decode(size, 176)
    assert [c.name for c in calls] == ["tickPrice", "tickSize", "tickSize"]
    assert calls[1].args == calls[2].args == {"reqId": 1, "tickType": 0, "size": Decimal(100)}
    assert decode_in(price, 176) == m.TickPrice(1, 1, 185.5, Decimal("100"), 1)


def test_tick_price_without_size_reports_unset_decimal() -> None:
    (_, size) = official_decode(b"1\x006\x001\x002\x00185.6\x00\x000\x00", 200)
    assert size.args["size"] == UNSET_DECIMAL  # aiotws: None
    ours = decode_in(b"1\x006\x001\x002\x00185.6\x00\x000\x00", 200)
    assert isinstance(ours, m.TickPrice) and ours.size is None


def test_tick_size_not_set_is_dropped_by_the_official_decoder() -> None:
    payload = encode(m.TickSize(1, 111, Decimal("5")), 200)[4:]
    assert official_decode(payload, 200) == []
    assert decode_in(payload, 200) == m.TickSize(1, 111, Decimal("5"))


def test_option_computation_not_computed_is_none_officially() -> None:
    payload = encode(m.TickOptionComputation(1, 13, 0), 200)[4:]
    (call,) = official_decode(payload, 200)
    assert [call[k] for k in ("impliedVol", "delta", "optPrice", "undPrice")] == [None] * 4
    msg = decode_in(payload, 200)
    assert isinstance(msg, m.TickOptionComputation)
    assert (msg.implied_vol, msg.delta, msg.opt_price, msg.und_price) == (-1.0, -2.0, -1.0, -1.0)


def _sent(call: object) -> bytes:
    client, conn, wrapper = offline_client(176)
    call(client)  # type: ignore[operator]
    assert not wrapper.errors(), wrapper.errors()
    (data,) = conn.sent
    return data


def test_infinite_float_argument_official_quirk() -> None:
    """The official client writes a ``make_field`` float as ``str(x)``: +inf goes out as
    ``inf``, which Java's ``Double.parseDouble`` rejects. aiotws sends ``Infinity`` (what
    the official client itself uses for ``make_field_handle_empty`` fields such as the
    strike). The conformance strategies keep these arguments finite."""
    theirs = _sent(
        lambda c: c.calculateImpliedVolatility(1, official_c12(OPT), float("inf"), 1.0, [])
    )
    ours = encode(m.ReqCalcImpliedVolat(1, our_c12(OPT), float("inf"), 1.0), 176)
    assert b"\x00inf\x001.0\x00" in theirs
    assert b"\x00Infinity\x001.0\x00" in ours
    assert theirs.replace(b"\x00inf\x00", b"\x00Infinity\x00")[4:] == ours[4:]


def test_nan_float_argument_official_quirk() -> None:
    """NaN: the official client sends ``nan``; aiotws refuses it before sending."""
    theirs = _sent(lambda c: c.calculateOptionPrice(1, official_c12(OPT), float("nan"), 1.0, []))
    assert b"\x00nan\x00" in theirs
    with pytest.raises(InvalidField):
        encode(m.ReqCalcOptionPrice(1, our_c12(OPT), float("nan"), 1.0), 176)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda c, opts: c.reqMktData(
                1,
                official_mkt_data_contract({**OPT, "legs": [], "delta_neutral": None}),
                "",
                False,
                False,
                opts,
            ),
            FAIL_SEND_REQMKT.code(),
        ),
        (
            lambda c, opts: c.calculateImpliedVolatility(1, official_c12(OPT), 1.0, 1.0, opts),
            FAIL_SEND_REQCALCIMPLIEDVOLAT.code(),
        ),
    ],
    ids=["reqMktData", "calculateImpliedVolatility"],
)
def test_options_lists_are_not_implemented_officially(call: object, code: int) -> None:
    """The reserved TagValue options: the official client raises ``NotImplementedError``
    (reported as a send failure) for anything but an empty list and always sends ``""``.
    aiotws keeps the field a plain string, default ``""``, and sends what it is given."""
    from ibapi.tag_value import TagValue

    client, conn, wrapper = offline_client(176)
    call(client, [TagValue("a", "b")])  # type: ignore[operator]
    assert not conn.sent
    assert [e["errorCode"] for e in wrapper.errors()] == [code]
    payload = encode(m.ReqMktData(1, our_c12(OPT), mkt_data_options="a=b;"), 176)
    assert payload.endswith(b"\x00a=b;\x00")


def test_tick_by_tick_bid_ask_bits_officially() -> None:
    """TICK_BY_TICK BidAsk: bit 0 is bidPastLow in the official decoder too (pitfall 8)."""
    msg = m.TickByTick(1, 3, T, bid_price=1.0, ask_price=2.0, bid_ask_mask=1)
    (call,) = official_decode(encode(msg, 200)[4:], 200)
    attrib = call["tickAttribBidAsk"]
    assert (attrib.bidPastLow, attrib.askPastHigh) == (True, False)
    assert (msg.bid_past_low, msg.ask_past_high) == (True, False)


def test_tick_by_tick_zero_and_unknown_make_no_official_callback() -> None:
    for tick_type in (0, 5):
        payload = encode(m.TickByTick(1, tick_type, T), 200)[4:]
        assert official_decode(payload, 200) == []
        assert decode_in(payload, 200, strict=True) == m.TickByTick(1, tick_type, T)
