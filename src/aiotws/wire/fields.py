"""Field codecs: the text encoding rules of PROTOCOL.md section 3, one small object per type.

A message layout (``aiotws.wire.layout``) is a sequence of fields, each with a codec. A codec
reads one value from a :class:`FieldReader` and writes one value as text fields into a list.
Codecs are stateless singletons; the ones for nested groups and lists are built from others.

Unset values: TWS writes "no value" as an empty field or as a sentinel (``2147483647``,
``1.7976931348623157E308`` …). Codecs for optional values map every such form to ``None`` (or
NaN for :data:`NAN_FLOAT`) on the way in and write an empty field on the way out, so no
sentinel ever reaches user code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Generic, TypeVar

__all__ = [
    "BOOL",
    "CSV",
    "DECIMAL",
    "EPOCH_MS",
    "EPOCH_S",
    "FLOAT",
    "INT",
    "NAN_FLOAT",
    "OPT_EPOCH_MS",
    "OPT_FLOAT",
    "OPT_INT",
    "SENTINEL_INT",
    "STR",
    "TEXT",
    "UNSET_DECIMAL_FORMS",
    "UNSET_DOUBLE",
    "UNSET_INTEGER",
    "UNSET_LONG",
    "Codec",
    "FieldError",
    "FieldReader",
    "FieldWriter",
    "ListOf",
    "Mapped",
    "Scalar",
    "escape_text",
    "format_decimal",
    "format_float",
    "unescape_text",
]

T = TypeVar("T")

#: TWS's "no value" sentinels (PROTOCOL.md 3.2).
UNSET_INTEGER: Final = 2**31 - 1
UNSET_LONG: Final = 2**63 - 1
UNSET_DOUBLE: Final = 1.7976931348623157e308
#: Every string TWS uses for an unset decimal.
UNSET_DECIMAL_FORMS: Final = frozenset(
    {"", "2147483647", "9223372036854775807", "-9223372036854775808", "1.7976931348623157E308"}
)
_UNSET_INT_FORMS: Final = frozenset({"", "2147483647", "9223372036854775807"})
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_INFINITY_FORMS: Final = frozenset({"Infinity", "Infinite", "inf"})


class FieldError(ValueError):
    """A field value that does not decode or encode; the layout adds message and field names."""


class FieldReader:
    """Reads the NUL-separated text fields of one message, left to right.

    ``fields`` holds the payload split on NUL (the message id already consumed by the caller);
    ``end`` is the index one past the last real field (the payload's trailing NUL leaves an
    empty string after it, which is not a field).
    """

    __slots__ = ("end", "fields", "pos", "version")

    def __init__(self, fields: Sequence[str], pos: int, end: int, version: int) -> None:
        self.fields = fields
        self.pos = pos
        self.end = end
        self.version = version

    def next(self) -> str:
        pos = self.pos
        if pos >= self.end:
            raise FieldError("message ended early (field missing)")
        self.pos = pos + 1
        return self.fields[pos]

    @property
    def remaining(self) -> int:
        return self.end - self.pos


class FieldWriter:
    """Collects the text fields of one outgoing message at a server version."""

    __slots__ = ("out", "version")

    def __init__(self, version: int) -> None:
        self.out: list[str] = []
        self.version = version


class Codec(Generic[T]):
    """Reads and writes one value. Subclasses override :meth:`read` and :meth:`write`."""

    __slots__ = ("name",)
    #: the Python type the codec produces, for docs and strategy lookup in tests
    name: str

    def __init__(self, name: str) -> None:
        self.name = name

    def read(self, r: FieldReader) -> T:
        raise NotImplementedError

    def write(self, w: FieldWriter, value: T) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<codec {self.name}>"


class Scalar(Codec[T]):
    """A codec of exactly one field: ``parse`` turns its text into the value.

    Layouts made only of scalars decode through a generated fast path that calls ``parse``
    (or inlines :attr:`inline`, an expression template over the field text ``{0}``); any
    exception there falls back to the checked path, which names the failing field.
    """

    __slots__ = ()
    #: expression template the fast decoder may inline instead of calling ``parse``
    inline: str | None = None

    def parse(self, s: str) -> T:
        raise NotImplementedError

    def read(self, r: FieldReader) -> T:
        return self.parse(r.next())


# -- numbers ----------------------------------------------------------------------------------


def format_float(value: float) -> str:
    """Format a float as the official client does (Python ``str``), ``Infinity`` for +inf.

    NaN, -inf and ints too large for a float have no TWS form and raise :class:`FieldError`.
    """
    try:
        f = float(value)
    except OverflowError:
        raise FieldError(f"{value} is too large for a float") from None
    if math.isnan(f):
        raise FieldError("NaN cannot be sent to TWS")
    if f == math.inf:
        return "Infinity"
    if f == -math.inf:
        raise FieldError("-Infinity cannot be sent to TWS")
    return str(f)


def format_decimal(value: Decimal) -> str:
    """Format a Decimal in plain notation (``100``, ``0.5``), never exponent form."""
    if not value.is_finite():
        raise FieldError(f"{value} cannot be sent to TWS")
    text = format(value, "f")
    return text


#: parsed sizes by their text: sizes repeat (100, 200 …) and Decimal is immutable
DECIMAL_CACHE: Final[dict[str, Decimal]] = {}
_DECIMAL_CACHE_MAX: Final = 4096


def cached_decimal(s: str) -> Decimal:
    """``Decimal(s)``, finite, remembered for the next time (the fast decoders call it)."""
    d = Decimal(s)
    if not d.is_finite():
        raise FieldError(f"not a finite decimal: {s!r}")
    if len(DECIMAL_CACHE) >= _DECIMAL_CACHE_MAX:
        DECIMAL_CACHE.clear()
    DECIMAL_CACHE[s] = d
    return d


#: Prices by their text, for the raw tick path: a feed repeats a few hundred price levels,
#: and a dict hit costs a fraction of ``float(text)``. Bounded like DECIMAL_CACHE.
FLOAT_CACHE: Final[dict[str, float]] = {}


def cached_float(s: str) -> float:
    """``float(s)`` (``""`` is 0.0, as TWS means it in a price), remembered for next time."""
    v = float(s) if s else 0.0
    if len(FLOAT_CACHE) >= _DECIMAL_CACHE_MAX:
        FLOAT_CACHE.clear()
    FLOAT_CACHE[s] = v
    return v


def _parse_float(s: str) -> float:
    if s in _INFINITY_FORMS:
        return math.inf
    try:
        return float(s)
    except ValueError:
        raise FieldError(f"not a number: {s!r}") from None


def _parse_int(s: str) -> int:
    try:
        return int(s)
    except ValueError:
        raise FieldError(f"not an integer: {s!r}") from None


class _Int(Scalar[int]):
    """An integer; an empty field reads as 0 (as the official decoder does)."""

    __slots__ = ()
    inline = "(int({0}) if {0} else 0)"

    def parse(self, s: str) -> int:
        return _parse_int(s) if s else 0

    def write(self, w: FieldWriter, value: int) -> None:
        if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
            raise FieldError(f"expected int, got {type(value).__name__}")
        w.out.append(str(int(value)))


class _OptInt(Scalar[int | None]):
    """An optional integer: empty, ``2147483647`` and ``2**63-1`` read as ``None``."""

    __slots__ = ()

    def parse(self, s: str) -> int | None:
        if s in _UNSET_INT_FORMS:
            return None
        return _parse_int(s)

    def write(self, w: FieldWriter, value: int | None) -> None:
        if value is None:
            w.out.append("")
        else:
            INT.write(w, value)


class _SentinelInt(_OptInt):
    """An optional integer TWS always writes: ``None`` goes out as ``2147483647`` (Java's
    ``Integer.MAX_VALUE``), what TWS sends for an unset ``aggGroup``; reads as OPT_INT."""

    __slots__ = ()

    def write(self, w: FieldWriter, value: int | None) -> None:
        INT.write(w, UNSET_INTEGER if value is None else value)


class _Float(Scalar[float]):
    """A float; an empty field reads as 0.0, ``Infinity`` as +inf."""

    __slots__ = ()
    inline = "(float({0}) if {0} else 0.0)"

    def parse(self, s: str) -> float:
        return _parse_float(s) if s else 0.0

    def write(self, w: FieldWriter, value: float) -> None:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise FieldError(f"expected float, got {type(value).__name__}")
        w.out.append(format_float(value))


class _OptFloat(Scalar[float | None]):
    """An optional float: empty and ``1.7976931348623157E308`` read as ``None``."""

    __slots__ = ()

    def parse(self, s: str) -> float | None:
        if not s:
            return None
        v = _parse_float(s)
        return None if v == UNSET_DOUBLE else v

    def write(self, w: FieldWriter, value: float | None) -> None:
        if value is None or value == UNSET_DOUBLE:
            w.out.append("")
        else:
            FLOAT.write(w, value)


class _NanFloat(Scalar[float]):
    """A float whose unset forms read as NaN, and NaN writes as an empty field."""

    __slots__ = ()

    def parse(self, s: str) -> float:
        if not s:
            return math.nan
        v = _parse_float(s)
        return math.nan if v == UNSET_DOUBLE else v

    def write(self, w: FieldWriter, value: float) -> None:
        if isinstance(value, float) and math.isnan(value):
            w.out.append("")
        else:
            FLOAT.write(w, value)


class _Decimal(Scalar[Decimal | None]):
    """A decimal quantity; every unset form reads as ``None``, ``None`` writes empty."""

    __slots__ = ()
    inline = "(None if {0} in _UNSET_DECIMAL else (_DECIMALS.get({0}) or _decimal({0})))"

    def parse(self, s: str) -> Decimal | None:
        if s in UNSET_DECIMAL_FORMS:
            return None
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise FieldError(f"not a decimal: {s!r}") from None
        if not d.is_finite():
            raise FieldError(f"not a finite decimal: {s!r}")
        return d

    def write(self, w: FieldWriter, value: Decimal | None) -> None:
        if value is None:
            w.out.append("")
        elif isinstance(value, Decimal):
            w.out.append(format_decimal(value))
        else:
            raise FieldError(f"expected Decimal, got {type(value).__name__}")


class _Bool(Scalar[bool]):
    """A boolean as ``0``/``1``; any non-zero integer reads as true, empty as false."""

    __slots__ = ()

    def parse(self, s: str) -> bool:
        if not s:
            return False
        return _parse_int(s) != 0

    def write(self, w: FieldWriter, value: bool) -> None:
        w.out.append("1" if value else "0")


# -- text -------------------------------------------------------------------------------------

# Outgoing text must be printable ASCII plus TAB/LF/CR (the official client's error 579).
_BAD_OUT_TEXT: Final = re.compile(r"[^\t\n\r\x20-\x7e]")
_ESCAPE: Final = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})"
)
# Non-ASCII, and the backslash itself, so that the reader's unescaping is unambiguous.
_NON_ASCII: Final = re.compile(r"[^\x00-\x5b\x5d-\x7f]")


def _unescape_match(m: re.Match[str]) -> str:
    if m.group(3) is not None:
        return chr(int(m.group(3), 16))
    hi, lo = int(m.group(1), 16), int(m.group(2), 16)
    return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def unescape_text(s: str) -> str:
    """Undo TWS's ``\\uXXXX`` escaping of non-ASCII text (server 153+), pairs included."""
    if "\\u" not in s:
        return s
    return _ESCAPE.sub(_unescape_match, s)


def _escape_char(m: re.Match[str]) -> str:
    cp = ord(m.group(0))
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    cp -= 0x10000
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def escape_text(s: str) -> str:
    """Escape non-ASCII characters as TWS does (``\\uXXXX``, UTF-16 surrogate pairs).

    A backslash is escaped too (``\\u005c``), so that any reader, the official client's
    full ``unicode-escape`` included, gets back exactly ``s``.
    """
    return _NON_ASCII.sub(_escape_char, s)


class _Str(Scalar[str]):
    """Plain text. Outgoing text must be printable ASCII (TWS's rule); incoming is kept as is."""

    __slots__ = ()
    inline = "{0}"

    def parse(self, s: str) -> str:
        return s

    def write(self, w: FieldWriter, value: str) -> None:
        if not isinstance(value, str):
            raise FieldError(f"expected str, got {type(value).__name__}")
        if _BAD_OUT_TEXT.search(value):
            raise FieldError("text must be printable ASCII (TWS rejects other characters)")
        w.out.append(value)


class _Text(Scalar[str]):
    """Text that TWS ``\\u``-escapes (error messages, long names, reject JSON).

    Reads unescape; writes escape, so the simulator can send any Unicode text.
    """

    __slots__ = ()

    def parse(self, s: str) -> str:
        return unescape_text(s)

    def write(self, w: FieldWriter, value: str) -> None:
        if not isinstance(value, str):
            raise FieldError(f"expected str, got {type(value).__name__}")
        if "\0" in value:
            raise FieldError("text cannot contain NUL")
        w.out.append(escape_text(value))


class _Csv(Scalar[tuple[str, ...]]):
    """A comma-separated list in one field; empty entries (a trailing comma) are dropped."""

    __slots__ = ()

    def parse(self, s: str) -> tuple[str, ...]:
        return tuple(p for p in s.split(",") if p)

    def write(self, w: FieldWriter, value: tuple[str, ...]) -> None:
        for item in value:
            if "," in item:
                raise FieldError(f"list item {item!r} contains a comma")
        STR.write(w, ",".join(value))


# -- times ------------------------------------------------------------------------------------


class _Epoch(Scalar[datetime]):
    """Epoch seconds or milliseconds as a UTC-aware datetime."""

    __slots__ = ("scale", "unit")

    def __init__(self, name: str, scale: int) -> None:
        super().__init__(name)
        self.scale = scale
        self.unit = timedelta(seconds=1) / scale

    def parse(self, s: str) -> datetime:
        n = _parse_int(s) if s else 0
        try:
            return _EPOCH + n * self.unit  # exact integer arithmetic, no float rounding
        except OverflowError:
            raise FieldError(f"timestamp out of range: {s!r}") from None

    def write(self, w: FieldWriter, value: datetime) -> None:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise FieldError("expected a time-zone-aware datetime")
        w.out.append(str((value - _EPOCH) // self.unit))


class _OptEpoch(Scalar[datetime | None]):
    """Like :class:`_Epoch`, with 0 or empty read as ``None``."""

    __slots__ = ("inner",)

    def __init__(self, name: str, inner: _Epoch) -> None:
        super().__init__(name)
        self.inner = inner

    def parse(self, s: str) -> datetime | None:
        if s in {"", "0"}:
            return None
        return self.inner.parse(s)

    def write(self, w: FieldWriter, value: datetime | None) -> None:
        if value is None:
            w.out.append("0")
        else:
            self.inner.write(w, value)


# -- composites -------------------------------------------------------------------------------


class ListOf(Codec[list[T]]):
    """A counted list: a count field, then each element through ``item``."""

    __slots__ = ("item",)

    def __init__(self, item: Codec[T]) -> None:
        super().__init__(f"list[{item.name}]")
        self.item = item

    def read(self, r: FieldReader) -> list[T]:
        n = INT.read(r)
        if n < 0 or n > r.remaining:
            raise FieldError(f"list count {n} exceeds the {r.remaining} fields left")
        read = self.item.read
        return [read(r) for _ in range(n)]

    def write(self, w: FieldWriter, value: list[T]) -> None:
        w.out.append(str(len(value)))
        write = self.item.write
        for v in value:
            write(w, v)


class Mapped(Scalar[T]):
    """A one-field codec that converts through another (e.g. an int code to an enum)."""

    __slots__ = ("dump", "inner", "load")

    def __init__(
        self, name: str, inner: Scalar[Any], load: Callable[[Any], T], dump: Callable[[T], Any]
    ) -> None:
        super().__init__(name)
        self.inner = inner
        self.load = load
        self.dump = dump

    def parse(self, s: str) -> T:
        raw = self.inner.parse(s)
        try:
            return self.load(raw)
        except (ValueError, KeyError) as e:
            raise FieldError(f"unknown value {raw!r}: {e}") from None

    def write(self, w: FieldWriter, value: T) -> None:
        self.inner.write(w, self.dump(value))


INT: Final[Scalar[int]] = _Int("int")
OPT_INT: Final[Scalar[int | None]] = _OptInt("int | None")
SENTINEL_INT: Final[Scalar[int | None]] = _SentinelInt("int | None (unset = 2147483647)")
FLOAT: Final[Scalar[float]] = _Float("float")
OPT_FLOAT: Final[Scalar[float | None]] = _OptFloat("float | None")
NAN_FLOAT: Final[Scalar[float]] = _NanFloat("float (NaN = unset)")
DECIMAL: Final[Scalar[Decimal | None]] = _Decimal("Decimal | None")
BOOL: Final[Scalar[bool]] = _Bool("bool")
STR: Final[Scalar[str]] = _Str("str")
TEXT: Final[Scalar[str]] = _Text("str (\\u-escaped)")
CSV: Final[Scalar[tuple[str, ...]]] = _Csv("tuple[str, ...] (comma list)")
EPOCH_S: Final[Scalar[datetime]] = _Epoch("datetime (epoch s)", 1)
EPOCH_MS: Final[Scalar[datetime]] = _Epoch("datetime (epoch ms)", 1000)
OPT_EPOCH_MS: Final[Scalar[datetime | None]] = _OptEpoch(
    "datetime | None (epoch ms)", _Epoch("ms", 1000)
)
