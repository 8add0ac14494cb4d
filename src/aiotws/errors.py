"""The aiotws exception tree.

Every exception aiotws raises derives from :class:`TWSError`::

    TWSError
    ├── ProtocolError                    the wire protocol was broken
    │   ├── LocalProtocolError           we would break it: raised before anything is sent
    │   │   ├── InvalidField             a value that cannot be encoded (non-ASCII text, NaN id…)
    │   │   ├── UnsupportedByServer      a message or field the negotiated version lacks
    │   │   └── InvalidScannerSubscription  a scanner request TWS would refuse (rows > 50 …)
    │   └── RemoteProtocolError          TWS (or whatever answered) broke it
    │       ├── DecodeError              one frame did not decode; the connection goes on
    │       │   ├── UnknownMessageId
    │       │   └── MalformedMessage     names the message and the field
    │       ├── FrameTooLarge            ends the connection
    │       └── HandshakeError           the peer's handshake was not TWS's
    ├── TWSConnectionError (+ ConnectionError)
    │   ├── ConnectionRefused (+ ConnectionRefusedError)
    │   ├── ConnectTimeout (+ TimeoutError)  TCP accepted, but no handshake or no ready state
    │   ├── ClientIdInUse                TWS error 326
    │   ├── UnsupportedServerVersion     no common server version
    │   ├── AccountKindMismatch          connect(expect=...) reached paper instead of live, or back
    │   ├── NotConnected                 a request while disconnected
    │   └── ConnectionLost               the connection went while the request was in flight
    ├── RequestError                     TWS rejected a request: code, message, req_id, JSON
    ├── OrderNotFilled                   ``await trade.filled()``: the order ended unfilled
    │   ├── OrderRejected                TWS rejected it (``.error`` is the RequestError)
    │   └── OrderCancelled               cancelled (by you, TWS, OCA or time in force)
    ├── AmbiguousContract (+ ValueError)  a contract matched several; carries the candidates
    ├── FaXmlError (+ ValueError)        financial-advisor XML that cannot be read
    ├── RequestTimeout (+ TimeoutError)  no terminal answer in time
    └── InvalidNewsRequest (+ ValueError) a news request TWS would refuse (raised before sending)

Errors carry data, not just text: see each class's attributes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

__all__ = [
    "AccountKindMismatch",
    "AmbiguousContract",
    "ClientIdInUse",
    "ConnectTimeout",
    "ConnectionLost",
    "ConnectionRefused",
    "DecodeError",
    "ExtraAuthRequired",
    "FaXmlError",
    "FrameTooLarge",
    "FundamentalDataRemoved",
    "HandshakeError",
    "InvalidField",
    "InvalidNewsRequest",
    "InvalidScannerSubscription",
    "LocalProtocolError",
    "MalformedMessage",
    "NotConnected",
    "OrderCancelled",
    "OrderNotFilled",
    "OrderRejected",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestError",
    "RequestTimeout",
    "TWSConnectionError",
    "TWSError",
    "UnknownMessageId",
    "UnsupportedByServer",
    "UnsupportedServerVersion",
]


class TWSError(Exception):
    """Root of every exception raised by aiotws."""


# -- protocol ---------------------------------------------------------------------------------


class ProtocolError(TWSError):
    """The TWS wire protocol was (or would be) violated."""


class LocalProtocolError(ProtocolError):
    """A request that cannot go on the wire as given; nothing was sent."""


class InvalidField(LocalProtocolError, ValueError):
    """A field value that TWS's encoding cannot carry."""

    def __init__(self, message: str, field: str, value: object, reason: str) -> None:
        super().__init__(f"{message}.{field}: {reason} (value {value!r})")
        self.message = message
        self.field = field
        self.value = value
        self.reason = reason


class UnsupportedByServer(LocalProtocolError):
    """The negotiated server version does not have this message or field."""

    def __init__(
        self, message: str, field: str | None, needed: int, version: int, removed: bool = False
    ) -> None:
        what = f"{message}.{field}" if field else message
        if removed:
            text = (
                f"{what} was removed at server version {needed}; this connection speaks {version}"
            )
        else:
            text = f"{what} needs server version {needed}; this connection speaks {version}"
        super().__init__(text)
        self.removed = removed
        self.message = message
        self.field = field
        self.needed = needed
        self.version = version


class InvalidScannerSubscription(LocalProtocolError, ValueError):
    """A scanner subscription TWS would refuse (more than 50 rows, no scan code …); nothing
    was sent. ``field`` names the offending attribute, ``reason`` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"ScannerSubscription.{field}: {reason}")
        self.field = field
        self.reason = reason


class RemoteProtocolError(ProtocolError):
    """The peer sent something that is not valid TWS protocol."""


class DecodeError(RemoteProtocolError):
    """One frame did not decode. The frame is skipped; the connection goes on.

    Attributes:
        msg_id: the message id of the frame, when it could be read.
        payload: the raw frame payload (without the length prefix).
    """

    def __init__(self, text: str, msg_id: int | None = None, payload: bytes = b"") -> None:
        super().__init__(text)
        self.msg_id = msg_id
        self.payload = payload


class UnknownMessageId(DecodeError):
    """A frame whose message id has no decoder."""


class MalformedMessage(DecodeError):
    """A frame whose fields do not match its layout at the negotiated version.

    Attributes:
        message: the message class name (e.g. ``"ErrMsg"``).
        field: the field that failed, or ``None`` for a count mismatch.
        reason: what was wrong.
    """

    def __init__(
        self,
        message: str,
        field: str | None,
        reason: str,
        msg_id: int | None = None,
        payload: bytes = b"",
    ) -> None:
        where = f"{message}.{field}" if field else message
        super().__init__(f"{where}: {reason}", msg_id, payload)
        self.message = message
        self.field = field
        self.reason = reason


class FrameTooLarge(RemoteProtocolError):
    """A length prefix above the maximum frame size; the connection is closed."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit


class HandshakeError(RemoteProtocolError):
    """The peer's handshake is not a TWS handshake."""


# -- connection -------------------------------------------------------------------------------


class TWSConnectionError(TWSError, ConnectionError):
    """The connection to TWS could not be made or was lost."""


class ConnectionRefused(TWSConnectionError, ConnectionRefusedError):
    """Nothing accepted the TCP connection (the API is off or the port is wrong)."""


class ConnectTimeout(TWSConnectionError, TimeoutError):
    """TCP was accepted but the handshake or the ready state did not complete in time."""


class ClientIdInUse(TWSConnectionError):
    """TWS refused the client id (error 326): another connection, or a stale one, holds it."""

    def __init__(self, client_id: int, text: str = "") -> None:
        super().__init__(text or f"client id {client_id} is already in use")
        self.client_id = client_id


class UnsupportedServerVersion(TWSConnectionError):
    """The server's version range and ours do not overlap."""


class AccountKindMismatch(TWSConnectionError):
    """``connect(expect="paper" | "live")`` reached the other kind of account: refused (and
    disconnected) before anything else was sent. ``accounts`` are the ones TWS reported."""

    def __init__(self, message: str, expected: str, accounts: tuple[str, ...]) -> None:
        super().__init__(message)
        self.expected = expected
        self.accounts = accounts


class NotConnected(TWSConnectionError):
    """A request was made while no connection is up."""


class ConnectionLost(TWSConnectionError):
    """The connection was lost while the request was in flight. Safe to retry."""


# -- requests ---------------------------------------------------------------------------------


class RequestError(TWSError):
    """TWS rejected a request.

    Attributes:
        code: TWS's error code (e.g. 200, 162, 201).
        message: TWS's text.
        req_id: the request id (or order id) the error belongs to, -1 for none.
        advanced_order_reject: the parsed ``advancedOrderRejectJson`` (orders), else ``None``.
        time: when TWS raised it (server 194+), else ``None``.
        kind: how the code is classified (``"error"``, ``"cancelled"``, ``"warning"`` …).
    """

    def __init__(
        self,
        code: int,
        message: str,
        req_id: int = -1,
        advanced_order_reject: Any = None,
        time: datetime | None = None,
        kind: str = "error",
    ) -> None:
        super().__init__(f"TWS error {code}: {message} (request {req_id})")
        self.kind = kind
        self.code = code
        self.message = message
        self.req_id = req_id
        self.advanced_order_reject = advanced_order_reject
        self.time = time

    @staticmethod
    def parse_reject_json(raw: str) -> Any:
        """Parse ``advancedOrderRejectJson``; an empty string is ``None``, bad JSON stays text."""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw


class OrderNotFilled(TWSError):
    """An order ended without filling completely: ``await trade.filled()`` raises it.

    Attributes:
        trade: the :class:`~aiotws.trade.Trade` (its ``fills`` hold what did fill).
        error: TWS's error that ended it (a rejection), else ``None``.
    """

    def __init__(self, message: str, trade: Any, error: RequestError | None = None) -> None:
        super().__init__(message)
        self.trade = trade
        self.error = error


class OrderRejected(OrderNotFilled):
    """TWS rejected the order (201, 110, 103, 203, margin …): ``error`` says why."""


class OrderCancelled(OrderNotFilled):
    """The order was cancelled (by you, by TWS, by its OCA group or its time in force)."""


class AmbiguousContract(TWSError, ValueError):
    """A contract that TWS matched to several instruments; add fields to pick one.

    Attributes:
        contract: the contract as given.
        candidates: every match TWS returned (qualified contracts).
    """

    def __init__(self, contract: Any, candidates: list[Any]) -> None:
        lines = "\n".join(f"  {c!r}" for c in candidates)
        super().__init__(
            f"{contract!r} is ambiguous: {len(candidates)} contracts match; "
            f"add fields (exchange, currency, primary exchange, expiry, …) to pick one:\n{lines}"
        )
        self.contract = contract
        self.candidates = candidates


class FaXmlError(TWSError, ValueError):
    """Financial-advisor XML (RECEIVE_FA, or what was given to replace it) that cannot be
    read into groups, aliases or profiles: it does not parse, or has an element that cannot
    be placed. The message says what and where."""


class RequestTimeout(TWSError, TimeoutError):
    """A request got no terminal answer within its timeout; TWS's cancel (if any) was sent."""

    def __init__(self, what: str, timeout: float) -> None:
        super().__init__(f"{what}: no answer within {timeout:g} s")
        self.what = what
        self.timeout = timeout


class InvalidNewsRequest(TWSError, ValueError):
    """A news request that TWS would refuse, caught before anything is sent (more than 300
    historical headlines, a naive or inverted date range, no provider code …).

    Attributes: ``code`` and ``text``, the error TWS would answer with (321 for a request
    that fails validation).
    """

    def __init__(self, text: str, code: int = 321) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class FundamentalDataRemoved(LocalProtocolError):
    """Fundamental data (REQ_FUNDAMENTAL_DATA: Reuters/Refinitiv XML reports) is gone: IB
    removed the request from the TWS API in 10.47, and current TWS answers nothing useful
    to it. Nothing was sent. Wall Street Horizon corporate events
    (:meth:`aiotws.IB.wsh_event_data`) cover the calendar part (earnings, dividends,
    splits, conferences); financial statements and ratios need another data source."""

    def __init__(self, what: str = "fundamental_data") -> None:
        super().__init__(
            f"{what}: IB removed REQ_FUNDAMENTAL_DATA (fundamental data reports) from the "
            "TWS API in version 10.47; nothing was sent. For earnings dates, dividends, "
            "splits and other corporate events use Wall Street Horizon "
            "(ib.wsh_meta_data() / ib.wsh_event_data(WshEventData(con_id=...))); for "
            "financial statements and ratios use another data provider."
        )
        self.what = what


class ExtraAuthRequired(LocalProtocolError):
    """A vendor verification request (VERIFY_REQUEST, VERIFY_MESSAGE,
    VERIFY_AND_AUTH_REQUEST, VERIFY_AND_AUTH_MESSAGE) from a client that did not declare
    its intent to authenticate (``client.extra_auth = True`` before connecting, the official
    client's ``extraAuth``). Nothing was sent."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}: intent to authenticate must be declared before connecting "
            "(set client.extra_auth = True); nothing was sent. Only IB-registered API "
            "vendors use verification; other clients never need it."
        )
        self.what = what
