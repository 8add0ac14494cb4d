"""News messages: hand-written frames (PROTOCOL.md 6.3 TICK_NEWS, 6.20), at 157 and 200."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from aiotws.errors import InvalidField, MalformedMessage
from aiotws.model import TagValue
from aiotws.model.news import (
    ArticleType,
    BulletinType,
    HistoricalNewsList,
    NewsBulletin,
    NewsProvider,
    NewsTick,
    split_headline,
)
from aiotws.model.news import (
    HistoricalNews as HistoricalNewsRecord,
)
from aiotws.model.news import (
    NewsArticle as NewsArticleRecord,
)
from aiotws.wire import decode_out, encode
from aiotws.wire.messages import news as N

from .roundtrip import both_ways, nul

VERSIONS = (157, 200)
T = datetime(2024, 1, 2, 14, 30, 5, 123000, tzinfo=UTC)
T_MS = "1704205805123"


# -- requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_bulletin_requests(version: int) -> None:
    both_ways(N.ReqNewsBulletins(True), version, nul("12", "1", "1"))
    both_ways(N.ReqNewsBulletins(False), version, nul("12", "1", "0"))
    both_ways(N.CancelNewsBulletins(), version, nul("13", "1"))


@pytest.mark.parametrize("version", VERSIONS)
def test_req_news_providers(version: int) -> None:
    both_ways(N.ReqNewsProviders(), version, nul("85"))


@pytest.mark.parametrize("version", VERSIONS)
def test_req_news_article(version: int) -> None:
    both_ways(
        N.ReqNewsArticle(7, "BRFG", "BRFG$04fb9da2"),
        version,
        nul("84", "7", "BRFG", "BRFG$04fb9da2", ""),
    )
    both_ways(
        N.ReqNewsArticle(8, "DJNL", "DJNL$1", [TagValue("a", "1"), TagValue("b", "")]),
        version,
        nul("84", "8", "DJNL", "DJNL$1", "a=1;b=;"),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_req_historical_news(version: int) -> None:
    msg = N.ReqHistoricalNews(
        9, 265598, "BRFG+DJNL", "20240101 00:00:00 UTC", "2024-01-02 14:30:00.0", 300
    )
    payload = nul(
        "86", "9", "265598", "BRFG+DJNL", "20240101 00:00:00 UTC", "2024-01-02 14:30:00.0",
        "300", "",
    )  # fmt: skip
    both_ways(msg, version, payload)
    opts = N.ReqHistoricalNews(1, 8314, "BZ", "", "", 10, [TagValue("x", "y")])
    both_ways(opts, version, nul("86", "1", "8314", "BZ", "", "", "10", "x=y;"))


def test_request_texts_must_be_printable_ascii() -> None:
    with pytest.raises(InvalidField, match="provider_code"):
        encode(N.ReqNewsArticle(1, "BR\u00c9G", "x"), 200)
    with pytest.raises(InvalidField, match="options"):
        encode(N.ReqHistoricalNews(1, 1, "BRFG", options=[TagValue("a;b", "1")]), 200)


def test_strict_check_refuses_a_short_request() -> None:
    with pytest.raises(MalformedMessage):
        decode_out(nul("86", "9", "265598", "BRFG"), 200)


# -- replies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_news_bulletins(version: int) -> None:
    msg = N.NewsBulletins(3, 2, "Trading halted on NYSE", "NYSE")
    both_ways(msg, version, nul("14", "1", "3", "2", "Trading halted on NYSE", "NYSE"))
    assert msg.record() == NewsBulletin(
        3, BulletinType.EXCHANGE_UNAVAILABLE, "Trading halted on NYSE", "NYSE"
    )
    assert N.NewsBulletins.from_record(msg.record()) == msg
    # TEXT: TWS \\u-escapes non-ASCII, the record holds the text
    escaped = N.NewsBulletins(4, 1, "caf\u00e9 \\ ok", "")
    both_ways(escaped, version, nul("14", "1", "4", "1", "caf\\u00e9 \\u005c ok", ""))
    # an unknown type stays an int
    assert N.NewsBulletins(5, 9, "x", "").record().msg_type == 9


@pytest.mark.parametrize("version", VERSIONS)
def test_news_article(version: int) -> None:
    html = "<html><body><h1>AAPL</h1>\n<p>text</p></body></html>"
    msg = N.NewsArticle(7, 0, html)
    both_ways(msg, version, nul("83", "7", "0", html))
    rec = msg.record()
    assert rec == NewsArticleRecord(ArticleType.TEXT, html)
    assert not rec.is_binary and rec.data == html.encode()
    pdf = b"%PDF-1.4\n%%EOF\n"
    binary = N.NewsArticle(8, 1, base64.b64encode(pdf).decode())
    both_ways(binary, version, nul("83", "8", "1", "JVBERi0xLjQKJSVFT0YK"))
    assert binary.record().is_binary and binary.record().data == pdf
    assert N.NewsArticle.from_record(8, binary.record()) == binary


def test_binary_article_that_is_not_base64() -> None:
    with pytest.raises(ValueError, match="base64"):
        _ = NewsArticleRecord(ArticleType.BINARY, "not base64!").data


@pytest.mark.parametrize("version", VERSIONS)
def test_tick_news(version: int) -> None:
    msg = N.TickNews(
        4, T, "BRFG", "BRFG$04fb9da2", "{A:800015:L:en:K:0.97:C:0.9}AAPL up", "A:800015:L:en"
    )
    payload = nul(
        "84", "4", T_MS, "BRFG", "BRFG$04fb9da2", "{A:800015:L:en:K:0.97:C:0.9}AAPL up",
        "A:800015:L:en",
    )  # fmt: skip
    both_ways(msg, version, payload)
    assert msg.record() == NewsTick(
        T, "BRFG", "BRFG$04fb9da2", "{A:800015:L:en:K:0.97:C:0.9}AAPL up", "A:800015:L:en"
    )
    assert msg.record().time.tzinfo is UTC
    assert N.TickNews.from_record(4, msg.record()) == msg


@pytest.mark.parametrize("version", VERSIONS)
def test_news_providers(version: int) -> None:
    msg = N.NewsProviders(
        [NewsProvider("BRFG", "Briefing.com General Market Columns"), NewsProvider("DJNL", "")]
    )
    payload = nul("85", "2", "BRFG", "Briefing.com General Market Columns", "DJNL", "")
    both_ways(msg, version, payload)
    both_ways(N.NewsProviders([]), version, nul("85", "0"))


@pytest.mark.parametrize("version", VERSIONS)
def test_historical_news(version: int) -> None:
    msg = N.HistoricalNews(9, "2024-01-02 14:30:05.0", "DJ-N", "DJ-N$1a2b3c4d", "AAPL up")
    both_ways(
        msg, version, nul("86", "9", "2024-01-02 14:30:05.0", "DJ-N", "DJ-N$1a2b3c4d", "AAPL up")
    )
    rec = msg.record()
    assert rec == HistoricalNewsRecord(
        datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC), "DJ-N", "DJ-N$1a2b3c4d", "AAPL up"
    )
    assert N.HistoricalNews.from_record(9, rec) == msg
    both_ways(N.HistoricalNewsEnd(9, True), version, nul("87", "9", "1"))
    both_ways(N.HistoricalNewsEnd(9, False), version, nul("87", "9", "0"))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2024-01-02 14:30:05.0", datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC)),
        ("2024-01-02 14:30:05.25", datetime(2024, 1, 2, 14, 30, 5, 250000, tzinfo=UTC)),
        ("2024-01-02 14:30:05", datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC)),
        ("20240102 14:30:05", datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC)),
        ("1704205805", datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC)),
        ("garbage", None),
        ("", None),
    ],
)
def test_parse_news_time(text: str, want: datetime | None) -> None:
    assert N.parse_news_time(text) == want


def test_unreadable_time_reads_as_the_epoch() -> None:
    assert N.HistoricalNews(1, "??").record().time == datetime(1970, 1, 1, tzinfo=UTC)


def test_model_helpers() -> None:
    meta, text = split_headline("{A:800015:L:en:K:0.97:C:0.9}AAPL up")
    assert meta == {"A": "800015", "L": "en", "K": "0.97", "C": "0.9"} and text == "AAPL up"
    assert split_headline("plain") == ({}, "plain")
    assert split_headline("{odd:1:2}x") == ({}, "{odd:1:2}x")
    assert split_headline("{open") == ({}, "{open")
    items = HistoricalNewsList([], has_more=True)
    assert items == [] and items.has_more and "has_more=True" in repr(items)
