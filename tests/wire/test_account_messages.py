"""Account messages: hand-written frames (PROTOCOL.md 6.14-6.18), gates, unset values."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aiotws.errors import MalformedMessage, UnsupportedByServer
from aiotws.model import Contract
from aiotws.model.account import (
    AccountSummaryTags,
    AccountValue,
    CommissionReport,
    Execution,
    ExecutionFilter,
    FamilyCode,
    PnL,
    PnLSingle,
    PortfolioItem,
    Position,
)
from aiotws.wire import decode_in, encode
from aiotws.wire.codec import encode_payload
from aiotws.wire.messages import accounts as A

from .roundtrip import both_ways, decode, nul

D = Decimal
NY = ZoneInfo("US/Eastern")


AAPL = Contract(
    sec_type="STK",
    con_id=265598,
    symbol="AAPL",
    strike=0.0,
    exchange="NASDAQ",
    currency="USD",
    local_symbol="AAPL",
    trading_class="NMS",
)
#: C11 (no primaryExchange) as EXECUTION_DATA / POSITION_DATA carry it
C11_AAPL = ["265598", "AAPL", "STK", "", "0.0", "", "", "NASDAQ", "USD", "AAPL", "NMS"]
EXEC_TIME = "20240102 10:15:30 US/Eastern"
EXEC_HEAD = [
    *("0000e0d5.65a3b2c1.01.01", EXEC_TIME, "DU1234567", "NASDAQ", "BOT", "100", "185.5"),
    *("1234567890", "7", "0", "100", "185.5", "ref-1", "", "", "", "2"),
]


def _exec_msg(version: int) -> A.ExecutionData:
    return A.ExecutionData(
        -1,
        42,
        AAPL,
        "0000e0d5.65a3b2c1.01.01",
        EXEC_TIME,
        "DU1234567",
        "NASDAQ",
        "BOT",
        D("100"),
        185.5,
        1234567890,
        7,
        0,
        D("100"),
        185.5,
        "ref-1",
        "",
        None,
        "",
        2,
        pending_price_revision=version >= 178,
        submitter="alice" if version >= 198 else "",
    )


# -- executions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "tail"),
    [(157, []), (176, []), (177, []), (178, ["1"]), (197, ["1"]), (198, ["1", "alice"]),
     (200, ["1", "alice"])],
)  # fmt: skip
def test_execution_data_frames(version: int, tail: list[str]) -> None:
    """No version field in 157..200; pendingPriceRevision from 178, submitter from 198."""
    payload = nul("11", "-1", "42", *C11_AAPL, *EXEC_HEAD, *tail)
    both_ways(_exec_msg(version), version, payload)


def test_execution_record_parses_the_time() -> None:
    msg = _exec_msg(200)
    e = msg.record()
    assert e.time == datetime(2024, 1, 2, 10, 15, 30, tzinfo=NY)
    assert e.time is not None and e.time.utcoffset() is not None
    assert e.time_text == EXEC_TIME
    assert (e.order_id, e.shares, e.cum_qty, e.ev_multiplier) == (42, D(100), D(100), None)
    assert (e.pending_price_revision, e.submitter, e.last_liquidity) == (True, "alice", 2)
    back = A.ExecutionData.from_record(-1, AAPL, e)
    assert back == msg
    # an older server cannot carry the later fields: from_record drops them
    old = A.ExecutionData.from_record(-1, AAPL, e, version=177)
    assert (old.pending_price_revision, old.submitter) == (False, "")
    encode(old, 177)


def test_execution_gates_refuse_values_an_old_server_cannot_carry() -> None:
    with pytest.raises(UnsupportedByServer) as e:
        encode(_exec_msg(198), 197)
    assert (e.value.field, e.value.needed) == ("submitter", 198)
    with pytest.raises(UnsupportedByServer) as e:
        encode(_exec_msg(178), 177)
    assert (e.value.field, e.value.needed) == ("pending_price_revision", 178)


def test_execution_data_from_200_read_at_176_is_malformed() -> None:
    payload = nul("11", "-1", "42", *C11_AAPL, *EXEC_HEAD, "1", "alice")
    with pytest.raises(MalformedMessage):
        decode_in(payload, 176, strict=True)


def test_execution_fractional_sizes_and_unknown_zone() -> None:
    fields = list(EXEC_HEAD)
    fields[1] = "20240102 10:15:30 Mars/Olympus"
    fields[5] = "0.25"
    payload = nul("11", "3", "42", *C11_AAPL, *fields, "0", "")
    msg = decode_in(payload, 200)
    assert isinstance(msg, A.ExecutionData)
    e = msg.record()
    assert e.shares == D("0.25")
    assert e.time is None and e.time_text == "20240102 10:15:30 Mars/Olympus"


def test_execution_data_end() -> None:
    both_ways(A.ExecutionDataEnd(9), 176, nul("55", "1", "9"))


def test_commission_report_with_unset_values() -> None:
    """Unset doubles arrive as Java's 1.7976931348623157E308 (PROTOCOL.md 6.14)."""
    payload = nul(
        "59", "1", "0000e0d5.65a3b2c1.01.01", "1.0", "USD", "1.7976931348623157E308",
        "1.7976931348623157E308", "0",
    )  # fmt: skip
    want = A.CommissionAndFeesReport("0000e0d5.65a3b2c1.01.01", 1.0, "USD", None, None, 0)
    for got in decode(payload, 176, A.CommissionAndFeesReport):
        assert got == want
    assert want.record() == CommissionReport("0000e0d5.65a3b2c1.01.01", 1.0, "USD")
    # aiotws writes unset as empty, which the official decoder also reads
    assert encode_payload(want, 176) == nul(
        "59", "1", "0000e0d5.65a3b2c1.01.01", "1.0", "USD", "", "", "0"
    )
    closing = A.CommissionAndFeesReport("x", 1.25, "USD", -12.5, 4.1, 20301231)
    both_ways(closing, 200, nul("59", "1", "x", "1.25", "USD", "-12.5", "4.1", "20301231"))
    assert A.CommissionAndFeesReport.from_record(closing.record()) == closing


# -- REQ_EXECUTIONS ---------------------------------------------------------------------------

FILTER = ExecutionFilter(7, "DU1234567", "20240102 09:30:00 US/Eastern", "AAPL", "STK", "", "BUY")
FILTER_FIELDS = ["7", "DU1234567", "20240102 09:30:00 US/Eastern", "AAPL", "STK", "", "BUY"]


@pytest.mark.parametrize("version", [157, 176, 199])
def test_req_executions_before_200(version: int) -> None:
    both_ways(A.ReqExecutions(5, FILTER), version, nul("7", "3", "5", *FILTER_FIELDS))
    both_ways(A.ReqExecutions(5), version, nul("7", "3", "5", "0", "", "", "", "", "", ""))


def test_req_executions_at_200() -> None:
    """lastNDays goes out as 2147483647 when unset (as the official client sends it)."""
    both_ways(
        A.ReqExecutions(5, FILTER), 200, nul("7", "3", "5", *FILTER_FIELDS, "2147483647", "0")
    )
    f = ExecutionFilter(last_n_days=3, specific_dates=["20240102", "20240103"])
    payload = nul("7", "3", "1", "0", "", "", "", "", "", "", "3", "2", "20240102", "20240103")
    both_ways(A.ReqExecutions(1, f), 200, payload)


@pytest.mark.parametrize(
    ("f", "field"),
    [
        (ExecutionFilter(last_n_days=3), "last_n_days"),
        (ExecutionFilter(specific_dates=["20240102"]), "specific_dates"),
    ],
)
def test_req_executions_days_need_200(f: ExecutionFilter, field: str) -> None:
    with pytest.raises(UnsupportedByServer) as e:
        encode(A.ReqExecutions(1, f), 199)
    assert (e.value.field, e.value.needed) == (field, 200)


# -- positions --------------------------------------------------------------------------------


def test_position_data() -> None:
    msg = A.PositionData("DU1234567", AAPL, D("100"), 150.25)
    both_ways(msg, 176, nul("61", "3", "DU1234567", *C11_AAPL, "100", "150.25"))
    assert msg.record() == Position("DU1234567", AAPL, D(100), 150.25)
    assert A.PositionData.from_record(msg.record()) == msg


def test_position_end_and_multi() -> None:
    both_ways(A.PositionEnd(), 157, nul("62", "1"))
    msg = A.PositionMulti(4, "DU1", AAPL, D("-0.5"), 10.0, "MODEL1")
    both_ways(msg, 200, nul("71", "1", "4", "DU1", *C11_AAPL, "-0.5", "10.0", "MODEL1"))
    assert msg.record() == Position("DU1", AAPL, D("-0.5"), 10.0, "MODEL1")
    assert A.PositionMulti.from_record(4, msg.record()) == msg
    both_ways(A.PositionMultiEnd(4), 200, nul("72", "1", "4"))


def test_position_requests() -> None:
    both_ways(A.ReqPositions(), 176, nul("61", "1"))
    both_ways(A.CancelPositions(), 176, nul("64", "1"))
    both_ways(A.ReqPositionsMulti(3, "DU1", ""), 176, nul("74", "1", "3", "DU1", ""))
    both_ways(A.CancelPositionsMulti(3), 176, nul("75", "1", "3"))


# -- account updates --------------------------------------------------------------------------


def test_portfolio_value() -> None:
    """V=8: C12 without exchange, position, prices, PnL, account (PROTOCOL.md 6.16)."""
    es = Contract(
        sec_type="FUT",
        con_id=495512563,
        symbol="ES",
        last_trade_date_or_contract_month="20241220",
        strike=0.0,
        multiplier="50",
        primary_exchange="CME",
        currency="USD",
        local_symbol="ESZ4",
        trading_class="ES",
    )
    fields = ["495512563", "ES", "FUT", "20241220", "0.0", "", "50", "CME", "USD", "ESZ4", "ES"]
    msg = A.PortfolioValue(es, D("2"), 5900.25, 590025.0, 295000.0, 25.0, 0.0, "DU1234567")
    payload = nul(
        "7", "8", *fields, "2", "5900.25", "590025.0", "295000.0", "25.0", "0.0", "DU1234567"
    )
    both_ways(msg, 176, payload)
    item = msg.record()
    assert item == PortfolioItem(es, D(2), 5900.25, 590025.0, 295000.0, 25.0, 0.0, "DU1234567")
    assert A.PortfolioValue.from_record(item) == msg
    # unset PnL values read as None
    unset = nul("7", "8", *fields, "2", "1", "1", "1", "1.7976931348623157E308", "", "DU1")
    got = decode_in(unset, 200)
    assert isinstance(got, A.PortfolioValue)
    assert (got.unrealized_pnl, got.realized_pnl) == (None, None)


def test_acct_value_update_time_and_download_end() -> None:
    msg = A.AcctValue("NetLiquidation", "100000.50", "USD", "DU1234567")
    both_ways(msg, 176, nul("6", "2", "NetLiquidation", "100000.50", "USD", "DU1234567"))
    assert msg.record() == AccountValue("DU1234567", "NetLiquidation", "100000.50", "USD")
    assert A.AcctValue.from_record(msg.record()) == msg
    both_ways(A.AcctUpdateTime("14:35"), 176, nul("8", "1", "14:35"))
    both_ways(A.AcctDownloadEnd("DU1234567"), 176, nul("54", "1", "DU1234567"))
    # these fields are \u-escaped by TWS
    both_ways(
        A.AcctValue("k", "caf\u00e9", "", "DU1"), 200, nul("6", "2", "k", "caf\\u00e9", "", "DU1")
    )


def test_acct_data_requests() -> None:
    both_ways(A.ReqAcctData(True, "DU1234567"), 176, nul("6", "2", "1", "DU1234567"))
    both_ways(A.ReqAcctData(False), 176, nul("6", "2", "0", ""))
    msg = A.ReqAccountUpdatesMulti(8, "DU1", "", True)
    both_ways(msg, 176, nul("76", "1", "8", "DU1", "", "1"))
    both_ways(A.CancelAccountUpdatesMulti(8), 176, nul("77", "1", "8"))


def test_account_update_multi() -> None:
    msg = A.AccountUpdateMulti(8, "DU1", "M1", "CashBalance", "1000", "USD")
    both_ways(msg, 200, nul("73", "1", "8", "DU1", "M1", "CashBalance", "1000", "USD"))
    assert msg.record() == AccountValue("DU1", "CashBalance", "1000", "USD", "M1")
    assert A.AccountUpdateMulti.from_record(8, msg.record()) == msg
    both_ways(A.AccountUpdateMultiEnd(8), 200, nul("74", "1", "8"))


# -- account summary --------------------------------------------------------------------------


def test_account_summary() -> None:
    msg = A.AccountSummary(2, "DU1234567", "NetLiquidation", "100000.50", "USD")
    both_ways(msg, 176, nul("63", "1", "2", "DU1234567", "NetLiquidation", "100000.50", "USD"))
    assert msg.record() == AccountValue("DU1234567", "NetLiquidation", "100000.50", "USD")
    assert A.AccountSummary.from_record(2, msg.record()) == msg
    # a value without a currency
    word = A.AccountSummary(2, "DU1234567", "AccountType", "INDIVIDUAL", "")
    both_ways(word, 200, nul("63", "1", "2", "DU1234567", "AccountType", "INDIVIDUAL", ""))
    both_ways(A.AccountSummaryEnd(2), 200, nul("64", "1", "2"))


def test_account_summary_requests() -> None:
    tags = AccountSummaryTags.of(
        AccountSummaryTags.NET_LIQUIDATION, AccountSummaryTags.BUYING_POWER
    )
    assert tags == "NetLiquidation,BuyingPower"
    msg = A.ReqAccountSummary(2, "All", tags)
    both_ways(msg, 176, nul("62", "1", "2", "All", "NetLiquidation,BuyingPower"))
    ledger = A.ReqAccountSummary(3, "All", AccountSummaryTags.ledger("ALL"))
    both_ways(ledger, 176, nul("62", "1", "3", "All", "$LEDGER:ALL"))
    both_ways(A.CancelAccountSummary(2), 176, nul("63", "1", "2"))


# -- PnL --------------------------------------------------------------------------------------

UNSET = "1.7976931348623157E308"


def test_pnl_with_unset_values() -> None:
    """PNL has no version field; unset values (Java's MAX_VALUE) read as None."""
    payload = nul("94", "5", "12.5", UNSET, UNSET)
    for got in decode(payload, 176, A.Pnl):
        assert got == A.Pnl(5, 12.5, None, None)
    assert decode_in(nul("94", "5", "", "", ""), 200) == A.Pnl(5)
    both_ways(A.Pnl(5, 12.5, -3.0, 0.0), 200, nul("94", "5", "12.5", "-3.0", "0.0"))
    both_ways(A.Pnl(5, 12.5), 200, nul("94", "5", "12.5", "", ""))
    assert A.Pnl(5, 12.5).record("DU1") == PnL("DU1", "", 12.5, None, None)
    assert A.Pnl.from_record(5, PnL("DU1", "", 12.5)) == A.Pnl(5, 12.5)


def test_pnl_single_with_unset_values() -> None:
    payload = nul("95", "6", "100", UNSET, "-2.5", UNSET, "18550.0")
    for got in decode(payload, 200, A.PnlSingle):
        assert got == A.PnlSingle(6, D(100), None, -2.5, None, 18550.0)
    unset_pos = decode_in(nul("95", "6", "2147483647", "", "", "", ""), 200)
    assert unset_pos == A.PnlSingle(6)
    msg = A.PnlSingle(6, D("0.5"), 1.0, 2.0, 3.0, 4.0)
    both_ways(msg, 176, nul("95", "6", "0.5", "1.0", "2.0", "3.0", "4.0"))
    record = msg.record("DU1", "", 265598)
    assert record == PnLSingle("DU1", "", 265598, D("0.5"), 1.0, 2.0, 3.0, 4.0)
    assert A.PnlSingle.from_record(6, record) == msg


def test_pnl_requests() -> None:
    both_ways(A.ReqPnl(5, "DU1", ""), 176, nul("92", "5", "DU1", ""))
    both_ways(A.CancelPnl(5), 176, nul("93", "5"))
    both_ways(A.ReqPnlSingle(6, "DU1", "", 265598), 176, nul("94", "6", "DU1", "", "265598"))
    both_ways(A.CancelPnlSingle(6), 176, nul("95", "6"))


# -- family codes, user info ------------------------------------------------------------------


def test_family_codes() -> None:
    both_ways(A.ReqFamilyCodes(), 176, nul("80"))
    msg = A.FamilyCodes([FamilyCode("DU1", "F1"), FamilyCode("DU2", "")])
    both_ways(msg, 176, nul("78", "2", "DU1", "F1", "DU2", ""))
    both_ways(A.FamilyCodes(), 176, nul("78", "0"))


def test_user_info_needs_167() -> None:
    both_ways(A.ReqUserInfo(3), 167, nul("104", "3"))
    both_ways(A.UserInfo(3, "IBKR"), 200, nul("107", "3", "IBKR"))
    with pytest.raises(UnsupportedByServer) as e:
        encode(A.ReqUserInfo(3), 166)
    assert e.value.field is None and e.value.needed == 167


def test_execution_model_round_trips_its_time_text() -> None:
    t = datetime(2024, 1, 2, 10, 15, 30, tzinfo=NY)
    e = Execution(exec_id="x", time=t)
    assert e.time_text == EXEC_TIME
    assert Execution(time_text=e.time_text).time == t
    utc = Execution(time=datetime(2024, 1, 2, 15, 15, 30, tzinfo=UTC))
    assert utc.time_text == "20240102 15:15:30 UTC"
    assert Execution(time_text=utc.time_text).time == t
