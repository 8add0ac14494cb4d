"""Outgoing messages: one row per aiotws request class, next to the official ``EClient`` call.

A row says how to build the aiotws message from a dict of sample arguments and how to make the
official client send the same request from the same arguments. ``test_outgoing`` encodes both
at every server version in ``support.VERSIONS`` and compares the framed bytes.

To cover a new request class, add a row: ``build`` and ``call`` take the same argument dict;
``samples`` are explicit cases (edge values first), ``args`` draws more with hypothesis. Both
sides may refuse an argument (an aiotws ``LocalProtocolError`` before anything is produced;
the official client an ``error()`` callback and nothing sent); the test then requires that
they refuse it the same way. The coverage gate fails while an ``OUT_MESSAGES`` class has no row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from ibapi.client import EClient

from aiotws.wire import OutMessage
from aiotws.wire import messages as m

__all__ = ["OUTGOING", "Row"]

Args = dict[str, Any]

#: any Python int: both sides write ``str(int)`` without range checks
ints = st.integers()
#: 32-bit ids, as TWS stores them
int32 = st.integers(-(2**31), 2**31 - 1)
#: text the official client accepts (printable ASCII plus TAB/LF/CR) and, mostly, text it refuses
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
any_text = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))


@dataclass(frozen=True)
class Row:
    """One outgoing message: the aiotws class and the official client method that sends it."""

    cls: type[OutMessage]
    #: the ``EClient`` method name (for reports)
    method: str
    #: aiotws message from the argument dict
    build: Callable[[Args], OutMessage]
    #: make an offline official ``EClient`` send the same request
    call: Callable[[EClient, Args], None]
    #: explicit argument dicts
    samples: tuple[Args, ...] = ({},)
    #: hypothesis strategy for argument dicts (``None``: the message has no arguments)
    args: st.SearchStrategy[Args] | None = None
    #: extra setup of the offline official client from the arguments (client id, capabilities)
    setup: Callable[[EClient, Args], None] = field(default=lambda client, a: None)

    @property
    def id(self) -> str:
        return self.cls.__name__


def _start_api_setup(client: EClient, a: Args) -> None:
    client.clientId = a["client_id"]
    client.optCapab = a["optional_capabilities"]


OUTGOING: tuple[Row, ...] = (
    Row(
        m.StartApi,
        "startApi",
        build=lambda a: m.StartApi(a["client_id"], a["optional_capabilities"] or ""),
        # START_API takes its values from the client: clientId (connect) and optCapab
        setup=_start_api_setup,
        call=lambda client, a: client.startApi(),
        samples=(
            {"client_id": 0, "optional_capabilities": None},  # the official default
            {"client_id": 1, "optional_capabilities": ""},
            {"client_id": 18, "optional_capabilities": "+PACEAPI"},
            {"client_id": -1, "optional_capabilities": "a b\tc"},
            {"client_id": 2**31 - 1, "optional_capabilities": "x" * 300},
            {"client_id": 7, "optional_capabilities": "caf\u00e9"},  # refused by both (579)
            {"client_id": 7, "optional_capabilities": "nul\0"},  # refused by both (579)
        ),
        args=st.fixed_dictionaries(
            {"client_id": ints, "optional_capabilities": st.none() | printable | any_text}
        ),
    ),
    Row(
        m.ReqIds,
        "reqIds",
        build=lambda a: m.ReqIds(a["num_ids"]),
        call=lambda client, a: client.reqIds(a["num_ids"]),
        samples=({"num_ids": 1}, {"num_ids": -1}, {"num_ids": 0}, {"num_ids": 2**63}),
        args=st.fixed_dictionaries({"num_ids": ints}),
    ),
    Row(
        m.ReqManagedAccts,
        "reqManagedAccts",
        build=lambda a: m.ReqManagedAccts(),
        call=lambda client, a: client.reqManagedAccts(),
    ),
    Row(
        m.ReqCurrentTime,
        "reqCurrentTime",
        build=lambda a: m.ReqCurrentTime(),
        call=lambda client, a: client.reqCurrentTime(),
    ),
    Row(
        m.ReqCurrentTimeInMillis,
        "reqCurrentTimeInMillis",
        build=lambda a: m.ReqCurrentTimeInMillis(),
        call=lambda client, a: client.reqCurrentTimeInMillis(),
    ),
    Row(
        m.SetServerLogLevel,
        "setServerLogLevel",
        build=lambda a: m.SetServerLogLevel(a["log_level"]),
        call=lambda client, a: client.setServerLogLevel(a["log_level"]),
        # neither encoder validates the level (TWS answers 1..5 only; the sim errors otherwise)
        samples=tuple({"log_level": n} for n in (1, 2, 3, 4, 5, 0, 6, -1)),
        args=st.fixed_dictionaries({"log_level": st.integers(1, 5) | int32}),
    ),
)


def _domain_rows() -> tuple[Row, ...]:
    """Rows of the domain modules rows_*.py beside this one (each defines ``OUTGOING_ROWS``)."""
    rows: list[Row] = []
    for path in sorted(Path(__file__).parent.glob("rows_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        rows.extend(getattr(module, "OUTGOING_ROWS", ()))
    return tuple(rows)


OUTGOING = OUTGOING + _domain_rows()
