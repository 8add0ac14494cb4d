"""``aiotws.sync``: the blocking twin of :class:`aiotws.IB`, for scripts and notebook cells.

    from aiotws.sync import IB
    from aiotws import Stock, MarketOrder

    with IB.connect_to("127.0.0.1", 7497, client_id=1) as ib:
        [aapl] = ib.qualify(Stock("AAPL"))
        ticker = ib.market_data(aapl)            # live, keeps updating between calls
        ib.wait(ticker.ready(), timeout=10)
        trade = ib.place_order(aapl, MarketOrder("BUY", 100))
        ib.wait(trade.filled(), timeout=30)
        print(ib.positions())

Same names and signatures as :class:`aiotws.IB`: every coroutine method blocks and returns
its result; the other methods return what they return (the live ``Ticker``, ``Trade`` …);
attributes and events (eventkit) are the async ``IB``'s own.

Where things run
----------------
Each ``aiotws.sync.IB`` owns a private asyncio loop in a daemon thread (``aiotws-sync-N``),
started on first use. A blocking call submits the coroutine to that loop and waits for its
result, so the live objects keep updating between calls, between notebook cells, and while
your script does something else. **Event callbacks run in that loop thread**: keep them short,
do not block in them, and hand work to your own thread (or UI toolkit) yourself.

A blocking call

* from any thread without a running loop (a script, a worker thread): works; many threads
  may call one ``IB`` at once, they all submit to the one loop;
* from a thread whose loop is running: in a Jupyter/IPython kernel (detected, or
  ``IB(notebook=True)``) the cell blocks while the call runs in the IB's thread; anywhere
  else (``asyncio.run``, a web app) it raises :class:`BlockingCallError`, because blocking
  would stall that loop: use :class:`aiotws.IB` and ``await``;
* from the IB's own loop thread (an event callback calling ``ib.qualify(...)``): raises
  :class:`BlockingCallError` instead of deadlocking; schedule the coroutine with
  :meth:`IB.submit` (``ib.submit(ib.aio.qualify(c))``) instead.

:meth:`IB.wait` blocks on any awaitable (``trade.filled()``, ``ticker.ready()``, an eventkit
``Event`` for its next emit); :meth:`IB.sleep` waits while the live objects update;
:meth:`IB.iterate` turns an async iterator (``ticker.updates()``) into a blocking one.
:meth:`IB.disconnect` closes the connection and stops the loop thread; an interpreter exit
closes what is left (``atexit``) and never hangs on the daemon thread.

Notebooks: one loop for ``await`` and blocking calls
--------------------------------------------------
In a Jupyter/IPython kernel (the default ``mode="auto"`` detects it) the IB runs on the
kernel's own event loop instead, made re-entrant with ``nest_asyncio``: a blocking call
runs that loop until its result is in. So blocking calls and ``await ib.aio.…`` mix freely
on one connection, event callbacks run in the kernel's thread (plotting from them is safe),
and a simulator started in the notebook keeps answering while a cell blocks. Everywhere
else (scripts, worker threads, web apps, uvloop, which ``nest_asyncio`` cannot patch) the
private loop thread is used: ``mode="thread"`` forces it, ``mode="nest"`` forces the
re-entrant caller's loop (the thread that made the IB must make every call; with no loop
running there, the IB keeps its own loop, which runs only during blocking calls and
:meth:`IB.sleep`, as in ib_insync).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import inspect
import itertools
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import nest_asyncio

from aiotws import ib as _aio
from aiotws.bars import BarList, RealTimeBarList
from aiotws.calls.accounts import ALL_TAGS
from aiotws.calls.base import Timeout
from aiotws.calls.tickbytick import TickByTickKind, TickByTickRecord
from aiotws.model.account import AccountValue, ExecutionFilter, Fill, PortfolioItem, Position
from aiotws.model.contract import Contract, ContractDetails
from aiotws.model.order import Order, OrderCancel, OrderState
from aiotws.orderbook import OrderBook
from aiotws.portfolio import LivePnL, LivePnLSingle
from aiotws.requests import Stream
from aiotws.ticker import Ticker
from aiotws.trade import Trade

if TYPE_CHECKING:
    from eventkit import Event

    from aiotws.client import Client
    from aiotws.session import Session

__all__ = ["IB", "BlockingCallError", "LoopThread", "NestedLoop", "run"]

#: where an :class:`IB` runs its event loop (see the module docstring)
Mode = Literal["auto", "thread", "nest"]

T = TypeVar("T")

#: how often a waiting caller wakes to check that the loop thread is alive (and for Ctrl-C)
_POLL = 0.25
#: how long disconnect() / exit waits for the socket to close and the thread to end
_CLOSE_TIMEOUT = 5.0


class BlockingCallError(RuntimeError):
    """A blocking call where it would stall or deadlock an event loop.

    Raised for a call from the IB's own loop thread (an event callback) and for a call from
    a thread whose event loop is running (``asyncio.run``, a web app) outside a notebook.
    Use :class:`aiotws.IB` and ``await`` there, or :meth:`IB.submit` from a callback.
    """


# -- the loop thread ------------------------------------------------------------------------

_counter = itertools.count(1)
_live_threads: weakref.WeakSet[LoopThread] = weakref.WeakSet()


class LoopThread:
    """A private asyncio event loop running forever in a daemon thread.

    :meth:`run` submits a coroutine from another thread and waits for its result;
    :meth:`call` runs a plain function in the loop thread; :meth:`stop` cancels what is
    left, closes the loop and joins the thread.
    """

    def __init__(self, name: str | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self._main, name=name or f"aiotws-sync-{next(_counter)}", daemon=True
        )
        self._started = threading.Event()
        self.thread.start()
        self._started.wait()
        _live_threads.add(self)

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)  # eventkit and friends look the thread's loop up
        loop.call_soon(self._started.set)
        try:
            loop.run_forever()
        finally:
            try:
                _close_loop(loop)
            finally:
                self._started.set()  # a failed start still releases __init__

    @property
    def alive(self) -> bool:
        """True while the loop runs (not stopped, thread not ended)."""
        return self.thread.is_alive() and not self.loop.is_closed()

    def in_thread(self) -> bool:
        """True when called from the loop's own thread."""
        return threading.get_ident() == self.thread.ident

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop (from any thread); returns at once."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from another thread).

        Ctrl-C (``KeyboardInterrupt``) cancels the coroutine, and so its TWS request.
        """
        if self.in_thread():
            coro.close()
            raise BlockingCallError("LoopThread.run() called from the loop's own thread")
        return self._result(self.submit(coro))

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` in the loop thread and return its result (directly when already
        there)."""
        if self.in_thread():
            return fn(*args, **kwargs)
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def step() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(step)
        return self._result(fut)

    def _result(self, fut: concurrent.futures.Future[T]) -> T:
        try:
            while True:
                try:
                    return fut.result(_POLL)
                except TimeoutError:
                    if fut.done():  # the coroutine itself raised TimeoutError (or just ended)
                        return fut.result()
                    if not self.thread.is_alive():
                        fut.cancel()
                        raise RuntimeError("the IB's event loop thread has stopped") from None
        except KeyboardInterrupt:
            fut.cancel()
            raise

    def stop(self, timeout: float | None = _CLOSE_TIMEOUT) -> None:
        """Stop the loop (cancelling its tasks), close it and join the thread."""
        _live_threads.discard(self)
        if self.thread.is_alive() and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_thread():
            self.thread.join(timeout)


class NestedLoop:
    """The calling thread's event loop, made re-entrant with ``nest_asyncio``.

    The same interface as :class:`LoopThread` for :class:`IB`: :meth:`run` runs a
    coroutine on the loop until it is done, also while that loop is already running (a
    notebook cell); only the thread that made it may call :meth:`run` and :meth:`call`.
    Without a running loop in that thread it makes (and owns) one.

    Raises:
        BlockingCallError: the running loop cannot be patched (uvloop and other loops that
            are not ``asyncio.BaseEventLoop``).
    """

    def __init__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            self._owned = False
        except RuntimeError:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._owned = True
        if not isinstance(loop, asyncio.BaseEventLoop):
            raise BlockingCallError(
                f"the running event loop ({type(loop).__module__}.{type(loop).__name__}) cannot "
                "be made re-entrant with nest_asyncio: use aiotws.sync.IB(mode='thread') or "
                "aiotws.IB with await"
            )
        nest_asyncio.apply(loop)
        self.loop: asyncio.AbstractEventLoop = loop
        self.thread = threading.current_thread()

    @property
    def alive(self) -> bool:
        """True until :meth:`stop` closed an owned loop (a borrowed loop: while open)."""
        return not self.loop.is_closed()

    def in_thread(self) -> bool:
        """True when called from the thread whose loop this is."""
        return threading.get_ident() == self.thread.ident

    def _own_thread(self, what: str) -> None:
        if not self.in_thread():
            raise BlockingCallError(
                f"{what}: this IB runs on the event loop of thread {self.thread.name!r} "
                "(mode='nest'); call it from that thread, or use aiotws.sync.IB(mode='thread')"
            )

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop (from any thread); it runs when the loop runs."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run the loop until ``coro`` is done; Ctrl-C cancels it (and its TWS request)."""
        try:
            self._own_thread("a blocking call")
        except BlockingCallError:
            coro.close()
            raise
        task = self.loop.create_task(coro)
        try:
            return self.loop.run_until_complete(task)
        except KeyboardInterrupt:
            task.cancel()
            raise

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` (from the loop's own thread)."""
        self._own_thread(getattr(fn, "__name__", "a call"))
        return fn(*args, **kwargs)

    def stop(self, timeout: float | None = _CLOSE_TIMEOUT) -> None:
        """Close an owned loop after cancelling its tasks; a borrowed loop is left running."""
        if not self._owned or self.loop.is_closed() or not self.in_thread():
            return
        _close_loop(self.loop)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel a stopped loop's tasks, let them finish, close it (this thread's loop)."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _patchable_running_loop() -> bool:
    """True when this thread runs a loop ``nest_asyncio`` can patch (not uvloop)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return isinstance(loop, asyncio.BaseEventLoop)


Runner = LoopThread | NestedLoop


# -- where a blocking call may run ---------------------------------------------------------


def _in_ipython_kernel() -> bool:
    """True inside a Jupyter/IPython kernel (whose loop runs while a cell executes)."""
    mod = sys.modules.get("IPython")
    if mod is None:
        return False
    try:
        shell = mod.get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _check_no_running_loop(what: str, notebook: bool | None) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    in_kernel_cell = threading.current_thread() is threading.main_thread() and _in_ipython_kernel()
    if notebook or (notebook is None and in_kernel_cell):
        return  # a notebook cell: blocking the kernel's loop while we wait is what cells do
    raise BlockingCallError(
        f"{what} is a blocking call, made from a thread whose asyncio event loop is running "
        "(asyncio.run, a web app): it would stall that loop. There, use aiotws.IB and "
        f"'await' its coroutine instead. (In a notebook kernel pass notebook=True.)"
    )


def run(
    coro: Coroutine[Any, Any, T], *, timeout: float | None = None, notebook: bool | None = None
) -> T:
    """Run a coroutine to completion from synchronous code, and return its result.

    Like ``asyncio.run`` (a fresh loop, closed afterwards), but it also works in a notebook
    cell, where a loop already runs: there the coroutine runs in a helper thread's loop.
    ``timeout`` cancels it after that many seconds (``TimeoutError``). From a coroutine
    outside a notebook it raises :class:`BlockingCallError`.
    """

    async def limited() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    try:
        _check_no_running_loop("aiotws.sync.run()", notebook)
    except BlockingCallError:
        coro.close()
        raise
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(limited())
    helper = LoopThread("aiotws-sync-run")
    try:
        return helper.run(limited())
    finally:
        helper.stop()


# -- generated wrappers ---------------------------------------------------------------------


def _blocking_method(name: str, target: Callable[..., Any]) -> Callable[..., Any]:
    """A blocking method running ``aiotws.IB.<name>`` (a coroutine function) on the loop."""

    @functools.wraps(target)
    def method(self: IB, /, *args: Any, **kwargs: Any) -> Any:
        lt = self._blocking_thread(f"ib.{name}()", name)
        result = lt.run(getattr(self.aio, name)(*args, **kwargs))
        return self if result is self.aio else result

    return method


def _loop_method(name: str, target: Callable[..., Any]) -> Callable[..., Any]:
    """A method calling ``aiotws.IB.<name>`` (a plain function) in the loop thread."""

    @functools.wraps(target)
    def method(self: IB, /, *args: Any, **kwargs: Any) -> Any:
        fn = getattr(self.aio, name)
        lt = self._thread
        result = fn(*args, **kwargs) if lt is None or not lt.alive else lt.call(fn, *args, **kwargs)
        return self if result is self.aio else result

    return method


def _delegated_property(name: str, target: property) -> property:
    def get(self: IB) -> Any:
        return getattr(self.aio, name)

    get.__doc__ = target.__doc__
    return property(get, doc=target.__doc__)


# -- the facade -----------------------------------------------------------------------------


class IB:
    """A TWS session with blocking methods: :class:`aiotws.IB`'s names and signatures.

    Args:
        mode: where the event loop runs: ``"auto"`` (default: the kernel's loop, made
            re-entrant, in a Jupyter/IPython kernel's main thread; a private loop thread
            everywhere else), ``"thread"`` or ``"nest"``; see the module docstring.
        notebook: in ``"thread"`` mode, allow blocking calls from a thread whose event loop
            runs (``True``), never (``False``), or only inside a Jupyter/IPython kernel
            (``None``, default).
        options: go to :class:`aiotws.IB` (``request_timeout``, ``rate``, ``burst``,
            ``codes``, ``sync``, ``reconnect``).

    Every coroutine method of :class:`aiotws.IB` is here as a blocking method returning its
    result (methods not written out below are generated, typed ``Any``); the other methods
    run in the loop thread and return their live objects; attributes and events are the
    async ``IB``'s (:attr:`aio`). See the module docstring for where things run.
    """

    if TYPE_CHECKING:
        # attributes of aiotws.IB, read through __getattr__ at run time
        client: Client
        session: Session
        connected: Event
        disconnected: Event
        errors: Event
        reconnecting: Event
        restored: Event
        server_version: int
        managed_accounts: list[str]
        connection_time: datetime | None

    def __init__(
        self, *, mode: Mode = "auto", notebook: bool | None = None, **options: Any
    ) -> None:
        if mode not in ("auto", "thread", "nest"):
            raise ValueError(f"mode must be 'auto', 'thread' or 'nest', not {mode!r}")
        #: the :class:`aiotws.IB` doing the work (its coroutines run on :attr:`loop`)
        self.aio = _aio.IB(**options)
        #: see the class docstring
        self.notebook = notebook
        #: the mode asked for; :attr:`nested` tells which one ``"auto"`` chose
        self.mode: Mode = mode
        self._thread: Runner | None = None
        self._lock = threading.Lock()
        _instances.add(self)

    # -- the loop --------------------------------------------------------------------------

    def _wants_nest(self) -> bool:
        if self.mode == "auto":
            return (
                threading.current_thread() is threading.main_thread()
                and _in_ipython_kernel()
                and _patchable_running_loop()
            )
        return self.mode == "nest"

    @property
    def nested(self) -> bool:
        """True when this IB runs on the caller's re-entrant loop (``mode="nest"``, or
        ``"auto"`` in a notebook kernel), False with a private loop thread."""
        lt = self._thread
        return isinstance(lt, NestedLoop) if lt is not None else self._wants_nest()

    def _loop_thread(self) -> Runner:
        with self._lock:
            lt = self._thread
            if lt is None or not lt.alive:
                lt = self._thread = NestedLoop() if self._wants_nest() else LoopThread()
            return lt

    def _blocking_thread(self, what: str, name: str = "") -> Runner:
        """The loop's runner, after checking that ``what`` may block here."""
        lt = self._thread
        idle = lt is None or not lt.alive
        if (isinstance(lt, NestedLoop) and lt.alive) or (idle and self._wants_nest()):
            return self._loop_thread()  # re-entrant: blocking inside the loop is the point
        if lt is not None and lt.in_thread():
            hint = f"ib.submit(ib.aio.{name}(...))" if name else "ib.submit(...)"
            raise BlockingCallError(
                f"{what} is a blocking call, made from the IB's own event loop thread (an "
                f"event callback?): it would deadlock. In a callback, schedule the coroutine "
                f"instead: {hint}, or use aiotws.IB and await."
            )
        _check_no_running_loop(what, self.notebook)
        return self._loop_thread()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the IB runs on: the private one (started if it is not running),
        or in nest mode the caller's."""
        return self._loop_thread().loop

    @property
    def loop_thread(self) -> threading.Thread | None:
        """The thread running :attr:`loop` (``None`` before the first call and after
        :meth:`disconnect`)."""
        lt = self._thread
        return lt.thread if lt is not None and lt.alive else None

    def __getattr__(self, name: str) -> Any:
        # events and other attributes of the async IB (generated methods are class attributes)
        if name.startswith("__") or name in ("aio", "_thread", "_lock", "notebook", "mode"):
            raise AttributeError(name)
        return getattr(self.aio, name)

    # -- helpers -----------------------------------------------------------------------------

    def wait(self, awaitable: Awaitable[T], timeout: float | None = None) -> T:
        """Block until ``awaitable`` completes in the IB's loop; returns its result.

        ``awaitable``: a coroutine (``trade.filled()``, ``ticker.ready()``, ``ib.aio.…``), a
        future, or an eventkit ``Event`` (its next emit). ``timeout`` seconds cancels it and
        raises ``TimeoutError``.
        """
        try:
            lt = self._blocking_thread("ib.wait()")
        except BlockingCallError:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            raise

        async def waiting() -> T:
            async with asyncio.timeout(timeout):
                return await awaitable

        return lt.run(waiting())

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` while the live objects keep updating (they update in the loop
        thread anyway: this is ``time.sleep`` that refuses where it would stall a loop)."""
        lt = self._blocking_thread("ib.sleep()")
        if isinstance(lt, NestedLoop):
            lt.run(asyncio.sleep(seconds))  # the loop must run for anything to update
        else:
            time.sleep(seconds)

    def iterate(self, iterable: AsyncIterable[T], timeout: float | None = None) -> Iterator[T]:
        """Iterate an async iterator (``ticker.updates()``, ``trade.updates()``) blockingly;
        ``timeout`` bounds the wait for each item (``TimeoutError``)."""
        it = iterable.__aiter__()
        try:
            while True:
                try:
                    yield self.wait(anext(it), timeout)
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(it, "aclose", None)
            lt = self._thread
            closable = (
                lt is not None and lt.alive and (isinstance(lt, NestedLoop) or not lt.in_thread())
            )
            if aclose is not None and lt is not None and closable:
                with contextlib.suppress(Exception):  # closing is best effort
                    lt.run(aclose())

    def submit(self, awaitable: Awaitable[T]) -> concurrent.futures.Future[T]:
        """Schedule ``awaitable`` on the IB's loop and return at once (from any thread, also
        from an event callback); ``.result()`` of the returned future waits for it."""

        async def running() -> T:
            return await awaitable

        return self._loop_thread().submit(running())

    # -- connection --------------------------------------------------------------------------

    @classmethod
    def connect_to(
        cls, host: str = "127.0.0.1", port: int = 7497, client_id: int = 1, **options: Any
    ) -> IB:
        """A connected ``IB``; ``with IB.connect_to(...) as ib:`` disconnects on exit.

        ``options`` named like :meth:`connect`'s keywords (``timeout``, ``account``,
        ``expect`` …) go to it, the others to :class:`IB` (``notebook``,
        ``request_timeout``, ``sync`` …). On failure nothing is left running.
        """
        accepted = inspect.signature(_aio.IB.connect).parameters
        connect_kw = {k: options.pop(k) for k in list(options) if k in accepted}
        ib = cls(**options)
        try:
            return ib.connect(host, port, client_id, **connect_kw)
        except BaseException:
            ib.disconnect()
            raise

    def disconnect(self) -> None:
        """Close the connection, wait until the socket is closed, and stop the loop thread.

        The live objects stop updating. A later :meth:`connect` starts a new loop thread.
        From an event callback it closes and lets the thread end after the callback.
        """
        self._close(_CLOSE_TIMEOUT)

    def _close(self, timeout: float) -> None:
        with self._lock:
            lt, self._thread = self._thread, None
        if lt is None or not lt.alive:
            self.aio.disconnect()
            return
        if isinstance(lt, NestedLoop):
            self.aio.disconnect()
            if lt.in_thread():
                with contextlib.suppress(Exception):  # closing is best effort
                    lt.run(asyncio.wait_for(self.aio.wait_closed(), timeout))
            lt.stop(timeout)
            return
        if lt.in_thread():
            self.aio.disconnect()
            lt.stop()
            return
        fut = lt.submit(self._aclose())
        try:
            fut.result(timeout)
        except BaseException:
            fut.cancel()
        finally:
            lt.stop(timeout)

    async def _aclose(self) -> None:
        self.aio.disconnect()
        await self.aio.wait_closed()

    def __enter__(self) -> IB:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()

    def __repr__(self) -> str:
        return "<sync." + repr(self.aio)[1:]

    if TYPE_CHECKING:
        # The typed twins of the most used methods, for type checkers only: at run time
        # every method is generated from aiotws.IB (see _generate; the tests check these
        # signatures against aiotws.IB's). A coroutine method's twin returns its result.

        def connect(
            self,
            host: str = "127.0.0.1",
            port: int = 7497,
            client_id: int = 1,
            *,
            timeout: float = 10.0,
            connect_options: str = "",
            account: str = "",
            expect: Literal["paper", "live"] | None = None,
        ) -> IB: ...

        def is_connected(self) -> bool: ...

        def current_time(self, *, timeout: Timeout = ...) -> datetime: ...

        def qualify(self, *contracts: Contract, timeout: Timeout = ...) -> list[Contract]: ...

        def contract_details(
            self, contract: Contract, *, timeout: Timeout = ...
        ) -> list[ContractDetails]: ...

        def market_data(
            self,
            contract: Contract,
            generic_ticks: str | Iterable[int] = "",
            *,
            regulatory_snapshot: bool = False,
        ) -> Ticker: ...

        def cancel_market_data(self, ticker: Ticker) -> None: ...

        def snapshot(
            self, contract: Contract, *, regulatory: bool = False, timeout: Timeout = ...
        ) -> Ticker: ...

        def tickers(self) -> list[Ticker]: ...

        def tick_by_tick(
            self,
            contract: Contract,
            kind: TickByTickKind,
            number_of_ticks: int = 0,
            ignore_size: bool = False,
            *,
            maxlen: int = 10_000,
        ) -> Stream[TickByTickRecord]: ...

        def market_depth(
            self, contract: Contract, rows: int = 5, smart: bool = False
        ) -> OrderBook: ...

        def historical_bars(
            self,
            contract: Contract,
            end: datetime | None = None,
            duration: str = "1 D",
            bar_size: str = "1 hour",
            what_to_show: str = "TRADES",
            use_rth: bool = True,
            format_date: int = 1,
            keep_up_to_date: bool = False,
            chart_options: str = "",
            *,
            timeout: Timeout = ...,
        ) -> BarList: ...

        def cancel_historical_bars(self, bars: BarList) -> None: ...

        def real_time_bars(
            self,
            contract: Contract,
            what_to_show: str = "TRADES",
            use_rth: bool = True,
            *,
            max_bars: int | None = None,
        ) -> RealTimeBarList: ...

        def place_order(self, contract: Contract, order: Order) -> Trade: ...

        def place_bracket(self, contract: Contract, *orders: Order) -> list[Trade]: ...

        def cancel_order(
            self, order: Order | Trade, cancel: OrderCancel | None = None
        ) -> Trade | None: ...

        def what_if(
            self, contract: Contract, order: Order, *, timeout: Timeout = ...
        ) -> OrderState: ...

        def trades(self) -> list[Trade]: ...

        def open_trades(self) -> list[Trade]: ...

        def executions(
            self, filter: ExecutionFilter | None = None, *, timeout: Timeout = ...
        ) -> list[Fill]: ...

        def fills(self) -> list[Fill]: ...

        def positions(
            self, account: str | None = None, *, timeout: Timeout = ...
        ) -> list[Position]: ...

        def portfolio(self, account: str | None = None) -> list[PortfolioItem]: ...

        def account_values(self, account: str | None = None) -> list[AccountValue]: ...

        def pnl(self, account: str = "", model_code: str = "") -> LivePnL: ...

        def pnl_single(self, account: str, con_id: int, model_code: str = "") -> LivePnLSingle: ...

        def wait_closed(self) -> None: ...

        def req_open_orders(
            self, all_clients: bool = False, *, timeout: Timeout = ...
        ) -> list[Trade]: ...

        def completed_orders(
            self, api_only: bool = False, *, timeout: Timeout = ...
        ) -> list[Trade]: ...

        def account_summary(
            self, group: str = "All", tags: str = ALL_TAGS, *, timeout: Timeout = ...
        ) -> list[AccountValue]: ...


def _generate() -> None:
    """Give :class:`IB` every public method and property of :class:`aiotws.IB` it does not
    write out: coroutine methods block, plain methods run in the loop thread."""
    own = set(vars(IB))
    for klass in reversed(_aio.IB.__mro__[:-1]):
        for name, attr in vars(klass).items():
            if name.startswith("_") or name in own:
                continue
            if isinstance(attr, property):
                setattr(IB, name, _delegated_property(name, attr))
            elif isinstance(attr, (classmethod, staticmethod)):
                continue
            elif inspect.iscoroutinefunction(attr):
                setattr(IB, name, _blocking_method(name, attr))
            elif inspect.isfunction(attr):
                setattr(IB, name, _loop_method(name, attr))


_generate()

_instances: weakref.WeakSet[IB] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """At interpreter exit: disconnect what is still connected, stop the loop threads."""
    for ib in list(_instances):
        with contextlib.suppress(Exception):
            ib._close(1.0)
    for lt in list(_live_threads):
        lt.stop(1.0)
