"""Record and replay (:mod:`aiotws.record`, :mod:`aiotws.replay`): a session recorded
against the simulator plays back to a fresh client with the same results; redaction; the
mismatch report; request ids remapped; timing; corrupt files; I/O errors."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from aiotws import IB, Client, LimitOrder, MarketOrder, RequestTimeout, Stock, TWSConnectionError
from aiotws.protocol import TWSProtocol
from aiotws.record import (
    FORMAT,
    Frame,
    RecordedConnection,
    Recorder,
    Recording,
    RecordingError,
    Redactor,
)
from aiotws.replay import ReplayMismatch, ReplayServer
from aiotws.sim import Simulator
from aiotws.testing import replay

GUARD = 10.0
DEV_FULL = Path("/dev/full")  # every write fails: ENOSPC


async def _session(ib: IB) -> dict[str, Any]:
    """Quotes, a history request and an order: what the recorded and the replayed client do."""
    [aapl] = await ib.qualify(Stock("AAPL"))
    ticker = ib.market_data(aapl)
    await ticker.ready(GUARD)
    seen = 0
    async with asyncio.timeout(GUARD):
        async for _ in ticker.updates():
            seen += 1
            if seen == 3:
                break
    ib.cancel_market_data(ticker)
    bars = await ib.historical_bars(aapl, duration="1 D", bar_size="1 hour")
    trade = ib.place_order(aapl, MarketOrder("BUY", 10))
    await trade.done(timeout=GUARD)
    return {
        "quote": (ticker.bid, ticker.ask, ticker.last, ticker.bid_size),
        "bars": [(b.date, b.open, b.high, b.low, b.close, b.volume) for b in bars],
        "trade": (
            trade.status,
            trade.order.order_id,
            trade.avg_fill_price(),
            trade.fills[0].execution.exec_id,
        ),
        "positions": [(p.account, p.contract.con_id, p.position) for p in await ib.positions()],
        "accounts": ib.managed_accounts,
    }


async def _record(path: Path, sim: Simulator, *, redact: bool = False) -> dict[str, Any]:
    ib = IB(reconnect=False)
    recorder = ib.client.start_recording(path, redact=redact)
    await ib.connect(sim.host, sim.port, client_id=3, timeout=GUARD)
    try:
        return await _session(ib)
    finally:
        ib.disconnect()
        await ib.wait_closed()
        await recorder.aclose()


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "session.twsrec"
    async with Simulator(port=0, seed=1, tick_interval=0.02) as sim:
        result = await _record(path, sim)
    return path, result


async def test_a_recorded_session_replays_with_the_same_results(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, original = recorded
    rec = Recording.load(path)
    [conn] = rec.connections
    assert conn.server_version == 200 and conn.closed_by == "client" and conn.client_id == 3
    names = [f.name for f in conn.frames]
    assert names[0] == "START_API" and "REQ_HISTORICAL_DATA" in names and "PLACE_ORDER" in names
    assert "TICK_PRICE" in names and "EXECUTION_DATA" in names
    async with replay(path) as ib:
        assert ib.client.client_id == 3  # the recorded client id
        assert await _session(ib) == original


async def test_the_file_is_json_lines_with_a_header(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, _ = recorded
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == FORMAT and lines[0]["version"] == 1
    assert lines[0]["redacted"] is False
    assert [r["k"] for r in lines[1:3]] == ["connect", "handshake"]
    assert lines[1]["hello"].startswith("v157..")
    assert lines[3] == {**lines[3], "k": "out", "m": "START_API", "f": ["71", "2", "3", ""]}
    ts = [r["t"] for r in lines[1:]]
    assert ts == sorted(ts)
    assert lines[-1]["k"] == "close" and lines[-1]["by"] == "client"


async def test_a_recording_survives_load_and_save(
    recorded: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, _ = recorded
    rec = Recording.load(path)
    copy = tmp_path / "copy.twsrec"
    rec.save(copy)
    again = Recording.load(copy)
    assert again.connections == rec.connections
    assert len(rec.frames) > 50


async def test_redaction_rewrites_account_ids_consistently(tmp_path: Path) -> None:
    path = tmp_path / "redacted.twsrec"
    accounts = ("DU7654321", "DU1111111")
    async with Simulator(port=0, seed=1, tick_interval=0.02, accounts=accounts) as sim:
        ib = IB(reconnect=False)
        recorder = ib.client.start_recording(path, redact=True)
        await ib.connect(sim.host, sim.port, client_id=1, account="DU1111111", timeout=GUARD)
        [aapl] = await ib.qualify(Stock("AAPL"))
        order = LimitOrder("BUY", 5, 1.0)
        order.account = "DU1111111"
        trade = ib.place_order(aapl, order)
        await ib.client.req_managed_accounts()
        ib.cancel_order(trade)
        await trade.done(timeout=GUARD)
        ib.disconnect()
        await ib.wait_closed()
        await recorder.aclose()
    text = path.read_text()
    assert "7654321" not in text and "1111111" not in text
    rec = Recording.load(path)
    assert rec.redacted
    [managed] = [f for f in rec.frames if f.name == "MANAGED_ACCTS"][:1]
    assert managed.fields[2] == "DU0000001,DU0000002"  # paper stays paper, order kept
    acct_data = [f for f in rec.frames if f.name == "REQ_ACCT_DATA"]
    assert acct_data and acct_data[0].fields[3] == "DU0000002"  # the same id everywhere
    values = [f for f in rec.frames if f.name == "ACCT_VALUE"]
    assert values and {f.fields[-1] for f in values} == {"DU0000002"}
    placed = next(f for f in rec.frames if f.name == "PLACE_ORDER")
    assert "DU0000002" in placed.fields
    # a redacted recording replays: the client sends the redacted ids it was given
    async with replay(path, strict=False, account="DU0000002") as replayed:
        assert list(replayed.managed_accounts) == ["DU0000001", "DU0000002"]
        assert replayed.account_kind == "paper"


def test_the_redactor_keeps_the_kind_and_knows_odd_shapes() -> None:
    r = Redactor()
    assert r.fields("in", ["15", "1", "DU111,U7654321"]) == ["15", "1", "DU001,U0000002"]
    assert r.text("account DU111 and F1234567; U7654321") == "account DU001 and F0000003; U0000002"
    assert r.text("AAPL 265598 U") == "AAPL 265598 U"  # con ids and tickers are left alone
    assert r.account("DU001") == "DU001"  # already redacted


async def test_a_request_the_recording_lacks_is_a_clear_mismatch(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = recorded
    with pytest.raises(ReplayMismatch) as info:
        async with ReplayServer(path) as server:
            ib = IB(reconnect=False)
            await ib.connect(server.host, server.port, 3, timeout=GUARD)
            with pytest.raises(TWSConnectionError):  # closed at once: no wait for a timeout
                async with asyncio.timeout(GUARD):
                    await ib.qualify(Stock("MSFT"))
            await ib.wait_closed()
    [m] = info.value.mismatches
    assert m.kind == "fields" and m.fields == ("contract.symbol",)
    assert m.expected is not None and "AAPL" in m.expected.fields
    assert m.actual is not None and "MSFT" in m.actual
    text = str(info.value)
    assert "REQ_CONTRACT_DATA differs from the recorded one in contract.symbol" in text
    assert "expected: REQ_CONTRACT_DATA" in text and "actual:   REQ_CONTRACT_DATA" in text


async def test_lenient_replay_reports_but_goes_on(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, _ = recorded
    async with ReplayServer(path, strict=False) as server:
        ib = IB(reconnect=False)
        await ib.connect(server.host, server.port, 3, timeout=GUARD)
        [msft] = await ib.qualify(Stock("MSFT"))  # answered with the recorded AAPL
        assert msft.symbol == "AAPL"
        with pytest.raises(RequestTimeout):  # no recorded answer: none comes
            await ib.client.current_time(timeout=0.2)
        ib.disconnect()
        await ib.wait_closed()
    assert [m.kind for m in server.mismatches] == ["fields", "unexpected"]


async def test_request_ids_are_remapped(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, original = recorded
    async with replay(path) as ib:
        for _ in range(5):  # this client numbers its requests and orders from 5 ids later
            ib.client.next_id()
        result = await _session(ib)
    assert result["quote"] == original["quote"] and result["bars"] == original["bars"]
    status, order_id, price, exec_id = result["trade"]
    assert order_id == original["trade"][1] + 5
    assert (status, price, exec_id) == (original["trade"][0], *original["trade"][2:])


async def test_a_recorded_request_never_made_is_reported(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = recorded
    with pytest.raises(ReplayMismatch, match="never sent the recorded REQ_CONTRACT_DATA"):
        async with replay(path):
            pass  # connected (the startup requests match), then nothing


async def test_a_client_outside_the_recorded_version_is_refused(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = recorded
    async with ReplayServer(path, strict=False) as server:
        client = Client(max_version=176)
        with pytest.raises(TWSConnectionError):
            await client.connect(server.host, server.port, 3, timeout=GUARD)
    assert server.mismatches[0].kind == "version"
    assert "made at server version 200" in server.mismatches[0].detail


def _handmade(delay: float) -> Recording:
    """A recording written by hand: the connect burst, and CURRENT_TIME ``delay`` s after
    its request."""
    c = RecordedConnection(1, "127.0.0.1", 7497, "v157..200", 176, "20261202 10:00:00 EST")
    c.frames = [
        Frame(0.001, "out", ("71", "2", "9", "")),
        Frame(0.002, "in", ("15", "1", "DU5")),
        Frame(0.002, "in", ("9", "1", "1")),
        Frame(0.010, "out", ("49", "1")),
        Frame(0.010 + delay, "in", ("49", "1", "1796220000")),
    ]
    c.closed_by = "client"
    return Recording([c])


@pytest.mark.parametrize(("speed", "least"), [(None, 0.0), (1.0, 0.25), (2.0, 0.12)])
async def test_timing_as_fast_as_possible_or_as_recorded(speed: float | None, least: float) -> None:
    async with ReplayServer(_handmade(0.3), speed=speed) as server:
        assert server.client_id == 9
        client = Client()
        await client.connect(server.host, server.port, 9, timeout=GUARD)
        t0 = time.monotonic()
        now = await client.current_time()
        elapsed = time.monotonic() - t0
        client.disconnect()
        await client.wait_closed()
    assert now.timestamp() == 1796220000 and now.tzinfo is not None
    assert elapsed >= least
    if speed is None:
        assert elapsed < 0.25


async def test_a_recording_started_mid_session_replays(tmp_path: Path) -> None:
    path = tmp_path / "mid.twsrec"
    async with Simulator(port=0, seed=1, tick_interval=0.02) as sim:
        ib = IB(reconnect=False)
        await ib.connect(sim.host, sim.port, client_id=1, timeout=GUARD)
        recorder = ib.client.start_recording(path)
        [aapl] = await ib.qualify(Stock("AAPL"))
        bars = await ib.historical_bars(aapl, duration="1 D", bar_size="1 hour")
        ib.client.stop_recording()
        await recorder.aclose()
        ib.disconnect()
        await ib.wait_closed()
    [conn] = Recording.load(path).connections
    assert conn.mid_session and conn.accounts == ("DU1234567",) and conn.next_valid_id > 1
    assert [f.name for f in conn.frames if f.direction == "out"] == [
        "REQ_CONTRACT_DATA",
        "REQ_HISTORICAL_DATA",
    ]
    from aiotws.startup import StartupSync

    async with replay(path, sync=StartupSync.none()) as replayed:
        assert list(replayed.managed_accounts) == ["DU1234567"]
        [again] = await replayed.qualify(Stock("AAPL"))
        replayed_bars = await replayed.historical_bars(again, duration="1 D", bar_size="1 hour")
    assert [b.close for b in replayed_bars] == [b.close for b in bars]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty, not a recording"),
        ('{"hello": 1}\n', "not an aiotws recording"),
        ("not json at all\n", "line 1: not JSON"),
        (f'{{"format": "{FORMAT}", "version": 99}}\n', "format version 99"),
        (
            f'{{"format": "{FORMAT}", "version": 1}}\n{{"k": "in", "c": 1, "t": 0, "f": ["1"]}}\n',
            "line 2: bad 'in' record: connection 1 has no 'connect' record",
        ),
        (
            f'{{"format": "{FORMAT}", "version": 1}}\n'
            '{"k": "connect", "c": 1, "t": 0}\n{"k": "out", "c": 1, "t": 0, "f": [1]}\n',
            '"f" must be a non-empty list of strings',
        ),
        (
            f'{{"format": "{FORMAT}", "version": 1}}\n{{"k": "connect", "c": 1, "t": 0}}\n'
            '{"k": "out", "c": 1, "t": 0, "f": ["71", "2"',
            "line 3: not JSON",
        ),
    ],
)
def test_a_corrupt_file_is_a_clear_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "bad.twsrec"
    path.write_text(text)
    with pytest.raises(RecordingError, match=r"bad\.twsrec") as info:
        Recording.load(path)
    assert error in str(info.value)
    with pytest.raises(RecordingError):
        ReplayServer(path)


def test_a_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.twsrec"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordingError, match="not a recording"):
        Recording.load(path)


async def test_an_io_error_stops_the_recording_once_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not DEV_FULL.exists():  # noqa: ASYNC240 - a stat, no I/O to speak of
        pytest.skip("needs /dev/full")
    async with Simulator(port=0, seed=1, tick_interval=0.02) as sim:
        ib = IB(reconnect=False)
        with caplog.at_level(logging.ERROR, logger="aiotws.record"):
            recorder = ib.client.start_recording(DEV_FULL)
            await ib.connect(sim.host, sim.port, client_id=1, timeout=GUARD)
            ticker = ib.market_data(Stock("AAPL"))
            await ticker.ready(GUARD)
            await ib.client.req_managed_accounts()
            assert ib.is_connected() and ticker.bid > 0
            ib.disconnect()
            await ib.wait_closed()
            await recorder.aclose()
    assert isinstance(recorder.error, OSError) and not recorder.active
    assert [r.getMessage() for r in caplog.records if r.name == "aiotws.record"] == [
        f"recording to /dev/full stopped: {recorder.error} (the session goes on)"
    ]


def test_a_bad_path_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        Client().start_recording(tmp_path / "no" / "such" / "dir.twsrec")


async def test_recording_off_leaves_the_read_path_untouched(tmp_path: Path) -> None:
    async with Simulator(port=0, seed=1) as sim:
        client = Client()
        await client.connect(sim.host, sim.port, 1, timeout=GUARD)
        proto = client._protocol
        assert isinstance(proto, TWSProtocol)
        assert "data_received" not in proto.__dict__ and proto.tap is None
        recorder = client.start_recording(tmp_path / "x.twsrec")
        assert "data_received" in proto.__dict__
        with pytest.raises(Exception, match="already recording"):
            client.start_recording(tmp_path / "y.twsrec")
        assert client.stop_recording() is recorder
        assert "data_received" not in proto.__dict__ and proto.tap is None
        await recorder.aclose()
        client.disconnect()
        await client.wait_closed()


async def test_a_recorder_spans_reconnects(tmp_path: Path) -> None:
    path = tmp_path / "two.twsrec"
    async with Simulator(port=0, seed=1) as sim:
        client = Client()
        with Recorder(path) as recorder:
            client.start_recording(recorder)
            for _ in range(2):
                await client.connect(sim.host, sim.port, 1, timeout=GUARD)
                await client.current_time()
                client.disconnect()
                await client.wait_closed()
    rec = Recording.load(path)
    assert [c.number for c in rec.connections] == [1, 2]
    assert all(c.closed_by == "client" for c in rec.connections)
    async with ReplayServer(path) as server:
        for _ in range(2):
            await client.connect(server.host, server.port, 1, timeout=GUARD)
            await client.current_time()
            client.disconnect()
            await client.wait_closed()
        await server.wait_done(GUARD)
    assert server.served == 2 and server.mismatches == []
