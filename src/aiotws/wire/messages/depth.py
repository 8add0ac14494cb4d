"""Tick-by-tick data and market depth.

Layouts from PROTOCOL.md sections 6.4 and 6.5, checked against the official client (server
versions 157..200: every gate of these messages is older than 157).

TICK_BY_TICK is one message whose fields after ``time`` depend on ``tick_type`` (1 Last,
2 AllLast, 3 BidAsk, 4 MidPoint; 0 and unknown ids carry nothing more). Its BidAsk mask has
bit 0 bid-past-low and bit 1 ask-past-high, the reverse of HISTORICAL_TICKS_BID_ASK
(PROTOCOL.md pitfall 8): decode each through its own message's properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from aiotws.model.contract import Contract
from aiotws.model.ticks import (
    DepthMktDataDescription,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickLast,
    TickByTickMidPoint,
)
from aiotws.wire.fields import EPOCH_S, OPT_INT, STR, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, StructCodec, block_field, message, wire
from aiotws.wire.messages.contracts import CONTRACT_BLOCK

__all__ = [
    "CancelMktDepth",
    "CancelTickByTickData",
    "MarketDepth",
    "MarketDepthL2",
    "MktDepthExchanges",
    "ReqMktDepth",
    "ReqMktDepthExchanges",
    "ReqTickByTickData",
    "RerouteMktDepthReq",
    "TickByTick",
]

#: TICK_BY_TICK tick types
LAST: Final = 1
ALL_LAST: Final = 2
BID_ASK: Final = 3
MID_POINT: Final = 4


def _is_last(values: Any) -> bool:
    return values["tick_type"] in (LAST, ALL_LAST)


def _is_bid_ask(values: Any) -> bool:
    return bool(values["tick_type"] == BID_ASK)


def _is_mid_point(values: Any) -> bool:
    return bool(values["tick_type"] == MID_POINT)


# -- tick-by-tick -----------------------------------------------------------------------------


@message(Out.REQ_TICK_BY_TICK_DATA)
@dataclass(slots=True)
class ReqTickByTickData(OutMessage):
    """Subscribe to tick-by-tick data: ``tick_type`` is ``Last``, ``AllLast``, ``BidAsk`` or
    ``MidPoint`` (exactly). With ``number_of_ticks`` > 0 (max 1000) the matching
    HISTORICAL_TICKS* message arrives first under the same ``req_id``."""

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=CONTRACT_BLOCK)
    tick_type: str = "Last"
    number_of_ticks: int = 0
    ignore_size: bool = False


@message(Out.CANCEL_TICK_BY_TICK_DATA)
@dataclass(slots=True)
class CancelTickByTickData(OutMessage):
    """End a tick-by-tick subscription (no acknowledgement)."""

    req_id: int


@message(In.TICK_BY_TICK)
@dataclass(slots=True)
class TickByTick(InMessage):
    """One tick-by-tick tick; :meth:`tick` gives the model record for its ``tick_type``.

    Last/AllLast fill ``price`` … ``special_conditions`` (``last_mask``: bit 0 past limit,
    bit 1 unreported); BidAsk fills ``bid_price`` … ``bid_ask_mask`` (bit 0 bid past low,
    bit 1 ask past high); MidPoint fills ``mid_point``. The other fields keep their defaults.
    """

    req_id: int
    tick_type: int
    time: datetime = wire(codec=EPOCH_S)
    price: float = wire(0.0, when=_is_last)
    size: Decimal | None = wire(None, when=_is_last)
    last_mask: int = wire(0, when=_is_last)
    exchange: str = wire("", when=_is_last)
    special_conditions: str = wire("", when=_is_last)
    bid_price: float = wire(0.0, when=_is_bid_ask)
    ask_price: float = wire(0.0, when=_is_bid_ask)
    bid_size: Decimal | None = wire(None, when=_is_bid_ask)
    ask_size: Decimal | None = wire(None, when=_is_bid_ask)
    bid_ask_mask: int = wire(0, when=_is_bid_ask)
    mid_point: float = wire(0.0, when=_is_mid_point)

    @property
    def attr_mask(self) -> int:
        """The attribute mask of this tick's kind (0 for MidPoint and others)."""
        if self.tick_type in (LAST, ALL_LAST):
            return self.last_mask
        if self.tick_type == BID_ASK:
            return self.bid_ask_mask
        return 0

    @property
    def past_limit(self) -> bool:
        return bool(self.last_mask & 1)

    @property
    def unreported(self) -> bool:
        return bool(self.last_mask & 2)

    @property
    def bid_past_low(self) -> bool:
        return bool(self.bid_ask_mask & 1)

    @property
    def ask_past_high(self) -> bool:
        return bool(self.bid_ask_mask & 2)

    def tick(self) -> TickByTickLast | TickByTickBidAsk | TickByTickMidPoint | None:
        """The tick as a model record; ``None`` for tick type 0 or an unknown one."""
        if self.tick_type in (LAST, ALL_LAST):
            cls = TickByTickLast if self.tick_type == LAST else TickByTickAllLast
            return cls(
                self.time,
                self.price,
                self.size,
                self.past_limit,
                self.unreported,
                self.exchange,
                self.special_conditions,
            )
        if self.tick_type == BID_ASK:
            return TickByTickBidAsk(
                self.time,
                self.bid_price,
                self.ask_price,
                self.bid_size,
                self.ask_size,
                self.bid_past_low,
                self.ask_past_high,
            )
        if self.tick_type == MID_POINT:
            return TickByTickMidPoint(self.time, self.mid_point)
        return None


# -- market depth -----------------------------------------------------------------------------


@message(Out.REQ_MKT_DEPTH, version=5)
@dataclass(slots=True)
class ReqMktDepth(OutMessage):
    """Subscribe to ``num_rows`` levels of the book; ``is_smart_depth`` aggregates the
    exchanges of MKT_DEPTH_EXCHANGES (answered with MARKET_DEPTH_L2). ``mkt_depth_options``
    is a reserved TagValue string, always empty in the official client."""

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=CONTRACT_BLOCK)
    num_rows: int = 0
    is_smart_depth: bool = False
    mkt_depth_options: str = ""


@message(Out.CANCEL_MKT_DEPTH, version=1)
@dataclass(slots=True)
class CancelMktDepth(OutMessage):
    """End a depth subscription; ``is_smart_depth`` as requested (no acknowledgement)."""

    req_id: int
    is_smart_depth: bool = False


@message(Out.REQ_MKT_DEPTH_EXCHANGES)
@dataclass(slots=True)
class ReqMktDepthExchanges(OutMessage):
    """Ask which exchanges offer depth; answered by MKT_DEPTH_EXCHANGES."""


@message(In.MARKET_DEPTH, version=1)
@dataclass(slots=True)
class MarketDepth(InMessage):
    """A book change: ``operation`` 0 insert, 1 update, 2 delete; ``side`` 0 ask, 1 bid."""

    req_id: int
    position: int
    operation: int
    side: int
    price: float
    size: Decimal | None = None


@message(In.MARKET_DEPTH_L2, version=1)
@dataclass(slots=True)
class MarketDepthL2(InMessage):
    """A book change with the market maker (or exchange, for SMART depth) of the level."""

    req_id: int
    position: int
    market_maker: str
    operation: int
    side: int
    price: float
    size: Decimal | None = None
    is_smart_depth: bool = False


_DEPTH_DESCRIPTION: Final = StructCodec(
    DepthMktDataDescription,
    (
        block_field("exchange", STR, default=""),
        block_field("sec_type", STR, default=""),
        block_field("listing_exch", STR, default=""),
        block_field("service_data_type", STR, default=""),
        block_field("agg_group", OPT_INT),
    ),
    "DepthMktDataDescription",
)


@message(In.MKT_DEPTH_EXCHANGES)
@dataclass(slots=True)
class MktDepthExchanges(InMessage):
    """The exchanges that offer market depth (no request id)."""

    descriptions: list[DepthMktDataDescription] = wire(
        default_factory=list, codec=ListOf(_DEPTH_DESCRIPTION)
    )


@message(In.REROUTE_MKT_DEPTH_REQ)
@dataclass(slots=True)
class RerouteMktDepthReq(InMessage):
    """TWS asks to re-request depth of ``req_id`` for ``con_id`` on ``exchange`` (CFDs)."""

    req_id: int
    con_id: int = 0
    exchange: str = ""
