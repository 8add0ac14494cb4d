"""Historical data end to end: the ``IB`` facade against the simulator's history on loopback.

The simulator runs on a virtual clock (``SimConfig.clock``) that moves only when a test (or a
pacer's sleep) moves it, starting inside a regular trading session of AAPL: simulated time,
and with it keep-up-to-date bars and real-time bars, advance exactly as far as a test says,
and IB's pacing rules are measured on the same clock as the client's pacer, so no test waits
for pacing in real time. What the client receives is compared with the simulator's engine
(:func:`aiotws.sim.history_of`) answering the same question.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aiotws import (
    IB,
    BarList,
    Contract,
    DownloadIncomplete,
    InvalidHistoricalRequest,
    RequestError,
    Stock,
)
from aiotws.history_pacing import Backoff, HistoricalPacer, WaitReason
from aiotws.model.history import (
    BarData,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from aiotws.model.ticks import TickByTickBidAsk, TickByTickLast
from aiotws.sim import Simulator, history_of
from aiotws.sim.calendar import is_business_day
from aiotws.wire.messages.historical import (
    CancelHeadTimestamp,
    CancelHistoricalData,
    CancelRealTimeBars,
    HistoricalData,
    ReqHistoricalData,
)

GUARD = 5.0
AAPL = 265598
EURUSD = 12087792


def _session_time() -> datetime:
    """15:30 UTC of the last US business day before today: inside AAPL's regular hours
    (10:30 or 11:30 in New York)."""
    d = datetime.now(UTC).date() - timedelta(days=1)
    while not is_business_day(d):
        d -= timedelta(days=1)
    return datetime.combine(d, time(15, 30), UTC)


#: the simulated time the simulators here start at
SESSION = _session_time()


class VirtualClock:
    """Monotonic seconds that move only when advanced; ``sleep`` advances them (a pacer's
    waits then take no real time).

    ``settle``, when set, runs before a sleep moves the clock: a round trip through the
    simulator, so every request sent before the sleep has arrived at its time (as on a real
    network, whose latency is far below the pacing intervals).
    """

    def __init__(self) -> None:
        self.now = 1_000.0
        self.settle: Callable[[], Awaitable[None]] | None = None

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        if self.settle is not None:
            await self.settle()
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def max_version() -> int:
    return 200


@pytest.fixture
async def hsim(clock: VirtualClock, max_version: int) -> AsyncIterator[Simulator]:
    async with Simulator(
        port=0,
        seed=1,
        tick_interval=0.01,
        clock=clock,
        market_start=SESSION,
        max_version=max_version,
    ) as sim:
        yield sim


@pytest.fixture
async def hib(hsim: Simulator, clock: VirtualClock) -> AsyncIterator[IB]:
    async with IB.connect_to(hsim.host, hsim.port, client_id=1, timeout=GUARD) as ib:
        # the client's pacer on the simulator's clock: its waits are virtual, its rules the
        # same seconds the simulator measures
        ib.client.historical_pacer = HistoricalPacer(clock=clock, sleep=clock.sleep)
        clock.settle = lambda: sync(ib)
        yield ib
        clock.settle = None


async def sync(ib: IB) -> None:
    """A round trip: everything the simulator sent before it has been read."""
    async with asyncio.timeout(GUARD):
        await ib.client.req_managed_accounts()


def requests_of(sim: Simulator, cls: type[Any]) -> list[Any]:
    return [r for r in sim.requests if isinstance(r, cls)]


def check_bar(b: BarData, intraday: bool, traded: bool) -> None:
    assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
    if intraday:
        assert isinstance(b.date, datetime) and b.date.tzinfo is not None
    else:
        assert type(b.date) is date
    if traded:
        assert isinstance(b.volume, Decimal) and b.volume > 0
        assert isinstance(b.wap, Decimal) and b.low <= float(b.wap) <= b.high
        assert isinstance(b.bar_count, int) and b.bar_count > 0
    else:
        assert b.volume is None and b.wap is None and b.bar_count is None


def next_update(bars: BarList) -> Awaitable[bool]:
    """The next ``bars.updated``: whether it appended a new bar."""
    fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_update(_bars: BarList, has_new_bar: bool) -> None:
        bars.updated -= on_update
        if not fut.done():
            fut.set_result(has_new_bar)

    bars.updated += on_update
    return fut


# -- bars --------------------------------------------------------------------------------------

BAR_CASES = [
    ("1 min", "TRADES", "1800 S"),
    ("30 secs", "MIDPOINT", "1800 S"),
    ("5 mins", "BID", "1 D"),
    ("1 hour", "ASK", "2 D"),
    ("2 hours", "BID_ASK", "5 D"),
    ("1 day", "TRADES", "1 M"),
    ("1 week", "MIDPOINT", "6 M"),
]


@pytest.mark.parametrize("max_version", [176, 200])
async def test_bars_of_several_sizes_and_kinds(hib: IB, hsim: Simulator, max_version: int) -> None:
    assert hib.server_version == max_version
    history = history_of(hsim)
    for size, wts, duration in BAR_CASES:
        async with asyncio.timeout(GUARD):
            bars = await hib.historical_bars(
                Stock("AAPL"), SESSION, duration, size, wts, use_rth=True
            )
        intraday = size not in ("1 day", "1 week")
        assert len(bars) > 1, (size, wts)
        for b in bars:
            check_bar(b, intraday, wts == "TRADES")
        times = [b.date for b in bars]
        assert times == sorted(times) and len(set(times)) == len(times)
        expected = history.bars(AAPL, SESSION, duration, size, wts, True)
        assert list(bars) == expected, (size, wts)
        if intraday:
            assert all(str(t.tzinfo) == "US/Eastern" for t in times)
        # the range TWS says it served: HISTORICAL_DATA below 196, HISTORICAL_DATA_END from 196
        assert bars.end_text.endswith(" US/Eastern") and bars.start_text < bars.end_text
        assert bars.done and bars.errors == []


async def test_format_date_2_gives_the_same_instants_in_utc(hib: IB) -> None:
    aapl = Stock("AAPL")
    async with asyncio.timeout(GUARD):
        text = await hib.historical_bars(aapl, SESSION, "3600 S", "5 mins", format_date=1)
        epoch = await hib.historical_bars(aapl, SESSION, "3600 S", "5 mins", format_date=2)
        daily = await hib.historical_bars(aapl, SESSION, "5 D", "1 day", format_date=2)
    assert [b.date for b in text] == [b.date for b in epoch]  # the same instants
    assert all(b.date.tzinfo is UTC for b in epoch)
    assert all(str(b.date.tzinfo) == "US/Eastern" for b in text)
    assert [b.close for b in text] == [b.close for b in epoch]
    assert daily and all(type(b.date) is date for b in daily)  # days stay dates


async def test_bad_request_is_refused_before_anything_is_sent(hib: IB, hsim: Simulator) -> None:
    aapl = Stock("AAPL")
    bad: list[dict[str, Any]] = [
        {"duration": "1 D", "bar_size": "1 secs"},  # 1 secs bars take seconds only
        {"duration": "1 D", "bar_size": "7 mins"},  # no such bar size
        {"duration": "1800 S", "bar_size": "1 secs", "keep_up_to_date": True},
        {"end": SESSION, "duration": "1 D", "bar_size": "1 min", "keep_up_to_date": True},
        {"duration": "1 D", "bar_size": "1 hour", "what_to_show": "TRADES_AND_QUOTES"},
        {"duration": "400 D", "bar_size": "1 day"},
    ]
    for kwargs in bad:
        with pytest.raises(InvalidHistoricalRequest) as e:
            await hib.historical_bars(aapl, **kwargs)
        assert e.value.code in (162, 321)
    with pytest.raises(InvalidHistoricalRequest):  # the forex pair has no TRADES
        await hib.historical_bars(Contract(symbol="EUR", sec_type="CASH"), duration="1 D")
    await sync(hib)
    assert requests_of(hsim, ReqHistoricalData) == []


async def test_sim_refuses_what_the_client_lets_through(hib: IB, hsim: Simulator) -> None:
    # a conId alone: the client cannot know it is a forex pair, TWS's farm answers 162
    with pytest.raises(RequestError) as e:
        await hib.historical_bars(Contract(con_id=EURUSD), SESSION, "1800 S", "1 min")
    assert e.value.code == 162
    assert e.value.message == (
        "Historical Market Data Service error message:"
        "No historical market data for EUR/CASH@FXSUBPIP Last 60"
    )
    # the low-level client sends what it is given: TWS's own checks answer 321 and 10314
    client = hib.client
    for fields, code, words in [
        ({"bar_size_setting": "1 sec", "duration_str": "60 S"}, 321, "bar size setting"),
        ({"bar_size_setting": "1 min", "duration_str": "2 days"}, 321, "duration format"),
        ({"bar_size_setting": "1 min", "duration_str": "60 S", "what_to_show": "LAST"}, 321,
         "What to show value of LAST rejected"),
        ({"bar_size_setting": "1 min", "duration_str": "60 S",
          "end_date_time": "20240102 10:00:00 Mars/Olympus"}, 10314, "End Date/Time"),
        ({"bar_size_setting": "1 min", "duration_str": "60 S",
          "end_date_time": "20240102-10:00:00 UTC"}, 10314, "End Date/Time"),
    ]:  # fmt: skip
        req_id = client.next_id()
        msg = ReqHistoricalData(req_id, Stock("AAPL"), **fields)
        with pytest.raises(RequestError) as e:
            async with asyncio.timeout(GUARD):
                await client.request(msg, HistoricalData, key=req_id)
        assert e.value.code == code and words in e.value.message, fields


async def test_end_date_forms_tws_accepts(hib: IB, hsim: Simulator) -> None:
    """``yyyymmdd-hh:mm:ss`` (UTC), ``yyyymmdd hh:mm:ss <zone>`` and the bare form in the
    TWS session's zone (with warning 2174) all mean the same instant."""
    client = hib.client
    local = SESSION.astimezone(ZoneInfo("America/New_York"))
    forms = [
        f"{SESSION:%Y%m%d-%H:%M:%S}",
        f"{local:%Y%m%d %H:%M:%S} US/Eastern",
        f"{SESSION:%Y%m%d %H:%M:%S} UTC",
        f"{local:%Y%m%d %H:%M:%S}",  # the TWS session's zone: America/New_York
    ]
    warnings: list[int] = []
    hib.errors += lambda info: warnings.append(info.code)
    answers = []
    for end in forms:
        req_id = client.next_id()
        msg = ReqHistoricalData(
            req_id, Stock("AAPL"), end, "1 min", "1800 S", True, "TRADES", format_date=2
        )
        async with asyncio.timeout(GUARD):
            got: HistoricalData = await client.request(msg, HistoricalData, key=req_id)
        answers.append([r.date for r in got.bars])
        await sync(hib)
    assert answers[0] and all(a == answers[0] for a in answers)
    assert int(answers[0][-1]) == int(SESSION.timestamp()) - 60  # the last full minute
    assert warnings == [2174]  # the bare form only


async def test_no_data_is_an_empty_bar_list_with_the_162(hib: IB) -> None:
    before_listing = datetime(1979, 6, 1, 15, tzinfo=UTC)  # AAPL listed in December 1980
    async with asyncio.timeout(GUARD):
        bars = await hib.historical_bars(Stock("AAPL"), before_listing, "1 D", "1 hour")
    assert isinstance(bars, BarList) and list(bars) == [] and bars.done
    (err,) = bars.errors
    assert err.code == 162
    assert err.message == (
        "Historical Market Data Service error message:HMDS query returned no data: "
        "AAPL@SMART Trades"
    )


# -- bars kept up to date ------------------------------------------------------------------------


async def test_keep_up_to_date_fills_a_jump_of_several_bars(
    hib: IB, hsim: Simulator, clock: VirtualClock
) -> None:
    async with asyncio.timeout(GUARD):
        bars = await hib.historical_bars(
            Stock("AAPL"), None, "1800 S", "1 min", "TRADES", keep_up_to_date=True
        )
    n = len(bars)
    clock.advance(5 * 60 + 10)  # the market clock falls five bars behind (a loaded machine)
    async with asyncio.timeout(GUARD):
        while len(bars) < n + 6:
            await next_update(bars)
    times = [b.date for b in bars]
    assert times == sorted(set(times)), "no duplicated or out-of-order bars"
    assert times[-6:] == [SESSION + timedelta(minutes=k) for k in range(6)]
    hib.cancel_historical_bars(bars)


@pytest.mark.parametrize("max_version", [176, 200])
async def test_keep_up_to_date_revises_in_place_appends_and_cancels(
    hib: IB, hsim: Simulator, clock: VirtualClock, max_version: int
) -> None:
    async with asyncio.timeout(GUARD):
        bars = await hib.historical_bars(
            Stock("AAPL"), None, "1800 S", "1 min", "TRADES", keep_up_to_date=True
        )
    # the simulated now is on a minute: the last bar is the minute before, complete
    assert not bars.done and len(bars) == 30
    assert bars[-1].date == SESSION - timedelta(minutes=1)
    history = history_of(hsim)
    # 10 simulated seconds later: a new bar, 10 seconds old
    clock.advance(10)
    async with asyncio.timeout(GUARD):
        assert await next_update(bars) is True
    assert len(bars) == 31
    current = bars[-1]
    assert current.date == SESSION
    assert current == history.current_bar(
        AAPL, "1 min", "TRADES", True, SESSION + timedelta(seconds=10)
    )
    # 10 more: the same bar, revised in place
    volume = current.volume
    clock.advance(10)
    async with asyncio.timeout(GUARD):
        assert await next_update(bars) is False
    assert len(bars) == 31 and bars[-1] is current
    assert current == history.current_bar(
        AAPL, "1 min", "TRADES", True, SESSION + timedelta(seconds=20)
    )
    assert volume is not None and current.volume is not None and current.volume > volume
    # into the next minute: the finished bar gets its final values, then a new bar comes
    clock.advance(45)
    async with asyncio.timeout(GUARD):
        while len(bars) == 31:
            await next_update(bars)
    assert len(bars) == 32 and bars[-2] is current
    final = history.bars(AAPL, SESSION + timedelta(minutes=1), "60 S", "1 min", "TRADES", True)
    assert current == final[-1]
    assert bars[-1].date == SESSION + timedelta(minutes=1)
    n = len(bars)
    # cancel: the list ends at once, the simulator stops
    hib.cancel_historical_bars(bars)
    assert bars.done
    await sync(hib)
    (cancel,) = requests_of(hsim, CancelHistoricalData)
    assert cancel.req_id == bars.req_id
    assert all(not s.state.get("hist_live") for s in hsim.sessions)
    clock.advance(120)
    await sync(hib)
    await sync(hib)
    assert len(bars) == n


# -- head timestamp, ticks, histogram, schedule ---------------------------------------------------


async def test_head_timestamp(hib: IB, hsim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        head = await hib.head_timestamp(Stock("AAPL"), "TRADES", use_rth=True)
        head_all = await hib.head_timestamp(Stock("AAPL"), "TRADES", use_rth=False)
    assert head == history_of(hsim).head_timestamp(AAPL, "TRADES", True)
    assert head == datetime(1980, 12, 12, 14, 30, tzinfo=UTC)  # the first regular session
    assert head_all < head and head.tzinfo is not None
    await sync(hib)
    # the client releases TWS's slot once the answer is in (PROTOCOL.md pitfall 4)
    assert len(requests_of(hsim, CancelHeadTimestamp)) == 2


def _ticks_window(hsim: Simulator) -> datetime:
    """An end time whose 1000 BID_ASK ticks carry the most attribute bits of both kinds."""
    history = history_of(hsim)
    best, score = SESSION, -1
    for k in range(12):
        end = SESSION - timedelta(minutes=30 * k)
        ticks = history.historical_ticks(AAPL, "BID_ASK", 1000, end=end, use_rth=False)
        ask = sum(isinstance(t, HistoricalTickBidAsk) and t.ask_past_high for t in ticks)
        bid = sum(isinstance(t, HistoricalTickBidAsk) and t.bid_past_low for t in ticks)
        if min(ask, 1) + min(bid, 1) > score:
            best, score = end, min(ask, 1) + min(bid, 1)
    return best


async def test_historical_ticks_of_each_kind(hib: IB, hsim: Simulator) -> None:
    history = history_of(hsim)
    aapl = Stock("AAPL")
    end = _ticks_window(hsim)
    async with asyncio.timeout(GUARD):
        trades = await hib.historical_ticks(aapl, end=end, what_to_show="TRADES", use_rth=False)
        quotes = await hib.historical_ticks(aapl, end=end, what_to_show="BID_ASK", use_rth=False)
        mids = await hib.historical_ticks(aapl, end=end, what_to_show="MIDPOINT", use_rth=False)
        first = await hib.historical_ticks(
            aapl, start=end - timedelta(hours=1), number_of_ticks=10, what_to_show="TRADES"
        )
    assert len(trades) == len(quotes) == len(mids) == 1000
    assert trades == history.historical_ticks(AAPL, "TRADES", 1000, end=end)
    assert quotes == history.historical_ticks(AAPL, "BID_ASK", 1000, end=end)
    assert mids == history.historical_ticks(AAPL, "MIDPOINT", 1000, end=end)
    assert all(isinstance(t, HistoricalTickLast) for t in trades)
    assert all(isinstance(t, HistoricalTickBidAsk) for t in quotes)
    assert all(type(t) is HistoricalTick and t.size == 0 for t in mids)
    assert all(t.time <= end and t.time.tzinfo is not None for t in trades)
    assert any(t.unreported for t in trades if isinstance(t, HistoricalTickLast))
    assert any(
        t.ask_past_high or t.bid_past_low for t in quotes if isinstance(t, HistoricalTickBidAsk)
    )
    assert all(isinstance(t.size, Decimal) for t in trades if isinstance(t, HistoricalTickLast))
    start = end - timedelta(hours=1)
    assert len(first) == 10 and all(t.time >= start for t in first)
    assert first == history.historical_ticks(AAPL, "TRADES", 10, start=start, use_rth=True)


async def test_histogram(hib: IB, hsim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        entries = await hib.histogram(Stock("AAPL"), "3 days", use_rth=True)
    assert entries == history_of(hsim).histogram(AAPL, True, "3 days", hsim.market_time())
    prices = [e.price for e in entries]
    assert len(entries) > 10 and prices == sorted(prices)
    assert all(isinstance(e.size, Decimal) and e.size > 0 for e in entries)


@pytest.mark.parametrize("max_version", [176, 200])
async def test_historical_schedule(hib: IB, hsim: Simulator, max_version: int) -> None:
    async with asyncio.timeout(GUARD):
        schedule = await hib.historical_schedule(Stock("AAPL"), SESSION, "5 D", use_rth=True)
    assert schedule.time_zone == "US/Eastern"
    sessions = schedule.sessions
    assert len(sessions) == 5
    assert [s.ref_date for s in sessions] == sorted({s.ref_date for s in sessions})
    assert sessions[-1].ref_date == SESSION.date()
    for s in sessions:
        assert str(s.start.tzinfo) == "US/Eastern" and s.start.date() == s.ref_date
        assert (s.start.time(), s.end.time()) == (time(9, 30), time(16, 0))
        assert is_business_day(s.ref_date)
    assert schedule.start == sessions[0].start and schedule.end == sessions[-1].end


# -- real-time bars, tick-by-tick history ----------------------------------------------------------


async def test_real_time_bars_every_five_seconds_until_cancelled(
    hib: IB, hsim: Simulator, clock: VirtualClock
) -> None:
    rt = hib.real_time_bars(Stock("AAPL"), "TRADES", use_rth=True, max_bars=3)
    updates = rt.updates()
    await sync(hib)  # subscribed at the simulated now, before the clock moves
    for _ in range(5):
        clock.advance(5)
        async with asyncio.timeout(GUARD):
            await anext(updates)
    assert len(rt) == 3  # max_bars keeps the newest
    history = history_of(hsim)
    assert [b.time for b in rt] == [SESSION + timedelta(seconds=5 * k) for k in (2, 3, 4)]
    assert list(rt) == [history.real_time_bar(AAPL, b.time, "TRADES", True) for b in rt]
    for b in rt:
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        assert isinstance(b.volume, Decimal) and isinstance(b.wap, Decimal) and b.count >= 0
    mid = hib.real_time_bars(Stock("AAPL"), "MIDPOINT", use_rth=True)
    await sync(hib)
    clock.advance(5)
    async with asyncio.timeout(GUARD):
        await anext(mid.updates())
    assert mid[-1].volume is None and mid[-1].wap is None and mid[-1].count is None
    hib.cancel_real_time_bars(rt)
    hib.cancel_real_time_bars(mid)
    assert rt.done and mid.done
    await sync(hib)
    assert {c.req_id for c in requests_of(hsim, CancelRealTimeBars)} == {rt.req_id, mid.req_id}
    assert all(not s.state.get("rt_bars") for s in hsim.sessions)
    clock.advance(30)
    await sync(hib)
    await sync(hib)
    assert len(rt) == 3 and len(mid) == 1


async def test_tick_by_tick_streams_its_historical_ticks_first(hib: IB, hsim: Simulator) -> None:
    history = history_of(hsim)
    now = hsim.market_time()
    stream = hib.tick_by_tick(Stock("AAPL"), "BidAsk", number_of_ticks=20)
    got = []
    async with asyncio.timeout(GUARD):
        async for tick in stream:
            got.append(tick)
            if len(got) == 21:
                break
    stream.cancel()
    expected = [
        TickByTickBidAsk(
            t.time, t.bid_price, t.ask_price, t.bid_size, t.ask_size, t.bid_past_low,
            t.ask_past_high,
        )
        for t in history.historical_ticks(AAPL, "BID_ASK", 20, end=now)
        if isinstance(t, HistoricalTickBidAsk)
    ]  # fmt: skip
    assert got[:20] == expected
    assert isinstance(got[20], TickByTickBidAsk)  # then the live quotes
    last = hib.tick_by_tick(Stock("AAPL"), "Last", number_of_ticks=5)
    async with asyncio.timeout(GUARD):
        trades = [await anext(aiter(last)) for _ in range(5)]
    last.cancel()
    assert all(isinstance(t, TickByTickLast) and not t.unreported for t in trades)
    assert [t.time for t in trades] == sorted(t.time for t in trades)


# -- long ranges ---------------------------------------------------------------------------------


async def test_historical_bars_range_stitches_chunks(hib: IB, hsim: Simulator) -> None:
    end = SESSION
    start = end - timedelta(days=6)
    progress: list[tuple[int, int]] = []
    async with asyncio.timeout(GUARD):
        bars = await hib.historical_bars_range(
            Stock("AAPL"),
            start,
            end,
            "5 mins",
            max_chunk="2 D",
            progress=lambda done, total: progress.append((done, total)),
        )
    sent = requests_of(hsim, ReqHistoricalData)
    assert len(sent) == 3 and {r.duration_str for r in sent} == {"2 D"}
    assert progress == [(1, 3), (2, 3), (3, 3)]
    times = [b.date for b in bars]
    assert times == sorted(times) and len(set(times)) == len(times)  # stitched, no duplicates
    assert all(start <= t < end for t in times)
    assert list(bars) == history_of(hsim).bars(AAPL, end, start, "5 mins", "TRADES", True)


async def test_download_resumes_after_a_failed_chunk(hib: IB, hsim: Simulator) -> None:
    end = SESSION
    start = end - timedelta(days=3)

    calls: list[int] = []

    def fail_from_now_on(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 1:  # after the first chunk, the next ones get no answer
            hsim.faults.unanswered.add(ReqHistoricalData)

    dl = hib.download_bars(
        Stock("AAPL"),
        start,
        end,
        "1 min",
        concurrency=1,
        progress=fail_from_now_on,
        timeout=0.2,
    )
    assert dl.total == 3
    with pytest.raises(DownloadIncomplete) as e:
        async with asyncio.timeout(GUARD):
            await dl
    assert e.value.download is dl and dl.done == 1 and len(e.value.errors) == 2
    kept = dl.bars()
    assert kept and all(b.date >= end - timedelta(days=1) for b in kept)
    # each timed-out chunk was cancelled at TWS
    await sync(hib)
    assert len(requests_of(hsim, CancelHistoricalData)) == 2
    hsim.faults.unanswered.clear()
    asked = len(requests_of(hsim, ReqHistoricalData))
    async with asyncio.timeout(GUARD):
        bars = await hib.historical_bars_range(Stock("AAPL"), start, end, "1 min", resume=dl)
    assert len(requests_of(hsim, ReqHistoricalData)) == asked + 2  # only the missing ones
    assert dl.complete
    assert list(bars) == history_of(hsim).bars(AAPL, end, start, "1 min", "TRADES", True)


async def test_cancelling_an_awaiting_request_sends_the_cancel(hib: IB, hsim: Simulator) -> None:
    hsim.faults.unanswered.add(ReqHistoricalData)
    seen: list[Any] = []
    hib.errors += seen.append
    task = asyncio.create_task(hib.historical_bars(Stock("AAPL"), None, "1 D", "5 mins"))
    async with asyncio.timeout(GUARD):
        while not requests_of(hsim, ReqHistoricalData):
            await sync(hib)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (req,) = requests_of(hsim, ReqHistoricalData)
    await sync(hib)
    (cancel,) = requests_of(hsim, CancelHistoricalData)
    assert cancel.req_id == req.req_id
    assert hib.historical_pacer.open == 0
    # TWS acknowledges the cancel of a query in flight with 162 "query cancelled"
    assert [(e.req_id, e.code) for e in seen] == [(req.req_id, 162)]
    assert "query cancelled" in seen[0].text


# -- pacing ----------------------------------------------------------------------------------------

DURATIONS = [f"{1800 + 60 * k} S" for k in range(8)]


async def test_pacer_on_the_simulators_clock_keeps_within_ibs_rules(
    hib: IB, hsim: Simulator
) -> None:
    waits: list[tuple[WaitReason, float]] = []
    hib.historical_pacer.waiting += lambda reason, delay: waits.append((reason, delay))
    errors: list[Any] = []
    hib.errors += errors.append
    aapl = Stock("AAPL")
    async with asyncio.timeout(GUARD):
        results = await asyncio.gather(
            *(hib.historical_bars(aapl, SESSION, d, "1 min") for d in DURATIONS)
        )
    assert all(len(bars) > 0 for bars in results)
    assert [e.code for e in errors] == []  # the simulator never sent 162
    assert len(requests_of(hsim, ReqHistoricalData)) == 8  # no retries either
    assert waits and {reason for reason, _ in waits} == {WaitReason.SAME_KEY}
    # identical requests wait 15 s (virtual), and are served
    async with asyncio.timeout(GUARD):
        again = await hib.historical_bars(aapl, SESSION, DURATIONS[0], "1 min")
    assert list(again) == list(results[0])
    assert waits[-1][0] is WaitReason.IDENTICAL
    assert errors == []


async def test_the_simulator_enforces_pacing_and_the_client_backs_off(
    hib: IB, hsim: Simulator, clock: VirtualClock
) -> None:
    pacer = HistoricalPacer(clock=clock, sleep=clock.sleep, enabled=False)
    hib.client.historical_pacer = pacer
    hib.client.historical_backoff = Backoff(initial=3.0, jitter=0.0)  # virtual seconds
    errors: list[Any] = []
    hib.errors += errors.append
    aapl = Stock("AAPL")
    async with asyncio.timeout(GUARD):
        results = await asyncio.gather(
            *(hib.historical_bars(aapl, SESSION, d, "1 min") for d in DURATIONS[:7])
        )
    assert all(len(bars) > 0 for bars in results)
    # the 6th and 7th within 2 s were refused as TWS refuses them, then retried and served
    assert [e.code for e in errors] == [162, 162]
    assert all(e.text.endswith("Historical data request pacing violation") for e in errors)
    assert len(requests_of(hsim, ReqHistoricalData)) == 9
    # an identical request within 15 s is refused too
    errors.clear()
    clock.advance(3)
    async with asyncio.timeout(GUARD):
        await hib.historical_bars(aapl, SESSION, DURATIONS[0], "1 min")
    assert [e.code for e in errors] == [162, 162]  # refused 9 and 12 s after; served at 18 s


async def test_pacing_enforcement_can_be_turned_off(hib: IB, hsim: Simulator) -> None:
    hsim.config.historical_pacing = False
    hib.client.historical_pacer.enabled = False
    errors: list[Any] = []
    hib.errors += errors.append
    async with asyncio.timeout(GUARD):
        await asyncio.gather(
            *(hib.historical_bars(Stock("AAPL"), SESSION, "1800 S", "1 min") for _ in range(8))
        )
    assert errors == []
    assert len(requests_of(hsim, ReqHistoricalData)) == 8


async def test_real_time_connection_without_a_virtual_clock() -> None:
    """The default simulator: real time, pacing on; one request is served at once."""
    async with (
        Simulator(port=0, seed=1, market_start=SESSION) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        async with asyncio.timeout(GUARD):
            bars = await ib.historical_bars(Stock("AAPL"), None, "1 D", "1 hour")
        assert bars and bars[-1].date <= sim.market_time()
