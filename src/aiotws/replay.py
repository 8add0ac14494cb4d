"""Replaying a recorded TWS session: a fake TWS that plays a recording back over a socket.

::

    async with ReplayServer("bug.twsrec") as server:          # port 0: a free port
        async with IB.connect_to(server.host, server.port, server.client_id) as ib:
            ...                                                # the same calls as recorded
    # leaving the block raises ReplayMismatch if the client strayed from the recording

How it plays (see docs/record-replay.md):

- The *n*-th client connection gets the recording's *n*-th connection. The server answers
  the handshake with the recorded server version and time (a client whose version range
  does not include it is a mismatch), then sends each recorded TWS frame once the client
  has sent the request that preceded it in the recording: TWS's answers wait for their
  questions, and what came before any question (the connect burst) goes at once.
- Requests are matched by message type and order: the client's 3rd REQ_MKT_DATA is the
  recording's 3rd. The relative order of different types is free (concurrent requests may
  go out in another order). Request and order ids are remapped: when the recording asked
  with id 5 and the client asks with id 7, every recorded answer for 5 goes out with 7.
- ``strict=True`` (the default): the matched request's other fields must equal the
  recorded ones; a request of a type the recording has no more of, a field that differs,
  a version outside the client's range, recorded requests never made and recorded
  connections never opened are :class:`Mismatch`\\ es. The first one closes the connection
  at once (the client fails fast instead of waiting for answers that will not come) and
  leaving the ``async with`` block (or :meth:`ReplayServer.check`) raises
  :class:`ReplayMismatch`, with the expected and the actual frame of each.
- ``strict=False``: fields may differ and unexpected requests go unanswered; both are still
  listed in :attr:`ReplayServer.mismatches`, nothing is raised or closed.
- ``speed=None`` (the default): as fast as possible; ``speed=1.0`` keeps the recorded
  pauses between a request and its answers (and between ticks), ``2.0`` halves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal

from aiotws.errors import TWSError
from aiotws.record import Frame, RecordedConnection, Recording, message_name
from aiotws.wire.codec import encode_payload
from aiotws.wire.connection import API_PREFIX
from aiotws.wire.fields import FieldReader
from aiotws.wire.framing import Framer, frame
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import IN_MESSAGES, OUT_MESSAGES, Layout, Message, StructCodec
from aiotws.wire.messages import ErrMsg

__all__ = ["Mismatch", "MismatchKind", "ReplayMismatch", "ReplayServer"]

log = logging.getLogger("aiotws.replay")

MismatchKind = Literal["unexpected", "fields", "version", "missing", "connection", "protocol"]

#: the fields that carry a request or order id (remapped between recording and client)
_ID_FIELDS: Final = frozenset({"req_id", "order_id", "parent_id"})


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Where the client strayed from the recording.

    ``kind``: ``"unexpected"`` (a request the recording has no more of), ``"fields"`` (the
    matched request's fields differ: ``fields`` names them), ``"version"`` (the client's
    version range excludes the recorded server version), ``"missing"`` (a recorded request
    the client never made), ``"connection"`` (a connection too many, or a recorded one
    never opened), ``"protocol"`` (the client did not speak the API). ``expected`` is the
    recorded frame, ``actual`` the client's fields (either may be ``None``).
    """

    connection: int
    kind: MismatchKind
    detail: str
    expected: Frame | None = None
    actual: tuple[str, ...] | None = None
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"connection {self.connection}: {self.detail}"]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected.name} {list(self.expected.fields)}")
        if self.actual is not None:
            lines.append(f"  actual:   {message_name('out', self.actual)} {list(self.actual)}")
        return "\n".join(lines)


class ReplayMismatch(TWSError, AssertionError):
    """The client did not do what the recording did (``mismatches`` says how)."""

    def __init__(self, mismatches: list[Mismatch]) -> None:
        self.mismatches = list(mismatches)
        n = len(self.mismatches)
        head = f"the client strayed from the recording ({n} mismatch{'es' * (n != 1)}):"
        body = "\n".join(str(m) for m in self.mismatches[:20])
        more = f"\n… and {n - 20} more" if n > 20 else ""
        super().__init__(f"{head}\n{body}{more}")


def _field_names(
    messages: Mapping[int, type[Message]], fields: tuple[str, ...] | list[str], version: int
) -> dict[int, str]:
    """Position -> name of each one-field value of a frame, read by its layout (nested
    blocks as ``contract.symbol``)."""
    try:
        cls = messages.get(int(fields[0]))
    except (ValueError, IndexError):
        return {}
    if cls is None:
        return {}
    layout = cls.LAYOUT
    r = FieldReader(fields, 1, len(fields), version)
    names: dict[int, str] = {}
    try:
        if layout.has_version_field(version):
            names[r.pos] = "version"
            r.next()
        _walk(layout, r, names, "")
    except Exception:  # a frame its layout does not read: what was named so far
        pass
    return names


def _walk(layout: Layout, r: FieldReader, names: dict[int, str], prefix: str) -> dict[str, Any]:
    vals: dict[str, Any] = {}
    for name, codec, when in layout.plan(r.version):
        if when is not None and not when(vals):
            continue
        start = r.pos
        if isinstance(codec, StructCodec):
            inner = _walk(codec.layout, r, names, f"{prefix}{name}.")
            vals[name] = codec.layout.cls(**inner)
            continue
        vals[name] = codec.read(r)
        if r.pos == start + 1:
            names[start] = prefix + name
    return vals


class _Player:
    """Plays one recorded connection to one client socket."""

    def __init__(
        self,
        server: ReplayServer,
        number: int,
        script: RecordedConnection | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.number = number
        self.script = script
        self.reader = reader
        self.writer = writer
        self.loop = asyncio.get_running_loop()
        frames = script.frames if script is not None else []
        self.frames = frames
        #: per message id text: the indices of the recorded requests not matched yet
        self.unmatched: dict[str, deque[int]] = {}
        #: per recorded incoming frame: the index of the request before it (-1: none)
        self.trigger: list[int] = []
        last_out = -1
        for i, f in enumerate(frames):
            if f.direction == "out":
                self.unmatched.setdefault(f.fields[0], deque()).append(i)
                last_out = i
            self.trigger.append(last_out)
        self.matched: dict[int, float] = {}  # recorded request index -> loop time matched
        self.ids: dict[str, str] = {}  # recorded id -> the client's id
        self.started_at: float | None = None  # loop time the replay of frames may begin
        self.progress = asyncio.Event()
        self.closed = False
        #: a mismatch ended this connection (its unplayed requests are not reported too)
        self.failed = False
        self.version = script.server_version if script is not None else 0
        self.handshaken = False  # the handshake was answered: messages may follow

    # -- helpers ---------------------------------------------------------------------------

    def mismatch(self, m: Mismatch, *, fatal: bool) -> None:
        self.server.mismatches.append(m)
        log.warning("replay mismatch: %s", m)
        if fatal and self.server.strict:
            self.failed = True
            self.tell(m)
            self.close()

    def tell(self, m: Mismatch) -> None:
        """Fail the stray request itself before closing: an ERR_MSG 321 to its request or
        order id (-1 when it has none) that says what differs, so the client's error names
        the mismatch, not only that the connection was lost."""
        if not self.handshaken:
            return
        target = -1
        text = f"aiotws replay: {m.detail}"
        if m.actual is not None:
            names = _field_names(OUT_MESSAGES, m.actual, self.version)
            for pos, name in names.items():
                if name in ("req_id", "order_id") and m.actual[pos].lstrip("-").isdigit():
                    target = int(m.actual[pos])
                    break
            if m.expected is not None and m.fields:
                recorded = m.expected.fields
                diffs = [
                    f"{name}: recorded {_at(recorded, pos)!r}, sent {_at(m.actual, pos)!r}"
                    for pos, name in names.items()
                    if name in m.fields
                ]
                if diffs:
                    text += f" ({'; '.join(diffs)})"
        when = datetime.now(UTC) if self.version >= 194 else None
        err = ErrMsg(target, 321, text, "", when)
        self.write(_split(encode_payload(err, self.version)))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()
        self.progress.set()

    def write(self, fields: tuple[str, ...] | list[str]) -> None:
        if not self.closed:
            self.writer.write(frame(("\0".join(fields) + "\0").encode("utf-8", "surrogateescape")))

    # -- the connection ----------------------------------------------------------------------

    async def run(self) -> None:
        sender: asyncio.Task[None] | None = None
        try:
            if self.script is None:
                self.mismatch(
                    Mismatch(
                        self.number,
                        "connection",
                        f"connection {self.number} opened, the recording has "
                        f"{len(self.server.recording.connections)}",
                    ),
                    fatal=False,
                )
                return
            if not await self.handshake():
                return
            sender = asyncio.ensure_future(self.send_loop())
            await self.read_loop()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await sender
            self.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
            self.server._ended(self)

    async def handshake(self) -> bool:
        assert self.script is not None
        prefix = await self.reader.readexactly(len(API_PREFIX))
        if prefix != API_PREFIX:
            self.mismatch(
                Mismatch(self.number, "protocol", f"the client opened with {prefix!r}"),
                fatal=True,
            )
            self.close()
            return False
        size = int.from_bytes(await self.reader.readexactly(4), "big")
        hello = (await self.reader.readexactly(size)).decode("ascii", "replace")
        low, high = _version_range(hello)
        sv = self.script.server_version
        if not low <= sv <= high:
            self.mismatch(
                Mismatch(
                    self.number,
                    "version",
                    f"the client offers {hello!r}; the recording was made at server version {sv}",
                ),
                fatal=True,
            )
            self.close()
            return False
        self.write([str(sv), self.script.connection_time])
        self.handshaken = True
        if not self.script.mid_session:
            self.begin()
        return True

    def begin(self) -> None:
        self.started_at = self.loop.time()
        self.progress.set()

    async def read_loop(self) -> None:
        framer = Framer()
        while not self.closed:
            data = await self.reader.read(65536)
            if not data:
                return
            for payload in framer.feed(data):
                if not self.on_request(_split(payload)):
                    return
            if framer.error is not None:
                self.mismatch(Mismatch(self.number, "protocol", str(framer.error)), fatal=True)
                self.close()
                return

    def on_request(self, fields: tuple[str, ...]) -> bool:
        """Match one request from the client; ``False`` once the connection is closed."""
        self.match(fields)
        return not self.closed

    def match(self, fields: tuple[str, ...]) -> None:
        assert self.script is not None
        start_api = bool(fields) and fields[0] == str(int(Out.START_API))
        if self.script.mid_session and self.started_at is None and start_api:
            # recorded mid-session: TWS's answer to START_API is made up from the header
            self.write([str(int(In.MANAGED_ACCTS)), "1", ",".join(self.script.accounts)])
            self.write([str(int(In.NEXT_VALID_ID)), "1", str(self.script.next_valid_id)])
            self.begin()
            return
        queue = self.unmatched.get(fields[0] if fields else "")
        if not queue:
            pending = [i for q in self.unmatched.values() for i in q]
            expected = self.frames[min(pending)] if pending else None
            self.mismatch(
                Mismatch(
                    self.number,
                    "unexpected",
                    f"the client sent a {message_name('out', fields)}; the recording has "
                    f"{'no more' if self._had(fields) else 'none'}",
                    expected,
                    fields,
                ),
                fatal=True,
            )
            return
        index = queue.popleft()
        recorded = self.frames[index]
        differ = self.compare(recorded.fields, fields)
        self.matched[index] = self.loop.time()
        self.progress.set()
        if differ:
            names = ", ".join(differ)
            self.mismatch(
                Mismatch(
                    self.number,
                    "fields",
                    f"{recorded.name} differs from the recorded one in {names}",
                    recorded,
                    fields,
                    tuple(differ),
                ),
                fatal=True,
            )

    def _had(self, fields: tuple[str, ...]) -> bool:
        return any(f.direction == "out" and f.fields[:1] == fields[:1] for f in self.frames)

    def compare(self, recorded: tuple[str, ...], actual: tuple[str, ...]) -> list[str]:
        """The names of the fields that differ (ids compared through the id map, which
        learns the client's ids from them)."""
        names = _field_names(OUT_MESSAGES, recorded, self.version)
        differ: list[str] = []
        for pos in range(max(len(recorded), len(actual))):
            r = recorded[pos] if pos < len(recorded) else None
            a = actual[pos] if pos < len(actual) else None
            name = names.get(pos, f"field {pos}")
            if names.get(pos) in _ID_FIELDS and r is not None and a is not None:
                mapped = self.ids.get(r)
                if mapped is None:
                    if r == a or (_is_id(r) and _is_id(a)):
                        self.ids[r] = a
                        continue
                elif mapped == a:
                    continue
                differ.append(name)
            elif r != a:
                differ.append(name)
        return differ

    def remap(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """A recorded incoming frame with its request / order ids mapped to the client's."""
        if not self.ids:
            return fields
        names = _field_names(IN_MESSAGES, fields, self.version)
        out = list(fields)
        for pos, name in names.items():
            if name in _ID_FIELDS:
                mapped = self.ids.get(out[pos])
                if mapped is not None:
                    out[pos] = mapped
        return tuple(out)

    async def send_loop(self) -> None:
        assert self.script is not None
        speed = self.server.speed
        previous = -1.0
        read_t: float | None = None  # the recorded time of the read being sent
        for i, f in enumerate(self.frames):
            if f.direction == "out":
                continue
            trig = self.trigger[i]
            while not self.closed and not self.ready(trig):
                self.progress.clear()
                await self.progress.wait()
            if self.closed:
                return
            if speed is not None and speed > 0:
                anchor, t0 = self.anchor(trig)
                due = max(anchor + (f.t - t0) / speed, previous)
                delay = due - self.loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                previous = due
            elif read_t is not None and f.t != read_t:
                # frames the client read in separate reads (they have their own times): let
                # a client on this loop read the last ones first, as it did when recording
                with contextlib.suppress(ConnectionError):
                    await self.writer.drain()
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            read_t = f.t
            self.write(self.remap(f.fields))
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()
        if self.script.closed_by == "server":
            last = self.trigger[-1] if self.trigger else -1
            while not self.closed and not self.ready(last):
                self.progress.clear()
                await self.progress.wait()
            self.close()

    def ready(self, trig: int) -> bool:
        if self.started_at is None:
            return False
        return trig < 0 or trig in self.matched

    def anchor(self, trig: int) -> tuple[float, float]:
        """(loop time, recorded time) a frame after request ``trig`` is timed from."""
        assert self.script is not None and self.started_at is not None
        if trig < 0:
            return self.started_at, self.script.handshake_t
        return self.matched[trig], self.frames[trig].t

    def missing(self) -> list[Mismatch]:
        left = sorted(i for q in self.unmatched.values() for i in q)
        return [
            Mismatch(
                self.number,
                "missing",
                f"the client never sent the recorded {self.frames[i].name} "
                f"(request {k + 1} of {len(left)} not made)",
                self.frames[i],
            )
            for k, i in enumerate(left)
        ]


def _at(fields: tuple[str, ...], pos: int) -> str:
    return fields[pos] if pos < len(fields) else ""


def _split(payload: bytes) -> tuple[str, ...]:
    parts = payload.decode("utf-8", "surrogateescape").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return tuple(parts)


def _is_id(text: str) -> bool:
    return text.isdigit()


def _version_range(hello: str) -> tuple[int, int]:
    head = hello.split(" ", 1)[0]
    if not head.startswith("v"):
        return (0, -1)
    low, _, high = head[1:].partition("..")
    try:
        return int(low), int(high or low)
    except ValueError:
        return (0, -1)


class ReplayServer:
    """A fake TWS that plays a recording (a path or a :class:`~aiotws.record.Recording`).

    ``async with ReplayServer(path) as server:`` listens on ``host:port`` (port 0: a free
    one, read back as :attr:`port`) until the block ends; see the module docs for how it
    matches requests, and ``strict`` and ``speed``. In strict mode, leaving the block
    raises :class:`ReplayMismatch` when there were mismatches (also when the block failed:
    the mismatch is usually why, and the block's exception is its context).

    Raises :class:`~aiotws.record.RecordingError` for a file that is not a recording.
    """

    def __init__(
        self,
        recording: str | Path | Recording,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float | None = None,
        strict: bool = True,
    ) -> None:
        self.recording = (
            recording if isinstance(recording, Recording) else Recording.load(recording)
        )
        self.host = host
        self.port = port
        self.speed = speed
        self.strict = strict
        #: every mismatch so far, in order
        self.mismatches: list[Mismatch] = []
        #: how many client connections were accepted
        self.served = 0
        self._server: asyncio.Server | None = None
        self._players: list[_Player] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._checked_missing = False

    @property
    def client_id(self) -> int:
        """The client id of the first recorded connection's START_API (1 if none)."""
        for c in self.recording.connections:
            cid = c.client_id
            if cid is not None:
                return cid
        return 1

    async def start(self) -> None:
        """Listen (``port`` 0: on a free port, :attr:`port` says which)."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        sock = self._server.sockets[0].getsockname()
        self.host, self.port = sock[0], sock[1]
        n = len(self.recording.connections)
        log.info("replaying %d connection(s) on %s:%d", n, self.host, self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.served += 1
        n = self.served
        conns = self.recording.connections
        script = conns[n - 1] if n <= len(conns) else None
        player = _Player(self, n, script, reader, writer)
        self._players.append(player)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await player.run()
        finally:
            if task is not None:
                self._tasks.discard(task)

    def _ended(self, player: _Player) -> None:
        if self.served >= len(self.recording.connections) and all(p.closed for p in self._players):
            self._done.set()

    async def wait_done(self, timeout: float | None = None) -> None:
        """Wait until every recorded connection was played and closed."""
        async with asyncio.timeout(timeout):
            await self._done.wait()

    async def stop(self) -> None:
        """Close every connection and stop listening; note the recorded requests and
        connections the client never made (strict mode: as mismatches)."""
        for p in self._players:
            p.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await self._server.wait_closed()
            self._server = None
        if not self._checked_missing:
            self._checked_missing = True
            if self.strict:
                for p in self._players:
                    if not p.failed:
                        self.mismatches.extend(p.missing())
                for c in self.recording.connections[self.served :]:
                    self.mismatches.append(
                        Mismatch(c.number, "connection", "the recorded connection never opened")
                    )

    def check(self) -> None:
        """Raise :class:`ReplayMismatch` if there was any mismatch."""
        if self.mismatches:
            raise ReplayMismatch(self.mismatches)

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
        if self.strict:
            self.check()
