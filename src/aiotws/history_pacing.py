"""Historical request pacing: keep within IB's historical data rules by waiting, never failing.

IB's historical data farm answers error 162 "pacing violation" when a client breaks its rules
(PROTOCOL.md section 9; IBKR Campus, "Pacing Violations for Small Bars"):

* no identical request within 15 s;
* no 6 or more requests for the same (contract, exchange, tick type) within 2 s;
* no more than 60 requests in any 10 minutes (bars of 30 secs or less, head timestamps);
* BID_ASK counts twice; at most 50 requests open at once.

:class:`HistoricalPacer` enforces all of them locally: ``async with pacer.slot(key, identity)``
waits, through the injected ``sleep``, until the request may go, records it, and holds one of
the open slots until the block ends. It reads time only through the injected ``clock``, so
tests run it on a fake clock without sleeping. Every delay fires :attr:`HistoricalPacer.waiting`
and logs a line (logger ``aiotws.pacing``).

A violation TWS still reports is classified by :func:`classify_162`; pacing violations are
retried after a :class:`Backoff` delay, which :meth:`HistoricalPacer.hold` applies to every
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from eventkit import Event

__all__ = [
    "ERROR_162_TEXTS",
    "Backoff",
    "Error162",
    "HistoricalPacer",
    "Lease",
    "PacingKey",
    "PacingLimits",
    "WaitReason",
    "classify_162",
]

log = logging.getLogger("aiotws.pacing")

# A wait this short is float noise from the clock arithmetic (now + delay - window), not time.
_EPS: Final = 1e-9


class PacingKey(NamedTuple):
    """What IB's "same contract, exchange and tick type" rule compares."""

    contract: int | str  # conId, or the symbol when there is none
    exchange: str
    what_to_show: str


class WaitReason(enum.StrEnum):
    """Why a request waits (the ``reason`` of :attr:`HistoricalPacer.waiting`)."""

    IDENTICAL = "identical"  # the same request less than 15 s ago
    SAME_KEY = "same_key"  # too many for this contract/exchange/tick type within 2 s
    WINDOW = "window"  # too many within 10 minutes
    OPEN = "open"  # every open slot is taken (the delay is unknown: ``inf``)
    BACKOFF = "backoff"  # held after a pacing violation (:meth:`HistoricalPacer.hold`)


@dataclass(frozen=True, slots=True)
class PacingLimits:
    """IB's historical pacing rules as numbers (all configurable).

    ``margin`` is added to every interval: TWS measures arrival times, which our clock does
    not see exactly. Requests whose ``what_to_show`` is in ``double_weight`` count twice.
    """

    identical_interval: float = 15.0
    same_key_max: int = 5  # "6 or more within 2 s" is a violation
    same_key_interval: float = 2.0
    window_max: int = 60
    window_interval: float = 600.0
    max_open: int = 50
    margin: float = 0.1
    double_weight: frozenset[str] = field(default_factory=lambda: frozenset({"BID_ASK"}))

    def __post_init__(self) -> None:
        if min(self.same_key_max, self.window_max, self.max_open) < 1:
            raise ValueError("request counts must be at least 1")
        intervals = (self.identical_interval, self.same_key_interval, self.window_interval)
        if min(*intervals, self.margin) < 0:
            raise ValueError("intervals and margin must not be negative")


class Lease:
    """One open historical request: :meth:`release` frees its slot (idempotent)."""

    __slots__ = ("_pacer",)

    def __init__(self, pacer: HistoricalPacer | None) -> None:
        self._pacer = pacer

    @property
    def released(self) -> bool:
        return self._pacer is None

    def release(self) -> None:
        """Free the slot (the request ended: answered, failed or cancelled)."""
        pacer, self._pacer = self._pacer, None
        if pacer is not None:
            pacer._release()


class HistoricalPacer:
    """Waits until a historical request is within IB's pacing rules, then records it.

    Args:
        clock: monotonic seconds (``loop.time``).
        sleep: awaits the given seconds (``asyncio.sleep``).
        limits: the rules (:class:`PacingLimits`).
        enabled: ``False`` lets every request go at once, unrecorded and unlimited.

    Check and record happen in one step between awaits, so coroutines racing for slots
    cannot both pass a limit. Cancelling a waiting :meth:`acquire` records nothing and takes
    no slot. History older than the longest interval is dropped as requests come.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        limits: PacingLimits | None = None,
        enabled: bool = True,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.limits = limits if limits is not None else PacingLimits()
        self.enabled = enabled
        #: fired with ``(reason: WaitReason, delay: float)`` whenever a request must wait
        self.waiting = Event("historical_pacer.waiting")
        self._identical: dict[Hashable, float] = {}  # identity -> last time, oldest first
        self._by_key: dict[PacingKey, deque[tuple[float, int]]] = {}
        self._window: deque[tuple[float, int]] = deque()
        self._hold_until = -math.inf
        self._open = 0
        self._slot_waiters: deque[asyncio.Future[None]] = deque()

    @property
    def open(self) -> int:
        """Requests holding a slot."""
        return self._open

    def weight(self, key: PacingKey) -> int:
        """How many requests ``key`` counts as (2 for BID_ASK)."""
        return 2 if key.what_to_show.upper() in self.limits.double_weight else 1

    def wait_time(
        self,
        key: PacingKey,
        identity: Hashable,
        *,
        weight: int | None = None,
        windowed: bool = True,
    ) -> tuple[float, WaitReason | None]:
        """How long the request would wait now, and why (``(0.0, None)``: it may go).

        Only blocked by open slots: ``(inf, OPEN)``. Never records anything.
        """
        if not self.enabled:
            return 0.0, None
        now = self._clock()
        delay, reason = self._time_wait(key, identity, self._weight(key, weight), windowed, now)
        if reason is None and self._open >= self.limits.max_open:
            return math.inf, WaitReason.OPEN
        return delay, reason

    async def acquire(
        self,
        key: PacingKey,
        identity: Hashable,
        *,
        weight: int | None = None,
        windowed: bool = True,
    ) -> Lease:
        """Wait until the request may go, record it and take a slot.

        Args:
            key: contract, exchange and tick type (the 2-second rule).
            identity: the whole request (the 15-second rule); any hashable value.
            weight: how many requests it counts as (default :meth:`weight`).
            windowed: whether it counts toward, and is held by, the 10-minute window. Give
                ``False`` for bars of 1 min and longer, for which IB lifted that limit.

        Returns the :class:`Lease` to release when the request ends.
        """
        if not self.enabled:
            return Lease(None)
        w = self._weight(key, weight)
        if w < 1:
            raise ValueError(f"weight must be at least 1, not {w}")
        while True:
            now = self._clock()
            delay, reason = self._time_wait(key, identity, w, windowed, now)
            if reason is not None:
                self._announce(key, reason, delay)
                await self._sleep(delay)
                continue
            if self._open >= self.limits.max_open:
                self._announce(key, WaitReason.OPEN, math.inf)
                await self._wait_for_slot()
                continue
            self._record(key, identity, w, windowed, now)
            self._open += 1
            return Lease(self)

    @contextlib.asynccontextmanager
    async def slot(
        self,
        key: PacingKey,
        identity: Hashable,
        *,
        weight: int | None = None,
        windowed: bool = True,
    ) -> AsyncIterator[Lease]:
        """``async with pacer.slot(key, identity):`` :meth:`acquire`, released on exit."""
        lease = await self.acquire(key, identity, weight=weight, windowed=windowed)
        try:
            yield lease
        finally:
            lease.release()

    def hold(self, seconds: float) -> None:
        """Let no request go for ``seconds`` from now (after a pacing violation: see
        :class:`Backoff`). A shorter hold never shortens a longer one."""
        if self.enabled:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    # -- internals ------------------------------------------------------------------------------

    def _weight(self, key: PacingKey, weight: int | None) -> int:
        return self.weight(key) if weight is None else weight

    def _time_wait(
        self, key: PacingKey, identity: Hashable, weight: int, windowed: bool, now: float
    ) -> tuple[float, WaitReason | None]:
        lim = self.limits
        self._prune(now)
        waits = [(self._hold_until - now, WaitReason.BACKOFF)]
        last = self._identical.get(identity)
        if last is not None:
            waits.append((last + lim.identical_interval + lim.margin - now, WaitReason.IDENTICAL))
        entries = self._by_key.get(key)
        if entries:
            interval = lim.same_key_interval + lim.margin
            waits.append(
                (_count_wait(entries, interval, lim.same_key_max, weight, now), WaitReason.SAME_KEY)
            )
        if windowed:
            interval = lim.window_interval + lim.margin
            waits.append(
                (
                    _count_wait(self._window, interval, lim.window_max, weight, now),
                    WaitReason.WINDOW,
                )
            )
        delay, reason = max(waits, key=lambda w: w[0])
        return (delay, reason) if delay > _EPS else (0.0, None)

    def _record(
        self, key: PacingKey, identity: Hashable, weight: int, windowed: bool, now: float
    ) -> None:
        self._identical.pop(identity, None)  # re-insert: the dict stays oldest first
        self._identical[identity] = now
        self._by_key.setdefault(key, deque()).append((now, weight))
        if windowed:
            self._window.append((now, weight))

    def _prune(self, now: float) -> None:
        lim = self.limits
        horizon = now - lim.identical_interval - lim.margin + _EPS
        for identity, at in list(self._identical.items()):
            if at > horizon:
                break
            del self._identical[identity]
        horizon = now - lim.same_key_interval - lim.margin + _EPS
        for key, entries in list(self._by_key.items()):
            while entries and entries[0][0] <= horizon:
                entries.popleft()
            if not entries:
                del self._by_key[key]
        horizon = now - lim.window_interval - lim.margin + _EPS
        while self._window and self._window[0][0] <= horizon:
            self._window.popleft()

    def _announce(self, key: PacingKey, reason: WaitReason, delay: float) -> None:
        log.info("historical request %s waits %.3g s (%s)", tuple(key), delay, reason)
        self.waiting.emit(reason, delay)

    async def _wait_for_slot(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._slot_waiters.append(waiter)
        try:
            await waiter
        finally:
            with contextlib.suppress(ValueError):
                self._slot_waiters.remove(waiter)

    def _release(self) -> None:
        self._open -= 1
        # wake every waiter: each re-checks its own time rules, and whoever can go first
        # takes the slot (waking just one could pick one that still has to sleep)
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


def _count_wait(
    entries: deque[tuple[float, int]], interval: float, limit: int, weight: int, now: float
) -> float:
    """Seconds until ``weight`` more fits under ``limit`` in the trailing ``interval``.

    ``entries`` (time, weight), oldest first, are all within the interval (pruned). A weight
    above the limit goes alone, once the interval is empty.
    """
    excess = sum(w for _, w in entries) + weight - limit
    if excess <= 0:
        return 0.0
    for at, w in entries:
        excess -= w
        if excess <= 0:
            return at + interval - now
    return entries[-1][0] + interval - now if entries else 0.0


# -- error 162 ----------------------------------------------------------------------------------


class Error162(enum.StrEnum):
    """What an ERR_MSG 162 (historical data farm error) means for the request."""

    PACING = "pacing"  # a pacing violation: retry after a Backoff delay
    NO_DATA = "no_data"  # the query is fine but has no bars: an empty result, not retried
    CANCELLED = "cancelled"  # the query was cancelled (our CANCEL_HISTORICAL_DATA, or TWS)
    ERROR = "error"  # anything else (permissions, time length, another session…): fail

    @property
    def retry(self) -> bool:
        return self is Error162.PACING


#: Phrases of TWS's 162 texts (case-insensitive, first match wins) and what they mean. They are
#: matched after the prefix, which TWS translates ("Historical Market Data Service error
#: message:", Spanish "Mensaje de error de los servicios de datos de mercado históricos:"). Seen:
#: "…:Historical data request pacing violation" (QuantConnect/Lean#607, mementum/backtrader#110),
#: "…:HMDS query returned no data: ESM3@CME Trades" (wrighter/ib-scripts#17), "…:API historical
#: data query cancelled: 28" (erdewit/ib_insync#268); PROTOCOL.md section 8.
ERROR_162_TEXTS: Final[tuple[tuple[str, Error162], ...]] = (
    ("pacing violation", Error162.PACING),
    ("query returned no data", Error162.NO_DATA),
    ("query cancelled", Error162.CANCELLED),
    ("query canceled", Error162.CANCELLED),
)


def classify_162(text: str) -> Error162:
    """What TWS's error 162 ``text`` means: see :data:`ERROR_162_TEXTS`; otherwise ERROR
    (e.g. "No market data permissions", "No historical market data for …", "Time length
    exceed max.", "Trading TWS session is connected from a different IP address")."""
    lowered = text.lower()
    for phrase, kind in ERROR_162_TEXTS:
        if phrase in lowered:
            return kind
    return Error162.ERROR


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays before retrying after pacing violations: exponential, capped, with jitter.

    The n-th retry waits ``min(cap, initial * factor ** (n - 1))`` seconds, times a random
    factor in ``[1 - jitter, 1 + jitter]`` (never above ``cap``). ``max_attempts`` counts
    every attempt, the first included. The defaults start at IB's 15-second identical-request
    interval and give up after about four minutes of retries.
    """

    initial: float = 15.0
    factor: float = 2.0
    cap: float = 600.0
    max_attempts: int = 5
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.initial < 0 or self.factor < 1 or self.cap < self.initial:
            raise ValueError("need 0 <= initial <= cap and factor >= 1")
        if self.max_attempts < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("need max_attempts >= 1 and 0 <= jitter <= 1")

    def delay(self, failures: int, rng: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait after ``failures`` failed attempts (1 or more), or ``None`` when
        all ``max_attempts`` are used up. ``rng`` returns a float in ``[0, 1)``."""
        if failures < 1:
            raise ValueError("failures counts from 1")
        if failures >= self.max_attempts:
            return None
        base = min(self.cap, self.initial * self.factor ** (failures - 1))
        return min(self.cap, base * (1 + self.jitter * (2 * rng() - 1)))

    def delays(self, rng: Callable[[], float] = random.random) -> Iterator[float]:
        """Every retry delay in turn (``max_attempts - 1`` of them)."""
        for failures in range(1, self.max_attempts):
            delay = self.delay(failures, rng)
            assert delay is not None
            yield delay
