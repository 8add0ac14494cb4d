"""The text codec's decode contract: any bytes give a message or a DecodeError, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.errors import DecodeError, MalformedMessage, RemoteProtocolError, UnknownMessageId
from aiotws.wire import IN_MESSAGES, OUT_MESSAGES, decode, decode_in, decode_out
from aiotws.wire.codec import encode_payload, payload_text
from aiotws.wire.layout import InMessage, OutMessage
from aiotws.wire.messages import CancelHistoricalData, ErrMsg, ManagedAccts, NextValidId, StartApi

VERSIONS = st.sampled_from([157, 165, 166, 176, 193, 194, 197, 200])


def payload(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


# -- fuzz contract ----------------------------------------------------------------------------


@given(data=st.binary(max_size=200), version=VERSIONS, strict=st.booleans())
def test_arbitrary_bytes_in(data: bytes, version: int, strict: bool) -> None:
    try:
        msg = decode_in(data, version, strict)
    except DecodeError as e:
        assert e.payload == data
    else:
        assert isinstance(msg, InMessage)
        assert type(msg) is IN_MESSAGES[msg.MSG_ID]


@given(data=st.binary(max_size=200), version=VERSIONS, strict=st.booleans())
def test_arbitrary_bytes_out(data: bytes, version: int, strict: bool) -> None:
    try:
        msg = decode_out(data, version, strict)
    except DecodeError as e:
        assert e.payload == data
    else:
        assert isinstance(msg, OutMessage)
        assert type(msg) is OUT_MESSAGES[msg.MSG_ID]


_FIELD = st.one_of(
    st.sampled_from(["", "0", "1", "2", "-1", "2147483647", "9223372036854775807", "1.5",
                     "Infinity", "nan", "1e400", "99999999999999999999", "\\ud83d", "a,b,", "é"]),
    st.text(max_size=12).map(lambda s: s.replace("\0", "")),
)  # fmt: skip


@given(
    msg_id=st.sampled_from(sorted({*IN_MESSAGES, *OUT_MESSAGES, 0, 999})),
    fields=st.lists(_FIELD, max_size=8),
    trailing_nul=st.booleans(),
    version=VERSIONS,
    strict=st.booleans(),
)
def test_known_ids_with_arbitrary_fields(
    msg_id: int, fields: list[str], trailing_nul: bool, version: int, strict: bool
) -> None:
    """Structured fuzz: real message ids so the field codecs, not the id parser, get the input."""
    data = "\0".join([str(msg_id), *fields]).encode()
    if trailing_nul:
        data += b"\0"
    for registry, base in ((IN_MESSAGES, InMessage), (OUT_MESSAGES, OutMessage)):
        try:
            msg = decode(data, version, registry, strict)
        except DecodeError as e:
            assert e.payload == data
            if msg_id in registry:
                assert e.msg_id == msg_id
        else:
            assert isinstance(msg, base)
            assert msg_id == msg.MSG_ID


# -- specific frames --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0"])
def test_empty_payload(data: bytes) -> None:
    with pytest.raises(DecodeError, match="empty frame") as e:
        decode_in(data, 176)
    assert type(e.value) is DecodeError
    assert e.value.msg_id is None
    assert e.value.payload == data


@pytest.mark.parametrize("data", [b"abc\0", b"4x\0", b"\xff\xfe\0", b"1.5\0"])
def test_bad_message_id(data: bytes) -> None:
    with pytest.raises(DecodeError, match="bad message id") as e:
        decode_in(data, 176)
    assert e.value.msg_id is None
    assert e.value.payload == data


def test_unknown_message_id() -> None:
    data = payload("999", "1")
    with pytest.raises(UnknownMessageId) as e:
        decode_in(data, 176)
    assert e.value.msg_id == 999
    assert e.value.payload == data
    assert isinstance(e.value, DecodeError)
    assert isinstance(e.value, RemoteProtocolError)


def test_direction_matters() -> None:
    # 25 is CANCEL_HISTORICAL_DATA outgoing, but no incoming message has id 25
    # (71, START_API, is POSITION_MULTI incoming)
    data = encode_payload(CancelHistoricalData(1), 176)
    assert decode_out(data, 176) == CancelHistoricalData(1)
    with pytest.raises(UnknownMessageId):
        decode_in(data, 176)


def test_payload_without_trailing_nul() -> None:
    assert decode_in(b"9\x001\x00117", 176) == NextValidId(117)
    assert decode_in(b"9\x001\x00117", 176, strict=True) == NextValidId(117)
    assert decode_in(b"15\x001\x00DU1,DU2", 176) == ManagedAccts(("DU1", "DU2"))


@pytest.mark.parametrize("strict", [False, True])
def test_missing_field_names_the_field(strict: bool) -> None:
    data = payload("9", "1")
    with pytest.raises(MalformedMessage) as e:
        decode_in(data, 176, strict)
    assert (e.value.message, e.value.field, e.value.msg_id) == ("NextValidId", "order_id", 9)
    assert "missing" in e.value.reason
    assert e.value.payload == data


@pytest.mark.parametrize("strict", [False, True])
def test_bad_value_names_the_field(strict: bool) -> None:
    # the lenient fast path fails and falls back to the checked path, which names the field
    data = payload("4", "2", "-1", "twenty", "text", "")
    with pytest.raises(MalformedMessage) as e:
        decode_in(data, 176, strict)
    assert (e.value.message, e.value.field) == ("ErrMsg", "code")
    assert str(e.value).startswith("ErrMsg.code: ")
    assert e.value.payload == data


def test_lenient_ignores_trailing_fields_without_shifting() -> None:
    data = payload("4", "2", "-1", "2104", "farm OK", "", "new1", "new2")
    assert decode_in(data, 176) == ErrMsg(-1, 2104, "farm OK", "")
    data = payload("9", "1", "117", "extra")
    assert decode_in(data, 176) == NextValidId(117)
    assert decode_out(payload("71", "2", "5", "", "x"), 176, strict=False) == StartApi(5)


def test_strict_rejects_trailing_fields_naming_the_message() -> None:
    data = payload("4", "2", "-1", "2104", "farm OK", "", "new1", "new2")
    with pytest.raises(MalformedMessage) as e:
        decode_in(data, 176, strict=True)
    assert e.value.message == "ErrMsg"
    assert e.value.field is None
    assert e.value.msg_id == 4
    assert e.value.payload == data
    assert "2 field(s) more" in e.value.reason
    assert str(e.value).startswith("ErrMsg: ")


def test_decode_out_is_strict_by_default() -> None:
    with pytest.raises(MalformedMessage, match="StartApi"):
        decode_out(payload("71", "2", "5", "", "x"), 176)


def test_the_same_fields_mean_different_layouts_at_different_versions() -> None:
    # 166-193 carry advancedOrderRejectJson; at 157 that field is a trailing extra
    data = payload("4", "2", "-1", "2104", "farm OK", "{}")
    assert decode_in(data, 166) == ErrMsg(-1, 2104, "farm OK", "{}")
    assert decode_in(data, 157) == ErrMsg(-1, 2104, "farm OK")
    with pytest.raises(MalformedMessage):
        decode_in(data, 157, strict=True)


def test_latin1_fallback() -> None:
    data = b"4\x002\x00-1\x00399\x00Ordre modifi\xe9\x00\x00"
    assert payload_text(data) == data.decode("latin-1")
    assert decode_in(data, 176) == ErrMsg(-1, 399, "Ordre modifié")


def test_utf8_preferred() -> None:
    data = "4\x002\x00-1\x00399\x00Ordre modifié\x00\x00".encode()
    assert payload_text(data) == data.decode()
    assert decode_in(data, 176) == ErrMsg(-1, 399, "Ordre modifié")


def test_encode_payload_is_utf8_text_with_nul_terminated_fields() -> None:
    data = encode_payload(ErrMsg(-1, 2104, "ünï"), 200)
    assert data == b"4\x00-1\x002104\x00\\u00fcn\\u00ef\x00\x000\x00"
    assert data.isascii()
