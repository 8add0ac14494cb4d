"""The simulator's session faults (issue 7), each as a client sees it on the wire.

An IB-side outage (1100 repeated, ticks stop, fills still come; 1101 drops every subscription,
1102 keeps them), farm flaps, a hang, client ids TWS still holds, the three restart modes,
connections cut right after the handshake or in the middle of a frame, and the command
line's restart rehearsal. The market clock is off (``tick_interval=0``): the tests step it
with ``sim.step_clock()`` and use a round trip as a barrier, so "no tick" is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiotws import (
    Client,
    ClientIdInUse,
    ConnectionLost,
    ConnectionRefused,
    ConnectTimeout,
    MarketOrder,
    Stock,
    TWSConnectionError,
)
from aiotws.client import ErrorInfo
from aiotws.errors import RequestTimeout
from aiotws.sim import Simulator
from aiotws.sim.faults import RESTART_MODES, farm_kind, farm_notice
from aiotws.ticker import Ticker
from aiotws.wire.connection import API_PREFIX
from aiotws.wire.framing import frame
from aiotws.wire.messages import ReqCurrentTime

GUARD = 5.0
REPEAT = 0.05
AAPL = Stock("AAPL", "SMART", "USD")


@pytest.fixture
async def fsim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, tick_interval=0, connectivity_repeat=REPEAT) as s:
        yield s


@pytest.fixture
async def clients(fsim: Simulator) -> AsyncIterator[list[Client]]:
    """Clients a test connected (closed at teardown)."""
    made: list[Client] = []
    yield made
    for c in made:
        c.disconnect()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(GUARD):
                await c.wait_closed()


async def _connect(sim: Simulator, made: list[Client], client_id: int = 1, **kw: Any) -> Client:
    c = Client(**kw)
    made.append(c)
    async with asyncio.timeout(GUARD):
        await c.connect(sim.host, sim.port, client_id, timeout=GUARD)
    return c


def _upstream(sim: Simulator) -> tuple[bool, bool]:
    return sim.is_connectivity_lost, sim.data_paused


async def _barrier(c: Client) -> None:
    """A round trip: every message the simulator wrote before its answer has been read."""
    async with asyncio.timeout(GUARD):
        await c.req_managed_accounts()


class Notices(list[ErrorInfo]):
    """Every ERR_MSG a client gets (or only its farm notices), awaitable by code."""

    def __init__(self, c: Client, farms_only: bool = False) -> None:
        super().__init__()
        self._arrived = asyncio.Event()
        if farms_only:
            c.farm_status += self._add
        else:
            c.errors += self._add

    def _add(self, e: ErrorInfo) -> None:
        self.append(e)
        self._arrived.set()

    def codes(self) -> list[int]:
        return [e.code for e in self]

    async def until(self, code: int, n: int = 1) -> None:
        """Wait (guarded) until ``n`` notices ``code`` have arrived."""
        async with asyncio.timeout(GUARD):
            while sum(e.code == code for e in self) < n:
                self._arrived.clear()
                await self._arrived.wait()


def _notices(c: Client) -> Notices:
    return Notices(c)


class Counter:
    def __init__(self, ticker: Ticker) -> None:
        self.n = 0
        ticker.updated += self.bump

    def bump(self, *_: object) -> None:
        self.n += 1


async def _ticker(sim: Simulator, c: Client) -> tuple[Ticker, Counter]:
    t = c.req_mkt_data(AAPL)
    async with asyncio.timeout(GUARD):
        await t.ready()
    return t, Counter(t)


async def _step_sees_ticks(sim: Simulator, c: Client, counter: Counter) -> bool:
    before = counter.n
    sim.step_clock()
    await _barrier(c)
    return counter.n > before


# -- IB connectivity: 1100, 1101, 1102 -------------------------------------------------------------


async def test_1100_repeats_until_1102(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients)
    seen = _notices(c)
    lost: list[ErrorInfo] = []
    c.connectivity += lost.append
    fsim.connectivity_lost()
    assert _upstream(fsim) == (True, True)  # (lost, data paused)
    await seen.until(1100, 3)  # the first, then the repeats every REPEAT seconds
    fsim.connectivity_restored(data_lost=False)
    await seen.until(1102)
    assert _upstream(fsim) == (False, False)
    codes = [e.code for e in lost]
    assert codes[-1] == 1102 and set(codes[:-1]) == {1100}
    text = next(e.text for e in seen if e.code == 1100)
    assert text == "Connectivity between IB and Trader Workstation has been lost."
    assert all(e.req_id == -1 for e in lost)
    n = len(seen)
    await asyncio.sleep(3 * REPEAT)  # the repeat's own period: no 1100 after the restore
    await _barrier(c)
    assert [e.code for e in seen[n:]] == []


async def test_ticks_stop_while_lost_fills_still_come(
    fsim: Simulator, clients: list[Client]
) -> None:
    c = await _connect(fsim, clients)
    seen = _notices(c)
    ticker, counter = await _ticker(fsim, c)
    assert await _step_sees_ticks(fsim, c, counter)
    fsim.connectivity_lost()
    await seen.until(1100)
    for _ in range(3):
        assert not await _step_sees_ticks(fsim, c, counter)
    # a subscription made during the outage: accepted, but no tick yet
    late = c.req_mkt_data(Stock("MSFT", "SMART", "USD"))
    late_counter = Counter(late)
    await _barrier(c)
    assert late_counter.n == 0 and late.min_tick > 0  # TICK_REQ_PARAMS only
    # an order still fills, and its execution is reported, interleaved with the 1100s
    trade = c.place_order(AAPL, MarketOrder("BUY", 10))
    fsim.step_clock()
    async with asyncio.timeout(GUARD):
        await trade.filled()
    assert trade.fills and fsim.is_connectivity_lost
    fsim.connectivity_restored(data_lost=False)
    await seen.until(1102)
    assert await _step_sees_ticks(fsim, c, counter)  # the same subscription, ticks again
    assert late_counter.n > 0
    assert not ticker.errors


async def test_1101_drops_every_subscription(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients)
    seen = _notices(c)
    ticker, counter = await _ticker(fsim, c)
    c.req_mkt_depth(AAPL, 5)
    c.tick_by_tick(AAPL, "BidAsk")
    await _barrier(c)
    [session] = fsim.sessions
    assert all(session.state.get(k) for k in ("mkt_data", "mkt_depth", "tick_by_tick"))
    fsim.connectivity_lost()
    fsim.connectivity_restored(data_lost=True)
    await seen.until(1101)
    assert next(e.text for e in seen if e.code == 1101) == (
        "Connectivity between IB and Trader Workstation has been restored - data lost."
    )
    assert not any(session.state.get(k) for k in ("mkt_data", "mkt_depth", "tick_by_tick"))
    assert not await _step_sees_ticks(fsim, c, counter)  # the old subscription is gone
    c.cancel_mkt_data(ticker)  # TWS no longer knows the id
    await seen.until(300)
    # the client subscribes again: ticks flow
    again, counter2 = await _ticker(fsim, c)
    assert again.req_id != ticker.req_id
    assert await _step_sees_ticks(fsim, c, counter2)


async def test_a_client_starting_during_the_outage_is_told(
    fsim: Simulator, clients: list[Client]
) -> None:
    fsim.connectivity_lost()
    c = Client()
    clients.append(c)
    seen = Notices(c)
    async with asyncio.timeout(GUARD):
        await c.connect(fsim.host, fsim.port, 2, timeout=GUARD)
    await _barrier(c)
    assert [e.code for e in seen][-1] == 1100
    fsim.connectivity_restored()
    await seen.until(1102)


# -- farm flaps ------------------------------------------------------------------------------------


def test_farm_names_and_texts() -> None:
    assert [farm_kind(f) for f in ("usfarm", "usfarm.nj", "cashfarm", "ushmds", "secdefnj")] == [
        "market",
        "market",
        "market",
        "hmds",
        "secdef",
    ]
    assert farm_notice("usfarm", ok=False) == (2103, "Market data farm connection is broken:usfarm")
    assert farm_notice("usfarm", ok=True) == (2104, "Market data farm connection is OK:usfarm")
    assert farm_notice("ushmds", ok=False) == (2105, "HMDS data farm connection is broken:ushmds")
    assert farm_notice("ushmds", ok=True) == (2106, "HMDS data farm connection is OK:ushmds")
    assert farm_notice("secdefnj", ok=False) == (
        2157,
        "Sec-def data farm connection is broken:secdefnj",
    )
    assert farm_notice("secdefnj", ok=True) == (2158, "Sec-def data farm connection is OK:secdefnj")


async def test_market_farm_flap_pauses_ticks(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients)
    farms = Notices(c, farms_only=True)
    ticker, counter = await _ticker(fsim, c)
    flap = asyncio.ensure_future(fsim.farm_flap("usfarm", down=0.3))
    await farms.until(2103)
    assert fsim.farms_down == {"usfarm"} and fsim.data_paused
    assert not await _step_sees_ticks(fsim, c, counter)
    async with asyncio.timeout(GUARD):
        await flap
    await _barrier(c)
    assert [(e.code, e.text) for e in farms] == [
        (2103, "Market data farm connection is broken:usfarm"),
        (2104, "Market data farm connection is OK:usfarm"),
    ]
    assert await _step_sees_ticks(fsim, c, counter)  # the subscription was kept
    assert not fsim.farms_down and ticker.req_id in fsim.clients[1].state["mkt_data"]


async def test_hmds_and_secdef_flaps_keep_ticks(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients)
    farms = Notices(c, farms_only=True)
    _, counter = await _ticker(fsim, c)
    hmds = asyncio.ensure_future(fsim.farm_flap("ushmds", down=0.1))
    secdef = asyncio.ensure_future(fsim.farm_flap("secdefnj", down=0.15))
    await asyncio.sleep(0)  # both flaps have begun
    assert fsim.farms_down == {"ushmds", "secdefnj"} and not fsim.data_paused
    assert await _step_sees_ticks(fsim, c, counter)
    async with asyncio.timeout(GUARD):
        await asyncio.gather(hmds, secdef)
    await _barrier(c)
    assert [e.code for e in farms] == [2105, 2157, 2106, 2158]
    assert farms[0].text == "HMDS data farm connection is broken:ushmds"
    assert farms[-1].text == "Sec-def data farm connection is OK:secdefnj"


async def test_a_client_connecting_during_a_flap_hears_the_farm_broken(
    fsim: Simulator, clients: list[Client]
) -> None:
    fsim.farm_down("usfarm.nj")
    fsim.config.connect_notices = (
        (2104, "Market data farm connection is OK:usfarm.nj"),
        (2106, "HMDS data farm connection is OK:ushmds"),
    )
    c = Client()
    clients.append(c)
    seen = Notices(c, farms_only=True)
    async with asyncio.timeout(GUARD):
        await c.connect(fsim.host, fsim.port, 1, timeout=GUARD)
    await _barrier(c)
    assert [e.code for e in seen] == [2103, 2106]
    fsim.farm_up("usfarm.nj")
    await _barrier(c)
    assert [e.code for e in seen] == [2103, 2106, 2104]


# -- hang ------------------------------------------------------------------------------------------


async def test_hang_answers_nothing_until_unhang(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients)
    _, counter = await _ticker(fsim, c)
    fsim.requests.clear()
    fsim.hang()
    assert fsim.is_hung and fsim.data_paused
    with pytest.raises(RequestTimeout):
        await c.current_time(timeout=0.15)
    sim_before = counter.n
    fsim.step_clock()  # nothing runs while hung
    fsim.connectivity_lost()  # nor is anything sent
    fsim.connectivity_restored()
    # a new connection meanwhile: TCP accepted, no handshake answer
    with pytest.raises(ConnectTimeout, match="handshake reply"):
        await Client().connect(fsim.host, fsim.port, 9, timeout=0.15)
    assert c.is_connected() and counter.n == sim_before
    assert [type(m) for m in fsim.hung_requests] == [ReqCurrentTime]
    assert not any(isinstance(m, ReqCurrentTime) for m in fsim.requests)
    fsim.unhang()
    async with asyncio.timeout(GUARD):
        await c.current_time(timeout=GUARD)
    assert await _step_sees_ticks(fsim, c, counter)
    assert [type(m) for m in fsim.hung_requests] == [ReqCurrentTime]


# -- client ids TWS still holds --------------------------------------------------------------------


async def test_a_held_client_id_gets_326_until_the_hold_ends(
    fsim: Simulator, clients: list[Client]
) -> None:
    hold = 0.3
    fsim.faults.hold_client_ids = hold
    c = await _connect(fsim, clients, 7)
    c.disconnect()
    async with asyncio.timeout(GUARD):
        await c.wait_closed()
    loop = asyncio.get_running_loop()
    closed = loop.time()
    with pytest.raises(ClientIdInUse):
        await Client().connect(fsim.host, fsim.port, 7, timeout=GUARD)
    other = await _connect(fsim, clients, 8)  # other ids are free
    assert other.is_connected()
    again: Client | None = None
    async with asyncio.timeout(GUARD):
        while again is None:
            try:
                again = await _connect(fsim, clients, 7)
            except ClientIdInUse:
                await asyncio.sleep(0.05)  # a client's back-off
    assert loop.time() - closed >= hold * 0.9
    assert again.is_connected()


async def test_a_restart_leaves_the_client_id_held(fsim: Simulator, clients: list[Client]) -> None:
    fsim.faults.hold_client_ids = 0.3
    c = await _connect(fsim, clients, 3)
    async with asyncio.timeout(GUARD):
        await fsim.restart(0.05)
        await c.wait_closed()
    with pytest.raises(ClientIdInUse):
        await Client().connect(fsim.host, fsim.port, 3, timeout=GUARD)


# -- restart modes ---------------------------------------------------------------------------------


async def _down(sim: Simulator, downtime: float, mode: str) -> asyncio.Future[None]:
    restart = asyncio.ensure_future(sim.restart(downtime, mode=mode))  # type: ignore[arg-type]
    async with asyncio.timeout(GUARD):
        await sim.wait_down()
    assert sim.restarting and not sim.is_serving
    return restart


async def _restored(sim: Simulator, restart: asyncio.Future[None], made: list[Client]) -> None:
    async with asyncio.timeout(GUARD):
        await restart
    assert sim.is_serving and not sim.restarting
    c = await _connect(sim, made, 1)
    assert c.is_connected()


async def test_restart_refuse(fsim: Simulator, clients: list[Client]) -> None:
    port = fsim.port
    restart = await _down(fsim, 0.2, "refuse")
    with pytest.raises(ConnectionRefused):
        await Client().connect(fsim.host, port, 1, timeout=GUARD)
    await _restored(fsim, restart, clients)
    assert fsim.port == port


async def test_restart_accept_close(fsim: Simulator, clients: list[Client]) -> None:
    port = fsim.port
    restart = await _down(fsim, 0.3, "accept_close")
    assert not fsim.is_serving
    with pytest.raises(TWSConnectionError, match="during the handshake") as err:
        await Client().connect(fsim.host, port, 1, timeout=GUARD)
    assert not isinstance(err.value, (ConnectionRefused, ConnectTimeout))
    async with asyncio.timeout(GUARD):  # raw: TCP accepted, then EOF
        reader, writer = await asyncio.open_connection(fsim.host, port)
        assert await reader.read() == b""
    writer.close()
    await _restored(fsim, restart, clients)
    assert fsim.port == port


async def test_restart_silent(fsim: Simulator, clients: list[Client]) -> None:
    port = fsim.port
    restart = await _down(fsim, 0.3, "silent")
    with pytest.raises(ConnectTimeout, match="handshake reply"):
        await Client().connect(fsim.host, port, 1, timeout=0.1)
    async with asyncio.timeout(GUARD):  # raw: the handshake is never answered ...
        reader, writer = await asyncio.open_connection(fsim.host, port)
        writer.write(API_PREFIX + frame(b"v157..200"))
        # ... and the wedged connection is closed when the downtime ends
        assert await reader.read() == b""
    assert fsim.is_serving or fsim.restarting
    writer.close()
    await _restored(fsim, restart, clients)
    assert fsim.port == port


async def test_restart_keeps_state_and_ids(fsim: Simulator, clients: list[Client]) -> None:
    c = await _connect(fsim, clients, 1)
    trade = c.place_order(AAPL, MarketOrder("BUY", 5, order_id=41))
    fsim.step_clock()
    async with asyncio.timeout(GUARD):
        await trade.filled()
    for mode in RESTART_MODES:
        async with asyncio.timeout(GUARD):
            await fsim.restart(0.05, mode=mode)
        again = await _connect(fsim, clients, 1)
        assert again.next_id() > 41
        assert [f.execution.exec_id for f in await again.sync_executions()] == [
            f.execution.exec_id for f in trade.fills
        ]
        again.disconnect()
        async with asyncio.timeout(GUARD):
            await again.wait_closed()
    with pytest.raises(ValueError, match="restart mode"):
        await fsim.restart(0, mode="later")  # type: ignore[arg-type]


async def test_restart_ends_outage_and_hang(fsim: Simulator, clients: list[Client]) -> None:
    fsim.connectivity_lost()
    fsim.farm_down("usfarm")
    fsim.hang()
    async with asyncio.timeout(GUARD):
        await fsim.restart(0)
    assert not (fsim.is_connectivity_lost or fsim.farms_down or fsim.is_hung)
    c = await _connect(fsim, clients, 1)
    _, counter = await _ticker(fsim, c)
    assert await _step_sees_ticks(fsim, c, counter)


# -- connections cut -------------------------------------------------------------------------------


async def test_drop_after_handshake_is_one_shot(fsim: Simulator, clients: list[Client]) -> None:
    fsim.faults.drop_after_handshake = True
    c = Client()
    with pytest.raises(TWSConnectionError, match="closed the connection before it was ready"):
        await c.connect(fsim.host, fsim.port, 1, timeout=GUARD)
    assert c.server_version > 0  # the handshake was answered
    assert not fsim.faults.drop_after_handshake
    assert (await _connect(fsim, clients, 1)).is_connected()


async def test_drop_mid_message_is_a_closed_connection(
    fsim: Simulator, clients: list[Client], loop_exceptions: list[dict[str, Any]]
) -> None:
    c = await _connect(fsim, clients, 1)
    decode_errors: list[object] = []
    c.decode_errors += decode_errors.append
    lost: list[BaseException | None] = []
    c.disconnected += lost.append
    fsim.faults.drop_mid_message = True
    with pytest.raises(ConnectionLost):
        await c.current_time(timeout=GUARD)
    async with asyncio.timeout(GUARD):
        await c.wait_closed()
    assert not c.is_connected()
    assert len(lost) == 1 and isinstance(lost[0], ConnectionLost)
    assert decode_errors == [] and loop_exceptions == []
    assert not fsim.faults.drop_mid_message
    assert (await _connect(fsim, clients, 1)).is_connected()


# -- the command line's restart rehearsal ----------------------------------------------------------

LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")
CLI_GUARD = 15.0  # includes interpreter start-up


async def _cli(*args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOTWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiotws",
        "sim",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(CLI_GUARD):
        return (await proc.stdout.readline()).decode().rstrip("\n")


async def _end(proc: asyncio.subprocess.Process) -> tuple[int, bytes]:
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(CLI_GUARD):
        out, err = await proc.communicate()
    assert b"Traceback" not in err, err.decode()
    assert out == b""
    assert proc.returncode is not None
    return proc.returncode, err


async def test_cli_restart_every() -> None:
    proc = await _cli("--restart-every", "0.2", "--downtime", "0.1")
    try:
        m = LISTENING.match(await _line(proc))
        assert m, "no listening line"
        port = m.group(1)
        for _ in range(2):
            assert await _line(proc) == "restarting: down for 0.1 s"
            assert await _line(proc) == f"listening on 127.0.0.1:{port}"
        code, _ = await _end(proc)
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is POSIX only")
async def test_cli_sighup_restarts_once() -> None:
    proc = await _cli("--downtime", "0.2", "--restart-mode", "accept_close")
    try:
        m = LISTENING.match(await _line(proc))
        assert m, "no listening line"
        port = int(m.group(1))
        proc.send_signal(signal.SIGHUP)
        assert await _line(proc) == "restarting: down for 0.2 s"
        with pytest.raises(TWSConnectionError, match="during the handshake"):
            await Client().connect("127.0.0.1", port, 1, timeout=CLI_GUARD)
        assert await _line(proc) == f"listening on 127.0.0.1:{port}"
        c = Client()
        async with asyncio.timeout(CLI_GUARD):
            await c.connect("127.0.0.1", port, 1, timeout=CLI_GUARD)
        c.disconnect()
        await c.wait_closed()
        code, _ = await _end(proc)
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_rejects_a_bad_schedule() -> None:
    proc = await _cli("--restart-every", "0")
    async with asyncio.timeout(CLI_GUARD):
        out, err = await proc.communicate()
    assert proc.returncode == 1 and out == b""
    assert b"--restart-every must be more than 0 seconds" in err
