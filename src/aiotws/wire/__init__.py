"""``aiotws.wire``: the sans-I/O TWS protocol. Bytes in, messages out; messages in, bytes out.

No asyncio, no sockets, no clocks. Layers above (``aiotws.protocol``, ``aiotws.sim``) do the
I/O. See :mod:`aiotws.wire.connection` for the two state machines, :mod:`aiotws.wire.layout`
for how a message declares its fields, and :mod:`aiotws.wire.messages` for the messages.
"""

from __future__ import annotations

from aiotws.wire import messages
from aiotws.wire.codec import decode, decode_in, decode_out, encode, encode_payload
from aiotws.wire.codes import ErrorKind, classify
from aiotws.wire.connection import (
    ClientConnection,
    ClientHello,
    ConnectionFailed,
    Handshake,
    ServerConnection,
    State,
    UndecodableFrame,
    negotiate,
)
from aiotws.wire.framing import MAX_FRAME, Framer, frame
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import IN_MESSAGES, OUT_MESSAGES, InMessage, Message, OutMessage
from aiotws.wire.versions import MAX_TEXT_VERSION, MAX_VERSION, MIN_VERSION, SV

__all__ = [
    "IN_MESSAGES",
    "MAX_FRAME",
    "MAX_TEXT_VERSION",
    "MAX_VERSION",
    "MIN_VERSION",
    "OUT_MESSAGES",
    "SV",
    "ClientConnection",
    "ClientHello",
    "ConnectionFailed",
    "ErrorKind",
    "Framer",
    "Handshake",
    "In",
    "InMessage",
    "Message",
    "Out",
    "OutMessage",
    "ServerConnection",
    "State",
    "UndecodableFrame",
    "classify",
    "decode",
    "decode_in",
    "decode_out",
    "encode",
    "encode_payload",
    "frame",
    "messages",
    "negotiate",
]
