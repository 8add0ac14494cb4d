"""``aiotws.sync.IB`` against the simulator: blocking calls, live objects between them, threads.

The simulator runs in its own thread and loop (the ``sim`` fixture), as TWS would run in
another process; the sync ``IB`` runs its private loop thread. Every blocking call is bounded
(request timeouts, ``ib.wait(..., timeout=GUARD)``, and a watchdog that fails a hung test).
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import inspect
import textwrap
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import aiotws
import aiotws.ib as aio_ib
from aiotws import MarketOrder, Stock
from aiotws.sim import Simulator
from aiotws.sync import IB, BlockingCallError, LoopThread, run

GUARD = 10.0


class SimThread:
    """A :class:`Simulator` serving from a thread of its own until :meth:`stop`."""

    def __init__(self, **config: object) -> None:
        self._lt = LoopThread("test-sim")
        self.sim: Simulator = self._lt.run(self._start(config))

    async def _start(self, config: dict[str, object]) -> Simulator:
        sim = Simulator(port=0, **config)
        await sim.start()
        return sim

    @property
    def host(self) -> str:
        return self.sim.host

    @property
    def port(self) -> int:
        return self.sim.port

    def stop(self) -> None:
        try:
            self._lt.run(asyncio.wait_for(self.sim.stop(), GUARD))
        finally:
            self._lt.stop()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(seed=5, tick_interval=0.02)
    yield s
    s.stop()


@pytest.fixture
def ib(sim: SimThread) -> Iterator[IB]:
    with IB.connect_to(sim.host, sim.port, client_id=11, request_timeout=GUARD) as ib:
        yield ib


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    """Fail loudly (thread dump) rather than hang the suite if a blocking call deadlocks."""
    import faulthandler

    faulthandler.dump_traceback_later(60, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _sync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("aiotws-sync")]


# -- the flows ----------------------------------------------------------------------------------


def test_connect_qualify_and_a_ticker_updating_between_calls(ib: IB) -> None:
    assert ib.is_connected() and ib.server_version > 0 and ib.managed_accounts
    assert ib.loop_thread is not None and ib.loop_thread is not threading.current_thread()
    now = ib.current_time()
    assert now.tzinfo is not None
    [aapl] = ib.qualify(Stock("AAPL"))
    assert isinstance(aapl, Stock) and aapl.con_id > 0
    ticker = ib.market_data(aapl)
    assert ib.wait(ticker.ready(), timeout=GUARD) is ticker
    first = ticker.time
    deadline = time.monotonic() + GUARD
    while ticker.time == first and time.monotonic() < deadline:
        ib.sleep(0.05)  # nothing but the loop thread touches the ticker
    assert ticker.time != first, "the ticker did not update between blocking calls"
    seen = [ib.wait(ticker.updated, timeout=GUARD)]  # an eventkit Event: its next emit
    assert seen == [ticker]
    updates = ib.iterate(ticker.updates(), timeout=GUARD)
    assert next(updates) is ticker and next(updates) is ticker
    updates.close()
    ib.cancel_market_data(ticker)
    assert "<table" in ticker._repr_html_()


def test_historical_bars_and_snapshot(ib: IB) -> None:
    [aapl] = ib.qualify(Stock("AAPL"))
    bars = ib.historical_bars(aapl, duration="2 D", bar_size="30 mins", use_rth=False)
    assert isinstance(bars, aiotws.BarList) and len(bars) > 0
    html = bars._repr_html_()
    assert "<table" in html and str(len(bars)) in html
    snap = ib.snapshot(aapl)
    assert snap.has_quote()


def _held(ib: IB, con_id: int) -> Decimal:
    return sum((p.position for p in ib.positions() if p.contract.con_id == con_id), Decimal(0))


def test_place_order_wait_filled_and_positions(ib: IB) -> None:
    [aapl] = ib.qualify(Stock("AAPL"))
    before = _held(ib, aapl.con_id)
    state = ib.what_if(aapl, MarketOrder("BUY", 10))
    assert state.init_margin_after or state.commission is not None
    trade = ib.place_order(aapl, MarketOrder("BUY", 10))
    assert ib.wait(trade.filled(), timeout=GUARD) is trade
    assert trade.filled_quantity() == 10
    fills_seen = ib.fills()
    assert any(f.execution.order_id == trade.order.order_id for f in fills_seen)
    deadline = time.monotonic() + GUARD  # POSITION may come after the fill: it will come
    while _held(ib, aapl.con_id) != before + 10 and time.monotonic() < deadline:
        ib.sleep(0.02)
    assert _held(ib, aapl.con_id) == before + 10
    html = trade._repr_html_()
    assert "Filled" in html and "<table" in html
    assert ib.executions()  # a generated blocking method


def test_calls_from_worker_threads(ib: IB) -> None:
    def work(symbol: str) -> int:
        [c] = ib.qualify(Stock(symbol))
        t = ib.market_data(c)
        ib.wait(t.ready(), timeout=GUARD)
        ib.cancel_market_data(t)
        return c.con_id

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(work, ["AAPL", "MSFT", "IBM", "AAPL"], timeout=3 * GUARD))
    assert all(ids) and ids[0] == ids[3] and len(set(ids)) == 3


def test_a_blocking_call_inside_a_running_loop_raises(ib: IB) -> None:
    async def main() -> None:
        with pytest.raises(BlockingCallError, match="await"):
            ib.current_time()
        with pytest.raises(BlockingCallError):
            ib.sleep(0.01)
        coro = asyncio.sleep(0)
        with pytest.raises(BlockingCallError):
            ib.wait(coro)  # closed: no "never awaited" warning
        assert ib.is_connected()  # plain methods still work
        # notebook mode: the running loop blocks while the call runs in the IB's thread
        ib.notebook = True
        try:
            assert ib.current_time().tzinfo is not None
        finally:
            ib.notebook = None

    asyncio.run(asyncio.wait_for(main(), GUARD))
    assert ib.current_time()  # and outside again


def test_a_blocking_call_from_an_event_callback_raises_not_deadlocks(ib: IB) -> None:
    [aapl] = ib.qualify(Stock("AAPL"))
    outcome: concurrent.futures.Future[BaseException | None] = concurrent.futures.Future()
    scheduled: list[concurrent.futures.Future[list[aiotws.Contract]]] = []

    def on_update(t: aiotws.Ticker) -> None:
        if outcome.done():
            return
        assert threading.current_thread() is ib.loop_thread  # callbacks run in the loop thread
        try:
            ib.qualify(Stock("MSFT"))
        except BaseException as exc:
            scheduled.append(ib.submit(ib.aio.qualify(Stock("MSFT"))))  # what to do instead
            outcome.set_result(exc)
        else:
            outcome.set_result(None)

    ticker = ib.market_data(aapl)
    ticker.updated += on_update
    exc = outcome.result(GUARD)
    assert isinstance(exc, BlockingCallError) and "loop thread" in str(exc)
    [msft] = scheduled[0].result(GUARD)
    assert msft.con_id > 0
    ticker.updated -= on_update
    ib.cancel_market_data(ticker)


def test_two_ibs_at_once_and_disconnect_stops_their_threads(sim: SimThread) -> None:
    before = set(_sync_threads())
    a = IB.connect_to(sim.host, sim.port, client_id=21)
    b = IB(request_timeout=GUARD)
    assert b.connect(sim.host, sim.port, client_id=22) is b
    assert a.loop_thread is not b.loop_thread
    assert len(set(_sync_threads()) - before) == 2
    [ca] = a.qualify(Stock("AAPL"))
    [cb] = b.qualify(Stock("AAPL"))
    assert ca.con_id == cb.con_id
    ta, tb = a.loop_thread, b.loop_thread
    a.disconnect()
    assert not a.is_connected() and a.loop_thread is None
    assert ta is not None and not ta.is_alive()
    assert b.is_connected()
    b.disconnect()
    assert tb is not None and not tb.is_alive()
    assert set(_sync_threads()) <= before
    # connecting again starts a fresh loop thread
    b.connect(sim.host, sim.port, client_id=22)
    assert b.is_connected() and b.loop_thread is not None and b.loop_thread is not tb
    assert b.current_time()
    b.disconnect()
    assert set(_sync_threads()) <= before


def test_connect_failure_raises_and_leaves_no_thread(sim: SimThread) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = set(_sync_threads())
    with pytest.raises(ConnectionError):
        IB.connect_to("127.0.0.1", port, client_id=1, timeout=2)
    assert set(_sync_threads()) <= before


def test_a_wait_timeout_raises_timeouterror(ib: IB) -> None:
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        ib.wait(asyncio.sleep(30), timeout=0.1)
    assert time.monotonic() - t0 < 5


def test_run_helper() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert run(answer()) == 42

    async def inside() -> None:
        with pytest.raises(BlockingCallError):
            run(answer())
        assert run(answer(), notebook=True) == 42

    asyncio.run(inside())
    with pytest.raises(TimeoutError):
        run(asyncio.sleep(30), timeout=0.05)


# -- the wrappers never go stale ---------------------------------------------------------------


def _public(klass: type) -> dict[str, object]:
    return {n: a for n, a in vars(klass).items() if not n.startswith("_")}


def test_every_public_name_of_the_async_ib_is_here() -> None:
    for name, attr in _public(aio_ib.IB).items():
        mine = getattr(IB, name)
        if isinstance(attr, property):
            assert isinstance(mine, property), name
            continue
        if isinstance(attr, classmethod):
            continue
        assert inspect.signature(mine) == inspect.signature(attr), name
        if name not in ("disconnect",):  # which blocks here, and says so
            assert mine.__doc__ == attr.__doc__, name
        assert not inspect.iscoroutinefunction(mine), name


def test_the_typed_stubs_match_the_async_signatures() -> None:
    """The TYPE_CHECKING block's signatures equal aiotws.IB's (return types aside)."""
    import aiotws.sync

    tree = ast.parse(Path(aiotws.sync.__file__).read_text())
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "IB"]
    stubs = {
        f.name: f
        for block in cls.body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for f in block.body
        if isinstance(f, ast.FunctionDef)
    }
    assert {"connect", "qualify", "historical_bars", "place_order", "positions"} <= set(stubs)
    src_tree = ast.parse(textwrap.dedent(inspect.getsource(aio_ib.IB)))
    [acls] = src_tree.body
    assert isinstance(acls, ast.ClassDef)
    real = {f.name: f for f in acls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name, stub in stubs.items():
        assert name in real, name
        assert ast.dump(stub.args) == ast.dump(real[name].args), name
        if isinstance(real[name], ast.FunctionDef):  # a plain method keeps its return type
            assert ast.unparse(stub.returns) == ast.unparse(real[name].returns), name  # type: ignore[arg-type]


# -- rich display --------------------------------------------------------------------------------


def test_reprs_never_raise_on_empty_objects() -> None:
    from aiotws.bars import BarList, RealTimeBarList
    from aiotws.model.account import Position
    from aiotws.model.order import LimitOrder
    from aiotws.portfolio import LivePnL, LivePnLSingle, LiveTable
    from aiotws.ticker import Ticker
    from aiotws.trade import Trade

    c = Stock("AAPL", "SMART", "USD")
    objs: list[object] = [
        Ticker(c),
        BarList(c, bar_size="1 min"),
        RealTimeBarList(c),
        Trade(c, LimitOrder("BUY", 100, 1.5)),
        LivePnL("DU1"),
        LivePnLSingle("DU1", con_id=1),
        LiveTable[tuple[str, int], Position]("positions", 1, key=lambda p: ("", 0)),
    ]
    for o in objs:
        assert repr(o).startswith("<")
        html = getattr(o, "_repr_html_", None)
        if html is not None:
            text = html()
            assert isinstance(text, str) and text


# -- lifecycle ------------------------------------------------------------------------------------


def test_disconnect_from_an_event_callback_ends_the_thread(sim: SimThread) -> None:
    ib = IB.connect_to(sim.host, sim.port, client_id=31)
    [aapl] = ib.qualify(Stock("AAPL"))
    thread = ib.loop_thread
    assert thread is not None
    ticker = ib.market_data(aapl)
    ticker.updated += lambda t: ib.disconnect()
    thread.join(GUARD)
    assert not thread.is_alive() and not ib.is_connected()


def test_interpreter_exit_with_a_connected_ib_does_not_hang(sim: SimThread) -> None:
    import subprocess
    import sys

    script = textwrap.dedent(
        f"""
        from aiotws import Stock
        from aiotws.sync import IB
        ib = IB.connect_to({sim.host!r}, {sim.port}, client_id=41)
        [aapl] = ib.qualify(Stock("AAPL"))
        ticker = ib.market_data(aapl)
        ib.wait(ticker.ready(), timeout=5)
        print("ok", flush=True)
        """
    )
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and "Traceback" not in done.stderr
    assert time.monotonic() - t0 < 20


# -- nest mode: the caller's loop, made re-entrant (a notebook kernel's way) -----------------
# Each runs in a subprocess: nest_asyncio patches asyncio for the whole process.


def _run_script(body: str) -> str:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_nest_mode_inside_a_running_loop_with_a_simulator_on_the_same_loop() -> None:
    """As in a notebook: a simulator started on the kernel's loop keeps answering while a
    blocking call runs, ``await`` and blocking calls mix on one IB, callbacks run here."""
    out = _run_script(
        """
        import asyncio, threading
        from aiotws import MarketOrder, Stock
        from aiotws.sim import Simulator
        from aiotws.sync import IB

        async def cell() -> None:
            sim = Simulator(port=0, seed=3, tick_interval=0.02)
            await sim.start()
            ib = IB(mode="nest", request_timeout=10)
            assert ib.nested
            ib.connect(sim.host, sim.port, client_id=7)
            [aapl] = ib.qualify(Stock("AAPL"))
            ticker = ib.market_data(aapl)
            ib.wait(ticker.ready(), timeout=10)
            threads = set()
            ticker.updated += lambda t: threads.add(threading.current_thread().name)
            ib.sleep(0.3)
            assert threads == {threading.current_thread().name}, threads
            now = await ib.aio.current_time()          # await on the same connection
            assert now.tzinfo is not None
            trade = ib.place_order(aapl, MarketOrder("BUY", 5))
            ib.wait(trade.filled(), timeout=10)
            print("filled", trade.order_status.filled)
            ib.disconnect()
            await sim.stop()

        asyncio.run(cell())
        print("ok")
        """
    )
    assert out.split() == ["filled", "5", "ok"]


def test_nest_mode_in_a_plain_script_owns_a_loop_and_other_threads_are_refused() -> None:
    out = _run_script(
        """
        import threading
        from aiotws import Stock
        from aiotws.sim import Simulator
        from aiotws.sync import IB, BlockingCallError, LoopThread

        lt = LoopThread("sim")
        async def start():
            sim = Simulator(port=0, seed=3, tick_interval=0.02)
            await sim.start()
            return sim
        sim = lt.run(start())
        ib = IB(mode="nest", request_timeout=10)
        ib.connect(sim.host, sim.port, client_id=8)
        assert ib.nested and ib.loop_thread is threading.main_thread()
        [aapl] = ib.qualify(Stock("AAPL"))
        errors = []
        def other():
            try:
                ib.qualify(Stock("MSFT"))
            except BlockingCallError as e:
                errors.append(str(e))
        t = threading.Thread(target=other); t.start(); t.join()
        assert errors and "mode='nest'" in errors[0], errors
        ib.disconnect()
        assert ib.loop_thread is None  # the owned loop is closed
        lt.run(sim.stop()); lt.stop()
        print("ok", aapl.con_id)
        """
    )
    assert out.split()[0] == "ok" and int(out.split()[1]) > 0


def test_auto_mode_outside_a_kernel_uses_the_loop_thread(ib: IB) -> None:
    assert ib.mode == "auto" and not ib.nested
    assert ib.loop_thread is not None and ib.loop_thread is not threading.main_thread()


def test_nest_mode_refuses_a_loop_it_cannot_patch() -> None:
    out = _run_script(
        """
        import asyncio
        from aiotws.sync import IB, BlockingCallError

        class OddLoop(asyncio.AbstractEventLoop):
            pass

        async def main():
            loop = asyncio.get_running_loop()
            try:
                # pretend the running loop is uvloop's: not an asyncio.BaseEventLoop
                asyncio.events._set_running_loop(OddLoop())
                IB(mode="nest").current_time()
            except BlockingCallError as e:
                print("refused", "mode='thread'" in str(e))
            finally:
                asyncio.events._set_running_loop(loop)

        asyncio.run(main())
        """
    )
    assert out.split() == ["refused", "True"]


def test_unknown_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="mode"):
        IB(mode="fork")  # type: ignore[arg-type]
