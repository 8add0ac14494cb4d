"""Incoming messages: one row per aiotws message class, next to the official ``EWrapper`` callback.

``test_incoming`` encodes a message with aiotws (the simulator's side), feeds the payload to
the official ``Decoder`` as ``EClient.run`` does below server version 201, and compares the
callback's arguments with the fields aiotws decodes from the same payload. A row maps both to
one comparable *view*: ``ours(message)`` and ``theirs(callback)`` must be equal.

To cover a new message class, add a row with its ``callback``, the two views, ``messages``
(a hypothesis strategy per server version: only values that version can carry) and
``samples`` (explicit edge cases per version); ``raw`` holds payloads as TWS sends them
(captured, or built by hand from PROTOCOL.md) with the version they were sent at. The
coverage gate fails while an ``IN_MESSAGES`` class has no row.

Where the official decoder makes several callbacks for one payload (TICK_PRICE adds a
``tickSize``; TICK_BY_TICK picks one of three callbacks) or none (TICK_SIZE of tick type 111),
the row sets ``theirs_calls``, a view of the whole list of callbacks, instead of ``theirs``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from hypothesis import strategies as st

from aiotws.wire import InMessage
from aiotws.wire import messages as m
from aiotws.wire.versions import SV

from .support import Call, join_surrogates

__all__ = ["INCOMING", "Row"]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: the range TWS timestamps live in (aiotws's ms codec is exact there, see test_incoming)
LAST_SECOND: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


def epoch_s(t: datetime) -> int:
    return (t - EPOCH) // timedelta(seconds=1)


def epoch_ms(t: datetime | None) -> int:
    """aiotws's ``error_time``/``time`` as the official client's epoch-ms int (``None`` is 0)."""
    return 0 if t is None else (t - EPOCH) // timedelta(milliseconds=1)


def from_ms(n: int) -> datetime:
    return EPOCH + timedelta(milliseconds=n)


# -- value strategies ---------------------------------------------------------------------------

int64 = st.integers(-(2**63), 2**63 - 1)
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | int64
#: any text but NUL (the field separator); a backslash goes out as \u005c, read back by both
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))
#: JSON whose strings need no JSON escapes (so the document holds no backslash either)
json_plain = st.text(st.characters(exclude_characters='\\"', exclude_categories=("Cs", "Cc")))
json_texts = texts | st.dictionaries(json_plain, json_plain | st.integers(), max_size=4).map(
    lambda d: json.dumps(d, ensure_ascii=False)
)
millis = st.integers(1, LAST_SECOND * 1000).map(from_ms)
seconds = st.integers(0, LAST_SECOND).map(lambda n: EPOCH + timedelta(seconds=n))
account = st.text(
    st.characters(categories=("Lu", "Ll", "Nd"), max_codepoint=127), min_size=1, max_size=12
)

Messages = Callable[[int], st.SearchStrategy[InMessage]]


def _err_msgs(version: int) -> st.SearchStrategy[InMessage]:
    return st.builds(
        m.ErrMsg,
        req_id=ids,
        code=st.sampled_from([2104, 2106, 2158, 200, 201, 321, 326, 10167]) | int64,
        text=texts,
        advanced_order_reject_json=json_texts
        if version >= SV.ADVANCED_ORDER_REJECT
        else st.just(""),
        error_time=st.none() | millis if version >= SV.ERROR_TIME else st.none(),
    )


def _err_samples(version: int) -> list[InMessage]:
    json_ok = version >= SV.ADVANCED_ORDER_REJECT
    time_ok = version >= SV.ERROR_TIME
    when = from_ms(1_733_070_000_123) if time_ok else None
    return [
        m.ErrMsg(-1, 2104, "Market data farm connection is OK:usfarm", "", when),
        m.ErrMsg(-1, 326, "Unable to connect as the client id is already in use.", "", None),
        m.ErrMsg(17, 201, "Order rejected - reason: caf\u00e9 \u4ef7\u683c", "", when),
        m.ErrMsg(2**31 - 1, 399, "emoji \U0001f600 and \u20ac", "", when),
        m.ErrMsg(5, 201, "", '{"reason": "\u00fcber", "n": 1}' if json_ok else "", when),
        m.ErrMsg(0, 0, "tab\tnew\nline\r", "{}" if json_ok else "", None),
    ]


@dataclass(frozen=True)
class Row:
    """One incoming message: the aiotws class and the official callback it becomes."""

    cls: type[InMessage]
    #: the ``EWrapper`` method the official ``Decoder`` calls
    callback: str
    #: comparable view of an aiotws message
    ours: Callable[[Any], Any]
    #: comparable view of the official callback
    theirs: Callable[[Call], Any]
    #: hypothesis strategy of messages a server version can carry
    messages: Messages
    #: explicit messages per version
    samples: Callable[[int], list[InMessage]]
    #: ``(version, payload)`` as TWS sends them
    raw: tuple[tuple[int, bytes], ...] = ()
    #: comparable view of *all* callbacks of one payload; when set, replaces ``theirs`` and
    #: the one-callback check
    theirs_calls: Callable[[list[Call]], Any] | None = None

    @property
    def id(self) -> str:
        return self.cls.__name__


INCOMING: tuple[Row, ...] = (
    Row(
        m.NextValidId,
        "nextValidId",
        ours=lambda msg: msg.order_id,
        theirs=lambda c: c["orderId"],
        messages=lambda v: st.builds(m.NextValidId, ids),
        samples=lambda v: [m.NextValidId(1), m.NextValidId(117), m.NextValidId(-5)],
        raw=((176, b"9\x001\x00117\x00"),),  # captured (PROTOCOL.md 1.5)
    ),
    Row(
        m.ManagedAccts,
        "managedAccounts",
        ours=lambda msg: msg.accounts,
        # the official client passes the raw comma list; an application splits it
        theirs=lambda c: tuple(a for a in c["accountsList"].split(",") if a),
        messages=lambda v: st.builds(m.ManagedAccts, st.lists(account, max_size=6).map(tuple)),
        samples=lambda v: [
            m.ManagedAccts(("DU1234567",)),
            m.ManagedAccts(("DU111111", "DU222222", "U3333333")),
            m.ManagedAccts(()),
        ],
        raw=(
            (176, b"15\x001\x00DU1234567\x00"),  # captured (PROTOCOL.md 1.5)
            (200, b"15\x001\x00DU1,DU2,\x00"),  # TWS may end the list with a comma
        ),
    ),
    Row(
        m.CurrentTime,
        "currentTime",
        ours=lambda msg: epoch_s(msg.time),
        theirs=lambda c: c["time"],
        messages=lambda v: st.builds(m.CurrentTime, seconds),
        samples=lambda v: [m.CurrentTime(EPOCH + timedelta(seconds=1_733_070_000))],
        raw=((200, b"49\x001\x001733070000\x00"),),
    ),
    Row(
        m.CurrentTimeInMillis,
        "currentTimeInMillis",
        ours=lambda msg: epoch_ms(msg.time),
        theirs=lambda c: c["timeInMillis"],
        messages=lambda v: st.builds(m.CurrentTimeInMillis, millis),
        samples=lambda v: [m.CurrentTimeInMillis(from_ms(1_733_070_000_123))],
        raw=((200, b"109\x001733070000123\x00"),),
    ),
    Row(
        m.ErrMsg,
        "error",
        ours=lambda msg: (
            msg.req_id,
            msg.code,
            msg.text,
            msg.advanced_order_reject_json,
            epoch_ms(msg.error_time),
        ),
        theirs=lambda c: (
            c["reqId"],
            c["errorCode"],
            join_surrogates(c["errorString"]),
            join_surrogates(c["advancedOrderRejectJson"]),
            c["errorTime"],
        ),
        messages=_err_msgs,
        samples=_err_samples,
        raw=(
            # captured at 176 (PROTOCOL.md 1.5)
            (176, b"4\x002\x00-1\x002104\x00Market data farm connection is OK:usfarm.nj\x00\x00"),
            # the same layouts by hand: before 166 (no JSON), from 194 (no version, errorTime)
            (165, b"4\x002\x00-1\x002106\x00HMDS data farm connection is OK:ushmds\x00"),
            (194, b"4\x00-1\x002158\x00Sec-def farm connection is OK\x00\x001733070000123\x00"),
            (200, b"4\x0012\x00201\x00Order rejected: caf\\u00e9\x00{\\u0022a\\u0022:1}\x000\x00"),
        ),
    ),
)


def _domain_rows() -> tuple[Row, ...]:
    """Rows of the domain modules rows_*.py beside this one (each defines ``INCOMING_ROWS``)."""
    rows: list[Row] = []
    for path in sorted(Path(__file__).parent.glob("rows_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        rows.extend(getattr(module, "INCOMING_ROWS", ()))
    return tuple(rows)


INCOMING = INCOMING + _domain_rows()
