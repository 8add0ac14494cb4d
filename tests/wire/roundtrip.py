"""What the per-domain message tests share: payloads from text fields, and the round trip
of one message (encoded to exactly the payload and frame, decoded back by the lenient and
the strict decoder alike)."""

from __future__ import annotations

from aiotws.wire.codec import decode_in, decode_out, encode, encode_payload
from aiotws.wire.framing import frame
from aiotws.wire.layout import InMessage, Message

__all__ = ["both_ways", "decode", "nul"]


def nul(*fields: str) -> bytes:
    """A payload: each field NUL-terminated."""
    return "".join(f + "\0" for f in fields).encode()


def decode(payload: bytes, version: int, cls: type[Message]) -> list[Message]:
    """Lenient (fast path where there is one) and strict decoding of one payload."""
    if issubclass(cls, InMessage):
        return [decode_in(payload, version), decode_in(payload, version, strict=True)]
    return [decode_out(payload, version, strict=False), decode_out(payload, version)]


def both_ways(msg: Message, version: int, payload: bytes) -> None:
    """``msg`` encodes to ``payload`` (and its frame) and both decoders give it back."""
    assert encode_payload(msg, version) == payload
    assert encode(msg, version) == frame(payload)
    for got in decode(payload, version, type(msg)):
        assert got == msg
