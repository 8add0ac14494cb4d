"""Message ids: what aiotws implements must be what the official client calls it, and the
coverage gate over every id the official client knows.

The official ``ibapi.message.OUT`` / ``IN`` enumerate every id below the protobuf offset.
The gate (:func:`test_coverage_gate`) requires, for each one the official client can send or
read in text mode, an aiotws class (encoder and decoder: the layouts are symmetric), a
round-trip case in ``tests/wire/test_messages.py`` and a byte-equality row (outgoing: the
official ``EClient`` writes the same bytes; incoming: the official ``Decoder`` reads our
frames into the same values). The ids the official client uses only as protobuf messages,
from server versions above 200, are listed in ``aiotws.wire.ids.PROTOBUF_ONLY_OUT`` and
``PROTOBUF_ONLY_IN``; the gate derives those lists from the official sources and requires
the two to agree.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import textwrap
from functools import cache
from pathlib import Path
from types import ModuleType

import ibapi.client
import ibapi.server_versions
import pytest
from ibapi.common import PROTOBUF_MSG_ID
from ibapi.decoder import Decoder
from ibapi.message import IN, OUT

from aiotws.wire import IN_MESSAGES, OUT_MESSAGES, In, Out
from aiotws.wire.ids import PROTOBUF_OFFSET, PROTOBUF_ONLY_IN, PROTOBUF_ONLY_OUT
from aiotws.wire.versions import MAX_TEXT_VERSION

from .incoming_table import INCOMING
from .outgoing_table import OUTGOING


def test_protobuf_offset_matches() -> None:
    assert PROTOBUF_OFFSET == PROTOBUF_MSG_ID
    assert all(int(i) < PROTOBUF_MSG_ID for i in (*IN, *OUT))


@pytest.mark.parametrize(
    ("registry", "ours", "theirs"),
    [(OUT_MESSAGES, Out, OUT), (IN_MESSAGES, In, IN)],
    ids=["out", "in"],
)
def test_implemented_ids_are_the_official_ones(registry: dict, ours: type, theirs: type) -> None:
    for msg_id, cls in registry.items():
        assert msg_id == cls.MSG_ID
        assert msg_id in theirs._value2member_map_, f"{cls.__name__}: official has no id {msg_id}"
        assert ours(msg_id).name == theirs(msg_id).name, cls.__name__


def test_official_decoder_handles_every_implemented_incoming_id() -> None:
    for msg_id, cls in IN_MESSAGES.items():
        assert msg_id in Decoder.msgId2handleInfo, f"{cls.__name__}: no official text decoder"


def _section(title: str, official: type, ours: type, registry: dict) -> list[str]:
    done = [f"{int(x)}:{x.name}={registry[int(x)].__name__}" for x in official if x in registry]
    todo = [f"{int(x)}:{x.name}" for x in official if x not in registry]
    lines = [f"{title}: aiotws implements {len(done)} of {len(official)} official ids"]
    lines += textwrap.wrap("implemented: " + ", ".join(done), 100, subsequent_indent="    ")
    lines += textwrap.wrap("not yet: " + ", ".join(todo), 100, subsequent_indent="    ")
    ours_names = {int(x): x.name for x in ours}
    diffs = [
        f"{int(x)}: official {x.name}, aiotws {ours_names.get(int(x))}"
        for x in official
        if ours_names.get(int(x)) != x.name
    ]
    extra = sorted(set(ours_names) - {int(x) for x in official})
    if diffs or extra:
        lines.append(f"id enum differences: {diffs}; aiotws-only ids: {extra}")
    else:
        lines.append(f"aiotws.wire.{ours.__name__} names every official id the same way")
    return ["  " + line for line in lines]


def test_coverage_report(capsys: pytest.CaptureFixture[str]) -> None:
    """Informational: prints which official message ids aiotws implements (never fails)."""
    report = [
        "",
        "== aiotws message coverage against ibapi 10.51 ==",
        *_section("OUT (client -> TWS)", OUT, Out, OUT_MESSAGES),
        *_section("IN (TWS -> client)", IN, In, IN_MESSAGES),
    ]
    with capsys.disabled():
        print("\n".join(report))


# -- the coverage gate --------------------------------------------------------------------------


def _official_protobuf_only_out() -> dict[str, int]:
    """OUT ids the official ``EClient`` sends only as protobuf, with the version it requires.

    A text-mode request writes ``OUT.NAME`` into its fields; a protobuf-only one appears only
    as ``OUT.NAME + PROTOBUF_MSG_ID``, inside a method that first checks a
    ``MIN_SERVER_VER_*`` constant.
    """
    found: dict[str, int] = {}
    methods = [m for _, m in inspect.getmembers(ibapi.client.EClient, inspect.isfunction)]
    sources = [inspect.getsource(m) for m in methods]
    for out in OUT:
        pattern = rf"OUT\.{out.name}\b(\s*\+\s*PROTOBUF_MSG_ID)?"
        uses = [m.group(1) for src in sources for m in re.finditer(pattern, src)]
        if uses and all(uses):
            src = next(s for s in sources if f"OUT.{out.name} + PROTOBUF_MSG_ID" in s)
            gates = re.findall(r"serverVersion\(\) < (MIN_SERVER_VER_\w+)", src)
            found[out.name] = max(getattr(ibapi.server_versions, g) for g in gates)
    return found


def _official_protobuf_only_in() -> set[str]:
    """IN ids the official ``Decoder`` has a protobuf handler for and no text handler."""
    return {
        i.name
        for i in IN
        if i not in Decoder.msgId2handleInfo and i in Decoder.msgId2handleInfoProtoBuf
    }


def test_protobuf_only_table_matches_the_official_client() -> None:
    assert {k.name: v for k, v in PROTOBUF_ONLY_OUT.items()} == _official_protobuf_only_out()
    assert {k.name for k in PROTOBUF_ONLY_IN} == _official_protobuf_only_in()
    versions = [*PROTOBUF_ONLY_OUT.values(), *PROTOBUF_ONLY_IN.values()]
    assert all(v > MAX_TEXT_VERSION for v in versions)
    assert not PROTOBUF_ONLY_OUT.keys() & OUT_MESSAGES.keys()
    assert not PROTOBUF_ONLY_IN.keys() & IN_MESSAGES.keys()


@cache
def _round_trip_module() -> ModuleType:
    """``tests/wire/test_messages.py``, whose ``CASES`` drive the generic round trip."""
    path = Path(__file__).parents[1] / "wire" / "test_messages.py"
    spec = importlib.util.spec_from_file_location("_aiotws_round_trip_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gaps() -> list[str]:
    round_trip = {p.values[0] for p in _round_trip_module().CASES}
    byte_rows = {row.cls for row in OUTGOING} | {row.cls for row in INCOMING}
    gaps: list[str] = []
    directions = ((OUT, OUT_MESSAGES, PROTOBUF_ONLY_OUT), (IN, IN_MESSAGES, PROTOBUF_ONLY_IN))
    for official, registry, protobuf_only in directions:
        skip = {int(x) for x in protobuf_only}
        for x in official:
            if int(x) in skip:
                continue
            where = f"{official.__name__} {int(x)} {x.name}"
            cls = registry.get(int(x))
            if cls is None:
                gaps.append(f"{where}: no aiotws encoder/decoder")
                continue
            if cls not in round_trip:
                gaps.append(f"{where}: {cls.__name__} has no round-trip case")
            if cls not in byte_rows:
                gaps.append(f"{where}: {cls.__name__} has no byte-equality row")
    return gaps


def test_coverage_gate() -> None:
    """Every text-mode message id of the official client is implemented, round-tripped and
    checked byte for byte against it."""
    gaps = _gaps()
    assert not gaps, "coverage gaps:\n  " + "\n  ".join(gaps)
