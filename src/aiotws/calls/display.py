"""Display groups, soft dollar tiers, and API vendor verification.

**Display groups** are TWS's colour-linked window groups (1..7). :meth:`DisplayCalls.
display_group` subscribes to one and returns a live :class:`DisplayGroup`: its selection
(``contract_info`` text, parsed ``con_id`` / ``exchange``) is kept current by
DISPLAY_GROUP_UPDATED, with an ``updated`` event and an async iterator, and
``await group.update(contract)`` makes TWS show another contract in the group's windows
(TWS echoes the change to every subscriber, this one included: the await returns on that
echo). With ``Client.keep_live`` a lost connection suspends the group (``stale``) and
``Client.resume_live`` subscribes it again under a fresh request id, same object.

**Soft dollar tiers**: :meth:`DisplayCalls.soft_dollar_tiers` (REQ_SOFT_DOLLAR_TIERS).

**Verification** (VERIFY_REQUEST … VERIFY_AND_AUTH_MESSAGE) is IB's authentication of
registered API vendors' software. The official clients only send VERIFY_REQUEST and
VERIFY_AND_AUTH_REQUEST when the application declared its "intent to authenticate" at
connect (``eConnect(…, extraAuth=true)`` in Java/C++; the Python client has no way to set
it). That flag never goes on the wire: START_API and the handshake carry nothing for it.
aiotws mirrors it as :attr:`DisplayCalls.extra_auth` (set it before connecting) and refuses
all four requests before the wire without it (:class:`~aiotws.errors.ExtraAuthRequired`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from eventkit import Event

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import ExtraAuthRequired, RequestError, RequestTimeout
from aiotws.model.contract import Contract
from aiotws.model.display import (
    DISPLAY_GROUP_IDS,
    DisplayGroupSelection,
    VerifyChallenge,
    VerifyOutcome,
    contract_info_of,
)
from aiotws.model.order import SoftDollarTier
from aiotws.requests import LiveHook, Pending, Registry, Single, Stream
from aiotws.wire.messages import display as D
from aiotws.wire.messages.accounts import ReqSoftDollarTiers, SoftDollarTiers

if TYPE_CHECKING:
    from aiotws.wire.layout import InMessage, OutMessage

__all__ = ["DisplayCalls", "DisplayGroup"]

log = logging.getLogger("aiotws.display")


class DisplayGroup:
    """A live TWS display group (SUBSCRIBE_TO_GROUP_EVENTS), updated in place.

    ``contract_info`` is TWS's text (``"265598@SMART"``, ``"none"``, ``"combo"``),
    :attr:`selection` its parsed form, :attr:`con_id` / :attr:`exchange` shortcuts.
    ``updated(group)`` fires on every DISPLAY_GROUP_UPDATED (the first comes right after
    subscribing); ``async for sel in group.updates()`` yields each new selection until the
    group is cancelled or its subscription ends. ib_async: ``subscribeToGroupEvents`` and
    the ``displayGroupUpdated`` callback.
    """

    def __init__(self, client: DisplayCalls, group_id: int, maxlen: int = 1000) -> None:
        self._client = client
        self.group_id = group_id
        self.req_id = 0
        self.contract_info = ""
        self.selection = DisplayGroupSelection("")
        #: ``updated(group)`` after each change TWS reports
        self.updated: Event = Event("display_group.updated")
        #: every selection TWS reported, oldest first (bounded)
        self.history: list[DisplayGroupSelection] = []
        self._stream: Stream[DisplayGroupSelection] = Stream(f"display group {group_id}", maxlen)
        #: set on TWS's first report (or when the group ends first)
        self._first = asyncio.Event()
        self._reported = False
        self._waiters: list[tuple[str, asyncio.Future[None]]] = []

    # -- state ---------------------------------------------------------------------------

    @property
    def con_id(self) -> int | None:
        """The selected contract's id (``None``: nothing, or a combo)."""
        return self.selection.con_id

    @property
    def exchange(self) -> str:
        return self.selection.exchange

    @property
    def done(self) -> bool:
        """True once cancelled or ended (by a lost connection without ``keep_live``)."""
        return self._stream.done

    @property
    def stale(self) -> bool:
        """True while suspended by a lost connection, until TWS reports it again."""
        return self._stream.stale

    @property
    def error(self) -> BaseException | None:
        return self._stream.error

    def contract(self) -> Contract | None:
        """The selected contract as ``Contract(con_id, exchange)`` (qualify it for more)."""
        return self.selection.contract()

    # -- consumer side -------------------------------------------------------------------

    def updates(self) -> AsyncIterator[DisplayGroupSelection]:
        """Each new selection as TWS reports it; ends with the subscription."""
        return self._stream

    def __aiter__(self) -> AsyncIterator[DisplayGroupSelection]:
        return self._stream

    async def wait_ready(self, *, timeout: float | None = 10.0) -> DisplayGroup:
        """Wait for TWS's first report of the group's selection; raises the group's error
        if it ended before one (``RuntimeError`` if it was cancelled)."""
        async with asyncio.timeout(timeout):
            await self._first.wait()
        if not self._reported:
            raise self.error or RuntimeError(f"display group {self.group_id} was cancelled")
        return self

    async def update(
        self, contract: Contract | str | None, *, timeout: float | None = 10.0
    ) -> DisplayGroup:
        """Show ``contract`` in this group's TWS windows (UPDATE_DISPLAY_GROUP) and wait
        until TWS reports the change back. ``contract``: a qualified contract (its
        ``con_id``; exchange ``SMART`` when empty), TWS's ``contractInfo`` text, or ``None``
        to clear the selection. ib_async: ``updateDisplayGroup``.

        Raises ``ValueError`` for a contract without ``con_id``, ``NotConnected``,
        :class:`~aiotws.errors.RequestError` when TWS refuses the update (the group stays
        subscribed) and :class:`~aiotws.errors.RequestTimeout` when TWS did not report the
        change in time.
        """
        if self.done:
            raise RuntimeError(f"display group {self.group_id} is cancelled")
        info = contract_info_of(contract)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (info.strip().lower(), fut)
        self._client.send(D.UpdateDisplayGroup(self.req_id, info))
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await fut
        except TimeoutError:
            raise RequestTimeout(f"display group {self.group_id} update", timeout or 0) from None
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)
        return self

    def cancel(self) -> None:
        """Stop following the group (UNSUBSCRIBE_FROM_GROUP_EVENTS); ends the iterator."""
        self._client.cancel_display_group(self)

    # -- producer side -------------------------------------------------------------------

    def _on_update(self, info: str) -> None:
        self.contract_info = info
        self.selection = DisplayGroupSelection.parse(info)
        self.history.append(self.selection)
        del self.history[:-1000]
        self._stream.stale = False
        key = info.strip().lower()
        for want, fut in list(self._waiters):
            if want == key and not fut.done():
                fut.set_result(None)
        self._reported = True
        self._first.set()
        self._stream._push(self.selection)
        self.updated.emit(self)

    def _fail_updates(self, exc: BaseException) -> bool:
        """Fail the awaited updates with ``exc``; ``False`` if none was awaited."""
        waiting = [fut for _, fut in self._waiters if not fut.done()]
        for fut in waiting:
            fut.set_exception(exc)
        return bool(waiting)

    def _end(self, exc: BaseException | None) -> None:
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(exc or RuntimeError("display group cancelled"))
        self._waiters.clear()
        self._stream._end(exc)
        self._first.set()

    def __repr__(self) -> str:
        state = "done" if self.done else ("stale" if self.stale else "live")
        return f"<DisplayGroup {self.group_id} {self.contract_info or '?'} {state}>"


class _GroupPending(Pending):
    """The correlator's view of a display group subscription (no End message).

    An UPDATE_DISPLAY_GROUP travels under the subscription's request id, so TWS's error for
    a refused update carries it too: while updates are awaited, an error fails those (they
    get the :class:`~aiotws.errors.RequestError`) and the subscription goes on."""

    __slots__ = ("group", "registry")

    def __init__(self, group: DisplayGroup, registry: Registry) -> None:
        super().__init__(group.req_id, (D.DisplayGroupUpdated,), f"display group {group.group_id}")
        self.group = group
        self.registry = registry

    def feed(self, msg: InMessage) -> bool:
        assert isinstance(msg, D.DisplayGroupUpdated)
        self.group._on_update(msg.contract_info)
        return False

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, RequestError) and self.group._fail_updates(exc):
            self.done = False
            self.registry.add(self)  # the error was the update's: stay subscribed
            return
        self.group._end(exc)

    def cancelled_by_tws(self, err: RequestError) -> None:
        self.group._end(None)


class DisplayCalls(CoreBase):
    """Display groups, soft dollar tiers and API vendor verification."""

    #: the official client's ``extraAuth``: set before connecting to allow the verify
    #: requests (nothing of it goes on the wire)
    extra_auth: bool
    _suspended_groups: list[DisplayGroup]

    def _init_display(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
        self.extra_auth = False
        self._suspended_groups = []
        self._live_hooks.append(
            LiveHook(self._suspend_groups, self._resume_groups, self._end_suspended_groups)
        )

    # -- display groups ------------------------------------------------------------------

    async def display_groups(self, *, timeout: Timeout = ...) -> list[int]:
        """QUERY_DISPLAY_GROUPS: the ids of TWS's display groups, most used first.
        ib_async: ``queryDisplayGroups``."""
        req_id = self.next_id()
        m = await self.request(
            D.QueryDisplayGroups(req_id), D.DisplayGroupList, key=req_id, timeout=timeout
        )
        return m.group_ids()

    def display_group(self, group_id: int) -> DisplayGroup:
        """Follow display group ``group_id`` (1..7): a live :class:`DisplayGroup`; TWS
        reports its current selection at once. ib_async: ``subscribeToGroupEvents``.

        Raises ``ValueError`` for an id outside 1..7 and ``NotConnected``, before the wire.
        """
        if isinstance(group_id, bool) or group_id not in DISPLAY_GROUP_IDS:
            raise ValueError(f"display group ids are 1..7 (TWS's colour groups), not {group_id!r}")
        group = DisplayGroup(self, group_id)
        self._subscribe_group(group)
        return group

    def _subscribe_group(self, group: DisplayGroup) -> None:
        group.req_id = self.next_id()
        self._start(
            D.SubscribeToGroupEvents(group.req_id, group.group_id),
            _GroupPending(group, self._registry),
        )

    def cancel_display_group(self, group: DisplayGroup) -> None:
        """Stop following ``group`` (UNSUBSCRIBE_FROM_GROUP_EVENTS, no reply) and end it.
        ib_async: ``unsubscribeFromGroupEvents``."""
        if group.done:
            return
        if group in self._suspended_groups:
            self._suspended_groups.remove(group)
        p = self._registry.get(group.req_id)
        if isinstance(p, _GroupPending) and p.group is group:
            self._registry.discard(p)
            if self.is_connected():
                self.send(D.UnsubscribeFromGroupEvents(group.req_id))
        group._end(None)

    def _live_groups(self) -> list[_GroupPending]:
        return [p for p in self._registry.keyed() if isinstance(p, _GroupPending)]

    def _suspend_groups(self) -> int:
        live = self._live_groups()
        for p in live:
            self._registry.discard(p)
            p.group._stream.stale = True
            self._suspended_groups.append(p.group)
        return len(live)

    def _resume_groups(self, cancel_old: bool) -> int:
        todo, self._suspended_groups = self._suspended_groups, []
        if cancel_old:
            for p in self._live_groups():
                self._registry.discard(p)
                self.send(D.UnsubscribeFromGroupEvents(p.group.req_id))
                p.group._stream.stale = True
                todo.append(p.group)
        n = 0
        for group in todo:
            if group.done:
                continue
            try:
                self._subscribe_group(group)
            except Exception as e:  # cannot be sent: the group ends with it
                group._end(e)
                continue
            n += 1
        return n

    def _end_suspended_groups(self, exc: BaseException) -> int:
        todo, self._suspended_groups = self._suspended_groups, []
        for group in todo:
            group._end(exc)
        return len(todo)

    # -- soft dollar tiers ---------------------------------------------------------------

    async def soft_dollar_tiers(self, *, timeout: Timeout = ...) -> list[SoftDollarTier]:
        """REQ_SOFT_DOLLAR_TIERS: the soft dollar tiers of this login (empty for most:
        only registered advisors and funds configure them). ib_async: ``reqSoftDollarTiers``."""
        req_id = self.next_id()
        m = await self.request(
            ReqSoftDollarTiers(req_id), SoftDollarTiers, key=req_id, timeout=timeout
        )
        return list(m.tiers)

    # -- vendor verification -------------------------------------------------------------

    def _require_extra_auth(self, what: str) -> None:
        if not self.extra_auth:
            raise ExtraAuthRequired(what)

    async def _verify(
        self, msg: OutMessage, accepts: tuple[type[InMessage], ...], timeout: Timeout
    ) -> Any:
        p = Single(None, accepts, type(msg).__name__)
        self._start(msg, p)
        return await self._settle(p, p.future, timeout, None)

    @staticmethod
    def _verify_answer(m: Any) -> VerifyChallenge | VerifyOutcome:
        if isinstance(m, D.VerifyMessageApi):
            return VerifyChallenge(m.api_data)
        if isinstance(m, D.VerifyAndAuthMessageApi):
            return VerifyChallenge(m.api_data, m.xyz_challenge)
        return VerifyOutcome(m.is_successful, m.error_text)

    async def verify_request(
        self, api_name: str, api_version: str, *, timeout: Timeout = ...
    ) -> VerifyChallenge | VerifyOutcome:
        """VERIFY_REQUEST: start a vendor verification; TWS answers with a challenge
        (VERIFY_MESSAGE_API, answer it with :meth:`verify_message`) or at once with the
        outcome (VERIFY_COMPLETED). Needs :attr:`extra_auth` (else
        :class:`~aiotws.errors.ExtraAuthRequired`, nothing sent). ibapi: ``verifyRequest``."""
        self._require_extra_auth("verify_request")
        m = await self._verify(
            D.VerifyRequest(api_name, api_version),
            (D.VerifyMessageApi, D.VerifyCompleted),
            timeout,
        )
        return self._verify_answer(m)

    async def verify_message(self, api_data: str, *, timeout: Timeout = ...) -> VerifyOutcome:
        """VERIFY_MESSAGE: answer TWS's challenge; returns VERIFY_COMPLETED's outcome.
        Needs :attr:`extra_auth`. ibapi: ``verifyMessage``."""
        self._require_extra_auth("verify_message")
        m = await self._verify(D.VerifyMessage(api_data), (D.VerifyCompleted,), timeout)
        return VerifyOutcome(m.is_successful, m.error_text)

    async def verify_and_auth_request(
        self, api_name: str, api_version: str, opaque_isv_key: str, *, timeout: Timeout = ...
    ) -> VerifyChallenge | VerifyOutcome:
        """VERIFY_AND_AUTH_REQUEST: as :meth:`verify_request`, with an ISV key; the
        challenge carries ``xyz_challenge``. Needs :attr:`extra_auth`. ibapi:
        ``verifyAndAuthRequest``."""
        self._require_extra_auth("verify_and_auth_request")
        m = await self._verify(
            D.VerifyAndAuthRequest(api_name, api_version, opaque_isv_key),
            (D.VerifyAndAuthMessageApi, D.VerifyAndAuthCompleted),
            timeout,
        )
        return self._verify_answer(m)

    async def verify_and_auth_message(
        self, api_data: str, xyz_response: str, *, timeout: Timeout = ...
    ) -> VerifyOutcome:
        """VERIFY_AND_AUTH_MESSAGE: answer the challenge; returns
        VERIFY_AND_AUTH_COMPLETED's outcome. Needs :attr:`extra_auth`. ibapi:
        ``verifyAndAuthMessage``."""
        self._require_extra_auth("verify_and_auth_message")
        m = await self._verify(
            D.VerifyAndAuthMessage(api_data, xyz_response), (D.VerifyAndAuthCompleted,), timeout
        )
        return VerifyOutcome(m.is_successful, m.error_text)
