"""Text-mode message codec (server versions up to 200): messages to framed bytes and back.

A text payload is ``<msgId>\\0<field>\\0...<field>\\0``. :func:`encode` writes one message at a
negotiated server version and frames it; :func:`decode` reads one frame payload into its
message class. Decoding is lenient by default (trailing fields a newer TWS added are ignored,
never shifting the fields we know); ``strict=True`` (the simulator's mode) rejects them.
"""

from __future__ import annotations

from typing import Any, Final

from aiotws.errors import DecodeError, MalformedMessage, UnknownMessageId
from aiotws.wire.fields import FieldReader, FieldWriter
from aiotws.wire.framing import frame
from aiotws.wire.layout import IN_MESSAGES, OUT_MESSAGES, InMessage, Message, OutMessage

__all__ = ["decode", "decode_in", "decode_out", "encode", "encode_payload", "payload_text"]

_UTF8: Final = "utf-8"
_MISSING: Final[Any] = object()


def encode_payload(msg: Message, version: int) -> bytes:
    """The unframed text payload of ``msg`` at ``version``.

    Raises :class:`~aiotws.errors.LocalProtocolError` subclasses for a value or a field the
    version cannot carry; nothing is produced in that case.
    """
    layout = type(msg).LAYOUT
    layout.check_gates(msg, version)
    w = FieldWriter(version)
    layout.write(msg, w)
    text = str(layout.msg_id) + "\0" + "".join(f + "\0" for f in w.out)
    return text.encode(_UTF8)


def encode(msg: Message, version: int) -> bytes:
    """``msg`` framed for the wire at ``version`` (length prefix included)."""
    return frame(encode_payload(msg, version))


def payload_text(payload: bytes) -> str:
    """Payload bytes as text: UTF-8, falling back to Latin-1 (TWS on non-Western Windows)."""
    try:
        return payload.decode(_UTF8)
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def decode(
    payload: bytes,
    version: int,
    registry: dict[int, type[Message]] | dict[int, type[InMessage]] | dict[int, type[OutMessage]],
    strict: bool = False,
) -> Message:
    """Decode one frame payload with the message classes of ``registry``.

    Raises :class:`~aiotws.errors.DecodeError` (``UnknownMessageId`` or
    ``MalformedMessage``), carrying the id and the raw payload.
    """
    fields = payload_text(payload).split("\0")
    # A well-formed payload ends with NUL, leaving one empty string after the last field.
    end = len(fields) - 1 if fields[-1] == "" else len(fields)
    if end < 1 or not fields[0]:
        raise DecodeError("empty frame (no message id)", None, payload)
    try:
        msg_id = int(fields[0])
    except ValueError:
        raise DecodeError(f"bad message id {fields[0][:20]!r}", None, payload) from None
    cls = registry.get(msg_id)
    if cls is None:
        raise UnknownMessageId(f"no decoder for message id {msg_id}", msg_id, payload)
    layout = cls.LAYOUT
    if not strict:
        fast = layout._fast.get(version, _MISSING)
        if fast is _MISSING:
            fast = layout.fast_reader(version)
        if fast is not None and end > fast[1]:
            try:
                return fast[0](fields, 1)  # type: ignore[no-any-return]
            except Exception:
                pass
    r = FieldReader(fields, 1, end, version)
    try:
        msg: Message = layout.read(r, strict)
    except MalformedMessage as e:
        e.payload = payload
        raise
    if strict and r.pos != end:
        raise MalformedMessage(
            layout.name,
            None,
            f"{end - r.pos} field(s) more than the layout has at server version {version}",
            msg_id,
            payload,
        )
    return msg


def decode_in(payload: bytes, version: int, strict: bool = False) -> InMessage:
    """Decode a TWS -> client payload."""
    msg = decode(payload, version, IN_MESSAGES, strict)
    assert isinstance(msg, InMessage)
    return msg


def decode_out(payload: bytes, version: int, strict: bool = True) -> OutMessage:
    """Decode a client -> TWS payload (the simulator's side); strict by default."""
    msg = decode(payload, version, OUT_MESSAGES, strict)
    assert isinstance(msg, OutMessage)
    return msg
