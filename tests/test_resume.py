"""Live subscriptions across a lost connection (``Client.keep_live``, ``Client.resume_live``),
without a socket: messages are fed into a ``Client`` whose ``send`` records what goes out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import pytest

from aiotws.bars import BarList
from aiotws.calls.historical import resume_duration
from aiotws.calls.tickbytick import _ResumedPending, _TickByTickPending
from aiotws.client import Client, ClientState
from aiotws.errors import ConnectionLost, NotConnected
from aiotws.history_pacing import HistoricalPacer
from aiotws.model.contract import Contract
from aiotws.model.history import BarData
from aiotws.model.ticks import TickByTickBidAsk
from aiotws.wire import encode
from aiotws.wire.connection import ClientConnection, State
from aiotws.wire.layout import InMessage, OutMessage
from aiotws.wire.messages import ErrMsg
from aiotws.wire.messages.depth import (
    CancelMktDepth,
    CancelTickByTickData,
    MarketDepth,
    ReqMktDepth,
    ReqTickByTickData,
    TickByTick,
)
from aiotws.wire.messages.historical import (
    BarRow,
    CancelHistoricalData,
    CancelRealTimeBars,
    HistoricalData,
    HistoricalDataEnd,
    HistoricalDataUpdate,
    RealTimeBars,
    ReqHistoricalData,
    ReqRealTimeBars,
)
from aiotws.wire.messages.market import (
    CancelMktData,
    ReqMarketDataType,
    ReqMktData,
    TickPrice,
    TickSnapshotEnd,
)

GUARD = 2.0
AAPL = Contract(con_id=265598, symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD")
MSFT = Contract(con_id=272093, symbol="MSFT", sec_type="STK", exchange="SMART", currency="USD")
T = TypeVar("T")


def connected() -> tuple[Client, list[OutMessage]]:
    c = Client()
    sent: list[OutMessage] = []
    c.state = ClientState.CONNECTED
    c.server_version = 200
    c.send = sent.append  # type: ignore[method-assign,assignment]
    c.managed_accounts = ("DU1",)
    return c, sent


def feed(c: Client, *msgs: InMessage) -> None:
    c.on_messages(list(msgs))


def lose(c: Client) -> None:
    """TWS closed the socket (its daily restart)."""
    c.on_connection_lost(None)


def reconnect(c: Client, sent: list[OutMessage]) -> None:
    c.state = ClientState.CONNECTED
    sent.clear()
    c.connected.emit()


def of(sent: list[OutMessage], cls: type[T]) -> list[T]:
    return [m for m in sent if isinstance(m, cls)]


async def until(cond: Callable[[], bool]) -> None:
    """Let the loop run (the bar re-requests are tasks) until ``cond`` holds."""
    for _ in range(1000):
        if cond():
            return
        await asyncio.sleep(0)  # one loop step: no timers are involved
    raise AssertionError("the condition never held")


def raw_tick(c: Client, req_id: int, price: str) -> bool:
    """A TICK_PRICE (bid) on the hand-tuned path, as ClientConnection.raw calls it."""
    return c._raw["1"](["1", "6", str(req_id), "1", price, "3", "0", ""])


def epoch(t: datetime) -> str:
    return str(int(t.timestamp()))


def row(t: datetime, close: float, volume: int = 10) -> BarRow:
    return BarRow(epoch(t), close, close + 1, close - 1, close, Decimal(volume), Decimal(1), 3)


def minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


async def live_bars(c: Client, sent: list[OutMessage], start: datetime) -> BarList:
    """A keep-up-to-date list of three 1-min bars ending at ``start``."""
    task = asyncio.ensure_future(
        c.req_historical_data(AAPL, None, "1800 S", "1 min", "TRADES", format_date=2,
                              keep_up_to_date=True)
    )  # fmt: skip
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    req = of(sent, ReqHistoricalData)[-1]
    rows = [row(start - timedelta(minutes=k), 100.0 + k) for k in (2, 1, 0)]
    feed(c, HistoricalData(req.req_id, bars=rows), HistoricalDataEnd(req.req_id, "a", "b"))
    async with asyncio.timeout(GUARD):
        return await task


# -- keep_live off: today's behaviour --------------------------------------------------------


async def test_without_keep_live_a_loss_ends_every_live_subscription() -> None:
    c, sent = connected()
    t = c.req_mkt_data(AAPL)
    book = c.req_mkt_depth(AAPL)
    stream = c.tick_by_tick(AAPL, "BidAsk")
    rt = c.req_real_time_bars(AAPL)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    assert isinstance(t._closed, ConnectionLost) and c.tickers() == []
    assert isinstance(book._closed, ConnectionLost) and c.order_books() == []
    assert isinstance(stream.error, ConnectionLost)
    assert isinstance(rt._closed, ConnectionLost) and bars.done
    assert not (t.stale or book.stale or stream.stale or rt.stale or bars.stale)
    assert len(c._registry) == 0
    reconnect(c, sent)
    assert c.resume_live() == 0 and sent == []


# -- keep_live on: suspend ----------------------------------------------------------------------


async def test_keep_live_suspends_live_subscriptions_and_fails_one_shots() -> None:
    c, sent = connected()
    c.keep_live = True
    t = c.req_mkt_data(AAPL, [233])
    snap = c.req_mkt_data(MSFT, snapshot=True)
    book = c.req_mkt_depth(AAPL)
    stream = c.tick_by_tick(AAPL, "BidAsk")
    rt = c.req_real_time_bars(AAPL)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    one_shot = asyncio.ensure_future(c.current_time())
    await asyncio.sleep(0)
    seen: list[object] = []
    t.updated += seen.append
    feed(c, MarketDepth(book.req_id, 0, 0, 1, 101.0, Decimal(5)))
    lose(c)
    with pytest.raises(ConnectionLost):
        async with asyncio.timeout(GUARD):
            await one_shot
    with pytest.raises(ConnectionLost):
        async with asyncio.timeout(GUARD):
            await snap._snapshot_done  # type: ignore[misc]
    assert len(c._registry) == 0  # nothing left to fail_all
    assert t.stale and book.stale and stream.stale and rt.stale and bars.stale
    assert t._closed is False
    assert not book.done and not stream.done and not rt.done and not bars.done
    assert c.tickers() == [t] and c.order_books() == [book]
    assert len(book.bids) == 1  # the stale book stays readable
    assert seen == []  # turning stale is no update


async def test_a_loss_while_connecting_or_our_own_disconnect_ends_them() -> None:
    c, _ = connected()
    c.keep_live = True
    t = c.req_mkt_data(AAPL)
    c.state = ClientState.DISCONNECTING  # disconnect() in progress
    lose(c)
    assert isinstance(t._closed, ConnectionLost)


async def test_disconnect_while_suspended_ends_the_suspended_ones() -> None:
    c, sent = connected()
    c.keep_live = True
    t = c.req_mkt_data(AAPL)
    book = c.req_mkt_depth(AAPL)
    stream = c.tick_by_tick(AAPL, "Last")
    rt = c.req_real_time_bars(AAPL)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    c.disconnect()  # already disconnected: nothing will resume them
    assert isinstance(t._closed, ConnectionLost) and c.tickers() == []
    assert isinstance(book._closed, ConnectionLost) and c.order_books() == []
    assert isinstance(stream.error, ConnectionLost)
    assert isinstance(rt._closed, ConnectionLost) and isinstance(bars._closed, ConnectionLost)
    assert c._live_bars == {} and c._rt_bars == {}


async def test_cancelling_a_suspended_subscription_sends_nothing() -> None:
    c, sent = connected()
    c.keep_live = True
    t = c.req_mkt_data(AAPL)
    book = c.req_mkt_depth(AAPL)
    stream = c.tick_by_tick(AAPL, "Last")
    rt = c.req_real_time_bars(AAPL)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    reconnect(c, sent)
    c.cancel_mkt_data(t)
    c.cancel_mkt_depth(book)
    stream.cancel()
    c.cancel_real_time_bars(rt)
    c.cancel_historical_data(bars)
    assert sent == []
    assert t._closed is True and book.done and stream.done and rt.done and bars.done
    assert c.resume_live() == 0 and sent == []


async def test_resume_needs_a_connection() -> None:
    c, _ = connected()
    c.keep_live = True
    c.req_mkt_data(AAPL)
    lose(c)
    with pytest.raises(NotConnected):
        c.resume_live()


# -- resume: fresh ids, same objects --------------------------------------------------------------


async def test_resume_resubscribes_a_ticker_under_a_fresh_id_on_the_raw_path() -> None:
    c, sent = connected()
    c.keep_live = True
    t = c.req_mkt_data(AAPL, [233, 236])
    old = t.req_id
    assert raw_tick(c, old, "100.5")  # the raw path's text cache now knows the old id
    feed(c)
    assert t.bid == 100.5
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    [req] = of(sent, ReqMktData)
    assert req.req_id == t.req_id != old
    assert req.generic_tick_list == "233,236" and req.contract is AAPL
    assert of(sent, ReqMarketDataType) == []  # live data: the connection's default
    assert c._tickers == {t.req_id: t}
    assert not raw_tick(c, old, "1.0")  # the old id is nobody's now
    feed(c, TickPrice(old, 2, 1.0, Decimal(1), 0))
    assert t.ask != 1.0 and t.stale
    updates: list[object] = []
    t.updated += updates.append
    assert raw_tick(c, t.req_id, "101.25")
    assert t.stale  # until the end of the read
    feed(c)
    assert t.bid == 101.25 and not t.stale and updates == [t]
    # errors route to the new id
    assert c._registry.get(t.req_id) is not None and c._registry.get(old) is None


async def test_resume_restores_each_tickers_market_data_type() -> None:
    c, sent = connected()
    c.keep_live = True
    live = c.req_mkt_data(AAPL)
    c.req_market_data_type(3)
    delayed = c.req_mkt_data(MSFT)
    lose(c)
    reconnect(c, sent)  # a new connection: live data again
    assert c.resume_live() == 2
    kinds = [
        (type(m).__name__, getattr(m, "market_data_type", getattr(m, "req_id", None))) for m in sent
    ]
    assert kinds == [
        ("ReqMktData", live.req_id),
        ("ReqMarketDataType", 3),
        ("ReqMktData", delayed.req_id),
    ]
    sent.clear()
    c.req_market_data_type(1)
    c.req_mkt_data(AAPL)
    lose(c)
    reconnect(c, sent)
    c.resume_live()
    assert [m.market_data_type for m in of(sent, ReqMarketDataType)] == [3, 1]


async def test_resume_restores_the_market_data_type_asked_for_last() -> None:
    c, sent = connected()
    c.keep_live = True
    c.req_mkt_data(AAPL)
    c.req_market_data_type(4)  # for subscriptions to come
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    assert [type(m) for m in sent] == [ReqMktData, ReqMarketDataType]
    assert of(sent, ReqMarketDataType)[0].market_data_type == 4
    sent.clear()
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    assert of(sent, ReqMarketDataType)[0].market_data_type == 4


async def test_resume_clears_and_resubscribes_a_book() -> None:
    c, sent = connected()
    c.keep_live = True
    book = c.req_mkt_depth(AAPL, rows=3, smart=True)
    old = book.req_id
    feed(c, MarketDepth(old, 0, 0, 1, 101.0, Decimal(5)), MarketDepth(old, 0, 0, 0, 100.0))
    lose(c)
    assert len(book.bids) == 1 and len(book.asks) == 1  # readable while suspended
    reconnect(c, sent)
    assert c.resume_live() == 1
    [req] = of(sent, ReqMktDepth)
    assert req.req_id == book.req_id != old
    assert (req.num_rows, req.is_smart_depth) == (3, True)
    assert book.bids == [] and book.asks == [] and book.stale and book.resets == 0
    feed(c, MarketDepth(old, 0, 0, 1, 99.0))  # the old id is nobody's
    assert book.bids == [] and book.stale
    feed(c, MarketDepth(book.req_id, 0, 0, 1, 102.0, Decimal(1)))
    assert [lv.price for lv in book.bids] == [102.0] and not book.stale


async def test_resume_reissues_a_tick_by_tick_stream_without_history() -> None:
    c, sent = connected()
    c.keep_live = True
    stream = c.tick_by_tick(AAPL, "BidAsk", number_of_ticks=10, ignore_size=True)
    [first] = of(sent, ReqTickByTickData)
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    [req] = of(sent, ReqTickByTickData)
    assert req.req_id != first.req_id
    assert (req.tick_type, req.number_of_ticks, req.ignore_size) == ("BidAsk", 0, True)
    p = c._registry.get(req.req_id)
    assert type(p) is _ResumedPending and stream.stale
    now = datetime.now(UTC).replace(microsecond=0)
    tick = TickByTick(req.req_id, 3, now, bid_price=1.0, ask_price=2.0, bid_size=Decimal(1),
                      ask_size=Decimal(2))  # fmt: skip
    feed(c, tick)
    assert not stream.stale and type(p) is _TickByTickPending  # no per-tick check from now on
    async with asyncio.timeout(GUARD):
        item = await anext(aiter(stream))
    assert isinstance(item, TickByTickBidAsk) and item.bid_price == 1.0
    stream.cancel()  # the cancel goes to the new id
    assert of(sent, CancelTickByTickData)[-1].req_id == req.req_id


async def test_resume_resubscribes_real_time_bars_and_skips_a_repeated_bar() -> None:
    c, sent = connected()
    c.keep_live = True
    rt = c.req_real_time_bars(AAPL, "MIDPOINT", use_rth=False, options="x")
    old = rt.req_id
    t0 = datetime.now(UTC).replace(microsecond=0)
    feed(c, RealTimeBars(old, t0, 1, 2, 0.5, 1.5, Decimal(-1), Decimal(-1), -1))
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    [req] = of(sent, ReqRealTimeBars)
    assert req.req_id == rt.req_id != old
    assert (req.what_to_show, req.use_rth, req.real_time_bars_options) == ("MIDPOINT", False, "x")
    assert c._rt_bars == {rt.req_id: rt} and rt.stale
    feed(c, RealTimeBars(rt.req_id, t0, 1, 2, 0.5, 1.5, Decimal(-1), Decimal(-1), -1))
    assert len(rt) == 1 and not rt.stale
    feed(c, RealTimeBars(rt.req_id, t0 + timedelta(seconds=5), 1, 2, 0.5, 1.5))
    assert [b.time for b in rt] == [t0, t0 + timedelta(seconds=5)]


@pytest.mark.parametrize("raw", [False, True])
async def test_resume_rerequests_bars_and_stitches_them(raw: bool) -> None:
    c, sent = connected()
    c.keep_live = True
    start = minute(datetime.now(UTC))
    bars = await live_bars(c, sent, start)
    old = bars.req_id
    last = bars[-1]
    feed(c, HistoricalDataUpdate(old, 3, epoch(start), 100.0, 100.5, 101.0, 99.0))
    assert len(bars) == 3 and last.close == 100.5
    lose(c)
    reconnect(c, sent)
    assert c.resume_live() == 1
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    [req] = of(sent, ReqHistoricalData)
    assert req.req_id == bars.req_id != old
    assert req.keep_up_to_date and req.end_date_time == "" and req.format_date == 2
    seconds = int(req.duration_str.split()[0])
    assert req.duration_str.endswith(" S") and 180 <= seconds <= 240
    assert c._live_bars == {bars.req_id: bars} and bars.stale
    # the answer overlaps: an old bar (skipped), the last one (revised), two new ones
    answer = HistoricalData(
        bars.req_id,
        bars=[
            row(start - timedelta(minutes=1), 7.0),
            row(start, 100.75, 20),
            row(start + timedelta(minutes=1), 102.0),
            row(start + timedelta(minutes=2), 103.0),
        ],
    )
    updates: list[tuple[object, bool]] = []
    bars.updated += lambda b, new: updates.append((b, new))
    if raw:  # the hand-tuned HISTORICAL_DATA reader
        conn = ClientConnection()
        conn.state = State.OPEN
        conn.server_version = 200
        conn.raw = c._raw
        events = conn.receive_data(encode(answer, 200))
        assert events == []  # taken by the raw path
        feed(c)
    else:
        feed(c, answer)
    feed(c, HistoricalDataEnd(bars.req_id, "s", "e"))
    times = [b.date for b in bars]
    assert times == sorted(set(times)) and len(bars) == 5
    assert bars[2] is last and last.close == 100.75 and last.volume == 20
    assert bars[1].close == 101.0  # the held bar, not the answer's
    assert not bars.stale and updates == [(bars, True)]
    assert bars.start_text == "a" and bars.end_text == "e"
    await until(lambda: not c._bar_resumes)
    # still live: updates for the new id go on
    feed(c, HistoricalDataUpdate(bars.req_id, 3, epoch(start + timedelta(minutes=3)), 1, 1, 1, 1))
    assert len(bars) == 6 and not bars.done
    c.cancel_historical_data(bars)
    assert of(sent, CancelHistoricalData)[-1].req_id == bars.req_id


async def test_a_loss_during_the_bar_rerequest_keeps_the_list_for_the_next_resume() -> None:
    c, sent = connected()
    c.keep_live = True
    # the same re-request twice within 15 s: the pacer would (rightly) hold the second
    c.historical_pacer = HistoricalPacer(enabled=False)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    reconnect(c, sent)
    c.resume_live()
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    lose(c)  # before the answer
    await until(lambda: not c._bar_resumes)
    assert not bars.done and bars.stale and c._live_bars == {bars.req_id: bars}
    reconnect(c, sent)
    assert c.resume_live() == 1
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    req = of(sent, ReqHistoricalData)[-1]
    assert req.req_id == bars.req_id
    feed(c, HistoricalData(req.req_id, bars=[]), HistoricalDataEnd(req.req_id))
    await until(lambda: not c._bar_resumes)
    assert not bars.done and not bars.stale


async def test_an_error_on_the_bar_rerequest_ends_the_list() -> None:
    c, sent = connected()
    c.keep_live = True
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    reconnect(c, sent)
    c.resume_live()
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    feed(c, ErrMsg(bars.req_id, 200, "No security definition has been found"))
    await until(lambda: bars.done)
    assert c._live_bars == {} and bars.errors[-1].code == 200


async def test_keep_live_off_ends_a_bar_rerequest_in_flight() -> None:
    c, sent = connected()
    c.keep_live = True
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    lose(c)
    reconnect(c, sent)
    c.resume_live()
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    c.keep_live = False
    lose(c)
    assert isinstance(bars._closed, ConnectionLost)
    await until(lambda: not c._bar_resumes)
    assert c._live_bars == {}


# -- cancel_old: TWS's 1101 on a live socket ---------------------------------------------------


async def test_cancel_old_cancels_then_resubscribes_everything_live() -> None:
    c, sent = connected()
    t = c.req_mkt_data(AAPL, "233")
    book = c.req_mkt_depth(AAPL)
    stream = c.tick_by_tick(AAPL, "Last")
    rt = c.req_real_time_bars(AAPL)
    bars = await live_bars(c, sent, minute(datetime.now(UTC)))
    snap = c.req_mkt_data(MSFT, snapshot=True)
    old = {"t": t.req_id, "book": book.req_id, "rt": rt.req_id, "bars": bars.req_id}
    [tbt_old] = of(sent, ReqTickByTickData)
    feed(c, MarketDepth(book.req_id, 0, 0, 1, 101.0))
    sent.clear()
    assert c.resume_live() == 0  # nothing suspended
    assert c.resume_live(cancel_old=True) == 5  # the snapshot is not re-issued
    await until(lambda: bool(of(sent, ReqHistoricalData)))
    names = [type(m).__name__ for m in sent]
    # each cancel goes before its re-subscription
    for cancel, req in (
        ("CancelMktData", "ReqMktData"),
        ("CancelTickByTickData", "ReqTickByTickData"),
        ("CancelMktDepth", "ReqMktDepth"),
        ("CancelRealTimeBars", "ReqRealTimeBars"),
        ("CancelHistoricalData", "ReqHistoricalData"),
    ):
        assert names.index(cancel) < names.index(req)
    assert of(sent, CancelMktData)[0].req_id == old["t"]
    assert of(sent, CancelMktDepth)[0].req_id == old["book"]
    assert of(sent, CancelTickByTickData)[0].req_id == tbt_old.req_id
    assert of(sent, CancelRealTimeBars)[0].req_id == old["rt"]
    assert of(sent, CancelHistoricalData)[0].req_id == old["bars"]
    assert t.req_id != old["t"] and book.req_id != old["book"] and rt.req_id != old["rt"]
    assert bars.req_id != old["bars"]
    assert of(sent, ReqTickByTickData)[0].req_id != tbt_old.req_id
    assert t.stale and book.stale and stream.stale and rt.stale and bars.stale
    assert book.asks == []
    assert snap.req_id not in [m.req_id for m in of(sent, CancelMktData)]
    feed(c, TickSnapshotEnd(snap.req_id))
    assert snap._snapshot_done is not None and snap._snapshot_done.done()


# -- the re-request's span -----------------------------------------------------------------------


def _bars(size: str, last: datetime | None, duration: str = "1800 S") -> BarList:
    bars = BarList(AAPL, duration=duration, bar_size=size, keep_up_to_date=True)
    if last is not None:
        bars.append(BarData(last, 1, 1, 1, 1, None, None, None))
    return bars


def test_resume_duration() -> None:
    now = datetime(2030, 1, 7, 15, 0, 30, tzinfo=UTC)
    assert resume_duration(_bars("1 min", None), now) == "1800 S"  # nothing held: as asked
    assert resume_duration(_bars("1 min", now - timedelta(seconds=30)), now) == "210 S"
    assert resume_duration(_bars("5 secs", now), now) == "70 S"
    assert resume_duration(_bars("5 secs", now + timedelta(seconds=9)), now) == "70 S"  # skew
    assert resume_duration(_bars("1 hour", now - timedelta(hours=30)), now) == "2 D"
    day = _bars("1 day", None, "1 M")
    day.append(BarData(now.date() - timedelta(days=3), 1, 1, 1, 1, None, None, None))
    assert resume_duration(day, now) == "5 D"


def test_stitch_into_an_empty_list_appends() -> None:
    bars = _bars("1 min", None)
    t0 = datetime(2030, 1, 7, 15, tzinfo=UTC)
    bars._stitch([BarData(t0, 1, 1, 1, 1, None, None, None)])
    assert len(bars) == 1
