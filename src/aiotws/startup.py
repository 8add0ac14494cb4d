"""The connect-time state sync: open orders, positions, account, executions, in parallel.

TWS replays nothing a client can rely on, so after connecting :class:`~aiotws.IB` asks for
the state a trading program needs before its first decision: the open orders, the
positions, the account's values and portfolio, and today's executions (and, if asked for,
the completed orders). The steps run concurrently, so connecting costs one round trip more,
not five. Each step is bounded by ``step_timeout``: TWS is known to leave REQ_EXECUTIONS and
REQ_COMPLETED_ORDERS unanswered at times (ib_async#82, ib_insync#638), and a step that fails
or times out makes the sync *partial*, reported by the ``partial_sync`` event and
:attr:`IB.last_sync`, never a failed connect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiotws.model.account import ExecutionFilter

__all__ = ["StartupSync", "SyncReport", "SyncStep"]

log = logging.getLogger("aiotws.startup")


@dataclass(slots=True)
class StartupSync:
    """What :meth:`IB.connect` loads before it returns (``IB(sync=...)``).

    ``account_updates`` subscribes to the account given to ``connect(account=...)``, or to the
    only managed account (an advisor login with several must name one). ``all_open_orders``
    asks for every client's open orders (REQ_ALL_OPEN_ORDERS) instead of this client's.
    """

    open_orders: bool = True
    all_open_orders: bool = False
    positions: bool = True
    account_updates: bool = True
    executions: bool = True
    #: which executions (default: every execution TWS reports, today's)
    execution_filter: ExecutionFilter | None = None
    completed_orders: bool = False
    #: seconds each step may take
    step_timeout: float = 10.0

    @classmethod
    def none(cls) -> StartupSync:
        """Load nothing at connect (a market-data-only program)."""
        return cls(
            open_orders=False,
            positions=False,
            account_updates=False,
            executions=False,
            completed_orders=False,
        )


@dataclass(frozen=True, slots=True)
class SyncStep:
    """One step of the sync: its name, whether it finished, how long it took, and why not."""

    name: str
    ok: bool
    seconds: float
    error: BaseException | None = None


@dataclass(slots=True)
class SyncReport:
    """The outcome of one connect-time sync."""

    steps: list[SyncStep] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every step finished."""
        return all(s.ok for s in self.steps)

    def failed(self) -> list[SyncStep]:
        return [s for s in self.steps if not s.ok]

    @property
    def seconds(self) -> float:
        """The longest step: the steps run concurrently."""
        return max((s.seconds for s in self.steps), default=0.0)

    def __str__(self) -> str:
        parts = [
            f"{s.name} {'ok' if s.ok else 'FAILED'} {s.seconds * 1000:.0f} ms"
            + ("" if s.error is None else f" ({type(s.error).__name__}: {s.error})")
            for s in self.steps
        ]
        return "; ".join(parts) or "nothing to sync"


async def _step(name: str, make: Callable[[], Awaitable[Any]], timeout: float) -> SyncStep:
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await make()
    except TimeoutError:
        err = TimeoutError(f"{name}: no end within {timeout:g} s")
        return SyncStep(name, False, time.perf_counter() - t0, err)
    except Exception as e:  # a step's failure is reported, never raised
        return SyncStep(name, False, time.perf_counter() - t0, e)
    return SyncStep(name, True, time.perf_counter() - t0)


async def run_sync(steps: dict[str, Callable[[], Awaitable[Any]]], timeout: float) -> SyncReport:
    """Run the named steps concurrently, each bounded by ``timeout``."""
    results = await asyncio.gather(*(_step(n, f, timeout) for n, f in steps.items()))
    report = SyncReport(list(results))
    if report.complete:
        log.info("startup sync: %s", report)
    else:
        log.warning("startup sync partial: %s", report)
    return report
