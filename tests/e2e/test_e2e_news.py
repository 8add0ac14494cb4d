"""News end to end: ``IB`` against the simulator's news desk.

Providers, articles (text and binary), historical headlines (limits, paging, the date range),
news ticks on tickers (a stock with generic tick 292, a NEWS contract with ``mdoff,292``),
bulletins (live, deduplicated, cancelled, restored after a simulator restart) and the TWS
errors of each request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiotws import IB, Contract, RequestError, Stock
from aiotws.errors import InvalidNewsRequest
from aiotws.model.news import ArticleType, BulletinType, HistoricalNewsList, NewsTick
from aiotws.session import ReconnectPolicy
from aiotws.sim import Simulator
from aiotws.sim.news import PROVIDERS, TICK_EVERY, desk_of, publish_bulletin, step_news
from aiotws.ticker import Ticker
from aiotws.wire.messages.news import ReqHistoricalNews, ReqNewsArticle

GUARD = 5.0
FAST = ReconnectPolicy(initial_delay=0.05, max_delay=0.2, jitter=0.0, connect_timeout=1.0)
ALL = "BRFG+BRFUPDN+DJ-N+DJNL"
BROADTAPE = Contract(sec_type="NEWS", exchange="BRFG", symbol="BRFG:BRFG_ALL")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=3, tick_interval=0.01) as s:
        yield s


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    ib = IB(reconnect=FAST)
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
    sim.requests.clear()
    yield ib
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


async def _aapl(ib: IB) -> int:
    async with asyncio.timeout(GUARD):
        [c] = await ib.qualify(Stock("AAPL", "SMART", "USD"))
    return c.con_id


async def _guard(aw: Awaitable[Any]) -> Any:
    async with asyncio.timeout(GUARD):
        return await aw


def _first(event: Any, pred: Callable[..., bool] = lambda *a: True) -> asyncio.Future[Any]:
    """The first emission of ``event`` from now on whose argument satisfies ``pred``."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on(arg: Any) -> None:
        if not fut.done() and pred(arg):
            fut.set_result(arg)
            event.disconnect(on)

    event += on
    return fut


async def _news(ticker: Ticker, count: int = 1) -> list[NewsTick]:
    async with asyncio.timeout(GUARD):
        while len(ticker.news) < count:
            async for _ in ticker.updates():
                break
    return list(ticker.news)


# -- requests ---------------------------------------------------------------------------------


async def test_providers(ib: IB) -> None:
    got = await _guard(ib.news_providers())
    assert got == list(PROVIDERS)
    assert [p.code for p in got] == ["BRFG", "BRFUPDN", "DJ-N", "DJNL"]


async def test_historical_news_and_articles(ib: IB, sim: Simulator) -> None:
    con_id = await _aapl(ib)
    news = await _guard(ib.historical_news(con_id, ALL, total_results=50))
    assert isinstance(news, HistoricalNewsList) and len(news) == 50 and news.has_more
    times = [h.time for h in news]
    assert times == sorted(times, reverse=True)
    assert all(t.tzinfo is not None and t <= sim.market_time() for t in times)
    assert {h.provider_code for h in news} <= {p.code for p in PROVIDERS}
    assert all(h.article_id.startswith(h.provider_code + "$") for h in news)
    # the same request gives the same headlines (seeded)
    again = await _guard(ib.historical_news(con_id, ALL, end=news[0].time, total_results=50))
    assert again == news
    text = next(h for h in news if h.provider_code != "DJNL")
    article = await _guard(ib.news_article(text.provider_code, text.article_id))
    assert article.article_type is ArticleType.TEXT and not article.is_binary
    assert "<html>" in article.text and article.data == article.text.encode()
    letter = next(h for h in news if h.provider_code == "DJNL")
    pdf = await _guard(ib.news_article("DJNL", letter.article_id))
    assert pdf.is_binary and pdf.data.startswith(b"%PDF-")
    assert b"aiotws sim" in pdf.data


async def test_historical_news_range_and_paging(ib: IB) -> None:
    con_id = await _aapl(ib)
    end = datetime.now(UTC) - timedelta(days=3)
    start = end - timedelta(days=5)
    news = await _guard(ib.historical_news(con_id, ["BRFG", "DJ-N"], start, end, 300))
    assert news and not news.has_more  # five days hold fewer than 300
    assert all(start < h.time <= end for h in news)
    assert {h.provider_code for h in news} <= {"BRFG", "DJ-N"}
    # page through the same range five at a time: the same headlines, in the same order
    pages: list[Any] = []
    page_end: datetime = end
    while True:
        page = await _guard(ib.historical_news(con_id, "BRFG+DJ-N", start, page_end, 5))
        pages.extend(page)
        if not page.has_more:
            break
        assert len(page) == 5
        page_end = page[-1].time - timedelta(seconds=1)
    assert pages == list(news)
    # TWS's own text for the dates works too
    fmt = "%Y-%m-%d %H:%M:%S.0"
    texts = await _guard(
        ib.historical_news(con_id, "BRFG+DJ-N", start.strftime(fmt), end.strftime(fmt), 300)
    )
    assert [h.article_id for h in texts] == [
        h.article_id for h in news if h.time <= end.replace(microsecond=0)
    ]


async def test_bad_requests_fail_before_the_wire(ib: IB, sim: Simulator) -> None:
    con_id = await _aapl(ib)
    now = datetime.now(UTC)
    for bad in (
        ib.historical_news(con_id, "BRFG", total_results=301),
        ib.historical_news(con_id, "BRFG", total_results=0),
        ib.historical_news(con_id, "", total_results=10),
        ib.historical_news(con_id, ["BRFG", "A+B"]),
        ib.historical_news(con_id, "BRFG", start=datetime(2024, 1, 1)),  # naive
        ib.historical_news(con_id, "BRFG", now, now - timedelta(days=1)),  # inverted
        ib.news_article("BRFG", ""),
    ):
        with pytest.raises(InvalidNewsRequest) as info:
            await bad
        assert info.value.code == 321 and isinstance(info.value, ValueError)
    assert not [m for m in sim.requests if isinstance(m, ReqHistoricalNews | ReqNewsArticle)]


async def test_tws_errors_fail_exactly_their_request(ib: IB) -> None:
    con_id = await _aapl(ib)
    with pytest.raises(RequestError) as info:
        await _guard(ib.historical_news(con_id, "BRFG+BZ"))
    assert info.value.code == 321 and "Invalid news source: BZ" in info.value.message
    with pytest.raises(RequestError) as info:
        await _guard(ib.news_article("FLY", "FLY$00000000"))
    assert info.value.code == 321
    with pytest.raises(RequestError) as info:
        await _guard(ib.news_article("BRFG", "BRFG$00000000"))
    assert info.value.code == 10172
    # the connection and the other requests go on
    assert await _guard(ib.news_providers())
    assert await _guard(ib.historical_news(con_id, "BRFG", total_results=1))
    # an unknown con id has no news
    empty = await _guard(ib.historical_news(1, "BRFG"))
    assert empty == [] and not empty.has_more


# -- news ticks -------------------------------------------------------------------------------


async def test_news_ticks_on_a_stock_ticker(ib: IB, sim: Simulator) -> None:
    con_id = await _aapl(ib)
    seen: list[NewsTick] = []
    ib.news_tick_event += seen.append
    ticker = ib.market_data(Stock("AAPL", "SMART", "USD"), "292")
    news = await _news(ticker, 2)
    assert all(n.time.tzinfo is UTC and n.article_id.startswith(n.provider_code) for n in news)
    assert (await ticker.ready(timeout=GUARD)).has_quote()  # quotes flow beside the news
    assert seen[: len(news)] == news and ib.news_ticks()[: len(news)] == news
    # a live headline is an article, and a historical headline afterwards
    article = await _guard(ib.news_article(news[0].provider_code, news[0].article_id))
    assert news[0].headline.partition("}")[2] in article.text
    later = await _guard(ib.historical_news(con_id, ALL, total_results=300))
    assert news[0].article_id in {h.article_id for h in later}
    ib.cancel_market_data(ticker)
    await _guard(ib.news_providers())  # a round trip: the cancel has arrived
    n = len(ticker.news)
    assert sum(step_news(sim) for _ in range(3 * TICK_EVERY)) == 0
    await _guard(ib.news_providers())
    assert len(ticker.news) == n


async def test_a_news_contract_with_mdoff(ib: IB) -> None:
    ticker = ib.market_data(BROADTAPE, "mdoff,292")
    news = await _news(ticker, 2)
    assert {n.provider_code for n in news} == {"BRFG"}
    assert ticker.bid != ticker.bid and ticker.last != ticker.last  # NaN: no quotes
    mdoff = ib.market_data(Stock("MSFT", "SMART", "USD"), "mdoff,292:DJ-N")
    news = await _news(mdoff, 1)
    assert {n.provider_code for n in news} == {"DJ-N"} and mdoff.bid != mdoff.bid


async def test_news_feed_errors_end_the_ticker(ib: IB) -> None:
    denied = ib.market_data(
        Contract(sec_type="NEWS", exchange="BZ", symbol="BZ:BZ_ALL"), "mdoff,292"
    )
    bad_source = ib.market_data(Stock("AAPL", "SMART", "USD"), "292:BRFG+FLY")
    for t in (denied, bad_source):
        with pytest.raises(RequestError):
            await t.ready(timeout=GUARD)
    assert [e.code for e in denied.errors] == [10276]
    assert denied.errors[0].message == "News feed is not allowed."
    assert [e.code for e in bad_source.errors] == [321]
    assert denied not in ib.tickers() and bad_source not in ib.tickers()


async def test_news_ticks_follow_the_ticker_across_a_reconnect(ib: IB, sim: Simulator) -> None:
    ticker = ib.market_data(BROADTAPE, "mdoff,292")
    await _news(ticker, 1)
    old_id = ticker.req_id
    restored = _first(ib.restored)
    await sim.drop_connections()
    await _guard(restored)
    n = len(ticker.news)
    await _news(ticker, n + 1)
    assert ticker.req_id != old_id and ib.tickers() == [ticker]


# -- bulletins --------------------------------------------------------------------------------


async def test_bulletins_live_and_cancelled(ib: IB, sim: Simulator) -> None:
    got: list[Any] = []
    ib.news_bulletin_event += got.append
    stream = ib.subscribe_news_bulletins(all_messages=True)
    first = await _guard(anext(stream))
    assert first.msg_id == 1 and first.msg_type is BulletinType.REGULAR
    publish_bulletin(sim, "NYSE: trading halted", BulletinType.EXCHANGE_UNAVAILABLE, "NYSE")
    second = await _guard(anext(stream))
    assert (second.msg_type, second.message, second.origin_exchange) == (
        BulletinType.EXCHANGE_UNAVAILABLE,
        "NYSE: trading halted",
        "NYSE",
    )
    assert got == [first, second] and ib.news_bulletins() == [first, second]
    # a second subscriber starts with what arrived so far; no second request is sent
    other = ib.subscribe_news_bulletins()
    assert [await _guard(anext(other)), await _guard(anext(other))] == [first, second]
    ib.cancel_news_bulletins()
    assert stream.done and other.done and not ib.client.news_bulletins_active
    assert [b async for b in stream] == []
    await _guard(ib.news_providers())  # a round trip: the cancel has arrived
    assert "news.bulletins" not in sim.clients[1].state
    publish_bulletin(sim, "NYSE: trading resumes", BulletinType.EXCHANGE_AVAILABLE, "NYSE")
    await _guard(ib.news_providers())  # a round trip: the bulletin would have arrived
    assert got == [first, second]


async def test_new_bulletins_only_and_the_last_stream_cancels(ib: IB, sim: Simulator) -> None:
    stream = ib.subscribe_news_bulletins(all_messages=False)
    await _guard(ib.news_providers())
    assert ib.news_bulletins() == []  # the day's first bulletin is not resent
    b = publish_bulletin(sim, "IB notice", 1)
    assert (await _guard(anext(stream))).message == b.message
    stream.cancel()
    assert not ib.client.news_bulletins_active
    await _guard(ib.news_providers())
    assert "news.bulletins" not in sim.clients[1].state


async def test_bulletins_survive_a_restart(ib: IB, sim: Simulator) -> None:
    stream = ib.subscribe_news_bulletins()
    first = await _guard(anext(stream))
    restored = _first(ib.restored)
    await sim.restart(0.1)
    await _guard(restored)
    assert ib.client.news_bulletins_active and not stream.done
    # the resubscription resends the day's bulletins: none is reported twice
    later = publish_bulletin(sim, "after the restart", 1)
    got = await _guard(anext(stream))
    assert got.msg_id == later.msg_id
    assert [b.msg_id for b in ib.news_bulletins()] == [first.msg_id, later.msg_id]
    assert len(desk_of(sim).bulletins) == 2


async def test_without_reconnect_the_bulletin_stream_ends(sim: Simulator) -> None:
    ib = IB(reconnect=False)
    await _guard(ib.connect(sim.host, sim.port, client_id=2))
    try:
        stream = ib.subscribe_news_bulletins()
        await _guard(anext(stream))
        await sim.drop_connections()
        with pytest.raises(ConnectionError):
            async with asyncio.timeout(GUARD):
                async for _ in stream:
                    pass
        assert not ib.client.news_bulletins_active
    finally:
        ib.disconnect()
        await _guard(ib.wait_closed())
