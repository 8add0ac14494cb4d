"""The low-level client's requests, one module per domain, mixed into :class:`aiotws.Client`.

Each mixin uses only the correlator primitives of the client core (``next_id``,
``request``, ``request_list``, ``request_stream``), described by :class:`Requester`.
"""

from __future__ import annotations

from aiotws.calls.base import Requester, Timeout
from aiotws.calls.contracts import ContractCalls

__all__ = ["ContractCalls", "Requester", "Timeout"]
