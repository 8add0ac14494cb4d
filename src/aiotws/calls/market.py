"""Top-of-book market data: REQ_MKT_DATA subscriptions and snapshots feeding :class:`Ticker`.

Tick messages take the client's hot path (:meth:`Client.consume`): each is applied to its
ticker straight away, without request routing, and every ticker touched by one network read
fires ``updated`` once at the end of that read (``batch_done``). Errors for a subscription
reach its ticker through the correlator: a warning (10167 delayed data, 10090 …) is recorded
on ``ticker.errors`` and the subscription goes on; an error (354, 200 …) ends it.

With ``Client.keep_live`` a lost connection suspends the subscriptions (the tickers stay in
:meth:`~MarketDataCalls.tickers`, ``stale``); ``Client.resume_live`` subscribes each again
under a fresh request id, with its generic ticks and the market data type it was made under
(REQ_MARKET_DATA_TYPE is sent again where the new connection's differs). Snapshots in flight
fail with ``ConnectionLost``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from math import isnan
from typing import TYPE_CHECKING, Any, Final, TypeVar

from aiotws.calls.base import CoreBase
from aiotws.errors import RequestError
from aiotws.model.contract import Contract
from aiotws.requests import LiveHook, Pending
from aiotws.ticker import OptionComputation, Ticker
from aiotws.wire.fields import (
    DECIMAL_CACHE,
    FLOAT_CACHE,
    UNSET_DECIMAL_FORMS,
    cached_decimal,
    cached_float,
)
from aiotws.wire.messages.market import (
    CancelMktData,
    MarketDataType,
    ReqMarketDataType,
    ReqMktData,
    RerouteMktDataReq,
    TickEfp,
    TickGeneric,
    TickOptionComputation,
    TickPrice,
    TickReqParams,
    TickSize,
    TickSnapshotEnd,
    TickString,
)

if TYPE_CHECKING:
    from aiotws.wire.layout import InMessage

    M = TypeVar("M", bound=InMessage)

__all__ = ["MarketDataCalls", "generic_tick_list"]

log = logging.getLogger("aiotws.market")
#: live bid/ask/last: their price and size attributes (the raw path sets them inline)
NAN: Final = math.nan
_UNSET = UNSET_DECIMAL_FORMS
_SIZES = DECIMAL_CACHE
_PRICES = FLOAT_CACHE


def generic_tick_list(ticks: str | Iterable[int]) -> str:
    """``"233,236"`` from ``[233, 236]`` (a string passes through)."""
    if isinstance(ticks, str):
        return ticks.replace(" ", "")
    return ",".join(str(int(t)) for t in ticks)


class _TickerPending(Pending):
    """The correlator's view of a subscription: only errors and warnings route here."""

    __slots__ = ("data_type", "owner", "request", "ticker")

    def __init__(
        self, owner: MarketDataCalls, ticker: Ticker, request: ReqMktData, data_type: int
    ) -> None:
        super().__init__(ticker.req_id, (), f"market data {ticker.contract.symbol}")
        self.owner = owner
        self.ticker = ticker
        self.request = request  # re-sent, for another contract, on a reroute
        #: the market data type (REQ_MARKET_DATA_TYPE) in force when it was subscribed
        self.data_type = data_type

    def feed(self, msg: Any) -> bool:  # pragma: no cover - accepts no message types
        return False

    def fail(self, exc: BaseException) -> None:
        if isinstance(exc, RequestError):
            self.ticker.on_error(exc)
        self.owner._drop_ticker(self.ticker)
        self.ticker._fail(exc)

    def warn(self, warning: RequestError) -> None:
        super().warn(warning)
        self.ticker.on_error(warning)


class MarketDataCalls(CoreBase):
    """REQ_MKT_DATA, CANCEL_MKT_DATA, REQ_MARKET_DATA_TYPE and the tick messages."""

    _tickers: dict[int, Ticker]
    _tickers_by_text: dict[str, Ticker]
    _dirty_tickers: list[Ticker]
    _batch_now: datetime | None
    _suspended_tickers: dict[Ticker, _TickerPending]
    _mdt_wanted: int
    _mdt_wire: int

    def _init_market_data(self) -> None:
        self._tickers = {}
        self._tickers_by_text = {}  # the raw path's view of _tickers; cleared on any drop
        self._dirty_tickers = []
        self._batch_now = None
        #: subscriptions kept across a lost connection (keep_live), by ticker
        self._suspended_tickers = {}
        #: the market data type last asked for, and the one the connection has
        self._mdt_wanted = self._mdt_wire = 1
        self._live_hooks.append(
            LiveHook(self._suspend_tickers, self._resume_tickers, self._end_suspended_tickers)
        )
        # hand-tuned: TICK_PRICE and TICK_SIZE are most of every feed (V=6 at 157..200)
        self._raw["1"] = self._raw_tick_price
        self._raw["2"] = self._raw_tick_size
        self.consume(TickPrice, self._on_tick_price)
        self.consume(TickSize, self._on_tick_size)
        self.consume(TickString, self._on_tick_string)
        self.consume(TickGeneric, self._on_tick_generic)
        self.consume(TickOptionComputation, self._on_tick_option)
        self.consume(TickEfp, self._on_tick_efp)
        self.consume(TickReqParams, self._on_tick_req_params)
        self.consume(TickSnapshotEnd, self._on_snapshot_end)
        self.consume(MarketDataType, self._on_market_data_type)
        self.consume(RerouteMktDataReq, self._on_reroute)
        self.batch_done += self._end_ticker_batch
        self.disconnected += self._on_market_disconnect
        self.connected += self._on_market_connect

    # -- requests ------------------------------------------------------------------------

    def req_mkt_data(
        self,
        contract: Contract,
        generic_ticks: str | Iterable[int] = "",
        snapshot: bool = False,
        regulatory_snapshot: bool = False,
    ) -> Ticker:
        """Subscribe (or snapshot) ``contract``; returns the :class:`Ticker` it updates.

        Must be called with the event loop running (it is, in any coroutine or callback).
        """
        ticks = generic_tick_list(generic_ticks)
        if (snapshot or regulatory_snapshot) and ticks:
            raise ValueError("TWS refuses generic ticks on snapshots (error 321)")
        req_id = self.next_id()
        ticker = Ticker(contract, req_id, snapshot or regulatory_snapshot)
        if ticker.snapshot:
            ticker._snapshot_done = asyncio.get_running_loop().create_future()
        self._subscribe(ticker, ReqMktData(req_id, contract, ticks, snapshot, regulatory_snapshot))
        return ticker

    def _subscribe(self, ticker: Ticker, request: ReqMktData, data_type: int | None = None) -> None:
        pending = _TickerPending(
            self, ticker, request, self._mdt_wanted if data_type is None else data_type
        )
        self._registry.add(pending)
        self._tickers[request.req_id] = ticker
        try:
            self.send(request)
        except BaseException:
            self._registry.discard(pending)
            del self._tickers[request.req_id]
            raise

    def cancel_mkt_data(self, ticker: Ticker) -> None:
        """End ``ticker``'s subscription at TWS (no reply comes; it ends here at once)."""
        if self._tickers.get(ticker.req_id) is not ticker:
            return
        active = self._registry.get(ticker.req_id) is not None  # else suspended: no request
        self._suspended_tickers.pop(ticker, None)
        self._drop_ticker(ticker)
        if active and self.is_connected():
            self.send(CancelMktData(ticker.req_id))
        ticker._close()

    def req_market_data_type(self, market_data_type: int) -> None:
        """1 live, 2 frozen, 3 delayed, 4 delayed-frozen: for the following subscriptions."""
        if market_data_type not in (1, 2, 3, 4):
            raise ValueError("market data type must be 1 (live), 2, 3 or 4")
        self.send(ReqMarketDataType(market_data_type))
        self._mdt_wanted = self._mdt_wire = market_data_type

    def tickers(self) -> list[Ticker]:
        """The live subscriptions."""
        return [t for t in self._tickers.values() if not t.snapshot]

    # -- internals -----------------------------------------------------------------------

    def _drop_ticker(self, ticker: Ticker) -> None:
        if self._tickers.get(ticker.req_id) is ticker:
            del self._tickers[ticker.req_id]
            self._tickers_by_text.clear()
        p = self._registry.get(ticker.req_id)
        if p is not None:
            self._registry.discard(p)

    def _begin(self, t: Ticker) -> None:
        """Start ``t``'s update for this network read (once per ticker and read)."""
        t._touch(self._batch_now or self._now())
        self._dirty_tickers.append(t)

    def _ticker(self, req_id: int) -> Ticker | None:
        """The ticker of ``req_id``, its update of this network read begun."""
        t = self._tickers.get(req_id)
        if t is not None and not t._dirty:
            self._begin(t)
        return t

    def _now(self) -> datetime:
        now = self._batch_now
        if now is None:
            now = self._batch_now = datetime.now(UTC)
        return now

    def _ticker_by_text(self, req_id: str) -> Ticker | None:
        """The ticker of a request id as TWS wrote it (the raw path's cache, filled here)."""
        t = self._tickers.get(int(req_id))
        if t is not None:
            self._tickers_by_text[req_id] = t
        return t

    def _raw_tick_price(self, f: list[str]) -> bool:
        """TICK_PRICE straight from its fields: ``1, 6, reqId, tickType, price, size, mask``.

        The same reading as the ``TickPrice`` layout (a test runs both on the same frames);
        anything unexpected returns ``False`` or raises, and the layout path takes over.
        Bid, ask and last are applied here, as ``Ticker.on_price`` would: they are most of
        every feed, and each call and ``int()`` saved is a tenth of the per-tick cost.
        """
        if len(f) != 8:
            return False
        t = self._tickers_by_text.get(f[2]) or self._ticker_by_text(f[2])
        if t is None:
            return False
        price = f[4]
        value = _PRICES.get(price)
        if value is None:
            value = cached_float(price)
        size = f[5]
        dec = None if size in _UNSET else (_SIZES.get(size) or cached_decimal(size))
        if not t._dirty:
            self._begin(t)
        tick_type = f[3]
        if tick_type == "1":
            if value == -1:
                value = NAN  # no bid: its size (0) is no size either
            t.bid = value
            if dec is not None:
                t.bid_size = None if isnan(value) else dec
            t._ticks.append((1, value, dec))
        elif tick_type == "2":
            if value == -1:
                value = NAN
            t.ask = value
            if dec is not None:
                t.ask_size = None if isnan(value) else dec
            t._ticks.append((2, value, dec))
        elif tick_type == "4":
            t.last = value
            if dec is not None:
                t.last_size = None if isnan(value) else dec
            t._ticks.append((4, value, dec))
        else:
            mask = f[6]
            t.on_price(int(tick_type), value, dec, int(mask) if mask else 0)
        return True

    def _raw_tick_size(self, f: list[str]) -> bool:
        """TICK_SIZE straight from its fields: ``2, 6, reqId, tickType, size``."""
        if len(f) != 6:
            return False
        t = self._tickers_by_text.get(f[2]) or self._ticker_by_text(f[2])
        if t is None:
            return False
        size = f[4]
        dec = None if size in _UNSET else (_SIZES.get(size) or cached_decimal(size))
        if not t._dirty:
            self._begin(t)
        tick_type = f[3]
        if tick_type == "0":
            t.bid_size = dec
            t._ticks.append((0, NAN, dec))
        elif tick_type == "3":
            t.ask_size = dec
            t._ticks.append((3, NAN, dec))
        elif tick_type == "5":
            t.last_size = dec
            t._ticks.append((5, NAN, dec))
        else:
            t.on_size(int(tick_type), dec)
        return True

    def _on_tick_price(self, m: TickPrice) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            t.on_price(m.tick_type, m.price, m.size, m.attr_mask)

    def _on_tick_size(self, m: TickSize) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            t.on_size(m.tick_type, m.size)

    def _on_tick_string(self, m: TickString) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            t.on_string(m.tick_type, m.value)

    def _on_tick_generic(self, m: TickGeneric) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            t.on_generic(m.tick_type, m.value)

    def _on_tick_option(self, m: TickOptionComputation) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            comp = OptionComputation.from_tws(
                m.tick_attrib,
                m.implied_vol,
                m.delta,
                m.opt_price,
                m.pv_dividend,
                m.gamma,
                m.vega,
                m.theta,
                m.und_price,
            )
            t.on_option(m.tick_type, comp)
        else:  # not a ticker: an option calculation's answer (aiotws.calls.optioncalc)
            self._registry.route(m)

    def _on_tick_efp(self, m: TickEfp) -> None:
        t = self._ticker(m.req_id)
        if t is not None:
            t.other[m.tick_type] = m

    def _on_tick_req_params(self, m: TickReqParams) -> None:
        t = self._tickers.get(m.req_id)
        if t is not None:
            t.min_tick = m.min_tick
            t.bbo_exchange = m.bbo_exchange
            t.snapshot_permissions = m.snapshot_permissions

    def _on_market_data_type(self, m: MarketDataType) -> None:
        t = self._tickers.get(m.req_id)
        if t is not None:
            t.market_data_type = m.market_data_type

    def _on_reroute(self, m: RerouteMktDataReq) -> None:
        """TWS has no data for the contract itself (a CFD) and names the one to ask for
        instead: the same ticker is subscribed to that under a new request id."""
        t = self._tickers.get(m.req_id)
        p = self._registry.get(m.req_id)
        if t is None or not isinstance(p, _TickerPending):
            log.info("market data %d rerouted to con_id %d: no such ticker", m.req_id, m.con_id)
            return
        self._drop_ticker(t)
        target = Contract(con_id=m.con_id, exchange=m.exchange)
        t.req_id = self.next_id()
        t.rerouted_to = target
        log.info(
            "market data of %s rerouted by TWS to con_id %d on %s (request %d is now %d)",
            t.contract.symbol or t.contract.local_symbol,
            m.con_id,
            m.exchange,
            m.req_id,
            t.req_id,
        )
        old = p.request
        self._subscribe(
            t,
            ReqMktData(
                t.req_id, target, old.generic_tick_list, old.snapshot, old.regulatory_snapshot
            ),
            p.data_type,
        )

    def _on_snapshot_end(self, m: TickSnapshotEnd) -> None:
        t = self._tickers.get(m.req_id)
        if t is None:
            return
        self._drop_ticker(t)
        if t._dirty:
            t._batch_end()
            if t in self._dirty_tickers:
                self._dirty_tickers.remove(t)
        t._end_snapshot()

    def _end_ticker_batch(self) -> None:
        self._batch_now = None
        dirty = self._dirty_tickers
        if dirty:
            for t in dirty:
                t._batch_end()
            dirty.clear()

    def _on_market_disconnect(self, exc: BaseException | None) -> None:
        self._dirty_tickers.clear()

    def _on_market_connect(self) -> None:
        self._mdt_wire = 1  # every connection starts with live data

    # -- kept across connections (Client.keep_live / resume_live) ---------------------------

    def _suspend_tickers(self) -> int:
        """The connection is gone: keep the live subscriptions (not the snapshots)."""
        n = 0
        for t in self._tickers.values():
            p = self._registry.get(t.req_id)
            if not t.snapshot and isinstance(p, _TickerPending) and p.ticker is t:
                self._registry.discard(p)
                self._suspended_tickers[t] = p
                t.stale = True
                n += 1
        return n

    def _resume_tickers(self, cancel_old: bool) -> int:
        todo, self._suspended_tickers = self._suspended_tickers, {}
        if cancel_old:
            for t in list(self._tickers.values()):
                p = self._registry.get(t.req_id)
                if not t.snapshot and isinstance(p, _TickerPending) and p.ticker is t:
                    self._registry.discard(p)
                    self.send(CancelMktData(t.req_id))
                    t.stale = True
                    todo[t] = p
        n = 0
        for t, p in todo.items():
            if self._tickers.get(t.req_id) is not t:
                continue  # cancelled meanwhile
            del self._tickers[t.req_id]
            self._tickers_by_text.clear()
            t.req_id = self.next_id()
            try:
                if p.data_type != self._mdt_wire:
                    self.send(ReqMarketDataType(p.data_type))
                    self._mdt_wire = p.data_type
                self._subscribe(t, dataclasses.replace(p.request, req_id=t.req_id), p.data_type)
            except Exception as e:  # the request cannot be sent: the ticker ends with it
                log.warning("re-subscribing market data of %s failed: %s", t.contract.symbol, e)
                t._fail(e)
                continue
            n += 1
        if self._mdt_wire != self._mdt_wanted and self.is_connected():
            self.send(ReqMarketDataType(self._mdt_wanted))  # for the next subscriptions
            self._mdt_wire = self._mdt_wanted
        return n

    def _end_suspended_tickers(self, exc: BaseException) -> int:
        todo, self._suspended_tickers = self._suspended_tickers, {}
        n = 0
        for t in todo:
            if self._tickers.get(t.req_id) is t:
                self._drop_ticker(t)
                t._fail(exc)
                n += 1
        return n
