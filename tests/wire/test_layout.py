"""The declarative layout mechanism, on test-only dataclasses (nothing is registered globally).

Classes live at module level so ``typing.get_type_hints`` can resolve their annotations.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.errors import InvalidField, MalformedMessage, UnsupportedByServer
from aiotws.wire import fields as F
from aiotws.wire.fields import FieldReader, FieldWriter
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import (
    IN_MESSAGES,
    OUT_MESSAGES,
    InMessage,
    Layout,
    OutMessage,
    StructCodec,
    message,
    since,
    struct,
    until,
    wire,
)


def enc(layout: Layout, obj: object, version: int) -> list[str]:
    w = FieldWriter(version)
    layout.write(obj, w)
    return w.out


def dec(layout: Layout, fields: list[str], version: int, strict: bool = False) -> Any:
    r = FieldReader(fields, 0, len(fields), version)
    obj = layout.read(r, strict)
    assert r.remaining == 0, f"{r.remaining} field(s) unread"
    return obj


def both(layout: Layout, obj: object, version: int, fields: list[str]) -> None:
    """Encode gives ``fields`` and decoding them gives ``obj`` back (one case, both ways)."""
    assert enc(layout, obj, version) == fields
    assert dec(layout, fields, version) == obj
    assert dec(layout, fields, version, strict=True) == obj


# -- version gates ----------------------------------------------------------------------------


@dataclass(slots=True)
class Gated:
    a: int
    b: str = since(170, "")
    c: float | None = until(180, None)
    d: int = wire(0, since=160, until=190)


GATED = Layout(Gated)


@pytest.mark.parametrize(
    ("version", "obj", "fields"),
    [
        (157, Gated(1, c=2.5), ["1", "2.5"]),
        (159, Gated(1), ["1", ""]),
        (160, Gated(1, d=4), ["1", "", "4"]),
        (169, Gated(1, c=0.5, d=4), ["1", "0.5", "4"]),
        (170, Gated(1, "x", 0.5, 4), ["1", "x", "0.5", "4"]),
        (179, Gated(1, "x", None, 4), ["1", "x", "", "4"]),
        (180, Gated(1, "x", d=4), ["1", "x", "4"]),
        (189, Gated(1, "x", d=4), ["1", "x", "4"]),
        (190, Gated(1, "x"), ["1", "x"]),
        (200, Gated(7, "y"), ["7", "y"]),
    ],
)
def test_since_until_gates(version: int, obj: Gated, fields: list[str]) -> None:
    both(GATED, obj, version, fields)


def test_fields_at_and_plan() -> None:
    assert [s.name for s in GATED.fields_at(157)] == ["a", "c"]
    assert [s.name for s in GATED.fields_at(170)] == ["a", "b", "c", "d"]
    assert [s.name for s in GATED.fields_at(195)] == ["a", "b"]
    assert [name for name, _, _ in GATED.plan(185)] == ["a", "b", "d"]
    assert GATED.plan(185) is GATED.plan(185)  # compiled once per version
    assert [s.name for s in GATED.specs] == ["a", "b", "c", "d"]


def test_spec_active_bounds() -> None:
    d = {s.name: s for s in GATED.specs}["d"]
    assert (d.since, d.until) == (160, 190)
    assert not d.active(159)
    assert d.active(160)
    assert d.active(189)
    assert not d.active(190)


def test_gated_out_field_with_default_is_skipped() -> None:
    assert enc(GATED, Gated(1, b="", c=None, d=0), 157) == ["1", ""]


@pytest.mark.parametrize(
    ("version", "obj", "field", "needed", "removed"),
    [
        (169, Gated(1, b="new"), "b", 170, False),
        (159, Gated(1, d=5), "d", 160, False),
        (190, Gated(1, d=5), "d", 190, True),
    ],
)
def test_non_default_value_in_gated_out_field(
    version: int, obj: Gated, field: str, needed: int, removed: bool
) -> None:
    with pytest.raises(UnsupportedByServer) as e:
        enc(GATED, obj, version)
    assert e.value.message == "Gated"
    assert e.value.field == field
    assert e.value.needed == needed
    assert e.value.removed is removed
    assert ("removed at" in str(e.value)) is removed
    assert e.value.version == version
    assert f"Gated.{field}" in str(e.value)


def test_non_default_value_in_removed_field() -> None:
    with pytest.raises(UnsupportedByServer) as e:
        enc(GATED, Gated(1, c=1.5), 180)
    assert e.value.field == "c"
    assert e.value.version == 180


# -- message-level version field and `since` --------------------------------------------------


@dataclass(slots=True)
class Versioned:
    req_id: int
    text: str = ""


VERSIONED = Layout(Versioned, msg_id=None, version=2, version_until=194)
ALWAYS_VERSIONED = Layout(Versioned, version=5)
LATE = Layout(Versioned, since=197)


@pytest.mark.parametrize(
    ("version", "fields"),
    [(157, ["2", "1", "hi"]), (193, ["2", "1", "hi"]), (194, ["1", "hi"]), (200, ["1", "hi"])],
)
def test_version_field_until(version: int, fields: list[str]) -> None:
    both(VERSIONED, Versioned(1, "hi"), version, fields)
    assert VERSIONED.has_version_field(version) is (version < 194)


def test_version_field_without_until_is_always_there() -> None:
    both(ALWAYS_VERSIONED, Versioned(1), 200, ["5", "1", ""])
    assert not GATED.has_version_field(157)


def test_version_field_strict_check() -> None:
    # lenient: TWS's version value is not ours to judge
    assert dec(VERSIONED, ["3", "1", "x"], 157) == Versioned(1, "x")
    with pytest.raises(MalformedMessage) as e:
        dec(VERSIONED, ["3", "1", "x"], 157, strict=True)
    assert e.value.message == "Versioned"
    assert e.value.field == "version"
    assert "must be 2" in e.value.reason


def test_missing_version_field() -> None:
    with pytest.raises(MalformedMessage) as e:
        dec(VERSIONED, [], 157)
    assert e.value.field == "version"


def test_message_since() -> None:
    with pytest.raises(UnsupportedByServer) as e:
        enc(LATE, Versioned(1), 196)
    assert e.value.message == "Versioned"
    assert e.value.field is None
    assert (e.value.needed, e.value.version) == (197, 196)
    assert "needs server version 197" in str(e.value)
    assert enc(LATE, Versioned(1), 197) == ["1", ""]


def test_layout_attributes() -> None:
    layout = Layout(Versioned, msg_id=42, version=1, version_until=180, since=160)
    assert (layout.name, layout.msg_id, layout.version, layout.version_until, layout.since) == (
        "Versioned",
        42,
        1,
        180,
        160,
    )
    assert layout.cls is Versioned


# -- conditions -------------------------------------------------------------------------------


@dataclass(slots=True)
class Cond:
    kind: int
    extra: str = wire("", when=lambda v: v["kind"] == 2)
    more: list[int] = wire(
        default_factory=list, when=lambda v: len(v) > 0 and v.get("extra") == "x"
    )
    tail: int = 0


COND = Layout(Cond)


@pytest.mark.parametrize(
    ("obj", "fields"),
    [
        (Cond(1, tail=5), ["1", "5"]),
        (Cond(2, "y", tail=5), ["2", "y", "5"]),
        (Cond(2, "x", [3, 4], 5), ["2", "x", "2", "3", "4", "5"]),
        (Cond(2, "x", [], 0), ["2", "x", "0", "0"]),
    ],
)
def test_when_condition(obj: Cond, fields: list[str]) -> None:
    both(COND, obj, 200, fields)


def test_when_condition_sees_only_earlier_fields_on_decode() -> None:
    seen: list[dict[str, Any]] = []

    @dataclass(slots=True)
    class Spy:
        a: int
        b: int = wire(0, when=lambda v: bool(seen.append(dict(v))) or True)
        c: int = 0

    assert dec(Layout(Spy), ["1", "2", "3"], 200) == Spy(1, 2, 3)
    assert seen == [{"a": 1}]


# -- errors naming the message and the field --------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (Gated(True), "a"),  # type: ignore[arg-type]
        (Gated(1, b="é"), "b"),
        (Gated(1, c=float("nan")), "c"),
        (Gated("1"), "a"),  # type: ignore[arg-type]
    ],
)
def test_invalid_field_names_message_and_field(obj: Gated, field: str) -> None:
    with pytest.raises(InvalidField) as e:
        enc(GATED, obj, 175)
    assert e.value.message == "Gated"
    assert e.value.field == field
    assert e.value.value is getattr(obj, field)
    assert str(e.value).startswith(f"Gated.{field}: ")
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (["x", "s", "1.0", "2"], "a"),
        (["1", "s", "bad", "2"], "c"),
        (["1", "s", "1.0", "2.5"], "d"),
        ([], "a"),
        (["1"], "b"),
        (["1", "s", "1.0"], "d"),
    ],
)
def test_malformed_message_names_the_field(fields: list[str], field: str) -> None:
    with pytest.raises(MalformedMessage) as e:
        GATED.read(FieldReader(fields, 0, len(fields), 175))
    assert e.value.message == "Gated"
    assert e.value.field == field
    assert str(e.value).startswith(f"Gated.{field}: ")


def test_malformed_message_for_missing_field_says_so() -> None:
    with pytest.raises(MalformedMessage, match="missing"):
        dec(GATED, ["1"], 175)


# -- nested structs and lists of structs ------------------------------------------------------


@dataclass(slots=True)
class Leg:
    con_id: int
    ratio: int
    action: str = since(170, "BUY")


@dataclass(slots=True)
class Combo:
    name: str
    main: Leg = wire(codec=StructCodec(Leg))
    legs: list[Leg] = wire(default_factory=list, codec=F.ListOf(StructCodec(Leg)))
    qty: Decimal | None = None


COMBO = Layout(Combo, version=3)


@pytest.mark.parametrize(
    ("version", "obj", "fields"),
    [
        (157, Combo("c", Leg(1, 2)), ["3", "c", "1", "2", "0", ""]),
        (
            170,
            Combo("c", Leg(1, 2, "SELL"), [Leg(3, 1), Leg(4, 2, "SELL")], Decimal("1.5")),
            ["3", "c", "1", "2", "SELL", "2", "3", "1", "BUY", "4", "2", "SELL", "1.5"],
        ),
        (
            169,
            Combo("c", Leg(1, 2), [Leg(3, 1)], Decimal(100)),
            ["3", "c", "1", "2", "1", "3", "1", "100"],
        ),
    ],
)
def test_nested_struct_and_list_of_structs(version: int, obj: Combo, fields: list[str]) -> None:
    both(COMBO, obj, version, fields)


def test_nested_malformed_names_outer_and_inner_field() -> None:
    fields = ["3", "c", "1", "2", "SELL", "1", "3", "x", "BUY", ""]
    with pytest.raises(MalformedMessage) as e:
        dec(COMBO, fields, 170)
    assert e.value.message == "Combo"
    assert e.value.field == "legs"
    assert e.value.reason.startswith("ratio: ")


def test_nested_invalid_field_names_outer_and_inner_field() -> None:
    with pytest.raises(InvalidField) as e:
        enc(COMBO, Combo("c", Leg(1, 2), [Leg(3, True)]), 170)  # type: ignore[arg-type]
    assert e.value.message == "Combo"
    assert e.value.field == "legs"
    assert e.value.reason.startswith("ratio: ")


def test_nested_gated_out_value_is_unsupported() -> None:
    with pytest.raises(UnsupportedByServer) as e:
        enc(COMBO, Combo("c", Leg(1, 2, "SELL")), 169)
    assert e.value.field == "action"
    assert e.value.needed == 170


def test_list_of_structs_count_bound() -> None:
    with pytest.raises(MalformedMessage, match="list count"):
        dec(COMBO, ["3", "c", "1", "2", "9", "1"], 169)


@struct
@dataclass(slots=True)
class Point:
    x: int
    y: int


@dataclass(slots=True)
class Shape:
    origin: Point
    points: list[Point]


def test_struct_decorator_makes_annotation_usable() -> None:
    layout = Layout(Shape)
    codecs = {s.name: s.codec for s in layout.specs}
    assert isinstance(codecs["origin"], StructCodec)
    assert isinstance(codecs["points"], F.ListOf)
    both(layout, Shape(Point(0, 1), [Point(2, 3)]), 200, ["0", "1", "1", "2", "3"])


# -- enums ------------------------------------------------------------------------------------


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Level(enum.IntEnum):
    ERROR = 2
    DETAIL = 5


@dataclass(slots=True)
class WithEnums:
    side: Side
    level: Level = Level.ERROR


ENUMS = Layout(WithEnums)


def test_enum_fields() -> None:
    both(ENUMS, WithEnums(Side.SELL, Level.DETAIL), 200, ["SELL", "5"])
    got = dec(ENUMS, ["BUY", "2"], 200)
    assert type(got.side) is Side
    assert type(got.level) is Level


@pytest.mark.parametrize(("fields", "field"), [(["HOLD", "2"], "side"), (["BUY", "3"], "level")])
def test_enum_unknown_value_is_malformed(fields: list[str], field: str) -> None:
    with pytest.raises(MalformedMessage) as e:
        dec(ENUMS, fields, 200)
    assert e.value.field == field


# -- codec inference --------------------------------------------------------------------------


@dataclass(slots=True)
class Inferred:
    i: int
    f: float
    b: bool
    s: str
    csv: tuple[str, ...]
    oi: int | None
    of: Optional[float]  # noqa: UP045 - the typing.Optional spelling must work too
    d: Decimal | None
    li: list[int]
    t: datetime = wire(codec=F.EPOCH_S)


def test_codec_inference() -> None:
    codecs = {s.name: s.codec for s in Layout(Inferred).specs}
    assert codecs["i"] is F.INT
    assert codecs["f"] is F.FLOAT
    assert codecs["b"] is F.BOOL
    assert codecs["s"] is F.STR
    assert codecs["csv"] is F.CSV
    assert codecs["oi"] is F.OPT_INT
    assert codecs["of"] is F.OPT_FLOAT
    assert codecs["d"] is F.DECIMAL
    assert isinstance(codecs["li"], F.ListOf)
    assert codecs["li"].item is F.INT
    assert codecs["t"] is F.EPOCH_S
    obj = Inferred(
        1,
        2.5,
        True,
        "s",
        ("a", "b"),
        None,
        0.5,
        Decimal("0.1"),
        [1],
        datetime(2024, 1, 1, tzinfo=UTC),
    )
    both(
        Layout(Inferred),
        obj,
        200,
        ["1", "2.5", "1", "s", "a,b", "", "0.5", "0.1", "1", "1", "1704067200"],
    )


@dataclass(slots=True)
class NakedDatetime:
    t: datetime


@dataclass(slots=True)
class OptionalStr:
    s: str | None


@dataclass(slots=True)
class UnionIntStr:
    v: int | str


@dataclass(slots=True)
class DictField:
    v: dict[str, int]


class Plain(enum.Enum):
    A = 1


@dataclass(slots=True)
class PlainEnum:
    v: Plain


@dataclass(slots=True)
class BareDecimal:
    v: Decimal


@dataclass(slots=True)
class GatedNoDefault:
    v: int = wire(since=170)


@dataclass(slots=True)
class ConditionNoDefault:
    v: int = wire(when=lambda _: True)


@pytest.mark.parametrize(
    ("cls", "match"),
    [
        (NakedDatetime, "NakedDatetime.t: datetime needs an explicit codec"),
        (OptionalStr, "OptionalStr.s: no codec"),
        (UnionIntStr, "UnionIntStr.v: no codec"),
        (DictField, "DictField.v: no codec"),
        (PlainEnum, "PlainEnum.v: no codec"),
        (BareDecimal, "BareDecimal.v: no codec"),
        (GatedNoDefault, "GatedNoDefault.v: a gated field needs a default"),
        (ConditionNoDefault, "ConditionNoDefault.v: a gated field needs a default"),
    ],
)
def test_codec_inference_errors(cls: type, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        _ = Layout(cls).specs


def test_explicit_codec_wins_over_annotation() -> None:
    @dataclass(slots=True)
    class Explicit:
        v: str = wire("", codec=F.TEXT)

    (spec,) = Layout(Explicit).specs
    assert spec.codec is F.TEXT


# -- defaults ---------------------------------------------------------------------------------


def test_default_factory_field() -> None:
    @dataclass(slots=True)
    class WithList:
        a: int
        tags: list[str] = since(180, default_factory=list)

    layout = Layout(WithList)
    (_, tags) = layout.specs
    assert tags.default_value() == []
    assert tags.default_value() is not tags.default_value()
    assert tags.is_default([])
    assert not tags.is_default(["x"])
    both(layout, WithList(1), 179, ["1"])
    both(layout, WithList(1, ["x"]), 180, ["1", "1", "x"])
    assert dec(layout, ["1"], 179).tags == []
    with pytest.raises(UnsupportedByServer):
        enc(layout, WithList(1, ["x"]), 179)


def test_absent_field_decodes_to_its_default() -> None:
    # b and d are not on the wire at 157: they decode to their defaults
    assert dec(GATED, ["1", ""], 157) == Gated(1, "", None, 0)


# -- @message registration guards (error paths only: nothing is registered) -------------------


def test_message_decorator_guards() -> None:
    before_in, before_out = dict(IN_MESSAGES), dict(OUT_MESSAGES)

    class NotADataclass(InMessage):
        __slots__ = ()

    @dataclass(slots=True)
    class AnIn(InMessage):
        x: int = 0

    @dataclass(slots=True)
    class AnOut(OutMessage):
        x: int = 0

    with pytest.raises(TypeError, match="@dataclass"):
        message(In.TICK_PRICE)(NotADataclass)
    with pytest.raises(TypeError, match="InMessage"):
        message(In.ERR_MSG)(AnOut)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="OutMessage"):
        message(Out.START_API)(AnIn)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="registered twice"):
        message(In.ERR_MSG)(AnIn)
    with pytest.raises(ValueError, match="registered twice"):
        message(Out.START_API)(AnOut)
    assert (before_in, before_out) == (IN_MESSAGES, OUT_MESSAGES)


# -- the generated fast decoder ---------------------------------------------------------------


def test_fast_reader_exists_for_all_scalar_layouts() -> None:
    fast = GATED.fast_reader(170)
    assert fast is not None
    fn, n = fast
    assert n == 4
    assert fn(["<id>", "1", "x", "0.5", "4"], 1) == Gated(1, "x", 0.5, 4)
    assert GATED.fast_reader(170) is fast  # generated once per version


def test_fast_reader_skips_the_version_field_and_uses_keywords_for_gaps() -> None:
    fast = VERSIONED.fast_reader(157)
    assert fast is not None
    assert fast[1] == 3
    assert fast[0](["<id>", "2", "7", "hi"], 1) == Versioned(7, "hi")
    fast = GATED.fast_reader(185)  # a, b, d active: c is skipped, so keywords are needed
    assert fast is not None
    assert fast[0](["<id>", "1", "x", "4"], 1) == Gated(1, "x", None, 4)


def test_fast_reader_handles_enums_and_empty_layouts() -> None:
    fast = ENUMS.fast_reader(200)
    assert fast is not None
    assert fast[0](["<id>", "SELL", "5"], 1) == WithEnums(Side.SELL, Level.DETAIL)

    @dataclass(slots=True)
    class Empty:
        pass

    fast = Layout(Empty, version=1).fast_reader(200)
    assert fast is not None
    assert fast[1] == 1
    assert fast[0](["<id>", "1"], 1) == Empty()


@pytest.mark.parametrize("layout", [COND, COMBO, Layout(Shape)], ids=["when", "struct", "list"])
def test_no_fast_reader_for_conditions_and_composites(layout: Layout) -> None:
    assert layout.fast_reader(200) is None


_FIELD_TEXT = st.sampled_from(
    ["", "0", "1", "-1", "2", "5", "x", "BUY", "SELL", "1.5", "Infinity", "Infinite", "inf",
     "nan", " 3", "1_0", "2147483647", "1.7976931348623157E308", "\\u00e9", "é"]
)  # fmt: skip


@pytest.mark.parametrize("layout", [GATED, VERSIONED, ENUMS], ids=lambda lay: lay.name)
@pytest.mark.parametrize("version", [157, 165, 175, 185, 195])
@given(fields=st.lists(_FIELD_TEXT, max_size=6))
def test_fast_reader_agrees_with_checked_path(
    layout: Layout, version: int, fields: list[str]
) -> None:
    """Where the generated decoder succeeds it must give what the checked path gives."""
    fast = layout.fast_reader(version)
    assert fast is not None
    fn, n = fast
    try:
        expected = layout.read(FieldReader(["<id>", *fields], 1, 1 + len(fields), version))
    except MalformedMessage:
        expected = None
    if len(fields) < n:
        return  # the codec never calls the fast path without enough fields
    try:
        got = fn(["<id>", *fields], 1)
    except Exception:
        return  # the codec falls back to the checked path
    assert repr(got) == repr(expected)  # repr: NaN compares unequal to itself
