"""Decoder agreement: what aiotws (the simulator's side) sends, the official ``Decoder`` reads.

For every row of :data:`incoming_table.INCOMING` at every version in ``VERSIONS``: encode a
message with ``aiotws.wire.encode``, hand the payload to the official ``Decoder.interpret``
as ``EClient.run`` does below 201, and require exactly one callback, the row's, whose view
equals the view of the message aiotws decodes from the same payload (and of the original).
A row with ``theirs_calls`` views the whole list of callbacks instead (none, one or two).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.wire import IN_MESSAGES, InMessage, decode_in, encode
from aiotws.wire import messages as m

from .incoming_table import EPOCH, INCOMING, Row, epoch_ms
from .support import VERSIONS, official_decode


def read_official(row: Row, payload: bytes, version: int) -> object:
    calls = official_decode(payload, version)
    if row.theirs_calls is not None:
        return row.theirs_calls(calls)
    assert [c.name for c in calls] == [row.callback], (
        f"official decoder made {[(c.name, c.args) for c in calls]} for {payload!r}"
    )
    return row.theirs(calls[0])


def check(row: Row, msg: InMessage, version: int) -> None:
    payload = encode(msg, version)[4:]
    ours = decode_in(payload, version, strict=True)
    assert type(ours) is row.cls
    assert read_official(row, payload, version) == row.ours(ours)
    assert row.ours(ours) == row.ours(msg), "aiotws does not read back what it wrote"


CASES = [pytest.param(row, v, id=f"{row.id}-{v}") for row in INCOMING for v in VERSIONS]


@pytest.mark.parametrize(("row", "version"), CASES)
def test_samples(row: Row, version: int) -> None:
    for msg in row.samples(version):
        check(row, msg, version)


@pytest.mark.parametrize(("row", "version"), CASES)
@given(data=st.data())
def test_generated(row: Row, version: int, data: st.DataObject) -> None:
    check(row, data.draw(row.messages(version), label="message"), version)


RAW = [
    pytest.param(row, v, payload, id=f"{row.id}-{v}-{i}")
    for row in INCOMING
    for i, (v, payload) in enumerate(row.raw)
]


@pytest.mark.parametrize(("row", "version", "payload"), RAW)
def test_tws_payloads(row: Row, version: int, payload: bytes) -> None:
    """Payloads as TWS writes them decode the same on both sides."""
    ours = decode_in(payload, version, strict=True)
    assert type(ours) is row.cls
    assert read_official(row, payload, version) == row.ours(ours)


def test_every_incoming_message_has_a_row() -> None:
    """Coverage gate: each class in ``IN_MESSAGES`` has exactly one row."""
    rows = [row.cls for row in INCOMING]
    assert len(rows) == len(set(rows)), "a class has two rows"
    missing = sorted(c.__name__ for c in IN_MESSAGES.values() if c not in rows)
    assert not missing, f"IN_MESSAGES classes without a row in incoming_table.py: {missing}"
    stale = sorted(c.__name__ for c in rows if c not in IN_MESSAGES.values())
    assert not stale, f"rows for classes that are not registered: {stale}"


def test_official_callback_names_exist() -> None:
    from ibapi.wrapper import EWrapper

    for row in INCOMING:
        assert callable(getattr(EWrapper, row.callback, None)), row.callback


def test_err_msg_before_194_has_no_error_time() -> None:
    """Below ERROR_TIME the official ``errorTime`` is 0; aiotws's ``error_time`` is ``None``."""
    payload = encode(m.ErrMsg(-1, 2104, "ok", ""), 193)[4:]
    assert decode_in(payload, 193).error_time is None  # type: ignore[attr-defined]
    (call,) = official_decode(payload, 193)
    assert call["errorTime"] == 0


def test_astral_text_official_quirk() -> None:
    """The official decoder leaves a ``\\uD83D\\uDE00`` pair as two lone surrogates.

    aiotws combines it into one character, as Java meant it; the views compare after
    ``join_surrogates``. This pins the official behaviour so a change in ibapi shows up.
    """
    payload = encode(m.ErrMsg(-1, 399, "\U0001f600", "", None), 200)[4:]
    assert b"\\ud83d\\ude00" in payload
    (call,) = official_decode(payload, 200)
    assert call["errorString"] == "\ud83d\ude00"
    assert decode_in(payload, 200).text == "\U0001f600"  # type: ignore[attr-defined]


def test_raw_utf8_official_quirk() -> None:
    """Raw (unescaped) UTF-8 in an escaped field: the official decoder reads it as Latin-1.

    TWS escapes non-ASCII from 153 on and the sim always does, so this only matters for a TWS
    that does not; aiotws keeps the UTF-8 text. Pinned so a change in ibapi shows up.
    """
    payload = b"4\x00-1\x00399\x00caf\xc3\xa9\x00\x000\x00"
    (call,) = official_decode(payload, 200)
    assert call["errorString"] == "caf\u00c3\u00a9"
    assert decode_in(payload, 200).text == "caf\u00e9"  # type: ignore[attr-defined]


FAR_FUTURE_MS = 10_593_345_719_651  # 2305-09-11, beyond 2**43 ms


def test_far_future_millis_are_exact() -> None:
    payload = b"109\x00" + str(FAR_FUTURE_MS).encode() + b"\x00"
    (call,) = official_decode(payload, 200)
    assert call["timeInMillis"] == FAR_FUTURE_MS
    ours = decode_in(payload, 200)
    assert isinstance(ours, m.CurrentTimeInMillis)
    assert ours.time == EPOCH + timedelta(milliseconds=FAR_FUTURE_MS)
    assert epoch_ms(ours.time) == FAR_FUTURE_MS


# -- backslashes: the official decoder applies Python's full ``unicode-escape`` ----------------


def test_backslash_from_the_sim_reads_right_in_the_official_client() -> None:
    text = "C:\\temp\\new"
    payload = encode(m.ErrMsg(-1, 399, text, "", None), 200)[4:]
    assert decode_in(payload, 200).text == text  # type: ignore[attr-defined]
    (call,) = official_decode(payload, 200)
    assert call["errorString"] == text


def test_non_u_escapes_from_tws_are_kept_deliberately() -> None:
    """A deliberate difference: TWS escapes non-ASCII as \\uXXXX only, so aiotws undoes
    exactly that. The official client runs Python's whole ``unicode-escape`` and so turns a
    JSON ``\\"`` into a bare quote (breaking the JSON) and a Windows path's ``\\n`` into a
    newline. aiotws keeps every other backslash sequence as sent."""
    payload = b'4\x00-1\x00399\x00a\\nb\x00{"k": "\\"q\\""}\x000\x00'
    (call,) = official_decode(payload, 200)
    assert call["errorString"] == "a\nb"  # the official client's lossy reading, pinned
    ours = decode_in(payload, 200)
    assert isinstance(ours, m.ErrMsg)
    assert ours.text == "a\\nb"
    assert ours.advanced_order_reject_json == '{"k": "\\"q\\""}'
    assert json.loads(ours.advanced_order_reject_json) == {"k": '"q"'}
