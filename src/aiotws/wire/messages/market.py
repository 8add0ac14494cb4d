"""Top-of-book market data and option calculations.

Layouts from PROTOCOL.md sections 6.3 and 6.20, checked against the official client (server
versions 157..200: every gate of these messages is older than 157, so each has one layout).

Incoming messages keep TWS's values as sent: tick types are plain ints (``TickType`` names
the known ones, an unknown future id still decodes), attribute bits a raw ``attr_mask`` with
properties, option greeks raw floats with TWS's "not computed" values (-1/-2) kept, so a
message round trips exactly; the Ticker layer turns those into NaN (the official client
passes ``None``).
TICK_PRICE and TICK_SIZE are all-scalar layouts, so they decode on the generated fast path.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeVar

from aiotws.model.contract import ComboLeg, Contract, DeltaNeutralContract
from aiotws.model.ticks import TickAttrib
from aiotws.wire.fields import BOOL, FLOAT, INT, STR, TEXT, Codec, FieldReader, FieldWriter, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, StructCodec, block_field, message, wire
from aiotws.wire.messages.contracts import CONTRACT_BLOCK

__all__ = [
    "MKT_DATA_CONTRACT_BLOCK",
    "CancelCalcImpliedVolat",
    "CancelCalcOptionPrice",
    "CancelMktData",
    "Flagged",
    "MarketDataType",
    "ReqCalcImpliedVolat",
    "ReqCalcOptionPrice",
    "ReqMarketDataType",
    "ReqMktData",
    "RerouteMktDataReq",
    "TickEfp",
    "TickGeneric",
    "TickOptionComputation",
    "TickPrice",
    "TickReqParams",
    "TickSize",
    "TickSnapshotEnd",
    "TickString",
]

S = TypeVar("S")


class Flagged(Codec[S | None]):
    """An optional group behind a presence flag: ``0``, or ``1`` and the group's fields.

    ``None`` is the absent group (REQ_MKT_DATA's delta-neutral contract).
    """

    __slots__ = ("item",)

    def __init__(self, item: Codec[S]) -> None:
        super().__init__(f"{item.name} | None (flagged)")
        self.item = item

    def read(self, r: FieldReader) -> S | None:
        return self.item.read(r) if BOOL.read(r) else None

    def write(self, w: FieldWriter, value: S | None) -> None:
        if value is None:
            BOOL.write(w, False)
        else:
            BOOL.write(w, True)
            self.item.write(w, value)


def _is_bag(values: Any) -> bool:
    return bool(values["sec_type"] == "BAG")


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
_DELTA_NEUTRAL: Final = Flagged(
    StructCodec(
        DeltaNeutralContract,
        (
            block_field("con_id", INT, default=0),
            block_field("delta", FLOAT, default=0.0),
            block_field("price", FLOAT, default=0.0),
        ),
        "DeltaNeutralContract",
    )
)

#: REQ_MKT_DATA's contract: C12, the combo legs of a ``BAG`` (count, then con_id, ratio,
#: action, exchange per leg), then the delta-neutral contract behind a presence flag.
MKT_DATA_CONTRACT_BLOCK: Final = StructCodec(
    Contract,
    (
        *CONTRACT_BLOCK.layout.specs,
        block_field("combo_legs", ListOf(_COMBO_LEG), when=_is_bag, default=[]),
        block_field("delta_neutral_contract", _DELTA_NEUTRAL, default=None),
    ),
    "Contract",
)


# -- requests ---------------------------------------------------------------------------------


@message(Out.REQ_MKT_DATA, version=11)
@dataclass(slots=True)
class ReqMktData(OutMessage):
    """Subscribe to top-of-book ticks (or one ``snapshot``) of ``contract``.

    The contract's ``combo_legs`` go on the wire for a ``BAG``, its
    ``delta_neutral_contract`` whenever set. ``generic_tick_list`` is a comma list of
    generic tick ids (PROTOCOL.md 7.2; empty for a snapshot). ``mkt_data_options`` is a
    reserved TagValue string that the official client always sends empty.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=MKT_DATA_CONTRACT_BLOCK)
    generic_tick_list: str = ""
    snapshot: bool = False
    regulatory_snapshot: bool = False
    mkt_data_options: str = ""


@message(Out.CANCEL_MKT_DATA, version=2)
@dataclass(slots=True)
class CancelMktData(OutMessage):
    """End a REQ_MKT_DATA subscription (no acknowledgement; an unknown id gets ERR_MSG 300)."""

    req_id: int


@message(Out.REQ_MARKET_DATA_TYPE, version=1)
@dataclass(slots=True)
class ReqMarketDataType(OutMessage):
    """Choose live (1), frozen (2), delayed (3) or delayed-frozen (4) data for later requests.

    ``market_data_type`` takes a :class:`~aiotws.model.MarketDataType` or its int.
    """

    market_data_type: int


@message(Out.REQ_CALC_IMPLIED_VOLAT, version=3)
@dataclass(slots=True)
class ReqCalcImpliedVolat(OutMessage):
    """Implied volatility of an option at ``option_price`` and ``under_price``.

    Answered by TICK_OPTION_COMPUTATION (tick type 53, CUST_OPTION_COMPUTATION) under
    ``req_id``. ``options``: a reserved TagValue string, always empty in the official client.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=CONTRACT_BLOCK)
    option_price: float = 0.0
    under_price: float = 0.0
    options: str = ""


@message(Out.REQ_CALC_OPTION_PRICE, version=3)
@dataclass(slots=True)
class ReqCalcOptionPrice(OutMessage):
    """Price and greeks of an option at ``volatility`` and ``under_price``.

    Answered by TICK_OPTION_COMPUTATION (tick type 53) under ``req_id``; ``options`` as in
    :class:`ReqCalcImpliedVolat`.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=CONTRACT_BLOCK)
    volatility: float = 0.0
    under_price: float = 0.0
    options: str = ""


@message(Out.CANCEL_CALC_IMPLIED_VOLAT, version=1)
@dataclass(slots=True)
class CancelCalcImpliedVolat(OutMessage):
    """Cancel a REQ_CALC_IMPLIED_VOLAT."""

    req_id: int


@message(Out.CANCEL_CALC_OPTION_PRICE, version=1)
@dataclass(slots=True)
class CancelCalcOptionPrice(OutMessage):
    """Cancel a REQ_CALC_OPTION_PRICE."""

    req_id: int


# -- ticks ------------------------------------------------------------------------------------


@message(In.TICK_PRICE, version=6)
@dataclass(slots=True)
class TickPrice(InMessage):
    """A price tick. ``price`` -1 means no quote; ``attr_mask`` bits: :class:`TickAttrib`.

    For BID, ASK, LAST and their DELAYED_ forms the size rides along (the official client
    reports it as a separate size tick; TWS also sends its own TICK_SIZE).
    """

    req_id: int
    tick_type: int
    price: float
    size: Decimal | None = None
    attr_mask: int = 0

    @property
    def attrib(self) -> TickAttrib:
        return TickAttrib.from_mask(self.attr_mask)

    @property
    def can_auto_execute(self) -> bool:
        return bool(self.attr_mask & 1)

    @property
    def past_limit(self) -> bool:
        return bool(self.attr_mask & 2)

    @property
    def pre_open(self) -> bool:
        return bool(self.attr_mask & 4)

    @property
    def size_tick_type(self) -> int | None:
        """The size tick this price implies (BID -> BID_SIZE …), or ``None``."""
        return _SIZE_OF_PRICE.get(self.tick_type)


#: BID/ASK/LAST -> BID_SIZE/ASK_SIZE/LAST_SIZE, DELAYED_BID/ASK/LAST -> DELAYED_*_SIZE
_SIZE_OF_PRICE: Final = {1: 0, 2: 3, 4: 5, 66: 69, 67: 70, 68: 71}


@message(In.TICK_SIZE, version=6)
@dataclass(slots=True)
class TickSize(InMessage):
    """A size tick (``None``: TWS sent no size). The official client drops tick type 111."""

    req_id: int
    tick_type: int
    size: Decimal | None = None


@message(In.TICK_STRING, version=6)
@dataclass(slots=True)
class TickString(InMessage):
    """A text tick: timestamps, RT_VOLUME, dividends, exchange codes (PROTOCOL.md 7.1)."""

    req_id: int
    tick_type: int
    value: str = wire("", codec=TEXT)


@message(In.TICK_GENERIC, version=6)
@dataclass(slots=True)
class TickGeneric(InMessage):
    """A numeric tick that is neither a price nor a size (halted, shortable, volatility …)."""

    req_id: int
    tick_type: int
    value: float = 0.0


@message(In.TICK_EFP, version=6)
@dataclass(slots=True)
class TickEfp(InMessage):
    """An exchange-for-physical computation (tick types 38..44)."""

    req_id: int
    tick_type: int
    basis_points: float = 0.0
    formatted_basis_points: str = wire("", codec=TEXT)
    #: the implied futures price (the official client calls it ``totalDividends``)
    implied_future: float = 0.0
    hold_days: int = 0
    future_last_trade_date: str = wire("", codec=TEXT)
    dividend_impact: float = 0.0
    dividends_to_last_trade_date: float = 0.0


@message(In.TICK_OPTION_COMPUTATION)
@dataclass(slots=True)
class TickOptionComputation(InMessage):
    """Option greeks (tick types 10..13, 53, 80..83), values as TWS sent them.

    TWS's "not computed" values stay in the fields, so the message round trips exactly:
    ``implied_vol`` < 0, -1 for ``opt_price``/``pv_dividend``/``und_price``, -2 for
    ``delta``/``gamma``/``vega``/``theta`` (the official decoder passes ``None`` for them,
    the Ticker layer NaN). ``tick_attrib``: 0 return-based, 1 price-based.
    """

    req_id: int
    tick_type: int
    tick_attrib: int = 0
    implied_vol: float = -1.0
    delta: float = -2.0
    opt_price: float = -1.0
    pv_dividend: float = -1.0
    gamma: float = -2.0
    vega: float = -2.0
    theta: float = -2.0
    und_price: float = -1.0


@message(In.TICK_REQ_PARAMS)
@dataclass(slots=True)
class TickReqParams(InMessage):
    """Sent early in a REQ_MKT_DATA subscription: the minimum tick, the SMART BBO exchange
    code (resolve with REQ_SMART_COMPONENTS) and the snapshot permissions."""

    req_id: int
    min_tick: float = 0.0
    bbo_exchange: str = ""
    snapshot_permissions: int = 0


@message(In.TICK_SNAPSHOT_END, version=1)
@dataclass(slots=True)
class TickSnapshotEnd(InMessage):
    """Ends a snapshot REQ_MKT_DATA (do not cancel it afterwards: ERR_MSG 300)."""

    req_id: int


@message(In.MARKET_DATA_TYPE, version=1)
@dataclass(slots=True)
class MarketDataType(InMessage):
    """The data type a subscription actually gets (a :class:`~aiotws.model.MarketDataType`
    value as an int, e.g. 3 after error 10167)."""

    req_id: int
    market_data_type: int


@message(In.REROUTE_MKT_DATA_REQ)
@dataclass(slots=True)
class RerouteMktDataReq(InMessage):
    """TWS asks to re-request market data of ``req_id`` for ``con_id`` on ``exchange`` (CFDs)."""

    req_id: int
    con_id: int = 0
    exchange: str = ""
