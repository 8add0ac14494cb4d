"""Shared machinery of the conformance suite: the official client as an oracle.

The official IB client (``ibapi-latest``) is imported here and in the test modules only; it is
test-only (non-commercial licence) and must never be imported from ``src/``.

* :class:`RecordingWrapper` records every ``EWrapper`` callback with its arguments bound by
  parameter name, and lets a test wait for one (a condition variable, no sleeps).
* :func:`offline_client` builds an ``EClient`` with no socket: its ``conn`` captures the bytes
  the official encoder produces at a chosen server version.
* :func:`official_decode` feeds one text payload to the official ``Decoder`` exactly as
  ``EClient.run`` does below server version 201.
* :class:`SimLoop` runs an asyncio loop (and simulators on it) in a background thread;
  :class:`OfficialSession` is an official ``EClient`` connected to it, with ``run`` in a thread;
  :class:`Harness` (the ``harness`` fixture) starts both and tears them down after a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from hypothesis import strategies as st
from ibapi.client import EClient
from ibapi.decoder import Decoder
from ibapi.wrapper import EWrapper

from aiotws.sim import Simulator

__all__ = [
    "VERSIONS",
    "Call",
    "CaptureConn",
    "Harness",
    "OfficialSession",
    "RecordingWrapper",
    "SimLoop",
    "join_surrogates",
    "official_decode",
    "offline_client",
    "round_trip",
    "split_payload",
    "wait_for_count",
]

T = TypeVar("T")

#: Server versions every table row is checked at (ib_async's range, RFQ, ERROR_TIME, max text).
VERSIONS: Final = (157, 176, 187, 194, 200)

#: How long a test waits for a callback before failing.
WAIT: Final = 5.0


@dataclass(frozen=True, slots=True)
class Call:
    """One ``EWrapper`` callback: method name and arguments by parameter name."""

    name: str
    args: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


class RecordingWrapper(EWrapper):
    """An ``EWrapper`` that records every callback (all methods are generated below)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self._cond = threading.Condition()

    def _record(self, name: str, args: dict[str, Any]) -> None:
        with self._cond:
            self.calls.append(Call(name, args))
            self._cond.notify_all()

    def mark(self) -> int:
        """An index to pass as ``start=`` to wait only for later callbacks."""
        with self._cond:
            return len(self.calls)

    def named(self, name: str, start: int = 0) -> list[Call]:
        with self._cond:
            return [c for c in self.calls[start:] if c.name == name]

    def errors(self, start: int = 0) -> list[Call]:
        return self.named("error", start)

    def wait_for(
        self,
        name: str,
        where: Callable[[Call], bool] = lambda c: True,
        *,
        start: int = 0,
        timeout: float = WAIT,
    ) -> Call:
        """The first ``name`` callback at index ``start`` or later that satisfies ``where``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for c in self.calls[start:]:
                    if c.name == name and where(c):
                        return c
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.name, c.args) for c in self.calls[start:]]
                    raise AssertionError(f"no matching {name}() within {timeout} s; got {seen}")
                self._cond.wait(remaining)


def _recorder(name: str, sig: inspect.Signature) -> Callable[..., None]:
    def method(self: RecordingWrapper, *args: Any, **kwargs: Any) -> None:
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self", None)
        self._record(name, values)

    method.__name__ = name
    return method


for _name, _fn in inspect.getmembers(EWrapper, inspect.isfunction):
    if not _name.startswith("_"):
        setattr(RecordingWrapper, _name, _recorder(_name, inspect.signature(_fn)))
del _name, _fn


# -- offline encoder ----------------------------------------------------------------------------


class CaptureConn:
    """Stands in for ``ibapi.connection.Connection``: keeps what ``EClient`` sends."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> int:
        self.sent.append(msg)
        return len(msg)

    def isConnected(self) -> bool:
        return True

    def disconnect(self) -> None:
        pass


def offline_client(
    version: int, client_id: int = 0, opt_capab: str | None = None
) -> tuple[EClient, CaptureConn, RecordingWrapper]:
    """An official ``EClient`` that believes it is connected at ``version``, with no socket."""
    wrapper = RecordingWrapper()
    client = EClient(wrapper)
    conn = CaptureConn()
    client.conn = conn
    client.serverVersion_ = version
    client.clientId = client_id
    client.optCapab = opt_capab
    client.setConnState(EClient.CONNECTED)
    return client, conn, wrapper


# -- offline decoder ----------------------------------------------------------------------------


def split_payload(payload: bytes) -> tuple[int, tuple[bytes, ...]]:
    """``EClient.run`` below version 201: the id is the first field, the rest split on NUL."""
    head, _, rest = payload.partition(b"\0")
    fields = tuple(rest.split(b"\0")[:-1])  # comm.read_fields drops the part after the last NUL
    return int(head), fields


@functools.cache
def _decoder(version: int) -> Decoder:
    # Decoder() inspects every EWrapper signature: build one per version, swap the wrapper
    return Decoder(EWrapper(), version)


def official_decode(payload: bytes, version: int) -> list[Call]:
    """The callbacks the official ``Decoder`` makes for one text payload at ``version``."""
    wrapper = RecordingWrapper()
    msg_id, fields = split_payload(payload)
    decoder = _decoder(version)
    decoder.wrapper = wrapper
    decoder.interpret(fields, msg_id)
    return wrapper.calls


def join_surrogates(s: str) -> str:
    """Combine UTF-16 surrogate pairs left by ``unicode-escape`` decoding into one character.

    TWS (Java) escapes characters outside the BMP as two ``\\uXXXX`` code units; the official
    decoder's ``unicode-escape`` turns them into two lone surrogates, aiotws into the one
    character. Both mean the same text.
    """
    try:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:  # an unpaired surrogate: leave it as it is
        return s


# -- live: a simulator in a background loop, an official client connected to it ----------------


class SimLoop:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sim-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)`` in the loop thread (simulator state is not thread-safe)."""

        async def call() -> T:
            return fn(*args)

        return self.run(call())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


class OfficialSession:
    """An official ``EClient`` connected to ``host:port``, its message loop in a thread."""

    def __init__(self, host: str, port: int, client_id: int) -> None:
        self.wrapper = RecordingWrapper()
        self.client = EClient(self.wrapper)
        self.client.connect(host, port, client_id)  # blocks for the handshake, sends START_API
        assert self.client.isConnected(), "the official client did not connect"
        self.server_version: int = self.client.serverVersion()
        self.connection_time: bytes | str = self.client.twsConnectionTime()
        self.reader: threading.Thread = self.client.reader
        self.thread = threading.Thread(target=self.client.run, name="eclient-run", daemon=True)
        self.thread.start()

    def wait_ready(self, notice_codes: Iterable[int] = ()) -> None:
        """Wait for MANAGED_ACCTS, NEXT_VALID_ID and the farm notices the server sends."""
        self.wrapper.wait_for("managedAccounts")
        self.wrapper.wait_for("nextValidId")
        for code in notice_codes:
            self.wrapper.wait_for("error", lambda c, code=code: c["errorCode"] == code)

    def wait_closed(self, timeout: float = WAIT) -> None:
        """Wait until both threads of the official client are gone."""
        self.reader.join(timeout)
        self.thread.join(timeout)
        assert not self.reader.is_alive(), "EReader thread still running"
        assert not self.thread.is_alive(), "EClient.run thread still running"

    def close(self) -> None:
        """Close the socket and let the official client wind itself down.

        ``shutdown`` wakes the reader thread at once (a plain ``close`` leaves it blocked in
        ``recv`` until its 1 s socket timeout); the reader then disconnects, ``run`` sees it,
        calls ``EClient.disconnect`` and reports ``connectionClosed``. Doing it this way
        avoids racing ``disconnect`` from two threads.
        """
        conn = self.client.conn
        sock = getattr(conn, "socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.wait_closed()
        self.client.disconnect()  # a no-op once run() has reset the client


class Harness:
    """Starts simulators on the background loop and official clients against them.

    Everything started is torn down at the end of the test: clients first, then simulators.
    """

    def __init__(self, loop: SimLoop) -> None:
        self.loop = loop
        self.sims: list[Simulator] = []
        self.sessions: list[OfficialSession] = []

    def sim(self, **settings: Any) -> Simulator:
        sim = Simulator(port=0, **settings)
        self.loop.run(sim.start())
        self.sims.append(sim)
        return sim

    def connect(self, sim: Simulator, client_id: int = 1, *, ready: bool = True) -> OfficialSession:
        """An official client connected to ``sim``; ``ready``: wait for the connect burst."""
        session = self.connect_to(sim.host, sim.port, client_id, ready=False)
        if ready:
            session.wait_ready(code for code, _ in sim.config.connect_notices)
        return session

    def connect_to(
        self, host: str, port: int, client_id: int = 1, *, ready: bool = True
    ) -> OfficialSession:
        session = OfficialSession(host, port, client_id)
        self.sessions.append(session)
        if ready:
            session.wait_ready()
        return session

    def close(self) -> None:
        for s in reversed(self.sessions):
            s.close()
        for sim in self.sims:
            self.loop.run(sim.stop())


# -- waiting for several callbacks, and for the server to catch up ------------------------------


def wait_for_count(
    wrapper: RecordingWrapper,
    where: Callable[[Call], bool],
    count: int,
    *,
    start: int = 0,
    timeout: float = WAIT,
) -> list[Call]:
    """The first ``count`` callbacks at index ``start`` or later that satisfy ``where``."""
    deadline = time.monotonic() + timeout
    with wrapper._cond:
        while True:
            found = [c for c in wrapper.calls[start:] if where(c)]
            if len(found) >= count:
                return found[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"only {len(found)} of {count} matching callbacks within {timeout} s; "
                    f"last seen: {[(c.name, c.args) for c in wrapper.calls[start:][-10:]]}"
                )
            wrapper._cond.wait(remaining)


def round_trip(session: OfficialSession) -> int:
    """REQ_CURRENT_TIME and wait for the answer: the server has handled every earlier request
    and everything it sent before the answer has been recorded. Returns the index after it."""
    mark = session.wrapper.mark()
    session.client.reqCurrentTime()
    reply = session.wrapper.wait_for("currentTime", start=mark)
    with session.wrapper._cond:
        calls = session.wrapper.calls
        return next(i for i in range(mark, len(calls)) if calls[i] is reply) + 1


def req_id_row(out: Any, cls: type[Any], method: str) -> Any:
    """An outgoing-table row for a request whose only field is its id (the cancels):
    ``out`` is the outgoing table module, passed in (the rows modules load lazily)."""
    return out.Row(
        cls,
        method,
        build=lambda a: cls(a["req_id"]),
        call=lambda client, a: getattr(client, method)(a["req_id"]),
        samples=tuple({"req_id": n} for n in (1, 0, -1, 2**31 - 1, 2**63)),
        args=st.fixed_dictionaries({"req_id": st.integers()}),
    )
