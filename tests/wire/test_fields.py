"""Field codecs (PROTOCOL.md section 3): each codec's read and write, sentinels, formatting."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.wire import fields as F
from aiotws.wire.fields import FieldError, FieldReader, FieldWriter

V = 200


def read(codec: F.Codec[Any], *fields: str) -> Any:
    """Read one value from ``fields``; every field must be consumed."""
    r = FieldReader(list(fields), 0, len(fields), V)
    value = codec.read(r)
    assert r.remaining == 0, f"{codec!r} left {r.remaining} field(s) unread"
    return value


def write(codec: F.Codec[Any], value: Any) -> list[str]:
    w = FieldWriter(V)
    codec.write(w, value)
    return w.out


def roundtrip(codec: F.Codec[Any], value: Any) -> Any:
    return read(codec, *write(codec, value))


# -- FieldReader / FieldWriter ----------------------------------------------------------------


def test_reader_reads_left_to_right_and_reports_missing_field() -> None:
    r = FieldReader(["9", "1", "42", ""], 1, 3, V)
    assert r.remaining == 2
    assert r.next() == "1"
    assert r.next() == "42"
    assert r.remaining == 0
    with pytest.raises(FieldError, match="missing"):
        r.next()


def test_writer_keeps_version() -> None:
    w = FieldWriter(176)
    assert w.version == 176
    assert w.out == []


def test_codec_repr_names_the_type() -> None:
    assert repr(F.INT) == "<codec int>"
    assert "Decimal" in repr(F.DECIMAL)


def test_base_codec_is_abstract() -> None:
    c: F.Codec[int] = F.Codec("x")
    with pytest.raises(NotImplementedError):
        c.read(FieldReader(["1"], 0, 1, V))
    with pytest.raises(NotImplementedError):
        c.write(FieldWriter(V), 1)


# -- INT / OPT_INT ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-1", -1),
        ("", 0),
        ("2147483647", 2147483647),
        ("-2147483648", -(2**31)),
    ],
)
def test_int_read(text: str, value: int) -> None:
    assert read(F.INT, text) == value


@pytest.mark.parametrize("text", ["x", "1.5", "1e3", "--1"])
def test_int_read_rejects_non_integers(text: str) -> None:
    with pytest.raises(FieldError, match="not an integer"):
        read(F.INT, text)


@pytest.mark.parametrize(("value", "text"), [(0, "0"), (42, "42"), (-1, "-1"), (2**40, str(2**40))])
def test_int_write(value: int, text: str) -> None:
    assert write(F.INT, value) == [text]


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None, Decimal(1)])
def test_int_write_rejects_non_int(value: object) -> None:
    with pytest.raises(FieldError, match="expected int"):
        write(F.INT, value)


def test_int_write_accepts_int_enum() -> None:
    import enum

    class Level(enum.IntEnum):
        ERROR = 2

    assert write(F.INT, Level.ERROR) == ["2"]


@pytest.mark.parametrize("text", ["", "2147483647", "9223372036854775807"])
def test_opt_int_unset_forms_read_as_none(text: str) -> None:
    assert read(F.OPT_INT, text) is None


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("-5", -5), ("2147483646", 2147483646)])
def test_opt_int_read_value(text: str, value: int) -> None:
    assert read(F.OPT_INT, text) == value


def test_opt_int_write() -> None:
    assert write(F.OPT_INT, None) == [""]
    assert write(F.OPT_INT, 7) == ["7"]
    with pytest.raises(FieldError):
        write(F.OPT_INT, True)
    with pytest.raises(FieldError, match="not an integer"):
        read(F.OPT_INT, "abc")


@given(st.integers(min_value=-(2**63), max_value=2**63 - 2).filter(lambda n: n != F.UNSET_INTEGER))
def test_opt_int_roundtrip(n: int) -> None:
    assert roundtrip(F.OPT_INT, n) == n


# -- FLOAT / OPT_FLOAT / NAN_FLOAT -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (150.0, "150.0"),
        (1e-05, "1e-05"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.0, "0.0"),
        (-2.5, "-2.5"),
        (1e22, "1e+22"),
        (3, "3.0"),  # an int is sent as a float
        (math.inf, "Infinity"),
    ],
)
def test_format_float_like_python_str(value: float, text: str) -> None:
    assert F.format_float(value) == text
    assert write(F.FLOAT, value) == [text]


@pytest.mark.parametrize("value", [math.nan, -math.inf])
def test_format_float_rejects_nan_and_negative_infinity(value: float) -> None:
    with pytest.raises(FieldError):
        F.format_float(value)
    with pytest.raises(FieldError):
        write(F.FLOAT, value)


@pytest.mark.parametrize("value", ["1.0", None, True, Decimal("1.5")])
def test_float_write_rejects_non_numbers(value: object) -> None:
    with pytest.raises(FieldError, match="expected float"):
        write(F.FLOAT, value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("185.5", 185.5),
        ("0.0", 0.0),
        ("1.0E-4", 1.0e-4),  # Java Double.toString
        ("1.7976931348623157E308", F.UNSET_DOUBLE),  # FLOAT keeps the sentinel as a number
        ("Infinity", math.inf),
        ("Infinite", math.inf),  # ib_async's spelling
        ("inf", math.inf),
        ("-1", -1.0),
        ("", 0.0),
    ],
)
def test_float_read_java_forms(text: str, value: float) -> None:
    assert read(F.FLOAT, text) == value


def test_float_read_rejects_garbage() -> None:
    with pytest.raises(FieldError, match="not a number"):
        read(F.FLOAT, "1,5")


@given(st.floats(allow_nan=False) | st.just(math.inf))
def test_float_roundtrip(x: float) -> None:
    if x == -math.inf:
        return  # not sendable; covered by test_format_float_rejects_nan_and_negative_infinity
    assert roundtrip(F.FLOAT, x) == x


@pytest.mark.parametrize("text", ["", "1.7976931348623157E308", "1.7976931348623157e+308"])
def test_opt_float_unset_forms_read_as_none(text: str) -> None:
    assert read(F.OPT_FLOAT, text) is None


def test_opt_float_read_and_write() -> None:
    assert read(F.OPT_FLOAT, "1.0E-4") == 1e-4
    assert read(F.OPT_FLOAT, "Infinity") == math.inf
    assert write(F.OPT_FLOAT, None) == [""]
    assert write(F.OPT_FLOAT, 2.5) == ["2.5"]
    with pytest.raises(FieldError):
        write(F.OPT_FLOAT, math.nan)


@pytest.mark.parametrize("text", ["", "1.7976931348623157E308"])
def test_nan_float_unset_forms_read_as_nan(text: str) -> None:
    assert math.isnan(read(F.NAN_FLOAT, text))


def test_nan_float_read_value_and_write() -> None:
    assert read(F.NAN_FLOAT, "0.5") == 0.5
    assert write(F.NAN_FLOAT, math.nan) == [""]
    assert write(F.NAN_FLOAT, 0.5) == ["0.5"]
    assert write(F.NAN_FLOAT, math.inf) == ["Infinity"]


def test_nan_float_write_rejects_non_numbers_with_field_error() -> None:
    # the NaN check must not run before the type check (math.isnan("x") is a TypeError)
    with pytest.raises(FieldError):
        write(F.NAN_FLOAT, "1.5")


def test_float_write_rejects_huge_int_with_field_error() -> None:
    with pytest.raises(FieldError):
        write(F.FLOAT, 10**400)


# -- DECIMAL ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", sorted(F.UNSET_DECIMAL_FORMS))
def test_decimal_unset_forms_read_as_none(text: str) -> None:
    assert read(F.DECIMAL, text) is None


def test_unset_decimal_forms_are_the_documented_ones() -> None:
    assert {
        "",
        "2147483647",
        "9223372036854775807",
        "-9223372036854775808",
        "1.7976931348623157E308",
    } == F.UNSET_DECIMAL_FORMS


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100", Decimal(100)),
        ("0.5", Decimal("0.5")),
        ("1000.00", Decimal("1000.00")),
        ("-3", Decimal(-3)),
    ],
)
def test_decimal_read(text: str, value: Decimal) -> None:
    got = read(F.DECIMAL, text)
    assert isinstance(got, Decimal)
    assert got == value
    assert str(got) == text  # exact, no float on the way


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", "-Infinity", "sNaN"])
def test_decimal_read_rejects_non_finite_and_garbage(text: str) -> None:
    with pytest.raises(FieldError, match="decimal"):
        read(F.DECIMAL, text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("100"), "100"),
        (Decimal("0.5"), "0.5"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-2.50"), "-2.50"),
        (Decimal("12345678901234567890.123"), "12345678901234567890.123"),
    ],
)
def test_decimal_write_plain_notation(value: Decimal, text: str) -> None:
    assert F.format_decimal(value) == text
    assert write(F.DECIMAL, value) == [text]
    assert "E" not in text and "e" not in text


def test_decimal_write_none_and_bad_values() -> None:
    assert write(F.DECIMAL, None) == [""]
    for bad in (Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(FieldError):
            write(F.DECIMAL, bad)
    with pytest.raises(FieldError, match="expected Decimal"):
        write(F.DECIMAL, 1.5)


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12
    )
)
def test_decimal_roundtrip(d: Decimal) -> None:
    # an integral value equal to a sentinel (2147483647 shares) reads back as unset by design
    if format(d, "f") in F.UNSET_DECIMAL_FORMS:
        return
    assert roundtrip(F.DECIMAL, d) == d


# -- BOOL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("0", False), ("", False), ("-1", True), ("2", True)]
)
def test_bool_read(text: str, value: bool) -> None:
    assert read(F.BOOL, text) is value


def test_bool_write_and_bad_read() -> None:
    assert write(F.BOOL, True) == ["1"]
    assert write(F.BOOL, False) == ["0"]
    with pytest.raises(FieldError):
        read(F.BOOL, "true")


# -- STR / TEXT -------------------------------------------------------------------------------


def test_str_read_keeps_text_as_is() -> None:
    assert read(F.STR, "é \\u00e9") == "é \\u00e9"
    assert read(F.STR, "") == ""


@pytest.mark.parametrize("value", ["", "AAPL", "a b\tc\nd\re", '~!@#$%^&*()_+{}|:"<>?'])
def test_str_write_printable_ascii(value: str) -> None:
    assert write(F.STR, value) == [value]


@pytest.mark.parametrize("value", ["\0", "a\x01", "\x7f", "é", "日本", "😀", "\x1b[0m"])
def test_str_write_rejects_non_printable_and_non_ascii(value: str) -> None:
    with pytest.raises(FieldError, match="printable ASCII"):
        write(F.STR, value)


def test_str_write_rejects_non_str() -> None:
    with pytest.raises(FieldError, match="expected str"):
        write(F.STR, 5)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain", "plain"),
        ("é", "\\u00e9"),
        ("Ünïcödé", "\\u00dcn\\u00efc\\u00f6d\\u00e9"),
        ("中国", "\\u4e2d\\u56fd"),
        ("😀", "\\ud83d\\ude00"),  # astral: a UTF-16 surrogate pair
        ("a😀b𝄞", "a\\ud83d\\ude00b\\ud834\\udd1e"),
        ("C:\\dir", "C:\\u005cdir"),  # a backslash is escaped too: unescaping is unambiguous
    ],
)
def test_text_escape_both_directions(text: str, escaped: str) -> None:
    assert F.escape_text(text) == escaped
    assert F.unescape_text(escaped) == text
    assert write(F.TEXT, text) == [escaped]
    assert read(F.TEXT, escaped) == text


def test_unescape_accepts_upper_case_hex() -> None:
    assert F.unescape_text("\\u00C9\\uD83D\\uDE00") == "É😀"


@pytest.mark.parametrize(
    "text",
    ["C:\\path\\to\\file", "a\\b", "\\", "\\u", "\\u12", "\\uXYZW", "ends with \\", "\\n\\t"],
)
def test_unescape_leaves_other_backslashes_alone(text: str) -> None:
    assert F.unescape_text(text) == text
    assert read(F.TEXT, text) == text


def test_text_reads_escapes_next_to_real_backslashes() -> None:
    assert read(F.TEXT, "C:\\dir\\u00e9") == "C:\\dir\u00e9"


def test_text_write_rejects_nul_and_non_str() -> None:
    with pytest.raises(FieldError, match="NUL"):
        write(F.TEXT, "a\0b")
    with pytest.raises(FieldError, match="expected str"):
        write(F.TEXT, b"bytes")


@given(st.text().filter(lambda s: "\0" not in s))
def test_text_roundtrip(s: str) -> None:
    out = write(F.TEXT, s)
    assert out[0].isascii()
    assert read(F.TEXT, *out) == s


@pytest.mark.parametrize(
    "s", ["\\u00e9", "path\\u0041x", "\\ud83d\\ude00", "C:\\dir\\", "\\\\u0041"]
)
def test_text_roundtrip_literal_backslash_u(s: str) -> None:
    # a literal backslash is written as \u005c, so text that looks like an escape survives
    out = write(F.TEXT, s)
    assert "\\" not in out[0].replace("\\u", "")
    assert read(F.TEXT, *out) == s


# -- CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DU1234567,", ("DU1234567",)),  # TWS's trailing comma
        ("DU1,DU2", ("DU1", "DU2")),
        ("DU1,,DU2,", ("DU1", "DU2")),
        ("", ()),
        (",", ()),
    ],
)
def test_csv_read_drops_empty_entries(text: str, value: tuple[str, ...]) -> None:
    assert read(F.CSV, text) == value


def test_csv_write() -> None:
    assert write(F.CSV, ("DU1", "DU2")) == ["DU1,DU2"]
    assert write(F.CSV, ()) == [""]
    with pytest.raises(FieldError, match="comma"):
        write(F.CSV, ("a,b",))
    with pytest.raises(FieldError, match="printable ASCII"):
        write(F.CSV, ("é",))


_CSV_ITEM = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
)


@given(st.lists(_CSV_ITEM).map(tuple))
def test_csv_roundtrip(items: tuple[str, ...]) -> None:
    assert roundtrip(F.CSV, items) == items


# -- EPOCH_S / EPOCH_MS / OPT_EPOCH_MS -------------------------------------------------------


def test_epoch_s_read_is_utc_aware() -> None:
    got = read(F.EPOCH_S, "1700000000")
    assert got == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert got.tzinfo is not None
    assert got.utcoffset() == timedelta(0)
    assert read(F.EPOCH_S, "") == datetime(1970, 1, 1, tzinfo=UTC)


def test_epoch_ms_read_is_utc_aware() -> None:
    got = read(F.EPOCH_MS, "1700000000123")
    assert got == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)


def test_epoch_write_converts_any_zone_to_epoch() -> None:
    t = datetime(2023, 11, 14, 17, 13, 20, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert write(F.EPOCH_S, t) == ["1700000000"]
    assert write(F.EPOCH_MS, t) == ["1700000000123"]  # sub-millisecond part floored


@pytest.mark.parametrize("codec", [F.EPOCH_S, F.EPOCH_MS, F.OPT_EPOCH_MS])
def test_epoch_write_rejects_naive_datetime(codec: F.Codec[Any]) -> None:
    with pytest.raises(FieldError, match="aware"):
        write(codec, datetime(2024, 1, 1))
    with pytest.raises(FieldError):
        write(codec, 1700000000)


@pytest.mark.parametrize("codec", [F.EPOCH_S, F.EPOCH_MS])
@pytest.mark.parametrize("text", ["abc", "1.5", str(10**30)])
def test_epoch_read_rejects_bad_values(codec: F.Codec[Any], text: str) -> None:
    with pytest.raises(FieldError):
        read(codec, text)


def test_opt_epoch_ms() -> None:
    assert read(F.OPT_EPOCH_MS, "0") is None
    assert read(F.OPT_EPOCH_MS, "") is None
    assert read(F.OPT_EPOCH_MS, "1700000000123") == datetime(
        2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC
    )
    assert write(F.OPT_EPOCH_MS, None) == ["0"]
    with pytest.raises(FieldError, match="missing"):
        F.OPT_EPOCH_MS.read(FieldReader([], 0, 0, V))


_UTC_DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)


@given(_UTC_DATETIMES.map(lambda d: d.replace(microsecond=0)))
def test_epoch_s_roundtrip(d: datetime) -> None:
    assert roundtrip(F.EPOCH_S, d) == d


@given(_UTC_DATETIMES.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)))
def test_epoch_ms_roundtrip(d: datetime) -> None:
    assert roundtrip(F.EPOCH_MS, d) == d


@pytest.mark.parametrize(
    "d",
    [
        datetime(5333, 6, 25, 11, 35, 42, 80000, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_epoch_ms_read_is_exact_far_from_1970(d: datetime) -> None:
    # integer arithmetic: a float division would be microseconds off this far out
    assert roundtrip(F.EPOCH_MS, d) == d


# -- ListOf / Mapped --------------------------------------------------------------------------


def test_list_of_read_and_write() -> None:
    codec = F.ListOf(F.INT)
    assert codec.name == "list[int]"
    assert read(codec, "3", "1", "2", "3") == [1, 2, 3]
    assert read(codec, "0") == []
    assert read(codec, "") == []  # empty count reads as 0
    assert write(codec, [4, 5]) == ["2", "4", "5"]
    assert write(codec, []) == ["0"]


@pytest.mark.parametrize("fields", [["-1"], ["2", "1"], ["5", "1", "2"], ["99999999999"]])
def test_list_of_count_out_of_bounds(fields: list[str]) -> None:
    with pytest.raises(FieldError, match="list count"):
        read(F.ListOf(F.INT), *fields)


def test_list_of_count_exactly_the_fields_left() -> None:
    r = FieldReader(["2", "7", "8"], 0, 3, V)
    assert F.ListOf(F.INT).read(r) == [7, 8]


def test_list_of_list() -> None:
    codec = F.ListOf(F.ListOf(F.STR))
    value = [["a", "b"], [], ["c"]]
    assert write(codec, value) == ["3", "2", "a", "b", "0", "1", "c"]
    assert roundtrip(codec, value) == value


def test_mapped() -> None:
    codec: F.Mapped[str] = F.Mapped(
        "side", F.INT, {1: "BUY", 2: "SELL"}.__getitem__, {"BUY": 1, "SELL": 2}.__getitem__
    )
    assert read(codec, "2") == "SELL"
    assert write(codec, "BUY") == ["1"]
    with pytest.raises(FieldError, match="unknown value 3"):
        read(codec, "3")
