"""The exception tree (errors.py): the hierarchy users catch on, and the data errors carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiotws import errors as E


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (E.ProtocolError, (E.TWSError,)),
        (E.LocalProtocolError, (E.ProtocolError,)),
        (E.InvalidField, (E.LocalProtocolError, ValueError)),
        (E.UnsupportedByServer, (E.LocalProtocolError,)),
        (E.RemoteProtocolError, (E.ProtocolError,)),
        (E.DecodeError, (E.RemoteProtocolError,)),
        (E.UnknownMessageId, (E.DecodeError,)),
        (E.MalformedMessage, (E.DecodeError,)),
        (E.FrameTooLarge, (E.RemoteProtocolError,)),
        (E.HandshakeError, (E.RemoteProtocolError,)),
        (E.TWSConnectionError, (E.TWSError, ConnectionError)),
        (E.ConnectionRefused, (E.TWSConnectionError, ConnectionRefusedError)),
        (E.ConnectTimeout, (E.TWSConnectionError, TimeoutError)),
        (E.ClientIdInUse, (E.TWSConnectionError,)),
        (E.UnsupportedServerVersion, (E.TWSConnectionError,)),
        (E.NotConnected, (E.TWSConnectionError,)),
        (E.ConnectionLost, (E.TWSConnectionError,)),
        (E.RequestError, (E.TWSError,)),
        (E.RequestTimeout, (E.TWSError, TimeoutError)),
    ],
)
def test_hierarchy(cls: type[Exception], bases: tuple[type[Exception], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)
    assert issubclass(cls, E.TWSError)


def test_every_exported_error_derives_from_tws_error() -> None:
    for name in E.__all__:
        assert issubclass(getattr(E, name), E.TWSError), name


def test_remote_and_local_are_disjoint() -> None:
    assert not issubclass(E.DecodeError, E.LocalProtocolError)
    assert not issubclass(E.InvalidField, E.RemoteProtocolError)


def test_invalid_field() -> None:
    e = E.InvalidField("StartApi", "client_id", True, "expected int, got bool")
    assert (e.message, e.field, e.value, e.reason) == (
        "StartApi",
        "client_id",
        True,
        "expected int, got bool",
    )
    assert str(e) == "StartApi.client_id: expected int, got bool (value True)"


def test_unsupported_by_server() -> None:
    e = E.UnsupportedByServer("ErrMsg", "error_time", 194, 176)
    assert (e.message, e.field, e.needed, e.version) == ("ErrMsg", "error_time", 194, 176)
    assert str(e) == "ErrMsg.error_time needs server version 194; this connection speaks 176"
    m = E.UnsupportedByServer("ReqCurrentTimeInMillis", None, 197, 196)
    assert str(m).startswith("ReqCurrentTimeInMillis needs server version 197")


def test_decode_errors_carry_id_and_payload() -> None:
    e = E.DecodeError("bad", 4, b"4\0")
    assert (e.msg_id, e.payload) == (4, b"4\0")
    assert E.DecodeError("bad").payload == b""
    m = E.MalformedMessage("ErrMsg", "code", "not an integer: 'x'", 4, b"p")
    assert (m.message, m.field, m.reason, m.msg_id, m.payload) == (
        "ErrMsg",
        "code",
        "not an integer: 'x'",
        4,
        b"p",
    )
    assert str(m) == "ErrMsg.code: not an integer: 'x'"
    assert str(E.MalformedMessage("ErrMsg", None, "2 field(s) more")) == "ErrMsg: 2 field(s) more"


def test_frame_too_large() -> None:
    e = E.FrameTooLarge(2**24, 0xFFFFFF)
    assert (e.size, e.limit) == (2**24, 0xFFFFFF)
    assert "16777216" in str(e)


def test_client_id_in_use() -> None:
    assert E.ClientIdInUse(7).client_id == 7
    assert "7" in str(E.ClientIdInUse(7))
    assert str(E.ClientIdInUse(7, "client id is already in use")) == "client id is already in use"


def test_request_error() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    e = E.RequestError(200, "No security definition", 5, {"a": 1}, t, "error")
    assert (e.code, e.message, e.req_id, e.advanced_order_reject, e.time, e.kind) == (
        200, "No security definition", 5, {"a": 1}, t, "error",
    )  # fmt: skip
    assert str(e) == "TWS error 200: No security definition (request 5)"
    d = E.RequestError(162, "cancelled")
    assert (d.req_id, d.advanced_order_reject, d.time, d.kind) == (-1, None, None, "error")


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("", None),
        ('{"rejectReason":"x"}', {"rejectReason": "x"}),
        ("[1, 2]", [1, 2]),
        ("not json", "not json"),
    ],
)
def test_parse_reject_json(raw: str, parsed: object) -> None:
    assert E.RequestError.parse_reject_json(raw) == parsed


def test_request_timeout() -> None:
    e = E.RequestTimeout("reqContractDetails", 2.5)
    assert (e.what, e.timeout) == ("reqContractDetails", 2.5)
    assert str(e) == "reqContractDetails: no answer within 2.5 s"
    assert isinstance(e, TimeoutError)
