"""Simulator handlers for session-level requests: ids, accounts, time, log level."""

from __future__ import annotations

from datetime import UTC, datetime

from aiotws.sim.server import SimSession, handles
from aiotws.wire.messages import (
    CurrentTime,
    CurrentTimeInMillis,
    ManagedAccts,
    NextValidId,
    ReqCurrentTime,
    ReqCurrentTimeInMillis,
    ReqIds,
    ReqManagedAccts,
    SetServerLogLevel,
)

__all__: list[str] = []


@handles(ReqIds)
def _req_ids(session: SimSession, msg: ReqIds) -> None:
    assert session.client_id is not None
    session.send(NextValidId(session.sim.next_order_id(session.client_id)))


@handles(ReqManagedAccts)
def _req_managed_accts(session: SimSession, msg: ReqManagedAccts) -> None:
    session.send(ManagedAccts(session.sim.config.accounts))


@handles(ReqCurrentTime)
def _req_current_time(session: SimSession, msg: ReqCurrentTime) -> None:
    session.send(CurrentTime(datetime.now(UTC)))


@handles(ReqCurrentTimeInMillis)
def _req_current_time_ms(session: SimSession, msg: ReqCurrentTimeInMillis) -> None:
    session.send(CurrentTimeInMillis(datetime.now(UTC)))


@handles(SetServerLogLevel)
def _set_log_level(session: SimSession, msg: SetServerLogLevel) -> None:
    if not 1 <= msg.log_level <= 5:
        session.send_error(-1, 321, f"Invalid log level {msg.log_level} (1..5)")
        return
    session.log_level = msg.log_level
