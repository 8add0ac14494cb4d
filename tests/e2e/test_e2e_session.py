"""The session supervisor against the simulator's faults: nothing is lost.

Each test breaks the connection the way TWS or the network does (a dropped socket, a restart
with downtime that refuses or accepts-and-closes, 326 while TWS holds the old session, a
silent hang, 1100/1101/1102) and checks that the same ``IB`` comes back by itself: its
tickers update again on the same objects under new request ids, its trades and fills are
complete (a fill during the outage arrives once, a fill seen before is not counted twice),
requests fail typed and fast while down, and no task is left behind.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from aiotws import (
    IB,
    ConnectionLost,
    LimitOrder,
    MarketOnCloseOrder,
    MarketOrder,
    NotConnected,
    Stock,
    Ticker,
)
from aiotws.session import ReconnectPolicy, SessionState
from aiotws.sim import Simulator
from aiotws.sim.orders import close_session
from aiotws.wire.messages import ReqCurrentTime

GUARD = 10.0
FAST = ReconnectPolicy(initial_delay=0.05, max_delay=0.2, jitter=0.0, connect_timeout=1.0)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=5, tick_interval=0.02) as s:
        yield s


async def _ib(sim: Simulator, client_id: int = 1, policy: ReconnectPolicy = FAST) -> IB:
    ib = IB(reconnect=policy)
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id)
    return ib


async def _close(ib: IB) -> None:
    ib.disconnect()
    await ib.wait_closed()
    session = ib.session
    assert session._task is None or session._task.done()
    assert session._heartbeat is None or session._heartbeat.done()


def _watch(event: Any, pred: Callable[..., bool] = lambda *a: True) -> Awaitable[Any]:
    """The first emission of ``event`` (from now on: subscribed at once, before the caller
    triggers anything) whose arguments satisfy ``pred``; awaiting it is guarded."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on(*args: Any) -> None:
        if not fut.done() and pred(*args):
            fut.set_result(args[0] if args else None)

    event += on

    async def wait() -> Any:
        try:
            async with asyncio.timeout(GUARD):
                return await fut
        finally:
            event.disconnect(on)

    return asyncio.ensure_future(wait())


async def _emitted(event: Any, pred: Callable[..., bool] = lambda *a: True) -> Any:
    return await _watch(event, pred)


def _restored(ib: IB) -> Awaitable[Any]:
    return _watch(ib.restored)


async def _state(ib: IB, state: SessionState) -> None:
    if ib.session.status.state is not state:
        await _emitted(ib.session_state, lambda st: st.state is state)


async def _next_update(ticker: Ticker) -> None:
    async with asyncio.timeout(GUARD):
        async for _ in ticker.updates():
            return


async def _ticker(ib: IB) -> Ticker:
    t = ib.market_data(Stock("AAPL"))
    await t.ready(timeout=GUARD)
    return t


async def test_a_dropped_socket_comes_back_with_the_same_ticker(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        ticker = await _ticker(ib)
        old_id = ticker.req_id
        states: list[SessionState] = []
        ib.session_state += lambda st: states.append(st.state)
        restored = _restored(ib)
        await sim.drop_connections()
        report = await restored
        assert report.complete, report
        assert ib.is_connected() and ib.session.status.healthy
        assert ticker.req_id != old_id and ib.tickers() == [ticker]
        await _next_update(ticker)
        st = ib.session.status
        assert st.restores == 1 and st.down_since is None and st.last_restore_seconds
        assert states[:1] == [SessionState.RECONNECTING] and states[-1] is SessionState.CONNECTED
    finally:
        await _close(ib)


async def test_a_restart_that_refuses_then_accepts_and_closes(sim: Simulator) -> None:
    ib = await _ib(sim)
    attempts: list[int] = []
    ib.reconnecting += lambda n, delay: attempts.append(n)
    try:
        ticker = await _ticker(ib)
        for mode in ("refuse", "accept_close"):
            restored = _restored(ib)
            await sim.restart(0.4, mode=mode)
            await restored
            await _next_update(ticker)
        assert max(attempts) >= 2  # it had to retry while TWS was down
        assert ib.session.status.restores == 2
    finally:
        await _close(ib)


async def test_requests_while_down_fail_fast_and_typed(sim: Simulator) -> None:
    policy = ReconnectPolicy(initial_delay=0.3, jitter=0.0, connect_timeout=1.0)
    ib = await _ib(sim, policy=policy)
    try:
        sim.faults.unanswered.add(ReqCurrentTime)
        pending = asyncio.ensure_future(ib.current_time())
        await asyncio.sleep(0)
        restored = _restored(ib)
        await sim.drop_connections()
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(pending, GUARD)
        with pytest.raises(NotConnected):
            ib.place_order(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 1, 1.0))
        assert ib.trades() == []  # nothing queued to go out later
        sim.faults.unanswered.clear()
        await restored
        assert await ib.current_time()
    finally:
        await _close(ib)


async def test_a_fill_during_the_outage_arrives_once(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        [aapl] = await ib.qualify(Stock("AAPL"))
        moc = ib.place_order(aapl, MarketOnCloseOrder("BUY", 100))
        bid = (await _ticker(ib)).bid
        resting = ib.place_order(aapl, LimitOrder("BUY", 100, round(bid * 0.8, 2), tif="GTC"))
        async with asyncio.timeout(GUARD):
            async for t in resting.updates():
                if t.status == "Submitted":
                    break
        assert not moc.is_done()
        restored = _restored(ib)
        down = _watch(ib.disconnected)
        restart = asyncio.ensure_future(sim.restart(0.5))
        await down
        assert not sim.is_serving
        assert close_session(sim) > 0  # the close fills the MOC while nobody is connected
        await restart
        await restored
        await moc.done(timeout=GUARD)
        assert moc.is_filled() and len(moc.fills) == 1 and moc.filled_quantity() == 100
        assert moc.fills[0].commission_report is not None
        assert not resting.is_done() and ib.open_trades() == [resting]
        assert [p.position for p in await ib.positions()] == [Decimal(100)]
        # another outage: the fill is not counted again
        restored = _restored(ib)
        await sim.drop_connections()
        await restored
        assert len(moc.fills) == 1 and len(ib.fills()) == 1
        assert len(ib.trades()) == 2
        ib.cancel_order(resting)
        await resting.done(timeout=GUARD)
    finally:
        await _close(ib)


async def test_326_while_tws_holds_the_old_session(sim: Simulator) -> None:
    ib = await _ib(sim)
    reasons: list[str] = []
    ib.reconnecting += lambda n, delay: reasons.append(ib.session.status.reason)
    try:
        sim.faults.hold_client_ids = 0.4
        restored = _restored(ib)
        await sim.drop_connections()
        await restored
        assert any("326" in r for r in reasons), reasons
        assert ib.client.client_id == 1
    finally:
        await _close(ib)


async def test_client_id_rotation_on_326(sim: Simulator) -> None:
    policy = ReconnectPolicy(initial_delay=0.05, jitter=0.0, connect_timeout=1.0, client_ids=(1, 7))
    ib = await _ib(sim, policy=policy)
    try:
        sim.faults.hold_client_ids = 30.0
        restored = _restored(ib)
        await sim.drop_connections()
        await restored
        assert ib.client.client_id == 7
    finally:
        await _close(ib)


async def test_the_heartbeat_finds_a_silent_tws(sim: Simulator) -> None:
    policy = ReconnectPolicy(
        initial_delay=0.05, jitter=0.0, connect_timeout=0.5, heartbeat=0.2, heartbeat_timeout=0.2
    )
    ib = await _ib(sim, policy=policy)
    try:
        restored = _restored(ib)
        lost = _watch(ib.disconnected)
        sim.hang()
        exc = await lost
        assert isinstance(exc, ConnectionLost) and "heartbeat" in str(exc)
        assert not ib.session.status.healthy
        sim.unhang()
        await restored
        assert ib.is_connected() and ib.session.status.healthy
    finally:
        await _close(ib)


async def test_1100_degrades_and_1102_restores_without_resubscribing(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        ticker = await _ticker(ib)
        rid = ticker.req_id
        sim.connectivity_lost()
        await _state(ib, SessionState.DEGRADED)
        assert not ib.session.status.healthy and ib.session.status.down_since is not None
        assert "1100" in ib.session.status.reason
        sim.connectivity_restored(data_lost=False)
        await _state(ib, SessionState.CONNECTED)
        await _next_update(ticker)
        assert ticker.req_id == rid  # data kept: nothing re-subscribed
    finally:
        await _close(ib)


async def test_1101_resubscribes_on_the_live_socket(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        ticker = await _ticker(ib)
        rid = ticker.req_id
        back = _watch(ib.connectivity, lambda info: info.code == 1101)
        sim.connectivity_lost()
        sim.connectivity_restored(data_lost=True)
        await back  # the session's handler ran first: the ticker is re-subscribed
        assert ticker.req_id != rid
        await _next_update(ticker)
        assert ib.is_connected() and ib.session.status.restores == 0  # the socket never went
    finally:
        await _close(ib)


async def test_reconnect_false_ends_the_session(sim: Simulator) -> None:
    ib = await _ib(sim, policy=ReconnectPolicy(enabled=False))
    pnl = ib.pnl()
    ticker = await _ticker(ib)
    lost = _watch(ib.disconnected)
    await sim.drop_connections()
    assert isinstance(await lost, ConnectionLost)
    assert not ib.is_connected() and ib.session._task is None
    assert ticker.done and not pnl.done  # account subscriptions wait for a resubscribe
    await _close(ib)
    assert pnl.done  # until the user's disconnect ends them


async def test_a_farm_flap_resubscribes_when_the_farm_is_back(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        ticker = await _ticker(ib)
        rid = ticker.req_id
        back = _watch(ib.farm_status, lambda info: info.code == 2104)
        await sim.farm_flap("usfarm", down=0.2)
        await back
        assert ticker.req_id != rid and not ib.session.status.farms_down
        await _next_update(ticker)
        assert ib.session.status.restores == 0
    finally:
        await _close(ib)


async def test_a_gateway_that_accepts_but_never_answers(sim: Simulator) -> None:
    ib = await _ib(sim)
    reasons: list[str] = []
    ib.reconnecting += lambda n, delay: reasons.append(ib.session.status.reason)
    try:
        ticker = await _ticker(ib)
        restored = _restored(ib)
        await sim.restart(2.5, mode="silent")
        await restored
        assert any("ConnectTimeout" in r for r in reasons), reasons
        await _next_update(ticker)
    finally:
        await _close(ib)


@pytest.mark.parametrize("fault", ["drop_after_handshake", "drop_mid_message"])
async def test_drops_at_awkward_points(sim: Simulator, fault: str) -> None:
    ib = await _ib(sim)
    try:
        ticker = await _ticker(ib)
        decode_errors: list[object] = []
        ib.decode_errors += decode_errors.append
        restored = _restored(ib)
        if fault == "drop_after_handshake":
            sim.faults.drop_after_handshake = True  # the first reconnect attempt dies early
            await sim.drop_connections()
        else:
            sim.faults.drop_mid_message = True  # the next tick is cut in half
        await restored
        await _next_update(ticker)
        assert decode_errors == []  # a cut frame is a lost connection, not garbage
    finally:
        await _close(ib)


async def test_1300_moves_the_target_port() -> None:
    from aiotws.client import ErrorInfo
    from aiotws.wire.codes import ErrorKind

    ib = IB()
    ib.session.attach("127.0.0.1", 7497, 1, "", "")
    text = (
        "TWS socket port has been reset and this connection is being dropped. "
        "Please reconnect on the new port - 7499"
    )
    ib.session._on_connectivity(ErrorInfo(-1, 1300, text, ErrorKind.CONNECTIVITY))
    assert ib.session._target is not None and ib.session._target[1] == 7499
    ib.session.close()


async def _start_sim_process(port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiotws",
        "sim",
        "--port",
        str(port),
        "--seed",
        "2",
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        line = await proc.stdout.readline()
    assert line.decode().startswith("listening on"), line
    return proc


async def test_killing_the_sim_process_and_starting_it_again() -> None:
    """The issue's "done when": a killed and restarted ``aiotws sim`` on the same port gets a
    connected IB with its ticker updating again within the backoff delay plus two seconds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await _start_sim_process(port)
    policy = ReconnectPolicy(initial_delay=0.2, max_delay=1.0, jitter=0.0)
    ib = IB(reconnect=policy)
    try:
        async with asyncio.timeout(GUARD):
            await ib.connect("127.0.0.1", port, 1)
        ticker = await _ticker(ib)
        restored = _restored(ib)
        proc.kill()
        await proc.wait()
        proc = await _start_sim_process(port)
        t0 = asyncio.get_running_loop().time()
        await restored
        await _next_update(ticker)
        took = asyncio.get_running_loop().time() - t0
        assert took < policy.max_delay + 2.0, took
    finally:
        await _close(ib)
        proc.kill()
        await proc.wait()


async def test_fills_during_1100_are_processed(sim: Simulator) -> None:
    ib = await _ib(sim)
    try:
        [aapl] = await ib.qualify(Stock("AAPL"))
        await _ticker(ib)
        sim.connectivity_lost()
        await _state(ib, SessionState.DEGRADED)
        trade = ib.place_order(aapl, MarketOrder("BUY", 10))
        await trade.filled(timeout=GUARD)  # 1100 repeats meanwhile; the fill is not lost
        assert ib.session.status.state is SessionState.DEGRADED
        sim.connectivity_restored(data_lost=False)
        await _state(ib, SessionState.CONNECTED)
        assert len(ib.fills()) == 1
    finally:
        await _close(ib)
