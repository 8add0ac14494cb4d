"""Historical data: bars, real-time bars, head timestamp, histogram, historical ticks.

Layouts from PROTOCOL.md sections 6.6 to 6.9, checked against the official client (server
versions 157..200). Two gates fall in that range:

* 165 (``SV.HISTORICAL_SCHEDULE``): REQ_HISTORICAL_DATA may ask for ``what_to_show=
  "SCHEDULE"`` (a value gate: encoding it below 165 raises ``UnsupportedByServer``), answered
  by HISTORICAL_SCHEDULE (in 106).
* 196 (``SV.HISTORICAL_DATA_END``): HISTORICAL_DATA no longer carries the start and end of
  the range before its bars; they move to HISTORICAL_DATA_END (in 108).

Every other gate of these messages is older than 157 (REQ_HISTORICAL_DATA and
HISTORICAL_DATA lost their version field at 124). HISTORICAL_SCHEDULE and
HISTORICAL_DATA_END have one layout and decode at any version, as in the official client;
only servers from their gate on send them.

Messages keep TWS's values as sent: bar dates, the head timestamp and schedule times stay
strings (their format depends on ``format_date`` and the zone TWS names; the client layer
parses them), TWS's ``-1`` "no value" in bar volume, WAP and count stays ``-1``, attribute
bits stay a raw ``mask``. Historical ticks and real-time bars carry epoch seconds, read as
UTC datetimes. Repeated groups are lists of small frozen rows (:class:`BarRow` …), one per
entry on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from aiotws.model.contract import ComboLeg, Contract
from aiotws.model.history import (
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    RealTimeBar,
)
from aiotws.wire.fields import BOOL, EPOCH_S, INT, STR, FieldReader, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import (
    InMessage,
    OutMessage,
    StructCodec,
    block_field,
    message,
    until,
    wire,
)
from aiotws.wire.messages.contracts import CONTRACT_BLOCK
from aiotws.wire.versions import SV

__all__ = [
    "HISTORICAL_CONTRACT_BLOCK",
    "BarRow",
    "CancelHeadTimestamp",
    "CancelHistogramData",
    "CancelHistoricalData",
    "CancelRealTimeBars",
    "HeadTimestamp",
    "HistogramData",
    "HistogramRow",
    "HistoricalData",
    "HistoricalDataEnd",
    "HistoricalDataUpdate",
    "HistoricalSchedule",
    "HistoricalTicks",
    "HistoricalTicksBidAsk",
    "HistoricalTicksLast",
    "RealTimeBars",
    "ReqHeadTimestamp",
    "ReqHistogramData",
    "ReqHistoricalData",
    "ReqHistoricalTicks",
    "ReqRealTimeBars",
    "SessionRow",
    "TickBidAskRow",
    "TickLastRow",
    "TickRow",
]

#: The contract of the historical requests: C12, then ``includeExpired``.
HISTORICAL_CONTRACT_BLOCK: Final = StructCodec(
    Contract,
    (*CONTRACT_BLOCK.layout.specs, block_field("include_expired", BOOL, default=False)),
    "Contract",
)

#: One combo leg of REQ_HISTORICAL_DATA (a ``BAG``'s legs follow ``formatDate`` there).
_COMBO_LEG: Final = StructCodec(
    ComboLeg,
    (
        block_field("con_id", INT, default=0),
        block_field("ratio", INT, default=0),
        block_field("action", STR, default=""),
        block_field("exchange", STR, default=""),
    ),
    "ComboLeg",
)


def _contract_is_bag(values: Any) -> bool:
    return bool(values["contract"].sec_type == "BAG")


# -- requests ---------------------------------------------------------------------------------


@message(
    Out.REQ_HISTORICAL_DATA, value_gates={"what_to_show": ("SCHEDULE", SV.HISTORICAL_SCHEDULE)}
)
@dataclass(slots=True)
class ReqHistoricalData(OutMessage):
    """Ask for historical bars (or, with ``what_to_show="SCHEDULE"``, trading sessions).

    Answered by HISTORICAL_DATA (and HISTORICAL_DATA_END from server 196), or by
    HISTORICAL_SCHEDULE (``what_to_show="SCHEDULE"``, server 165+); with ``keep_up_to_date``
    HISTORICAL_DATA_UPDATE follows until CANCEL_HISTORICAL_DATA. Note the wire order: bar
    size before duration.

    A ``BAG``'s legs go on the wire after ``format_date``, apart from the contract block:
    ``combo_legs`` holds them. Left empty it is taken from ``contract.combo_legs``; a decoded
    message has them in both. ``chart_options`` is a TagValue string (``tag=value;`` …).
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=HISTORICAL_CONTRACT_BLOCK)
    end_date_time: str = ""
    bar_size_setting: str = ""
    duration_str: str = ""
    use_rth: bool = False
    what_to_show: str = "TRADES"
    format_date: int = 1
    combo_legs: list[ComboLeg] = wire(
        default_factory=list, codec=ListOf(_COMBO_LEG), when=_contract_is_bag
    )
    keep_up_to_date: bool = False
    chart_options: str = ""

    def __post_init__(self) -> None:
        legs = self.contract.combo_legs
        if not self.combo_legs:
            self.combo_legs = list(legs)
        elif not legs:
            self.contract = self.contract.copy(combo_legs=list(self.combo_legs))
        elif legs != self.combo_legs:
            raise ValueError("combo_legs differ from contract.combo_legs")


@message(Out.CANCEL_HISTORICAL_DATA, version=1)
@dataclass(slots=True)
class CancelHistoricalData(OutMessage):
    """End a REQ_HISTORICAL_DATA (TWS may answer ERR_MSG 162 "query cancelled", or 366)."""

    req_id: int


@message(Out.REQ_HEAD_TIMESTAMP)
@dataclass(slots=True)
class ReqHeadTimestamp(OutMessage):
    """Ask for the earliest data point of ``contract``; answered by HEAD_TIMESTAMP.

    The request holds a historical slot at TWS until CANCEL_HEAD_TIMESTAMP.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=HISTORICAL_CONTRACT_BLOCK)
    use_rth: bool = False
    what_to_show: str = "TRADES"
    format_date: int = 1


@message(Out.CANCEL_HEAD_TIMESTAMP)
@dataclass(slots=True)
class CancelHeadTimestamp(OutMessage):
    """Release a REQ_HEAD_TIMESTAMP (no acknowledgement)."""

    req_id: int


@message(Out.REQ_HISTOGRAM_DATA)
@dataclass(slots=True)
class ReqHistogramData(OutMessage):
    """Ask how much traded at each price over ``time_period`` (``"3 days"``, ``"1 week"``)."""

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=HISTORICAL_CONTRACT_BLOCK)
    use_rth: bool = False
    time_period: str = ""


@message(Out.CANCEL_HISTOGRAM_DATA)
@dataclass(slots=True)
class CancelHistogramData(OutMessage):
    """End a REQ_HISTOGRAM_DATA (no acknowledgement)."""

    req_id: int


@message(Out.REQ_HISTORICAL_TICKS)
@dataclass(slots=True)
class ReqHistoricalTicks(OutMessage):
    """Ask for up to 1000 historical ticks from ``start_date_time`` or up to ``end_date_time``.

    Exactly one of the two is set. ``what_to_show`` ``TRADES``, ``MIDPOINT`` or ``BID_ASK``
    picks the answer: HISTORICAL_TICKS_LAST, HISTORICAL_TICKS or HISTORICAL_TICKS_BID_ASK.
    ``misc_options`` is a TagValue string.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=HISTORICAL_CONTRACT_BLOCK)
    start_date_time: str = ""
    end_date_time: str = ""
    number_of_ticks: int = 0
    what_to_show: str = "TRADES"
    use_rth: bool = False
    ignore_size: bool = False
    misc_options: str = ""


@message(Out.REQ_REAL_TIME_BARS, version=3)
@dataclass(slots=True)
class ReqRealTimeBars(OutMessage):
    """Subscribe to 5-second bars (``bar_size`` 5 is the only size); REAL_TIME_BARS follow.

    ``real_time_bars_options`` is a TagValue string.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=CONTRACT_BLOCK)
    bar_size: int = 5
    what_to_show: str = "TRADES"
    use_rth: bool = False
    real_time_bars_options: str = ""


@message(Out.CANCEL_REAL_TIME_BARS, version=1)
@dataclass(slots=True)
class CancelRealTimeBars(OutMessage):
    """End a REQ_REAL_TIME_BARS subscription (no acknowledgement)."""

    req_id: int


# -- rows of the repeated groups --------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class BarRow:
    """One bar as sent: ``date`` in the request's ``format_date`` form; ``-1`` volume, WAP
    and count on bars without trades."""

    date: str
    open: float
    high: float
    low: float
    close: float
    volume: Decimal | None = None
    wap: Decimal | None = None
    bar_count: int = 0


@dataclass(slots=True, frozen=True)
class SessionRow:
    """One session of a HISTORICAL_SCHEDULE, as sent (``yyyymmdd-hh:mm:ss``, ``yyyymmdd``)."""

    start_date_time: str
    end_date_time: str
    ref_date: str


@dataclass(slots=True, frozen=True)
class HistogramRow:
    """One price level of HISTOGRAM_DATA."""

    price: float
    size: Decimal | None = None


@dataclass(slots=True, frozen=True)
class TickRow:
    """One MIDPOINT tick; ``mask`` is always 0 (the place of the other kinds' attributes)."""

    time: datetime = wire(codec=EPOCH_S)
    mask: int = 0
    price: float = 0.0
    size: Decimal | None = None

    def tick(self) -> HistoricalTick:
        return HistoricalTick(self.time, self.price, self.size)


@dataclass(slots=True, frozen=True)
class TickBidAskRow:
    """One BID_ASK tick; ``mask`` bit 0 ask past high, bit 1 bid past low."""

    time: datetime = wire(codec=EPOCH_S)
    mask: int = 0
    bid_price: float = 0.0
    ask_price: float = 0.0
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None

    @property
    def ask_past_high(self) -> bool:
        return bool(self.mask & 1)

    @property
    def bid_past_low(self) -> bool:
        return bool(self.mask & 2)

    def tick(self) -> HistoricalTickBidAsk:
        return HistoricalTickBidAsk(
            self.time,
            self.bid_price,
            self.ask_price,
            self.bid_size,
            self.ask_size,
            self.ask_past_high,
            self.bid_past_low,
        )


@dataclass(slots=True, frozen=True)
class TickLastRow:
    """One TRADES tick; ``mask`` bit 0 past limit, bit 1 unreported."""

    time: datetime = wire(codec=EPOCH_S)
    mask: int = 0
    price: float = 0.0
    size: Decimal | None = None
    exchange: str = ""
    special_conditions: str = ""

    @property
    def past_limit(self) -> bool:
        return bool(self.mask & 1)

    @property
    def unreported(self) -> bool:
        return bool(self.mask & 2)

    def tick(self) -> HistoricalTickLast:
        return HistoricalTickLast(
            self.time,
            self.price,
            self.size,
            self.exchange,
            self.special_conditions,
            self.past_limit,
            self.unreported,
        )


R = TypeVar("R")


class _Rows(ListOf[R]):
    """A counted list of one-field-per-attribute rows, read through the row's generated
    decoder (:meth:`~aiotws.wire.layout.Layout.fast_reader`).

    A bar reply can hold a hundred thousand rows; the generated reader builds each in one
    call instead of one codec call per field. On any failure the list is read again the
    checked way, which names the failing field. Writing is :class:`ListOf`'s.
    """

    __slots__ = ("layout",)

    def __init__(self, item: StructCodec[R]) -> None:
        super().__init__(item)
        self.layout = item.layout

    def read(self, r: FieldReader) -> list[R]:
        start = r.pos
        n = INT.read(r)
        fast = self.layout.fast_reader(r.version)
        fields = r.fields
        if fast is not None and n >= 0 and isinstance(fields, list):
            reader, width = fast
            pos = r.pos
            stop = pos + n * width
            if stop <= r.end:
                try:
                    rows: list[R] = [reader(fields, p) for p in range(pos, stop, width)]
                except Exception:
                    pass
                else:
                    r.pos = stop
                    return rows
        r.pos = start
        return super().read(r)


_BARS: Final = _Rows(StructCodec(BarRow))
_SESSIONS: Final = _Rows(StructCodec(SessionRow))
_HISTOGRAM: Final = _Rows(StructCodec(HistogramRow))
_TICKS: Final = _Rows(StructCodec(TickRow))
_TICKS_BID_ASK: Final = _Rows(StructCodec(TickBidAskRow))
_TICKS_LAST: Final = _Rows(StructCodec(TickLastRow))


# -- replies ----------------------------------------------------------------------------------


@message(In.HISTORICAL_DATA)
@dataclass(slots=True)
class HistoricalData(InMessage):
    """Bars for REQ_HISTORICAL_DATA; below server 196 it also ends the request.

    ``start_date`` and ``end_date`` (the range served) are on the wire below 196 only; from
    196 HISTORICAL_DATA_END carries them.
    """

    req_id: int
    start_date: str = until(SV.HISTORICAL_DATA_END, "")
    end_date: str = until(SV.HISTORICAL_DATA_END, "")
    bars: list[BarRow] = wire(default_factory=list, codec=_BARS)


@message(In.HISTORICAL_DATA_END)
@dataclass(slots=True)
class HistoricalDataEnd(InMessage):
    """Ends the one-shot bars of REQ_HISTORICAL_DATA, with the range served.

    TWS sends it from server 196 (``SV.HISTORICAL_DATA_END``) on; below, HISTORICAL_DATA
    carries the range. It decodes at any version, as in the official client.
    """

    req_id: int
    start_date: str = ""
    end_date: str = ""


@message(In.HISTORICAL_DATA_UPDATE)
@dataclass(slots=True)
class HistoricalDataUpdate(InMessage):
    """The latest (unfinished) bar of a ``keep_up_to_date`` request, sent again as it grows.

    The wire order differs from :class:`BarRow`: count first, close before high, WAP before
    volume; :meth:`bar` gives the row.
    """

    req_id: int
    bar_count: int = 0
    date: str = ""
    open: float = 0.0
    close: float = 0.0
    high: float = 0.0
    low: float = 0.0
    wap: Decimal | None = None
    volume: Decimal | None = None

    def bar(self) -> BarRow:
        return BarRow(
            self.date,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.wap,
            self.bar_count,
        )


@message(In.HISTORICAL_SCHEDULE)
@dataclass(slots=True)
class HistoricalSchedule(InMessage):
    """The trading sessions of a range (``what_to_show="SCHEDULE"``; TWS sends it from 165)."""

    req_id: int
    start_date_time: str = ""
    end_date_time: str = ""
    time_zone: str = ""
    sessions: list[SessionRow] = wire(default_factory=list, codec=_SESSIONS)


@message(In.HEAD_TIMESTAMP)
@dataclass(slots=True)
class HeadTimestamp(InMessage):
    """The earliest data point of a REQ_HEAD_TIMESTAMP, as sent (``format_date`` 1 or 2)."""

    req_id: int
    head_timestamp: str = ""


@message(In.HISTOGRAM_DATA)
@dataclass(slots=True)
class HistogramData(InMessage):
    """The answer to REQ_HISTOGRAM_DATA: size traded per price level."""

    req_id: int
    entries: list[HistogramRow] = wire(default_factory=list, codec=_HISTOGRAM)


@message(In.HISTORICAL_TICKS)
@dataclass(slots=True)
class HistoricalTicks(InMessage):
    """MIDPOINT historical ticks; the request is complete with the message where ``done``."""

    req_id: int
    ticks: list[TickRow] = wire(default_factory=list, codec=_TICKS)
    done: bool = False


@message(In.HISTORICAL_TICKS_BID_ASK)
@dataclass(slots=True)
class HistoricalTicksBidAsk(InMessage):
    """BID_ASK historical ticks; complete with the message where ``done``."""

    req_id: int
    ticks: list[TickBidAskRow] = wire(default_factory=list, codec=_TICKS_BID_ASK)
    done: bool = False


@message(In.HISTORICAL_TICKS_LAST)
@dataclass(slots=True)
class HistoricalTicksLast(InMessage):
    """TRADES historical ticks; complete with the message where ``done``."""

    req_id: int
    ticks: list[TickLastRow] = wire(default_factory=list, codec=_TICKS_LAST)
    done: bool = False


@message(In.REAL_TIME_BARS, version=3)
@dataclass(slots=True)
class RealTimeBars(InMessage):
    """One 5-second bar of a REQ_REAL_TIME_BARS subscription; ``time`` is its start."""

    req_id: int
    time: datetime = wire(codec=EPOCH_S)
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: Decimal | None = None
    wap: Decimal | None = None
    count: int = 0

    def bar(self) -> RealTimeBar:
        """The model bar: TWS's ``-1`` volume, WAP and count (no trades) are ``None``."""
        vol, wap, count = self.volume, self.wap, self.count
        return RealTimeBar(
            self.time,
            self.open,
            self.high,
            self.low,
            self.close,
            None if vol is None or vol < 0 else vol,
            None if wap is None or wap < 0 else wap,
            None if count < 0 else count,
        )
