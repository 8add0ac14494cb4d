"""The simulator's market scanners: parameters XML and scan results over the universe.

REQ_SCANNER_PARAMETERS is answered with :func:`parameters_xml`, a document in the structure
of TWS's (``ScanParameterResponse`` > ``InstrumentList``, ``LocationTree``,
``ScanTypeList``, ``FilterList``; about 30 KB where TWS's is 2 MB) that describes exactly
what this simulator can scan:

* instruments ``STK`` (US stocks and ETFs), ``ETF.EQ.US``, ``STOCK.NA`` (no instruments in
  the universe: every scan is empty), ``STOCK.EU`` (IBM on SIX), ``FUT.US``, ``IND.US``;
* locations ``STK.US`` > ``STK.US.MAJOR`` > ``STK.NYSE`` / ``STK.NASDAQ`` / ``STK.ARCA`` /
  ``STK.AMEX``, ``STK.US.MINOR``; ``ETF.EQ.US`` > ``ETF.EQ.US.MAJOR``; ``STK.NA`` >
  ``STK.NA.CANADA``; ``STK.EU`` > ``STK.EU.EBS``; ``FUT.US`` > ``FUT.CME`` / ``FUT.NYMEX``;
  ``IND.US``;
* scan codes TOP_PERC_GAIN, TOP_PERC_LOSE, TOP_OPEN_PERC_GAIN, MOST_ACTIVE, HOT_BY_VOLUME,
  TOP_TRADE_COUNT, HIGH_OPT_IMP_VOLAT, HALTED (see :data:`SCAN_TYPES` for which instruments
  each applies to);
* filters (``filter_options`` tags) priceAbove/priceBelow, volumeAbove/volumeBelow,
  marketCapAbove1e6/marketCapBelow1e6 (millions of USD), changePercAbove/changePercBelow,
  tradeCountAbove, impVolatAbove/impVolatBelow (percent).

A subscription is computed from the universe and the live market (last price, else the
midpoint; change from the previous close; cumulative volume; trade count; market cap from
:data:`SHARES_OUTSTANDING`): instrument, location, ``above_price`` / ``below_price`` /
``above_volume`` / ``market_cap_above`` / ``market_cap_below`` (USD) /
``stock_type_filter`` (``CORP``, ``ETF``, ``ALL``) and the filter tags are honoured,
``number_of_rows`` (at most 50; more is capped, as TWS does). Ties rank by conId, so a seed
gives the same ranks. SCANNER_DATA goes out at once and then every :data:`REFRESH_INTERVAL`
seconds of ``config.clock`` (TWS refreshes about every 30 s; tests lower the constant), the
market moving on the market clock meanwhile (instruments nobody else steps are stepped
here). While ``sim.data_paused`` no set is sent.

Errors as TWS sends them (texts marked *unverified* in the docs where no capture was found):
an unknown or inapplicable instrument, location or scan code, or an unknown filter tag,
gets 162 from the scanner service; the 11th simultaneous subscription (across the sessions:
TWS allows :data:`MAX_SUBSCRIPTIONS`) 162 too; a duplicate id 385; CANCEL answers 162
"API scanner subscription cancelled: <id>" (as TWS acknowledges a cancel) or 365 for an
unknown id.
"""

from __future__ import annotations

import functools
import math
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from aiotws.model.contract import Contract, TagValue
from aiotws.model.scanner import MAX_SCANNER_ROWS, ScannerSubscription, ScanRow
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
from aiotws.sim.universe import Instrument, Universe
from aiotws.wire.messages.scanner import (
    CancelScannerSubscription,
    ReqScannerParameters,
    ReqScannerSubscription,
    ScannerData,
    ScannerParameters,
)

__all__ = [
    "FILTERS",
    "INSTRUMENTS",
    "MAX_SUBSCRIPTIONS",
    "REFRESH_INTERVAL",
    "SCAN_TYPES",
    "SHARES_OUTSTANDING",
    "ScanSubscription",
    "compute_scan",
    "parameters_xml",
    "step_scanners",
]

#: seconds of ``config.clock`` between two result sets of a subscription (TWS: about 30)
REFRESH_INTERVAL: float = 30.0
#: simultaneous scanner subscriptions TWS allows (across its API clients)
MAX_SUBSCRIPTIONS: Final = 10

_S: Final = "scanner"
_SEEN: Final = "scanner.seen"
_HMDS: Final = "Historical Market Data Service error message:"

#: shares outstanding (millions) for the market cap of the universe's stocks
SHARES_OUTSTANDING: Final[dict[str, float]] = {
    "AAPL": 15_200.0,
    "MSFT": 7_430.0,
    "AMZN": 10_500.0,
    "GOOGL": 12_300.0,
    "NVDA": 24_500.0,
    "TSLA": 3_210.0,
    "META": 2_530.0,
    "JPM": 2_810.0,
    "IBM": 925.0,
}

_EUROPE: Final = frozenset({"EBS", "IBIS", "LSE", "SBF", "AEB", "BVME", "BM", "SFB"})
_CANADA_MEXICO: Final = frozenset({"TSE", "VENTURE", "MEXI"})
_US_FUTURES: Final = frozenset({"CME", "CBOT", "NYMEX", "COMEX", "CFE"})


# -- instruments, locations, scan types, filters ---------------------------------------------


@dataclass(frozen=True, slots=True)
class _InstrumentType:
    code: str
    name: str
    sec_type: str
    group: str
    short_name: str
    filters: tuple[str, ...]
    member: Callable[[Instrument], bool]


def _us_stock(i: Instrument) -> bool:
    c = i.contract
    return c.sec_type == "STK" and c.currency == "USD" and c.primary_exchange not in _EUROPE


def _etf(i: Instrument) -> bool:
    return _us_stock(i) and i.details.stock_type == "ETF"


_STOCK_FILTERS: Final = ("PRICE", "VOLUME", "MKTCAP", "CHANGEPERC", "TRADECOUNT", "IMPVOLAT")

#: the instrument types, in the document's order
INSTRUMENTS: Final[tuple[_InstrumentType, ...]] = (
    _InstrumentType("STK", "US Stocks", "STK", "STK.GLOBAL", "US", _STOCK_FILTERS, _us_stock),
    _InstrumentType(
        "ETF.EQ.US",
        "US Equity ETFs",
        "STK",
        "ETF.GLOBAL",
        "US ETFs",
        ("PRICE", "VOLUME", "CHANGEPERC", "TRADECOUNT", "IMPVOLAT"),
        _etf,
    ),
    _InstrumentType(
        "STOCK.NA",
        "America Non-US Stocks",
        "STK",
        "STK.GLOBAL",
        "America",
        _STOCK_FILTERS,
        lambda i: i.contract.sec_type == "STK" and i.contract.primary_exchange in _CANADA_MEXICO,
    ),
    _InstrumentType(
        "STOCK.EU",
        "European Stocks",
        "STK",
        "STK.GLOBAL",
        "Europe",
        _STOCK_FILTERS,
        lambda i: i.contract.sec_type == "STK" and i.contract.primary_exchange in _EUROPE,
    ),
    _InstrumentType(
        "FUT.US",
        "US Futures",
        "FUT",
        "FUT.GLOBAL",
        "US Futures",
        ("PRICE", "VOLUME", "CHANGEPERC", "TRADECOUNT"),
        lambda i: i.contract.sec_type == "FUT" and i.contract.exchange in _US_FUTURES,
    ),
    _InstrumentType(
        "IND.US",
        "US Indexes",
        "IND",
        "IND.GLOBAL",
        "US Indexes",
        ("PRICE", "CHANGEPERC"),
        lambda i: i.contract.sec_type == "IND" and i.contract.currency == "USD",
    ),
)
_INSTRUMENT_BY_CODE: Final = {t.code: t for t in INSTRUMENTS}


@dataclass(frozen=True, slots=True)
class _Location:
    code: str
    name: str
    instrument: str
    route_exchange: str
    member: Callable[[Instrument], bool]
    children: tuple[_Location, ...] = ()


def _everything(i: Instrument) -> bool:
    return True


def _primary(*exchanges: str) -> Callable[[Instrument], bool]:
    return lambda i: i.contract.primary_exchange in exchanges


def _exchange(*exchanges: str) -> Callable[[Instrument], bool]:
    return lambda i: i.contract.exchange in exchanges


_L = _Location
#: the location tree (roots), in the document's order
LOCATIONS: Final[tuple[_Location, ...]] = (
    _L(
        "STK.US",
        "US Stocks",
        "STK",
        "SMART",
        _everything,
        (
            _L(
                "STK.US.MAJOR",
                "Listed/NASDAQ",
                "STK",
                "SMART",
                _everything,
                (
                    _L("STK.NYSE", "NYSE", "STK", "NYSE", _primary("NYSE")),
                    _L("STK.NASDAQ", "NASDAQ", "STK", "NASDAQ", _primary("NASDAQ")),
                    _L("STK.ARCA", "NYSE Arca", "STK", "ARCA", _primary("ARCA")),
                    _L("STK.AMEX", "NYSE American", "STK", "AMEX", _primary("AMEX")),
                ),
            ),
            _L("STK.US.MINOR", "US OTC", "STK", "PINK", _primary("PINK", "OTCBB")),
        ),
    ),
    _L(
        "ETF.EQ.US",
        "US Equity ETFs",
        "ETF.EQ.US",
        "SMART",
        _everything,
        (_L("ETF.EQ.US.MAJOR", "Listed/NASDAQ", "ETF.EQ.US", "SMART", _everything),),
    ),
    _L(
        "STK.NA",
        "America Non-US",
        "STOCK.NA",
        "SMART",
        _everything,
        (_L("STK.NA.CANADA", "Canada", "STOCK.NA", "TSE", _primary("TSE", "VENTURE")),),
    ),
    _L(
        "STK.EU",
        "Europe",
        "STOCK.EU",
        "SMART",
        _everything,
        (
            _L("STK.EU.EBS", "SIX Swiss Exchange", "STOCK.EU", "EBS", _primary("EBS")),
            _L("STK.EU.IBIS", "XETRA", "STOCK.EU", "IBIS", _primary("IBIS")),
        ),
    ),
    _L(
        "FUT.US",
        "US Futures",
        "FUT.US",
        "",
        _everything,
        (
            _L("FUT.CME", "CME", "FUT.US", "CME", _exchange("CME")),
            _L("FUT.NYMEX", "NYMEX", "FUT.US", "NYMEX", _exchange("NYMEX")),
        ),
    ),
    _L("IND.US", "US Indexes", "IND.US", "", _everything),
)


def _walk(locs: tuple[_Location, ...]) -> list[_Location]:
    out: list[_Location] = []
    for loc in locs:
        out.append(loc)
        out.extend(_walk(loc.children))
    return out


_LOCATION_BY_CODE: Final = {loc.code: loc for loc in _walk(LOCATIONS)}


@dataclass(slots=True)
class _Metrics:
    """What the scans and filters look at, for one instrument now."""

    inst: Instrument
    price: float
    change_pct: float
    open_change_pct: float
    volume: float
    trade_count: int
    market_cap: float | None  # USD
    imp_vol: float  # percent
    rel_volume: float
    halted: bool


_STOCKS: Final = ("STK", "ETF.EQ.US", "STOCK.NA", "STOCK.EU")
_TRADED: Final = (*_STOCKS, "FUT.US")


@dataclass(frozen=True, slots=True)
class _ScanType:
    code: str
    name: str
    instruments: tuple[str, ...]
    column: str
    key: Callable[[_Metrics], float]
    keep: Callable[[_Metrics], bool] = lambda m: True


#: the scan types: code, name, the instruments they apply to, the ranking
SCAN_TYPES: Final[tuple[_ScanType, ...]] = (
    _ScanType(
        "TOP_PERC_GAIN",
        "Top % Gainers",
        (*_TRADED, "IND.US"),
        "Change %",
        lambda m: m.change_pct,
        lambda m: m.change_pct > 0,
    ),
    _ScanType(
        "TOP_PERC_LOSE",
        "Top % Losers",
        (*_TRADED, "IND.US"),
        "Change %",
        lambda m: -m.change_pct,
        lambda m: m.change_pct < 0,
    ),
    _ScanType(
        "TOP_OPEN_PERC_GAIN",
        "Top % Gainers Since Open",
        _TRADED,
        "Change Since Open %",
        lambda m: m.open_change_pct,
        lambda m: m.open_change_pct > 0,
    ),
    _ScanType("MOST_ACTIVE", "Most Active", _TRADED, "Volume", lambda m: m.volume),
    _ScanType(
        "HOT_BY_VOLUME", "Hot Contracts by Volume", _STOCKS, "Volume Rate", lambda m: m.rel_volume
    ),
    _ScanType(
        "TOP_TRADE_COUNT", "Top Trade Count", _TRADED, "Trade Count", lambda m: m.trade_count
    ),
    _ScanType(
        "HIGH_OPT_IMP_VOLAT",
        "Highest Option Implied Vol",
        ("STK", "ETF.EQ.US"),
        "Opt Imp Vol",
        lambda m: m.imp_vol,
    ),
    _ScanType("HALTED", "Halted", _STOCKS, "Halted", lambda m: m.volume, lambda m: m.halted),
)
_SCAN_BY_CODE: Final = {t.code: t for t in SCAN_TYPES}


@dataclass(frozen=True, slots=True)
class _FilterField:
    code: str
    name: str
    type: str  # scanner.filter.<type>
    filter_id: str
    above: bool  # a lower bound (else an upper bound)
    value: Callable[[_Metrics], float | None]
    scale: float = 1.0  # the tag's unit in the metric's unit


@dataclass(frozen=True, slots=True)
class _Filter:
    filter_id: str
    category: str
    fields: tuple[_FilterField, ...]


def _mcap(m: _Metrics) -> float | None:
    return m.market_cap


_F = _FilterField
#: the filters of the document: each a range of two fields (tags), or one
FILTERS: Final[tuple[_Filter, ...]] = (
    _Filter(
        "PRICE",
        "PriceVolume",
        (
            _F("priceAbove", "Price Above", "DoubleField", "PRICE", True, lambda m: m.price),
            _F("priceBelow", "Price Below", "DoubleField", "PRICE", False, lambda m: m.price),
        ),
    ),
    _Filter(
        "VOLUME",
        "PriceVolume",
        (
            _F("volumeAbove", "Volume Above", "IntField", "VOLUME", True, lambda m: m.volume),
            _F("volumeBelow", "Volume Below", "IntField", "VOLUME", False, lambda m: m.volume),
        ),
    ),
    _Filter(
        "MKTCAP",
        "Fundamentals",
        (
            _F("marketCapAbove1e6", "Market Cap Above ($M)", "DoubleField", "MKTCAP", True,
               _mcap, 1e6),
            _F("marketCapBelow1e6", "Market Cap Below ($M)", "DoubleField", "MKTCAP", False,
               _mcap, 1e6),
        ),
    ),
    _Filter(
        "CHANGEPERC",
        "PriceVolume",
        (
            _F("changePercAbove", "Change Above (%)", "DoubleField", "CHANGEPERC", True,
               lambda m: m.change_pct),
            _F("changePercBelow", "Change Below (%)", "DoubleField", "CHANGEPERC", False,
               lambda m: m.change_pct),
        ),
    ),
    _Filter(
        "TRADECOUNT",
        "PriceVolume",
        (
            _F("tradeCountAbove", "Trade Count Above", "IntField", "TRADECOUNT", True,
               lambda m: m.trade_count),
        ),
    ),
    _Filter(
        "IMPVOLAT",
        "Volatility",
        (
            _F("impVolatAbove", "Opt Imp Vol Above (%)", "DoubleField", "IMPVOLAT", True,
               lambda m: m.imp_vol),
            _F("impVolatBelow", "Opt Imp Vol Below (%)", "DoubleField", "IMPVOLAT", False,
               lambda m: m.imp_vol),
        ),
    ),
)  # fmt: skip
_FIELD_BY_CODE: Final = {f.code: f for flt in FILTERS for f in flt.fields}


# -- the parameters document -----------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text:
        el.text = text
    return el


def _location_xml(parent: ET.Element, loc: _Location) -> None:
    el = _sub(parent, "Location")
    _sub(el, "displayName", loc.name)
    _sub(el, "tooltip", loc.name)
    _sub(el, "raw", "false")
    _sub(el, "locationCode", loc.code)
    _sub(el, "instruments", loc.instrument)
    _sub(el, "routeExchange", loc.route_exchange)
    _sub(el, "delayedOnly", "false")
    _sub(el, "access", "unrestricted")
    if loc.children:
        tree = _sub(el, "LocationTree", varName="locationTree")
        for child in loc.children:
            _location_xml(tree, child)


@functools.cache
def parameters_xml() -> str:
    """The scanner parameters document the simulator sends (built once, deterministic)."""
    root = ET.Element("ScanParameterResponse")
    instruments = _sub(root, "InstrumentList", varName="fullInstrumentList")
    for t in INSTRUMENTS:
        el = _sub(instruments, "Instrument")
        _sub(el, "name", t.name)
        _sub(el, "type", t.code)
        _sub(el, "filters", ",".join(t.filters))
        _sub(el, "group", t.group)
        _sub(el, "shortName", t.short_name)
        _sub(el, "secType", t.sec_type)
        _sub(el, "nscanSecType", t.sec_type)
        _sub(el, "access", "unrestricted")
    tree = _sub(root, "LocationTree", varName="locationTree")
    for loc in LOCATIONS:
        _location_xml(tree, loc)
    types = _sub(root, "ScanTypeList", varName="scanTypeList")
    for n, st in enumerate(SCAN_TYPES):
        el = _sub(types, "ScanType")
        _sub(el, "displayName", st.name)
        _sub(el, "scanCode", st.code)
        _sub(el, "instruments", ",".join(st.instruments))
        _sub(el, "absoluteColumns", "false")
        cols = _sub(el, "Columns", varName="columns")
        col = _sub(cols, "Column", type="scanner.common.Column")
        _sub(col, "colId", str(100 + n))
        _sub(col, "name", st.column)
        _sub(col, "display", "true")
        _sub(col, "displayType", "DATA")
        _sub(el, "supportsSorting", "true")
        _sub(el, "respSizeLimit", str(MAX_SCANNER_ROWS))
        _sub(el, "snapshotSizeLimit", str(MAX_SCANNER_ROWS))
        _sub(el, "searchDefault", "false")
        _sub(el, "access", "unrestricted")
    filters = _sub(root, "FilterList", varName="filterList")
    for flt in FILTERS:
        el = _sub(filters, "RangeFilter" if len(flt.fields) > 1 else "SimpleFilter")
        _sub(el, "id", flt.filter_id)
        _sub(el, "category", flt.category)
        _sub(el, "histogram", "false")
        _sub(el, "access", "unrestricted")
        for f in flt.fields:
            af = _sub(el, "AbstractField", type=f"scanner.filter.{f.type}")
            _sub(af, "code", f.code)
            _sub(af, "displayName", f.name)
            _sub(af, "varName", f.code)
            _sub(af, "abbrev", f.name)
            _sub(af, "acceptNegative", "true" if flt.filter_id == "CHANGEPERC" else "false")
            _sub(af, "master", "true" if f.above else "false")
            _sub(af, "narrowField", "false")
            _sub(af, "skipNotEditableField", "false")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# -- scans -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ScanSubscription:
    """One REQ_SCANNER_SUBSCRIPTION of a session."""

    req_id: int
    subscription: ScannerSubscription
    filters: list[tuple[_FilterField, float]]
    due: float
    sets: int = 0
    last: list[ScanRow] = field(default_factory=list)


class ScanError(Exception):
    """A subscription TWS refuses: ``code`` and ``text`` of its ERR_MSG."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _rng_factor(seed: int, con_id: int) -> float:
    return random.Random(f"aiotws.sim.scanner:{seed}:{con_id}:avgvol").uniform(0.6, 1.6)


def _metrics(sim: Simulator, inst: Instrument) -> _Metrics | None:
    try:
        q = sim.market.quote(inst.con_id)
    except KeyError:
        return None
    price = q.last if q.last > 0 else q.midpoint
    if not price or price <= 0 or not math.isfinite(price):
        return None
    close = q.close if q.close > 0 else price
    opened = q.open if q.open > 0 else close
    volume = float(q.volume)
    c = inst.contract
    shares = SHARES_OUTSTANDING.get(c.symbol) if c.sec_type == "STK" else None
    mcap = price * shares * 1e6 if shares is not None and inst.details.stock_type != "ETF" else None
    return _Metrics(
        inst=inst,
        price=price,
        change_pct=(price - close) / close * 100.0,
        open_change_pct=(price - opened) / opened * 100.0,
        volume=volume,
        trade_count=q.trade_count,
        market_cap=mcap,
        imp_vol=inst.volatility * 100.0,
        rel_volume=volume / _rng_factor(sim.config.seed, inst.con_id) / 1e5,
        halted=q.halted,
    )


def _validate(sub: ScannerSubscription, tags: list[TagValue]) -> list[tuple[_FilterField, float]]:
    """The subscription's filter fields with their values; raises :class:`ScanError`."""
    itype = _INSTRUMENT_BY_CODE.get(sub.instrument)
    if itype is None:
        raise ScanError(162, f"{_HMDS}Invalid instrument type: {sub.instrument}")
    loc = _LOCATION_BY_CODE.get(sub.location_code)
    if loc is None or loc.instrument != itype.code:
        raise ScanError(
            162, f"{_HMDS}Invalid location code {sub.location_code} for {sub.instrument}"
        )
    scan = _SCAN_BY_CODE.get(sub.scan_code)
    if scan is None or itype.code not in scan.instruments:
        raise ScanError(162, f"{_HMDS}Invalid scan code {sub.scan_code} for {sub.instrument}")
    out: list[tuple[_FilterField, float]] = []
    for tv in tags:
        f = _FIELD_BY_CODE.get(tv.tag)
        if f is None or f.filter_id not in itype.filters:
            raise ScanError(162, f"{_HMDS}Invalid filter {tv.tag} for {sub.instrument}")
        try:
            value = float(tv.value)
        except ValueError:
            raise ScanError(162, f"{_HMDS}Invalid value {tv.value!r} of filter {tv.tag}") from None
        if not math.isfinite(value):
            raise ScanError(162, f"{_HMDS}Invalid value {tv.value!r} of filter {tv.tag}")
        out.append((f, value * f.scale))
    return out


def _members(universe: Universe, sub: ScannerSubscription) -> list[Instrument]:
    itype = _INSTRUMENT_BY_CODE[sub.instrument]
    loc = _LOCATION_BY_CODE[sub.location_code]
    return [i for i in universe.underlyings if itype.member(i) and loc.member(i)]


def _passes(
    sub: ScannerSubscription, m: _Metrics, filters: list[tuple[_FilterField, float]]
) -> bool:
    if sub.above_price is not None and m.price < sub.above_price:
        return False
    if sub.below_price is not None and m.price > sub.below_price:
        return False
    if sub.above_volume is not None and m.volume < sub.above_volume:
        return False
    if sub.market_cap_above is not None and (
        m.market_cap is None or m.market_cap < sub.market_cap_above
    ):
        return False
    if sub.market_cap_below is not None and (
        m.market_cap is None or m.market_cap > sub.market_cap_below
    ):
        return False
    kind = sub.stock_type_filter.upper()
    stock_type = m.inst.details.stock_type
    if kind in ("CORP", "STOCK", "COMMON") and stock_type != "COMMON":
        return False
    if kind == "ETF" and stock_type != "ETF":
        return False
    for f, bound in filters:
        v = f.value(m)
        if v is None or (v < bound if f.above else v > bound):
            return False
    return True


def _row(rank: int, inst: Instrument) -> ScanRow:
    c = inst.contract
    d = inst.details
    contract = Contract(
        sec_type=c.sec_type,
        con_id=c.con_id,
        symbol=c.symbol,
        last_trade_date_or_contract_month=c.last_trade_date_or_contract_month,
        strike=0.0,
        right=c.right,
        exchange=c.exchange,
        currency=c.currency,
        local_symbol=c.local_symbol,
        trading_class=c.trading_class or d.market_name,
    )
    return ScanRow(rank, contract, d.market_name)


def compute_scan(
    sim: Simulator,
    sub: ScannerSubscription,
    filters: list[tuple[_FilterField, float]] | None = None,
) -> list[ScanRow]:
    """The result set of ``sub`` on the simulator's market now (validated subscriptions
    only; see :func:`_validate`)."""
    scan = _SCAN_BY_CODE[sub.scan_code]
    rows = (
        MAX_SCANNER_ROWS
        if sub.number_of_rows is None
        else min(sub.number_of_rows, MAX_SCANNER_ROWS)
    )
    ranked: list[tuple[float, int, Instrument]] = []
    for inst in _members(sim.universe, sub):
        m = _metrics(sim, inst)
        if m is None or not scan.keep(m) or not _passes(sub, m, filters or []):
            continue
        ranked.append((-scan.key(m), inst.con_id, inst))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [_row(n, inst) for n, (_, _, inst) in enumerate(ranked[: max(rows, 0)])]


def _subs(session: SimSession) -> dict[int, ScanSubscription]:
    subs: dict[int, ScanSubscription] = session.state.setdefault(_S, {})
    return subs


def _in_use(sim: Simulator) -> int:
    return sum(len(s.state.get(_S, ())) for s in sim.sessions)


def _send_set(session: SimSession, sub: ScanSubscription) -> None:
    rows = compute_scan(session.sim, sub.subscription, sub.filters)
    sub.last = rows
    sub.sets += 1
    session.send(ScannerData.from_records(sub.req_id, rows))


# -- handlers --------------------------------------------------------------------------------


@handles(ReqScannerParameters)
def _req_scanner_parameters(session: SimSession, msg: ReqScannerParameters) -> None:
    session.send(ScannerParameters(parameters_xml()))


@handles(ReqScannerSubscription)
def _req_scanner_subscription(session: SimSession, msg: ReqScannerSubscription) -> None:
    sim = session.sim
    subs = _subs(session)
    req_id = msg.req_id
    if req_id in subs:
        session.send_error(req_id, 385, "Duplicate ticker id for API scanner subscription")
        return
    try:
        filters = _validate(msg.subscription, msg.filter_options)
    except ScanError as e:
        session.send_error(req_id, e.code, e.text)
        return
    if _in_use(sim) >= MAX_SUBSCRIPTIONS:
        session.send_error(
            req_id,
            162,
            f"{_HMDS}Max number of active scanner subscriptions reached ({MAX_SUBSCRIPTIONS})",
        )
        return
    sub = ScanSubscription(req_id, msg.subscription, filters, sim.config.clock())
    subs[req_id] = sub
    if not sim.data_paused:
        _send_set(session, sub)
        sub.due = sim.config.clock() + REFRESH_INTERVAL
    _remember_serials(sim, sub)
    sim.ensure_market_clock()


@handles(CancelScannerSubscription)
def _cancel_scanner_subscription(session: SimSession, msg: CancelScannerSubscription) -> None:
    if _subs(session).pop(msg.req_id, None) is None:
        session.send_error(
            msg.req_id, 365, f"No scanner subscription found for ticker id:{msg.req_id}"
        )
        return
    session.send_error(msg.req_id, 162, f"{_HMDS}API scanner subscription cancelled: {msg.req_id}")


# -- the clock -------------------------------------------------------------------------------


def _seen(sim: Simulator) -> dict[int, int]:
    seen: dict[int, int] = sim.store.setdefault(_SEEN, {})
    return seen


def _remember_serials(sim: Simulator, sub: ScanSubscription) -> None:
    seen = _seen(sim)
    for inst in _members(sim.universe, sub.subscription):
        seen.setdefault(inst.con_id, sim.market.serial(inst.con_id))


@on_clock
def step_scanners(sim: Simulator, *, force: bool = False) -> int:
    """The market clock for scanners: move the scanned instruments nobody else moved since
    the last tick, then send each subscription whose refresh is due (``force``: every
    subscription now) its new result set. Returns how many sets were sent."""
    live = [(s, sub) for s in list(sim.sessions) for sub in list(s.state.get(_S, {}).values())]
    if not live or sim.data_paused:
        return 0
    seen = _seen(sim)
    con_ids = sorted(
        {i.con_id for _, sub in live for i in _members(sim.universe, sub.subscription)}
    )
    now = datetime.now(UTC)
    for con_id in con_ids:
        serial = sim.market.serial(con_id)
        if seen.get(con_id, serial) == serial:  # nobody stepped it since we last looked
            sim.market.step(con_id, now)
        seen[con_id] = sim.market.serial(con_id)
    t = sim.config.clock()
    sent = 0
    for session, sub in live:
        if force or t >= sub.due:
            _send_set(session, sub)
            sub.due = t + REFRESH_INTERVAL
            sent += 1
    return sent
