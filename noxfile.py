"""One command per check, the same locally and in CI: ``python -m nox`` runs the default set.

Sessions: ``tests`` (every Python 3.11-3.13 found on this machine), ``compat`` (the test
suite beside ib_async 2.1, whose pins bring aeventkit 2.x: both must work), ``lint`` (ruff),
``typecheck`` (mypy --strict on src/), ``conformance`` (against the official ibapi client,
test-only), ``bench`` (side by side with ib_async), ``soak`` (many simulator restarts; not in
the default set) and ``docs`` (mkdocs --strict).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "compat", "conformance", "docs"]
nox.options.error_on_missing_interpreters = False

ALL_PYTHONS = ("3.11", "3.12", "3.13")


def _works(exe: str) -> bool:
    path = shutil.which(exe)
    if path is None:
        return False
    # a pyenv shim exists for every installed version but fails unless that version is selected
    proc = subprocess.run([path, "-c", "import sys"], capture_output=True, check=False)
    return proc.returncode == 0


def _find_pythons() -> list[str]:
    """Every Python 3.11-3.13 on this machine, including pyenv versions not on PATH."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in ALL_PYTHONS:
        if not _works(f"python{version}"):
            found = sorted(root.glob(f"{version}.*/bin"))
            if found:
                os.environ["PATH"] = f"{found[-1]}{os.pathsep}{os.environ.get('PATH', '')}"
    return [v for v in ALL_PYTHONS if _works(f"python{v}")] or ["3.11"]


PYTHONS = _find_pythons()
OLDEST = PYTHONS[0]

IBAPI = "ibapi-latest==10.51.1"
IB_ASYNC = "ib_async==2.1.0"


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The unit and end-to-end tests."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=OLDEST)
def compat(session: nox.Session) -> None:
    """The tests in one environment with ib_async 2.1 (aeventkit<3, tzdata<2026)."""
    session.install("-e", ".[test]", IB_ASYNC)
    session.run("python", "-c", "import eventkit, ib_async, aiotws; print(eventkit.__version__)")
    # the environment is what differs (aeventkit 2.x, tzdata<2026): everything but the pure
    # codec tests (tests/wire: no events, no zones), which the tests session runs already
    session.run("pytest", "-q", "--ignore=tests/wire", *session.posargs)


@nox.session(python=OLDEST)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=OLDEST)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    # the testing extra: aiotws.testing (the pytest plugin) is typed against pytest
    session.install("-e", ".[testing]", "mypy>=1.11")
    session.run("mypy")


@nox.session(python=OLDEST)
def conformance(session: nox.Session) -> None:
    """Byte-for-byte agreement with the official client, and the official client vs aiotws sim."""
    session.install("-e", ".[test]", IBAPI)
    session.run("pytest", "tests/conformance", "-q", *session.posargs)


@nox.session(python=OLDEST)
def bench(session: nox.Session) -> None:
    """Benchmarks, side by side with ib_async (numbers to the console; never asserted)."""
    session.install("-e", ".", IB_ASYNC)
    # five interleaved rounds of the tick flood: steadier ratios on a shared machine
    session.run("python", "benchmarks/run.py", *(session.posargs or ["--repeat", "5"]))


@nox.session(python=OLDEST)
def soak(session: nox.Session) -> None:
    """24 simulator restarts under 100 subscriptions and open orders (not in the default set)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/soak.py", *session.posargs)


@nox.session(python=OLDEST)
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "-d", session.create_tmp() + "/site")
