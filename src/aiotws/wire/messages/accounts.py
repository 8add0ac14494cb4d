"""Account messages: executions and commissions, positions, account updates and summary, PnL,
family codes and user info.

Layouts from PROTOCOL.md sections 6.14-6.18 and 6.20, checked against the official client
(server versions 157..200). Gates inside that range: EXECUTION_DATA's
``pendingPriceRevision`` (178) and ``submitter`` (198), REQ_EXECUTIONS's ``lastNDays`` and
``specificDates`` (200), REQ_USER_INFO (167). Every other gate (PnL's unrealized and
realized values, the versions of POSITION_DATA and PORTFOLIO_VALUE, EXECUTION_DATA's
version field, dropped at 136) lies below 157 and is always satisfied.

Strings of the messages the official decoder maps 1:1 onto its callbacks (ACCT_VALUE,
ACCOUNT_SUMMARY, ACCOUNT_UPDATE_MULTI …) are ``\\u``-escaped by TWS (``TEXT``); the others
are plain. Each reply converts to its model record with ``record()`` and can be built from
one with ``from_record()`` (the simulator's side).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aiotws.model.account import (
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
from aiotws.model.contract import Contract
from aiotws.model.order import SoftDollarTier
from aiotws.wire.fields import INT, OPT_FLOAT, SENTINEL_INT, STR, TEXT, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import (
    InMessage,
    OutMessage,
    StructCodec,
    block_field,
    message,
    since,
    wire,
)
from aiotws.wire.versions import SV

__all__ = [
    "AccountSummary",
    "AccountSummaryEnd",
    "AccountUpdateMulti",
    "AccountUpdateMultiEnd",
    "AcctDownloadEnd",
    "AcctUpdateTime",
    "AcctValue",
    "CancelAccountSummary",
    "CancelAccountUpdatesMulti",
    "CancelPnl",
    "CancelPnlSingle",
    "CancelPositions",
    "CancelPositionsMulti",
    "CommissionAndFeesReport",
    "ExecutionData",
    "ExecutionDataEnd",
    "FamilyCodes",
    "Pnl",
    "PnlSingle",
    "PortfolioValue",
    "PositionData",
    "PositionEnd",
    "PositionMulti",
    "PositionMultiEnd",
    "ReqAccountSummary",
    "ReqAccountUpdatesMulti",
    "ReqAcctData",
    "ReqExecutions",
    "ReqFamilyCodes",
    "ReqPnl",
    "ReqPnlSingle",
    "ReqPositions",
    "ReqPositionsMulti",
    "ReqSoftDollarTiers",
    "ReqUserInfo",
    "SoftDollarTiers",
    "UserInfo",
]

_ZERO: Final = Decimal(0)


def _size(d: Decimal | None) -> Decimal:
    return _ZERO if d is None else d


# -- blocks -----------------------------------------------------------------------------------


_CON_ID: Final = block_field("con_id", INT, default=0)
_STRIKE: Final = block_field("strike", OPT_FLOAT)


#: EXECUTION_DATA, POSITION_DATA and POSITION_MULTI: C12 without primaryExchange
_C11: Final = StructCodec(
    Contract,
    (
        _CON_ID,
        block_field("symbol", STR, default=""),
        block_field("sec_type", STR, default=""),
        block_field("last_trade_date_or_contract_month", STR, default=""),
        _STRIKE,
        block_field("right", STR, default=""),
        block_field("multiplier", STR, default=""),
        block_field("exchange", STR, default=""),
        block_field("currency", STR, default=""),
        block_field("local_symbol", STR, default=""),
        block_field("trading_class", STR, default=""),
    ),
    "Contract",
)

#: PORTFOLIO_VALUE: C12 without exchange (a portfolio position has a primary exchange only)
_PORTFOLIO_CONTRACT: Final = StructCodec(
    Contract,
    (
        _CON_ID,
        block_field("symbol", STR, default=""),
        block_field("sec_type", STR, default=""),
        block_field("last_trade_date_or_contract_month", STR, default=""),
        _STRIKE,
        block_field("right", STR, default=""),
        block_field("multiplier", STR, default=""),
        block_field("primary_exchange", STR, default=""),
        block_field("currency", STR, default=""),
        block_field("local_symbol", STR, default=""),
        block_field("trading_class", STR, default=""),
    ),
    "Contract",
)

#: REQ_EXECUTIONS's filter; lastNDays (unset: 2147483647) and specificDates from 200
_FILTER: Final = StructCodec(
    ExecutionFilter,
    (
        block_field("client_id", INT, default=0),
        block_field("acct_code", STR, default=""),
        block_field("time", STR, default=""),
        block_field("symbol", STR, default=""),
        block_field("sec_type", STR, default=""),
        block_field("exchange", STR, default=""),
        block_field("side", STR, default=""),
        block_field("last_n_days", SENTINEL_INT, since=SV.PARAMETRIZED_DAYS_OF_EXECUTIONS),
        block_field(
            "specific_dates",
            ListOf(STR),
            since=SV.PARAMETRIZED_DAYS_OF_EXECUTIONS,
            default=[],
        ),
    ),
    "ExecutionFilter",
)

_FAMILY_CODE: Final = StructCodec(
    FamilyCode,
    (
        block_field("account_id", STR, default=""),
        block_field("family_code", STR, default=""),
    ),
    "FamilyCode",
)


# -- requests ---------------------------------------------------------------------------------


@message(Out.REQ_EXECUTIONS, version=3)
@dataclass(slots=True)
class ReqExecutions(OutMessage):
    """Ask for the executions matching ``filter``: EXECUTION_DATA (each followed by its
    COMMISSION_REPORT), then EXECUTION_DATA_END.

    The filter's ``last_n_days`` / ``specific_dates`` need server 200; setting them on an
    older server raises :class:`~aiotws.errors.UnsupportedByServer`.
    """

    req_id: int
    filter: ExecutionFilter = wire(default_factory=ExecutionFilter, codec=_FILTER)


@message(Out.REQ_POSITIONS, version=1)
@dataclass(slots=True)
class ReqPositions(OutMessage):
    """Subscribe to the positions of every account: POSITION_DATA per position, POSITION_END
    after the first full set, then updates until CANCEL_POSITIONS."""


@message(Out.CANCEL_POSITIONS, version=1)
@dataclass(slots=True)
class CancelPositions(OutMessage):
    """End the REQ_POSITIONS subscription (no reply)."""


@message(Out.REQ_POSITIONS_MULTI, version=1)
@dataclass(slots=True)
class ReqPositionsMulti(OutMessage):
    """Subscribe to the positions of one account and/or model (POSITION_MULTI + END).

    An empty ``account`` (or ``"All"`` for an FA login) and empty ``model_code`` mean all.
    """

    req_id: int
    account: str = ""
    model_code: str = ""


@message(Out.CANCEL_POSITIONS_MULTI, version=1)
@dataclass(slots=True)
class CancelPositionsMulti(OutMessage):
    """End a REQ_POSITIONS_MULTI subscription."""

    req_id: int


@message(Out.REQ_ACCT_DATA, version=2)
@dataclass(slots=True)
class ReqAcctData(OutMessage):
    """Subscribe to (``subscribe=False``: unsubscribe from) one account's updates.

    Answered by ACCT_VALUE and PORTFOLIO_VALUE per value and position, ACCT_UPDATE_TIME, and
    ACCT_DOWNLOAD_END after the first full set. One account per connection: a new
    subscription replaces the old (notice 2100).
    """

    subscribe: bool
    acct_code: str = ""


@message(Out.REQ_ACCOUNT_UPDATES_MULTI, version=1)
@dataclass(slots=True)
class ReqAccountUpdatesMulti(OutMessage):
    """Subscribe to the values of one account and/or model (ACCOUNT_UPDATE_MULTI + END).

    ``ledger_and_nlv``: only the ``$LEDGER`` values and net liquidation.
    """

    req_id: int
    account: str = ""
    model_code: str = ""
    ledger_and_nlv: bool = False


@message(Out.CANCEL_ACCOUNT_UPDATES_MULTI, version=1)
@dataclass(slots=True)
class CancelAccountUpdatesMulti(OutMessage):
    """End a REQ_ACCOUNT_UPDATES_MULTI subscription."""

    req_id: int


@message(Out.REQ_ACCOUNT_SUMMARY, version=1)
@dataclass(slots=True)
class ReqAccountSummary(OutMessage):
    """Subscribe to the summary ``tags`` of every account in ``group_name`` (``"All"``).

    ``tags`` is a comma list (:class:`~aiotws.model.account.AccountSummaryTags`). Answered by
    ACCOUNT_SUMMARY per value and ACCOUNT_SUMMARY_END, then updates until cancelled; at most
    two subscriptions may be active (the third gets error 322).
    """

    req_id: int
    group_name: str = "All"
    tags: str = ""


@message(Out.CANCEL_ACCOUNT_SUMMARY, version=1)
@dataclass(slots=True)
class CancelAccountSummary(OutMessage):
    """End a REQ_ACCOUNT_SUMMARY subscription (no reply)."""

    req_id: int


@message(Out.REQ_PNL)
@dataclass(slots=True)
class ReqPnl(OutMessage):
    """Subscribe to an account's (or model's) PnL: a PNL about once a second, no END."""

    req_id: int
    account: str = ""
    model_code: str = ""


@message(Out.CANCEL_PNL)
@dataclass(slots=True)
class CancelPnl(OutMessage):
    """End a REQ_PNL subscription (no reply)."""

    req_id: int


@message(Out.REQ_PNL_SINGLE)
@dataclass(slots=True)
class ReqPnlSingle(OutMessage):
    """Subscribe to the PnL of one position (PNL_SINGLE). A ``con_id`` the account does not
    hold gets no reply at all."""

    req_id: int
    account: str = ""
    model_code: str = ""
    con_id: int = 0


@message(Out.CANCEL_PNL_SINGLE)
@dataclass(slots=True)
class CancelPnlSingle(OutMessage):
    """End a REQ_PNL_SINGLE subscription (no reply)."""

    req_id: int


@message(Out.REQ_FAMILY_CODES)
@dataclass(slots=True)
class ReqFamilyCodes(OutMessage):
    """Ask for the family codes of this login's accounts (FAMILY_CODES)."""


@message(Out.REQ_USER_INFO, since=SV.USER_INFO)
@dataclass(slots=True)
class ReqUserInfo(OutMessage):
    """Ask for the login's white-branding id (USER_INFO); server 167+."""

    req_id: int = 0


# -- executions -------------------------------------------------------------------------------


@message(In.EXECUTION_DATA)
@dataclass(slots=True)
class ExecutionData(InMessage):
    """One execution: a fill of this client's order (``req_id`` -1) or an answer to
    REQ_EXECUTIONS. No version field in 157..200 (dropped at 136, ``LAST_LIQUIDITY``).

    ``time`` is TWS's text (``yyyymmdd hh:mm:ss zone``); :meth:`record` parses it.
    """

    req_id: int
    order_id: int = 0
    contract: Contract = wire(default_factory=Contract, codec=_C11)
    exec_id: str = ""
    time: str = ""
    acct_number: str = ""
    exchange: str = ""
    side: str = ""
    shares: Decimal | None = None
    price: float = 0.0
    perm_id: int = 0
    client_id: int = 0
    liquidation: int = 0
    cum_qty: Decimal | None = None
    avg_price: float = 0.0
    order_ref: str = ""
    ev_rule: str = ""
    ev_multiplier: float | None = None
    model_code: str = ""
    last_liquidity: int = 0
    pending_price_revision: bool = since(SV.PENDING_PRICE_REVISION, False)
    submitter: str = since(SV.SUBMITTER, "")

    def record(self) -> Execution:
        """The model record (the contract is :attr:`contract`)."""
        return Execution(
            exec_id=self.exec_id,
            acct_number=self.acct_number,
            exchange=self.exchange,
            side=self.side,
            shares=_size(self.shares),
            price=self.price,
            perm_id=self.perm_id,
            client_id=self.client_id,
            order_id=self.order_id,
            liquidation=self.liquidation,
            cum_qty=_size(self.cum_qty),
            avg_price=self.avg_price,
            order_ref=self.order_ref,
            ev_rule=self.ev_rule,
            ev_multiplier=self.ev_multiplier,
            model_code=self.model_code,
            last_liquidity=self.last_liquidity,
            pending_price_revision=self.pending_price_revision,
            submitter=self.submitter,
            time_text=self.time,
        )

    @classmethod
    def from_record(
        cls, req_id: int, contract: Contract, e: Execution, version: int | None = None
    ) -> ExecutionData:
        """The message TWS would send for ``e``; ``version`` drops what it cannot carry."""
        v = version if version is not None else SV.SUBMITTER
        return cls(
            req_id,
            e.order_id,
            contract,
            e.exec_id,
            e.time_text,
            e.acct_number,
            e.exchange,
            e.side,
            e.shares,
            e.price,
            e.perm_id,
            e.client_id,
            e.liquidation,
            e.cum_qty,
            e.avg_price,
            e.order_ref,
            e.ev_rule,
            e.ev_multiplier,
            e.model_code,
            e.last_liquidity,
            e.pending_price_revision if v >= SV.PENDING_PRICE_REVISION else False,
            e.submitter if v >= SV.SUBMITTER else "",
        )


@message(In.EXECUTION_DATA_END, version=1)
@dataclass(slots=True)
class ExecutionDataEnd(InMessage):
    """Ends the answer to REQ_EXECUTIONS."""

    req_id: int


@message(In.COMMISSION_AND_FEES_REPORT, version=1)
@dataclass(slots=True)
class CommissionAndFeesReport(InMessage):
    """The commission of one execution (COMMISSION_REPORT), linked to it only by
    ``exec_id``; it may arrive after unrelated frames, or for an execution this client never
    saw. Unset ``realized_pnl`` / ``yield_`` read as ``None``."""

    exec_id: str = ""
    commission: float = 0.0
    currency: str = ""
    realized_pnl: float | None = None
    yield_: float | None = None
    yield_redemption_date: int = 0

    def record(self) -> CommissionReport:
        return CommissionReport(
            self.exec_id,
            self.commission,
            self.currency,
            self.realized_pnl,
            self.yield_,
            self.yield_redemption_date,
        )

    @classmethod
    def from_record(cls, r: CommissionReport) -> CommissionAndFeesReport:
        return cls(
            r.exec_id, r.commission, r.currency, r.realized_pnl, r.yield_, r.yield_redemption_date
        )


# -- positions --------------------------------------------------------------------------------


@message(In.POSITION_DATA, version=3)
@dataclass(slots=True)
class PositionData(InMessage):
    """One position (answer to REQ_POSITIONS, then on every change)."""

    account: str = ""
    contract: Contract = wire(default_factory=Contract, codec=_C11)
    position: Decimal | None = None
    avg_cost: float = 0.0

    def record(self) -> Position:
        return Position(self.account, self.contract, _size(self.position), self.avg_cost)

    @classmethod
    def from_record(cls, p: Position) -> PositionData:
        return cls(p.account, p.contract, p.position, p.avg_cost)


@message(In.POSITION_END, version=1)
@dataclass(slots=True)
class PositionEnd(InMessage):
    """Ends the first full set of POSITION_DATA; updates continue."""


@message(In.POSITION_MULTI, version=1)
@dataclass(slots=True)
class PositionMulti(InMessage):
    """One position of a REQ_POSITIONS_MULTI subscription."""

    req_id: int
    account: str = ""
    contract: Contract = wire(default_factory=Contract, codec=_C11)
    position: Decimal | None = None
    avg_cost: float = 0.0
    model_code: str = ""

    def record(self) -> Position:
        return Position(
            self.account, self.contract, _size(self.position), self.avg_cost, self.model_code
        )

    @classmethod
    def from_record(cls, req_id: int, p: Position) -> PositionMulti:
        return cls(req_id, p.account, p.contract, p.position, p.avg_cost, p.model_code)


@message(In.POSITION_MULTI_END, version=1)
@dataclass(slots=True)
class PositionMultiEnd(InMessage):
    """Ends the first full set of POSITION_MULTI."""

    req_id: int


# -- account updates --------------------------------------------------------------------------


@message(In.ACCT_VALUE, version=2)
@dataclass(slots=True)
class AcctValue(InMessage):
    """One account value of the REQ_ACCT_DATA subscription."""

    key: str = wire("", codec=TEXT)
    value: str = wire("", codec=TEXT)
    currency: str = wire("", codec=TEXT)
    account_name: str = wire("", codec=TEXT)

    def record(self) -> AccountValue:
        return AccountValue(self.account_name, self.key, self.value, self.currency)

    @classmethod
    def from_record(cls, v: AccountValue) -> AcctValue:
        return cls(v.tag, v.value, v.currency, v.account)


@message(In.PORTFOLIO_VALUE, version=8)
@dataclass(slots=True)
class PortfolioValue(InMessage):
    """One position with its market value, from the REQ_ACCT_DATA subscription.

    ``V=8``: the official decoder needs 7 for ``multiplier``/``primaryExchange`` and 8 for
    ``tradingClass``; aiotws always sends and expects the full layout.
    """

    contract: Contract = wire(default_factory=Contract, codec=_PORTFOLIO_CONTRACT)
    position: Decimal | None = None
    market_price: float = 0.0
    market_value: float = 0.0
    average_cost: float = 0.0
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    account_name: str = ""

    def record(self) -> PortfolioItem:
        return PortfolioItem(
            self.contract,
            _size(self.position),
            self.market_price,
            self.market_value,
            self.average_cost,
            self.unrealized_pnl,
            self.realized_pnl,
            self.account_name,
        )

    @classmethod
    def from_record(cls, p: PortfolioItem) -> PortfolioValue:
        return cls(
            p.contract,
            p.position,
            p.market_price,
            p.market_value,
            p.average_cost,
            p.unrealized_pnl,
            p.realized_pnl,
            p.account,
        )


@message(In.ACCT_UPDATE_TIME, version=1)
@dataclass(slots=True)
class AcctUpdateTime(InMessage):
    """The time of day of the last account update, as TWS writes it (``14:35``)."""

    time_stamp: str = wire("", codec=TEXT)


@message(In.ACCT_DOWNLOAD_END, version=1)
@dataclass(slots=True)
class AcctDownloadEnd(InMessage):
    """Ends the first full set of an account's updates; updates continue."""

    account_name: str = wire("", codec=TEXT)


@message(In.ACCOUNT_UPDATE_MULTI, version=1)
@dataclass(slots=True)
class AccountUpdateMulti(InMessage):
    """One value of a REQ_ACCOUNT_UPDATES_MULTI subscription."""

    req_id: int
    account: str = wire("", codec=TEXT)
    model_code: str = wire("", codec=TEXT)
    key: str = wire("", codec=TEXT)
    value: str = wire("", codec=TEXT)
    currency: str = wire("", codec=TEXT)

    def record(self) -> AccountValue:
        return AccountValue(self.account, self.key, self.value, self.currency, self.model_code)

    @classmethod
    def from_record(cls, req_id: int, v: AccountValue) -> AccountUpdateMulti:
        return cls(req_id, v.account, v.model_code, v.tag, v.value, v.currency)


@message(In.ACCOUNT_UPDATE_MULTI_END, version=1)
@dataclass(slots=True)
class AccountUpdateMultiEnd(InMessage):
    """Ends the first full set of ACCOUNT_UPDATE_MULTI."""

    req_id: int


# -- account summary --------------------------------------------------------------------------


@message(In.ACCOUNT_SUMMARY, version=1)
@dataclass(slots=True)
class AccountSummary(InMessage):
    """One summary value of one account (REQ_ACCOUNT_SUMMARY)."""

    req_id: int
    account: str = wire("", codec=TEXT)
    tag: str = wire("", codec=TEXT)
    value: str = wire("", codec=TEXT)
    currency: str = wire("", codec=TEXT)

    def record(self) -> AccountValue:
        return AccountValue(self.account, self.tag, self.value, self.currency)

    @classmethod
    def from_record(cls, req_id: int, v: AccountValue) -> AccountSummary:
        return cls(req_id, v.account, v.tag, v.value, v.currency)


@message(In.ACCOUNT_SUMMARY_END, version=1)
@dataclass(slots=True)
class AccountSummaryEnd(InMessage):
    """Ends the first full set of ACCOUNT_SUMMARY; updates continue."""

    req_id: int


# -- PnL --------------------------------------------------------------------------------------


@message(In.PNL)
@dataclass(slots=True)
class Pnl(InMessage):
    """An account's PnL (REQ_PNL), about once a second. Unset values read as ``None``."""

    req_id: int
    daily_pnl: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None

    def record(self, account: str = "", model_code: str = "") -> PnL:
        """The model record, for the ``account`` / ``model_code`` of the request."""
        return PnL(account, model_code, self.daily_pnl, self.unrealized_pnl, self.realized_pnl)

    @classmethod
    def from_record(cls, req_id: int, p: PnL) -> Pnl:
        return cls(req_id, p.daily_pnl, p.unrealized_pnl, p.realized_pnl)


@message(In.PNL_SINGLE)
@dataclass(slots=True)
class PnlSingle(InMessage):
    """One position's PnL (REQ_PNL_SINGLE). Unset values read as ``None``."""

    req_id: int
    position: Decimal | None = None
    daily_pnl: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    value: float | None = None

    def record(self, account: str = "", model_code: str = "", con_id: int = 0) -> PnLSingle:
        """The model record, for the ``account`` / ``model_code`` / ``con_id`` requested."""
        return PnLSingle(
            account,
            model_code,
            con_id,
            self.position,
            self.daily_pnl,
            self.unrealized_pnl,
            self.realized_pnl,
            self.value,
        )

    @classmethod
    def from_record(cls, req_id: int, p: PnLSingle) -> PnlSingle:
        return cls(req_id, p.position, p.daily_pnl, p.unrealized_pnl, p.realized_pnl, p.value)


# -- family codes, user info ------------------------------------------------------------------


@message(In.FAMILY_CODES)
@dataclass(slots=True)
class FamilyCodes(InMessage):
    """The family codes of this login's accounts (REQ_FAMILY_CODES)."""

    codes: list[FamilyCode] = wire(default_factory=list, codec=ListOf(_FAMILY_CODE))


@message(In.USER_INFO)
@dataclass(slots=True)
class UserInfo(InMessage):
    """The login's white-branding id (REQ_USER_INFO); empty for IBKR's own brand."""

    req_id: int
    white_branding_id: str = ""


# -- soft dollar tiers (issue 9) --------------------------------------------------------------

_SOFT_DOLLAR_TIER: Final = StructCodec(
    SoftDollarTier,
    (
        block_field("name", STR, default=""),
        block_field("value", STR, default=""),
        block_field("display_name", STR, default=""),
    ),
    "SoftDollarTier",
)


@message(Out.REQ_SOFT_DOLLAR_TIERS)
@dataclass(slots=True)
class ReqSoftDollarTiers(OutMessage):
    """Ask for the soft dollar tiers configured for this login (SOFT_DOLLAR_TIERS); only
    registered advisors and funds have any. No version field (server 106+, always)."""

    req_id: int


@message(In.SOFT_DOLLAR_TIERS)
@dataclass(slots=True)
class SoftDollarTiers(InMessage):
    """The answer to REQ_SOFT_DOLLAR_TIERS: ``(name, value, displayName)`` per tier."""

    req_id: int
    tiers: list[SoftDollarTier] = wire(default_factory=list, codec=ListOf(_SOFT_DOLLAR_TIER))
