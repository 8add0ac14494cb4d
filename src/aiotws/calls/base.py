"""What a domain mixin needs from the client core."""

from __future__ import annotations

from collections.abc import Callable
from types import EllipsisType
from typing import Protocol, TypeVar

from aiotws.requests import Stream
from aiotws.wire.layout import InMessage, OutMessage

__all__ = ["Requester", "Timeout"]

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
