"""News records: providers, articles, historical headlines, news ticks and IB bulletins.

Times are tz-aware UTC. A headline's text may start with TWS's metadata block
(``{A:800015:L:en:K:0.97:C:0.9}``: article language, sentiment score, confidence);
:func:`split_headline` separates it from the text.
"""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final

__all__ = [
    "MAX_HISTORICAL_NEWS",
    "ArticleType",
    "BulletinType",
    "HistoricalNews",
    "HistoricalNewsList",
    "NewsArticle",
    "NewsBulletin",
    "NewsProvider",
    "NewsTick",
    "split_headline",
]

#: TWS's cap on REQ_HISTORICAL_NEWS's ``totalResults``
MAX_HISTORICAL_NEWS: Final = 300


class ArticleType(enum.IntEnum):
    """NEWS_ARTICLE's ``articleType``: how the article text is encoded."""

    #: plain text (often HTML)
    TEXT = 0
    #: binary (a PDF …) sent base64-encoded
    BINARY = 1


class BulletinType(enum.IntEnum):
    """NEWS_BULLETINS's ``msgType``."""

    #: a regular IB news bulletin
    REGULAR = 1
    #: an exchange is no longer available for trading
    EXCHANGE_UNAVAILABLE = 2
    #: an exchange is available for trading again
    EXCHANGE_AVAILABLE = 3


@dataclass(slots=True, frozen=True)
class NewsProvider:
    """A news source this login may query (REQ_NEWS_PROVIDERS): ``code`` (``"BRFG"``) is
    what the other news requests take; ``name`` is its display name."""

    code: str = ""
    name: str = ""


@dataclass(slots=True, frozen=True)
class NewsArticle:
    """The body of one article (REQ_NEWS_ARTICLE).

    ``text`` is as TWS sent it: the article for :attr:`ArticleType.TEXT`, base64 for
    :attr:`ArticleType.BINARY`; :attr:`data` is the bytes either way.
    """

    article_type: ArticleType | int = ArticleType.TEXT
    text: str = ""

    @property
    def is_binary(self) -> bool:
        """True for a binary (base64) article."""
        return self.article_type == ArticleType.BINARY

    @property
    def data(self) -> bytes:
        """The article's bytes: base64-decoded for a binary article, UTF-8 for text.
        Raises ``ValueError`` if a binary article's text is not base64."""
        if not self.is_binary:
            return self.text.encode()
        try:
            return base64.b64decode(self.text, validate=False)
        except binascii.Error as e:
            raise ValueError(f"binary news article is not base64: {e}") from None


@dataclass(slots=True, frozen=True)
class HistoricalNews:
    """One historical headline (REQ_HISTORICAL_NEWS); ``article_id`` fetches its body."""

    time: datetime
    provider_code: str
    article_id: str
    headline: str


class HistoricalNewsList(list[HistoricalNews]):
    """The headlines of one REQ_HISTORICAL_NEWS, newest first, and whether TWS has more
    (``has_more``: ask again with an earlier ``end``)."""

    __slots__ = ("has_more",)

    def __init__(self, items: list[HistoricalNews] | None = None, has_more: bool = False) -> None:
        super().__init__(items or ())
        self.has_more = has_more

    def __repr__(self) -> str:
        return f"HistoricalNewsList({list.__repr__(self)}, has_more={self.has_more})"


@dataclass(slots=True, frozen=True)
class NewsTick:
    """A live headline (TICK_NEWS, generic tick 292) of a market data subscription."""

    time: datetime
    provider_code: str
    article_id: str
    headline: str
    extra_data: str = ""


@dataclass(slots=True, frozen=True)
class NewsBulletin:
    """An IB news bulletin (REQ_NEWS_BULLETINS): exchange availability and IB notices.

    ``msg_type`` is a :class:`BulletinType` (an ``int`` for a type this version does not
    know)."""

    msg_id: int
    msg_type: BulletinType | int
    message: str
    origin_exchange: str = ""


def split_headline(headline: str) -> tuple[dict[str, str], str]:
    """``({"A": "800015", "L": "en", …}, "text")`` from a headline that starts with TWS's
    ``{A:800015:L:en:K:0.97:C:0.9}`` block; ``({}, headline)`` without one."""
    if not headline.startswith("{"):
        return {}, headline
    end = headline.find("}")
    if end < 0:
        return {}, headline
    parts = headline[1:end].split(":")
    if len(parts) % 2:
        return {}, headline
    meta = dict(zip(parts[0::2], parts[1::2], strict=True))
    return meta, headline[end + 1 :]
