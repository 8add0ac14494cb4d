"""The sans-I/O connection state machines, both ends, driven with bytes only (no sockets)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aiotws.errors import (
    FrameTooLarge,
    HandshakeError,
    LocalProtocolError,
    MalformedMessage,
    UnknownMessageId,
    UnsupportedServerVersion,
)
from aiotws.wire import encode, frame
from aiotws.wire.codec import encode_payload
from aiotws.wire.connection import (
    API_PREFIX,
    ClientConnection,
    ClientHello,
    ConnectionFailed,
    Handshake,
    ServerConnection,
    State,
    UndecodableFrame,
    negotiate,
)
from aiotws.wire.messages import ErrMsg, ManagedAccts, NextValidId, ReqIds, StartApi

NY = ZoneInfo("America/New_York")
TWS_TIME = "20230228 17:24:14 EST"


def reply(version: int, time: str = TWS_TIME) -> bytes:
    return frame(f"{version}\0{time}\0".encode())


def open_client(version: int = 176, **kw: Any) -> ClientConnection:
    c = ClientConnection(**kw)
    c.initiate()
    events = c.receive_data(reply(version))
    assert [type(e) for e in events] == [Handshake]
    return c


def one_byte_at_a_time(conn: ClientConnection | ServerConnection, data: bytes) -> list[Any]:
    events: list[Any] = []
    for i in range(len(data)):
        events.extend(conn.receive_data(data[i : i + 1]))
    return events


# -- client: opening --------------------------------------------------------------------------


def test_initiate_bytes() -> None:
    assert ClientConnection().initiate() == b"API\0" + b"\x00\x00\x00\x09" + b"v157..200"
    assert API_PREFIX == b"API\0"


def test_initiate_ib_async_range() -> None:
    # PROTOCOL.md 1.2: 41 50 49 00 | 00 00 00 09 | 76 31 35 37 2E 2E 31 37 38
    expected = bytes.fromhex("41504900 00000009 763135372e2e313738".replace(" ", ""))
    assert ClientConnection(157, 178).initiate() == expected


def test_initiate_with_options() -> None:
    text = b"v157..200 +PACEAPI"
    assert ClientConnection(connect_options="+PACEAPI").initiate() == API_PREFIX + frame(text)
    assert len(text) == 18


@pytest.mark.parametrize(
    ("low", "high"), [(156, 200), (157, 201), (180, 170), (100, 226), (201, 201)]
)
def test_client_rejects_version_ranges_outside_ours(low: int, high: int) -> None:
    with pytest.raises(LocalProtocolError, match=r"outside the supported 157\.\.200"):
        ClientConnection(low, high)


@pytest.mark.parametrize(("low", "high"), [(157, 157), (157, 178), (200, 200), (176, 194)])
def test_client_accepts_ranges_inside_ours(low: int, high: int) -> None:
    c = ClientConnection(low, high)
    assert c.initiate() == API_PREFIX + frame(f"v{low}..{high}".encode())
    assert c.state is State.HANDSHAKE


def test_client_rejects_non_ascii_options() -> None:
    with pytest.raises(LocalProtocolError, match="ASCII"):
        ClientConnection(connect_options="+PACEAPI é")


@pytest.mark.parametrize("options", ["+PACE\0API", "+PACEAPI\x01", "\x1b[0m"])
def test_client_rejects_non_printable_options(options: str) -> None:
    with pytest.raises(LocalProtocolError):
        ClientConnection(connect_options=options)


# -- client: handshake reply ------------------------------------------------------------------


def test_handshake_reply() -> None:
    c = ClientConnection()
    c.initiate()
    wire = b"\x00\x00\x00\x1a" + b"176\x00" + b"20230228 17:24:14 EST\x00"  # PROTOCOL.md 1.3
    assert wire == reply(176)
    (hs,) = c.receive_data(wire)
    assert hs == Handshake(176, TWS_TIME, datetime(2023, 2, 28, 17, 24, 14, tzinfo=NY))
    assert hs.connection_time is not None
    assert hs.connection_time.utcoffset() == timedelta(hours=-5)
    assert hs.connection_time.astimezone(UTC) == datetime(2023, 2, 28, 22, 24, 14, tzinfo=UTC)
    assert c.state is State.OPEN
    assert c.server_version == 176


def test_handshake_split_at_every_offset() -> None:
    data = reply(176) + encode(NextValidId(117), 176)
    for cut in range(len(data) + 1):
        c = ClientConnection()
        events = c.receive_data(data[:cut]) + c.receive_data(data[cut:])
        assert [type(e) for e in events] == [Handshake, NextValidId], cut


def test_handshake_one_byte_at_a_time() -> None:
    c = ClientConnection()
    events = one_byte_at_a_time(c, reply(200) + encode(ManagedAccts(("DU1",)), 200))
    assert events[0].server_version == 200
    assert events[1:] == [ManagedAccts(("DU1",))]


def test_handshake_with_unknown_zone() -> None:
    # "中国标准时间" from a GB2312 host arrives as bytes that are not UTF-8: Latin-1 mojibake
    raw = b"176\x0020230228 17:24:14 " + "中国标准时间".encode("gb2312") + b"\x00"
    c = ClientConnection()
    (hs,) = c.receive_data(frame(raw))
    assert isinstance(hs, Handshake)
    assert hs.server_version == 176
    assert hs.connection_time is None  # an unknown zone never fails the connection
    assert hs.raw_time.startswith("20230228 17:24:14 ")
    assert hs.raw_time == raw[4:-1].decode("latin-1")
    assert c.state is State.OPEN


def test_handshake_with_known_localized_zone() -> None:
    c = ClientConnection()
    (hs,) = c.receive_data(reply(176, "20230228 17:24:14 中国标准时间"))
    assert hs.connection_time == datetime(2023, 2, 28, 17, 24, 14, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_frames_before_the_handshake_are_skipped() -> None:
    c = ClientConnection()
    junk = frame(b"") + frame(b"hello") + frame(b"1\x002\x003\x00") + frame(b"176\x00")
    events = c.receive_data(junk + reply(176) + encode(NextValidId(3), 176))
    assert [type(e) for e in events] == [Handshake, NextValidId]


def test_handshake_with_bad_version() -> None:
    c = ClientConnection()
    (ev,) = c.receive_data(frame(b"abc\x00" + TWS_TIME.encode() + b"\x00") + reply(176))
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, HandshakeError)
    assert c.state is State.CLOSED
    assert c.receive_data(reply(176)) == []


@pytest.mark.parametrize("version", [100, 156, 179, 201, 226])
def test_server_version_outside_our_range(version: int) -> None:
    c = ClientConnection(157, 178)
    events = c.receive_data(reply(version) + encode(NextValidId(1), 176))
    assert len(events) == 1
    (ev,) = events
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, UnsupportedServerVersion)
    assert str(version) in str(ev.error)
    assert c.state is State.CLOSED
    assert c.receive_data(encode(NextValidId(1), 176)) == []
    with pytest.raises(LocalProtocolError):
        c.send(StartApi(1))


@pytest.mark.parametrize("opened", [False, True])
def test_client_oversized_frame(opened: bool) -> None:
    c = open_client(max_frame=1000) if opened else ClientConnection(max_frame=1000)
    events = c.receive_data(struct.pack(">I", 1001))
    (ev,) = events
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, FrameTooLarge)
    assert ev.error.limit == 1000
    assert c.state is State.CLOSED
    assert c.receive_data(reply(176)) == []


def test_client_frame_at_the_limit_is_fine() -> None:
    c = open_client(max_frame=1000)
    text = "x" * (1000 - len("4\x002\x00-1\x002104\x00\x00\x00"))
    data = encode(ErrMsg(-1, 2104, text), 176)
    assert len(data) == 1004
    assert c.receive_data(data) == [ErrMsg(-1, 2104, text)]


def test_client_frames_before_an_oversized_frame_are_delivered() -> None:
    data = reply(176) + encode(NextValidId(5), 176) + struct.pack(">I", 1001)
    c = ClientConnection(max_frame=1000)
    events = c.receive_data(data)
    assert [type(e) for e in events] == [Handshake, NextValidId, ConnectionFailed]
    assert c.state is State.CLOSED


def test_client_frames_before_an_oversized_frame_when_open() -> None:
    c = open_client(176, max_frame=1000)
    events = c.receive_data(encode(NextValidId(5), 176) + struct.pack(">I", 1001))
    assert [type(e) for e in events] == [NextValidId, ConnectionFailed]
    assert events[0] == NextValidId(5)
    assert c.state is State.CLOSED


def test_server_requests_before_an_oversized_frame_are_delivered() -> None:
    s = ServerConnection(max_frame=1000)
    s.receive_data(API_PREFIX + frame(b"v176"))
    s.accept(176, TWS_TIME)
    events = s.receive_data(encode(ReqIds(), 176) + struct.pack(">I", 1001))
    assert [type(e) for e in events] == [ReqIds, ConnectionFailed]
    assert s.state is State.CLOSED


def test_send_before_open_raises() -> None:
    c = ClientConnection()
    with pytest.raises(LocalProtocolError, match="HANDSHAKE"):
        c.send(StartApi(1))
    c.initiate()
    with pytest.raises(LocalProtocolError):
        c.send(StartApi(1))


def test_send_uses_the_negotiated_version() -> None:
    c = open_client(173)
    assert c.send(StartApi(18)) == frame(b"71\x002\x0018\x00\x00")
    c = open_client(200)
    assert c.send(ReqIds()) == frame(b"8\x001\x001\x00")


def test_client_decodes_at_the_negotiated_version() -> None:
    old = open_client(165)
    new = open_client(200)
    t = datetime(2024, 1, 1, tzinfo=UTC)
    assert old.receive_data(encode(ErrMsg(1, 2, "x"), 165)) == [ErrMsg(1, 2, "x")]
    assert new.receive_data(encode(ErrMsg(1, 2, "x", "", t), 200)) == [ErrMsg(1, 2, "x", "", t)]


def test_client_undecodable_frame_is_skipped() -> None:
    c = open_client(176)
    data = frame(b"999\x001\x00") + frame(b"9\x001\x00x\x00") + encode(NextValidId(4), 176)
    bad1, bad2, good = c.receive_data(data)
    assert isinstance(bad1, UndecodableFrame)
    assert isinstance(bad1.error, UnknownMessageId)
    assert bad1.error.payload == b"999\x001\x00"
    assert isinstance(bad2, UndecodableFrame)
    assert isinstance(bad2.error, MalformedMessage)
    assert bad2.error.field == "order_id"
    assert good == NextValidId(4)
    assert c.state is State.OPEN


def test_client_strict_mode() -> None:
    extra = frame(b"9\x001\x007\x00new\x00")
    assert open_client(176).receive_data(extra) == [NextValidId(7)]
    (ev,) = open_client(176, strict=True).receive_data(extra)
    assert isinstance(ev, UndecodableFrame)
    assert isinstance(ev.error, MalformedMessage)


# -- server: the client's opening -------------------------------------------------------------


def hello(text: bytes) -> bytes:
    return API_PREFIX + frame(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"v100..226", ClientHello(100, 226, "")),
        (b"v157..178", ClientHello(157, 178, "")),
        (b"v157..200", ClientHello(157, 200, "")),
        (b"v176", ClientHello(176, 176, "")),
        (b"v157..200 +PACEAPI", ClientHello(157, 200, "+PACEAPI")),
        (b"v100..226 +PACEAPI +X", ClientHello(100, 226, "+PACEAPI +X")),
    ],
)
def test_server_parses_hello(text: bytes, expected: ClientHello) -> None:
    s = ServerConnection()
    assert s.receive_data(hello(text)) == [expected]
    assert s.hello == expected
    assert s.state is State.HANDSHAKE


def test_server_parses_hello_split_at_every_offset() -> None:
    data = hello(b"v157..200 +PACEAPI")
    for cut in range(len(data) + 1):
        s = ServerConnection()
        events = s.receive_data(data[:cut]) + s.receive_data(data[cut:])
        assert events == [ClientHello(157, 200, "+PACEAPI")], cut


def test_server_parses_hello_one_byte_at_a_time() -> None:
    s = ServerConnection()
    assert one_byte_at_a_time(s, hello(b"v176")) == [ClientHello(176, 176, "")]


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1\r\n", b"XPI\0", b"API\1", b"api\0"])
def test_server_bad_prefix(data: bytes) -> None:
    s = ServerConnection()
    (ev,) = s.receive_data(data + frame(b"v157..200"))
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, HandshakeError)
    assert s.state is State.CLOSED
    assert s.receive_data(b"more") == []


def test_server_bad_prefix_detected_before_four_bytes() -> None:
    s = ServerConnection()
    assert s.receive_data(b"A") == []
    (ev,) = s.receive_data(b"X")
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, HandshakeError)


@pytest.mark.parametrize(
    "text",
    [b"", b"157..200", b"v", b"vX..Y", b"v157..", b"v157-200", b"v157..200+PACEAPI", b"v\xc3\xa9"],
)
def test_server_bad_version_string(text: bytes) -> None:
    s = ServerConnection()
    (ev,) = s.receive_data(hello(text))
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, HandshakeError)
    assert s.state is State.CLOSED


def test_server_oversized_hello() -> None:
    s = ServerConnection(max_frame=1000)
    (ev,) = s.receive_data(API_PREFIX + struct.pack(">I", 5000))
    assert isinstance(ev, ConnectionFailed)
    assert isinstance(ev.error, FrameTooLarge)
    assert s.state is State.CLOSED


# -- server: negotiation and reply ------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "server", "expected"),
    [
        ((157, 178), (100, 200), 178),
        ((157, 200), (100, 200), 200),
        ((100, 226), (100, 200), 200),
        ((100, 226), (100, 176), 176),
        ((176, 176), (100, 200), 176),
        ((157, 200), (100, 157), 157),
        ((201, 226), (100, 200), None),
        ((157, 178), (180, 200), None),
        ((157, 200), (100, 156), None),
    ],
)
def test_negotiate(client: tuple[int, int], server: tuple[int, int], expected: int | None) -> None:
    assert negotiate(*client, *server) == expected
    s = ServerConnection(*server)
    assert s.negotiate(ClientHello(*client, "")) == expected


def test_accept_builds_the_two_field_reply() -> None:
    s = ServerConnection()
    (h,) = s.receive_data(hello(b"v157..178"))
    assert isinstance(h, ClientHello)
    v = s.negotiate(h)
    assert v == 178
    assert s.accept(v, TWS_TIME) == frame(b"178\x0020230228 17:24:14 EST\x00")
    assert s.state is State.OPEN
    assert s.server_version == 178


def test_accept_guards() -> None:
    s = ServerConnection()
    with pytest.raises(LocalProtocolError, match="ClientHello"):
        s.accept(176, TWS_TIME)
    s.receive_data(hello(b"v157..226"))
    with pytest.raises(LocalProtocolError, match="protobuf"):
        s.accept(201, TWS_TIME)
    s.accept(200, TWS_TIME)
    with pytest.raises(LocalProtocolError):
        s.accept(200, TWS_TIME)  # only once


def test_refuse() -> None:
    s = ServerConnection(180, 200)
    (h,) = s.receive_data(hello(b"v157..178"))
    assert isinstance(h, ClientHello)
    assert s.negotiate(h) is None
    s.refuse()
    assert s.state is State.CLOSED
    assert s.receive_data(encode(StartApi(1), 178)) == []


def test_server_send_before_open_raises() -> None:
    s = ServerConnection()
    with pytest.raises(LocalProtocolError):
        s.send(NextValidId(1))
    s.receive_data(hello(b"v176"))
    with pytest.raises(LocalProtocolError):
        s.send(NextValidId(1))


def test_server_request_before_reply_is_undecodable() -> None:
    s = ServerConnection()
    events = s.receive_data(hello(b"v157..200") + encode(StartApi(1), 176))
    assert events[0] == ClientHello(157, 200, "")
    assert isinstance(events[1], UndecodableFrame)
    assert "before the handshake reply" in str(events[1].error)
    assert events[1].error.payload == encode_payload(StartApi(1), 176)


def _open_server(strict: bool = True) -> ServerConnection:
    s = ServerConnection(strict=strict)
    s.receive_data(hello(b"v157..176"))
    s.accept(176, TWS_TIME)
    return s


def test_server_decodes_requests_strictly() -> None:
    s = _open_server()
    extra = frame(b"71\x002\x001\x00\x00extra\x00")
    bad_version = frame(b"71\x009\x001\x00\x00")
    ok, ev1, ev2 = s.receive_data(encode(StartApi(1), 176) + extra + bad_version)
    assert ok == StartApi(1)
    for ev in (ev1, ev2):
        assert isinstance(ev, UndecodableFrame)
        assert isinstance(ev.error, MalformedMessage)
        assert ev.error.message == "StartApi"
    assert ev2.error.field == "version"  # type: ignore[union-attr]
    assert s.state is State.OPEN


def test_server_lenient_mode() -> None:
    s = _open_server(strict=False)
    assert s.receive_data(frame(b"71\x002\x001\x00\x00extra\x00")) == [StartApi(1)]


def test_server_oversized_request() -> None:
    s = ServerConnection(max_frame=1000)
    s.receive_data(hello(b"v176"))
    s.accept(176, TWS_TIME)
    ok, failed = s.receive_data(encode(ReqIds(), 176)) + s.receive_data(struct.pack(">I", 1001))
    assert ok == ReqIds()
    assert isinstance(failed, ConnectionFailed)
    assert isinstance(failed.error, FrameTooLarge)
    assert s.state is State.CLOSED


# -- both machines, bytes only ----------------------------------------------------------------


@pytest.mark.parametrize("byte_by_byte", [False, True], ids=["chunks", "bytes"])
@pytest.mark.parametrize("version", [157, 176, 194, 200])
def test_client_server_loop(version: int, byte_by_byte: bool) -> None:
    def deliver(conn: ClientConnection | ServerConnection, data: bytes) -> list[Any]:
        return one_byte_at_a_time(conn, data) if byte_by_byte else conn.receive_data(data)

    client = ClientConnection(157, 200)
    server = ServerConnection(100, version)

    (h,) = deliver(server, client.initiate())
    assert h == ClientHello(157, 200, "")
    negotiated = server.negotiate(h)
    assert negotiated == version
    (hs,) = deliver(client, server.accept(negotiated, "20260301 09:30:00 US/Eastern"))
    assert isinstance(hs, Handshake)
    assert hs.server_version == version
    assert hs.connection_time == datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("US/Eastern"))
    assert client.state is server.state is State.OPEN

    assert deliver(server, client.send(StartApi(7))) == [StartApi(7)]
    when = datetime(2026, 3, 1, 14, 30, 0, 250000, tzinfo=UTC)
    err = ErrMsg(-1, 2104, "Market data farm connection is OK:usfarm ✓")
    if version >= 166:
        err.advanced_order_reject_json = '{"reason":"…"}'
    if version >= 194:
        err.error_time = when
    sent = [ManagedAccts(("DU1234567", "DU7654321")), NextValidId(1), err]
    data = b"".join(server.send(m) for m in sent)
    assert deliver(client, data) == sent

    assert deliver(server, client.send(ReqIds())) == [ReqIds()]
    assert deliver(client, server.send(NextValidId(2))) == [NextValidId(2)]


# -- client: the open receive loop (frames walked in place) ------------------------------------


def test_open_client_reads_utf8_and_ascii_frames_at_every_split() -> None:
    msgs = [
        NextValidId(5),
        ErrMsg(-1, 2104, "Zürich farm OK ✓"),
        ErrMsg(3, 200, "ascii"),
        NextValidId(9),
    ]
    data = b"".join(encode(m, 176) for m in msgs)
    for cut in range(len(data) + 1):
        c = open_client(176)
        events = c.receive_data(data[:cut]) + c.receive_data(data[cut:])
        assert events == msgs, cut
        assert c.framer.buffered == 0
    c = open_client(176)
    assert one_byte_at_a_time(c, data) == msgs


def test_open_client_non_utf8_frame_falls_back_to_latin1_and_the_stream_goes_on() -> None:
    c = open_client(176)
    data = (
        frame(b"4\x002\x00-1\x002104\x00caf\xe9\x00\x00")  # TWS on a Western Windows code page
        + frame(b"9\x001\x00\xff\x00")
        + encode(NextValidId(4), 176)
    )
    latin, bad, good = c.receive_data(data)
    assert latin == ErrMsg(-1, 2104, "café")
    assert isinstance(bad, UndecodableFrame)
    assert bad.error.payload == b"9\x001\x00\xff\x00"
    assert good == NextValidId(4)
    assert c.state is State.OPEN


def test_open_client_oversized_frame_after_a_partial_read() -> None:
    c = open_client(176, max_frame=1000)
    first = encode(NextValidId(5), 176)
    assert c.receive_data(first[:3]) == []
    events = c.receive_data(first[3:] + struct.pack(">I", 1001) + b"x" * 10)
    assert [type(e) for e in events] == [NextValidId, ConnectionFailed]
    assert c.state is State.CLOSED
    assert c.framer.buffered == 0
