"""Market scanner messages: parameters (XML), subscriptions and their results.

Layouts from PROTOCOL.md 6.20, checked against the official client 10.51 (``reqScanner*``,
``processScannerDataMsg``) for server versions 157..200:

* REQ_SCANNER_PARAMETERS ``V=1`` → SCANNER_PARAMETERS ``V=1, xml``. The official decoder maps
  SCANNER_PARAMETERS 1:1 onto ``scannerParameters(xml)`` and ``unicode-escape``-decodes it, so
  the XML is a ``TEXT`` field.
* REQ_SCANNER_SUBSCRIPTION: ``reqId``, the subscription's 21 fields, then
  ``scannerSubscriptionFilterOptions`` (from 143, ``SCANNER_GENERIC_OPTS``) and
  ``scannerSubscriptionOptions`` (from 70, ``LINKING``), each a ``tag=value;`` string. Its
  ``V=4`` field is gone from 143: in 157..200 there is none. Unset numbers go out as the
  official client writes them (``make_field_handle_empty``): an unset double or int as an
  empty field, an unset ``numberOfRows`` as ``-1``.
* CANCEL_SCANNER_SUBSCRIPTION ``V=1, reqId``.
* SCANNER_DATA ``V=3, reqId, n`` × (``rank, conId, symbol, secType,
  lastTradeDateOrContractMonth, strike, right, exchange, currency, localSymbol, marketName,
  tradingClass, distance, benchmark, projection, legsStr``). One message is one whole result
  set (the official decoder calls ``scannerData`` per row, then ``scannerDataEnd``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from aiotws.model.contract import Contract, TagValue
from aiotws.model.scanner import ScannerSubscription, ScanRow
from aiotws.wire.fields import (
    BOOL,
    INT,
    OPT_FLOAT,
    OPT_INT,
    STR,
    TEXT,
    FieldError,
    FieldWriter,
    Scalar,
)
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import (
    InMessage,
    OutMessage,
    StructCodec,
    block_field,
    message,
    struct,
    wire,
)
from aiotws.wire.messages.orders import TAG_VALUE_STRING
from aiotws.wire.versions import SV

__all__ = [
    "ROWS",
    "CancelScannerSubscription",
    "ReqScannerParameters",
    "ReqScannerSubscription",
    "ScanDataElement",
    "ScannerData",
    "ScannerParameters",
]

#: the official ``NO_ROW_NUMBER_SPECIFIED``: TWS chooses the number of rows
_NO_ROWS: Final = -1


class _Rows(Scalar[int | None]):
    """``numberOfRows``: ``None`` (TWS chooses) is ``-1`` on the wire, as the official client
    writes it; ``-1``, empty and the int sentinels read as ``None``."""

    __slots__ = ()

    def parse(self, s: str) -> int | None:
        v = OPT_INT.parse(s)
        return None if v is None or v == _NO_ROWS else v

    def write(self, w: FieldWriter, value: int | None) -> None:
        if value == _NO_ROWS:
            raise FieldError("-1 is the wire form of None (TWS chooses the number of rows)")
        INT.write(w, _NO_ROWS if value is None else value)


ROWS: Final[Scalar[int | None]] = _Rows("int | None (unset = -1)")

#: the subscription's fields, in wire order
_SUBSCRIPTION: Final = StructCodec(
    ScannerSubscription,
    (
        block_field("number_of_rows", ROWS),
        block_field("instrument", STR, default=""),
        block_field("location_code", STR, default=""),
        block_field("scan_code", STR, default=""),
        block_field("above_price", OPT_FLOAT),
        block_field("below_price", OPT_FLOAT),
        block_field("above_volume", OPT_INT),
        block_field("market_cap_above", OPT_FLOAT),
        block_field("market_cap_below", OPT_FLOAT),
        block_field("moody_rating_above", STR, default=""),
        block_field("moody_rating_below", STR, default=""),
        block_field("sp_rating_above", STR, default=""),
        block_field("sp_rating_below", STR, default=""),
        block_field("maturity_date_above", STR, default=""),
        block_field("maturity_date_below", STR, default=""),
        block_field("coupon_rate_above", OPT_FLOAT),
        block_field("coupon_rate_below", OPT_FLOAT),
        block_field("exclude_convertible", BOOL, default=False),
        block_field("average_option_volume_above", OPT_INT),
        block_field("scanner_setting_pairs", STR, default=""),
        block_field("stock_type_filter", STR, default=""),
    ),
    "ScannerSubscription",
)


# -- requests ---------------------------------------------------------------------------------


@message(Out.REQ_SCANNER_PARAMETERS, version=1)
@dataclass(slots=True)
class ReqScannerParameters(OutMessage):
    """Ask for the scanner parameters XML (SCANNER_PARAMETERS)."""


@message(Out.REQ_SCANNER_SUBSCRIPTION, version=4, version_until=SV.SCANNER_GENERIC_OPTS)
@dataclass(slots=True)
class ReqScannerSubscription(OutMessage):
    """Subscribe to a scan: SCANNER_DATA with the whole result set at once, then again on
    every refresh (about every 30 s) until CANCEL_SCANNER_SUBSCRIPTION.

    ``filter_options``: the generic filters (``TagValue("priceAbove", "5")`` …, the codes of
    the parameters XML's filter fields). ``options``: reserved by TWS ("for internal use").
    Note the wire order: filter options first, although the official ``EClient`` method
    takes them last.
    """

    req_id: int
    subscription: ScannerSubscription = wire(
        default_factory=ScannerSubscription, codec=_SUBSCRIPTION
    )
    filter_options: list[TagValue] = wire(
        default_factory=list, codec=TAG_VALUE_STRING, since=SV.SCANNER_GENERIC_OPTS
    )
    options: list[TagValue] = wire(default_factory=list, codec=TAG_VALUE_STRING, since=SV.LINKING)


@message(Out.CANCEL_SCANNER_SUBSCRIPTION, version=1)
@dataclass(slots=True)
class CancelScannerSubscription(OutMessage):
    """End a scanner subscription (TWS acknowledges with ERR_MSG 162 "API scanner
    subscription cancelled"; an unknown id gets 365)."""

    req_id: int


# -- replies ----------------------------------------------------------------------------------


@message(In.SCANNER_PARAMETERS, version=1)
@dataclass(slots=True)
class ScannerParameters(InMessage):
    """The scanner parameters XML (about 2 MB from a real TWS); parse it with
    :func:`~aiotws.model.scanner.parse_scanner_parameters`."""

    xml: str = wire("", codec=TEXT)


@struct
@dataclass(slots=True)
class ScanDataElement:
    """One row of SCANNER_DATA as it is on the wire (``market_name`` sits between the
    contract's local symbol and trading class); :meth:`record` makes the model row."""

    rank: int = 0
    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date_or_contract_month: str = ""
    strike: float | None = None
    right: str = ""
    exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    market_name: str = ""
    trading_class: str = ""
    distance: str = ""
    benchmark: str = ""
    projection: str = ""
    legs_str: str = ""

    def record(self) -> ScanRow:
        """The model row."""
        contract = Contract(
            sec_type=self.sec_type,
            con_id=self.con_id,
            symbol=self.symbol,
            last_trade_date_or_contract_month=self.last_trade_date_or_contract_month,
            strike=self.strike,
            right=self.right,
            exchange=self.exchange,
            currency=self.currency,
            local_symbol=self.local_symbol,
            trading_class=self.trading_class,
        )
        return ScanRow(
            self.rank,
            contract,
            self.market_name,
            self.distance,
            self.benchmark,
            self.projection,
            self.legs_str,
        )

    @classmethod
    def from_record(cls, row: ScanRow) -> ScanDataElement:
        """The wire row for a model row (the simulator's side)."""
        c = row.contract
        return cls(
            row.rank,
            c.con_id,
            c.symbol,
            c.sec_type,
            c.last_trade_date_or_contract_month,
            c.strike,
            c.right,
            c.exchange,
            c.currency,
            c.local_symbol,
            row.market_name,
            c.trading_class,
            row.distance,
            row.benchmark,
            row.projection,
            row.legs,
        )


@message(In.SCANNER_DATA, version=3)
@dataclass(slots=True)
class ScannerData(InMessage):
    """One whole result set of a scanner subscription (the first, or a refresh)."""

    req_id: int
    rows: list[ScanDataElement] = field(default_factory=list)

    def records(self) -> list[ScanRow]:
        """The model rows, in rank order as TWS sent them."""
        return [r.record() for r in self.rows]

    @classmethod
    def from_records(cls, req_id: int, rows: list[ScanRow]) -> ScannerData:
        return cls(req_id, [ScanDataElement.from_record(r) for r in rows])
