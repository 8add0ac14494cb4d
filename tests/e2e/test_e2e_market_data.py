"""Market data end to end: live tickers, snapshots, options, delayed data, errors."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import pytest

from aiotws import CFD, IB, Forex, Index, Option, RequestError, Stock, Ticker
from aiotws.sim import Simulator, step_market
from aiotws.wire.messages.market import CancelMktData, ReqMktData

GUARD = 10.0


@pytest.fixture
async def fast_sim() -> object:
    async with Simulator(port=0, seed=1, tick_interval=0.02) as sim:
        yield sim


@pytest.fixture
async def fib(fast_sim: Simulator) -> object:
    async with IB.connect_to(fast_sim.host, fast_sim.port, client_id=1, timeout=GUARD) as ib:
        yield ib


async def test_live_ticker_gets_a_complete_quote(fib: IB) -> None:
    ticker = fib.market_data(Stock("AAPL"))
    assert isinstance(ticker, Ticker)
    async with asyncio.timeout(GUARD):
        await ticker.ready()
    assert 0 < ticker.bid < ticker.ask
    assert isinstance(ticker.bid_size, Decimal) and ticker.bid_size > 0
    assert ticker.last > 0 and ticker.close > 0 and ticker.volume is not None
    assert ticker.min_tick == 0.01 and ticker.bbo_exchange
    assert ticker.time is not None and ticker.time.tzinfo is not None
    assert ticker.last_timestamp is not None and ticker.last_timestamp.tzinfo is not None
    assert math.isnan(ticker.mark_price)  # not requested: unset is NaN, never a sentinel
    assert ticker in fib.tickers()
    assert not math.isnan(ticker.mid()) and not math.isnan(ticker.market_price())


async def test_ticker_updates_in_place_once_per_read(fib: IB) -> None:
    ticker = fib.market_data(Stock("MSFT"))
    await ticker.ready(GUARD)
    seen: list[Ticker] = []
    ticker.updated += seen.append
    async with asyncio.timeout(GUARD):
        n = 0
        async for t in ticker.updates():
            assert t is ticker
            assert t.ticks, "each update carries its ticks"
            n += 1
            if n == 3:
                break
    assert seen and all(t is ticker for t in seen)


async def test_generic_ticks_rt_volume_shortable_dividends(fib: IB) -> None:
    ticker = fib.market_data(Stock("AAPL"), [233, 236, 456, 221])
    async with asyncio.timeout(GUARD):
        await ticker.ready()
        while ticker.rt_volume is None:
            await ticker.updated
    assert ticker.rt_volume.price > 0 and ticker.rt_volume.size is not None
    assert ticker.rt_volume.time is not None
    assert not math.isnan(ticker.vwap)
    assert ticker.shortable > 0
    assert ticker.dividends is not None and ticker.dividends.next_date
    assert not math.isnan(ticker.mark_price)


async def test_cancel_ends_the_subscription(fib: IB, fast_sim: Simulator) -> None:
    ticker = fib.market_data(Stock("AAPL"))
    await ticker.ready(GUARD)
    fib.cancel_market_data(ticker)
    assert ticker not in fib.tickers()
    await fib.client.req_managed_accounts()  # the cancel has been handled by now
    assert all(not s.state.get("mkt_data") for s in fast_sim.sessions)
    async with asyncio.timeout(GUARD):
        assert [t async for t in ticker.updates()] == []


async def test_snapshot_is_fresh_every_time(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        first = await ib.snapshot(Stock("AAPL"))
        second = await ib.snapshot(Stock("AAPL"))
    assert first is not second
    assert first.snapshot and second.snapshot
    assert first.bid > 0 and second.bid > 0
    assert ib.tickers() == []


async def test_snapshot_with_generic_ticks_is_refused_before_the_wire(ib: IB) -> None:
    with pytest.raises(ValueError, match="generic"):
        ib.client.req_mkt_data(Stock("AAPL"), "233", snapshot=True)


async def test_option_ticker_ready_means_greeks(fib: IB) -> None:
    [aapl] = await fib.qualify(Stock("AAPL"))
    chain = next(c for c in await fib.option_chain(aapl) if c.exchange == "SMART")
    strike = chain.strikes[len(chain.strikes) // 2]
    call = fib.market_data(Option("AAPL", chain.expirations[2], strike, "C"))
    put = fib.market_data(Option("AAPL", chain.expirations[2], strike, "P"))
    async with asyncio.timeout(GUARD):
        await call.ready()
        await put.ready()
    assert call.model_greeks is not None and put.model_greeks is not None
    assert 0 < call.model_greeks.delta < 1 and -1 < put.model_greeks.delta < 0
    assert call.model_greeks.implied_vol > 0 and call.model_greeks.und_price > 0


async def test_index_is_ready_on_last(fib: IB) -> None:
    spx = fib.market_data(Index("SPX", "CBOE"))
    async with asyncio.timeout(GUARD):
        await spx.ready()
    assert spx.last > 0


async def test_delayed_market_data_type() -> None:
    # delayed data where the account has no subscription (10167), live data where it has one
    async with (
        Simulator(port=0, seed=1, tick_interval=0.02, no_market_data=("EUR.USD",)) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        ib.market_data_type(3)
        ticker = ib.market_data(Forex("EURUSD"))
        live = ib.market_data(Forex("GBPUSD"))
        async with asyncio.timeout(GUARD):
            await ticker.ready()
            await live.ready()
        assert ticker.market_data_type == 3
        assert any(t.tick_type in (66, 67) for t in ticker.ticks)
        assert [e.code for e in ticker.errors] == [10167]
        assert live.market_data_type == 1 and not live.errors
        assert not any(t.tick_type in (66, 67) for t in live.ticks)
        with pytest.raises(ValueError):
            ib.market_data_type(7)


async def test_unknown_contract_fails_the_ticker(ib: IB) -> None:
    ticker = ib.market_data(Stock("NOSUCHSYMBOL"))
    with pytest.raises(RequestError) as e:
        async with asyncio.timeout(GUARD):
            await ticker.ready()
    assert e.value.code == 200
    assert ticker.errors and ticker.errors[0].code == 200
    assert ticker not in ib.tickers()


async def test_market_data_line_limit_is_error_101() -> None:
    async with (
        Simulator(port=0, market_data_lines=2, tick_interval=0) as sim,
        IB.connect_to(sim.host, sim.port, timeout=GUARD) as ib,
    ):
        a = ib.market_data(Stock("AAPL"))
        b = ib.market_data(Stock("MSFT"))
        c = ib.market_data(Stock("IBM", primary_exchange="NYSE"))
        async with asyncio.timeout(GUARD):
            await a.ready()
            await b.ready()
            with pytest.raises(RequestError) as e:
                await c.ready()
        assert e.value.code == 101


async def test_warning_reaches_the_ticker_and_keeps_it(fib: IB, fast_sim: Simulator) -> None:
    ticker = fib.market_data(Stock("AAPL"))
    await ticker.ready(GUARD)
    [session] = fast_sim.clients.values()
    session.send_error(
        ticker.req_id,
        10167,
        "Requested market data is not subscribed. Displaying delayed market data.",
    )
    async with asyncio.timeout(GUARD):
        while not ticker.errors:
            await ticker.updated
    assert ticker.errors[0].code == 10167
    assert ticker in fib.tickers()


async def test_manual_market_step_is_deterministic() -> None:
    results = []
    for _ in range(2):
        async with (
            Simulator(port=0, seed=7, tick_interval=0) as sim,
            IB.connect_to(sim.host, sim.port, timeout=GUARD) as ib,
        ):
            ticker = ib.market_data(Stock("AAPL", con_id=265598))
            await ticker.ready(GUARD)
            assert step_market(sim) > 0
            async with asyncio.timeout(GUARD):
                await ticker.updated
            results.append((ticker.bid, ticker.ask))
    assert results[0][0] > 0 and results[0][1] > results[0][0]


async def test_the_tick_path_survives_garbage_between_ticks(fib: IB, fast_sim: Simulator) -> None:
    from aiotws.wire.framing import frame

    ticker = fib.market_data(Stock("AAPL"))
    await ticker.ready(GUARD)
    errors: list[object] = []
    fib.decode_errors += errors.append
    [session] = fast_sim.clients.values()
    session.write(frame(f"1\x006\x00{ticker.req_id}\x001\x00notaprice\x00100\x000\x00".encode()))
    async with asyncio.timeout(GUARD):
        while not errors:
            await fib.decode_errors
        await ticker.updated
    assert ticker.bid > 0


async def test_a_halt_reaches_the_ticker() -> None:
    from aiotws.sim import halt

    async with (
        Simulator(port=0, tick_interval=0) as sim,
        IB.connect_to(sim.host, sim.port, timeout=GUARD) as ib,
    ):
        ticker = ib.market_data(Stock("AAPL", con_id=265598))
        await ticker.ready(GUARD)
        assert ticker.halted == 0.0
        assert halt(sim, 265598) == 1
        async with asyncio.timeout(GUARD):
            while ticker.halted != 1.0:
                await ticker.updated
        assert halt(sim, 265598, halted=False) == 1
        async with asyncio.timeout(GUARD):
            while ticker.halted != 0.0:
                await ticker.updated


async def test_a_rerouted_ticker_follows_the_contract_tws_names(
    fib: IB, fast_sim: Simulator
) -> None:
    """REROUTE_MKT_DATA_REQ (CFDs): the same ticker is subscribed to the named contract."""
    cfd = (await fib.qualify(CFD("IBUS500")))[0]
    spy = (await fib.qualify(Stock("SPY")))[0]
    fast_sim.reroutes[cfd.con_id] = (spy.con_id, "ARCA")
    ticker = fib.market_data(cfd, generic_ticks=[233])
    first_id = ticker.req_id
    await ticker.ready(10)
    assert ticker.rerouted_to is not None
    assert (ticker.rerouted_to.con_id, ticker.rerouted_to.exchange) == (spy.con_id, "ARCA")
    assert ticker.req_id != first_id and ticker in fib.tickers()
    assert 0 < ticker.bid < ticker.ask
    again = [r for r in fast_sim.requests if isinstance(r, ReqMktData)][-1]
    assert again.req_id == ticker.req_id and again.generic_tick_list == "233"
    fib.cancel_market_data(ticker)
    await fib.client.req_managed_accounts()
    cancels = [r.req_id for r in fast_sim.requests if isinstance(r, CancelMktData)]
    assert cancels == [ticker.req_id]
