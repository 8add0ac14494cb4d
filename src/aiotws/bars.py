"""Live bar lists: historical bars kept up to date, and real-time 5-second bars.

A :class:`BarList` is a ``list`` of :class:`~aiotws.model.BarData` plus the request that
filled it. With ``keep_up_to_date`` it stays live: TWS's HISTORICAL_DATA_UPDATE either
revises the last bar (the same ``BarData`` object is updated in place, so a reference to
``bars[-1]`` sees it) or starts a new one (appended). Each update fires ``updated(bars,
has_new_bar)`` and wakes ``updates()`` iterators (latest state, bounded memory).

:class:`RealTimeBarList` is the same for REAL_TIME_BARS: a new 5-second bar is appended
each time (``max_bars`` bounds the list for long-running services).

Both survive a lost connection when ``Client.keep_live`` is set: ``stale`` turns True, and
after ``Client.resume_live`` the list goes on where it stopped. A bar list asks TWS for the
bars since its last one and merges them in (the last bar is revised in place, newer ones
appended, older ones skipped), so it has neither duplicates nor a gap; ``stale`` turns
False with that answer (or a list's first new bar).

Also here: reading TWS's bar times (``parse_bar_time``), which come as a date for daily and
longer bars, epoch seconds with ``formatDate=2``, or ``yyyymmdd hh:mm:ss [zone]``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from html import escape
from typing import Any

from eventkit import Event

from aiotws.errors import RequestError
from aiotws.live import LatestUpdates
from aiotws.model.contract import Contract
from aiotws.model.history import BarData, RealTimeBar
from aiotws.timezones import parse_tws_datetime, resolve_zone

__all__ = ["BarList", "RealTimeBarList", "bar_time_reader", "parse_bar_time"]


def parse_bar_time(text: str, zone: tzinfo | None = None) -> datetime | date:
    """A bar's time as TWS wrote it: ``yyyymmdd`` is a ``date``; epoch seconds (formatDate
    2) a UTC datetime; ``yyyymmdd hh:mm:ss [zone]`` a datetime in that zone (or ``zone``,
    the TWS session's zone, when the text names none). Raises ``ValueError`` otherwise."""
    n = len(text)
    if n == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    if n >= 17 and text[8] == " " and text[11] == ":" and text[14] == ":":
        # the common "20261201 09:30:00 US/Eastern": sliced, not strptime'd (tens of
        # thousands of bars per request)
        tz = resolve_zone(text[18:]) if n > 18 else None
        if tz is None:
            tz = zone if n <= 18 else None
        if tz is not None:
            return datetime(
                int(text[:4]),
                int(text[4:6]),
                int(text[6:8]),
                int(text[9:11]),
                int(text[12:14]),
                int(text[15:17]),
                tzinfo=tz,
            )
    parsed = parse_tws_datetime(text, zone)
    if parsed is None:
        raise ValueError(f"not a TWS bar time (or its zone is unknown): {text!r}")
    return parsed


def bar_time_reader(zone: tzinfo | None) -> Callable[[str], datetime | date]:
    """:func:`parse_bar_time` for a whole answer: days and times of day are cached, so a
    year of minute bars costs two dict lookups and an addition per bar.

    A bar of ``yyyymmdd hh:mm:ss zone`` is that day's local midnight (cached per day) plus
    the time of day (cached per text): wall-clock arithmetic, which is what TWS's text
    means. Anything else goes to :func:`parse_bar_time`. A closure, not an object: a call
    is the hot path's only function call per bar.
    """
    days: dict[str, tuple[int, str, datetime]] = {}  # day -> (length, zone text, midnight)
    times: dict[str, timedelta] = {}

    def read(text: str) -> datetime | date:
        n = len(text)
        if n > 17 and text[14] == ":":
            entry = days.get(text[:8])
            if entry is None or entry[0] != n or not text.endswith(entry[1]):
                if text[8] != " " or text[11] != ":":
                    return parse_bar_time(text, zone)
                tz = resolve_zone(text[18:])
                if tz is None:
                    return parse_bar_time(text, zone)
                midnight = datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), tzinfo=tz)
                entry = days[text[:8]] = (n, text[17:], midnight)
            clock = text[9:17]
            td = times.get(clock)
            if td is None:
                td = times[clock] = timedelta(
                    hours=int(clock[:2]), minutes=int(clock[3:5]), seconds=int(clock[6:8])
                )
            return entry[2] + td
        return parse_bar_time(text, zone)

    return read


class _LiveList:
    """What the two live lists share: the end of the subscription and the iterators."""

    _closed: bool | BaseException
    _waiters: list[LatestUpdates[Any]]
    errors: list[RequestError]
    #: True from a lost connection (kept by ``Client.keep_live``) to the first update after
    #: ``Client.resume_live``: bars may be missing at the end meanwhile
    stale: bool

    @property
    def done(self) -> bool:
        """True once the request ended (complete without keep-up-to-date, cancelled, failed)."""
        return self._closed is not False

    def _close(self, error: BaseException | None = None) -> None:
        if self._closed is not False:
            return
        self._closed = error if error is not None else True
        for w in list(self._waiters):
            w.end(error)

    def _wake(self) -> None:
        for w in self._waiters:
            w.wake()


class BarList(list[BarData], _LiveList):
    """Historical bars and the request that produced them (live with keep_up_to_date)."""

    __slots__ = (
        "__weakref__",
        "_closed",
        "_waiters",
        "bar_size",
        "chart_options",
        "contract",
        "duration",
        "end",
        "end_text",
        "errors",
        "format_date",
        "keep_up_to_date",
        "req_id",
        "stale",
        "start_text",
        "updated",
        "use_rth",
        "what_to_show",
    )

    def __init__(
        self,
        contract: Contract,
        *,
        end: datetime | None = None,
        duration: str = "",
        bar_size: str = "",
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        format_date: int = 1,
        keep_up_to_date: bool = False,
        chart_options: str = "",
        req_id: int = -1,
        bars: Iterable[BarData] = (),
    ) -> None:
        super().__init__(bars)
        self.contract = contract
        self.end = end
        self.duration = duration
        self.bar_size = bar_size
        self.what_to_show = what_to_show
        self.use_rth = use_rth
        self.format_date = format_date
        self.keep_up_to_date = keep_up_to_date
        self.chart_options = chart_options
        self.req_id = req_id
        #: the range TWS says it answered (HISTORICAL_DATA_END's start and end, as sent)
        self.start_text = ""
        self.end_text = ""
        self.errors: list[RequestError] = []
        #: ``updated(bars, has_new_bar)``: a keep-up-to-date revision or a new bar
        self.updated = Event("bars.updated")
        self.stale = False
        self._waiters: list[LatestUpdates[Any]] = []
        self._closed: bool | BaseException = False

    # list equality stays list equality; a BarList is not hashable, like a list
    __hash__ = None  # type: ignore[assignment]

    def _on_update(self, bar: BarData) -> None:
        """HISTORICAL_DATA_UPDATE: revise the last bar in place, or append a new one."""
        last = self[-1] if self else None
        if last is not None and last.date == bar.date:
            last.open, last.high, last.low, last.close = bar.open, bar.high, bar.low, bar.close
            last.volume, last.wap, last.bar_count = bar.volume, bar.wap, bar.bar_count
            new = False
        elif last is not None and _later(last.date, bar.date):
            return  # older than what we hold (TWS repeats after a reconnect): ignore
        else:
            self.append(bar)
            new = True
        self.stale = False
        self._wake()
        if len(self.updated):
            self.updated.emit(self, new)

    def _stitch(self, rows: Iterable[BarData]) -> None:
        """The answer of a re-request after a reconnect: merge it into the list.

        A bar of the last bar's time replaces its values in place, later ones are appended,
        earlier ones (held already) are skipped. Fires ``updated`` once.
        """
        new = False
        for bar in rows:
            last = self[-1] if self else None
            if last is None or _later(bar.date, last.date):
                self.append(bar)
                new = True
            elif last.date == bar.date:
                last.open, last.high, last.low = bar.open, bar.high, bar.low
                last.close, last.volume = bar.close, bar.volume
                last.wap, last.bar_count = bar.wap, bar.bar_count
        self.stale = False
        self._wake()
        if len(self.updated):
            self.updated.emit(self, new)

    def updates(self) -> AsyncIterator[BarList]:
        """Yields this list after each update (latest state only); ends with the request."""
        return LatestUpdates(self, self._waiters, self._closed)

    def df(self) -> Any:
        """The bars as a pandas DataFrame (``pip install aiotws[pandas]``)."""
        return _frame(self, ("date", "open", "high", "low", "close", "volume", "wap", "bar_count"))

    def __repr__(self) -> str:
        sym = self.contract.local_symbol or self.contract.symbol
        live = " live" if self.keep_up_to_date and not self.done else ""
        span = f" {self[0].date} .. {self[-1].date}" if self else ""
        return f"<BarList {sym} {self.bar_size} {self.what_to_show} {len(self)} bars{span}{live}>"

    def _repr_html_(self) -> str:
        """A table of the first and last bars, with the count, for notebooks."""
        cols = ("date", "open", "high", "low", "close", "volume", "wap", "bar_count")
        return _bars_html(self, cols)


class RealTimeBarList(list[RealTimeBar], _LiveList):
    """Live 5-second bars (REAL_TIME_BARS): one appended per bar; ``max_bars`` bounds it."""

    __slots__ = (
        "__weakref__",
        "_closed",
        "_waiters",
        "bar_size",
        "contract",
        "errors",
        "max_bars",
        "options",
        "req_id",
        "stale",
        "updated",
        "use_rth",
        "what_to_show",
    )

    def __init__(
        self,
        contract: Contract,
        *,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        max_bars: int | None = None,
        options: str = "",
        req_id: int = -1,
    ) -> None:
        super().__init__()
        if max_bars is not None and max_bars < 1:
            raise ValueError("max_bars must be at least 1 (or None for no bound)")
        self.contract = contract
        self.bar_size = 5
        self.what_to_show = what_to_show
        self.use_rth = use_rth
        self.max_bars = max_bars
        self.options = options
        self.req_id = req_id
        self.errors: list[RequestError] = []
        #: ``updated(bars, has_new_bar)``; ``has_new_bar`` is always True for real-time bars
        self.updated = Event("realtimebars.updated")
        self.stale = False
        self._waiters: list[LatestUpdates[Any]] = []
        self._closed: bool | BaseException = False

    __hash__ = None  # type: ignore[assignment]

    def _on_bar(self, bar: RealTimeBar) -> None:
        self.stale = False
        if self and bar.time <= self[-1].time:
            return  # held already (a re-subscription after a reconnect may repeat one)
        self.append(bar)
        cap = self.max_bars
        if cap is not None and len(self) > cap:
            del self[: len(self) - cap]
        self._wake()
        if len(self.updated):
            self.updated.emit(self, True)

    def updates(self) -> AsyncIterator[RealTimeBarList]:
        """Yields this list after each new bar (latest state only); ends with the request."""
        return LatestUpdates(self, self._waiters, self._closed)

    def df(self) -> Any:
        """The bars as a pandas DataFrame (``pip install aiotws[pandas]``)."""
        return _frame(self, ("time", "open", "high", "low", "close", "volume", "wap", "count"))

    def __repr__(self) -> str:
        sym = self.contract.local_symbol or self.contract.symbol
        last = f" last {self[-1].time:%H:%M:%S} {self[-1].close}" if self else ""
        state = "" if self.done else " live"
        return f"<RealTimeBarList {sym} {self.what_to_show} {len(self)} bars{last}{state}>"

    def _repr_html_(self) -> str:
        """A table of the first and last bars, with the count, for notebooks."""
        return _bars_html(self, ("time", "open", "high", "low", "close", "volume", "wap", "count"))


def _later(a: datetime | date, b: datetime | date) -> bool:
    """``a`` after ``b`` (dates and datetimes of one list are of one kind)."""
    try:
        return a > b
    except TypeError:
        return False


def _frame(rows: list[Any], columns: tuple[str, ...]) -> Any:
    """A ``pandas.DataFrame`` of ``columns`` (pandas is an optional extra: typed ``Any``)."""
    try:
        pd = importlib.import_module("pandas")
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("df() needs pandas: pip install 'aiotws[pandas]'") from None
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=list(columns))


def _bars_html(bars: list[Any], cols: tuple[str, ...]) -> str:
    """The first and last five bars of ``bars`` as an HTML table under its repr (never raises)."""
    try:
        shown = bars if len(bars) <= 10 else [*bars[:5], None, *bars[-5:]]
        body = []
        for bar in shown:
            if bar is None:
                body.append(f"<tr><td colspan={len(cols)}>&hellip;</td></tr>")
                continue
            cells = (getattr(bar, c) for c in cols)
            body.append(
                "<tr>"
                + "".join(f"<td>{'' if v is None else escape(str(v))}</td>" for v in cells)
                + "</tr>"
            )
        head = "".join(f"<th>{c}</th>" for c in cols)
        return (
            f"<div><b>{escape(repr(bars))}</b><table><tr>{head}</tr>{''.join(body)}</table></div>"
        )
    except Exception:
        return f"<pre>{escape(object.__repr__(bars))}</pre>"
