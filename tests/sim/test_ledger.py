"""The simulator's ledger: fills, avg cost, realized PnL, cash, margin and account values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiotws.model.contract import Contract
from aiotws.sim.ledger import ALL_SUMMARY_TAGS, LEDGER_TAGS, Ledger, margin_rates

ACCT = "DU1"
AAPL = Contract(sec_type="STK", con_id=1, symbol="AAPL", currency="USD")
OPT = Contract(
    sec_type="OPT", con_id=2, symbol="AAPL", strike=200.0, right="C", multiplier="100",
    currency="USD",
)  # fmt: skip
ES = Contract(sec_type="FUT", con_id=3, symbol="ES", multiplier="50", currency="USD")


class Prices:
    def __init__(self) -> None:
        self.p: dict[int, float] = {}

    def __call__(self, con_id: int) -> float | None:
        return self.p.get(con_id)


@pytest.fixture
def prices() -> Prices:
    return Prices()


@pytest.fixture
def ledger(prices: Prices) -> Ledger:
    return Ledger([ACCT], 100_000.0, "USD", prices)


def d(x: int | str) -> Decimal:
    return Decimal(x)


def values(ledger: Ledger) -> dict[tuple[str, str], str]:
    return {(v.tag, v.currency): v.value for v in ledger.account_values(ACCT)}


def test_open_and_add_average_cost_includes_commission(ledger: Ledger) -> None:
    assert ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 100.0, 1.0) is None
    h = ledger.holding(ACCT, 1)
    assert h is not None
    assert ledger.position(ACCT, 1) == 100
    assert h.avg_cost == pytest.approx(100.01)
    assert ledger.cash(ACCT) == pytest.approx(100_000 - 10_000 - 1)
    assert ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 110.0, 1.0) is None
    assert h.avg_cost == pytest.approx((10_001 + 11_001) / 200)
    assert ledger.commissions(ACCT) == 2.0


def test_reduce_and_close_realize_net_of_both_commissions(ledger: Ledger) -> None:
    ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 100.0, 1.0)
    r = ledger.apply_fill(ACCT, AAPL, "SLD", d(40), 105.0, 1.0)
    assert r == pytest.approx((105.0 - 100.01) * 40 - 1.0)
    assert ledger.position(ACCT, 1) == 60
    h = ledger.holding(ACCT, 1)
    assert h is not None and h.avg_cost == pytest.approx(100.01)  # reducing keeps avg cost
    r2 = ledger.apply_fill(ACCT, AAPL, "SLD", d(60), 95.0, 1.0)
    assert r2 == pytest.approx((95.0 - 100.01) * 60 - 1.0)
    assert ledger.position(ACCT, 1) == 0
    assert h.avg_cost == 0.0
    assert h.realized == pytest.approx(r + r2)
    # round trip: cash lost exactly the PnL
    assert ledger.cash(ACCT) - 100_000 == pytest.approx(r + r2)
    assert r + r2 == pytest.approx(100 * 0 + 40 * 5 - 60 * 5 - 3.0)
    # a closed position stays in the day's list with 0
    assert [(p.contract.con_id, p.position) for p in ledger.positions(ACCT)] == [(1, 0)]
    ledger.forget_closed()
    assert ledger.positions(ACCT) == []


def test_short_open_and_cover(ledger: Ledger) -> None:
    ledger.apply_fill(ACCT, AAPL, "SLD", d(100), 50.0, 2.0)
    assert ledger.position(ACCT, 1) == -100
    h = ledger.holding(ACCT, 1)
    assert h is not None and h.avg_cost == pytest.approx(49.98)  # proceeds net of commission
    assert ledger.cash(ACCT) == pytest.approx(100_000 + 5_000 - 2)
    r = ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 45.0, 2.0)
    assert r == pytest.approx((49.98 - 45.0) * 100 - 2.0)
    assert ledger.cash(ACCT) - 100_000 == pytest.approx(r)


def test_flip_realizes_the_closed_part_and_opens_the_rest(ledger: Ledger) -> None:
    ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 100.0, 0.0)
    r = ledger.apply_fill(ACCT, AAPL, "SLD", d(150), 110.0, 3.0)
    assert r == pytest.approx(10.0 * 100 - 2.0)  # 2/3 of the commission closes
    assert ledger.position(ACCT, 1) == -50
    h = ledger.holding(ACCT, 1)
    assert h is not None and h.avg_cost == pytest.approx(110.0 - 1.0 / 50)


def test_option_avg_cost_has_the_multiplier(ledger: Ledger, prices: Prices) -> None:
    ledger.apply_fill(ACCT, OPT, "BOT", d(2), 2.5, 1.3)
    h = ledger.holding(ACCT, 2)
    assert h is not None and h.avg_cost == pytest.approx(250.65)
    assert ledger.cash(ACCT) == pytest.approx(100_000 - 500 - 1.3)
    prices.p[2] = 3.0
    [item] = ledger.portfolio(ACCT)
    assert item.market_price == 3.0
    assert item.market_value == pytest.approx(600.0)
    assert item.unrealized_pnl == pytest.approx(600 - 501.3)
    r = ledger.apply_fill(ACCT, OPT, "SLD", d(2), 3.0, 1.3)
    assert r == pytest.approx(600 - 501.3 - 1.3)


def test_futures_move_cash_only_by_pnl_and_commission(ledger: Ledger, prices: Prices) -> None:
    ledger.apply_fill(ACCT, ES, "BOT", d(1), 5000.0, 2.0)
    assert ledger.cash(ACCT) == 100_000  # the commission is in the avg cost until closed
    prices.p[3] = 5010.0
    t = ledger.totals(ACCT)
    assert t.futures_pnl == pytest.approx(500 - 2)
    assert t.net_liquidation == pytest.approx(100_000 + 500 - 2)
    assert t.gross_position_value == 0.0
    assert t.init_margin == pytest.approx(0.10 * 5010 * 50)
    r = ledger.apply_fill(ACCT, ES, "SLD", d(1), 5010.0, 2.0)
    assert r == pytest.approx(500 - 4)
    assert ledger.cash(ACCT) - 100_000 == pytest.approx(r)


def test_unrealized_follows_the_price(ledger: Ledger, prices: Prices) -> None:
    ledger.apply_fill(ACCT, AAPL, "BOT", d(10), 100.0, 0.0)
    assert ledger.totals(ACCT).unrealized_pnl == 0.0  # no price: valued at cost
    prices.p[1] = 101.5
    t = ledger.totals(ACCT)
    assert t.unrealized_pnl == pytest.approx(15.0)
    assert t.daily_pnl == pytest.approx(15.0)
    pnl = ledger.pnl(ACCT)
    assert (pnl.daily_pnl, pnl.unrealized_pnl, pnl.realized_pnl) == (15.0, 15.0, 0.0)
    single = ledger.pnl_single(ACCT, 1)
    assert single is not None
    assert (single.position, single.value, single.unrealized_pnl) == (10, 1015.0, 15.0)
    assert ledger.pnl_single(ACCT, 99) is None


def test_seeded_position_daily_pnl_counts_from_the_close() -> None:
    px = {1: 105.0}
    ledger = Ledger([ACCT], 0.0, "USD", px.get, {1: 100.0}.get)
    ledger.set_position(ACCT, AAPL, d(10), 90.0)
    assert ledger.cash(ACCT) == 0.0
    t = ledger.totals(ACCT)
    assert t.unrealized_pnl == pytest.approx(150.0)
    assert t.daily_pnl == pytest.approx(50.0)


def test_account_values_are_consistent(ledger: Ledger, prices: Prices) -> None:
    ledger.apply_fill(ACCT, AAPL, "BOT", d(100), 100.0, 1.0)
    ledger.apply_fill(ACCT, OPT, "SLD", d(1), 4.0, 1.0)
    prices.p.update({1: 102.0, 2: 3.0})
    v = values(ledger)
    cash = 100_000 - 10_001 + 400 - 1
    stock, option = 10_200.0, -300.0
    nlv = cash + stock + option
    assert float(v[("TotalCashValue", "USD")]) == pytest.approx(cash, abs=0.01)
    assert float(v[("CashBalance", "BASE")]) == pytest.approx(cash, abs=0.01)
    assert float(v[("CashBalance", "USD")]) == pytest.approx(cash, abs=0.01)
    assert float(v[("StockMarketValue", "BASE")]) == stock
    assert float(v[("OptionMarketValue", "BASE")]) == option
    assert float(v[("NetLiquidation", "USD")]) == pytest.approx(nlv, abs=0.01)
    assert float(v[("GrossPositionValue", "USD")]) == pytest.approx(stock + 300)
    init = 0.5 * stock + 300 + 0.2 * 200 * 100
    maint = 0.25 * stock + 300 + 0.2 * 200 * 100
    assert float(v[("InitMarginReq", "USD")]) == pytest.approx(init, abs=0.01)
    assert float(v[("MaintMarginReq", "USD")]) == pytest.approx(maint, abs=0.01)
    assert float(v[("AvailableFunds", "USD")]) == pytest.approx(nlv - init, abs=0.01)
    assert float(v[("ExcessLiquidity", "USD")]) == pytest.approx(nlv - maint, abs=0.01)
    assert float(v[("BuyingPower", "USD")]) == pytest.approx(4 * (nlv - init), abs=0.05)
    assert float(v[("Cushion", "")]) == pytest.approx((nlv - maint) / nlv, abs=1e-6)
    assert float(v[("UnrealizedPnL", "BASE")]) == pytest.approx(200 - 1 + 100 - 1, abs=0.01)
    assert v[("AccountType", "")] == "INDIVIDUAL"
    assert v[("AccountReady", "")] == "true"
    assert v[("AccountCode", "")] == ACCT
    assert v[("Currency", "BASE")] == "USD"
    assert v[("RegTEquity", "USD")] == v[("NetLiquidation", "USD")]


def test_summary_tags_and_ledger_groups(ledger: Ledger) -> None:
    ledger.deposit(ACCT, 1000.0, "EUR")
    everything = ledger.summary(ACCT, ALL_SUMMARY_TAGS)
    assert [v.tag for v in everything] == list(ALL_SUMMARY_TAGS)
    picked = ledger.summary(ACCT, ["NetLiquidation", "Nonsense", "NetLiquidation", "Cushion"])
    assert [(v.tag, v.currency) for v in picked] == [("NetLiquidation", "USD"), ("Cushion", "")]
    base = ledger.summary(ACCT, ["$LEDGER"])
    assert [v.tag for v in base] == list(LEDGER_TAGS)
    assert {v.currency for v in base} == {"USD"}
    eur = ledger.summary(ACCT, ["$LEDGER:EUR"])
    assert {v.currency for v in eur} == {"EUR"}
    assert next(v.value for v in eur if v.tag == "CashBalance") == "1000.00"
    every = ledger.summary(ACCT, ["$LEDGER:ALL"])
    assert {v.currency for v in every} == {"USD", "EUR", "BASE"}


def test_margin_impact(ledger: Ledger, prices: Prices) -> None:
    prices.p[1] = 100.0
    m = ledger.margin_impact(ACCT, AAPL, "BUY", d(100), 100.0)
    assert (m.init_before, m.maint_before, m.ewl_before) == (0.0, 0.0, 100_000.0)
    assert m.init_change == pytest.approx(5_000.0)
    assert m.maint_change == pytest.approx(2_500.0)
    assert m.ewl_change == pytest.approx(0.0)
    assert m.init_after == m.init_before + m.init_change
    assert m.ok
    assert ledger.position(ACCT, 1) == 0  # a what-if changes nothing
    assert ledger.cash(ACCT) == 100_000.0
    too_big = ledger.margin_impact(ACCT, AAPL, "BUY", d(2100), 100.0)
    assert too_big.init_after > too_big.ewl_after
    assert not too_big.ok
    short = ledger.margin_impact(ACCT, AAPL, "SELL", d(100), 100.0)
    assert short.init_change == pytest.approx(5_000.0) and short.ok


def test_risk_reducing_order_is_ok_even_in_deficit(ledger: Ledger, prices: Prices) -> None:
    ledger.apply_fill(ACCT, AAPL, "BOT", d(1500), 100.0, 0.0)
    prices.p[1] = 60.0
    t = ledger.totals(ACCT)
    assert t.init_margin > t.equity_with_loan - 0  # would be too much to add
    assert not ledger.margin_impact(ACCT, AAPL, "BUY", d(1000), 60.0).ok
    assert ledger.margin_impact(ACCT, AAPL, "SELL", d(500), 60.0).ok


def test_margin_rates() -> None:
    assert margin_rates(AAPL, d(-10), 100.0) == (500.0, 250.0)
    assert margin_rates(OPT, d(1), 2.0) == (200.0, 200.0)
    assert margin_rates(AAPL, d(0), 100.0) == (0.0, 0.0)


def test_bad_fills_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.apply_fill(ACCT, AAPL, "BUY", d(1), 1.0, 0.0)
    with pytest.raises(ValueError):
        ledger.apply_fill(ACCT, AAPL, "BOT", d(0), 1.0, 0.0)


def test_empty_account_is_the_only_one_and_unknown_reads_empty(ledger: Ledger) -> None:
    ledger.apply_fill("", AAPL, "BOT", d(1), 10.0, 0.0)
    assert ledger.position(ACCT, 1) == 1
    assert [p.account for p in ledger.positions("")] == [ACCT]
    assert ledger.position("DU999", 1) == 0
    assert ledger.summary("DU999", ["NetLiquidation"])[0].value == "0.00"
    assert ledger.accounts == [ACCT]  # reading does not make an account
    assert not ledger.has_account("DU999")
    ledger.deposit("DU2", 5.0)
    assert ledger.accounts == [ACCT, "DU2"]
