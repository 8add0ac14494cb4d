"""Simulator handlers for accounts, positions, portfolio and PnL, kept by a :class:`Ledger`.

The ledger lives in ``sim.store["ledger"]`` (:func:`ledger_of`); it values positions at the
midpoint of the simulated market (the last price where there is no quote). The order engine
books each fill with ``ledger_of(sim).apply_fill(...)`` and then calls :func:`publish_fill`,
which pushes what TWS pushes after a fill; tests seed state with :func:`seed_position`.

As TWS:

* REQ_POSITIONS: POSITION_DATA for every position of every account (closed ones of today
  with 0), POSITION_END, then each change until CANCEL_POSITIONS. REQ_POSITIONS_MULTI the
  same per account (``""``/``"All"``: every account) with POSITION_MULTI(_END).
* REQ_ACCT_DATA: ACCT_VALUE per key, PORTFOLIO_VALUE per position, ACCT_UPDATE_TIME
  (``HH:MM``), ACCT_DOWNLOAD_END; one account per connection (a new subscription replaces the
  old with notice 2100); an unknown account gets 321. Updates follow on change.
* REQ_ACCOUNT_UPDATES_MULTI: ACCOUNT_UPDATE_MULTI per value (``ledger_and_nlv``: the
  ``$LEDGER`` values and NetLiquidation only), END, then changes.
* REQ_ACCOUNT_SUMMARY: ACCOUNT_SUMMARY per account and tag, END, then changes; two active
  subscriptions at most (the third gets 322), a duplicate request id gets 322 too. The
  group is ``"All"`` or, for an advisor login, one of its FA groups (its accounts only);
  another name gets 321.
* REQ_PNL / REQ_PNL_SINGLE: a PNL / PNL_SINGLE at once and then about every second of
  ``config.clock`` time; a con_id the account does not hold gets no reply at all (until it
  holds it).
* REQ_FAMILY_CODES: every account with an empty family code; REQ_USER_INFO: the
  white-branding id (``""``, or ``sim.store["white_branding_id"]``).

Market moves re-value the positions on the market clock: PnL each second, account values,
portfolio items and summaries when they changed (at most once a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from aiotws.model.account import AccountValue, FamilyCode, Position
from aiotws.model.contract import Contract
from aiotws.sim.ledger import LEDGER_TAGS, Ledger
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
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

__all__ = [
    "MAX_ACCOUNT_SUMMARIES",
    "PNL_INTERVAL",
    "ledger_of",
    "publish_account",
    "publish_fill",
    "seed_position",
    "step_accounts",
]

#: simultaneous REQ_ACCOUNT_SUMMARY subscriptions per client before error 322
MAX_ACCOUNT_SUMMARIES: Final = 2
#: seconds of ``config.clock`` time between PnL updates (and at least between re-valuations)
PNL_INTERVAL: Final = 1.0

_LEDGER: Final = "ledger"
_LAST_STEP: Final = "accounts.last_step"
_PNL_DUE: Final = "accounts.pnl_due"
_S: Final = "accounts"

_Key = tuple[str, str, str]  # account, tag, currency


@dataclass(slots=True)
class _AcctData:
    account: str
    values: dict[_Key, str] = field(default_factory=dict)
    portfolio: dict[int, tuple[object, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class _Multi:
    req_id: int
    account: str
    model_code: str
    ledger_and_nlv: bool = False
    values: dict[_Key, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Summary:
    req_id: int
    tags: list[str]
    values: dict[_Key, str] = field(default_factory=dict)
    #: the accounts of the FA group asked for (``None``: "All")
    accounts: tuple[str, ...] | None = None


@dataclass(slots=True)
class _State:
    positions: bool = False
    positions_multi: dict[int, _Multi] = field(default_factory=dict)
    acct_data: _AcctData | None = None
    updates_multi: dict[int, _Multi] = field(default_factory=dict)
    summaries: dict[int, _Summary] = field(default_factory=dict)
    pnl: dict[int, str] = field(default_factory=dict)
    pnl_single: dict[int, tuple[str, int]] = field(default_factory=dict)


def _state(session: SimSession) -> _State:
    st = session.state.get(_S)
    if st is None:
        st = session.state[_S] = _State()
    assert isinstance(st, _State)
    return st


# -- the ledger -------------------------------------------------------------------------------


def ledger_of(sim: Simulator) -> Ledger:
    """The simulator's :class:`Ledger` (``sim.store["ledger"]``), made on first use from
    ``sim.config`` and valued at the simulated market's prices."""
    ledger = sim.store.get(_LEDGER)
    if ledger is None:
        cfg = sim.config

        def price(con_id: int) -> float | None:
            try:
                q = sim.market.quote(con_id)
            except KeyError:
                return None
            p = q.midpoint
            if p <= 0:
                p = q.last if q.last > 0 else q.mark
            return p if p > 0 else None

        def close(con_id: int) -> float | None:
            try:
                c = sim.market.quote(con_id).close
            except KeyError:
                return None
            return c if c > 0 else None

        ledger = Ledger(cfg.accounts, cfg.starting_cash, cfg.base_currency, price, close)
        sim.store[_LEDGER] = ledger
    assert isinstance(ledger, Ledger)
    return ledger


def seed_position(
    sim: Simulator, account: str, contract: Contract, position: Decimal, avg_cost: float
) -> None:
    """Give ``account`` a position without an order (no cash moves) and publish it."""
    ledger_of(sim).set_position(account, contract, Decimal(position), avg_cost)
    publish_fill(sim, account, contract.con_id)


def publish_fill(sim: Simulator, account: str, con_id: int) -> None:
    """Tell every subscriber what a fill of ``con_id`` in ``account`` changed: POSITION_DATA,
    POSITION_MULTI, PORTFOLIO_VALUE with the changed ACCT_VALUEs and ACCT_UPDATE_TIME,
    ACCOUNT_UPDATE_MULTI and ACCOUNT_SUMMARY updates; PnL follows on the next clock tick."""
    ledger = ledger_of(sim)
    pos = next((p for p in ledger.positions(account) if p.contract.con_id == con_id), None)
    for session in list(sim.sessions):
        st = session.state.get(_S)
        if not isinstance(st, _State):
            continue
        if pos is not None:
            if st.positions:
                session.send(PositionData.from_record(pos))
            for m in st.positions_multi.values():
                if _matches(m.account, account) and not m.model_code:
                    session.send(PositionMulti.from_record(m.req_id, pos))
        _push_account(session, st, ledger, force_con_id=con_id, only=account)
    sim.store[_PNL_DUE] = True
    if _has_pnl(sim):
        sim.ensure_market_clock()


def publish_account(sim: Simulator, account: str | None = None) -> None:
    """Push the account values that changed (after a deposit, say) to their subscribers."""
    ledger = ledger_of(sim)
    for session in list(sim.sessions):
        st = session.state.get(_S)
        if isinstance(st, _State):
            _push_account(session, st, ledger, only=account)


def _matches(wanted: str, account: str) -> bool:
    return wanted in ("", "All") or wanted == account


def _has_pnl(sim: Simulator) -> bool:
    for s in sim.sessions:
        st = s.state.get(_S)
        if isinstance(st, _State) and (st.pnl or st.pnl_single):
            return True
    return False


def _update_time(sim: Simulator) -> str:
    return sim.market_time().astimezone(ZoneInfo(sim.config.time_zone)).strftime("%H:%M")


def _diff(old: dict[_Key, str], new: list[AccountValue]) -> list[AccountValue]:
    """The values of ``new`` that differ from ``old`` (which is updated)."""
    changed = []
    for v in new:
        key = (v.account, v.tag, v.currency)
        if old.get(key) != v.value:
            old[key] = v.value
            changed.append(v)
    return changed


def _multi_values(ledger: Ledger, m: _Multi, account: str) -> list[AccountValue]:
    if m.ledger_and_nlv:
        vals = [v for v in ledger.account_values(account) if v.tag in LEDGER_TAGS]
        nlv, ccy = ledger.summary_values(account)["NetLiquidation"]
        vals.append(AccountValue(account, "NetLiquidation", nlv, ccy))
    else:
        vals = ledger.account_values(account)
    return [AccountValue(v.account, v.tag, v.value, v.currency, m.model_code) for v in vals]


def _summary_values(ledger: Ledger, sub: _Summary) -> list[AccountValue]:
    out: list[AccountValue] = []
    for account in ledger.accounts if sub.accounts is None else sub.accounts:
        out += ledger.summary(account, sub.tags)
    return out


def _portfolio_key(item: PortfolioValue) -> tuple[object, ...]:
    return (
        item.position,
        item.market_price,
        item.market_value,
        item.average_cost,
        item.unrealized_pnl,
        item.realized_pnl,
    )


def _push_account(
    session: SimSession,
    st: _State,
    ledger: Ledger,
    force_con_id: int | None = None,
    only: str | None = None,
) -> None:
    """Send what changed to this session's account subscriptions."""
    ad = st.acct_data
    if ad is not None and (only is None or only == ad.account):
        sent = False
        for item in ledger.portfolio(ad.account):
            msg = PortfolioValue.from_record(item)
            key = _portfolio_key(msg)
            con_id = item.contract.con_id
            if ad.portfolio.get(con_id) != key or con_id == force_con_id:
                ad.portfolio[con_id] = key
                session.send(msg)
                sent = True
        for v in _diff(ad.values, ledger.account_values(ad.account)):
            session.send(AcctValue.from_record(v))
            sent = True
        if sent:
            session.send(AcctUpdateTime(_update_time(session.sim)))
    for m in st.updates_multi.values():
        for account in ledger.accounts:
            if _matches(m.account, account) and (only is None or only == account):
                for v in _diff(m.values, _multi_values(ledger, m, account)):
                    session.send(AccountUpdateMulti.from_record(m.req_id, v))
    for sub in st.summaries.values():
        for v in _diff(sub.values, _summary_values(ledger, sub)):
            session.send(AccountSummary.from_record(sub.req_id, v))


def _send_pnl(session: SimSession, st: _State, ledger: Ledger) -> None:
    for req_id, account in st.pnl.items():
        if ledger.has_account(account):
            session.send(Pnl.from_record(req_id, ledger.pnl(account)))
    for req_id, (account, con_id) in st.pnl_single.items():
        if not ledger.has_account(account):
            continue
        p = ledger.pnl_single(account, con_id)
        if p is not None:
            session.send(PnlSingle.from_record(req_id, p))


@on_clock
def step_accounts(sim: Simulator, *, force: bool = False) -> bool:
    """Re-value positions at the market's prices about once a second of ``config.clock``:
    PNL / PNL_SINGLE to their subscribers, and the account updates that changed. A fill
    (:func:`publish_fill`) makes the next tick send PnL at once. Returns True when it ran."""
    sessions = [(s, st) for s in list(sim.sessions) if isinstance(st := s.state.get(_S), _State)]
    if not sessions:
        return False
    now = sim.config.clock()
    last = sim.store.get(_LAST_STEP)
    due = force or last is None or now - float(last) >= PNL_INTERVAL
    pnl_due = bool(sim.store.pop(_PNL_DUE, False))
    if not (due or pnl_due):
        return False
    ledger = ledger_of(sim)
    if due:
        sim.store[_LAST_STEP] = now
    for session, st in sessions:
        if due:
            _push_account(session, st, ledger)
        _send_pnl(session, st, ledger)
    return True


# -- positions --------------------------------------------------------------------------------


@handles(ReqPositions)
def _req_positions(session: SimSession, msg: ReqPositions) -> None:
    st = _state(session)
    for p in ledger_of(session.sim).positions():
        session.send(PositionData.from_record(p))
    session.send(PositionEnd())
    st.positions = True


@handles(CancelPositions)
def _cancel_positions(session: SimSession, msg: CancelPositions) -> None:
    _state(session).positions = False


@handles(ReqPositionsMulti)
def _req_positions_multi(session: SimSession, msg: ReqPositionsMulti) -> None:
    st = _state(session)
    ledger = ledger_of(session.sim)
    if not _known(session, ledger, msg.req_id, msg.account):
        return
    positions: list[Position] = []
    if not msg.model_code:  # no models in the simulator: a model holds nothing
        positions = [p for p in ledger.positions() if _matches(msg.account, p.account)]
    for p in positions:
        session.send(PositionMulti.from_record(msg.req_id, p))
    session.send(PositionMultiEnd(msg.req_id))
    st.positions_multi[msg.req_id] = _Multi(msg.req_id, msg.account, msg.model_code)


@handles(CancelPositionsMulti)
def _cancel_positions_multi(session: SimSession, msg: CancelPositionsMulti) -> None:
    _state(session).positions_multi.pop(msg.req_id, None)


def _known(session: SimSession, ledger: Ledger, req_id: int, account: str) -> bool:
    if _matches(account, "") or ledger.has_account(account):
        return True
    session.send_error(
        req_id, 321, f"Error validating request.-'bB' : cause - Invalid account code: {account}"
    )
    return False


# -- account updates --------------------------------------------------------------------------


@handles(ReqAcctData)
def _req_acct_data(session: SimSession, msg: ReqAcctData) -> None:
    st = _state(session)
    ledger = ledger_of(session.sim)
    if not msg.subscribe:
        st.acct_data = None
        return
    account = msg.acct_code or (ledger.accounts[0] if len(ledger.accounts) == 1 else "")
    if not ledger.has_account(account):
        session.send_error(
            -1,
            321,
            f"Error validating request.-'bB' : cause - Invalid account code: {msg.acct_code}",
        )
        return
    if st.acct_data is not None:
        session.send_error(
            -1,
            2100,
            "API client has been unsubscribed from account data.",
        )
    ad = st.acct_data = _AcctData(account)
    for v in ledger.account_values(account):
        ad.values[(v.account, v.tag, v.currency)] = v.value
        session.send(AcctValue.from_record(v))
    for item in ledger.portfolio(account):
        pv = PortfolioValue.from_record(item)
        ad.portfolio[item.contract.con_id] = _portfolio_key(pv)
        session.send(pv)
    session.send(AcctUpdateTime(_update_time(session.sim)))
    session.send(AcctDownloadEnd(account))
    session.sim.ensure_market_clock()


@handles(ReqAccountUpdatesMulti)
def _req_account_updates_multi(session: SimSession, msg: ReqAccountUpdatesMulti) -> None:
    st = _state(session)
    ledger = ledger_of(session.sim)
    if not _known(session, ledger, msg.req_id, msg.account):
        return
    m = _Multi(msg.req_id, msg.account, msg.model_code, msg.ledger_and_nlv)
    for account in ledger.accounts:
        if _matches(msg.account, account):
            for v in _diff(m.values, _multi_values(ledger, m, account)):
                session.send(AccountUpdateMulti.from_record(msg.req_id, v))
    session.send(AccountUpdateMultiEnd(msg.req_id))
    st.updates_multi[msg.req_id] = m
    session.sim.ensure_market_clock()


@handles(CancelAccountUpdatesMulti)
def _cancel_account_updates_multi(session: SimSession, msg: CancelAccountUpdatesMulti) -> None:
    _state(session).updates_multi.pop(msg.req_id, None)


# -- account summary --------------------------------------------------------------------------


@handles(ReqAccountSummary)
def _req_account_summary(session: SimSession, msg: ReqAccountSummary) -> None:
    st = _state(session)
    if msg.req_id in st.summaries:
        session.send_error(msg.req_id, 322, f"Duplicate account summary request id {msg.req_id}")
        return
    if len(st.summaries) >= MAX_ACCOUNT_SUMMARIES:
        session.send_error(
            msg.req_id,
            322,
            "Error processing request:-'bb' : cause - Maximum number of account summary "
            "requests exceeded",
        )
        return
    ledger = ledger_of(session.sim)
    accounts: tuple[str, ...] | None = None
    if msg.group_name != "All":
        from aiotws.sim.advisor import fa_book_of, is_advisor  # noqa: PLC0415 - imports us

        group = fa_book_of(session.sim).group(msg.group_name) if is_advisor(session.sim) else None
        if group is None:
            session.send_error(
                msg.req_id, 321, f"Error validating request: unknown group {msg.group_name!r}"
            )
            return
        accounts = tuple(group.accounts)  # an advisor's FA group: its accounts only
    tags = [t.strip() for t in msg.tags.split(",") if t.strip()]
    sub = _Summary(msg.req_id, tags, accounts=accounts)
    for v in _diff(sub.values, _summary_values(ledger, sub)):
        session.send(AccountSummary.from_record(msg.req_id, v))
    session.send(AccountSummaryEnd(msg.req_id))
    st.summaries[msg.req_id] = sub
    session.sim.ensure_market_clock()


@handles(CancelAccountSummary)
def _cancel_account_summary(session: SimSession, msg: CancelAccountSummary) -> None:
    _state(session).summaries.pop(msg.req_id, None)


# -- PnL --------------------------------------------------------------------------------------


@handles(ReqPnl)
def _req_pnl(session: SimSession, msg: ReqPnl) -> None:
    st = _state(session)
    ledger = ledger_of(session.sim)
    st.pnl[msg.req_id] = msg.account
    if ledger.has_account(msg.account):
        session.send(Pnl.from_record(msg.req_id, ledger.pnl(msg.account)))
    session.sim.ensure_market_clock()


@handles(CancelPnl)
def _cancel_pnl(session: SimSession, msg: CancelPnl) -> None:
    _state(session).pnl.pop(msg.req_id, None)


@handles(ReqPnlSingle)
def _req_pnl_single(session: SimSession, msg: ReqPnlSingle) -> None:
    st = _state(session)
    ledger = ledger_of(session.sim)
    st.pnl_single[msg.req_id] = (msg.account, msg.con_id)
    p = ledger.pnl_single(msg.account, msg.con_id) if ledger.has_account(msg.account) else None
    if p is not None:
        session.send(PnlSingle.from_record(msg.req_id, p))
    session.sim.ensure_market_clock()


@handles(CancelPnlSingle)
def _cancel_pnl_single(session: SimSession, msg: CancelPnlSingle) -> None:
    _state(session).pnl_single.pop(msg.req_id, None)


# -- family codes, user info ------------------------------------------------------------------


@handles(ReqFamilyCodes)
def _req_family_codes(session: SimSession, msg: ReqFamilyCodes) -> None:
    session.send(FamilyCodes([FamilyCode(a, "") for a in session.sim.config.accounts]))


@handles(ReqUserInfo)
def _req_user_info(session: SimSession, msg: ReqUserInfo) -> None:
    session.send(UserInfo(msg.req_id, str(session.sim.store.get("white_branding_id", ""))))
