"""The official client asks ``aiotws sim`` for news, and gets what TWS sends.

Providers, historical headlines (and ``hasMore``), an article (text and binary), news ticks
of a stock with generic tick 292 and of a broad-tape NEWS contract, bulletins (at subscribe
and published later, none after the cancel) and the errors of bad requests: decoded by the
official ``Decoder`` without errors, with the simulator's values. Real sockets: an official
``EClient`` against an in-process :class:`aiotws.sim.Simulator` (see ``support.py``).
"""

from __future__ import annotations

import base64
import time
from typing import Any, Final

import pytest
from ibapi.contract import Contract as OfficialContract

from aiotws.model.news import BulletinType
from aiotws.sim import Simulator
from aiotws.sim.news import PROVIDERS, desk_of, publish_bulletin

from .support import Harness, OfficialSession, round_trip, wait_for_count

AAPL_ID: Final = 265598
SPEED: Final = 50.0
CLOCK: Final = 0.01


def _fast_sim(harness: Harness, **settings: Any) -> Simulator:
    t0 = time.monotonic()
    return harness.sim(
        tick_interval=CLOCK, clock=lambda: t0 + (time.monotonic() - t0) * SPEED, **settings
    )


def _contract(sec_type: str, symbol: str, exchange: str) -> OfficialContract:
    c = OfficialContract()
    c.secType, c.symbol, c.exchange = sec_type, symbol, exchange
    if sec_type == "STK":
        c.currency = "USD"
    return c


def _no_errors(s: OfficialSession, start: int) -> None:
    errors = [(e["reqId"], e["errorCode"], e["errorString"]) for e in s.wrapper.errors(start)]
    assert errors == []


@pytest.mark.parametrize("version", [157, 200])
def test_providers_headlines_and_articles(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version, seed=4)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqNewsProviders()
    got = s.wrapper.wait_for("newsProviders", start=mark)
    assert [(p.code, p.name) for p in got["newsProviders"]] == [(p.code, p.name) for p in PROVIDERS]
    s.client.reqHistoricalNews(5, AAPL_ID, "BRFG+BRFUPDN+DJ-N+DJNL", "", "", 40, [])
    end = s.wrapper.wait_for("historicalNewsEnd", start=mark)
    heads = s.wrapper.named("historicalNews", mark)
    assert len(heads) == 40 and (end["requestId"], end["hasMore"]) == (5, True)
    assert {h["requestId"] for h in heads} == {5}
    times = [h["time"] for h in heads]
    assert times == sorted(times, reverse=True) and all(t.endswith(".0") for t in times)
    assert all(h["articleId"].startswith(h["providerCode"] + "$") for h in heads)
    text = next(h for h in heads if h["providerCode"] != "DJNL")
    letter = next(h for h in heads if h["providerCode"] == "DJNL")
    s.client.reqNewsArticle(6, text["providerCode"], text["articleId"], [])
    s.client.reqNewsArticle(7, "DJNL", letter["articleId"], [])
    a = s.wrapper.wait_for("newsArticle", lambda c: c["requestId"] == 6, start=mark)
    b = s.wrapper.wait_for("newsArticle", lambda c: c["requestId"] == 7, start=mark)
    assert a["articleType"] == 0 and "<html>" in a["articleText"]
    assert b["articleType"] == 1 and base64.b64decode(b["articleText"]).startswith(b"%PDF-")
    _no_errors(s, mark)
    # the errors of bad requests, each under its request id
    s.client.reqHistoricalNews(8, AAPL_ID, "BZ", "", "", 10, [])
    s.client.reqNewsArticle(9, "BRFG", "BRFG$00000000", [])
    s.client.reqHistoricalNews(10, AAPL_ID, "BRFG", "yesterday", "", 10, [])
    round_trip(s)
    errors = {e["reqId"]: e["errorCode"] for e in s.wrapper.errors(mark)}
    assert errors == {8: 321, 9: 10172, 10: 321}


def test_news_ticks(harness: Harness) -> None:
    sim = _fast_sim(harness, seed=4)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqMktData(11, _contract("STK", "AAPL", "SMART"), "mdoff,292", False, False, [])
    s.client.reqMktData(
        12, _contract("NEWS", "BRFG:BRFG_ALL", "BRFG"), "mdoff,292", False, False, []
    )
    ticks = wait_for_count(s.wrapper, lambda c: c.name == "tickNews", 6, start=mark)
    assert {t["tickerId"] for t in ticks} == {11, 12}
    for t in ticks:
        assert isinstance(t["timeStamp"], int) and t["timeStamp"] > 1_600_000_000_000
        assert t["articleId"].startswith(t["providerCode"] + "$")
        assert t["headline"].startswith("{" + t["extraData"] + "}")
    assert {t["providerCode"] for t in ticks if t["tickerId"] == 12} == {"BRFG"}
    # mdoff: no quotes on either
    assert not [c for c in s.wrapper.calls[mark:] if c.name in ("tickPrice", "tickSize")]
    assert ticks[0]["articleId"] in harness.loop.call(lambda: set(desk_of(sim).articles))
    s.client.cancelMktData(11)
    s.client.cancelMktData(12)
    s.client.reqMktData(13, _contract("NEWS", "BZ:BZ_ALL", "BZ"), "mdoff,292", False, False, [])
    e = s.wrapper.wait_for("error", start=mark)
    assert (e["reqId"], e["errorCode"], e["errorString"]) == (
        13,
        10276,
        "News feed is not allowed.",
    )
    round_trip(s)


def test_bulletins(harness: Harness) -> None:
    sim = harness.sim()
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqNewsBulletins(True)
    first = s.wrapper.wait_for("updateNewsBulletin", start=mark)
    assert (first["msgId"], first["msgType"]) == (1, 1) and "news desk" in first["newsMessage"]
    harness.loop.call(
        lambda: publish_bulletin(
            sim, "Trading on NYSE is halted", BulletinType.EXCHANGE_UNAVAILABLE, "NYSE"
        )
    )
    b = s.wrapper.wait_for("updateNewsBulletin", lambda c: c["msgId"] == 2, start=mark)
    assert (b["msgType"], b["newsMessage"], b["originExch"]) == (
        2,
        "Trading on NYSE is halted",
        "NYSE",
    )
    s.client.cancelNewsBulletins()
    after = round_trip(s)
    harness.loop.call(lambda: publish_bulletin(sim, "not sent", BulletinType.REGULAR))
    round_trip(s)
    assert s.wrapper.named("updateNewsBulletin", after) == []
    _no_errors(s, mark)
