"""Wall Street Horizon messages: hand-written frames at 161/170/171/172/173/200 (the gates),
the unset sentinels, and the refusals below each gate."""

from __future__ import annotations

import json

import pytest

from aiotws.errors import UnsupportedByServer
from aiotws.model.wsh import WshEventData as Query
from aiotws.model.wsh import parse_events, parse_meta
from aiotws.wire import encode
from aiotws.wire.messages import wsh as W

from .roundtrip import both_ways, nul


@pytest.mark.parametrize("version", [161, 200])
def test_meta_request_and_cancel(version: int) -> None:
    both_ways(W.ReqWshMetaData(7), version, nul("100", "7"))
    both_ways(W.CancelWshMetaData(7), version, nul("101", "7"))
    both_ways(W.CancelWshEventData(8), version, nul("103", "8"))


@pytest.mark.parametrize("cls", [W.ReqWshMetaData, W.CancelWshMetaData, W.CancelWshEventData])
@pytest.mark.parametrize("version", [157, 160])
def test_whole_family_needs_161(cls: type[W.ReqWshMetaData], version: int) -> None:
    with pytest.raises(UnsupportedByServer) as e:
        encode(cls(1), version)
    assert e.value.needed == 161


def test_event_request_at_161_and_170_con_id_only() -> None:
    for v in (161, 170):
        both_ways(W.ReqWshEventData(5, 265598), v, nul("102", "5", "265598"))
        # unset con id: the official client's UNSET_INTEGER, literally
        both_ways(W.ReqWshEventData(5), v, nul("102", "5", "2147483647"))
    with pytest.raises(UnsupportedByServer) as e:
        encode(W.ReqWshEventData(5, None, '{"wshe_ed":"true"}'), 170)
    assert (e.value.field, e.value.needed) == ("filter", 171)
    with pytest.raises(UnsupportedByServer):
        encode(W.ReqWshEventData(5, 265598, fill_portfolio=True), 170)


def test_event_request_filters_at_171_and_172() -> None:
    flt = '{"watchlist":["8314"],"wshe_ed":"true"}'
    msg = W.ReqWshEventData(9, None, flt, True, False, True)
    for v in (171, 172):
        both_ways(msg, v, nul("102", "9", "2147483647", flt, "1", "0", "1"))
    with pytest.raises(UnsupportedByServer) as e:
        encode(W.ReqWshEventData(9, 265598, start_date="20250101"), 172)
    assert (e.value.field, e.value.needed) == ("start_date", 173)
    with pytest.raises(UnsupportedByServer):
        encode(W.ReqWshEventData(9, 265598, total_limit=10), 172)


@pytest.mark.parametrize("version", [173, 200])
def test_event_request_dates_from_173(version: int) -> None:
    msg = W.ReqWshEventData(3, 265598, "", False, False, False, "20250101", "20251231", 20)
    both_ways(
        msg, version, nul("102", "3", "265598", "", "0", "0", "0", "20250101", "20251231", "20")
    )
    unset = W.ReqWshEventData(3, 265598)
    both_ways(unset, version, nul("102", "3", "265598", "", "0", "0", "0", "", "", "2147483647"))


@pytest.mark.parametrize("version", [157, 161, 200])
def test_answers(version: int) -> None:
    doc = '{"meta_data":{"event_types":[{"tag":"wshe_ed","name":"Earnings Date"}]}}'
    both_ways(W.WshMetaData(4, doc), version, nul("104", "4", doc))
    events = '[{"event_type":"wshe_ed","conid":8314,"index_date":"20250423","data":{}}]'
    both_ways(W.WshEventData(4, events), version, nul("105", "4", events))


def test_parse_meta_and_events() -> None:
    meta = parse_meta(
        json.dumps(
            {
                "meta_data": {
                    "event_types": [{"tag": "wshe_ed", "name": "Earnings Date", "x": 1}],
                    "filters": [{"tag": "country", "name": "Country"}],
                }
            }
        )
    )
    assert [(t.tag, t.name, t.raw["x"]) for t in meta.event_types] == [
        ("wshe_ed", "Earnings Date", 1)
    ]
    assert [f.tag for f in meta.filters] == ["country"]
    text = json.dumps(
        {"events": [{"event_type": "wshe_div", "conid": "8314", "index_date": "20250510",
                     "data": {"amount": 1.67}, "extra": True}, "junk"]}
    )  # fmt: skip
    (e,) = parse_events(text)
    assert (e.event_type, e.con_id, e.date.isoformat() if e.date else None) == (
        "wshe_div",
        8314,
        "2025-05-10",
    )
    assert e.data == {"amount": 1.67} and e.raw["extra"] is True
    assert parse_events("").json == "" and list(parse_events("[]")) == []
    with pytest.raises(ValueError):
        parse_meta("{nope")


def test_query_builds_the_filter_text() -> None:
    q = Query(filter={"watchlist": ["8314"], "wshe_ed": "true"})
    assert q.filter_json() == '{"watchlist":["8314"],"wshe_ed":"true"}'
    q.validate()
    Query(con_id=8314, start_date="2025-01-02").validate()
