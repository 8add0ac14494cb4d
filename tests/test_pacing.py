"""The outgoing token bucket, on a fake clock and a fake timer: no sleeping, no event loop.

Times and rates are mostly binary fractions (0.25 s, 4/s) so float arithmetic is exact; one
test uses realistic values (rate 45/s, clock at 1.0) where the refill rounds to 0.99999….
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from aiotws.pacing import DEFAULT_BURST, DEFAULT_RATE, Pacer


@dataclass
class Timer:
    when: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeLoop:
    """A clock and a ``call_later`` whose callbacks run only when the test advances time."""

    now: float = 0.0
    timers: list[Timer] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        assert delay >= 0
        t = Timer(self.now + delay, callback)
        self.timers.append(t)
        return t

    @property
    def pending(self) -> list[Timer]:
        return [t for t in self.timers if not t.cancelled]

    def advance(self, dt: float) -> None:
        """Move time forward by ``dt``, running every timer that falls due, in order.

        A timer that keeps re-arming itself without time moving on is a livelock: fail
        instead of hanging.
        """
        end = self.now + dt
        spins = 0
        while True:
            due = [t for t in self.pending if t.when <= end]
            if not due:
                break
            t = min(due, key=lambda t: t.when)
            self.timers.remove(t)
            spins = spins + 1 if t.when <= self.now else 0
            assert spins < 100, f"timer re-armed {spins} times at t={self.now} without progress"
            self.now = max(self.now, t.when)
            t.callback()
        self.now = end


@pytest.fixture
def loop() -> FakeLoop:
    return FakeLoop()


def make(loop: FakeLoop, rate: float = 4.0, burst: int = 3) -> tuple[Pacer, list[bytes]]:
    sent: list[bytes] = []
    return Pacer(sent.append, loop.time, loop.call_later, rate=rate, burst=burst), sent


def msgs(n: int, start: int = 0) -> list[bytes]:
    return [b"m%d" % i for i in range(start, start + n)]


def test_defaults_stay_under_tws_limit() -> None:
    assert DEFAULT_RATE < 50
    assert DEFAULT_BURST <= 50


def test_sends_up_to_burst_immediately(loop: FakeLoop) -> None:
    pacer, sent = make(loop, burst=3)
    for m in msgs(3):
        pacer.send(m)
    assert sent == msgs(3)
    assert pacer.queued == 0
    assert pacer.delayed == 0
    assert loop.pending == []


def test_queues_the_rest_in_order(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=3)
    for m in msgs(6):
        pacer.send(m)
    assert sent == msgs(3)
    assert pacer.queued == 3
    assert pacer.delayed == 3
    (timer,) = loop.pending  # one drain timer, not one per message
    assert timer.when == pytest.approx(0.25)


def test_drains_at_rate(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=3)
    for m in msgs(7):
        pacer.send(m)
    assert len(sent) == 3
    loop.advance(0.2)
    assert len(sent) == 3  # 0.8 of a token: not yet
    loop.advance(0.05)
    assert sent == msgs(4)
    loop.advance(0.25)
    assert sent == msgs(5)
    loop.advance(0.5)
    assert sent == msgs(7)
    assert pacer.queued == 0
    assert loop.pending == []


def test_drain_after_a_long_pause_sends_a_burst(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=3)
    for m in msgs(10):
        pacer.send(m)
    loop.now += 100.0  # the timer fires late (a busy loop): the bucket is full again, capped
    (timer,) = loop.pending
    loop.timers.remove(timer)
    timer.callback()
    assert sent == msgs(6)  # 3 at once, then 3 more (burst cap, not 400 tokens)
    assert pacer.queued == 4


def test_never_reorders(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=2)
    order: list[bytes] = []
    for step in range(40):
        m = b"m%d" % step
        order.append(m)
        pacer.send(m)
        loop.advance(0.125 if step % 3 else 0.5)
        assert sent == order[: len(sent)]  # always a prefix of the send order
    loop.advance(60)
    assert sent == order


def test_new_message_waits_behind_queued_ones_even_with_budget(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=1)
    pacer.send(b"a")
    pacer.send(b"b")  # queued
    loop.now += 10  # budget is back, but the timer has not run yet
    pacer.send(b"c")
    assert sent == [b"a"]  # c must not overtake b
    loop.advance(0)  # the late timer: one token (burst 1) goes to b
    assert sent == [b"a", b"b"]
    loop.advance(0.25)
    assert sent == [b"a", b"b", b"c"]


def test_steady_rate_over_time(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=8.0, burst=4)
    for m in msgs(100):
        pacer.send(m)
    loop.advance(1.0)
    assert len(sent) == 4 + 8
    loop.advance(1.0)
    assert len(sent) == 4 + 16
    loop.advance(100)
    assert sent == msgs(100)


def test_quiet_period_refills_the_bucket(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=3)
    for m in msgs(3):
        pacer.send(m)
    loop.advance(0.5)  # 2 tokens back
    for m in msgs(3, 3):
        pacer.send(m)
    assert sent == msgs(5)
    assert pacer.queued == 1


def test_clear_drops_queue_and_cancels_timer(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=1)
    for m in msgs(5):
        pacer.send(m)
    (timer,) = loop.pending
    pacer.clear()
    assert timer.cancelled
    assert pacer.queued == 0
    assert loop.pending == []
    loop.advance(10)
    assert sent == msgs(1)
    pacer.send(b"after")  # usable again
    assert sent == [*msgs(1), b"after"]


def test_clear_without_queue(loop: FakeLoop) -> None:
    pacer, sent = make(loop)
    pacer.clear()
    pacer.send(b"x")
    assert sent == [b"x"]


@pytest.mark.parametrize("rate", [0, -1])
def test_rate_zero_disables_pacing(loop: FakeLoop, rate: float) -> None:
    pacer, sent = make(loop, rate=rate, burst=1)
    for m in msgs(100):
        pacer.send(m)
    assert sent == msgs(100)
    assert pacer.queued == 0
    assert pacer.delayed == 0
    assert loop.timers == []


def test_burst_is_at_least_one(loop: FakeLoop) -> None:
    pacer, sent = make(loop, rate=4.0, burst=0)
    assert pacer.burst == 1
    pacer.send(b"a")
    pacer.send(b"b")
    assert sent == [b"a"]
    loop.advance(0.25)
    assert sent == [b"a", b"b"]


def test_write_gets_the_exact_bytes(loop: FakeLoop) -> None:
    pacer, sent = make(loop)
    data = b"\x00\x00\x00\x03ab\x00"
    pacer.send(data)
    assert sent[0] is data


def test_drain_timer_on_time_sends_with_realistic_clock_and_rate() -> None:
    # the drain timer fires exactly when a token is due; float rounding must not make it
    # send nothing and re-arm with a delay that does not move the clock (a busy loop)
    loop = FakeLoop(now=1.0)
    pacer, sent = make(loop, rate=DEFAULT_RATE, burst=1)
    pacer.send(b"a")
    pacer.send(b"b")
    (timer,) = loop.pending
    assert timer.when == pytest.approx(1.0 + 1 / DEFAULT_RATE)
    loop.advance(timer.when - loop.now)  # fire exactly on time
    assert sent == [b"a", b"b"]


def test_drain_timer_that_fires_early_still_sends() -> None:
    loop = FakeLoop(now=0.0)
    pacer, sent = make(loop, rate=DEFAULT_RATE, burst=1)
    pacer.send(b"a")
    pacer.send(b"b")
    (timer,) = loop.pending
    # the loop runs the timer 10 ms before it is due and its clock does not move meanwhile
    loop.now = timer.when - 0.010
    for _ in range(100):
        if sent == [b"a", b"b"]:
            break
        (timer,) = loop.pending
        assert timer.when - loop.now <= 0.0156, "not early enough to model the bug"
        loop.timers.remove(timer)
        timer.callback()
    assert sent == [b"a", b"b"]
