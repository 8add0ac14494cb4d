"""Scanner messages: hand-written frames at 157 and 200 (PROTOCOL.md 6.20), unset values."""

from __future__ import annotations

import pytest

from aiotws.errors import InvalidField, MalformedMessage
from aiotws.model import Contract, ScannerSubscription, ScanRow, TagValue
from aiotws.wire import decode_in, decode_out, encode
from aiotws.wire.messages import scanner as S

from .roundtrip import both_ways, decode, nul

VERSIONS = [157, 200]


#: 21 subscription fields, all unset: numberOfRows -1, doubles and ints empty, bool 0
UNSET_SUB = ["-1", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "0"]
UNSET_SUB += ["", "", ""]


@pytest.mark.parametrize("version", VERSIONS)
def test_req_scanner_parameters(version: int) -> None:
    both_ways(S.ReqScannerParameters(), version, nul("24", "1"))


@pytest.mark.parametrize("version", VERSIONS)
def test_req_scanner_subscription_unset(version: int) -> None:
    """No version field from 143; unset numbers as the official client writes them."""
    sub = ScannerSubscription(scan_code="", instrument="", location_code="")
    assert len(UNSET_SUB) == 21
    both_ways(S.ReqScannerSubscription(7, sub), version, nul("22", "7", *UNSET_SUB, "", ""))


@pytest.mark.parametrize("version", VERSIONS)
def test_req_scanner_subscription_full(version: int) -> None:
    sub = ScannerSubscription(
        scan_code="TOP_PERC_GAIN",
        instrument="STK",
        location_code="STK.US.MAJOR",
        number_of_rows=20,
        above_price=5.0,
        below_price=100.5,
        above_volume=100000,
        market_cap_above=1e9,
        market_cap_below=2.5e11,
        moody_rating_above="A",
        moody_rating_below="AAA",
        sp_rating_above="BBB",
        sp_rating_below="AA",
        maturity_date_above="20250101",
        maturity_date_below="20301231",
        coupon_rate_above=1.5,
        coupon_rate_below=7.25,
        exclude_convertible=True,
        average_option_volume_above=500,
        scanner_setting_pairs="Annual,true",
        stock_type_filter="CORP",
    )
    msg = S.ReqScannerSubscription(
        9001,
        sub,
        [TagValue("priceAbove", "5"), TagValue("marketCapAbove1e6", "1000")],
        [TagValue("xyz", "1")],
    )
    fields = [
        *("9001", "20", "STK", "STK.US.MAJOR", "TOP_PERC_GAIN", "5.0", "100.5", "100000"),
        *("1000000000.0", "250000000000.0", "A", "AAA", "BBB", "AA", "20250101", "20301231"),
        *("1.5", "7.25", "1", "500", "Annual,true", "CORP"),
        "priceAbove=5;marketCapAbove1e6=1000;",
        "xyz=1;",
    ]
    both_ways(msg, version, nul("22", *fields))


def test_req_scanner_subscription_reads_the_sentinel_forms() -> None:
    """ib_async and older clients may send UNSET_DOUBLE / UNSET_INTEGER literally."""
    fields = ["3", "-1", "STK", "STK.US", "MOST_ACTIVE", "1.7976931348623157E308", ""]
    fields += ["2147483647", "", "", "", "", "", "", "", "", "", "", "0", "2147483647"]
    fields += ["", "", "", ""]
    msg = decode_out(nul("22", *fields), 178)
    assert isinstance(msg, S.ReqScannerSubscription)
    s = msg.subscription
    assert (s.number_of_rows, s.above_price, s.above_volume) == (None, None, None)
    assert s.average_option_volume_above is None
    assert (s.scan_code, s.instrument, s.location_code) == ("MOST_ACTIVE", "STK", "STK.US")
    assert msg.filter_options == [] and msg.options == []


def test_number_of_rows_minus_one_is_written_as_none_only() -> None:
    sub = ScannerSubscription("MOST_ACTIVE", number_of_rows=-1)
    with pytest.raises(InvalidField):
        encode(S.ReqScannerSubscription(1, sub), 176)


def test_bad_tag_values_are_refused() -> None:
    msg = S.ReqScannerSubscription(1, ScannerSubscription("X"), [TagValue("a;b", "1")])
    with pytest.raises(InvalidField):
        encode(msg, 176)


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_scanner_subscription(version: int) -> None:
    both_ways(S.CancelScannerSubscription(42), version, nul("23", "1", "42"))


@pytest.mark.parametrize("version", VERSIONS)
def test_scanner_parameters(version: int) -> None:
    xml = '<?xml version="1.0"?><ScanParameterResponse><a>Zürich</a></ScanParameterResponse>'
    wire_xml = xml.replace("ü", "\\u00fc")
    both_ways(S.ScannerParameters(xml), version, nul("19", "1", wire_xml))


#: two rows as a real TWS sends them (rust-ibapi #213 log: stock strike "0", no distance)
ROW_ALUR = ["0", "751045847", "ALUR", "STK", "", "0", "", "SMART", "USD", "ALUR"]
ROW_ALUR += ["ALUR", "ALUR", "", "", "", ""]
ROW_ESZ6 = ["1", "495512557", "ES", "FUT", "20261218", "0", "", "CME", "USD", "ESZ6"]
ROW_ESZ6 += ["ES", "ES", "1.5", "bench", "proj", "legs"]


@pytest.mark.parametrize("version", VERSIONS)
def test_scanner_data(version: int) -> None:
    payload = nul("20", "3", "9000", "2", *ROW_ALUR, *ROW_ESZ6)
    rows = [S.ScanDataElement(0, 751045847, "ALUR", "STK", "", 0.0, "", "SMART", "USD", "ALUR")]
    rows[0].market_name = rows[0].trading_class = "ALUR"
    rows.append(
        S.ScanDataElement(
            *(1, 495512557, "ES", "FUT", "20261218", 0.0, "", "CME", "USD", "ESZ6", "ES", "ES"),
            *("1.5", "bench", "proj", "legs"),
        )
    )
    msg = S.ScannerData(9000, rows)
    # TWS writes the strike as "0"; aiotws (the simulator) writes Python's "0.0"
    for got in decode(payload, version, S.ScannerData):
        assert got == msg
    ours = payload.replace(b"\x000\x00\x00SMART", b"\x000.0\x00\x00SMART")
    ours = ours.replace(b"\x000\x00\x00CME", b"\x000.0\x00\x00CME")
    both_ways(msg, version, ours)
    first, second = msg.records()
    assert first == ScanRow(
        0,
        Contract(
            sec_type="STK",
            con_id=751045847,
            symbol="ALUR",
            strike=0.0,
            exchange="SMART",
            currency="USD",
            local_symbol="ALUR",
            trading_class="ALUR",
        ),
        "ALUR",
    )
    assert second.contract.last_trade_date_or_contract_month == "20261218"
    assert (second.distance, second.benchmark, second.projection, second.legs) == (
        "1.5",
        "bench",
        "proj",
        "legs",
    )
    assert S.ScannerData.from_records(9000, msg.records()) == msg


@pytest.mark.parametrize("version", VERSIONS)
def test_scanner_data_empty(version: int) -> None:
    both_ways(S.ScannerData(5, []), version, nul("20", "3", "5", "0"))


def test_scanner_data_with_a_short_row_is_malformed() -> None:
    with pytest.raises(MalformedMessage):
        decode_in(nul("20", "3", "5", "1", *ROW_ALUR[:-2]), 200, strict=True)
