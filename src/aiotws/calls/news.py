"""News: providers, articles, historical headlines, bulletins (news ticks arrive on tickers).

One-shot requests: :meth:`NewsCalls.news_providers` (REQ_NEWS_PROVIDERS),
:meth:`NewsCalls.news_article` (REQ_NEWS_ARTICLE) and :meth:`NewsCalls.historical_news`
(REQ_HISTORICAL_NEWS, up to 300 headlines and a ``has_more`` flag). A TWS error fails
exactly the request it belongs to with :class:`~aiotws.errors.RequestError`; a request TWS
would refuse (more than 300 headlines, a naive date …) raises
:class:`~aiotws.errors.InvalidNewsRequest` before anything is sent.

News ticks: a market data subscription with generic tick 292 (a stock, or a ``NEWS``
contract such as ``BRFG:BRFG_ALL``) gets TICK_NEWS under its ticker id. Each becomes a
:class:`~aiotws.model.news.NewsTick` on ``ticker.news`` (bounded, the ticker's ``updated``
fires), in :meth:`NewsCalls.news_ticks` (the latest :data:`NEWS_TICKS_KEPT` of the
connection) and on ``news_tick_event``. They follow the ticker across reconnects, since the
market data layer re-subscribes it with its generic ticks.

Bulletins: one connection-wide subscription (REQ_NEWS_BULLETINS; TWS has no request id for
it). :meth:`NewsCalls.subscribe_news_bulletins` starts it (idempotent) and returns a
:class:`~aiotws.requests.Stream` of :class:`~aiotws.model.news.NewsBulletin`; every bulletin
is also kept by id (:meth:`NewsCalls.news_bulletins`) and emitted on
``news_bulletin_event``. A bulletin TWS sends again (``all_messages`` after a reconnect)
is not reported twice. With ``Client.keep_live`` the subscription is suspended on a lost
connection and ``Client.resume_live`` subscribes again; without it the streams end with
``ConnectionLost``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from eventkit import Event

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import ConnectionLost, InvalidNewsRequest
from aiotws.model import news as model
from aiotws.model.contract import TagValue
from aiotws.model.news import (
    MAX_HISTORICAL_NEWS,
    HistoricalNewsList,
    NewsBulletin,
    NewsProvider,
    NewsTick,
)
from aiotws.requests import LiveHook, Stream
from aiotws.wire.messages.news import (
    CancelNewsBulletins,
    HistoricalNews,
    HistoricalNewsEnd,
    NewsArticle,
    NewsBulletins,
    NewsProviders,
    ReqHistoricalNews,
    ReqNewsArticle,
    ReqNewsBulletins,
    ReqNewsProviders,
    TickNews,
)

if TYPE_CHECKING:
    from aiotws.ticker import Ticker

__all__ = ["NEWS_TICKS_KEPT", "NewsCalls", "format_news_datetime", "provider_list"]

log = logging.getLogger("aiotws.news")

#: how many news ticks the client keeps for :meth:`NewsCalls.news_ticks`
NEWS_TICKS_KEPT: Final = 1000


def provider_list(codes: str | Iterable[str]) -> str:
    """``"BRFG+DJNL"`` from ``["BRFG", "DJNL"]`` (a string passes through, spaces removed).
    Raises :class:`~aiotws.errors.InvalidNewsRequest` for no code or a code with ``+``."""
    if isinstance(codes, str):
        text = codes.replace(" ", "")
        parts = [p for p in text.split("+") if p]
    else:
        parts = [c.strip() for c in codes]
        for c in parts:
            if not c or "+" in c:
                raise InvalidNewsRequest(f"invalid news provider code {c!r}")
    if not parts:
        raise InvalidNewsRequest("name at least one news provider code (e.g. 'BRFG')")
    return "+".join(parts)


def format_news_datetime(t: datetime | str | None, what: str = "time") -> str:
    """REQ_HISTORICAL_NEWS's start/end: a tz-aware datetime as ``yyyymmdd hh:mm:ss UTC``
    (TWS reads the explicit zone); a string passes through; ``None`` is ``""`` (open).
    Raises :class:`~aiotws.errors.InvalidNewsRequest` for a naive datetime."""
    if t is None:
        return ""
    if isinstance(t, str):
        return t.strip()
    if t.tzinfo is None or t.utcoffset() is None:
        raise InvalidNewsRequest(
            f"historical news {what} {t!r} has no time zone: pass a tz-aware datetime "
            "(e.g. datetime(..., tzinfo=UTC))"
        )
    return t.astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")


class NewsCalls(CoreBase):
    """News requests, the news tick feed and the bulletin subscription."""

    #: every news tick (TICK_NEWS) of every ticker: ``(NewsTick)``
    news_tick_event: Event
    #: every new or changed news bulletin: ``(NewsBulletin)``
    news_bulletin_event: Event

    _news_ticks: deque[NewsTick]
    _bulletins: dict[int, NewsBulletin]
    _bulletin_streams: list[Stream[NewsBulletin]]
    #: the ``all_msgs`` of the bulletin subscription, ``None`` when not subscribed
    _bulletins_wanted: bool | None
    _bulletins_active: bool
    _bulletins_suspended: bool

    if TYPE_CHECKING:  # from MarketDataCalls: the ticker of a request id, its update begun

        def _ticker(self, req_id: int) -> Ticker | None: ...

    def _init_news(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
        self.news_tick_event = Event("news_tick_event")
        self.news_bulletin_event = Event("news_bulletin_event")
        self._news_ticks = deque(maxlen=NEWS_TICKS_KEPT)
        self._bulletins = {}
        self._bulletin_streams = []
        self._bulletins_wanted = None
        self._bulletins_active = self._bulletins_suspended = False
        self.consume(TickNews, self._on_tick_news)
        self.consume(NewsBulletins, self._on_news_bulletin)
        self.disconnected += self._on_news_disconnect
        self._live_hooks.append(
            LiveHook(self._suspend_bulletins, self._resume_bulletins, self._end_bulletins)
        )

    # -- one-shot requests ---------------------------------------------------------------

    async def news_providers(self, *, timeout: Timeout = ...) -> list[NewsProvider]:
        """The news providers this login may use (REQ_NEWS_PROVIDERS). ib_async:
        ``reqNewsProviders``."""
        m = await self.request(ReqNewsProviders(), NewsProviders, timeout=timeout)
        return list(m.providers)

    async def news_article(
        self,
        provider_code: str,
        article_id: str,
        options: Iterable[TagValue] | None = None,
        *,
        timeout: Timeout = ...,
    ) -> model.NewsArticle:
        """The body of one article (REQ_NEWS_ARTICLE): a
        :class:`~aiotws.model.news.NewsArticle` (``.data`` decodes a binary one). ib_async:
        ``reqNewsArticle``."""
        if not provider_code or not article_id:
            raise InvalidNewsRequest("a news article needs its provider code and article id")
        req_id = self.next_id()
        m = await self.request(
            ReqNewsArticle(req_id, provider_code, article_id, list(options or ())),
            NewsArticle,
            key=req_id,
            timeout=timeout,
        )
        return m.record()

    async def historical_news(
        self,
        con_id: int,
        provider_codes: str | Iterable[str],
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        total_results: int = 10,
        options: Iterable[TagValue] | None = None,
        *,
        timeout: Timeout = ...,
    ) -> HistoricalNewsList:
        """Headlines about ``con_id`` from ``provider_codes`` after ``start`` up to ``end``
        (REQ_HISTORICAL_NEWS), newest first, with ``has_more``. ib_async:
        ``reqHistoricalNews``.

        ``start``/``end``: tz-aware datetimes (sent as UTC), TWS's own text, or ``None``
        (open). ``total_results``: 1..300 (TWS's cap).
        """
        if not 1 <= total_results <= MAX_HISTORICAL_NEWS:
            raise InvalidNewsRequest(
                f"total_results must be 1..{MAX_HISTORICAL_NEWS} (TWS's cap), got {total_results}"
            )
        if (
            isinstance(start, datetime)
            and isinstance(end, datetime)
            and start.tzinfo is not None
            and end.tzinfo is not None
            and start >= end
        ):
            raise InvalidNewsRequest(f"historical news start {start} is not before end {end}")
        codes = provider_list(provider_codes)
        start_text = format_news_datetime(start, "start")
        end_text = format_news_datetime(end, "end")
        req_id = self.next_id()
        items, last = await self.request_list(
            ReqHistoricalNews(
                req_id,
                con_id,
                codes,
                start_text,
                end_text,
                total_results,
                list(options or ()),
            ),
            (HistoricalNews,),
            (HistoricalNewsEnd,),
            key=req_id,
            timeout=timeout,
        )
        has_more = isinstance(last, HistoricalNewsEnd) and last.has_more
        return HistoricalNewsList(
            [m.record() for m in items if isinstance(m, HistoricalNews)], has_more
        )

    # -- news ticks ----------------------------------------------------------------------

    def news_ticks(self) -> list[NewsTick]:
        """The latest news ticks of every ticker (at most :data:`NEWS_TICKS_KEPT`), oldest
        first. ib_async: ``newsTicks()``."""
        return list(self._news_ticks)

    def _on_tick_news(self, m: TickNews) -> None:
        tick = m.record()
        t = self._ticker(m.req_id)
        if t is None:
            log.debug("TICK_NEWS for unknown ticker id %d dropped", m.req_id)
            return
        t.on_news(tick)
        self._news_ticks.append(tick)
        self.news_tick_event.emit(tick)

    # -- bulletins -----------------------------------------------------------------------

    def subscribe_news_bulletins(
        self, all_messages: bool = True, *, maxlen: int = 10_000
    ) -> Stream[NewsBulletin]:
        """Subscribe to IB's news bulletins (REQ_NEWS_BULLETINS); a stream of them.

        ``all_messages``: also today's earlier bulletins, else only new ones. Idempotent:
        while subscribed no second request is sent, and a new stream with
        ``all_messages`` starts with the bulletins received so far. Cancelling the last open
        stream (or :meth:`cancel_news_bulletins`) ends the subscription. ib_async:
        ``reqNewsBulletins``.
        """
        stream: Stream[NewsBulletin] = Stream("news bulletins", maxlen)
        stream._on_cancel = lambda: self._drop_bulletin_stream(stream)
        if self._bulletins_wanted is None:
            self.send(ReqNewsBulletins(all_messages))
            self._bulletins_wanted = all_messages
            self._bulletins_active = True
        else:
            if all_messages and not self._bulletins_wanted and self._bulletins_active:
                # widen the subscription: TWS sends today's bulletins (known ones are deduped)
                self.send(ReqNewsBulletins(True))
            if all_messages:
                self._bulletins_wanted = True
                for b in self._bulletins.values():
                    stream._push(b)
            stream.stale = self._bulletins_suspended
        self._bulletin_streams.append(stream)
        return stream

    def cancel_news_bulletins(self) -> None:
        """End the bulletin subscription (CANCEL_NEWS_BULLETINS, no reply) and its streams;
        the bulletins received stay in :meth:`news_bulletins`. ib_async:
        ``cancelNewsBulletins``."""
        was = self._bulletins_active
        self._bulletins_wanted = None
        self._bulletins_active = self._bulletins_suspended = False
        streams, self._bulletin_streams = self._bulletin_streams, []
        if was and self.is_connected():
            self.send(CancelNewsBulletins())
        for s in streams:
            s._on_cancel = None
            s._end()

    def news_bulletins(self) -> list[NewsBulletin]:
        """Every bulletin received, by arrival. ib_async: ``newsBulletins()``."""
        return list(self._bulletins.values())

    @property
    def news_bulletins_active(self) -> bool:
        """True while the bulletin subscription is live on this connection."""
        return self._bulletins_active

    def _drop_bulletin_stream(self, stream: Stream[NewsBulletin]) -> None:
        if stream in self._bulletin_streams:
            self._bulletin_streams.remove(stream)
        if not self._bulletin_streams and self._bulletins_wanted is not None:
            self.cancel_news_bulletins()

    def _on_news_bulletin(self, m: NewsBulletins) -> None:
        if self._bulletins_wanted is None:
            log.debug("NEWS_BULLETINS %d after the subscription was cancelled dropped", m.msg_id)
            return
        b = m.record()
        if self._bulletins.get(b.msg_id) == b:
            return  # sent again (all_messages after a reconnect): already reported
        self._bulletins[b.msg_id] = b
        for s in self._bulletin_streams:
            s._push(b)
        self.news_bulletin_event.emit(b)

    def _on_news_disconnect(self, exc: BaseException | None) -> None:
        if not self._bulletins_active:
            return  # not subscribed, or suspended (keep_live)
        self._bulletins_active = False
        self._bulletins_wanted = None
        streams, self._bulletin_streams = self._bulletin_streams, []
        err = None if exc is None else ConnectionLost("news bulletins: connection to TWS lost")
        for s in streams:
            s._on_cancel = None
            s._end(err)

    # -- kept across connections (Client.keep_live / resume_live) ---------------------------

    def _suspend_bulletins(self) -> int:
        if not self._bulletins_active:
            return 0
        self._bulletins_active = False
        self._bulletins_suspended = True
        for s in self._bulletin_streams:
            s.stale = True
        return 1

    def _resume_bulletins(self, cancel_old: bool) -> int:
        wanted = self._bulletins_wanted
        if wanted is None:
            return 0
        if self._bulletins_suspended:
            self._bulletins_suspended = False
        elif cancel_old and self._bulletins_active:
            self.send(CancelNewsBulletins())
        else:
            return 0
        self.send(ReqNewsBulletins(wanted))
        self._bulletins_active = True
        for s in self._bulletin_streams:
            s.stale = False  # live again (a bulletin is news, not state to catch up on)
        return 1

    def _end_bulletins(self, exc: BaseException) -> int:
        if not self._bulletins_suspended:
            return 0
        self._bulletins_suspended = False
        self._bulletins_wanted = None
        streams, self._bulletin_streams = self._bulletin_streams, []
        for s in streams:
            s._on_cancel = None
            s._end(exc)
        return 1
