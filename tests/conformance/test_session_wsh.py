"""The official client asks ``aiotws sim`` for Wall Street Horizon data, display groups and
soft dollar tiers, and gets what TWS sends: decoded by the official ``Decoder`` without
errors, with the simulator's values.

Real sockets: an official ``EClient`` against an in-process :class:`aiotws.sim.Simulator`
(see ``support.py``). The simulated market starts on a fixed date, so the events are fixed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ibapi.common import WshEventData as OfficialWshEventData

from aiotws.sim.display import DEFAULT_SOFT_DOLLAR_TIERS, set_display_group
from aiotws.sim.wsh import events_for, meta_json

from . import rows_wsh, test_outgoing
from .support import Harness, OfficialSession

START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
AAPL = 265598


def _errors(s: OfficialSession, start: int) -> list[tuple[int, int, str]]:
    return [(e["reqId"], e["errorCode"], e["errorString"]) for e in s.wrapper.errors(start)]


@pytest.mark.parametrize("version", [173, 200])
def test_wsh_meta_then_events(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version, market_start=START, seed=1)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    # event data before the meta data: TWS's 10282
    q = OfficialWshEventData()
    q.conId = AAPL
    s.client.reqWshEventData(40, q)
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 40, start=mark)
    assert err["errorCode"] == 10282
    s.client.reqWshMetaData(41)
    meta = s.wrapper.wait_for("wshMetaData", start=mark)
    assert meta["reqId"] == 41 and meta["dataJson"] == meta_json()
    tags = [t["tag"] for t in json.loads(meta["dataJson"])["meta_data"]["event_types"]]
    assert "wshe_ed" in tags
    s.client.reqWshEventData(42, q)
    events = s.wrapper.wait_for("wshEventData", start=mark)
    assert events["reqId"] == 42
    got = json.loads(events["dataJson"])
    assert got == harness.loop.call(lambda: events_for(sim, {AAPL}))
    assert got and {e["conid"] for e in got} == {AAPL}
    s.client.cancelWshEventData(42)
    # a filter with dates and a limit
    f = OfficialWshEventData()
    f.filter = json.dumps({"watchlist": [str(AAPL)], "wshe_ed": "true"})
    f.startDate, f.endDate, f.totalLimit = "20250101", "20251231", 3
    mark2 = s.wrapper.mark()
    s.client.reqWshEventData(43, f)
    answer = json.loads(s.wrapper.wait_for("wshEventData", start=mark2)["dataJson"])
    assert len(answer) == 3 and {e["event_type"] for e in answer} == {"wshe_ed"}
    # a second event request while one is pending: 10281
    s.client.reqWshEventData(44, q)
    err = s.wrapper.wait_for("error", lambda c: c["reqId"] == 44, start=mark2)
    assert err["errorCode"] == 10281
    assert [e[1] for e in _errors(s, mark)] == [10282, 10281]


@pytest.mark.parametrize("version", [157, 200])
def test_display_groups(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version)
    s = harness.connect(sim)
    other = harness.connect(sim, client_id=2)
    mark, omark = s.wrapper.mark(), other.wrapper.mark()
    s.client.queryDisplayGroups(1)
    listed = s.wrapper.wait_for("displayGroupList", start=mark)
    assert (listed["reqId"], listed["groups"]) == (1, "1|2|3|4|5|6|7")
    s.client.subscribeToGroupEvents(2, 4)
    other.client.subscribeToGroupEvents(7, 4)
    first = s.wrapper.wait_for("displayGroupUpdated", start=mark)
    assert (first["reqId"], first["contractInfo"]) == (2, "none")
    other.wrapper.wait_for("displayGroupUpdated", start=omark)
    s.client.updateDisplayGroup(2, "265598@SMART")

    def changed(c: object) -> bool:
        return c["contractInfo"] == "265598@SMART"  # type: ignore[index]

    mine = s.wrapper.wait_for("displayGroupUpdated", changed, start=mark)
    theirs = other.wrapper.wait_for("displayGroupUpdated", changed, start=omark)
    assert (mine["reqId"], theirs["reqId"]) == (2, 7)
    # the user clicks in TWS
    harness.loop.call(lambda: set_display_group(sim, 4, "8314@SMART"))
    clicked = other.wrapper.wait_for(
        "displayGroupUpdated", lambda c: c["contractInfo"] == "8314@SMART", start=omark
    )
    assert clicked["reqId"] == 7
    s.client.unsubscribeFromGroupEvents(2)
    assert _errors(s, mark) == [] and _errors(other, omark) == []


@pytest.mark.parametrize("version", [157, 200])
def test_soft_dollar_tiers(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqSoftDollarTiers(5)
    got = s.wrapper.wait_for("softDollarTiers", start=mark)
    assert got["reqId"] == 5
    assert [(t.name, t.val, t.displayName) for t in got["tiers"]] == [
        (t.name, t.value, t.display_name) for t in DEFAULT_SOFT_DOLLAR_TIERS
    ]
    assert _errors(s, mark) == []


#: the WSH gates inside 157..200: 161 the family, 171 filters, 173 dates and limit
FLIPS = (160, 161, 170, 171, 172, 173)


@pytest.mark.parametrize("version", FLIPS)
@pytest.mark.parametrize("row", rows_wsh.OUTGOING_ROWS, ids=lambda r: r.id)
def test_outgoing_wsh_rows_at_the_gates(row: test_outgoing.Row, version: int) -> None:
    """Byte equality with ``EClient`` (or the same refusal) on both sides of each gate."""
    for args in row.samples:
        test_outgoing.check(row, args, version)
