"""Wall Street Horizon (WSH) corporate events: the request and the records parsed from TWS's
JSON.

TWS passes WSH's answers through as JSON text; IB does not document their schema. The
parsers here read the shape seen in practice and produced by the aiotws simulator, and are
lenient: unknown keys stay in each record's ``raw`` dict, a missing key gives an empty
value, and the full text is kept (:attr:`WshMeta.json`, :attr:`WshEvents.json`).

Meta data::

    {"meta_data": {"event_types": [{"tag": "wshe_ed", "name": "Earnings Date", ...}, ...],
                   "filters": [{"tag": "country", "name": "Country", ...}, ...]}}

Events (a list, or an object holding one under ``"events"`` or ``"data"``)::

    [{"event_type": "wshe_ed", "conid": 265598, "index_date": "20260129",
      "data": {"earnings_date": "20260129", "time_of_day": "AMC"}}, ...]
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiotws.errors import InvalidField

__all__ = [
    "WshEvent",
    "WshEventData",
    "WshEventType",
    "WshEvents",
    "WshFilter",
    "WshMeta",
    "parse_events",
    "parse_meta",
    "wsh_date",
]


def wsh_date(value: date | str | None) -> str:
    """``value`` as WSH's ``yyyymmdd`` (``None`` and ``""``: empty)."""
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    text = value.strip().replace("-", "")
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"a WSH date is yyyymmdd (or a datetime.date), not {value!r}")
    date(int(text[:4]), int(text[4:6]), int(text[6:]))  # raises for 20240231
    return text


def _parse_date(value: object) -> date | None:
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("-", "")[:8]
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


@dataclass(slots=True)
class WshEventData:
    """What to ask WSH for: the events of one contract, or of a filter.

    ib_async / ibapi: ``WshEventData``. Give ``con_id`` *or* ``filter`` (a JSON object, as
    text or as a mapping, keys from the meta data: ``{"watchlist": ["265598"],
    "wshe_ed": "true"}``), not both. ``fill_watchlist`` / ``fill_portfolio`` /
    ``fill_competitors`` add the contracts of your TWS watchlists, your portfolio and the
    competitors of the filtered ones. ``start_date`` / ``end_date`` bound the event dates
    (a :class:`datetime.date` or ``yyyymmdd``); ``total_limit`` caps the number of events
    (``None``: TWS's default). Filters need server 171, dates and the limit 173.
    """

    con_id: int | None = None
    filter: str | Mapping[str, Any] = ""
    fill_watchlist: bool = False
    fill_portfolio: bool = False
    fill_competitors: bool = False
    start_date: date | str | None = None
    end_date: date | str | None = None
    total_limit: int | None = None

    def filter_json(self) -> str:
        """The filter as the JSON text TWS gets (``""``: none)."""
        f = self.filter
        if isinstance(f, Mapping):
            return json.dumps(dict(f), separators=(",", ":")) if f else ""
        return f.strip()

    def validate(self) -> None:
        """Raise :class:`~aiotws.errors.InvalidField` for a request TWS cannot answer."""
        name = "WshEventData"
        if self.con_id is not None and (isinstance(self.con_id, bool) or self.con_id <= 0):
            raise InvalidField(name, "con_id", self.con_id, "a contract id is a positive int")
        text = self.filter_json()
        if text:
            try:
                parsed = json.loads(text)
            except ValueError as e:
                raise InvalidField(name, "filter", text, f"not JSON: {e}") from None
            if not isinstance(parsed, dict):
                raise InvalidField(name, "filter", text, "the filter is one JSON object")
        if self.con_id is not None and text:
            raise InvalidField(
                name, "filter", text, "give con_id or filter, not both (TWS takes one)"
            )
        fills = self.fill_watchlist or self.fill_portfolio or self.fill_competitors
        if self.con_id is None and not text and not fills:
            raise InvalidField(
                name, "con_id", None, "give a con_id, a filter or one of the fill_* flags"
            )
        for attr in ("start_date", "end_date"):
            try:
                wsh_date(getattr(self, attr))
            except ValueError as e:
                raise InvalidField(name, attr, getattr(self, attr), str(e)) from None
        start, end = wsh_date(self.start_date), wsh_date(self.end_date)
        if start and end and start > end:
            raise InvalidField(name, "end_date", self.end_date, "end_date is before start_date")
        limit = self.total_limit
        if limit is not None and (isinstance(limit, bool) or limit <= 0):
            raise InvalidField(name, "total_limit", limit, "the limit is a positive int")


@dataclass(slots=True)
class WshEventType:
    """One event type of the meta data: its ``tag`` (the filter key, ``wshe_ed``) and name."""

    tag: str
    name: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class WshFilter:
    """One filter key of the meta data (``country``, ``watchlist``, ``limit`` …)."""

    tag: str
    name: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class WshMeta:
    """The WSH meta data: the event types and filters, and the JSON as TWS sent it."""

    json: str
    event_types: list[WshEventType] = field(default_factory=list)
    filters: list[WshFilter] = field(default_factory=list)
    raw: Any = None

    def event_type(self, tag: str) -> WshEventType | None:
        """The event type with ``tag``, if the meta data has it."""
        return next((t for t in self.event_types if t.tag == tag), None)


@dataclass(slots=True)
class WshEvent:
    """One corporate event: its type tag (``wshe_ed`` earnings, ``wshe_div`` dividend …),
    contract, date, and the type-specific ``data``; ``raw`` is the JSON object as sent."""

    event_type: str
    con_id: int | None = None
    date: _dt.date | None = None
    symbol: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


class WshEvents(list[WshEvent]):
    """The events of one answer (a list), with the JSON as TWS sent it in :attr:`json`."""

    json: str = ""


def _entries(value: object, *keys: str) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        for k in keys:
            if k in value:
                return _entries(value[k], *keys)
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _tagged(entries: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for e in entries:
        tag = e.get("tag", e.get("id", ""))
        out.append((str(tag), str(e.get("name", e.get("display_name", ""))), e))
    return out


def parse_meta(text: str) -> WshMeta:
    """Read WSH_META_DATA's JSON. Raises ``ValueError`` when it is not JSON."""
    raw = json.loads(text) if text.strip() else {}
    root = raw.get("meta_data", raw) if isinstance(raw, dict) else raw
    types = [WshEventType(t, n, e) for t, n, e in _tagged(_entries(root, "event_types"))]
    filters = [WshFilter(t, n, e) for t, n, e in _tagged(_entries(root, "filters"))]
    return WshMeta(text, types, filters, raw)


def parse_events(text: str) -> WshEvents:
    """Read WSH_EVENT_DATA's JSON. Raises ``ValueError`` when it is not JSON."""
    raw = json.loads(text) if text.strip() else []
    out = WshEvents()
    out.json = text
    for e in _entries(raw, "events", "data"):
        data = e.get("data")
        out.append(
            WshEvent(
                event_type=str(e.get("event_type", e.get("type", ""))),
                con_id=_int_or_none(e.get("conid", e.get("con_id"))),
                date=_parse_date(e.get("index_date", e.get("date"))),
                symbol=str(e.get("symbol", "")),
                data=data if isinstance(data, dict) else {},
                raw=e,
            )
        )
    return out
