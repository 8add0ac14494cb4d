"""The simulator's historical data engine: a deterministic price history for every instrument.

:class:`History` answers what TWS's historical market data service (HMDS) answers, as plain
records of :mod:`aiotws.model.history`: bars of every size and ``whatToShow``
(:meth:`History.bars`), head timestamps, historical ticks, histograms, trading schedules,
5-second real-time bars and the partial last bar of a keep-up-to-date request. Pure logic: no
asyncio, no sockets, no wire types, no clock (every call takes the times it needs); request
legality (duration vs bar size) and pacing belong to the request handlers.

**The path.** Each instrument's price is defined for all times, deterministically from
``(seed, conId)``, in three levels, each generated from the level above only, so a query's
answer never depends on what was asked before and every bar size is an exact aggregation of
the finer ones (open, high, low, close, volume and trade count; WAP see below):

* *days*: one official close per trading day, a mean-reverting random walk (around a drift
  line) on the log price, seeded once per instrument and walked away from the anchor day;
  each day then draws, from its own seed, the session open (an overnight gap from the
  previous session's end), the open and close of the liquid session, the end of the
  session, each segment's high and low (sampled from the maximum of a Brownian bridge),
  volume, trade count, WAP and the day's bid/ask spread. Daily, weekly and monthly bars
  are built from this level alone, so ten years of daily bars are cheap.
* *minutes*: a Brownian bridge on the tick ladder between the day's pinned values (session
  open → liquid open → official close → session end), with an intraday volatility and
  volume profile (U-shaped regular hours, thin extended hours), stretched so each segment
  reaches exactly the day's high and low; volumes and trade counts are distributed so they
  add up exactly to the day's; each minute trades at least 4 times.
* *seconds and trades*: inside a minute, a bridge from its open to its close that touches
  its high and low, and the minute's trades (first at the open, last at the close, one at
  the high and one at the low, sizes summing to the minute's volume); 1–30 second bars,
  historical ticks and real-time bars come from this level.

Prices are tick-ladder indices internally (an instrument's first market rule), so every
price is on the ladder. BID and ASK are the traded path shifted by a whole number of ticks
(constant through a day), MIDPOINT their mean. Option prices are Black-Scholes (Black-76 for
FOPs) values of the underlying's path with the live engine's volatility smile, on the time to
expiry at the start of each day.

Daily bars of options, of the anchor day and of BID_ASK (time averages) are aggregated from
minutes, so they cost what the minutes cost.

The WAP of intraday bars is the volume-weighted mean of the minutes' WAPs (exact); a daily
bar's WAP is drawn at the day level and agrees with its minutes only approximately, and a
sub-minute bar's WAP is the exact VWAP of its trades, within about a tick of its minute's.

**The anchor.** The path meets the live market (:class:`~aiotws.sim.market.Market`) at the
*anchor* (default: the market's own default clock, ``today`` 14:30 UTC; floored to the
minute): the history's minute ending at the anchor closes at the live engine's starting last
price (forex and CFDs: bid; indices: the index value), with its starting bid, ask and
midpoint; the previous trading day's official close is the live previous close, and the
anchor day up to the anchor has the live open, high, low and volume (trade count at least
4 a minute), so history leads into the live market without a jump (the session before the anchor day
ends near the live open). Options meet the live last at their own last minute before the
anchor (their model is scaled by one constant to do so); their anchor-day extremes and
volume are the model's. The live starting state is
read from a private :class:`Market` with the same seed, so the live engine's own state (and
what it was asked) never matters. Times after the anchor *extend the path* (the same
generator continuing forward); they are not taken from the live engine, which records no
history: after the anchor, bars follow this extension, not the live ticks.

**Sessions** come from the instrument's ``tradingHours``/``liquidHours`` in the universe, read
as weekly templates in the instrument's time zone: US stocks 04:00–20:00 (regular hours
09:30–16:00) New York time, CME/NYMEX Sunday-evening-to-Friday sessions with the daily break,
IDEALPRO Sunday 17:15 to Friday 17:00, crypto around the clock; venues whose hours are
same-day sessions in a US time zone are closed on US holidays (:mod:`aiotws.sim.calendar`).
Futures and options end at their last trade time; nothing trades before an instrument's
listing (:meth:`History.head_timestamp`). Intraday bars are aligned to multiples of the bar
size from local midnight and never span two sessions; a bar's date is its first minute.
"""

from __future__ import annotations

import gc
import math
import random
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import accumulate, pairwise
from typing import Final, Literal, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo

from aiotws.model.contract import PriceIncrement
from aiotws.model.history import (
    BarData,
    HistogramEntry,
    HistoricalSchedule,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    RealTimeBar,
)
from aiotws.sim.calendar import is_business_day, us_holidays
from aiotws.sim.market import IB_DIVIDENDS, RATE, Market, Quote, StringTick, bs_greeks
from aiotws.sim.universe import MARKET_RULES, Instrument, Universe

__all__ = [
    "BAR_SIZES",
    "MAX_TICKS",
    "REAL_TIME_TYPES",
    "TICK_TYPES",
    "WHAT_TO_SHOW",
    "BarSize",
    "BarUpdate",
    "History",
    "Tick",
    "parse_bar_size",
    "parse_duration",
]

#: Every ``whatToShow`` the engine knows (SCHEDULE answers with :meth:`History.schedule`).
WHAT_TO_SHOW: Final = (
    "TRADES",
    "MIDPOINT",
    "BID",
    "ASK",
    "BID_ASK",
    "ADJUSTED_LAST",
    "HISTORICAL_VOLATILITY",
    "OPTION_IMPLIED_VOLATILITY",
    "FEE_RATE",
    "AGGTRADES",
    "SCHEDULE",
)
#: ``whatToShow`` of REQ_HISTORICAL_TICKS.
TICK_TYPES: Final = ("TRADES", "MIDPOINT", "BID_ASK")
#: ``whatToShow`` of REQ_REAL_TIME_BARS.
REAL_TIME_TYPES: Final = ("TRADES", "MIDPOINT", "BID", "ASK")
#: TWS's cap on historical ticks per request.
MAX_TICKS: Final = 1000

_QUOTES: Final = frozenset({"MIDPOINT", "BID", "ASK", "BID_ASK"})
#: ``whatToShow`` values TWS knows that the simulator has no data of (bond yields).
_UNSUPPORTED: Final = frozenset({"YIELD_BID", "YIELD_ASK", "YIELD_BID_ASK", "YIELD_LAST"})
_TRADED: Final = frozenset({"TRADES", "ADJUSTED_LAST", "AGGTRADES"})
#: ``whatToShow`` valid per security type (anything else: error 162, crypto TRADES: 10299).
_VALID: Final[dict[str, frozenset[str]]] = {
    "STK": frozenset(
        {
            "TRADES",
            *_QUOTES,
            "ADJUSTED_LAST",
            "HISTORICAL_VOLATILITY",
            "OPTION_IMPLIED_VOLATILITY",
            "FEE_RATE",
            "SCHEDULE",
        }
    ),
    "IND": frozenset({"TRADES", "HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY", "SCHEDULE"}),
    "FUT": frozenset({"TRADES", *_QUOTES, "SCHEDULE"}),
    "OPT": frozenset({"TRADES", *_QUOTES, "SCHEDULE"}),
    "FOP": frozenset({"TRADES", *_QUOTES, "SCHEDULE"}),
    "BOND": frozenset({"TRADES", *_QUOTES, "SCHEDULE"}),
    "CASH": frozenset({*_QUOTES, "SCHEDULE"}),
    "CFD": frozenset({*_QUOTES, "SCHEDULE"}),
    "CRYPTO": frozenset({"AGGTRADES", *_QUOTES, "SCHEDULE"}),
}
#: How HMDS names a data type in its "No historical market data for …" errors.
_HMDS_NAMES: Final = {
    "TRADES": "Last",
    "MIDPOINT": "Midpoint",
    "BID": "Bid",
    "ASK": "Ask",
    "BID_ASK": "BidAsk",
    "ADJUSTED_LAST": "AdjustedLast",
    "HISTORICAL_VOLATILITY": "HV",
    "OPTION_IMPLIED_VOLATILITY": "IV",
    "FEE_RATE": "FeeRate",
    "AGGTRADES": "AggTrades",
    "SCHEDULE": "Schedule",
    "YIELD_BID": "YieldBid",
    "YIELD_ASK": "YieldAsk",
    "YIELD_BID_ASK": "YieldBidAsk",
    "YIELD_LAST": "YieldLast",
}

_BAD_WTS: Final = (
    321,
    "Error validating request.-'bY' : cause - What to show field is missing or incorrect.",
)
_NO_CONTRACT: Final = (200, "No security definition has been found for the request")
_PREFIX: Final = "aiotws.sim.history"
_YEAR_SECONDS: Final = 365 * 86400
_MIN_YEARS: Final = 1 / (365 * 24)
_SMART_EXCHANGES: Final = ("NASDAQ", "ARCA", "NYSE", "BATS", "IEX", "EDGX", "MEMX", "BYX")
_DAY_CACHE: Final = 20_000
_MINUTE_CACHE: Final = 600
_SECOND_CACHE: Final = 4_000
_ZERO: Final = Decimal(0)
_MINUTE_STEPS: Final = [timedelta(minutes=i) for i in range(2 * 1440)]

# -- bar sizes and durations --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BarSize:
    """A TWS bar size: ``unit`` "s" (intraday, ``seconds`` long), "d", "w" or "m"."""

    text: str
    seconds: int
    unit: Literal["s", "d", "w", "m"]

    @property
    def intraday(self) -> bool:
        return self.unit == "s"


def _sizes() -> dict[str, BarSize]:
    out: dict[str, BarSize] = {}
    for n in (1, 5, 10, 15, 30):
        out[f"{n} secs"] = BarSize(f"{n} secs", n, "s")
    for n in (1, 2, 3, 5, 10, 15, 20, 30):
        text = "1 min" if n == 1 else f"{n} mins"
        out[text] = BarSize(text, 60 * n, "s")
    for n in (1, 2, 3, 4, 8):
        text = "1 hour" if n == 1 else f"{n} hours"
        out[text] = BarSize(text, 3600 * n, "s")
    out["1 day"] = BarSize("1 day", 86400, "d")
    out["1 week"] = BarSize("1 week", 7 * 86400, "w")
    out["1 month"] = BarSize("1 month", 31 * 86400, "m")
    return out


#: Every TWS bar size, by its canonical ``barSizeSetting`` text.
BAR_SIZES: Final[dict[str, BarSize]] = _sizes()
_BY_SECONDS: Final = {b.seconds: b for b in BAR_SIZES.values() if b.intraday}
_UNIT_ALIASES: Final = {
    "s": "secs",
    "sec": "secs",
    "secs": "secs",
    "second": "secs",
    "seconds": "secs",
    "min": "mins",
    "mins": "mins",
    "minute": "mins",
    "minutes": "mins",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "day",
    "day": "day",
    "days": "day",
    "w": "week",
    "week": "week",
    "weeks": "week",
    "m": "month",
    "month": "month",
    "months": "month",
}


def parse_bar_size(spec: str | int | BarSize) -> BarSize:
    """A bar size from TWS text ("5 mins", "1 hour", "1 day", "1W", "1M" …) or seconds."""
    if isinstance(spec, BarSize):
        return spec
    if isinstance(spec, int):
        if spec in _BY_SECONDS:
            return _BY_SECONDS[spec]
        raise ValueError(f"no {spec}-second bar size")
    text = spec.strip()
    if text in ("1W", "1M"):
        return BAR_SIZES["1 week" if text == "1W" else "1 month"]
    num = "".join(ch for ch in text if ch.isdigit())
    unit = _UNIT_ALIASES.get(text[len(num) :].strip().lower())
    if not num or unit is None:
        raise ValueError(f"unknown bar size {spec!r}")
    n = int(num)
    if unit == "secs":
        seconds = n
    elif unit == "mins":
        seconds = 60 * n
    elif unit == "hours":
        seconds = 3600 * n
    else:
        if n != 1:
            raise ValueError(f"unknown bar size {spec!r}")
        return BAR_SIZES[f"1 {unit}"]
    if seconds not in _BY_SECONDS:
        raise ValueError(f"unknown bar size {spec!r}")
    return _BY_SECONDS[seconds]


def parse_duration(spec: str) -> tuple[int, Literal["S", "D", "W", "M", "Y"]]:
    """A TWS ``durationStr`` ("3600 S", "5 D", "2 W", "1 M", "1 Y") as (count, unit)."""
    parts = spec.split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1].upper() not in "SDWMY":
        raise ValueError(f"unknown duration {spec!r}")
    unit = parts[1].upper()
    assert unit in ("S", "D", "W", "M", "Y")
    return int(parts[0]), unit  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class BarUpdate:
    """The current (possibly partial) bar of a keep-up-to-date request; ``new_bar``: it
    started after the time asked about (the handler then has a finished bar behind it)."""

    bar: BarData
    new_bar: bool


Tick: TypeAlias = HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast

# -- instrument classes -------------------------------------------------------------------------


class _Kind(NamedTuple):
    traded: bool  # has trades: volume, TRADES bars
    quoted: bool  # has bid/ask
    day_lots: int  # mean lots traded in a full session
    trade_lots: int  # a trade is 1..trade_lots lots
    spread: tuple[int, int]  # bid/ask spread in ticks
    quote_lots: int  # displayed size 1..quote_lots lots
    drift: float  # annual drift of the daily walk (history is lower when positive)
    ext_weight: float  # volume weight of an extended-hours minute (regular hours average 1)


# Mirrors aiotws.sim.market's kinds (sizes, spreads, which kinds trade).
_KINDS: Final[dict[str, _Kind]] = {
    "STK": _Kind(True, True, 150_000, 8, (1, 2), 30, 0.08, 0.04),
    "FUT": _Kind(True, True, 500_000, 10, (1, 2), 60, 0.04, 0.15),
    "OPT": _Kind(True, True, 4_000, 20, (1, 2), 200, 0.0, 1.0),
    "FOP": _Kind(True, True, 2_000, 10, (1, 2), 100, 0.0, 0.15),
    "CASH": _Kind(False, True, 0, 0, (2, 3), 100, 0.0, 0.6),
    "CRYPTO": _Kind(True, True, 2_500_000, 3_000, (1, 2), 20_000, 0.25, 1.0),
    "CFD": _Kind(False, True, 0, 0, (1, 2), 50, 0.05, 0.25),
    "BOND": _Kind(True, True, 15_000, 50, (1, 2), 500, 0.0, 0.3),
    "IND": _Kind(False, False, 0, 0, (0, 0), 0, 0.06, 0.15),
}

#: First trading dates of the real instruments (IPO / launch); others are seeded.
_LISTED: Final[dict[int, date]] = {
    265598: date(1980, 12, 12),  # AAPL
    272093: date(1986, 3, 13),  # MSFT
    3691937: date(1997, 5, 15),  # AMZN
    208813719: date(2004, 8, 19),  # GOOGL
    4815747: date(1999, 1, 22),  # NVDA
    76792991: date(2010, 6, 29),  # TSLA
    107113386: date(2012, 5, 18),  # META
    1520593: date(1980, 3, 17),  # JPM
    8314: date(1962, 1, 2),  # IBM
    756733: date(1993, 1, 29),  # SPY
    320227571: date(1999, 3, 10),  # QQQ
    9579970: date(2000, 5, 26),  # IWM
    416904: date(1982, 4, 21),  # SPX
    416843: date(1985, 2, 1),  # NDX
    13455763: date(1993, 1, 19),  # VIX
    12087792: date(2005, 1, 3),  # EUR.USD
    12087797: date(2005, 1, 3),  # GBP.USD
    15016059: date(2005, 1, 3),  # USD.JPY
    479624278: date(2021, 9, 20),  # BTC on PAXOS
    495759171: date(2021, 9, 20),  # ETH on PAXOS
}

_US_ZONES: Final = ("US/", "America/", "EST", "CST", "EST5EDT", "CST6CDT")

# -- the tick ladder ---------------------------------------------------------------------------


class _Ladder:
    """Prices as integer indices on a market rule's ladder (index 1 = the first tick)."""

    __slots__ = ("decimals", "div", "edges", "incs", "lows", "single")

    def __init__(self, rule: Sequence[PriceIncrement]) -> None:
        self.lows = [r.low_edge for r in rule]
        self.incs = [r.increment for r in rule]
        self.edges = [0]
        for k in range(1, len(rule)):
            span = (self.lows[k] - self.lows[k - 1]) / self.incs[k - 1]
            self.edges.append(self.edges[-1] + round(span))
        self.single = len(rule) == 1
        inv = 1 / self.incs[0]
        self.div = round(inv) if abs(inv - round(inv)) < 1e-9 else 0
        text = [f"{inc:.10f}".rstrip("0").split(".") for inc in self.incs]
        self.decimals = max(len(t[1]) if len(t) > 1 else 0 for t in text)

    def price(self, i: int) -> float:
        if self.single:
            return i / self.div if self.div else round(i * self.incs[0], 10)
        k = bisect_right(self.edges, i) - 1
        return round(self.lows[k] + (i - self.edges[k]) * self.incs[k], 10)

    def price_f(self, x: float) -> float:
        """The price at a fractional index (linear within a rung), unrounded."""
        if self.single:
            return x * self.incs[0]
        k = max(bisect_right(self.edges, math.floor(x)) - 1, 0)
        return self.lows[k] + (x - self.edges[k]) * self.incs[k]

    def index_f(self, p: float) -> float:
        if self.single:
            return p / self.incs[0]
        k = max(bisect_right(self.lows, p) - 1, 0)
        return self.edges[k] + (p - self.lows[k]) / self.incs[k]

    def index(self, p: float) -> int:
        """The nearest ladder index (at least 1)."""
        return max(round(self.index_f(p)), 1)

    def ticks_per_unit(self, i: int) -> float:
        """How many ticks one unit of relative price change is near index ``i``."""
        if self.single:
            return float(i)
        k = bisect_right(self.edges, i) - 1
        return self.price(i) / self.incs[k]


# -- trading sessions --------------------------------------------------------------------------


class _Template(NamedTuple):
    """A weekly session pattern: the session of trading day D runs from D+start_offset at
    ``start`` to D+end_offset at ``end`` (local times)."""

    start: time
    start_offset: int
    end: time
    end_offset: int
    weekdays: frozenset[int]
    holidays: bool  # closed on US holidays


def _ymd(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _hhmm(text: str) -> time:
    return time(int(text[:2]) % 24, int(text[2:4]))


def _parse_hours(hours: str, tz: ZoneInfo) -> _Template | None:
    """Read a TWS hours string (``20260302:0930-20260302:1600;20260307:CLOSED;…``) as a
    weekly template. ``None`` if it has no open session."""
    opens: list[tuple[date, int, time, int, time]] = []
    closed: list[date] = []
    for raw in hours.split(";"):
        entry = raw.strip()
        if not entry:
            continue
        if entry.endswith("CLOSED"):
            closed.append(_ymd(entry[:8]))
            continue
        first, _, second = entry.partition("-")
        d1, d2 = _ymd(first[:8]), _ymd(second[:8])
        t1, t2 = first[9:13], second[9:13]
        ref = d1 if t2 == "0000" and d2 > d1 else d2
        opens.append((ref, (d1 - ref).days, _hhmm(t1), (d2 - ref).days, _hhmm(t2)))
    if not opens:
        return None
    _, so, st, eo, et = opens[0]
    holidays = [d for d in closed if d.weekday() < 5 and d in us_holidays(d.year)]
    weekdays = {ref.weekday() for ref, *_ in opens} | {d.weekday() for d in holidays}
    us = bool(holidays) or (so == eo == 0 and tz.key.startswith(_US_ZONES))
    return _Template(st, so, et, eo, frozenset(weekdays), us)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("America/New_York")


# -- per-instrument state ----------------------------------------------------------------------


class _Seg(NamedTuple):
    """One pinned stretch of a day's minutes [i0, i1): from v0 to v1, within [lo, hi]."""

    i0: int
    i1: int
    v0: int
    v1: int
    hi: int
    lo: int
    lots: int
    trades: int
    wap: float  # in (fractional) ticks
    rth: bool


class _Layout(NamedTuple):
    s: int  # session start, epoch seconds
    n: int  # minutes
    r0: int  # first regular-hours minute (r0 == r1: none)
    r1: int
    sod: int  # seconds of the session start after the trading day's local midnight


class _Day(NamedTuple):
    d: date
    lay: _Layout
    segs: tuple[_Seg, ...]  # empty: the day is summarised from its minutes
    a: int  # bid = path - a ticks
    b: int  # ask = path + b ticks


class _Minutes:
    """A day's minutes: closes ``v`` (n+1 values, v[i] = open of minute i), highs, lows,
    lots, trade counts and WAPs (fractional ticks)."""

    __slots__ = ("cnt", "day", "hi", "lo", "lots", "v", "wap")

    def __init__(
        self,
        day: _Day,
        v: list[int],
        hi: list[int],
        lo: list[int],
        lots: list[int],
        cnt: list[int],
        wap: list[float],
    ) -> None:
        self.day = day
        self.v = array("q", v)
        self.hi = array("q", hi)
        self.lo = array("q", lo)
        self.lots = array("q", lots)
        self.cnt = array("q", cnt)
        self.wap = array("d", wap)


class _Seconds:
    """A minute's seconds (path closes ``v`` with 61 values, highs, lows) and its trades as
    (ms after the minute start, ladder index, lots, flags: 1 past limit, 2 unreported)."""

    __slots__ = ("hi", "lo", "trades", "v")

    def __init__(
        self,
        v: list[int],
        hi: list[int],
        lo: list[int],
        trades: list[tuple[int, int, int, int]],
    ) -> None:
        self.v = v
        self.hi = hi
        self.lo = lo
        self.trades = trades


class _Profile(NamedTuple):
    w: list[float]  # volume weight per minute
    sdu: list[float]  # per-minute sd as a share of the day's intraday sd (x sqrt 6)
    cv: list[float]  # cumulative variance share, n + 1 values
    cw: list[float]  # cumulative volume weight, n + 1 values


class _Option(NamedTuple):
    und: _Model
    strike: float
    right: str
    expiry: float  # epoch seconds (21:00 UTC on the expiry date, as the live engine)
    carry: float
    vol: float
    scale: float  # live last / model value at the anchor


class _Model:
    """Everything the engine keeps about one instrument."""

    def __init__(self) -> None:
        self.closes: dict[int, float] = {}  # trading day ordinal -> log official close
        self.ends: dict[int, float] = {}
        self.back: tuple[date, float] | None = None  # earliest walked day, deviation
        self.fwd: tuple[date, float] | None = None
        self.back_rng: random.Random | None = None
        self.fwd_rng: random.Random | None = None
        self.layouts: dict[tuple[int, bool], _Layout | None] = {}
        self.profiles: dict[tuple[int, int, int], _Profile] = {}
        self.dividends: list[date] = []  # ex-dates, ascending
        self.div_factor = 1.0

    inst: Instrument
    con_id: int
    sec_type: str
    kind: _Kind
    ladder: _Ladder
    lot: Decimal
    tz: ZoneInfo
    full: _Template
    rth: _Template | None
    listed: date
    last_day: date | None
    last_time: time | None
    days_per_year: int
    sigma: float  # daily sd of log price
    kappa: float
    mu: float  # daily drift
    gap: float  # share of a day's variance in the overnight gap
    day_lots: float
    fee: float
    p_kind: Literal["last", "bid", "index"]
    live: Quote
    live_idx: int
    d0: date
    ka: int  # minutes of the anchor day before the anchor
    option: _Option | None
    smart: bool
    exchange: str


# -- the engine --------------------------------------------------------------------------------


class _Agg:
    """A bar in ticks, before it is rendered for a ``whatToShow``."""

    __slots__ = ("c", "cnt", "first", "h", "l", "last", "lots", "nmin", "o", "tsum", "wapn")

    def __init__(self, o: int, h: int, l: int, c: int) -> None:  # noqa: E741
        self.o, self.h, self.l, self.c = o, h, l, c
        self.lots = 0
        self.cnt = 0
        self.wapn = 0.0
        self.tsum = 0.0
        self.nmin = 0
        self.first = 0  # first and last minute index (fee rate hours)
        self.last = 0

    def merge(self, other: _Agg) -> None:
        self.h = max(self.h, other.h)
        self.l = min(self.l, other.l)
        self.c = other.c
        self.lots += other.lots
        self.cnt += other.cnt
        self.wapn += other.wapn
        self.tsum += other.tsum
        self.nmin += other.nmin
        self.last = other.last


class _Row(NamedTuple):
    """A rendered bar (prices) before it becomes a BarData (cross-day aggregation)."""

    o: float
    h: float
    l: float  # noqa: E741
    c: float
    lots: int
    wapn: float  # sum of price x lots
    cnt: int
    weight: int  # minutes (BID_ASK averages)


class History:
    """Deterministic historical data for every instrument of a universe.

    ``History(universe, market, seed)``: ``market`` is the live engine whose starting state
    the history leads into (only its seed and interval are used: the starting state is
    recomputed privately); ``seed`` (default: the market's) seeds the path. ``anchor``: where
    history meets the live market (default the market's default clock, ``today`` 14:30 UTC).
    Unknown conIds raise ``KeyError``; an invalid ``whatToShow`` raises ``ValueError`` (check
    :meth:`validate` first to answer with TWS's error).
    """

    def __init__(
        self,
        universe: Universe,
        market: Market | None = None,
        seed: int | None = None,
        *,
        anchor: datetime | None = None,
    ) -> None:
        self.universe = universe
        market_seed = market.seed if market is not None else universe.seed
        interval = market.interval if market is not None else 0.25
        self.seed = market_seed if seed is None else seed
        if anchor is None:
            anchor = datetime.combine(universe.today, time(14, 30), UTC)
        elif anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        t = int(anchor.timestamp()) // 60 * 60
        self.anchor = datetime.fromtimestamp(t, UTC)
        self._anchor_t = t
        self._probe = Market(universe, seed=market_seed, interval=interval)
        self._models: dict[int, _Model] = {}
        self._days: OrderedDict[tuple[int, int], _Day] = OrderedDict()
        self._minutes: OrderedDict[tuple[int, int], _Minutes] = OrderedDict()
        self._seconds: OrderedDict[tuple[int, int, int], _Seconds] = OrderedDict()

    def __repr__(self) -> str:
        return f"History(seed={self.seed}, anchor={self.anchor.isoformat()})"

    # -- validation --------------------------------------------------------------------------

    def validate(
        self, con_id: int, what_to_show: str, bar_size: str | int | BarSize | None = None
    ) -> tuple[int, str] | None:
        """The TWS error (code, text) a historical request for ``what_to_show`` gets, or
        ``None`` when the data exists: 200 unknown contract, 321 unknown ``whatToShow``,
        10299 TRADES on crypto (AGGTRADES expected), 162 "No historical market data" for a
        type the security type has none of (e.g. TRADES on forex)."""
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            return _NO_CONTRACT
        wts = what_to_show.strip().upper()
        if wts in _UNSUPPORTED:
            return 162, self._no_data_text(inst, wts, bar_size, "No historical market data for")
        if wts not in WHAT_TO_SHOW:
            return _BAD_WTS
        c = inst.contract
        if c.sec_type == "CRYPTO" and wts == "TRADES":
            return 10299, "Expected what to show is AGGTRADES, but instead received TRADES."
        if wts in _VALID.get(c.sec_type, frozenset({"SCHEDULE"})):
            return None
        return 162, self._no_data_text(inst, wts, bar_size, "No historical market data for")

    def validate_ticks(self, con_id: int, what_to_show: str) -> tuple[int, str] | None:
        """As :meth:`validate`, for REQ_HISTORICAL_TICKS (TRADES, MIDPOINT, BID_ASK only;
        crypto trades are TRADES there)."""
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            return _NO_CONTRACT
        wts = what_to_show.strip().upper()
        if wts not in TICK_TYPES:
            return _BAD_WTS
        kind = _KINDS.get(inst.contract.sec_type, _KINDS["STK"])
        if kind.traded if wts == "TRADES" else kind.quoted:
            return None
        return 162, self._no_data_text(inst, wts, None, "No historical market data for")

    def validate_real_time(self, con_id: int, what_to_show: str) -> tuple[int, str] | None:
        """As :meth:`validate`, for REQ_REAL_TIME_BARS (TRADES, MIDPOINT, BID, ASK)."""
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            return _NO_CONTRACT
        wts = what_to_show.strip().upper()
        if wts not in REAL_TIME_TYPES:
            return _BAD_WTS
        kind = _KINDS.get(inst.contract.sec_type, _KINDS["STK"])
        index = inst.contract.sec_type == "IND"
        if (kind.traded or index) if wts == "TRADES" else kind.quoted:
            return None
        return 420, f"Invalid Real-time Query:No market data for {wts} of {inst.contract.symbol}"

    def no_data_error(self, con_id: int, what_to_show: str) -> tuple[int, str]:
        """TWS's answer to a query that found nothing (before the head timestamp …)."""
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            return _NO_CONTRACT
        c = inst.contract
        name = _HMDS_NAMES.get(what_to_show.upper(), what_to_show).replace("Last", "Trades")
        return (
            162,
            "Historical Market Data Service error message:HMDS query returned no data: "
            f"{c.local_symbol or c.symbol}@{c.exchange} {name}",
        )

    def _no_data_text(
        self, inst: Instrument, wts: str, bar_size: str | int | BarSize | None, what: str
    ) -> str:
        c = inst.contract
        size = "1d"
        if bar_size is not None:
            try:
                b = parse_bar_size(bar_size)
            except ValueError:
                b = BAR_SIZES["1 day"]
            size = {"d": "1d", "w": "1w", "m": "1m"}.get(b.unit, str(b.seconds))
        return (
            f"Historical Market Data Service error message:{what} "
            f"{c.symbol}/{c.sec_type}@{c.exchange} {_HMDS_NAMES.get(wts, wts)} {size}"
        )

    # -- public queries ------------------------------------------------------------------------

    def time_zone(self, con_id: int) -> ZoneInfo:
        """The instrument's time zone (bar dates and schedules are in it)."""
        return self._model(con_id).tz

    def head_timestamp(
        self, con_id: int, what_to_show: str = "TRADES", use_rth: bool = False
    ) -> datetime:
        """The earliest time data exists (UTC): the start of the first session on or after
        the instrument's listing (first regular-hours session with ``use_rth``). Bars and
        ticks before it are empty."""
        self._check(con_id, what_to_show)
        m = self._model(con_id)
        d = m.listed
        for _ in range(30):
            lay = self._layout(m, d, use_rth and m.rth is not None)
            if lay is not None:
                return datetime.fromtimestamp(lay.s, UTC)
            d += timedelta(days=1)
        return datetime.combine(m.listed, time(), UTC)

    def sessions(
        self, con_id: int, start: datetime, end: datetime, use_rth: bool = False
    ) -> list[HistoricalSession]:
        """The trading sessions (regular hours with ``use_rth``) overlapping [start, end), in
        the instrument's time zone, with their trading days."""
        m = self._model(con_id)
        tz = m.tz
        out = []
        for d, lay in self._sessions_between(m, _epoch(start), _epoch(end), use_rth):
            out.append(
                HistoricalSession(
                    datetime.fromtimestamp(lay.s, tz),
                    datetime.fromtimestamp(lay.s + 60 * lay.n, tz),
                    d,
                )
            )
        return out

    def schedule(
        self, con_id: int, start: datetime, end: datetime, use_rth: bool = False
    ) -> HistoricalSchedule:
        """HISTORICAL_SCHEDULE (``whatToShow="SCHEDULE"``): the sessions overlapping
        [start, end) in the instrument's time zone."""
        m = self._model(con_id)
        return HistoricalSchedule(
            start.astimezone(m.tz) if start.tzinfo else start.replace(tzinfo=UTC).astimezone(m.tz),
            end.astimezone(m.tz) if end.tzinfo else end.replace(tzinfo=UTC).astimezone(m.tz),
            m.inst.details.time_zone_id,
            self.sessions(con_id, start, end, use_rth),
        )

    def bars(
        self,
        con_id: int,
        end: datetime,
        duration: str | int | timedelta | datetime,
        bar_size: str | int | BarSize,
        what_to_show: str = "TRADES",
        use_rth: bool = False,
        *,
        tz: tzinfo | None = None,
    ) -> list[BarData]:
        """Bars of ``bar_size`` starting in [start, end), oldest first.

        ``duration``: a TWS duration ("N S" seconds, "N D" the last N trading sessions up
        to ``end``, "N W" weeks, "N M" months, "N Y" years), seconds, a ``timedelta``, or
        the start itself. A bar containing ``end`` is partial (what keep-up-to-date needs).
        Intraday bar dates are tz-aware (the instrument's zone unless ``tz``), daily and
        longer bars are trading-day ``date``\\ s (a week/month bar: its first trading day).
        Volume, WAP and bar count are ``None`` except for trade data.
        """
        wts = self._check(con_id, what_to_show)
        if wts == "SCHEDULE":
            raise ValueError("SCHEDULE has no bars: use schedule()")
        m = self._model(con_id)
        size = parse_bar_size(bar_size)
        rth = use_rth and m.rth is not None
        t1 = _epoch(end)
        t0 = self._start(m, t1, duration, rth)
        with _bulk():
            if size.intraday:
                return self._intraday(m, wts, size.seconds, t0, t1, rth, tz or m.tz)
            return self._daily(m, wts, size.unit, t0, t1, rth)

    def current_bar(
        self,
        con_id: int,
        bar_size: str | int | BarSize,
        what_to_show: str,
        use_rth: bool,
        now: datetime,
        *,
        tz: tzinfo | None = None,
    ) -> BarData | None:
        """The bar containing ``now`` (partial, up to ``now``) or, outside the sessions, the
        latest bar before it; ``None`` if there is none within a month."""
        size = parse_bar_size(bar_size)
        spans: tuple[str | timedelta, ...]
        if size.intraday:
            spans = (timedelta(seconds=size.seconds), "1 D", "5 D", "25 D")
        else:
            spans = ("1 D", "10 D") if size.unit == "d" else ("10 D", "25 D", "1 M")
        for span in spans:
            got = self.bars(con_id, now, span, size, what_to_show, use_rth, tz=tz)
            if got:
                return got[-1]
        return None

    def bar_update(
        self,
        con_id: int,
        bar_size: str | int | BarSize,
        what_to_show: str,
        use_rth: bool,
        now: datetime,
        since: datetime | None = None,
        *,
        tz: tzinfo | None = None,
    ) -> BarUpdate | None:
        """Keep-up-to-date support: the current partial bar at ``now`` and whether it
        started after ``since`` (a new bar began since the previous update; ``since=None``:
        every bar is new). Send it as HISTORICAL_DATA_UPDATE every few seconds."""
        bar = self.current_bar(con_id, bar_size, what_to_show, use_rth, now, tz=tz)
        if bar is None:
            return None
        if since is None:
            return BarUpdate(bar, True)
        if isinstance(bar.date, datetime):
            started = bar.date.timestamp() > _epoch(since)
        else:
            m = self._model(con_id)
            since_local = (
                since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            ).astimezone(m.tz)
            started = bar.date > since_local.date()
        return BarUpdate(bar, started)

    def real_time_bar(
        self, con_id: int, when: datetime, what_to_show: str = "TRADES", use_rth: bool = False
    ) -> RealTimeBar | None:
        """The 5-second bar of the slot containing ``when`` (REAL_TIME_BARS; ``time`` = slot
        start, UTC), or ``None`` outside the sessions: the 5-second historical bar of the
        slot. TRADES slots without trades repeat the price with volume 0; MIDPOINT/BID/ASK
        (and an index's TRADES) have no volume or WAP, and count -1."""
        err = self.validate_real_time(con_id, what_to_show)
        if err is not None:
            raise ValueError(f"error {err[0]}: {err[1]}")
        wts = what_to_show.strip().upper()
        m = self._model(con_id)
        if wts == "TRADES" and not m.kind.traded:
            wts = "INDEX"
        t = int(_epoch(when)) // 5 * 5
        hit = self._minute_at(m, t, use_rth and m.rth is not None)
        if hit is None:
            return None
        d, i = hit
        day = self._day(m, d)
        lay = day.lay
        t_min = lay.s + 60 * i
        sec = self._secs(m, d, i)
        s0 = t - t_min
        stamp = datetime.fromtimestamp(t, UTC)
        lad = m.ladder
        if wts == "TRADES":
            trades = [tr for tr in sec.trades if s0 * 1000 <= tr[0] < (s0 + 5) * 1000]
            if not trades:
                p = lad.price(sec.v[s0])
                return RealTimeBar(stamp, p, p, p, p, _ZERO, Decimal(repr(p)), 0)
            prices = [tr[1] for tr in trades]
            lots = sum(tr[2] for tr in trades)
            vw = sum(lad.price(tr[1]) * tr[2] for tr in trades) / lots
            return RealTimeBar(
                stamp,
                lad.price(prices[0]),
                lad.price(max(prices)),
                lad.price(min(prices)),
                lad.price(prices[-1]),
                m.lot * lots,
                self._dec(m, vw),
                len(trades),
            )
        o = sec.v[s0]
        c = sec.v[s0 + 5]
        h = max(sec.hi[s0 : s0 + 5])
        lo = min(sec.lo[s0 : s0 + 5])
        conv = lad.price if wts == "INDEX" else self._quote_conv(m, day, wts)
        return RealTimeBar(stamp, conv(o), conv(h), conv(lo), conv(c), None, None, None)

    def real_time_bars(
        self,
        con_id: int,
        start: datetime,
        end: datetime,
        what_to_show: str = "TRADES",
        use_rth: bool = False,
    ) -> list[RealTimeBar]:
        """The real-time bars of the 5-second slots starting in [start, end) (a handler
        catching up after a pause)."""
        t0 = math.ceil(_epoch(start) / 5) * 5
        t1 = _epoch(end)
        out = []
        with _bulk():
            for t in range(int(t0), math.ceil(t1), 5):
                if t >= t1:
                    break
                bar = self.real_time_bar(
                    con_id, datetime.fromtimestamp(t, UTC), what_to_show, use_rth
                )
                if bar is not None:
                    out.append(bar)
        return out

    def historical_ticks(
        self,
        con_id: int,
        what_to_show: str,
        number: int,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        use_rth: bool = False,
    ) -> list[Tick]:
        """REQ_HISTORICAL_TICKS: the first ``number`` ticks at or after ``start`` (up to
        ``end`` if given), or the last ``number`` at or before ``end``; at most
        :data:`MAX_TICKS`. TRADES gives :class:`HistoricalTickLast` (the minute-level trades:
        within their bars' ranges), BID_ASK :class:`HistoricalTickBidAsk` (a quote change per
        second at most), MIDPOINT :class:`HistoricalTick` (size 0). Searches up to 30
        sessions away."""
        wts = what_to_show.strip().upper()
        if wts not in TICK_TYPES:
            raise ValueError(f"no historical ticks of {what_to_show!r}")
        m = self._model(con_id)
        if wts == "TRADES" and not m.kind.traded:
            raise ValueError(f"{m.inst.contract.local_symbol} has no trades")
        if wts != "TRADES" and not m.kind.quoted:
            raise ValueError(f"{m.inst.contract.local_symbol} has no quotes")
        if start is None and end is None:
            raise ValueError("start or end is required")
        number = max(0, min(number, MAX_TICKS))
        if number == 0:
            return []
        rth = use_rth and m.rth is not None
        out: list[Tick] = []
        if start is not None:
            t0 = _epoch(start)
            t1 = _epoch(end) if end is not None else math.inf
            for d, i in self._minutes_from(m, t0, rth, forward=True):
                lay = self._layout_of(m, d)
                tm = lay.s + 60 * i
                if tm >= t1:
                    break
                for tick_t, tick in self._minute_ticks(m, d, i, wts):
                    if t0 <= tick_t <= t1:
                        out.append(tick)
                        if len(out) >= number:
                            return out
            return out
        assert end is not None
        t1 = _epoch(end)
        for d, i in self._minutes_from(m, t1, rth, forward=False):
            got = [tk for tt, tk in self._minute_ticks(m, d, i, wts) if tt <= t1]
            out[:0] = got[-(number - len(out)) :] if got else []
            if len(out) >= number:
                break
        return out

    def histogram(
        self, con_id: int, use_rth: bool, period: str, end: datetime | None = None
    ) -> list[HistogramEntry]:
        """HISTOGRAM_DATA: traded volume by price over ``period`` ("3 days", "1 week",
        "2 months" …) up to ``end`` (default the anchor), ascending by price; at most about
        100 levels (a level spans a whole number of ticks). Empty for untraded instruments."""
        m = self._model(con_id)
        if not m.kind.traded:
            return []
        parts = period.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f"unknown histogram period {period!r}")
        n = int(parts[0])
        unit = parts[1].lower().rstrip("s")
        end_dt = end or self.anchor
        t1 = _epoch(end_dt)
        rth = use_rth and m.rth is not None
        if unit == "day":
            t0 = self._start(m, t1, f"{n} D", rth)
        elif unit == "week":
            t0 = self._start(m, t1, f"{n} W", rth)
        elif unit == "month":
            t0 = self._start(m, t1, f"{n} M", rth)
        elif unit == "year":
            t0 = self._start(m, t1, f"{n} Y", rth)
        else:
            raise ValueError(f"unknown histogram period {period!r}")
        levels: dict[int, int] = {}
        top, bottom = 0, 1 << 62
        for d, lay in self._sessions_between(m, t0, t1, rth):
            mins = self._mins(m, d)
            lo_i, hi_i = self._window(m, d, lay, t0, t1)
            for i in range(lo_i, hi_i):
                lots = mins.lots[i]
                o, c, w = mins.v[i], mins.v[i + 1], round(mins.wap[i])
                third = lots // 3
                levels[o] = levels.get(o, 0) + third
                levels[c] = levels.get(c, 0) + third
                levels[w] = levels.get(w, 0) + lots - 2 * third
                top = max(top, mins.hi[i])
                bottom = min(bottom, mins.lo[i])
        if not levels:
            return []
        width = max(1, math.ceil((top - bottom + 1) / 100))
        buckets: dict[int, int] = {}
        for idx, lots in levels.items():
            if lots:
                k = idx // width * width
                buckets[k] = buckets.get(k, 0) + lots
        lad = m.ladder
        return [HistogramEntry(lad.price(max(k, 1)), m.lot * v) for k, v in sorted(buckets.items())]

    def price_at(self, con_id: int, when: datetime) -> float | None:
        """The path's price at ``when`` (last trade level; forex/CFD: bid; index: value), or
        ``None`` outside the sessions."""
        m = self._model(con_id)
        t = int(_epoch(when))
        hit = self._minute_at(m, t, False)
        if hit is None:
            return None
        d, i = hit
        lay = self._layout_of(m, d)
        sec = self._secs(m, d, i)
        return m.ladder.price(sec.v[t - lay.s - 60 * i])

    # -- model construction ------------------------------------------------------------------

    def _check(self, con_id: int, what_to_show: str) -> str:
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            raise KeyError(f"no instrument with conId {con_id}")
        wts = what_to_show.strip().upper()
        err = self.validate(con_id, wts)
        if err is not None:
            raise ValueError(f"error {err[0]}: {err[1]}")
        return wts

    def _rng(self, m: _Model, d: date, tag: str) -> random.Random:
        return random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:{d.toordinal()}:{tag}")

    def _model(self, con_id: int) -> _Model:
        m = self._models.get(con_id)
        if m is None:
            inst = self.universe.by_con_id(con_id)
            if inst is None:
                raise KeyError(f"no instrument with conId {con_id}")
            m = self._build(inst)
            self._models[con_id] = m
        return m

    def _build(self, inst: Instrument) -> _Model:
        d = inst.details
        c = d.contract
        m = _Model()
        m.inst = inst
        m.con_id = c.con_id
        m.sec_type = c.sec_type
        m.kind = kind = _KINDS.get(c.sec_type, _KINDS["STK"])
        rule = MARKET_RULES.get(d.market_rule_ids[0]) if d.market_rule_ids else None
        m.ladder = _Ladder(rule or (PriceIncrement(0.0, inst.tick or d.min_tick or 0.01),))
        m.lot = _lot(inst)
        m.tz = _zone(d.time_zone_id)
        full = _parse_hours(d.trading_hours, m.tz)
        if full is None:
            full = _Template(time(9, 30), 0, time(16), 0, frozenset(range(5)), True)
        m.full = full
        rth = _parse_hours(d.liquid_hours, m.tz)
        m.rth = None if rth is None or rth == full else rth
        m.days_per_year = 365 if len(full.weekdays) == 7 else 252
        m.sigma = inst.volatility / math.sqrt(m.days_per_year)
        m.kappa = 0.5 / m.days_per_year
        m.mu = kind.drift / 365
        break_hours = 24 - _session_hours(full)
        m.gap = min(0.25, max(0.0, break_hours / 24 * 0.3))
        rng = random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:model")
        m.day_lots = kind.day_lots * rng.uniform(0.5, 1.5)
        m.fee = rng.uniform(0.25, 0.6)
        m.p_kind = "last" if kind.traded else ("bid" if kind.quoted else "index")
        m.smart = c.sec_type == "STK" and "SMART" in d.valid_exchanges and c.currency == "USD"
        m.exchange = c.primary_exchange or c.exchange
        m.last_day, m.last_time = _last_trade(inst)
        # the live engine's starting state, from a private market with the same seed
        ticks = self._probe.initial_ticks(m.con_id, (456,), self.anchor)
        m.live = q = self._probe.quote(m.con_id)
        if m.p_kind == "bid":
            m.live_idx = m.ladder.index(q.bid)
        else:
            m.live_idx = m.ladder.index(q.last)
        m.option = None
        m.listed = self._listing(m, rng)
        m.d0, m.ka = self._anchor_day_of(m)
        if c.sec_type in ("OPT", "FOP") and d.under_con_id:
            m.option = self._option_of(m)
        if c.sec_type == "STK":
            self._dividends(m, ticks)
        return m

    def _listing(self, m: _Model, rng: random.Random) -> date:
        today = self.universe.today
        c = m.inst.contract
        listed = _LISTED.get(m.con_id)
        if listed is None:
            expiry = m.last_day
            if c.sec_type in ("OPT", "FOP") and expiry is not None:
                monthly = expiry.weekday() in (3, 4) and 15 <= expiry.day <= 21
                if c.trading_class == "SPX":
                    back = 365
                elif c.sec_type == "FOP":
                    back = 270
                else:
                    back = 240 if monthly else 35
                listed = expiry - timedelta(days=back)
            elif c.sec_type == "FUT" and expiry is not None:
                listed = expiry - timedelta(days=365 if c.symbol == "CL" else 456)
            elif c.sec_type == "BOND" and m.inst.details.issue_date:
                listed = _ymd(m.inst.details.issue_date)
            elif c.sec_type == "CFD":
                listed = date(2012, 6, 4)
            else:
                listed = today - timedelta(days=rng.randint(5 * 365, 25 * 365))
        return min(listed, today - timedelta(days=7))

    def _anchor_day_of(self, m: _Model) -> tuple[date, int]:
        t = self._anchor_t
        local = datetime.fromtimestamp(t, m.tz).date() + timedelta(days=1)
        for k in range(40):
            d = local - timedelta(days=k)
            lay = self._layout(m, d, False)
            if lay is not None and lay.s < t:
                ka = min((t - lay.s) // 60, lay.n)
                if ka >= 1:
                    return d, ka
        raise ValueError(f"no session before the anchor for {m.inst.contract.local_symbol}")

    def _option_of(self, m: _Model) -> _Option:
        d = m.inst.details
        c = d.contract
        und = self._model(d.under_con_id)
        ymd = c.last_trade_date_or_contract_month[:8]
        expiry = datetime.strptime(ymd, "%Y%m%d").replace(hour=21, tzinfo=UTC).timestamp()
        carry = 0.0 if c.sec_type == "FOP" else RATE
        strike = c.strike or m.inst.price
        opt = _Option(und, strike, c.right, expiry, carry, m.inst.volatility, 1.0)
        # calibrate: the model value at the end of the option's last minute before the
        # anchor is the live last
        lay = self._layout_of(m, m.d0)
        umins = self._mins(und, m.d0)
        ulay = umins.day.lay
        j = min(max((lay.s + 60 * m.ka - ulay.s) // 60, 0), ulay.n)
        spot = und.ladder.price(umins.v[j])
        value = _bs(opt, spot, self._years(opt, m.d0, lay))
        live = m.ladder.price(m.live_idx)
        scale = live / value if value > 0 else 1.0
        return opt._replace(scale=scale)

    def _years(self, opt: _Option, d: date, lay: _Layout) -> float:
        """Years from day ``d``'s session start to the option's expiry."""
        return max((opt.expiry - lay.s) / _YEAR_SECONDS, _MIN_YEARS)

    def _dividends(self, m: _Model, ticks: Sequence[object]) -> None:
        for ev in ticks:
            if isinstance(ev, StringTick) and ev.tick_type == IB_DIVIDENDS:
                parts = ev.value.split(",")
                past, next_date = float(parts[0]), parts[2]
                if past <= 0:
                    return
                ex = _ymd(next_date) - timedelta(days=91)
                dates: list[date] = []
                while ex > m.listed:
                    d = ex
                    while not is_business_day(d):
                        d -= timedelta(days=1)
                    if d <= self.universe.today:
                        dates.append(d)
                    ex -= timedelta(days=91)
                m.dividends = sorted(dates)
                m.div_factor = 1.0 - past / 4 / m.inst.price
                return

    # -- sessions --------------------------------------------------------------------------

    def _is_trading(self, m: _Model, d: date, tpl: _Template) -> bool:
        if d.weekday() not in tpl.weekdays:
            return False
        return not (tpl.holidays and d in us_holidays(d.year))

    def _layout(self, m: _Model, d: date, rth: bool) -> _Layout | None:
        """Session layout of trading day ``d`` (full, or regular hours as their own session),
        ``None`` if it does not trade (calendar, listing and expiry aside: see _open)."""
        key = (d.toordinal(), rth)
        if key in m.layouts:
            return m.layouts[key]
        lay = self._make_layout(m, d, rth)
        m.layouts[key] = lay
        return lay

    def _make_layout(self, m: _Model, d: date, rth: bool) -> _Layout | None:
        tpl = m.full
        if not self._is_trading(m, d, tpl):
            return None
        tz = m.tz
        start = datetime.combine(d + timedelta(days=tpl.start_offset), tpl.start, tz)
        stop = datetime.combine(d + timedelta(days=tpl.end_offset), tpl.end, tz)
        s, e = int(start.timestamp()), int(stop.timestamp())
        if m.last_day is not None:
            if d > m.last_day:
                return None
            if d == m.last_day and m.last_time is not None:
                cut = int(datetime.combine(d, m.last_time, tz).timestamp())
                e = min(e, cut)
        if e <= s:
            return None
        r0, r1 = 0, (e - s) // 60
        if m.rth is not None:
            r0 = r1 = 0
            if self._is_trading(m, d, m.rth):
                t = m.rth
                rs = datetime.combine(d + timedelta(days=t.start_offset), t.start, tz)
                re_ = datetime.combine(d + timedelta(days=t.end_offset), t.end, tz)
                a = min(max((int(rs.timestamp()) - s) // 60, 0), (e - s) // 60)
                b = min(max((int(re_.timestamp()) - s) // 60, a), (e - s) // 60)
                r0, r1 = a, b
        sod = tpl.start.hour * 3600 + tpl.start.minute * 60 + 86400 * tpl.start_offset
        full = _Layout(s, (e - s) // 60, r0, r1, sod)
        if not rth:
            return full
        if full.r0 >= full.r1:
            return None
        return _Layout(s + 60 * full.r0, full.r1 - full.r0, 0, full.r1 - full.r0, sod + 60 * r0)

    def _layout_of(self, m: _Model, d: date) -> _Layout:
        lay = self._layout(m, d, False)
        assert lay is not None
        return lay

    def _open(self, m: _Model, d: date) -> bool:
        """``d`` is a trading day with data (listed, not expired)."""
        return d >= m.listed and self._layout(m, d, False) is not None

    def _sessions_between(
        self, m: _Model, t0: float, t1: float, rth: bool
    ) -> Iterator[tuple[date, _Layout]]:
        """Trading days whose session (regular hours with ``rth``) overlaps [t0, t1)."""
        if t1 <= t0:
            return
        first = datetime.fromtimestamp(max(t0, -2e9), m.tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(min(t1, 4e9), m.tz).date() + timedelta(days=1)
        first = max(first, m.listed)
        d = first
        while d <= last:
            lay = self._layout(m, d, rth)
            if lay is not None and lay.s < t1 and lay.s + 60 * lay.n > t0:
                yield d, lay
            d += timedelta(days=1)

    def _prev_trading(self, m: _Model, d: date) -> date:
        d -= timedelta(days=1)
        while self._layout(m, d, False) is None:
            d -= timedelta(days=1)
        return d

    def _next_trading(self, m: _Model, d: date) -> date:
        d += timedelta(days=1)
        for _ in range(30):
            if self._layout(m, d, False) is not None:
                return d
            d += timedelta(days=1)
        raise ValueError("no later trading day")

    def _start(
        self, m: _Model, t1: float, duration: str | int | timedelta | datetime, rth: bool
    ) -> float:
        if isinstance(duration, datetime):
            return _epoch(duration)
        if isinstance(duration, timedelta):
            return t1 - duration.total_seconds()
        if isinstance(duration, int):
            return t1 - duration
        n, unit = parse_duration(duration)
        if unit == "S":
            return t1 - n
        if unit == "D":
            # the last n sessions starting before t1
            d = datetime.fromtimestamp(t1, m.tz).date() + timedelta(days=1)
            found = 0
            start = t1
            for _ in range(n * 7 + 30):
                lay = self._layout(m, d, rth)
                if lay is not None and lay.s < t1:
                    found += 1
                    start = lay.s
                    if found >= n:
                        break
                d -= timedelta(days=1)
            return start
        end_local = datetime.fromtimestamp(t1, m.tz)
        if unit == "W":
            return (end_local - timedelta(weeks=n)).timestamp()
        if unit == "M":
            y, mo = divmod(end_local.year * 12 + end_local.month - 1 - n, 12)
            day = min(end_local.day, _month_days(y, mo + 1))
            return end_local.replace(year=y, month=mo + 1, day=day).timestamp()
        day = end_local.day
        if end_local.month == 2 and day == 29:
            day = 28
        return end_local.replace(year=end_local.year - n, day=day).timestamp()

    # -- the daily walk ----------------------------------------------------------------------

    def _trend(self, m: _Model, d: date) -> float:
        return math.log(m.inst.price) + m.mu * (d - m.d0).days

    def _x_close(self, m: _Model, d: date) -> float:
        """Log official close of trading day ``d`` (not for options)."""
        key = d.toordinal()
        x = m.closes.get(key)
        if x is not None:
            return x
        if d == m.d0:
            mins = self._mins(m, d)
            lay = mins.day.lay
            r1 = lay.r1 if lay.r0 < lay.r1 else lay.n
            x = math.log(m.ladder.price(mins.v[r1]))
            m.closes[key] = x
            return x
        if d < m.d0:
            if m.back is None:
                first = self._prev_trading(m, m.d0)
                x0 = math.log(m.inst.price)
                m.closes[first.toordinal()] = x0
                m.back = (first, x0 - self._trend(m, first))
                m.back_rng = random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:walk-back")
            rng = m.back_rng
            assert rng is not None
            day, y = m.back
            while day > d:
                day = self._prev_trading(m, day)
                y = (1 - m.kappa) * y + m.sigma * rng.gauss(0.0, 1.0)
                m.closes[day.toordinal()] = self._trend(m, day) + y
            m.back = (day, y)
        else:
            if m.fwd is None:
                x0 = self._x_close(m, m.d0)
                m.fwd = (m.d0, x0 - self._trend(m, m.d0))
                m.fwd_rng = random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:walk-fwd")
            rng = m.fwd_rng
            assert rng is not None
            day, y = m.fwd
            while day < d:
                day = self._next_trading(m, day)
                y = (1 - m.kappa) * y + m.sigma * rng.gauss(0.0, 1.0)
                m.closes[day.toordinal()] = self._trend(m, day) + y
            m.fwd = (day, y)
        x = m.closes.get(key)
        if x is None:  # not a trading day: the close of the trading day before
            x = self._x_close(m, self._prev_trading(m, d))
        return x

    def _seg_sds(self, m: _Model, lay: _Layout) -> tuple[float, float, float]:
        """Log-price sd of the pre-market, regular and post-market stretches of a day."""
        prof = self._profile(m, lay)
        intra = m.sigma * math.sqrt(1 - m.gap)
        r0, r1, n = lay.r0, lay.r1, lay.n
        if r0 >= r1:
            return intra, 0.0, 0.0
        pre = intra * math.sqrt(prof.cv[r0])
        reg = intra * math.sqrt(prof.cv[r1] - prof.cv[r0])
        post = intra * math.sqrt(prof.cv[n] - prof.cv[r1])
        return pre, reg, post

    def _x_end(self, m: _Model, d: date) -> float:
        """Log price at the end of day ``d``'s session."""
        key = d.toordinal()
        x = m.ends.get(key)
        if x is not None:
            return x
        if d == m.d0:
            mins = self._mins(m, d)
            x = math.log(m.ladder.price(mins.v[mins.day.lay.n]))
        elif d < m.d0 and self._next_trading(m, d) == m.d0:
            # the session before the anchor day ends near the live open (a small gap)
            gap = m.sigma * math.sqrt(m.gap)
            x = math.log(m.ladder.price(m.ladder.index(m.live.open)))
            x -= gap * self._rng(m, d, "post").gauss(0.0, 1.0)
        else:
            lay = self._layout_of(m, d)
            x = self._x_close(m, d)
            if lay.r0 < lay.r1 < lay.n:
                post = self._seg_sds(m, lay)[2]
                x += post * self._rng(m, d, "post").gauss(0.0, 1.0)
        m.ends[key] = x
        return x

    # -- days --------------------------------------------------------------------------------

    def _day(self, m: _Model, d: date) -> _Day:
        key = (m.con_id, d.toordinal())
        day = self._days.get(key)
        if day is not None:
            self._days.move_to_end(key)
            return day
        lay = self._layout_of(m, d)
        if m.option is not None:
            day = self._option_day(m, d, lay)
        elif d == m.d0:
            day = self._anchor_day(m, d, lay)
        else:
            day = self._normal_day(m, d, lay)
        self._days[key] = day
        if len(self._days) > _DAY_CACHE:
            self._days.popitem(last=False)
        return day

    def _points(self, lay: _Layout) -> list[int]:
        """Minute indices at which a day's path is pinned."""
        n, r0, r1 = lay.n, lay.r0, lay.r1
        if r0 >= r1:
            return [0, n]
        pts = [0]
        if r0 > 0:
            pts.append(r0)
        pts.append(r1)
        if r1 < n:
            pts.append(n)
        return pts

    def _normal_day(self, m: _Model, d: date, lay: _Layout) -> _Day:
        rng = self._rng(m, d, "day")
        g = rng.gauss
        pts = self._points(lay)
        x_c = self._x_close(m, d)
        prev = self._prev_trading(m, d)
        x_o = self._x_end(m, prev) + m.sigma * math.sqrt(m.gap) * g(0.0, 1.0)
        pre, _, _ = self._seg_sds(m, lay)
        values: dict[int, float] = {0: x_o}
        if lay.r0 >= lay.r1:
            values[lay.n] = x_c
        else:
            if lay.r0 > 0:
                values[lay.r0] = x_o + pre * g(0.0, 1.0)
            values[lay.r1] = x_c
            if lay.r1 < lay.n:
                values[lay.n] = self._x_end(m, d)
        segs = self._segments(m, rng, lay, pts, values)
        return _Day(d, lay, tuple(segs), *self._spread(m, rng, segs[0].v0))

    def _anchor_day(self, m: _Model, d: date, lay: _Layout) -> _Day:
        """The anchor day: up to the anchor its open, high, low, last and volume are the live
        engine's starting state; after it the path continues."""
        rng = self._rng(m, d, "day")
        q = m.live
        lad = m.ladder
        ka = m.ka
        last = m.live_idx
        o_idx = lad.index(q.open)
        hi = max(lad.index(q.high), o_idx, last)
        lo = min(max(lad.index(q.low), 1), o_idx, last)
        lots = cnt = 0
        wap = (o_idx + last + hi + lo) / 4
        if m.kind.traded:
            lots = max(int(q.volume / m.lot), 5 * ka)
            cnt = min(max(q.trade_count, 4 * ka), 4 * ka + lots - 5 * ka)
            if q.vwap > 0:
                wap = min(max(lad.index_f(q.vwap), lo), hi)
        first = _Seg(0, ka, o_idx, last, hi, lo, lots, cnt, wap, False)
        pts = [p for p in self._points(lay) if p > ka]
        segs = [first]
        if pts:
            x = math.log(lad.price(last))
            values: dict[int, float] = {ka: x}
            prof = self._profile(m, lay)
            intra = m.sigma * math.sqrt(1 - m.gap)
            prev = ka
            for p in pts:
                x += intra * math.sqrt(max(prof.cv[p] - prof.cv[prev], 1e-12)) * rng.gauss(0, 1)
                values[p] = x
                prev = p
            segs += self._segments(m, rng, lay, [ka, *pts], values)
        if m.p_kind == "last":
            a = max(last - lad.index(q.bid), 0)
            b = max(lad.index(q.ask) - last, 0)
        elif m.p_kind == "bid":
            a, b = 0, max(lad.index(q.ask) - last, 1)
        else:
            a = b = 0
        return _Day(d, lay, tuple(segs), a, b)

    def _segments(
        self,
        m: _Model,
        rng: random.Random,
        lay: _Layout,
        pts: list[int],
        values: dict[int, float],
    ) -> list[_Seg]:
        lad = m.ladder
        prof = self._profile(m, lay)
        intra = m.sigma * math.sqrt(1 - m.gap)
        kind = m.kind
        day_factor = math.exp(0.3 * rng.gauss(0.0, 1.0) - 0.045)
        x_first, x_last = values[pts[0]], values[pts[-1]]
        day_factor *= 1 + 0.5 * min(abs(x_last - x_first) / max(m.sigma, 1e-9), 4.0)
        avg_trade = (1 + kind.trade_lots) / 2
        out = []
        for p, q in pairwise(pts):
            if q <= p:
                continue
            a, b = values[p], values[q]
            share = max(prof.cv[q] - prof.cv[p], 1e-12)
            sd = intra * math.sqrt(share)
            span2 = (b - a) ** 2
            x_hi = (a + b) / 2 + math.sqrt(span2 - 2 * sd * sd * math.log(1 - rng.random())) / 2
            x_lo = (a + b) / 2 - math.sqrt(span2 - 2 * sd * sd * math.log(1 - rng.random())) / 2
            v0 = lad.index(math.exp(a))
            v1 = lad.index(math.exp(b))
            hi = max(lad.index(math.exp(x_hi)), v0, v1)
            lo = max(min(lad.index(math.exp(x_lo)), v0, v1), 1)
            mins = q - p
            lots = cnt = 0
            if kind.traded:
                weight = (prof.cw[q] - prof.cw[p]) / prof.cw[-1]
                lots = max(round(m.day_lots * day_factor * weight), 5 * mins)
                extra = lots - 5 * mins
                cnt = 4 * mins + min(extra, round(extra / avg_trade))
            wap = (v0 + v1 + hi + lo) / 4 + (rng.random() - 0.5) * (hi - lo) * 0.2
            wap = min(max(wap, lo), hi)
            rth = lay.r0 < lay.r1 and p >= lay.r0 and q <= lay.r1
            out.append(_Seg(p, q, v0, v1, hi, lo, lots, cnt, wap, rth))
        return out

    def _spread(self, m: _Model, rng: random.Random, v: int) -> tuple[int, int]:
        kind = m.kind
        if m.p_kind == "index":
            return 0, 0
        if m.option is not None:
            k = max(1, round(0.015 * m.ladder.ticks_per_unit(v)))
            a = 0 if rng.random() < 0.5 else k
            return a, k - a
        k = rng.randint(*kind.spread)
        if m.p_kind == "bid":
            return 0, k
        a = rng.randint(0, k)
        return a, k - a

    def _option_day(self, m: _Model, d: date, lay: _Layout) -> _Day:
        opt = m.option
        assert opt is not None
        if d == m.d0:
            q = m.live
            lad = m.ladder
            a = max(m.live_idx - lad.index(q.bid), 0)
            b = max(lad.index(q.ask) - m.live_idx, 0)
            return _Day(d, lay, (), a, b)
        und = opt.und
        uday = self._day(und, d)
        rng = self._rng(m, d, "day")
        v = m.ladder.index(
            opt.scale * _bs(opt, und.ladder.price(uday.segs[0].v0), self._years(opt, d, lay))
            if uday.segs
            else 1.0
        )
        return _Day(d, lay, (), *self._spread(m, rng, v))

    def _profile(self, m: _Model, lay: _Layout) -> _Profile:
        key = (lay.n, lay.r0, lay.r1)
        prof = m.profiles.get(key)
        if prof is not None:
            return prof
        n, r0, r1 = lay.n, lay.r0, lay.r1
        ext = m.kind.ext_weight
        if r0 >= r1 and n >= 1000:
            w = [1.0] * n
        else:
            span = max(r1 - r0, 1)
            w = []
            for i in range(n):
                if r0 <= i < r1:
                    x = (i - r0 + 0.5) / span * 2 - 1
                    w.append(0.55 + 1.7 * x**4)
                else:
                    w.append(ext)
        var = [x**0.75 for x in w]
        total = sum(var)
        sdu = [math.sqrt(6 * x / total) for x in var]
        cv = [0.0, *accumulate(x / total for x in var)]
        cw = [0.0, *accumulate(w)]
        prof = _Profile(w, sdu, cv, cw)
        m.profiles[key] = prof
        return prof

    # -- minutes -----------------------------------------------------------------------------

    def _mins(self, m: _Model, d: date) -> _Minutes:
        key = (m.con_id, d.toordinal())
        mins = self._minutes.get(key)
        if mins is not None:
            self._minutes.move_to_end(key)
            return mins
        day = self._day(m, d)
        mins = self._option_minutes(m, day) if m.option is not None else self._gen(m, day)
        self._minutes[key] = mins
        if len(self._minutes) > _MINUTE_CACHE:
            self._minutes.popitem(last=False)
        return mins

    def _gen(self, m: _Model, day: _Day) -> _Minutes:
        lay = day.lay
        n = lay.n
        rng = self._rng(m, day.d, "min")
        rnd = rng.random
        prof = self._profile(m, lay)
        v = [0] * (n + 1)
        hi = [0] * n
        lo = [0] * n
        ref = day.segs[-1].v1
        scale = m.sigma * math.sqrt(1 - m.gap) * m.ladder.ticks_per_unit(ref) / math.sqrt(6)
        traded = m.kind.traded
        lots = [0] * n
        cnt = [0] * n
        for seg in day.segs:
            _fill(rnd, v, hi, lo, seg.i0, seg.i1, seg.v0, seg.v1, seg.hi, seg.lo, prof, scale)
            if traded:
                _spread_volume(rnd, prof.w, lots, cnt, seg)
        wap = _waps(rnd, v, hi, lo)
        return _Minutes(day, v, hi, lo, lots, cnt, wap)

    def _option_minutes(self, m: _Model, day: _Day) -> _Minutes:
        opt = m.option
        assert opt is not None
        lay = day.lay
        n = lay.n
        und = opt.und
        umins = self._mins(und, day.d)
        ulay = umins.day.lay
        uv, uhi, ulo = umins.v, umins.hi, umins.lo
        un = ulay.n
        years = self._years(opt, day.d, lay)
        lad, ulad = m.ladder, und.ladder
        memo: dict[int, int] = {}

        def value(u: int) -> int:
            got = memo.get(u)
            if got is None:
                got = lad.index(opt.scale * _bs(opt, ulad.price(u), years))
                memo[u] = got
            return got

        call = opt.right == "C"
        v = [0] * (n + 1)
        hi = [0] * n
        lo = [0] * n
        offset = (lay.s - ulay.s) // 60
        for i in range(n + 1):
            j = min(max(i + offset, 0), un)
            v[i] = value(uv[j])
        for i in range(n):
            j = i + offset
            if 0 <= j < un:
                a, b = value(uhi[j]), value(ulo[j])
                h, low = (a, b) if call else (b, a)
                hi[i] = max(h, v[i], v[i + 1])
                lo[i] = min(low, v[i], v[i + 1])
            else:
                hi[i] = max(v[i], v[i + 1])
                lo[i] = min(v[i], v[i + 1])
        rng = self._rng(m, day.d, "min")
        rnd = rng.random
        prof = self._profile(m, lay)
        spot = ulad.price(uv[min(max(offset, 0), un)])
        moneyness = abs(math.log(opt.strike / spot)) if spot > 0 else 1.0
        day_lots = max(m.day_lots * math.exp(-6 * moneyness), 5.0 * n) * math.exp(
            0.3 * rng.gauss(0.0, 1.0)
        )
        lots = [0] * n
        cnt = [0] * n
        total = max(round(day_lots), 5 * n)
        extra = total - 5 * n
        avg_trade = (1 + m.kind.trade_lots) / 2
        seg = _Seg(0, n, 0, 0, 0, 0, total, 4 * n + min(extra, round(extra / avg_trade)), 0, True)
        _spread_volume(rnd, prof.w, lots, cnt, seg)
        wap = _waps(rnd, v, hi, lo)
        return _Minutes(day, v, hi, lo, lots, cnt, wap)

    # -- seconds and trades --------------------------------------------------------------------

    def _secs(self, m: _Model, d: date, i: int) -> _Seconds:
        key = (m.con_id, d.toordinal(), i)
        sec = self._seconds.get(key)
        if sec is not None:
            self._seconds.move_to_end(key)
            return sec
        mins = self._mins(m, d)
        sec = self._gen_seconds(m, d, i, mins)
        self._seconds[key] = sec
        if len(self._seconds) > _SECOND_CACHE:
            self._seconds.popitem(last=False)
        return sec

    def _gen_seconds(self, m: _Model, d: date, i: int, mins: _Minutes) -> _Seconds:
        o, c, h, lo = mins.v[i], mins.v[i + 1], mins.hi[i], mins.lo[i]
        rng = random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:{d.toordinal()}:{i}:sec")
        rnd = rng.random
        v = [0] * 61
        shi = [0] * 60
        slo = [0] * 60
        if h == lo:
            v = [o] * 61
            shi = [h] * 60
            slo = [lo] * 60
        else:
            unit = _Profile([1.0] * 60, [1.0] * 60, [k / 60 for k in range(61)], [])
            scale = max((h - lo) / (2 * math.sqrt(60)), 0.5) * 0.6
            _fill(rnd, v, shi, slo, 0, 60, o, c, h, lo, unit, scale)
        trades: list[tuple[int, int, int, int]] = []
        n = mins.cnt[i]
        if m.kind.traded and n > 0:
            total = mins.lots[i]
            if n >= total:
                sizes = [1] * n
                n = total
            else:
                cuts = sorted(rng.sample(range(1, total), n - 1))
                sizes = [b - a for a, b in pairwise([0, *cuts, total])]
            j_h = next((s for s in range(60) if shi[s] == h), 0)
            j_l = next((s for s in range(60) if slo[s] == lo), 0)
            pinned = [(0, o), (59_999, c)]
            if n >= 4:
                pinned += [
                    (j_h * 1000 + rng.randint(1, 998), h),
                    (j_l * 1000 + rng.randint(1, 998), lo),
                ]
            elif n == 3:
                pinned.append((j_h * 1000 + rng.randint(1, 998), h))
            raw: list[list[int]] = [[t, p, sizes[k], 1] for k, (t, p) in enumerate(pinned[:n])]
            # the free trades: of two random (second, price) candidates, the one keeping the
            # running VWAP nearer the minute's WAP; then a nudge within their seconds' ranges
            target = mins.wap[i]
            err = sum((t[1] - target) * t[2] for t in raw)
            randrange, randint = rng.randrange, rng.randint
            for k in range(len(raw), n):
                z = sizes[k]
                s1 = randrange(60)
                p1 = randint(slo[s1], shi[s1])
                s2 = randrange(60)
                p2 = randint(slo[s2], shi[s2])
                if abs(err + (p2 - target) * z) < abs(err + (p1 - target) * z):
                    s1, p1 = s2, p2
                err += (p1 - target) * z
                raw.append([s1 * 1000 + randint(1, 998), p1, z, 0])
            # then move the largest free trades to the price (and a second trading at it)
            # that cancels the rest of the error
            for tr in sorted((t for t in raw if not t[3]), key=lambda t: -t[2]):
                if abs(err) < 0.5:
                    break
                want = min(max(round(tr[1] - err / tr[2]), lo), h)
                if want == tr[1]:
                    continue
                s = next((x for x in range(60) if slo[x] <= want <= shi[x]), -1)
                if s < 0:
                    continue
                err += (want - tr[1]) * tr[2]
                tr[0] = s * 1000 + tr[0] % 1000
                tr[1] = want
            # what is left (few trades): move lots between the dearest and cheapest trades
            by_price = sorted(raw, key=lambda t: t[1])
            cheap = by_price[0]
            for dear in reversed(by_price[1:]):
                span = dear[1] - cheap[1]
                if abs(err) < 0.5 or span <= 0:
                    break
                k = round(err / span)
                k = min(k, dear[2] - 1) if k > 0 else -min(-k, cheap[2] - 1)
                dear[2] -= k
                cheap[2] += k
                err -= k * span
            raw.sort(key=lambda t: t[0])
            for tr in raw:
                r = rnd()
                flags = 2 if r < 0.01 else (1 if r > 0.9995 else 0)
                trades.append((tr[0], tr[1], tr[2], flags))
        return _Seconds(v, shi, slo, trades)

    def _minute_ticks(self, m: _Model, d: date, i: int, wts: str) -> list[tuple[int, Tick]]:
        lay = self._layout_of(m, d)
        t_min = lay.s + 60 * i
        sec = self._secs(m, d, i)
        lad = m.ladder
        out: list[tuple[int, Tick]] = []
        if wts == "TRADES":
            for ms, p, lots, flags in sec.trades:
                t = t_min + ms // 1000
                if m.smart:
                    ex = _SMART_EXCHANGES[(ms * 7 + p + lots) % len(_SMART_EXCHANGES)]
                else:
                    ex = m.exchange
                tick = HistoricalTickLast(
                    datetime.fromtimestamp(t, UTC),
                    lad.price(p),
                    m.lot * lots,
                    ex,
                    "",
                    bool(flags & 1),
                    bool(flags & 2),
                )
                out.append((t, tick))
            return out
        day = self._day(m, d)
        a, b = day.a, day.b
        mins = self._mins(m, d)
        running_hi = max(mins.hi[:i], default=mins.v[0])
        running_lo = min(mins.lo[:i], default=mins.v[0])
        rng = random.Random(f"{_PREFIX}:{self.seed}:{m.con_id}:{d.toordinal()}:{i}:quotes")
        # a quote tick when the quote changes (the session's first second always has one)
        prev: tuple[int, int] | None = None if i == 0 else (sec.v[0], sec.v[0])
        q_lots = max(m.kind.quote_lots, 1)
        bid_size = rng.randint(1, q_lots)
        ask_size = rng.randint(1, q_lots)
        for s in range(60):
            x = sec.v[s + 1]
            t = t_min + s
            # the quote moved past the session's range so far (a new high or low)
            past_high, past_low = x > running_hi, x < running_lo
            running_hi = max(running_hi, sec.hi[s])
            running_lo = min(running_lo, sec.lo[s])
            moved = prev is None or prev[0] != x
            if wts == "MIDPOINT":
                if moved:
                    mid = round((lad.price(max(x - a, 1)) + lad.price(x + b)) / 2, 10)
                    out.append((t, HistoricalTick(datetime.fromtimestamp(t, UTC), mid, _ZERO)))
                    prev = (x, x)
                continue
            resize = rng.random() < 0.3
            if moved or resize:
                if moved or rng.random() < 0.5:
                    bid_size = rng.randint(1, q_lots)
                if moved or rng.random() < 0.5:
                    ask_size = rng.randint(1, q_lots)
                tick_ba = HistoricalTickBidAsk(
                    datetime.fromtimestamp(t, UTC),
                    lad.price(max(x - a, 1)),
                    lad.price(x + b),
                    m.lot * bid_size,
                    m.lot * ask_size,
                    past_high,
                    past_low,
                )
                out.append((t, tick_ba))
                prev = (x, x)
        return out

    def _minute_at(self, m: _Model, t: int, rth: bool) -> tuple[date, int] | None:
        local = datetime.fromtimestamp(t, m.tz).date()
        for d in (local + timedelta(days=1), local, local - timedelta(days=1)):
            if not self._open(m, d):
                continue
            lay = self._layout(m, d, rth)
            if lay is not None and lay.s <= t < lay.s + 60 * lay.n:
                full = self._layout_of(m, d)
                return d, (t - full.s) // 60
        return None

    def _minutes_from(
        self, m: _Model, t: float, rth: bool, *, forward: bool
    ) -> Iterator[tuple[date, int]]:
        """Session minutes from ``t`` on (or back), as (trading day, minute index)."""
        local = datetime.fromtimestamp(t, m.tz).date()
        step = timedelta(days=1 if forward else -1)
        d = local - step
        sessions = 0
        for _ in range(60):
            if self._open(m, d):
                lay = self._layout(m, d, rth)
                full = self._layout_of(m, d)
                if lay is not None:
                    base = (lay.s - full.s) // 60
                    idx = range(lay.n) if forward else range(lay.n - 1, -1, -1)
                    for k in idx:
                        tm = lay.s + 60 * k
                        if forward and tm + 60 <= t:
                            continue
                        if not forward and tm > t:
                            continue
                        yield d, base + k
                    sessions += 1
                    if sessions >= 30:
                        return
            elif not forward and d < m.listed:
                return
            d += step

    # -- bars --------------------------------------------------------------------------------

    def _window(
        self, m: _Model, d: date, lay: _Layout, t0: float | None, t1: float
    ) -> tuple[int, int]:
        """Full minutes of ``lay`` (as indices into day ``d``'s full session) that start at
        or after ``t0`` and end by ``t1``."""
        full = self._layout_of(m, d)
        lo_i = (lay.s - full.s) // 60
        hi_i = lo_i + lay.n
        a = lo_i if t0 is None else max(lo_i, math.ceil((t0 - full.s) / 60))
        b = min(hi_i, math.floor((t1 - full.s) / 60))
        return a, max(a, b)

    def _partial(self, m: _Model, d: date, lay: _Layout, t1: float) -> tuple[int, int] | None:
        """(minute index, seconds before ``t1``) of the minute ``t1`` cuts, if any."""
        full = self._layout_of(m, d)
        i = math.floor((t1 - full.s) / 60)
        secs = int(t1 - full.s - 60 * i)
        lo_i = (lay.s - full.s) // 60
        if secs <= 0 or not lo_i <= i < lo_i + lay.n:
            return None
        return i, secs

    def _agg_minutes(self, mins: _Minutes, i0: int, i1: int, need_t: bool) -> _Agg:
        v = mins.v
        hi = mins.hi[i0:i1]
        lo = mins.lo[i0:i1]
        g = _Agg(v[i0], max(hi), min(lo), v[i1])
        lots = mins.lots[i0:i1]
        g.lots = sum(lots)
        g.cnt = sum(mins.cnt[i0:i1])
        g.wapn = sum(w * x for w, x in zip(mins.wap[i0:i1], lots, strict=True))
        if need_t:
            g.tsum = sum(
                (a + b + c + e) / 4
                for a, b, c, e in zip(v[i0:i1], v[i0 + 1 : i1 + 1], hi, lo, strict=True)
            )
        g.nmin = i1 - i0
        g.first, g.last = i0, i1 - 1
        return g

    def _agg_seconds(
        self, m: _Model, d: date, i: int, s0: int, s1: int, traded: bool
    ) -> _Agg | None:
        """Seconds [s0, s1) of minute ``i`` (its trades when ``traded``); ``None`` when
        there are no trades in them. ``tsum`` is their time-average (one minute's worth)."""
        sec = self._secs(m, d, i)
        if traded:
            lo_ms, hi_ms = s0 * 1000, s1 * 1000
            trades = [tr for tr in sec.trades if lo_ms <= tr[0] < hi_ms]
            if not trades:
                return None
            prices = [tr[1] for tr in trades]
            g = _Agg(prices[0], max(prices), min(prices), prices[-1])
            g.lots = sum(tr[2] for tr in trades)
            g.cnt = len(trades)
            g.wapn = float(sum(tr[1] * tr[2] for tr in trades))
        else:
            sv = sec.v
            g = _Agg(sv[s0], max(sec.hi[s0:s1]), min(sec.lo[s0:s1]), sv[s1])
            g.tsum = sum((sv[s] + sv[s + 1] + sec.hi[s] + sec.lo[s]) / 4 for s in range(s0, s1)) / (
                s1 - s0
            )
        g.nmin = 1
        g.first = g.last = i
        return g

    def _intraday(
        self, m: _Model, wts: str, size: int, t0: float, t1: float, rth: bool, tz: tzinfo
    ) -> list[BarData]:
        out: list[BarData] = []
        traded = wts in _TRADED and m.kind.traded
        need_t = wts == "BID_ASK"
        for d, lay in self._sessions_between(m, t0, t1, rth):
            full = self._layout_of(m, d)
            day = self._day(m, d)
            mins = self._mins(m, d)
            conv = self._renderer(m, day, wts)
            lo_i, hi_i = self._window(m, d, lay, None, t1)
            part = self._partial(m, d, lay, t1)
            dates = _Dates(full, m.tz, tz)
            if size < 60:
                first = max(lo_i, math.floor((t0 - full.s) / 60))
                for i in range(first, hi_i + (part is not None)):
                    limit = 60 if part is None or i < part[0] else part[1]
                    t_min = full.s + 60 * i
                    for s0 in range(0, limit, size):
                        if t_min + s0 < t0:
                            continue
                        g = self._agg_seconds(m, d, i, s0, min(s0 + size, limit), traded)
                        if g is not None:
                            out.append(self._bar(m, conv(g), dates.at_second(i, s0), traded))
                continue
            if size == 60 and not need_t and wts in ("TRADES", "AGGTRADES", *_QUOTES):
                first = max(lo_i, math.ceil((t0 - full.s) / 60))
                out += self._fast_minutes(m, day, mins, wts, first, hi_i, dates)
                if part is not None and full.s + 60 * part[0] >= t0:
                    last = self._agg_seconds(m, d, part[0], 0, part[1], traded)
                    if last is not None:
                        out.append(self._bar(m, conv(last), dates.at(part[0]), traded))
                continue
            sod = full.sod
            # consecutive minutes of the same bin (multiples of ``size`` from local midnight)
            groups: list[tuple[int, int, int]] = []
            i = lo_i
            while i < hi_i:
                k = (sod + 60 * i + dates.shift(i)) // size
                j = i + 1
                while j < hi_i and (sod + 60 * j + dates.shift(j)) // size == k:
                    j += 1
                groups.append((i, j, k))
                i = j
            tail: _Agg | None = None
            if part is not None:
                pi, ps = part
                tail = self._agg_seconds(m, d, pi, 0, ps, traded)
                if tail is not None:
                    k = (sod + 60 * pi + dates.shift(pi)) // size
                    if not groups or groups[-1][2] != k or groups[-1][1] != pi:
                        groups.append((pi, pi, k))
            for n_g, (i0, i1, _) in enumerate(groups):
                if full.s + 60 * i0 < t0:
                    continue
                if i1 > i0:
                    g = self._agg_minutes(mins, i0, i1, need_t)
                    if tail is not None and n_g == len(groups) - 1:
                        g.merge(tail)
                else:
                    assert tail is not None
                    g = tail
                out.append(self._bar(m, conv(g), dates.at(i0), traded))
        return out

    def _fast_minutes(
        self, m: _Model, day: _Day, mins: _Minutes, wts: str, i0: int, i1: int, dates: _Dates
    ) -> list[BarData]:
        """One-minute TRADES/BID/ASK/MIDPOINT bars of minutes [i0, i1), without the generic
        aggregation (a year of them must be fast)."""
        if i1 <= i0:
            return []
        v = mins.v[i0 : i1 + 1].tolist()
        hi = mins.hi[i0:i1].tolist()
        lo = mins.lo[i0:i1].tolist()
        when = dates.all(i0, i1)
        lad = m.ladder
        if wts in ("TRADES", "AGGTRADES") and m.kind.traded:
            lot = m.lot
            memo: dict[int, Decimal] = {}
            vols = [memo.get(x) or memo.setdefault(x, lot * x) for x in mins.lots[i0:i1].tolist()]
            cnt = mins.cnt[i0:i1].tolist()
            if lad.single and lad.div:
                k = lad.div
                waps = _decimals([w / k for w in mins.wap[i0:i1]], lad.decimals + 2)
                return [
                    BarData(t, o / k, h / k, lw / k, c / k, vol, w, n)
                    for t, o, c, h, lw, vol, w, n in zip(
                        when, v[:-1], v[1:], hi, lo, vols, waps, cnt, strict=True
                    )
                ]
            price, price_f = lad.price, lad.price_f
            waps = _decimals([price_f(w) for w in mins.wap[i0:i1]], lad.decimals + 2)
            return [
                BarData(t, price(o), price(h), price(lw), price(c), vol, w, n)
                for t, o, c, h, lw, vol, w, n in zip(
                    when, v[:-1], v[1:], hi, lo, vols, waps, cnt, strict=True
                )
            ]
        if lad.single and lad.div and min(lo) > day.a:
            k = lad.div
            if wts == "MIDPOINT":  # (bid + ask) / 2 = (2x + b - a) / 2k, correctly rounded
                k, sh, f = 2 * k, day.b - day.a, 2
            else:
                sh = 0 if wts in ("TRADES", "AGGTRADES") else (-day.a if wts == "BID" else day.b)
                f = 1
            return [
                BarData(t, (f * o + sh) / k, (f * h + sh) / k, (f * lw + sh) / k, (f * c + sh) / k)
                for t, o, c, h, lw in zip(when, v[:-1], v[1:], hi, lo, strict=True)
            ]
        conv = m.ladder.price if wts in ("TRADES", "AGGTRADES") else self._quote_conv(m, day, wts)
        return [
            BarData(t, conv(o), conv(h), conv(lw), conv(c))
            for t, o, c, h, lw in zip(when, v[:-1], v[1:], hi, lo, strict=True)
        ]

    def _daily(
        self, m: _Model, wts: str, unit: str, t0: float, t1: float, rth: bool
    ) -> list[BarData]:
        traded = wts in _TRADED and m.kind.traded
        rows: list[tuple[date, _Row]] = []
        for d, lay in self._sessions_between(m, t0, t1, rth):
            if lay.s < t0:
                continue
            day = self._day(m, d)
            g = self._day_agg(m, d, day, lay, t1, rth, wts)
            if g is None:
                continue
            rows.append((d, self._renderer(m, day, wts)(g)))
        if unit == "d":
            return [self._bar(m, r, d, traded) for d, r in rows]
        out: list[BarData] = []
        key: tuple[int, int] | None = None
        acc: list[tuple[date, _Row]] = []
        for d, r in rows:
            k = (d.isocalendar()[0], d.isocalendar()[1]) if unit == "w" else (d.year, d.month)
            if key is not None and k != key:
                out.append(self._bar(m, _combine([x for _, x in acc], wts), acc[0][0], traded))
                acc = []
            key = k
            acc.append((d, r))
        if acc:
            out.append(self._bar(m, _combine([x for _, x in acc], wts), acc[0][0], traded))
        return out

    def _day_agg(
        self, m: _Model, d: date, day: _Day, lay: _Layout, t1: float, rth: bool, wts: str
    ) -> _Agg | None:
        """A whole (or, cut by ``t1``, partial) session of day ``d`` as one bar: from the
        day level when it can, else from its minutes."""
        need_t = wts == "BID_ASK"
        complete = lay.s + 60 * lay.n <= t1
        if complete and day.segs and not need_t and d != m.d0:
            segs = [s for s in day.segs if s.rth] if rth else list(day.segs)
            if not segs:
                return None
            whole = _Agg(segs[0].v0, max(s.hi for s in segs), min(s.lo for s in segs), segs[-1].v1)
            whole.lots = sum(s.lots for s in segs)
            whole.cnt = sum(s.trades for s in segs)
            whole.wapn = sum(s.wap * s.lots for s in segs)
            whole.first, whole.last = segs[0].i0, segs[-1].i1 - 1
            whole.nmin = whole.last - whole.first + 1
            return whole
        mins = self._mins(m, d)
        lo_i, hi_i = self._window(m, d, lay, None, t1)
        g: _Agg | None = self._agg_minutes(mins, lo_i, hi_i, need_t) if hi_i > lo_i else None
        part = self._partial(m, d, lay, t1)
        if part is not None:
            traded = wts in _TRADED and m.kind.traded
            tail = self._agg_seconds(m, d, part[0], 0, part[1], traded)
            if tail is not None:
                if g is None:
                    g = tail
                else:
                    g.merge(tail)
        return g

    # -- rendering -------------------------------------------------------------------------

    def _renderer(self, m: _Model, day: _Day, wts: str) -> Callable[[_Agg], _Row]:
        lad = m.ladder
        price = lad.price
        price_f = lad.price_f
        if wts in ("TRADES", "AGGTRADES", "ADJUSTED_LAST"):
            f = self._adjustment(m, day.d) if wts == "ADJUSTED_LAST" else 1.0
            nd = lad.decimals + 2

            def trades(g: _Agg) -> _Row:
                wapn = price_f(g.wapn / g.lots) * g.lots * f if g.lots else 0.0
                if f == 1.0:
                    return _Row(
                        price(g.o), price(g.h), price(g.l), price(g.c), g.lots, wapn, g.cnt, g.nmin
                    )
                return _Row(
                    round(price(g.o) * f, nd),
                    round(price(g.h) * f, nd),
                    round(price(g.l) * f, nd),
                    round(price(g.c) * f, nd),
                    g.lots,
                    wapn,
                    g.cnt,
                    g.nmin,
                )

            return trades
        if wts in ("BID", "ASK", "MIDPOINT"):
            conv = self._quote_conv(m, day, wts)
            return lambda g: _Row(conv(g.o), conv(g.h), conv(g.l), conv(g.c), 0, 0.0, 0, g.nmin)
        if wts == "BID_ASK":
            a, b = day.a, day.b

            def bid_ask(g: _Agg) -> _Row:
                avg = g.tsum / max(g.nmin, 1)
                return _Row(
                    round(price_f(max(avg - a, 1)), 10),
                    price(g.h + b),
                    price(max(g.l - a, 1)),
                    round(price_f(avg + b), 10),
                    0,
                    0.0,
                    0,
                    g.nmin,
                )

            return bid_ask
        if wts in ("HISTORICAL_VOLATILITY", "OPTION_IMPLIED_VOLATILITY"):
            x_prev, s29 = self._hv_state(m, day.d)
            dpy = m.days_per_year

            def hv(i: int) -> float:
                r = math.log(price(i)) - x_prev
                return math.sqrt(dpy * (s29 + r * r) / 30)

            if wts == "HISTORICAL_VOLATILITY":
                near = lad.index(math.exp(x_prev))

                def hv_row(g: _Agg) -> _Row:
                    return _Row(
                        round(hv(g.o), 6),
                        round(max(hv(g.h), hv(g.l)), 6),
                        round(hv(min(max(near, g.l), g.h)), 6),
                        round(hv(g.c), 6),
                        0,
                        0.0,
                        0,
                        g.nmin,
                    )

                return hv_row
            base = 0.5 * m.inst.volatility + 0.5 * math.sqrt(dpy * s29 / 29)
            if day.d == m.d0:
                base = m.inst.volatility * math.exp(2 * (math.log(price(m.live_idx)) - x_prev))

            def iv(i: int) -> float:
                return min(max(base * math.exp(-2 * (math.log(price(i)) - x_prev)), 0.03), 5.0)

            return lambda g: _Row(
                round(iv(g.o), 6),
                round(iv(g.l), 6),
                round(iv(g.h), 6),
                round(iv(g.c), 6),
                0,
                0.0,
                0,
                g.nmin,
            )
        if wts == "FEE_RATE":
            rates = self._fee_rates(m, day)
            sod = day.lay.sod

            def fee(g: _Agg) -> _Row:
                h0 = (sod + 60 * g.first) // 3600
                h1 = (sod + 60 * g.last) // 3600
                vals = [rates[h] for h in range(h0, h1 + 1)]
                return _Row(vals[0], max(vals), min(vals), vals[-1], 0, 0.0, 0, g.nmin)

            return fee
        raise ValueError(f"no bars of {wts!r}")

    def _quote_conv(self, m: _Model, day: _Day, wts: str) -> Callable[[int], float]:
        price = m.ladder.price
        a, b = day.a, day.b
        if wts == "BID":
            return lambda x: price(max(x - a, 1))
        if wts == "ASK":
            return lambda x: price(x + b)
        return lambda x: round((price(max(x - a, 1)) + price(x + b)) / 2, 10)

    def _bar(self, m: _Model, r: _Row, when: datetime | date, traded: bool) -> BarData:
        if traded:
            wap = r.wapn / r.lots if r.lots else r.c
            return BarData(when, r.o, r.h, r.l, r.c, m.lot * r.lots, self._dec(m, wap), r.cnt)
        return BarData(when, r.o, r.h, r.l, r.c, None, None, None)

    def _dec(self, m: _Model, x: float) -> Decimal:
        """A price (a WAP) as a Decimal, to two places below the tick's."""
        return _decimals([x], m.ladder.decimals + 2)[0]

    def _adjustment(self, m: _Model, d: date) -> float:
        """Dividend adjustment of ADJUSTED_LAST for day ``d``: one factor per later ex-date."""
        if not m.dividends:
            return 1.0
        later = len(m.dividends) - bisect_right(m.dividends, d)
        return float(m.div_factor**later)

    def _hv_state(self, m: _Model, d: date) -> tuple[float, float]:
        """(log close of the previous trading day, sum of the 29 squared daily returns
        before it)."""
        days = [self._prev_trading(m, d)]
        for _ in range(29):
            days.append(self._prev_trading(m, days[-1]))
        xs = [self._x_close(m, x) for x in days]
        s29 = sum((a - b) ** 2 for a, b in pairwise(xs))
        return xs[0], s29

    def _fee_rates(self, m: _Model, day: _Day) -> dict[int, float]:
        rng = self._rng(m, day.d, "fee")
        base = m.fee * math.exp(0.15 * rng.gauss(0.0, 1.0))
        lay = day.lay
        h0 = lay.sod // 3600
        h1 = (lay.sod + 60 * lay.n) // 3600
        return {h: round(base * (1 + 0.03 * rng.gauss(0.0, 1.0)), 4) for h in range(h0, h1 + 1)}


# -- helpers -----------------------------------------------------------------------------------


class _Dates:
    """Bar dates of a session's minutes in a zone (wall-clock arithmetic when the offset
    is constant over the session, else per-minute conversion), and the shift of the
    instrument zone's offset since the session start (bins follow local time over DST)."""

    __slots__ = ("base", "lay", "offset0", "steady", "steady_zone", "tz", "zone")

    def __init__(self, lay: _Layout, zone: ZoneInfo, tz: tzinfo) -> None:
        self.lay = lay
        self.tz = tz
        self.zone = zone
        end_t = lay.s + 60 * lay.n
        start = datetime.fromtimestamp(lay.s, tz)
        self.base = start
        self.steady = start.utcoffset() == datetime.fromtimestamp(end_t, tz).utcoffset()
        local0 = datetime.fromtimestamp(lay.s, zone).utcoffset()
        local1 = datetime.fromtimestamp(end_t, zone).utcoffset()
        self.steady_zone = local0 == local1
        self.offset0 = local0.total_seconds() if local0 is not None else 0.0

    def shift(self, i: int) -> int:
        """Seconds the instrument zone's offset moved since the session start (DST)."""
        if self.steady_zone:
            return 0
        off = datetime.fromtimestamp(self.lay.s + 60 * i, self.zone).utcoffset()
        return int((off.total_seconds() if off is not None else 0.0) - self.offset0)

    def at(self, i: int) -> datetime:
        if self.steady:
            return self.base + timedelta(minutes=i)
        return datetime.fromtimestamp(self.lay.s + 60 * i, self.tz)

    def all(self, i0: int, i1: int) -> list[datetime]:
        if self.steady and i1 <= len(_MINUTE_STEPS):
            base = self.base
            return [base + step for step in _MINUTE_STEPS[i0:i1]]
        s, tz = self.lay.s, self.tz
        return [datetime.fromtimestamp(s + 60 * i, tz) for i in range(i0, i1)]

    def at_second(self, i: int, s: int) -> datetime:
        if self.steady:
            return self.base + timedelta(seconds=60 * i + s)
        return datetime.fromtimestamp(self.lay.s + 60 * i + s, self.tz)


_POW10: Final = [Decimal(1).scaleb(-k) for k in range(16)]


def _decimals(values: list[float], places: int) -> list[Decimal]:
    """Prices as Decimals rounded to ``places`` decimals (positive prices: half up)."""
    q = _POW10[places]
    scale = 10**places
    return [Decimal(k) * q for k in [int(x * scale + 0.5) for x in values]]


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while a request builds its (acyclic) records: a
    year of minute bars is hundreds of thousands of objects, and collections triggered by
    their allocation would double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _combine(rows: list[_Row], wts: str) -> _Row:
    """Rows of consecutive days as one (weekly and monthly bars)."""
    first, last = rows[0], rows[-1]
    if wts == "BID_ASK":
        weight = sum(r.weight for r in rows) or 1
        o = sum(r.o * r.weight for r in rows) / weight
        c = sum(r.c * r.weight for r in rows) / weight
    else:
        o, c = first.o, last.c
    return _Row(
        o,
        max(r.h for r in rows),
        min(r.l for r in rows),
        c,
        sum(r.lots for r in rows),
        sum(r.wapn for r in rows),
        sum(r.cnt for r in rows),
        sum(r.weight for r in rows),
    )


def _fill(
    rnd: Callable[[], float],
    v: list[int],
    hi: list[int],
    lo: list[int],
    i0: int,
    i1: int,
    v0: int,
    v1: int,
    top_t: int,
    bot_t: int,
    prof: _Profile,
    scale: float,
) -> None:
    """A bridge from v0 to v1 over steps [i0, i1) that reaches exactly top_t and bot_t and
    stays within them; ``v`` gets the closes, ``hi``/``lo`` each step's extremes."""
    m = i1 - i0
    v[i0] = v0
    if m == 1:
        v[i1] = v1
        hi[i0] = top_t
        lo[i0] = bot_t
        return
    sdu = prof.sdu[i0:i1]
    steps = [s * (rnd() - rnd()) for s in sdu]
    cum = list(accumulate(steps))
    cv = prof.cv
    base = cv[i0]
    span = cv[i1] - base
    kd = (cum[-1] - (v1 - v0) / scale) / span
    xs = [v0 + scale * (c - (w - base) * kd) for c, w in zip(cum, cv[i0 + 1 : i1 + 1], strict=True)]
    top = v0 if v0 > v1 else v1
    bot = v0 if v0 < v1 else v1
    xmax = max(xs)
    xmin = min(xs)
    if xmax > top:
        k = (top_t - top) / (xmax - top)
        xs = [top + (x - top) * k if x > top else x for x in xs]
    if xmin < bot:
        k = (bot - bot_t) / (bot - xmin)
        xs = [bot - (bot - x) * k if x < bot else x for x in xs]
    # the stretch keeps every value within [bot_t, top_t] (all positive): round half up
    vs = [int(x + 0.5) for x in xs]
    vs[-1] = v1
    v[i0 + 1 : i1 + 1] = vs
    opens = v[i0:i1]
    wick = scale * 1.2
    hs = [
        x if (x := (o if o > c else c) + int(wick * s * rnd())) < top_t else top_t
        for o, c, s in zip(opens, vs, sdu, strict=True)
    ]
    ls = [
        x if (x := (o if o < c else c) - int(wick * s * rnd())) > bot_t else bot_t
        for o, c, s in zip(opens, vs, sdu, strict=True)
    ]
    if max(hs) < top_t:
        j = max(range(m), key=lambda k: max(opens[k], vs[k]))
        hs[j] = top_t
    if min(ls) > bot_t:
        j = min(range(m), key=lambda k: min(opens[k], vs[k]))
        ls[j] = bot_t
    hi[i0:i1] = hs
    lo[i0:i1] = ls


def _waps(rnd: Callable[[], float], v: list[int], hi: list[int], lo: list[int]) -> list[float]:
    """Per-minute WAPs (fractional ticks): the typical price plus noise, within the range
    (the typical price is at least a quarter of the range from either end)."""
    return [
        (o + c + h + lw) * 0.25 + (rnd() - 0.5) * (h - lw) * 0.3
        for o, c, h, lw in zip(v, v[1:], hi, lo, strict=False)
    ]


def _spread_volume(
    rnd: Callable[[], float], w: list[float], lots: list[int], cnt: list[int], seg: _Seg
) -> None:
    """Distribute a segment's lots and trades over its minutes (at least 5 lots and 4
    trades a minute; totals exact)."""
    i0, i1 = seg.i0, seg.i1
    m = i1 - i0
    extra = seg.lots - 5 * m
    extra_c = seg.trades - 4 * m
    noisy = [x * (0.4 + 1.2 * rnd()) for x in w[i0:i1]]
    k = extra / (sum(noisy) or 1.0)
    alloc = [5 + int(x * k) for x in noisy]
    rest = seg.lots - sum(alloc)  # 0 <= rest < m
    if rest:
        step = m / rest
        for j in range(rest):
            alloc[int(j * step)] += 1
    kc = extra_c / extra if extra else 0.0
    calloc = [4 + int((x - 5) * kc) for x in alloc]
    rest = seg.trades - sum(calloc)  # 0 <= rest < m, and every minute has room for one
    if rest:
        step = m / rest
        for j in range(rest):
            calloc[int(j * step)] += 1
    lots[i0:i1] = alloc
    cnt[i0:i1] = calloc


def _bs(opt: _Option, spot: float, years: float) -> float:
    m = math.log(opt.strike / spot) if spot > 0 else 0.0
    vol = opt.vol * min(max(1.0 - 0.25 * m + 0.8 * m * m, 0.5), 3.0)
    return bs_greeks(spot, opt.strike, years, vol, opt.right, carry=opt.carry).price


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).timestamp()


def _month_days(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _session_hours(tpl: _Template) -> float:
    start = tpl.start.hour + tpl.start.minute / 60 + 24 * tpl.start_offset
    end = tpl.end.hour + tpl.end.minute / 60 + 24 * tpl.end_offset
    return max(end - start, 0.0)


def _last_trade(inst: Instrument) -> tuple[date | None, time | None]:
    c = inst.contract
    if c.sec_type not in ("FUT", "OPT", "FOP"):
        return None, None
    text = c.last_trade_date_or_contract_month[:8]
    if len(text) != 8:
        return None, None
    ltt = inst.details.last_trade_time
    when = None
    if ltt:
        parts = ltt.split(":")
        when = time(int(parts[0]), int(parts[1]))
    return _ymd(text), when


def _lot(inst: Instrument) -> Decimal:
    d = inst.details
    sec_type = d.contract.sec_type
    if sec_type == "STK":
        return Decimal(100) if d.suggested_size_increment == 100 else Decimal(1)
    if sec_type == "CASH":
        return Decimal(100_000)
    if sec_type == "CRYPTO":
        return d.min_size or Decimal("0.0001")
    return Decimal(1)
