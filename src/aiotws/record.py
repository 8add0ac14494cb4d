"""Recording a TWS session: every frame both ways, to a file a test can replay.

Turn recording on for a client, before connecting (the handshake is recorded too) or while
connected (from the next frame on)::

    ib = IB()
    recorder = ib.client.start_recording("bug.twsrec", redact=True)
    await ib.connect("127.0.0.1", 7497, client_id=1)
    ...                                   # reproduce the bug against the real TWS
    await recorder.aclose()               # or ib.client.stop_recording()

or from the command line: ``aiotws quote AAPL --record bug.twsrec``. The file plays back
with :class:`aiotws.replay.ReplayServer` (see docs/record-replay.md).

The file format (version 1) is JSON lines, one record per line, in the order they
happened; ``t`` is seconds since the recording started (a monotonic clock):

- the header: ``{"format": "aiotws-recording", "version": 1, "created": ISO time,
  "aiotws": version, "redacted": bool}``;
- ``{"k": "connect", "c": 1, "t": …, "host": …, "port": …, "hello": "v157..200"}``: a
  connection begins (``c`` numbers the connections of the recording: reconnects go on in
  the same file). A recording started while connected says ``"mid": true`` and carries the
  ``accounts`` and ``next_valid_id`` the client had;
- ``{"k": "handshake", "c": 1, "t": …, "server_version": 176, "time": "20261202 …"}``: TWS's
  handshake reply;
- ``{"k": "out", "c": 1, "t": …, "m": "START_API", "f": ["71", "2", "1", ""]}``: a frame the
  client sent; ``{"k": "in", …}`` one TWS sent. ``f`` holds the payload's NUL-separated text
  fields (the message id first; the trailing NUL is implied), ``m`` the message name (for
  the reader only; it is not read back);
- ``{"k": "close", "c": 1, "t": …, "by": "client" | "server"}``: the socket closed;
- ``{"k": "note", "t": …, "text": …}``: something the recorder reports (recording stopped).

Edit a recording with any text editor: delete lines to trim it, change a field to make a
regression case. :class:`Recording` reads and writes the format.

Recording never breaks or slows a session: the socket callbacks only queue the raw bytes;
a writer thread frames, redacts, encodes and writes them. The first I/O error is logged once
and stops the recording (:attr:`Recorder.error`); the session goes on.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import queue
import re
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import IO, TYPE_CHECKING, Any, Final, Literal

from aiotws.errors import TWSError
from aiotws.wire.connection import API_PREFIX
from aiotws.wire.framing import Framer
from aiotws.wire.ids import In, Out

if TYPE_CHECKING:
    from types import TracebackType

    from aiotws.wire.connection import ClientConnection

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Frame",
    "RecordedConnection",
    "Recorder",
    "Recording",
    "RecordingError",
    "Redactor",
    "message_name",
]

log = logging.getLogger("aiotws.record")

#: the header's ``format`` value
FORMAT: Final = "aiotws-recording"
#: the version of the file format this module writes (and the highest it reads)
FORMAT_VERSION: Final = 1

Direction = Literal["in", "out"]


class RecordingError(TWSError, ValueError):
    """A recording file that cannot be read (not one, corrupt, or a newer format): the
    message names the file and line."""


def message_name(direction: Direction, fields: tuple[str, ...] | list[str]) -> str:
    """The message name of a frame's fields (``"TICK_PRICE"``), or its id text if unknown."""
    ids: type[In] | type[Out] = In if direction == "in" else Out
    head = fields[0] if fields else ""
    try:
        return ids(int(head)).name
    except ValueError:
        return head


# -- the data model --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """One recorded frame: when (seconds since the recording began), which way (``"in"``:
    from TWS, ``"out"``: from the client) and its text fields (message id first)."""

    t: float
    direction: Direction
    fields: tuple[str, ...]

    @property
    def msg_id(self) -> int:
        """The message id (-1 when the first field is no number)."""
        try:
            return int(self.fields[0])
        except (ValueError, IndexError):
            return -1

    @property
    def name(self) -> str:
        """The message name, e.g. ``"REQ_MKT_DATA"``."""
        return message_name(self.direction, self.fields)

    def payload(self) -> bytes:
        """The frame's payload bytes as they were on the wire (without the length)."""
        return _payload(self.fields)

    def __str__(self) -> str:
        arrow = "->" if self.direction == "out" else "<-"
        return f"{arrow} {self.name} {list(self.fields)}"


@dataclass(slots=True)
class RecordedConnection:
    """One recorded connection: how it began, TWS's handshake reply, its frames in order
    and who closed it (``None``: it was still open when the recording ended)."""

    number: int
    host: str = ""
    port: int = 0
    hello: str = ""
    server_version: int = 0
    connection_time: str = ""
    frames: list[Frame] = field(default_factory=list)
    closed_by: Literal["client", "server"] | None = None
    #: the recording began while connected (no START_API recorded): ``accounts`` and
    #: ``next_valid_id`` are what the client had then
    mid_session: bool = False
    accounts: tuple[str, ...] = ()
    next_valid_id: int = 0
    t: float = 0.0
    handshake_t: float = 0.0
    close_t: float = 0.0

    @property
    def requests(self) -> list[Frame]:
        """The frames the client sent."""
        return [f for f in self.frames if f.direction == "out"]

    @property
    def client_id(self) -> int | None:
        """The client id of the recorded START_API (``None`` if none was recorded)."""
        for f in self.frames:
            if f.direction == "out" and f.msg_id == Out.START_API and len(f.fields) > 2:
                with contextlib.suppress(ValueError):
                    return int(f.fields[2])
        return None


@dataclass(slots=True)
class Recording:
    """A recording file in memory: its connections, in order.

    :meth:`load` reads one (raising :class:`RecordingError` with the line at fault),
    :meth:`save` writes one; edit ``connections`` (or their ``frames``) in between to trim or
    change it.
    """

    connections: list[RecordedConnection] = field(default_factory=list)
    created: str = ""
    redacted: bool = False
    aiotws_version: str = ""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> Recording:
        """Read a recording file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise RecordingError(f"{path}: not a recording (not UTF-8 text: {e})") from None
        return cls.from_lines(text.splitlines(), str(path))

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = "<recording>") -> Recording:
        """Parse the lines of a recording (``source`` names it in errors)."""
        rec = cls()
        conns: dict[int, RecordedConnection] = {}
        header_seen = False
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{source}, line {n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise RecordingError(f"{where}: not JSON ({e.msg}); truncated or edited?") from None
            if not isinstance(obj, dict):
                raise RecordingError(f"{where}: a record must be a JSON object")
            if not header_seen:
                if obj.get("format") != FORMAT:
                    raise RecordingError(
                        f"{where}: not an aiotws recording (the first line must be its header "
                        f'with "format": "{FORMAT}")'
                    )
                version = obj.get("version")
                if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
                    raise RecordingError(
                        f"{where}: recording format version {version!r}; this aiotws reads "
                        f"1..{FORMAT_VERSION} (a newer aiotws wrote it?)"
                    )
                rec.created = str(obj.get("created", ""))
                rec.redacted = bool(obj.get("redacted", False))
                rec.aiotws_version = str(obj.get("aiotws", ""))
                header_seen = True
                continue
            try:
                _apply(rec, conns, obj)
            except (KeyError, TypeError, ValueError) as e:
                raise RecordingError(f"{where}: bad {obj.get('k', 'record')!r} record: {e}") from e
        if not header_seen:
            raise RecordingError(f"{source}: empty, not a recording")
        rec.connections = [conns[k] for k in sorted(conns)]
        return rec

    def lines(self) -> Iterator[str]:
        """The recording as the lines of its file."""
        yield _dumps(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created": self.created or datetime.now(UTC).isoformat(timespec="seconds"),
                "aiotws": self.aiotws_version or _aiotws_version(),
                "redacted": self.redacted,
            }
        )
        for c in self.connections:
            yield _dumps(_connect_record(c))
            if c.server_version:
                hs = _handshake_record(c.number, c.handshake_t, c.server_version, c.connection_time)
                yield _dumps(hs)
            for f in c.frames:
                yield _dumps(_frame_record(c.number, f))
            if c.closed_by is not None:
                yield _dumps({"k": "close", "c": c.number, "t": c.close_t, "by": c.closed_by})

    def save(self, path: str | Path) -> None:
        """Write the recording to ``path``."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for line in self.lines():
                f.write(line + "\n")

    @property
    def frames(self) -> list[Frame]:
        """Every frame of every connection, in order."""
        return [f for c in self.connections for f in c.frames]


def _apply(rec: Recording, conns: dict[int, RecordedConnection], obj: dict[str, Any]) -> None:
    kind = obj["k"]
    if kind == "note":
        rec.notes.append(str(obj.get("text", "")))
        return
    number = int(obj["c"])
    t = float(obj.get("t", 0.0))
    if kind == "connect":
        if number in conns:
            raise ValueError(f"connection {number} begins twice")
        conns[number] = RecordedConnection(
            number,
            host=str(obj.get("host", "")),
            port=int(obj.get("port", 0)),
            hello=str(obj.get("hello", "")),
            mid_session=bool(obj.get("mid", False)),
            accounts=tuple(str(a) for a in obj.get("accounts", ())),
            next_valid_id=int(obj.get("next_valid_id", 0)),
            t=t,
        )
        return
    conn = conns.get(number)
    if conn is None:
        raise ValueError(f"connection {number} has no 'connect' record before it")
    if kind == "handshake":
        conn.server_version = int(obj["server_version"])
        conn.connection_time = str(obj.get("time", ""))
        conn.handshake_t = t
    elif kind in ("in", "out"):
        raw = obj["f"]
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
            raise ValueError('"f" must be a non-empty list of strings')
        conn.frames.append(Frame(t, kind, tuple(raw)))
    elif kind == "close":
        by = obj.get("by")
        if by not in ("client", "server"):
            raise ValueError(f'"by" must be "client" or "server", not {by!r}')
        conn.closed_by = by
        conn.close_t = t
    else:
        raise ValueError(f"unknown record kind {kind!r}")


def _payload(fields: tuple[str, ...] | list[str]) -> bytes:
    return ("\0".join(fields) + "\0").encode("utf-8", "surrogateescape")


def _fields(payload: bytes) -> list[str]:
    parts = payload.decode("utf-8", "surrogateescape").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _connect_record(c: RecordedConnection) -> dict[str, Any]:
    out: dict[str, Any] = {"k": "connect", "c": c.number, "t": c.t, "host": c.host}
    out.update(port=c.port, hello=c.hello)
    if c.mid_session:
        out.update(mid=True, accounts=list(c.accounts), next_valid_id=c.next_valid_id)
    return out


def _handshake_record(number: int, t: float, version: int, time_text: str) -> dict[str, Any]:
    return {"k": "handshake", "c": number, "t": t, "server_version": version, "time": time_text}


def _frame_record(number: int, f: Frame) -> dict[str, Any]:
    return {"k": f.direction, "c": number, "t": f.t, "m": f.name, "f": list(f.fields)}


def _aiotws_version() -> str:
    from aiotws import __version__  # noqa: PLC0415 - the package imports this module's users

    return __version__


# -- redaction -------------------------------------------------------------------------------

#: what IB account ids look like: U1234567 (individual), DU… (paper), F… / DF… (advisor)
_ACCOUNT_PATTERN: Final = r"(?:DU|DF|DI|U|F|I)\d{5,9}"


class Redactor:
    """Rewrites account ids consistently: the n-th distinct account becomes its letters
    followed by n (``DU1234567`` → ``DU0000001``, ``U7654321`` → ``U0000002``), so paper
    stays paper and live stays live. It knows the accounts of MANAGED_ACCTS (any shape)
    and anything that looks like an IB account id, in every field of every frame."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._known: set[str] = set()
        self._rx = self._compile()

    def _compile(self) -> re.Pattern[str]:
        known = "|".join(re.escape(a) for a in sorted(self._known, key=len, reverse=True))
        alternatives = f"{known}|{_ACCOUNT_PATTERN}" if known else _ACCOUNT_PATTERN
        return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")

    def learn(self, accounts: Iterable[str]) -> None:
        """Redact these account ids from now on (whatever their shape)."""
        new = {a for a in accounts if a and a not in self._known}
        if new:
            self._known |= new
            self._rx = self._compile()

    def account(self, account: str) -> str:
        """The redacted form of one account id."""
        out = self.mapping.get(account)
        if out is None:
            if account in self.mapping.values():  # already a redacted id
                return account
            letters = re.match(r"[A-Za-z]*", account)
            prefix = letters.group(0) if letters else ""
            digits = max(len(account) - len(prefix), 1)
            out = f"{prefix}{len(self.mapping) + 1:0{digits}d}"
            self.mapping[account] = out
        return out

    def text(self, value: str) -> str:
        """``value`` with every account id in it replaced."""
        if not any(ch.isdigit() for ch in value):
            return value
        return self._rx.sub(lambda m: self.account(m.group(0)), value)

    def fields(self, direction: Direction, fields: list[str]) -> list[str]:
        """A frame's fields, redacted (MANAGED_ACCTS teaches the accounts first)."""
        if direction == "in" and fields and fields[0] == "15" and len(fields) > 2:
            self.learn(fields[2].split(","))
        return [self.text(f) for f in fields]


# -- the recorder ----------------------------------------------------------------------------

_Item = tuple[float, str, int, Any]
_recorders: weakref.WeakSet[Recorder] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:  # pragma: no cover - interpreter shutdown
    for r in list(_recorders):
        r.stop()
        r.join(2.0)


class Recorder:
    """Writes the frames of a client's connections to a recording file.

    Made by :meth:`aiotws.Client.start_recording` (or ``Recorder(path)`` and
    ``client.start_recording(recorder)``). The file is opened (created or truncated) at
    once, so a bad path fails here, before anything else. :meth:`stop` ends the
    recording (the writer thread finishes the queue); :meth:`aclose` / :meth:`join` wait
    until it is all on disk. Also a context manager (``with``/``async with``: stopped and
    flushed at exit).

    ``redact=True``: account ids are rewritten consistently (see :class:`Redactor`).
    ``error``: the I/O error that stopped the recording early, else ``None``.
    """

    def __init__(self, path: str | Path, *, redact: bool = False) -> None:
        self.path = Path(path)
        self.redact = redact
        self.error: OSError | None = None
        self.frames_written = 0
        self._file: IO[str] | None = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._stopped = False
        self._t0 = monotonic()
        self._connections = 0
        self._redactor = Redactor() if redact else None
        self._writer = _Writer(self)
        self._thread = threading.Thread(
            target=self._writer.run, name=f"aiotws-recorder {self.path.name}", daemon=True
        )
        self._queue.put((0.0, "header", 0, None))
        self._thread.start()
        _recorders.add(self)

    @property
    def active(self) -> bool:
        """True until :meth:`stop` (or an I/O error) ended the recording."""
        return not self._stopped

    def __repr__(self) -> str:
        state = "recording" if self.active else "stopped"
        return f"<Recorder {self.path} {state}, {self.frames_written} frames written>"

    # -- what the client calls -----------------------------------------------------------

    def connection(self, host: str, port: int, conn: ClientConnection) -> _Tap:
        """A tap for a new connection (its hello and handshake are recorded)."""
        self._connections += 1
        number = self._connections
        hello = f"v{conn.min_version}..{conn.max_version}"
        if conn.connect_options:
            hello += " " + conn.connect_options
        self._put("connect", number, {"host": host, "port": port, "hello": hello})
        return _Tap(self, number, None)

    def join_session(
        self,
        host: str,
        port: int,
        conn: ClientConnection,
        connection_time: str,
        accounts: tuple[str, ...],
        next_valid_id: int,
    ) -> _Tap:
        """A tap for a connection already open: recorded from its next frame on."""
        self._connections += 1
        number = self._connections
        hello = f"v{conn.min_version}..{conn.max_version}"
        info = {"host": host, "port": port, "hello": hello, "mid": True}
        info.update(accounts=list(accounts), next_valid_id=next_valid_id)
        self._put("connect", number, info)
        self._put("handshake", number, (conn.server_version, connection_time))
        return _Tap(self, number, conn)

    def _put(self, kind: str, number: int, data: Any) -> None:
        if not self._stopped:
            self._queue.put((monotonic() - self._t0, kind, number, data))

    # -- ending ----------------------------------------------------------------------------

    def stop(self) -> None:
        """End the recording; what is queued is still written (:meth:`join` waits)."""
        if not self._stopped:
            self._stopped = True
            self._queue.put(None)

    def join(self, timeout: float | None = None) -> None:
        """Wait (blocking) until everything queued is written and the file closed."""
        self._thread.join(timeout)

    async def aclose(self) -> None:
        """:meth:`stop`, then wait (without blocking the loop) until the file is complete."""
        import asyncio  # noqa: PLC0415

        self.stop()
        await asyncio.to_thread(self._thread.join)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self.join()

    async def __aenter__(self) -> Recorder:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def _failed(self, error: OSError) -> None:
        """The writer thread's first I/O error: reported once, the recording stops."""
        self.error = error
        self._stopped = True
        log.error("recording to %s stopped: %s (the session goes on)", self.path, error)


class _Tap:
    """The :class:`~aiotws.protocol.FrameTap` of one connection: queues the raw bytes.

    Joined mid-session, it starts at the first read that begins on a frame boundary (the
    client's framer holds nothing then): a read that continues a half-received frame is
    skipped.
    """

    __slots__ = ("_align", "_number", "_recorder")

    def __init__(self, recorder: Recorder, number: int, align: ClientConnection | None) -> None:
        self._recorder = recorder
        self._number = number
        self._align = align

    def received(self, data: bytes) -> None:
        rec = self._recorder
        if rec._stopped:
            return
        if self._align is not None:
            if self._align.framer.buffered:
                return  # the middle of a frame: wait for a boundary
            self._align = None
        rec._queue.put((monotonic() - rec._t0, "in", self._number, data))

    def sent(self, data: bytes) -> None:
        rec = self._recorder
        if not rec._stopped:
            rec._queue.put((monotonic() - rec._t0, "out", self._number, data))

    def closed(self, by_us: bool) -> None:
        self._recorder._put("close", self._number, "client" if by_us else "server")


class _Writer:
    """The writer thread's side: frames the byte streams, redacts, writes JSON lines."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.framers: dict[tuple[int, str], Framer] = {}
        self.hello_pending: set[int] = set()  # connections whose API prefix is still due
        self.handshaken: set[int] = set()

    def run(self) -> None:
        rec = self.rec
        q = rec._queue
        f = rec._file
        assert f is not None
        try:
            while True:
                item = q.get()
                batch: list[_Item | None] = [item]
                with contextlib.suppress(queue.Empty):
                    while len(batch) < 4096:
                        batch.append(q.get_nowait())
                done = False
                lines: list[str] = []
                for it in batch:
                    if it is None:
                        done = True
                        break
                    lines.extend(self.lines(it))
                if lines and rec.error is None:
                    try:
                        f.write("\n".join(lines) + "\n")
                        f.flush()
                    except OSError as e:
                        rec._failed(e)  # stopped: nothing more is queued, so no None comes
                        return
                if done:
                    return
        except Exception as e:  # pragma: no cover - a bug here must not kill a session
            log.exception("the recorder of %s failed; recording stopped", rec.path)
            rec._stopped = True
            rec.error = rec.error or OSError(str(e))
        finally:
            with contextlib.suppress(OSError):
                f.close()
            rec._file = None

    def lines(self, item: _Item) -> Iterator[str]:
        t, kind, number, data = item
        t = round(t, 6)
        if kind == "header":
            head = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "aiotws": _aiotws_version(),
                "redacted": self.rec.redact,
            }
            yield _dumps(head)
        elif kind == "connect":
            rec: dict[str, Any] = {"k": "connect", "c": number, "t": t, **data}
            if self.rec._redactor is not None and "accounts" in rec:
                self.rec._redactor.learn(rec["accounts"])
                rec["accounts"] = [self.rec._redactor.account(a) for a in rec["accounts"]]
            if data.get("mid"):
                self.handshaken.add(number)
            else:
                self.hello_pending.add(number)
            yield _dumps(rec)
        elif kind == "handshake":
            yield _dumps(_handshake_record(number, t, data[0], data[1]))
        elif kind == "close":
            yield _dumps({"k": "close", "c": number, "t": t, "by": data})
        else:
            yield from self.frames(t, kind, number, data)

    def frames(self, t: float, kind: str, number: int, data: bytes) -> Iterator[str]:
        if kind == "out" and number in self.hello_pending:
            self.hello_pending.discard(number)
            if data.startswith(API_PREFIX):
                data = data[len(API_PREFIX) :]
                framer = self.framers.setdefault((number, kind), Framer())
                payloads = framer.feed(data)
                # the first payload is the version string, recorded in "connect"
                for p in payloads[1:]:
                    yield self.frame_line(t, "out", number, p)
                return
        framer = self.framers.setdefault((number, kind), Framer())
        for p in framer.feed(data):
            if kind == "in" and number not in self.handshaken:
                parts = p.split(b"\0")
                if len(parts) == 3 and parts[2] == b"":
                    self.handshaken.add(number)
                    version = int(parts[0]) if parts[0].isdigit() else 0
                    text = parts[1].decode("utf-8", "replace")
                    yield _dumps(_handshake_record(number, t, version, text))
                    continue
            yield self.frame_line(t, kind, number, p)
        if framer.error is not None:
            yield _dumps({"k": "note", "t": t, "text": f"connection {number}: {framer.error}"})
            framer.reset()

    def frame_line(self, t: float, kind: str, number: int, payload: bytes) -> str:
        fields = _fields(payload)
        direction: Direction = "in" if kind == "in" else "out"
        if self.rec._redactor is not None:
            fields = self.rec._redactor.fields(direction, fields)
        self.rec.frames_written += 1
        name = message_name(direction, fields)
        return _dumps({"k": kind, "c": number, "t": t, "m": name, "f": fields})
