"""Sans-I/O connection state machines for both ends of a TWS API socket.

Bytes in, events out; messages in, bytes out. No sockets, no clocks, no asyncio: the I/O
layer (``aiotws.protocol`` for the client, ``aiotws.sim`` for the server) calls
:meth:`receive_data` with whatever arrived and sends whatever :meth:`send` returns.

Client side::

    conn = ClientConnection(min_version=157, max_version=200)
    transport.write(conn.initiate())          # "API\\0" + "v157..200"
    for event in conn.receive_data(data):     # Handshake, then InMessage / UndecodableFrame
        ...
    transport.write(conn.send(StartApi(client_id=1)))

Server side::

    conn = ServerConnection(min_version=100, max_version=200)
    for event in conn.receive_data(data):     # ClientHello, then OutMessage / UndecodableFrame
        if isinstance(event, ClientHello):
            version = conn.negotiate(event)   # None: refuse (close the socket)
            transport.write(conn.accept(version, "20261201 12:00:00 EST"))

A frame above the size limit, or a handshake that is not TWS's, yields a final
:class:`ConnectionFailed` event and moves the machine to ``CLOSED``: the caller closes the
socket. A frame that does not decode yields :class:`UndecodableFrame` and the stream goes on.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiotws.errors import (
    DecodeError,
    HandshakeError,
    LocalProtocolError,
    RemoteProtocolError,
    UnsupportedServerVersion,
)
from aiotws.timezones import parse_tws_datetime
from aiotws.wire import codec
from aiotws.wire.framing import MAX_FRAME, Framer, frame, unpack_length
from aiotws.wire.layout import IN_MESSAGES, FastReader, InMessage, OutMessage
from aiotws.wire.versions import MAX_TEXT_VERSION, MAX_VERSION, MIN_VERSION

__all__ = [
    "API_PREFIX",
    "ClientConnection",
    "ClientHello",
    "ConnectionFailed",
    "Handshake",
    "ServerConnection",
    "State",
    "UndecodableFrame",
    "negotiate",
]

API_PREFIX: Final = b"API\0"
_NO_ENTRY: Final[Any] = object()
_unpack_from: Final = unpack_length
_VERSION_RE: Final = re.compile(r"^v(\d+)(?:\.\.(\d+))?(?: (.*))?$", re.S)


class State(enum.Enum):
    """Where a connection is: waiting for the peer's handshake, open, or closed."""

    HANDSHAKE = "handshake"
    OPEN = "open"
    CLOSED = "closed"


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    """The server's handshake reply: the negotiated version and TWS's connection time.

    ``connection_time`` is ``None`` when TWS's zone name is not one we know; ``raw_time``
    always holds the text as sent.
    """

    server_version: int
    raw_time: str
    connection_time: datetime | None


@dataclass(frozen=True, slots=True)
class ClientHello:
    """A client's opening: its version range and connect options (e.g. ``+PACEAPI``)."""

    min_version: int
    max_version: int
    options: str


@dataclass(frozen=True, slots=True)
class UndecodableFrame:
    """A frame that did not decode. It was skipped; ``error.payload`` holds the raw bytes."""

    error: DecodeError


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The stream cannot go on (oversized frame, bad handshake); close the socket."""

    error: RemoteProtocolError | UnsupportedServerVersion


def negotiate(client_min: int, client_max: int, server_min: int, server_max: int) -> int | None:
    """The highest version both sides speak, or ``None`` when the ranges do not overlap."""
    version = min(client_max, server_max)
    if version < max(client_min, server_min):
        return None
    return version


class _Connection:
    __slots__ = ("framer", "server_version", "state")

    def __init__(self, max_frame: int) -> None:
        self.framer = Framer(max_frame)
        self.state = State.HANDSHAKE
        self.server_version = 0

    def _frames(self, data: bytes) -> tuple[list[bytes], ConnectionFailed | None]:
        frames = self.framer.feed(data)
        if self.framer.error is not None:
            # the frames before the bad one are still processed; the caller closes after them
            return frames, ConnectionFailed(self.framer.error)
        return frames, None

    def _fail(self, error: RemoteProtocolError | UnsupportedServerVersion) -> ConnectionFailed:
        self.state = State.CLOSED
        self.framer.reset()
        return ConnectionFailed(error)


class ClientConnection(_Connection):
    """The client end: sends the handshake, reads the reply, then messages both ways."""

    __slots__ = ("_fast", "connect_options", "max_version", "min_version", "raw", "strict")

    def __init__(
        self,
        min_version: int = MIN_VERSION,
        max_version: int = MAX_VERSION,
        connect_options: str = "",
        max_frame: int = MAX_FRAME,
        strict: bool = False,
    ) -> None:
        super().__init__(max_frame)
        if not MIN_VERSION <= min_version <= max_version <= MAX_TEXT_VERSION:
            raise LocalProtocolError(
                f"version range {min_version}..{max_version} outside the supported "
                f"{MIN_VERSION}..{MAX_TEXT_VERSION}"
            )
        if connect_options and not all(32 <= ord(ch) <= 126 for ch in connect_options):
            raise LocalProtocolError("connect options must be printable ASCII")
        self.min_version = min_version
        self.max_version = max_version
        self.connect_options = connect_options
        self.strict = strict
        #: generated readers by message-id text, for the negotiated version
        self._fast: dict[str, tuple[FastReader, int] | None] = {}
        #: hand-tuned consumers by message-id text: ``handler(fields) -> consumed``. A
        #: consumed frame produces no event (it is applied as it is read); one that returns
        #: ``False`` or raises takes the ordinary path, which reports any error precisely.
        self.raw: dict[str, Callable[[list[str]], bool]] = {}

    def initiate(self) -> bytes:
        """The opening bytes: ``API\\0`` and the length-prefixed version range."""
        text = f"v{self.min_version}..{self.max_version}"
        if self.connect_options:
            text += " " + self.connect_options
        return API_PREFIX + frame(text.encode("ascii"))

    def receive_data(
        self, data: bytes
    ) -> list[Handshake | InMessage | UndecodableFrame | ConnectionFailed]:
        """Events for ``data``: the handshake first, then decoded messages."""
        if self.state is State.OPEN and not self.strict:
            return self._receive_open(data)
        if self.state is State.CLOSED:
            return []
        payloads, failed = self._frames(data)
        events: list[Handshake | InMessage | UndecodableFrame | ConnectionFailed] = []
        append = events.append
        for payload in payloads:
            if self.state is not State.OPEN:
                ev = self._handshake(payload)
                if ev is not None:
                    append(ev)
                    if isinstance(ev, ConnectionFailed):
                        return events
                continue
            try:
                append(codec.decode_in(payload, self.server_version, self.strict))
            except DecodeError as e:
                append(UndecodableFrame(e))
        if failed is not None:
            self.state = State.CLOSED
            append(failed)
        return events

    def _receive_open(
        self, data: bytes
    ) -> list[Handshake | InMessage | UndecodableFrame | ConnectionFailed]:
        """The hot path: frames walked in place, each split once, read by its consumer.

        The framing rules are :class:`Framer`'s (it keeps the partial frame between
        reads). A read that is all ASCII (every tick feed) is decoded once and each frame
        is a slice of that text; otherwise each frame is decoded as UTF-8 on its own. A
        raw consumer (``self.raw``) or the generated reader for the id reads the fields;
        anything unusual (non-UTF-8, unknown id, a bad field) takes the checked decoder,
        which reports the failing field.
        """
        framer = self.framer
        whole = framer.take(data)
        if whole is None:
            return []
        data = whole
        events: list[Handshake | InMessage | UndecodableFrame | ConnectionFailed] = []
        append = events.append
        raw = self.raw
        fast = self._fast
        limit = framer.max_frame
        version = self.server_version
        text = data.decode("ascii") if data.isascii() else None
        pos = 0
        n = len(data)
        while n - pos >= 4:
            (size,) = _unpack_from(data, pos)
            if size > limit:
                self.state = State.CLOSED
                append(ConnectionFailed(framer.too_large(size)))
                return events
            start = pos + 4
            end = start + size
            if end > n:
                break
            pos = end
            try:
                fields = (text[start:end] if text is not None else data[start:end].decode()).split(
                    "\0"
                )
                handler = raw.get(fields[0])
                if handler is not None and handler(fields):
                    continue
                entry = fast.get(fields[0], _NO_ENTRY)
                if entry is _NO_ENTRY:
                    entry = fast[fields[0]] = self._fast_entry(fields[0])
                if entry is not None and len(fields) > entry[1]:
                    append(entry[0](fields, 1))
                    continue
            except Exception:  # the checked path below reports it precisely
                pass
            try:
                append(codec.decode_in(data[start:end], version, False))
            except DecodeError as e:
                append(UndecodableFrame(e))
        if pos < n:
            framer.keep(data[pos:])
        return events

    def _fast_entry(self, id_text: str) -> tuple[FastReader, int] | None:
        try:
            cls = IN_MESSAGES.get(int(id_text))
        except ValueError:
            return None
        return None if cls is None else cls.LAYOUT.fast_reader(self.server_version)

    def _handshake(self, payload: bytes) -> Handshake | ConnectionFailed | None:
        parts = payload.split(b"\0")
        if len(parts) != 3 or parts[2] != b"":
            # The official client skips frames that arrive before the two-field reply.
            return None
        try:
            version = int(parts[0])
        except ValueError:
            return self._fail(HandshakeError(f"bad server version {parts[0][:20]!r}"))
        raw_time = codec.payload_text(parts[1])
        if not self.min_version <= version <= self.max_version:
            return self._fail(
                UnsupportedServerVersion(
                    f"server answered version {version}; this client speaks "
                    f"{self.min_version}..{self.max_version}"
                )
            )
        self.server_version = version
        self.state = State.OPEN
        return Handshake(version, raw_time, parse_tws_datetime(raw_time))

    def send(self, msg: OutMessage) -> bytes:
        """Bytes for ``msg`` at the negotiated version (raises before anything is produced)."""
        if self.state is not State.OPEN:
            raise LocalProtocolError(f"cannot send {type(msg).__name__} in state {self.state.name}")
        return codec.encode(msg, self.server_version)


class ServerConnection(_Connection):
    """The TWS end: reads the client's opening, answers it, then messages both ways.

    ``strict`` (default): a request with more fields than its layout at the negotiated
    version is an :class:`UndecodableFrame`, so client encoder bugs surface.
    """

    __slots__ = ("_prefix_seen", "hello", "max_version", "min_version", "strict")

    def __init__(
        self,
        min_version: int = 100,
        max_version: int = MAX_VERSION,
        max_frame: int = MAX_FRAME,
        strict: bool = True,
    ) -> None:
        super().__init__(max_frame)
        self.min_version = min_version
        self.max_version = max_version
        self.strict = strict
        self.hello: ClientHello | None = None
        self._prefix_seen = bytearray()

    def receive_data(
        self, data: bytes
    ) -> list[ClientHello | OutMessage | UndecodableFrame | ConnectionFailed]:
        """Events for ``data``: the client's hello first, then decoded requests."""
        if self.state is State.CLOSED:
            return []
        events: list[ClientHello | OutMessage | UndecodableFrame | ConnectionFailed] = []
        if len(self._prefix_seen) < len(API_PREFIX):
            need = len(API_PREFIX) - len(self._prefix_seen)
            self._prefix_seen += data[:need]
            data = data[need:]
            if not API_PREFIX.startswith(bytes(self._prefix_seen)):
                events.append(self._fail(HandshakeError("client did not open with 'API\\0'")))
                return events
            if len(self._prefix_seen) < len(API_PREFIX):
                return events
        payloads, failed = self._frames(data)
        decode = codec.decode_out
        for payload in payloads:
            if self.hello is None:
                hello = self._parse_hello(payload)
                events.append(hello)
                if isinstance(hello, ConnectionFailed):
                    return events
                continue
            if self.state is not State.OPEN:
                # A request sent before our handshake reply cannot be read at any version.
                err = DecodeError("request before the handshake reply", None, payload)
                events.append(UndecodableFrame(err))
                continue
            try:
                events.append(decode(payload, self.server_version, self.strict))
            except DecodeError as e:
                events.append(UndecodableFrame(e))
        if failed is not None:
            self.state = State.CLOSED
            events.append(failed)
        return events

    def _parse_hello(self, payload: bytes) -> ClientHello | ConnectionFailed:
        try:
            text = payload.decode("ascii")
        except UnicodeDecodeError:
            return self._fail(HandshakeError("version string is not ASCII"))
        m = _VERSION_RE.match(text)
        if m is None:
            return self._fail(HandshakeError(f"bad version string {text[:40]!r}"))
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) else low
        self.hello = ClientHello(low, high, m.group(3) or "")
        return self.hello

    def negotiate(self, hello: ClientHello) -> int | None:
        """The version to answer ``hello`` with, or ``None`` (the caller closes the socket)."""
        return negotiate(hello.min_version, hello.max_version, self.min_version, self.max_version)

    def accept(self, version: int, connection_time: str) -> bytes:
        """The handshake reply: ``version`` and TWS's ``yyyymmdd hh:mm:ss zone`` time text."""
        if self.hello is None or self.state is not State.HANDSHAKE:
            raise LocalProtocolError("accept() needs a ClientHello first")
        if version > MAX_TEXT_VERSION:
            raise LocalProtocolError("protobuf framing (server version 201+) is not implemented")
        self.server_version = version
        self.state = State.OPEN
        return frame(f"{version}\0{connection_time}\0".encode())

    def refuse(self) -> None:
        """Refuse the client (its range cannot be served): the caller closes the socket."""
        self.state = State.CLOSED

    def send(self, msg: InMessage) -> bytes:
        """Bytes for ``msg`` at the negotiated version."""
        if self.state is not State.OPEN:
            raise LocalProtocolError(f"cannot send {type(msg).__name__} in state {self.state.name}")
        return codec.encode(msg, self.server_version)
