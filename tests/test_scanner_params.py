"""Parsing TWS's scanner parameters XML into :class:`ScannerParameters`.

A hand-written fragment in the shape of the real document (nested location trees, filters
with several abstract fields, combo values, elements aiotws does not use), the simulator's
own document, and a ~2 MB document like a real TWS's, whose parse time is printed.
"""

from __future__ import annotations

import time

import pytest

from aiotws.errors import InvalidScannerSubscription
from aiotws.model import (
    ScanFilter,
    ScanInstrument,
    ScanLocation,
    ScannerParameters,
    ScannerSubscription,
    ScanType,
    parse_scanner_parameters,
)
from aiotws.sim.scanner import FILTERS, INSTRUMENTS, SCAN_TYPES, parameters_xml

REAL_LIKE = """<?xml version="1.0" encoding="UTF-8"?>
<ScanParameterResponse>
 <InstrumentList varName="instrumentList">
  <Instrument>
   <name>US Stocks</name>
   <type>STK</type>
   <filters>AFTERHRSCHANGEPERC,AVGOPTVOLUME,PRICE,MKTCAP,STKTYPE</filters>
   <group>STK.GLOBAL</group>
   <shortName>US</shortName>
   <cloudScanNotSupported>false</cloudScanNotSupported>
  </Instrument>
  <Instrument>
   <name>US Futures</name>
   <type>FUT.US</type>
   <secType>FUT</secType>
   <filters>PRICE</filters>
  </Instrument>
 </InstrumentList>
 <InstrumentList varName="fullInstrumentList">
  <Instrument><name>US Stocks (again)</name><type>STK</type><filters/></Instrument>
  <Instrument><name>European Stocks</name><type>STOCK.EU</type><filters>PRICE</filters></Instrument>
 </InstrumentList>
 <LocationTree varName="locationTree">
  <Location>
   <displayName>US Stocks</displayName>
   <tooltip>US Stocks</tooltip>
   <raw>false</raw>
   <locationCode>STK.US</locationCode>
   <instruments>STK</instruments>
   <routeExchange>SMART</routeExchange>
   <delayedOnly>false</delayedOnly>
   <access>unrestricted</access>
   <LocationTree varName="locationTree">
    <Location>
     <displayName>Listed/NASDAQ</displayName>
     <locationCode>STK.US.MAJOR</locationCode>
     <instruments>STK</instruments>
     <LocationTree varName="locationTree">
      <Location>
       <displayName>NYSE</displayName>
       <locationCode>STK.NYSE</locationCode>
       <instruments>STK</instruments>
       <routeExchange>NYSE</routeExchange>
      </Location>
      <Location>
       <displayName>NASDAQ</displayName>
       <locationCode>STK.NASDAQ</locationCode>
       <instruments> STK </instruments>
      </Location>
     </LocationTree>
    </Location>
    <Location>
     <displayName>US OTC</displayName>
     <locationCode>STK.US.MINOR</locationCode>
     <instruments>STK</instruments>
     <delayedOnly>true</delayedOnly>
    </Location>
   </LocationTree>
  </Location>
  <Location>
   <displayName>US Futures</displayName>
   <locationCode>FUT.US</locationCode>
   <instruments>FUT.US</instruments>
  </Location>
 </LocationTree>
 <ScanTypeList varName="scanTypeList">
  <ScanType>
   <displayName>Top % Gainers</displayName>
   <scanCode>TOP_PERC_GAIN</scanCode>
   <instruments>STK,STOCK.NA,STOCK.EU,FUT.US</instruments>
   <absoluteColumns>false</absoluteColumns>
   <Columns varName="columns">
    <Column type="scanner.common.Column">
     <colId>1234</colId><name>Change %</name><display>true</display>
    </Column>
    <ColumnSetRef><colId>0</colId><name>PctPerf</name></ColumnSetRef>
   </Columns>
   <supportsSorting>true</supportsSorting>
   <respSizeLimit>2147483647</respSizeLimit>
  </ScanType>
  <ScanType>
   <displayName>Hot Contracts by Volume</displayName>
   <scanCode>HOT_BY_VOLUME</scanCode>
   <instruments>STK</instruments>
  </ScanType>
 </ScanTypeList>
 <FilterList varName="filterList">
  <RangeFilter>
   <id>PRICE</id>
   <category>PriceVolume</category>
   <histogram>true</histogram>
   <AbstractField type="scanner.filter.DoubleField">
    <code>priceAbove</code>
    <displayName>Price Above</displayName>
    <varName>abovePrice</varName>
    <master>true</master>
   </AbstractField>
   <AbstractField type="scanner.filter.DoubleField">
    <code>priceBelow</code>
    <displayName>Price Below</displayName>
   </AbstractField>
  </RangeFilter>
  <SimpleFilter>
   <id>STKTYPE</id>
   <category>Fundamentals</category>
   <AbstractField type="scanner.filter.ComboField">
    <code>stkTypes</code>
    <displayName>Stock type</displayName>
    <ComboValues>
     <ComboValue><code>inc:CORP</code><displayName>Corporation</displayName></ComboValue>
     <ComboValue><code>inc:ADR</code><displayName>ADR</displayName></ComboValue>
     <ComboValue><displayName>ETF only</displayName></ComboValue>
    </ComboValues>
   </AbstractField>
  </SimpleFilter>
  <RangeFilter>
   <id>UNOWNED</id>
   <AbstractField type="scanner.filter.IntField"><code>orphanAbove</code></AbstractField>
   <AbstractField type="scanner.filter.IntField"><displayName>no code</displayName></AbstractField>
  </RangeFilter>
 </FilterList>
 <SettingList varName="settingList"><Setting><code>x</code></Setting></SettingList>
</ScanParameterResponse>
"""


def test_real_like_fragment() -> None:
    p = parse_scanner_parameters(REAL_LIKE)
    assert p.xml == REAL_LIKE
    # the instruments of both lists, the first of a repeated code kept
    assert [i.code for i in p.instruments] == ["STK", "FUT.US", "STOCK.EU"]
    stk = p.instrument("STK")
    assert stk == ScanInstrument(
        "STK",
        "US Stocks",
        "",
        "STK.GLOBAL",
        "US",
        ("AFTERHRSCHANGEPERC", "AVGOPTVOLUME", "PRICE", "MKTCAP", "STKTYPE"),
    )
    assert p.instrument("FUT.US") is not None and p.instrument("FUT.US").sec_type == "FUT"  # type: ignore[union-attr]
    assert p.instrument("NOPE") is None
    # the tree: two roots, nesting kept, depth-first flattening
    assert [r.code for r in p.location_tree] == ["STK.US", "FUT.US"]
    assert [loc.code for loc in p.locations()] == [
        "STK.US",
        "STK.US.MAJOR",
        "STK.NYSE",
        "STK.NASDAQ",
        "STK.US.MINOR",
        "FUT.US",
    ]
    assert [loc.code for loc in p.locations("FUT.US")] == ["FUT.US"]
    nyse = p.location("STK.NYSE")
    assert nyse == ScanLocation("STK.NYSE", "NYSE", ("STK",), "NYSE", False, ())
    nasdaq = p.location("STK.NASDAQ")
    assert nasdaq is not None and nasdaq.instruments == ("STK",)  # whitespace stripped
    minor = p.location("STK.US.MINOR")
    assert minor is not None and minor.delayed_only
    major = p.location("STK.US.MAJOR")
    assert major is not None and [c.code for c in major.children] == ["STK.NYSE", "STK.NASDAQ"]
    assert p.location("NOPE") is None
    # scan types
    assert p.scan_codes() == ["TOP_PERC_GAIN", "HOT_BY_VOLUME"]
    assert p.scan_codes("FUT.US") == ["TOP_PERC_GAIN"]
    gain = p.scan_types[0]
    assert gain == ScanType(
        "TOP_PERC_GAIN", "Top % Gainers", ("STK", "STOCK.NA", "STOCK.EU", "FUT.US"), ("Change %",)
    )
    # filters: the instruments come from each instrument's filter ids
    assert [f.code for f in p.filters()] == ["priceAbove", "priceBelow", "stkTypes", "orphanAbove"]
    above = p.filters()[0]
    assert above == ScanFilter(
        "priceAbove",
        "Price Above",
        "DoubleField",
        "PRICE",
        "PriceVolume",
        ("STK", "FUT.US", "STOCK.EU"),
    )
    combo = p.filters()[2]
    assert combo.type == "ComboField" and combo.values == ("inc:CORP", "inc:ADR", "ETF only")
    assert combo.instruments == ("STK",)
    assert [f.code for f in p.filters("FUT.US")] == ["priceAbove", "priceBelow"]
    assert p.filters()[3].instruments == ()
    # search
    found = p.find("price")
    assert [type(x).__name__ for x in found] == ["ScanFilter", "ScanFilter"]
    assert {x.code for x in p.find("nasdaq")} == {"STK.US.MAJOR", "STK.NASDAQ"}
    assert [x.code for x in p.find("HOT")] == ["HOT_BY_VOLUME"]
    assert "6 locations" in repr(p)


def test_the_simulators_document() -> None:
    p = parse_scanner_parameters(parameters_xml())
    assert [i.code for i in p.instruments] == [t.code for t in INSTRUMENTS]
    assert p.scan_codes() == [t.code for t in SCAN_TYPES]
    assert [f.code for f in p.filters()] == [f.code for flt in FILTERS for f in flt.fields]
    for st in SCAN_TYPES:
        (parsed,) = [t for t in p.scan_types if t.code == st.code]
        assert parsed.instruments == st.instruments and parsed.name == st.name
    for loc in p.locations():
        assert len(loc.instruments) == 1
        assert p.instrument(loc.instruments[0]) is not None
    assert {f.code for f in p.filters("IND.US")} == {
        "priceAbove",
        "priceBelow",
        "changePercAbove",
        "changePercBelow",
    }
    assert parameters_xml() is parameters_xml()  # built once


def test_empty_and_broken_documents() -> None:
    p = parse_scanner_parameters("<ScanParameterResponse/>")
    assert p == ScannerParameters("<ScanParameterResponse/>")
    assert p.scan_codes() == [] and p.locations() == [] and p.find("x") == []
    with pytest.raises(ValueError, match="not XML"):
        parse_scanner_parameters("<ScanParameterResponse>")
    with pytest.raises(ValueError):
        parse_scanner_parameters("")


def _big_document(scan_types: int = 3000) -> str:
    """A document of TWS's size (~2 MB): many scan types with several columns each."""
    parts = [parameters_xml().split("<ScanTypeList")[0], '<ScanTypeList varName="scanTypeList">']
    for n in range(scan_types):
        cols = "".join(
            f'<Column type="scanner.common.Column"><colId>{n * 10 + c}</colId>'
            f"<name>Column {c}</name><display>true</display><section>m</section>"
            f"<displayType>DATA</displayType></Column>"
            for c in range(3)
        )
        parts.append(
            f"<ScanType><displayName>Scan {n}</displayName><scanCode>SCAN_{n}</scanCode>"
            f"<instruments>STK,ETF.EQ.US,STOCK.NA,STOCK.EU</instruments>"
            f'<absoluteColumns>false</absoluteColumns><Columns varName="columns">{cols}</Columns>'
            f"<supportsSorting>true</supportsSorting><respSizeLimit>50</respSizeLimit>"
            f"<access>unrestricted</access></ScanType>"
        )
    parts.append("</ScanTypeList></ScanParameterResponse>")
    return "".join(parts)


def test_a_document_of_real_size_parses_fast(capsys: pytest.CaptureFixture[str]) -> None:
    xml = _big_document()
    assert len(xml) > 1_900_000
    t0 = time.perf_counter()
    p = parse_scanner_parameters(xml)
    took = time.perf_counter() - t0
    assert len(p.scan_types) == 3000 and p.scan_types[-1].columns[-1] == "Column 2"
    assert len(p.scan_codes("STOCK.EU")) == 3000
    with capsys.disabled():
        print(f"\nscanner parameters: {len(xml) / 1e6:.1f} MB parsed in {took * 1e3:.0f} ms")
    assert took < 5.0  # a generous bound for a loaded CI machine; typically ~50 ms


def test_subscription_check() -> None:
    ScannerSubscription("TOP_PERC_GAIN", number_of_rows=50).check()
    ScannerSubscription("TOP_PERC_GAIN", above_price=1.0, below_price=1.0).check()
    for bad, field in [
        (ScannerSubscription("X", number_of_rows=51), "number_of_rows"),
        (ScannerSubscription("X", number_of_rows=-1), "number_of_rows"),
        (ScannerSubscription("  "), "scan_code"),
        (ScannerSubscription("X", instrument=""), "instrument"),
        (ScannerSubscription("X", above_volume=-5), "above_volume"),
        (ScannerSubscription("X", market_cap_above=float("inf")), "market_cap_above"),
        (ScannerSubscription("X", coupon_rate_below=-1.0), "coupon_rate_below"),
        (ScannerSubscription("X", market_cap_above=2e9, market_cap_below=1e9), "market_cap_above"),
    ]:
        with pytest.raises(InvalidScannerSubscription) as e:
            bad.check()
        assert e.value.field == field and field in str(e.value)
