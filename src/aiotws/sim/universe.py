"""The simulator's instrument universe: a deterministic, seeded set of contracts with details.

:class:`Universe` holds what TWS's security-definition service knows: US stocks and ETFs on
SMART (one also listed abroad, so a bare symbol is ambiguous), indices, quarterly and monthly
futures with their continuous (``CONTFUT``) views, option chains on AAPL, SPX/SPXW and the
ES future, forex pairs on IDEALPRO, crypto on PAXOS, a CFD and a US Treasury. It answers
contract lookups with TWS's semantics (:meth:`Universe.match`), matching-symbol searches
(:meth:`Universe.search`), sec-def option parameters (:meth:`Universe.option_params`),
market rules and SMART components.

Contents depend only on ``today`` (expiries are computed from it, so nothing is ever
expired; trading hours cover the 7 days from it); the ``seed`` moves only the reference
prices and volatilities the market simulation starts from. Real conIds are used where they
are public (AAPL 265598, SPX 416904, EUR.USD 12087792 …); every other conId is derived from
the instrument's identity by hashing into :data:`MADE_UP_CON_IDS`, a range above every real
conId, so it is stable across dates and seeds.

Pure data and logic: no I/O, no wire types. The ``ContractDetails`` :meth:`Universe.match`
returns are copies of the universe's own (their lists are shared: do not mutate them).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiotws.model.contract import (
    Contract,
    ContractDescription,
    ContractDetails,
    OptionChain,
    PriceIncrement,
    SmartComponent,
    TagValue,
)
from aiotws.sim.calendar import is_business_day, previous_business_day

__all__ = [
    "MADE_UP_CON_IDS",
    "MARKET_RULES",
    "SMART_COMPONENTS",
    "Instrument",
    "Universe",
    "increment_at",
]

#: The range of made-up conIds (real conIds are all below it).
MADE_UP_CON_IDS: Final = range(1_000_000_000, 2_000_000_000)
#: Made-up conIds of non-options: a hash of the instrument's identity (probing on collision).
_HASHED_CON_IDS: Final = range(1_000_000_000, 1_200_000_000)
#: Option conIds are computed, not hashed: a block per root (trading class), and within it
#: expiry (day ordinal mod 2048), strike (in halves, < 2**14) and right (C 0, P 1). They are
#: stable across dates and never collide, and a conId names the chain it belongs to.
_OPTION_BASE: Final = 1_200_000_000
_OPTION_BLOCK: Final = 1 << 26
_OPTION_ROOTS: Final = {"AAPL": 0, "SPX": 1, "SPXW": 2, "ES": 3}

_P = PriceIncrement

#: Market rules (REQ_MARKET_RULE): price ladders by rule id.
MARKET_RULES: Final[dict[int, tuple[PriceIncrement, ...]]] = {
    26: (_P(0.0, 0.01),),  # US stocks and ETFs, indices, penny-class equity options
    32: (_P(0.0, 0.01),),  # NYMEX crude oil
    62: (_P(0.0, 0.00005),),  # IDEALPRO majors quoted to half a pip
    63: (_P(0.0, 0.005),),  # IDEALPRO JPY pairs
    67: (_P(0.0, 0.25),),  # CME equity index futures
    107: (_P(0.0, 0.05), _P(5.0, 0.25)),  # CME equity index futures options
    110: (_P(0.0, 0.05), _P(3.0, 0.10)),  # CBOE SPX / SPXW options
    239: (_P(0.0, 0.0001), _P(1.0, 0.01)),  # sub-dollar stocks (Reg NMS 612)
    1004: (_P(0.0, 0.25),),  # PAXOS BTC
    1005: (_P(0.0, 0.01),),  # PAXOS ETH
    1010: (_P(0.0, 0.1),),  # index CFDs
    1020: (_P(0.0, 0.0001),),  # US Treasuries (percent of par)
    1030: (_P(0.0, 0.001), _P(10.0, 0.005), _P(100.0, 0.01)),  # SIX Swiss stocks
}


def increment_at(rule: Sequence[PriceIncrement], price: float) -> float:
    """The increment a ladder prescribes at ``price`` (the rung with the highest edge ≤ it)."""
    inc = rule[0].increment
    for rung in rule:
        if abs(price) >= rung.low_edge:
            inc = rung.increment
    return inc


def _components(*entries: tuple[str, str]) -> tuple[SmartComponent, ...]:
    return tuple(SmartComponent(bit, ex, letter) for bit, (ex, letter) in enumerate(entries))


_BBO_US_STOCKS: Final = "9c0001"
_BBO_US_OPTIONS: Final = "a6"

#: SMART components (REQ_SMART_COMPONENTS) by BBO exchange code.
SMART_COMPONENTS: Final[dict[str, tuple[SmartComponent, ...]]] = {
    _BBO_US_STOCKS: _components(
        ("AMEX", "A"),
        ("BEX", "B"),
        ("NYSENAT", "C"),
        ("DRCTEDGE", "D"),
        ("PEARL", "H"),
        ("ISE", "I"),
        ("EDGEA", "J"),
        ("EDGX", "K"),
        ("LTSE", "L"),
        ("CHX", "M"),
        ("NYSE", "N"),
        ("ARCA", "P"),
        ("NASDAQ", "Q"),
        ("MEMX", "U"),
        ("IEX", "V"),
        ("CBOE", "W"),
        ("PSX", "X"),
        ("BYX", "Y"),
        ("BATS", "Z"),
    ),
    _BBO_US_OPTIONS: _components(
        ("AMEX", "A"),
        ("BOX", "B"),
        ("CBOE", "C"),
        ("EMERALD", "D"),
        ("EDGX", "E"),
        ("GEMINI", "H"),
        ("ISE", "I"),
        ("MERCURY", "J"),
        ("MIAX", "M"),
        ("PSE", "N"),
        ("PEARL", "P"),
        ("NASDAQOM", "Q"),
        ("SAPPHIRE", "S"),
        ("CBOE2", "W"),
        ("PHLX", "X"),
        ("BATS", "Z"),
    ),
}


@dataclass(slots=True)
class Instrument:
    """One instrument: what TWS knows about it, and where its simulated market starts.

    ``price`` is the reference price (on the tick grid), ``volatility`` annualised, ``tick``
    the increment of the instrument's first market rule at ``price``.
    """

    details: ContractDetails
    price: float
    volatility: float
    tick: float

    @property
    def contract(self) -> Contract:
        return self.details.contract

    @property
    def con_id(self) -> int:
        return self.details.contract.con_id


# -- static tables ---------------------------------------------------------------------------


def _csv(text: str) -> list[str]:
    return text.split(",")


_STK_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,CONDORDER,"
    "DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,"
    "IMB,IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,"
    "PEGBENCH,PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,"
    "SCALEODD,SCALERST,SIZECHK,SMARTSTG,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,"
    "TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
_OPT_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,"
    "DEACTEOD,DIS,FOK,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,"
    "OPENCLOSE,PEGMIDVOL,PEGMKTVOL,PEGPRMVOL,PEGSRFVOL,POSTONLY,PRICECHK,REL,RELPCTOFS,RELSTK,"
    "SCALE,SCALERST,SIZECHK,SMARTSTG,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,"
    "TRAILLMT,TRAILMIT,VOLAT,WHATIF"
)
_FUT_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,"
    "DEACTEOD,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,LTH,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,PEGBENCH,"
    "SCALE,SCALERST,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
_CASH_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,"
    "DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,RELPCTOFS,"
    "SCALE,SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
_CRYPTO_ORDER_TYPES: Final = _csv(
    "ADJUST,ALERT,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,"
    "GTC,GTD,GTT,IOC,LMT,MKT,NONALGO,OCA,STP,STPLMT,TRAIL,TRAILLMT,WHATIF"
)
_CFD_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,"
    "GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,SCALE,SCALERST,STP,STPLMT,TRAIL,"
    "TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
_BOND_ORDER_TYPES: Final = _csv(
    "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,"
    "GAT,GTC,GTD,GTT,IOC,LMT,NONALGO,OCA,SCALE,SCALERST,WHATIF"
)

_US_STOCK_EXCHANGES: Final = _csv(
    "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,"
    "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX"
)
_US_OPTION_EXCHANGES: Final = _csv(
    "SMART,AMEX,BATS,BOX,CBOE,CBOE2,EDGX,EMERALD,GEMINI,IBUSOPT,ISE,MERCURY,MIAX,NASDAQOM,"
    "PEARL,PHLX,PSE,SAPPHIRE"
)

#: Primary-exchange aliases TWS accepts.
_PRIMARY_ALIASES: Final = {"ISLAND": "NASDAQ", "NYSEARCA": "ARCA", "SIX": "EBS"}

_RIGHTS: Final = {"C": "C", "CALL": "C", "P": "P", "PUT": "P"}

_MONTH_CODES: Final = "FGHJKMNQUVXZ"

_DEFAULT_DERIVATIVES: Final = ("CFD", "OPT", "IOPT", "WAR", "BAG")

# symbol, conId, primary, long name, industry, category, subcategory, ISIN, price, vol, type
_US_STOCKS: Final = (
    ("AAPL", 265598, "NASDAQ", "APPLE INC", "Technology", "Computers", "Computers",
     "US0378331005", 230.0, 0.28, "COMMON"),
    ("MSFT", 272093, "NASDAQ", "MICROSOFT CORP", "Technology", "Software", "Software",
     "US5949181045", 420.0, 0.25, "COMMON"),
    ("AMZN", 3691937, "NASDAQ", "AMAZON.COM INC", "Communications", "Internet",
     "E-Commerce/Products", "US0231351067", 200.0, 0.32, "COMMON"),
    ("GOOGL", 208813719, "NASDAQ", "ALPHABET INC-CL A", "Communications", "Internet",
     "Web Portals/ISP", "US02079K3059", 170.0, 0.30, "COMMON"),
    ("NVDA", 4815747, "NASDAQ", "NVIDIA CORP", "Technology", "Semiconductors",
     "Electronic Compo-Semicon", "US67066G1040", 130.0, 0.50, "COMMON"),
    ("TSLA", 76792991, "NASDAQ", "TESLA INC", "Consumer, Cyclical", "Auto Manufacturers",
     "Auto-Cars/Light Trucks", "US88160R1014", 250.0, 0.60, "COMMON"),
    ("META", 107113386, "NASDAQ", "META PLATFORMS INC-CLASS A", "Communications", "Internet",
     "Internet Content-Entmnt", "US30303M1027", 580.0, 0.38, "COMMON"),
    ("JPM", 1520593, "NYSE", "JPMORGAN CHASE & CO", "Financial", "Banks",
     "Money Center Banks", "US46625H1005", 240.0, 0.22, "COMMON"),
    ("IBM", 8314, "NYSE", "INTL BUSINESS MACHINES CORP", "Technology", "Computers",
     "Computer Services", "US4592001014", 220.0, 0.22, "COMMON"),
    ("SPY", 756733, "ARCA", "SPDR S&P 500 ETF TRUST", "", "", "", "US78462F1030",
     600.0, 0.16, "ETF"),
    ("QQQ", 320227571, "NASDAQ", "INVESCO QQQ TRUST SERIES 1", "", "", "", "US46090E1038",
     510.0, 0.20, "ETF"),
    ("IWM", 9579970, "ARCA", "ISHARES RUSSELL 2000 ETF", "", "", "", "US4642876555",
     225.0, 0.22, "ETF"),
)  # fmt: skip


def _made_up_con_id(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return _HASHED_CON_IDS.start + int.from_bytes(digest, "big") % len(_HASHED_CON_IDS)


def _option_con_id(root: str, expiry: date, strike: float, right: str) -> int:
    halves = round(strike * 2)
    if halves != strike * 2 or not 0 < halves < 1 << 14:
        raise ValueError(f"strike {strike} has no made-up conId")
    code = (expiry.toordinal() % 2048) << 15 | halves << 1 | (right == "P")
    return _OPTION_BASE + _OPTION_ROOTS[root] * _OPTION_BLOCK + code


def _option_root_of(con_id: int) -> str | None:
    if con_id < _OPTION_BASE:
        return None
    block = (con_id - _OPTION_BASE) // _OPTION_BLOCK
    return next((root for root, b in _OPTION_ROOTS.items() if b == block), None)


# -- dates and hours ---------------------------------------------------------------------------


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def _third_friday(year: int, month: int) -> date:
    """The monthly expiry: the third Friday, or the business day before it on a holiday
    (Good Friday moves an April expiry to Thursday)."""
    first = date(year, month, 1)
    return previous_business_day(first + timedelta(days=(4 - first.weekday()) % 7 + 14))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    m = year * 12 + (month - 1) + n
    return m // 12, m % 12 + 1


def _business_days_before(d: date, n: int) -> date:
    while n:
        d -= timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def _cl_last_trade(year: int, month: int) -> date:
    """NYMEX CL: 3 business days before the 25th of the month before delivery (4 if the 25th
    is not a business day), US holidays counted as closed."""
    py, pm = _add_months(year, month, -1)
    d25 = date(py, pm, 25)
    return _business_days_before(d25, 3 if is_business_day(d25) else 4)


def _fridays_after(today: date, n: int) -> list[date]:
    """Weekly expiries: the next ``n`` Fridays, a holiday's moved to the day before."""
    d = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    out = [previous_business_day(d + timedelta(weeks=i)) for i in range(n + 1)]
    # a holiday Friday next week moves that expiry back, possibly to today: not listed
    return [e for e in out if e > today][:n]


def _monthlies_after(today: date, n: int, *, months: str = "") -> list[date]:
    """The next ``n`` third Fridays after ``today`` (only months whose futures month code is
    in ``months``, if set: ``"HMUZ"`` for quarterlies)."""
    out: list[date] = []
    y, m = today.year, today.month
    while len(out) < n:
        d = _third_friday(y, m)
        if d > today and (not months or _MONTH_CODES[m - 1] in months):
            out.append(d)
        y, m = _add_months(y, m, 1)
    return out


class _Hours:
    """TWS ``tradingHours``/``liquidHours`` strings for the 7 days from a date."""

    def __init__(self, today: date, days: int = 7) -> None:
        self.days = [today + timedelta(days=i) for i in range(days)]

    def daily(self, start: str, end: str, *, weekends: bool = False, us: bool = True) -> str:
        """Same-day sessions ``start``-``end``; weekends CLOSED unless ``weekends``, and US
        exchange holidays CLOSED when ``us`` (a US venue)."""
        return ";".join(
            f"{_ymd(d)}:{start}-{_ymd(d)}:{end}"
            if weekends or (is_business_day(d) if us else d.weekday() < 5)
            else f"{_ymd(d)}:CLOSED"
            for d in self.days
        )

    def overnight(self, start: str, end: str) -> str:
        """Sessions opening the evening before each weekday (futures, forex)."""
        return ";".join(
            f"{_ymd(d - timedelta(days=1))}:{start}-{_ymd(d)}:{end}"
            if d.weekday() < 5
            else f"{_ymd(d)}:CLOSED"
            for d in self.days
        )

    def around_the_clock(self) -> str:
        return ";".join(f"{_ymd(d)}:0000-{_ymd(d + timedelta(days=1))}:0000" for d in self.days)


# -- pricing -----------------------------------------------------------------------------------


def _round_to(x: float, inc: float) -> float:
    return round(round(x / inc) * inc, 10)


def _on_ladder(x: float, rule: Sequence[PriceIncrement]) -> float:
    inc = increment_at(rule, x)
    return max(_round_to(x, inc), rule[0].increment)


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _black_scholes(spot: float, strike: float, years: float, vol: float, right: str) -> float:
    rate = 0.04
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (rate + vol * vol / 2) * years) / sd
    disc = strike * math.exp(-rate * years)
    call = spot * _norm_cdf(d1) - disc * _norm_cdf(d1 - sd)
    return call if right == "C" else call - spot + disc


def _strike_grid(
    center: float, fine: float, fine_pct: float, coarse: float, coarse_pct: float
) -> list[float]:
    """Strikes every ``fine`` within ``fine_pct`` of ``center``, every ``coarse`` out to
    ``coarse_pct``. The steps used (2.5, 5, 25) are binary-exact, so strikes are exact."""

    def band(step: float, pct: float) -> set[float]:
        lo = math.ceil(center * (1 - pct) / step)
        hi = math.floor(center * (1 + pct) / step)
        return {k * step for k in range(lo, hi + 1)}

    return sorted(band(fine, fine_pct) | band(coarse, coarse_pct))


def _occ(root: str, yymmdd: str, right: str, strike: float) -> str:
    """An OCC option symbol: ``AAPL  261218C00200000``."""
    return f"{root:<6}{yymmdd}{right}{round(strike * 1000):08d}"


def _strike_text(strike: float) -> str:
    return f"{strike:g}"


# -- the universe --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Chain:
    """How one trading class of options is laid out (internal build spec)."""

    root: str  # OCC root / trading class
    expiries: list[date]
    strikes: dict[date, list[float]]


class Universe:
    """A deterministic universe of instruments, as TWS's security definitions see it.

    ``Universe(seed, today)``: the same seed and date give identical contents; ``today``
    defaults to the current date in New York. Construction builds the ~40 non-option
    instruments; the options (about 3,000) are built per underlying on first use (a lookup
    that can hit them, ``options_of``, ``option_params``, ``by_con_id`` of an option,
    ``instruments``). Laziness never shows: conIds, contents and answer order are the same
    whatever is asked first.
    """

    def __init__(self, seed: int = 0, today: date | None = None) -> None:
        self.seed = seed
        self.today = today or datetime.now(ZoneInfo("America/New_York")).date()
        self._hours = _Hours(self.today)
        self._base: list[Instrument] = []  # non-options, in build order
        self._by_con_id: dict[int, Instrument] = {}
        self._by_symbol: dict[str, list[Instrument]] = {}
        self._by_local: dict[str, list[Instrument]] = {}
        self._options: dict[int, list[Instrument]] = {}
        self._continuous: dict[str, ContractDetails] = {}
        self._derivatives: dict[int, list[str]] = {}
        # option groups, by underlying symbol, in canonical order; loaders not yet run
        self._groups: dict[str, list[Instrument]] = {}
        self._pending: dict[str, list[Callable[[], None]]] = {}
        self._group_of_root: dict[str, str] = {}
        self._group_of_underlying: dict[int, str] = {}
        self._all: tuple[Instrument, ...] | None = None
        self._build()

    def __repr__(self) -> str:
        return (
            f"Universe(seed={self.seed}, today={self.today.isoformat()}, "
            f"{len(self._base)} instruments, options on {', '.join(self._groups)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Universe):
            return NotImplemented
        return (self.seed, self.today) == (other.seed, other.today) and (
            self.instruments == other.instruments
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """Every instrument: the non-options in build order, then each option chain."""
        if self._all is None:
            self._load_all()
            self._all = (*self._base, *(i for group in self._groups.values() for i in group))
        return self._all

    @property
    def underlyings(self) -> tuple[Instrument, ...]:
        """The non-option instruments (cheap: builds no options)."""
        return tuple(self._base)

    # -- public queries --------------------------------------------------------------------

    def by_con_id(self, con_id: int) -> Instrument | None:
        inst = self._by_con_id.get(con_id)
        if inst is None:
            root = _option_root_of(con_id)
            if root is not None and root in self._group_of_root:
                self._load(self._group_of_root[root])
                inst = self._by_con_id.get(con_id)
        return inst

    def options_of(self, underlying_con_id: int) -> list[Instrument]:
        """Every option (OPT or FOP) on an underlying, in chain order."""
        group = self._group_of_underlying.get(underlying_con_id)
        if group is not None:
            self._load(group)
        return list(self._options.get(underlying_con_id, ()))

    def continuous(self, symbol: str) -> ContractDetails | None:
        """The CONTFUT view of a futures root: the front month with ``sec_type`` CONTFUT."""
        return self._continuous.get(symbol.upper())

    def front_future(self, symbol: str) -> Instrument | None:
        view = self._continuous.get(symbol.upper())
        return None if view is None else self._by_con_id[view.contract.con_id]

    def bbo_exchange(self, con_id: int) -> str:
        """The SMART BBO exchange code market data would carry for an instrument, or ''."""
        inst = self.by_con_id(con_id)
        if inst is None or "SMART" not in inst.details.valid_exchanges:
            return ""
        c = inst.contract
        if c.currency != "USD":
            return ""
        if c.sec_type == "STK":
            return _BBO_US_STOCKS
        if c.sec_type == "OPT" and "CBOE" in inst.details.valid_exchanges:
            return _BBO_US_OPTIONS
        return ""

    def market_rule(self, rule_id: int) -> list[PriceIncrement] | None:
        rule = MARKET_RULES.get(rule_id)
        return None if rule is None else list(rule)

    def smart_components(self, bbo_exchange: str) -> list[SmartComponent]:
        """The exchanges behind a SMART BBO code; ``[]`` for a code the universe never uses."""
        return list(SMART_COMPONENTS.get(bbo_exchange, ()))

    def match(self, query: Contract) -> list[ContractDetails]:
        """Every instrument a REQ_CONTRACT_DATA for ``query`` would answer, in a fixed order.

        Set fields filter (case-insensitively); empty ones match anything, including an empty
        ``sec_type``. ``exchange`` may be any valid exchange of the instrument and is echoed
        in the answer. ``CONTFUT`` answers the front month with ``sec_type`` CONTFUT. No
        match: ``[]`` (TWS: error 200); several: TWS sends several CONTRACT_DATA.
        """
        sec_type = query.sec_type.strip().upper()
        symbol = query.symbol.strip().upper()
        options = sec_type in ("", "OPT", "FOP")
        pool: Iterable[ContractDetails]
        if sec_type == "CONTFUT":
            pool = self._continuous.values()
        elif query.con_id:
            inst = self.by_con_id(query.con_id)
            pool = [] if inst is None else [inst.details]
        elif symbol:
            if options and symbol in self._groups:
                self._load(symbol)
            pool = (i.details for i in self._by_symbol.get(symbol, ()))
        elif query.local_symbol.strip():
            if options:
                self._load_all()
            local = query.local_symbol.strip().upper()
            pool = (i.details for i in self._by_local.get(local, ()))
        else:
            pool = (i.details for i in (self.instruments if options else self._base))
        out = []
        for details in pool:
            exchange = _accepts(details, query, sec_type)
            if exchange is None:
                continue
            contract = details.contract.copy(exchange=exchange)
            out.append(dataclasses.replace(details, contract=contract))
        return out

    def search(self, pattern: str) -> list[ContractDescription]:
        """REQ_MATCHING_SYMBOLS: symbol prefix matches first, then long-name word prefixes.

        Only underlyings (stocks, ETFs, indices, crypto) are searched; at most 16 results.
        """
        p = pattern.strip().upper()
        if not p:
            return []
        candidates = [i for i in self._base if i.contract.sec_type in ("STK", "IND", "CRYPTO")]
        exact = [i for i in candidates if i.contract.symbol == p]
        prefix = [i for i in candidates if i.contract.symbol.startswith(p) and i not in exact]
        named = [
            i
            for i in candidates
            if not i.contract.symbol.startswith(p)
            and any(w.startswith(p) for w in i.details.long_name.upper().split())
        ]
        out = []
        for inst in (exact + prefix + named)[:16]:
            c = inst.contract
            desc = Contract(
                con_id=c.con_id,
                symbol=c.symbol,
                sec_type=c.sec_type,
                primary_exchange=c.primary_exchange or c.exchange,
                currency=c.currency,
            )
            out.append(ContractDescription(desc, list(self._derivatives.get(c.con_id, ()))))
        return out

    def option_params(
        self,
        underlying_symbol: str,
        fut_fop_exchange: str = "",
        underlying_sec_type: str = "",
        underlying_con_id: int = 0,
    ) -> list[OptionChain]:
        """REQ_SEC_DEF_OPT_PARAMS: one chain per (exchange, trading class) of an underlying.

        The underlying is found by con_id (or, if 0, by symbol and sec type); a symbol or sec
        type that contradicts it gives ``[]``. ``fut_fop_exchange`` filters the exchanges.
        """
        symbol = underlying_symbol.strip().upper()
        sec_type = underlying_sec_type.strip().upper()
        und: Instrument | None = None
        if underlying_con_id:
            und = self._by_con_id.get(underlying_con_id)
        else:
            for inst in self._by_symbol.get(symbol, ()):
                if inst.con_id in self._group_of_underlying and (
                    not sec_type or inst.contract.sec_type == sec_type
                ):
                    und = inst
                    break
        if und is None:
            return []
        if (symbol and symbol != und.contract.symbol) or (
            sec_type and sec_type != und.contract.sec_type
        ):
            return []
        classes: dict[str, tuple[ContractDetails, set[str], set[float]]] = {}
        for opt in self.options_of(und.con_id):
            c = opt.contract
            entry = classes.setdefault(c.trading_class, (opt.details, set(), set()))
            entry[1].add(c.last_trade_date_or_contract_month)
            assert c.strike is not None
            entry[2].add(c.strike)
        wanted = fut_fop_exchange.strip().upper()
        chains = []
        exchanges: list[str] = []
        for details, _, _ in classes.values():
            exchanges.extend(e for e in details.valid_exchanges if e not in exchanges)
        for exchange in exchanges:
            if wanted and exchange != wanted:
                continue
            for tc, (details, expirations, strikes) in classes.items():
                if exchange not in details.valid_exchanges:
                    continue
                chains.append(
                    OptionChain(
                        exchange=exchange,
                        underlying_con_id=und.con_id,
                        trading_class=tc,
                        multiplier=details.contract.multiplier,
                        expirations=sorted(expirations),
                        strikes=sorted(strikes),
                    )
                )
        return chains

    # -- building ----------------------------------------------------------------------------

    def _rng(self, key: str) -> random.Random:
        return random.Random(f"aiotws.sim.universe:{self.seed}:{key}")

    def _seeded(
        self, key: str, price: float, vol: float, spread: float = 0.03
    ) -> tuple[float, float]:
        rng = self._rng(key)
        return price * (1 + rng.uniform(-spread, spread)), round(vol * rng.uniform(0.9, 1.1), 4)

    def _load(self, group: str) -> None:
        for loader in self._pending.pop(group, ()):
            loader()

    def _load_all(self) -> None:
        for group in list(self._pending):
            self._load(group)

    def _add(
        self,
        details: ContractDetails,
        price: float,
        volatility: float,
        into: list[Instrument] | None = None,
    ) -> Instrument:
        c = details.contract
        if not c.con_id:
            key = f"{c.sec_type}|{c.primary_exchange or c.exchange}|{c.currency}|{c.local_symbol}"
            con_id = _made_up_con_id(key)
            while con_id in self._by_con_id:  # deterministic probe: non-options build eagerly
                con_id = _HASHED_CON_IDS.start + (con_id + 1 - _HASHED_CON_IDS.start) % len(
                    _HASHED_CON_IDS
                )
            c.con_id = con_id
        if c.con_id in self._by_con_id:
            raise ValueError(f"duplicate conId {c.con_id} for {c.local_symbol}")
        rule = MARKET_RULES[details.market_rule_ids[0]]
        price = _on_ladder(price, rule)
        inst = Instrument(details, price, volatility, increment_at(rule, price))
        (self._base if into is None else into).append(inst)
        self._by_con_id[c.con_id] = inst
        self._by_symbol.setdefault(c.symbol.upper(), []).append(inst)
        self._by_local.setdefault(c.local_symbol.upper(), []).append(inst)
        if details.under_con_id and c.sec_type in ("OPT", "FOP"):
            self._options.setdefault(details.under_con_id, []).append(inst)
        return inst

    def _build(self) -> None:
        h = self._hours
        stock_hours = (h.daily("0400", "2000"), h.daily("0930", "1600"))
        one = Decimal("1")

        # stocks and ETFs on SMART
        for sym, con_id, primary, name, ind, cat, sub, isin, base, base_vol, kind in _US_STOCKS:
            price, vol = self._seeded(sym, base, base_vol)
            details = ContractDetails(
                contract=Contract(
                    sec_type="STK",
                    con_id=con_id,
                    symbol=sym,
                    exchange="SMART",
                    primary_exchange=primary,
                    currency="USD",
                    local_symbol=sym,
                    trading_class="NMS" if primary == "NASDAQ" else sym,
                ),
                market_name="NMS" if primary == "NASDAQ" else sym,
                min_tick=0.01,
                order_types=_STK_ORDER_TYPES,
                valid_exchanges=_US_STOCK_EXCHANGES,
                price_magnifier=1,
                long_name=name,
                industry=ind,
                category=cat,
                subcategory=sub,
                time_zone_id="US/Eastern",
                trading_hours=stock_hours[0],
                liquid_hours=stock_hours[1],
                agg_group=1,
                market_rule_ids=[26] * len(_US_STOCK_EXCHANGES),
                sec_id_list=[TagValue("ISIN", isin)],
                stock_type=kind,
                min_size=one,
                size_increment=one,
                suggested_size_increment=Decimal("100"),
            )
            self._add(details, price, vol)
            self._derivatives[con_id] = list(_DEFAULT_DERIVATIVES)

        # IBM also on SIX Swiss Exchange (EBS) in CHF: a bare "IBM" STK is ambiguous
        price, vol = self._seeded("IBM@EBS", 195.0, 0.22)
        details = ContractDetails(
            contract=Contract(
                sec_type="STK",
                symbol="IBM",
                exchange="SMART",
                primary_exchange="EBS",
                currency="CHF",
                local_symbol="IBM",
                trading_class="IBM",
            ),
            market_name="IBM",
            min_tick=0.001,
            order_types=_STK_ORDER_TYPES,
            valid_exchanges=["SMART", "EBS"],
            price_magnifier=1,
            long_name="INTL BUSINESS MACHINES CORP",
            industry="Technology",
            category="Computers",
            subcategory="Computer Services",
            time_zone_id="MET",
            trading_hours=h.daily("0900", "1730", us=False),
            liquid_hours=h.daily("0900", "1730", us=False),
            agg_group=1,
            market_rule_ids=[1030, 1030],
            sec_id_list=[TagValue("ISIN", "US4592001014")],
            stock_type="COMMON",
            min_size=one,
            size_increment=one,
            suggested_size_increment=one,
        )
        ibm_ebs = self._add(details, price, vol)
        self._derivatives[ibm_ebs.con_id] = ["CFD", "IOPT", "WAR"]

        # indices (not tradable; underlyings of options and futures)
        cboe = (h.daily("0830", "1500"), h.daily("0830", "1500"))
        nasdaq = (h.daily("0930", "1600"), h.daily("0930", "1600"))
        globex = (h.overnight("1700", "1600"), h.daily("0830", "1500"))
        nymex = (h.overnight("1700", "1600"), h.daily("0800", "1330"))
        indices = (
            # symbol, conId, exchange, long name, tz, hours, price, vol, derivatives
            ("SPX", 416904, "CBOE", "S&P 500 Stock Index", "US/Central", cboe, 6000.0, 0.16,
             ["OPT", "IOPT", "WAR", "BAG"]),
            ("NDX", 416843, "NASDAQ", "NASDAQ 100 Stock Index", "US/Eastern", nasdaq, 21000.0,
             0.21, ["OPT", "IOPT", "WAR", "BAG"]),
            ("VIX", 13455763, "CBOE", "CBOE Volatility Index", "US/Central", cboe, 16.0, 0.90,
             ["OPT", "FUT", "IOPT", "BAG"]),
            ("ES", 11004968, "CME", "E-mini S&P 500", "US/Central", globex, 6000.0, 0.16,
             ["FUT", "FOP", "BAG"]),
            ("NQ", 0, "CME", "E-mini NASDAQ 100", "US/Central", globex, 21000.0, 0.21,
             ["FUT", "FOP", "BAG"]),
            ("CL", 0, "NYMEX", "Light Sweet Crude Oil", "US/Central", nymex, 70.0, 0.35,
             ["FUT", "FOP", "BAG"]),
        )  # fmt: skip
        index_of: dict[str, Instrument] = {}
        for sym, con_id, exchange, name, tz, hours, base, base_vol, derivs in indices:
            price, vol = self._seeded(f"{sym}@IND", base, base_vol)
            details = ContractDetails(
                contract=Contract(
                    sec_type="IND",
                    con_id=con_id,
                    symbol=sym,
                    exchange=exchange,
                    currency="USD",
                    local_symbol=sym,
                ),
                market_name=sym,
                min_tick=0.01,
                valid_exchanges=[exchange],
                price_magnifier=1,
                long_name=name,
                time_zone_id=tz,
                trading_hours=hours[0],
                liquid_hours=hours[1],
                market_rule_ids=[26],
                size_increment=one,
                suggested_size_increment=one,
                min_size=one,
            )
            index_of[sym] = self._add(details, price, vol)
            self._derivatives[index_of[sym].con_id] = derivs

        # futures: ES/NQ quarterly, CL monthly
        futures = (
            # root, exchange, multiplier, long name, tick, rule, hours, last trade time, months
            ("ES", "CME", "50", "E-mini S&P 500", 0.25, 67, globex, "08:30:00", 4, "HMUZ"),
            ("NQ", "CME", "20", "E-mini NASDAQ 100", 0.25, 67, globex, "08:30:00", 4, "HMUZ"),
            ("CL", "NYMEX", "1000", "Light Sweet Crude Oil", 0.01, 32, nymex, "13:30:00", 6, ""),
        )  # fmt: skip
        fronts: dict[str, list[Instrument]] = {}
        for root, exchange, mult, name, tick, rule_id, hours, ltt, count, months in futures:
            und = index_of[root]
            if months:
                expiries = [
                    (d, d.year, d.month) for d in _monthlies_after(self.today, count, months=months)
                ]
            else:
                expiries = []
                y, m = _add_months(self.today.year, self.today.month, 1)
                while len(expiries) < count:
                    d = _cl_last_trade(y, m)
                    if d > self.today:
                        expiries.append((d, y, m))
                    y, m = _add_months(y, m, 1)
            for k, (last, y, m) in enumerate(expiries):
                local = f"{root}{_MONTH_CODES[m - 1]}{y % 10}"
                years = (last - self.today).days / 365
                if root == "CL":
                    base = und.price * (1 - 0.004 * k)
                else:
                    base = und.price * (1 + 0.045 * years)
                vol = und.volatility
                details = ContractDetails(
                    contract=Contract(
                        sec_type="FUT",
                        symbol=root,
                        last_trade_date_or_contract_month=_ymd(last),
                        multiplier=mult,
                        exchange=exchange,
                        currency="USD",
                        local_symbol=local,
                        trading_class=root,
                        last_trade_date=_ymd(last),
                    ),
                    market_name=root,
                    min_tick=tick,
                    order_types=_FUT_ORDER_TYPES,
                    valid_exchanges=[exchange, "QBALGO"],
                    price_magnifier=1,
                    under_con_id=und.con_id,
                    long_name=name,
                    contract_month=f"{y:04d}{m:02d}",
                    time_zone_id="US/Central",
                    trading_hours=hours[0],
                    liquid_hours=hours[1],
                    agg_group=2,
                    under_symbol=root,
                    under_sec_type="IND",
                    market_rule_ids=[rule_id, rule_id],
                    real_expiration_date=_ymd(last),
                    last_trade_time=ltt,
                    min_size=one,
                    size_increment=one,
                    suggested_size_increment=one,
                )
                fut = self._add(details, base, vol)
                fronts.setdefault(root, []).append(fut)
            front = fronts[root][0].details
            self._continuous[root] = dataclasses.replace(
                front, contract=front.contract.copy(sec_type="CONTFUT")
            )

        # forex on IDEALPRO
        fx_hours = h.overnight("1715", "1700")
        forex = (
            ("EUR", "USD", 12087792, "European Monetary Union Euro", 1.08, 0.07, 0.00005, 62),
            ("GBP", "USD", 12087797, "British pound", 1.27, 0.08, 0.00005, 62),
            ("USD", "JPY", 15016059, "US dollar", 150.0, 0.09, 0.005, 63),
        )
        for base_ccy, quote, con_id, name, base, base_vol, tick, rule_id in forex:
            pair = f"{base_ccy}.{quote}"
            price, vol = self._seeded(pair, base, base_vol, 0.01)
            details = ContractDetails(
                contract=Contract(
                    sec_type="CASH",
                    con_id=con_id,
                    symbol=base_ccy,
                    exchange="IDEALPRO",
                    currency=quote,
                    local_symbol=pair,
                    trading_class=pair,
                ),
                market_name=pair,
                min_tick=tick,
                order_types=_CASH_ORDER_TYPES,
                valid_exchanges=["IDEALPRO"],
                price_magnifier=1,
                long_name=name,
                industry="",
                time_zone_id="US/Eastern",
                trading_hours=fx_hours,
                liquid_hours=fx_hours,
                agg_group=4,
                market_rule_ids=[rule_id],
                min_size=one,
                size_increment=one,
                suggested_size_increment=one,
            )
            self._add(details, price, vol)

        # crypto on PAXOS (24/7)
        crypto_hours = h.around_the_clock()
        for sym, con_id, name, base, base_vol, tick, rule_id in (
            ("BTC", 479624278, "Bitcoin", 90000.0, 0.55, 0.25, 1004),
            ("ETH", 495759171, "Ethereum", 3200.0, 0.70, 0.01, 1005),
        ):
            price, vol = self._seeded(sym, base, base_vol)
            details = ContractDetails(
                contract=Contract(
                    sec_type="CRYPTO",
                    con_id=con_id,
                    symbol=sym,
                    exchange="PAXOS",
                    currency="USD",
                    local_symbol=f"{sym}.USD",
                    trading_class=sym,
                ),
                market_name=sym,
                min_tick=tick,
                order_types=_CRYPTO_ORDER_TYPES,
                valid_exchanges=["PAXOS"],
                price_magnifier=1,
                long_name=name,
                time_zone_id="US/Eastern",
                trading_hours=crypto_hours,
                liquid_hours=crypto_hours,
                agg_group=None,
                market_rule_ids=[rule_id],
                min_size=Decimal("0.0001"),
                size_increment=Decimal("0.00000001"),
                suggested_size_increment=Decimal("0.0001"),
            )
            self._add(details, price, vol)
            self._derivatives[con_id] = []

        # an index CFD
        price, vol = self._seeded("IBUS500", 6000.0, 0.16)
        details = ContractDetails(
            contract=Contract(
                sec_type="CFD",
                symbol="IBUS500",
                exchange="SMART",
                currency="USD",
                local_symbol="IBUS500",
                trading_class="IBUS500",
            ),
            market_name="IBUS500",
            min_tick=0.1,
            order_types=_CFD_ORDER_TYPES,
            valid_exchanges=["SMART"],
            price_magnifier=1,
            long_name="US 500",
            time_zone_id="US/Eastern",
            trading_hours=h.overnight("1800", "1700"),
            liquid_hours=h.daily("0930", "1600"),
            agg_group=1,
            market_rule_ids=[1010],
            min_size=one,
            size_increment=one,
            suggested_size_increment=one,
        )
        self._add(details, price, vol)

        # a US Treasury note (T 4 1/4 11/15/34)
        price, vol = self._seeded("91282CLW9", 98.5, 0.06, 0.01)
        details = ContractDetails(
            contract=Contract(
                sec_type="BOND",
                symbol="US-T",
                last_trade_date_or_contract_month="20341115",
                exchange="SMART",
                currency="USD",
                local_symbol="91282CLW9",
                trading_class="US-T",
            ),
            market_name="US-T",
            min_tick=0.0001,
            order_types=_BOND_ORDER_TYPES,
            valid_exchanges=["SMART"],
            price_magnifier=1,
            long_name="United States Treasury",
            time_zone_id="US/Eastern",
            trading_hours=h.daily("0800", "1700"),
            liquid_hours=h.daily("0930", "1600"),
            agg_group=None,
            market_rule_ids=[1020],
            sec_id_list=[TagValue("CUSIP", "91282CLW9"), TagValue("ISIN", "US91282CLW90")],
            min_size=one,
            size_increment=one,
            suggested_size_increment=one,
            cusip="91282CLW9",
            ratings="AA+",
            desc_append="T 4 1/4 11/15/34",
            bond_type="US-T",
            coupon_type="FIXED",
            coupon=4.25,
            maturity="20341115",
            issue_date="20241115",
            notes="",
        )
        self._add(details, price, vol)

        # equity and index options
        aapl = self._by_con_id[265598]
        monthly = _monthlies_after(self.today, 6)
        weekly = [d for d in _fridays_after(self.today, 6) if d not in monthly]
        wide = _strike_grid(230.0, 2.5, 0.30, 5.0, 0.50)
        narrow = _strike_grid(230.0, 2.5, 0.15, 2.5, 0.15)
        strikes = dict.fromkeys(monthly, wide) | dict.fromkeys(weekly, narrow)
        aapl_hours = (h.daily("0930", "1600"), h.daily("0930", "1600"))
        self._register_options(
            aapl,
            _Chain("AAPL", sorted(strikes), strikes),
            exchanges=_US_OPTION_EXCHANGES,
            min_tick=0.01,
            rule_id=26,
            hours=aapl_hours,
            tz="US/Eastern",
            last_trade_time="16:00:00",
            agg_group=2,
        )
        spx = index_of["SPX"]
        spx_hours = (h.daily("0830", "1515"), h.daily("0830", "1500"))
        spx_monthly = _monthlies_after(self.today, 4)
        grid = _strike_grid(6000.0, 5.0, 0.02, 25.0, 0.15)
        spxw_dates = _fridays_after(self.today, 6)
        spxw_grid = _strike_grid(6000.0, 5.0, 0.02, 25.0, 0.05)
        for chain, ltt in (
            (_Chain("SPX", spx_monthly, dict.fromkeys(spx_monthly, grid)), "08:30:00"),
            (_Chain("SPXW", spxw_dates, dict.fromkeys(spxw_dates, spxw_grid)), "15:00:00"),
        ):
            self._register_options(
                spx,
                chain,
                exchanges=["SMART", "CBOE"],
                min_tick=0.05,
                rule_id=110,
                hours=spx_hours,
                tz="US/Central",
                last_trade_time=ltt,
                agg_group=2,
            )

        # quarterly options on the two front ES futures
        for fut in fronts["ES"][:2]:
            last = datetime.strptime(fut.contract.last_trade_date_or_contract_month, "%Y%m%d")
            expiry = last.date()
            fop_grid = _strike_grid(6000.0, 25.0, 0.06, 25.0, 0.06)
            self._register_options(
                fut,
                _Chain("ES", [expiry], {expiry: fop_grid}),
                exchanges=["CME"],
                min_tick=0.05,
                rule_id=107,
                hours=globex,
                tz="US/Central",
                last_trade_time="15:00:00",
                agg_group=2,
            )

    def _register_options(self, und: Instrument, chain: _Chain, **layout: Any) -> None:
        """Note a chain to build when its group (the underlying's symbol) is first needed."""
        group = und.contract.symbol
        into = self._groups.setdefault(group, [])
        self._pending.setdefault(group, []).append(
            functools.partial(self._add_options, und, chain, into, **layout)
        )
        self._group_of_root[chain.root] = group
        self._group_of_underlying[und.con_id] = group

    def _add_options(
        self,
        und: Instrument,
        chain: _Chain,
        into: list[Instrument],
        *,
        exchanges: list[str],
        min_tick: float,
        rule_id: int,
        hours: tuple[str, str],
        tz: str,
        last_trade_time: str,
        agg_group: int,
    ) -> None:
        uc = und.contract
        fop = uc.sec_type == "FUT"
        sec_type = "FOP" if fop else "OPT"
        exchange = exchanges[0]
        rule = MARKET_RULES[rule_id]
        rule_ids = [rule_id] * len(exchanges)
        one = Decimal("1")
        option_order_types = _FUT_ORDER_TYPES if fop else _OPT_ORDER_TYPES
        multiplier = uc.multiplier if fop else "100"
        for expiry in chain.expiries:
            ymd = _ymd(expiry)
            yymmdd = ymd[2:]
            years = max((expiry - self.today).days, 1) / 365
            for strike in chain.strikes[expiry]:
                for right in ("C", "P"):
                    if fop:
                        local = f"{uc.local_symbol} {right}{_strike_text(strike)}"
                    else:
                        local = _occ(chain.root, yymmdd, right, strike)
                    value = _black_scholes(und.price, strike, years, und.volatility, right)
                    details = ContractDetails(
                        contract=Contract(
                            sec_type=sec_type,
                            con_id=_option_con_id(chain.root, expiry, strike, right),
                            symbol=uc.symbol,
                            last_trade_date_or_contract_month=ymd,
                            strike=strike,
                            right=right,
                            multiplier=multiplier,
                            exchange=exchange,
                            currency=uc.currency,
                            local_symbol=local,
                            trading_class=chain.root,
                            last_trade_date=ymd,
                        ),
                        market_name=chain.root,
                        min_tick=min_tick,
                        order_types=option_order_types,
                        valid_exchanges=exchanges,
                        price_magnifier=1,
                        under_con_id=uc.con_id,
                        long_name=und.details.long_name,
                        contract_month=und.details.contract_month if fop else ymd[:6],
                        industry=und.details.industry,
                        category=und.details.category,
                        subcategory=und.details.subcategory,
                        time_zone_id=tz,
                        trading_hours=hours[0],
                        liquid_hours=hours[1],
                        agg_group=agg_group,
                        under_symbol=uc.symbol,
                        under_sec_type=uc.sec_type,
                        market_rule_ids=rule_ids,
                        real_expiration_date=ymd,
                        last_trade_time=last_trade_time,
                        min_size=one,
                        size_increment=one,
                        suggested_size_increment=one,
                    )
                    self._add(details, max(value, rule[0].increment), und.volatility, into)


def _accepts(details: ContractDetails, q: Contract, sec_type: str) -> str | None:
    """The exchange to answer ``q`` with if ``details`` matches it, else ``None``."""
    c = details.contract
    if q.con_id and q.con_id != c.con_id:
        return None
    if sec_type and sec_type != c.sec_type:
        return None
    if not _same(q.symbol, c.symbol) or not _same(q.currency, c.currency):
        return None
    if not _same(q.local_symbol, c.local_symbol) or not _same(q.trading_class, c.trading_class):
        return None
    primary = q.primary_exchange.strip().upper()
    if primary and _PRIMARY_ALIASES.get(primary, primary) != c.primary_exchange:
        return None
    if not _expiry_matches(q.last_trade_date_or_contract_month, details):
        return None
    strike = q.strike if q.strike and q.strike < 1e300 else None  # 0.0 / UNSET_DOUBLE: unset
    if strike is not None and c.strike is not None and not math.isclose(strike, c.strike):
        return None
    if q.right.strip() and c.right and _RIGHTS.get(q.right.strip().upper()) != c.right:
        return None
    if q.multiplier.strip() and c.multiplier and not _same_number(q.multiplier, c.multiplier):
        return None
    if q.sec_id.strip() and not _sec_id_matches(q.sec_id_type, q.sec_id, details):
        return None
    exchange = q.exchange.strip().upper()
    if not exchange:
        return c.exchange
    return exchange if exchange in details.valid_exchanges else None


def _same(query: str, value: str) -> bool:
    q = query.strip().upper()
    return not q or q == value.upper()


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _expiry_matches(query: str, details: ContractDetails) -> bool:
    text = query.strip().replace("-", " ").split(" ")[0] if query.strip() else ""
    own = details.contract.last_trade_date_or_contract_month
    if not text or not own:
        return True
    if len(text) == 6:  # a contract month (CL's is the delivery month, after its last trade)
        return text == (details.contract_month or own[:6])
    return text in (own[:8], details.real_expiration_date)


def _sec_id_matches(id_type: str, sec_id: str, details: ContractDetails) -> bool:
    t = id_type.strip().upper()
    v = sec_id.strip().upper()
    if t == "CONID":
        return v.isdigit() and int(v) == details.contract.con_id
    if t == "CUSIP" and details.cusip.upper() == v:
        return True
    return any(
        (not t or tv.tag.upper() == t) and tv.value.upper() == v for tv in details.sec_id_list
    )
