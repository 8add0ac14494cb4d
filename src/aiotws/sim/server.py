"""The simulator's server: TWS's connection behaviour on the server side of ``aiotws.wire``.

:class:`Simulator` listens like TWS, negotiates versions like TWS (the highest version both
sides speak; a client whose range it cannot serve is disconnected without a reply), answers
START_API with MANAGED_ACCTS, NEXT_VALID_ID and the farm notices TWS sends at connect, and
refuses a client id already in use with 326 and a close. It is *stricter* than TWS: a
request that does not parse at the negotiated version gets ERR_MSG 320 naming the message and
the field, so client encoder bugs surface in tests.

:meth:`Simulator.restart` is TWS's daily restart: every connection is closed, connects are
refused (or accepted and closed, or accepted and never answered) for the downtime, then it
listens again on the same host and port with all its state (``sim.store``: orders and
ledger; the universe, market and history; the next valid ids).

The session faults a resilient client must survive (issue 7): an IB-side outage
(:meth:`Simulator.connectivity_lost` / :meth:`Simulator.connectivity_restored`: 1100 repeated,
then 1101 or 1102), farm flaps (:meth:`Simulator.farm_flap`), a wedged TWS
(:meth:`Simulator.hang` / :meth:`Simulator.unhang`), and the :class:`Faults` switches for
client ids TWS still holds and connections cut at the worst moment.

Requests are answered by handlers registered per message class (:func:`handles`); each
domain module of ``aiotws.sim`` adds its own.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from aiotws.errors import DecodeError, UnknownMessageId
from aiotws.sim.faults import (
    CONNECTIVITY_LOST,
    CONNECTIVITY_RESTORED_DATA_LOST,
    CONNECTIVITY_RESTORED_DATA_MAINTAINED,
    RESTART_MODES,
    DownListener,
    RestartMode,
    farm_kind,
    farm_notice,
)
from aiotws.sim.market import Market
from aiotws.sim.universe import Universe
from aiotws.wire.connection import (
    ClientHello,
    ConnectionFailed,
    ServerConnection,
    State,
    UndecodableFrame,
)
from aiotws.wire.fields import Scalar
from aiotws.wire.ids import PROTOBUF_ONLY_OUT, Out
from aiotws.wire.layout import OUT_MESSAGES, InMessage, OutMessage
from aiotws.wire.messages import ErrMsg, ManagedAccts, NextValidId, StartApi
from aiotws.wire.versions import MAX_TEXT_VERSION

__all__ = [
    "COMPETING_SESSION",
    "Faults",
    "SimConfig",
    "SimSession",
    "Simulator",
    "handles",
    "on_clock",
]

log = logging.getLogger("aiotws.sim")

Req = TypeVar("Req", bound=OutMessage)
Handler = Callable[["SimSession", Any], None]
_HANDLERS: Final[dict[type[OutMessage], Handler]] = {}

#: Requests that change orders: refused in read-only mode (PROTOCOL.md 1.7).
READ_ONLY_BLOCKED: Final = frozenset(
    {Out.PLACE_ORDER, Out.CANCEL_ORDER, Out.REQ_GLOBAL_CANCEL, Out.EXERCISE_OPTIONS, Out.REPLACE_FA}
)

#: TWS's notice when the same user's other session holds the market data.
COMPETING_SESSION: Final = (10197, "No market data during competing live session")

#: The farm notices TWS sends on every fresh connection (id -1).
CONNECT_NOTICES: Final = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


HandlerFn = Callable[["SimSession", Req], None]


#: functions the market clock calls every ``tick_interval`` (registered by domain modules)
_CLOCK_HOOKS: Final[list[Callable[[Simulator], object]]] = []

#: the modules whose clock hooks feed market data (top of book, depth and tick-by-tick,
#: keep-up-to-date and real-time bars): they pause while IB connectivity is lost, a market
#: data farm is down or the simulator hangs. The others (orders, accounts) keep running.
_FEED_MODULES: Final = frozenset(
    {"aiotws.sim.marketdata", "aiotws.sim.depth", "aiotws.sim.historical"}
)


def _is_feed(hook: Callable[[Simulator], object]) -> bool:
    return getattr(hook, "__module__", "") in _FEED_MODULES


def on_clock(fn: Callable[[Simulator], object]) -> Callable[[Simulator], object]:
    """Register ``fn(sim)`` to run on every tick of the simulator's market clock."""
    _CLOCK_HOOKS.append(fn)
    return fn


def handles(*types: type[Req]) -> Callable[[HandlerFn[Req]], HandlerFn[Req]]:
    """Register a simulator handler for request classes: ``fn(session, msg)``."""

    def register(fn: HandlerFn[Req]) -> HandlerFn[Req]:
        for t in types:
            if t in _HANDLERS:
                raise ValueError(f"{t.__name__} already has a simulator handler")
            _HANDLERS[t] = fn
        return fn

    return register


@dataclass
class SimConfig:
    """How the simulated TWS behaves.

    ``accounts``: the managed accounts (one paper account by default; several for an
    advisor setup). ``master_client_id``: the API client that sees every client's orders.
    ``read_only``: refuse order requests with 321 as TWS's Read-Only API setting does.
    """

    host: str = "127.0.0.1"
    port: int = 0
    min_version: int = 100
    max_version: int = MAX_TEXT_VERSION
    seed: int = 0
    accounts: tuple[str, ...] = ("DU1234567",)
    master_client_id: int | None = None
    read_only: bool = False
    time_zone: str = "America/New_York"
    next_order_id: int = 1
    max_clients: int = 32
    connect_notices: tuple[tuple[int, str], ...] = CONNECT_NOTICES
    #: market data lines (simultaneous REQ_MKT_DATA subscriptions) before error 101
    market_data_lines: int = 100
    #: simultaneous REQ_MKT_DEPTH subscriptions per session before error 309
    market_depth_lines: int = 3
    #: simultaneous REQ_TICK_BY_TICK_DATA subscriptions per session before error 10190
    tick_by_tick_lines: int = 5
    #: seconds between market updates sent to subscribers (the market's clock)
    tick_interval: float = 0.25
    #: monotonic seconds: IB's historical pacing is measured on it, and the simulated time
    #: of the historical data runs on it (a test gives a virtual clock)
    clock: Callable[[], float] = time.monotonic
    #: the simulated time when the simulator is made (``None``: the real time); it then
    #: runs ``market_speed`` times as fast as ``clock``: :meth:`Simulator.market_time`
    market_start: datetime | None = None
    market_speed: float = 1.0
    #: refuse historical requests that break IB's pacing rules with error 162, as TWS does
    historical_pacing: bool = True
    #: each account's cash at start, in ``base_currency``
    starting_cash: float = 1_000_000.0
    base_currency: str = "USD"
    #: send OPEN_ORDER/ORDER_STATUS for a client's open orders when it connects, as TWS does
    #: with "Download open orders on connection"
    download_open_orders: bool = True
    #: chance (seeded) that a fill's COMMISSION_REPORT is sent before its EXECUTION_DATA
    commission_report_first: float = 0.1
    #: TWS's "Use negative numbers to bind automatic orders": manual orders bound to client
    #: 0 get -1, -2, … instead of client 0's next order ids
    bind_negative_ids: bool = False
    #: seconds between the repeats of 1100 while :meth:`Simulator.connectivity_lost` lasts
    #: (TWS repeats it every ~5 s); ``0`` or less: sent once
    connectivity_repeat: float = 5.0
    #: the per-session subscriptions (``SimSession.state`` keys) that
    #: ``connectivity_restored(data_lost=True)`` drops: market data, depth, tick-by-tick
    #: (add ``"rt_bars"``, ``"hist_live"`` to drop real-time and keep-up-to-date bars too)
    data_lost_drops: tuple[str, ...] = ("mkt_data", "mkt_depth", "tick_by_tick")
    #: instruments the account has no market data subscription for, by symbol, local
    #: symbol or con id (a symbol names the stock and its options alike): REQ_MKT_DATA
    #: for them gets 354 at market data type 1 or 2, and 10167 with delayed ticks
    #: (MARKET_DATA_TYPE 3) at type 3 or 4
    no_market_data: tuple[str | int, ...] = ()
    #: a financial-advisor login (``accounts[0]`` is the advisor's master account, the rest
    #: its clients): FA groups and aliases, FA order allocation (:mod:`aiotws.sim.advisor`).
    #: ``None``: an advisor when ``accounts[0]`` starts with ``DF`` (paper) or ``F`` (live)
    advisor: bool | None = None


@dataclass
class Faults:
    """Misbehaviour switches for tests of a client's failure handling.

    ``close_on_accept``: accept TCP and close at once (TWS restarting, untrusted IP).
    ``silent_handshake``: accept TCP and never answer (a wedged gateway).
    ``silent_start_api``: answer the handshake, then never send NEXT_VALID_ID.
    ``unanswered``: request classes the simulator swallows without a reply (to exercise
    timeouts and cancellation); they are still recorded in ``sim.requests``.
    ``hold_client_ids``: seconds a client id stays in use after its socket closed: a
    START_API with it meanwhile gets 326 and a close (TWS still holding the old session
    after a crash or a fast reconnect).
    ``drop_after_handshake``: one-shot: the next connection is closed right after the
    handshake reply, before START_API is answered; then it resets itself to ``False``.
    ``drop_mid_message``: one-shot: the next message the simulator sends (to any client)
    is cut: its length prefix and half its payload are written, then the connection is
    closed; then it resets itself to ``False``.
    """

    close_on_accept: bool = False
    silent_handshake: bool = False
    silent_start_api: bool = False
    unanswered: set[type[OutMessage]] = field(default_factory=set)
    hold_client_ids: float = 0.0
    drop_after_handshake: bool = False
    drop_mid_message: bool = False


class SimSession(asyncio.Protocol):
    """One client connection to the simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.conn = ServerConnection(sim.config.min_version, sim.config.max_version)
        self.transport: asyncio.Transport | None = None
        self.client_id: int | None = None
        self.started = False
        self.log_level = 2
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        #: free per-session storage for domain handlers (subscriptions, …)
        self.state: dict[str, Any] = {}

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sim.sessions.add(self)
        if self.sim.faults.close_on_accept or len(self.sim.sessions) > self.sim.config.max_clients:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        sim = self.sim
        sim.sessions.discard(self)
        if self.client_id is not None and sim.clients.get(self.client_id) is self:
            del sim.clients[self.client_id]
            hold = sim.faults.hold_client_ids
            if hold > 0:
                sim._held_ids[self.client_id] = asyncio.get_running_loop().time() + hold
        for cb in self.sim.on_session_end:
            cb(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        for ev in self.conn.receive_data(data):
            if self.transport is None or self.transport.is_closing():
                return
            if self.sim.is_hung:  # read (the framing stays in step), answer nothing
                if isinstance(ev, OutMessage):
                    self.sim.hung_requests.append(ev)
                continue
            if isinstance(ev, ClientHello):
                self._on_hello(ev)
            elif isinstance(ev, UndecodableFrame):
                self._on_undecodable(ev.error)
            elif isinstance(ev, ConnectionFailed):
                log.info("closing a client connection: %s", ev.error)
                self.close()
            else:
                self._on_request(ev)

    # -- handshake and API start -----------------------------------------------------------

    def _on_hello(self, hello: ClientHello) -> None:
        if self.sim.faults.silent_handshake:
            return
        version = self.conn.negotiate(hello)
        if version is None:
            log.info(
                "refusing client range %d..%d (we serve %d..%d)",
                hello.min_version,
                hello.max_version,
                self.conn.min_version,
                self.conn.max_version,
            )
            self.conn.refuse()
            self.close()
            return
        self.write(self.conn.accept(version, self.sim.connection_time_text()))
        if self.sim.faults.drop_after_handshake:
            self.sim.faults.drop_after_handshake = False
            self.close()

    def _start_api(self, msg: StartApi) -> None:
        sim = self.sim
        if msg.client_id in sim.clients or sim.client_id_held(msg.client_id):
            self.send_error(
                -1,
                326,
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id.",
            )
            self.close()
            return
        self.client_id = msg.client_id
        self.started = True
        sim.clients[msg.client_id] = self
        if sim.faults.silent_start_api:
            return
        self.send(ManagedAccts(sim.config.accounts))
        self.send(NextValidId(sim.next_order_id(msg.client_id)))
        down = sim.farms_down
        for code, text in sim.config.connect_notices:
            farm = text.rpartition(":")[2]
            # a farm down now is reported broken, not OK
            self.send_error(-1, *(farm_notice(farm, ok=False) if farm in down else (code, text)))
        if sim.is_connectivity_lost:
            self.send_error(-1, *CONNECTIVITY_LOST)
        for cb in sim.on_session_start:
            cb(self)

    # -- requests --------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return self.conn.server_version

    @property
    def is_master(self) -> bool:
        """True when this client is the configured master client (sees all orders)."""
        return self.client_id is not None and self.client_id == self.sim.config.master_client_id

    def _on_request(self, msg: OutMessage) -> None:
        if not self.started:
            if isinstance(msg, StartApi):
                self._start_api(msg)
            else:
                self.send_error(-1, 321, f"{type(msg).__name__} sent before START_API")
            return
        if isinstance(msg, StartApi):
            self.send_error(-1, 321, "START_API sent twice")
            return
        if self.sim.config.read_only and msg.MSG_ID in READ_ONLY_BLOCKED:
            self.refuse_read_only(msg.MSG_ID, getattr(msg, "order_id", -1))
            return
        if type(msg) in self.sim.faults.unanswered:
            self.sim.requests.append(msg)
            return
        handler = _HANDLERS.get(type(msg))
        if handler is None:
            self.send_error(-1, 321, f"aiotws sim does not implement {type(msg).__name__}")
            return
        self.sim.requests.append(msg)
        handler(self, msg)

    def refuse_read_only(self, msg_id: int, order_id: int) -> None:
        """Refuse request ``msg_id`` as TWS's Read-Only API does: 321 with the Read-Only text."""
        self.send_error(
            order_id,
            321,
            f"Error validating request.-'bN' : cause - The API interface is currently in "
            f"Read-Only mode. ({Out(msg_id).name})",
        )

    def _on_undecodable(self, e: DecodeError) -> None:
        if self.sim.config.read_only and e.msg_id in READ_ONLY_BLOCKED:
            # TWS refuses order requests in read-only mode before it reads their fields
            self.refuse_read_only(e.msg_id, -1)
            return
        if isinstance(e, UnknownMessageId) and e.msg_id is not None:
            known = Out(e.msg_id) if e.msg_id in Out._value2member_map_ else None
            if known in PROTOBUF_ONLY_OUT:
                text = (
                    f"{known.name} is a protobuf message (server version "
                    f"{PROTOBUF_ONLY_OUT[known]}+); this session speaks text version "
                    f"{self.version}"
                )
            elif known is not None:
                text = f"aiotws sim does not implement {known.name}"
            else:
                text = f"Unknown incoming message id {e.msg_id}"
            self.send_error(-1, 321 if known is not None else 320, text)
            return
        name = OUT_MESSAGES[e.msg_id].__name__ if e.msg_id in OUT_MESSAGES else "request"
        log.info("strict check failed for %s: %s", name, e)
        self.send_error(self._req_id_of(e), 320, f"Error reading request: {e}")

    def _req_id_of(self, e: DecodeError) -> int:
        """The request id of a frame that failed the strict check, if it can be read.

        So the error reaches the request it belongs to instead of leaving it to time out.
        """
        cls = OUT_MESSAGES.get(e.msg_id) if e.msg_id is not None else None
        if cls is None:
            return -1
        layout = cls.LAYOUT
        pos = 1 + (1 if layout.has_version_field(self.version) else 0)
        for name, codec, when in layout.plan(self.version):
            if name in ("req_id", "order_id"):
                fields = e.payload.split(b"\0")
                try:
                    return int(fields[pos]) if pos < len(fields) else -1
                except ValueError:
                    return -1
            if not isinstance(codec, Scalar) or when is not None:
                return -1
            pos += 1
        return -1

    # -- output ----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write raw bytes to the client (nothing while the simulator hangs)."""
        if self.sim.is_hung:
            return
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send(self, msg: InMessage) -> None:
        """Send ``msg`` to this client at its negotiated version."""
        if self.conn.state is State.OPEN:
            data = self.conn.send(msg)
            faults = self.sim.faults
            if faults.drop_mid_message and not self.sim.is_hung:
                faults.drop_mid_message = False
                self.write(data[: 4 + (len(data) - 4) // 2])  # the length, half the payload
                self.close()
                return
            self.write(data)

    def send_error(self, req_id: int, code: int, text: str, reject_json: str = "") -> None:
        """Send ERR_MSG in the layout of this client's version."""
        v = self.version
        self.send(
            ErrMsg(
                req_id,
                code,
                text,
                reject_json if v >= 166 else "",
                datetime.now(UTC) if v >= 194 else None,
            )
        )

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Simulator:
    """A TWS/IB Gateway simulator on the real wire protocol.

    ``async with Simulator(port=0, seed=1) as sim:`` listens on a free loopback port
    (``sim.host``, ``sim.port``) until the block ends. ``sim.faults`` switches misbehaviour
    on; :meth:`drop_connections` and :meth:`broadcast_error` inject events.
    """

    def __init__(self, config: SimConfig | None = None, **overrides: Any) -> None:
        cfg = config or SimConfig()
        for k, v in overrides.items():
            if not hasattr(cfg, k):
                raise TypeError(f"unknown simulator setting {k!r}")
            setattr(cfg, k, v)
        self.config = cfg
        self.faults = Faults()
        self.rng = random.Random(cfg.seed)
        self.sessions: set[SimSession] = set()
        self.clients: dict[int, SimSession] = {}
        #: every request handled, in order (for tests)
        self.requests: list[OutMessage] = []
        #: conId -> (conId, exchange): market data and depth requests for the first are
        #: answered with REROUTE_MKT_DATA_REQ / REROUTE_MKT_DEPTH_REQ naming the second, as
        #: TWS does for CFDs whose data comes from their underlying
        self.reroutes: dict[int, tuple[int, str]] = {}
        #: the domain engines' state (orders, accounts …): it outlives client connections
        #: and :meth:`drop_connections`, as TWS's does across API reconnects
        self.store: dict[str, Any] = {}
        self.on_session_start: list[Callable[[SimSession], None]] = []
        self.on_session_end: list[Callable[[SimSession], None]] = []
        self._next_ids: dict[int, int] = {}
        self._server: asyncio.Server | None = None
        self._universe: Universe | None = None
        self._market: Market | None = None
        self._clock: asyncio.Task[None] | None = None
        #: True while :meth:`restart` is down (closing, or waiting out the downtime)
        self.restarting = False
        #: requests read while :meth:`hang` lasted: dropped unanswered (not in ``requests``)
        self.hung_requests: list[OutMessage] = []
        self._hung = False
        self._connectivity_lost = False
        self._competing = False
        self._repeat: asyncio.Task[None] | None = None
        self._farms_down: dict[str, int] = {}  # farm -> how many flaps hold it down
        self._held_ids: dict[int, float] = {}  # client id -> loop time it is free again
        self._down: DownListener | None = None
        self._is_down = asyncio.Event()  # set while a restart is down (set up, not yet back)
        start = cfg.market_start or datetime.now(UTC)
        self._time_base = (cfg.clock(), start if start.tzinfo else start.replace(tzinfo=UTC))
        self.host = cfg.host
        self.port = cfg.port

    @property
    def universe(self) -> Universe:
        """The instruments this simulator knows (seeded by ``config.seed``; built on first use)."""
        if self._universe is None:
            self._universe = Universe(seed=self.config.seed)
        return self._universe

    @property
    def market(self) -> Market:
        """The simulated market over :attr:`universe` (seeded; built on first use)."""
        if self._market is None:
            self._market = Market(self.universe, seed=self.config.seed, clock=time.time)
        return self._market

    def market_time(self) -> datetime:
        """The simulated time (UTC): ``config.market_start`` (or the real time when the
        simulator was made) plus the ``config.clock`` seconds since, times ``market_speed``.
        Historical data, keep-up-to-date bars and real-time bars live at this time."""
        t0, start = self._time_base
        return start + timedelta(seconds=(self.config.clock() - t0) * self.config.market_speed)

    def ensure_market_clock(self) -> None:
        """Start the market clock (idempotent): it steps subscribed instruments."""
        if self._clock is None or self._clock.done():
            self._clock = asyncio.get_running_loop().create_task(self._run_clock())

    async def _run_clock(self) -> None:
        interval = self.config.tick_interval
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            self.step_clock()

    def step_clock(self) -> None:
        """One tick of the market clock: every clock hook once (the clock calls it every
        ``tick_interval``; with ``tick_interval=0`` tests call it). Nothing runs while the
        simulator hangs; the market data feeds skip it while :attr:`data_paused`."""
        if self._hung:
            return
        paused = self.data_paused
        for hook in _CLOCK_HOOKS:
            if paused and _is_feed(hook):
                continue
            try:
                hook(self)
            except Exception:
                log.exception("market clock hook %r failed", hook)

    def next_order_id(self, client_id: int) -> int:
        """The next valid order id TWS would announce to ``client_id``."""
        return self._next_ids.setdefault(client_id, self.config.next_order_id)

    def use_order_id(self, client_id: int, order_id: int) -> None:
        """Record that ``client_id`` used ``order_id`` (the next valid id moves past it)."""
        self._next_ids[client_id] = max(self.next_order_id(client_id), order_id + 1)

    def connection_time_text(self) -> str:
        """TWS's handshake time: ``yyyymmdd hh:mm:ss <zone abbreviation>``."""
        now = datetime.now(ZoneInfo(self.config.time_zone))
        return now.strftime("%Y%m%d %H:%M:%S ") + (now.tzname() or "UTC")

    @property
    def is_serving(self) -> bool:
        """True while the simulator listens (not before :meth:`start`, after :meth:`stop`,
        or while :meth:`restart` is down)."""
        return self._server is not None and self._server.is_serving()

    async def start(self) -> None:
        await self._listen(self.config.host, self.config.port)

    async def _listen(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SimSession(self), host, port)
        sock = self._server.sockets[0].getsockname()
        self.host, self.port = sock[0], sock[1]
        log.info("simulator listening on %s:%d", self.host, self.port)

    async def restart(self, downtime: float = 0.0, mode: RestartMode = "refuse") -> None:
        """Restart as TWS's daily auto-restart does: stop listening, close every client
        connection, stay down ``downtime`` seconds, then listen again on the same host and
        port.

        While down, ``mode`` says what a connect meets: ``"refuse"`` nothing listens (TWS
        gone); ``"accept_close"`` TCP is accepted and closed at once (TWS starting up, or at
        its login screen); ``"silent"`` TCP is accepted and never answered, not even the
        handshake (a wedged gateway; those connections are closed when the downtime ends).

        Everything but the connections survives: ``sim.store`` (orders, executions, the
        ledger), the universe, the market and its history, the next valid ids (past every
        id used), the market clock, client ids held by ``faults.hold_client_ids``.
        Per-connection state (subscriptions, client 0's auto-binding) is gone, as it is in
        TWS; clients reconnect and resubscribe. The restarted process is connected to IB
        again: a lost connectivity, farms down and a hang end with the restart."""
        if mode not in RESTART_MODES:
            raise ValueError(f"restart mode must be one of {', '.join(RESTART_MODES)}")
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        self.restarting = True
        try:
            server, self._server = self._server, None
            server.close()
            await self.drop_connections()
            await server.wait_closed()
            self._reset_upstream()
            log.info("simulator down for %.3f s (restart, %s)", downtime, mode)
            if mode != "refuse":
                self._down = DownListener(mode)
                await self._down.start(self.config.host, self.port)
            self._is_down.set()
            if downtime > 0:
                await asyncio.sleep(downtime)
            await self._close_down_listener()
            await self._listen(self.config.host, self.port)  # the same port, even for port 0
        finally:
            self.restarting = False
            self._is_down.clear()
            await self._close_down_listener()

    async def wait_down(self) -> None:
        """Wait until a running :meth:`restart` is down: its connections are closed and the
        port refuses, or accepts per its ``mode``. Returns at once while it is down."""
        await self._is_down.wait()

    async def _close_down_listener(self) -> None:
        down, self._down = self._down, None
        if down is not None:
            await down.close()

    def _reset_upstream(self) -> None:
        """A fresh TWS process: connected to IB, its farms OK, not hung."""
        self._stop_repeat()
        self._connectivity_lost = False
        self._farms_down.clear()
        self._hung = False

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None
        self._stop_repeat()
        await self._close_down_listener()
        if self._server is None:
            return
        self._server.close()
        await self.drop_connections()
        await self._server.wait_closed()
        self._server = None

    async def drop_connections(self) -> None:
        """Close every client socket (as a TWS restart does) and wait until they are gone."""
        sessions = list(self.sessions)
        for s in sessions:
            s.close()
        if sessions:
            await asyncio.gather(*(asyncio.shield(s.closed) for s in sessions))

    def broadcast_error(self, code: int, text: str, req_id: int = -1) -> None:
        """Send an ERR_MSG to every started client (e.g. 1100 connectivity lost)."""
        for s in list(self.clients.values()):
            s.send_error(req_id, code, text)

    # -- session faults ----------------------------------------------------------------------

    @property
    def is_connectivity_lost(self) -> bool:
        """True from :meth:`connectivity_lost` to :meth:`connectivity_restored`."""
        return self._connectivity_lost

    @property
    def farms_down(self) -> frozenset[str]:
        """The farms reported broken now (:meth:`farm_down`, :meth:`farm_flap`)."""
        return frozenset(self._farms_down)

    @property
    def is_hung(self) -> bool:
        """True from :meth:`hang` to :meth:`unhang`."""
        return self._hung

    @property
    def data_paused(self) -> bool:
        """True while no market data flows: connectivity lost, a market data farm down, or
        hung. Orders still fill and are reported (except while hung)."""
        return (
            self._hung
            or self._connectivity_lost
            or any(farm_kind(f) == "market" for f in self._farms_down)
        )

    def connectivity_lost(self) -> None:
        """IB's servers are gone, the API socket stays up (TWS's nightly reset): 1100 to
        every started client, repeated every ``config.connectivity_repeat`` seconds (and
        sent to clients that start meanwhile) until :meth:`connectivity_restored`. Market
        data stops; orders keep filling and their reports keep coming."""
        self._connectivity_lost = True
        self.broadcast_error(*CONNECTIVITY_LOST)
        if self._repeat is None or self._repeat.done():
            self._repeat = asyncio.get_running_loop().create_task(self._repeat_lost())

    async def _repeat_lost(self) -> None:
        interval = self.config.connectivity_repeat
        if interval <= 0:
            return
        while self._connectivity_lost:
            await asyncio.sleep(interval)
            if self._connectivity_lost and not self._hung:
                self.broadcast_error(*CONNECTIVITY_LOST)

    def _stop_repeat(self) -> None:
        if self._repeat is not None:
            self._repeat.cancel()
            self._repeat = None

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """IB is back: the 1100 repeats stop, and every started client gets 1101 (``data_lost``:
        the market data, depth and tick-by-tick subscriptions of every session are dropped
        first, ``config.data_lost_drops``; clients must subscribe again) or 1102 (data
        maintained: the subscriptions stay and their ticks resume)."""
        self._connectivity_lost = False
        self._stop_repeat()
        if data_lost:
            for s in list(self.sessions):
                for key in self.config.data_lost_drops:
                    s.state.pop(key, None)
            self.broadcast_error(*CONNECTIVITY_RESTORED_DATA_LOST)
        else:
            self.broadcast_error(*CONNECTIVITY_RESTORED_DATA_MAINTAINED)

    def farm_down(self, farm: str = "usfarm") -> None:
        """Report ``farm`` broken (2103 market data, 2105 HMDS, 2157 sec-def, by its name);
        a market data farm's ticks pause until :meth:`farm_up`. Subscriptions are kept."""
        self._farms_down[farm] = self._farms_down.get(farm, 0) + 1
        self.broadcast_error(*farm_notice(farm, ok=False))

    def farm_up(self, farm: str = "usfarm") -> None:
        """Report ``farm`` OK again (2104, 2106, 2158) and resume its ticks."""
        n = self._farms_down.pop(farm, 0) - 1
        if n > 0:  # another flap of the same farm still holds it down
            self._farms_down[farm] = n
        self.broadcast_error(*farm_notice(farm, ok=True))

    async def farm_flap(self, farm: str = "usfarm", down: float = 3.0) -> None:
        """A farm flap: :meth:`farm_down`, ``down`` seconds, :meth:`farm_up` (also when
        cancelled)."""
        self.farm_down(farm)
        try:
            await asyncio.sleep(down)
        finally:
            self.farm_up(farm)

    @property
    def is_competing_session(self) -> bool:
        """True from ``competing_session(True)`` to ``competing_session(False)``."""
        return self._competing

    def competing_session(self, active: bool = True) -> None:
        """The same IB user logs in elsewhere (another TWS, the mobile app) and takes the
        market data: every live REQ_MKT_DATA subscription gets 10197 "No market data during
        competing live session" and its ticks stop; new requests get 10197 and no ticks (a
        snapshot ends at once). ``competing_session(False)``: the other session is gone and
        the subscriptions' ticks resume. Orders, accounts and history are not affected."""
        was, self._competing = self._competing, active
        if active and not was:
            for s in list(self.clients.values()):
                for req_id in list(s.state.get("mkt_data", {})):
                    s.send_error(req_id, *COMPETING_SESSION)

    def hang(self) -> None:
        """Wedge the simulator: every connection stays open, but nothing is answered or
        sent (ticks, fills and notices included) until :meth:`unhang`. Requests read
        meanwhile are dropped (kept in :attr:`hung_requests`, not in :attr:`requests`);
        new connections are accepted and get no handshake answer. The market clock stops."""
        self._hung = True

    def unhang(self) -> None:
        """Answer again: requests from now on are served, the clock and feeds resume.
        What was dropped while hung stays dropped."""
        self._hung = False

    def client_id_held(self, client_id: int) -> bool:
        """True while ``faults.hold_client_ids`` keeps ``client_id`` in use after its close."""
        until = self._held_ids.get(client_id)
        if until is None:
            return False
        if asyncio.get_running_loop().time() < until:
            return True
        del self._held_ids[client_id]
        return False

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Serve until cancelled (across :meth:`restart` s), then stop."""
        if self._server is None:
            await self.start()
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            await self.stop()
