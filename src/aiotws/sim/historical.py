"""Simulator handlers for historical data, answered from the :class:`~aiotws.sim.history.History`
engine (one per simulator, :func:`history_of`), at the simulated time
:meth:`~aiotws.sim.server.Simulator.market_time`.

What each request gets, as TWS answers it:

* REQ_HISTORICAL_DATA: error 200 for a contract that matches no instrument or several; TWS's
  own checks (:func:`~aiotws.model.barsizes.tws_error`: 10314 unreadable end date, 321 bar
  size / duration / whatToShow / keepUpToDate rules, 162 from the data farm), then the
  engine's (10299 TRADES of crypto, 162 "No historical market data for …" for a data type
  the security type lacks); a bare ``yyyymmdd hh:mm:ss`` end draws warning 2174 and is read
  in the TWS session's zone (``config.time_zone``). Then pacing (below), then the bars:
  HISTORICAL_DATA with the range served (below server 196), or HISTORICAL_DATA and
  HISTORICAL_DATA_END (from 196). No bars: 162 "HMDS query returned no data: …". An end
  after the simulated now is read as now. ``formatDate`` 1 writes intraday times as
  ``yyyymmdd hh:mm:ss <instrument zone>``, 2 as epoch seconds; daily and longer bars are
  ``yyyymmdd`` either way. The range is ``yyyymmdd hh:mm:ss <zone>``, the start being the end
  minus the duration on the calendar (``N D`` = N × 24 h), as TWS writes it.
* ``whatToShow="SCHEDULE"`` (server 165+; below, 321 as TWS rejects an unknown value):
  HISTORICAL_SCHEDULE, the sessions of the range (``N D``: the last N sessions) in the
  instrument's zone, the range being from the first session's start to the last one's end.
* ``keepUpToDate``: after the bars, on the market clock (:func:`step_history`), at most once
  per simulated second, HISTORICAL_DATA_UPDATE with the bar in progress when it changed; when
  a new bar has begun, the finished bar's final values first, then the new bar.
* CANCEL_HISTORICAL_DATA: a live keepUpToDate request ends, nothing is sent (TWS
  acknowledges nothing). A query still in flight (here: one that ``sim.faults.unanswered``
  swallowed) gets 162 "API historical data query cancelled: <id>", as TWS answers the cancel
  of a running query (ib_insync#268); any other id gets 366 "No historical data query found
  for ticker id" (PROTOCOL.md pitfall 2). A request id already live: 386.
* REQ_HEAD_TIMESTAMP: HEAD_TIMESTAMP, ``yyyymmdd-hh:mm:ss`` (UTC) or epoch seconds; the
  request stays open until CANCEL_HEAD_TIMESTAMP (no acknowledgement).
* REQ_HISTORICAL_TICKS: up to 1000 ticks (more are capped) from the start or up to the end
  (neither: up to now) in one HISTORICAL_TICKS_LAST (TRADES), HISTORICAL_TICKS_BID_ASK
  (BID_ASK, ``ignoreSize`` drops quotes whose prices did not change) or HISTORICAL_TICKS
  (MIDPOINT) with ``done``; none in range: an empty one.
* REQ_HISTOGRAM_DATA: HISTOGRAM_DATA over the period up to now (empty for an instrument
  without trades); a period that does not read: 321. CANCEL_HISTOGRAM_DATA: no answer.
* REQ_REAL_TIME_BARS: one REAL_TIME_BARS per 5 simulated seconds, each sent when its slot
  (aligned to 5 s) is complete, only inside the instrument's sessions (regular hours with
  ``useRTH``). ``barSize`` is ignored, as TWS ignores it (IB's API reference: "currently being
  ignored"; clients send 0 or 30 and get 5-second bars, rust-ibapi's encoder, ib_insync#478).
  A subscription uses a market data line (101 when ``config.market_data_lines`` are taken,
  counting REQ_MKT_DATA subscriptions too); 102 for a live id; 420 for a data type the
  instrument lacks and for pacing. CANCEL_REAL_TIME_BARS: no answer.

**Pacing** (``config.historical_pacing``, on by default, like TWS), over every connection of
the simulator, measured on ``config.clock``: an identical request within 15 s; a sixth
request for the same contract, exchange and data type within 2 s; more than 60 requests in
10 minutes (bars under 1 minute, head timestamps, ticks, histograms and real-time bars; a
BID_ASK request counts twice). A violation is error 162 "Historical Market Data Service
error message:Historical data request pacing violation" (420 "Invalid Real-time
Query:Historical data request pacing violation" for real-time bars) and is not recorded:
only requests that were served count.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from aiotws.model.barsizes import RULES, tws_error
from aiotws.model.contract import Contract
from aiotws.model.history import (
    BarData,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from aiotws.sim.history import MAX_TICKS, BarSize, History, parse_bar_size, parse_duration
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
from aiotws.sim.universe import Instrument
from aiotws.timezones import resolve_zone
from aiotws.wire.layout import InMessage
from aiotws.wire.messages.historical import (
    BarRow,
    CancelHeadTimestamp,
    CancelHistogramData,
    CancelHistoricalData,
    CancelRealTimeBars,
    HeadTimestamp,
    HistogramData,
    HistogramRow,
    HistoricalData,
    HistoricalDataEnd,
    HistoricalDataUpdate,
    HistoricalSchedule,
    HistoricalTicks,
    HistoricalTicksBidAsk,
    HistoricalTicksLast,
    RealTimeBars,
    ReqHeadTimestamp,
    ReqHistogramData,
    ReqHistoricalData,
    ReqHistoricalTicks,
    ReqRealTimeBars,
    SessionRow,
    TickBidAskRow,
    TickLastRow,
    TickRow,
)
from aiotws.wire.versions import SV

__all__ = [
    "CANCELLED_TEXT",
    "PACING_TEXT",
    "LiveBars",
    "RealTimeSubscription",
    "history_of",
    "send_tick_history",
    "step_history",
    "ticks_message",
]

log = logging.getLogger("aiotws.sim")

#: TWS's 162 for a pacing violation (QuantConnect/Lean#607, IB's historical limitations page)
PACING_TEXT: Final = (
    "Historical Market Data Service error message:Historical data request pacing violation"
)
#: TWS's 162 for the cancel of a query in flight (ib_insync#268), ``{}`` the request id
CANCELLED_TEXT: Final = (
    "Historical Market Data Service error message:API historical data query cancelled: {}"
)
_RT_PACING_TEXT: Final = "Invalid Real-time Query:Historical data request pacing violation"

_LIVE: Final = "hist_live"  # req_id -> LiveBars
_DONE: Final = "hist_done"  # request ids answered (their cancel is 366)
_HEADS: Final = "hist_heads"  # open head timestamp requests
_RT: Final = "rt_bars"  # req_id -> RealTimeSubscription
_MKT_DATA: Final = "mkt_data"  # the market data module's subscriptions (they share the lines)

_IDENTICAL: Final = 15.0
_SAME_KEY_MAX: Final = 6  # this many within the interval is a violation
_SAME_KEY: Final = 2.0
_WINDOW_MAX: Final = 60  # more than this within the window is a violation
_WINDOW: Final = 600.0
_UNSET: Final = Decimal(-1)
_TICK_KINDS: Final = {
    "Last": "TRADES",
    "AllLast": "TRADES",
    "BidAsk": "BID_ASK",
    "MidPoint": "MIDPOINT",
}
#: how far back the bar in progress is looked for, by bar unit (daily and longer)
_SPAN: Final = {"d": "5 D", "w": "1 M", "m": "3 M"}
#: real-time bars a late clock step sends at most (TWS never replays older ones)
_RT_CATCH_UP: Final = 12


# -- per-simulator state -------------------------------------------------------------------------


@dataclass(slots=True)
class _Pacing:
    """What TWS remembers of the served requests (times on ``config.clock``)."""

    identical: dict[Hashable, float] = field(default_factory=dict)
    by_key: dict[Hashable, deque[float]] = field(default_factory=dict)
    window: deque[tuple[float, int]] = field(default_factory=deque)


@dataclass(slots=True)
class _State:
    history: History
    pacing: _Pacing = field(default_factory=_Pacing)


_STATES: Final[WeakKeyDictionary[Simulator, _State]] = WeakKeyDictionary()


def _state(sim: Simulator) -> _State:
    st = _STATES.get(sim)
    if st is None:
        # history meets the live market when the simulator starts: the live engine's
        # opening state (time-independent) is history's state at that minute, so bars up to
        # now end where the live quotes begin
        st = _STATES[sim] = _State(History(sim.universe, sim.market, anchor=sim.market_time()))
    return st


def history_of(sim: Simulator) -> History:
    """The historical data engine ``sim`` answers from (built on first use, seeded like its
    market): tests compare what a client received with it."""
    return _state(sim).history


@dataclass(slots=True)
class LiveBars:
    """One keepUpToDate REQ_HISTORICAL_DATA of a session, and the bar its client holds."""

    req_id: int
    con_id: int
    size: BarSize
    what_to_show: str
    use_rth: bool
    format_date: int
    zone: tzinfo
    zone_name: str
    last: BarData | None
    #: the simulated time (epoch seconds) the request was last looked at
    checked: float = -math.inf


@dataclass(slots=True)
class RealTimeSubscription:
    """One REQ_REAL_TIME_BARS subscription; ``next_slot``: start (epoch s) of the next bar."""

    req_id: int
    con_id: int
    what_to_show: str
    use_rth: bool
    next_slot: int


def _live(session: SimSession) -> dict[int, LiveBars]:
    subs: dict[int, LiveBars] = session.state.setdefault(_LIVE, {})
    return subs


def _real_time(session: SimSession) -> dict[int, RealTimeSubscription]:
    subs: dict[int, RealTimeSubscription] = session.state.setdefault(_RT, {})
    return subs


def _done(session: SimSession) -> set[int]:
    done: set[int] = session.state.setdefault(_DONE, set())
    return done


# -- shared checks -------------------------------------------------------------------------------


def _match(session: SimSession, req_id: int, contract: Contract) -> Instrument | None:
    """The one instrument the request names, else error 200 sent and ``None``."""
    matches = session.sim.universe.match(contract)
    if len(matches) != 1:
        what = "is ambiguous" if matches else "has not been found"
        session.send_error(req_id, 200, f"The contract description specified {what}")
        return None
    inst = session.sim.universe.by_con_id(matches[0].contract.con_id)
    assert inst is not None
    return inst


def _checked(
    session: SimSession,
    req_id: int,
    contract: Contract,
    what_to_show: str,
    check: Callable[[History, int, str], tuple[int, str] | None],
) -> tuple[Instrument, History, str] | None:
    """The common prologue: the one instrument named, its history and the upper-cased
    ``what_to_show`` if ``check`` accepts them; else the error sent and ``None``."""
    inst = _match(session, req_id, contract)
    if inst is None:
        return None
    history = history_of(session.sim)
    wts = what_to_show.strip().upper()
    err = check(history, inst.con_id, wts)
    if err is not None:
        session.send_error(req_id, *err)
        return None
    return inst, history, wts


def _allowed(
    sim: Simulator, identity: Hashable | None, key: Hashable | None, weight: int, windowed: bool
) -> bool:
    """Whether a request is within IB's pacing rules now; a request that is gets recorded.

    ``identity`` (the 15-second rule) and ``key`` (contract, exchange and data type: the
    2-second rule) may be ``None`` for requests those rules do not cover.
    """
    if not sim.config.historical_pacing:
        return True
    p = _state(sim).pacing
    now = sim.config.clock()
    for ident, at in list(p.identical.items()):  # oldest first
        if now - at < _IDENTICAL:
            break
        del p.identical[ident]
    for k, times in list(p.by_key.items()):
        while times and now - times[0] >= _SAME_KEY:
            times.popleft()
        if not times:
            del p.by_key[k]
    while p.window and now - p.window[0][0] >= _WINDOW:
        p.window.popleft()
    if identity is not None and identity in p.identical:
        return False
    if key is not None and len(p.by_key.get(key, ())) + 1 >= _SAME_KEY_MAX:
        return False
    if windowed and sum(w for _, w in p.window) + weight > _WINDOW_MAX:
        return False
    if identity is not None:
        p.identical[identity] = now
    if key is not None:
        p.by_key.setdefault(key, deque()).append(now)
    if windowed:
        p.window.append((now, weight))
    return True


def _weight(what_to_show: str) -> int:
    return 2 if what_to_show == "BID_ASK" else 1


def _zone_of(history: History, inst: Instrument) -> tuple[tzinfo, str]:
    """The instrument's zone and the name TWS writes for it (its ``timeZoneId``)."""
    zone = history.time_zone(inst.con_id)
    name = inst.details.time_zone_id
    return zone, name if name and name == zone.key else zone.key


def _parse_time(text: str, session_zone: tzinfo, now: datetime) -> tuple[datetime | None, bool]:
    """A request time as TWS reads it: ``""`` is now, ``yyyymmdd-hh:mm:ss`` UTC,
    ``[yyyymmdd ]hh:mm:ss [zone]`` (no date: today; no zone: the TWS session's zone, and
    the second value is True). ``None`` when TWS could not read it (10314)."""
    t = text.strip()
    if not t:
        return now, False
    if "-" in t and " " not in t:
        day, _, clock = t.partition("-")
        try:
            return datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S").replace(tzinfo=UTC), False
        except ValueError:
            return None, False
    parts = t.split()
    day_part: str | None = None
    if len(parts[0]) == 8 and parts[0].isdigit():
        day_part, parts = parts[0], parts[1:]
    if not parts:
        return None, False
    zone_name = " ".join(parts[1:])
    zone = resolve_zone(zone_name) if zone_name else session_zone
    if zone is None:
        return None, False
    if day_part is None:
        day_part = now.astimezone(zone).strftime("%Y%m%d")
    try:
        when = datetime.strptime(f"{day_part} {parts[0]}", "%Y%m%d %H:%M:%S")
    except ValueError:
        return None, False
    return when.replace(tzinfo=zone), not zone_name


def _end_format_error(session: SimSession, req_id: int) -> None:
    rule = RULES["end_format"]
    session.send_error(req_id, rule.code, rule.wire_text(rule.cause))


def _naive_warning(session: SimSession, req_id: int) -> None:
    rule = RULES["end_naive"]
    session.send_error(req_id, rule.code, rule.wire_text(rule.cause))


def _session_zone(sim: Simulator) -> tzinfo:
    try:
        return ZoneInfo(sim.config.time_zone)
    except (KeyError, ValueError):
        return UTC


# -- formatting ----------------------------------------------------------------------------------


def _bar_time(when: datetime | date, format_date: int, zone_name: str) -> str:
    if not isinstance(when, datetime):
        return when.strftime("%Y%m%d")
    if format_date == 2:
        return str(int(when.timestamp()))
    return f"{when:%Y%m%d %H:%M:%S} {zone_name}"


def _range_time(when: datetime, zone: tzinfo, zone_name: str) -> str:
    return f"{when.astimezone(zone):%Y%m%d %H:%M:%S} {zone_name}"


def _row(b: BarData, format_date: int, zone_name: str) -> BarRow:
    return BarRow(
        _bar_time(b.date, format_date, zone_name),
        b.open,
        b.high,
        b.low,
        b.close,
        _UNSET if b.volume is None else b.volume,
        _UNSET if b.wap is None else b.wap,
        -1 if b.bar_count is None else b.bar_count,
    )


def _update_message(sub: LiveBars, b: BarData) -> HistoricalDataUpdate:
    return HistoricalDataUpdate(
        sub.req_id,
        -1 if b.bar_count is None else b.bar_count,
        _bar_time(b.date, sub.format_date, sub.zone_name),
        b.open,
        b.close,
        b.high,
        b.low,
        _UNSET if b.wap is None else b.wap,
        _UNSET if b.volume is None else b.volume,
    )


def _duration_text(text: str) -> str:
    """A duration TWS accepted, in the engine's ``N U`` form (a bare number is seconds)."""
    t = text.strip()
    return f"{t} S" if t.isdigit() else t


def _minus_duration(end: datetime, duration: str, zone: tzinfo) -> datetime:
    """``end`` minus a duration on the calendar (``N D`` is N × 24 h), as TWS states a range."""
    n, unit = parse_duration(duration)
    if unit == "S":
        return end - timedelta(seconds=n)
    if unit == "D":
        return end - timedelta(days=n)
    if unit == "W":
        return end - timedelta(weeks=n)
    local = end.astimezone(zone)
    months = n if unit == "M" else 12 * n
    y, m = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, _month_days(y, m + 1))
    return local.replace(year=y, month=m + 1, day=day)


def _month_days(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _schedule_start(
    history: History, con_id: int, end: datetime, duration: str, use_rth: bool, zone: tzinfo
) -> datetime:
    """Where a schedule of ``duration`` up to ``end`` starts: ``N D`` is the last N sessions."""
    n, unit = parse_duration(duration)
    if unit != "D":
        return _minus_duration(end, duration, zone)
    sessions = [
        s
        for s in history.sessions(con_id, end - timedelta(days=2 * n + 14), end, use_rth)
        if s.start < end
    ]
    if not sessions:
        return end - timedelta(days=n)
    return sessions[-n].start if len(sessions) >= n else sessions[0].start


# -- REQ_HISTORICAL_DATA -------------------------------------------------------------------------


@handles(ReqHistoricalData)
def _req_historical_data(session: SimSession, msg: ReqHistoricalData) -> None:
    sim = session.sim
    req_id = msg.req_id
    if req_id in _live(session):
        session.send_error(req_id, 386, "Duplicate ticker id for API historical data query")
        return
    inst = _match(session, req_id, msg.contract)
    if inst is None:
        return
    history = history_of(sim)
    c = inst.contract
    con_id = inst.con_id
    wts = msg.what_to_show.strip().upper()
    err: tuple[int, str] | None
    if wts == "SCHEDULE" and session.version < SV.HISTORICAL_SCHEDULE:
        rule = RULES["what_to_show"]
        err = (rule.code, rule.wire_text(rule.cause.format(value=msg.what_to_show)))
    else:
        err = tws_error(
            msg.bar_size_setting,
            msg.duration_str,
            msg.what_to_show,
            end=msg.end_date_time,
            keep_up_to_date=msg.keep_up_to_date,
            sec_type=c.sec_type,
            symbol=c.symbol,
            exchange=c.exchange,
        )
    if err is None or err[0] == 162:
        # the engine's verdict on the data type: TWS's own 10299 (crypto TRADES) comes
        # before the farm's answers
        try:
            engine = history.validate(con_id, wts, msg.bar_size_setting)
        except ValueError:
            engine = history.validate(con_id, wts)
        if engine is not None and (err is None or engine[0] == 10299):
            err = engine
    now = sim.market_time()
    end, naive = _parse_time(msg.end_date_time, _session_zone(sim), now)
    if end is None:  # TWS reads the end first (a zone it does not know included)
        _end_format_error(session, req_id)
        return
    if naive:
        _naive_warning(session, req_id)
    if err is not None:
        session.send_error(req_id, *err)
        return
    size_text = msg.bar_size_setting.strip()
    duration = _duration_text(msg.duration_str)
    identity = (
        "bars", con_id, msg.contract.exchange, msg.end_date_time.strip(), size_text.lower(),
        duration.upper(), msg.use_rth, wts, msg.format_date, msg.keep_up_to_date,
    )  # fmt: skip
    size = parse_bar_size(size_text)
    windowed = size.intraday and size.seconds < 60 and wts != "SCHEDULE"
    key = (con_id, msg.contract.exchange, wts)
    if not _allowed(sim, identity, key, _weight(wts), windowed):
        session.send_error(req_id, 162, PACING_TEXT)
        return
    end = min(end, now)
    zone, zone_name = _zone_of(history, inst)
    if wts == "SCHEDULE":
        _send_schedule(session, req_id, history, con_id, end, duration, msg.use_rth, zone_name)
        return
    try:
        bars = history.bars(con_id, end, duration, size, wts, msg.use_rth)
    except ValueError:
        log.exception("history engine failed on %r", msg)
        bars = []
    if not bars:
        _done(session).add(req_id)
        session.send_error(req_id, *history.no_data_error(con_id, wts))
        return
    fmt = msg.format_date
    rows = [_row(b, fmt, zone_name) for b in bars]
    start_text = _range_time(_minus_duration(end, duration, zone), zone, zone_name)
    end_text = _range_time(end, zone, zone_name)
    if session.version < SV.HISTORICAL_DATA_END:
        session.send(HistoricalData(req_id, start_text, end_text, rows))
    else:
        session.send(HistoricalData(req_id, bars=rows))
        session.send(HistoricalDataEnd(req_id, start_text, end_text))
    if not msg.keep_up_to_date:
        _done(session).add(req_id)
        return
    sub = LiveBars(req_id, con_id, size, wts, msg.use_rth, fmt, zone, zone_name, bars[-1])
    sub.checked = now.timestamp()
    _live(session)[req_id] = sub
    sim.ensure_market_clock()


def _send_schedule(
    session: SimSession,
    req_id: int,
    history: History,
    con_id: int,
    end: datetime,
    duration: str,
    use_rth: bool,
    zone_name: str,
) -> None:
    _done(session).add(req_id)
    zone = history.time_zone(con_id)
    start = _schedule_start(history, con_id, end, duration, use_rth, zone)
    sessions = history.sessions(con_id, start, end, use_rth)
    if not sessions:
        session.send_error(req_id, *history.no_data_error(con_id, "SCHEDULE"))
        return

    def fmt(t: datetime) -> str:
        return f"{t.astimezone(zone):%Y%m%d-%H:%M:%S}"

    rows = [_session_row(s, fmt(s.start), fmt(s.end)) for s in sessions]
    session.send(
        HistoricalSchedule(req_id, rows[0].start_date_time, rows[-1].end_date_time, zone_name, rows)
    )


def _session_row(s: HistoricalSession, start: str, end: str) -> SessionRow:
    return SessionRow(start, end, s.ref_date.strftime("%Y%m%d"))


def _in_flight(session: SimSession, req_id: int) -> bool:
    """A REQ_HISTORICAL_DATA of this id that the simulator swallowed (a fault) and never
    answered: for TWS, a query still running."""
    sim = session.sim
    if ReqHistoricalData not in sim.faults.unanswered or req_id in _done(session):
        return False
    return any(isinstance(r, ReqHistoricalData) and r.req_id == req_id for r in sim.requests)


@handles(CancelHistoricalData)
def _cancel_historical_data(session: SimSession, msg: CancelHistoricalData) -> None:
    req_id = msg.req_id
    if _live(session).pop(req_id, None) is not None:
        _done(session).add(req_id)
        return  # TWS acknowledges nothing
    if _in_flight(session, req_id):
        _done(session).add(req_id)
        session.send_error(req_id, 162, CANCELLED_TEXT.format(req_id))
        return
    session.send_error(req_id, 366, f"No historical data query found for ticker id:{req_id}")


# -- keepUpToDate and real-time bars on the market clock -------------------------------------------


def _latest_bar(history: History, sub: LiveBars, now: datetime) -> BarData | None:
    """The bar in progress at ``now`` (or the latest before it, outside the sessions)."""
    size = sub.size
    span: str | timedelta = (
        timedelta(seconds=max(4 * size.seconds, 300)) if size.intraday else _SPAN[size.unit]
    )
    got = history.bars(sub.con_id, now, span, size, sub.what_to_show, sub.use_rth, tz=sub.zone)
    return got[-1] if got else None


def _final_bar(history: History, sub: LiveBars, bar: BarData, now: datetime) -> BarData | None:
    """``bar`` as it ended (its values once the next bar had begun)."""
    size = sub.size
    if isinstance(bar.date, datetime):
        end = min(now, bar.date + timedelta(seconds=size.seconds))
        got = history.bars(
            sub.con_id, end, bar.date, size, sub.what_to_show, sub.use_rth, tz=sub.zone
        )
    else:
        got = history.bars(
            sub.con_id, now, _SPAN[size.unit], size, sub.what_to_show, sub.use_rth, tz=sub.zone
        )
    return next((b for b in got if b.date == bar.date), None)


def _later(a: datetime | date, b: datetime | date) -> bool:
    """``a`` after ``b`` (the bars of one request are all dates or all datetimes)."""
    if isinstance(a, datetime) or isinstance(b, datetime):
        return isinstance(a, datetime) and isinstance(b, datetime) and a > b
    return a > b


def _update(session: SimSession, sub: LiveBars, now: datetime) -> int:
    history = history_of(session.sim)
    latest = _latest_bar(history, sub, now)
    last = sub.last
    if latest is None:
        return 0
    out: list[BarData] = []
    if last is not None and latest.date == last.date:
        if latest == last:
            return 0
        out.append(latest)
    elif last is not None and not _later(latest.date, last.date):
        return 0
    elif last is not None and isinstance(last.date, datetime):
        # every bar since the last one sent: a clock that jumped several bars (load, a fast
        # market_speed) must not leave holes in a keep-up-to-date list
        got = history.bars(
            sub.con_id, now, last.date, sub.size, sub.what_to_show, sub.use_rth, tz=sub.zone
        )
        out.extend(b for b in got if b.date != last.date or b != last)
        if not out or out[-1].date != latest.date:
            out.append(latest)
    else:
        if last is not None:
            final = _final_bar(history, sub, last, now)
            if final is not None and final != last:
                out.append(final)
        out.append(latest)
    for b in out:
        session.send(_update_message(sub, b))
    sub.last = latest
    return len(out)


def _send_real_time(session: SimSession, sub: RealTimeSubscription, now: datetime) -> int:
    history = history_of(session.sim)
    t = now.timestamp()
    current = int(t) // 5 * 5
    sub.next_slot = max(sub.next_slot, current - 5 * _RT_CATCH_UP)
    sent = 0
    while sub.next_slot + 5 <= t:
        slot = datetime.fromtimestamp(sub.next_slot, UTC)
        sub.next_slot += 5
        bar = history.real_time_bar(sub.con_id, slot, sub.what_to_show, sub.use_rth)
        if bar is None:
            continue
        session.send(
            RealTimeBars(
                sub.req_id,
                bar.time,
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                _UNSET if bar.volume is None else bar.volume,
                _UNSET if bar.wap is None else bar.wap,
                -1 if bar.count is None else bar.count,
            )
        )
        sent += 1
    return sent


@on_clock
def step_history(sim: Simulator, now: datetime | None = None) -> int:
    """Send what the simulated time ``now`` (default :meth:`Simulator.market_time`) brings
    to every keepUpToDate request (HISTORICAL_DATA_UPDATE, at most once per simulated second)
    and real-time bars subscription (each complete 5-second bar); returns how many messages
    were sent. The market clock calls it; with ``tick_interval=0`` tests call it."""
    now = now or sim.market_time()
    t = now.timestamp()
    sent = 0
    for session in list(sim.sessions):
        for sub in list(session.state.get(_LIVE, {}).values()):
            if t - sub.checked < 1.0:
                continue
            sub.checked = t
            try:
                sent += _update(session, sub, now)
            except ValueError:
                log.exception("keepUpToDate update failed for request %d", sub.req_id)
        for rt in list(session.state.get(_RT, {}).values()):
            try:
                sent += _send_real_time(session, rt, now)
            except ValueError:
                log.exception("real-time bar failed for request %d", rt.req_id)
    return sent


# -- head timestamp ------------------------------------------------------------------------------


@handles(ReqHeadTimestamp)
def _req_head_timestamp(session: SimSession, msg: ReqHeadTimestamp) -> None:
    sim = session.sim
    req_id = msg.req_id
    checked = _checked(session, req_id, msg.contract, msg.what_to_show, History.validate)
    if checked is None:
        return
    inst, history, wts = checked
    exchange = msg.contract.exchange
    identity = ("head", inst.con_id, exchange, wts, msg.use_rth, msg.format_date)
    if not _allowed(sim, identity, (inst.con_id, exchange, wts), _weight(wts), True):
        session.send_error(req_id, 162, PACING_TEXT)
        return
    head = history.head_timestamp(inst.con_id, wts, msg.use_rth)
    text = str(int(head.timestamp())) if msg.format_date == 2 else f"{head:%Y%m%d-%H:%M:%S}"
    session.state.setdefault(_HEADS, set()).add(req_id)
    session.send(HeadTimestamp(req_id, text))


@handles(CancelHeadTimestamp)
def _cancel_head_timestamp(session: SimSession, msg: CancelHeadTimestamp) -> None:
    session.state.setdefault(_HEADS, set()).discard(msg.req_id)  # no acknowledgement


# -- historical ticks ----------------------------------------------------------------------------


def ticks_message(
    req_id: int,
    what_to_show: str,
    ticks: Sequence[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast],
) -> InMessage:
    """The HISTORICAL_TICKS* message (``done``) carrying ``ticks`` of ``what_to_show``."""
    if what_to_show == "TRADES":
        return HistoricalTicksLast(
            req_id,
            [
                TickLastRow(
                    t.time,
                    (1 if t.past_limit else 0) | (2 if t.unreported else 0),
                    t.price,
                    t.size,
                    t.exchange,
                    t.special_conditions,
                )
                for t in ticks
                if isinstance(t, HistoricalTickLast)
            ],
            True,
        )
    if what_to_show == "BID_ASK":
        return HistoricalTicksBidAsk(
            req_id,
            [
                TickBidAskRow(
                    t.time,
                    (1 if t.ask_past_high else 0) | (2 if t.bid_past_low else 0),
                    t.bid_price,
                    t.ask_price,
                    t.bid_size,
                    t.ask_size,
                )
                for t in ticks
                if isinstance(t, HistoricalTickBidAsk)
            ],
            True,
        )
    return HistoricalTicks(
        req_id,
        [TickRow(t.time, 0, t.price, t.size) for t in ticks if isinstance(t, HistoricalTick)],
        True,
    )


def _prices_changed(
    ticks: list[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast],
) -> list[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast]:
    """BID_ASK ticks without those that change only a size (``ignoreSize``)."""
    out: list[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast] = []
    prev: tuple[float, float] | None = None
    for t in ticks:
        if isinstance(t, HistoricalTickBidAsk):
            quote = (t.bid_price, t.ask_price)
            if quote == prev:
                continue
            prev = quote
        out.append(t)
    return out


@handles(ReqHistoricalTicks)
def _req_historical_ticks(session: SimSession, msg: ReqHistoricalTicks) -> None:
    sim = session.sim
    req_id = msg.req_id
    checked = _checked(session, req_id, msg.contract, msg.what_to_show, History.validate_ticks)
    if checked is None:
        return
    inst, history, wts = checked
    now = sim.market_time()
    zone = _session_zone(sim)
    start = end = None
    naive = False
    if msg.start_date_time.strip():
        start, naive_start = _parse_time(msg.start_date_time, zone, now)
        naive = naive or naive_start
        if start is None:
            _end_format_error(session, req_id)
            return
    if msg.end_date_time.strip():
        end, naive_end = _parse_time(msg.end_date_time, zone, now)
        naive = naive or naive_end
        if end is None:
            _end_format_error(session, req_id)
            return
    if naive:
        _naive_warning(session, req_id)
    exchange = msg.contract.exchange
    identity = (
        "ticks", inst.con_id, exchange, msg.start_date_time.strip(), msg.end_date_time.strip(),
        msg.number_of_ticks, wts, msg.use_rth, msg.ignore_size,
    )  # fmt: skip
    if not _allowed(sim, identity, (inst.con_id, exchange, wts), _weight(wts), True):
        session.send_error(req_id, 162, PACING_TEXT)
        return
    if start is None:
        end = now if end is None else min(end, now)
    elif end is not None:
        end = min(end, now)
    n = min(max(msg.number_of_ticks, 0), MAX_TICKS)
    ticks: list[HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast] = []
    if n and (start is None or start <= now):
        ticks = history.historical_ticks(
            inst.con_id, wts, n, start=start, end=end, use_rth=msg.use_rth
        )
    if wts == "BID_ASK" and msg.ignore_size:
        ticks = _prices_changed(ticks)
    session.send(ticks_message(req_id, wts, ticks))


def send_tick_history(
    session: SimSession, req_id: int, con_id: int, kind: str, number: int, ignore_size: bool
) -> None:
    """The ``number`` historical ticks TWS sends first for a REQ_TICK_BY_TICK_DATA with
    ``numberOfTicks`` > 0: the latest ones up to the simulated now, as HISTORICAL_TICKS_LAST
    (``Last``: reported trades only; ``AllLast``), HISTORICAL_TICKS_BID_ASK (``BidAsk``) or
    HISTORICAL_TICKS (``MidPoint``). Nothing for a kind the instrument has no data of."""
    wts = _TICK_KINDS.get(kind)
    history = history_of(session.sim)
    if wts is None or history.validate_ticks(con_id, wts) is not None:
        return
    now = session.sim.market_time()
    n = min(number, MAX_TICKS)
    fetch = min(n + 50, MAX_TICKS) if kind == "Last" or ignore_size else n
    ticks = history.historical_ticks(con_id, wts, fetch, end=now)
    if kind == "Last":
        ticks = [t for t in ticks if not (isinstance(t, HistoricalTickLast) and t.unreported)]
    if wts == "BID_ASK" and ignore_size:
        ticks = _prices_changed(ticks)
    session.send(ticks_message(req_id, wts, ticks[-n:]))


# -- histogram -----------------------------------------------------------------------------------


@handles(ReqHistogramData)
def _req_histogram_data(session: SimSession, msg: ReqHistogramData) -> None:
    sim = session.sim
    req_id = msg.req_id
    inst = _match(session, req_id, msg.contract)
    if inst is None:
        return
    history = history_of(sim)
    exchange = msg.contract.exchange
    period = " ".join(msg.time_period.split())
    identity = ("histogram", inst.con_id, exchange, msg.use_rth, period.lower())
    if not _allowed(sim, identity, (inst.con_id, exchange, "TRADES"), 1, True):
        session.send_error(req_id, 162, PACING_TEXT)
        return
    try:
        entries = history.histogram(inst.con_id, msg.use_rth, period, sim.market_time())
    except ValueError:
        session.send_error(
            req_id,
            321,
            f"Error validating request.-'bH' : cause - Invalid time period: {msg.time_period}",
        )
        return
    session.send(HistogramData(req_id, [HistogramRow(e.price, e.size) for e in entries]))


@handles(CancelHistogramData)
def _cancel_histogram_data(session: SimSession, msg: CancelHistogramData) -> None:
    """The answer went out at once: nothing to cancel (TWS acknowledges nothing)."""


# -- real-time bars ------------------------------------------------------------------------------


def _lines_in_use(sim: Simulator) -> int:
    return sum(len(s.state.get(_MKT_DATA, ())) + len(s.state.get(_RT, ())) for s in sim.sessions)


@handles(ReqRealTimeBars)
def _req_real_time_bars(session: SimSession, msg: ReqRealTimeBars) -> None:
    sim = session.sim
    req_id = msg.req_id
    subs = _real_time(session)
    if req_id in subs:
        session.send_error(req_id, 102, "Duplicate ticker id")
        return
    checked = _checked(session, req_id, msg.contract, msg.what_to_show, History.validate_real_time)
    if checked is None:
        return
    inst, _, wts = checked
    if _lines_in_use(sim) >= sim.config.market_data_lines:
        session.send_error(
            req_id,
            101,
            f"Max number of tickers has been reached ({sim.config.market_data_lines} lines)",
        )
        return
    # only the 10-minute rule covers real-time bars ("no more than 60 new requests")
    if not _allowed(sim, None, None, 1, True):
        session.send_error(req_id, 420, _RT_PACING_TEXT)
        return
    now = sim.market_time()
    subs[req_id] = RealTimeSubscription(
        req_id, inst.con_id, wts, msg.use_rth, int(now.timestamp()) // 5 * 5
    )
    sim.ensure_market_clock()


@handles(CancelRealTimeBars)
def _cancel_real_time_bars(session: SimSession, msg: CancelRealTimeBars) -> None:
    _real_time(session).pop(msg.req_id, None)  # TWS answers nothing, known id or not
