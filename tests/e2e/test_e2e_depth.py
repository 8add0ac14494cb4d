"""Tick-by-tick, market depth and option calculations end to end against the simulator."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import pytest

from aiotws import CFD, IB, DepthLevel, Forex, Index, Option, OrderBook, RequestError, Stock
from aiotws.model.ticks import (
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickLast,
    TickByTickMidPoint,
)
from aiotws.sim import Simulator, halt_depth, reset_depth, step_depth, step_market
from aiotws.wire.messages.depth import (
    CancelMktDepth,
    CancelTickByTickData,
    ReqMktDepth,
    ReqTickByTickData,
)

GUARD = 10.0
AAPL = 265598
SMART_VENUES = ("NASDAQ", "ARCA", "NYSE", "BATS", "IEX", "EDGX", "MEMX", "BYX")


@pytest.fixture
async def fast_sim() -> object:
    async with Simulator(port=0, seed=1, tick_interval=0.02) as sim:
        yield sim


@pytest.fixture
async def fib(fast_sim: Simulator) -> object:
    async with IB.connect_to(fast_sim.host, fast_sim.port, client_id=1, timeout=GUARD) as ib:
        yield ib


@pytest.fixture
async def manual() -> object:
    """A simulator whose clock does not run: tests step it with ``step_depth``."""
    async with (
        Simulator(port=0, seed=3, tick_interval=0) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        yield sim, ib


async def _take(stream: object, n: int) -> list[object]:
    out: list[object] = []
    async with asyncio.timeout(GUARD):
        async for item in stream:  # type: ignore[attr-defined]
            out.append(item)
            if len(out) == n:
                break
    return out


# -- tick-by-tick ------------------------------------------------------------------------------


async def test_tick_by_tick_bid_ask(fib: IB) -> None:
    async with fib.tick_by_tick(Stock("AAPL"), "BidAsk") as stream:
        ticks = await _take(stream, 4)
    assert all(isinstance(t, TickByTickBidAsk) for t in ticks)
    for t in ticks:
        assert isinstance(t, TickByTickBidAsk)
        assert 0 < t.bid_price < t.ask_price
        assert isinstance(t.bid_size, Decimal) and t.bid_size > 0
        assert isinstance(t.ask_size, Decimal) and t.ask_size > 0
        assert t.time.tzinfo is not None and t.time.utcoffset() is not None
        assert isinstance(t.bid_past_low, bool) and isinstance(t.ask_past_high, bool)
    assert stream.done


async def test_tick_by_tick_midpoint(fib: IB) -> None:
    async with fib.tick_by_tick(Forex("EURUSD"), "MidPoint") as stream:
        ticks = await _take(stream, 3)
    for t in ticks:
        assert isinstance(t, TickByTickMidPoint)
        assert 0.5 < t.mid_point < 2.5
        assert t.time.tzinfo is not None


@pytest.mark.parametrize(
    ("kind", "cls"), [("Last", TickByTickLast), ("AllLast", TickByTickAllLast)]
)
async def test_tick_by_tick_trades(fib: IB, kind: str, cls: type) -> None:
    async with fib.tick_by_tick(Stock("AAPL"), kind) as stream:  # type: ignore[arg-type]
        ticks = await _take(stream, 3)
    for t in ticks:
        assert type(t) is cls
        assert isinstance(t, TickByTickLast)
        assert t.price > 0 and isinstance(t.size, Decimal) and t.size > 0
        assert t.exchange  # SMART stocks trade on a named venue
        assert t.time.tzinfo is not None
        assert t.past_limit is False


async def test_tick_by_tick_kind_is_checked_before_the_wire(fib: IB, fast_sim: Simulator) -> None:
    with pytest.raises(ValueError, match="BidAsk"):
        fib.tick_by_tick(Stock("AAPL"), "Bid")  # type: ignore[arg-type]
    assert not any(isinstance(r, ReqTickByTickData) for r in fast_sim.requests)


async def test_cancel_ends_the_stream_and_the_sim_stops(fib: IB, fast_sim: Simulator) -> None:
    stream = fib.tick_by_tick(Stock("AAPL"), "BidAsk")
    await _take(stream, 1)
    stream.cancel()
    assert stream.done
    async with asyncio.timeout(GUARD):
        assert [t async for t in stream] == []
    await fib.client.req_managed_accounts()  # the cancel has been handled by now
    assert any(isinstance(r, CancelTickByTickData) for r in fast_sim.requests)
    assert all(not s.state.get("tick_by_tick") for s in fast_sim.sessions)


async def test_cancelling_the_iterating_task_cancels_at_tws(fib: IB, fast_sim: Simulator) -> None:
    stream = fib.tick_by_tick(Stock("AAPL"), "MidPoint")
    await _take(stream, 1)

    async def forever() -> None:
        async for _ in stream:
            pass

    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.done
    await fib.client.req_managed_accounts()
    assert all(not s.state.get("tick_by_tick") for s in fast_sim.sessions)


async def test_tick_by_tick_limit_is_error_10190(fib: IB) -> None:
    streams = [fib.tick_by_tick(Stock("AAPL"), "BidAsk") for _ in range(5)]
    sixth = fib.tick_by_tick(Stock("MSFT"), "BidAsk")
    with pytest.raises(RequestError) as e:
        await _take(sixth, 1)
    assert e.value.code == 10190 and "tick-by-tick" in e.value.message
    assert sixth.done
    for s in streams:
        assert not s.done
        s.cancel()


async def test_tick_by_tick_unknown_contract_is_200(fib: IB) -> None:
    with pytest.raises(RequestError) as e:
        await _take(fib.tick_by_tick(Stock("NOSUCHSYMBOL"), "Last"), 1)
    assert e.value.code == 200


# -- market depth ------------------------------------------------------------------------------


Side = list[tuple[float, Decimal, str]]


def _engine(sim: Simulator, con_id: int, rows: int, smart: bool = False) -> tuple[Side, Side]:
    """The engine's top rows; plain MARKET_DEPTH carries no market maker."""
    asks, bids = sim.market.depth_book(con_id).rows(rows)
    return (
        [(r.price, r.size, r.market_maker if smart else "") for r in asks],
        [(r.price, r.size, r.market_maker if smart else "") for r in bids],
    )


def _client(book: OrderBook) -> tuple[Side, Side]:
    return (
        [(lv.price, lv.size, lv.market_maker) for lv in book.asks],
        [(lv.price, lv.size, lv.market_maker) for lv in book.bids],
    )


async def test_order_book_equals_the_engine_book_after_steps(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    book = ib.market_depth(Stock("AAPL", con_id=AAPL), rows=5)
    assert isinstance(book, OrderBook)
    await book.ready(GUARD)
    assert _client(book) == _engine(sim, AAPL, 5)
    for _ in range(8):
        assert step_depth(sim) > 0
        async with asyncio.timeout(GUARD):
            await book.updated
        await ib.client.req_managed_accounts()  # every op of the step has arrived
        assert _client(book) == _engine(sim, AAPL, 5)
    bids, asks = [lv.price for lv in book.bids], [lv.price for lv in book.asks]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert all(isinstance(lv.size, Decimal) and lv.size > 0 for lv in book.bids + book.asks)
    assert all(lv.market_maker == "" for lv in book.bids)  # plain MARKET_DEPTH
    assert book.time is not None and book.time.tzinfo is not None
    assert book in ib.order_books()


async def test_live_book_follows_the_clock(fib: IB, fast_sim: Simulator) -> None:
    book = fib.market_depth(Forex("EURUSD"), rows=3)
    await book.ready(GUARD)
    n = 0
    async with asyncio.timeout(GUARD):
        async for b in book.updates():
            assert b is book
            n += 1
            if n == 3:
                break
    assert 0 < book.bids[0].price < book.asks[0].price


async def test_smart_depth_rows_carry_exchanges(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    book = ib.market_depth(Stock("AAPL", con_id=AAPL), rows=4, smart=True)
    await book.ready(GUARD)
    step_depth(sim)
    await ib.client.req_managed_accounts()
    assert _client(book) == _engine(sim, AAPL, 4, smart=True)
    exchanges = {lv.market_maker for lv in book.bids + book.asks}
    assert exchanges and exchanges <= set(SMART_VENUES)
    ib.cancel_market_depth(book)
    await ib.client.req_managed_accounts()
    [cancel] = [r for r in sim.requests if isinstance(r, CancelMktDepth)]
    assert cancel.req_id == book.req_id and cancel.is_smart_depth


async def test_depth_limit_is_error_309(manual: tuple[Simulator, IB]) -> None:
    _, ib = manual
    books = [ib.market_depth(Stock(s)) for s in ("AAPL", "MSFT", "TSLA")]
    fourth = ib.market_depth(Forex("EURUSD"))
    for b in books:
        await b.ready(GUARD)
    with pytest.raises(RequestError) as e:
        await fourth.ready(GUARD)
    assert e.value.code == 309
    assert fourth.errors[0].code == 309 and fourth.done
    assert fourth not in ib.order_books() and len(ib.order_books()) == 3


async def test_index_has_no_depth_10092(fib: IB) -> None:
    book = fib.market_depth(Index("SPX", "CBOE"))
    with pytest.raises(RequestError) as e:
        await book.ready(GUARD)
    assert e.value.code == 10092
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError):
            async for _ in book.updates():
                pass


async def test_cancel_ends_the_book(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    book = ib.market_depth(Stock("AAPL", con_id=AAPL))
    await book.ready(GUARD)
    ib.cancel_market_depth(book)
    assert book.done and book not in ib.order_books()
    await ib.client.req_managed_accounts()
    assert all(not s.state.get("mkt_depth") for s in sim.sessions)
    assert step_depth(sim) == 0
    async with asyncio.timeout(GUARD):
        assert [b async for b in book.updates()] == []
    ib.cancel_market_depth(book)  # twice: nothing sent, no 310
    await ib.client.req_managed_accounts()
    assert len([r for r in sim.requests if isinstance(r, CancelMktDepth)]) == 1


async def test_cancel_of_an_unknown_depth_id_is_310(manual: tuple[Simulator, IB]) -> None:
    _, ib = manual
    errors: list[object] = []
    ib.errors += errors.append
    ib.client.send(CancelMktDepth(999_999, False))
    await ib.client.req_managed_accounts()
    assert [getattr(e, "code", None) for e in errors] == [310]


async def test_reset_317_clears_and_keeps_the_book(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    book = ib.market_depth(Stock("AAPL", con_id=AAPL), rows=3)
    await book.ready(GUARD)
    assert reset_depth(sim) == 1
    async with asyncio.timeout(GUARD):
        while book.resets == 0:
            await book.updated
    await ib.client.req_managed_accounts()
    assert not book.done and book in ib.order_books()
    assert [e.code for e in book.errors] == [317]
    assert _client(book) == _engine(sim, AAPL, 3)  # rebuilt from the resent inserts
    step_depth(sim)
    await ib.client.req_managed_accounts()
    assert _client(book) == _engine(sim, AAPL, 3)


async def test_halt_316_ends_the_book(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    book = ib.market_depth(Stock("AAPL", con_id=AAPL))
    await book.ready(GUARD)
    halt_depth(sim)
    with pytest.raises(RequestError) as e:
        async with asyncio.timeout(GUARD):
            async for _ in book.updates():
                pass
    assert e.value.code == 316 and book.done and book not in ib.order_books()


async def test_depth_exchanges(ib: IB) -> None:
    async with asyncio.timeout(GUARD):
        exchanges = await ib.market_depth_exchanges()
    assert len(exchanges) > 5
    by_name = {d.exchange: d for d in exchanges}
    assert by_name["NASDAQ"].sec_type == "STK" and by_name["NASDAQ"].service_data_type == "Deep2"
    assert by_name["IDEALPRO"].sec_type == "CASH" and by_name["IDEALPRO"].agg_group is None


async def test_depth_level_is_exported() -> None:
    assert DepthLevel(1.0, Decimal(2)).market_maker == ""


# -- option calculations -----------------------------------------------------------------------


async def _an_option(ib: IB, right: str = "C") -> Option:
    [aapl] = await ib.qualify(Stock("AAPL"))
    chain = next(c for c in await ib.option_chain(aapl) if c.exchange == "SMART")
    strike = chain.strikes[len(chain.strikes) // 2]
    return Option("AAPL", chain.expirations[3], strike, right)


@pytest.mark.parametrize("right", ["C", "P"])
async def test_option_price_and_implied_vol_round_trip(ib: IB, right: str) -> None:
    opt = await _an_option(ib, right)
    under = opt.strike * 1.02
    async with asyncio.timeout(GUARD):
        priced = await ib.calc_option_price(opt, 0.31, under)
        implied = await ib.calc_implied_volatility(opt, priced.opt_price, under)
    assert priced.opt_price > 0 and priced.implied_vol == pytest.approx(0.31)
    assert priced.und_price == under and priced.gamma > 0 and priced.vega > 0
    assert (0 < priced.delta < 1) if right == "C" else (-1 < priced.delta < 0)
    assert implied.implied_vol == pytest.approx(0.31, abs=1e-6)
    assert implied.opt_price == pytest.approx(priced.opt_price)
    assert implied.delta == pytest.approx(priced.delta, abs=1e-6)


async def test_implied_vol_of_an_impossible_price_is_nan(ib: IB) -> None:
    opt = await _an_option(ib)
    async with asyncio.timeout(GUARD):
        c = await ib.calc_implied_volatility(opt, 0.0001, opt.strike * 2)  # below intrinsic
    assert math.isnan(c.implied_vol) and math.isnan(c.delta)


async def test_option_calc_errors(ib: IB) -> None:
    with pytest.raises(RequestError) as e:
        await ib.calc_option_price(Stock("AAPL"), 0.3, 100.0)
    assert e.value.code == 321
    with pytest.raises(RequestError) as e:
        await ib.calc_implied_volatility(Option("NOSUCH", "20300101", 1.0, "C"), 1.0, 1.0)
    assert e.value.code == 200


async def test_option_calc_alongside_market_data(fib: IB) -> None:
    """The calculation's TICK_OPTION_COMPUTATION takes the ticker hot path and is routed."""
    opt = await _an_option(fib)
    ticker = fib.market_data(opt)
    await ticker.ready(GUARD)
    async with asyncio.timeout(GUARD):
        priced = await fib.calc_option_price(opt, 0.25, opt.strike)
    assert priced.opt_price > 0 and ticker.custom_greeks is None


async def test_tick_by_tick_records_are_sent_once_however_the_market_is_stepped(
    manual: tuple[Simulator, IB],
) -> None:
    """step_depth alone steps the instrument; after step_market it sends that step's
    records; neither sends a record twice, even with a ticker on the same instrument."""
    sim, ib = manual
    ticker = ib.market_data(Stock("AAPL", con_id=AAPL))
    stream = ib.tick_by_tick(Stock("AAPL", con_id=AAPL), "BidAsk")
    await ib.client.req_managed_accounts()
    seen: list[tuple[object, ...]] = []

    async def collect() -> None:
        async for t in stream:
            seen.append((t.time, t.bid_price, t.ask_price, t.bid_size, t.ask_size))  # type: ignore[attr-defined]

    task = asyncio.create_task(collect())
    for i in range(12):
        if i % 3 == 0:
            step_market(sim)
        step_depth(sim)
        await ib.client.req_managed_accounts()
    await ib.client.req_managed_accounts()
    stream.cancel()
    await asyncio.wait_for(task, GUARD)
    assert len(seen) >= 8  # each step moves the quote (a record each, mostly)
    assert len(set(seen)) == len(seen), "a tick-by-tick record was sent twice"
    assert not math.isnan(ticker.bid)


async def test_a_rerouted_book_follows_the_contract_tws_names(manual: tuple[Simulator, IB]) -> None:
    sim, ib = manual
    cfd = (await ib.qualify(CFD("IBUS500")))[0]
    sim.reroutes[cfd.con_id] = (AAPL, "NASDAQ")
    book = ib.market_depth(cfd, rows=3)
    first_id = book.req_id
    await book.ready(GUARD)
    assert book.rerouted_to is not None and book.rerouted_to.con_id == AAPL
    assert book.req_id != first_id and book in ib.order_books()
    assert 0 < book.bids[0].price < book.asks[0].price
    reqs = [r for r in sim.requests if isinstance(r, ReqMktDepth)]
    assert [r.contract.con_id for r in reqs[-2:]] == [cfd.con_id, AAPL]
    ib.cancel_market_depth(book)
    await ib.client.req_managed_accounts()
    assert [r.req_id for r in sim.requests if isinstance(r, CancelMktDepth)] == [book.req_id]
