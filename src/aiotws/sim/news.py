"""The simulator's news: providers, articles, headlines, news ticks, bulletins.

A deterministic news desk, seeded by ``config.seed``: every instrument of the universe has
headlines from each provider at pseudo-random times (about one an hour across the four
providers), derived from the seed, the con id, the provider and the hour alone, so any time
range is answered the same way in every run without storing a history. Article ids look
like TWS's (``BRFG$1f2e3d4c``); every headline handed out (historical or live) can be
fetched with REQ_NEWS_ARTICLE: plain text (HTML) for the Briefing.com and Dow Jones wires,
a binary (a small PDF, base64) for the Dow Jones newsletters (DJNL).

As TWS:

* REQ_NEWS_PROVIDERS: the login's providers (:data:`PROVIDERS`, or
  ``sim.store["news.providers"]``).
* REQ_HISTORICAL_NEWS: the headlines about ``conId`` from the ``+``-separated providers after
  ``startDateTime`` (exclusive) up to ``endDateTime`` (inclusive, ``""``: the market time),
  newest first, at most ``totalResults`` (300 at most; more is capped), then
  HISTORICAL_NEWS_END whose ``hasMore`` says whether the range held more. An open start
  looks back :data:`HORIZON` at most. Times are ``yyyy-MM-dd HH:mm:ss.0`` (UTC) both ways;
  ``yyyymmdd hh:mm:ss [zone]`` (no zone: the login's) and ``yyyymmdd-hh:mm:ss`` (UTC) are
  read too. An unknown con id has no news.
* REQ_NEWS_ARTICLE: the article, or 10172 for an id the desk never handed out.
* A provider code the login lacks: 321 ``Invalid news source`` (historical news, articles,
  ``292:CODE`` generic ticks); a NEWS contract of such a provider: 10276 ``News feed is not
  allowed.``
* Market data with generic tick 292 (a stock, or a NEWS contract such as
  ``Contract(sec_type="NEWS", exchange="BRFG", symbol="BRFG:BRFG_ALL")`` with
  ``"mdoff,292"``): a TICK_NEWS every :data:`TICK_EVERY` market clock steps at the market
  time (a NEWS contract's headlines are about any instrument). ``mdoff`` suppresses the
  quote ticks (:mod:`aiotws.sim.marketdata`). Nothing is sent while market data is paused.
* REQ_NEWS_BULLETINS: with ``allMsgs`` the day's bulletins at once (one, "the desk is
  open", exists from the start), then each one :func:`publish_bulletin` issues, until
  CANCEL_NEWS_BULLETINS. Bulletins live in ``sim.store`` and survive restarts.

The error texts are modelled on what users report from TWS; 10172's exact text is
unverified.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiotws.model.news import (
    MAX_HISTORICAL_NEWS,
    ArticleType,
    BulletinType,
    NewsBulletin,
    NewsProvider,
)
from aiotws.sim.marketdata import GENERIC_CHECKS, SPECIAL_FEEDS, MarketSubscription
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
from aiotws.wire.messages.market import ReqMktData, TickSnapshotEnd
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
    format_news_time,
)

__all__ = [
    "HORIZON",
    "PROVIDERS",
    "TICK_EVERY",
    "NewsDesk",
    "Story",
    "desk_of",
    "publish_bulletin",
    "step_news",
]

#: the providers of a paper login (REQ_NEWS_PROVIDERS)
PROVIDERS: Final = (
    NewsProvider("BRFG", "Briefing.com General Market Columns"),
    NewsProvider("BRFUPDN", "Briefing.com Analyst Actions"),
    NewsProvider("DJ-N", "Dow Jones Global Equity Trader"),
    NewsProvider("DJNL", "Dow Jones Newsletters"),
)
#: how far back a historical news request with an open start looks
HORIZON: Final = timedelta(days=90)
#: market clock steps between two TICK_NEWS of one subscription
TICK_EVERY: Final = 8

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR: Final = timedelta(hours=1)
_DESK: Final = "news.desk"
_PROVIDERS: Final = "news.providers"
_BULLETIN_SUB: Final = "news.bulletins"  # session.state: the allMsgs of the subscription
_STEPS: Final = "news.steps"  # session.state: clock steps per news subscription
#: chance of a headline per instrument, provider and hour
_RATE: Final = {"BRFG": 0.08, "BRFUPDN": 0.06, "DJ-N": 0.14, "DJNL": 0.03}
_BINARY: Final = frozenset({"DJNL"})
_TEMPLATES: Final = {
    "BRFG": (
        "{symbol} moves {pct}% as {name} draws sector flows",
        "Market Movers: {symbol} {dir} {pct}% near {price}",
        "Stocks to watch: {name} ({symbol})",
        "{symbol} trades {dir} {pct}% ahead of the open",
    ),
    "BRFUPDN": (
        "{symbol} upgraded to Buy from Hold at {broker}; target {target}",
        "{symbol} downgraded to Neutral at {broker}",
        "{broker} initiates {symbol} with Outperform, target {target}",
        "{symbol} target raised to {target} at {broker}",
    ),
    "DJ-N": (
        "{name} Shares {up} {pct}% in Heavy Trading",
        "{name} Says Results Due After the Close",
        "{symbol} Options Active as Stock {up} {pct}%",
        "{name} Announces Board Changes",
    ),
    "DJNL": (
        "Newsletter: {name} ({symbol}) Weekly Outlook",
        "The Income Investor: {symbol} Dividend Review",
    ),
}
_BROKERS: Final = ("Alpha Securities", "North Bridge", "Meridian Capital", "Castle Research")


@dataclass(slots=True, frozen=True)
class Story:
    """One headline of the desk: what HISTORICAL_NEWS / TICK_NEWS carry, and its article."""

    article_id: str
    provider_code: str
    con_id: int
    time: datetime
    headline: str
    extra_data: str
    article_type: ArticleType

    def article(self) -> str:
        """The article text as NEWS_ARTICLE sends it (base64 for a binary article)."""
        meta, _, text = self.headline.partition("}")
        body = text or meta
        if self.article_type == ArticleType.BINARY:
            pdf = (
                "%PDF-1.4\n% aiotws sim newsletter\n"
                f"1 0 obj << /Title ({body}) /Producer (aiotws sim) >> endobj\n"
                f"2 0 obj << /Length {len(body)} >> stream\n{body}\nendstream endobj\n"
                "trailer << /Info 1 0 R >>\n%%EOF\n"
            )
            return base64.b64encode(pdf.encode()).decode()
        when = format_news_time(self.time)
        return (
            f"<html><body><h1>{body}</h1>\n<p>{when} UTC - {self.provider_code}</p>\n"
            f"<p>{body}. This article was written by the aiotws simulator's news desk; "
            "it is not investment advice.</p></body></html>"
        )


@dataclass(slots=True)
class NewsDesk:
    """The simulator's news state (``sim.store["news.desk"]``): the articles handed out,
    the live headlines sent, and the bulletins."""

    articles: dict[str, Story] = field(default_factory=dict)
    #: TICK_NEWS stories per con id, for later historical requests
    live: dict[int, list[Story]] = field(default_factory=dict)
    bulletins: list[NewsBulletin] = field(default_factory=list)


def desk_of(sim: Simulator) -> NewsDesk:
    """The simulator's news desk (made on first use, with the day's first bulletin)."""
    desk = sim.store.get(_DESK)
    if desk is None:
        desk = sim.store[_DESK] = NewsDesk()
        desk.bulletins.append(
            NewsBulletin(
                1,
                BulletinType.REGULAR,
                "The aiotws simulator's news desk is open: headlines are simulated.",
                "",
            )
        )
    assert isinstance(desk, NewsDesk)
    return desk


def providers_of(sim: Simulator) -> tuple[NewsProvider, ...]:
    """The news providers of the simulated login."""
    providers: tuple[NewsProvider, ...] = sim.store.get(_PROVIDERS, PROVIDERS)
    return providers


def publish_bulletin(
    sim: Simulator, text: str, msg_type: int = BulletinType.REGULAR, exchange: str = ""
) -> NewsBulletin:
    """Issue a news bulletin (``msg_type`` 1 regular, 2 exchange unavailable, 3 exchange
    available again) and send it to every subscribed client; returns it."""
    desk = desk_of(sim)
    next_id = max((b.msg_id for b in desk.bulletins), default=0) + 1
    try:
        kind: BulletinType | int = BulletinType(msg_type)
    except ValueError:
        kind = msg_type
    bulletin = NewsBulletin(next_id, kind, text, exchange)
    desk.bulletins.append(bulletin)
    for session in list(sim.sessions):
        if _BULLETIN_SUB in session.state:
            session.send(NewsBulletins.from_record(bulletin))
    return bulletin


# -- the headlines ----------------------------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def _story(sim: Simulator, con_id: int, provider: str, key: str, t: datetime) -> Story:
    """The story ``key`` (a stable seed) of ``provider`` about ``con_id`` at ``t``."""
    rng = random.Random(f"story:{sim.config.seed}:{key}")
    inst = sim.universe.by_con_id(con_id)
    symbol = inst.contract.symbol if inst is not None else str(con_id)
    name = (inst.details.long_name if inst is not None else "") or symbol
    price = inst.price if inst is not None else 100.0
    pct = round(rng.uniform(0.5, 9.5), 1)
    up = rng.random() < 0.5
    templates = _TEMPLATES.get(provider, _TEMPLATES["DJ-N"])
    text = rng.choice(templates).format(
        symbol=symbol,
        name=name,
        pct=pct,
        dir="up" if up else "down",
        up="Up" if up else "Down",
        price=f"{price:.2f}",
        broker=rng.choice(_BROKERS),
        target=f"{price * rng.uniform(1.05, 1.3):.0f}",
    )
    text = text.encode("ascii", "replace").decode()
    extra = f"A:800015:L:en:K:{rng.uniform(-1, 1):.2f}:C:{rng.uniform(0.5, 1):.2f}"
    kind = ArticleType.BINARY if provider in _BINARY else ArticleType.TEXT
    article_id = f"{provider}${_digest(sim.config.seed, key)[:8]}"
    return Story(article_id, provider, con_id, t, "{" + extra + "}" + text, extra, kind)


def _hourly(sim: Simulator, con_id: int, provider: str, hour: int) -> Story | None:
    """The headline ``provider`` has about ``con_id`` in epoch hour ``hour``, if any."""
    rng = random.Random(f"news:{sim.config.seed}:{con_id}:{provider}:{hour}")
    if rng.random() >= _RATE.get(provider, 0.05):
        return None
    t = _EPOCH + timedelta(seconds=hour * 3600 + rng.randrange(3600))
    return _story(sim, con_id, provider, f"{con_id}:{provider}:{hour}", t)


def headlines(
    sim: Simulator,
    con_id: int,
    providers: tuple[str, ...],
    start: datetime | None,
    end: datetime,
    limit: int,
) -> tuple[list[Story], bool]:
    """Up to ``limit`` headlines about ``con_id`` in ``(start, end]``, newest first, and
    whether the range holds more. Registers their articles."""
    desk = desk_of(sim)
    if sim.universe.by_con_id(con_id) is None:
        return [], False
    lower = start if start is not None else end - HORIZON
    found: list[Story] = [
        s
        for s in desk.live.get(con_id, ())
        if s.provider_code in providers and lower < s.time <= end
    ]
    hour = int((end - _EPOCH).total_seconds() // 3600)
    first = int((lower - _EPOCH).total_seconds() // 3600)
    while hour >= first:
        for provider in providers:
            s = _hourly(sim, con_id, provider, hour)
            if s is not None and lower < s.time <= end:
                found.append(s)
        # a later hour's stories are all newer than this hour's: stop once enough are older
        if len(found) > limit and sum(1 for s in found if s.time >= _hour_start(hour)) > limit:
            break
        hour -= 1
    found.sort(key=lambda s: (s.time, s.article_id), reverse=True)
    more = len(found) > limit
    out = found[:limit]
    for s in out:
        desk.articles[s.article_id] = s
    return out, more


def _hour_start(hour: int) -> datetime:
    return _EPOCH + hour * _HOUR


def _parse_time(sim: Simulator, text: str) -> datetime | None:
    """A REQ_HISTORICAL_NEWS start/end; raises ``ValueError`` if unreadable."""
    s = text.strip()
    if not s:
        return None
    if "-" in s[:8] and " " in s:  # yyyy-MM-dd HH:mm:ss[.f], UTC
        head = s.partition(".")[0]
        return datetime.strptime(head, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    if len(s) >= 17 and s[8] == "-":  # yyyymmdd-hh:mm:ss, UTC
        return datetime.strptime(s[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    if len(s) == 8:
        return datetime.strptime(s, "%Y%m%d").replace(tzinfo=UTC)
    day, _, rest = s.partition(" ")
    clock, _, zone = rest.strip().partition(" ")
    t = datetime.strptime(f"{day} {clock}", "%Y%m%d %H:%M:%S")
    try:
        tz = (
            UTC
            if zone.strip() in ("UTC", "GMT")
            else ZoneInfo(zone.strip() or sim.config.time_zone)
        )
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r}") from None
    return t.replace(tzinfo=tz).astimezone(UTC)


def _invalid_source(session: SimSession, req_id: int, bad: str) -> None:
    codes = ", ".join(p.code for p in providers_of(session.sim))
    session.send_error(
        req_id,
        321,
        f"Error validating request.-'bS' : cause - Invalid news source: {bad}. "
        f"Valid news sources are [{codes}]",
    )


def _unknown(session: SimSession, codes: tuple[str, ...]) -> str | None:
    known = {p.code for p in providers_of(session.sim)}
    return next((c for c in codes if c not in known), None)


# -- requests ---------------------------------------------------------------------------------


@handles(ReqNewsProviders)
def _req_news_providers(session: SimSession, msg: ReqNewsProviders) -> None:
    session.send(NewsProviders(list(providers_of(session.sim))))


@handles(ReqNewsArticle)
def _req_news_article(session: SimSession, msg: ReqNewsArticle) -> None:
    bad = _unknown(session, (msg.provider_code,))
    if bad is not None:
        _invalid_source(session, msg.req_id, bad)
        return
    story = desk_of(session.sim).articles.get(msg.article_id)
    if story is None or story.provider_code != msg.provider_code:
        session.send_error(
            msg.req_id,
            10172,
            f"Failed to request news article: article {msg.article_id} not found",
        )
        return
    session.send(NewsArticle(msg.req_id, int(story.article_type), story.article()))


@handles(ReqHistoricalNews)
def _req_historical_news(session: SimSession, msg: ReqHistoricalNews) -> None:
    sim = session.sim
    codes = tuple(c for c in msg.provider_codes.replace(" ", "").split("+") if c)
    if not codes:
        _invalid_source(session, msg.req_id, msg.provider_codes)
        return
    bad = _unknown(session, codes)
    if bad is not None:
        _invalid_source(session, msg.req_id, bad)
        return
    if msg.total_results <= 0:
        session.send_error(
            msg.req_id, 321, "Error validating request: totalResults must be positive"
        )
        return
    try:
        start = _parse_time(sim, msg.start_date_time)
        end = _parse_time(sim, msg.end_date_time)
    except ValueError as e:
        session.send_error(msg.req_id, 321, f"Error validating request: invalid date/time: {e}")
        return
    now = sim.market_time()
    end = now if end is None or end > now else end
    limit = min(msg.total_results, MAX_HISTORICAL_NEWS)
    found: list[Story] = []
    more = False
    if start is None or start < end:
        found, more = headlines(sim, msg.con_id, codes, start, end, limit)
    for s in found:
        session.send(
            HistoricalNews(
                msg.req_id, format_news_time(s.time), s.provider_code, s.article_id, s.headline
            )
        )
    session.send(HistoricalNewsEnd(msg.req_id, more))


@handles(ReqNewsBulletins)
def _req_news_bulletins(session: SimSession, msg: ReqNewsBulletins) -> None:
    session.state[_BULLETIN_SUB] = msg.all_msgs
    if msg.all_msgs:
        for b in desk_of(session.sim).bulletins:
            session.send(NewsBulletins.from_record(b))


@handles(CancelNewsBulletins)
def _cancel_news_bulletins(session: SimSession, msg: CancelNewsBulletins) -> None:
    session.state.pop(_BULLETIN_SUB, None)


# -- news ticks -------------------------------------------------------------------------------


def _news_contract(session: SimSession, msg: ReqMktData, sub: MarketSubscription) -> bool:
    """REQ_MKT_DATA of a NEWS contract (``BRFG:BRFG_ALL`` on ``BRFG``): its provider's
    broad-tape headlines."""
    c = msg.contract
    provider = c.exchange or c.symbol.partition(":")[0]
    if provider not in {p.code for p in providers_of(session.sim)}:
        session.send_error(msg.req_id, 10276, "News feed is not allowed.")
        return False
    if c.symbol and c.symbol.partition(":")[0] != provider:
        session.send_error(msg.req_id, 200, "No security definition has been found for the request")
        return False
    if msg.snapshot or msg.regulatory_snapshot:
        session.send(TickSnapshotEnd(msg.req_id))
        return True
    sub.news_providers = (provider,)
    return True


def _check_news_ticks(session: SimSession, sub: MarketSubscription) -> bool:
    """``292:CODE+CODE`` on a market data request must name the login's providers."""
    bad = _unknown(session, sub.news_providers)
    if bad is not None:
        _invalid_source(session, sub.req_id, bad)
        return False
    return True


SPECIAL_FEEDS["NEWS"] = _news_contract
GENERIC_CHECKS.append(_check_news_ticks)


@on_clock
def step_news(sim: Simulator) -> int:
    """One market clock step of the news ticks: every subscription with generic tick 292
    (and every NEWS contract) gets a headline each :data:`TICK_EVERY` steps; returns how
    many were sent."""
    if sim.data_paused:
        return 0
    sent = 0
    desk: NewsDesk | None = None
    all_codes = tuple(p.code for p in providers_of(sim))
    for session in list(sim.sessions):
        # the session's REQ_MKT_DATA subscriptions, as aiotws.sim.marketdata keeps them
        subs: dict[int, MarketSubscription] = session.state.get("mkt_data", {})
        steps: dict[int, int] = session.state.setdefault(_STEPS, {})
        for req_id in [r for r in steps if r not in subs]:
            del steps[req_id]
        for sub in list(subs.values()):
            if sub.con_id and 292 not in sub.generic_ticks:
                continue
            n = steps[sub.req_id] = steps.get(sub.req_id, 0) + 1
            if n % TICK_EVERY:
                continue
            if desk is None:
                desk = desk_of(sim)
            story = _tick_story(sim, sub, n, all_codes)
            desk.articles[story.article_id] = story
            desk.live.setdefault(story.con_id, []).append(story)
            session.send(
                TickNews(
                    sub.req_id,
                    story.time,
                    story.provider_code,
                    story.article_id,
                    story.headline,
                    story.extra_data,
                )
            )
            sent += 1
    return sent


def _tick_story(
    sim: Simulator, sub: MarketSubscription, n: int, all_codes: tuple[str, ...]
) -> Story:
    rng = random.Random(f"tick:{sim.config.seed}:{sub.con_id}:{sub.news_providers}:{n}")
    provider = rng.choice(sub.news_providers or all_codes)
    con_id = sub.con_id
    if not con_id:  # a broad-tape feed: about any stock of the universe
        stocks = [i for i in sim.universe.underlyings if i.contract.sec_type == "STK"]
        con_id = rng.choice(stocks).con_id if stocks else 0
    t = sim.market_time()
    now = t.replace(microsecond=t.microsecond // 1000 * 1000)  # TICK_NEWS carries ms
    return _story(sim, con_id, provider, f"tick:{sub.con_id}:{n}:{now.isoformat()}", now)
