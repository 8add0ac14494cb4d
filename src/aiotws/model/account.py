"""Accounts, positions, executions and PnL: the records TWS reports about what you hold.

Sizes (``shares``, ``position``, ``cum_qty``) are ``Decimal``; prices and money are floats.
A money value TWS leaves unset (its ``1.7976931348623157E308`` or an empty field) is
``None``, never the sentinel. Account values stay text: TWS sends numbers, currencies and
words (``AccountType``) through the same field. No I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from aiotws.model.contract import Contract
from aiotws.timezones import parse_tws_datetime

__all__ = [
    "AccountSummaryTags",
    "AccountValue",
    "CommissionReport",
    "Execution",
    "ExecutionFilter",
    "FamilyCode",
    "Fill",
    "OptionExerciseType",
    "PnL",
    "PnLSingle",
    "PortfolioItem",
    "Position",
    "format_execution_time",
    "parse_execution_time",
]

_ZERO: Final = Decimal(0)


def parse_execution_time(text: str) -> datetime | None:
    """An execution time as TWS writes it (``yyyymmdd hh:mm:ss zone``), tz-aware.

    ``None`` when the text does not parse, has no zone, or names one aiotws does not know
    (add it to :data:`aiotws.timezones.ZONE_ALIASES`); ``Execution.time_text`` keeps the
    text either way. ``yyyymmdd-hh:mm:ss`` is UTC.
    """
    return parse_tws_datetime(text)


def format_execution_time(time: datetime) -> str:
    """``time`` as TWS writes an execution time: ``yyyymmdd hh:mm:ss`` and the zone's name.

    An IANA zone keeps its name; any other zone is written as UTC.
    """
    if time.tzinfo is None:
        raise ValueError("an execution time must be time-zone aware")
    zone = time.tzinfo
    if isinstance(zone, ZoneInfo) and zone.key:
        return f"{time:%Y%m%d %H:%M:%S} {zone.key}"
    return f"{time.astimezone(UTC):%Y%m%d %H:%M:%S} UTC"


class OptionExerciseType(enum.IntEnum):
    """How an option execution came about (``Execution.opt_exercise_or_lapse_type``).

    TWS reports it only in the protobuf encoding (server 201+); text-mode executions are
    always :attr:`NONE`.
    """

    NONE = -1
    EXERCISE = 1
    LAPSE = 2
    DO_NOTHING = 3
    ASSIGNED = 100
    AUTOEXERCISE_CLEARING = 101
    EXPIRED = 102
    NETTING = 103
    AUTOEXERCISE_TRADING = 200


@dataclass(slots=True)
class Execution:
    """One fill of an order (EXECUTION_DATA).

    ``time`` is parsed from ``time_text``, TWS's ``yyyymmdd hh:mm:ss zone``; give either one
    and the other follows. ``side`` is ``BOT`` or ``SLD``. ``shares`` is this fill's size,
    ``cum_qty``/``avg_price`` the order's totals so far. ``ev_multiplier`` is ``None`` when
    TWS leaves it unset. ``pending_price_revision`` (server 178+) and ``submitter`` (198+)
    stay at their defaults on older servers. Match a commission to its execution by
    ``exec_id`` (COMMISSION_REPORT carries nothing else).
    """

    exec_id: str = ""
    time: datetime | None = None
    acct_number: str = ""
    exchange: str = ""
    side: str = ""
    shares: Decimal = _ZERO
    price: float = 0.0
    perm_id: int = 0
    client_id: int = 0
    order_id: int = 0
    liquidation: int = 0
    cum_qty: Decimal = _ZERO
    avg_price: float = 0.0
    order_ref: str = ""
    ev_rule: str = ""
    ev_multiplier: float | None = None
    model_code: str = ""
    last_liquidity: int = 0
    pending_price_revision: bool = False
    submitter: str = ""
    opt_exercise_or_lapse_type: OptionExerciseType = OptionExerciseType.NONE
    #: the time exactly as TWS sent it
    time_text: str = ""

    def __post_init__(self) -> None:
        if self.time is None and self.time_text:
            self.time = parse_execution_time(self.time_text)
        elif self.time is not None and not self.time_text:
            self.time_text = format_execution_time(self.time)


@dataclass(slots=True)
class ExecutionFilter:
    """Which executions REQ_EXECUTIONS asks for; an empty filter matches all of today's.

    ``time``: executions after ``yyyymmdd hh:mm:ss`` (with a zone, or ``yyyymmdd-hh:mm:ss``
    UTC). ``side``: ``BUY`` or ``SELL``. ``last_n_days`` and ``specific_dates``
    (``yyyymmdd``) need server 200 (``PARAMETRIZED_DAYS_OF_EXECUTIONS``); an older server
    refuses a filter that sets them.
    """

    client_id: int = 0
    acct_code: str = ""
    time: str = ""
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    side: str = ""
    last_n_days: int | None = None
    specific_dates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CommissionReport:
    """The commission of one execution (COMMISSION_REPORT; ``CommissionAndFeesReport`` in
    IB's newer clients, whose ``commissionAndFees`` is :attr:`commission`).

    ``realized_pnl`` and ``yield_`` are ``None`` when TWS leaves them unset (an opening
    trade has no realized PnL); ``yield_redemption_date`` is ``yyyymmdd`` as an int, 0 if none.
    """

    exec_id: str = ""
    commission: float = 0.0
    currency: str = ""
    realized_pnl: float | None = None
    yield_: float | None = None
    yield_redemption_date: int = 0


@dataclass(slots=True)
class Fill:
    """An execution with its contract and, once it arrived, its commission report.

    ``time`` is the execution's time (when TWS's text did not parse: when it was received).
    """

    contract: Contract
    execution: Execution
    commission_report: CommissionReport | None = None
    time: datetime | None = None

    def __post_init__(self) -> None:
        if self.time is None:
            self.time = self.execution.time


@dataclass(slots=True)
class Position:
    """A position in one contract (POSITION_DATA, or POSITION_MULTI with ``model_code``).

    ``avg_cost`` includes the multiplier (an option's cost per contract, not per share).
    """

    account: str
    contract: Contract
    position: Decimal = _ZERO
    avg_cost: float = 0.0
    model_code: str = ""


@dataclass(slots=True)
class PortfolioItem:
    """A position with its market value, from the account updates (PORTFOLIO_VALUE).

    ``unrealized_pnl`` / ``realized_pnl`` are ``None`` when TWS sends them unset.
    """

    contract: Contract
    position: Decimal = _ZERO
    market_price: float = 0.0
    market_value: float = 0.0
    average_cost: float = 0.0
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    account: str = ""


@dataclass(slots=True)
class AccountValue:
    """One account value (ACCT_VALUE, ACCOUNT_SUMMARY or ACCOUNT_UPDATE_MULTI).

    ``tag`` is TWS's key (``NetLiquidation``, ``BuyingPower`` …); ``value`` its text, to be
    converted by the reader (most are numbers, ``AccountType`` is a word, ``AccountReady``
    ``true``/``false``). ``currency`` is empty for values that have none. ``model_code`` is
    set only for ACCOUNT_UPDATE_MULTI.
    """

    account: str
    tag: str
    value: str
    currency: str = ""
    model_code: str = ""


class AccountSummaryTags(enum.StrEnum):
    """The tags REQ_ACCOUNT_SUMMARY accepts (the official client's ``AccountSummaryTags``).

    Send a comma list: ``AccountSummaryTags.all()`` for every tag, or
    :meth:`ledger` for the per-currency ``$LEDGER`` groups.
    """

    ACCOUNT_TYPE = "AccountType"
    NET_LIQUIDATION = "NetLiquidation"
    TOTAL_CASH_VALUE = "TotalCashValue"
    SETTLED_CASH = "SettledCash"
    ACCRUED_CASH = "AccruedCash"
    BUYING_POWER = "BuyingPower"
    EQUITY_WITH_LOAN_VALUE = "EquityWithLoanValue"
    PREVIOUS_DAY_EQUITY_WITH_LOAN_VALUE = "PreviousDayEquityWithLoanValue"
    GROSS_POSITION_VALUE = "GrossPositionValue"
    REQ_T_EQUITY = "ReqTEquity"
    REQ_T_MARGIN = "ReqTMargin"
    SMA = "SMA"
    INIT_MARGIN_REQ = "InitMarginReq"
    MAINT_MARGIN_REQ = "MaintMarginReq"
    AVAILABLE_FUNDS = "AvailableFunds"
    EXCESS_LIQUIDITY = "ExcessLiquidity"
    CUSHION = "Cushion"
    FULL_INIT_MARGIN_REQ = "FullInitMarginReq"
    FULL_MAINT_MARGIN_REQ = "FullMaintMarginReq"
    FULL_AVAILABLE_FUNDS = "FullAvailableFunds"
    FULL_EXCESS_LIQUIDITY = "FullExcessLiquidity"
    LOOK_AHEAD_NEXT_CHANGE = "LookAheadNextChange"
    LOOK_AHEAD_INIT_MARGIN_REQ = "LookAheadInitMarginReq"
    LOOK_AHEAD_MAINT_MARGIN_REQ = "LookAheadMaintMarginReq"
    LOOK_AHEAD_AVAILABLE_FUNDS = "LookAheadAvailableFunds"
    LOOK_AHEAD_EXCESS_LIQUIDITY = "LookAheadExcessLiquidity"
    HIGHEST_SEVERITY = "HighestSeverity"
    DAY_TRADES_REMAINING = "DayTradesRemaining"
    LEVERAGE = "Leverage"

    @classmethod
    def all(cls) -> str:
        """Every tag as one comma list, in the official client's order (its ``AllTags``)."""
        return ",".join(tag.value for tag in cls)

    @classmethod
    def of(cls, *tags: str) -> str:
        """A comma list of ``tags`` (members or plain strings)."""
        return ",".join(str(t) for t in tags)

    @staticmethod
    def ledger(currency: str | None = None) -> str:
        """The ``$LEDGER`` tag: base currency only (``None``), ``"ALL"`` currencies, or one."""
        return "$LEDGER" if currency is None else f"$LEDGER:{currency}"


@dataclass(slots=True)
class PnL:
    """Daily, unrealized and realized PnL of an account or model (PNL).

    Each value is ``None`` while TWS has none to report (it sends ``1.7976931348623157E308``).
    """

    account: str = ""
    model_code: str = ""
    daily_pnl: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None


@dataclass(slots=True)
class PnLSingle:
    """PnL of one position (PNL_SINGLE); ``value`` is the position's market value.

    Unset values are ``None``, as for :class:`PnL`.
    """

    account: str = ""
    model_code: str = ""
    con_id: int = 0
    position: Decimal | None = None
    daily_pnl: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    value: float | None = None


@dataclass(slots=True, frozen=True)
class FamilyCode:
    """An account's family code (FAMILY_CODES)."""

    account_id: str = ""
    family_code: str = ""
