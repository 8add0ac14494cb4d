"""Message ids: what aiotws implements must be what the official client calls it.

The official ``ibapi.message.OUT`` / ``IN`` enumerate every text-mode id (all below the
protobuf offset). Here only the ids aiotws implements are held to them; the informational
report shows which official ids aiotws covers so far (the hard gate over all ids comes later).
"""

from __future__ import annotations

import textwrap

import pytest
from ibapi.common import PROTOBUF_MSG_ID
from ibapi.decoder import Decoder
from ibapi.message import IN, OUT

from aiotws.wire import IN_MESSAGES, OUT_MESSAGES, In, Out
from aiotws.wire.ids import PROTOBUF_OFFSET


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
