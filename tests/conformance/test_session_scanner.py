"""The official client asks ``aiotws sim`` for scanner parameters and scans, and gets what TWS
sends: the parameters XML (``scannerParameters``), whole result sets (``scannerData`` per row,
then ``scannerDataEnd``) again on each refresh, TWS's errors for bad subscriptions and the
acknowledgement of a cancel. Real sockets: an official ``EClient`` against an in-process
:class:`aiotws.sim.Simulator` (see ``support.py``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from ibapi.scanner import ScannerSubscription
from ibapi.tag_value import TagValue

from aiotws.model import parse_scanner_parameters
from aiotws.sim import scanner as sim_scanner

from .support import Call, Harness, OfficialSession, wait_for_count


def _subscription(**fields: Any) -> ScannerSubscription:
    sub = ScannerSubscription()
    sub.instrument = "STK"
    sub.locationCode = "STK.US.MAJOR"
    sub.scanCode = "MOST_ACTIVE"
    for k, v in fields.items():
        setattr(sub, k, v)
    return sub


def _set(s: OfficialSession, req_id: int, start: int) -> list[Call]:
    """The rows of the first result set of ``req_id`` after ``start``."""
    end = s.wrapper.wait_for("scannerDataEnd", lambda c: c["reqId"] == req_id, start=start)
    calls = s.wrapper.calls
    stop = next(i for i in range(start, len(calls)) if calls[i] is end)
    return [c for c in calls[start:stop] if c.name == "scannerData" and c["reqId"] == req_id]


@pytest.mark.parametrize("version", [157, 200])
def test_parameters_and_a_subscription(
    harness: Harness, version: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_scanner, "REFRESH_INTERVAL", 0.05)
    sim = harness.sim(max_version=version, seed=2, tick_interval=0.01)
    s = harness.connect(sim)
    start = mark = s.wrapper.mark()
    s.client.reqScannerParameters()
    xml = s.wrapper.wait_for("scannerParameters", start=mark)["xml"]
    root = ET.fromstring(xml)
    assert root.tag == "ScanParameterResponse"
    assert "MOST_ACTIVE" in parse_scanner_parameters(xml).scan_codes("STK")

    mark = s.wrapper.mark()
    s.client.reqScannerSubscription(
        7, _subscription(numberOfRows=5, abovePrice=1.0), [], [TagValue("volumeAbove", "0")]
    )
    rows = _set(s, 7, mark)
    assert [r["rank"] for r in rows] == [0, 1, 2, 3, 4]
    for r in rows:
        d = r["contractDetails"]
        c = d.contract
        assert c.conId > 0 and c.secType == "STK" and c.currency == "USD"
        assert c.exchange == "SMART" and c.symbol and c.localSymbol == c.symbol
        assert d.marketName and c.tradingClass
        assert (r["distance"], r["benchmark"], r["projection"], r["legsStr"]) == ("", "", "", "")
    # refreshes: whole sets again
    wait_for_count(
        s.wrapper, lambda c: c.name == "scannerDataEnd" and c["reqId"] == 7, 3, start=mark
    )
    mark = s.wrapper.mark()
    s.client.cancelScannerSubscription(7)
    err = s.wrapper.wait_for("error", start=mark)
    assert (err["reqId"], err["errorCode"]) == (7, 162)
    assert "API scanner subscription cancelled" in err["errorString"]
    # no result set after the cancel's acknowledgement
    s.client.reqCurrentTime()
    s.wrapper.wait_for("currentTime", start=mark)
    assert not [c for c in s.wrapper.named("scannerDataEnd", mark) if c["reqId"] == 7]
    assert [e["errorCode"] for e in s.wrapper.errors(start)] == [162]


def test_errors_the_official_client_sees(harness: Harness) -> None:
    sim = harness.sim(seed=2)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqScannerSubscription(1, _subscription(scanCode="NOPE"), [], [])
    s.client.reqScannerSubscription(2, _subscription(instrument="FUT.US"), [], [])
    s.client.reqScannerSubscription(3, _subscription(), [], [TagValue("nope", "1")])
    s.client.reqScannerSubscription(4, _subscription(numberOfRows=2), [], [])
    s.client.reqScannerSubscription(4, _subscription(), [], [])
    s.client.cancelScannerSubscription(99)
    errors = wait_for_count(s.wrapper, lambda c: c.name == "error", 5, start=mark)
    got = {(e["reqId"], e["errorCode"]) for e in errors}
    assert got == {(1, 162), (2, 162), (3, 162), (4, 385), (99, 365)}
    assert len(_set(s, 4, mark)) == 2  # the first subscription of id 4 is untouched
