"""Length-prefixed framing: ``uint32 big-endian length`` + payload (PROTOCOL.md section 2).

The receive buffer is linear in the bytes received, never quadratic: :meth:`Framer.feed`
walks an offset through the buffer, slices each complete payload out once, and drops the
consumed prefix with a single ``del`` per call. When the buffer is empty (the common case of
a read that ends on a frame boundary) frames are sliced straight out of the incoming chunk
and nothing is copied into the buffer at all.
"""

from __future__ import annotations

import struct
from typing import Final

from aiotws.errors import FrameTooLarge

__all__ = ["MAX_FRAME", "Framer", "frame", "unpack_length"]

#: The official client's limit (its local error 507 "Bad message length").
MAX_FRAME: Final = 0xFFFFFF

_LEN: Final = struct.Struct(">I")
#: ``(length,) = unpack_length(buffer, offset)``: a frame's length prefix
unpack_length: Final = _LEN.unpack_from


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length."""
    return _LEN.pack(len(payload)) + payload


class Framer:
    """Splits a byte stream into frame payloads.

    ``feed(data)`` returns every payload completed by ``data``, in order, for any split of
    the stream. A length above ``max_frame`` stops the framer: the frames before it are
    still returned, :attr:`error` holds the :class:`FrameTooLarge`, and every later ``feed``
    returns nothing. The stream cannot be resynchronised, so the caller closes the
    connection.
    """

    __slots__ = ("_buf", "error", "max_frame")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buf = bytearray()
        self.max_frame = max_frame
        self.error: FrameTooLarge | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        if self.error is not None:
            return []
        buf = self._buf
        if buf:
            buf += data
            src: bytes | bytearray = buf
        else:
            src = data
        frames: list[bytes] = []
        append = frames.append
        pos = 0
        n = len(src)
        limit = self.max_frame
        while n - pos >= 4:
            (size,) = unpack_length(src, pos)
            if size > limit:
                self.too_large(size)
                return frames
            end = pos + 4 + size
            if end > n:
                break
            append(bytes(src[pos + 4 : end]))
            pos = end
        if src is buf:
            if pos:
                del buf[:pos]
        elif pos < n:
            buf += data[pos:]
        return frames

    def take(self, data: bytes) -> bytes | None:
        """``data`` behind the buffered bytes, the buffer emptied: for a caller that walks
        frames in place (the client's receive loop). It hands back what it cannot frame yet
        with :meth:`keep` and reports an oversized length with :meth:`too_large`.

        ``None`` when the buffered frame is still incomplete: ``data`` is kept, and nothing
        is copied (a frame of megabytes arrives in many reads; copying the buffer on each
        would be quadratic).
        """
        buf = self._buf
        if not buf:
            return data
        buf += data
        if len(buf) < 4:
            return None
        (size,) = unpack_length(buf, 0)
        if len(buf) < 4 + size and size <= self.max_frame:
            return None
        self._buf = bytearray()
        return bytes(buf)

    def keep(self, rest: bytes) -> None:
        """Buffer ``rest``, the start of a frame not complete yet (see :meth:`take`)."""
        self._buf += rest

    def too_large(self, size: int) -> FrameTooLarge:
        """Stop the framer at a length above the limit, as :meth:`feed` does."""
        self._buf = bytearray()
        self.error = FrameTooLarge(size, self.max_frame)
        return self.error

    def reset(self) -> None:
        self._buf = bytearray()
        self.error = None
