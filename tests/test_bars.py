"""Bar lists (live updates, bounds, iterators), bar times, and the raw HISTORICAL_DATA path."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiotws import Stock
from aiotws.bars import BarList, RealTimeBarList, bar_time_reader, parse_bar_time
from aiotws.calls.historical import _BarsPending
from aiotws.client import Client
from aiotws.model.history import BarData, RealTimeBar
from aiotws.wire import encode
from aiotws.wire.connection import ClientConnection, State
from aiotws.wire.messages.historical import BarRow, HistoricalData

NY = ZoneInfo("America/New_York")
ZURICH = ZoneInfo("Europe/Zurich")


# -- bar times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("20261201", None, date(2026, 12, 1)),
        ("1764599400", None, datetime(2025, 12, 1, 14, 30, tzinfo=UTC)),
        ("20261201 09:30:00 US/Eastern", None, datetime(2026, 12, 1, 9, 30, tzinfo=NY)),
        ("20260701 09:30:00 US/Eastern", None, datetime(2026, 7, 1, 9, 30, tzinfo=NY)),
        ("20261201 09:30:00", NY, datetime(2026, 12, 1, 9, 30, tzinfo=NY)),
        ("20261201  09:30:00", NY, datetime(2026, 12, 1, 9, 30, tzinfo=NY)),
        (
            "20261201 15:00:00 MET",
            None,
            datetime(2026, 12, 1, 15, tzinfo=ZoneInfo("Europe/Berlin")),
        ),
        ("20261201-14:30:00", None, datetime(2026, 12, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_parse_bar_time(text: str, zone: ZoneInfo | None, expected: object) -> None:
    got = parse_bar_time(text, zone)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(got, datetime):
        assert got.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]
    assert bar_time_reader(zone)(text) == expected


def test_parse_bar_time_refuses_what_it_cannot_place() -> None:
    with pytest.raises(ValueError, match="bar time"):
        parse_bar_time("20261201 09:30:00")  # no zone named and none given
    with pytest.raises(ValueError, match="bar time"):
        parse_bar_time("20261201 09:30:00 Mars/Olympus")
    with pytest.raises(ValueError):
        parse_bar_time("yesterday")


@settings(max_examples=200)
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    st.sampled_from(["US/Eastern", "US/Central", "Europe/Zurich", "Asia/Tokyo", "UTC", "GMT"]),
)
def test_the_cached_reader_agrees_with_parse_bar_time(when: datetime, zone: str) -> None:
    text = when.strftime("%Y%m%d %H:%M:%S ") + zone
    read = bar_time_reader(None)
    first = read(text)
    assert first == parse_bar_time(text)
    assert read(text) == first  # the cached day and time give the same answer
    later = (when + timedelta(minutes=1)).strftime("%Y%m%d %H:%M:%S ") + zone
    assert read(later) == parse_bar_time(later)


# -- BarList ------------------------------------------------------------------------------------


def _bar(minute: int, close: float, volume: int = 100) -> BarData:
    t = datetime(2026, 12, 1, 9, 30, tzinfo=NY) + timedelta(minutes=minute)
    return BarData(t, close, close, close, close, Decimal(volume), Decimal(close), 1)


async def test_keep_up_to_date_revises_the_last_bar_in_place_and_appends_new_ones() -> None:
    bars = BarList(Stock("AAPL"), bar_size="1 min", keep_up_to_date=True, bars=[_bar(0, 1.0)])
    last = bars[-1]
    seen: list[tuple[int, bool]] = []
    bars.updated += lambda b, new: seen.append((len(b), new))
    bars._on_update(_bar(0, 2.0, 150))
    assert bars[-1] is last and last.close == 2.0 and last.volume == Decimal(150)
    bars._on_update(_bar(1, 3.0))
    assert len(bars) == 2 and bars[-1].close == 3.0
    bars._on_update(_bar(-5, 9.9))  # older than what we hold: ignored
    assert len(bars) == 2 and seen == [(1, False), (2, True)]


async def test_bar_list_updates_iterator_keeps_only_the_latest_state() -> None:
    bars = BarList(Stock("AAPL"), keep_up_to_date=True, bars=[_bar(0, 1.0)])
    it = bars.updates()
    for m in range(1, 6):
        bars._on_update(_bar(m, float(m)))
    got = await asyncio.wait_for(it.__anext__(), 1)
    assert got is bars and len(bars) == 6
    bars._close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(it.__anext__(), 1)
    assert bars.done


async def test_a_failed_list_raises_from_its_iterator() -> None:
    bars = BarList(Stock("AAPL"), keep_up_to_date=True)
    it = bars.updates()
    bars._close(RuntimeError("lost"))
    with pytest.raises(RuntimeError, match="lost"):
        await asyncio.wait_for(it.__anext__(), 1)


def test_bar_list_is_a_list_with_a_readable_repr() -> None:
    bars = BarList(Stock("AAPL"), bar_size="1 min", bars=[_bar(0, 1.0), _bar(1, 2.0)])
    assert bars == [_bar(0, 1.0), _bar(1, 2.0)]
    assert "AAPL 1 min TRADES 2 bars" in repr(bars)
    with pytest.raises(TypeError):
        hash(bars)


async def test_real_time_bars_are_bounded_by_max_bars() -> None:
    rt = RealTimeBarList(Stock("AAPL"), max_bars=3)
    seen: list[bool] = []
    rt.updated += lambda b, new: seen.append(new)
    t0 = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    for k in range(5):
        rt._on_bar(
            RealTimeBar(t0 + timedelta(seconds=5 * k), 1, 2, 0.5, 1.5, Decimal(10), Decimal(1), 3)
        )
    assert [b.time.second for b in rt] == [10, 15, 20]
    assert seen == [True] * 5
    with pytest.raises(ValueError):
        RealTimeBarList(Stock("AAPL"), max_bars=0)


def test_df_needs_pandas_or_gives_a_frame() -> None:
    bars = BarList(Stock("AAPL"), bars=[_bar(0, 1.0)])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            bars.df()
    else:
        frame = bars.df()
        assert list(frame.columns)[:5] == ["date", "open", "high", "low", "close"]


# -- the raw HISTORICAL_DATA path and the layout path read alike ----------------------------------

_prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2))
_rows = st.builds(
    BarRow,
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda d: d.strftime("%Y%m%d %H:%M:%S US/Eastern")
    )
    | st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)).map(
        lambda d: d.strftime("%Y%m%d")
    ),
    _prices,
    _prices,
    _prices,
    _prices,
    st.none()
    | st.just(Decimal(-1))
    | st.decimals(min_value=0, max_value=10**9, places=0, allow_nan=False),
    st.none()
    | st.just(Decimal(-1))
    | st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False),
    st.integers(-1, 10**6),
)


async def _read(data: bytes, version: int, raw: bool) -> tuple[BarList, int]:
    client = Client()
    client.server_version = version
    bars = BarList(Stock("AAPL"), req_id=7)
    p = _BarsPending(client, bars, version >= 196, NY)
    client._registry.add(p)
    conn = ClientConnection()
    conn.state = State.OPEN
    conn.server_version = version
    if raw:
        conn.raw = client._raw
    decoded = 0  # frames that reached the layout decoder
    for k in range(0, len(data), 1021):
        events = conn.receive_data(data[k : k + 1021])
        decoded += len(events)
        client.on_messages(events)
    return bars, decoded


@settings(max_examples=40, deadline=None)
@given(st.lists(_rows, max_size=30), st.sampled_from([176, 200]))
async def test_raw_and_layout_paths_read_bars_alike(rows: list[BarRow], version: int) -> None:
    msg = HistoricalData(7, bars=rows)
    if version < 196:
        msg = HistoricalData(
            7, "20261130 09:30:00 US/Eastern", "20261201 16:00:00 US/Eastern", rows
        )
    data = encode(msg, version)
    fast, decoded = await _read(data, version, raw=True)
    slow, _ = await _read(data, version, raw=False)
    assert decoded == 0  # the raw path read it
    assert list(fast) == list(slow)
    assert (fast.start_text, fast.end_text) == (slow.start_text, slow.end_text)
    for bar in fast:
        assert bar.volume is None or bar.volume >= 0
        assert bar.bar_count is None or bar.bar_count >= 0
