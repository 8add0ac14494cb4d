"""Contracts: what an instrument is, and what TWS knows about it.

``Contract`` holds the fields TWS identifies an instrument by; the kinds (``Stock``,
``Option``, ``Future`` …) are contracts with their ``sec_type`` set and positional arguments
in the order traders write them. Unset values are empty strings, ``0`` for ``con_id`` and
``None`` for ``strike``: never TWS's sentinels.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from aiotws.timezones import resolve_zone

__all__ = [
    "CFD",
    "Bag",
    "Bond",
    "ComboLeg",
    "Commodity",
    "ContFuture",
    "Contract",
    "ContractDescription",
    "ContractDetails",
    "Crypto",
    "DeltaNeutralContract",
    "Forex",
    "Future",
    "FuturesOption",
    "Index",
    "IneligibilityReason",
    "MutualFund",
    "Option",
    "OptionChain",
    "PriceIncrement",
    "SecType",
    "SmartComponent",
    "Stock",
    "TagValue",
    "TradingSession",
    "Warrant",
    "parse_sessions",
]


class SecType(enum.StrEnum):
    """TWS security types."""

    STK = "STK"
    OPT = "OPT"
    FUT = "FUT"
    CONTFUT = "CONTFUT"
    CASH = "CASH"
    IND = "IND"
    CFD = "CFD"
    BOND = "BOND"
    BILL = "BILL"
    CRYPTO = "CRYPTO"
    CMDTY = "CMDTY"
    FOP = "FOP"
    WAR = "WAR"
    IOPT = "IOPT"
    FUND = "FUND"
    BAG = "BAG"
    NEWS = "NEWS"
    EVENT = "EVENT"


@dataclass(slots=True, frozen=True)
class TagValue:
    """A tag/value pair (algo parameters, secIdList, options lists)."""

    tag: str
    value: str


@dataclass(slots=True)
class ComboLeg:
    """One leg of a combo (``Bag``) contract."""

    con_id: int = 0
    ratio: int = 0
    action: str = ""  # BUY / SELL / SSHORT
    exchange: str = ""
    open_close: int = 0
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1


@dataclass(slots=True)
class DeltaNeutralContract:
    """The hedge leg of a delta-neutral order or market data request."""

    con_id: int = 0
    delta: float = 0.0
    price: float = 0.0


@dataclass(slots=True)
class Contract:
    """Any instrument, by keyword: ``Contract(con_id=265598)``, ``Contract(sec_type="STK", ...)``.

    A contract with a ``con_id`` identifies one instrument exactly; ``IB.qualify`` fills it
    in. Contracts are mutable (``qualify`` updates them in place) and hash by ``con_id``
    once they have one.
    """

    sec_type: str = ""
    con_id: int = 0
    symbol: str = ""
    last_trade_date_or_contract_month: str = ""
    strike: float | None = None
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    include_expired: bool = False
    sec_id_type: str = ""
    sec_id: str = ""
    description: str = ""
    issuer_id: str = ""
    combo_legs_descrip: str = ""
    combo_legs: list[ComboLeg] = field(default_factory=list)
    delta_neutral_contract: DeltaNeutralContract | None = None
    last_trade_date: str = ""

    def __hash__(self) -> int:
        if not self.con_id:
            raise TypeError(f"{self!r} has no con_id yet: qualify it before using it as a key")
        if self.sec_type == SecType.BAG:
            return hash((self.con_id, tuple((leg.con_id, leg.ratio) for leg in self.combo_legs)))
        return hash(self.con_id)

    def __repr__(self) -> str:
        cls = type(self)
        fixed = _KIND_SEC_TYPE.get(cls)
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "sec_type" and fixed == value:
                continue
            default = (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            )
            if value != default:
                parts.append(f"{f.name}={value!r}")
        return f"{cls.__name__}({', '.join(parts)})"

    @property
    def is_qualified(self) -> bool:
        return self.con_id != 0

    def copy(self, **changes: Any) -> Contract:
        """A plain :class:`Contract` with the same fields (and ``changes``)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(Contract)}
        values["combo_legs"] = [dataclasses.replace(leg) for leg in self.combo_legs]
        values.update(changes)
        return Contract(**values)


class Stock(Contract):
    """A stock or ETF: ``Stock("AAPL", "SMART", "USD", primary_exchange="NASDAQ")``."""

    __slots__ = ()

    def __init__(
        self, symbol: str = "", exchange: str = "SMART", currency: str = "USD", **kw: Any
    ) -> None:
        super().__init__(sec_type="STK", symbol=symbol, exchange=exchange, currency=currency, **kw)


class Option(Contract):
    """An option: ``Option("AAPL", "20261218", 200.0, "C", "SMART")``."""

    __slots__ = ()

    def __init__(
        self,
        symbol: str = "",
        last_trade_date_or_contract_month: str = "",
        strike: float | None = None,
        right: str = "",
        exchange: str = "SMART",
        multiplier: str = "",
        currency: str = "USD",
        **kw: Any,
    ) -> None:
        super().__init__(
            sec_type="OPT",
            symbol=symbol,
            last_trade_date_or_contract_month=last_trade_date_or_contract_month,
            strike=strike,
            right=right,
            exchange=exchange,
            multiplier=multiplier,
            currency=currency,
            **kw,
        )


class Future(Contract):
    """A future: ``Future("ES", "202612", "CME")``."""

    __slots__ = ()

    def __init__(
        self,
        symbol: str = "",
        last_trade_date_or_contract_month: str = "",
        exchange: str = "",
        local_symbol: str = "",
        multiplier: str = "",
        currency: str = "",
        **kw: Any,
    ) -> None:
        super().__init__(
            sec_type="FUT",
            symbol=symbol,
            last_trade_date_or_contract_month=last_trade_date_or_contract_month,
            exchange=exchange,
            local_symbol=local_symbol,
            multiplier=multiplier,
            currency=currency,
            **kw,
        )


class ContFuture(Contract):
    """A continuous future (front month, rolled by TWS): ``ContFuture("ES", "CME")``."""

    __slots__ = ()

    def __init__(
        self,
        symbol: str = "",
        exchange: str = "",
        local_symbol: str = "",
        multiplier: str = "",
        currency: str = "",
        **kw: Any,
    ) -> None:
        super().__init__(
            sec_type="CONTFUT",
            symbol=symbol,
            exchange=exchange,
            local_symbol=local_symbol,
            multiplier=multiplier,
            currency=currency,
            **kw,
        )


class Forex(Contract):
    """A currency pair on IDEALPRO: ``Forex("EURUSD")`` or ``Forex("EUR", currency="USD")``."""

    __slots__ = ()

    def __init__(
        self,
        pair: str = "",
        exchange: str = "IDEALPRO",
        symbol: str = "",
        currency: str = "",
        **kw: Any,
    ) -> None:
        if len(pair) == 3 and not symbol:  # Forex("EUR", currency="USD")
            symbol, pair = pair, ""
        if pair:
            if len(pair) != 6 and "." not in pair:
                raise ValueError(f"expected a pair like 'EURUSD' or 'EUR.USD', got {pair!r}")
            base, quote = pair.split(".") if "." in pair else (pair[:3], pair[3:])
            symbol = symbol or base
            currency = currency or quote
        super().__init__(sec_type="CASH", symbol=symbol, exchange=exchange, currency=currency, **kw)

    @property
    def pair(self) -> str:
        return self.symbol + self.currency


class Index(Contract):
    """An index: ``Index("SPX", "CBOE")``."""

    __slots__ = ()

    def __init__(self, symbol: str = "", exchange: str = "", currency: str = "", **kw: Any) -> None:
        super().__init__(sec_type="IND", symbol=symbol, exchange=exchange, currency=currency, **kw)


class CFD(Contract):
    """A contract for difference: ``CFD("IBUS500")``."""

    __slots__ = ()

    def __init__(
        self, symbol: str = "", exchange: str = "SMART", currency: str = "", **kw: Any
    ) -> None:
        super().__init__(sec_type="CFD", symbol=symbol, exchange=exchange, currency=currency, **kw)


class Commodity(Contract):
    """A commodity (spot metal): ``Commodity("XAUUSD", "SMART", "USD")``."""

    __slots__ = ()

    def __init__(
        self, symbol: str = "", exchange: str = "SMART", currency: str = "", **kw: Any
    ) -> None:
        super().__init__(
            sec_type="CMDTY", symbol=symbol, exchange=exchange, currency=currency, **kw
        )


class Crypto(Contract):
    """A crypto currency: ``Crypto("BTC", "PAXOS", "USD")``."""

    __slots__ = ()

    def __init__(
        self, symbol: str = "", exchange: str = "PAXOS", currency: str = "USD", **kw: Any
    ) -> None:
        super().__init__(
            sec_type="CRYPTO", symbol=symbol, exchange=exchange, currency=currency, **kw
        )


class FuturesOption(Contract):
    """An option on a future: ``FuturesOption("ES", "20261218", 6000.0, "C", "CME")``."""

    __slots__ = ()

    def __init__(
        self,
        symbol: str = "",
        last_trade_date_or_contract_month: str = "",
        strike: float | None = None,
        right: str = "",
        exchange: str = "",
        multiplier: str = "",
        currency: str = "",
        **kw: Any,
    ) -> None:
        super().__init__(
            sec_type="FOP",
            symbol=symbol,
            last_trade_date_or_contract_month=last_trade_date_or_contract_month,
            strike=strike,
            right=right,
            exchange=exchange,
            multiplier=multiplier,
            currency=currency,
            **kw,
        )


class Bond(Contract):
    """A bond, usually by identifier: ``Bond(sec_id_type="ISIN", sec_id="US912828...")``."""

    __slots__ = ()

    def __init__(self, **kw: Any) -> None:
        super().__init__(sec_type="BOND", **kw)


class MutualFund(Contract):
    """A mutual fund."""

    __slots__ = ()

    def __init__(self, **kw: Any) -> None:
        super().__init__(sec_type="FUND", **kw)


class Warrant(Contract):
    """A warrant."""

    __slots__ = ()

    def __init__(self, **kw: Any) -> None:
        super().__init__(sec_type="WAR", **kw)


class Bag(Contract):
    """A combo: ``Bag(symbol="AAPL", exchange="SMART", currency="USD", combo_legs=[...])``."""

    __slots__ = ()

    def __init__(self, **kw: Any) -> None:
        super().__init__(sec_type="BAG", **kw)


_KIND_SEC_TYPE: dict[type, str] = {
    Stock: "STK",
    Option: "OPT",
    Future: "FUT",
    ContFuture: "CONTFUT",
    Forex: "CASH",
    Index: "IND",
    CFD: "CFD",
    Commodity: "CMDTY",
    Crypto: "CRYPTO",
    FuturesOption: "FOP",
    Bond: "BOND",
    MutualFund: "FUND",
    Warrant: "WAR",
    Bag: "BAG",
}


class TradingSession(NamedTuple):
    """One trading (or liquid) session, tz-aware in the instrument's zone."""

    start: datetime
    end: datetime


def parse_sessions(hours: str, time_zone_id: str) -> list[TradingSession]:
    """Parse TWS's ``tradingHours``/``liquidHours``: ``20260301:0930-20260301:1600;…``.

    Days marked ``CLOSED`` are skipped. Times are in the instrument's zone (``time_zone_id``,
    a TWS zone name such as ``US/Eastern``); an unknown zone falls back to UTC, so the result
    is never naive.
    """
    zone = resolve_zone(time_zone_id) or UTC
    sessions = []
    for raw in hours.split(";"):
        part = raw.strip()
        if not part or part.endswith("CLOSED") or "-" not in part:
            continue
        start_s, end_s = part.split("-", 1)
        try:
            start = datetime.strptime(start_s, "%Y%m%d:%H%M").replace(tzinfo=zone)
            end = datetime.strptime(end_s, "%Y%m%d:%H%M").replace(tzinfo=zone)
        except ValueError:
            continue
        sessions.append(TradingSession(start, end))
    return sessions


@dataclass(slots=True, frozen=True)
class IneligibilityReason:
    """Why a contract cannot be traded by this account (server 186+)."""

    id: str
    description: str


@dataclass(slots=True)
class ContractDetails:
    """Everything TWS tells about one contract (CONTRACT_DATA / BOND_CONTRACT_DATA)."""

    contract: Contract = field(default_factory=Contract)
    market_name: str = ""
    min_tick: float = 0.0
    order_types: list[str] = field(default_factory=list)
    valid_exchanges: list[str] = field(default_factory=list)
    price_magnifier: int = 0
    under_con_id: int = 0
    long_name: str = ""
    contract_month: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    time_zone_id: str = ""
    trading_hours: str = ""
    liquid_hours: str = ""
    ev_rule: str = ""
    ev_multiplier: int = 0
    agg_group: int | None = None
    under_symbol: str = ""
    under_sec_type: str = ""
    market_rule_ids: list[int] = field(default_factory=list)
    sec_id_list: list[TagValue] = field(default_factory=list)
    real_expiration_date: str = ""
    last_trade_time: str = ""
    stock_type: str = ""
    min_size: Decimal | None = None
    size_increment: Decimal | None = None
    suggested_size_increment: Decimal | None = None
    # bonds
    cusip: str = ""
    ratings: str = ""
    desc_append: str = ""
    bond_type: str = ""
    coupon_type: str = ""
    callable: bool = False
    putable: bool = False
    coupon: float = 0.0
    convertible: bool = False
    maturity: str = ""
    issue_date: str = ""
    next_option_date: str = ""
    next_option_type: str = ""
    next_option_partial: bool = False
    notes: str = ""
    # funds (server 179+, sec type FUND)
    fund_name: str = ""
    fund_family: str = ""
    fund_type: str = ""
    fund_front_load: str = ""
    fund_back_load: str = ""
    fund_back_load_time_interval: str = ""
    fund_management_fee: str = ""
    fund_closed: bool = False
    fund_closed_for_new_investors: bool = False
    fund_closed_for_new_money: bool = False
    fund_notify_amount: str = ""
    fund_minimum_initial_purchase: str = ""
    fund_subsequent_minimum_purchase: str = ""
    fund_blue_sky_states: str = ""
    fund_blue_sky_territories: str = ""
    fund_distribution_policy_indicator: str = ""
    fund_asset_type: str = ""
    ineligibility_reasons: list[IneligibilityReason] = field(default_factory=list)

    def trading_sessions(self) -> list[TradingSession]:
        """The trading sessions of :attr:`trading_hours`, tz-aware."""
        return parse_sessions(self.trading_hours, self.time_zone_id)

    def liquid_sessions(self) -> list[TradingSession]:
        """The liquid (regular) sessions of :attr:`liquid_hours`, tz-aware."""
        return parse_sessions(self.liquid_hours, self.time_zone_id)


@dataclass(slots=True)
class ContractDescription:
    """A match of a symbol search (SYMBOL_SAMPLES)."""

    contract: Contract = field(default_factory=Contract)
    derivative_sec_types: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class PriceIncrement:
    """One rung of a market rule: from ``low_edge`` up, prices move by ``increment``."""

    low_edge: float
    increment: float


@dataclass(slots=True)
class OptionChain:
    """Option expirations and strikes for one exchange and trading class (sec-def params)."""

    exchange: str
    underlying_con_id: int
    trading_class: str
    multiplier: str
    expirations: list[str] = field(default_factory=list)
    strikes: list[float] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class SmartComponent:
    """An exchange behind a SMART BBO code (SMART_COMPONENTS)."""

    bit_number: int
    exchange: str
    exchange_letter: str
