"""Historical data: bars (one-shot and kept up to date), head timestamps, historical ticks,
histograms, trading schedules and real-time bars.

Every historical request goes through the client's :class:`~aiotws.history_pacing.HistoricalPacer`,
which *waits* until IB's pacing rules allow it (and says so through its ``waiting`` event
and the log). A pacing violation TWS reports anyway (error 162 "pacing violation") holds
the pacer and retries the request with backoff; 162 "no data" gives an empty answer with
the error attached; 162 "query cancelled" ends the request as cancelled.

Requests are checked before anything is sent (:func:`~aiotws.model.barsizes.check_request`):
an unknown bar size, a duration too long for the bar size or an end date with
``keep_up_to_date`` raise :class:`~aiotws.model.barsizes.InvalidHistoricalRequest`.

Cancelling an awaiting call (or its timeout) sends the request's cancel message, and the
awaiter ends at once: it never waits for an End frame TWS may not send.

With ``Client.keep_live`` a lost connection suspends the keep-up-to-date bar lists and the
real-time bar lists (kept, ``stale``). ``Client.resume_live`` subscribes real-time bars
again at once, and re-requests each bar list, through the pacer, for the span from shortly
before its last bar to now: the answer is merged in (:meth:`BarList._stitch`), so the list
goes on with neither duplicates nor a gap. A bar request not yet answered when the
connection goes fails with ``ConnectionLost`` as before (nobody holds its list yet).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Final, TypeVar

from aiotws.bars import BarList, RealTimeBarList, bar_time_reader, parse_bar_time
from aiotws.calls.base import CoreBase
from aiotws.errors import ConnectionLost, NotConnected, RequestError
from aiotws.history_pacing import Backoff, Error162, HistoricalPacer, PacingKey, classify_162
from aiotws.model.barsizes import (
    DAY,
    InvalidHistoricalRequest,
    check_request,
    format_end_datetime,
    parse_bar_size,
)
from aiotws.model.contract import Contract
from aiotws.model.history import (
    BarData,
    HistogramEntry,
    HistoricalSchedule,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from aiotws.requests import LiveHook, Pending
from aiotws.timezones import parse_tws_datetime, resolve_zone
from aiotws.wire.fields import FLOAT_CACHE, UNSET_DECIMAL_FORMS, cached_float
from aiotws.wire.messages import historical as wm
from aiotws.wire.versions import SV

if TYPE_CHECKING:
    from aiotws.calls.base import Timeout
    from aiotws.wire.layout import InMessage

__all__ = ["DEFAULT_HISTORICAL_TIMEOUT", "HistoricalCalls", "HistoricalTickRecord"]

log = logging.getLogger("aiotws.historical")

#: seconds a historical request may take by default (TWS can take a minute on big ones)
DEFAULT_HISTORICAL_TIMEOUT: Final = 180.0
HistoricalTickRecord = HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast
T = TypeVar("T")
_MAX_TICKS: Final = 1000
_PRICES: Final = FLOAT_CACHE
_UNSET: Final = UNSET_DECIMAL_FORMS


# -- conversions from wire rows to model records -------------------------------------------------


def _size(v: Decimal | None) -> Decimal | None:
    return None if v is None or v < 0 else v


def bar_from_row(row: wm.BarRow, zone: tzinfo | None) -> BarData:
    """A model bar from a HISTORICAL_DATA row (``-1`` volume, WAP or count: ``None``)."""
    return BarData(
        parse_bar_time(row.date, zone),
        row.open,
        row.high,
        row.low,
        row.close,
        _size(row.volume),
        _size(row.wap),
        row.bar_count if row.bar_count >= 0 else None,
    )


def bar_from_update(m: wm.HistoricalDataUpdate, zone: tzinfo | None) -> BarData:
    return BarData(
        parse_bar_time(m.date, zone),
        m.open,
        m.high,
        m.low,
        m.close,
        _size(m.volume),
        _size(m.wap),
        m.bar_count if m.bar_count >= 0 else None,
    )


def _ticks(msg: InMessage) -> list[HistoricalTickRecord]:
    out: list[HistoricalTickRecord] = []
    if isinstance(msg, wm.HistoricalTicksLast):
        for r in msg.ticks:
            out.append(
                HistoricalTickLast(
                    r.time,
                    r.price,
                    r.size,
                    r.exchange,
                    r.special_conditions,
                    bool(r.mask & 1),
                    bool(r.mask & 2),
                )
            )
    elif isinstance(msg, wm.HistoricalTicksBidAsk):
        for b in msg.ticks:
            out.append(
                HistoricalTickBidAsk(
                    b.time,
                    b.bid_price,
                    b.ask_price,
                    b.bid_size,
                    b.ask_size,
                    bool(b.mask & 1),
                    bool(b.mask & 2),
                )
            )
    elif isinstance(msg, wm.HistoricalTicks):
        out.extend(HistoricalTick(t.time, t.price, t.size) for t in msg.ticks)
    return out


def _local_time(text: str, zone: tzinfo) -> datetime:
    """A schedule time, ``yyyymmdd-hh:mm:ss`` or ``yyyymmdd hh:mm:ss`` in ``zone``."""
    t = text.strip().replace("-", " ", 1)
    try:
        return datetime.strptime(t, "%Y%m%d %H:%M:%S").replace(tzinfo=zone)
    except ValueError:
        parsed = parse_tws_datetime(t, zone)
        if parsed is None:
            raise ValueError(f"not a TWS schedule time: {text!r}") from None
        return parsed


def _ref_date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def schedule_from_message(m: wm.HistoricalSchedule) -> HistoricalSchedule:
    zone = resolve_zone(m.time_zone) or UTC
    return HistoricalSchedule(
        _local_time(m.start_date_time, zone),
        _local_time(m.end_date_time, zone),
        m.time_zone,
        [
            HistoricalSession(
                _local_time(s.start_date_time, zone),
                _local_time(s.end_date_time, zone),
                _ref_date(s.ref_date),
            )
            for s in m.sessions
        ],
    )


# -- pendings ---------------------------------------------------------------------------------


class _BarsPending(Pending):
    """HISTORICAL_DATA (+ HISTORICAL_DATA_END from 196) into a BarList.

    With keep-up-to-date the request stays registered after the first answer, so a later
    error (or the connection's loss) ends the live list. ``resumed``: the re-request of a
    live list after a reconnect, whose answer is merged into the list (``_stitch``).
    """

    __slots__ = ("bars", "future", "owner", "resumed", "wants_end", "zone")

    def __init__(
        self,
        owner: HistoricalCalls,
        bars: BarList,
        wants_end: bool,
        zone: tzinfo | None,
        resumed: bool = False,
    ) -> None:
        super().__init__(
            bars.req_id,
            (wm.HistoricalData, wm.HistoricalDataEnd),
            f"historical bars {bars.contract.symbol}",
        )
        self.owner = owner
        self.bars = bars
        self.wants_end = wants_end
        self.zone = zone
        self.resumed = resumed
        self.future: asyncio.Future[BarList] = asyncio.get_running_loop().create_future()

    def feed_bars(self, rows: list[BarData], start: str, end: str) -> bool:
        """The bars of a HISTORICAL_DATA read on the raw path; ``True``: request complete."""
        self._add(rows, start, end)
        return False if self.wants_end else self._answered()

    def feed(self, msg: InMessage) -> bool:
        if isinstance(msg, wm.HistoricalData):
            zone = self.zone
            self._add([bar_from_row(r, zone) for r in msg.bars], msg.start_date, msg.end_date)
            if self.wants_end:
                return False
        elif isinstance(msg, wm.HistoricalDataEnd):
            self._range(msg.start_date, msg.end_date)
        return self._answered()

    def _add(self, rows: list[BarData], start: str, end: str) -> None:
        if self.resumed:
            self.bars._stitch(rows)
        else:
            self.bars.extend(rows)
        if start or end:
            self._range(start, end)

    def _range(self, start: str, end: str) -> None:
        bars = self.bars
        if not self.resumed:  # a re-request's span is not the list's: it only moves the end
            bars.start_text = start
        bars.end_text = end

    def _answered(self) -> bool:
        if not self.future.done():
            self.future.set_result(self.bars)
        if self.bars.keep_up_to_date:
            self.owner._live_bars[self.bars.req_id] = self.bars
            return False  # stays registered: errors still end the live list
        self.bars._close()
        return True

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, RequestError):
            self.bars.errors.append(exc)
        if not self.future.done():
            self.future.set_exception(exc)  # the caller gets it
            if not self.resumed:
                self.bars._close()  # nobody holds the list yet
            # else the resuming task decides: retry (pacing), or end the list
            return
        self.owner._live_bars.pop(self.bars.req_id, None)
        self.bars._close(exc)  # a live list ends with the error

    def cancelled_by_tws(self, err: RequestError) -> None:
        self.fail(err)

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.bars.errors.append(warning)


class _TicksPending(Pending):
    """HISTORICAL_TICKS / _BID_ASK / _LAST until the message with ``done`` set."""

    __slots__ = ("future", "ticks")

    def __init__(self, req_id: int, what: str) -> None:
        super().__init__(
            req_id, (wm.HistoricalTicks, wm.HistoricalTicksBidAsk, wm.HistoricalTicksLast), what
        )
        self.ticks: list[HistoricalTickRecord] = []
        self.future: asyncio.Future[list[HistoricalTickRecord]] = (
            asyncio.get_running_loop().create_future()
        )

    def feed(self, msg: InMessage) -> bool:
        self.ticks.extend(_ticks(msg))
        if getattr(msg, "done", True):
            if not self.future.done():
                self.future.set_result(self.ticks)
            return True
        return False

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


class _RealTimePending(Pending):
    """A real-time bars subscription as the correlator sees it: only errors route here."""

    __slots__ = ("bars", "owner")

    def __init__(self, owner: HistoricalCalls, bars: RealTimeBarList) -> None:
        super().__init__(bars.req_id, (), f"real-time bars {bars.contract.symbol}")
        self.owner = owner
        self.bars = bars

    def feed(self, msg: InMessage) -> bool:  # pragma: no cover - accepts no message types
        return False

    def fail(self, exc: BaseException) -> None:
        self.owner._rt_bars.pop(self.bars.req_id, None)
        if isinstance(exc, RequestError):
            self.bars.errors.append(exc)
        self.bars._close(exc)

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.bars.errors.append(warning)


# -- the mixin -----------------------------------------------------------------------------------


class HistoricalCalls(CoreBase):
    """REQ_HISTORICAL_DATA and friends (see the module docstring)."""

    _live_bars: dict[int, BarList]
    _rt_bars: dict[int, RealTimeBarList]
    _bar_resumes: dict[int, asyncio.Task[None]]
    historical_pacer: HistoricalPacer
    historical_backoff: Backoff

    def _init_historical(self) -> None:
        self._live_bars = {}
        self._rt_bars = {}
        #: the re-requests of bar lists after a reconnect, by ``id(bars)``
        self._bar_resumes = {}
        self._live_hooks.append(
            LiveHook(self._suspend_history, self._resume_history, self._end_suspended_history)
        )
        self.historical_pacer = HistoricalPacer()
        self.historical_backoff = Backoff()
        self._raw["17"] = self._raw_historical_data  # a year of minute bars is one message
        self.consume(wm.HistoricalDataUpdate, self._on_bar_update)
        self.consume(wm.RealTimeBars, self._on_real_time_bar)

    # -- bars --------------------------------------------------------------------------------

    async def req_historical_data(
        self,
        contract: Contract,
        end: datetime | None = None,
        duration: str = "1 D",
        bar_size: str = "1 hour",
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        format_date: int = 1,
        keep_up_to_date: bool = False,
        chart_options: str = "",
        *,
        timeout: Timeout = ...,
    ) -> BarList:
        """Historical bars; with ``keep_up_to_date`` the list stays live (see BarList)."""
        size = parse_bar_size(bar_size).text
        _, dur, what = check_request(
            size,
            duration,
            what_to_show,
            end=end,
            keep_up_to_date=keep_up_to_date,
            sec_type=contract.sec_type,
        )
        if format_date not in (1, 2):
            raise ValueError("format_date must be 1 (text times) or 2 (epoch seconds)")
        end_text = format_end_datetime(end)
        # TWS reads only its own spellings: send the normalised ones ("2 days" is "2 D")
        duration, wts = str(dur), str(what)
        identity = (_contract_identity(contract), end_text, duration, size, wts, use_rth)

        async def attempt() -> BarList:
            req_id = self.next_id()
            bars = BarList(
                contract,
                end=end,
                duration=duration,
                bar_size=size,
                what_to_show=wts,
                use_rth=use_rth,
                format_date=format_date,
                keep_up_to_date=keep_up_to_date,
                chart_options=chart_options,
                req_id=req_id,
            )
            p = _BarsPending(
                self, bars, self.server_version >= SV.HISTORICAL_DATA_END, self._zone()
            )
            msg = wm.ReqHistoricalData(
                req_id,
                contract,
                end_date_time=end_text,
                bar_size_setting=size,
                duration_str=duration,
                use_rth=use_rth,
                what_to_show=wts,
                format_date=format_date,
                combo_legs=list(contract.combo_legs) if contract.sec_type == "BAG" else [],
                keep_up_to_date=keep_up_to_date,
                chart_options=chart_options,
            )
            self._start(msg, p)
            result: BarList = await self._settle(
                p, p.future, self._hist_timeout(timeout), lambda: wm.CancelHistoricalData(req_id)
            )
            return result

        try:
            return await self._paced(contract, wts, identity, size, attempt)
        except RequestError as e:
            if e.code == 162 and classify_162(e.message) is Error162.NO_DATA:
                empty = BarList(
                    contract,
                    end=end,
                    duration=duration,
                    bar_size=size,
                    what_to_show=wts,
                    use_rth=use_rth,
                    format_date=format_date,
                    req_id=e.req_id,
                )
                empty.errors.append(e)
                empty._close()
                log.info("no historical data for %s: %s", contract.symbol, e.message)
                return empty
            raise

    def _raw_historical_data(self, f: list[str]) -> bool:
        """HISTORICAL_DATA straight from its fields into model bars (the layout path reads
        the same: a test runs both): ``17, reqId, [start, end below 196], count``, then
        ``date, open, high, low, close, volume, wap, barCount`` per bar."""
        p = self._registry.get(int(f[1]))
        if not isinstance(p, _BarsPending):
            return False
        if self.server_version < SV.HISTORICAL_DATA_END:
            start, end, i = f[2], f[3], 5
            n = int(f[4])
        else:
            start = end = ""
            i = 3
            n = int(f[2])
        if len(f) != i + 8 * n + 1 or f[-1]:
            return False
        when = bar_time_reader(p.zone)
        prices = _PRICES
        price = cached_float
        rows: list[BarData] = []
        append = rows.append
        # Tens of thousands of new objects would run the cyclic collector over and over
        # (it scans the growing list each time); none of them can form a cycle.
        paused = n > 1000 and gc.isenabled()
        if paused:
            gc.disable()
        try:
            self._read_bars(f, i, n, when, prices, price, append)
        finally:
            if paused:
                gc.enable()
        if p.feed_bars(rows, start, end):
            self._registry.discard(p)
        return True

    @staticmethod
    def _read_bars(
        f: list[str],
        i: int,
        n: int,
        when: Callable[[str], datetime | date],
        prices: dict[str, float],
        price: Callable[[str], float],
        append: Callable[[BarData], None],
    ) -> None:
        for j in range(i, i + 8 * n, 8):
            o, h, lo, c = f[j + 1], f[j + 2], f[j + 3], f[j + 4]
            vol, wap, count = f[j + 5], f[j + 6], f[j + 7]
            append(
                BarData(
                    when(f[j]),
                    prices.get(o) or price(o),
                    prices.get(h) or price(h),
                    prices.get(lo) or price(lo),
                    prices.get(c) or price(c),
                    None if vol in _UNSET or vol[0] == "-" else Decimal(vol),
                    None if wap in _UNSET or wap[0] == "-" else Decimal(wap),
                    int(count) if count and count[0] != "-" else None,
                )
            )

    def cancel_historical_data(self, bars: BarList) -> None:
        """End a keep-up-to-date list (TWS acknowledges nothing; it ends here at once)."""
        if self._live_bars.pop(bars.req_id, None) is None:
            return
        resume = self._bar_resumes.pop(id(bars), None)
        if resume is not None:
            resume.cancel()
        p = self._registry.get(bars.req_id)
        if p is not None:
            self._registry.discard(p)
        if p is not None and self.is_connected():  # else suspended: no request to cancel
            self.send(wm.CancelHistoricalData(bars.req_id))
        bars._close()

    def _on_bar_update(self, m: wm.HistoricalDataUpdate) -> None:
        bars = self._live_bars.get(m.req_id)
        if bars is not None:
            bars._on_update(bar_from_update(m, self._zone()))

    # -- head timestamp, ticks, histogram, schedule ---------------------------------------------

    async def req_head_timestamp(
        self,
        contract: Contract,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> datetime:
        """The earliest time TWS has ``what_to_show`` data for ``contract``."""
        wts = what_to_show.upper()

        async def attempt() -> datetime:
            req_id = self.next_id()
            m: wm.HeadTimestamp = await self.request(
                wm.ReqHeadTimestamp(req_id, contract, use_rth, wts, 2),
                wm.HeadTimestamp,
                key=req_id,
                timeout=self._hist_timeout(timeout),
                cancel=lambda: wm.CancelHeadTimestamp(req_id),
            )
            # the request holds a historical slot at TWS until cancelled (PROTOCOL.md pitfall 4)
            if self.is_connected():
                self.send(wm.CancelHeadTimestamp(req_id))
            t = parse_bar_time(m.head_timestamp, self._zone())
            return t if isinstance(t, datetime) else datetime.combine(t, time(), UTC)

        identity = ("head", _contract_identity(contract), wts, use_rth)
        return await self._paced(contract, wts, identity, "", attempt)

    async def req_historical_ticks(
        self,
        contract: Contract,
        start: datetime | None = None,
        end: datetime | None = None,
        number_of_ticks: int = 1000,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        ignore_size: bool = False,
        *,
        timeout: Timeout = ...,
    ) -> list[HistoricalTickRecord]:
        """Up to 1000 ticks from ``start`` (or up to ``end``): TRADES → HistoricalTickLast,
        BID_ASK → HistoricalTickBidAsk, MIDPOINT → HistoricalTick. Exactly one of ``start``
        and ``end`` must be given."""
        wts = what_to_show.upper()
        if wts not in ("TRADES", "BID_ASK", "MIDPOINT"):
            raise ValueError("historical ticks are TRADES, BID_ASK or MIDPOINT")
        if (start is None) == (end is None):
            raise ValueError("give exactly one of start and end")
        if not 1 <= number_of_ticks <= _MAX_TICKS:
            raise ValueError("number_of_ticks must be 1..1000 (TWS's limit per request)")
        start_text, end_text = format_end_datetime(start), format_end_datetime(end)

        async def attempt() -> list[HistoricalTickRecord]:
            req_id = self.next_id()
            p = _TicksPending(req_id, f"historical ticks {contract.symbol}")
            self._start(
                wm.ReqHistoricalTicks(
                    req_id,
                    contract,
                    start_text,
                    end_text,
                    number_of_ticks,
                    wts,
                    use_rth,
                    ignore_size,
                ),
                p,
            )
            result: list[HistoricalTickRecord] = await self._settle(
                p, p.future, self._hist_timeout(timeout), None
            )
            return result

        identity = (
            "ticks",
            _contract_identity(contract),
            start_text,
            end_text,
            number_of_ticks,
            wts,
        )
        try:
            return await self._paced(contract, wts, identity, "", attempt)
        except RequestError as e:
            if e.code == 162 and classify_162(e.message) is Error162.NO_DATA:
                return []
            raise

    async def req_histogram_data(
        self,
        contract: Contract,
        period: str = "1 week",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> list[HistogramEntry]:
        """How much traded at each price over ``period`` (``"3 days"``, ``"1 week"`` …)."""

        async def attempt() -> list[HistogramEntry]:
            req_id = self.next_id()
            m: wm.HistogramData = await self.request(
                wm.ReqHistogramData(req_id, contract, use_rth, period),
                wm.HistogramData,
                key=req_id,
                timeout=self._hist_timeout(timeout),
                cancel=lambda: wm.CancelHistogramData(req_id),
            )
            return [HistogramEntry(e.price, e.size or Decimal(0)) for e in m.entries]

        identity = ("histogram", _contract_identity(contract), period, use_rth)
        return await self._paced(contract, "TRADES", identity, "", attempt)

    async def req_historical_schedule(
        self,
        contract: Contract,
        end: datetime | None = None,
        duration: str = "1 M",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> HistoricalSchedule:
        """The trading sessions in ``duration`` up to ``end`` (whatToShow SCHEDULE)."""
        _, dur, _ = check_request(
            "1 day", duration, "SCHEDULE", end=end, sec_type=contract.sec_type
        )
        duration = str(dur)  # TWS's spelling ("1 week" is "1 W")
        end_text = format_end_datetime(end)

        async def attempt() -> HistoricalSchedule:
            req_id = self.next_id()
            m: wm.HistoricalSchedule = await self.request(
                wm.ReqHistoricalData(
                    req_id,
                    contract,
                    end_date_time=end_text,
                    bar_size_setting="1 day",
                    duration_str=duration,
                    use_rth=use_rth,
                    what_to_show="SCHEDULE",
                    format_date=1,
                ),
                wm.HistoricalSchedule,
                key=req_id,
                timeout=self._hist_timeout(timeout),
                cancel=lambda: wm.CancelHistoricalData(req_id),
            )
            return schedule_from_message(m)

        identity = ("schedule", _contract_identity(contract), end_text, duration, use_rth)
        return await self._paced(contract, "SCHEDULE", identity, "1 day", attempt)

    # -- real-time bars -------------------------------------------------------------------------

    def req_real_time_bars(
        self,
        contract: Contract,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        max_bars: int | None = None,
        options: str = "",
    ) -> RealTimeBarList:
        """Live 5-second bars of ``contract``: a list that grows by one bar every 5 s."""
        wts = what_to_show.upper()
        if wts not in ("TRADES", "MIDPOINT", "BID", "ASK"):
            raise ValueError("real-time bars are TRADES, MIDPOINT, BID or ASK")
        req_id = self.next_id()
        bars = RealTimeBarList(
            contract,
            what_to_show=wts,
            use_rth=use_rth,
            max_bars=max_bars,
            options=options,
            req_id=req_id,
        )
        p = _RealTimePending(self, bars)
        self._rt_bars[req_id] = bars
        try:
            self._start(wm.ReqRealTimeBars(req_id, contract, 5, wts, use_rth, options), p)
        except BaseException:
            del self._rt_bars[req_id]
            raise
        return bars

    def cancel_real_time_bars(self, bars: RealTimeBarList) -> None:
        """End a real-time bars subscription (no reply comes; it ends here at once)."""
        if self._rt_bars.pop(bars.req_id, None) is None:
            return
        p = self._registry.get(bars.req_id)
        if p is not None:
            self._registry.discard(p)
        if p is not None and self.is_connected():  # else suspended: no request to cancel
            self.send(wm.CancelRealTimeBars(bars.req_id))
        bars._close()

    def _on_real_time_bar(self, m: wm.RealTimeBars) -> None:
        bars = self._rt_bars.get(m.req_id)
        if bars is not None:
            bars._on_bar(m.bar())

    # -- kept across connections (Client.keep_live / resume_live) ---------------------------

    def _live_bar_request(self, bars: BarList) -> _BarsPending | None:
        p = self._registry.get(bars.req_id)
        return p if isinstance(p, _BarsPending) and p.bars is bars else None

    def _live_rt_request(self, bars: RealTimeBarList) -> _RealTimePending | None:
        p = self._registry.get(bars.req_id)
        return p if isinstance(p, _RealTimePending) and p.bars is bars else None

    def _suspend_history(self) -> int:
        n = 0
        for bars in self._live_bars.values():
            p = self._live_bar_request(bars)
            if p is not None:
                self._registry.discard(p)
                if not p.future.done():  # a re-request in flight: its task keeps the list
                    p.future.set_exception(ConnectionLost(f"{p.what}: connection lost"))
            bars.stale = True
            n += 1
        for rt in self._rt_bars.values():
            q = self._live_rt_request(rt)
            if q is not None:
                self._registry.discard(q)
            rt.stale = True
            n += 1
        return n

    def _resume_history(self, cancel_old: bool) -> int:
        n = 0
        for rt in list(self._rt_bars.values()):
            q = self._live_rt_request(rt)
            if q is not None:
                if not cancel_old:
                    continue
                self._registry.discard(q)
                self.send(wm.CancelRealTimeBars(rt.req_id))
            del self._rt_bars[rt.req_id]
            rt.req_id = self.next_id()
            rt.stale = True
            self._rt_bars[rt.req_id] = rt
            msg = wm.ReqRealTimeBars(
                rt.req_id, rt.contract, 5, rt.what_to_show, rt.use_rth, rt.options
            )
            try:
                self._start(msg, _RealTimePending(self, rt))
            except Exception as e:  # the request cannot be sent: the list ends with it
                log.warning("re-subscribing real-time bars of %s failed: %s", rt.contract.symbol, e)
                del self._rt_bars[rt.req_id]
                rt._close(e)
                continue
            n += 1
        loop = asyncio.get_running_loop()
        for bars in list(self._live_bars.values()):
            if id(bars) in self._bar_resumes:
                continue  # being re-requested
            p = self._live_bar_request(bars)
            if p is not None:
                if not cancel_old:
                    continue
                self._registry.discard(p)
                self.send(wm.CancelHistoricalData(bars.req_id))
            bars.stale = True
            task = loop.create_task(self._resume_bars(bars))
            self._bar_resumes[id(bars)] = task
            n += 1
        return n

    async def _resume_bars(self, bars: BarList) -> None:
        """Re-request a live bar list (paced) and merge the answer in; end it on failure."""
        try:
            await self._rerequest_bars(bars)
        except asyncio.CancelledError:
            raise
        except (ConnectionLost, NotConnected):
            pass  # lost again: suspended (keep_live) for the next resume_live, or ended
        except Exception as e:
            log.warning("re-requesting the bars of %s failed: %s", bars.contract.symbol, e)
            if self._live_bars.get(bars.req_id) is bars:
                del self._live_bars[bars.req_id]
            p = self._live_bar_request(bars)
            if p is not None:
                self._registry.discard(p)
            bars._close(e)
        finally:
            if self._bar_resumes.get(id(bars)) is asyncio.current_task():
                del self._bar_resumes[id(bars)]

    async def _rerequest_bars(self, bars: BarList) -> None:
        contract, size, wts = bars.contract, bars.bar_size, bars.what_to_show
        duration = resume_duration(bars, datetime.now(UTC))
        identity = (_contract_identity(contract), "", duration, size, wts, bars.use_rth)

        async def attempt() -> None:
            if bars.done or self._live_bars.get(bars.req_id) is not bars:
                return  # cancelled or ended meanwhile
            del self._live_bars[bars.req_id]
            req_id = bars.req_id = self.next_id()
            self._live_bars[req_id] = bars
            p = _BarsPending(
                self, bars, self.server_version >= SV.HISTORICAL_DATA_END, self._zone(), True
            )
            msg = wm.ReqHistoricalData(
                req_id,
                contract,
                end_date_time="",
                bar_size_setting=size,
                duration_str=duration,
                use_rth=bars.use_rth,
                what_to_show=wts,
                format_date=bars.format_date,
                combo_legs=[],
                keep_up_to_date=True,
                chart_options=bars.chart_options,
            )
            self._start(msg, p)
            await self._settle(
                p,
                p.future,
                DEFAULT_HISTORICAL_TIMEOUT,
                lambda: wm.CancelHistoricalData(req_id),
            )

        await self._paced(contract, wts, identity, size, attempt)

    def _end_suspended_history(self, exc: BaseException) -> int:
        n = 0
        for task in self._bar_resumes.values():
            task.cancel()
        self._bar_resumes.clear()
        for bars in list(self._live_bars.values()):
            if self._live_bar_request(bars) is None:
                del self._live_bars[bars.req_id]
                bars._close(exc)
                n += 1
        for rt in list(self._rt_bars.values()):
            if self._live_rt_request(rt) is None:
                del self._rt_bars[rt.req_id]
                rt._close(exc)
                n += 1
        return n

    # -- internals ---------------------------------------------------------------------------

    def _zone(self) -> tzinfo | None:
        """The TWS session's zone: bar times without a zone name are in it."""
        t = self.connection_time
        return t.tzinfo if t is not None else None

    def _hist_timeout(self, timeout: Timeout) -> Timeout:
        return DEFAULT_HISTORICAL_TIMEOUT if timeout is ... else timeout

    async def _paced(
        self,
        contract: Contract,
        what_to_show: str,
        identity: Hashable,
        bar_size: str,
        attempt: Callable[[], Awaitable[T]],
    ) -> T:
        """Run ``attempt`` inside the pacer; retry it after a pacing violation (162)."""
        key = PacingKey(contract.con_id or contract.symbol, contract.exchange, what_to_show)
        # IB lifted the 60-in-10-minutes limit for bars of 1 min and longer
        windowed = not bar_size or parse_bar_size(bar_size).seconds < 60
        failures = 0
        while True:
            lease = await self.historical_pacer.acquire(key, identity, windowed=windowed)
            try:
                return await attempt()
            except RequestError as e:
                if e.code != 162 or classify_162(e.message) is not Error162.PACING:
                    raise
                failures += 1
                delay = self.historical_backoff.delay(failures)
                if delay is None:
                    raise
                log.warning(
                    "TWS reported a historical pacing violation for %s; retrying in %.1f s",
                    contract.symbol,
                    delay,
                )
                pacer = self.historical_pacer
                if pacer.enabled:
                    pacer.hold(delay)
                else:  # a disabled pacer holds nothing: wait here, or the retry goes at once
                    await pacer._sleep(delay)
            finally:
                lease.release()


def resume_duration(bars: BarList, now: datetime) -> str:
    """The duration a re-request of the live ``bars`` asks for after a reconnect: from two
    bars before its last bar to ``now``, plus a minute for clocks that disagree (the overlap
    is merged away). The list's own duration when it holds no bars, or when that span is not
    a request TWS takes for this bar size."""
    if not bars:
        return bars.duration
    size = parse_bar_size(bars.bar_size)
    last = bars[-1].date
    if isinstance(last, datetime):
        gap = max(0.0, (now - last).total_seconds())
    else:
        gap = float(max(0, (now.date() - last).days) * DAY)
    if size.intraday:
        seconds = math.ceil(gap) + 2 * size.seconds + 60
        text = f"{seconds} S" if seconds <= DAY else f"{math.ceil(seconds / DAY)} D"
    else:
        text = f"{math.ceil(gap / DAY) + 2 * math.ceil(size.seconds / DAY)} D"
    try:
        check_request(
            size, text, bars.what_to_show, keep_up_to_date=True, sec_type=bars.contract.sec_type
        )
    except InvalidHistoricalRequest:
        return bars.duration
    return text


def _contract_identity(c: Contract) -> Hashable:
    return (
        c.con_id,
        c.symbol,
        c.sec_type,
        c.last_trade_date_or_contract_month,
        c.strike,
        c.right,
        c.multiplier,
        c.exchange,
        c.currency,
        c.local_symbol,
    )
