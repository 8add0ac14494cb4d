"""The historical pacer on virtual time: a fake clock and a fake sleep, never a real wait.

``VirtualTime.sleep`` parks the sleeper until :meth:`VirtualTime.run` moves the clock to its
wake-up time, so several coroutines can wait at once and each wakes exactly when it asked.
Times are binary fractions or integers and ``margin`` is 0 unless a test says otherwise, so
the asserted times are exact.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import Awaitable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.history_pacing import (
    ERROR_162_TEXTS,
    Backoff,
    Error162,
    HistoricalPacer,
    Lease,
    PacingKey,
    PacingLimits,
    WaitReason,
    classify_162,
)

AAPL = PacingKey(265598, "SMART", "TRADES")
MSFT = PacingKey(272093, "SMART", "TRADES")
AAPL_BA = PacingKey(265598, "SMART", "BID_ASK")
EXACT = PacingLimits(margin=0.0)


class VirtualTime:
    """A clock and a sleep; time moves only inside :meth:`run`, to the next wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        assert 0 <= delay < math.inf
        self.slept.append(delay)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + delay, next(self._seq), future))
        await future

    async def run(self, *aws: Awaitable[Any]) -> list[Any]:
        """Run ``aws`` to completion, advancing the clock whenever all of them are parked."""
        tasks = [asyncio.ensure_future(a) for a in aws]
        while not all(t.done() for t in tasks):
            for _ in range(50):  # let every runnable task run until it parks
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                break
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # a cancelled sleeper
            assert self._sleepers, "deadlock: every task waits and nobody sleeps"
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)
        return [t.result() for t in tasks]


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


def make(
    vt: VirtualTime, limits: PacingLimits = EXACT, **kwargs: Any
) -> tuple[HistoricalPacer, list[tuple[str, float]]]:
    pacer = HistoricalPacer(clock=vt.time, sleep=vt.sleep, limits=limits, **kwargs)
    events: list[tuple[str, float]] = []
    pacer.waiting += lambda reason, delay: events.append((reason, delay))
    return pacer, events


async def request(
    pacer: HistoricalPacer,
    vt: VirtualTime,
    key: PacingKey,
    identity: object,
    *,
    hold: float = 0.0,
    log: list[tuple[object, float]] | None = None,
    **kwargs: Any,
) -> float:
    """Acquire, note the grant time, keep the slot ``hold`` seconds of virtual time."""
    async with pacer.slot(key, identity, **kwargs):
        granted = vt.now
        if log is not None:
            log.append((identity, granted))
        if hold:
            await vt.sleep(hold)
    return granted


# -- the rules ----------------------------------------------------------------------------------


async def test_an_identical_request_waits_15_seconds(vt: VirtualTime) -> None:
    pacer, events = make(vt)
    assert await vt.run(request(pacer, vt, AAPL, "q1")) == [0.0]
    assert await vt.run(request(pacer, vt, AAPL, "q1")) == [15.0]
    assert events == [("identical", 15.0)]
    assert await vt.run(request(pacer, vt, AAPL, "q2")) == [15.0]  # another request: no wait


async def test_identical_interval_counts_from_the_last_grant(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    await vt.run(request(pacer, vt, AAPL, "q"))
    vt.now = 10.0
    assert await vt.run(request(pacer, vt, AAPL, "q")) == [15.0]
    assert await vt.run(request(pacer, vt, AAPL, "q")) == [30.0]


async def test_the_sixth_request_for_a_key_within_2_seconds_waits(vt: VirtualTime) -> None:
    pacer, events = make(vt)
    grants = await vt.run(*(request(pacer, vt, AAPL, i) for i in range(6)))
    assert grants == [0.0] * 5 + [2.0]
    assert events == [("same_key", 2.0)]
    assert await vt.run(request(pacer, vt, MSFT, "other")) == [2.0]  # another key is free


async def test_the_same_key_window_slides(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    log: list[tuple[object, float]] = []
    for i in range(5):
        vt.now = i * 0.25
        await vt.run(request(pacer, vt, AAPL, i, log=log))
    assert await vt.run(request(pacer, vt, AAPL, 5)) == [2.0]  # the one at 0.0 expired
    assert await vt.run(request(pacer, vt, AAPL, 6)) == [2.25]  # then the one at 0.25


async def test_bid_ask_counts_twice(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    assert pacer.weight(AAPL_BA) == 2 and pacer.weight(AAPL) == 1
    grants = await vt.run(*(request(pacer, vt, AAPL_BA, i) for i in range(3)))
    assert grants == [0.0, 0.0, 2.0]
    # an explicit weight overrides it
    vt.now = 100.0
    grants = await vt.run(*(request(pacer, vt, AAPL_BA, i, weight=1) for i in range(5)))
    assert grants == [100.0] * 5


async def test_a_weight_above_the_limit_goes_alone(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, same_key_max=1))
    grants = await vt.run(*(request(pacer, vt, AAPL_BA, i) for i in range(3)))
    assert grants == [0.0, 2.0, 4.0]


async def test_the_61st_request_in_10_minutes_waits(vt: VirtualTime) -> None:
    pacer, events = make(vt)
    for i in range(60):  # one a second, each for another contract: only the window binds
        vt.now = float(i)
        await vt.run(request(pacer, vt, PacingKey(i, "SMART", "TRADES"), i))
    assert pacer.wait_time(AAPL, "next") == (541.0, WaitReason.WINDOW)
    assert await vt.run(request(pacer, vt, AAPL, "next")) == [600.0]
    assert events == [("window", 541.0)]
    assert await vt.run(request(pacer, vt, MSFT, "after")) == [601.0]


async def test_unwindowed_requests_neither_count_nor_wait_for_the_window(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, window_max=3))
    keys = [PacingKey(i, "SMART", "TRADES") for i in range(10)]
    grants = await vt.run(*(request(pacer, vt, k, k, windowed=False) for k in keys))
    assert grants == [0.0] * 10
    grants = await vt.run(*(request(pacer, vt, k, (k, "w")) for k in keys[:4]))
    assert grants == [0.0, 0.0, 0.0, 600.0]
    # the window is full, but a request for long bars goes at once
    assert await vt.run(request(pacer, vt, MSFT, "daily", windowed=False)) == [600.0]


async def test_bid_ask_counts_twice_in_the_window_too(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, window_max=3))
    keys = [PacingKey(i, "SMART", "BID_ASK") for i in range(2)]
    assert await vt.run(*(request(pacer, vt, k, k) for k in keys)) == [0.0, 600.0]


async def test_open_requests_are_bounded(vt: VirtualTime) -> None:
    pacer, events = make(vt, PacingLimits(margin=0.0, max_open=2))
    first = await pacer.acquire(AAPL, 1)
    second = await pacer.acquire(MSFT, 2)
    assert pacer.open == 2
    assert pacer.wait_time(PacingKey(3, "X", "BID"), 3) == (math.inf, WaitReason.OPEN)

    async def later() -> None:
        await vt.sleep(30.0)
        first.release()

    grants = await vt.run(request(pacer, vt, PacingKey(3, "X", "BID"), 3), later())
    assert grants[0] == 30.0
    assert events == [("open", math.inf)]
    assert pacer.open == 1
    second.release()
    assert pacer.open == 0


async def test_the_default_limits_and_margin(vt: VirtualTime) -> None:
    pacer, events = make(vt, PacingLimits())
    assert pacer.limits.max_open == 50 and pacer.limits.window_max == 60
    await vt.run(request(pacer, vt, AAPL, "q"))
    await vt.run(request(pacer, vt, AAPL, "q"))
    assert events == [("identical", pytest.approx(15.1))]


async def test_hold_delays_every_request(vt: VirtualTime) -> None:
    pacer, events = make(vt)
    pacer.hold(30.0)
    pacer.hold(5.0)  # a shorter hold never shortens a longer one
    grants = await vt.run(request(pacer, vt, AAPL, 1), request(pacer, vt, MSFT, 2))
    assert grants == [30.0, 30.0]
    assert events == [("backoff", 30.0), ("backoff", 30.0)]


async def test_the_longest_wait_is_the_reason(vt: VirtualTime) -> None:
    pacer, events = make(vt)
    await vt.run(request(pacer, vt, AAPL, "q"))
    pacer.hold(3.0)
    assert pacer.wait_time(AAPL, "q") == (15.0, WaitReason.IDENTICAL)
    assert pacer.wait_time(AAPL, "other") == (3.0, WaitReason.BACKOFF)
    assert await vt.run(request(pacer, vt, AAPL, "q")) == [15.0]
    assert events == [("identical", 15.0)]


# -- disabled -----------------------------------------------------------------------------------


async def test_disabled_lets_everything_go_at_once(vt: VirtualTime) -> None:
    pacer, events = make(vt, PacingLimits(margin=0.0, max_open=1), enabled=False)
    leases = [await pacer.acquire(AAPL_BA, "same") for _ in range(100)]
    assert pacer.open == 0 and events == [] and vt.slept == []
    assert pacer.wait_time(AAPL, "same") == (0.0, None)
    pacer.hold(60.0)
    assert await vt.run(request(pacer, vt, AAPL, "same")) == [0.0]
    for lease in leases:
        lease.release()
    assert pacer.open == 0


# -- concurrency --------------------------------------------------------------------------------


async def test_racing_coroutines_share_the_burst_limit(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    grants = await vt.run(*(request(pacer, vt, AAPL, i) for i in range(12)))
    assert sorted(grants) == [0.0] * 5 + [2.0] * 5 + [4.0] * 2


async def test_racing_identical_requests_go_15_seconds_apart(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    grants = await vt.run(*(request(pacer, vt, AAPL, "same") for _ in range(3)))
    assert sorted(grants) == [0.0, 15.0, 30.0]


async def test_slots_are_never_oversubscribed(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, max_open=3))
    running = peak = 0

    async def job(i: int) -> float:
        nonlocal running, peak
        async with pacer.slot(PacingKey(i, "SMART", "MIDPOINT"), i):
            started = vt.now
            running += 1
            peak = max(peak, running)
            await vt.sleep(1.0 + (i % 2))  # requests take 1 or 2 s
            running -= 1
        return started

    starts = await vt.run(*(job(i) for i in range(10)))
    assert peak == 3 and pacer.open == 0
    assert sorted(starts)[:3] == [0.0, 0.0, 0.0]
    assert len(set(starts)) > 1


async def test_mixed_rules_under_contention(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, max_open=4))
    log: list[tuple[object, float]] = []
    jobs = [request(pacer, vt, AAPL, i, hold=0.5, log=log) for i in range(8)]
    jobs += [request(pacer, vt, MSFT, "same", hold=0.5, log=log) for _ in range(2)]
    await vt.run(*jobs)
    assert len(log) == 10 and pacer.open == 0
    # never 6 AAPL requests within 2 s, never the two identical MSFT ones within 15 s
    aapl = sorted(t for ident, t in log if ident != "same")
    assert all(aapl[i + 5] - aapl[i] >= 2.0 for i in range(len(aapl) - 5))
    same = sorted(t for ident, t in log if ident == "same")
    assert same[1] - same[0] >= 15.0


# -- cancellation and leases --------------------------------------------------------------------


async def test_cancelling_a_sleeping_request_records_nothing(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    await vt.run(request(pacer, vt, AAPL, "q"))
    waiter = asyncio.ensure_future(pacer.acquire(AAPL, "q"))
    for _ in range(5):
        await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pacer.open == 0
    vt.now = 15.0
    assert pacer.wait_time(AAPL, "q") == (0.0, None)  # the cancelled one never counted


async def test_cancelling_a_slot_waiter_keeps_the_slot_for_others(vt: VirtualTime) -> None:
    pacer, _ = make(vt, PacingLimits(margin=0.0, max_open=1))
    held = await pacer.acquire(AAPL, 1)
    doomed = asyncio.ensure_future(pacer.acquire(MSFT, 2))
    for _ in range(5):
        await asyncio.sleep(0)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed

    async def release_later() -> None:
        await vt.sleep(1.0)
        held.release()

    grants = await vt.run(request(pacer, vt, PacingKey(3, "X", "ASK"), 3), release_later())
    assert grants[0] == 1.0
    assert pacer.open == 0


async def test_leases_release_once(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    lease = await pacer.acquire(AAPL, 1)
    assert isinstance(lease, Lease) and not lease.released and pacer.open == 1
    lease.release()
    lease.release()
    assert lease.released and pacer.open == 0


async def test_the_slot_is_released_when_the_request_fails(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    with pytest.raises(RuntimeError, match="boom"):
        async with pacer.slot(AAPL, 1) as lease:
            assert pacer.open == 1
            raise RuntimeError("boom")
    assert lease.released and pacer.open == 0


async def test_history_is_forgotten_once_it_cannot_matter(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    await vt.run(*(request(pacer, vt, PacingKey(i, "SMART", "TRADES"), i) for i in range(20)))
    assert len(pacer._identical) == 20 and len(pacer._by_key) == 20
    vt.now = 601.0
    assert pacer.wait_time(AAPL, "x") == (0.0, None)
    assert (pacer._identical, pacer._by_key, len(pacer._window)) == ({}, {}, 0)


async def test_waits_are_logged(vt: VirtualTime, caplog: pytest.LogCaptureFixture) -> None:
    pacer, _ = make(vt)
    with caplog.at_level(logging.INFO, logger="aiotws.pacing"):
        await vt.run(request(pacer, vt, AAPL, "q"), request(pacer, vt, AAPL, "q"))
    [record] = [r for r in caplog.records if r.name == "aiotws.pacing"]
    assert "waits 15 s (identical)" in record.getMessage()
    assert "265598" in record.getMessage()


@pytest.mark.parametrize(
    "kwargs",
    [{"same_key_max": 0}, {"window_max": 0}, {"max_open": 0}, {"margin": -1.0},
     {"identical_interval": -1.0}],
)  # fmt: skip
def test_limits_are_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        PacingLimits(**kwargs)


async def test_weights_are_validated(vt: VirtualTime) -> None:
    pacer, _ = make(vt)
    with pytest.raises(ValueError, match="weight"):
        await pacer.acquire(AAPL, 1, weight=0)


def test_the_defaults_need_no_injection() -> None:
    pacer = HistoricalPacer()
    assert pacer.enabled and pacer.open == 0
    assert pacer.wait_time(AAPL, 1) == (0.0, None)


# -- error 162 ----------------------------------------------------------------------------------

HMDS = "Historical Market Data Service error message:"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (HMDS + "Historical data request pacing violation", Error162.PACING),
        (HMDS + "pacing violation", Error162.PACING),
        (HMDS.upper() + "HISTORICAL DATA REQUEST PACING VIOLATION", Error162.PACING),
        (HMDS + "HMDS query returned no data: ESM3@CME Trades", Error162.NO_DATA),
        (HMDS + "HMDS query returned no data: EUR.USD@IDEALPRO Ask", Error162.NO_DATA),
        (HMDS + "API historical data query cancelled: 28", Error162.CANCELLED),
        (HMDS + "API historical data query canceled: 28", Error162.CANCELLED),
        (HMDS + "No market data permissions for NYSE STK", Error162.ERROR),
        (HMDS + "No historical market data for EUR/CASH@FXSUBPIP Last 0", Error162.ERROR),
        (HMDS + "Time length exceed max.", Error162.ERROR),
        (HMDS + "Trading TWS session is connected from a different IP address", Error162.ERROR),
        ("Mensaje de error de los servicios de datos de mercado históricos:invalid step: 1",
         Error162.ERROR),
        ("", Error162.ERROR),
    ],
)  # fmt: skip
def test_162_texts_are_classified(text: str, kind: Error162) -> None:
    assert classify_162(text) is kind
    assert kind.retry is (kind is Error162.PACING)


def test_the_162_table_is_lower_case_phrases() -> None:
    assert all(phrase == phrase.lower() for phrase, _ in ERROR_162_TEXTS)
    assert {kind for _, kind in ERROR_162_TEXTS} == set(Error162) - {Error162.ERROR}


# -- backoff ------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap() -> None:
    middle = Backoff(initial=10.0, factor=2.0, cap=50.0, max_attempts=6, jitter=0.5)
    assert [middle.delay(n, rng=lambda: 0.5) for n in range(1, 7)] == [10, 20, 40, 50, 50, None]
    assert list(middle.delays(rng=lambda: 0.5)) == [10, 20, 40, 50, 50]


def test_backoff_defaults() -> None:
    backoff = Backoff()
    assert list(backoff.delays(rng=lambda: 0.5)) == [15.0, 30.0, 60.0, 120.0]
    assert backoff.delay(5) is None


def test_backoff_jitter_stays_within_its_band_and_the_cap() -> None:
    backoff = Backoff(initial=100.0, cap=150.0, jitter=0.2)
    assert backoff.delay(1, rng=lambda: 0.0) == pytest.approx(80.0)
    assert backoff.delay(1, rng=lambda: 0.999999) == pytest.approx(120.0, abs=1e-3)
    assert backoff.delay(2, rng=lambda: 0.999999) == 150.0  # 200 capped, jitter cannot exceed it


@given(
    failures=st.integers(min_value=1, max_value=10),
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_property(failures: int, draw: float, jitter: float) -> None:
    backoff = Backoff(initial=2.0, factor=3.0, cap=100.0, max_attempts=8, jitter=jitter)
    delay = backoff.delay(failures, rng=lambda: draw)
    if failures >= 8:
        assert delay is None
        return
    assert delay is not None
    base = min(100.0, 2.0 * 3.0 ** (failures - 1))
    assert base * (1 - jitter) - 1e-9 <= delay <= min(100.0, base * (1 + jitter)) + 1e-9


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1.0}, {"factor": 0.5}, {"cap": 1.0, "initial": 2.0}, {"max_attempts": 0},
     {"jitter": 1.5}],
)  # fmt: skip
def test_backoff_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_backoff_failures_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        Backoff().delay(0)


async def test_a_pacing_violation_holds_the_retry(vt: VirtualTime) -> None:
    """The client's loop: classify the 162, hold the pacer for the backoff delay, retry."""
    pacer, events = make(vt)
    backoff = Backoff(jitter=0.0)
    await vt.run(request(pacer, vt, AAPL, "q"))
    kind = classify_162(HMDS + "Historical data request pacing violation")
    assert kind.retry
    delay = backoff.delay(1)
    assert delay == 15.0
    pacer.hold(delay)
    assert await vt.run(request(pacer, vt, AAPL, "q"), request(pacer, vt, MSFT, "r")) == [
        15.0,
        15.0,
    ]
    assert {reason for reason, _ in events} == {"backoff"}
