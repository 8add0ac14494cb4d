"""The simulator's book-keeping: cash, positions, margin and PnL per account.

Pure logic (no asyncio, no wire): :class:`Ledger` applies fills, values positions at the
prices a function gives it, and reports what TWS reports about an account (account values,
summary tags, portfolio items, positions, PnL).

Conventions, as IB's:

* ``avg_cost`` is per unit and includes the multiplier and the commission: a stock bought at
  100.00 for 1.00 commission on 100 shares has avg cost 100.01; an option (multiplier 100)
  bought at 2.50 has avg cost 250 plus its commission per contract. A short position's avg
  cost is its proceeds net of commission, per unit.
* realized PnL of a closing fill is ``(price x multiplier - avg_cost) x closed quantity``
  (sign flipped for a short) minus the commission of the closing part: net of both
  commissions.
* stocks and options exchange cash for the premium; futures move cash only by their realized
  PnL when they close (net of both commissions); until then their open PnL, opening
  commission included (it is in the avg cost), is ``FuturesPNL`` and counts towards net
  liquidation and ``TotalCashValue``.
* margin is Reg-T like (:func:`margin_rates`): 50 % initial / 25 % maintenance of a stock
  position's value (long or short), 100 % of a long option's premium, premium plus 20 % of
  the strike notional for a short option, 10 % / 8 % of a future's notional. The account is
  a *margin* account: ``BuyingPower`` is ``AvailableFunds x 4`` (intraday Reg-T leverage).
* ``SettledCash`` equals ``TotalCashValue`` (no settlement delay is simulated), and the
  daily PnL of a position held at the start of the day counts from the price function's
  prior close (or from its avg cost when there is none).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from aiotws.model.account import AccountValue, PnL, PnLSingle, PortfolioItem, Position
from aiotws.model.contract import Contract

__all__ = [
    "ALL_SUMMARY_TAGS",
    "LEDGER_TAGS",
    "AccountTotals",
    "Holding",
    "Ledger",
    "MarginImpact",
    "PriceFn",
    "margin_rates",
    "multiplier_of",
]

#: con_id -> current price per unit (``None``: no price; the avg cost is used instead)
PriceFn = Callable[[int], float | None]

_ZERO: Final = Decimal(0)

#: BuyingPower = AvailableFunds x this (a Reg-T margin account, intraday)
BUYING_POWER_FACTOR: Final = 4.0

#: the tags REQ_ACCOUNT_SUMMARY knows (the official client's AccountSummaryTags)
ALL_SUMMARY_TAGS: Final = (
    "AccountType",
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "AccruedCash",
    "BuyingPower",
    "EquityWithLoanValue",
    "PreviousDayEquityWithLoanValue",
    "GrossPositionValue",
    "ReqTEquity",
    "ReqTMargin",
    "SMA",
    "InitMarginReq",
    "MaintMarginReq",
    "AvailableFunds",
    "ExcessLiquidity",
    "Cushion",
    "FullInitMarginReq",
    "FullMaintMarginReq",
    "FullAvailableFunds",
    "FullExcessLiquidity",
    "LookAheadNextChange",
    "LookAheadInitMarginReq",
    "LookAheadMaintMarginReq",
    "LookAheadAvailableFunds",
    "LookAheadExcessLiquidity",
    "HighestSeverity",
    "DayTradesRemaining",
    "Leverage",
)

#: the per-currency values ``$LEDGER`` relays (IB's "cash balance tags")
LEDGER_TAGS: Final = (
    "CashBalance",
    "TotalCashBalance",
    "AccruedCash",
    "StockMarketValue",
    "OptionMarketValue",
    "FutureOptionValue",
    "FuturesPNL",
    "NetLiquidationByCurrency",
    "UnrealizedPnL",
    "RealizedPnL",
    "ExchangeRate",
    "FundValue",
    "NetDividend",
    "MutualFundValue",
    "MoneyMarketFundValue",
    "CorporateBondValue",
    "TBondValue",
    "TBillValue",
    "WarrantValue",
    "FxCashBalance",
    "AccountOrGroup",
    "IssuerOptionValue",
)

_OPTIONS: Final = frozenset({"OPT", "FOP", "WAR"})
_FUTURES: Final = frozenset({"FUT", "CONTFUT"})


def multiplier_of(contract: Contract) -> float:
    """The contract's multiplier as a number (``""`` or unparsable: 1)."""
    try:
        m = float(contract.multiplier) if contract.multiplier else 1.0
    except ValueError:
        return 1.0
    return m if m > 0 else 1.0


def margin_rates(contract: Contract, qty: Decimal, price: float) -> tuple[float, float]:
    """(initial, maintenance) margin of holding ``qty`` (signed) of ``contract`` at ``price``."""
    if qty == 0:
        return 0.0, 0.0
    m = multiplier_of(contract)
    n = abs(float(qty))
    value = n * price * m
    st = contract.sec_type
    if st in _OPTIONS:
        if qty > 0:
            return value, value
        strike = contract.strike if contract.strike else price
        req = value + 0.20 * strike * m * n
        return req, req
    if st in _FUTURES:
        return 0.10 * value, 0.08 * value
    if st == "CASH":
        return 0.03 * value, 0.02 * value
    return 0.50 * value, 0.25 * value


@dataclass(frozen=True, slots=True)
class MarginImpact:
    """What an order would do to an account's margin (a what-if order's OrderState)."""

    init_before: float
    maint_before: float
    ewl_before: float
    init_change: float
    maint_change: float
    ewl_change: float
    init_after: float
    maint_after: float
    ewl_after: float
    #: False when the order would exceed the available funds (initial margin after it above
    #: the equity with loan after it) and does not reduce the initial margin
    ok: bool


@dataclass(slots=True)
class Holding:
    """One position of one account."""

    contract: Contract
    position: Decimal = _ZERO
    avg_cost: float = 0.0
    #: realized PnL of today (net of commissions)
    realized: float = 0.0
    #: the position's value the daily PnL counts from (signed, contract currency)
    day_basis: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """An account's numbers in its base currency."""

    cash: float
    stock_value: float
    option_value: float
    fop_value: float
    other_value: float
    futures_pnl: float
    net_liquidation: float
    gross_position_value: float
    equity_with_loan: float
    init_margin: float
    maint_margin: float
    unrealized_pnl: float
    realized_pnl: float
    daily_pnl: float
    previous_day_ewl: float

    @property
    def available_funds(self) -> float:
        return self.equity_with_loan - self.init_margin

    @property
    def excess_liquidity(self) -> float:
        return self.net_liquidation - self.maint_margin

    @property
    def buying_power(self) -> float:
        return max(self.available_funds, 0.0) * BUYING_POWER_FACTOR

    @property
    def cushion(self) -> float:
        return self.excess_liquidity / self.net_liquidation if self.net_liquidation else 0.0

    @property
    def leverage(self) -> float:
        return self.gross_position_value / self.net_liquidation if self.net_liquidation else 0.0


@dataclass(slots=True)
class _Account:
    code: str
    cash: dict[str, float] = field(default_factory=dict)
    holdings: dict[int, Holding] = field(default_factory=dict)
    commissions: float = 0.0
    previous_day_ewl: float = 0.0


def _money(v: float) -> str:
    return f"{v:.2f}"


class Ledger:
    """Cash, positions and PnL of every account; valued with ``price(con_id)``.

    ``close(con_id)``: the prior close a seeded position's daily PnL counts from (optional).
    """

    def __init__(
        self,
        accounts: Iterable[str],
        starting_cash: float = 1_000_000.0,
        base_currency: str = "USD",
        price: PriceFn | None = None,
        close: PriceFn | None = None,
    ) -> None:
        self.base_currency = base_currency
        self._price: PriceFn = price or (lambda _con_id: None)
        self._close = close
        self._accounts: dict[str, _Account] = {}
        for code in accounts:
            acct = _Account(code, {base_currency: starting_cash})
            acct.previous_day_ewl = starting_cash
            self._accounts[code] = acct

    # -- accounts --------------------------------------------------------------------------

    @property
    def accounts(self) -> list[str]:
        return list(self._accounts)

    def has_account(self, account: str) -> bool:
        return self.resolve(account) in self._accounts

    def resolve(self, account: str) -> str:
        """``account``, or the only account for ``""`` (as TWS routes an order without an
        account in a single-account login)."""
        if not account and len(self._accounts) == 1:
            return next(iter(self._accounts))
        return account

    def _acct(self, account: str, create: bool = False) -> _Account:
        """The account's state; an unknown account reads as empty, and is kept (with no
        cash) only when ``create`` (a fill or deposit names it)."""
        account = self.resolve(account)
        acct = self._accounts.get(account)
        if acct is None:
            acct = _Account(account, {self.base_currency: 0.0})
            if create:
                self._accounts[account] = acct
        return acct

    def deposit(self, account: str, amount: float, currency: str | None = None) -> None:
        """Add (negative: withdraw) cash."""
        acct = self._acct(account, create=True)
        ccy = currency or self.base_currency
        acct.cash[ccy] = acct.cash.get(ccy, 0.0) + amount

    def cash(self, account: str, currency: str | None = None) -> float:
        return self._acct(account).cash.get(currency or self.base_currency, 0.0)

    def commissions(self, account: str) -> float:
        """The commissions paid today."""
        return self._acct(account).commissions

    # -- positions -------------------------------------------------------------------------

    def position(self, account: str, con_id: int) -> Decimal:
        h = self._acct(account).holdings.get(con_id)
        return h.position if h is not None else _ZERO

    def holding(self, account: str, con_id: int) -> Holding | None:
        """The holding (also one closed today: position 0, realized PnL kept)."""
        return self._acct(account).holdings.get(con_id)

    def holdings(self, account: str) -> list[Holding]:
        """Every holding of ``account`` including those closed today (position 0)."""
        return list(self._acct(account).holdings.values())

    def set_position(
        self, account: str, contract: Contract, position: Decimal, avg_cost: float
    ) -> None:
        """Seed a position (no cash moves); ``avg_cost`` per unit including the multiplier."""
        acct = self._acct(account, create=True)
        h = acct.holdings.get(contract.con_id)
        if h is None:
            h = acct.holdings[contract.con_id] = Holding(contract)
        h.contract = contract
        h.position = Decimal(position)
        h.avg_cost = avg_cost if position else 0.0
        ref = self._close(contract.con_id) if self._close is not None else None
        unit = ref * multiplier_of(contract) if ref is not None and ref > 0 else avg_cost
        h.day_basis = float(position) * unit
        acct.previous_day_ewl = self.totals(account).equity_with_loan

    def apply_fill(
        self,
        account: str,
        contract: Contract,
        side: str,
        shares: Decimal,
        price: float,
        commission: float,
    ) -> float | None:
        """Book a fill; ``side`` ``BOT`` or ``SLD``. Returns its realized PnL (net of the
        commission of the closing part), ``None`` when it only opens or adds."""
        if side not in ("BOT", "SLD"):
            raise ValueError(f"side must be BOT or SLD, not {side!r}")
        shares = abs(Decimal(shares))
        if shares == 0:
            raise ValueError("a fill needs shares")
        acct = self._acct(account, create=True)
        h = acct.holdings.get(contract.con_id)
        if h is None:
            h = acct.holdings[contract.con_id] = Holding(contract)
        h.contract = contract
        m = multiplier_of(contract)
        n = float(shares)
        d = shares if side == "BOT" else -shares
        q = h.position
        ccy = contract.currency or self.base_currency
        futures = contract.sec_type in _FUTURES
        acct.commissions += commission
        realized: float | None = None
        cash_delta = 0.0
        if q == 0 or (q > 0) == (d > 0):  # open or add
            sign = 1.0 if d > 0 else -1.0
            total = abs(float(q)) * h.avg_cost + n * price * m + sign * commission
            h.position = q + d
            h.avg_cost = total / abs(float(h.position))
            h.day_basis += float(d) * price * m
            cash_delta = 0.0 if futures else -float(d) * price * m - commission
        else:  # reduce, close or flip
            closing = min(abs(d), abs(q))
            k = float(closing)
            c_close = commission * k / n
            c_open = commission - c_close
            s = 1.0 if q > 0 else -1.0
            realized = s * (price * m - h.avg_cost) * k - c_close
            h.realized += realized
            h.day_basis *= float((abs(q) - closing) / abs(q))
            new_q = q + d
            h.position = new_q
            if new_q == 0:
                h.avg_cost = 0.0
            elif (new_q > 0) != (q > 0):  # flipped: the rest opens at this price
                rest = abs(float(new_q))
                sign = 1.0 if new_q > 0 else -1.0
                h.avg_cost = (rest * price * m + sign * c_open) / rest
                h.day_basis = float(new_q) * price * m
            cash_delta = realized if futures else -float(d) * price * m - commission
        acct.cash[ccy] = acct.cash.get(ccy, 0.0) + cash_delta
        return realized

    def positions(self, account: str | None = None) -> list[Position]:
        """The positions of ``account`` (``None``: of every account), closed ones (0) too."""
        codes = [account] if account is not None else list(self._accounts)
        return [
            Position(acct.code, h.contract, h.position, h.avg_cost)
            for acct in map(self._acct, codes)
            for h in acct.holdings.values()
        ]

    def forget_closed(self, account: str | None = None) -> None:
        """Drop positions at 0 (a new trading day)."""
        codes = [account] if account is not None else list(self._accounts)
        for code in codes:
            acct = self._acct(code)
            for con_id in [c for c, h in acct.holdings.items() if h.position == 0]:
                del acct.holdings[con_id]

    # -- valuation -------------------------------------------------------------------------

    def market_price(self, con_id: int, holding: Holding | None = None) -> float:
        """The price a position is valued at: the price function's, else its avg cost."""
        p = self._price(con_id)
        if p is not None and p > 0:
            return p
        if holding is not None and holding.avg_cost:
            return holding.avg_cost / multiplier_of(holding.contract)
        return 0.0

    def _value(self, h: Holding, price: float | None = None) -> tuple[float, float, float]:
        """(price, market value, unrealized PnL) of a holding."""
        p = self.market_price(h.contract.con_id, h) if price is None else price
        mv = float(h.position) * p * multiplier_of(h.contract)
        unreal = mv - float(h.position) * h.avg_cost
        return p, mv, unreal

    def portfolio(self, account: str) -> list[PortfolioItem]:
        """PORTFOLIO_VALUE records: every holding (closed ones too) at market."""
        account = self.resolve(account)
        items = []
        for h in self._acct(account).holdings.values():
            p, mv, unreal = self._value(h)
            items.append(
                PortfolioItem(
                    h.contract,
                    h.position,
                    p,
                    round(mv, 2),
                    h.avg_cost,
                    round(unreal, 2),
                    round(h.realized, 2),
                    account,
                )
            )
        return items

    def totals(self, account: str, override: tuple[int, float] | None = None) -> AccountTotals:
        """The account's numbers; ``override`` = (con_id, price) values one position at a
        given price (a what-if order's)."""
        acct = self._acct(account)
        stock = option = fop = other = fut = gross = init = maint = unreal = 0.0
        realized = daily = 0.0
        for h in acct.holdings.values():
            price = override[1] if override and override[0] == h.contract.con_id else None
            p, mv, u = self._value(h, price)
            realized += h.realized
            daily += h.realized + (mv - h.day_basis if h.position else 0.0)
            if h.position == 0:
                continue
            unreal += u
            i, mm = margin_rates(h.contract, h.position, p)
            init += i
            maint += mm
            st = h.contract.sec_type
            if st in _FUTURES:
                fut += u
                continue
            gross += abs(mv)
            if st == "STK":
                stock += mv
            elif st == "OPT":
                option += mv
            elif st == "FOP":
                fop += mv
            else:
                other += mv
        cash = sum(acct.cash.values())
        nlv = cash + stock + option + fop + other + fut
        return AccountTotals(
            cash=cash,
            stock_value=stock,
            option_value=option,
            fop_value=fop,
            other_value=other,
            futures_pnl=fut,
            net_liquidation=nlv,
            gross_position_value=gross,
            equity_with_loan=nlv,
            init_margin=init,
            maint_margin=maint,
            unrealized_pnl=unreal,
            realized_pnl=realized,
            daily_pnl=daily,
            previous_day_ewl=acct.previous_day_ewl,
        )

    def margin_impact(
        self, account: str, contract: Contract, action: str, quantity: Decimal, price: float
    ) -> MarginImpact:
        """What ``action`` (``BUY``/``SELL``/``SSHORT``, or ``BOT``/``SLD``) of ``quantity``
        at ``price`` would do to the account's margin (commission not included)."""
        before = self.totals(account)
        trial = copy.copy(self)
        trial._accounts = {account: copy.deepcopy(self._acct(account))}
        side = "BOT" if action.upper() in ("BUY", "BOT") else "SLD"
        trial.apply_fill(account, contract, side, quantity, price, 0.0)
        after = trial.totals(account, (contract.con_id, price))
        ok = after.init_margin <= after.equity_with_loan or after.init_margin <= before.init_margin
        return MarginImpact(
            before.init_margin,
            before.maint_margin,
            before.equity_with_loan,
            after.init_margin - before.init_margin,
            after.maint_margin - before.maint_margin,
            after.equity_with_loan - before.equity_with_loan,
            after.init_margin,
            after.maint_margin,
            after.equity_with_loan,
            ok,
        )

    # -- what TWS reports ------------------------------------------------------------------

    def _currencies(self, account: str) -> list[str]:
        acct = self._acct(account)
        ccys = {self.base_currency, *acct.cash}
        ccys.update(h.contract.currency for h in acct.holdings.values() if h.contract.currency)
        return sorted(ccys, key=lambda c: (c != self.base_currency, c))

    def ledger_values(self, account: str, currency: str) -> list[AccountValue]:
        """The ``$LEDGER`` values of one currency (``BASE``: all, in the base currency)."""
        account = self.resolve(account)
        acct = self._acct(account)
        base = currency == "BASE"
        stock = option = fop = fut = other = unreal = realized = 0.0
        for h in acct.holdings.values():
            if not base and (h.contract.currency or self.base_currency) != currency:
                continue
            _, mv, u = self._value(h)
            realized += h.realized
            if h.position == 0:
                continue
            unreal += u
            st = h.contract.sec_type
            if st in _FUTURES:
                fut += u
            elif st == "STK":
                stock += mv
            elif st == "OPT":
                option += mv
            elif st == "FOP":
                fop += mv
            else:
                other += mv
        cash = sum(acct.cash.values()) if base else acct.cash.get(currency, 0.0)
        values = {
            "CashBalance": _money(cash),
            "TotalCashBalance": _money(cash),
            "AccruedCash": _money(0.0),
            "StockMarketValue": _money(stock),
            "OptionMarketValue": _money(option),
            "FutureOptionValue": _money(fop),
            "FuturesPNL": _money(fut),
            "NetLiquidationByCurrency": _money(cash + stock + option + fop + other + fut),
            "UnrealizedPnL": _money(unreal),
            "RealizedPnL": _money(realized),
            "ExchangeRate": "1.00",
            "FundValue": _money(0.0),
            "NetDividend": _money(0.0),
            "MutualFundValue": _money(0.0),
            "MoneyMarketFundValue": _money(0.0),
            "CorporateBondValue": _money(0.0),
            "TBondValue": _money(0.0),
            "TBillValue": _money(0.0),
            "WarrantValue": _money(0.0),
            "FxCashBalance": _money(0.0),
            "AccountOrGroup": account,
            "IssuerOptionValue": _money(0.0),
        }
        return [AccountValue(account, tag, values[tag], currency) for tag in LEDGER_TAGS]

    def summary_values(self, account: str) -> dict[str, tuple[str, str]]:
        """Each account summary tag's (value, currency)."""
        account = self.resolve(account)
        t = self.totals(account)
        b = self.base_currency
        avail, excess = t.available_funds, t.excess_liquidity
        money = {
            "NetLiquidation": t.net_liquidation,
            "TotalCashValue": t.cash + t.futures_pnl,
            "SettledCash": t.cash,
            "AccruedCash": 0.0,
            "BuyingPower": t.buying_power,
            "EquityWithLoanValue": t.equity_with_loan,
            "PreviousDayEquityWithLoanValue": t.previous_day_ewl,
            "GrossPositionValue": t.gross_position_value,
            "ReqTEquity": t.equity_with_loan,
            "ReqTMargin": t.init_margin,
            "SMA": max(t.equity_with_loan - t.init_margin, 0.0),
            "InitMarginReq": t.init_margin,
            "MaintMarginReq": t.maint_margin,
            "AvailableFunds": avail,
            "ExcessLiquidity": excess,
            "FullInitMarginReq": t.init_margin,
            "FullMaintMarginReq": t.maint_margin,
            "FullAvailableFunds": avail,
            "FullExcessLiquidity": excess,
            "LookAheadInitMarginReq": t.init_margin,
            "LookAheadMaintMarginReq": t.maint_margin,
            "LookAheadAvailableFunds": avail,
            "LookAheadExcessLiquidity": excess,
        }
        out: dict[str, tuple[str, str]] = {k: (_money(v), b) for k, v in money.items()}
        out["AccountType"] = ("INDIVIDUAL", "")
        out["Cushion"] = (f"{t.cushion:.6f}", "")
        out["LookAheadNextChange"] = ("0", "")
        out["HighestSeverity"] = ("0", "")
        out["DayTradesRemaining"] = ("-1", "")
        out["Leverage"] = (f"{t.leverage:.2f}", "")
        return out

    def summary(self, account: str, tags: Iterable[str]) -> list[AccountValue]:
        """ACCOUNT_SUMMARY records for a REQ_ACCOUNT_SUMMARY tag list, in its order.

        ``$LEDGER``: the ledger values in the base currency; ``$LEDGER:ALL``: per currency
        and ``BASE``; ``$LEDGER:<CCY>``: one currency. Unknown tags are skipped, as TWS does.
        """
        account = self.resolve(account)
        values = self.summary_values(account)
        out: list[AccountValue] = []
        seen: set[str] = set()
        for raw in tags:
            tag = raw.strip()
            if not tag or tag in seen:
                continue
            seen.add(tag)
            if tag.upper().startswith("$LEDGER"):
                _, _, which = tag.partition(":")
                which = which.upper()
                if not which:
                    out += [
                        AccountValue(account, v.tag, v.value, self.base_currency)
                        for v in self.ledger_values(account, "BASE")
                    ]
                elif which == "ALL":
                    for ccy in [*self._currencies(account), "BASE"]:
                        out += self.ledger_values(account, ccy)
                else:
                    out += self.ledger_values(account, which)
            elif tag in values:
                value, ccy = values[tag]
                out.append(AccountValue(account, tag, value, ccy))
        return out

    def account_values(self, account: str) -> list[AccountValue]:
        """ACCT_VALUE records, as REQ_ACCT_DATA sends them."""
        account = self.resolve(account)
        s = self.summary_values(account)
        b = self.base_currency
        out = [
            AccountValue(account, "AccountCode", account),
            AccountValue(account, "AccountReady", "true"),
            AccountValue(account, "AccountType", "INDIVIDUAL"),
        ]
        renamed = {"ReqTEquity": "RegTEquity", "ReqTMargin": "RegTMargin", "Leverage": "Leverage-S"}
        for tag in ALL_SUMMARY_TAGS:
            if tag == "AccountType":
                continue
            value, ccy = s[tag]
            out.append(AccountValue(account, renamed.get(tag, tag), value, ccy))
        for ccy in [*self._currencies(account), "BASE"]:
            out.append(AccountValue(account, "Currency", b if ccy == "BASE" else ccy, ccy))
            out += self.ledger_values(account, ccy)
        out.append(AccountValue(account, "DayTradesRemainingT+1", "-1"))
        out.append(AccountValue(account, "WhatIfPMEnabled", "true"))
        return out

    def pnl(self, account: str) -> PnL:
        """The account's PnL (REQ_PNL): daily, unrealized, realized."""
        account = self.resolve(account)
        t = self.totals(account)
        return PnL(
            account, "", round(t.daily_pnl, 2), round(t.unrealized_pnl, 2), round(t.realized_pnl, 2)
        )

    def pnl_single(self, account: str, con_id: int) -> PnLSingle | None:
        """The PnL of one position (REQ_PNL_SINGLE); ``None`` when the account never held
        ``con_id`` today."""
        account = self.resolve(account)
        h = self._acct(account).holdings.get(con_id)
        if h is None:
            return None
        _, mv, unreal = self._value(h)
        daily = h.realized + (mv - h.day_basis if h.position else 0.0)
        return PnLSingle(
            account,
            "",
            con_id,
            h.position,
            round(daily, 2),
            round(unreal, 2),
            round(h.realized, 2),
            round(mv, 2),
        )
