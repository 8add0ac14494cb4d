"""Every wire message class, grouped by family; importing this registers them all."""

from __future__ import annotations

from aiotws.wire.messages.system import (
    CurrentTime,
    CurrentTimeInMillis,
    ErrMsg,
    ManagedAccts,
    NextValidId,
    ReqCurrentTime,
    ReqCurrentTimeInMillis,
    ReqIds,
    ReqManagedAccts,
    SetServerLogLevel,
    StartApi,
)

__all__ = [
    "CurrentTime",
    "CurrentTimeInMillis",
    "ErrMsg",
    "ManagedAccts",
    "NextValidId",
    "ReqCurrentTime",
    "ReqCurrentTimeInMillis",
    "ReqIds",
    "ReqManagedAccts",
    "SetServerLogLevel",
    "StartApi",
]
