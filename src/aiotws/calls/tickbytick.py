"""Tick-by-tick data: REQ_TICK_BY_TICK_DATA subscriptions as :class:`~aiotws.requests.Stream`\\ s.

Each TICK_BY_TICK message is turned into its model record (:class:`TickByTickLast`,
:class:`TickByTickAllLast`, :class:`TickByTickBidAsk`, :class:`TickByTickMidPoint`) before
it reaches the stream, so a stream yields records with tz-aware times and never wire
messages. Cancelling the stream (``stream.cancel()``, ``async with``, or cancelling the
task iterating it) sends CANCEL_TICK_BY_TICK_DATA and ends it at once: TWS acknowledges
nothing (PROTOCOL.md pitfall 1).

With ``number_of_ticks`` > 0 TWS first sends that many historical ticks under the same id
(HISTORICAL_TICKS / _BID_ASK / _LAST); the stream yields them first, as the same records
(a historical trade is a ``TickByTickLast``/``TickByTickAllLast``, a quote a
``TickByTickBidAsk``, a midpoint a ``TickByTickMidPoint``), then the live ticks.

With ``Client.keep_live`` a lost connection suspends the streams (``stream.stale``; the
iterator waits); ``Client.resume_live`` subscribes each again under a fresh request id and
without historical ticks (they were delivered the first time), and the same stream goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

from aiotws.calls.base import CoreBase
from aiotws.model.contract import Contract
from aiotws.model.ticks import (
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickLast,
    TickByTickMidPoint,
)
from aiotws.requests import LiveHook, Stream, StreamPending
from aiotws.wire.messages.depth import CancelTickByTickData, ReqTickByTickData, TickByTick
from aiotws.wire.messages.historical import (
    HistoricalTicks,
    HistoricalTicksBidAsk,
    HistoricalTicksLast,
)

if TYPE_CHECKING:
    from aiotws.wire.layout import InMessage

__all__ = ["TICK_BY_TICK_KINDS", "TickByTickCalls", "TickByTickKind", "TickByTickRecord"]

TickByTickKind: TypeAlias = Literal["Last", "AllLast", "BidAsk", "MidPoint"]
#: what a tick-by-tick stream yields
TickByTickRecord: TypeAlias = (
    TickByTickLast | TickByTickAllLast | TickByTickBidAsk | TickByTickMidPoint
)
TICK_BY_TICK_KINDS: Final[tuple[str, ...]] = get_args(TickByTickKind)
_HISTORICAL: Final = (HistoricalTicks, HistoricalTicksBidAsk, HistoricalTicksLast)


class _TickByTickPending(StreamPending):
    """Feeds a stream with the model record of each TICK_BY_TICK (tick type 0: nothing),
    after the historical ticks TWS sends first when ``number_of_ticks`` > 0."""

    __slots__ = ("contract", "ignore_size", "kind")

    def __init__(
        self,
        key: int,
        kind: TickByTickKind,
        stream: Stream[Any],
        contract: Contract,
        ignore_size: bool = False,
    ) -> None:
        super().__init__(key, (TickByTick, *_HISTORICAL), (), stream)
        self.kind = kind
        self.contract = contract  # for re-issuing it after a reconnect
        self.ignore_size = ignore_size

    def feed(self, msg: InMessage) -> bool:
        if isinstance(msg, TickByTick):
            tick = msg.tick()
            if tick is not None:
                self.stream._push(tick)
            return False
        push = self.stream._push
        if isinstance(msg, HistoricalTicksLast):
            cls = TickByTickAllLast if self.kind == "AllLast" else TickByTickLast
            for r in msg.ticks:
                push(
                    cls(
                        r.time,
                        r.price,
                        r.size,
                        bool(r.mask & 1),
                        bool(r.mask & 2),
                        r.exchange,
                        r.special_conditions,
                    )
                )
        elif isinstance(msg, HistoricalTicksBidAsk):
            for b in msg.ticks:
                push(
                    TickByTickBidAsk(
                        b.time,
                        b.bid_price,
                        b.ask_price,
                        b.bid_size,
                        b.ask_size,
                        bool(b.mask & 2),  # bid past low
                        bool(b.mask & 1),  # ask past high
                    )
                )
        elif isinstance(msg, HistoricalTicks):
            for t in msg.ticks:
                push(TickByTickMidPoint(t.time, t.price))
        return False


class _ResumedPending(_TickByTickPending):
    """A re-issued stream until its first message, which clears ``stream.stale``; then it
    is a plain :class:`_TickByTickPending` again (no per-tick check)."""

    __slots__ = ()

    def feed(self, msg: InMessage) -> bool:
        self.stream.stale = False
        self.__class__ = _TickByTickPending  # type: ignore[assignment]
        return _TickByTickPending.feed(self, msg)


class TickByTickCalls(CoreBase):
    """REQ_TICK_BY_TICK_DATA and CANCEL_TICK_BY_TICK_DATA."""

    _suspended_tbt: list[_TickByTickPending]

    def _init_tick_by_tick(self) -> None:
        self._suspended_tbt = []
        self._live_hooks.append(LiveHook(self._suspend_tbt, self._resume_tbt, self._end_tbt))

    def tick_by_tick(
        self,
        contract: Contract,
        kind: TickByTickKind,
        number_of_ticks: int = 0,
        ignore_size: bool = False,
        *,
        maxlen: int = 10_000,
    ) -> Stream[TickByTickRecord]:
        """Subscribe to ``contract``'s tick-by-tick ``kind``: a stream of its records.

        ``kind`` is exactly ``"Last"``, ``"AllLast"``, ``"BidAsk"`` or ``"MidPoint"``;
        ``ignore_size`` skips BidAsk ticks that only change a size. TWS allows few of these
        at once (error 10190); cancel a stream you no longer read.
        """
        if kind not in TICK_BY_TICK_KINDS:
            raise ValueError(
                f"tick-by-tick kind must be one of {', '.join(TICK_BY_TICK_KINDS)}; not {kind!r}"
            )
        if not 0 <= number_of_ticks <= 1000:
            raise ValueError("number_of_ticks must be 0..1000")
        req_id = self.next_id()
        msg = ReqTickByTickData(req_id, contract, kind, number_of_ticks, ignore_size)
        stream: Stream[TickByTickRecord] = Stream(f"tick-by-tick {kind} {contract.symbol}", maxlen)
        p = _TickByTickPending(req_id, kind, stream, contract, ignore_size)
        self._start_stream(msg, p, lambda: CancelTickByTickData(req_id))
        return stream

    # -- kept across connections (Client.keep_live / resume_live) ---------------------------

    def _live_tbt(self) -> list[_TickByTickPending]:
        return [p for p in self._registry.keyed() if isinstance(p, _TickByTickPending)]

    def _suspend_tbt(self) -> int:
        live = self._live_tbt()
        for p in live:
            self._registry.discard(p)  # done: a cancel while suspended just ends the stream
            p.stream.stale = True
        self._suspended_tbt.extend(live)
        return len(live)

    def _resume_tbt(self, cancel_old: bool) -> int:
        todo, self._suspended_tbt = self._suspended_tbt, []
        if cancel_old:
            for p in self._live_tbt():
                self._registry.discard(p)
                if p.key is not None:
                    self.send(CancelTickByTickData(p.key))
                p.stream.stale = True
                todo.append(p)
        n = 0
        for p in todo:
            if p.stream.done:
                continue  # cancelled meanwhile
            try:
                self._restart_tbt(p)
            except Exception as e:  # the request cannot be sent: the stream ends with it
                p.stream._end(e)
                continue
            n += 1
        return n

    def _restart_tbt(self, old: _TickByTickPending) -> None:
        req_id = self.next_id()
        p = _ResumedPending(req_id, old.kind, old.stream, old.contract, old.ignore_size)
        msg = ReqTickByTickData(req_id, old.contract, old.kind, 0, old.ignore_size)
        self._start_stream(msg, p, lambda: CancelTickByTickData(req_id))

    def _end_tbt(self, exc: BaseException) -> int:
        todo, self._suspended_tbt = self._suspended_tbt, []
        n = 0
        for p in todo:
            if not p.stream.done:
                p.stream._end(exc)
                n += 1
        return n
