"""The simulator's instrument universe: contents, consistency, and TWS's lookup semantics."""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiotws.model import (
    CFD,
    ContFuture,
    Contract,
    Crypto,
    Forex,
    Future,
    FuturesOption,
    Index,
    Option,
    PriceIncrement,
    Stock,
)
from aiotws.sim.calendar import is_business_day, previous_business_day, us_holidays
from aiotws.sim.universe import (
    MADE_UP_CON_IDS,
    MARKET_RULES,
    SMART_COMPONENTS,
    Instrument,
    Universe,
    increment_at,
)

TODAY = date(2026, 3, 2)  # a Monday
DERIVATIVES = ("OPT", "FOP", "FUT")
REAL_CON_IDS = {
    "AAPL": 265598,
    "MSFT": 272093,
    "SPY": 756733,
    "EUR.USD": 12087792,
    "SPX": 416904,
}


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe(seed=1, today=TODAY)


def expiry(inst: Instrument) -> date:
    return datetime.strptime(inst.contract.last_trade_date_or_contract_month, "%Y%m%d").date()


def only(details: list) -> Contract:
    assert len(details) == 1, details
    return details[0].contract


# -- contents ------------------------------------------------------------------------------------


def test_aapl(universe: Universe) -> None:
    aapl = universe.by_con_id(265598)
    assert aapl is not None
    d, c = aapl.details, aapl.contract
    assert (c.sec_type, c.symbol, c.exchange, c.primary_exchange, c.currency) == (
        "STK",
        "AAPL",
        "SMART",
        "NASDAQ",
        "USD",
    )
    assert c.strike is None and c.right == "" and c.multiplier == ""
    assert d.min_tick == 0.01 and aapl.tick == 0.01
    assert d.long_name == "APPLE INC"
    assert d.stock_type == "COMMON"
    assert d.industry and d.category and d.subcategory
    assert d.time_zone_id == "US/Eastern"
    assert d.price_magnifier == 1
    assert {"SMART", "NASDAQ", "NYSE", "ARCA", "ISE"} <= set(d.valid_exchanges)
    assert {"LMT", "MKT", "STP", "TRAIL", "MOC"} <= set(d.order_types)
    assert [(t.tag, t.value) for t in d.sec_id_list] == [("ISIN", "US0378331005")]
    assert d.min_size == d.size_increment == Decimal("1")
    assert 200 < aapl.price < 260 and 0.1 < aapl.volatility < 0.6


def test_real_con_ids(universe: Universe) -> None:
    by_local = {i.contract.local_symbol: i for i in universe.underlyings}
    for local, con_id in REAL_CON_IDS.items():
        assert by_local[local].con_id == con_id


def test_at_least_30_non_option_instruments_of_every_kind(universe: Universe) -> None:
    kinds = Counter(i.contract.sec_type for i in universe.underlyings)
    assert sum(kinds.values()) >= 30
    assert kinds["STK"] >= 12
    for kind in ("IND", "FUT", "CASH", "CRYPTO", "CFD", "BOND"):
        assert kinds[kind] >= 1, kind
    assert not {"OPT", "FOP"} & set(kinds)
    futures = Counter(
        i.contract.symbol for i in universe.underlyings if i.contract.sec_type == "FUT"
    )
    assert all(futures[root] >= 3 for root in ("ES", "NQ", "CL"))
    pairs = {i.contract.local_symbol for i in universe.underlyings if i.contract.sec_type == "CASH"}
    assert {"EUR.USD", "GBP.USD", "USD.JPY"} <= pairs


def test_option_counts(universe: Universe) -> None:
    classes = Counter(
        i.contract.trading_class for i in universe.instruments if i.contract.sec_type == "OPT"
    )
    assert classes["AAPL"] > 500 and classes["SPX"] > 300 and classes["SPXW"] > 300
    assert sum(1 for i in universe.instruments if i.contract.sec_type == "FOP") > 0
    assert len(universe.instruments) < 5000


def test_reference_prices(universe: Universe) -> None:
    def price(local: str) -> float:
        return next(i.price for i in universe.underlyings if i.contract.local_symbol == local)

    assert 5500 < price("SPX") < 6500
    assert 1.0 < price("EUR.USD") < 1.2
    assert 80000 < price("BTC.USD") < 100000
    assert 60 < price("CLK6") < 80
    assert 5500 < price("ESM6") < 6500


def test_construction_is_fast() -> None:
    started = time.perf_counter()
    u = Universe(today=TODAY)
    built = time.perf_counter() - started
    assert built < 0.1
    started = time.perf_counter()
    assert len(u.instruments) > 2000  # every option chain materialised
    assert time.perf_counter() - started < 1.0


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_and_date_same_universe() -> None:
    a, b = Universe(seed=7, today=TODAY), Universe(seed=7, today=TODAY)
    assert a == b
    assert a.instruments == b.instruments
    assert a != Universe(seed=8, today=TODAY)
    assert a != Universe(seed=7, today=TODAY + timedelta(days=1))
    assert [i.con_id for i in a.instruments] == [i.con_id for i in b.instruments]


def test_laziness_never_shows() -> None:
    first = Universe(seed=3, today=TODAY)
    spxw = next(i for i in first.instruments if i.contract.trading_class == "SPXW")
    es_fop = next(i for i in first.instruments if i.contract.sec_type == "FOP")
    other = Universe(seed=3, today=TODAY)
    assert other.by_con_id(spxw.con_id) == spxw  # loads the SPX group first
    assert other.options_of(es_fop.details.under_con_id)[0].details.under_con_id
    assert other.instruments == first.instruments
    lookup = Option("SPX", spxw.contract.last_trade_date_or_contract_month, None, "C")
    assert Universe(seed=3, today=TODAY).match(lookup) == first.match(lookup)


def test_seed_moves_prices_not_contracts() -> None:
    a, b = Universe(seed=1, today=TODAY), Universe(seed=2, today=TODAY)
    assert [i.details for i in a.underlyings] == [i.details for i in b.underlyings]
    assert [i.price for i in a.underlyings] != [i.price for i in b.underlyings]


def test_date_moves_expiries_and_keeps_con_ids() -> None:
    early, late = Universe(today=TODAY), Universe(today=TODAY + timedelta(days=100))
    front_early, front_late = early.front_future("ES"), late.front_future("ES")
    assert front_early is not None and front_late is not None
    assert front_early.contract.local_symbol == "ESH6"
    assert expiry(front_late) > expiry(front_early)
    assert front_late.contract.local_symbol == "ESM6"
    # an option listed on both dates keeps its conId
    late_by_local = {i.contract.local_symbol: i.con_id for i in late.options_of(265598)}
    shared = [i for i in early.options_of(265598) if i.contract.local_symbol in late_by_local]
    assert shared
    assert all(late_by_local[i.contract.local_symbol] == i.con_id for i in shared)
    # the same stock keeps its (made-up) conId too
    ibm_chf = Stock("IBM", "SMART", "CHF")
    assert only(early.match(ibm_chf)).con_id == only(late.match(ibm_chf)).con_id


@settings(max_examples=25)
@given(st.dates(date(2024, 1, 1), date(2032, 12, 31)))
def test_nothing_is_ever_expired(today: date) -> None:
    u = Universe(today=today)
    for root in ("ES", "NQ", "CL"):
        futures = [
            i for i in u.underlyings if i.contract.sec_type == "FUT" and i.contract.symbol == root
        ]
        assert len(futures) >= 3
        assert all(expiry(f) > today for f in futures)
        front = u.front_future(root)
        assert front is not None and expiry(front) == min(expiry(f) for f in futures)
    aapl_options = u.options_of(265598)
    assert aapl_options and all(expiry(o) > today for o in aapl_options)
    assert all(expiry(o) - today < timedelta(days=200) for o in aapl_options)


# -- internal consistency --------------------------------------------------------------------

OCC = re.compile(r"^(?P<root>[A-Z]{1,6}) *(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
FUT_LOCAL = re.compile(r"^(?P<root>[A-Z]{2})(?P<month>[FGHJKMNQUVXZ])(?P<year>\d)$")
MONTH_CODES = "FGHJKMNQUVXZ"


@pytest.mark.parametrize("today", [TODAY, date(2026, 12, 18), date(2027, 1, 2), None], ids=str)
def test_every_instrument_is_consistent(today: date | None) -> None:
    u = Universe(seed=5, today=today)
    today = u.today
    instruments = u.instruments
    con_ids = [i.con_id for i in instruments]
    assert len(set(con_ids)) == len(con_ids)
    assert all(c > 0 for c in con_ids)
    for inst in instruments:
        check_instrument(u, inst, today)


CHECKED_HOURS: set[tuple[str, str, str, str]] = set()


def check_instrument(u: Universe, inst: Instrument, today: date) -> None:
    d, c = inst.details, inst.contract
    where = c.local_symbol
    assert u.by_con_id(c.con_id) is inst
    assert (
        c.con_id in REAL_CON_IDS.values()
        or c.con_id < MADE_UP_CON_IDS.start
        or (c.con_id in MADE_UP_CON_IDS)
    )
    assert c.exchange in d.valid_exchanges, where
    assert d.price_magnifier == 1 and d.long_name and d.market_name, where
    assert d.min_size is not None and d.size_increment is not None
    assert d.suggested_size_increment is not None
    # market rules: one per valid exchange; min tick is the first rung; price on the grid
    assert len(d.market_rule_ids) == len(d.valid_exchanges), where
    rules = [u.market_rule(r) for r in d.market_rule_ids]
    assert all(rules), where
    rule = rules[0]
    assert rule is not None
    assert d.min_tick == rule[0].increment, where
    assert inst.tick == increment_at(rule, inst.price), where
    assert inst.price > 0 and inst.volatility > 0
    assert abs(inst.price / inst.tick - round(inst.price / inst.tick)) < 1e-6, where
    # hours: each layout (shared by many instruments) checked once
    hours_key = (d.trading_hours, d.liquid_hours, d.time_zone_id, c.sec_type)
    if hours_key not in CHECKED_HOURS:
        check_hours(inst, today)
        CHECKED_HOURS.add(hours_key)
    # kinds
    if c.sec_type in DERIVATIVES:
        assert expiry(inst) > today, where
        assert d.real_expiration_date == c.last_trade_date_or_contract_month == c.last_trade_date
        assert d.last_trade_time and re.fullmatch(r"\d\d:\d\d:\d\d", d.last_trade_time)
        assert re.fullmatch(r"\d{6}", d.contract_month)
        und = u.by_con_id(d.under_con_id)
        assert und is not None, where
        assert (und.contract.symbol, und.contract.sec_type) == (d.under_symbol, d.under_sec_type)
    else:
        assert d.under_con_id == 0 and c.strike is None and c.right == ""
    if c.sec_type == "OPT":
        check_option(inst)
    elif c.sec_type == "FOP":
        assert c.strike is not None and c.strike % 25 == 0
        und = u.by_con_id(d.under_con_id)
        assert und is not None and und.contract.sec_type == "FUT"
        assert c.local_symbol == f"{und.contract.local_symbol} {c.right}{c.strike:g}"
        assert (
            c.multiplier == und.contract.multiplier
            and d.contract_month == und.details.contract_month
        )
    elif c.sec_type == "FUT":
        m = FUT_LOCAL.match(c.local_symbol)
        assert m is not None, where
        assert m["root"] == c.symbol == c.trading_class
        assert MONTH_CODES.index(m["month"]) + 1 == int(d.contract_month[4:])
        assert int(m["year"]) == int(d.contract_month[:4]) % 10
        assert c.multiplier == {"ES": "50", "NQ": "20", "CL": "1000"}[c.symbol]
        assert d.min_tick == {"ES": 0.25, "NQ": 0.25, "CL": 0.01}[c.symbol]
        assert d.time_zone_id == "US/Central"
        if c.symbol in ("ES", "NQ"):
            assert c.local_symbol[2] in "HMUZ" and friday_or_before_a_holiday(expiry(inst))
            assert 15 <= expiry(inst).day <= 21
        else:
            assert d.contract_month > c.last_trade_date_or_contract_month[:6]
    elif c.sec_type == "STK":
        assert d.stock_type in ("COMMON", "ETF")
        assert any(t.tag == "ISIN" and len(t.value) == 12 for t in d.sec_id_list)
        assert c.primary_exchange and c.primary_exchange in d.valid_exchanges
        assert "SMART" in d.valid_exchanges
    elif c.sec_type == "CASH":
        assert c.local_symbol == f"{c.symbol}.{c.currency}" == c.trading_class
        assert c.exchange == "IDEALPRO"
    elif c.sec_type == "CRYPTO":
        assert c.exchange == "PAXOS" and d.size_increment < Decimal("0.0001")
    elif c.sec_type == "BOND":
        assert d.cusip and d.coupon > 0 and d.maturity and d.issue_date and d.bond_type
        assert d.maturity == c.last_trade_date_or_contract_month


def check_hours(inst: Instrument, today: date) -> None:
    """7 days that parse into tz-aware sessions, weekends closed, liquid inside trading."""
    d, c = inst.details, inst.contract
    where = c.local_symbol
    for hours in (d.trading_hours, d.liquid_hours):
        assert len(hours.split(";")) == 7, where
    sessions = d.trading_sessions()
    liquid = d.liquid_sessions()
    assert sessions and liquid, where
    for s in sessions + liquid:
        assert s.start.tzinfo is not None and s.start < s.end, where
    for s in liquid:
        assert any(t.start <= s.start and s.end <= t.end for t in sessions), where
    if c.sec_type != "CRYPTO":
        days = d.trading_hours.split(";")
        overnight = any(len(set(re.findall(r"\d{8}", day))) > 1 for day in days)
        us_venue = d.time_zone_id.startswith("US/")
        for day in days:
            last_date = re.findall(r"\d{8}", day)[-1]  # an overnight session opens the day before
            day_date = datetime.strptime(last_date, "%Y%m%d").date()
            # weekends are closed; US holidays too on a US venue's day sessions
            closed = day_date.weekday() >= 5 or (
                us_venue and not overnight and not is_business_day(day_date)
            )
            assert day.endswith("CLOSED") == closed, (where, day)
    first_day = datetime.strptime(d.trading_hours[:8], "%Y%m%d").date()
    assert first_day in (today, today - timedelta(days=1))


def friday_or_before_a_holiday(d: date) -> bool:
    """An expiry: a Friday, or the business day before a Friday that is a holiday."""
    friday = d + timedelta(days=(4 - d.weekday()) % 7)
    return is_business_day(d) and (d == friday or previous_business_day(friday) == d)


def check_option(inst: Instrument) -> None:
    d, c = inst.details, inst.contract
    m = OCC.match(c.local_symbol)
    assert m is not None and len(c.local_symbol) == 21, c.local_symbol
    assert m["root"] == c.trading_class
    assert "20" + m["date"] == c.last_trade_date_or_contract_month
    assert m["right"] == c.right
    assert c.strike is not None and int(m["strike"]) == round(c.strike * 1000)
    assert c.multiplier == "100" and d.contract_month == c.last_trade_date_or_contract_month[:6]
    assert c.exchange == "SMART"
    assert friday_or_before_a_holiday(expiry(inst))
    strike = c.strike
    if c.symbol == "AAPL":
        assert d.min_tick == 0.01
        assert strike % 2.5 == 0
        if abs(strike - 230) > 0.30 * 230:
            assert strike % 5 == 0
    else:
        assert c.symbol == "SPX" and c.trading_class in ("SPX", "SPXW")
        assert d.min_tick == 0.05
        assert strike % 5 == 0
        if abs(strike - 6000) > 0.02 * 6000:
            assert strike % 25 == 0
        if c.trading_class == "SPX":
            assert 15 <= expiry(inst).day <= 21  # monthly: the third Friday


# -- lookups ------------------------------------------------------------------------------------


def test_match_by_con_id(universe: Universe) -> None:
    c = only(universe.match(Contract(con_id=265598)))
    assert (c.symbol, c.exchange, c.primary_exchange) == ("AAPL", "SMART", "NASDAQ")
    assert only(universe.match(Contract(con_id=265598, exchange="NASDAQ"))).exchange == "NASDAQ"
    assert only(universe.match(Contract(con_id=265598, sec_type="STK", symbol="aapl")))
    assert universe.match(Contract(con_id=265598, symbol="MSFT")) == []
    assert universe.match(Contract(con_id=265598, exchange="CME")) == []
    assert universe.match(Contract(con_id=265598, sec_type="OPT")) == []
    assert universe.match(Contract(con_id=1)) == []


def test_match_by_fields(universe: Universe) -> None:
    assert only(universe.match(Stock("AAPL", "SMART", "USD"))).con_id == 265598
    assert only(universe.match(Stock("AAPL", "SMART", "USD", primary_exchange="ISLAND")))
    aapl = universe.match(Stock("AAPL", "ISE", "USD"))
    assert only(aapl).exchange == "ISE"
    assert aapl[0].valid_exchanges == universe.match(Contract(con_id=265598))[0].valid_exchanges
    assert only(universe.match(Stock("MSFT"))).con_id == 272093
    assert only(universe.match(Index("SPX", "CBOE"))).con_id == 416904
    assert only(universe.match(CFD("IBUS500", currency="USD"))).sec_type == "CFD"
    btc = universe.match(Crypto("BTC", "PAXOS", "USD"))
    assert only(btc).local_symbol == "BTC.USD"
    assert btc[0].size_increment == Decimal("0.00000001")


def test_answers_are_copies(universe: Universe) -> None:
    answer = universe.match(Stock("AAPL"))[0]
    answer.contract.symbol = "CHANGED"
    answer.min_tick = 99.0
    aapl = universe.by_con_id(265598)
    assert aapl is not None
    assert aapl.contract.symbol == "AAPL" and aapl.details.min_tick == 0.01


def test_ambiguous_stock(universe: Universe) -> None:
    both = universe.match(Contract(sec_type="STK", symbol="IBM"))
    assert sorted(d.contract.currency for d in both) == ["CHF", "USD"]
    assert len(universe.match(Stock("IBM", "SMART", ""))) == 2
    assert only(universe.match(Stock("IBM"))).con_id == 8314  # Stock defaults to USD
    ebs = only(universe.match(Stock("IBM", "SMART", "CHF")))
    assert (ebs.primary_exchange, ebs.currency) == ("EBS", "CHF")
    assert only(universe.match(Stock("IBM", "EBS", ""))).currency == "CHF"
    by_isin = universe.match(Contract(sec_id_type="ISIN", sec_id="US4592001014"))
    assert len(by_isin) == 2
    assert universe.match(Contract(sec_type="STK", symbol="IBM")) == both  # stable order


def test_unknown_contracts(universe: Universe) -> None:
    assert universe.match(Stock("NOSUCH")) == []
    assert universe.match(Stock("AAPL", "SMART", "EUR")) == []
    assert universe.match(Stock("AAPL", "CME", "USD")) == []
    assert universe.match(Stock("AAPL", "SMART", "USD", primary_exchange="NYSE")) == []
    assert universe.match(Future("ES", "202001", "CME")) == []
    assert universe.match(Future("ES", exchange="SMART")) == []
    assert universe.match(Option("AAPL", "20260306", 231.0, "C")) == []
    assert universe.match(Option("AAPL", "20260306", 230.0, "X")) == []


def test_sec_id_lookups(universe: Universe) -> None:
    assert (
        only(universe.match(Contract(sec_id_type="ISIN", sec_id="US0378331005"))).con_id == 265598
    )
    bond = only(universe.match(Contract(sec_type="BOND", sec_id_type="CUSIP", sec_id="91282CLW9")))
    assert bond.sec_type == "BOND" and bond.local_symbol == "91282CLW9"
    assert only(universe.match(Contract(sec_id_type="CONID", sec_id="416904"))).symbol == "SPX"


def test_forex(universe: Universe) -> None:
    eur = universe.match(Forex("EURUSD"))
    assert only(eur).con_id == 12087792 and eur[0].min_tick == 0.00005
    assert only(eur).local_symbol == "EUR.USD"
    assert only(universe.match(Forex("EUR.USD"))).con_id == 12087792
    assert universe.match(Forex("USDJPY"))[0].min_tick == 0.005
    assert universe.match(Forex("USDEUR")) == []


def test_option_lookup_is_unique() -> None:
    u = Universe(today=TODAY)
    seen: set[tuple[object, ...]] = set()
    for inst in u.instruments:
        c = inst.contract
        if c.sec_type != "OPT":
            continue
        key = (c.symbol, c.trading_class, c.last_trade_date_or_contract_month, c.strike, c.right)
        assert key not in seen
        seen.add(key)
    sample = [*u.options_of(265598)[::37], *u.options_of(416904)[::41]]
    fresh = Universe(today=TODAY)  # lookups by local symbol build the chains they need
    for inst in sample:
        c = inst.contract
        query = Option(c.symbol, c.last_trade_date_or_contract_month, c.strike, c.right)
        if c.symbol == "SPX":
            query.trading_class = c.trading_class
        assert only(u.match(query)).con_id == c.con_id
        by_local = Contract(sec_type="OPT", local_symbol=c.local_symbol)
        assert only(fresh.match(by_local)).con_id == c.con_id


def test_option_lookup_details() -> None:
    u = Universe(today=TODAY)
    monthly = "20260320"  # third Friday of March 2026
    call = only(u.match(Option("AAPL", monthly, 230.0, "C", "SMART")))
    assert call.local_symbol == "AAPL  260320C00230000"
    assert call.multiplier == "100" and call.trading_class == "AAPL"
    assert only(u.match(Option("AAPL", monthly, 230, "CALL", "CBOE"))).exchange == "CBOE"
    assert only(u.match(Option("AAPL", monthly, 230.0, "PUT"))).right == "P"
    unset = [0.0, 1.7976931348623157e308]  # ib_async's and the official client's unset strike
    for strike in unset:
        assert len(u.match(Option("AAPL", monthly, strike, "C"))) > 10
    month = u.match(Option("AAPL", "202603", 230.0, "C"))
    assert len(month) > 1
    assert all(d.contract.last_trade_date_or_contract_month.startswith("202603") for d in month)
    details = u.match(Option("AAPL", monthly, 230.0, "C"))[0]
    assert details.under_con_id == 265598 and details.under_sec_type == "STK"
    # SPX monthly and SPXW weekly share the third Friday: ambiguous without a trading class
    both = u.match(Option("SPX", monthly, 6000.0, "C"))
    assert sorted(d.contract.trading_class for d in both) == ["SPX", "SPXW"]
    assert only(
        u.match(Option("SPX", monthly, 6000.0, "C", trading_class="SPXW"))
    ).local_symbol == ("SPXW  260320C06000000")
    assert all(d.min_tick == 0.05 for d in both)


def test_futures_by_contract_month(universe: Universe) -> None:
    all_es = universe.match(Future("ES", exchange="CME"))
    assert [d.contract.local_symbol for d in all_es] == ["ESH6", "ESM6", "ESU6", "ESZ6"]
    es = only(universe.match(Future("ES", "202606", "CME")))
    # the third Friday, 2026-06-19, is Juneteenth: the expiry moves to the Thursday
    assert es.local_symbol == "ESM6" and es.last_trade_date_or_contract_month == "20260618"
    assert only(universe.match(Future("ES", "20260618", "CME"))).con_id == es.con_id
    assert only(universe.match(Future(local_symbol="ESM6", exchange="CME"))).con_id == es.con_id
    assert (
        only(universe.match(Future("NQ", "202609", "CME", multiplier="20"))).local_symbol == "NQU6"
    )
    assert universe.match(Future("NQ", "202609", "CME", multiplier="50")) == []
    # CL's contract month is the delivery month; its last trade is in the month before
    cl = only(universe.match(Future("CL", "202605", "NYMEX")))
    assert cl.local_symbol == "CLK6" and cl.last_trade_date_or_contract_month == "20260421"


def test_continuous_futures(universe: Universe) -> None:
    for root, exchange in (("ES", "CME"), ("NQ", "CME"), ("CL", "NYMEX")):
        answer = universe.match(ContFuture(root, exchange))
        cont = only(answer)
        front = universe.front_future(root)
        assert front is not None
        assert cont.sec_type == "CONTFUT"
        assert cont.con_id == front.con_id
        assert cont.local_symbol == front.contract.local_symbol
        assert answer[0].contract_month == front.details.contract_month
    assert only(universe.match(ContFuture("ES", "CME"))).local_symbol == "ESH6"
    assert universe.match(ContFuture("XX", "CME")) == []
    # the conId of a continuous future is its front month's: by con_id it is the FUT
    front = universe.front_future("ES")
    assert front is not None
    assert only(universe.match(Contract(con_id=front.con_id))).sec_type == "FUT"


def test_futures_option(universe: Universe) -> None:
    fops = universe.match(FuturesOption("ES", "20260320", 6000.0, "C", "CME"))
    fop = only(fops)
    assert fop.local_symbol == "ESH6 C6000" and fop.multiplier == "50"
    front = universe.front_future("ES")
    assert front is not None and fops[0].under_con_id == front.con_id


# -- search, option params, market rules, smart components ------------------------------------


def test_search(universe: Universe) -> None:
    found = universe.search("AA")
    symbols = [d.contract.symbol for d in found]
    assert "AAPL" in symbols
    aapl = found[symbols.index("AAPL")]
    assert aapl.contract.con_id == 265598 and aapl.contract.primary_exchange == "NASDAQ"
    assert aapl.contract.currency == "USD" and aapl.contract.sec_type == "STK"
    assert "OPT" in aapl.derivative_sec_types and "CFD" in aapl.derivative_sec_types
    assert [d.contract.symbol for d in universe.search("apple")] == ["AAPL"]  # by name
    assert universe.search("spx")[0].contract.symbol == "SPX"
    ibm = universe.search("IBM")
    assert sorted(d.contract.currency for d in ibm) == ["CHF", "USD"]
    assert universe.search("") == [] and universe.search("ZZZZZ") == []
    many = universe.search("A")
    assert 0 < len(many) <= 16
    assert all(d.contract.sec_type not in ("OPT", "FOP", "FUT") for d in many)
    # symbol matches come before name matches
    kinds = ["sym" if d.contract.symbol.startswith("A") else "name" for d in many]
    assert kinds == sorted(kinds, key=lambda k: k == "name")
    es = universe.search("ES")
    assert es[0].contract.symbol == "ES" and "FUT" in es[0].derivative_sec_types


def test_option_params_aapl() -> None:
    u = Universe(today=TODAY)
    chains = u.option_params("AAPL", "", "STK", 265598)
    assert {"SMART", "CBOE", "ISE", "AMEX"} <= {c.exchange for c in chains}
    assert len({c.exchange for c in chains}) == len(chains)
    options = u.options_of(265598)
    expirations = sorted({o.contract.last_trade_date_or_contract_month for o in options})
    strikes = sorted({o.contract.strike for o in options if o.contract.strike is not None})
    for chain in chains:
        assert chain.underlying_con_id == 265598
        assert (chain.trading_class, chain.multiplier) == ("AAPL", "100")
        assert chain.expirations == expirations and chain.strikes == strikes
    assert len(expirations) >= 8 and all(re.fullmatch(r"\d{8}", e) for e in expirations)
    assert 230.0 in strikes and 232.5 in strikes
    assert u.option_params("AAPL", "", "STK", 0) == chains  # by symbol
    assert u.option_params("MSFT", "", "STK", 265598) == []  # contradicting symbol
    assert u.option_params("AAPL", "", "STK", 272093) == []  # no options on MSFT
    assert u.option_params("NOSUCH", "", "STK", 0) == []


def test_option_params_spx_and_es(universe: Universe) -> None:
    chains = universe.option_params("SPX", "", "IND", 416904)
    assert {c.trading_class for c in chains} == {"SPX", "SPXW"}
    cboe = universe.option_params("SPX", "CBOE", "IND", 416904)
    assert [(c.exchange, c.trading_class) for c in cboe] == [("CBOE", "SPX"), ("CBOE", "SPXW")]
    spx, spxw = cboe
    assert len(spxw.expirations) > len(spx.expirations)
    assert set(spx.expirations) < set(spx.expirations) | set(spxw.expirations)
    front = universe.front_future("ES")
    assert front is not None
    (fop,) = universe.option_params("ES", "CME", "FUT", front.con_id)
    assert (fop.exchange, fop.trading_class, fop.multiplier) == ("CME", "ES", "50")
    assert fop.expirations == [front.contract.last_trade_date_or_contract_month]


def test_market_rules(universe: Universe) -> None:
    assert universe.market_rule(26) == [PriceIncrement(0.0, 0.01)]
    assert universe.market_rule(239) == [PriceIncrement(0.0, 0.0001), PriceIncrement(1.0, 0.01)]
    assert universe.market_rule(110) == [PriceIncrement(0.0, 0.05), PriceIncrement(3.0, 0.10)]
    assert universe.market_rule(123456) is None
    for rule in MARKET_RULES.values():
        edges = [r.low_edge for r in rule]
        assert edges[0] == 0.0 and edges == sorted(edges)
    assert increment_at(MARKET_RULES[110], 2.95) == 0.05
    assert increment_at(MARKET_RULES[110], 3.0) == 0.10
    advertised = {r for i in universe.underlyings for r in i.details.market_rule_ids}
    assert advertised <= set(MARKET_RULES)


def test_smart_components(universe: Universe) -> None:
    code = universe.bbo_exchange(265598)
    assert code
    stocks = universe.smart_components(code)
    by_exchange = {c.exchange: c for c in stocks}
    assert by_exchange["NYSE"].exchange_letter == "N"
    assert by_exchange["NASDAQ"].exchange_letter == "Q"
    assert by_exchange["ARCA"].exchange_letter == "P"
    assert len({c.bit_number for c in stocks}) == len(stocks)
    assert len({c.exchange_letter for c in stocks}) == len(stocks)
    option = universe.options_of(265598)[0]
    option_code = universe.bbo_exchange(option.con_id)
    assert option_code and option_code != code
    assert {"CBOE", "ISE", "PHLX"} <= {c.exchange for c in universe.smart_components(option_code)}
    assert universe.smart_components("nosuch") == []
    assert universe.bbo_exchange(12087792) == ""  # IDEALPRO is not SMART-routed
    for components in SMART_COMPONENTS.values():
        assert all(len(c.exchange_letter) == 1 for c in components)


def test_instrument_record_is_plain_data(universe: Universe) -> None:
    aapl = universe.by_con_id(265598)
    assert aapl is not None
    copy = dataclasses.replace(aapl)
    assert copy == aapl and copy.contract is aapl.details.contract
    assert repr(universe).startswith("Universe(seed=1, today=2026-03-02")


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            [
                "01-01",
                "01-19",
                "02-16",
                "04-03",
                "05-25",
                "06-19",
                "07-03",
                "09-07",
                "11-26",
                "12-25",
            ],
        ),
        (
            2027,
            [
                "01-01",
                "01-18",
                "02-15",
                "03-26",
                "05-31",
                "06-18",
                "07-05",
                "09-06",
                "11-25",
                "12-24",
            ],
        ),
        # New Year's Day 2028 is a Saturday: not observed (NYSE); July 4 on a Tuesday
        (2028, ["01-17", "02-21", "04-14", "05-29", "06-19", "07-04", "09-04", "11-23", "12-25"]),
    ],
)
def test_us_holidays_follow_the_nyse_calendar(year: int, expected: list[str]) -> None:
    assert sorted(d.strftime("%m-%d") for d in us_holidays(year)) == expected


def test_expiries_skip_holidays() -> None:
    u = Universe(seed=0, today=date(2026, 6, 1))
    es_june = [i for i in u.instruments if i.contract.local_symbol == "ESM6"]
    assert [i.contract.last_trade_date_or_contract_month for i in es_june] == ["20260618"]
    aapl_weeklies = {
        i.contract.last_trade_date_or_contract_month
        for i in u.options_of(265598)
        if i.contract.last_trade_date_or_contract_month.startswith("202606")
    }
    assert "20260619" not in aapl_weeklies and "20260618" in aapl_weeklies
    days = dict(day.split(":", 1) for day in u.by_con_id(265598).details.liquid_hours.split(";"))  # type: ignore[union-attr]
    assert days.get("20260619") is None or days["20260619"] == "CLOSED"
