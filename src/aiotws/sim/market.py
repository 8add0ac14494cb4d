"""The simulator's market engine: a deterministic, seeded price process per instrument.

:class:`Market` turns a :class:`~aiotws.sim.universe.Universe` into live-looking market data
the way TWS reports it: top-of-book ticks (:meth:`Market.step`, :meth:`Market.initial_ticks`),
option computations, tick-by-tick records and depth-of-book operations. Pure logic: no
asyncio, no sockets, no wire types, and no clock: every call that moves time takes ``now``
(a ``datetime``; naive means UTC). The simulator's async layer drives it.

The process, per instrument (created lazily on first use of its conId):

* a geometric random walk of a latent mid price, with the instrument's annualised volatility
  scaled to one step of ``interval`` seconds of *trading* time (a year of 252 × 6.5 h); the
  quote is snapped onto the instrument's price ladder (its first market rule, via
  :func:`~aiotws.sim.universe.increment_at`): bid rounded down, ask up, 1–3 ticks apart
  (forex 1–2 pips; options about 1.5 % of the price);
* sizes as ``Decimal`` in the instrument's lot (US stocks: round lots of 100 shares, forex
  100,000 units, crypto fractional in 0.0001), trades at the bid or the ask, cumulative
  volume, VWAP, day open/high/low, previous close (the universe's reference price);
* options (OPT, FOP) priced by generalised Black-Scholes (Black-76 for FOP) on the
  underlying's current midpoint (an index's last), implied volatility = the instrument's
  volatility with a small skew/smile, analytic greeks (:func:`bs_greeks`);
* indices have no quote (bid/ask −1) and no volume: their last follows the walk; forex and
  CFDs have quotes but no trades (no last, no volume), as on IDEALPRO.

Determinism: each instrument draws from its own ``random.Random`` seeded by
``(seed, conId)``, so the same seed and the same sequence of calls give identical outputs,
and an instrument's stream does not depend on which other instruments are stepped (except
that options read their underlying's current price).

Reporting is by difference: :meth:`Market.step` advances the instrument and reports every
field that differs from what the previous ``step`` reported, so nothing is lost when the
instrument was also advanced implicitly (an option's step advances its underlying once per
distinct ``now``; so does a depth step given ``now``).

:meth:`Market.step` returns the superset of ticks for the instrument (RT_VOLUME, mark price,
trade count included); :func:`select_ticks` keeps those one subscription's generic tick list
enables; :func:`to_delayed` maps live tick types to the delayed ones (66–76, 88, 90, 80–83).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Final, Literal, NamedTuple, TypeAlias

from aiotws.model.contract import PriceIncrement
from aiotws.sim.universe import MARKET_RULES, Instrument, Universe, increment_at

__all__ = [
    "GENERIC_TICKS",
    "RATE",
    "DepthBook",
    "DepthOp",
    "DepthRow",
    "GenericTick",
    "Greeks",
    "Market",
    "OptionTick",
    "PriceTick",
    "Quote",
    "SizeTick",
    "StringTick",
    "TickByTick",
    "TickByTickAllLast",
    "TickByTickBidAsk",
    "TickByTickMidPoint",
    "TickEvent",
    "apply_ops",
    "bs_greeks",
    "implied_vol",
    "select_ticks",
    "to_delayed",
]

# -- tick types (TWS ids, official ticktype.py names) ------------------------------------------

BID_SIZE: Final = 0
BID: Final = 1
ASK: Final = 2
ASK_SIZE: Final = 3
LAST: Final = 4
LAST_SIZE: Final = 5
HIGH: Final = 6
LOW: Final = 7
VOLUME: Final = 8
CLOSE: Final = 9
BID_OPTION_COMPUTATION: Final = 10
ASK_OPTION_COMPUTATION: Final = 11
LAST_OPTION_COMPUTATION: Final = 12
MODEL_OPTION: Final = 13
OPEN: Final = 14
LOW_13_WEEK: Final = 15
HIGH_13_WEEK: Final = 16
LOW_26_WEEK: Final = 17
HIGH_26_WEEK: Final = 18
LOW_52_WEEK: Final = 19
HIGH_52_WEEK: Final = 20
AVG_VOLUME: Final = 21
OPTION_HISTORICAL_VOL: Final = 23
OPTION_IMPLIED_VOL: Final = 24
OPTION_CALL_OPEN_INTEREST: Final = 27
OPTION_PUT_OPEN_INTEREST: Final = 28
OPTION_CALL_VOLUME: Final = 29
OPTION_PUT_VOLUME: Final = 30
MARK_PRICE: Final = 37
LAST_TIMESTAMP: Final = 45
SHORTABLE: Final = 46
RT_VOLUME: Final = 48
HALTED: Final = 49
TRADE_COUNT: Final = 54
RT_HISTORICAL_VOL: Final = 58
IB_DIVIDENDS: Final = 59
DELAYED_BID: Final = 66
DELAYED_ASK: Final = 67
DELAYED_LAST: Final = 68
DELAYED_BID_SIZE: Final = 69
DELAYED_ASK_SIZE: Final = 70
DELAYED_LAST_SIZE: Final = 71
DELAYED_HIGH: Final = 72
DELAYED_LOW: Final = 73
DELAYED_VOLUME: Final = 74
DELAYED_CLOSE: Final = 75
DELAYED_OPEN: Final = 76
DELAYED_BID_OPTION: Final = 80
DELAYED_ASK_OPTION: Final = 81
DELAYED_LAST_OPTION: Final = 82
DELAYED_MODEL_OPTION: Final = 83
DELAYED_LAST_TIMESTAMP: Final = 88
SHORTABLE_SHARES: Final = 89
DELAYED_HALTED: Final = 90

#: Generic tick ids (REQ_MKT_DATA ``genericTickList``) → the tick types they enable.
#: Tick types not listed in any entry are sent by default.
GENERIC_TICKS: Final[dict[int, frozenset[int]]] = {
    100: frozenset({OPTION_CALL_VOLUME, OPTION_PUT_VOLUME}),
    101: frozenset({OPTION_CALL_OPEN_INTEREST, OPTION_PUT_OPEN_INTEREST}),
    104: frozenset({OPTION_HISTORICAL_VOL}),
    106: frozenset({OPTION_IMPLIED_VOL}),
    165: frozenset(range(LOW_13_WEEK, AVG_VOLUME + 1)),
    221: frozenset({MARK_PRICE}),  # IB's generic tick table
    232: frozenset({MARK_PRICE}),  # PROTOCOL.md §7.2
    233: frozenset({RT_VOLUME}),
    236: frozenset({SHORTABLE, SHORTABLE_SHARES}),
    293: frozenset({TRADE_COUNT}),
    411: frozenset({RT_HISTORICAL_VOL}),
    456: frozenset({IB_DIVIDENDS}),
}
_GATED: Final[dict[int, frozenset[int]]] = {}
for _generic, _types in GENERIC_TICKS.items():
    for _t in _types:
        _GATED[_t] = _GATED.get(_t, frozenset()) | {_generic}

#: Live tick type → its delayed counterpart (REQ_MARKET_DATA_TYPE 3/4).
_DELAYED: Final[dict[int, int]] = {
    BID: DELAYED_BID,
    ASK: DELAYED_ASK,
    LAST: DELAYED_LAST,
    BID_SIZE: DELAYED_BID_SIZE,
    ASK_SIZE: DELAYED_ASK_SIZE,
    LAST_SIZE: DELAYED_LAST_SIZE,
    HIGH: DELAYED_HIGH,
    LOW: DELAYED_LOW,
    VOLUME: DELAYED_VOLUME,
    CLOSE: DELAYED_CLOSE,
    OPEN: DELAYED_OPEN,
    BID_OPTION_COMPUTATION: DELAYED_BID_OPTION,
    ASK_OPTION_COMPUTATION: DELAYED_ASK_OPTION,
    LAST_OPTION_COMPUTATION: DELAYED_LAST_OPTION,
    MODEL_OPTION: DELAYED_MODEL_OPTION,
    LAST_TIMESTAMP: DELAYED_LAST_TIMESTAMP,
    HALTED: DELAYED_HALTED,
}

#: TICK_PRICE attrib mask bit 0: canAutoExecute (set on live bid/ask).
CAN_AUTO_EXECUTE: Final = 1
#: Option computation ``tickAttrib``: 0 return-based (the model), 1 price-based.
RETURN_BASED: Final = 0
PRICE_BASED: Final = 1
#: "not computed" sentinels of TICK_OPTION_COMPUTATION (PROTOCOL.md §3.2).
NOT_COMPUTED_VOL: Final = -1.0
NOT_COMPUTED_GREEK: Final = -2.0

#: Depth operations and sides (MARKET_DEPTH / MARKET_DEPTH_L2).
INSERT: Final = 0
UPDATE: Final = 1
DELETE: Final = 2
ASK_SIDE: Final = 0
BID_SIDE: Final = 1

#: The risk-free rate the option model uses (the universe's reference prices use the same).
RATE: Final = 0.04

_TRADING_YEAR_SECONDS: Final = 252 * 6.5 * 3600
_YEAR_SECONDS: Final = 365 * 86400
_MIN_YEARS: Final = 1 / (365 * 24)  # an hour: options never reach zero time
_SQRT_2PI: Final = math.sqrt(2 * math.pi)
_ZERO: Final = Decimal(0)
_SMART_EXCHANGES: Final = ("NASDAQ", "ARCA", "NYSE", "BATS", "IEX", "EDGX", "MEMX", "BYX")

# -- records ------------------------------------------------------------------------------------
# Tick and tick-by-tick records are shared by every subscriber of an instrument: treat them as
# immutable (they are not frozen only because frozen construction is 3x slower).


@dataclass(slots=True)
class PriceTick:
    """TICK_PRICE: ``price`` −1 means no quote."""

    tick_type: int
    price: float
    size: Decimal
    attr_mask: int


@dataclass(slots=True)
class SizeTick:
    """TICK_SIZE."""

    tick_type: int
    size: Decimal


@dataclass(slots=True)
class StringTick:
    """TICK_STRING (LAST_TIMESTAMP epoch seconds, RT_VOLUME, IB_DIVIDENDS …)."""

    tick_type: int
    value: str


@dataclass(slots=True)
class GenericTick:
    """TICK_GENERIC (HALTED, SHORTABLE, volatilities …)."""

    tick_type: int
    value: float


@dataclass(slots=True)
class OptionTick:
    """TICK_OPTION_COMPUTATION; vega per vol point, theta per calendar day."""

    tick_type: int
    tick_attrib: int
    implied_vol: float
    delta: float
    opt_price: float
    pv_dividend: float
    gamma: float
    vega: float
    theta: float
    und_price: float


TickEvent: TypeAlias = PriceTick | SizeTick | StringTick | GenericTick | OptionTick


@dataclass(slots=True)
class TickByTickAllLast:
    """A TICK_BY_TICK Last / AllLast record (mask bit0 pastLimit, bit1 unreported)."""

    time: int
    price: float
    size: Decimal
    mask: int
    exchange: str
    special_conditions: str


@dataclass(slots=True)
class TickByTickBidAsk:
    """A TICK_BY_TICK BidAsk record (mask bit0 bidPastLow, bit1 askPastHigh)."""

    time: int
    bid: float
    ask: float
    bid_size: Decimal
    ask_size: Decimal
    mask: int


@dataclass(slots=True)
class TickByTickMidPoint:
    """A TICK_BY_TICK MidPoint record."""

    time: int
    mid_point: float


TickByTick: TypeAlias = TickByTickAllLast | TickByTickBidAsk | TickByTickMidPoint
TickByTickKind: TypeAlias = Literal["Last", "AllLast", "BidAsk", "MidPoint"]


@dataclass(slots=True, frozen=True)
class Quote:
    """An instrument's current market state. Prices −1 / sizes 0 where there is none
    (an index's bid/ask, a forex pair's last); ``last_time`` epoch seconds, 0 if no trade."""

    con_id: int
    bid: float
    ask: float
    bid_size: Decimal
    ask_size: Decimal
    last: float
    last_size: Decimal
    last_time: int
    high: float
    low: float
    open: float
    close: float
    volume: Decimal
    vwap: float
    mark: float
    trade_count: int
    halted: bool
    model: OptionTick | None

    @property
    def midpoint(self) -> float:
        """(bid + ask) / 2, or the last price where there is no quote."""
        if self.bid <= 0 or self.ask <= 0:
            return self.last
        return round((self.bid + self.ask) / 2, 10)


@dataclass(slots=True, frozen=True)
class DepthRow:
    """One row of a book side."""

    price: float
    size: Decimal
    market_maker: str


@dataclass(slots=True, frozen=True)
class DepthOp:
    """One MARKET_DEPTH(_L2) operation: ``operation`` 0 insert / 1 update / 2 delete,
    ``side`` 0 ask / 1 bid, ``position`` in the client's side list as it is when applied."""

    position: int
    operation: int
    side: int
    price: float
    size: Decimal
    market_maker: str


class Greeks(NamedTuple):
    """A Black-Scholes valuation: vega per vol point (0.01), theta per calendar day."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


# -- option model ------------------------------------------------------------------------------


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def bs_greeks(
    spot: float,
    strike: float,
    years: float,
    vol: float,
    right: str,
    *,
    rate: float = RATE,
    carry: float = RATE,
) -> Greeks:
    """Generalised Black-Scholes price and analytic greeks of a European option.

    ``carry`` is the cost of carry b: ``rate`` for a non-dividend stock or index (plain
    Black-Scholes), 0 for an option on a future (Black-76). ``right`` "C" or "P".
    """
    years = max(years, _MIN_YEARS)
    vol = max(vol, 1e-4)
    sq = math.sqrt(years)
    sd = vol * sq
    d1 = (math.log(spot / strike) + (carry + vol * vol / 2) * years) / sd
    d2 = d1 - sd
    df = math.exp(-rate * years)
    cf = math.exp((carry - rate) * years)
    pdf = math.exp(-d1 * d1 / 2) / _SQRT_2PI
    decay = -spot * cf * pdf * vol / (2 * sq)
    if right == "C":
        nd1, nd2 = _ncdf(d1), _ncdf(d2)
        price = spot * cf * nd1 - strike * df * nd2
        delta = cf * nd1
        theta = decay - (carry - rate) * spot * cf * nd1 - rate * strike * df * nd2
    else:
        nd1, nd2 = _ncdf(-d1), _ncdf(-d2)
        price = strike * df * nd2 - spot * cf * nd1
        delta = -cf * nd1
        theta = decay + (carry - rate) * spot * cf * nd1 + rate * strike * df * nd2
    gamma = cf * pdf / (spot * sd)
    vega = spot * cf * pdf * sq
    return Greeks(max(price, 0.0), delta, gamma, vega / 100, theta / 365)


def implied_vol(
    price: float,
    spot: float,
    strike: float,
    years: float,
    right: str,
    *,
    rate: float = RATE,
    carry: float = RATE,
    guess: float = 0.3,
) -> float | None:
    """The volatility at which :func:`bs_greeks` gives ``price``; ``None`` when the price is
    outside the no-arbitrage bounds (at or below intrinsic value, or above the maximum)."""
    solved = _implied(price, spot, strike, years, right, rate, carry, guess)
    return None if solved is None else solved[0]


def _implied(
    price: float,
    spot: float,
    strike: float,
    years: float,
    right: str,
    rate: float,
    carry: float,
    guess: float,
) -> tuple[float, Greeks] | None:
    """Safeguarded Newton for the implied volatility; with the greeks at it."""
    years = max(years, _MIN_YEARS)
    df = math.exp(-rate * years)
    fwd = spot * math.exp((carry - rate) * years)
    call = right == "C"
    if call:
        lower, upper = max(fwd - strike * df, 0.0), fwd
    else:
        lower, upper = max(strike * df - fwd, 0.0), strike * df
    if not lower + 1e-9 < price < upper:
        return None
    lo, hi = 1e-4, 8.0
    v = min(max(guess, lo), hi)
    sq = math.sqrt(years)
    log_m = math.log(spot / strike)
    tol = 1e-8 * max(price, 0.01)
    for _ in range(50):
        # price and vega only (the hot path); the formulas of bs_greeks
        sd = v * sq
        d1 = (log_m + (carry + v * v / 2) * years) / sd
        d2 = d1 - sd
        nd1 = _ncdf(d1 if call else -d1)
        nd2 = _ncdf(d2 if call else -d2)
        value = fwd * nd1 - strike * df * nd2 if call else strike * df * nd2 - fwd * nd1
        diff = value - price
        pdf = math.exp(-d1 * d1 / 2) / _SQRT_2PI
        if abs(diff) < tol:
            decay = -fwd * pdf * v / (2 * sq)
            if call:
                delta = fwd / spot * nd1
                theta = decay - (carry - rate) * fwd * nd1 - rate * strike * df * nd2
            else:
                delta = -fwd / spot * nd1
                theta = decay + (carry - rate) * fwd * nd1 + rate * strike * df * nd2
            gamma = fwd / spot * pdf / (spot * sd)
            return v, Greeks(value, delta, gamma, fwd * pdf * sq / 100, theta / 365)
        if diff > 0:
            hi = v
        else:
            lo = v
        vega = fwd * pdf * sq
        nxt = v - diff / vega if vega > 1e-12 else (lo + hi) / 2
        v = nxt if lo < nxt < hi else (lo + hi) / 2
    return v, bs_greeks(spot, strike, years, v, right, rate=rate, carry=carry)


# -- helpers -----------------------------------------------------------------------------------


def _epoch(now: datetime) -> float:
    return (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).timestamp()


def _decimals(rule: Sequence[PriceIncrement]) -> int:
    out = 0
    for rung in rule:
        text = f"{rung.increment:.10f}".rstrip("0")
        out = max(out, len(text.split(".")[1]) if "." in text else 0)
    return out


def select_ticks(events: Iterable[TickEvent], generic_ticks: Collection[int]) -> list[TickEvent]:
    """The events one subscription gets: default tick types, plus the gated ones (RT_VOLUME,
    mark price …) only if a generic tick in ``generic_ticks`` enables them."""
    out = []
    for e in events:
        gate = _GATED.get(e.tick_type)
        if gate is None or not gate.isdisjoint(generic_ticks):
            out.append(e)
    return out


def to_delayed(events: Iterable[TickEvent]) -> list[TickEvent]:
    """The same events with delayed tick types (66–76, 80–83, 88, 90); others unchanged."""
    out: list[TickEvent] = []
    for e in events:
        t = _DELAYED.get(e.tick_type)
        if t is None:
            out.append(e)
        elif isinstance(e, PriceTick):
            out.append(PriceTick(t, e.price, e.size, e.attr_mask))
        elif isinstance(e, SizeTick):
            out.append(SizeTick(t, e.size))
        elif isinstance(e, StringTick):
            out.append(StringTick(t, e.value))
        elif isinstance(e, GenericTick):
            out.append(GenericTick(t, e.value))
        else:
            out.append(
                OptionTick(
                    t,
                    e.tick_attrib,
                    e.implied_vol,
                    e.delta,
                    e.opt_price,
                    e.pv_dividend,
                    e.gamma,
                    e.vega,
                    e.theta,
                    e.und_price,
                )
            )
    return out


def apply_ops(book: Sequence[list[DepthRow]], ops: Iterable[DepthOp]) -> None:
    """Apply depth operations the way a client does (``book[side]`` is that side's rows):
    insert at position, update at position, delete at position."""
    for op in ops:
        rows = book[op.side]
        row = DepthRow(op.price, op.size, op.market_maker)
        if op.operation == INSERT:
            rows.insert(op.position, row)
        elif op.operation == UPDATE:
            rows[op.position] = row
        elif op.operation == DELETE:
            del rows[op.position]
        else:
            raise ValueError(f"unknown depth operation {op.operation}")


# -- per-instrument state ----------------------------------------------------------------------


class _Kind(NamedTuple):
    quote_lots: int  # displayed size: 1..quote_lots lots
    trade_lots: int  # trade size: 1..trade_lots lots
    spread: tuple[int, int]  # spread in ticks (before snapping: snapped spread is n or n+1)
    p_trade: float  # chance of a trade per step
    day_volume: int  # lots traded by the time the instrument is first seen (upper bound)
    quoted: bool  # has bid/ask
    traded: bool  # has trades (last, volume)


_KINDS: Final[dict[str, _Kind]] = {
    "STK": _Kind(30, 8, (1, 2), 0.4, 300_000, True, True),
    "FUT": _Kind(60, 10, (1, 2), 0.5, 1_000_000, True, True),
    "OPT": _Kind(200, 20, (1, 2), 0.05, 20_000, True, True),
    "FOP": _Kind(100, 10, (1, 2), 0.05, 10_000, True, True),
    "CASH": _Kind(100, 10, (2, 3), 0.0, 0, True, False),  # pips are 2 ticks
    "CRYPTO": _Kind(20_000, 3_000, (1, 2), 0.3, 5_000_000, True, True),
    "CFD": _Kind(50, 5, (1, 2), 0.0, 0, True, False),
    "BOND": _Kind(500, 50, (1, 2), 0.02, 20_000, True, True),
    "IND": _Kind(0, 0, (0, 0), 0.0, 0, False, False),
}
_HALTABLE: Final = frozenset({"STK", "OPT", "FUT", "FOP"})


class _Trade(NamedTuple):
    price: float
    size: Decimal
    time_ms: int
    volume: Decimal
    vwap: float


class _State:
    __slots__ = (
        "advanced_at",
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "carry",
        "clock",
        "close",
        "con_id",
        "decimals",
        "expiry",
        "halted",
        "high",
        "implicit",
        "inc",
        "index",
        "inst",
        "iv",
        "kind",
        "last",
        "last_size",
        "last_time",
        "lot",
        "low",
        "mid",
        "min_inc",
        "model",
        "open",
        "out_bidask",
        "out_last",
        "out_mid",
        "pending",
        "r_ask",
        "r_ask_size",
        "r_bid",
        "r_bid_size",
        "r_count",
        "r_high",
        "r_last",
        "r_last_time",
        "r_low",
        "r_mark",
        "r_model",
        "r_volume",
        "right",
        "rng",
        "rule",
        "sec_type",
        "serial",
        "sig",
        "smart",
        "spread_n",
        "strike",
        "tbt_bidask",
        "tbt_last",
        "tbt_mid",
        "trade_count",
        "und",
        "val_clock",
        "val_spot",
        "volume",
        "vwap_num",
    )

    inst: Instrument
    con_id: int
    sec_type: str
    kind: _Kind
    rng: random.Random
    rule: tuple[PriceIncrement, ...]
    inc: float  # the single increment, or 0.0 for a multi-rung ladder
    min_inc: float
    decimals: int
    lot: Decimal
    sig: float
    smart: bool
    index: bool
    und: _State | None
    val_spot: float  # the underlying price and time of the latest option valuation
    val_clock: float
    strike: float
    right: str
    expiry: float
    carry: float
    iv: float
    clock: float
    mid: float
    bid: float
    ask: float
    bid_size: Decimal
    ask_size: Decimal
    spread_n: int
    last: float
    last_size: Decimal
    last_time: int
    high: float
    low: float
    open: float
    close: float
    volume: Decimal
    vwap_num: float
    trade_count: int
    halted: bool
    model: OptionTick | None
    advanced_at: float | None
    implicit: bool
    serial: int
    pending: list[_Trade]
    tbt_last: list[TickByTickAllLast]
    tbt_bidask: list[TickByTickBidAsk]
    tbt_mid: list[TickByTickMidPoint]
    out_last: list[TickByTickAllLast]
    out_bidask: list[TickByTickBidAsk]
    out_mid: list[TickByTickMidPoint]
    r_bid: float
    r_ask: float
    r_bid_size: Decimal
    r_ask_size: Decimal
    r_last: float
    r_last_time: int
    r_volume: Decimal
    r_high: float
    r_low: float
    r_mark: float
    r_model: tuple[float, float]
    r_count: int

    # -- the ladder ----------------------------------------------------------------------------

    def inc_at(self, x: float) -> float:
        return self.inc or increment_at(self.rule, x)

    def down(self, x: float) -> float:
        inc = self.inc_at(x)
        return round(math.floor(x / inc + 1e-7) * inc, 10)

    def up(self, x: float) -> float:
        inc = self.inc_at(x)
        return round(math.ceil(x / inc - 1e-7) * inc, 10)

    def near(self, x: float) -> float:
        inc = self.inc_at(x)
        return max(round(round(x / inc) * inc, 10), self.min_inc)

    def tick_up(self, p: float) -> float:
        return round(p + self.inc_at(p), 10)

    def tick_down(self, p: float) -> float:
        return round(p - self.inc_at(p - self.min_inc / 2), 10)

    def fmt(self, p: float) -> str:
        return f"{p:.{self.decimals}f}"

    # -- derived values ------------------------------------------------------------------------

    @property
    def vwap(self) -> float:
        return self.vwap_num / float(self.volume) if self.volume else 0.0

    @property
    def mark(self) -> float:
        if not self.kind.quoted:
            return self.last
        if self.kind.traded and self.last > 0:
            return min(max(self.last, self.bid), self.ask)
        return round((self.bid + self.ask) / 2, 10)

    def spot(self) -> float:
        """The price an option on this instrument is valued from."""
        if not self.kind.quoted:
            return self.last
        return round((self.bid + self.ask) / 2, 10)

    def draw_size(self) -> Decimal:
        return self.lot * self.rng.randint(1, self.kind.quote_lots)

    def years(self) -> float:
        return max((self.expiry - self.clock) / _YEAR_SECONDS, _MIN_YEARS)

    def smile(self, spot: float) -> float:
        m = math.log(self.strike / spot)
        return self.inst.volatility * min(max(1.0 - 0.25 * m + 0.8 * m * m, 0.5), 3.0)


# -- the market --------------------------------------------------------------------------------


class DepthBook:
    """One instrument's book: up to ``levels`` rows a side (asks ascending, bids descending),
    around the current quote. ``prev_*``: the sides before the latest advance."""

    __slots__ = ("advanced_at", "asks", "bids", "levels", "prev_asks", "prev_bids", "rng")

    def __init__(self, levels: int, rng: random.Random) -> None:
        self.levels = levels
        self.rng = rng
        self.asks: list[DepthRow] = []
        self.bids: list[DepthRow] = []
        self.prev_asks: list[DepthRow] = []
        self.prev_bids: list[DepthRow] = []
        self.advanced_at: float | None = None

    def rows(self, rows: int) -> tuple[list[DepthRow], list[DepthRow]]:
        """The top ``rows`` rows of each side (copies): (asks, bids)."""
        return self.asks[:rows], self.bids[:rows]


def _diff_side(side: int, old: list[DepthRow], new: list[DepthRow]) -> list[DepthOp]:
    """Operations turning ``old`` into ``new`` (both sorted the same way, unique prices)."""
    ops: list[DepthOp] = []
    cur = list(old)
    keep = {r.price for r in new}
    i = 0
    while i < len(cur):
        row = cur[i]
        if row.price in keep:
            i += 1
            continue
        ops.append(DepthOp(i, DELETE, side, row.price, row.size, row.market_maker))
        del cur[i]
    for i, row in enumerate(new):
        if i < len(cur) and cur[i].price == row.price:
            if cur[i] != row:
                ops.append(DepthOp(i, UPDATE, side, row.price, row.size, row.market_maker))
                cur[i] = row
        else:
            ops.append(DepthOp(i, INSERT, side, row.price, row.size, row.market_maker))
            cur.insert(i, row)
    while len(cur) > len(new):  # defensive: never happens for well-ordered sides
        row = cur.pop()
        ops.append(DepthOp(len(cur), DELETE, side, row.price, row.size, row.market_maker))
    return ops


class Market:
    """Deterministic simulated market data over a :class:`Universe`.

    ``interval``: the virtual time one :meth:`step` stands for (seconds; scales the random
    walk). Instruments are created lazily on first use of their conId; an unknown conId
    raises ``KeyError``.
    """

    def __init__(
        self,
        universe: Universe,
        seed: int = 0,
        *,
        interval: float = 0.25,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.universe = universe
        self.seed = seed
        self.interval = interval
        self._step_sd = math.sqrt(interval / _TRADING_YEAR_SECONDS)
        self._states: dict[int, _State] = {}
        self._books: dict[int, DepthBook] = {}
        #: the epoch time an instrument first used without a ``now`` starts at: ``clock()``
        #: (the simulator passes the wall clock its ticks are stamped with), else 09:30 New
        #: York time on the universe's day (a fixed time: reproducible tests of the engine)
        self._default_clock = datetime.combine(universe.today, time(14, 30), UTC).timestamp()
        self._clock = clock

    def __repr__(self) -> str:
        return f"Market(seed={self.seed}, interval={self.interval}, {len(self._states)} live)"

    # -- public API ----------------------------------------------------------------------------

    def quote(self, con_id: int) -> Quote:
        """The current state of an instrument."""
        st = self._state(con_id, None)
        quoted, traded = st.kind.quoted, st.kind.traded
        return Quote(
            con_id=con_id,
            bid=st.bid if quoted else -1.0,
            ask=st.ask if quoted else -1.0,
            bid_size=st.bid_size,
            ask_size=st.ask_size,
            last=st.last if traded or st.index else -1.0,
            last_size=st.last_size,
            last_time=st.last_time,
            high=st.high,
            low=st.low,
            open=st.open,
            close=st.close,
            volume=st.volume,
            vwap=st.vwap,
            mark=st.mark,
            trade_count=st.trade_count,
            halted=st.halted,
            model=st.model,
        )

    def step(self, con_id: int, now: datetime) -> list[TickEvent]:
        """Advance an instrument by one update at ``now``; the ticks TWS would send for what
        changed since the previous ``step`` (gated types included: see :func:`select_ticks`).

        An option's step first advances its underlying, once per distinct ``now``; a later
        ``step`` of that underlying at the same ``now`` reports that update instead of
        making another.
        """
        st = self._state(con_id, now)
        t = _epoch(now)
        if st.implicit and st.advanced_at == t:
            st.implicit = False
        else:
            self._advance(st, t)
            st.implicit = False
        st.serial += 1
        return self._report(st)

    def serial(self, con_id: int) -> int:
        """How many times :meth:`step` has reported on ``con_id`` (0 before the first)."""
        return self._state(con_id, None).serial

    def initial_ticks(
        self, con_id: int, generic_ticks: Collection[int], now: datetime
    ) -> list[TickEvent]:
        """The burst TWS sends after REQ_MKT_DATA: quote, last, high/low/volume/close/open,
        last timestamp, halted status, option computations, and the extras of the requested
        generic ticks. Reads state only (a first use creates the instrument at ``now``)."""
        st = self._state(con_id, now)
        kind = st.kind
        z = _ZERO
        ev: list[TickEvent] = []
        if kind.quoted:
            ev += [
                PriceTick(BID, st.bid, st.bid_size, CAN_AUTO_EXECUTE),
                SizeTick(BID_SIZE, st.bid_size),
                PriceTick(ASK, st.ask, st.ask_size, CAN_AUTO_EXECUTE),
                SizeTick(ASK_SIZE, st.ask_size),
            ]
        else:
            ev += [PriceTick(BID, -1.0, z, 0), PriceTick(ASK, -1.0, z, 0)]
        if kind.traded:
            ev += [PriceTick(LAST, st.last, st.last_size, 0), SizeTick(LAST_SIZE, st.last_size)]
        elif st.index:
            ev.append(PriceTick(LAST, st.last, z, 0))
        ev += [PriceTick(HIGH, st.high, z, 0), PriceTick(LOW, st.low, z, 0)]
        if kind.traded:
            ev.append(SizeTick(VOLUME, st.volume))
        ev += [PriceTick(CLOSE, st.close, z, 0), PriceTick(OPEN, st.open, z, 0)]
        if (kind.traded or st.index) and st.last_time:
            ev.append(StringTick(LAST_TIMESTAMP, str(st.last_time)))
        if st.sec_type in _HALTABLE:
            ev.append(GenericTick(HALTED, 1.0 if st.halted else 0.0))
        if st.und is not None and st.model is not None:
            ev.append(self._option_tick(st, BID_OPTION_COMPUTATION, st.bid))
            ev.append(self._option_tick(st, ASK_OPTION_COMPUTATION, st.ask))
            if st.last > 0:
                ev.append(self._option_tick(st, LAST_OPTION_COMPUTATION, st.last))
            ev.append(st.model)
        ev += self._extras(st)
        return select_ticks(ev, generic_ticks)

    def halt(self, con_id: int, halted: bool, now: datetime | None = None) -> list[TickEvent]:
        """Halt or resume an instrument: prices freeze (no trades) while halted. Returns the
        HALTED tick (1 general halt, 0 not halted). The tick-by-tick Last records of the
        next :meth:`step` start with a zero tick with pastLimit set (TWS's halt / un-halt
        marker)."""
        st = self._state(con_id, now)
        st.halted = halted
        ts = int(_epoch(now)) if now is not None else int(st.clock)
        st.tbt_last.append(TickByTickAllLast(ts, 0.0, _ZERO, 1, "", ""))
        return [GenericTick(HALTED, 1.0 if halted else 0.0)]

    def tick_by_tick(self, con_id: int, kind: TickByTickKind) -> list[TickByTick]:
        """The tick-by-tick records of ``kind`` produced by the latest :meth:`step` (with any
        implicit updates since the one before): "Last"/"AllLast" one per trade, "BidAsk" one
        per quote change, "MidPoint" one per midpoint change."""
        st = self._state(con_id, None)
        if kind in ("Last", "AllLast"):
            return list(st.out_last)
        if kind == "BidAsk":
            return list(st.out_bidask)
        if kind == "MidPoint":
            return list(st.out_mid)
        raise ValueError(f"unknown tick-by-tick type {kind!r}")

    def tick_by_tick_current(self, con_id: int, kind: TickByTickKind) -> TickByTick | None:
        """The record describing the current state (what a new subscription starts from):
        the current bid/ask or midpoint, or the latest trade; ``None`` if there is none."""
        st = self._state(con_id, None)
        ts = int(st.clock)
        if kind in ("Last", "AllLast"):
            if not st.kind.traded or not st.last_time:
                return None
            return TickByTickAllLast(
                st.last_time, st.last, st.last_size, 0, self._exchange(st, None), ""
            )
        if not st.kind.quoted:
            return None
        if kind == "BidAsk":
            return TickByTickBidAsk(ts, st.bid, st.ask, st.bid_size, st.ask_size, _mask(st))
        if kind == "MidPoint":
            return TickByTickMidPoint(ts, round((st.bid + st.ask) / 2, 10))
        raise ValueError(f"unknown tick-by-tick type {kind!r}")

    def depth_book(self, con_id: int, levels: int = 10) -> DepthBook:
        """The engine's book of an instrument (built with at least ``levels`` rows a side)."""
        st = self._state(con_id, None)
        book = self._books.get(con_id)
        if book is None:
            book = DepthBook(levels, random.Random(f"aiotws.sim.market:{self.seed}:{con_id}:L2"))
            self._books[con_id] = book
            self._build_book(st, book)
            book.prev_asks, book.prev_bids = list(book.asks), list(book.bids)
        elif levels > book.levels:
            book.levels = levels
            self._build_book(st, book)
            book.prev_asks, book.prev_bids = list(book.asks), list(book.bids)
        return book

    def initial_depth(self, con_id: int, rows: int) -> list[DepthOp]:
        """The inserts that build a client's ``rows``-row book (asks first, then bids).
        Indices have no book (``[]``)."""
        asks, bids = self.depth_book(con_id, rows).rows(rows)
        return [
            DepthOp(i, INSERT, side, r.price, r.size, r.market_maker)
            for side, rows_ in ((ASK_SIDE, asks), (BID_SIDE, bids))
            for i, r in enumerate(rows_)
        ]

    def step_depth(self, con_id: int, rows: int, now: datetime | None = None) -> list[DepthOp]:
        """Advance the book one update and return the operations that take a client's
        ``rows``-row book from the previous update to this one.

        With ``now``, the book (and, implicitly, the quote it sits on) advances once per
        distinct ``now``: every subscriber of the instrument calling at the same ``now``
        gets the operations of the same update for its own ``rows``. Without ``now`` every
        call advances it (the quote then only moves through :meth:`step`).
        """
        book = self.depth_book(con_id, rows)
        st = self._states[con_id]
        if now is None:
            self._advance_book(st, book)
        else:
            t = _epoch(now)
            if st.advanced_at != t:
                self._advance(st, t)
                st.implicit = True
            if book.advanced_at != t:
                self._advance_book(st, book)
                book.advanced_at = t
        return _diff_side(ASK_SIDE, book.prev_asks[:rows], book.asks[:rows]) + _diff_side(
            BID_SIDE, book.prev_bids[:rows], book.bids[:rows]
        )

    # -- creation ------------------------------------------------------------------------------

    def _state(self, con_id: int, now: datetime | None) -> _State:
        st = self._states.get(con_id)
        if st is None:
            inst = self.universe.by_con_id(con_id)
            if inst is None:
                raise KeyError(f"no instrument with conId {con_id}")
            st = self._create(inst, now)
            self._states[con_id] = st
        return st

    def _create(self, inst: Instrument, now: datetime | None) -> _State:
        d = inst.details
        c = d.contract
        st = _State()
        st.inst = inst
        st.con_id = c.con_id
        st.sec_type = c.sec_type
        st.kind = kind = _KINDS.get(c.sec_type, _KINDS["STK"])
        st.rng = rng = random.Random(f"aiotws.sim.market:{self.seed}:{c.con_id}")
        st.rule = MARKET_RULES[d.market_rule_ids[0]] if d.market_rule_ids else ()
        if not st.rule:
            st.rule = (PriceIncrement(0.0, inst.tick or d.min_tick or 0.01),)
        st.inc = st.rule[0].increment if len(st.rule) == 1 else 0.0
        st.min_inc = st.rule[0].increment
        st.decimals = _decimals(st.rule)
        st.lot = _lot(inst)
        st.sig = inst.volatility * self._step_sd
        st.smart = c.sec_type == "STK" and "SMART" in d.valid_exchanges and c.currency == "USD"
        st.index = c.sec_type == "IND"
        if now is not None:
            st.clock = _epoch(now)
        else:
            st.clock = self._clock() if self._clock is not None else self._default_clock
        st.halted = False
        st.model = None
        st.advanced_at = None
        st.implicit = False
        st.serial = 0
        st.pending, st.tbt_last, st.tbt_bidask, st.tbt_mid = [], [], [], []
        st.out_last, st.out_bidask, st.out_mid = [], [], []
        st.und = None
        st.val_spot, st.val_clock = 0.0, 0.0
        st.strike, st.right, st.expiry, st.carry, st.iv = 0.0, "", 0.0, RATE, inst.volatility
        st.close = inst.price
        day = inst.volatility / math.sqrt(252)
        if c.sec_type in ("OPT", "FOP") and d.under_con_id:
            und = self._state(d.under_con_id, now)
            st.und = und
            st.strike = c.strike or inst.price
            st.right = c.right
            ymd = c.last_trade_date_or_contract_month[:8]
            st.expiry = datetime.strptime(ymd, "%Y%m%d").replace(hour=21, tzinfo=UTC).timestamp()
            st.carry = 0.0 if c.sec_type == "FOP" else RATE
            st.mid = self._value(st)
            st.open = st.near(st.close * math.exp(rng.gauss(0.0, 0.05)))
        else:
            st.open = st.near(st.close * math.exp(rng.gauss(0.0, 0.3 * day)))
            st.mid = st.open * math.exp(rng.gauss(0.0, 0.5 * day))
        st.spread_n = rng.randint(*kind.spread) if kind.quoted else 0
        st.bid = st.ask = -1.0
        st.bid_size = st.ask_size = _ZERO
        if kind.quoted:
            self._requote(st, force=True)
        ref = st.bid if kind.quoted else st.near(st.mid)  # untraded: high/low track the bid
        st.last = -1.0
        st.last_size = _ZERO
        st.last_time = 0
        if kind.traded:
            st.last = st.bid if rng.random() < 0.5 else st.ask
            st.last_size = st.lot * rng.randint(1, kind.trade_lots)
            st.last_time = int(st.clock) - rng.randint(0, 20)
            ref = st.last
        elif st.index:
            st.last = ref = st.near(st.mid)
            st.last_time = int(st.clock)
        spread = abs(math.log(max(ref, st.min_inc) / max(st.open, st.min_inc)))
        wiggle = abs(rng.gauss(0.0, 0.3 * day)) + 0.2 * spread
        st.high = st.up(max(st.open, ref) * (1 + wiggle))
        st.low = max(st.down(min(st.open, ref) * (1 - wiggle)), st.min_inc)
        st.high, st.low = max(st.high, st.open, ref), min(st.low, st.open, ref)
        if kind.traded:
            st.volume = st.lot * rng.randint(kind.day_volume // 10 + 1, kind.day_volume + 1)
            st.vwap_num = rng.uniform(st.low, st.high) * float(st.volume)
            st.trade_count = max(int(st.volume / st.lot) // max(kind.trade_lots // 2, 1), 1)
        else:
            st.volume, st.vwap_num, st.trade_count = _ZERO, 0.0, 0
        self._set_baseline(st)
        return st

    def _value(self, st: _State) -> float:
        """Re-value an option on its underlying's current price (sets iv and model)."""
        und = st.und
        assert und is not None
        spot = und.spot()
        st.val_spot, st.val_clock = spot, st.clock
        st.iv = iv = st.smile(spot)
        g = bs_greeks(spot, st.strike, st.years(), iv, st.right, carry=st.carry)
        st.model = OptionTick(
            MODEL_OPTION, RETURN_BASED, iv, g.delta, g.price, 0.0, g.gamma, g.vega, g.theta, spot
        )
        return g.price

    # -- the process ---------------------------------------------------------------------------

    def _advance(self, st: _State, t: float) -> None:
        if st.und is not None:  # the underlying first, once per distinct time
            und = st.und
            if und.advanced_at != t:
                self._advance(und, t)
                und.implicit = True
        st.clock = t
        st.advanced_at = t
        if st.halted:
            return
        kind = st.kind
        rng = st.rng
        if st.und is not None:
            # re-value on an underlying move, or each minute of decay
            if st.und.spot() != st.val_spot or t - st.val_clock >= 60.0:
                st.mid = self._value(st)
        else:
            sig = st.sig
            st.mid *= math.exp(sig * rng.gauss(0.0, 1.0) - 0.5 * sig * sig)
        ts = int(t)
        if st.index:
            last = st.near(st.mid)
            if last != st.last:
                st.last = last
                st.last_time = ts
                st.high = max(st.high, last)
                st.low = min(st.low, last)
            return
        old_bid, old_ask, old_bs, old_as = st.bid, st.ask, st.bid_size, st.ask_size
        if rng.random() < 0.25:
            st.spread_n = rng.randint(*kind.spread)
        self._requote(st, force=False)
        if kind.traded and rng.random() < kind.p_trade:
            buy = rng.random() < 0.5
            size = st.lot * rng.randint(1, kind.trade_lots)
            price = st.ask if buy else st.bid
            if buy:
                st.ask_size -= size
                if st.ask_size <= 0:
                    st.ask_size = st.draw_size()
            else:
                st.bid_size -= size
                if st.bid_size <= 0:
                    st.bid_size = st.draw_size()
            st.last, st.last_size, st.last_time = price, size, ts
            st.volume += size
            st.vwap_num += price * float(size)
            st.trade_count += 1
            st.high = max(st.high, price)
            st.low = min(st.low, price)
            st.pending.append(_Trade(price, size, int(t * 1000), st.volume, st.vwap))
            st.tbt_last.append(TickByTickAllLast(ts, price, size, 0, self._exchange(st, rng), ""))
        elif not kind.traded:
            st.high = max(st.high, st.bid)
            st.low = min(st.low, st.bid)
        if st.bid != old_bid or st.ask != old_ask or st.bid_size != old_bs or st.ask_size != old_as:
            st.tbt_bidask.append(
                TickByTickBidAsk(ts, st.bid, st.ask, st.bid_size, st.ask_size, _mask(st))
            )
            if st.bid + st.ask != old_bid + old_ask:
                st.tbt_mid.append(TickByTickMidPoint(ts, round((st.bid + st.ask) / 2, 10)))

    def _requote(self, st: _State, *, force: bool) -> None:
        mid = st.mid
        inc = st.inc_at(mid)
        if st.und is not None:
            half = max(st.spread_n * inc, 0.015 * mid) / 2
        else:
            half = st.spread_n * inc / 2
        bid = max(st.down(mid - half), st.min_inc)
        ask = st.up(mid + half)
        if ask <= bid:
            ask = st.tick_up(bid)
        rng = st.rng
        if force or bid != st.bid:
            st.bid = bid
            st.bid_size = st.draw_size()
        elif rng.random() < 0.3:
            st.bid_size = st.draw_size()
        if force or ask != st.ask:
            st.ask = ask
            st.ask_size = st.draw_size()
        elif rng.random() < 0.3:
            st.ask_size = st.draw_size()

    def _exchange(self, st: _State, rng: random.Random | None) -> str:
        if st.smart:
            if rng is None:
                return _SMART_EXCHANGES[st.trade_count % len(_SMART_EXCHANGES)]
            return _SMART_EXCHANGES[rng.randrange(len(_SMART_EXCHANGES))]
        c = st.inst.contract
        return c.primary_exchange or c.exchange

    # -- reporting -----------------------------------------------------------------------------

    def _set_baseline(self, st: _State) -> None:
        st.r_bid, st.r_ask = st.bid, st.ask
        st.r_bid_size, st.r_ask_size = st.bid_size, st.ask_size
        st.r_last, st.r_last_time = st.last, st.last_time
        st.r_volume, st.r_high, st.r_low = st.volume, st.high, st.low
        st.r_mark, st.r_count = st.mark, st.trade_count
        m = st.model
        st.r_model = (m.und_price, round(m.opt_price, 6)) if m is not None else (0.0, 0.0)

    def _report(self, st: _State) -> list[TickEvent]:
        ev: list[TickEvent] = []
        kind = st.kind
        option = st.und is not None
        if kind.quoted:
            if st.bid != st.r_bid:
                ev.append(PriceTick(BID, st.bid, st.bid_size, CAN_AUTO_EXECUTE))
                ev.append(SizeTick(BID_SIZE, st.bid_size))
                if option:
                    ev.append(self._option_tick(st, BID_OPTION_COMPUTATION, st.bid))
            elif st.bid_size != st.r_bid_size:
                ev.append(SizeTick(BID_SIZE, st.bid_size))
            if st.ask != st.r_ask:
                ev.append(PriceTick(ASK, st.ask, st.ask_size, CAN_AUTO_EXECUTE))
                ev.append(SizeTick(ASK_SIZE, st.ask_size))
                if option:
                    ev.append(self._option_tick(st, ASK_OPTION_COMPUTATION, st.ask))
            elif st.ask_size != st.r_ask_size:
                ev.append(SizeTick(ASK_SIZE, st.ask_size))
        trades = st.pending
        if trades or st.last != st.r_last:
            if kind.traded:
                ev.append(PriceTick(LAST, st.last, st.last_size, 0))
                ev.append(SizeTick(LAST_SIZE, st.last_size))
                if option:
                    ev.append(self._option_tick(st, LAST_OPTION_COMPUTATION, st.last))
            else:
                ev.append(PriceTick(LAST, st.last, _ZERO, 0))
        if st.volume != st.r_volume:
            ev.append(SizeTick(VOLUME, st.volume))
        if st.last_time != st.r_last_time:
            ev.append(StringTick(LAST_TIMESTAMP, str(st.last_time)))
        for tr in trades:
            ev.append(StringTick(RT_VOLUME, self._rt_volume(st, tr)))
        if st.high != st.r_high:
            ev.append(PriceTick(HIGH, st.high, _ZERO, 0))
        if st.low != st.r_low:
            ev.append(PriceTick(LOW, st.low, _ZERO, 0))
        mark = st.mark
        if mark != st.r_mark:
            ev.append(PriceTick(MARK_PRICE, mark, _ZERO, 0))
        if st.trade_count != st.r_count:
            ev.append(GenericTick(TRADE_COUNT, float(st.trade_count)))
        m = st.model
        if m is not None and (m.und_price, round(m.opt_price, 6)) != st.r_model:
            ev.append(m)
        self._set_baseline(st)
        st.pending = []
        st.out_last, st.tbt_last = st.tbt_last, []
        st.out_bidask, st.tbt_bidask = st.tbt_bidask, []
        st.out_mid, st.tbt_mid = st.tbt_mid, []
        return ev

    def _rt_volume(self, st: _State, tr: _Trade) -> str:
        return (
            f"{st.fmt(tr.price)};{tr.size:f};{tr.time_ms};{tr.volume:f};"
            f"{tr.vwap:.{st.decimals + 4}f};true"
        )

    def _option_tick(self, st: _State, tick_type: int, price: float) -> OptionTick:
        """A bid/ask/last option computation: the volatility implied by ``price``."""
        und = st.und
        assert und is not None
        spot = und.spot()
        years = st.years()
        guess = st.iv
        m = st.model
        if m is not None and m.vega > 0:  # one Newton step from the model, for free
            guess = min(
                max(m.implied_vol + (price - m.opt_price) / (m.vega * 100), 0.5 * guess), 2 * guess
            )
        solved = _implied(price, spot, st.strike, years, st.right, RATE, st.carry, guess)
        if solved is None:
            g = NOT_COMPUTED_GREEK
            return OptionTick(
                tick_type, PRICE_BASED, NOT_COMPUTED_VOL, g, price, 0.0, g, g, g, spot
            )
        iv, gr = solved
        return OptionTick(
            tick_type, PRICE_BASED, iv, gr.delta, price, 0.0, gr.gamma, gr.vega, gr.theta, spot
        )

    def _extras(self, st: _State) -> list[TickEvent]:
        """Every generic-gated tick of the initial burst (filtered by the caller)."""
        rng = random.Random(f"aiotws.sim.market:{self.seed}:{st.con_id}:extras")
        z = _ZERO
        ev: list[TickEvent] = []
        ref = st.close
        lo, hi = min(st.low, ref), max(st.high, ref)
        ranges = (
            (LOW_13_WEEK, HIGH_13_WEEK, 0.08),
            (LOW_26_WEEK, HIGH_26_WEEK, 0.14),
            (LOW_52_WEEK, HIGH_52_WEEK, 0.25),
        )
        for low_t, high_t, width in ranges:
            lo = max(min(lo, st.down(ref * (1 - width * rng.uniform(0.5, 1.0)))), st.min_inc)
            hi = max(hi, st.up(ref * (1 + width * rng.uniform(0.5, 1.0))))
            ev += [PriceTick(low_t, lo, z, 0), PriceTick(high_t, hi, z, 0)]
        if st.kind.traded:
            avg = st.lot * rng.randint(st.kind.day_volume // 2 + 1, st.kind.day_volume + 1)
            ev.append(SizeTick(AVG_VOLUME, avg))
        ev.append(GenericTick(OPTION_HISTORICAL_VOL, round(st.inst.volatility * 0.95, 6)))
        ev.append(GenericTick(OPTION_IMPLIED_VOL, round(st.iv, 6)))
        realized = st.inst.volatility * rng.uniform(0.8, 1.2)
        ev.append(GenericTick(RT_HISTORICAL_VOL, round(realized, 6)))
        calls, puts = rng.randint(1_000, 500_000), rng.randint(1_000, 400_000)
        ev += [
            SizeTick(OPTION_CALL_VOLUME, Decimal(calls)),
            SizeTick(OPTION_PUT_VOLUME, Decimal(puts)),
            SizeTick(OPTION_CALL_OPEN_INTEREST, Decimal(calls * rng.randint(5, 20))),
            SizeTick(OPTION_PUT_OPEN_INTEREST, Decimal(puts * rng.randint(5, 20))),
        ]
        ev.append(PriceTick(MARK_PRICE, st.mark, z, 0))
        if st.kind.traded:
            if st.last_time:
                trade = _Trade(st.last, st.last_size, st.last_time * 1000, st.volume, st.vwap)
                ev.append(StringTick(RT_VOLUME, self._rt_volume(st, trade)))
            ev.append(GenericTick(TRADE_COUNT, float(st.trade_count)))
        if st.sec_type == "STK":
            ev.append(GenericTick(SHORTABLE, 3.0))
            ev.append(SizeTick(SHORTABLE_SHARES, Decimal(100 * rng.randint(10_000, 500_000))))
            past = ref * rng.uniform(0.004, 0.03)
            nxt = past * rng.uniform(1.0, 1.12)
            when = self.universe.today + timedelta(days=rng.randint(10, 90))
            ev.append(StringTick(IB_DIVIDENDS, f"{past:.2f},{nxt:.2f},{when:%Y%m%d},{nxt / 4:.2f}"))
        return ev

    # -- depth ---------------------------------------------------------------------------------

    def _build_book(self, st: _State, book: DepthBook) -> None:
        """Lay the book out around the current quote, keeping sizes of surviving prices."""
        if not st.kind.quoted:
            book.asks, book.bids = [], []
            return
        rng = book.rng
        old = {r.price: r for r in book.asks}
        asks = [self._row(st, book, st.ask, st.ask_size, old.get(st.ask), 0)]
        p = st.ask
        for i in range(1, book.levels):
            p = st.tick_up(p)
            if rng.random() < 0.12:  # a gap in the ladder
                p = st.tick_up(p)
            asks.append(self._row(st, book, p, None, old.get(p), i))
        old = {r.price: r for r in book.bids}
        bids = [self._row(st, book, st.bid, st.bid_size, old.get(st.bid), 0)]
        p = st.bid
        for i in range(1, book.levels):
            p = st.tick_down(p)
            if rng.random() < 0.12:
                p = st.tick_down(p)
            if p < st.min_inc - 1e-12:
                break
            bids.append(self._row(st, book, p, None, old.get(p), i))
        book.asks, book.bids = asks, bids

    def _row(
        self,
        st: _State,
        book: DepthBook,
        price: float,
        size: Decimal | None,
        old: DepthRow | None,
        level: int,
    ) -> DepthRow:
        rng = book.rng
        if old is not None and (size is None or size == old.size) and rng.random() < 0.75:
            return old
        if size is None:
            size = st.lot * rng.randint(1, max(st.kind.quote_lots * (2 + level) // 2, 1))
        mm = _SMART_EXCHANGES[rng.randrange(len(_SMART_EXCHANGES))] if st.smart else ""
        return DepthRow(price, size, mm)

    def _advance_book(self, st: _State, book: DepthBook) -> None:
        book.prev_asks, book.prev_bids = book.asks, book.bids
        self._build_book(st, book)


def _mask(st: _State) -> int:
    """BidAsk tick-by-tick mask: bit0 bid below the day's low, bit1 ask above its high."""
    return (st.bid < st.low) | (st.ask > st.high) << 1


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
