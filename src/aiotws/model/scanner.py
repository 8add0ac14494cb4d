"""Market scanner records: the subscription, one result row, and the parameters document.

* :class:`ScannerSubscription`: what to scan for (TWS's ``ScannerSubscription``, snake_case;
  unset numbers are ``None``, not TWS's ``UNSET_DOUBLE`` / ``UNSET_INTEGER``).
  :meth:`ScannerSubscription.check` raises
  :class:`~aiotws.errors.InvalidScannerSubscription` for what TWS would refuse.
* :class:`ScanRow`: one ranked result of a scan (SCANNER_DATA's rows).
* :class:`ScannerParameters`: TWS's scanner parameters XML (REQ_SCANNER_PARAMETERS), parsed
  once into browsable records: instrument types, the location tree, scan types and filters,
  with the raw text kept as :attr:`ScannerParameters.xml`. :func:`parse_scanner_parameters`
  does the parsing (one pass of the stdlib's C parser; the real document is about 2 MB).

No I/O.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from aiotws.errors import InvalidScannerSubscription
from aiotws.model.contract import Contract

__all__ = [
    "MAX_SCANNER_ROWS",
    "ScanFilter",
    "ScanInstrument",
    "ScanLocation",
    "ScanRow",
    "ScanType",
    "ScannerParameters",
    "ScannerSubscription",
    "parse_scanner_parameters",
]

#: TWS returns at most 50 rows per scan (``number_of_rows`` above it is refused)
MAX_SCANNER_ROWS: Final = 50


@dataclass(slots=True)
class ScannerSubscription:
    """What to scan for; official ``ScannerSubscription`` (ib_async: the same name).

    ``instrument`` (``"STK"``, ``"ETF.EQ.US"``, ``"FUT.US"`` …), ``location_code``
    (``"STK.US.MAJOR"``, ``"STK.NASDAQ"`` …) and ``scan_code`` (``"TOP_PERC_GAIN"`` …) come
    from :class:`ScannerParameters`. ``number_of_rows``: at most 50; ``None`` lets TWS
    choose (it sends up to 50). The numeric filters are ``None`` when unset. More filters
    (any of :meth:`ScannerParameters.filters`) go as ``filter_options`` tag/values of
    ``IB.scanner``.
    """

    scan_code: str = ""
    instrument: str = "STK"
    location_code: str = "STK.US.MAJOR"
    number_of_rows: int | None = None
    above_price: float | None = None
    below_price: float | None = None
    above_volume: int | None = None
    market_cap_above: float | None = None
    market_cap_below: float | None = None
    moody_rating_above: str = ""
    moody_rating_below: str = ""
    sp_rating_above: str = ""
    sp_rating_below: str = ""
    maturity_date_above: str = ""
    maturity_date_below: str = ""
    coupon_rate_above: float | None = None
    coupon_rate_below: float | None = None
    exclude_convertible: bool = False
    average_option_volume_above: int | None = None
    scanner_setting_pairs: str = ""
    stock_type_filter: str = ""

    def check(self) -> None:
        """Raise :class:`~aiotws.errors.InvalidScannerSubscription` for a subscription TWS
        would refuse: no scan code, instrument or location; ``number_of_rows`` not in
        1..50; a negative or non-finite bound; ``above_price`` over ``below_price``."""
        for name in ("scan_code", "instrument", "location_code"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidScannerSubscription(name, "must not be empty")
        rows = self.number_of_rows
        if rows is not None and not (1 <= rows <= MAX_SCANNER_ROWS):
            raise InvalidScannerSubscription(
                "number_of_rows", f"must be 1..{MAX_SCANNER_ROWS} (or None), not {rows}"
            )
        for name in (
            "above_price",
            "below_price",
            "market_cap_above",
            "market_cap_below",
            "coupon_rate_above",
            "coupon_rate_below",
        ):
            v = getattr(self, name)
            if v is not None and (not math.isfinite(v) or v < 0):
                raise InvalidScannerSubscription(name, f"must be a finite number >= 0, not {v}")
        for name in ("above_volume", "average_option_volume_above"):
            n = getattr(self, name)
            if n is not None and n < 0:
                raise InvalidScannerSubscription(name, f"must be >= 0, not {n}")
        lo, hi = self.above_price, self.below_price
        if lo is not None and hi is not None and lo > hi:
            raise InvalidScannerSubscription(
                "above_price", f"{lo} is above below_price {hi}: nothing can match"
            )
        lo, hi = self.market_cap_above, self.market_cap_below
        if lo is not None and hi is not None and lo > hi:
            raise InvalidScannerSubscription(
                "market_cap_above", f"{lo} is above market_cap_below {hi}: nothing can match"
            )


@dataclass(slots=True)
class ScanRow:
    """One result of a scan: official ``scannerData(reqId, rank, contractDetails, distance,
    benchmark, projection, legsStr)``; ib_async ``ScanData``.

    ``rank`` counts from 0. ``contract`` carries what SCANNER_DATA sends (conId, symbol,
    sec type, expiry, strike, right, exchange, currency, local symbol, trading class);
    ``market_name`` is the details' market name. ``distance``, ``benchmark`` and
    ``projection`` are TWS's texts (empty for most scans); ``legs`` the combo legs text.
    """

    rank: int
    contract: Contract
    market_name: str = ""
    distance: str = ""
    benchmark: str = ""
    projection: str = ""
    legs: str = ""


# -- the parameters document -----------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ScanInstrument:
    """An instrument type scans can run over (``<Instrument>``): ``code`` is what goes in
    :attr:`ScannerSubscription.instrument` (``"STK"``), ``filters`` the ids of the filters
    (:attr:`ScanFilter.filter_id`) it accepts."""

    code: str
    name: str
    sec_type: str = ""
    group: str = ""
    short_name: str = ""
    filters: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class ScanLocation:
    """A node of the location tree (``<Location>``): ``code`` goes in
    :attr:`ScannerSubscription.location_code`; ``children`` are the narrower locations."""

    code: str
    name: str
    instruments: tuple[str, ...] = ()
    route_exchange: str = ""
    delayed_only: bool = False
    children: tuple[ScanLocation, ...] = ()

    def walk(self) -> Iterator[ScanLocation]:
        """This location and every location under it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(slots=True, frozen=True)
class ScanType:
    """A scan (``<ScanType>``): ``code`` goes in :attr:`ScannerSubscription.scan_code`;
    ``instruments`` are the instrument types it applies to."""

    code: str
    name: str
    instruments: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class ScanFilter:
    """One filter field (an ``<AbstractField>`` of a ``<RangeFilter>`` / ``<SimpleFilter>``):
    ``code`` is the tag of a ``filter_options`` tag/value (``TagValue("priceAbove", "5")``).

    ``type`` is TWS's field type without its package (``"DoubleField"``, ``"IntField"``,
    ``"ComboField"`` …); ``filter_id`` and ``category`` those of the filter it belongs to;
    ``instruments`` the instrument types that accept that filter; ``values`` the choices of
    a combo field.
    """

    code: str
    name: str
    type: str = ""
    filter_id: str = ""
    category: str = ""
    instruments: tuple[str, ...] = ()
    values: tuple[str, ...] = ()


@dataclass(slots=True)
class ScannerParameters:
    """TWS's scanner parameters, parsed: official ``scannerParameters(xml)``, ib_async
    ``reqScannerParameters()`` (which returns the raw XML, here :attr:`xml`).

    ``instruments``, ``location_tree`` (the roots), ``scan_types`` and ``all_filters`` in
    document order; the helpers select by instrument type and search by text.
    """

    xml: str = field(repr=False)
    instruments: tuple[ScanInstrument, ...] = ()
    location_tree: tuple[ScanLocation, ...] = ()
    scan_types: tuple[ScanType, ...] = ()
    all_filters: tuple[ScanFilter, ...] = ()

    def instrument(self, code: str) -> ScanInstrument | None:
        """The instrument type ``code`` (``"STK"``), or ``None``."""
        for i in self.instruments:
            if i.code == code:
                return i
        return None

    def scan_codes(self, instrument: str | None = None) -> list[str]:
        """The scan codes (of the scans that apply to ``instrument``, or all)."""
        return [t.code for t in self.scan_types_for(instrument)]

    def scan_types_for(self, instrument: str | None = None) -> list[ScanType]:
        """The scans that apply to ``instrument`` (or all)."""
        return [t for t in self.scan_types if instrument is None or instrument in t.instruments]

    def locations(self, instrument: str | None = None) -> list[ScanLocation]:
        """Every location of the tree, depth first (those for ``instrument``, or all)."""
        out = []
        for root in self.location_tree:
            for loc in root.walk():
                if instrument is None or instrument in loc.instruments:
                    out.append(loc)
        return out

    def location(self, code: str) -> ScanLocation | None:
        """The location ``code`` (``"STK.NASDAQ"``), anywhere in the tree, or ``None``."""
        for loc in self.locations():
            if loc.code == code:
                return loc
        return None

    def filters(self, instrument: str | None = None) -> list[ScanFilter]:
        """The filter fields (those ``instrument`` accepts, or all)."""
        return [f for f in self.all_filters if instrument is None or instrument in f.instruments]

    def find(self, text: str) -> list[ScanInstrument | ScanLocation | ScanType | ScanFilter]:
        """Everything whose code or name contains ``text`` (case-insensitive): instrument
        types, locations, scan types, then filters."""
        needle = text.lower()
        found: list[ScanInstrument | ScanLocation | ScanType | ScanFilter] = []
        items: list[ScanInstrument | ScanLocation | ScanType | ScanFilter] = [
            *self.instruments,
            *self.locations(),
            *self.scan_types,
            *self.all_filters,
        ]
        for item in items:
            if needle in item.code.lower() or needle in item.name.lower():
                found.append(item)
        return found

    def __repr__(self) -> str:
        return (
            f"<ScannerParameters {len(self.instruments)} instruments, "
            f"{len(self.locations())} locations, {len(self.scan_types)} scan types, "
            f"{len(self.all_filters)} filters, {len(self.xml)} chars>"
        )


def _text(el: ET.Element, tag: str) -> str:
    child = el.find(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def _csv(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _location(el: ET.Element) -> ScanLocation:
    children: list[ScanLocation] = []
    for tree in el.findall("LocationTree"):
        children.extend(_location(c) for c in tree.findall("Location"))
    return ScanLocation(
        code=_text(el, "locationCode"),
        name=_text(el, "displayName"),
        instruments=_csv(_text(el, "instruments")),
        route_exchange=_text(el, "routeExchange"),
        delayed_only=_text(el, "delayedOnly").lower() == "true",
        children=tuple(children),
    )


def parse_scanner_parameters(xml: str) -> ScannerParameters:
    """Parse TWS's scanner parameters document (``<ScanParameterResponse>``).

    Unknown elements are ignored and missing ones are empty, so a document of a newer TWS
    still parses. Raises ``ValueError`` if the text is not XML at all.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise ValueError(f"the scanner parameters are not XML: {e}") from None

    instruments: list[ScanInstrument] = []
    seen: set[str] = set()
    for lst in root.findall("InstrumentList"):  # TWS may list some again under other names
        for el in lst.findall("Instrument"):
            code = _text(el, "type")
            if code in seen:
                continue
            seen.add(code)
            instruments.append(
                ScanInstrument(
                    code=code,
                    name=_text(el, "name"),
                    sec_type=_text(el, "secType"),
                    group=_text(el, "group"),
                    short_name=_text(el, "shortName"),
                    filters=_csv(_text(el, "filters")),
                )
            )

    locations: list[ScanLocation] = []
    tree = root.find("LocationTree")
    if tree is not None:
        locations = [_location(el) for el in tree.findall("Location")]

    scan_types: list[ScanType] = []
    types = root.find("ScanTypeList")
    if types is not None:
        for el in types.findall("ScanType"):
            cols = tuple(
                _text(c, "name") for c in el.iterfind("Columns/Column") if _text(c, "name")
            )
            scan_types.append(
                ScanType(
                    code=_text(el, "scanCode"),
                    name=_text(el, "displayName"),
                    instruments=_csv(_text(el, "instruments")),
                    columns=cols,
                )
            )

    by_filter: dict[str, list[str]] = {}
    for inst in instruments:
        for fid in inst.filters:
            by_filter.setdefault(fid, []).append(inst.code)
    filters: list[ScanFilter] = []
    flist = root.find("FilterList")
    if flist is not None:
        for flt in flist:
            fid = _text(flt, "id")
            category = _text(flt, "category")
            owners = tuple(by_filter.get(fid, ()))
            for af in flt.iter("AbstractField"):
                code = _text(af, "code")
                if not code:
                    continue
                values = tuple(
                    v
                    for v in (
                        _text(cv, "code") or _text(cv, "displayName")
                        for cv in af.iterfind("ComboValues/ComboValue")
                    )
                    if v
                )
                filters.append(
                    ScanFilter(
                        code=code,
                        name=_text(af, "displayName"),
                        type=af.get("type", "").rpartition(".")[2],
                        filter_id=fid,
                        category=category,
                        instruments=owners,
                        values=values,
                    )
                )

    return ScannerParameters(
        xml=xml,
        instruments=tuple(instruments),
        location_tree=tuple(locations),
        scan_types=tuple(scan_types),
        all_filters=tuple(filters),
    )
