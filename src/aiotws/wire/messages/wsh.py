"""Wall Street Horizon corporate-event messages: meta data and event data.

Layouts from the official client's ``reqWshMetaData`` / ``reqWshEventData`` /
``processWshMetaDataMsg`` / ``processWshEventDataMsg`` (no version field in any of them).
The whole family needs server 161 (``WSHE_CALENDAR``); inside REQ_WSH_EVENT_DATA the filter
fields (``filter``, ``fillWatchlist``, ``fillPortfolio``, ``fillCompetitors``) need 171
(``WSH_EVENT_DATA_FILTERS``) and the date fields (``startDate``, ``endDate``, ``totalLimit``)
173 (``WSH_EVENT_DATA_FILTERS_DATE``). Setting a gated field on an older server raises
:class:`~aiotws.errors.UnsupportedByServer` before anything is sent, as the official client
refuses with UPDATE_TWS.

``conId`` and ``totalLimit`` go out as ``2147483647`` when unset (``None``), exactly as the
official client writes its ``UNSET_INTEGER`` defaults. The answers carry one JSON document
each, read as plain text (the official decoder does not ``\\u``-unescape them).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiotws.wire.fields import SENTINEL_INT
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, message, since, wire
from aiotws.wire.versions import SV

__all__ = [
    "CancelWshEventData",
    "CancelWshMetaData",
    "ReqWshEventData",
    "ReqWshMetaData",
    "WshEventData",
    "WshMetaData",
]


@message(Out.REQ_WSH_META_DATA, since=SV.WSHE_CALENDAR)
@dataclass(slots=True)
class ReqWshMetaData(OutMessage):
    """Ask for the WSH meta data (event types and filters): WSH_META_DATA. TWS requires it
    before any REQ_WSH_EVENT_DATA on the connection (else error 10282); one may be pending
    at a time (10278). Server 161+."""

    req_id: int = 0


@message(Out.CANCEL_WSH_META_DATA, since=SV.WSHE_CALENDAR)
@dataclass(slots=True)
class CancelWshMetaData(OutMessage):
    """Release a REQ_WSH_META_DATA (no reply). Server 161+."""

    req_id: int = 0


@message(Out.REQ_WSH_EVENT_DATA, since=SV.WSHE_CALENDAR)
@dataclass(slots=True)
class ReqWshEventData(OutMessage):
    """Ask for the WSH events of one contract (``con_id``) or of a JSON ``filter``:
    WSH_EVENT_DATA. Server 161+; the filter fields 171+, the date fields 173+.

    ``start_date`` / ``end_date`` are ``yyyymmdd`` (empty: TWS's default range);
    ``total_limit`` caps the number of events (``None``: TWS's default).
    """

    req_id: int = 0
    con_id: int | None = wire(None, codec=SENTINEL_INT)
    filter: str = since(SV.WSH_EVENT_DATA_FILTERS, "")
    fill_watchlist: bool = since(SV.WSH_EVENT_DATA_FILTERS, False)
    fill_portfolio: bool = since(SV.WSH_EVENT_DATA_FILTERS, False)
    fill_competitors: bool = since(SV.WSH_EVENT_DATA_FILTERS, False)
    start_date: str = since(SV.WSH_EVENT_DATA_FILTERS_DATE, "")
    end_date: str = since(SV.WSH_EVENT_DATA_FILTERS_DATE, "")
    total_limit: int | None = since(SV.WSH_EVENT_DATA_FILTERS_DATE, None, codec=SENTINEL_INT)


@message(Out.CANCEL_WSH_EVENT_DATA, since=SV.WSHE_CALENDAR)
@dataclass(slots=True)
class CancelWshEventData(OutMessage):
    """Release a REQ_WSH_EVENT_DATA (no reply). Server 161+."""

    req_id: int = 0


@message(In.WSH_META_DATA)
@dataclass(slots=True)
class WshMetaData(InMessage):
    """The answer to REQ_WSH_META_DATA: one JSON document describing the event types and
    filters (:func:`aiotws.model.wsh.parse_meta` reads it)."""

    req_id: int
    data_json: str = ""


@message(In.WSH_EVENT_DATA)
@dataclass(slots=True)
class WshEventData(InMessage):
    """The answer to REQ_WSH_EVENT_DATA: the events as one JSON document
    (:func:`aiotws.model.wsh.parse_events` reads it)."""

    req_id: int
    data_json: str = ""
