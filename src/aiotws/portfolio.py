"""Live account objects: PnL subscriptions and keyed tables of account records.

The model records :class:`~aiotws.model.account.PnL` and
:class:`~aiotws.model.account.PnLSingle` are plain slotted dataclasses without events, so the
client hands out their live subclasses :class:`LivePnL` and :class:`LivePnLSingle`: still a
``PnL`` / ``PnLSingle`` (``isinstance`` holds, the fields are the same), plus ``updated``
(eventkit, fired with the object after each PNL / PNL_SINGLE), ``updates()`` (an async
iterator yielding the object in its latest state; a slow consumer skips states), ``await
ready()`` (the first value) and :meth:`LivePnL.record` (a frozen-in-time copy). Live objects
compare and hash by identity.

:class:`LiveTable` is the live form of the subscriptions that send a first full set, an End
message and then changes: account summary (REQ_ACCOUNT_SUMMARY), positions per account and
model (REQ_POSITIONS_MULTI) and account values per account and model
(REQ_ACCOUNT_UPDATES_MULTI). Its rows are keyed (a position that goes to 0 is removed);
``updated`` fires with each record as it arrives, ``await table.ready()`` waits for the End.

A live object survives a lost connection: it stays readable (stale), :attr:`active` turns
``False`` and its iterators keep waiting, so a supervisor that re-subscribes (the client's
:meth:`~aiotws.calls.accounts.AccountCalls.resubscribe_accounts`) continues it under a fresh
request id. It ends (iterators stop) when cancelled, when TWS rejects it (iterators raise
the :class:`~aiotws.errors.RequestError`) or when the user disconnects.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from eventkit import Event

from aiotws.live import LatestUpdates
from aiotws.model.account import PnL, PnLSingle

if TYPE_CHECKING:
    from aiotws.errors import RequestError
    from aiotws.wire.messages.accounts import Pnl, PnlSingle

__all__ = ["LivePnL", "LivePnLSingle", "LiveTable"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
L = TypeVar("L")


class _Live:
    """What the live account objects share: activity, readiness, update iterators."""

    req_id: int
    active: bool
    errors: list[RequestError]
    time: datetime | None
    updated: Event
    _waiters: list[LatestUpdates[Any]]
    _closed: bool | BaseException
    _ready: asyncio.Future[None] | None

    def _init_live(self, req_id: int, name: str) -> None:
        self.req_id = req_id
        #: True while TWS streams this subscription (False after a lost connection)
        self.active = True
        #: TWS's errors and warnings for this subscription
        self.errors = []
        #: when the latest update arrived (tz-aware, UTC)
        self.time = None
        self.updated = Event(name)
        self._waiters = []
        self._closed = False
        self._ready = None

    @property
    def done(self) -> bool:
        """True once the subscription ended (cancelled, rejected or disconnected by you)."""
        return self._closed is not False

    def _is_ready(self) -> bool:
        return self.time is not None

    def _wake(self) -> None:
        r = self._ready
        if r is not None and not r.done() and self._is_ready():
            r.set_result(None)
        for w in self._waiters:
            w.wake()

    def _close(self, error: BaseException | None = None) -> None:
        """The subscription ended: iterators stop (raising ``error`` if given)."""
        if self._closed is not False:
            return
        self.active = False
        self._closed = error if error is not None else True
        for w in list(self._waiters):
            w.end(error)
        r = self._ready
        if r is not None and not r.done():
            r.set_exception(error or asyncio.InvalidStateError(f"{self.updated.name()} has ended"))
            r.exception()  # retrieved: a waiter gets it raised

    async def _wait_ready(self, timeout: float | None) -> None:
        if self._is_ready():
            return
        closed = self._closed
        if isinstance(closed, BaseException):
            raise closed
        if closed:
            raise asyncio.InvalidStateError(f"{self.updated.name()} has ended")
        if self._ready is None or self._ready.done():
            self._ready = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._ready)

    def _updates(self, owner: L) -> AsyncIterator[L]:
        return LatestUpdates(owner, self._waiters, self._closed)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class LivePnL(_Live, PnL):
    """An account's (or model's) PnL, updated in place about once a second (REQ_PNL).

    ``daily_pnl``, ``unrealized_pnl`` and ``realized_pnl`` are ``None`` until TWS reports
    them (and whenever it sends them unset). ib_async: the ``PnL`` of ``reqPnL``.
    """

    def __init__(self, account: str, model_code: str = "", req_id: int = -1) -> None:
        PnL.__init__(self, account, model_code)
        self._init_live(req_id, "pnl.updated")

    def _update(self, m: Pnl) -> None:
        self.daily_pnl = m.daily_pnl
        self.unrealized_pnl = m.unrealized_pnl
        self.realized_pnl = m.realized_pnl
        self.time = datetime.now(UTC)
        self._wake()
        self.updated.emit(self)

    def record(self) -> PnL:
        """A plain copy of the current values."""
        return PnL(
            self.account, self.model_code, self.daily_pnl, self.unrealized_pnl, self.realized_pnl
        )

    async def ready(self, timeout: float | None = 10.0) -> LivePnL:
        """Wait for the first PNL message (TWS sends one about a second after the request)."""
        await self._wait_ready(timeout)
        return self

    def updates(self) -> AsyncIterator[LivePnL]:
        """Yields this object after each update (latest state); ends when it ends."""
        return self._updates(self)

    def __repr__(self) -> str:
        state = "" if self.active else " inactive"
        return (
            f"<LivePnL {self.account or '-'}{'/' + self.model_code if self.model_code else ''}"
            f" daily={self.daily_pnl} unrealized={self.unrealized_pnl}"
            f" realized={self.realized_pnl}{state}>"
        )

    def _repr_html_(self) -> str:
        """A one-row table of the values, for notebooks."""

        try:
            names = ("account", "model_code", "daily_pnl", "unrealized_pnl", "realized_pnl", "time")
            head = "".join(f"<th>{n}</th>" for n in names)
            row = "".join(
                f"<td>{'' if (v := getattr(self, n)) is None else escape(str(v))}</td>"
                for n in names
            )
            state = "" if self.active else " (inactive)"
            return f"<table><tr>{head}</tr><tr>{row}</tr></table>{state}"
        except Exception:
            return f"<pre>{escape(object.__repr__(self))}</pre>"


class LivePnLSingle(_Live, PnLSingle):
    """One position's PnL, updated in place (REQ_PNL_SINGLE).

    ``position``, the PnL values and ``value`` (market value) are ``None`` until TWS
    reports them. TWS sends nothing at all for a ``con_id`` the account does not hold, so
    :meth:`ready` then times out. ib_async: the ``PnLSingle`` of ``reqPnLSingle``.
    """

    def __init__(
        self, account: str, model_code: str = "", con_id: int = 0, req_id: int = -1
    ) -> None:
        PnLSingle.__init__(self, account, model_code, con_id)
        self._init_live(req_id, "pnl_single.updated")

    def _update(self, m: PnlSingle) -> None:
        self.position = m.position
        self.daily_pnl = m.daily_pnl
        self.unrealized_pnl = m.unrealized_pnl
        self.realized_pnl = m.realized_pnl
        self.value = m.value
        self.time = datetime.now(UTC)
        self._wake()
        self.updated.emit(self)

    def record(self) -> PnLSingle:
        """A plain copy of the current values."""
        return PnLSingle(
            self.account,
            self.model_code,
            self.con_id,
            self.position,
            self.daily_pnl,
            self.unrealized_pnl,
            self.realized_pnl,
            self.value,
        )

    async def ready(self, timeout: float | None = 10.0) -> LivePnLSingle:
        """Wait for the first PNL_SINGLE message."""
        await self._wait_ready(timeout)
        return self

    def updates(self) -> AsyncIterator[LivePnLSingle]:
        """Yields this object after each update (latest state); ends when it ends."""
        return self._updates(self)

    def __repr__(self) -> str:
        state = "" if self.active else " inactive"
        return (
            f"<LivePnLSingle {self.account or '-'} con_id={self.con_id} pos={self.position}"
            f" daily={self.daily_pnl} unrealized={self.unrealized_pnl}"
            f" realized={self.realized_pnl} value={self.value}{state}>"
        )

    def _repr_html_(self) -> str:
        """A one-row table of the values, for notebooks."""

        try:
            names = (
                "account",
                "con_id",
                "position",
                "daily_pnl",
                "unrealized_pnl",
                "realized_pnl",
                "value",
            )
            head = "".join(f"<th>{n}</th>" for n in names)
            row = "".join(
                f"<td>{'' if (v := getattr(self, n)) is None else escape(str(v))}</td>"
                for n in names
            )
            state = "" if self.active else " (inactive)"
            return f"<table><tr>{head}</tr><tr>{row}</tr></table>{state}"
        except Exception:
            return f"<pre>{escape(object.__repr__(self))}</pre>"


class LiveTable(_Live, Generic[K, V]):
    """The live rows of a subscription that sends a full set, an End, then changes.

    ``rows`` maps each record's key to its latest record; ``values()`` lists them (in
    arrival order). ``updated`` fires with each record as it arrives (a removed position
    too: it carries position 0). ``synced`` turns ``True`` at the End message;
    ``await table.ready()`` waits for it. ``updates()`` yields the table after each record
    (latest state).
    """

    def __init__(
        self,
        what: str,
        req_id: int,
        key: Callable[[V], K],
        removed: Callable[[V], bool] | None = None,
    ) -> None:
        self.what = what
        self.rows: dict[K, V] = {}
        #: True once the first full set arrived (the End message)
        self.synced = False
        self._key = key
        self._removed = removed
        #: keys seen since the current full set began (``None``: not in a full set)
        self._seen: set[K] | None = set()
        self._init_live(req_id, f"{what}.updated")

    def _is_ready(self) -> bool:
        return self.synced

    def _apply(self, record: V) -> None:
        k = self._key(record)
        if self._seen is not None:
            self._seen.add(k)
        if self._removed is not None and self._removed(record):
            self.rows.pop(k, None)
        else:
            self.rows[k] = record
        self.time = datetime.now(UTC)
        for w in self._waiters:
            w.wake()
        self.updated.emit(record)

    def _begin_set(self) -> None:
        """A full set starts again (re-subscribed): rows it does not mention go at its End."""
        self.synced = False
        self._seen = set()

    def _end_of_set(self) -> None:
        seen, self._seen = self._seen, None
        if seen is not None:
            for k in [k for k in self.rows if k not in seen]:
                del self.rows[k]
        self.synced = True
        self._wake()

    def values(self) -> list[V]:
        return list(self.rows.values())

    def __iter__(self) -> Iterator[V]:
        return iter(list(self.rows.values()))

    def __len__(self) -> int:
        return len(self.rows)

    async def ready(self, timeout: float | None = 10.0) -> LiveTable[K, V]:
        """Wait until the first full set arrived (the End message)."""
        await self._wait_ready(timeout)
        return self

    def updates(self) -> AsyncIterator[LiveTable[K, V]]:
        """Yields this table after each record (latest state); ends when it ends."""
        return self._updates(self)

    def __repr__(self) -> str:
        state = "synced" if self.synced else "syncing"
        if not self.active:
            state += " inactive"
        return f"<LiveTable {self.what} rows={len(self.rows)} {state}>"

    def _repr_html_(self) -> str:
        """The first rows as a table (dataclass records: one column per field)."""

        try:
            rows = list(self.rows.values())[:50]
            cols = list(getattr(type(rows[0]), "__dataclass_fields__", ())) if rows else []
            head = "".join(f"<th>{c}</th>" for c in cols) or "<th>row</th>"
            body = "".join(
                "<tr>"
                + (
                    "".join(f"<td>{escape(str(getattr(r, c)))}</td>" for c in cols)
                    if cols
                    else f"<td>{escape(repr(r))}</td>"
                )
                + "</tr>"
                for r in rows
            )
            more = f"<div>&hellip; {len(self.rows) - 50} more</div>" if len(self.rows) > 50 else ""
            return (
                f"<div><b>{escape(repr(self))}</b><table><tr>{head}</tr>{body}</table>{more}</div>"
            )
        except Exception:
            return f"<pre>{escape(object.__repr__(self))}</pre>"
