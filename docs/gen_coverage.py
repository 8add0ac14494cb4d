"""Print the protocol coverage table of docs/protocol-coverage.md from the wire layouts.

Every row comes from ``aiotws.wire.IN_MESSAGES`` / ``OUT_MESSAGES`` and each class's
``LAYOUT``, the same declaration the encoder and decoder use, so the page cannot drift from
the code. Usage::

    python docs/gen_coverage.py            # print the generated block
    python docs/gen_coverage.py --write    # replace the block in docs/protocol-coverage.md
    python docs/gen_coverage.py --check    # exit 1 if the page is out of date

The block sits between ``BEGIN`` and ``END`` marker comments in the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiotws.wire import IN_MESSAGES, OUT_MESSAGES, SV, In, Out
from aiotws.wire.ids import PROTOBUF_ONLY_IN, PROTOBUF_ONLY_OUT
from aiotws.wire.layout import FieldSpec, Layout, Message

BEGIN = "<!-- BEGIN GENERATED: python docs/gen_coverage.py --write -->"
END = "<!-- END GENERATED -->"
PAGE = Path(__file__).with_name("protocol-coverage.md")


def _sv_names() -> dict[int, str]:
    """``SV`` gate names by version, where one name alone has that version."""
    by_version: dict[int, list[str]] = {}
    for name, value in vars(SV).items():
        if name.isupper() and isinstance(value, int):
            by_version.setdefault(value, []).append(name)
    return {v: names[0] for v, names in by_version.items() if len(names) == 1}


_SV_NAMES = _sv_names()


def _v(version: int) -> str:
    name = _SV_NAMES.get(version)
    return f"{version} (`SV.{name}`)" if name else str(version)


def _cell(text: str) -> str:
    """Escape text for a markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _gate(since: int, until: int | None) -> str:
    if since and until is not None:
        return f"{_v(since)} ≤ v < {_v(until)}"
    if since:
        return f"v ≥ {_v(since)}"
    if until is not None:
        return f"v < {_v(until)}"
    return "all"


def _version_field(layout: Layout) -> str:
    if layout.version is None:
        return "none"
    if layout.version_until is None:
        return f"`{layout.version}`"
    return f"`{layout.version}` while v < {_v(layout.version_until)}"


def _field(spec: FieldSpec) -> str:
    gate = "" if not spec.since and spec.until is None else f"; {_gate(spec.since, spec.until)}"
    cond = "; conditional" if spec.when is not None else ""
    return f"`{spec.name}`: {_cell(spec.codec.name)}{gate}{cond}"


def _rows(direction: str, registry: dict[int, type[Message]], names: type[In | Out]) -> list[str]:
    rows = []
    for msg_id in sorted(registry):
        cls = registry[msg_id]
        layout = cls.LAYOUT
        fields = "<br>".join(_field(s) for s in layout.specs) or "(no fields)"
        rows.append(
            f"| {msg_id} | `{names(msg_id).name}` | `{cls.__name__}` | {direction} "
            f"| {_gate(layout.since, None)} | {_version_field(layout)} | {fields} |"
        )
    return rows


def _protobuf_only(msg_id: In | Out) -> int | None:
    """The server version a protobuf-only id needs, ``None`` for a text-mode id."""
    if isinstance(msg_id, In):
        return PROTOBUF_ONLY_IN.get(msg_id)
    return PROTOBUF_ONLY_OUT.get(msg_id)


def _status(msg_id: In | Out, registry: dict[int, type[Message]]) -> str:
    needs = _protobuf_only(msg_id)
    if needs is not None:
        return f"`{msg_id.name}`: protobuf only (server {needs}+)"
    cls = registry.get(int(msg_id))
    return f"`{msg_id.name}` → `{cls.__name__}`" if cls else f"`{msg_id.name}`: **missing**"


def _by_id(out_reg: dict[int, type[Message]], in_reg: dict[int, type[Message]]) -> list[str]:
    """One row per id: what aiotws has for it in each direction."""
    outs = {int(o): o for o in Out}
    ins = {int(i): i for i in In}
    rows = ["| id | client → TWS | TWS → client |", "|---:|---|---|"]
    for msg_id in sorted(outs.keys() | ins.keys()):
        o = _status(outs[msg_id], out_reg) if msg_id in outs else ""
        i = _status(ins[msg_id], in_reg) if msg_id in ins else ""
        rows.append(f"| {msg_id} | {o} | {i} |")
    return rows


def _summary(ids: type[In | Out], registry: dict[int, type[Message]]) -> str:
    text = [x for x in ids if _protobuf_only(x) is None]
    done = sum(int(x) in registry for x in text)
    proto = len(ids) - len(text)
    return f"{done} of {len(text)} text-mode ids ({proto} more are protobuf only)"


def generate() -> str:
    """The markdown block: coverage by id, then every message aiotws encodes or decodes."""
    out_reg: dict[int, type[Message]] = dict(OUT_MESSAGES)
    in_reg: dict[int, type[Message]] = dict(IN_MESSAGES)
    lines = [
        BEGIN,
        "",
        "### Coverage by message id",
        "",
        f"Client → TWS: {_summary(Out, out_reg)}. TWS → client: {_summary(In, in_reg)}.",
        "",
        *_by_id(out_reg, in_reg),
        "",
        "### Message layouts",
        "",
        f"{len(out_reg)} client → TWS and {len(in_reg)} TWS → client messages.",
        "",
        "| id | TWS name | class | direction | server versions | version field | fields |",
        "|---:|---|---|---|---|---|---|",
        *_rows("client → TWS", out_reg, Out),
        *_rows("TWS → client", in_reg, In),
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def splice(page: str, block: str) -> str:
    """``page`` with the text between the markers (inclusive) replaced by ``block``."""
    start = page.index(BEGIN)
    stop = page.index(END, start) + len(END)
    rest = page[stop:]
    if rest.startswith("\n"):
        rest = rest[1:]
    return page[:start] + block + rest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="update docs/protocol-coverage.md")
    g.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = p.parse_args(argv)
    block = generate()
    if not (args.write or args.check):
        sys.stdout.write(block)
        return 0
    page = PAGE.read_text(encoding="utf-8")
    new = splice(page, block)
    if args.check:
        if new != page:
            print(f"{PAGE} is out of date: run python docs/gen_coverage.py --write")
            return 1
        return 0
    PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
