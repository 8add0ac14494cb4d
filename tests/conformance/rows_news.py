"""News messages: bulletins, providers, articles, historical headlines and news ticks.

Outgoing rows pass the same argument dict to the aiotws message and to the official
``EClient`` call; the ``options`` TagValue lists are official ``TagValue`` objects on that
side, joined by the official client into one ``tag=value;`` field as aiotws does. Tags are
drawn non-empty and without ``=``/``;``, values without ``;``: aiotws refuses the others
(they cannot be read back), the official client sends them garbled.

Official value mappings used by the views:

* NEWS_BULLETINS: the official decoder maps its fields 1:1 onto ``updateNewsBulletin`` and
  ``unicode-escape``-decodes each, so its strings are aiotws ``TEXT`` fields.
* TICK_NEWS's ``timeStamp`` is the official epoch-ms int, aiotws's a UTC datetime.
* HISTORICAL_NEWS's ``time`` is text on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from hypothesis import strategies as st
from ibapi.tag_value import TagValue as OfficialTagValue

from aiotws.model import TagValue
from aiotws.model.news import NewsProvider
from aiotws.wire.messages import news as N

from .support import join_surrogates

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS"]

Args = dict[str, Any]

# Rows are built lazily, as in rows_accounts (see the note there): nothing here imports a
# table or another rows module at import time.
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
int64 = st.integers(-(2**63), 2**63 - 1)
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | int64
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
any_text = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))
codes = st.sampled_from(["BRFG", "BRFUPDN", "DJ-N", "DJNL", "BRFG+DJNL", "BZ+FLY", ""]) | printable
article_ids = st.sampled_from(["BRFG$04fb9da2", "DJ-N$1a2b3c4d", ""]) | printable
dates = (
    st.sampled_from(["", "2024-01-02 14:30:00.0", "20240102 14:30:00 UTC", "20240102-14:30:00"])
    | printable
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MS: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()) * 1000


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


bad_text = any_text.filter(_is_bad_out_text)
_tag_chars = st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="=;")
tag_values = st.lists(
    st.tuples(
        st.text(_tag_chars, min_size=1, max_size=8),
        st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=";")),
    ),
    max_size=3,
)


def _ours_tv(pairs: list[tuple[str, str]]) -> list[TagValue]:
    return [TagValue(t, v) for t, v in pairs]


def _official_tv(pairs: list[tuple[str, str]]) -> list[OfficialTagValue]:
    return [OfficialTagValue(t, v) for t, v in pairs]


def _fixed(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Args]:
    """Argument dicts from ``keys``, with text the official client refuses now and then."""

    @st.composite
    def draw_args(draw: st.DrawFn) -> Args:
        a = {k: draw(s, label=k) for k, s in keys.items()}
        texts_ = [k for k, v in a.items() if isinstance(v, str)]
        if texts_ and draw(st.booleans()):
            key = draw(st.sampled_from(texts_))
            a[key] = draw(bad_text, label=f"bad {key}")
        return a

    return draw_args()


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                N.ReqNewsBulletins,
                "reqNewsBulletins",
                build=lambda a: N.ReqNewsBulletins(a["all_msgs"]),
                call=lambda c, a: c.reqNewsBulletins(a["all_msgs"]),
                samples=({"all_msgs": True}, {"all_msgs": False}),
                args=st.fixed_dictionaries({"all_msgs": st.booleans()}),
            ),
            out.Row(
                N.CancelNewsBulletins,
                "cancelNewsBulletins",
                build=lambda a: N.CancelNewsBulletins(),
                call=lambda c, a: c.cancelNewsBulletins(),
            ),
            out.Row(
                N.ReqNewsProviders,
                "reqNewsProviders",
                build=lambda a: N.ReqNewsProviders(),
                call=lambda c, a: c.reqNewsProviders(),
            ),
            out.Row(
                N.ReqNewsArticle,
                "reqNewsArticle",
                build=lambda a: N.ReqNewsArticle(
                    a["req_id"], a["provider_code"], a["article_id"], _ours_tv(a["options"])
                ),
                call=lambda c, a: c.reqNewsArticle(
                    a["req_id"], a["provider_code"], a["article_id"], _official_tv(a["options"])
                ),
                samples=(
                    {
                        "req_id": 1,
                        "provider_code": "BRFG",
                        "article_id": "BRFG$04fb9da2",
                        "options": [],
                    },
                    {
                        "req_id": 2,
                        "provider_code": "DJNL",
                        "article_id": "DJNL$1",
                        "options": [("a", "1"), ("b", "")],
                    },
                    {"req_id": -1, "provider_code": "", "article_id": "", "options": []},
                    {
                        "req_id": 3,
                        "provider_code": "BR\u00c9G",
                        "article_id": "x",
                        "options": [],
                    },  # refused (579)
                ),
                args=_fixed(
                    {
                        "req_id": ints,
                        "provider_code": codes,
                        "article_id": article_ids,
                        "options": tag_values,
                    }
                ),
            ),
            out.Row(
                N.ReqHistoricalNews,
                "reqHistoricalNews",
                build=lambda a: N.ReqHistoricalNews(
                    a["req_id"],
                    a["con_id"],
                    a["provider_codes"],
                    a["start"],
                    a["end"],
                    a["total_results"],
                    _ours_tv(a["options"]),
                ),
                call=lambda c, a: c.reqHistoricalNews(
                    a["req_id"],
                    a["con_id"],
                    a["provider_codes"],
                    a["start"],
                    a["end"],
                    a["total_results"],
                    _official_tv(a["options"]),
                ),
                samples=(
                    {
                        "req_id": 1,
                        "con_id": 265598,
                        "provider_codes": "BRFG+DJNL",
                        "start": "",
                        "end": "",
                        "total_results": 10,
                        "options": [],
                    },
                    {
                        "req_id": 2,
                        "con_id": 8314,
                        "provider_codes": "BZ",
                        "start": "20240101 00:00:00 UTC",
                        "end": "2024-01-02 14:30:00.0",
                        "total_results": 300,
                        "options": [("x", "y")],
                    },
                    {
                        "req_id": 3,
                        "con_id": 0,
                        "provider_codes": "",
                        "start": "",
                        "end": "",
                        "total_results": 0,
                        "options": [],
                    },
                    {
                        "req_id": 4,
                        "con_id": 1,
                        "provider_codes": "\u00e9",
                        "start": "",
                        "end": "",
                        "total_results": 1,
                        "options": [],
                    },  # refused (579)
                ),
                args=_fixed(
                    {
                        "req_id": ints,
                        "con_id": st.sampled_from([0, 265598]) | ints,
                        "provider_codes": codes,
                        "start": dates,
                        "end": dates,
                        "total_results": st.sampled_from([1, 10, 300]) | ints,
                        "options": tag_values,
                    }
                ),
            ),
        ),
    )


# -- incoming ---------------------------------------------------------------------------------

#: STR fields: aiotws writes printable ASCII only, the official client reads it raw
text = printable
millis = st.integers(1, _LAST_MS).map(lambda n: _EPOCH + timedelta(milliseconds=n))
_T: Final = datetime(2024, 1, 2, 14, 30, 5, 123000, tzinfo=UTC)


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


def _ms(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(milliseconds=1)


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                N.NewsBulletins,
                "updateNewsBulletin",
                ours=lambda m: (m.msg_id, m.msg_type, m.message, m.origin_exchange),
                theirs=lambda c: (
                    c["msgId"],
                    c["msgType"],
                    join_surrogates(c["newsMessage"]),
                    join_surrogates(c["originExch"]),
                ),
                messages=lambda v: st.builds(
                    N.NewsBulletins, ids, st.sampled_from([1, 2, 3]) | ints, texts, texts
                ),
                samples=lambda v: [
                    N.NewsBulletins(1, 1, "IB notice", ""),
                    N.NewsBulletins(2, 2, "Trading halted", "NYSE"),
                    N.NewsBulletins(3, 3, "caf\u00e9 \\ \U0001f600", "ISLAND"),
                    N.NewsBulletins(),
                ],
                raw=((176, _nul("14", "1", "7", "2", "Exchange closed", "NYSE")),),
            ),
            inc.Row(
                N.NewsArticle,
                "newsArticle",
                ours=lambda m: (m.req_id, m.article_type, m.article_text),
                theirs=lambda c: (c["requestId"], c["articleType"], c["articleText"]),
                messages=lambda v: st.builds(N.NewsArticle, ids, st.sampled_from([0, 1]), text),
                samples=lambda v: [
                    N.NewsArticle(7, 0, "<html><body><h1>AAPL</h1>\n<p>x</p></body></html>"),
                    N.NewsArticle(8, 1, "JVBERi0xLjQKJSVFT0YK"),
                    N.NewsArticle(-1),
                ],
                raw=((200, _nul("83", "7", "0", "<p>text</p>")),),
            ),
            inc.Row(
                N.TickNews,
                "tickNews",
                ours=lambda m: (
                    m.req_id,
                    _ms(m.time),
                    m.provider_code,
                    m.article_id,
                    m.headline,
                    m.extra_data,
                ),
                theirs=lambda c: (
                    c["tickerId"],
                    c["timeStamp"],
                    c["providerCode"],
                    c["articleId"],
                    c["headline"],
                    c["extraData"],
                ),
                messages=lambda v: st.builds(N.TickNews, ids, millis, text, text, text, text),
                samples=lambda v: [
                    N.TickNews(
                        4,
                        _T,
                        "BRFG",
                        "BRFG$04fb9da2",
                        "{A:800015:L:en:K:0.97:C:0.9}AAPL up",
                        "A:800015:L:en:K:0.97:C:0.9",
                    ),
                    N.TickNews(4, _T),
                ],
                raw=((176, _nul("84", "4", "1704205805123", "DJ-N", "DJ-N$1", "Headline", "")),),
            ),
            inc.Row(
                N.NewsProviders,
                "newsProviders",
                ours=lambda m: [(p.code, p.name) for p in m.providers],
                theirs=lambda c: [(p.code, p.name) for p in c["newsProviders"]],
                messages=lambda v: st.builds(
                    N.NewsProviders, st.lists(st.builds(NewsProvider, text, text), max_size=5)
                ),
                samples=lambda v: [
                    N.NewsProviders(
                        [
                            NewsProvider("BRFG", "Briefing.com General Market Columns"),
                            NewsProvider("DJNL", "Dow Jones Newsletters"),
                        ]
                    ),
                    N.NewsProviders(),
                ],
                raw=((176, _nul("85", "1", "BRFUPDN", "Briefing.com Analyst Actions")),),
            ),
            inc.Row(
                N.HistoricalNews,
                "historicalNews",
                ours=lambda m: (m.req_id, m.time, m.provider_code, m.article_id, m.headline),
                theirs=lambda c: (
                    c["requestId"],
                    c["time"],
                    c["providerCode"],
                    c["articleId"],
                    c["headline"],
                ),
                messages=lambda v: st.builds(N.HistoricalNews, ids, text, text, text, text),
                samples=lambda v: [
                    N.HistoricalNews(9, "2024-01-02 14:30:05.0", "DJ-N", "DJ-N$1a2b", "AAPL up"),
                    N.HistoricalNews(9),
                ],
                raw=((200, _nul("86", "9", "2024-01-02 14:30:05.0", "BRFG", "BRFG$1", "x")),),
            ),
            inc.Row(
                N.HistoricalNewsEnd,
                "historicalNewsEnd",
                ours=lambda m: (m.req_id, m.has_more),
                theirs=lambda c: (c["requestId"], c["hasMore"]),
                messages=lambda v: st.builds(N.HistoricalNewsEnd, ids, st.booleans()),
                samples=lambda v: [N.HistoricalNewsEnd(9, True), N.HistoricalNewsEnd(9)],
                raw=((176, _nul("87", "9", "1")),),
            ),
        ),
    )


def __getattr__(name: str) -> Any:
    """``OUTGOING_ROWS`` / ``INCOMING_ROWS`` asked for while this module is still importing."""
    if name == "OUTGOING_ROWS":
        return _outgoing_rows()
    if name == "INCOMING_ROWS":
        return _incoming_rows()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


OUTGOING_ROWS: tuple[Any, ...] = _outgoing_rows()
INCOMING_ROWS: tuple[Any, ...] = _incoming_rows()
