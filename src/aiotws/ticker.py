"""``Ticker``: the live top-of-book state of one market data subscription.

A ticker is updated in place from TWS's tick messages; which tick id sets which attribute
is one table per tick kind below (:data:`PRICE_TICKS`, :data:`SIZE_TICKS` …), read by the
update methods. Unset prices are NaN and unset sizes ``None``, never TWS's sentinels; a tick
id this table does not know lands in :attr:`Ticker.other`, never in an exception.

Updates are coalesced per network read: the client applies every tick of one read, then
calls :meth:`Ticker._batch_end`, which fires ``updated`` once with :attr:`ticks` holding this
update's ticks. ``async for t in ticker.updates()`` yields the latest state; a slow consumer
skips intermediate states instead of buffering them, so memory never grows.

``stale`` is True while the subscription waits out a lost connection (``Client.keep_live``)
or was just re-issued (``Client.resume_live``), until the first update after that: the
values are the last ones TWS sent. Turning stale fires no ``updated``.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from html import escape
from typing import TYPE_CHECKING, Any, Final

from eventkit import Event

from aiotws.live import LatestUpdates
from aiotws.model.contract import Contract

if TYPE_CHECKING:
    from aiotws.errors import RequestError
    from aiotws.model.news import NewsTick

__all__ = [
    "GENERIC_TICKS",
    "OPTION_TICKS",
    "PRICE_TICKS",
    "SIZE_TICKS",
    "STRING_TICKS",
    "Dividends",
    "OptionComputation",
    "RtVolume",
    "TickData",
    "Ticker",
]

NAN: Final = math.nan
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_UNSET_DOUBLE: Final = 1.7976931348623157e308
#: how many news ticks (generic tick 292) a ticker keeps in :attr:`Ticker.news`
NEWS_KEPT: Final = 100

#: TICK_PRICE tick id -> Ticker attribute (delayed ids share the live attributes)
PRICE_TICKS: Final[dict[int, str]] = {
    1: "bid", 2: "ask", 4: "last", 6: "high", 7: "low", 9: "close", 14: "open",
    15: "low_13_week", 16: "high_13_week", 17: "low_26_week", 18: "high_26_week",
    19: "low_52_week", 20: "high_52_week", 35: "auction_price", 37: "mark_price",
    50: "bid_yield", 51: "ask_yield", 52: "last_yield", 57: "last_rth_trade",
    66: "bid", 67: "ask", 68: "last", 72: "high", 73: "low", 75: "close", 76: "open",
    78: "creditman_mark_price", 79: "creditman_slow_mark_price",
    92: "etf_nav_close", 93: "etf_nav_prior_close", 94: "etf_nav_bid", 95: "etf_nav_ask",
    96: "etf_nav_last", 97: "etf_frozen_nav_last", 98: "etf_nav_high", 99: "etf_nav_low",
    101: "estimated_ipo_midpoint", 102: "final_ipo_last", 103: "bid_yield", 104: "ask_yield",
    105: "odd_lot_bid", 106: "odd_lot_ask",
}  # fmt: skip
#: TICK_SIZE tick id -> Ticker attribute
SIZE_TICKS: Final[dict[int, str]] = {
    0: "bid_size", 3: "ask_size", 5: "last_size", 8: "volume", 21: "avg_volume",
    22: "open_interest", 27: "call_open_interest", 28: "put_open_interest",
    29: "call_volume", 30: "put_volume", 34: "auction_volume", 36: "auction_imbalance",
    61: "regulatory_imbalance", 63: "volume_3_min", 64: "volume_5_min", 65: "volume_10_min",
    69: "bid_size", 70: "ask_size", 71: "last_size", 74: "volume",
    86: "futures_open_interest", 87: "avg_option_volume", 89: "shortable_shares",
    107: "odd_lot_bid_size", 108: "odd_lot_ask_size",
}  # fmt: skip
#: TICK_GENERIC tick id -> Ticker attribute
GENERIC_TICKS: Final[dict[int, str]] = {
    23: "hist_volatility", 24: "implied_volatility", 31: "index_future_premium",
    46: "shortable", 49: "halted", 54: "trade_count", 55: "trade_rate", 56: "volume_rate",
    58: "rt_hist_volatility", 60: "bond_factor_multiplier", 90: "halted",
}  # fmt: skip
#: TICK_STRING tick id -> Ticker attribute (timestamps, RT volume and dividends are parsed)
STRING_TICKS: Final[dict[int, str]] = {
    25: "option_bid_exchange", 26: "option_ask_exchange", 32: "bid_exchange",
    33: "ask_exchange", 45: "last_timestamp", 48: "rt_volume", 59: "dividends",
    77: "rt_trade_volume", 84: "last_exchange", 85: "last_reg_time", 88: "last_timestamp",
    109: "odd_lot_bid_exchange", 110: "odd_lot_ask_exchange",
}  # fmt: skip
#: TICK_OPTION_COMPUTATION tick id -> Ticker attribute
OPTION_TICKS: Final[dict[int, str]] = {
    10: "bid_greeks", 11: "ask_greeks", 12: "last_greeks", 13: "model_greeks",
    53: "custom_greeks", 80: "bid_greeks", 81: "ask_greeks", 82: "last_greeks",
    83: "model_greeks",
}  # fmt: skip
_TIMESTAMPS: Final = frozenset({45, 88})
_RT_VOLUMES: Final = frozenset({48, 77})
_FLOAT_ATTRS: Final = tuple(dict.fromkeys([*PRICE_TICKS.values(), *GENERIC_TICKS.values()]).keys())
_SIZE_ATTRS: Final = tuple(dict.fromkeys(SIZE_TICKS.values()).keys())
_STR_ATTRS: Final = (
    "bid_exchange",
    "ask_exchange",
    "last_exchange",
    "option_bid_exchange",
    "option_ask_exchange",
    "odd_lot_bid_exchange",
    "odd_lot_ask_exchange",
    "last_reg_time",
)
_OTHER_ATTRS: Final = (
    "last_timestamp",
    "rt_volume",
    "rt_trade_volume",
    "dividends",
    *dict.fromkeys(OPTION_TICKS.values()).keys(),
)


@dataclass(slots=True)
class TickData:
    """One tick of an update: its id, and price and/or size (NaN / ``None`` if n/a)."""

    time: datetime
    tick_type: int
    price: float
    size: Decimal | None


@dataclass(slots=True, frozen=True)
class OptionComputation:
    """Greeks and prices of an option tick; TWS's "not computed" values are NaN."""

    tick_attrib: int
    implied_vol: float
    delta: float
    opt_price: float
    pv_dividend: float
    gamma: float
    vega: float
    theta: float
    und_price: float

    @classmethod
    def from_tws(
        cls,
        tick_attrib: int,
        implied_vol: float | None,
        delta: float | None,
        opt_price: float | None,
        pv_dividend: float | None,
        gamma: float | None,
        vega: float | None,
        theta: float | None,
        und_price: float | None,
    ) -> OptionComputation:
        """From TWS's raw values: -1 (prices, vol < 0) and -2 (greeks) mean not computed."""
        return cls(
            tick_attrib,
            _nan_if(implied_vol, lambda v: v < 0),
            _nan_if(delta, lambda v: v == -2),
            _nan_if(opt_price, lambda v: v == -1),
            _nan_if(pv_dividend, lambda v: v == -1),
            _nan_if(gamma, lambda v: v == -2),
            _nan_if(vega, lambda v: v == -2),
            _nan_if(theta, lambda v: v == -2),
            _nan_if(und_price, lambda v: v == -1),
        )


def _nan_if(value: float | None, not_computed: Any) -> float:
    if value is None or value == _UNSET_DOUBLE or not_computed(value):
        return NAN
    return float(value)


@dataclass(slots=True, frozen=True)
class RtVolume:
    """A parsed RT_VOLUME tick: ``price;size;time_ms;total_volume;vwap;single_trade``."""

    price: float
    size: Decimal | None
    time: datetime | None
    total_volume: Decimal | None
    vwap: float
    single_trade: bool

    @classmethod
    def parse(cls, text: str) -> RtVolume | None:
        parts = text.split(";")
        if len(parts) < 6:
            return None
        try:
            time = datetime.fromtimestamp(int(parts[2]) / 1000, UTC) if parts[2] else None
        except (ValueError, OverflowError, OSError):
            time = None
        return cls(
            _float(parts[0]),
            _decimal(parts[1]),
            time,
            _decimal(parts[3]),
            _float(parts[4]),
            parts[5].strip().lower() == "true",
        )


@dataclass(slots=True, frozen=True)
class Dividends:
    """A parsed IB_DIVIDENDS tick: past and next 12 months, next date and amount."""

    past_12_months: float
    next_12_months: float
    next_date: str
    next_amount: float

    @classmethod
    def parse(cls, text: str) -> Dividends | None:
        parts = text.split(",")
        if len(parts) < 4:
            return None
        return cls(_float(parts[0]), _float(parts[1]), parts[2], _float(parts[3]))


def _float(s: str) -> float:
    try:
        return float(s) if s else NAN
    except ValueError:
        return NAN


def _decimal(s: str) -> Decimal | None:
    try:
        return Decimal(s) if s else None
    except InvalidOperation:
        return None


class Ticker:
    """Live market data for one contract, updated in place.

    Prices are floats (NaN until TWS sends one), sizes ``Decimal | None``, times tz-aware.
    ``updated`` (eventkit) fires once per network read that changed the ticker, with the
    ticker; :attr:`ticks` holds that update's ticks. ``errors`` collects the TWS errors and
    warnings of the subscription (354, 10167 delayed data, 10089 …); a warning never ends it.
    """

    __slots__ = (
        *_FLOAT_ATTRS,
        *_SIZE_ATTRS,
        *_STR_ATTRS,
        *_OTHER_ATTRS,
        "__weakref__",
        "_closed",
        "_dirty",
        "_ready",
        "_snapshot_done",
        "_waiters",
        "bbo_exchange",
        "contract",
        "errors",
        "market_data_type",
        "min_tick",
        "_news",
        "other",
        "req_id",
        "rerouted_to",
        "snapshot",
        "snapshot_permissions",
        "stale",
        "_tick_list",
        "_ticks",
        "time",
        "updated",
        "vwap",
    )

    # attributes set from ticks (see the tables above)
    bid: float
    ask: float
    last: float
    high: float
    low: float
    close: float
    open: float
    low_13_week: float
    high_13_week: float
    low_26_week: float
    high_26_week: float
    low_52_week: float
    high_52_week: float
    auction_price: float
    mark_price: float
    bid_yield: float
    ask_yield: float
    last_yield: float
    last_rth_trade: float
    creditman_mark_price: float
    creditman_slow_mark_price: float
    etf_nav_close: float
    etf_nav_prior_close: float
    etf_nav_bid: float
    etf_nav_ask: float
    etf_nav_last: float
    etf_frozen_nav_last: float
    etf_nav_high: float
    etf_nav_low: float
    estimated_ipo_midpoint: float
    final_ipo_last: float
    odd_lot_bid: float
    odd_lot_ask: float
    hist_volatility: float
    implied_volatility: float
    index_future_premium: float
    shortable: float
    halted: float
    trade_count: float
    trade_rate: float
    volume_rate: float
    rt_hist_volatility: float
    bond_factor_multiplier: float
    bid_size: Decimal | None
    ask_size: Decimal | None
    last_size: Decimal | None
    volume: Decimal | None
    avg_volume: Decimal | None
    open_interest: Decimal | None
    call_open_interest: Decimal | None
    put_open_interest: Decimal | None
    call_volume: Decimal | None
    put_volume: Decimal | None
    auction_volume: Decimal | None
    auction_imbalance: Decimal | None
    regulatory_imbalance: Decimal | None
    volume_3_min: Decimal | None
    volume_5_min: Decimal | None
    volume_10_min: Decimal | None
    futures_open_interest: Decimal | None
    avg_option_volume: Decimal | None
    shortable_shares: Decimal | None
    odd_lot_bid_size: Decimal | None
    odd_lot_ask_size: Decimal | None
    bid_exchange: str
    ask_exchange: str
    last_exchange: str
    option_bid_exchange: str
    option_ask_exchange: str
    odd_lot_bid_exchange: str
    odd_lot_ask_exchange: str
    last_reg_time: str
    last_timestamp: datetime | None
    rt_volume: RtVolume | None
    rt_trade_volume: RtVolume | None
    dividends: Dividends | None
    bid_greeks: OptionComputation | None
    ask_greeks: OptionComputation | None
    last_greeks: OptionComputation | None
    model_greeks: OptionComputation | None
    custom_greeks: OptionComputation | None

    def __init__(self, contract: Contract, req_id: int = -1, snapshot: bool = False) -> None:
        self.contract = contract
        self.req_id = req_id
        self.snapshot = snapshot
        for name in _FLOAT_ATTRS:
            setattr(self, name, NAN)
        for name in _SIZE_ATTRS:
            setattr(self, name, None)
        for name in _STR_ATTRS:
            setattr(self, name, "")
        for name in _OTHER_ATTRS:
            setattr(self, name, None)
        self.vwap = NAN
        self.time: datetime | None = None
        self.market_data_type = 1
        self.min_tick = NAN
        self.bbo_exchange = ""
        self.snapshot_permissions = 0
        #: the contract TWS rerouted this subscription to (REROUTE_MKT_DATA_REQ, CFDs)
        self.rerouted_to: Contract | None = None
        #: this update's ticks as (tick_type, price, size); :attr:`ticks` builds the records
        self._ticks: list[tuple[int, float, Decimal | None]] = []
        self._tick_list: list[TickData] | None = None
        self.other: dict[int, Any] = {}
        self._news: deque[NewsTick] | None = None  # made by the first headline
        self.errors: list[RequestError] = []
        #: True from a lost connection (kept by ``Client.keep_live``) to the first update
        #: after ``Client.resume_live``: the values are old
        self.stale = False
        self.updated = Event("ticker.updated")
        self._dirty = False
        self._ready: asyncio.Future[Ticker] | None = None
        self._snapshot_done: asyncio.Future[Ticker] | None = None
        self._waiters: list[LatestUpdates[Any]] = []
        #: False while live; True (or the error) once the subscription ended
        self._closed: bool | BaseException = False

    @property
    def ticks(self) -> list[TickData]:
        """The ticks of the latest update (built on first access, from compact records)."""
        cached = self._tick_list
        if cached is None:
            now = self.time or _EPOCH
            cached = self._tick_list = [TickData(now, t, p, z) for t, p, z in self._ticks]
        return cached

    @property
    def done(self) -> bool:
        """True once the subscription ended (cancelled, failed or disconnected)."""
        return self._closed is not False

    # -- derived values ------------------------------------------------------------------

    def mid(self) -> float:
        """The bid/ask midpoint (NaN without both sides)."""
        bid, ask = self.bid, self.ask
        if bid > 0 and ask > 0:
            return float((bid + ask) / 2)
        return NAN

    def market_price(self) -> float:
        """Last if it lies within the spread, else the midpoint; close as a last resort."""
        last: float = self.last
        mid = self.mid()
        if not math.isnan(mid):
            if not math.isnan(last) and self.bid <= last <= self.ask:
                return last
            return mid
        if not math.isnan(last):
            return last
        close: float = self.close
        return close

    def has_quote(self) -> bool:
        """True once bid and ask (or, for an index, a last price) have arrived."""
        bid: float = self.bid
        ask: float = self.ask
        if not (math.isnan(bid) or math.isnan(ask)):
            return True
        return self.contract.sec_type == "IND" and not math.isnan(self.last)

    # -- updates from ticks (called by the client) -----------------------------------------

    def _touch(self, now: datetime) -> None:
        """Start (or continue) this read's update: the ``on_*`` methods expect it first."""
        if not self._dirty:
            self._dirty = True
            self._ticks = []
            self._tick_list = None
        self.time = now

    def on_price(self, tick_type: int, price: float, size: Decimal | None, attr_mask: int) -> None:
        name = PRICE_TICKS.get(tick_type)
        value = NAN if price == -1 and tick_type in _QUOTE_PRICES else price
        if name is None:
            self.other[tick_type] = value
        else:
            setattr(self, name, value)
            size_name = _PRICE_SIZE.get(tick_type)
            if size_name is not None and size is not None:
                # TICK_PRICE carries the size too (TWS also sends TICK_SIZE): idempotent;
                # "no quote" (-1) carries size 0, which is no size at all
                setattr(self, size_name, None if math.isnan(value) else size)
        self._ticks.append((tick_type, value, size))

    def on_size(self, tick_type: int, size: Decimal | None) -> None:
        name = SIZE_TICKS.get(tick_type)
        if name is None:
            self.other[tick_type] = size
        else:
            setattr(self, name, size)
        self._ticks.append((tick_type, NAN, size))

    def on_generic(self, tick_type: int, value: float) -> None:
        name = GENERIC_TICKS.get(tick_type)
        if name is None:
            self.other[tick_type] = value
        else:
            setattr(self, name, value)
        self._ticks.append((tick_type, value, None))

    def on_string(self, tick_type: int, value: str) -> None:
        name = STRING_TICKS.get(tick_type)
        if name is None:
            self.other[tick_type] = value
        elif tick_type in _TIMESTAMPS:
            try:
                self.last_timestamp = datetime.fromtimestamp(int(value), UTC)
            except (ValueError, OverflowError, OSError):
                self.other[tick_type] = value
        elif tick_type in _RT_VOLUMES:
            rt = RtVolume.parse(value)
            setattr(self, name, rt)
            if rt is not None and not math.isnan(rt.vwap):
                self.vwap = rt.vwap
        elif tick_type == 59:
            self.dividends = Dividends.parse(value)
        else:
            setattr(self, name, value)
        self._ticks.append((tick_type, NAN, None))

    def on_option(self, tick_type: int, computation: OptionComputation) -> None:
        name = OPTION_TICKS.get(tick_type)
        if name is None:
            self.other[tick_type] = computation
        else:
            setattr(self, name, computation)
        self._ticks.append((tick_type, computation.opt_price, None))

    @property
    def news(self) -> Sequence[NewsTick]:
        """The latest headlines of a subscription with generic tick 292 (TICK_NEWS), oldest
        first, at most :data:`NEWS_KEPT` (empty until the first: most tickers never get
        one, so none pays for the buffer)."""
        return self._news if self._news is not None else ()

    def on_news(self, tick: NewsTick) -> None:
        """Record a headline of this subscription (TICK_NEWS)."""
        if self._news is None:
            self._news = deque(maxlen=NEWS_KEPT)
        self._news.append(tick)

    def on_error(self, error: RequestError) -> None:
        """Record a TWS error or warning for this subscription."""
        self.errors.append(error)

    def _batch_end(self) -> None:
        """End of one network read: fire ``updated`` once if anything changed."""
        if not self._dirty:
            return
        self._dirty = False
        self.stale = False  # once per read, not per tick
        r = self._ready
        if r is not None and not r.done() and self._is_ready():
            r.set_result(self)
        for w in self._waiters:
            w.wake()
        if len(self.updated):  # no listeners: skip the emit (thousands of tickers per read)
            self.updated.emit(self)

    def _end_snapshot(self) -> None:
        s = self._snapshot_done
        if s is not None and not s.done():
            s.set_result(self)

    def _fail(self, exc: BaseException) -> None:
        s = self._snapshot_done
        if s is not None and not s.done():
            s.set_exception(exc)
        self._close(exc)

    def _close(self, error: BaseException | None = None) -> None:
        """The subscription ended: update iterators finish (raising ``error`` if given)."""
        self._closed = error if error is not None else True
        for w in list(self._waiters):
            w.end(error)
        r = self._ready
        if r is not None and not r.done():
            r.set_exception(
                error or asyncio.InvalidStateError("the market data subscription has ended")
            )
        for fut in (self._ready, self._snapshot_done):
            if fut is not None and fut.done() and not fut.cancelled():
                fut.exception()  # retrieved: whoever awaits it gets it raised

    def _is_ready(self) -> bool:
        if self.contract.sec_type in ("OPT", "FOP"):
            return self.model_greeks is not None
        return self.has_quote()

    # -- awaiting --------------------------------------------------------------------------

    async def ready(self, timeout: float | None = 10.0) -> Ticker:
        """Wait for the first complete quote (options: the first model greeks)."""
        if self._is_ready():
            return self
        closed = self._closed
        if isinstance(closed, BaseException):
            raise closed
        if closed:
            raise asyncio.InvalidStateError("the market data subscription has ended")
        if self._ready is None or self._ready.done():
            self._ready = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self._ready)

    def updates(self) -> AsyncIterator[Ticker]:
        """An async iterator over updates; each step yields this ticker in its latest state.

        Never buffers more than one pending update: a consumer slower than the feed sees the
        newest state and skips the ones in between.
        """
        return LatestUpdates(self, self._waiters, self._closed)

    def __repr__(self) -> str:
        shown = []
        for name in ("bid", "bid_size", "ask", "ask_size", "last", "last_size", "volume"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, float) and math.isnan(v)):
                shown.append(f"{name}={v}")
        sym = self.contract.local_symbol or self.contract.symbol
        return f"<Ticker {sym} {' '.join(shown)}>"

    def _repr_html_(self) -> str:
        """A one-row table for notebooks: quote, last trade, volume, time."""

        try:

            def cell(v: Any) -> str:
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    return ""
                return escape(str(v))

            names = ("bid_size", "bid", "ask", "ask_size", "last", "last_size", "volume")
            head = "".join(f"<th>{n}</th>" for n in ("symbol", *names, "time (UTC)"))
            t = self.time
            when = "" if t is None else t.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]
            sym = escape(self.contract.local_symbol or self.contract.symbol)
            flags = " (stale)" if self.stale else " (ended)" if self._closed else ""
            row = "".join(f"<td>{cell(getattr(self, n))}</td>" for n in names)
            return (
                f"<table><tr>{head}</tr><tr><td><b>{sym}</b>{flags}</td>{row}"
                f"<td>{when}</td></tr></table>"
            )
        except Exception:
            return f"<pre>{escape(object.__repr__(self))}</pre>"


_QUOTE_PRICES: Final = frozenset({1, 2, 66, 67})
_PRICE_SIZE: Final = {
    1: "bid_size", 2: "ask_size", 4: "last_size", 66: "bid_size", 67: "ask_size", 68: "last_size"
}  # fmt: skip
