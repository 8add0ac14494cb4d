"""OrderBook: TWS's depth operations applied by position and side, coalesced updates."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws import DepthLevel, OrderBook, Stock
from aiotws.errors import RequestError
from aiotws.orderbook import ASK, BID, DELETE, INSERT, UPDATE

NOW = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)


def book() -> OrderBook:
    return OrderBook(Stock("AAPL"), 7, 5)


def test_insert_update_delete_by_position_and_side() -> None:
    b = book()
    b.apply(0, INSERT, BID, 10.0, Decimal(100))
    b.apply(0, INSERT, BID, 10.1, Decimal(200))  # a better bid goes on top
    b.apply(2, INSERT, BID, 9.9, Decimal(300))
    b.apply(0, INSERT, ASK, 10.2, Decimal(50), "ARCA")
    assert [lv.price for lv in b.bids] == [10.1, 10.0, 9.9]
    assert b.asks == [DepthLevel(10.2, Decimal(50), "ARCA")]
    b.apply(1, UPDATE, BID, 10.0, Decimal(150))
    assert b.bids[1] == DepthLevel(10.0, Decimal(150))
    b.apply(0, DELETE, BID, 10.1, Decimal(0))
    assert [lv.price for lv in b.bids] == [10.0, 9.9]
    assert b.best_bid() == DepthLevel(10.0, Decimal(150))
    assert b.best_ask() is not None and b.best_ask().price == 10.2


def test_lenient_with_out_of_range_positions_and_unknown_codes() -> None:
    b = book()
    b.apply(3, DELETE, ASK, 1.0, None)  # nothing to delete: ignored
    b.apply(0, UPDATE, ASK, 1.0, None)  # update one past the end: appended
    assert b.asks == [DepthLevel(1.0, Decimal(0))]
    b.apply(0, 9, ASK, 2.0, Decimal(1))  # unknown operation
    b.apply(0, INSERT, 5, 2.0, Decimal(1))  # unknown side
    assert b.asks == [DepthLevel(1.0, Decimal(0))] and b.bids == []


def test_updated_fires_once_per_batch_and_ready() -> None:
    async def run() -> None:
        b = book()
        seen: list[OrderBook] = []
        b.updated += seen.append
        waiter = asyncio.ensure_future(b.ready(1.0))
        await asyncio.sleep(0)
        b.apply(0, INSERT, BID, 10.0, Decimal(1))
        b.apply(0, INSERT, ASK, 10.1, Decimal(1))
        b._batch_end(NOW)
        b._batch_end(NOW)  # nothing new: no event
        assert seen == [b] and b.time == NOW
        assert await waiter is b

    asyncio.run(run())


def test_reset_clears_and_updates_iterator_ends_with_the_error() -> None:
    async def run() -> None:
        b = book()
        b.apply(0, INSERT, BID, 10.0, Decimal(1))
        it = b.updates()
        b._batch_end(NOW)
        assert await anext(it) is b
        b.reset()
        assert b.bids == [] and b.asks == [] and b.resets == 1
        err = RequestError(316, "Market depth data HALTED. Please re-subscribe.", 7)
        b._fail(err)
        with pytest.raises(RequestError):
            await anext(it)
        with pytest.raises(RequestError):
            await b.ready(1.0)
        assert b.done

    asyncio.run(run())


@given(
    st.lists(
        st.tuples(st.sampled_from([ASK, BID]), st.integers(0, 12), st.integers(1, 9)),
        max_size=60,
    )
)
def test_ops_from_diffs_rebuild_any_sorted_book(changes: list[tuple[int, int, int]]) -> None:
    """Feeding the engine's own diff operations keeps the client book equal to the source."""
    from aiotws.sim.market import ASK_SIDE, BID_SIDE, DepthRow, _diff_side

    b = book()
    src: dict[int, dict[int, int]] = {ASK: {}, BID: {}}
    view: dict[int, list[DepthRow]] = {ASK: [], BID: []}
    for side, tick, size in changes:
        levels = src[side]
        if levels.get(tick) == size:
            del levels[tick]
        else:
            levels[tick] = size
        prices = sorted(levels, reverse=side == BID)[:5]
        new = [DepthRow(100 + p / 100, Decimal(levels[p]), "") for p in prices]
        ops = _diff_side(ASK_SIDE if side == ASK else BID_SIDE, view[side], new)
        view[side] = new
        for op in ops:
            b.apply(op.position, op.operation, op.side, op.price, op.size, op.market_maker)
        for s, mine in ((ASK, b.asks), (BID, b.bids)):
            assert [(lv.price, lv.size) for lv in mine] == [(r.price, r.size) for r in view[s]]
