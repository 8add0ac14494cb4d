"""News messages: providers, articles, historical headlines, news ticks and bulletins.

Layouts from PROTOCOL.md sections 6.3 (TICK_NEWS) and 6.20, checked against the official
client's ``reqNewsBulletins``, ``cancelNewsBulletins``, ``reqNewsProviders``,
``reqNewsArticle``, ``reqHistoricalNews`` and its decoder (server versions 157..200). Every
gate lies below 157 and is always satisfied there: the news requests themselves (TICK_NEWS
113, REQ_NEWS_PROVIDERS 115, REQ_NEWS_ARTICLE 116, REQ_HISTORICAL_NEWS 117) and the
``options`` TagValue strings of the article and historical requests (NEWS_QUERY_ORIGINS,
128). They are declared anyway, so the layouts say what they are. From 209
(PROTOBUF_NEWS_DATA) TWS speaks the requests as protobuf, outside the text range.

NEWS_BULLETINS is one of the messages the official decoder maps 1:1 onto its callback, so
its strings are ``\\u``-escaped by TWS (``TEXT``); the other replies are plain text. Each
reply converts to its model record with ``record()`` and is built from one with
``from_record()`` (the simulator's side).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from aiotws.model import news as model
from aiotws.model.contract import TagValue
from aiotws.model.news import ArticleType, BulletinType, NewsBulletin, NewsProvider, NewsTick
from aiotws.wire.fields import EPOCH_MS, STR, TEXT, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, StructCodec, block_field, message, since, wire
from aiotws.wire.messages.orders import TAG_VALUE_STRING
from aiotws.wire.versions import SV

__all__ = [
    "HISTORICAL_NEWS_TIME_FORMAT",
    "CancelNewsBulletins",
    "HistoricalNews",
    "HistoricalNewsEnd",
    "NewsArticle",
    "NewsBulletins",
    "NewsProviders",
    "ReqHistoricalNews",
    "ReqNewsArticle",
    "ReqNewsBulletins",
    "ReqNewsProviders",
    "TickNews",
    "format_news_time",
    "parse_news_time",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: HISTORICAL_NEWS's ``time`` as TWS writes it (UTC): ``2024-01-02 14:30:00.0``
HISTORICAL_NEWS_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S.0"

_PROVIDER: Final = StructCodec(
    NewsProvider,
    (block_field("code", STR, default=""), block_field("name", STR, default="")),
    "NewsProvider",
)


def format_news_time(t: datetime) -> str:
    """``t`` as HISTORICAL_NEWS writes it: ``yyyy-MM-dd HH:mm:ss.0`` in UTC."""
    return t.astimezone(UTC).strftime(HISTORICAL_NEWS_TIME_FORMAT)


def parse_news_time(text: str) -> datetime | None:
    """HISTORICAL_NEWS's ``time`` (``2024-01-02 14:30:00.0``, UTC; also without the
    fraction, or ``yyyymmdd hh:mm:ss``) as a UTC datetime; ``None`` if unreadable."""
    s = text.strip()
    head, _, frac = s.partition(".")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y%m%d %H:%M:%S", "%Y%m%d-%H:%M:%S", "%Y-%m-%d"):
        try:
            t = datetime.strptime(head, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        if frac.isdigit():
            t = t.replace(microsecond=int(frac[:6].ljust(6, "0")))
        return t
    if s.isdigit():
        return datetime.fromtimestamp(int(s), UTC)
    return None


# -- requests ---------------------------------------------------------------------------------


@message(Out.REQ_NEWS_BULLETINS, version=1)
@dataclass(slots=True)
class ReqNewsBulletins(OutMessage):
    """Subscribe to IB's news bulletins (NEWS_BULLETINS) until CANCEL_NEWS_BULLETINS.

    ``all_msgs``: also today's bulletins issued before the subscription, else only new ones.
    """

    all_msgs: bool = True


@message(Out.CANCEL_NEWS_BULLETINS, version=1)
@dataclass(slots=True)
class CancelNewsBulletins(OutMessage):
    """End the news bulletin subscription (no reply)."""


@message(Out.REQ_NEWS_PROVIDERS, since=SV.REQ_NEWS_PROVIDERS)
@dataclass(slots=True)
class ReqNewsProviders(OutMessage):
    """Ask for the news providers this login may use (NEWS_PROVIDERS); no fields."""


@message(Out.REQ_NEWS_ARTICLE, since=SV.REQ_NEWS_ARTICLE)
@dataclass(slots=True)
class ReqNewsArticle(OutMessage):
    """Ask for the body of one article (NEWS_ARTICLE) by provider and article id.

    ``options``: a reserved TagValue string (``tag=value;``), empty in every known use.
    """

    req_id: int
    provider_code: str = ""
    article_id: str = ""
    options: list[TagValue] = since(
        SV.NEWS_QUERY_ORIGINS, default_factory=list, codec=TAG_VALUE_STRING
    )


@message(Out.REQ_HISTORICAL_NEWS, since=SV.REQ_HISTORICAL_NEWS)
@dataclass(slots=True)
class ReqHistoricalNews(OutMessage):
    """Ask for the headlines about ``con_id`` from ``provider_codes`` (``"BRFG+DJNL"``)
    between ``start_date_time`` (exclusive) and ``end_date_time`` (inclusive; ``""``: open):
    HISTORICAL_NEWS per headline, newest first, then HISTORICAL_NEWS_END.

    ``total_results``: at most 300. ``options``: a reserved TagValue string.
    """

    req_id: int
    con_id: int = 0
    provider_codes: str = ""
    start_date_time: str = ""
    end_date_time: str = ""
    total_results: int = 10
    options: list[TagValue] = since(
        SV.NEWS_QUERY_ORIGINS, default_factory=list, codec=TAG_VALUE_STRING
    )


# -- replies ----------------------------------------------------------------------------------


@message(In.NEWS_BULLETINS, version=1)
@dataclass(slots=True)
class NewsBulletins(InMessage):
    """One IB news bulletin of the REQ_NEWS_BULLETINS subscription.

    ``msg_type``: 1 regular, 2 exchange no longer available, 3 exchange available again.
    """

    msg_id: int = 0
    msg_type: int = 1
    message: str = wire("", codec=TEXT)
    origin_exchange: str = wire("", codec=TEXT)

    def record(self) -> NewsBulletin:
        try:
            kind: BulletinType | int = BulletinType(self.msg_type)
        except ValueError:
            kind = self.msg_type
        return NewsBulletin(self.msg_id, kind, self.message, self.origin_exchange)

    @classmethod
    def from_record(cls, b: NewsBulletin) -> NewsBulletins:
        return cls(b.msg_id, int(b.msg_type), b.message, b.origin_exchange)


@message(In.NEWS_ARTICLE)
@dataclass(slots=True)
class NewsArticle(InMessage):
    """The body of the article REQ_NEWS_ARTICLE asked for: ``article_type`` 0 plain text
    (often HTML), 1 binary as base64."""

    req_id: int
    article_type: int = 0
    article_text: str = ""

    def record(self) -> model.NewsArticle:
        try:
            kind: ArticleType | int = ArticleType(self.article_type)
        except ValueError:
            kind = self.article_type
        return model.NewsArticle(kind, self.article_text)

    @classmethod
    def from_record(cls, req_id: int, a: model.NewsArticle) -> NewsArticle:
        return cls(req_id, int(a.article_type), a.text)


@message(In.TICK_NEWS, since=SV.TICK_NEWS)
@dataclass(slots=True)
class TickNews(InMessage):
    """A live headline of a market data subscription with generic tick 292 (``req_id`` is
    the REQ_MKT_DATA ticker id). ``time`` is epoch milliseconds on the wire."""

    req_id: int
    time: datetime = wire(_EPOCH, codec=EPOCH_MS)
    provider_code: str = ""
    article_id: str = ""
    headline: str = ""
    extra_data: str = ""

    def record(self) -> NewsTick:
        return NewsTick(
            self.time, self.provider_code, self.article_id, self.headline, self.extra_data
        )

    @classmethod
    def from_record(cls, req_id: int, t: NewsTick) -> TickNews:
        return cls(req_id, t.time, t.provider_code, t.article_id, t.headline, t.extra_data)


@message(In.NEWS_PROVIDERS)
@dataclass(slots=True)
class NewsProviders(InMessage):
    """The news providers this login may use (REQ_NEWS_PROVIDERS)."""

    providers: list[NewsProvider] = wire(default_factory=list, codec=ListOf(_PROVIDER))


@message(In.HISTORICAL_NEWS)
@dataclass(slots=True)
class HistoricalNews(InMessage):
    """One headline of a REQ_HISTORICAL_NEWS answer. ``time`` is TWS's text
    (``2024-01-02 14:30:00.0``, UTC); :meth:`record` parses it."""

    req_id: int
    time: str = ""
    provider_code: str = ""
    article_id: str = ""
    headline: str = ""

    def record(self) -> model.HistoricalNews:
        """The model record (an unreadable time reads as the epoch)."""
        t = parse_news_time(self.time) or _EPOCH
        return model.HistoricalNews(t, self.provider_code, self.article_id, self.headline)

    @classmethod
    def from_record(cls, req_id: int, h: model.HistoricalNews) -> HistoricalNews:
        return cls(req_id, format_news_time(h.time), h.provider_code, h.article_id, h.headline)


@message(In.HISTORICAL_NEWS_END)
@dataclass(slots=True)
class HistoricalNewsEnd(InMessage):
    """Ends a REQ_HISTORICAL_NEWS answer; ``has_more``: TWS holds more headlines than
    ``total_results`` let through."""

    req_id: int
    has_more: bool = False
