"""Declarative message layouts: each message's fields are written once, encode and decode follow.

A wire message is a slotted dataclass decorated with :func:`message`. Its dataclass fields, in
declaration order, *are* its text layout: the annotation picks the codec (``int``, ``float |
None``, ``Decimal | None``, ``bool``, ``str``, enums, nested layouts, lists; or an explicit
``codec=``), and :func:`since` / :func:`until` / :func:`wire` attach server-version gates and
conditions. From that one declaration follow the encoder, the decoder, the simulator's strict
request check, the hypothesis strategies of the tests and the docs tables::

    @message(In.ERR_MSG, version=2, version_until=SV.ERROR_TIME)
    @dataclass(slots=True)
    class ErrMsg(InMessage):
        req_id: int
        code: int
        text: str = wire("", codec=TEXT)
        advanced_order_reject_json: str = since(SV.ADVANCED_ORDER_REJECT, "", codec=TEXT)
        error_time: datetime | None = since(SV.ERROR_TIME, None, codec=OPT_EPOCH_MS)

``version=`` declares the message-level ``V=`` field TWS puts right after the id (present
below ``version_until`` when given). Message classes hold no encoding details beyond this
layout, so a protobuf encoding can be added beside the text one per message type.

Plans (the fields active at one server version) are compiled on first use and cached.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar, Union

from aiotws.errors import InvalidField, MalformedMessage, UnsupportedByServer
from aiotws.wire import fields as F
from aiotws.wire.fields import Codec, FieldError, FieldReader, FieldWriter, Scalar
from aiotws.wire.ids import In, Out

__all__ = [
    "IN_MESSAGES",
    "OUT_MESSAGES",
    "FieldSpec",
    "InMessage",
    "Layout",
    "Message",
    "OutMessage",
    "StructCodec",
    "block_field",
    "message",
    "since",
    "struct",
    "until",
    "wire",
]

M = TypeVar("M", bound="Message")
S = TypeVar("S")

_META_KEY: Final = "aiotws.wire"
Predicate = Callable[[Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True, slots=True)
class _Gate:
    codec: Codec[Any] | None
    since: int
    until: int | None
    when: Predicate | None


def wire(
    default: Any = dataclasses.MISSING,
    *,
    codec: Codec[Any] | None = None,
    since: int = 0,
    until: int | None = None,
    when: Predicate | None = None,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
) -> Any:
    """A layout field with an explicit codec, version gate or condition.

    ``since``/``until``: present when ``since <= version < until``. ``when``: present only if
    the predicate, given the values read so far (a mapping by field name), is true. A field
    that may be absent needs a default, which is what decoding yields when it is absent and
    what encoding requires when the server cannot carry it.
    """
    meta = {_META_KEY: _Gate(codec, since, until, when)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def since(version: int, default: Any = None, *, codec: Codec[Any] | None = None, **kw: Any) -> Any:
    """A field present from server version ``version`` on."""
    return wire(default, codec=codec, since=version, **kw)


def until(version: int, default: Any = None, *, codec: Codec[Any] | None = None, **kw: Any) -> Any:
    """A field present below server version ``version`` only."""
    return wire(default, codec=codec, until=version, **kw)


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a layout, resolved: name, codec, gate and default."""

    name: str
    codec: Codec[Any]
    since: int
    until: int | None
    when: Predicate | None
    default: Any
    default_factory: Callable[[], Any] | None

    def active(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    def default_value(self) -> Any:
        return self.default_factory() if self.default_factory is not None else self.default

    def is_default(self, value: Any) -> bool:
        d = self.default_value()
        if value is d:
            return True
        try:
            return bool(value == d)
        except Exception:  # pragma: no cover - exotic __eq__
            return False


class _Attrs(Mapping[str, Any]):
    """Read-only mapping view of an object's attributes, for ``when`` predicates on encode."""

    __slots__ = ("_obj",)

    def __init__(self, obj: object) -> None:
        self._obj = obj

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self._obj, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> typing.Iterator[str]:
        return iter(f.name for f in dataclasses.fields(self._obj))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(dataclasses.fields(self._obj))  # type: ignore[arg-type]


_Plan = tuple[tuple[str, Codec[Any], Predicate | None], ...]
#: a generated decoder: (fields, pos) -> instance, reading a fixed number of fields
FastReader = Callable[[list[str], int], Any]


class Layout:
    """The compiled text layout of one dataclass (a message or a nested group)."""

    __slots__ = (
        "_fast",
        "_plans",
        "_specs",
        "cls",
        "msg_id",
        "name",
        "since",
        "value_gates",
        "version",
        "version_until",
    )

    def __init__(
        self,
        cls: type,
        msg_id: int | None = None,
        version: int | None = None,
        version_until: int | None = None,
        since: int = 0,
        value_gates: Mapping[str, tuple[object, int]] | None = None,
    ) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.msg_id = msg_id
        self.version = version
        self.version_until = version_until
        self.since = since
        #: field name -> (value, server version): that value needs that server
        self.value_gates: dict[str, tuple[object, int]] = dict(value_gates or {})
        self._specs: tuple[FieldSpec, ...] | None = None
        self._plans: dict[int, _Plan] = {}
        self._fast: dict[int, tuple[FastReader, int] | None] = {}

    # -- compilation ---------------------------------------------------------------------

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        """Every field of the layout, in wire order, at any version."""
        if self._specs is None:
            self._specs = _resolve_specs(self.cls)
        return self._specs

    def has_version_field(self, version: int) -> bool:
        return self.version is not None and (
            self.version_until is None or version < self.version_until
        )

    def plan(self, version: int) -> _Plan:
        """The fields on the wire at ``version``: (name, codec, condition) triples."""
        plan = self._plans.get(version)
        if plan is None:
            plan = tuple((s.name, s.codec, s.when) for s in self.specs if s.active(version))
            self._plans[version] = plan
        return plan

    def fields_at(self, version: int) -> list[FieldSpec]:
        """The specs of the fields present at ``version`` (for docs and tests)."""
        return [s for s in self.specs if s.active(version)]

    def fast_reader(self, version: int) -> tuple[FastReader, int] | None:
        """A generated decoder for ``version`` and how many fields it reads, or ``None``.

        Exists when every field at ``version`` is a :class:`~aiotws.wire.fields.Scalar`
        with no condition: the common case, ticks included. It does no error checking of
        its own; on any exception the caller falls back to :meth:`read`, which names the
        failing field. The round-trip tests run both paths.
        """
        if version in self._fast:
            return self._fast[version]
        plan = self.plan(version)
        result: tuple[FastReader, int] | None = None
        if all(isinstance(c, Scalar) and w is None for _, c, w in plan):
            skip = 1 if self.has_version_field(version) else 0
            ns: dict[str, Any] = {
                "_cls": self.cls,
                "_Decimal": Decimal,
                "_UNSET_DECIMAL": F.UNSET_DECIMAL_FORMS,
                "_DECIMALS": F.DECIMAL_CACHE,
                "_decimal": F.cached_decimal,
            }
            lines = []
            for i, (_, codec, _) in enumerate(plan):
                assert isinstance(codec, Scalar)
                var = f"v{i}"
                lines.append(f"    {var} = f[p + {skip + i}]")
                if codec.inline is not None:
                    exprs = codec.inline.format(var)
                else:
                    ns[f"_p{i}"] = codec.parse
                    exprs = f"_p{i}({var})"
                lines.append(f"    a{i} = {exprs}")
            names = [s.name for s in self.specs]
            active = [name for name, _, _ in plan]
            if active == names[: len(active)]:
                call = ", ".join(f"a{i}" for i in range(len(plan)))
            else:
                call = ", ".join(f"{name}=a{i}" for i, name in enumerate(active))
            src = "def _fast(f, p):\n" + "\n".join(lines) + f"\n    return _cls({call})\n"
            exec(compile(src, f"<aiotws fast decoder {self.name}@{version}>", "exec"), ns)
            result = (ns["_fast"], skip + len(plan))
        self._fast[version] = result
        return result

    # -- decode --------------------------------------------------------------------------

    def read(self, r: FieldReader, strict: bool = False) -> Any:
        """Read one instance from ``r`` at ``r.version``; raises :class:`MalformedMessage`."""
        version = r.version
        plan = self._plans.get(version)
        if plan is None:
            plan = self.plan(version)
        name = "version"
        try:
            if self.version is not None and (
                self.version_until is None or version < self.version_until
            ):
                v = r.next()
                if strict and v != str(self.version):
                    raise FieldError(f"message version must be {self.version}, got {v!r}")
            vals: dict[str, Any] = {}
            for name, codec, when in plan:
                if when is None or when(vals):
                    vals[name] = codec.read(r)
        except FieldError as e:
            raise MalformedMessage(self.name, name, str(e), self.msg_id) from None
        return self.cls(**vals)

    # -- encode --------------------------------------------------------------------------

    def check_gates(self, obj: Any, version: int) -> None:
        """Raise :class:`UnsupportedByServer` if ``obj`` (or a nested group) sets a field
        that ``version`` does not have; run before anything is written, so a version problem
        is reported as such whatever other field is also bad."""
        if version < self.since:
            raise UnsupportedByServer(self.name, None, self.since, version)
        for spec in self.specs:
            value = getattr(obj, spec.name)
            if not spec.active(version):
                if not spec.is_default(value):
                    if spec.until is not None and version >= spec.until:
                        raise UnsupportedByServer(
                            self.name, spec.name, spec.until, version, removed=True
                        )
                    raise UnsupportedByServer(self.name, spec.name, spec.since, version)
                continue
            codec = spec.codec
            if isinstance(codec, F.ListOf) and isinstance(codec.item, StructCodec):
                for item in value or ():
                    codec.item.layout.check_gates(item, version)
            elif isinstance(codec, StructCodec) and value is not None:
                codec.layout.check_gates(value, version)
        for name, (gated, needed) in self.value_gates.items():
            if version < needed and getattr(obj, name) == gated:
                raise UnsupportedByServer(self.name, name, needed, version)

    def absent(self, obj: Any) -> list[FieldSpec]:
        """The fields of ``obj`` whose ``when`` condition is false: the encoder skips them,
        so a decoded message has their defaults."""
        attrs = _Attrs(obj)
        return [s for s in self.specs if s.when is not None and not s.when(attrs)]

    def write(self, obj: Any, w: FieldWriter) -> None:
        """Append ``obj``'s fields at ``w.version`` to ``w``.

        Raises :class:`UnsupportedByServer` when the message, or a field set to a
        non-default value, does not exist at ``version``, and :class:`InvalidField` for a
        value the encoding cannot carry; the caller then discards ``w``.
        """
        version = w.version
        if version < self.since:
            raise UnsupportedByServer(self.name, None, self.since, version)
        if self.has_version_field(version):
            w.out.append(str(self.version))
        attrs: _Attrs | None = None
        for spec in self.specs:
            value = getattr(obj, spec.name)
            if not spec.active(version):
                if not spec.is_default(value):
                    if spec.until is not None and version >= spec.until:
                        raise UnsupportedByServer(
                            self.name, spec.name, spec.until, version, removed=True
                        )
                    raise UnsupportedByServer(self.name, spec.name, spec.since, version)
                continue
            if spec.when is not None:
                if attrs is None:
                    attrs = _Attrs(obj)
                if not spec.when(attrs):
                    continue
            try:
                spec.codec.write(w, value)
            except FieldError as e:
                raise InvalidField(self.name, spec.name, value, str(e)) from None


# -- messages ---------------------------------------------------------------------------------


class Message:
    """Base of every wire message. Subclasses are slotted dataclasses made by :func:`message`."""

    __slots__ = ()
    LAYOUT: ClassVar[Layout]
    MSG_ID: ClassVar[int]


class InMessage(Message):
    """A message TWS sends to the client."""

    __slots__ = ()


class OutMessage(Message):
    """A message the client sends to TWS."""

    __slots__ = ()


#: Decodable messages by id, per direction.
IN_MESSAGES: Final[dict[int, type[InMessage]]] = {}
OUT_MESSAGES: Final[dict[int, type[OutMessage]]] = {}


def message(
    msg_id: In | Out,
    *,
    version: int | None = None,
    version_until: int | None = None,
    since: int = 0,
    value_gates: Mapping[str, tuple[object, int]] | None = None,
) -> Callable[[type[M]], type[M]]:
    """Register a dataclass as the wire message ``msg_id``.

    ``version``: the value of the message-level version field after the id, if the message
    has one; ``version_until``: the server version from which that field is gone;
    ``since``: the lowest server version that has the message at all; ``value_gates``:
    field values that need a newer server (``{"what_to_show": ("SCHEDULE", 165)}``):
    encoding one below it raises :class:`UnsupportedByServer` before anything is written.
    """

    def register(cls: type[M]) -> type[M]:
        if "__dataclass_fields__" not in cls.__dict__:
            raise TypeError(f"{cls.__name__}: apply @message over @dataclass(slots=True)")
        if isinstance(msg_id, In):
            if not issubclass(cls, InMessage):
                raise TypeError(f"{cls.__name__}: an In message must subclass InMessage")
            registry: dict[int, Any] = IN_MESSAGES
        else:
            if not issubclass(cls, OutMessage):
                raise TypeError(f"{cls.__name__}: an Out message must subclass OutMessage")
            registry = OUT_MESSAGES
        if int(msg_id) in registry:
            raise ValueError(f"{msg_id!r} registered twice ({registry[msg_id].__name__})")
        cls.MSG_ID = int(msg_id)
        cls.LAYOUT = Layout(cls, int(msg_id), version, version_until, since, value_gates)
        registry[int(msg_id)] = cls
        return cls

    return register


# -- nested groups ----------------------------------------------------------------------------


def block_field(
    name: str,
    codec: Codec[Any],
    *,
    since: int = 0,
    until: int | None = None,
    when: Predicate | None = None,
    default: Any = None,
) -> FieldSpec:
    """One field of an explicit :class:`StructCodec` block (a model attribute on the wire)."""
    return FieldSpec(name, codec, since, until, when, default, None)


class StructCodec(Codec[S]):
    """A group of consecutive fields read into (and written from) a dataclass.

    Used for repeated groups (``ListOf(StructCodec(...))``) and embedded blocks. By default
    the dataclass's own fields and gates are its layout; ``specs`` instead names which
    attributes of a model class go on the wire, in which order and from which version (the
    contract block: a subset of :class:`~aiotws.model.Contract` whose order differs per
    message). Decoding builds ``cls(**fields)``; attributes not in the block keep their
    defaults.
    """

    __slots__ = ("layout",)

    def __init__(
        self, cls: type[S], specs: tuple[FieldSpec, ...] | None = None, name: str | None = None
    ) -> None:
        super().__init__(name or cls.__name__)
        self.layout = Layout(cls)
        if specs is not None:
            self.layout._specs = specs
            self.layout.name = self.name

    def read(self, r: FieldReader) -> S:
        try:
            value: S = self.layout.read(r)
        except MalformedMessage as e:
            raise FieldError(f"{e.field}: {e.reason}") from None
        return value

    def write(self, w: FieldWriter, value: S) -> None:
        try:
            self.layout.write(value, w)
        except InvalidField as e:
            raise FieldError(f"{e.field}: {e.reason}") from None


_STRUCT_CODECS: dict[type, StructCodec[Any]] = {}


def struct(cls: type[S]) -> type[S]:
    """Mark a dataclass as a nested layout group (usable as a field annotation)."""
    _STRUCT_CODECS[cls] = StructCodec(cls)
    return cls


# -- codec inference --------------------------------------------------------------------------

_SIMPLE: Final[dict[object, Codec[Any]]] = {
    int: F.INT,
    float: F.FLOAT,
    bool: F.BOOL,
    str: F.STR,
    tuple[str, ...]: F.CSV,
}
_OPTIONAL: Final[dict[object, Codec[Any]]] = {
    int: F.OPT_INT,
    float: F.OPT_FLOAT,
    Decimal: F.DECIMAL,
}


def _codec_for(owner: str, name: str, tp: Any) -> Codec[Any]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and args[0] in _OPTIONAL:
            return _OPTIONAL[args[0]]
        raise TypeError(f"{owner}.{name}: no codec for {tp}; pass codec=")
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    if origin is list:
        (item,) = typing.get_args(tp)
        return F.ListOf(_codec_for(owner, name, item))
    if isinstance(tp, type):
        if tp in _STRUCT_CODECS:
            return _STRUCT_CODECS[tp]
        if issubclass(tp, enum.IntEnum):
            return F.Mapped(tp.__name__, F.INT, tp, int)
        if issubclass(tp, enum.StrEnum):
            return F.Mapped(tp.__name__, F.STR, tp, str)
        if tp is datetime:
            raise TypeError(f"{owner}.{name}: datetime needs an explicit codec (EPOCH_S, …)")
    raise TypeError(f"{owner}.{name}: no codec for {tp!r}; pass codec=")


def _resolve_specs(cls: type) -> tuple[FieldSpec, ...]:
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        gate: _Gate | None = f.metadata.get(_META_KEY)
        codec = gate.codec if gate is not None and gate.codec is not None else None
        if codec is None:
            codec = _codec_for(cls.__name__, f.name, hints[f.name])
        factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
        default = None if f.default is dataclasses.MISSING else f.default
        gated = gate is not None and (gate.since or gate.until is not None or gate.when)
        if gated and f.default is dataclasses.MISSING and factory is None:
            raise TypeError(f"{cls.__name__}.{f.name}: a gated field needs a default")
        specs.append(
            FieldSpec(
                f.name,
                codec,
                gate.since if gate else 0,
                gate.until if gate else None,
                gate.when if gate else None,
                default,
                factory,
            )
        )
    return tuple(specs)
