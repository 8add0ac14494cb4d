"""Live objects across TWS's daily restart and its 1101 ("data lost"), against the simulator.

A ``Client`` with ``keep_live`` set loses its socket (``sim.drop_connections()``), connects
again (the same object) and calls ``resume_live()``: a ticker, an order book, a tick-by-tick
stream, a keep-up-to-date bar list and a real-time bar list, the same objects, update again
under new request ids, and the bar list has neither duplicated nor missing bars. On a live
socket 1101 is answered with ``resume_live(cancel_old=True)``: each old request is cancelled,
then subscribed again.

The simulated market runs on a virtual clock the tests advance (the simulator's own
keep-up-to-date loop may skip a bar when its clock jumps, which a loaded machine would
cause): the stitched bar list is then exactly checkable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from eventkit import Event

from aiotws import Client, OrderBook, Stock, Ticker
from aiotws.bars import BarList, RealTimeBarList
from aiotws.requests import Stream
from aiotws.sim import Simulator
from aiotws.sim.calendar import is_business_day
from aiotws.wire.messages.depth import (
    CancelMktDepth,
    CancelTickByTickData,
    ReqMktDepth,
    ReqTickByTickData,
)
from aiotws.wire.messages.historical import (
    CancelHistoricalData,
    CancelRealTimeBars,
    ReqHistoricalData,
    ReqRealTimeBars,
)
from aiotws.wire.messages.market import CancelMktData, ReqMktData

GUARD = 10.0
AAPL = Stock("AAPL")


def _session_time() -> datetime:
    """15:30 UTC of the last US business day: inside AAPL's regular hours."""
    d = datetime.now(UTC).date() - timedelta(days=1)
    while not is_business_day(d):
        d -= timedelta(days=1)
    return datetime.combine(d, time(15, 30), UTC)


class Clock:
    """The simulator's monotonic clock: moves only when advanced."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[Simulator]:
    async with Simulator(
        port=0, seed=1, tick_interval=0.02, clock=clock, market_start=_session_time()
    ) as s:
        yield s


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[Client]:
    c = Client()
    c.keep_live = True
    async with asyncio.timeout(GUARD):
        await c.connect(sim.host, sim.port, 1)
    yield c
    c.disconnect()
    async with asyncio.timeout(GUARD):
        await c.wait_closed()


async def next_emit(event: Event) -> tuple[Any, ...]:
    """The arguments of ``event``'s next emit."""
    fut: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def handler(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args)

    event += handler
    try:
        async with asyncio.timeout(GUARD):
            return await fut
    finally:
        event -= handler


@dataclass
class Live:
    ticker: Ticker
    book: OrderBook
    stream: Stream[Any]
    bars: BarList
    rt: RealTimeBarList

    def objects(self) -> list[Any]:
        return [self.ticker, self.book, self.stream, self.bars, self.rt]

    def ids(self) -> dict[str, int]:
        return {
            "ticker": self.ticker.req_id,
            "book": self.book.req_id,
            "bars": self.bars.req_id,
            "rt": self.rt.req_id,
        }


async def barrier(client: Client) -> None:
    """A round trip: the simulator has handled every request sent before it."""
    async with asyncio.timeout(GUARD):
        await client.req_managed_accounts()


async def step(client: Client, clock: Clock, live: Live) -> None:
    """Five simulated seconds (a real-time bar, a bar update); wait until all updated."""
    await barrier(client)
    clock.advance(5)
    await all_update(live)


async def subscribe(client: Client, clock: Clock) -> Live:
    ticker = client.req_mkt_data(AAPL, [233])
    book = client.req_mkt_depth(AAPL, rows=5)
    stream = client.tick_by_tick(AAPL, "BidAsk")
    rt = client.req_real_time_bars(AAPL, "TRADES", use_rth=False)
    async with asyncio.timeout(GUARD):
        bars = await client.req_historical_data(
            AAPL, None, "120 S", "5 secs", "TRADES", use_rth=False, keep_up_to_date=True
        )
    live = Live(ticker, book, stream, bars, rt)
    await step(client, clock, live)
    return live


async def all_update(live: Live) -> None:
    """Each object's next update (and for the stale ones: until they are fresh again)."""

    async def fresh(event: Event, obj: Any) -> None:
        await next_emit(event)
        while obj.stale:
            await next_emit(event)

    await asyncio.gather(
        fresh(live.ticker.updated, live.ticker),
        fresh(live.book.updated, live.book),
        fresh(live.stream.updated, live.stream),
        fresh(live.bars.updated, live.bars),
        fresh(live.rt.updated, live.rt),
    )


def req_ids(sim: Simulator, cls: type[Any]) -> list[int]:
    return [m.req_id for m in sim.requests if isinstance(m, cls)]


def record_stitch(bars: BarList) -> list[datetime]:
    """The bar times right after the re-request's answer was merged (filled in then)."""
    seen: list[datetime] = []

    def on_update(b: BarList, new: bool) -> None:
        if not b.stale and not seen:
            seen.extend(x.date for x in b)  # type: ignore[misc]
            b.updated -= on_update

    bars.updated += on_update
    return seen


def assert_stitched(bars: BarList, stitched: list[datetime], last: datetime, lost: int) -> None:
    """No bar twice, in order; from the last bar before the loss on, every 5-second bar."""
    times = [b.date for b in bars]
    assert len(times) == len(set(times)), "a bar is duplicated"
    assert times == sorted(times)  # type: ignore[type-var]
    assert stitched and stitched == times[: len(stitched)]
    tail = stitched[stitched.index(last) :]
    assert [b - a for a, b in pairwise(tail)] == [timedelta(seconds=5)] * (len(tail) - 1)
    assert tail[-1] - last >= timedelta(seconds=lost)  # the bars of the outage are there


async def test_live_objects_survive_a_dropped_connection(
    client: Client, sim: Simulator, clock: Clock
) -> None:
    live = await subscribe(client, clock)
    before = live.ids()
    [tbt_before] = req_ids(sim, ReqTickByTickData)
    n_bars = len(live.bars)
    rt_bars = len(live.rt)
    last = live.bars[-1].date
    assert isinstance(last, datetime)

    lost = asyncio.ensure_future(next_emit(client.disconnected))
    await sim.drop_connections()  # TWS's daily restart
    async with asyncio.timeout(GUARD):
        (exc,) = await lost
    assert exc is not None and not client.is_connected()
    for obj in live.objects():
        assert obj.stale and not obj.done
    assert client.tickers() == [live.ticker] and client.order_books() == [live.book]

    clock.advance(30)  # the market goes on while TWS restarts
    sim.requests.clear()
    async with asyncio.timeout(GUARD):
        await client.connect(sim.host, sim.port, 1)  # the same Client object
    stitched = record_stitch(live.bars)
    assert client.resume_live() == 5
    await step(client, clock, live)

    after = live.ids()
    for name, old in before.items():
        assert after[name] != old, name
    assert req_ids(sim, ReqMktData) == [live.ticker.req_id]
    assert req_ids(sim, ReqMktDepth) == [live.book.req_id]
    assert req_ids(sim, ReqRealTimeBars) == [live.rt.req_id]
    assert req_ids(sim, ReqHistoricalData) == [live.bars.req_id]
    [tbt_after] = req_ids(sim, ReqTickByTickData)
    assert tbt_after != tbt_before
    # nothing was cancelled: the old requests died with the connection
    assert not any(isinstance(m, CancelMktData | CancelHistoricalData) for m in sim.requests)
    assert all(not obj.stale and not obj.done for obj in live.objects())
    assert live.ticker.has_quote() and live.book.bids and live.book.asks
    assert len(live.bars) >= n_bars + 6 and len(live.rt) > rt_bars
    assert_stitched(live.bars, stitched, last, 30)
    rts = [b.time for b in live.rt]
    assert rts == sorted(set(rts))
    # the stream yields on, from the same iterator
    async with asyncio.timeout(GUARD):
        assert await anext(aiter(live.stream)) is not None


async def test_1101_resubscribes_on_the_live_socket_cancelling_the_old_ids(
    client: Client, sim: Simulator, clock: Clock
) -> None:
    live = await subscribe(client, clock)
    last = live.bars[-1].date
    assert isinstance(last, datetime)
    stitched = record_stitch(live.bars)
    before = live.ids()
    [tbt_before] = req_ids(sim, ReqTickByTickData)
    sim.requests.clear()
    resumed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connectivity(info: Any) -> None:
        if info.code == 1101 and not resumed.done():
            resumed.set_result(client.resume_live(cancel_old=True))

    client.connectivity += on_connectivity
    sim.broadcast_error(1101, "Connectivity between IB and TWS has been restored - data lost.")
    async with asyncio.timeout(GUARD):
        assert await resumed == 5
    assert client.is_connected()
    await step(client, clock, live)

    after = live.ids()
    assert all(after[k] != v for k, v in before.items())
    names = [type(m).__name__ for m in sim.requests]
    for cancel, cls, old, new in (
        (CancelMktData, ReqMktData, before["ticker"], after["ticker"]),
        (CancelMktDepth, ReqMktDepth, before["book"], after["book"]),
        (CancelRealTimeBars, ReqRealTimeBars, before["rt"], after["rt"]),
        (CancelHistoricalData, ReqHistoricalData, before["bars"], after["bars"]),
        (CancelTickByTickData, ReqTickByTickData, tbt_before, None),
    ):
        assert req_ids(sim, cancel) == [old], cancel.__name__
        [new_id] = req_ids(sim, cls)
        assert new is None or new_id == new
        assert names.index(cancel.__name__) < names.index(cls.__name__)
    assert all(not obj.stale and not obj.done for obj in live.objects())
    assert_stitched(live.bars, stitched, last, 0)
