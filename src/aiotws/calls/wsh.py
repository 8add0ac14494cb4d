"""Wall Street Horizon: corporate-event meta data and event data.

TWS's rules, and what the client does about them:

* REQ_WSH_META_DATA must have been sent on the connection before REQ_WSH_EVENT_DATA (else
  error 10282 "WSH metadata not requested"). :meth:`WshCalls.wsh_event_data` fetches the
  meta data itself when this connection has not yet had it (and once more, then retries,
  if TWS still answers 10282); the flag resets with every new connection.
* One request of each kind may be pending per client (10278 / 10281 "Duplicate …"): the
  client serialises its WSH requests (one lock per kind) and releases each at TWS
  (CANCEL_WSH_META_DATA / CANCEL_WSH_EVENT_DATA, no reply) as soon as it is answered, as
  ib_async does for event data.
* Without the WSH research subscription TWS answers 10276 / 10277; those end the request
  with a :class:`~aiotws.errors.RequestError`.

Both answers are JSON text; :mod:`aiotws.model.wsh` parses them and keeps the text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import RequestError
from aiotws.model.wsh import WshEventData, WshEvents, WshMeta, parse_events, parse_meta, wsh_date
from aiotws.wire.messages import wsh as W

__all__ = ["WshCalls"]

log = logging.getLogger("aiotws.wsh")

#: TWS's "WSH metadata not requested"
_META_FIRST = 10282
#: REQ_WSH_EVENT_DATA of one query under a given request id
_Builder = Callable[[int], W.ReqWshEventData]


class WshCalls(CoreBase):
    """Wall Street Horizon: corporate-event meta data and event data."""

    #: True once this connection had a WSH_META_DATA answer (TWS's precondition)
    wsh_meta_requested: bool
    _wsh_meta_lock: asyncio.Lock | None
    _wsh_event_lock: asyncio.Lock | None

    def _init_wsh(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
        self.wsh_meta_requested = False
        self._wsh_meta_lock = None
        self._wsh_event_lock = None
        self.disconnected += self._wsh_reset

    def _wsh_reset(self, *_: object) -> None:
        self.wsh_meta_requested = False

    def _wsh_locks(self) -> tuple[asyncio.Lock, asyncio.Lock]:
        # made lazily: a lock binds to the running loop on first use
        if self._wsh_meta_lock is None or self._wsh_event_lock is None:
            self._wsh_meta_lock, self._wsh_event_lock = asyncio.Lock(), asyncio.Lock()
        return self._wsh_meta_lock, self._wsh_event_lock

    async def wsh_meta_data_json(self, *, timeout: Timeout = ...) -> str:
        """REQ_WSH_META_DATA: the meta data's JSON text (server 161+).

        Raises :class:`~aiotws.errors.RequestError` (10276/10277 no WSH subscription,
        10278 duplicate, 10279 failed) and :class:`~aiotws.errors.UnsupportedByServer`
        below 161, before anything is sent.
        """
        meta_lock, _ = self._wsh_locks()
        async with meta_lock:
            req_id = self.next_id()
            msg = await self.request(
                W.ReqWshMetaData(req_id),
                W.WshMetaData,
                key=req_id,
                timeout=timeout,
                cancel=lambda: W.CancelWshMetaData(req_id),
            )
            self.wsh_meta_requested = True
            if self.is_connected():
                self.send(W.CancelWshMetaData(req_id))  # frees TWS's one pending slot
            return msg.data_json

    async def wsh_meta_data(self, *, timeout: Timeout = ...) -> WshMeta:
        """The WSH meta data, parsed: event types (their ``tag`` is the filter key) and
        filters; ``.json`` keeps the text. ``ValueError`` if TWS sent something not JSON."""
        return parse_meta(await self.wsh_meta_data_json(timeout=timeout))

    async def wsh_event_data_json(self, query: WshEventData, *, timeout: Timeout = ...) -> str:
        """REQ_WSH_EVENT_DATA for ``query``: the events' JSON text.

        Fetches the meta data first if this connection has not had it (TWS's rule). Raises
        :class:`~aiotws.errors.InvalidField` for an invalid query (``con_id`` and
        ``filter`` together, neither, a bad date …) and
        :class:`~aiotws.errors.UnsupportedByServer` for filters below 171 or dates below
        173, both before anything is sent; :class:`~aiotws.errors.RequestError` for TWS's
        refusals (10281 duplicate, 10283 failed, 10276/10277 no subscription).
        """
        query.validate()
        msg_of = _request_builder(query)
        msg_of(0).LAYOUT.check_gates(msg_of(0), self.server_version)
        if not self.wsh_meta_requested:
            await self.wsh_meta_data_json(timeout=timeout)
        try:
            return await self._wsh_events_once(msg_of, timeout)
        except RequestError as e:
            if e.code != _META_FIRST:
                raise
            log.info("TWS wants the WSH meta data again (10282): fetching it and retrying")
            self.wsh_meta_requested = False
            await self.wsh_meta_data_json(timeout=timeout)
            return await self._wsh_events_once(msg_of, timeout)

    async def _wsh_events_once(self, msg_of: _Builder, timeout: Timeout) -> str:
        _, event_lock = self._wsh_locks()
        async with event_lock:
            req_id = self.next_id()
            msg = await self.request(
                msg_of(req_id),
                W.WshEventData,
                key=req_id,
                timeout=timeout,
                cancel=lambda: W.CancelWshEventData(req_id),
            )
            if self.is_connected():
                self.send(W.CancelWshEventData(req_id))
            return msg.data_json

    async def wsh_event_data(self, query: WshEventData, *, timeout: Timeout = ...) -> WshEvents:
        """The WSH events for ``query``, parsed (a list of
        :class:`~aiotws.model.wsh.WshEvent`, each with its ``raw`` dict; ``.json`` keeps the
        text). Errors as :meth:`wsh_event_data_json`."""
        return parse_events(await self.wsh_event_data_json(query, timeout=timeout))


def _request_builder(q: WshEventData) -> _Builder:
    """REQ_WSH_EVENT_DATA for ``q`` under any request id (for the retry after 10282)."""
    flt = q.filter_json()
    start, end = wsh_date(q.start_date), wsh_date(q.end_date)

    def build(req_id: int) -> W.ReqWshEventData:
        return W.ReqWshEventData(
            req_id,
            q.con_id,
            flt,
            q.fill_watchlist,
            q.fill_portfolio,
            q.fill_competitors,
            start,
            end,
            q.total_limit,
        )

    return build
