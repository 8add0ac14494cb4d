"""The account model records: execution times, defaults, tags (no I/O, no wire)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aiotws.model import Contract
from aiotws.model.account import (
    AccountSummaryTags,
    AccountValue,
    CommissionReport,
    Execution,
    ExecutionFilter,
    FamilyCode,
    Fill,
    OptionExerciseType,
    PnL,
    PnLSingle,
    PortfolioItem,
    Position,
    format_execution_time,
    parse_execution_time,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240102 10:15:30 US/Eastern", datetime(2024, 1, 2, 10, 15, 30, tzinfo=NY)),
        ("20240102 10:15:30 America/New_York", datetime(2024, 1, 2, 10, 15, 30, tzinfo=NY)),
        ("20240102 10:15:30 EST", datetime(2024, 1, 2, 10, 15, 30, tzinfo=NY)),
        ("20240702 16:00:00 Europe/London", datetime(2024, 7, 2, 15, 0, 0, tzinfo=UTC)),
        ("20240102-15:15:30", datetime(2024, 1, 2, 15, 15, 30, tzinfo=UTC)),
        ("20240102 15:15:30 UTC", datetime(2024, 1, 2, 15, 15, 30, tzinfo=UTC)),
    ],
)
def test_parse_execution_time(text: str, expected: datetime) -> None:
    got = parse_execution_time(text)
    assert got == expected
    assert got is not None and got.tzinfo is not None


@pytest.mark.parametrize(
    "text", ["", "garbage", "20240102 10:15:30", "20240102 10:15:30 Mars/Olympus", "2024"]
)
def test_unparseable_execution_times_are_none(text: str) -> None:
    assert parse_execution_time(text) is None
    e = Execution(time_text=text)
    assert e.time is None
    assert e.time_text == text  # the raw text is kept


def test_format_execution_time() -> None:
    assert format_execution_time(datetime(2024, 1, 2, 9, 5, 1, tzinfo=NY)) == (
        "20240102 09:05:01 America/New_York"
    )
    assert format_execution_time(datetime(2024, 1, 2, 9, 5, 1, tzinfo=UTC)) == (
        "20240102 09:05:01 UTC"
    )
    # a fixed offset has no name TWS would write: it goes out as UTC
    plus2 = timezone(timedelta(hours=2))
    assert format_execution_time(datetime(2024, 1, 2, 9, 5, 1, tzinfo=plus2)) == (
        "20240102 07:05:01 UTC"
    )
    with pytest.raises(ValueError, match="aware"):
        format_execution_time(datetime(2024, 1, 2))


def test_execution_time_and_text_follow_each_other() -> None:
    t = datetime(2024, 3, 10, 12, 0, tzinfo=NY)
    assert Execution(time=t).time_text == "20240310 12:00:00 America/New_York"
    assert Execution(time_text="20240310 12:00:00 America/New_York").time == t
    # both given: both kept as given
    e = Execution(time=t, time_text="whatever")
    assert (e.time, e.time_text) == (t, "whatever")


def test_execution_defaults() -> None:
    e = Execution()
    assert e.shares == Decimal(0) and isinstance(e.shares, Decimal)
    assert e.cum_qty == Decimal(0)
    assert e.ev_multiplier is None
    assert e.opt_exercise_or_lapse_type is OptionExerciseType.NONE
    assert (e.pending_price_revision, e.submitter, e.time) == (False, "", None)
    # every field of the official 10.51 Execution, in snake case
    names = {f.name for f in dataclasses.fields(Execution)}
    assert names >= {
        "exec_id", "time", "acct_number", "exchange", "side", "shares", "price", "perm_id",
        "client_id", "order_id", "liquidation", "cum_qty", "avg_price", "order_ref", "ev_rule",
        "ev_multiplier", "model_code", "last_liquidity", "pending_price_revision", "submitter",
        "opt_exercise_or_lapse_type",
    }  # fmt: skip


def test_option_exercise_type_codes() -> None:
    assert OptionExerciseType(-1) is OptionExerciseType.NONE
    assert [t.value for t in OptionExerciseType] == [-1, 1, 2, 3, 100, 101, 102, 103, 200]


def test_execution_filter_defaults_match_everything() -> None:
    f = ExecutionFilter()
    assert (f.client_id, f.acct_code, f.time, f.symbol, f.sec_type, f.exchange, f.side) == (
        0, "", "", "", "", "", ""
    )  # fmt: skip
    assert f.last_n_days is None and f.specific_dates == []
    assert ExecutionFilter().specific_dates is not f.specific_dates  # no shared default


def test_commission_report_unset_values() -> None:
    r = CommissionReport("x", 1.0, "USD")
    assert (r.realized_pnl, r.yield_, r.yield_redemption_date) == (None, None, 0)


def test_fill_takes_the_execution_time() -> None:
    t = datetime(2024, 1, 2, 10, 0, tzinfo=NY)
    fill = Fill(Contract(con_id=1), Execution(time=t))
    assert fill.time == t and fill.commission_report is None
    later = datetime(2024, 1, 2, 10, 1, tzinfo=NY)
    assert Fill(Contract(), Execution(time=t), time=later).time == later


def test_position_portfolio_and_values() -> None:
    c = Contract(con_id=265598, symbol="AAPL")
    p = Position("DU1", c, Decimal("10"), 150.0)
    assert p.model_code == ""
    item = PortfolioItem(c, Decimal(10), 185.0, 1850.0, 150.0)
    assert (item.unrealized_pnl, item.realized_pnl, item.account) == (None, None, "")
    v = AccountValue("DU1", "NetLiquidation", "1000.5", "USD")
    assert v.model_code == "" and isinstance(v.value, str)


def test_pnl_records_default_to_unset() -> None:
    assert PnL() == PnL("", "", None, None, None)
    s = PnLSingle(con_id=265598)
    assert (s.position, s.daily_pnl, s.unrealized_pnl, s.realized_pnl, s.value) == (
        None, None, None, None, None
    )  # fmt: skip


def test_family_code_is_a_value() -> None:
    assert FamilyCode("DU1", "F1") == FamilyCode("DU1", "F1")
    assert len({FamilyCode("DU1", "F1"), FamilyCode("DU1", "F1")}) == 1


def test_account_summary_tags() -> None:
    # PROTOCOL.md 6.17; tests/conformance/test_accounts.py checks it against the official list
    tags = AccountSummaryTags.all().split(",")
    assert len(tags) == 29
    assert tags[:3] == ["AccountType", "NetLiquidation", "TotalCashValue"]
    assert tags[-1] == "Leverage"
    assert AccountSummaryTags.NET_LIQUIDATION == "NetLiquidation"
    assert AccountSummaryTags.of(AccountSummaryTags.SMA, "Leverage") == "SMA,Leverage"
    assert AccountSummaryTags.ledger() == "$LEDGER"
    assert AccountSummaryTags.ledger("ALL") == "$LEDGER:ALL"
    assert AccountSummaryTags.ledger("EUR") == "$LEDGER:EUR"
