"""Historical data records: bars, real-time bars, historical ticks, histogram, schedules.

Times are tz-aware (UTC unless TWS named a zone: then that zone); a daily or longer bar's
``date`` is a :class:`datetime.date` (TWS sends a date, not a time, for those). Volumes
and sizes are ``Decimal`` (``None`` where TWS sends none, e.g. ``-1`` volume on MIDPOINT
bars); prices are floats. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "BarData",
    "HistogramEntry",
    "HistoricalSchedule",
    "HistoricalSession",
    "HistoricalTick",
    "HistoricalTickBidAsk",
    "HistoricalTickLast",
    "RealTimeBar",
]


@dataclass(slots=True)
class BarData:
    """One historical bar (HISTORICAL_DATA / HISTORICAL_DATA_UPDATE).

    ``date`` is the bar's start: a tz-aware ``datetime`` for intraday bars, a ``date`` for
    daily, weekly and monthly bars. ``volume`` and ``wap`` are ``None`` where TWS sends
    ``-1`` (bars without trades: MIDPOINT, BID, ASK …); ``bar_count`` likewise.
    """

    date: datetime | date
    open: float
    high: float
    low: float
    close: float
    volume: Decimal | None = None
    wap: Decimal | None = None
    bar_count: int | None = None


@dataclass(slots=True, frozen=True)
class RealTimeBar:
    """A 5-second real-time bar (REAL_TIME_BARS); ``time`` is the bar's start. ``volume``,
    ``wap`` and ``count`` are ``None`` where TWS sends ``-1`` (MIDPOINT, BID, ASK bars)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: Decimal | None
    wap: Decimal | None
    count: int | None


@dataclass(slots=True, frozen=True)
class HistoricalTick:
    """A MIDPOINT historical tick (HISTORICAL_TICKS); ``size`` is always 0 there."""

    time: datetime
    price: float
    size: Decimal | None = None


@dataclass(slots=True, frozen=True)
class HistoricalTickBidAsk:
    """A BID_ASK historical tick (HISTORICAL_TICKS_BID_ASK).

    Attribute mask bits: 1 ``ask_past_high``, 2 ``bid_past_low``.
    """

    time: datetime
    bid_price: float
    ask_price: float
    bid_size: Decimal | None
    ask_size: Decimal | None
    ask_past_high: bool = False
    bid_past_low: bool = False


@dataclass(slots=True, frozen=True)
class HistoricalTickLast:
    """A TRADES historical tick (HISTORICAL_TICKS_LAST).

    Attribute mask bits: 1 ``past_limit``, 2 ``unreported``.
    """

    time: datetime
    price: float
    size: Decimal | None
    exchange: str = ""
    special_conditions: str = ""
    past_limit: bool = False
    unreported: bool = False


@dataclass(slots=True, frozen=True)
class HistogramEntry:
    """One price level of HISTOGRAM_DATA: how much traded at ``price``."""

    price: float
    size: Decimal


@dataclass(slots=True, frozen=True)
class HistoricalSession:
    """One trading session of a HISTORICAL_SCHEDULE; ``ref_date`` is its trading day."""

    start: datetime
    end: datetime
    ref_date: date


@dataclass(slots=True, frozen=True)
class HistoricalSchedule:
    """The trading sessions of a range (``what_to_show="SCHEDULE"``), in ``time_zone``."""

    start: datetime
    end: datetime
    time_zone: str
    sessions: list[HistoricalSession] = field(default_factory=list)
