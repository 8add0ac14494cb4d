"""``Client``: one connection to TWS/IB Gateway, one typed coroutine or stream per request.

The client owns the transport, the request correlator and the outgoing pacer. It is the
layer below the ``IB`` facade: no live objects, no reconnect (that is ``aiotws.session``).

Connecting is bounded at every step (TCP, handshake reply, ready state) by one timeout,
and each failure has its own exception: :class:`~aiotws.errors.ConnectionRefused` (nothing
listens), :class:`~aiotws.errors.ConnectTimeout` (TCP accepted, no handshake or no
NEXT_VALID_ID: a wedged gateway or not a TWS port), :class:`~aiotws.errors.ClientIdInUse`
(326), :class:`~aiotws.errors.UnsupportedServerVersion`. The client is *ready* once both
NEXT_VALID_ID and MANAGED_ACCTS arrived.

Requests: see :mod:`aiotws.requests` for the four shapes. Every request has a timeout
(``request_timeout`` by default), a cancelled awaiting task sends TWS's cancel message
where one exists, and a lost connection fails every request in flight with
:class:`~aiotws.errors.ConnectionLost`.

Live subscriptions (tickers, order books, tick-by-tick streams, keep-up-to-date bar lists,
real-time bars) end with ``ConnectionLost`` too, unless :attr:`Client.keep_live` is set:
then a lost connection *suspends* them (their objects stay, marked ``stale``) and
:meth:`Client.resume_live` re-issues them on the next connection under fresh request ids,
the same objects updating again. ``resume_live(cancel_old=True)`` does the same on a live
socket (TWS's 1101, "data lost"): each old request is cancelled first.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import Any, TypeVar, cast

from eventkit import Event

from aiotws.calls.accounts import AccountCalls
from aiotws.calls.advisor import AdvisorCalls
from aiotws.calls.base import Timeout
from aiotws.calls.contracts import ContractCalls
from aiotws.calls.depth import DepthCalls
from aiotws.calls.display import DisplayCalls
from aiotws.calls.historical import HistoricalCalls
from aiotws.calls.market import MarketDataCalls
from aiotws.calls.news import NewsCalls
from aiotws.calls.optioncalc import OptionCalcCalls
from aiotws.calls.orders import OrderCalls
from aiotws.calls.scanner import ScannerCalls
from aiotws.calls.tickbytick import TickByTickCalls
from aiotws.calls.wsh import WshCalls
from aiotws.errors import (
    ClientIdInUse,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    NotConnected,
    RequestError,
    RequestTimeout,
    TWSConnectionError,
    TWSError,
)
from aiotws.pacing import DEFAULT_BURST, DEFAULT_RATE, Pacer
from aiotws.protocol import TWSProtocol
from aiotws.record import Recorder
from aiotws.requests import (
    Collect,
    LiveHook,
    Pending,
    Registry,
    Single,
    Stream,
    StreamPending,
)
from aiotws.requests import connection_lost as _connection_lost
from aiotws.wire.codes import DEFAULT_CODES, CodeTable, ErrorKind
from aiotws.wire.connection import ClientConnection, ConnectionFailed, Handshake, UndecodableFrame
from aiotws.wire.layout import InMessage, OutMessage
from aiotws.wire.messages import (
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
from aiotws.wire.versions import MAX_VERSION, MIN_VERSION

__all__ = ["Client", "ClientState", "ErrorInfo"]

log = logging.getLogger("aiotws.client")
tws_log = logging.getLogger("aiotws.tws")

M = TypeVar("M", bound=InMessage)


class ClientState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One ERR_MSG from TWS, classified.

    ``req_id`` is the request or order id it belongs to (-1: none). ``kind`` says what it
    did (see :class:`~aiotws.wire.codes.ErrorKind`). ``advanced_order_reject`` is the parsed
    JSON of an order rejection, else ``None``.
    """

    req_id: int
    code: int
    text: str
    kind: ErrorKind
    time: datetime | None = None
    advanced_order_reject: Any = None

    def to_exception(self) -> RequestError:
        return RequestError(
            self.code, self.text, self.req_id, self.advanced_order_reject, self.time, self.kind
        )


_LOG_LEVEL = {
    ErrorKind.ERROR: logging.ERROR,
    ErrorKind.FATAL: logging.ERROR,
    ErrorKind.WARNING: logging.WARNING,
    ErrorKind.CANCELLED: logging.INFO,
    ErrorKind.NOTICE: logging.INFO,
    ErrorKind.FARM: logging.INFO,
    ErrorKind.CONNECTIVITY: logging.WARNING,
}


class Client(
    ContractCalls,
    MarketDataCalls,
    TickByTickCalls,
    DepthCalls,
    OptionCalcCalls,
    HistoricalCalls,
    OrderCalls,
    AccountCalls,
    NewsCalls,
    ScannerCalls,
    AdvisorCalls,
    WshCalls,
    DisplayCalls,
):
    """A TWS API connection.

    Args:
        request_timeout: default seconds a one-shot or list request may take; ``None`` = no
            limit. Each request method takes its own ``timeout=`` too.
        rate, burst: the outgoing token bucket (messages/second, bucket size); ``rate=0``
            turns pacing off.
        codes: the error-code table (a copy of :data:`~aiotws.wire.codes.DEFAULT_CODES`).
        min_version, max_version: the server-version range offered in the handshake.

    Events (eventkit): ``connected()``, ``disconnected(exc | None)`` (``None`` only after
    our own :meth:`disconnect`; a loss carries a ``ConnectionLost``), ``errors(ErrorInfo)``
    for every ERR_MSG, ``connectivity(ErrorInfo)`` (1100/1101/1102/1300/2110),
    ``farm_status(ErrorInfo)``, ``decode_errors(DecodeError)``, ``batch_done()`` after each
    network read's messages were dispatched.

    ``keep_live`` (default ``False``): when set, a lost connection suspends the live
    subscriptions instead of ending them (see :meth:`resume_live`). One-shot and list
    requests, snapshots and bar requests not yet answered still fail with
    ``ConnectionLost``; our own :meth:`disconnect` ends everything.
    """

    def __init__(
        self,
        *,
        request_timeout: float | None = 30.0,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        codes: CodeTable | None = None,
        min_version: int = MIN_VERSION,
        max_version: int = MAX_VERSION,
    ) -> None:
        self.request_timeout = request_timeout
        self.rate = rate
        self.burst = burst
        self.codes = (codes or DEFAULT_CODES).copy()
        self.min_version = min_version
        self.max_version = max_version

        self.connected = Event("connected")
        self.disconnected = Event("disconnected")
        self.errors = Event("errors")
        self.connectivity = Event("connectivity")
        self.farm_status = Event("farm_status")
        self.decode_errors = Event("decode_errors")
        self.batch_done = Event("batch_done")

        self.state = ClientState.DISCONNECTED
        self.host = ""
        self.port = 0
        self.client_id = -1
        self.server_version = 0
        self.connection_time: datetime | None = None
        self.connection_time_text = ""
        self.managed_accounts: tuple[str, ...] = ()
        #: suspend live subscriptions on a lost connection, for :meth:`resume_live`
        self.keep_live = False
        #: each domain mixin's part in suspending and resuming (registered by its _init_*)
        self._live_hooks: list[LiveHook] = []
        self._next_id = 1
        self._registry = Registry()
        self._handlers: dict[type[InMessage], list[Callable[[Any], None]]] = {}
        self._consumers: dict[type[InMessage], Callable[[Any], None]] = {}
        #: hand-tuned frame consumers by message-id text (see ClientConnection.raw)
        self._raw: dict[str, Callable[[list[str]], bool]] = {}
        self._protocol: TWSProtocol | None = None
        self._conn: ClientConnection | None = None
        self._pacer: Pacer | None = None
        self._handshake: asyncio.Future[Handshake] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._got_ids = False
        self._got_accounts = False
        self._fatal: ErrorInfo | None = None
        self._abort_reason: BaseException | None = None
        #: ``time.monotonic()`` of the last network read that held messages (0: none yet)
        self.last_received = 0.0
        #: the recorder of :meth:`start_recording` (``None``: not recording)
        self.recorder: Recorder | None = None
        self._init_market_data()
        self._init_tick_by_tick()
        self._init_depth()
        self._init_historical()
        self._init_orders()
        self._init_accounts()
        self._init_news()
        self._init_scanner()
        self._init_advisor()
        self._init_wsh()
        self._init_display()

    # -- connection ----------------------------------------------------------------------

    def is_connected(self) -> bool:
        """True once ready (handshake, NEXT_VALID_ID and MANAGED_ACCTS) until disconnected."""
        return self.state is ClientState.CONNECTED

    async def connect(
        self,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        *,
        timeout: float = 10.0,
        connect_options: str = "",
        optional_capabilities: str = "",
    ) -> None:
        """Connect, handshake, START_API, and wait until TWS is ready.

        Raises:
            ConnectionRefused: nothing accepts TCP at ``host:port``.
            ConnectTimeout: a step did not finish within ``timeout`` seconds.
            ClientIdInUse: TWS answered 326.
            UnsupportedServerVersion: no common server version.
            TWSConnectionError: any other failure (TWS closed the socket before ready …).
        """
        if self.state is not ClientState.DISCONNECTED:
            raise TWSError(f"connect() while {self.state.value}")
        loop = asyncio.get_running_loop()
        self.state = ClientState.CONNECTING
        self.host, self.port, self.client_id = host, port, client_id
        self._got_ids = self._got_accounts = False
        self._fatal = None
        self._handshake = loop.create_future()
        self._ready = loop.create_future()
        conn = ClientConnection(self.min_version, self.max_version, connect_options)
        conn.raw = self._raw
        self._conn = conn
        stage = "TCP connect"
        try:
            async with asyncio.timeout(timeout):
                try:
                    rec = self.recorder
                    tap = rec.connection(host, port, conn) if rec and rec.active else None
                    _, proto = await loop.create_connection(
                        lambda: TWSProtocol(conn, self, tap), host, port
                    )
                except ConnectionRefusedError as e:
                    raise ConnectionRefused(
                        f"connection to {host}:{port} refused: is TWS/IB Gateway running with "
                        "the API enabled on this port? (defaults: TWS 7497 paper / 7496 live, "
                        "IB Gateway 4002 paper / 4001 live)"
                    ) from e
                except OSError as e:
                    raise TWSConnectionError(f"cannot connect to {host}:{port}: {e}") from e
                self._protocol = proto
                self._pacer = Pacer(proto.write, loop.time, loop.call_later, self.rate, self.burst)
                stage = "handshake reply"
                await self._handshake
                proto.write(conn.send(StartApi(client_id, optional_capabilities)))
                stage = "NEXT_VALID_ID and MANAGED_ACCTS"
                await self._ready
        except TimeoutError:
            await self._abort()
            raise ConnectTimeout(
                f"{host}:{port} accepted TCP but sent no {stage} within {timeout:g} s: "
                "a wedged gateway, a login or restart in progress, or not a TWS API port"
            ) from None
        except BaseException:
            await self._abort()
            raise
        self.state = ClientState.CONNECTED
        log.info(
            "connected to %s:%d as client %d, server version %d, accounts %s",
            host,
            port,
            client_id,
            self.server_version,
            ",".join(self.managed_accounts),
        )
        self.connected.emit()

    async def _abort(self) -> None:
        for fut in (self._handshake, self._ready):
            if fut is not None:
                if not fut.done():
                    fut.cancel()
                elif not fut.cancelled():
                    fut.exception()  # retrieved: the caller gets the error raised instead
        proto = self._protocol
        if proto is not None:
            proto.close()
            try:
                async with asyncio.timeout(2.0):
                    await asyncio.shield(proto.closed)
            except TimeoutError:  # pragma: no cover - a transport that never closes
                log.warning("socket did not close within 2 s")
        self._teardown()

    def _teardown(self) -> None:
        self.state = ClientState.DISCONNECTED
        self._protocol = None
        if self._pacer is not None:
            self._pacer.clear()
            self._pacer = None

    def disconnect(self) -> None:
        """Close the connection; ``await wait_closed()`` to know the socket is gone.

        Ends every live subscription, also the ones suspended by an earlier loss (when
        already disconnected, that is all it does).
        """
        if self._protocol is None or self.state is ClientState.DISCONNECTED:
            self._end_live(ConnectionLost("disconnected: the live subscription was not resumed"))
            self._end_account_subscriptions(None)  # kept across the loss for a resubscribe
            return
        self.state = ClientState.DISCONNECTING
        self._protocol.close()

    def abort(self, reason: BaseException) -> None:
        """Close the connection as *lost* (``disconnected`` carries ``reason``): for a
        supervisor that found the socket open but dead (no answer to a heartbeat)."""
        if self._protocol is None or self.state is not ClientState.CONNECTED:
            return
        self._abort_reason = reason
        self._protocol.abort()

    async def wait_closed(self) -> None:
        """Wait until the socket is closed (TWS frees the client id only then)."""
        proto = self._protocol
        if proto is not None:
            await asyncio.shield(proto.closed)

    # -- recording -------------------------------------------------------------------------

    def start_recording(self, path: str | Path | Recorder, *, redact: bool = False) -> Recorder:
        """Record every frame both ways to ``path`` (see :mod:`aiotws.record`).

        Before :meth:`connect`, the recording starts with the handshake; while connected,
        with the next frame (the accounts and next order id are noted, so a replay can
        start there). Reconnects go on in the same file until :meth:`stop_recording`.
        ``redact=True`` rewrites account ids consistently. Raises ``OSError`` at once when
        the file cannot be created; a later I/O error only stops the recording.
        """
        if self.recorder is not None and self.recorder.active:
            raise TWSError(f"already recording to {self.recorder.path}")
        rec = path if isinstance(path, Recorder) else Recorder(path, redact=redact)
        self.recorder = rec
        proto, conn = self._protocol, self._conn
        if proto is not None and conn is not None and self.state is ClientState.CONNECTED:
            proto.set_tap(
                rec.join_session(
                    self.host,
                    self.port,
                    conn,
                    self.connection_time_text,
                    self.managed_accounts,
                    self._next_id,
                )
            )
        return rec

    def stop_recording(self) -> Recorder | None:
        """End the recording (the file is complete once ``await recorder.aclose()``
        returns); returns the recorder, ``None`` if none ran."""
        rec, self.recorder = self.recorder, None
        if self._protocol is not None:
            self._protocol.set_tap(None)
        if rec is not None:
            rec.stop()
        return rec

    # -- transport callbacks (ProtocolSink) ------------------------------------------------

    def on_handshake(self, handshake: Handshake) -> None:
        self.server_version = handshake.server_version
        self.connection_time = handshake.connection_time
        self.connection_time_text = handshake.raw_time
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_result(handshake)

    def on_protocol_failure(self, failure: ConnectionFailed) -> None:
        err: BaseException = failure.error
        if not isinstance(err, TWSConnectionError):
            # connect() raises ConnectionError subclasses only; the protocol error is the cause
            wrapped = TWSConnectionError(
                f"{self.host}:{self.port} does not speak the TWS API as expected: {err}"
            )
            wrapped.__cause__ = err
            err = wrapped
        self._fail_connect(err)

    def _fail_connect(self, err: BaseException) -> None:
        for fut in (self._handshake, self._ready):
            if fut is not None and not fut.done():
                fut.set_exception(err)

    def on_connection_lost(self, exc: Exception | None) -> None:
        was = self.state
        if was is ClientState.CONNECTING:
            if self._fatal is not None and self._fatal.code == 326:
                err: TWSConnectionError = ClientIdInUse(self.client_id, self._fatal.text)
            else:
                err = TWSConnectionError(
                    f"{self.host}:{self.port} closed the connection before it was ready "
                    f"({'after START_API' if self.server_version else 'during the handshake'}): "
                    "client id in use, no common server version, this host not in TWS's "
                    "trusted IPs, or TWS restarting"
                )
            self._fail_connect(err)
            return
        self._fail_connect(TWSConnectionError("disconnected while connecting"))
        self._teardown()
        if was is ClientState.CONNECTED and self._abort_reason is not None:
            reason, self._abort_reason = self._abort_reason, None
            exc = reason if isinstance(reason, Exception) else ConnectionLost(str(reason))
        if was is ClientState.CONNECTED and exc is None:
            exc = ConnectionLost(f"{self.host}:{self.port} closed the connection")
        keep = self.keep_live and was is ClientState.CONNECTED
        kept = self._suspend_live() if keep else 0
        n = self._registry.fail_all(_connection_lost)
        if not keep:
            self._end_live(ConnectionLost(f"connection to {self.host}:{self.port} closed"))
        if was is ClientState.CONNECTED:
            log.warning(
                "connection to %s:%d lost%s", self.host, self.port, f": {exc}" if exc else ""
            )
        else:
            log.info("disconnected from %s:%d", self.host, self.port)
        if n:
            log.info("%d request(s) in flight ended with ConnectionLost", n)
        if kept:
            log.info("%d live subscription(s) suspended until resume_live()", kept)
        self.disconnected.emit(exc if was is ClientState.CONNECTED else None)

    # -- live subscriptions across connections ---------------------------------------------

    def resume_live(self, *, cancel_old: bool = False) -> int:
        """Re-issue every suspended live subscription; returns how many were re-issued.

        For after a reconnect (with :attr:`keep_live` set when the connection went): each
        ticker (its generic ticks and market data type too), order book, tick-by-tick
        stream, keep-up-to-date bar list and real-time bar list is subscribed again under a
        fresh request id, and the same object updates again. ``stale`` stays true on each
        until its first update. An order book is cleared (TWS sends the whole book again);
        a bar list asks for the bars since its last one and merges them (the last bar is
        replaced, never duplicated); bar lists go through the historical pacer, so their
        requests may follow a little later. A tick-by-tick stream is re-issued without
        historical ticks.

        ``cancel_old=True`` (TWS's 1101 "data lost", socket still up): the active
        subscriptions too, each one's cancel message sent first.

        Raises ``NotConnected`` when not connected.
        """
        if not self.is_connected():
            raise NotConnected("resume_live(): not connected to TWS")
        n = sum(h.resume(cancel_old) for h in self._live_hooks)
        if n:
            log.info("%d live subscription(s) re-issued%s", n, " (old ones cancelled)" * cancel_old)
        return n

    def _suspend_live(self) -> int:
        return sum(h.suspend() for h in self._live_hooks)

    def _end_live(self, exc: BaseException) -> int:
        """End the suspended live subscriptions (nothing will resume them)."""
        return sum(h.end(exc) for h in self._live_hooks)

    def on_messages(self, batch: list[InMessage | UndecodableFrame]) -> None:
        self.last_received = monotonic()
        route = self._registry.route
        handlers = self._handlers
        consumers = self._consumers
        for m in batch:
            t: type[Any] = type(m)
            c = consumers.get(t)
            if c is not None:  # the hot path (ticks): one handler, no request routing
                c(m)
                continue
            if t is ErrMsg:
                self._on_error(cast(ErrMsg, m))
                continue
            if t is UndecodableFrame:
                self._on_undecodable(cast(UndecodableFrame, m))
                continue
            msg = cast(InMessage, m)
            hs = handlers.get(t)
            if hs is not None:
                for h in hs:
                    h(msg)
            if t is NextValidId:
                self._on_next_valid_id(cast(NextValidId, msg))
            elif t is ManagedAccts:
                self._on_managed_accounts(cast(ManagedAccts, msg))
            if not route(msg) and hs is None:
                log.debug("dropped %s: no request waits for it (late or unsolicited)", t.__name__)
        self.batch_done.emit()

    # -- built-in message handling ---------------------------------------------------------

    def _on_next_valid_id(self, m: NextValidId) -> None:
        self._next_id = max(self._next_id, m.order_id)
        self._got_ids = True
        self._check_ready()

    def _on_managed_accounts(self, m: ManagedAccts) -> None:
        self.managed_accounts = m.accounts
        self._got_accounts = True
        self._check_ready()

    def _check_ready(self) -> None:
        r = self._ready
        if r is not None and not r.done() and self._got_ids and self._got_accounts:
            r.set_result(None)

    def _on_undecodable(self, m: UndecodableFrame) -> None:
        e = m.error
        log.warning("skipped a frame that did not decode: %s; raw %r", e, e.payload[:200])
        self.decode_errors.emit(e)

    def _on_error(self, m: ErrMsg) -> None:
        kind = self.codes.classify(m.code, m.text)
        reject = RequestError.parse_reject_json(m.advanced_order_reject_json)
        info = ErrorInfo(m.req_id, m.code, m.text, kind, m.error_time, reject)
        routed = order = False
        if m.req_id >= 0:
            if kind is ErrorKind.ERROR:
                routed = self._registry.route_error(m.req_id, info.to_exception())
            elif kind is ErrorKind.CANCELLED:
                routed = self._registry.route_error(m.req_id, info.to_exception(), cancelled=True)
            elif kind is ErrorKind.WARNING:
                routed = self._registry.route_warning(m.req_id, info.to_exception())
            if not routed and self._order_error(info):
                routed = order = True
        if kind is ErrorKind.FATAL:
            self._fatal = info
            if self.state is ClientState.CONNECTING and m.code == 326:
                self._fail_connect(ClientIdInUse(self.client_id, m.text))
        level = _LOG_LEVEL[kind]
        if routed and kind is ErrorKind.ERROR:
            # the awaiting caller gets it as an exception; an order's error goes to its trade
            level = logging.WARNING if order else logging.DEBUG
        tws_log.log(level, "TWS %s %d (id %d): %s", kind.value, m.code, m.req_id, m.text)
        self.errors.emit(info)
        if kind is ErrorKind.CONNECTIVITY:
            self.connectivity.emit(info)
        elif kind is ErrorKind.FARM:
            self.farm_status.emit(info)

    # -- sending -------------------------------------------------------------------------

    def on(self, msg_type: type[M], handler: Callable[[M], None]) -> None:
        """Call ``handler`` for every ``msg_type`` message, before request routing."""
        self._handlers.setdefault(msg_type, []).append(handler)

    def consume(self, msg_type: type[M], handler: Callable[[M], None]) -> None:
        """Make ``handler`` the only receiver of ``msg_type`` (no request routing).

        For stream messages that never answer a request (ticks): the hot path.
        """
        if msg_type in self._consumers:
            raise TWSError(f"{msg_type.__name__} already has a consumer")
        self._consumers[msg_type] = handler

    def off(self, msg_type: type[M], handler: Callable[[M], None]) -> None:
        hs = self._handlers.get(msg_type)
        if hs and handler in hs:
            hs.remove(handler)
            if not hs:
                del self._handlers[msg_type]

    def next_id(self) -> int:
        """A fresh id for a request or an order: one counter, seeded by NEXT_VALID_ID.

        Request ids and order ids share ERR_MSG's id field, so one counter keeps every
        error routable; order ids stay strictly increasing, as TWS requires.
        """
        n = self._next_id
        self._next_id = n + 1
        return n

    def _use_id(self, used: int) -> None:
        """An id was used outside :meth:`next_id` (an order placed with its own id)."""
        self._next_id = max(self._next_id, used + 1)

    def send(self, msg: OutMessage) -> None:
        """Encode and send ``msg`` (paced). Raises before the wire on a bad message."""
        conn, pacer = self._conn, self._pacer
        if self.state is not ClientState.CONNECTED or conn is None or pacer is None:
            raise NotConnected(f"cannot send {type(msg).__name__}: not connected to TWS")
        pacer.send(conn.send(msg))

    def _send_cancel(self, cancel: Callable[[], OutMessage] | None) -> None:
        if cancel is not None and self.state is ClientState.CONNECTED:
            self.send(cancel())

    def _timeout(self, timeout: Timeout) -> float | None:
        return self.request_timeout if timeout is ... else timeout

    async def _settle(
        self,
        pending: Pending,
        fut: asyncio.Future[Any],
        timeout: Timeout,
        cancel: Callable[[], OutMessage] | None,
    ) -> Any:
        limit = self._timeout(timeout)
        try:
            if limit is None:
                return await fut
            async with asyncio.timeout(limit):
                return await fut
        except TimeoutError:
            if pending.done:
                raise
            self._registry.discard(pending)
            self._send_cancel(cancel)
            raise RequestTimeout(pending.what, limit or 0.0) from None
        except asyncio.CancelledError:
            if not pending.done:
                self._registry.discard(pending)
                self._send_cancel(cancel)
            raise

    def _start(self, msg: OutMessage, pending: Pending) -> None:
        self._registry.add(pending)
        try:
            self.send(msg)
        except BaseException:
            self._registry.discard(pending)
            raise

    async def request(
        self,
        msg: OutMessage,
        reply: type[M],
        *,
        key: int | None = None,
        timeout: Timeout = ...,
        cancel: Callable[[], OutMessage] | None = None,
        match: Callable[[InMessage], bool] | None = None,
    ) -> M:
        """Send ``msg`` and return the first ``reply`` (routed by ``key``, or by type).

        ``match``: for a keyless reply, which messages of that type answer this request.
        """
        p = Single(key, (reply,), type(msg).__name__)
        p.match = match
        self._start(msg, p)
        result: M = await self._settle(p, p.future, timeout, cancel)
        return result

    async def request_list(
        self,
        msg: OutMessage,
        items: tuple[type[InMessage], ...],
        end: tuple[type[InMessage], ...],
        *,
        key: int | None = None,
        timeout: Timeout = ...,
        cancel: Callable[[], OutMessage] | None = None,
    ) -> tuple[list[InMessage], InMessage | None]:
        """Send ``msg``; collect ``items`` until an ``end`` message: ``(items, end_msg)``.

        ``end_msg`` is ``None`` when TWS cancelled the request itself (162 "query cancelled").
        """
        p = Collect(key, items, end, type(msg).__name__)
        self._start(msg, p)
        result: tuple[list[InMessage], InMessage | None] = await self._settle(
            p, p.future, timeout, cancel
        )
        return result

    def request_stream(
        self,
        msg: OutMessage,
        items: tuple[type[InMessage], ...],
        end: tuple[type[InMessage], ...] = (),
        *,
        key: int | None = None,
        cancel: Callable[[], OutMessage] | None = None,
        maxlen: int = 10_000,
    ) -> Stream[InMessage]:
        """Send ``msg`` and stream ``items`` until ``end`` (a subscription when ``end=()``).

        ``stream.cancel()`` (or cancelling the task iterating it) sends ``cancel()`` to TWS
        and ends the stream at once: it never waits for an End frame TWS does not send.
        """
        stream: Stream[InMessage] = Stream(type(msg).__name__, maxlen)
        self._start_stream(msg, StreamPending(key, items, end, stream), cancel)
        return stream

    def _start_stream(
        self, msg: OutMessage, p: StreamPending, cancel: Callable[[], OutMessage] | None
    ) -> None:
        """Register ``p``, wire its stream's cancel to ``cancel``, and send ``msg``."""

        def on_cancel() -> None:
            if not p.done:
                self._registry.discard(p)
                self._send_cancel(cancel)

        p.stream._on_cancel = on_cancel
        self._start(msg, p)

    # -- requests (session level) ----------------------------------------------------------

    async def current_time(self, *, timeout: Timeout = ...) -> datetime:
        """TWS's clock (REQ_CURRENT_TIME), whole seconds, UTC."""
        m = await self.request(ReqCurrentTime(), CurrentTime, timeout=timeout)
        return m.time

    async def current_time_millis(self, *, timeout: Timeout = ...) -> datetime:
        """TWS's clock in milliseconds (server 197+), UTC."""
        m = await self.request(ReqCurrentTimeInMillis(), CurrentTimeInMillis, timeout=timeout)
        return m.time

    async def req_ids(self, *, timeout: Timeout = ...) -> int:
        """Ask TWS for the next valid order id (REQ_IDS); the id counter follows it."""
        m = await self.request(ReqIds(1), NextValidId, timeout=timeout)
        return m.order_id

    async def req_managed_accounts(self, *, timeout: Timeout = ...) -> tuple[str, ...]:
        """Ask TWS again for the managed accounts (REQ_MANAGED_ACCTS)."""
        m = await self.request(ReqManagedAccts(), ManagedAccts, timeout=timeout)
        return m.accounts

    def set_server_log_level(self, level: int) -> None:
        """TWS's API log level: 1 system, 2 error, 3 warning, 4 information, 5 detail."""
        if not 1 <= level <= 5:
            raise ValueError("log level must be 1..5")
        self.send(SetServerLogLevel(level))

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.host else "-"
        return (
            f"<Client {self.state.value} {where} client_id={self.client_id} "
            f"sv={self.server_version}>"
        )
