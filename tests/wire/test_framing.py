"""Length-prefixed framing (PROTOCOL.md section 2): any split of the stream, same frames."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.errors import FrameTooLarge, RemoteProtocolError
from aiotws.wire.framing import MAX_FRAME, Framer, frame

PAYLOADS = [b"", b"9\x001\x00117\x00", b"x", b"", b"\x00" * 3, bytes(range(256)), b"a" * 1000, b""]
STREAM = b"".join(frame(p) for p in PAYLOADS)


def feed_all(framer: Framer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out


def test_frame() -> None:
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert frame(b"") == b"\x00\x00\x00\x00"
    assert frame(b"x" * 0x1234)[:4] == b"\x00\x00\x12\x34"


def test_max_frame_is_the_official_limit() -> None:
    assert MAX_FRAME == 0xFFFFFF == 16_777_215
    assert Framer().max_frame == MAX_FRAME


def test_whole_stream_in_one_chunk() -> None:
    f = Framer(max_frame=1000)
    assert f.feed(STREAM) == PAYLOADS
    assert f.buffered == 0


def test_split_at_every_offset() -> None:
    for cut in range(len(STREAM) + 1):
        f = Framer(max_frame=1000)
        assert feed_all(f, [STREAM[:cut], STREAM[cut:]]) == PAYLOADS, cut
        assert f.buffered == 0


def test_split_in_three_at_every_pair_of_offsets() -> None:
    payloads = [b"", b"ab", b"", b"9\x001\x00117\x00", b"c"]
    stream = b"".join(frame(p) for p in payloads)
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            f = Framer(max_frame=1000)
            assert feed_all(f, [stream[:i], stream[i:j], stream[j:]]) == payloads, (i, j)
            assert f.buffered == 0


def test_one_byte_at_a_time() -> None:
    f = Framer(max_frame=1000)
    out: list[bytes] = []
    for i in range(len(STREAM)):
        out.extend(f.feed(STREAM[i : i + 1]))
        assert f.buffered + sum(len(p) + 4 for p in out) == i + 1
    assert out == PAYLOADS
    assert f.buffered == 0


@given(
    payloads=st.lists(st.binary(max_size=50), max_size=10),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
)
def test_random_splits(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(p) for p in payloads)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    f = Framer(max_frame=1000)
    assert feed_all(f, chunks) == payloads
    assert f.buffered == 0


def test_empty_feed() -> None:
    f = Framer()
    assert f.feed(b"") == []
    assert f.buffered == 0
    f.feed(b"\x00\x00")
    assert f.feed(b"") == []
    assert f.buffered == 2


def test_zero_length_frames() -> None:
    f = Framer()
    assert f.feed(frame(b"") * 3) == [b"", b"", b""]
    assert f.feed(b"\x00\x00\x00") == []
    assert f.feed(b"\x00") == [b""]


def test_buffered_counts_partial_frames() -> None:
    f = Framer()
    data = frame(b"hello") + frame(b"world")
    assert f.feed(data[:2]) == []
    assert f.buffered == 2
    assert f.feed(data[2:7]) == []
    assert f.buffered == 7
    assert f.feed(data[7:12]) == [b"hello"]
    assert f.buffered == 3
    assert f.feed(data[12:]) == [b"world"]
    assert f.buffered == 0


def test_payloads_are_bytes_not_views() -> None:
    f = Framer()
    f.feed(b"\x00\x00")
    (p,) = f.feed(b"\x00\x02ab")
    assert type(p) is bytes
    (q,) = Framer().feed(frame(b"cd"))
    assert type(q) is bytes


def test_accepts_bytearray_and_memoryview() -> None:
    f = Framer()
    assert f.feed(bytearray(frame(b"ab"))) == [b"ab"]
    assert f.feed(memoryview(frame(b"cd"))) == [b"cd"]


def test_frame_exactly_at_the_limit() -> None:
    f = Framer(max_frame=1000)
    assert f.feed(frame(b"x" * 1000)) == [b"x" * 1000]


@pytest.mark.parametrize("split", [False, True])
def test_frame_above_the_limit(split: bool) -> None:
    f = Framer(max_frame=1000)
    data = struct.pack(">I", 1001) + b"x" * 10
    if split:
        assert f.feed(data[:3]) == []
        assert f.error is None
        assert f.feed(data[3:]) == []
    else:
        assert f.feed(data) == []
    e = f.error
    assert isinstance(e, FrameTooLarge)
    assert (e.size, e.limit) == (1001, 1000)
    assert isinstance(e, RemoteProtocolError)
    assert "1001" in str(e)
    assert f.buffered == 0  # the stream cannot be resynchronised: nothing is kept


def test_frames_before_an_oversized_frame_are_returned() -> None:
    f = Framer(max_frame=1000)
    data = frame(b"a") + frame(b"b" * 1000) + struct.pack(">I", 1001) + frame(b"after")
    assert f.feed(data) == [b"a", b"b" * 1000]
    assert isinstance(f.error, FrameTooLarge)


def test_stopped_framer_returns_nothing_more() -> None:
    f = Framer(max_frame=1000)
    f.feed(struct.pack(">I", 1001))
    error = f.error
    assert f.feed(frame(b"ok")) == []
    assert f.error is error
    assert f.buffered == 0


def test_no_error_on_good_frames() -> None:
    f = Framer(max_frame=1000)
    f.feed(STREAM)
    assert f.error is None


def test_length_checked_before_the_payload_arrives() -> None:
    f = Framer(max_frame=1000)
    assert f.feed(b"\xff\xff\xff\xff") == []  # no payload bytes needed to know it is too large
    assert isinstance(f.error, FrameTooLarge)
    assert f.error.size == 0xFFFFFFFF


def test_default_limit() -> None:
    f = Framer()
    f.feed(struct.pack(">I", MAX_FRAME + 1))
    assert isinstance(f.error, FrameTooLarge)
    assert f.error.limit == MAX_FRAME
    g = Framer()
    assert g.feed(struct.pack(">I", MAX_FRAME)) == []  # allowed, waits for the payload
    assert g.error is None
    assert g.buffered == 4


def test_reset() -> None:
    f = Framer()
    f.feed(b"\x00\x00\x00\x05ab")
    assert f.buffered == 6
    f.reset()
    assert f.buffered == 0
    assert f.feed(frame(b"ok")) == [b"ok"]


def test_reset_clears_the_error() -> None:
    f = Framer(max_frame=10)
    f.feed(struct.pack(">I", 11))
    f.reset()
    assert f.error is None
    assert f.feed(frame(b"ok")) == [b"ok"]


def test_many_small_frames_in_one_feed() -> None:
    payloads = [str(i).encode() for i in range(5000)]
    f = Framer()
    assert f.feed(b"".join(frame(p) for p in payloads)) == payloads
    assert f.buffered == 0
