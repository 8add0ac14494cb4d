"""Wall Street Horizon and the fundamental-data removal, through ``IB`` against the simulator.

The simulated market starts on a fixed date, so event dates are the same on every run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from aiotws import IB, Client
from aiotws.errors import FundamentalDataRemoved, InvalidField, RequestError, UnsupportedByServer
from aiotws.model import Contract, WshEventData
from aiotws.sim import Simulator
from aiotws.sim.accounts import seed_position
from aiotws.sim.wsh import events_for
from aiotws.wire.messages import wsh as W

GUARD = 5.0
AAPL = 265598
MSFT = 272093
START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(port=0, seed=1, market_start=START) as s:
        yield s


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
    sim.requests.clear()
    yield ib
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


def _sent(sim: Simulator, cls: type) -> list[object]:
    return [m for m in sim.requests if isinstance(m, cls)]


async def test_meta_data(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        meta = await ib.wsh_meta_data()
    assert json.loads(meta.json) == meta.raw
    tags = [t.tag for t in meta.event_types]
    assert tags == ["wshe_ed", "wshe_div", "wshe_split", "wshe_conf", "wshe_sh"]
    assert meta.event_type("wshe_ed") is not None
    assert meta.event_type("wshe_ed").name == "Earnings Date"  # type: ignore[union-attr]
    assert {f.tag for f in meta.filters} >= {"country", "watchlist", "limit"}
    # the request was released at TWS right after the answer (one may be pending)
    await ib.client.req_managed_accounts()
    (req,) = _sent(sim, W.ReqWshMetaData)
    (cancel,) = _sent(sim, W.CancelWshMetaData)
    assert cancel.req_id == req.req_id  # type: ignore[attr-defined]


async def test_event_data_fetches_meta_first(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        events = await ib.wsh_event_data(WshEventData(con_id=AAPL))
    kinds = [type(m).__name__ for m in sim.requests]
    assert kinds.index("ReqWshMetaData") < kinds.index("ReqWshEventData")
    assert events, "AAPL has events in a year"
    assert {e.con_id for e in events} == {AAPL}
    assert {e.event_type for e in events} >= {"wshe_ed"}
    dates = [e.date for e in events]
    assert dates == sorted(dates)
    assert all(d is not None and date(2025, 3, 3) <= d <= date(2026, 3, 3) for d in dates)
    assert [e.raw for e in events] == json.loads(events.json)
    earnings = [e for e in events if e.event_type == "wshe_ed"]
    assert len(earnings) == 4  # quarterly
    assert earnings[0].data["time_of_day"] in ("BMO", "AMC")
    assert earnings[0].symbol == "AAPL"
    # deterministic: the same events again, and as the simulator computes them
    again = await ib.wsh_event_data(WshEventData(con_id=AAPL))
    assert [e.raw for e in again] == [e.raw for e in events]
    assert [e.raw for e in events] == events_for(sim, {AAPL})
    # the meta data was fetched once per connection
    assert len(_sent(sim, W.ReqWshMetaData)) == 1


async def test_dates_limit_and_filter(ib: IB) -> None:
    q = WshEventData(
        filter={"watchlist": [str(AAPL), str(MSFT)], "wshe_ed": "true"},
        start_date=date(2025, 1, 1),
        end_date="20251231",
        total_limit=5,
    )
    async with asyncio.timeout(GUARD):
        events = await ib.wsh_event_data(q)
    assert len(events) == 5
    assert {e.event_type for e in events} == {"wshe_ed"}
    assert {e.con_id for e in events} <= {AAPL, MSFT}
    assert all(e.date and e.date.year == 2025 for e in events)


async def test_fill_portfolio(ib: IB, sim: Simulator) -> None:
    seed_position(sim, "DU1234567", Contract(con_id=MSFT, symbol="MSFT", sec_type="STK",
                                             currency="USD"), Decimal(10), 400.0)  # fmt: skip
    async with asyncio.timeout(GUARD):
        events = await ib.wsh_event_data(WshEventData(fill_portfolio=True))
    assert events and {e.con_id for e in events} == {MSFT}


async def test_validation_before_the_wire(ib: IB, sim: Simulator) -> None:
    bad = [
        WshEventData(),  # neither con_id nor filter
        WshEventData(con_id=AAPL, filter='{"wshe_ed": "true"}'),  # both
        WshEventData(filter="{not json"),
        WshEventData(filter="[1, 2]"),
        WshEventData(con_id=AAPL, start_date="2025-02-30"),
        WshEventData(con_id=AAPL, start_date="20250301", end_date="20250101"),
        WshEventData(con_id=AAPL, total_limit=0),
        WshEventData(con_id=-5),
    ]
    for q in bad:
        with pytest.raises(InvalidField):
            await ib.wsh_event_data(q)
    assert sim.requests == []


async def test_tws_errors(ib: IB, sim: Simulator) -> None:
    c = ib.client
    # event data before any meta data on the connection: 10282, from the simulator
    with pytest.raises(RequestError) as e:
        await c.request(W.ReqWshEventData(90, AAPL), W.WshEventData, key=90, timeout=GUARD)
    assert e.value.code == 10282
    # a duplicate meta data request while one is pending: 10278
    c.send(W.ReqWshMetaData(91))
    with pytest.raises(RequestError) as e:
        await c.request(W.ReqWshMetaData(92), W.WshMetaData, key=92, timeout=GUARD)
    assert e.value.code == 10278
    c.send(W.CancelWshMetaData(91))
    # a filter TWS cannot read: 10283
    with pytest.raises(RequestError) as e:
        await c.request(W.ReqWshEventData(93, None, "{oops"), W.WshEventData, key=93, timeout=GUARD)
    assert e.value.code == 10283
    # and aiotws itself still works afterwards (its meta flag is set by the answer above)
    events = await ib.wsh_event_data(WshEventData(con_id=AAPL, total_limit=1))
    assert len(events) == 1


async def test_version_gates(sim: Simulator) -> None:
    c = Client(max_version=170)
    async with asyncio.timeout(GUARD):
        await c.connect(sim.host, sim.port, 3)
    try:
        assert c.server_version == 170
        with pytest.raises(UnsupportedByServer):
            await c.wsh_event_data(WshEventData(filter='{"wshe_ed": "true"}'))
        assert not [m for m in sim.requests if isinstance(m, W.ReqWshEventData | W.ReqWshMetaData)]
        events = await c.wsh_event_data(WshEventData(con_id=AAPL))  # con id only: fine at 170
        assert events
    finally:
        c.disconnect()
        await c.wait_closed()
    old = Client(max_version=160)
    async with asyncio.timeout(GUARD):
        await old.connect(sim.host, sim.port, 4)
    try:
        with pytest.raises(UnsupportedByServer):
            await old.wsh_meta_data()
    finally:
        old.disconnect()
        await old.wait_closed()


async def test_fundamental_data_removed(ib: IB, sim: Simulator) -> None:
    for call in (ib.fundamental_data, ib.req_fundamental_data):
        with pytest.raises(FundamentalDataRemoved) as e:
            call(Contract(con_id=AAPL), "ReportsFinSummary")
        assert "10.47" in str(e.value)
        assert "wsh_event_data" in str(e.value)
    await ib.client.req_managed_accounts()
    assert [type(m).__name__ for m in sim.requests] == ["ReqManagedAccts"]
