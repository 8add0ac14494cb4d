"""Conformance suite: aiotws against the official IB client (``ibapi-latest`` 10.51.1).

Run explicitly (``pytest tests/conformance``; the default run skips this directory). The
official client is a hard requirement here: a missing ``ibapi`` is an import error that fails
the session, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ibapi  # noqa: F401 - fail loudly when the oracle is not installed
import pytest

from .support import Harness, SimLoop

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def sim_loop() -> Iterator[SimLoop]:
    loop = SimLoop()
    yield loop
    loop.close()


@pytest.fixture
def harness(sim_loop: SimLoop) -> Iterator[Harness]:
    h = Harness(sim_loop)
    try:
        yield h
    finally:
        h.close()
