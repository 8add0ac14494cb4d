"""Session-level messages: API start, ids, accounts, server time, log level and errors.

Layouts from PROTOCOL.md sections 1.4, 6.1, 6.19 and 6.20 (server versions 157..200).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiotws.wire.fields import CSV, EPOCH_MS, EPOCH_S, OPT_EPOCH_MS, TEXT
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, message, since, wire
from aiotws.wire.versions import SV

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


# -- client -> TWS ----------------------------------------------------------------------------


@message(Out.START_API, version=2)
@dataclass(slots=True)
class StartApi(OutMessage):
    """Sent right after the handshake; TWS answers with MANAGED_ACCTS and NEXT_VALID_ID."""

    client_id: int
    optional_capabilities: str = since(SV.OPTIONAL_CAPABILITIES, "")


@message(Out.REQ_IDS, version=1)
@dataclass(slots=True)
class ReqIds(OutMessage):
    """Ask for the next valid order id; answered by NEXT_VALID_ID (TWS ignores the count)."""

    num_ids: int = 1


@message(Out.REQ_MANAGED_ACCTS, version=1)
@dataclass(slots=True)
class ReqManagedAccts(OutMessage):
    """Ask for the accounts this login manages; answered by MANAGED_ACCTS."""


@message(Out.REQ_CURRENT_TIME, version=1)
@dataclass(slots=True)
class ReqCurrentTime(OutMessage):
    """Ask for TWS's clock; answered by CURRENT_TIME (epoch seconds)."""


@message(Out.REQ_CURRENT_TIME_IN_MILLIS, since=SV.CURRENT_TIME_IN_MILLIS)
@dataclass(slots=True)
class ReqCurrentTimeInMillis(OutMessage):
    """Ask for TWS's clock in milliseconds (server 197+); answered by CURRENT_TIME_IN_MILLIS."""


@message(Out.SET_SERVER_LOGLEVEL, version=1)
@dataclass(slots=True)
class SetServerLogLevel(OutMessage):
    """Set TWS's API log level: 1 system, 2 error, 3 warning, 4 information, 5 detail."""

    log_level: int


# -- TWS -> client ----------------------------------------------------------------------------


@message(In.NEXT_VALID_ID, version=1)
@dataclass(slots=True)
class NextValidId(InMessage):
    """The next order id TWS accepts; sent at connect and in answer to REQ_IDS."""

    order_id: int


@message(In.MANAGED_ACCTS, version=1)
@dataclass(slots=True)
class ManagedAccts(InMessage):
    """The comma-separated accounts of this login (a trailing comma is dropped)."""

    accounts: tuple[str, ...] = wire((), codec=CSV)


@message(In.CURRENT_TIME, version=1)
@dataclass(slots=True)
class CurrentTime(InMessage):
    """TWS's clock, epoch seconds, as a UTC datetime."""

    time: datetime = wire(codec=EPOCH_S)


@message(In.CURRENT_TIME_IN_MILLIS)
@dataclass(slots=True)
class CurrentTimeInMillis(InMessage):
    """TWS's clock, epoch milliseconds, as a UTC datetime."""

    time: datetime = wire(codec=EPOCH_MS)


@message(In.ERR_MSG, version=2, version_until=SV.ERROR_TIME)
@dataclass(slots=True)
class ErrMsg(InMessage):
    """An error, warning or notice. ``req_id`` is a request id, an order id, or -1.

    Layouts: 157-165 ``V=2, id, code, text``; 166-193 add ``advancedOrderRejectJson``;
    194+ drop the version and add ``errorTime`` (epoch ms).
    """

    req_id: int
    code: int
    text: str = wire("", codec=TEXT)
    advanced_order_reject_json: str = since(SV.ADVANCED_ORDER_REJECT, "", codec=TEXT)
    error_time: datetime | None = since(SV.ERROR_TIME, None, codec=OPT_EPOCH_MS)
