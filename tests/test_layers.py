"""Layer rules (DESIGN.md "Layers", STYLE.md section 1), checked on the source with ``ast``.

Imports anywhere in a module count, including ones inside functions and ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import aiotws
import aiotws.wire

SRC = Path(aiotws.__file__).resolve().parent
IO_MODULES = ("asyncio", "socket", "time", "selectors", "threading")
UPPER = (
    "protocol",
    "requests",
    "client",
    "session",
    "ib",
    "sync",
    "sim",
    "cli",
    "doctor",
    "testing",
)

# (modules the rule applies to, module prefixes they must not import)
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("aiotws.wire", IO_MODULES + tuple(f"aiotws.{m}" for m in UPPER)),
    ("aiotws.errors", IO_MODULES + tuple(f"aiotws.{m}" for m in UPPER)),
    ("aiotws.timezones", IO_MODULES + tuple(f"aiotws.{m}" for m in UPPER)),
    ("aiotws.model", IO_MODULES + tuple(f"aiotws.{m}" for m in (*UPPER, "wire"))),
    (
        "aiotws.sim",
        tuple(f"aiotws.{m}" for m in ("client", "ib", "requests", "protocol", "session", "sync")),
    ),
    ("aiotws.protocol", ("aiotws.requests", "aiotws.client", "aiotws.ib")),
    ("aiotws.requests", ("aiotws.client", "aiotws.ib")),
    ("aiotws.client", ("aiotws.ib", "aiotws.sim", "aiotws.cli")),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports; ``from a import b`` yields both ``a`` and ``a.b``."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def violates(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in forbidden)


def test_the_source_tree_is_found() -> None:
    assert "aiotws.wire.connection" in MODULES
    assert "aiotws.errors" in MODULES
    assert "aiotws.pacing" in MODULES
    assert len(MODULES) >= 20


def test_imports_of_sees_every_form() -> None:
    source = """
import asyncio
import os.path as p
from aiotws import client
from aiotws.sim.server import Simulator
from . import codec
from ..protocol import TWSProtocol
def f():
    import socket
if True:
    from time import monotonic
"""
    got = imports_of(source, "aiotws.wire.connection")
    for name in ("asyncio", "os.path", "aiotws.client", "aiotws.sim.server", "aiotws.wire.codec",
                 "aiotws.protocol", "socket", "time"):  # fmt: skip
        assert name in got, name
    assert violates("aiotws.client", ("aiotws.client",))
    assert violates("aiotws.sim.server", ("aiotws.sim",))
    assert not violates("aiotws.simulation", ("aiotws.sim",))
    assert not violates("timezones", ("time",))
    assert imports_of("from . import x", "aiotws.wire", is_package=True) == {
        "aiotws.wire",
        "aiotws.wire.x",
    }


@pytest.mark.parametrize(("scope", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layer_rule(scope: str, forbidden: tuple[str, ...]) -> None:
    bad = []
    for name, path in MODULES.items():
        if not (name == scope or name.startswith(scope + ".")):
            continue
        is_package = path.name == "__init__.py"
        for imported in imports_of(path.read_text(encoding="utf-8"), name, is_package):
            if violates(imported, forbidden):
                bad.append(f"{name} imports {imported}")
    assert bad == []


def test_rules_apply_to_existing_modules() -> None:
    # a rule whose scope vanished (a rename) would pass silently
    for scope in (
        "aiotws.wire",
        "aiotws.errors",
        "aiotws.sim",
        "aiotws.protocol",
        "aiotws.requests",
        "aiotws.client",
    ):
        assert any(n == scope or n.startswith(scope + ".") for n in MODULES), scope


# -- public names -----------------------------------------------------------------------------


def _all_modules() -> list[str]:
    names = ["aiotws"]
    names += [
        m.name
        for m in pkgutil.walk_packages(aiotws.__path__, "aiotws.")
        if m.name != "aiotws.__main__"
    ]
    return names


@pytest.mark.parametrize("module", [aiotws, aiotws.wire], ids=lambda m: m.__name__)
def test_dunder_all_of_the_packages(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert len(names) == len(set(names)), "duplicates in __all__"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []


@pytest.mark.parametrize("name", _all_modules())
def test_dunder_all_of_every_module(name: str) -> None:
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        return
    assert isinstance(names, list | tuple)
    assert len(names) == len(set(names)), f"duplicates in {name}.__all__"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == []
