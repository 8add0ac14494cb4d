"""``aiotws.testing``: a pytest plugin for testing your own code against the simulator.

Installed with aiotws and loaded by pytest on its own (the ``pytest11`` entry point
``aiotws``); nothing to import. Its fixtures, all function-scoped and named ``aiotws_*``:

- ``aiotws_sim_config``: the :class:`~aiotws.sim.SimConfig` of the test's simulator,
  ``seed=1`` and the fields of the ``aiotws_sim`` markers; override it for your own;
- ``aiotws_sim``: a fresh :class:`~aiotws.sim.Simulator` on a free loopback port;
- ``aiotws_reconnect``: the :class:`~aiotws.session.ReconnectPolicy` of ``aiotws_ib``;
- ``aiotws_ib``: an :class:`~aiotws.IB` (client id 1) connected to ``aiotws_sim``,
  reconnecting after a restart, disconnected at teardown;
- ``aiotws_client``: a low-level :class:`~aiotws.Client` (client id 2);
- ``aiotws_market``: a :class:`SimDriver`: step the market, halt a symbol, restart the
  simulator, IB outages and other faults;
- ``aiotws_replay``: a factory of ``IB``\\ s connected to a recording played back
  (:func:`replay`, :mod:`aiotws.replay`).

``@pytest.mark.aiotws_sim(seed=7, tick_interval=0, accounts=("DU1", "DU2"))`` sets
:class:`~aiotws.sim.SimConfig` fields for a test (or a class or module: the closest marker
wins per field).

The async fixtures need pytest-asyncio (they are ``pytest_asyncio.fixture``\\ s, so they work in
its strict and auto modes alike). Importing this module has no side effects and needs
neither pytest-asyncio nor the simulator: they are imported when a fixture is used.
"""

# The simulator is imported inside the fixtures, not here: pytest loads this plugin in every
# run of every project that has aiotws installed, and importing aiotws.sim costs a third of a
# second more than the aiotws package (imported anyway, as this module's parent).
# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from aiotws import IB, Client, Contract, Stock
from aiotws.session import ReconnectPolicy

if TYPE_CHECKING:
    from aiotws import Order
    from aiotws.record import Recording
    from aiotws.sim import Faults, SimConfig, Simulator
    from aiotws.sim.faults import RestartMode
    from aiotws.sim.market import Quote
    from aiotws.sim.matching import SimOrder
    from aiotws.startup import SyncReport

__all__ = ["MARKER", "SimDriver", "fast_reconnect", "replay", "sim_config", "wait_restored"]

#: the marker that sets the simulator's configuration for a test
MARKER = "aiotws_sim"
#: the client ids of the ``aiotws_ib`` and ``aiotws_client`` fixtures
IB_CLIENT_ID = 1
CLIENT_CLIENT_ID = 2
#: seconds any fixture waits for a connect or a close before it fails the test
GUARD = 10.0

_F = TypeVar("_F", bound=Callable[..., Any])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**fields): aiotws simulator settings (SimConfig fields, e.g. seed=7, "
        "tick_interval=0) for the aiotws_sim fixture",
    )


def _async_fixture(fn: _F) -> _F:
    """``pytest_asyncio.fixture(fn)``; without pytest-asyncio, a fixture that says so."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest-asyncio is a test dependency

        def missing() -> None:
            pytest.fail(
                f"the aiotws fixture {fn.__name__!r} needs pytest-asyncio "
                "(pip install pytest-asyncio)",
                pytrace=False,
            )

        missing.__doc__ = fn.__doc__
        out: Any = pytest.fixture(name=fn.__name__)(missing)
        return out  # type: ignore[no-any-return]
    wrapped: Any = pytest_asyncio.fixture(fn)
    return wrapped  # type: ignore[no-any-return]


# -- configuration -----------------------------------------------------------------------


def sim_config(request: pytest.FixtureRequest, **defaults: Any) -> SimConfig:
    """The :class:`~aiotws.sim.SimConfig` of a test: ``defaults``, then the ``aiotws_sim``
    markers from the farthest (module) to the closest (function)."""
    from aiotws.sim import SimConfig

    settings: dict[str, Any] = {"seed": 1, **defaults}
    for mark in reversed(list(request.node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keyword arguments only (SimConfig fields), "
                f"got {mark.args!r}",
                pytrace=False,
            )
        settings.update(mark.kwargs)
    known = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        pytest.fail(
            f"@pytest.mark.{MARKER}: unknown SimConfig field(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}",
            pytrace=False,
        )
    return SimConfig(**settings)


@pytest.fixture
def aiotws_sim_config(request: pytest.FixtureRequest) -> SimConfig:
    """The simulator's configuration: ``seed=1`` plus the ``aiotws_sim`` markers' fields.

    Override it in your conftest.py to change the defaults of a whole suite::

        @pytest.fixture
        def aiotws_sim_config(request):
            return aiotws.testing.sim_config(request, tick_interval=0.05)
    """
    return sim_config(request)


def fast_reconnect() -> ReconnectPolicy:
    """The reconnect policy of ``aiotws_ib``: retries every 50 ms to 0.5 s, no jitter."""
    return ReconnectPolicy(initial_delay=0.05, max_delay=0.5, jitter=0.0, connect_timeout=2.0)


@pytest.fixture
def aiotws_reconnect() -> ReconnectPolicy:
    """The reconnect policy of ``aiotws_ib`` (:func:`fast_reconnect`); override it to test
    your own."""
    return fast_reconnect()


# -- the simulator and the clients --------------------------------------------------------


@_async_fixture
async def aiotws_sim(aiotws_sim_config: SimConfig) -> AsyncIterator[Simulator]:
    """A fresh simulator for the test (``aiotws_sim_config``), stopped at teardown."""
    from aiotws.sim import Simulator

    async with Simulator(aiotws_sim_config) as sim:
        yield sim


@_async_fixture
async def aiotws_ib(aiotws_sim: Simulator, aiotws_reconnect: ReconnectPolicy) -> AsyncIterator[IB]:
    """An ``IB`` (client id 1) connected to ``aiotws_sim``; it reconnects after a restart or
    a dropped connection (``aiotws_reconnect``). Disconnected at teardown."""
    ib = IB(reconnect=aiotws_reconnect)
    async with _connected(ib, aiotws_sim.host, aiotws_sim.port, IB_CLIENT_ID):
        yield ib


@contextlib.asynccontextmanager
async def _connected(
    ib: IB, host: str, port: int, client_id: int, account: str = ""
) -> AsyncIterator[IB]:
    """``ib`` connected (bounded by ``GUARD``) for the block, disconnected and closed after."""
    async with asyncio.timeout(GUARD):
        await ib.connect(host, port, client_id=client_id, account=account)
    try:
        yield ib
    finally:
        ib.disconnect()
        async with asyncio.timeout(GUARD):
            await ib.wait_closed()


@_async_fixture
async def aiotws_client(aiotws_sim: Simulator) -> AsyncIterator[Client]:
    """A low-level ``Client`` (client id 2, so it can sit next to ``aiotws_ib``) connected
    to ``aiotws_sim``; no reconnects, no state sync. Disconnected at teardown."""
    client = Client()
    async with asyncio.timeout(GUARD):
        await client.connect(aiotws_sim.host, aiotws_sim.port, CLIENT_CLIENT_ID)
    try:
        yield client
    finally:
        client.disconnect()
        async with asyncio.timeout(GUARD):
            await client.wait_closed()


@pytest.fixture
def aiotws_market(aiotws_sim: Simulator) -> SimDriver:
    """A :class:`SimDriver` over ``aiotws_sim``: drive its market, inject faults."""
    return SimDriver(aiotws_sim)


# -- replaying recordings -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def replay(
    recording: str | Path | Recording,
    *,
    strict: bool = True,
    speed: float | None = None,
    client_id: int | None = None,
    account: str = "",
    **ib_options: Any,
) -> AsyncIterator[IB]:
    """An ``IB`` connected to a :class:`~aiotws.replay.ReplayServer` playing ``recording``::

        async with aiotws.testing.replay("tests/data/bug.twsrec") as ib:
            bars = await ib.historical_bars(Stock("AAPL"), duration="1 D", bar_size="1 hour")

    The ``IB`` connects with the recorded client id (or ``client_id``) and ``account`` (as
    :meth:`~aiotws.IB.connect` takes it); ``ib_options`` go to
    ``IB(...)`` and must make it send what the recorded client sent (the same ``sync=`` of
    the startup requests: ``StartupSync.none()`` for a recording made with the CLI). It
    reconnects (:func:`fast_reconnect`) only when the recording has several connections.
    On exit it is disconnected and the server stopped; in ``strict`` mode a client that
    strayed from the recording raises :class:`~aiotws.replay.ReplayMismatch` there.
    """
    from aiotws.replay import ReplayServer

    async with ReplayServer(recording, strict=strict, speed=speed) as server:
        many = len(server.recording.connections) > 1
        ib_options.setdefault("reconnect", fast_reconnect() if many else False)
        ib = IB(**ib_options)
        async with _connected(ib, server.host, server.port, client_id or server.client_id, account):
            yield ib


@_async_fixture
async def aiotws_replay() -> AsyncIterator[Callable[..., Awaitable[IB]]]:
    """A factory of replayed sessions: ``ib = await aiotws_replay("bug.twsrec", **options)``
    (the options of :func:`replay`). Each is disconnected at teardown, where a strict
    replay the client strayed from fails the test with the expected and actual frames."""
    async with contextlib.AsyncExitStack() as stack:

        async def open_replay(recording: str | Path | Recording, **options: Any) -> IB:
            return await stack.enter_async_context(replay(recording, **options))

        yield open_replay


# -- driving the simulator ----------------------------------------------------------------


async def wait_restored(ib: IB, timeout: float = GUARD) -> SyncReport:
    """Wait for the next ``ib.restored`` (reconnected, state synced, resubscribed)."""
    fut: asyncio.Future[SyncReport] = asyncio.get_running_loop().create_future()

    def on(report: SyncReport) -> None:
        if not fut.done():
            fut.set_result(report)

    ib.restored += on
    try:
        async with asyncio.timeout(timeout):
            return await fut
    finally:
        ib.restored -= on


class SimDriver:
    """Thin helpers over a :class:`~aiotws.sim.Simulator` for tests (``aiotws_market``).

    Instruments are named by symbol (a US stock: ``"AAPL"``), by con_id, or by a
    ``Contract`` (its con_id if set, else a lookup that must match one instrument). The
    methods that break connections take ``wait=ib`` (or several ``IB``\\ s): they then
    return only once each has reconnected and been restored.
    """

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __repr__(self) -> str:
        return f"SimDriver({self.sim.host}:{self.sim.port})"

    @property
    def faults(self) -> Faults:
        """The simulator's :class:`~aiotws.sim.Faults` switches."""
        return self.sim.faults

    # -- the market --------------------------------------------------------------------

    def con_id(self, what: str | int | Contract) -> int:
        """The con_id of an instrument named by symbol, con_id or contract."""
        if isinstance(what, int):
            return what
        if isinstance(what, Contract) and what.con_id:
            return what.con_id
        query = Stock(what) if isinstance(what, str) else what
        matches = self.sim.universe.match(query)
        if len(matches) != 1:
            found = "no instrument" if not matches else f"{len(matches)} instruments"
            raise LookupError(f"{what!r} matches {found} in the simulator")
        return matches[0].contract.con_id

    def quote(self, what: str | int | Contract) -> Quote:
        """The simulated market's current state of an instrument (bid, ask, last …)."""
        return self.sim.market.quote(self.con_id(what))

    def step(self, n: int = 1) -> None:
        """``n`` ticks of the market clock: prices move, orders work, accounts revalue, and
        subscribers are sent what changed. With ``tick_interval=0`` (no clock of its own)
        this is the only way the market moves. Follow it with :meth:`barrier` to know the
        client has read what was sent."""
        for _ in range(n):
            self.sim.step_clock()

    async def barrier(self, ib: IB | Client) -> None:
        """A round trip through the simulator: once it returns, the client has handled
        every message the simulator sent before it (the simulator answers in order)."""
        client = ib if isinstance(ib, Client) else ib.client
        async with asyncio.timeout(GUARD):
            await client.req_managed_accounts()

    def halt(self, what: str | int | Contract, halted: bool = True) -> int:
        """Halt an instrument (TWS's HALTED tick); its prices freeze. Returns how many
        subscriptions were told."""
        from aiotws.sim import halt

        return halt(self.sim, self.con_id(what), halted)

    def resume(self, what: str | int | Contract) -> int:
        """End a :meth:`halt`."""
        return self.halt(what, halted=False)

    def close_session(self) -> int:
        """The 16:00 close now: MOC/LOC orders fill, DAY orders are cancelled."""
        from aiotws.sim.orders import close_session

        return close_session(self.sim)

    # -- accounts and orders -----------------------------------------------------------

    def _account(self, account: str | None) -> str:
        return account or self.sim.config.accounts[0]

    def seed_position(
        self,
        what: str | int | Contract,
        position: Decimal | float | int,
        avg_cost: float,
        account: str | None = None,
    ) -> None:
        """Give an account (default: the first) a position without an order, and publish it."""
        from aiotws.sim.accounts import seed_position

        inst = self.sim.universe.by_con_id(self.con_id(what))
        assert inst is not None
        seed_position(self.sim, self._account(account), inst.contract, Decimal(position), avg_cost)

    def deposit(self, amount: float, account: str | None = None) -> None:
        """Add cash (negative: withdraw) to an account and publish its values."""
        from aiotws.sim.accounts import ledger_of, publish_account

        acct = self._account(account)
        ledger_of(self.sim).deposit(acct, amount)
        publish_account(self.sim, acct)

    def place_manual_order(self, what: str | int | Contract, order: Order) -> SimOrder:
        """An order entered in TWS's own window (client 0's, not the API's)."""
        from aiotws.sim.orders import place_manual_order

        inst = self.sim.universe.by_con_id(self.con_id(what))
        assert inst is not None
        return place_manual_order(self.sim, inst.contract, order)

    # -- connection faults -------------------------------------------------------------

    async def _waiting(self, wait: IB | Iterable[IB] | None, act: Awaitable[object]) -> None:
        ibs = [] if wait is None else [wait] if isinstance(wait, IB) else list(wait)
        restored = [asyncio.ensure_future(wait_restored(ib)) for ib in ibs]
        try:
            await act
            if restored:
                await asyncio.gather(*restored)
        finally:
            for f in restored:
                f.cancel()

    async def restart(
        self,
        downtime: float = 0.0,
        mode: RestartMode = "refuse",
        *,
        wait: IB | Iterable[IB] | None = None,
    ) -> None:
        """TWS's daily restart: every connection closed, down ``downtime`` seconds (connects
        refused, or ``mode="accept_close"`` / ``"silent"``), back on the same port with its
        state (orders, positions) kept. ``wait=ib``: also until ``ib`` is restored."""
        await self._waiting(wait, self.sim.restart(downtime, mode))

    async def drop_connections(self, *, wait: IB | Iterable[IB] | None = None) -> None:
        """Close every client socket (TWS keeps listening). ``wait=ib``: until restored."""
        await self._waiting(wait, self.sim.drop_connections())

    def connectivity_lost(self) -> None:
        """IB's servers lost (1100, repeated): the socket stays, market data stops."""
        self.sim.connectivity_lost()

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """1102 (data kept) or, ``data_lost=True``, 1101 (subscriptions dropped)."""
        self.sim.connectivity_restored(data_lost)

    async def farm_flap(self, farm: str = "usfarm", down: float = 0.5) -> None:
        """A data farm broken for ``down`` seconds, then OK (2103/2104 …)."""
        await self.sim.farm_flap(farm, down)

    def farm_down(self, farm: str = "usfarm") -> None:
        self.sim.farm_down(farm)

    def farm_up(self, farm: str = "usfarm") -> None:
        self.sim.farm_up(farm)

    def hang(self) -> None:
        """A wedged TWS: connections stay open, nothing is answered or sent."""
        self.sim.hang()

    def unhang(self) -> None:
        self.sim.unhang()

    def broadcast_error(self, code: int, text: str, req_id: int = -1) -> None:
        """Send an ERR_MSG to every client (e.g. 10167 to a ticker's ``req_id``)."""
        self.sim.broadcast_error(code, text, req_id)

    def competing_session(self, active: bool = True) -> None:
        """The same user's other session takes the market data (10197, no ticks) until
        ``competing_session(False)``; see :meth:`~aiotws.sim.Simulator.competing_session`."""
        self.sim.competing_session(active)
