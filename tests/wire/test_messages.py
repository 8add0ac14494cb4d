"""Every registered message: hypothesis round trip at every version gate, and golden bytes.

Strategies are derived generically from each layout's specs, so a new message is covered as
soon as it is registered; a new codec fails :func:`codec_strategy` loudly until it gets one.
"""

from __future__ import annotations

import enum
import math
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aiotws.wire  # noqa: F401 - registers every message
from aiotws.errors import InvalidField, UnsupportedByServer
from aiotws.model import TagValue
from aiotws.model import order as MO
from aiotws.wire import IN_MESSAGES, OUT_MESSAGES, In, Out, decode_in, decode_out, encode, frame
from aiotws.wire import fields as F
from aiotws.wire import messages as M
from aiotws.wire.codec import encode_payload
from aiotws.wire.layout import InMessage, Layout, Message, OutMessage, StructCodec
from aiotws.wire.messages import display as DG
from aiotws.wire.messages import orders as O
from aiotws.wire.messages import scanner as SC
from aiotws.wire.messages.market import Flagged
from aiotws.wire.versions import MAX_TEXT_VERSION, MIN_VERSION, SV

# -- strategies from layouts ------------------------------------------------------------------

_INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t\n\r")
_FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.just(math.inf)
_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)
_MS_DATETIMES = _DATETIMES.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def _decimal_ok(d: Any) -> bool:
    # an integral value spelled like a sentinel (2147483647) reads back as unset, by design
    return format(d, "f") not in F.UNSET_DECIMAL_FORMS


_SCALARS: dict[object, st.SearchStrategy[Any]] = {
    F.INT: _INT32,
    F.OPT_INT: st.none() | _INT32.filter(lambda n: n != F.UNSET_INTEGER),
    F.SENTINEL_INT: st.none() | _INT32.filter(lambda n: n != F.UNSET_INTEGER),
    F.FLOAT: _FLOATS,
    F.OPT_FLOAT: st.none() | _FLOATS.filter(lambda x: x != F.UNSET_DOUBLE),
    F.NAN_FLOAT: st.just(math.nan) | _FLOATS.filter(lambda x: x != F.UNSET_DOUBLE),
    F.DECIMAL: st.none() | st.decimals(allow_nan=False, allow_infinity=False).filter(_decimal_ok),
    F.BOOL: st.booleans(),
    F.STR: st.text(_PRINTABLE),
    F.TEXT: st.text().filter(lambda s: "\0" not in s),
    F.CSV: st.lists(
        st.text(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","),
            min_size=1,
        )
    ).map(tuple),
    F.EPOCH_S: _DATETIMES.map(lambda d: d.replace(microsecond=0)),
    F.EPOCH_MS: _MS_DATETIMES,
    # 0 ms is OPT_EPOCH_MS's "unset"
    F.OPT_EPOCH_MS: st.none()
    | _MS_DATETIMES.filter(lambda d: d != datetime(1970, 1, 1, tzinfo=UTC)),
    # orders (aiotws.wire.messages.orders)
    O.SENTINEL_FLOAT: st.none() | _FLOATS.filter(lambda x: x != F.UNSET_DOUBLE),
    O.OPT_BOOL: st.none() | st.booleans(),
    O.TAG_VALUE_STRING: st.lists(
        st.builds(
            TagValue,
            st.text(
                st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="=;"),
                min_size=1,
            ),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=";")),
        ),
        max_size=3,
    ),
    # scanners (aiotws.wire.messages.scanner): -1 is the wire form of None
    SC.ROWS: st.none() | _INT32.filter(lambda n: n not in (-1, F.UNSET_INTEGER)),
    # display groups and verify/auth (aiotws.wire.messages.display)
    DG.TRUE_FALSE: st.booleans(),
}

_STR = _SCALARS[F.STR]
_COND_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_CONJ = st.sampled_from(["and", "or"])
_CONDITIONS = st.one_of(
    st.builds(
        MO.PriceCondition,
        _COND_FLOATS,
        _INT32,
        _STR,
        st.booleans(),
        _INT32,
        conjunction=_CONJ,
    ),
    st.builds(MO.TimeCondition, _STR, st.booleans(), conjunction=_CONJ),
    st.builds(MO.MarginCondition, _COND_FLOATS, st.booleans(), conjunction=_CONJ),
    st.builds(MO.ExecutionCondition, _STR, _STR, _STR, conjunction=_CONJ),
    st.builds(MO.VolumeCondition, _INT32, _INT32, _STR, st.booleans(), conjunction=_CONJ),
    st.builds(
        MO.PercentChangeCondition, _COND_FLOATS, _INT32, _STR, st.booleans(), conjunction=_CONJ
    ),
)


def codec_strategy(codec: F.Codec[Any], version: int) -> st.SearchStrategy[Any]:
    """A strategy of values ``codec`` round-trips exactly; unknown codecs fail loudly."""
    if codec in _SCALARS:
        return _SCALARS[codec]
    if isinstance(codec, O.Const):
        return st.just(codec.text)
    if codec is O.CONDITION:
        return _CONDITIONS
    if isinstance(codec, F.ListOf):
        return st.lists(codec_strategy(codec.item, version), max_size=4)
    if isinstance(codec, StructCodec):
        return layout_strategy(codec.layout, version)
    if isinstance(codec, Flagged):
        return st.none() | codec_strategy(codec.item, version)
    if (
        isinstance(codec, F.Mapped)
        and isinstance(codec.load, type)
        and issubclass(codec.load, enum.Enum)
    ):
        return st.sampled_from(list(codec.load))
    raise LookupError(
        f"no hypothesis strategy for {codec!r}: add one to tests/wire/test_messages.py"
    )


def layout_strategy(layout: Layout, version: int) -> st.SearchStrategy[Any]:
    """Instances of ``layout.cls`` at ``version``: absent fields keep their defaults."""
    active = [(s, codec_strategy(s.codec, version)) for s in layout.specs if s.active(version)]

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        vals: dict[str, Any] = {}
        for spec, strategy in active:
            if spec.when is None or spec.when(vals):
                vals[spec.name] = draw(strategy)
        return layout.cls(**vals)

    return build()


def _gates(layout: Layout) -> Iterator[int | None]:
    yield layout.since
    yield layout.version_until
    for spec in layout.specs:
        yield spec.since
        yield spec.until
        codec: Any = spec.codec
        while isinstance(codec, F.ListOf):
            codec = codec.item
        if isinstance(codec, StructCodec):
            yield from _gates(codec.layout)


def gate_versions(layout: Layout) -> list[int]:
    """Every gate boundary and its neighbours within 157..200, plus both ends."""
    points = {MIN_VERSION, MAX_TEXT_VERSION}
    for gate in _gates(layout):
        if gate is not None:
            points.update(
                v for v in (gate - 1, gate, gate + 1) if MIN_VERSION <= v <= MAX_TEXT_VERSION
            )
    return sorted(points)


ALL_MESSAGES: list[type[Message]] = [*IN_MESSAGES.values(), *OUT_MESSAGES.values()]
CASES = [
    pytest.param(cls, v, id=f"{'in' if issubclass(cls, InMessage) else 'out'}-{cls.__name__}@{v}")
    for cls in ALL_MESSAGES
    for v in gate_versions(cls.LAYOUT)
    if v >= cls.LAYOUT.since
]
TOO_OLD = [
    pytest.param(cls, v, id=f"{cls.__name__}@{v}")
    for cls in ALL_MESSAGES
    for v in gate_versions(cls.LAYOUT)
    if v < cls.LAYOUT.since
]


def same(a: Any, b: Any) -> bool:
    return bool(a == b) or repr(a) == repr(b)  # repr: NaN compares unequal to itself


def decode_both(payload: bytes, version: int, cls: type[Message]) -> list[Message]:
    """``payload`` decoded leniently (the generated fast path) and strictly (the checked path)."""
    if issubclass(cls, InMessage):
        return [decode_in(payload, version), decode_in(payload, version, strict=True)]
    return [decode_out(payload, version, strict=False), decode_out(payload, version)]


# -- the registry -----------------------------------------------------------------------------


def test_registry_is_consistent() -> None:
    assert IN_MESSAGES and OUT_MESSAGES
    for registry, base, ids in ((IN_MESSAGES, InMessage, In), (OUT_MESSAGES, OutMessage, Out)):
        for msg_id, cls in registry.items():
            assert issubclass(cls, base), cls
            assert cls.MSG_ID == msg_id == cls.LAYOUT.msg_id
            assert cls.LAYOUT.cls is cls
            assert msg_id in {int(i) for i in ids}
            assert MIN_VERSION <= max(cls.LAYOUT.since, MIN_VERSION) <= MAX_TEXT_VERSION


def test_every_exported_message_is_registered() -> None:
    registered = set(ALL_MESSAGES)
    for name in M.__all__:
        assert getattr(M, name) in registered, name


def test_the_case_table_covers_every_message() -> None:
    covered = {p.values[0] for p in CASES}
    assert covered == set(ALL_MESSAGES)
    assert len(CASES) >= 2 * len(ALL_MESSAGES)


@pytest.mark.parametrize("cls", ALL_MESSAGES, ids=lambda c: c.__name__)
def test_every_codec_has_a_strategy(cls: type[Message]) -> None:
    for v in gate_versions(cls.LAYOUT):
        layout_strategy(cls.LAYOUT, v)  # raises LookupError for an unknown codec


def test_gate_versions_of_err_msg() -> None:
    assert gate_versions(M.ErrMsg.LAYOUT) == [157, 165, 166, 167, 193, 194, 195, 200]
    assert gate_versions(M.ReqCurrentTimeInMillis.LAYOUT) == [157, 196, 197, 198, 200]


# -- the round trip ---------------------------------------------------------------------------


# one property per (message, version): half the profile's examples each keeps the suite fast
# as messages are added; HYPOTHESIS_PROFILE=ci / thorough scales it up
@pytest.mark.parametrize(("cls", "version"), CASES)
@settings(max_examples=max(10, settings.default.max_examples // 2))
@given(data=st.data())
def test_roundtrip(cls: type[Message], version: int, data: st.DataObject) -> None:
    msg = data.draw(layout_strategy(cls.LAYOUT, version), label="message")
    wire = encode(msg, version)
    (size,) = struct.unpack(">I", wire[:4])
    assert size == len(wire) - 4
    payload = wire[4:]
    assert payload.startswith(f"{cls.MSG_ID}\0".encode())
    assert payload.endswith(b"\0")
    for got in decode_both(payload, version, cls):
        assert type(got) is cls
        assert same(got, msg), (got, msg)


@pytest.mark.parametrize(("cls", "version"), TOO_OLD)
def test_message_below_its_since_is_unsupported(cls: type[Message], version: int) -> None:
    msg = cls()  # messages gated by `since` take no required fields today
    with pytest.raises(UnsupportedByServer) as e:
        encode(msg, version)
    assert e.value.field is None
    assert e.value.needed == cls.LAYOUT.since


# -- golden bytes, both directions from one table ---------------------------------------------

FARM_OK = "Market data farm connection is OK:usfarm"
T_MS = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
T_S = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)

GOLDEN: list[tuple[Message, int, list[str]]] = [
    # (message, server version, fields after the id)
    (M.StartApi(18), 173, ["2", "18", ""]),
    (M.StartApi(1, "cap"), 200, ["2", "1", "cap"]),
    (M.ReqIds(), 176, ["1", "1"]),
    (M.ReqManagedAccts(), 157, ["1"]),
    (M.ReqCurrentTime(), 200, ["1"]),
    (M.ReqCurrentTimeInMillis(), 197, []),
    (M.SetServerLogLevel(5), 176, ["1", "5"]),
    (M.NextValidId(117), 176, ["1", "117"]),
    (M.ManagedAccts(("DU1234567",)), 176, ["1", "DU1234567"]),
    (M.ManagedAccts(("DU1", "DU2")), 200, ["1", "DU1,DU2"]),
    (M.ManagedAccts(()), 200, ["1", ""]),
    (M.CurrentTime(T_S), 176, ["1", "1700000000"]),
    (M.CurrentTimeInMillis(T_MS), 200, ["1700000000123"]),
    (M.ErrMsg(-1, 2104, FARM_OK), 157, ["2", "-1", "2104", FARM_OK]),
    (M.ErrMsg(7, 200, "No security definition"), 165, ["2", "7", "200", "No security definition"]),
    (M.ErrMsg(-1, 2104, FARM_OK), 166, ["2", "-1", "2104", FARM_OK, ""]),
    (M.ErrMsg(5, 201, "rejected", '{"x":1}'), 193, ["2", "5", "201", "rejected", '{"x":1}']),
    (M.ErrMsg(-1, 2104, FARM_OK, "", T_MS), 194, ["-1", "2104", FARM_OK, "", "1700000000123"]),
    (M.ErrMsg(3, 10167, "délai", "", None), 200, ["3", "10167", "d\\u00e9lai", "", "0"]),
]


def _payload(msg: Message, fields: list[str]) -> bytes:
    return "".join(f + "\0" for f in [str(msg.MSG_ID), *fields]).encode()


@pytest.mark.parametrize(
    ("msg", "version", "fields"),
    GOLDEN,
    ids=[f"{type(m).__name__}@{v}" for m, v, _ in GOLDEN],
)
def test_golden(msg: Message, version: int, fields: list[str]) -> None:
    payload = _payload(msg, fields)
    assert encode_payload(msg, version) == payload
    assert encode(msg, version) == frame(payload)
    for got in decode_both(payload, version, type(msg)):
        assert got == msg


def test_start_api_bytes_at_173() -> None:
    # PROTOCOL.md 1.4, rust-ibapi #233 trace
    expected = b"\x00\x00\x00\x09" + b"71\0" + b"2\0" + b"18\0" + b"\0"
    assert encode(M.StartApi(client_id=18), 173) == expected
    assert decode_out(expected[4:], 173) == M.StartApi(18)


@pytest.mark.parametrize(
    ("wire", "msg"),
    [
        (b"\x00\x00\x00\x0f15\x001\x00DU1234567\x00", M.ManagedAccts(("DU1234567",))),
        (b"\x00\x00\x00\x089\x001\x00117\x00", M.NextValidId(117)),
        (
            b"\x00\x00\x00\x39"
            b"4\x002\x00-1\x002104\x00"
            b"Market data farm connection is OK:usfarm.nj\x00\x00",
            M.ErrMsg(-1, 2104, "Market data farm connection is OK:usfarm.nj"),
        ),
    ],
    ids=["MANAGED_ACCTS", "NEXT_VALID_ID", "ERR_MSG"],
)
def test_captured_bytes_at_176(wire: bytes, msg: InMessage) -> None:
    # PROTOCOL.md 1.5, captured after START_API at server 176
    assert decode_in(wire[4:], 176) == msg
    assert encode(msg, 176) == wire


# decode-only: forms TWS sends that we never write
DECODE_ONLY: list[tuple[int, list[str], Message]] = [
    (176, ["15", "1", "DU1234567,"], M.ManagedAccts(("DU1234567",))),
    (176, ["15", "1", "DU1,DU2,"], M.ManagedAccts(("DU1", "DU2"))),
    (194, ["4", "-1", "2104", "x", "", ""], M.ErrMsg(-1, 2104, "x")),
    (194, ["4", "-1", "2104", "x", "", "1700000000123"], M.ErrMsg(-1, 2104, "x", "", T_MS)),
    (
        166,
        ["4", "2", "1", "2", "\\u4e2d\\u6587 \\ud83d\\ude00", "{\\u0022a\\u0022:1}"],
        M.ErrMsg(1, 2, "中文 😀", '{"a":1}'),
    ),
    (157, ["9", "1", ""], M.NextValidId(0)),  # an empty int reads as 0
]


@pytest.mark.parametrize(("version", "fields", "msg"), DECODE_ONLY)
def test_decode_only(version: int, fields: list[str], msg: InMessage) -> None:
    payload = "".join(f + "\0" for f in fields).encode()
    assert decode_in(payload, version) == msg
    assert decode_in(payload, version, strict=True) == msg


@pytest.mark.parametrize(
    ("msg", "version", "error", "field"),
    [
        (M.ReqCurrentTimeInMillis(), 196, UnsupportedByServer, None),
        (M.ReqCurrentTimeInMillis(), 157, UnsupportedByServer, None),
        (
            M.ErrMsg(1, 2, "x", advanced_order_reject_json="{}"),
            165,
            UnsupportedByServer,
            "advanced_order_reject_json",
        ),
        (M.ErrMsg(1, 2, "x", error_time=T_MS), 193, UnsupportedByServer, "error_time"),
        (M.StartApi(client_id=True), 176, InvalidField, "client_id"),  # type: ignore[arg-type]
        (M.StartApi(1, "é"), 176, InvalidField, "optional_capabilities"),
        (M.ErrMsg(1, 2, "a\0b"), 176, InvalidField, "text"),
        (M.ManagedAccts(("a,b",)), 176, InvalidField, "accounts"),
        (M.CurrentTime(datetime(2024, 1, 1)), 176, InvalidField, "time"),
    ],
)
def test_encode_errors(
    msg: Message, version: int, error: type[Exception], field: str | None
) -> None:
    with pytest.raises(error) as e:
        encode(msg, version)
    assert getattr(e.value, "field", None) == field
    assert getattr(e.value, "message", None) == type(msg).__name__


def test_req_current_time_in_millis_needs_197() -> None:
    assert SV.CURRENT_TIME_IN_MILLIS == 197
    assert encode(M.ReqCurrentTimeInMillis(), 197) == frame(b"105\0")
    with pytest.raises(UnsupportedByServer, match="needs server version 197"):
        encode(M.ReqCurrentTimeInMillis(), 196)


def test_err_msg_error_time_is_utc_ms() -> None:
    t = T_MS + timedelta(microseconds=999)  # sub-millisecond part is dropped
    payload = encode(M.ErrMsg(1, 2, "x", "", t), 200)[4:]
    got = decode_in(payload, 200)
    assert isinstance(got, M.ErrMsg)
    assert got.error_time == T_MS
    assert got.error_time is not None and got.error_time.tzinfo is not None
