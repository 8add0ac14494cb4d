"""The hand-tuned TICK_PRICE/TICK_SIZE path and the declarative layouts read ticks alike.

Every tick frame is fed twice through a ClientConnection into a client with one ticker:
once with the raw consumers installed, once without (generated layout readers and the
message consumers). The ticker states must be identical, and a frame the raw path cannot
read must fall back rather than be lost.
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from aiotws import Stock
from aiotws.client import Client
from aiotws.ticker import Ticker
from aiotws.wire import encode
from aiotws.wire.connection import ClientConnection, State
from aiotws.wire.messages.market import TickPrice, TickSize

REQ = 7
FIELDS = ("bid", "ask", "last", "bid_size", "ask_size", "last_size", "volume", "high", "low")

prices = st.floats(min_value=-1, max_value=1e7, allow_nan=False, allow_infinity=False)
sizes = st.none() | st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
price_ticks = st.builds(
    TickPrice,
    st.just(REQ),
    st.sampled_from([1, 2, 4, 6, 7, 9, 14, 37, 66, 67, 68, 99, 120]),
    prices,
    sizes,
    st.integers(0, 7),
)
size_ticks = st.builds(
    TickSize, st.just(REQ), st.sampled_from([0, 3, 5, 8, 21, 69, 70, 74, 130]), sizes
)


async def _apply(data: bytes, *, raw: bool, version: int) -> Ticker:
    client = Client()
    ticker = Ticker(Stock("AAPL"), REQ)
    client._tickers[REQ] = ticker
    conn = ClientConnection()
    conn.state = State.OPEN
    conn.server_version = version
    if raw:
        conn.raw = client._raw
    for i in range(0, len(data), 997):  # frames cut across reads
        client.on_messages(list(conn.receive_data(data[i : i + 997])))  # type: ignore[arg-type]
    return ticker


def _state(t: Ticker) -> list[object]:
    out: list[object] = []
    for name in FIELDS:
        v = getattr(t, name)
        out.append("nan" if isinstance(v, float) and math.isnan(v) else v)
    out.append(sorted(t.other.items()))
    out.append([(x.tick_type, "nan" if math.isnan(x.price) else x.price, x.size) for x in t.ticks])
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(price_ticks | size_ticks, min_size=1, max_size=40),
    st.sampled_from([157, 176, 200]),
)
async def test_raw_and_layout_paths_agree(msgs: list[TickPrice | TickSize], version: int) -> None:
    data = b"".join(encode(m, version) for m in msgs)
    fast = await _apply(data, raw=True, version=version)
    slow = await _apply(data, raw=False, version=version)
    assert _state(fast) == _state(slow)


async def test_a_frame_the_raw_path_cannot_read_falls_back() -> None:
    good = encode(TickPrice(REQ, 1, 101.5, Decimal(3), 0), 200)
    bad = b"\x00\x00\x00\x0e1\x006\x007\x001\x00x\x003\x000\x00"  # price "x"
    client = Client()
    ticker = Ticker(Stock("AAPL"), REQ)
    client._tickers[REQ] = ticker
    conn = ClientConnection()
    conn.state = State.OPEN
    conn.server_version = 200
    conn.raw = client._raw
    events = conn.receive_data(good + bad)
    assert len(events) == 1  # the good tick was consumed raw; the bad one is reported
    assert type(events[0]).__name__ == "UndecodableFrame"
    client.on_messages(list(events))  # type: ignore[arg-type]
    assert ticker.bid == 101.5 and ticker.bid_size == Decimal(3)


async def test_a_dropped_ticker_gets_no_more_raw_ticks() -> None:
    """The raw path looks tickers up by the id's text; dropping one forgets it there too."""
    client = Client()
    old = Ticker(Stock("AAPL"), REQ)
    client._tickers[REQ] = old
    conn = ClientConnection()
    conn.state = State.OPEN
    conn.server_version = 200
    conn.raw = client._raw
    client.on_messages(list(conn.receive_data(encode(TickPrice(REQ, 1, 10.0, Decimal(1), 0), 200))))  # type: ignore[arg-type]
    assert old.bid == 10.0
    client._drop_ticker(old)
    new = Ticker(Stock("AAPL"), REQ)
    client._tickers[REQ] = new
    client.on_messages(list(conn.receive_data(encode(TickPrice(REQ, 1, 11.0, Decimal(1), 0), 200))))  # type: ignore[arg-type]
    assert old.bid == 10.0
    assert new.bid == 11.0
    client._drop_ticker(new)
    events = conn.receive_data(encode(TickSize(REQ, 0, Decimal(5)), 200))
    client.on_messages(list(events))  # type: ignore[arg-type]
    assert new.bid_size == Decimal(1)  # an unknown id is left to the layout path, which drops it
