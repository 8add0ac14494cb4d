"""What a domain mixin needs from the client core.

Each mixin in :mod:`aiotws.calls` is a base class of :class:`aiotws.client.Client` and uses
only the core's primitives, declared once here: :class:`Requester` (the request shapes) and
:class:`ClientCore` (those plus the dispatch hooks, state and events). A mixin inherits
:data:`CoreBase`, which is :class:`ClientCore` for the type checker and ``object`` at run
time, so the core's members are typed in every mixin without being redeclared there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from eventkit import Event

from aiotws.requests import LiveHook, Pending, Registry, Stream, StreamPending
from aiotws.wire.layout import InMessage, OutMessage

__all__ = ["ClientCore", "CoreBase", "Requester", "Timeout"]

M = TypeVar("M", bound=InMessage)
#: seconds; ``None`` waits forever; ``...`` means the client's ``request_timeout``
Timeout = float | None | EllipsisType


class Requester(Protocol):
    """The client core's request primitives (see :class:`aiotws.client.Client`)."""

    server_version: int

    def next_id(self) -> int: ...

    def send(self, msg: OutMessage) -> None: ...

    async def request(
        self,
        msg: OutMessage,
        reply: type[M],
        *,
        key: int | None = None,
        timeout: Timeout = ...,
        cancel: Callable[[], OutMessage] | None = None,
        match: Callable[[InMessage], bool] | None = None,
    ) -> M: ...

    async def request_list(
        self,
        msg: OutMessage,
        items: tuple[type[InMessage], ...],
        end: tuple[type[InMessage], ...],
        *,
        key: int | None = None,
        timeout: Timeout = ...,
        cancel: Callable[[], OutMessage] | None = None,
    ) -> tuple[list[InMessage], InMessage | None]: ...

    def request_stream(
        self,
        msg: OutMessage,
        items: tuple[type[InMessage], ...],
        end: tuple[type[InMessage], ...] = (),
        *,
        key: int | None = None,
        cancel: Callable[[], OutMessage] | None = None,
        maxlen: int = 10_000,
    ) -> Stream[InMessage]: ...


class ClientCore(Requester, Protocol):
    """Everything of the client core a mixin may use: :class:`Requester`, the message
    dispatch hooks, the correlator's internals, the connection state and its events."""

    client_id: int
    managed_accounts: tuple[str, ...]
    connection_time: datetime | None
    _registry: Registry
    _live_hooks: list[LiveHook]
    _raw: dict[str, Callable[[list[str]], bool]]
    connected: Event
    disconnected: Event
    errors: Event
    batch_done: Event

    def is_connected(self) -> bool: ...

    def _use_id(self, used: int) -> None: ...

    def on(self, msg_type: type[M], handler: Callable[[M], None]) -> None: ...

    def consume(self, msg_type: type[M], handler: Callable[[M], None]) -> None: ...

    def _timeout(self, timeout: Timeout) -> float | None: ...

    def _start(self, msg: OutMessage, pending: Pending) -> None: ...

    def _start_stream(
        self, msg: OutMessage, p: StreamPending, cancel: Callable[[], OutMessage] | None
    ) -> None: ...

    async def _settle(
        self,
        pending: Pending,
        fut: asyncio.Future[Any],
        timeout: Timeout,
        cancel: Callable[[], OutMessage] | None,
    ) -> Any: ...


if TYPE_CHECKING:
    CoreBase = ClientCore
else:
    CoreBase = object
