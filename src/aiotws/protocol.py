"""The asyncio transport: an ``asyncio.Protocol`` over the sans-I/O client connection.

:class:`TWSProtocol` writes the handshake on connect, feeds every read to
:class:`~aiotws.wire.connection.ClientConnection` and hands the resulting events to a
:class:`ProtocolSink` *as one batch per read*, so the layers above can coalesce updates
(each ticker fires once per network read, not once per tick). It knows nothing about
requests or state.

A :class:`FrameTap` (the recorder of :mod:`aiotws.record`) can watch the raw bytes both
ways. With no tap set, reads take the untapped :meth:`TWSProtocol.data_received` itself:
recording off costs the receive path nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiotws.wire.connection import (
    ClientConnection,
    ConnectionFailed,
    Handshake,
    UndecodableFrame,
)
from aiotws.wire.layout import InMessage

__all__ = ["FrameTap", "ProtocolSink", "TWSProtocol"]

log = logging.getLogger("aiotws.protocol")


class ProtocolSink(Protocol):
    """What the transport reports to (the client implements it)."""

    def on_handshake(self, handshake: Handshake) -> None: ...

    def on_messages(self, batch: list[InMessage | UndecodableFrame]) -> None: ...

    def on_protocol_failure(self, failure: ConnectionFailed) -> None: ...

    def on_connection_lost(self, exc: Exception | None) -> None: ...


class FrameTap(Protocol):
    """Sees the raw bytes of one connection (it must never raise)."""

    def received(self, data: bytes) -> None:
        """``data`` was read, before the client handles it."""

    def sent(self, data: bytes) -> None:
        """``data`` is being written."""

    def closed(self, by_us: bool) -> None:
        """The socket closed; ``by_us``: this side closed it."""


class TWSProtocol(asyncio.Protocol):
    """One TWS API socket. ``closed`` resolves when the socket is really closed."""

    def __init__(
        self, conn: ClientConnection, sink: ProtocolSink, tap: FrameTap | None = None
    ) -> None:
        self.conn = conn
        self.sink = sink
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.tap: FrameTap | None = None
        self._closing = False
        if tap is not None:
            self.set_tap(tap)

    def set_tap(self, tap: FrameTap | None) -> None:
        """Watch this connection's bytes with ``tap`` (``None``: stop watching).

        A tapped read goes through a wrapper set on the instance; untapped, the wrapper is
        removed and reads cost nothing extra.
        """
        self.tap = tap
        if tap is None:
            self.__dict__.pop("data_received", None)
            return
        inner = TWSProtocol.data_received.__get__(self)

        def data_received(data: bytes) -> None:
            tap.received(data)
            inner(data)

        self.__dict__["data_received"] = data_received

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        hello = self.conn.initiate()
        if self.tap is not None:
            self.tap.sent(hello)
        transport.write(hello)

    def data_received(self, data: bytes) -> None:
        events = self.conn.receive_data(data)
        if not events:
            # frames consumed on the raw path leave no events, but the read still ends a
            # batch (coalesced ticker updates fire on it)
            self.sink.on_messages([])
            return
        batch: list[InMessage | UndecodableFrame] = []
        for ev in events:
            if isinstance(ev, (InMessage, UndecodableFrame)):
                batch.append(ev)
            elif isinstance(ev, Handshake):
                if batch:
                    self.sink.on_messages(batch)
                    batch = []
                self.sink.on_handshake(ev)
            else:
                if batch:
                    self.sink.on_messages(batch)
                    batch = []
                log.error("closing the connection: %s", ev.error)
                self.sink.on_protocol_failure(ev)
                self.close()
                return
        if batch:
            self.sink.on_messages(batch)

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.tap is not None:
            self.tap.closed(self._closing)
        if not self.closed.done():
            self.closed.set_result(None)
        self.sink.on_connection_lost(exc)

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            if self.tap is not None:
                self.tap.sent(data)
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self._closing = True
            self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping anything not yet written (a dead peer never reads it)."""
        if self.transport is not None:
            self._closing = True
            self.transport.abort()
