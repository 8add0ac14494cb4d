"""Outgoing message pacing: a token bucket under TWS's 50 messages/second limit.

TWS rejects messages above its rate (error 100) and ends the session after repeated
violations (PROTOCOL.md section 9). :class:`Pacer` keeps every outgoing message under
``rate`` per second with bursts up to ``burst``, by *queueing*, never dropping: ``send`` is
synchronous and keeps order; messages over the budget wait in a FIFO that a timer drains.
The clock and the timer are injected, so tests run it without sleeping.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["DEFAULT_BURST", "DEFAULT_RATE", "Pacer"]

log = logging.getLogger("aiotws.pacing")

#: ib_async's 45/s: a margin under TWS's 50/s for the clock skew between us and TWS.
DEFAULT_RATE = 45.0
# A token counts as whole a hair early: the refill is float arithmetic on the clock, and a
# drain timer that fires exactly when a token is due must not see 0.9999999 and re-arm.
_ONE = 1.0 - 1e-9
DEFAULT_BURST = 45


class _Handle(Protocol):
    def cancel(self) -> None: ...


class Pacer:
    """Token bucket over a write function.

    Args:
        write: sends bytes (the transport's ``write``).
        clock: monotonic seconds (``loop.time``).
        call_later: ``loop.call_later``-like scheduler for the drain timer.
        rate: messages per second; ``0`` or less disables pacing.
        burst: bucket size (messages that may go at once after a quiet period).
    """

    __slots__ = (
        "_call_later",
        "_clock",
        "_last",
        "_queue",
        "_timer",
        "_tokens",
        "_write",
        "burst",
        "delayed",
        "rate",
    )

    def __init__(
        self,
        write: Callable[[bytes], object],
        clock: Callable[[], float],
        call_later: Callable[[float, Callable[[], None]], _Handle],
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
    ) -> None:
        self._write = write
        self._clock = clock
        self._call_later = call_later
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._last = clock()
        self._queue: deque[bytes] = deque()
        self._timer: _Handle | None = None
        #: how many messages had to wait (for diagnostics and tests)
        self.delayed = 0

    @property
    def queued(self) -> int:
        """Messages waiting for budget."""
        return len(self._queue)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now

    def send(self, data: bytes) -> None:
        """Send ``data`` now if the budget allows, else queue it behind earlier messages."""
        if self.rate <= 0:
            self._write(data)
            return
        if not self._queue:
            self._refill()
            if self._tokens >= _ONE:
                self._tokens -= 1.0
                self._write(data)
                return
        self._queue.append(data)
        self.delayed += 1
        if len(self._queue) == 1:
            log.debug("outgoing rate above %g/s: queueing messages", self.rate)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self._queue:
            wait = max(0.0, (1.0 - self._tokens) / self.rate)
            self._timer = self._call_later(wait, self._drain)

    def _drain(self) -> None:
        self._timer = None
        self._refill()
        queue = self._queue
        if queue:  # armed for when a token is due: an early or rounded wake-up still sends one
            self._tokens -= 1.0
            self._write(queue.popleft())
        while queue and self._tokens >= _ONE:
            self._tokens -= 1.0
            self._write(queue.popleft())
        self._schedule()

    def clear(self) -> None:
        """Drop queued messages and the timer (the connection is gone)."""
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
