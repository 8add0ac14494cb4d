"""Market scanners end to end: ``IB`` against the simulator on loopback.

Parameters (parsed from the simulator's XML), one-shot scans, live results refreshed by the
simulator's market clock, the subscription's filters and the filter tags honoured, TWS's
errors and limits, the checks made before the wire, and a subscription restored after the
simulator drops the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aiotws import IB, TagValue
from aiotws.errors import InvalidScannerSubscription, RequestError
from aiotws.model import ScannerParameters, ScannerSubscription, ScanRow
from aiotws.scanner import ScanResults
from aiotws.session import ReconnectPolicy
from aiotws.sim import Simulator
from aiotws.sim import scanner as sim_scanner
from aiotws.wire.messages.scanner import CancelScannerSubscription, ReqScannerSubscription

GUARD = 5.0
FAST = ReconnectPolicy(initial_delay=0.05, max_delay=0.2, jitter=0.0, connect_timeout=1.0)


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    monkeypatch.setattr(sim_scanner, "REFRESH_INTERVAL", 0.1)
    async with Simulator(port=0, seed=3, tick_interval=0.02) as s:
        yield s


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    ib = IB(reconnect=FAST)
    async with asyncio.timeout(GUARD):
        await ib.connect(sim.host, sim.port, client_id=1)
    yield ib
    ib.disconnect()
    async with asyncio.timeout(GUARD):
        await ib.wait_closed()


def symbols(rows: list[ScanRow]) -> list[str]:
    return [r.contract.symbol for r in rows]


async def test_parameters_are_parsed(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        params = await ib.scanner_parameters()
    assert isinstance(params, ScannerParameters)
    assert params.xml.startswith("<?xml") and "<ScanParameterResponse>" in params.xml
    assert [i.code for i in params.instruments] == [
        "STK",
        "ETF.EQ.US",
        "STOCK.NA",
        "STOCK.EU",
        "FUT.US",
        "IND.US",
    ]
    assert {"TOP_PERC_GAIN", "MOST_ACTIVE", "HOT_BY_VOLUME"} <= set(params.scan_codes("STK"))
    assert "HOT_BY_VOLUME" not in params.scan_codes("IND.US")
    nasdaq = params.location("STK.NASDAQ")
    assert nasdaq is not None and nasdaq.instruments == ("STK",)
    assert "marketCapAbove1e6" in [f.code for f in params.filters("STK")]
    assert "marketCapAbove1e6" not in [f.code for f in params.filters("ETF.EQ.US")]


async def test_one_shot_scan_and_its_cancel(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        rows = await ib.scan(ScannerSubscription("MOST_ACTIVE", number_of_rows=5))
    assert isinstance(rows, ScanResults) and rows.done
    assert len(rows) == 5 and [r.rank for r in rows] == [0, 1, 2, 3, 4]
    first = rows[0].contract
    assert first.sec_type == "STK" and first.con_id and first.exchange == "SMART"
    assert first.currency == "USD" and rows[0].market_name
    # the scan was cancelled at TWS, and TWS's acknowledgement (162) did no harm
    await ib.client.current_time()
    assert any(isinstance(m, CancelScannerSubscription) for m in sim.requests)
    assert not ib.scanners()
    assert all(not s.state.get("scanner") for s in sim.sessions)


async def test_live_results_are_replaced_on_each_refresh(ib: IB) -> None:
    results = ib.scanner(ScannerSubscription("TOP_TRADE_COUNT", number_of_rows=3))
    seen: list[int] = []
    results.updated += lambda r: seen.append(r.sets)
    async with asyncio.timeout(GUARD):
        first = await results
        sets = []
        async for rows in results:
            sets.append(rows)
            if len(sets) == 2:
                break
    assert len(first) == 3 and all(len(s) == 3 for s in sets)
    assert results.sets >= 3 and seen[:3] == [1, 2, 3]
    assert len(results) == 3  # replaced, never appended
    assert ib.scanners() == [results]
    ib.cancel_scanner(results)
    assert results.done and not ib.scanners()
    async with asyncio.timeout(GUARD):
        assert [rows async for rows in results] == []  # ended: the iterator stops


async def test_subscription_fields_and_filter_tags_are_honoured(ib: IB, sim: Simulator) -> None:
    async with asyncio.timeout(GUARD):
        everything = await ib.scan(ScannerSubscription("MOST_ACTIVE"))
        cheap = await ib.scan(ScannerSubscription("MOST_ACTIVE", below_price=300.0))
        nasdaq = await ib.scan(ScannerSubscription("MOST_ACTIVE", location_code="STK.NASDAQ"))
        etfs = await ib.scan(ScannerSubscription("MOST_ACTIVE", stock_type_filter="ETF"))
        big = await ib.scan(ScannerSubscription("MOST_ACTIVE"), {"marketCapAbove1e6": 1_000_000})
        tagged = await ib.scan(ScannerSubscription("MOST_ACTIVE"), [TagValue("priceAbove", "300")])
    assert len(everything) == 12  # the universe's US stocks and ETFs
    prices = {r.contract.con_id: sim.market.quote(r.contract.con_id) for r in everything}
    assert 0 < len(cheap) < len(everything)
    assert all(prices[r.contract.con_id].last <= 300.0 for r in cheap)
    assert set(symbols(nasdaq)) <= {"AAPL", "MSFT", "AMZN", "GOOGL", "NVDA", "TSLA", "META", "QQQ"}
    assert "JPM" not in symbols(nasdaq) and nasdaq
    assert set(symbols(etfs)) == {"SPY", "QQQ", "IWM"}
    assert big and set(symbols(big)) <= {"AAPL", "MSFT", "AMZN", "GOOGL", "NVDA", "META"}
    assert tagged and set(symbols(tagged)).isdisjoint(symbols(cheap))
    # MOST_ACTIVE ranks by volume
    vols = [prices[r.contract.con_id].volume for r in everything]
    assert vols == sorted(vols, reverse=True)
    futures = await ib.scan(ScannerSubscription("MOST_ACTIVE", "FUT.US", "FUT.NYMEX"))
    assert futures and {r.contract.symbol for r in futures} == {"CL"}
    assert all(r.contract.last_trade_date_or_contract_month for r in futures)


async def test_checks_before_the_wire(ib: IB, sim: Simulator) -> None:
    sim.requests.clear()
    for bad in (
        ScannerSubscription("TOP_PERC_GAIN", number_of_rows=51),
        ScannerSubscription("TOP_PERC_GAIN", number_of_rows=0),
        ScannerSubscription(""),
        ScannerSubscription("TOP_PERC_GAIN", location_code=""),
        ScannerSubscription("TOP_PERC_GAIN", above_price=10.0, below_price=5.0),
        ScannerSubscription("TOP_PERC_GAIN", above_price=float("nan")),
    ):
        with pytest.raises(InvalidScannerSubscription) as err:
            ib.scanner(bad)
        assert isinstance(err.value, ValueError) and err.value.field
    with pytest.raises(InvalidScannerSubscription, match="filter_options"):
        ib.scanner(ScannerSubscription("TOP_PERC_GAIN"), {"a=b": 1})
    with pytest.raises(InvalidScannerSubscription, match="filter_options"):
        await ib.scan(ScannerSubscription("TOP_PERC_GAIN"), [TagValue("x", "1;2")])
    await ib.client.current_time()
    assert not [m for m in sim.requests if isinstance(m, ReqScannerSubscription)]
    assert not ib.scanners()


@pytest.mark.parametrize(
    ("sub", "filters", "needle"),
    [
        (ScannerSubscription("NO_SUCH_SCAN"), None, "scan code NO_SUCH_SCAN"),
        (ScannerSubscription("MOST_ACTIVE", instrument="BOND.XX"), None, "instrument"),
        (ScannerSubscription("MOST_ACTIVE", location_code="FUT.CME"), None, "location"),
        (ScannerSubscription("HOT_BY_VOLUME", "IND.US", "IND.US"), None, "scan code"),
        (ScannerSubscription("MOST_ACTIVE"), {"noSuchFilter": 1}, "filter noSuchFilter"),
        (ScannerSubscription("MOST_ACTIVE"), {"priceAbove": "cheap"}, "value"),
    ],
)
async def test_tws_errors_fail_the_subscription(
    ib: IB, sub: ScannerSubscription, filters: dict[str, object] | None, needle: str
) -> None:
    results = ib.scanner(sub, filters)
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError) as err:
            await results
    assert err.value.code == 162 and needle in err.value.message
    assert err.value.req_id == results.req_id
    assert results.done and results.error is err.value and not ib.scanners()
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError):
            await ib.scan(sub, filters)


async def test_the_eleventh_subscription_is_refused(ib: IB, sim: Simulator) -> None:
    live = [ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=1)) for _ in range(10)]
    async with asyncio.timeout(GUARD):
        await asyncio.gather(*(r.first() for r in live))
        eleventh = ib.scanner(ScannerSubscription("MOST_ACTIVE"))
        with pytest.raises(RequestError) as err:
            await eleventh.first()
    assert err.value.code == 162 and "Max number" in err.value.message
    assert all(not r.done for r in live)
    ib.cancel_scanner(live[0])
    async with asyncio.timeout(GUARD):
        again = await ib.scan(ScannerSubscription("MOST_ACTIVE", number_of_rows=2))
    assert len(again) == 2


async def test_no_results_is_an_empty_set(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        empty = await ib.scan(ScannerSubscription("MOST_ACTIVE", "STOCK.NA", "STK.NA"))
        none_halted = await ib.scan(ScannerSubscription("HALTED"))
    assert list(empty) == [] and empty.sets == 1
    assert list(none_halted) == []


async def test_165_empties_a_live_result_set(ib: IB, sim: Simulator) -> None:
    results = ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=2))
    async with asyncio.timeout(GUARD):
        await results
        emptied = asyncio.get_running_loop().create_future()
        results.updated += lambda r: None if len(r) or emptied.done() else emptied.set_result(1)
        sim.clients[1].send_error(
            results.req_id, 165, "Historical Market Data Service query message:no items retrieved"
        )
        await emptied
    assert not results.done and results.errors[-1].code == 165
    ib.cancel_scanner(results)


async def test_a_subscription_survives_a_dropped_connection(ib: IB, sim: Simulator) -> None:
    results = ib.scanner(ScannerSubscription("TOP_TRADE_COUNT", number_of_rows=4))
    async with asyncio.timeout(GUARD):
        await results
    old_id = results.req_id
    restored = asyncio.get_running_loop().create_future()
    ib.restored += lambda report: None if restored.done() else restored.set_result(report)
    await sim.drop_connections()
    async with asyncio.timeout(GUARD):
        await restored
        before = results.sets
        async for _ in results:
            if results.sets > before:
                break
    assert results.req_id != old_id and not results.stale and not results.done
    assert ib.scanners() == [results] and len(results) == 4
    subs = [s.state.get("scanner", {}) for s in sim.sessions]
    assert [list(s) for s in subs if s] == [[results.req_id]]


async def test_cancelling_the_scan_task_cancels_the_subscription(ib: IB, sim: Simulator) -> None:
    sim.hang()
    task = asyncio.ensure_future(ib.scan(ScannerSubscription("MOST_ACTIVE")))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not ib.scanners()
    sim.unhang()


async def test_no_sets_while_market_data_is_paused(ib: IB, sim: Simulator) -> None:
    results = ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=3))
    async with asyncio.timeout(GUARD):
        await results
    sim.connectivity_lost()
    await ib.client.current_time()  # the 1100 is in
    held = results.sets
    assert sim_scanner.step_scanners(sim, force=True) == 0
    await ib.client.current_time()
    assert results.sets == held
    sim.connectivity_restored(data_lost=False)
    async with asyncio.timeout(GUARD):
        async for _ in results:
            break
    assert results.sets > held and not results.done
    ib.cancel_scanner(results)


def test_the_simulators_scans_are_deterministic() -> None:
    subs = [
        ScannerSubscription("TOP_PERC_GAIN"),
        ScannerSubscription("MOST_ACTIVE", "FUT.US", "FUT.US", number_of_rows=4),
        ScannerSubscription("HOT_BY_VOLUME", location_code="STK.NASDAQ"),
        ScannerSubscription("TOP_PERC_LOSE", "IND.US", "IND.US"),
    ]
    a, b, c = Simulator(seed=11), Simulator(seed=11), Simulator(seed=12)
    for sub in subs:
        ra, rb = sim_scanner.compute_scan(a, sub), sim_scanner.compute_scan(b, sub)
        assert ra == rb
        assert [r.rank for r in ra] == list(range(len(ra)))
    assert [sim_scanner.compute_scan(a, s) for s in subs] != [
        sim_scanner.compute_scan(c, s) for s in subs
    ]


async def test_tws_ending_a_scan_is_not_an_error(ib: IB, sim: Simulator) -> None:
    results = ib.scanner(ScannerSubscription("MOST_ACTIVE", number_of_rows=2))
    async with asyncio.timeout(GUARD):
        await results
        text = "Historical Market Data Service error message:API scanner subscription cancelled: "
        sim.clients[1].send_error(results.req_id, 162, text + str(results.req_id))
        async for _ in results:  # a refresh may still come first; then it ends, no raise
            pass
    assert results.done and results.error is None and len(results) == 2
    assert results.errors[-1].code == 162 and results.errors[-1].kind == "cancelled"
    assert not ib.scanners()
