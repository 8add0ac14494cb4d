"""What every live object shares: a latest-state async iterator over its updates."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

__all__ = ["LatestUpdates"]

T = TypeVar("T")


class LatestUpdates(Generic[T]):
    """One consumer of a live object's ``updates()``: yields the object itself, newest state.

    At most one update is pending: a consumer slower than the feed skips the states in
    between instead of buffering them, so memory never grows. The owner calls :meth:`wake`
    after each update and :meth:`end` when it is done (with the error, if it failed); the
    iterator then stops (or raises that error).
    """

    def __init__(
        self, owner: T, waiters: list[LatestUpdates[T]], closed: bool | BaseException
    ) -> None:
        self.owner = owner
        self.waiters = waiters
        self.pending = False
        self.error: BaseException | None = None
        self.done = False
        self.final = False
        self.waiter: asyncio.Future[None] | None = None
        waiters.append(self)
        if closed is not False:
            self.end(closed if isinstance(closed, BaseException) else None)

    def wake(self) -> None:
        self.pending = True
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    def finish(self) -> None:
        """Yield the owner's newest state once more, then stop (the owner is done)."""
        self.final = True
        self.wake()

    def end(self, error: BaseException | None = None) -> None:
        self.done = True
        self.error = error
        self.wake()

    def __aiter__(self) -> LatestUpdates[T]:
        return self

    async def __anext__(self) -> T:
        while not self.pending:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        self.pending = False
        if self.done:
            self._detach()
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        if self.final:  # this is the last state: the next step stops
            self.final = False
            self.done = self.pending = True
        return self.owner

    def _detach(self) -> None:
        if self in self.waiters:
            self.waiters.remove(self)

    async def aclose(self) -> None:
        self._detach()
