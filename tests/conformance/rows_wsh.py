"""Wall Street Horizon messages against the official client.

REQ_WSH_EVENT_DATA's rows build an official ``WshEventData`` from the same argument dict as
the aiotws message: ``con_id=None`` / ``total_limit=None`` are the official
``UNSET_INTEGER`` (both sides then write ``2147483647``). The official client refuses a
filter field below 171 and a date field below 173 (UPDATE_TWS) exactly when aiotws raises
``UnsupportedByServer``, and the whole family below 161. The answers carry JSON as plain
text: the official decoder reads them with ``decode(str)`` (no ``\\u``-unescaping), so they
are aiotws ``STR`` fields.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from ibapi.client import EClient
from ibapi.common import WshEventData as OfficialWshEventData
from ibapi.const import UNSET_INTEGER

from aiotws.wire.messages import wsh as W

from .support import req_id_row

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS", "official_query"]

Args = dict[str, Any]
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | st.integers(-(2**63), 2**63 - 1)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
bad_text = st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FF), min_size=1)
#: a con id or limit that reads back as itself (2147483647 and 2**63-1 read as unset)
con_ids = (
    st.none()
    | st.sampled_from([8314, 265598, 0])
    | ints.filter(lambda n: n not in (UNSET_INTEGER, 2**63 - 1))
)
filters = (
    st.sampled_from(["", '{"watchlist":["8314"],"wshe_ed":"true"}', '{"country":"All","limit":10}'])
    | printable
)
dates = st.sampled_from(["", "20250101", "20251231"]) | printable

_KEYS = (
    ("con_id", "conId"),
    ("filter", "filter"),
    ("fill_watchlist", "fillWatchlist"),
    ("fill_portfolio", "fillPortfolio"),
    ("fill_competitors", "fillCompetitors"),
    ("start_date", "startDate"),
    ("end_date", "endDate"),
    ("total_limit", "totalLimit"),
)


def event_args(**changes: Any) -> Args:
    a: Args = {
        "req_id": 1,
        "con_id": None,
        "filter": "",
        "fill_watchlist": False,
        "fill_portfolio": False,
        "fill_competitors": False,
        "start_date": "",
        "end_date": "",
        "total_limit": None,
    }
    a.update(changes)
    return a


def official_query(a: Args) -> OfficialWshEventData:
    q = OfficialWshEventData()
    for ours, theirs in _KEYS:
        v = a[ours]
        setattr(q, theirs, UNSET_INTEGER if v is None and ours in ("con_id", "total_limit") else v)
    return q


def _build(a: Args) -> W.ReqWshEventData:
    return W.ReqWshEventData(a["req_id"], **{k: a[k] for k, _ in _KEYS})


def _call(client: EClient, a: Args) -> None:
    client.reqWshEventData(a["req_id"], official_query(a))


@st.composite
def _event_draw(draw: st.DrawFn) -> Args:
    a = event_args(
        req_id=draw(ints),
        con_id=draw(con_ids),
        # half the time leave the gated fields unset, so older versions send bytes too
        filter=draw(st.just("") | filters),
        fill_watchlist=draw(st.booleans()) and draw(st.booleans()),
        fill_portfolio=draw(st.booleans()) and draw(st.booleans()),
        fill_competitors=draw(st.booleans()) and draw(st.booleans()),
        start_date=draw(st.just("") | dates),
        end_date=draw(st.just("") | dates),
        total_limit=draw(st.none() | con_ids),
    )
    if draw(st.booleans()) and draw(st.booleans()):
        key = draw(st.sampled_from(["filter", "start_date", "end_date"]))
        a[key] = draw(bad_text, label=f"bad {key}")
    return a


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            req_id_row(out, W.ReqWshMetaData, "reqWshMetaData"),
            req_id_row(out, W.CancelWshMetaData, "cancelWshMetaData"),
            out.Row(
                W.ReqWshEventData,
                "reqWshEventData",
                build=_build,
                call=_call,
                samples=(
                    event_args(con_id=8314),
                    event_args(),  # unset con id: 2147483647 on both sides
                    event_args(con_id=265598, total_limit=5),  # 173+ only
                    event_args(filter='{"watchlist":["8314"],"wshe_ed":"true"}'),  # 171+
                    event_args(fill_portfolio=True, fill_competitors=True),  # 171+
                    event_args(con_id=8314, start_date="20250101", end_date="20251231"),
                    event_args(filter="caf\u00e9"),  # refused by both (579) or unsupported
                ),
                args=_event_draw(),
            ),
            req_id_row(out, W.CancelWshEventData, "cancelWshEventData"),
        ),
    )


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    def row(cls: type[Any], callback: str, raw: bytes) -> Any:
        return inc.Row(
            cls,
            callback,
            ours=lambda msg: (msg.req_id, msg.data_json),
            theirs=lambda c: (c["reqId"], c["dataJson"]),
            messages=lambda v: st.builds(cls, ids, printable),
            samples=lambda v: [
                cls(1, '{"meta_data":{"event_types":[{"tag":"wshe_ed","name":"Earnings"}]}}'),
                cls(2, '[{"event_type":"wshe_ed","conid":8314,"index_date":"20250423"}]'),
                cls(3, ""),
                cls(-1, "[]"),
            ],
            raw=((176, raw),),
        )

    return _ROWS.setdefault(
        "in",
        (
            row(W.WshMetaData, "wshMetaData", b'104\x007\x00{"meta_data":{}}\x00'),
            row(W.WshEventData, "wshEventData", b"105\x008\x00[]\x00"),
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
