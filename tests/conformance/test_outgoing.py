"""Encoder byte equality: ``aiotws.wire.encode`` against the official ``EClient``, per version.

For every row of :data:`outgoing_table.OUTGOING` and every version in ``VERSIONS`` the same
arguments go through both encoders; the framed bytes must be identical, or both sides must
refuse (aiotws raises, the official client reports an ``error()`` and sends nothing) for the
same reason. Bytes the official client sends must also decode, in the simulator's strict
mode, back to the aiotws message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ibapi.errors import INVALID_SYMBOL, UPDATE_TWS

from aiotws.errors import InvalidField, UnsupportedByServer
from aiotws.wire import OUT_MESSAGES, decode_out, encode

from .outgoing_table import OUTGOING, Row
from .support import VERSIONS, offline_client

#: official local error codes and the aiotws exception that means the same
REFUSALS = {UPDATE_TWS.code(): "unsupported", INVALID_SYMBOL.code(): "invalid"}


@dataclass(frozen=True)
class Sent:
    data: bytes


@dataclass(frozen=True)
class Refused:
    reason: str


Outcome = Sent | Refused


def ours(row: Row, args: dict[str, Any], version: int) -> Outcome:
    msg = row.build(args)
    try:
        return Sent(encode(msg, version))
    except UnsupportedByServer:
        return Refused("unsupported")
    except InvalidField:
        return Refused("invalid")


def theirs(row: Row, args: dict[str, Any], version: int) -> Outcome:
    client, conn, wrapper = offline_client(version)
    row.setup(client, args)
    row.call(client, args)
    others = [c.name for c in wrapper.calls if c.name != "error"]
    assert not others, f"unexpected callbacks {others}"
    codes = [c["errorCode"] for c in wrapper.errors()]
    if conn.sent:
        assert not codes, f"official client both sent and reported {codes}"
        assert len(conn.sent) == 1, "one request, one frame"
        return Sent(conn.sent[0])
    assert len(codes) == 1, f"official client neither sent nor refused ({codes})"
    return Refused(REFUSALS.get(codes[0], f"official error {codes[0]}"))


def check(row: Row, args: dict[str, Any], version: int) -> Outcome:
    expected = theirs(row, args, version)
    got = ours(row, args, version)
    assert got == expected, f"{row.id} at {version} with {args!r}"
    if isinstance(expected, Sent):
        # the simulator reads what the official client sent as the message we meant
        assert decode_out(expected.data[4:], version, strict=True) == row.build(args)
    return expected


CASES = [pytest.param(row, v, id=f"{row.id}-{v}") for row in OUTGOING for v in VERSIONS]
HYPO_CASES = [
    pytest.param(row, v, id=f"{row.id}-{v}")
    for row in OUTGOING
    if row.args is not None
    for v in VERSIONS
]


@pytest.mark.parametrize(("row", "version"), CASES)
def test_samples(row: Row, version: int) -> None:
    outcomes = [check(row, args, version) for args in row.samples]
    since = row.cls.LAYOUT.since
    if version < since:
        # the message does not exist at this version: both sides refuse every call
        assert all(o == Refused("unsupported") for o in outcomes)
    else:
        assert any(isinstance(o, Sent) for o in outcomes), "no sample produced bytes"


@pytest.mark.parametrize(("row", "version"), HYPO_CASES)
@given(data=st.data())
def test_generated(row: Row, version: int, data: st.DataObject) -> None:
    assert row.args is not None
    check(row, data.draw(row.args, label="args"), version)


def test_every_outgoing_message_has_a_row() -> None:
    """Coverage gate: each class in ``OUT_MESSAGES`` has exactly one row."""
    rows = [row.cls for row in OUTGOING]
    assert len(rows) == len(set(rows)), "a class has two rows"
    missing = sorted(c.__name__ for c in OUT_MESSAGES.values() if c not in rows)
    assert not missing, f"OUT_MESSAGES classes without a row in outgoing_table.py: {missing}"
    stale = sorted(c.__name__ for c in rows if c not in OUT_MESSAGES.values())
    assert not stale, f"rows for classes that are not registered: {stale}"


def test_official_method_names_exist() -> None:
    from ibapi.client import EClient

    for row in OUTGOING:
        assert callable(getattr(EClient, row.method, None)), row.method


def test_known_bytes() -> None:
    """Anchors from PROTOCOL.md 1.4: START_API at 173 for client 18 is ``71 2 18 ''``."""
    row = next(r for r in OUTGOING if r.cls.__name__ == "StartApi")
    sent = check(row, {"client_id": 18, "optional_capabilities": ""}, 173)
    assert sent == Sent(b"\x00\x00\x00\x0971\x002\x0018\x00\x00")
