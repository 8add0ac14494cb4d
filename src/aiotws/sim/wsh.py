"""The simulator's Wall Street Horizon events: meta data and deterministic event data.

IB does not publish the JSON schema of WSH's answers. The simulator sends a plausible,
documented shape (``docs/wsh.md``), the one :mod:`aiotws.model.wsh` reads:

* meta data: ``{"meta_data": {"event_types": [...], "filters": [...]}}``, each entry a
  ``tag`` (the filter key) and a ``name``;
* events: a JSON list of ``{"event_type", "event_key", "conid", "symbol", "index_date",
  "data"}``, sorted by date.

Events exist for every stock of the universe and are facts of the calendar, not of the
request: the same seed gives the same earnings dates (quarterly, before the open or after
the close), dividends (for most stocks, two weeks after earnings), splits (a few stocks),
investor conferences and annual shareholder meetings, whatever the date asked. A request
picks a window: ``start_date`` .. ``end_date`` (default: the simulated market date and one
year on), then the first ``total_limit`` events (at most 100, TWS's cap).

TWS's rules, with its codes and texts: REQ_WSH_EVENT_DATA before any REQ_WSH_META_DATA on
the connection is refused with 10282; one request of each kind may be pending per
connection (10278 / 10281), pending until its CANCEL; a filter that is not one JSON object,
or a request naming no contract at all, gets 10283. A filter reads ``watchlist`` (con ids),
the event type tags (``"wshe_ed": "true"``; none given means all types) and ``limit``;
``fill_watchlist`` and ``fill_portfolio`` add the stocks held in the simulated ledger (the
simulator has no TWS watchlists), ``fill_competitors`` the stocks of the same industry.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiotws.model.contract import ContractDetails
from aiotws.sim.accounts import ledger_of
from aiotws.sim.server import SimSession, Simulator, handles
from aiotws.wire.fields import UNSET_INTEGER
from aiotws.wire.messages.wsh import (
    CancelWshEventData,
    CancelWshMetaData,
    ReqWshEventData,
    ReqWshMetaData,
    WshEventData,
    WshMetaData,
)

__all__ = ["EVENT_TYPES", "MAX_EVENTS", "events_for", "market_date", "meta_json"]

_NEW_YORK: Final = ZoneInfo("America/New_York")
#: TWS's cap on the events of one answer (rust-ibapi: "TWS allows at most 100")
MAX_EVENTS: Final = 100
#: (tag, name, data fields) of the event types the simulator knows
EVENT_TYPES: Final = (
    ("wshe_ed", "Earnings Date", ("earnings_date", "time_of_day", "fiscal_quarter")),
    ("wshe_div", "Dividend", ("ex_date", "pay_date", "amount", "currency", "frequency")),
    ("wshe_split", "Stock Split", ("effective_date", "ratio")),
    ("wshe_conf", "Investor Conference", ("conference_name", "location", "presenting")),
    ("wshe_sh", "Shareholder Meeting", ("meeting_date", "meeting_type")),
)
_TAGS: Final = frozenset(t for t, _, _ in EVENT_TYPES)
_FILTERS: Final = (
    {"tag": "country", "name": "Country", "type": "string", "values": ["All", "US"]},
    {"tag": "watchlist", "name": "Watchlist", "type": "list of con ids"},
    {"tag": "limit", "name": "Event limit", "type": "int", "max": MAX_EVENTS},
    {"tag": "limit_region", "name": "Events per region", "type": "int"},
)
_CONFERENCES: Final = (
    ("Technology Conference", "San Francisco, CA"),
    ("Global Consumer Conference", "Boston, MA"),
    ("Healthcare Conference", "New York, NY"),
    ("Financials Conference", "New York, NY"),
    ("Industrials Conference", "Chicago, IL"),
)

_META_PENDING: Final = "wsh.meta_pending"
_META_DONE: Final = "wsh.meta_done"
_EVENTS_PENDING: Final = "wsh.events_pending"


def meta_json() -> str:
    """The meta data document the simulator sends."""
    types = [
        {"tag": tag, "name": name, "fields": list(fields)} for tag, name, fields in EVENT_TYPES
    ]
    return json.dumps({"meta_data": {"event_types": types, "filters": list(_FILTERS)}})


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def _weekday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


@dataclass(frozen=True, slots=True)
class _Event:
    day: date
    tag: str
    con_id: int
    data: dict[str, Any]

    def to_json(self, symbol: str) -> dict[str, Any]:
        return {
            "event_type": self.tag,
            "event_key": f"{self.tag}-{self.con_id}-{_ymd(self.day)}",
            "conid": self.con_id,
            "symbol": symbol,
            "index_date": _ymd(self.day),
            "data": self.data,
        }


def _stock_events(
    seed: int, d: ContractDetails, price: float, start: date, end: date
) -> list[_Event]:
    """Every event of one stock between ``start`` and ``end`` (inclusive), by date."""
    con_id = d.contract.con_id
    rng = random.Random(f"wsh:{seed}:{con_id}")
    anchor = date(2000, 1, 3) + timedelta(days=rng.randrange(91))
    time_of_day = rng.choice(("BMO", "AMC"))
    pays = rng.random() < 0.7
    amount = round(max(price, 1.0) * rng.uniform(0.0015, 0.0075), 2)
    split = date(2018, 1, 2) + timedelta(days=rng.randrange(4000)) if rng.random() < 0.2 else None
    ratio = rng.choice(("2:1", "3:1", "4:1", "3:2"))
    out: list[_Event] = []
    first = max(0, (start - anchor).days // 91 - 1)
    k = first
    while True:
        day = _weekday(anchor + timedelta(days=91 * k))
        if day > end + timedelta(days=20):
            break
        quarter = f"Q{(k % 4) + 1}"
        if start <= day <= end:
            out.append(
                _Event(
                    day,
                    "wshe_ed",
                    con_id,
                    {
                        "earnings_date": _ymd(day),
                        "time_of_day": time_of_day,
                        "fiscal_quarter": quarter,
                    },
                )
            )
        ex = _weekday(day + timedelta(days=14))
        if pays and start <= ex <= end:
            pay = _weekday(ex + timedelta(days=21))
            out.append(
                _Event(
                    ex,
                    "wshe_div",
                    con_id,
                    {
                        "ex_date": _ymd(ex),
                        "pay_date": _ymd(pay),
                        "amount": amount,
                        "currency": d.contract.currency or "USD",
                        "frequency": "quarterly",
                    },
                )
            )
        k += 1
    if split is not None and start <= split <= end:
        out.append(
            _Event(split, "wshe_split", con_id, {"effective_date": _ymd(split), "ratio": ratio})
        )
    for year in range(start.year, end.year + 1):
        yr = random.Random(f"wsh:{seed}:{con_id}:{year}")
        for _ in range(2):
            day = _weekday(date(year, 1, 1) + timedelta(days=yr.randrange(360)))
            name, where = yr.choice(_CONFERENCES)
            if start <= day <= end:
                out.append(
                    _Event(
                        day,
                        "wshe_conf",
                        con_id,
                        {
                            "conference_name": name,
                            "location": where,
                            "presenting": yr.random() < 0.6,
                        },
                    )
                )
        meeting = _weekday(date(year, 4, 15) + timedelta(days=yr.randrange(60)))
        if start <= meeting <= end:
            out.append(
                _Event(
                    meeting,
                    "wshe_sh",
                    con_id,
                    {"meeting_date": _ymd(meeting), "meeting_type": "Annual"},
                )
            )
    return out


def _stocks(sim: Simulator) -> dict[int, tuple[ContractDetails, float]]:
    return {
        i.con_id: (i.details, i.price)
        for i in sim.universe.underlyings
        if i.contract.sec_type == "STK"
    }


def market_date(sim: Simulator) -> date:
    """The simulated market's date in New York."""
    return sim.market_time().astimezone(_NEW_YORK).date()


def events_for(
    sim: Simulator,
    con_ids: set[int],
    start: date | None = None,
    end: date | None = None,
    tags: frozenset[str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The events (JSON objects) of the stocks ``con_ids`` in ``start`` .. ``end``
    (default: the market date and a year on), of the event ``tags`` (default all), the first
    ``limit`` (at most :data:`MAX_EVENTS`) by date."""
    stocks = _stocks(sim)
    start = start or market_date(sim)
    end = end or start + timedelta(days=365)
    found: list[tuple[_Event, str]] = []
    for con_id in sorted(con_ids):
        entry = stocks.get(con_id)
        if entry is None:
            continue
        details, price = entry
        for e in _stock_events(sim.config.seed, details, price, start, end):
            if tags is None or e.tag in tags:
                found.append((e, details.contract.symbol))
    found.sort(key=lambda x: (x[0].day, x[0].con_id, x[0].tag))
    cap = MAX_EVENTS if limit is None else max(0, min(limit, MAX_EVENTS))
    return [e.to_json(symbol) for e, symbol in found[:cap]]


def _pending(session: SimSession, key: str) -> set[int]:
    pending: set[int] = session.state.setdefault(key, set())
    return pending


@handles(ReqWshMetaData)
def _req_meta(session: SimSession, msg: ReqWshMetaData) -> None:
    pending = _pending(session, _META_PENDING)
    if pending:
        session.send_error(msg.req_id, 10278, "Duplicate WSH metadata request.")
        return
    pending.add(msg.req_id)
    session.state[_META_DONE] = True
    session.send(WshMetaData(msg.req_id, meta_json()))


@handles(CancelWshMetaData)
def _cancel_meta(session: SimSession, msg: CancelWshMetaData) -> None:
    _pending(session, _META_PENDING).discard(msg.req_id)


@handles(CancelWshEventData)
def _cancel_events(session: SimSession, msg: CancelWshEventData) -> None:
    _pending(session, _EVENTS_PENDING).discard(msg.req_id)


def _date(text: str) -> date | None:
    t = text.strip()
    if not t:
        return None
    if len(t) != 8 or not t.isdigit():
        raise ValueError(f"bad date {text!r} (yyyymmdd)")
    return date(int(t[:4]), int(t[4:6]), int(t[6:]))


def _con_ids(values: object) -> set[int]:
    out: set[int] = set()
    if isinstance(values, list):
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool):
                out.add(v)
            elif isinstance(v, str) and v.strip().isdigit():
                out.add(int(v))
    return out


@handles(ReqWshEventData)
def _req_events(session: SimSession, msg: ReqWshEventData) -> None:
    sim, rid = session.sim, msg.req_id
    if not session.state.get(_META_DONE):
        session.send_error(rid, 10282, "WSH metadata not requested.")
        return
    pending = _pending(session, _EVENTS_PENDING)
    if pending:
        session.send_error(rid, 10281, "Duplicate WSH event data request.")
        return
    fail = "Fail request WSH event data."
    con_id = msg.con_id if msg.con_id not in (None, 0, UNSET_INTEGER) else None
    tags: frozenset[str] | None = None
    limit = msg.total_limit if msg.total_limit not in (None, UNSET_INTEGER) else None
    wanted: set[int] = set() if con_id is None else {con_id}
    if msg.filter.strip():
        try:
            flt = json.loads(msg.filter)
        except ValueError as e:
            session.send_error(rid, 10283, f"{fail} Invalid filter JSON: {e}")
            return
        if not isinstance(flt, dict):
            session.send_error(rid, 10283, f"{fail} The filter must be a JSON object.")
            return
        wanted |= _con_ids(flt.get("watchlist"))
        chosen = {
            k for k, v in flt.items() if k in _TAGS and str(v).strip().lower() in ("true", "1")
        }
        tags = frozenset(chosen) or None
        n = flt.get("limit")
        if isinstance(n, int) and not isinstance(n, bool):
            limit = n if limit is None else min(limit, n)
    stocks = _stocks(sim)
    if msg.fill_portfolio or msg.fill_watchlist:
        wanted |= {
            p.contract.con_id
            for p in ledger_of(sim).positions()
            if p.position and p.contract.con_id in stocks
        }
    if msg.fill_competitors:
        industries = {
            stocks[c][0].industry for c in wanted if c in stocks and stocks[c][0].industry
        }
        wanted |= {c for c, (d, _) in stocks.items() if d.industry in industries}
    if (
        con_id is None
        and not msg.filter.strip()
        and not (msg.fill_portfolio or msg.fill_watchlist or msg.fill_competitors)
    ):
        session.send_error(rid, 10283, f"{fail} No contract id or filter given.")
        return
    try:
        start, end = _date(msg.start_date), _date(msg.end_date)
    except ValueError as e:
        session.send_error(rid, 10283, f"{fail} {e}")
        return
    if start is not None and end is None:
        end = start + timedelta(days=365)
    if end is not None and start is None:
        start = min(market_date(sim), end)
    if start is not None and end is not None and start > end:
        session.send_error(rid, 10283, f"{fail} The end date is before the start date.")
        return
    pending.add(rid)
    events = events_for(sim, wanted, start, end, tags, limit)
    session.send(WshEventData(rid, json.dumps(events)))
