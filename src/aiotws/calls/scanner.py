"""Market scanners: the parameters XML and live scanner subscriptions.

* :meth:`ScannerCalls.req_scanner_parameters`: REQ_SCANNER_PARAMETERS → the XML, parsed into
  :class:`~aiotws.model.scanner.ScannerParameters`.
* :meth:`ScannerCalls.req_scanner_subscription`: REQ_SCANNER_SUBSCRIPTION → a live
  :class:`~aiotws.scanner.ScanResults`, replaced as a whole by every SCANNER_DATA, until
  :meth:`ScannerCalls.cancel_scanner_subscription` (CANCEL_SCANNER_SUBSCRIPTION).
* :meth:`ScannerCalls.scan`: subscribe, the first result set, cancel.

The subscription is checked before anything is sent
(:class:`~aiotws.errors.InvalidScannerSubscription`: more than 50 rows, no scan code …; a
bad filter tag raises it too). TWS's errors for the request id end the subscription with a
:class:`~aiotws.errors.RequestError` (162 from the scanner service, 321 validation, 385 a
duplicate id …); 162 "API scanner subscription cancelled" (TWS's acknowledgement of a cancel,
or TWS ending it) ends it without an error; 165 "no items retrieved" is an empty result set.

With ``Client.keep_live`` a lost connection suspends the subscriptions (``stale``);
``Client.resume_live`` subscribes each again under a fresh request id, same object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import InvalidScannerSubscription, RequestError, RequestTimeout
from aiotws.model.contract import TagValue
from aiotws.model.scanner import (
    ScannerParameters,
    ScannerSubscription,
    parse_scanner_parameters,
)
from aiotws.requests import LiveHook, Pending
from aiotws.scanner import ScanResults
from aiotws.wire.messages import scanner as wm

if TYPE_CHECKING:
    from aiotws.client import ErrorInfo
    from aiotws.wire.layout import InMessage

__all__ = ["NO_ITEMS", "FilterOptions", "ScannerCalls"]

log = logging.getLogger("aiotws.scanner")

#: ERR_MSG 165 for a scanner subscription: the scan has no (more) matching rows
NO_ITEMS: Final = 165

#: filter options as tag/value pairs or a mapping (``{"priceAbove": 5}``)
FilterOptions = Iterable[TagValue] | Mapping[str, object] | None


def tag_values(options: FilterOptions, what: str) -> list[TagValue]:
    """``options`` as a list of :class:`TagValue` (a mapping's values via ``str``), each
    checked to fit TWS's ``tag=value;`` form; raises
    :class:`~aiotws.errors.InvalidScannerSubscription`."""
    if options is None:
        return []
    if isinstance(options, Mapping):
        items = [TagValue(str(k), _text(v)) for k, v in options.items()]
    else:
        items = list(options)
    for tv in items:
        if not isinstance(tv, TagValue):
            raise InvalidScannerSubscription(what, f"expected TagValue items, got {tv!r}")
        if not tv.tag or any(c in tv.tag for c in "=;") or ";" in tv.value:
            raise InvalidScannerSubscription(
                what, f"{tv!r} cannot be sent: a tag is non-empty, without '=' or ';'"
            )
    return items


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class _ScanPending(Pending):
    """A scanner subscription as the correlator sees it: every SCANNER_DATA of its id."""

    __slots__ = ("owner", "results")

    def __init__(self, owner: ScannerCalls, results: ScanResults) -> None:
        super().__init__(results.req_id, (wm.ScannerData,), f"scanner {_describe(results)}")
        self.owner = owner
        self.results = results

    def feed(self, msg: InMessage) -> bool:
        if isinstance(msg, wm.ScannerData):
            self.results._on_set(msg.records())
        return False

    def fail(self, exc: BaseException) -> None:
        self.owner._drop_scan(self.results)
        if isinstance(exc, RequestError):
            self.results.errors.append(exc)
        self.results._close(exc)

    def cancelled_by_tws(self, err: RequestError) -> None:
        self.owner._drop_scan(self.results)
        self.results.errors.append(err)
        self.results._close()

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.results.errors.append(warning)


def _describe(r: ScanResults) -> str:
    s = r.subscription
    return f"{s.scan_code} {s.instrument} {s.location_code}"


class ScannerCalls(CoreBase):
    """Market scanners: the parameters XML and live scanner subscriptions."""

    _scans: dict[int, ScanResults]

    def _init_scanner(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
        self._scans = {}
        self._live_hooks.append(LiveHook(self._suspend_scans, self._resume_scans, self._end_scans))
        self.errors += self._on_scanner_error

    # -- parameters ----------------------------------------------------------------------

    async def req_scanner_parameters(self, *, timeout: Timeout = ...) -> ScannerParameters:
        """TWS's scanner parameters, parsed (the raw XML is ``.xml``). Official
        ``reqScannerParameters``; ib_async ``reqScannerParameters`` (which returns the XML)."""
        m = await self.request(wm.ReqScannerParameters(), wm.ScannerParameters, timeout=timeout)
        xml = m.xml
        if len(xml) > 200_000:  # a real TWS document (~2 MB): parse off the event loop
            return await asyncio.to_thread(parse_scanner_parameters, xml)
        return parse_scanner_parameters(xml)

    # -- subscriptions -------------------------------------------------------------------

    def req_scanner_subscription(
        self,
        subscription: ScannerSubscription,
        filter_options: FilterOptions = None,
        options: FilterOptions = None,
    ) -> ScanResults:
        """Subscribe to a scan; the live :class:`~aiotws.scanner.ScanResults` (official
        ``reqScannerSubscription``, ib_async ``reqScannerSubscription``).

        ``filter_options``: generic filters, the codes of
        :meth:`~aiotws.model.scanner.ScannerParameters.filters` (``{"priceAbove": 5}`` or
        ``TagValue`` pairs). ``options``: reserved by TWS. Raises
        :class:`~aiotws.errors.InvalidScannerSubscription` before anything is sent.
        """
        if not isinstance(subscription, ScannerSubscription):
            raise TypeError(f"expected a ScannerSubscription, got {type(subscription).__name__}")
        subscription.check()
        filters = tag_values(filter_options, "filter_options")
        opts = tag_values(options, "options")
        results = ScanResults(subscription, filters, opts, self.next_id())
        self._subscribe_scan(results)
        return results

    def cancel_scanner_subscription(self, results: ScanResults) -> None:
        """End a subscription (CANCEL_SCANNER_SUBSCRIPTION); the results keep their last
        set. Official ``cancelScannerSubscription``."""
        if self._scans.get(results.req_id) is not results:
            return
        active = self._active_scan(results)
        self._drop_scan(results)
        if active and self.is_connected():
            self.send(wm.CancelScannerSubscription(results.req_id))
        results._close()

    async def scan(
        self,
        subscription: ScannerSubscription,
        filter_options: FilterOptions = None,
        options: FilterOptions = None,
        *,
        timeout: Timeout = ...,
    ) -> ScanResults:
        """One scan: subscribe, wait for the first result set, cancel (ib_async
        ``reqScannerData``). Returns the (ended) results; raises the TWS error, or
        :class:`~aiotws.errors.RequestTimeout`. Cancelling the awaiting task cancels the
        subscription."""
        results = self.req_scanner_subscription(subscription, filter_options, options)
        limit = self._timeout(timeout)
        try:
            await results.first(limit)
        except TimeoutError:
            if results.done and results.error is not None:
                raise results.error from None
            raise RequestTimeout(f"scanner {_describe(results)}", limit or 0.0) from None
        finally:
            self.cancel_scanner_subscription(results)
        return results

    def scanner_subscriptions(self) -> list[ScanResults]:
        """The live scanner subscriptions (active or waiting to be re-issued)."""
        return list(self._scans.values())

    # -- internals -----------------------------------------------------------------------

    def _request_of(self, results: ScanResults) -> wm.ReqScannerSubscription:
        return wm.ReqScannerSubscription(
            results.req_id, results.subscription, results.filter_options, results.options
        )

    def _subscribe_scan(self, results: ScanResults) -> None:
        pending = _ScanPending(self, results)
        self._scans[results.req_id] = results
        try:
            self._start(self._request_of(results), pending)
        except BaseException:
            del self._scans[results.req_id]
            raise

    def _active_scan(self, results: ScanResults) -> bool:
        p = self._registry.get(results.req_id)
        return isinstance(p, _ScanPending) and p.results is results

    def _drop_scan(self, results: ScanResults) -> None:
        if self._scans.get(results.req_id) is results:
            del self._scans[results.req_id]
        p = self._registry.get(results.req_id)
        if isinstance(p, _ScanPending) and p.results is results:
            self._registry.discard(p)

    def _on_scanner_error(self, info: ErrorInfo) -> None:
        if info.code != NO_ITEMS:
            return
        results = self._scans.get(info.req_id)
        if results is not None and self._active_scan(results):
            results.errors.append(info.to_exception())
            results._on_set([])  # no (more) matching rows: an empty set, still live

    # -- kept across connections (Client.keep_live / resume_live) ------------------------

    def _suspend_scans(self) -> int:
        n = 0
        for results in self._scans.values():
            p = self._registry.get(results.req_id)
            if isinstance(p, _ScanPending) and p.results is results:
                self._registry.discard(p)
            results.stale = True
            n += 1
        return n

    def _resume_scans(self, cancel_old: bool) -> int:
        n = 0
        for results in list(self._scans.values()):
            if self._active_scan(results):
                if not cancel_old:
                    continue
                p = self._registry.get(results.req_id)
                if p is not None:
                    self._registry.discard(p)
                self.send(wm.CancelScannerSubscription(results.req_id))
            del self._scans[results.req_id]
            results.req_id = self.next_id()
            results.stale = True
            try:
                self._subscribe_scan(results)
            except Exception as e:  # the request cannot be sent: the results end with it
                log.warning("re-subscribing scanner %s failed: %s", _describe(results), e)
                results._close(e)
                continue
            n += 1
        return n

    def _end_scans(self, exc: BaseException) -> int:
        n = 0
        for results in list(self._scans.values()):
            if not self._active_scan(results):
                del self._scans[results.req_id]
                results._close(exc)
                n += 1
        return n
