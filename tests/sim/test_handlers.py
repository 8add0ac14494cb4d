"""The simulator answers every request aiotws can encode (the coverage gate's server side)."""

from __future__ import annotations

import aiotws.sim  # noqa: F401 - registers every handler
from aiotws.sim.server import _HANDLERS
from aiotws.wire import OUT_MESSAGES
from aiotws.wire.messages import StartApi


def test_every_request_has_a_simulator_handler() -> None:
    # START_API is the session's own step (SimSession._start_api), not a handler
    missing = [
        c.__name__ for c in OUT_MESSAGES.values() if c not in _HANDLERS and c is not StartApi
    ]
    assert not missing, f"requests the simulator does not answer: {missing}"
