"""The asyncio transport: an ``asyncio.Protocol`` over the sans-I/O client connection.

:class:`TWSProtocol` writes the handshake on connect, feeds every read to
:class:`~aiotws.wire.connection.ClientConnection` and hands the resulting events to a
:class:`ProtocolSink` *as one batch per read*, so the layers above can coalesce updates
(each ticker fires once per network read, not once per tick). It knows nothing about
requests or state.
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

__all__ = ["ProtocolSink", "TWSProtocol"]

log = logging.getLogger("aiotws.protocol")


class ProtocolSink(Protocol):
    """What the transport reports to (the client implements it)."""

    def on_handshake(self, handshake: Handshake) -> None: ...

    def on_messages(self, batch: list[InMessage | UndecodableFrame]) -> None: ...

    def on_protocol_failure(self, failure: ConnectionFailed) -> None: ...

    def on_connection_lost(self, exc: Exception | None) -> None: ...


class TWSProtocol(asyncio.Protocol):
    """One TWS API socket. ``closed`` resolves when the socket is really closed."""

    def __init__(self, conn: ClientConnection, sink: ProtocolSink) -> None:
        self.conn = conn
        self.sink = sink
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.conn.initiate())

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
        if not self.closed.done():
            self.closed.set_result(None)
        self.sink.on_connection_lost(exc)

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping anything not yet written (a dead peer never reads it)."""
        if self.transport is not None:
            self.transport.abort()
