"""Accounts, positions, portfolio and PnL: the client's live account state.

Two connection-wide subscriptions feed the client's **live account state**:

* REQ_POSITIONS (:meth:`AccountCalls.sync_positions`): every account's positions, keyed by
  ``(account, con_id)``; read with :meth:`~AccountCalls.positions_now`.
* REQ_ACCT_DATA (:meth:`AccountCalls.sync_account_updates`): one account's values, keyed by
  ``(account, tag, currency, model_code)`` (:meth:`~AccountCalls.account_values`), and its
  portfolio, keyed by ``(account, con_id)`` (:meth:`~AccountCalls.portfolio`). TWS allows one
  such subscription per connection: another account replaces it (notice 2100).

A position (or portfolio item) that goes to 0 is removed. When a subscription starts (again)
its first full set is a snapshot: whatever the cache held that the set (up to POSITION_END /
ACCT_DOWNLOAD_END) did not mention is removed, with an event carrying position 0, so a
position closed while the connection was down, or the values of a replaced account, do not
linger. Events on the client: ``position_event(Position)``,
``account_value_event(AccountValue)``, ``portfolio_event(PortfolioItem)``,
``account_time_event(str)`` (ACCT_UPDATE_TIME's ``14:35``), ``pnl_event(LivePnL)``,
``pnl_single_event(LivePnLSingle)`` (named after ib_async's ``positionEvent`` …).

Per-request subscriptions are live objects of :mod:`aiotws.portfolio`, routed by request id
through the correlator (so TWS's errors, 322 for a third account summary …, end them with a
:class:`~aiotws.errors.RequestError`): :class:`~aiotws.portfolio.LivePnL` (REQ_PNL),
:class:`~aiotws.portfolio.LivePnLSingle` (REQ_PNL_SINGLE) and
:class:`~aiotws.portfolio.LiveTable` (REQ_ACCOUNT_SUMMARY, REQ_POSITIONS_MULTI,
REQ_ACCOUNT_UPDATES_MULTI). The one-shot forms (:meth:`~AccountCalls.account_summary`,
:meth:`~AccountCalls.positions_multi`, :meth:`~AccountCalls.account_updates_multi`) collect
the first full set and cancel.

On a lost connection the state stays readable (stale), the subscriptions turn inactive
(``positions_active``, ``account_updates_active``, ``live.active`` false) and the client
remembers what was subscribed: :meth:`~AccountCalls.resubscribe_accounts` re-issues all of
it on the next connection (fresh request ids, same live objects). Your own
:meth:`~aiotws.client.Client.disconnect` ends the live objects instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

from eventkit import Event

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import ConnectionLost, RequestError, RequestTimeout, TWSError
from aiotws.model.account import (
    AccountSummaryTags,
    AccountValue,
    FamilyCode,
    PortfolioItem,
    Position,
)
from aiotws.portfolio import LivePnL, LivePnLSingle, LiveTable, _Live
from aiotws.requests import Pending
from aiotws.wire.messages.accounts import (
    AccountSummary,
    AccountSummaryEnd,
    AccountUpdateMulti,
    AccountUpdateMultiEnd,
    AcctDownloadEnd,
    AcctUpdateTime,
    AcctValue,
    CancelAccountSummary,
    CancelAccountUpdatesMulti,
    CancelPnl,
    CancelPnlSingle,
    CancelPositions,
    CancelPositionsMulti,
    FamilyCodes,
    Pnl,
    PnlSingle,
    PortfolioValue,
    PositionData,
    PositionEnd,
    PositionMulti,
    PositionMultiEnd,
    ReqAccountSummary,
    ReqAccountUpdatesMulti,
    ReqAcctData,
    ReqFamilyCodes,
    ReqPnl,
    ReqPnlSingle,
    ReqPositions,
    ReqPositionsMulti,
    ReqUserInfo,
    UserInfo,
)

if TYPE_CHECKING:
    from aiotws.client import ErrorInfo
    from aiotws.wire.layout import InMessage, OutMessage

    M = TypeVar("M", bound=InMessage)

__all__ = [
    "ALL_TAGS",
    "AccountCalls",
    "AccountSummaryTable",
    "AccountValuesTable",
    "PositionsTable",
]

log = logging.getLogger("aiotws.accounts")

#: every account summary tag (the official client's ``AccountSummaryTags.AllTags``)
ALL_TAGS: Final = AccountSummaryTags.all()
_ZERO: Final = Decimal(0)

PositionKey = tuple[str, int]
ValueKey = tuple[str, str, str, str]
#: REQ_ACCOUNT_SUMMARY rows by (account, tag, currency)
AccountSummaryTable = LiveTable[tuple[str, str, str], AccountValue]
#: REQ_POSITIONS_MULTI rows by (account, model_code, con_id)
PositionsTable = LiveTable[tuple[str, str, int], Position]
#: REQ_ACCOUNT_UPDATES_MULTI rows by (account, tag, currency, model_code)
AccountValuesTable = LiveTable[ValueKey, AccountValue]


def _value_key(v: AccountValue) -> ValueKey:
    return (v.account, v.tag, v.currency, v.model_code)


def _summary_key(v: AccountValue) -> tuple[str, str, str]:
    return (v.account, v.tag, v.currency)


def _multi_position_key(p: Position) -> tuple[str, str, int]:
    return (p.account, p.model_code, p.contract.con_id)


def _is_flat(p: Position) -> bool:
    return p.position == 0


@dataclass(slots=True)
class _Subscription:
    """What re-issues (and cancels) one live subscription under any request id."""

    request: Callable[[int], OutMessage]
    cancel: Callable[[int], OutMessage]
    handle: Callable[[Any], None]
    accepts: tuple[type[InMessage], ...]
    forget: Callable[[], None]


class _LivePending(Pending):
    """The correlator's view of a live subscription: every message goes to ``handle``."""

    __slots__ = ("handle", "live", "owner")

    def __init__(self, owner: AccountCalls, live: _Live, sub: _Subscription, what: str) -> None:
        super().__init__(live.req_id, sub.accepts, what)
        self.owner = owner
        self.live = live
        self.handle = sub.handle

    def feed(self, msg: InMessage) -> bool:
        self.handle(msg)
        return False

    def fail(self, exc: BaseException) -> None:
        self.owner._live_failed(self.live, exc)

    def cancelled_by_tws(self, err: RequestError) -> None:
        self.owner._live_failed(self.live, None)

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.live.errors.append(warning)


class AccountCalls(CoreBase):
    """Account requests and the live account state they keep."""

    position_event: Event
    account_value_event: Event
    portfolio_event: Event
    account_time_event: Event
    pnl_event: Event
    pnl_single_event: Event
    #: ACCT_UPDATE_TIME's text (``14:35``), ``""`` until one arrived
    account_update_time: str

    _positions: dict[PositionKey, Position]
    _account_values: dict[ValueKey, AccountValue]
    _portfolio: dict[PositionKey, PortfolioItem]
    _positions_wanted: bool
    _positions_active: bool
    _positions_synced: bool
    _positions_end: asyncio.Future[None] | None
    _positions_seen: set[PositionKey] | None
    _acct_wanted: str | None
    _acct_name: str
    _acct_active: bool
    _acct_synced: bool
    _acct_end: asyncio.Future[None] | None
    _acct_prev: tuple[str | None, str, bool, bool]
    _acct_seen: tuple[set[ValueKey], set[PositionKey]] | None
    _subs: dict[_Live, _Subscription]
    _pnls: dict[tuple[str, str], LivePnL]
    _pnl_singles: dict[tuple[str, str, int], LivePnLSingle]

    def _init_accounts(self) -> None:
        """Called once from ``Client.__init__``."""
        self.position_event = Event("position_event")
        self.account_value_event = Event("account_value_event")
        self.portfolio_event = Event("portfolio_event")
        self.account_time_event = Event("account_time_event")
        self.pnl_event = Event("pnl_event")
        self.pnl_single_event = Event("pnl_single_event")
        self.account_update_time = ""
        self._positions = {}
        self._account_values = {}
        self._portfolio = {}
        self._positions_wanted = self._positions_active = self._positions_synced = False
        self._positions_end = None
        self._positions_seen = None
        self._acct_wanted = None
        self._acct_name = ""
        self._acct_active = self._acct_synced = False
        self._acct_end = None
        self._acct_seen = None
        self._acct_prev = (None, "", False, False)
        self._subs = {}
        self._pnls = {}
        self._pnl_singles = {}
        self.on(PositionData, self._on_position)
        self.on(PositionEnd, self._on_position_end)
        self.on(AcctValue, self._on_account_value)
        self.on(PortfolioValue, self._on_portfolio_value)
        self.on(AcctUpdateTime, self._on_account_time)
        self.on(AcctDownloadEnd, self._on_account_download_end)
        self.disconnected += self._on_accounts_disconnect
        self.errors += self._on_accounts_error

    # -- the live account state ----------------------------------------------------------

    @property
    def positions_active(self) -> bool:
        """True while the REQ_POSITIONS subscription is live and its first set arrived."""
        return self._positions_active and self._positions_synced

    @property
    def account_updates_active(self) -> bool:
        """True while the REQ_ACCT_DATA subscription is live and its first set arrived."""
        return self._acct_active and self._acct_synced

    @property
    def account_updates_account(self) -> str | None:
        """The account of the REQ_ACCT_DATA subscription (as TWS named it at
        ACCT_DOWNLOAD_END, else as requested); ``None`` if none was made."""
        if self._acct_wanted is None:
            return None
        return self._acct_name or self._acct_wanted

    def positions_now(self, account: str | None = None) -> list[Position]:
        """The cached positions (of ``account``, or all); stale when not
        :attr:`positions_active`. ib_async: ``positions()``."""
        return [p for p in self._positions.values() if account is None or p.account == account]

    def account_values(self, account: str | None = None) -> list[AccountValue]:
        """The cached account values (REQ_ACCT_DATA) of ``account``, or all.
        ib_async: ``accountValues()``."""
        vals = self._account_values.values()
        return [v for v in vals if account is None or v.account == account]

    def portfolio(self, account: str | None = None) -> list[PortfolioItem]:
        """The cached portfolio (REQ_ACCT_DATA) of ``account``, or all. ib_async:
        ``portfolio()``."""
        return [p for p in self._portfolio.values() if account is None or p.account == account]

    async def sync_positions(self, *, timeout: Timeout = ...) -> list[Position]:
        """Subscribe to every account's positions (REQ_POSITIONS) and wait for POSITION_END.

        Idempotent: while the subscription is live this returns the cache at once; a call
        during the first download waits for the same POSITION_END. Raises
        :class:`~aiotws.errors.RequestTimeout` if it does not come in time (the subscription
        stays; a later call waits again) and ``ConnectionLost`` if the connection goes.
        """
        fut = self._start_positions()
        if not self._positions_synced:
            await self._wait_end(fut, timeout, "REQ_POSITIONS")
        return self.positions_now()

    def cancel_positions(self) -> None:
        """End the REQ_POSITIONS subscription (CANCEL_POSITIONS); the cache stays, stale."""
        was = self._positions_active
        self._positions_wanted = self._positions_active = self._positions_synced = False
        self._positions_seen = None
        self._end_waiter(self._positions_end, TWSError("positions subscription cancelled"))
        self._positions_end = None
        if was and self.is_connected():
            self.send(CancelPositions())

    async def sync_account_updates(self, account: str = "", *, timeout: Timeout = ...) -> None:
        """Subscribe to ``account``'s values and portfolio (REQ_ACCT_DATA) and wait for
        ACCT_DOWNLOAD_END. ib_async: ``reqAccountUpdates``.

        ``""`` is the login's account (a single-account login). Idempotent for the account
        already subscribed; another account replaces the subscription (TWS allows one).
        """
        fut = self._start_account_updates(account)
        if not self._acct_synced:
            await self._wait_end(fut, timeout, f"REQ_ACCT_DATA {account}".rstrip())

    def cancel_account_updates(self) -> None:
        """End the REQ_ACCT_DATA subscription (sent again with subscribe=0); the cache stays."""
        was, acct = self._acct_active, self._acct_name or self._acct_wanted or ""
        self._acct_wanted = None
        self._acct_active = self._acct_synced = False
        self._acct_seen = None
        self._end_waiter(self._acct_end, TWSError("account updates cancelled"))
        self._acct_end = None
        if was and self.is_connected():
            self.send(ReqAcctData(False, acct))

    async def resubscribe_accounts(self, *, timeout: Timeout = ...) -> None:
        """Re-issue every account subscription made before a lost connection.

        The live objects (PnL, tables) keep their identity and get fresh request ids; the
        positions and account-update subscriptions are synced again (their first set
        replaces the stale cache). For the session supervisor, after a reconnect.
        """
        for live, sub in list(self._subs.items()):
            if not live.active and not live.done:
                live.req_id = self.next_id()
                if isinstance(live, LiveTable):
                    live._begin_set()
                self._start_live(live, sub)
        waits: list[Awaitable[None]] = []
        if self._positions_wanted and not self._positions_active:
            waits.append(self._wait_end(self._start_positions(), timeout, "REQ_POSITIONS"))
        if self._acct_wanted is not None and not self._acct_active:
            account = self._acct_wanted
            fut = self._start_account_updates(account)
            waits.append(self._wait_end(fut, timeout, f"REQ_ACCT_DATA {account}".rstrip()))
        if waits:
            await asyncio.gather(*waits)

    def account_subscriptions(self) -> list[LivePnL | LivePnLSingle | LiveTable[Any, Any]]:
        """Every live PnL and table subscription (active or waiting to be re-issued)."""
        return [
            live for live in self._subs if isinstance(live, LivePnL | LivePnLSingle | LiveTable)
        ]

    # -- account summary, multi ----------------------------------------------------------

    async def account_summary(
        self, group: str = "All", tags: str = ALL_TAGS, *, timeout: Timeout = ...
    ) -> list[AccountValue]:
        """The summary ``tags`` of every account in ``group``: the first full set, then the
        subscription is cancelled. ib_async: ``accountSummary`` / ``reqAccountSummary``.

        ``tags``: a comma list (:class:`~aiotws.model.account.AccountSummaryTags`;
        ``"$LEDGER:ALL"`` for every currency). TWS allows two summaries at once: a third
        raises ``RequestError`` 322.
        """
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqAccountSummary(req_id, group, tags),
            (AccountSummary,),
            (AccountSummaryEnd,),
            key=req_id,
            timeout=timeout,
            cancel=lambda: CancelAccountSummary(req_id),
        )
        if self.is_connected():
            self.send(CancelAccountSummary(req_id))
        return [m.record() for m in items if isinstance(m, AccountSummary)]

    def req_account_summary(self, group: str = "All", tags: str = ALL_TAGS) -> AccountSummaryTable:
        """Subscribe to the account summary: a live table keyed by (account, tag,
        currency), until :meth:`cancel_account_summary`."""
        table: AccountSummaryTable = LiveTable("account summary", self.next_id(), _summary_key)

        def handle(m: InMessage) -> None:
            if isinstance(m, AccountSummary):
                table._apply(m.record())
            else:
                table._end_of_set()

        sub = _Subscription(
            lambda rid: ReqAccountSummary(rid, group, tags),
            CancelAccountSummary,
            handle,
            (AccountSummary, AccountSummaryEnd),
            _noop,
        )
        self._start_live(table, sub)
        return table

    def cancel_account_summary(self, table: AccountSummaryTable) -> None:
        """End a :meth:`req_account_summary` subscription."""
        self._cancel_live(table)

    async def positions_multi(
        self, account: str = "", model_code: str = "", *, timeout: Timeout = ...
    ) -> list[Position]:
        """The positions of ``account`` and/or ``model_code`` (REQ_POSITIONS_MULTI), then
        cancelled; flat positions are left out. ib_async: ``reqPositionsMulti``."""
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqPositionsMulti(req_id, account, model_code),
            (PositionMulti,),
            (PositionMultiEnd,),
            key=req_id,
            timeout=timeout,
            cancel=lambda: CancelPositionsMulti(req_id),
        )
        if self.is_connected():
            self.send(CancelPositionsMulti(req_id))
        out = [m.record() for m in items if isinstance(m, PositionMulti)]
        return [p for p in out if p.position != 0]

    def req_positions_multi(self, account: str = "", model_code: str = "") -> PositionsTable:
        """Subscribe to positions per account/model: a live table keyed by (account,
        model_code, con_id); a position going to 0 is removed."""
        table: PositionsTable = LiveTable(
            "positions multi", self.next_id(), _multi_position_key, _is_flat
        )

        def handle(m: InMessage) -> None:
            if isinstance(m, PositionMulti):
                table._apply(m.record())
            else:
                table._end_of_set()

        sub = _Subscription(
            lambda rid: ReqPositionsMulti(rid, account, model_code),
            CancelPositionsMulti,
            handle,
            (PositionMulti, PositionMultiEnd),
            _noop,
        )
        self._start_live(table, sub)
        return table

    def cancel_positions_multi(self, table: PositionsTable) -> None:
        """End a :meth:`req_positions_multi` subscription."""
        self._cancel_live(table)

    async def account_updates_multi(
        self,
        account: str = "",
        model_code: str = "",
        ledger_and_nlv: bool = False,
        *,
        timeout: Timeout = ...,
    ) -> list[AccountValue]:
        """The values of ``account`` and/or ``model_code`` (REQ_ACCOUNT_UPDATES_MULTI), then
        cancelled. ``ledger_and_nlv``: only $LEDGER values and net liquidation. ib_async:
        ``reqAccountUpdatesMulti``."""
        req_id = self.next_id()
        items, _ = await self.request_list(
            ReqAccountUpdatesMulti(req_id, account, model_code, ledger_and_nlv),
            (AccountUpdateMulti,),
            (AccountUpdateMultiEnd,),
            key=req_id,
            timeout=timeout,
            cancel=lambda: CancelAccountUpdatesMulti(req_id),
        )
        if self.is_connected():
            self.send(CancelAccountUpdatesMulti(req_id))
        return [m.record() for m in items if isinstance(m, AccountUpdateMulti)]

    def req_account_updates_multi(
        self, account: str = "", model_code: str = "", ledger_and_nlv: bool = False
    ) -> AccountValuesTable:
        """Subscribe to values per account/model: a live table keyed by (account, tag,
        currency, model_code)."""
        table: AccountValuesTable = LiveTable("account updates multi", self.next_id(), _value_key)

        def handle(m: InMessage) -> None:
            if isinstance(m, AccountUpdateMulti):
                table._apply(m.record())
            else:
                table._end_of_set()

        sub = _Subscription(
            lambda rid: ReqAccountUpdatesMulti(rid, account, model_code, ledger_and_nlv),
            CancelAccountUpdatesMulti,
            handle,
            (AccountUpdateMulti, AccountUpdateMultiEnd),
            _noop,
        )
        self._start_live(table, sub)
        return table

    def cancel_account_updates_multi(self, table: AccountValuesTable) -> None:
        """End a :meth:`req_account_updates_multi` subscription."""
        self._cancel_live(table)

    # -- PnL -----------------------------------------------------------------------------

    def req_pnl(self, account: str, model_code: str = "") -> LivePnL:
        """Subscribe to ``account``'s (or ``model_code``'s) PnL (REQ_PNL): a live
        :class:`~aiotws.portfolio.LivePnL`. The same account and model while live: the same
        object. ib_async: ``reqPnL``."""
        key = (account, model_code)
        live = self._pnls.get(key)
        if live is not None and not live.done:
            return live
        live = LivePnL(account, model_code, self.next_id())
        pnl = live
        emit = self.pnl_event.emit

        def handle(m: InMessage) -> None:
            if isinstance(m, Pnl):
                pnl._update(m)
                emit(pnl)

        def forget() -> None:
            if self._pnls.get(key) is pnl:
                del self._pnls[key]

        sub = _Subscription(
            lambda rid: ReqPnl(rid, account, model_code), CancelPnl, handle, (Pnl,), forget
        )
        self._start_live(live, sub)
        self._pnls[key] = live
        return live

    def cancel_pnl(self, pnl: LivePnL) -> None:
        """End a :meth:`req_pnl` subscription (no reply; it ends at once)."""
        self._cancel_live(pnl)

    def req_pnl_single(self, account: str, con_id: int, model_code: str = "") -> LivePnLSingle:
        """Subscribe to one position's PnL (REQ_PNL_SINGLE): a live
        :class:`~aiotws.portfolio.LivePnLSingle`. TWS never answers for a ``con_id`` the
        account does not hold. ib_async: ``reqPnLSingle``."""
        key = (account, model_code, con_id)
        live = self._pnl_singles.get(key)
        if live is not None and not live.done:
            return live
        live = LivePnLSingle(account, model_code, con_id, self.next_id())
        single = live
        emit = self.pnl_single_event.emit

        def handle(m: InMessage) -> None:
            if isinstance(m, PnlSingle):
                single._update(m)
                emit(single)

        def forget() -> None:
            if self._pnl_singles.get(key) is single:
                del self._pnl_singles[key]

        sub = _Subscription(
            lambda rid: ReqPnlSingle(rid, account, model_code, con_id),
            CancelPnlSingle,
            handle,
            (PnlSingle,),
            forget,
        )
        self._start_live(live, sub)
        self._pnl_singles[key] = live
        return live

    def cancel_pnl_single(self, pnl: LivePnLSingle) -> None:
        """End a :meth:`req_pnl_single` subscription."""
        self._cancel_live(pnl)

    def pnls(self) -> list[LivePnL]:
        """The PnL subscriptions (ib_async: ``pnl()``)."""
        return list(self._pnls.values())

    def pnl_singles(self) -> list[LivePnLSingle]:
        """The single-position PnL subscriptions (ib_async: ``pnlSingle()``)."""
        return list(self._pnl_singles.values())

    # -- family codes, user info ---------------------------------------------------------

    async def family_codes(self, *, timeout: Timeout = ...) -> list[FamilyCode]:
        """The family codes of this login's accounts (REQ_FAMILY_CODES)."""
        m = await self.request(ReqFamilyCodes(), FamilyCodes, timeout=timeout)
        return list(m.codes)

    async def user_info(self, *, timeout: Timeout = ...) -> str:
        """The login's white-branding id (REQ_USER_INFO, server 167+); ``""`` for IBKR."""
        req_id = self.next_id()
        m = await self.request(ReqUserInfo(req_id), UserInfo, key=req_id, timeout=timeout)
        return m.white_branding_id

    # -- internals: live subscriptions ---------------------------------------------------

    def _start_live(self, live: _Live, sub: _Subscription) -> None:
        request = sub.request(live.req_id)
        p = _LivePending(self, live, sub, type(request).__name__)
        self._registry.add(p)
        self._subs[live] = sub
        try:
            self.send(request)
        except BaseException:
            self._registry.discard(p)
            del self._subs[live]
            raise
        live.active = True

    def _cancel_live(self, live: _Live) -> None:
        sub = self._subs.pop(live, None)
        if sub is None:
            return
        sub.forget()
        p = self._registry.get(live.req_id)
        if p is not None:
            self._registry.discard(p)
        if live.active and self.is_connected():
            self.send(sub.cancel(live.req_id))
        live._close()

    def _live_failed(self, live: _Live, exc: BaseException | None) -> None:
        if isinstance(exc, ConnectionLost):
            live.active = False  # kept: resubscribe_accounts re-issues it
            return
        sub = self._subs.pop(live, None)
        if sub is not None:
            sub.forget()
        if isinstance(exc, RequestError):
            live.errors.append(exc)
            log.info("%r ended by TWS: %s", live, exc)
        live._close(exc)

    # -- internals: positions and account updates ----------------------------------------

    def _start_positions(self) -> asyncio.Future[None]:
        """Subscribe to REQ_POSITIONS unless live; the future of its POSITION_END."""
        fut = self._positions_end
        if not self._positions_active or fut is None:
            fut = asyncio.get_running_loop().create_future()
            self.send(ReqPositions())
            self._positions_wanted = self._positions_active = True
            self._positions_synced = False
            self._positions_seen = set()
            self._positions_end = fut
        return fut

    def _start_account_updates(self, account: str) -> asyncio.Future[None]:
        """Subscribe to REQ_ACCT_DATA for ``account`` unless it is the live one; the future
        of its ACCT_DOWNLOAD_END."""
        fut = self._acct_end
        same = self._acct_active and account in ("", self._acct_wanted, self._acct_name)
        if not same or fut is None:
            fut = asyncio.get_running_loop().create_future()
            self.send(ReqAcctData(True, account))
            old = self._acct_end
            if old is not None and not old.done():
                self._end_waiter(
                    old,
                    TWSError(f"account updates of {self._acct_wanted!r} replaced by {account!r}"),
                )
            self._acct_prev = (
                self._acct_wanted,
                self._acct_name,
                self._acct_active,
                self._acct_synced,
            )
            self._acct_wanted = account
            self._acct_name = ""
            self._acct_active = True
            self._acct_synced = False
            self._acct_seen = (set(), set())
            self._acct_end = fut
        return fut

    async def _wait_end(self, fut: asyncio.Future[None], timeout: Timeout, what: str) -> None:
        limit = self._timeout(timeout)
        try:
            async with asyncio.timeout(limit):
                await asyncio.shield(fut)
        except TimeoutError:
            if fut.done():
                raise
            raise RequestTimeout(what, limit or 0.0) from None

    @staticmethod
    def _end_waiter(fut: asyncio.Future[None] | None, exc: BaseException) -> None:
        if fut is not None and not fut.done():
            fut.set_exception(exc)
            fut.exception()  # retrieved: an awaiting caller gets it raised

    def _on_position(self, m: PositionData) -> None:
        pos = m.record()
        key = (pos.account, pos.contract.con_id)
        if self._positions_seen is not None:
            self._positions_seen.add(key)
        if pos.position == 0:
            self._positions.pop(key, None)
        else:
            self._positions[key] = pos
        self.position_event.emit(pos)

    def _on_position_end(self, m: PositionEnd) -> None:
        seen, self._positions_seen = self._positions_seen, None
        if seen is not None:
            for key in [k for k in self._positions if k not in seen]:
                gone = self._positions.pop(key)
                self.position_event.emit(dataclasses.replace(gone, position=_ZERO))
        self._positions_synced = True
        fut = self._positions_end
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _on_account_value(self, m: AcctValue) -> None:
        v = m.record()
        key = _value_key(v)
        if self._acct_seen is not None:
            self._acct_seen[0].add(key)
        self._account_values[key] = v
        self.account_value_event.emit(v)

    def _on_portfolio_value(self, m: PortfolioValue) -> None:
        item = m.record()
        key = (item.account, item.contract.con_id)
        if self._acct_seen is not None:
            self._acct_seen[1].add(key)
        if item.position == 0:
            self._portfolio.pop(key, None)
        else:
            self._portfolio[key] = item
        self.portfolio_event.emit(item)

    def _on_account_time(self, m: AcctUpdateTime) -> None:
        self.account_update_time = m.time_stamp
        self.account_time_event.emit(m.time_stamp)

    def _on_account_download_end(self, m: AcctDownloadEnd) -> None:
        wanted = self._acct_wanted
        if wanted and m.account_name and m.account_name != wanted:
            log.debug("ACCT_DOWNLOAD_END of %s while subscribed to %s", m.account_name, wanted)
            return
        seen, self._acct_seen = self._acct_seen, None
        if seen is not None:
            values, items = seen
            for vk in [k for k in self._account_values if k not in values]:
                del self._account_values[vk]
            for pk in [k for k in self._portfolio if k not in items]:
                gone = self._portfolio.pop(pk)
                self.portfolio_event.emit(dataclasses.replace(gone, position=_ZERO))
        self._acct_name = m.account_name
        self._acct_synced = True
        fut = self._acct_end
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _on_accounts_error(self, info: ErrorInfo) -> None:
        """TWS refuses REQ_ACCT_DATA for an unknown account with 321 under id -1: fail the
        waiting sync instead of letting it run into its timeout."""
        wanted = self._acct_wanted
        fut = self._acct_end
        if (
            info.req_id == -1
            and info.code == 321
            and wanted
            and wanted in info.text
            and fut is not None
            and not fut.done()
        ):
            # TWS keeps the subscription it had, if that one had synced
            prev, name, active, synced = self._acct_prev
            self._acct_seen = None
            self._acct_end = None
            if prev is not None and active and synced:
                self._acct_wanted, self._acct_name = prev, name
                self._acct_active = self._acct_synced = True
                self._acct_end = asyncio.get_running_loop().create_future()
                self._acct_end.set_result(None)
            else:
                self._acct_wanted = None
                self._acct_active = self._acct_synced = False
            self._end_waiter(fut, info.to_exception())

    def _on_accounts_disconnect(self, exc: BaseException | None) -> None:
        lost = ConnectionLost("connection to TWS lost before the account data arrived")
        self._positions_active = self._positions_synced = False
        self._positions_seen = None
        self._end_waiter(self._positions_end, lost)
        self._positions_end = None
        self._acct_active = self._acct_synced = False
        self._acct_seen = None
        self._end_waiter(self._acct_end, lost)
        self._acct_end = None
        for live in self._subs:
            live.active = False
        if exc is None:  # our own disconnect: nothing is to be re-issued
            self._end_account_subscriptions(None)

    def _end_account_subscriptions(self, exc: BaseException | None) -> int:
        """Forget every account subscription and close its live object (our own disconnect,
        also one after a loss that was never resumed)."""
        self._positions_wanted = False
        self._acct_wanted = None
        subs, self._subs = self._subs, {}
        for live, sub in subs.items():
            sub.forget()
            live._close()
        return len(subs)


def _noop() -> None:
    pass
