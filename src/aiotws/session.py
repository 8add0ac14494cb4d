"""The session supervisor: keep one ``IB`` connected through TWS restarts and network faults.

TWS and IB Gateway restart every day, IB's servers reset every night, networks drop, and a
gateway can keep a socket open while it answers nothing. :class:`Session` owns the
connection of an :class:`~aiotws.IB` after its first successful ``connect`` and

* detects loss of every kind: EOF or reset, a refused or at-once-closed reconnect (TWS
  restarting or at its login screen), a handshake or START_API that never completes, a socket
  that stays open but goes silent (the heartbeat: an idle connection is probed with
  REQ_CURRENT_TIME), 1300 (TWS moved the API to another port);
* reconnects with capped exponential backoff and jitter, with no attempt limit by default,
  backing off on 326 (TWS still holds the old session's client id) and optionally rotating
  through other client ids;
* restores: the connect-time sync again (open orders, positions, account values and
  portfolio, executions, and completed orders so orders that ended during the outage end
  here too; fills merge by ``exec_id``, so none is missed or counted twice), then every live
  subscription re-issued under fresh request ids on the same objects (tickers, books,
  tick-by-tick streams, bar lists, account subscriptions and PnL);
* follows TWS's link to IB: 1100 marks the session *degraded* (data stale, socket kept),
  1101 (restored, data lost) re-subscribes all market data on the live socket, 1102
  (restored, data kept) clears it.

Events: ``reconnecting(attempt, delay)``, ``restored(SyncReport)``, ``state_changed(status)``;
:attr:`Session.status` says where it is, since when, how long it has been down and why.
The log says what happened and what comes next.

While disconnected, new requests raise :class:`~aiotws.errors.NotConnected` at once (a
``place_order`` among them: nothing is queued to be sent later), and requests in flight
when the connection went end with :class:`~aiotws.errors.ConnectionLost`; both are safe to
retry once ``restored`` fired.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from eventkit import Event

from aiotws.errors import ClientIdInUse, ConnectionLost, TWSConnectionError

if TYPE_CHECKING:
    from aiotws.client import ErrorInfo
    from aiotws.ib import IB

__all__ = ["ReconnectPolicy", "Session", "SessionState", "SessionStatus"]

log = logging.getLogger("aiotws.session")

_FARM_BROKEN = frozenset({2103, 2105, 2157})
_FARM_OK = frozenset({2104, 2106, 2158})
_PORT_IN_TEXT = re.compile(r"(?:port|to)\D*(\d{2,5})", re.IGNORECASE)


class SessionState(enum.StrEnum):
    DISCONNECTED = "disconnected"  # never connected, or closed by the user
    CONNECTED = "connected"
    DEGRADED = "degraded"  # socket up, TWS lost IB's servers (1100): data is stale
    RECONNECTING = "reconnecting"
    RESTORING = "restoring"  # reconnected; state sync and re-subscriptions under way


@dataclass(slots=True)
class ReconnectPolicy:
    """How :class:`Session` reconnects (``IB(reconnect=ReconnectPolicy(...))``).

    The delay before attempt *n* (1-based) is ``min(max_delay, initial_delay * factor **
    (n - 1))``, spread by ``± jitter`` (a fraction). ``max_attempts``: ``None`` retries
    forever (TWS at its login screen for hours after a missed 2FA still comes back).
    ``client_ids``: ids to try in turn when TWS answers 326 (empty: keep the id and back off).
    ``heartbeat``: seconds without any message before the connection is probed with
    REQ_CURRENT_TIME, which must answer within ``heartbeat_timeout`` (``None``: no probe).
    """

    enabled: bool = True
    initial_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    max_attempts: int | None = None
    connect_timeout: float = 10.0
    client_ids: Sequence[int] = ()
    heartbeat: float | None = 30.0
    heartbeat_timeout: float = 10.0
    #: re-subscribe every live subscription when a data farm comes back after a flap
    #: (2103→2104, 2105→2106): a 3-second flap is known to leave bar streams dead
    resubscribe_after_flap: bool = True

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.factor ** max(0, attempt - 1))
        if self.jitter <= 0:
            return base
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1.0 + spread))


@dataclass(slots=True)
class SessionStatus:
    """Where the session is. ``down_since`` is set while it is not fully connected."""

    state: SessionState = SessionState.DISCONNECTED
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    down_since: datetime | None = None
    #: why it went down or why the last attempt failed
    reason: str = ""
    #: reconnect attempts since it went down
    attempts: int = 0
    #: how many times it went down and came back
    restores: int = 0
    last_restored: datetime | None = None
    #: the last restore's duration, seconds (reconnect to restored)
    last_restore_seconds: float | None = None
    #: data farms TWS reports broken right now (2103/2105/2157), by name
    farms_down: set[str] = field(default_factory=set)

    @property
    def down_for(self) -> timedelta:
        """How long it has been down (zero while connected)."""
        if self.down_since is None:
            return timedelta(0)
        return datetime.now(UTC) - self.down_since

    @property
    def healthy(self) -> bool:
        """True only when connected and TWS reports its link to IB up."""
        return self.state is SessionState.CONNECTED

    def __str__(self) -> str:
        down = f", down {self.down_for.total_seconds():.1f} s" if self.down_since else ""
        up = self.state is SessionState.CONNECTED
        why = f" ({self.reason})" if self.reason and not up else ""
        return f"{self.state.value}{down}{why}"


class Session:
    """Keeps an :class:`~aiotws.IB` connected (see the module docstring)."""

    def __init__(self, ib: IB, policy: ReconnectPolicy | None = None) -> None:
        self.ib = ib
        self.policy = policy or ReconnectPolicy()
        self.status = SessionStatus()
        self.reconnecting = Event("reconnecting")
        self.restored = Event("restored")
        self.state_changed = Event("state_changed")
        self._target: tuple[str, int, int, str, str] | None = None
        self._task: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self._closing = False
        c = ib.client
        c.disconnected += self._on_disconnected
        c.connectivity += self._on_connectivity
        c.farm_status += self._on_farm

    # -- lifecycle (called by IB) --------------------------------------------------------------

    def attach(
        self, host: str, port: int, client_id: int, account: str, connect_options: str
    ) -> None:
        """The first connect succeeded: supervise this connection from now on."""
        self._target = (host, port, client_id, account, connect_options)
        self._closing = False
        self.ib.client.keep_live = self.policy.enabled
        self._set(SessionState.CONNECTED, "")
        self.status.down_since = None
        self._start_heartbeat()

    def close(self) -> None:
        """The user disconnects: stop supervising (no reconnect)."""
        self._closing = True
        for task in (self._task, self._heartbeat):
            if task is not None and not task.done():
                task.cancel()
        self._task = self._heartbeat = None
        self.ib.client.keep_live = False
        self._set(SessionState.DISCONNECTED, "closed by the user")

    @property
    def supervising(self) -> bool:
        """True while the session reconnects on loss (after connect, until disconnect)."""
        return self._supervising()

    def _supervising(self) -> bool:
        return self._target is not None and not self._closing and self.policy.enabled

    # -- loss and reconnect --------------------------------------------------------------------

    def _on_disconnected(self, exc: BaseException | None) -> None:
        if exc is None or not self.supervising:
            return  # our own disconnect, or not supervised
        reason = str(exc) or type(exc).__name__
        log.warning("connection lost: %s; reconnecting (attempt 1 soon)", reason)
        self._went_down(reason)
        self._begin_reconnect()

    def _went_down(self, reason: str) -> None:
        if self.status.down_since is None:
            self.status.down_since = datetime.now(UTC)
        self.status.attempts = 0
        self.status.farms_down.clear()  # a new connection reports its farms afresh
        self._set(SessionState.RECONNECTING, reason)

    def _begin_reconnect(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        assert self._target is not None
        client_id = self._target[2]
        policy = self.policy
        ids = [client_id, *[i for i in policy.client_ids if i != client_id]]
        which = 0
        client = self.ib.client
        while self._supervising():
            host, port, _, account, options = self._target  # 1300 may have moved the port
            await client.wait_closed()  # TWS frees the client id only once the socket is gone
            attempt = self.status.attempts + 1
            if policy.max_attempts is not None and attempt > policy.max_attempts:
                log.error("gave up reconnecting after %d attempts", policy.max_attempts)
                self._set(SessionState.DISCONNECTED, f"gave up after {attempt - 1} attempts")
                return
            delay = policy.delay(attempt, self._rng)
            self.status.attempts = attempt
            log.info("reconnect attempt %d to %s:%d in %.2f s", attempt, host, port, delay)
            self.reconnecting.emit(attempt, delay)
            await asyncio.sleep(delay)
            if not self._supervising():
                return
            cid = ids[which % len(ids)]
            try:
                await client.connect(
                    host, port, cid, timeout=policy.connect_timeout, connect_options=options
                )
            except ClientIdInUse:
                self.status.reason = f"client id {cid} still in use at TWS (326)"
                log.warning("%s; backing off", self.status.reason)
                if len(ids) > 1:
                    which += 1
                continue
            except (TWSConnectionError, OSError) as e:
                self.status.reason = f"{type(e).__name__}: {e}"
                log.info("reconnect attempt %d failed: %s", attempt, self.status.reason)
                continue
            if cid != client_id:
                log.warning("reconnected with client id %d (%d was held by TWS)", cid, client_id)
            await self._restore(account)
            return

    async def _restore(self, account: str) -> None:
        t0 = time.perf_counter()
        self._set(SessionState.RESTORING, "re-syncing state and subscriptions")
        ib, client = self.ib, self.ib.client
        had_open = bool(client.open_trades())
        report = await ib._startup_sync(account, completed_orders=had_open)
        if not client.is_connected():
            return  # lost again while restoring: the next disconnect starts over
        resumed = client.resume_live()
        try:
            await client.resubscribe_accounts(timeout=ib.sync.step_timeout)
        except Exception as e:  # reported, never fatal
            log.warning("re-subscribing the account subscriptions failed: %s", e)
        took = time.perf_counter() - t0
        st = self.status
        st.restores += 1
        st.last_restored = datetime.now(UTC)
        st.last_restore_seconds = took
        down = st.down_for.total_seconds()
        st.down_since = None
        st.attempts = 0
        self._set(SessionState.CONNECTED, "")
        log.warning(
            "restored after %.1f s down: %d subscription(s) re-issued, sync %s",
            down,
            resumed,
            "complete" if report.complete else f"partial ({report})",
        )
        self._start_heartbeat()
        ib.last_sync = report
        if not report.complete:
            ib.partial_sync.emit(report)
        self.restored.emit(report)

    # -- TWS's link to IB ------------------------------------------------------------------------

    def _on_connectivity(self, info: ErrorInfo) -> None:
        if not self.supervising:
            return
        code = info.code
        if code == 1100:
            if self.status.state is SessionState.CONNECTED:
                self.status.down_since = datetime.now(UTC)
                self._set(SessionState.DEGRADED, "TWS lost its connection to IB (1100)")
                log.warning("TWS lost its connection to IB (1100): data is stale until 1101/1102")
        elif code in (1101, 1102):
            if code == 1101:
                n = self.ib.client.resume_live(cancel_old=True)
                log.warning("1101 (data lost): re-subscribed %d market data subscription(s)", n)
            else:
                log.info("1102: TWS's connection to IB is back, data kept")
            if self.status.state is SessionState.DEGRADED:
                self.status.down_since = None
                self._set(SessionState.CONNECTED, "")
        elif code == 1300:
            m = _PORT_IN_TEXT.search(info.text)
            if m is not None and self._target is not None:
                host, _, cid, account, options = self._target
                self._target = (host, int(m.group(1)), cid, account, options)
                log.warning("TWS moved the API to port %s (1300): reconnecting there", m.group(1))

    def _on_farm(self, info: ErrorInfo) -> None:
        farm = info.text.rsplit(":", 1)[-1].strip()
        down = self.status.farms_down
        if info.code in _FARM_BROKEN:
            down.add(farm)
            log.warning("data farm %s broken (%d)", farm, info.code)
        elif info.code in _FARM_OK and farm in down:
            down.discard(farm)
            flapped = info.code in (2104, 2106)
            if flapped and self.policy.resubscribe_after_flap and self.ib.client.is_connected():
                n = self.ib.client.resume_live(cancel_old=True)
                log.warning("data farm %s back after a flap: re-subscribed %d", farm, n)
            else:
                log.info("data farm %s OK again (%d)", farm, info.code)

    # -- heartbeat -------------------------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        if self.policy.heartbeat is None or not self.supervising:
            return
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        interval = self.policy.heartbeat
        assert interval is not None
        client = self.ib.client
        while self.supervising and client.is_connected():
            idle = time.monotonic() - client.last_received
            if idle < interval:
                await asyncio.sleep(interval - idle)
                continue
            try:
                await client.current_time(timeout=self.policy.heartbeat_timeout)
            except (TimeoutError, TWSConnectionError):
                if client.is_connected():
                    why = f"no answer to a heartbeat within {self.policy.heartbeat_timeout:g} s"
                    log.warning("TWS is silent: %s; dropping the connection", why)
                    client.abort(ConnectionLost(why))
                return

    def _set(self, state: SessionState, reason: str) -> None:
        st = self.status
        changed = st.state is not state
        st.state = state
        if reason:
            st.reason = reason
        if changed:
            st.since = datetime.now(UTC)
            self.state_changed.emit(st)

    def __repr__(self) -> str:
        return f"<Session {self.status}>"
