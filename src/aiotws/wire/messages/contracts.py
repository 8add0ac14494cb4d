"""Contract messages: details, symbol search, option parameters, market rules, SMART components.

Layouts from PROTOCOL.md sections 3.4, 6.2 and 6.20, checked against the official client
(server versions 157..200). Each reply converts to its model record (``details()`` …) and
each can be built from one (``from_details()`` …), which is what the simulator does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, TypeVar

from aiotws.model.contract import (
    Contract,
    ContractDescription,
    ContractDetails,
    IneligibilityReason,
    OptionChain,
    PriceIncrement,
    SmartComponent,
    TagValue,
)
from aiotws.wire.fields import BOOL, FLOAT, INT, OPT_FLOAT, SENTINEL_INT, STR, TEXT, ListOf
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, StructCodec, block_field, message, since, wire
from aiotws.wire.versions import SV

__all__ = [
    "CONTRACT_BLOCK",
    "BondContractData",
    "ContractData",
    "ContractDataEnd",
    "MarketRule",
    "ReqContractData",
    "ReqMarketRule",
    "ReqMatchingSymbols",
    "ReqSecDefOptParams",
    "ReqSmartComponents",
    "SecurityDefinitionOptionParameter",
    "SecurityDefinitionOptionParameterEnd",
    "SmartComponents",
    "SymbolSamples",
]

_C12: Final = (
    block_field("con_id", INT, default=0),
    block_field("symbol", STR, default=""),
    block_field("sec_type", STR, default=""),
    block_field("last_trade_date_or_contract_month", STR, default=""),
    block_field("strike", OPT_FLOAT),
    block_field("right", STR, default=""),
    block_field("multiplier", STR, default=""),
    block_field("exchange", STR, default=""),
    block_field("primary_exchange", STR, default=""),
    block_field("currency", STR, default=""),
    block_field("local_symbol", STR, default=""),
    block_field("trading_class", STR, default=""),
)

#: The 12-field contract block most requests embed (PROTOCOL.md 3.4).
CONTRACT_BLOCK: Final = StructCodec(Contract, _C12, "Contract")

#: REQ_CONTRACT_DATA's block: C12, includeExpired, secIdType, secId, [176+] issuerId.
_CONTRACT_DATA_BLOCK: Final = StructCodec(
    Contract,
    (
        *_C12,
        block_field("include_expired", BOOL, default=False),
        block_field("sec_id_type", STR, default=""),
        block_field("sec_id", STR, default=""),
        block_field("issuer_id", STR, since=SV.BOND_ISSUERID, default=""),
    ),
    "Contract",
)

_TAG_VALUE: Final = StructCodec(
    TagValue, (block_field("tag", STR, default=""), block_field("value", STR, default=""))
)
_INELIGIBILITY: Final = StructCodec(
    IneligibilityReason,
    (block_field("id", STR, default=""), block_field("description", TEXT, default="")),
)


def _csv(text: str) -> list[str]:
    return [p for p in text.split(",") if p]


def _ints(text: str) -> list[int]:
    """The integers of a comma list; entries that are not integers are skipped."""
    out = []
    for p in _csv(text):
        try:
            out.append(int(p))
        except ValueError:
            continue
    return out


def _split_last_trade(text: str) -> list[str]:
    # "yyyymmdd", "yyyymmdd hh:mm [zone]" or "yyyymmdd-hh:mm" (PROTOCOL.md 3.5)
    return text.split("-") if "-" in text else text.split()


def _is_fund(values: Any) -> bool:
    return bool(values["sec_type"] == "FUND")


# -- requests ---------------------------------------------------------------------------------


@message(Out.REQ_CONTRACT_DATA, version=8)
@dataclass(slots=True)
class ReqContractData(OutMessage):
    """Ask for the details of every contract matching ``contract``.

    Answered by CONTRACT_DATA (or BOND_CONTRACT_DATA) per match, then CONTRACT_DATA_END; an
    unknown contract gets ERR_MSG 200 and no END.
    """

    req_id: int
    contract: Contract = wire(default_factory=Contract, codec=_CONTRACT_DATA_BLOCK)


@message(Out.REQ_MATCHING_SYMBOLS)
@dataclass(slots=True)
class ReqMatchingSymbols(OutMessage):
    """Search contracts by symbol or name prefix; answered by SYMBOL_SAMPLES."""

    req_id: int
    pattern: str


@message(Out.REQ_SEC_DEF_OPT_PARAMS)
@dataclass(slots=True)
class ReqSecDefOptParams(OutMessage):
    """Option chain parameters of an underlying (SECURITY_DEFINITION_OPTION_PARAMETER + END).

    ``fut_fop_exchange`` is empty for options on stocks and indices.
    """

    req_id: int
    underlying_symbol: str
    fut_fop_exchange: str
    underlying_sec_type: str
    underlying_con_id: int


@message(Out.REQ_MARKET_RULE)
@dataclass(slots=True)
class ReqMarketRule(OutMessage):
    """The price increments of a market rule id (from ContractDetails.market_rule_ids)."""

    market_rule_id: int


@message(Out.REQ_SMART_COMPONENTS)
@dataclass(slots=True)
class ReqSmartComponents(OutMessage):
    """The exchanges behind a SMART BBO exchange code (from TICK_REQ_PARAMS)."""

    req_id: int
    bbo_exchange: str


# -- replies ----------------------------------------------------------------------------------


@message(In.CONTRACT_DATA, version=8, version_until=SV.SIZE_RULES)
@dataclass(slots=True)
class ContractData(InMessage):
    """The details of one contract (not a bond). Convert with :meth:`details`."""

    req_id: int
    symbol: str = ""
    sec_type: str = ""
    #: as sent: ``yyyymmdd``, ``yyyymm`` or with a time (``yyyymmdd hh:mm zone``)
    last_trade_date_or_contract_month: str = ""
    last_trade_date: str = since(SV.LAST_TRADE_DATE, "")
    strike: float = 0.0
    right: str = ""
    exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    market_name: str = ""
    trading_class: str = ""
    con_id: int = 0
    min_tick: float = 0.0
    md_size_multiplier: int = wire(0, until=SV.SIZE_RULES)
    multiplier: str = ""
    order_types: str = ""
    valid_exchanges: str = ""
    price_magnifier: int = 0
    under_con_id: int = 0
    long_name: str = wire("", codec=TEXT)
    primary_exchange: str = ""
    contract_month: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    time_zone_id: str = ""
    trading_hours: str = ""
    liquid_hours: str = ""
    ev_rule: str = ""
    ev_multiplier: int = 0
    sec_id_list: list[TagValue] = wire(default_factory=list, codec=ListOf(_TAG_VALUE))
    agg_group: int | None = wire(default=None, codec=SENTINEL_INT)
    under_symbol: str = ""
    under_sec_type: str = ""
    market_rule_ids: str = ""
    real_expiration_date: str = ""
    stock_type: str = ""
    size_min_tick: Decimal | None = wire(
        None, since=SV.FRACTIONAL_SIZE_SUPPORT, until=SV.SIZE_RULES
    )
    min_size: Decimal | None = since(SV.SIZE_RULES, None)
    size_increment: Decimal | None = since(SV.SIZE_RULES, None)
    suggested_size_increment: Decimal | None = since(SV.SIZE_RULES, None)
    fund_name: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_family: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_type: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_front_load: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_back_load: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_back_load_time_interval: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_management_fee: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_closed: bool = since(SV.FUND_DATA_FIELDS, False, when=_is_fund)
    fund_closed_for_new_investors: bool = since(SV.FUND_DATA_FIELDS, False, when=_is_fund)
    fund_closed_for_new_money: bool = since(SV.FUND_DATA_FIELDS, False, when=_is_fund)
    fund_notify_amount: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_minimum_initial_purchase: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_subsequent_minimum_purchase: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_blue_sky_states: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_blue_sky_territories: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_distribution_policy_indicator: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    fund_asset_type: str = since(SV.FUND_DATA_FIELDS, "", when=_is_fund)
    ineligibility_reasons: list[IneligibilityReason] = wire(
        default_factory=list, codec=ListOf(_INELIGIBILITY), since=SV.INELIGIBILITY_REASONS
    )

    def details(self) -> ContractDetails:
        """The model record, with the contract's date, time and strike split out."""
        parts = _split_last_trade(self.last_trade_date_or_contract_month)
        contract = Contract(
            sec_type=self.sec_type,
            con_id=self.con_id,
            symbol=self.symbol,
            last_trade_date_or_contract_month=parts[0] if parts else "",
            strike=self.strike if self.strike or self.sec_type in _OPTION_TYPES else None,
            right=self.right,
            multiplier=self.multiplier,
            exchange=self.exchange,
            primary_exchange=self.primary_exchange,
            currency=self.currency,
            local_symbol=self.local_symbol,
            trading_class=self.trading_class,
            last_trade_date=self.last_trade_date,
        )
        d = ContractDetails(contract=contract)
        for name in _SHARED_FIELDS:
            setattr(d, name, getattr(self, name))
        d.order_types = _csv(self.order_types)
        d.valid_exchanges = _csv(self.valid_exchanges)
        d.market_rule_ids = _ints(self.market_rule_ids)
        d.sec_id_list = list(self.sec_id_list)
        d.ineligibility_reasons = list(self.ineligibility_reasons)
        d.last_trade_time = parts[1] if len(parts) > 1 else ""
        return d

    @classmethod
    def from_details(cls, req_id: int, d: ContractDetails) -> ContractData:
        """The message TWS would send for ``d`` (the simulator's side)."""
        c = d.contract
        last = c.last_trade_date_or_contract_month
        if last and d.last_trade_time:
            last = f"{last} {d.last_trade_time}"
            if d.time_zone_id:
                last += f" {d.time_zone_id}"
        msg = cls(
            req_id,
            symbol=c.symbol,
            sec_type=c.sec_type,
            last_trade_date_or_contract_month=last,
            last_trade_date=c.last_trade_date,
            strike=c.strike or 0.0,
            right=c.right,
            exchange=c.exchange,
            currency=c.currency,
            local_symbol=c.local_symbol,
            trading_class=c.trading_class,
            con_id=c.con_id,
            multiplier=c.multiplier,
            primary_exchange=c.primary_exchange,
            order_types=",".join(d.order_types),
            valid_exchanges=",".join(d.valid_exchanges),
            market_rule_ids=",".join(str(i) for i in d.market_rule_ids),
            sec_id_list=list(d.sec_id_list),
            ineligibility_reasons=list(d.ineligibility_reasons),
        )
        for name in _SHARED_FIELDS:
            setattr(msg, name, getattr(d, name))
        return msg

    def at_version(self, version: int) -> ContractData:
        """This message with the fields ``version`` cannot carry reset (for the simulator)."""
        return _reset_gated(self, version)


_OPTION_TYPES: Final = frozenset({"OPT", "FOP", "WAR", "IOPT"})
#: ContractData fields that map 1:1 onto ContractDetails attributes
_SHARED_FIELDS: Final = (
    "market_name",
    "min_tick",
    "price_magnifier",
    "under_con_id",
    "long_name",
    "contract_month",
    "industry",
    "category",
    "subcategory",
    "time_zone_id",
    "trading_hours",
    "liquid_hours",
    "ev_rule",
    "ev_multiplier",
    "agg_group",
    "under_symbol",
    "under_sec_type",
    "real_expiration_date",
    "stock_type",
    "min_size",
    "size_increment",
    "suggested_size_increment",
    "fund_name",
    "fund_family",
    "fund_type",
    "fund_front_load",
    "fund_back_load",
    "fund_back_load_time_interval",
    "fund_management_fee",
    "fund_closed",
    "fund_closed_for_new_investors",
    "fund_closed_for_new_money",
    "fund_notify_amount",
    "fund_minimum_initial_purchase",
    "fund_subsequent_minimum_purchase",
    "fund_blue_sky_states",
    "fund_blue_sky_territories",
    "fund_distribution_policy_indicator",
    "fund_asset_type",
)


M = TypeVar("M", ContractData, "BondContractData")


def _reset_gated(msg: M, version: int) -> M:
    for spec in type(msg).LAYOUT.specs:
        if not spec.active(version):
            setattr(msg, spec.name, spec.default_value())
    return msg


@message(In.BOND_CONTRACT_DATA, version=6, version_until=SV.SIZE_RULES)
@dataclass(slots=True)
class BondContractData(InMessage):
    """The details of one bond. Convert with :meth:`details`."""

    req_id: int
    symbol: str = ""
    sec_type: str = ""
    cusip: str = ""
    coupon: float = 0.0
    #: maturity as sent, possibly with a time and a zone
    maturity: str = ""
    issue_date: str = ""
    ratings: str = ""
    bond_type: str = ""
    coupon_type: str = ""
    convertible: bool = False
    callable: bool = False
    putable: bool = False
    desc_append: str = ""
    exchange: str = ""
    currency: str = ""
    market_name: str = ""
    trading_class: str = ""
    con_id: int = 0
    min_tick: float = 0.0
    md_size_multiplier: int = wire(0, until=SV.SIZE_RULES)
    order_types: str = ""
    valid_exchanges: str = ""
    next_option_date: str = ""
    next_option_type: str = ""
    next_option_partial: bool = False
    notes: str = ""
    long_name: str = wire("", codec=TEXT)
    time_zone_id: str = since(SV.BOND_TRADING_HOURS, "")
    trading_hours: str = since(SV.BOND_TRADING_HOURS, "")
    liquid_hours: str = since(SV.BOND_TRADING_HOURS, "")
    ev_rule: str = ""
    ev_multiplier: int = 0
    sec_id_list: list[TagValue] = wire(default_factory=list, codec=ListOf(_TAG_VALUE))
    agg_group: int | None = wire(default=None, codec=SENTINEL_INT)
    market_rule_ids: str = ""
    min_size: Decimal | None = since(SV.SIZE_RULES, None)
    size_increment: Decimal | None = since(SV.SIZE_RULES, None)
    suggested_size_increment: Decimal | None = since(SV.SIZE_RULES, None)

    def details(self) -> ContractDetails:
        parts = _split_last_trade(self.maturity)
        contract = Contract(
            sec_type=self.sec_type,
            con_id=self.con_id,
            symbol=self.symbol,
            exchange=self.exchange,
            currency=self.currency,
            trading_class=self.trading_class,
        )
        d = ContractDetails(contract=contract)
        for name in _BOND_SHARED:
            setattr(d, name, getattr(self, name))
        d.maturity = parts[0] if parts else ""
        d.last_trade_time = parts[1] if len(parts) > 1 else ""
        if len(parts) > 2 and not d.time_zone_id:
            d.time_zone_id = parts[2]
        d.order_types = _csv(self.order_types)
        d.valid_exchanges = _csv(self.valid_exchanges)
        d.market_rule_ids = _ints(self.market_rule_ids)
        d.sec_id_list = list(self.sec_id_list)
        return d

    @classmethod
    def from_details(cls, req_id: int, d: ContractDetails) -> BondContractData:
        c = d.contract
        msg = cls(
            req_id,
            symbol=c.symbol,
            sec_type=c.sec_type,
            maturity=d.maturity,
            exchange=c.exchange,
            currency=c.currency,
            trading_class=c.trading_class,
            con_id=c.con_id,
            order_types=",".join(d.order_types),
            valid_exchanges=",".join(d.valid_exchanges),
            market_rule_ids=",".join(str(i) for i in d.market_rule_ids),
            sec_id_list=list(d.sec_id_list),
        )
        for name in _BOND_SHARED:
            setattr(msg, name, getattr(d, name))
        return msg

    def at_version(self, version: int) -> BondContractData:
        return _reset_gated(self, version)


_BOND_SHARED: Final = (
    "cusip",
    "coupon",
    "issue_date",
    "ratings",
    "bond_type",
    "coupon_type",
    "convertible",
    "callable",
    "putable",
    "desc_append",
    "market_name",
    "min_tick",
    "next_option_date",
    "next_option_type",
    "next_option_partial",
    "notes",
    "long_name",
    "time_zone_id",
    "trading_hours",
    "liquid_hours",
    "ev_rule",
    "ev_multiplier",
    "agg_group",
    "min_size",
    "size_increment",
    "suggested_size_increment",
)


@message(In.CONTRACT_DATA_END, version=1)
@dataclass(slots=True)
class ContractDataEnd(InMessage):
    """Ends the answer to REQ_CONTRACT_DATA."""

    req_id: int


_DESCRIPTION_CONTRACT: Final = (
    block_field("con_id", INT, default=0),
    block_field("symbol", STR, default=""),
    block_field("sec_type", STR, default=""),
    block_field("primary_exchange", STR, default=""),
    block_field("currency", STR, default=""),
)


@dataclass(slots=True)
class _SymbolSample:
    """One SYMBOL_SAMPLES entry, as laid out on the wire."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    primary_exchange: str = ""
    currency: str = ""
    derivative_sec_types: list[str] = field(default_factory=list)
    description: str = ""
    issuer_id: str = ""


_SYMBOL_SAMPLE: Final = StructCodec(
    _SymbolSample,
    (
        *_DESCRIPTION_CONTRACT,
        block_field("derivative_sec_types", ListOf(STR), default=[]),
        block_field("description", STR, since=SV.BOND_ISSUERID, default=""),
        block_field("issuer_id", STR, since=SV.BOND_ISSUERID, default=""),
    ),
    "SymbolSample",
)


@message(In.SYMBOL_SAMPLES)
@dataclass(slots=True)
class SymbolSamples(InMessage):
    """The matches of REQ_MATCHING_SYMBOLS. Convert with :meth:`descriptions`."""

    req_id: int
    samples: list[_SymbolSample] = wire(default_factory=list, codec=ListOf(_SYMBOL_SAMPLE))

    def descriptions(self) -> list[ContractDescription]:
        return [
            ContractDescription(
                Contract(
                    sec_type=s.sec_type,
                    con_id=s.con_id,
                    symbol=s.symbol,
                    primary_exchange=s.primary_exchange,
                    currency=s.currency,
                    description=s.description,
                    issuer_id=s.issuer_id,
                ),
                list(s.derivative_sec_types),
            )
            for s in self.samples
        ]

    @classmethod
    def from_descriptions(
        cls, req_id: int, descriptions: list[ContractDescription], version: int
    ) -> SymbolSamples:
        with_issuer = version >= SV.BOND_ISSUERID
        return cls(
            req_id,
            [
                _SymbolSample(
                    d.contract.con_id,
                    d.contract.symbol,
                    d.contract.sec_type,
                    d.contract.primary_exchange,
                    d.contract.currency,
                    list(d.derivative_sec_types),
                    d.contract.description if with_issuer else "",
                    d.contract.issuer_id if with_issuer else "",
                )
                for d in descriptions
            ],
        )


@message(In.SECURITY_DEFINITION_OPTION_PARAMETER)
@dataclass(slots=True)
class SecurityDefinitionOptionParameter(InMessage):
    """Expirations and strikes for one exchange and trading class of an underlying."""

    req_id: int
    exchange: str = ""
    underlying_con_id: int = 0
    trading_class: str = ""
    multiplier: str = ""
    expirations: list[str] = wire(default_factory=list, codec=ListOf(STR))
    strikes: list[float] = wire(default_factory=list, codec=ListOf(FLOAT))

    def chain(self) -> OptionChain:
        return OptionChain(
            self.exchange,
            self.underlying_con_id,
            self.trading_class,
            self.multiplier,
            list(self.expirations),
            list(self.strikes),
        )


@message(In.SECURITY_DEFINITION_OPTION_PARAMETER_END)
@dataclass(slots=True)
class SecurityDefinitionOptionParameterEnd(InMessage):
    """Ends the answer to REQ_SEC_DEF_OPT_PARAMS."""

    req_id: int


_PRICE_INCREMENT: Final = StructCodec(
    PriceIncrement,
    (block_field("low_edge", FLOAT, default=0.0), block_field("increment", FLOAT, default=0.0)),
)


@message(In.MARKET_RULE)
@dataclass(slots=True)
class MarketRule(InMessage):
    """A market rule's price ladder (no request id: matched by ``market_rule_id``)."""

    market_rule_id: int
    increments: list[PriceIncrement] = wire(default_factory=list, codec=ListOf(_PRICE_INCREMENT))


_SMART_COMPONENT: Final = StructCodec(
    SmartComponent,
    (
        block_field("bit_number", INT, default=0),
        block_field("exchange", STR, default=""),
        block_field("exchange_letter", STR, default=""),
    ),
)


@message(In.SMART_COMPONENTS)
@dataclass(slots=True)
class SmartComponents(InMessage):
    """The exchanges behind a SMART BBO exchange code."""

    req_id: int
    components: list[SmartComponent] = wire(default_factory=list, codec=ListOf(_SMART_COMPONENT))
