"""The everyday CLI commands (``quote``, ``history``, ``chain``, ``positions``, ``orders``,
``account``, ``doctor``), run in-process: ``aiotws.cli.main([...])`` against ``--sim``, and
the doctor's diagnosis (:mod:`aiotws.doctor`) against simulators set up to fail."""

from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import socket
from datetime import datetime, time
from pathlib import Path

import pytest

from aiotws import IB
from aiotws.cli import main, parse_symbol, render_diagnosis
from aiotws.doctor import Status, account_kind, diagnose, diagnose_port, probe_handshake
from aiotws.model import ContFuture, Contract, Forex, Future, FuturesOption, Option, Stock
from aiotws.sim import Simulator
from aiotws.startup import StartupSync

GUARD = 10.0
FAST = 1.0  # the doctor's per-step timeout where a step is meant to time out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the symbol grammar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AAPL", Stock("AAPL")),
        ("aapl", Stock("AAPL")),
        ("SAP@IBIS/EUR", Stock("SAP", "IBIS", "EUR")),
        ("EURUSD", Forex("EURUSD")),
        ("EUR.USD", Forex("EURUSD")),
        ("EUR/USD", Forex("EURUSD")),
        ("GBPJPY:CASH", Forex("GBPJPY")),
        ("ES:FUT", ContFuture("ES")),
        ("ES:FUT@CME", ContFuture("ES", "CME")),
        ("ES:FUT:202612", Future("ES", "202612")),
        ("AAPL:OPT:20261218:230:C", Option("AAPL", "20261218", 230.0, "C")),
        ("AAPL:opt:20261218:230:put", Option("AAPL", "20261218", 230.0, "P")),
        ("ES:FOP:20261218:6000:C@CME", FuturesOption("ES", "20261218", 6000.0, "C", "CME")),
        ("SPX:IND", Contract(sec_type="IND", symbol="SPX")),
        ("BTC:CRYPTO", Contract(sec_type="CRYPTO", symbol="BTC", exchange="PAXOS", currency="USD")),
        ("265598", Contract(con_id=265598)),
    ],
)
def test_symbol_grammar(text: str, expected: Contract) -> None:
    sym = parse_symbol(text)
    assert sym.contract == expected
    assert type(sym.contract) is type(expected)


@pytest.mark.parametrize(
    "text", ["", "AAPL@", "AAPL:XYZ", "AAPL:OPT:20261218:230", "AAPL:OPT:20261218:x:C", "X:FUT:1:2"]
)
def test_symbol_grammar_refuses(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_symbol(text)


def test_bad_symbol_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["quote", "AAPL:XYZ", "--sim", "--once"])
    assert info.value.code == 2
    assert "unknown kind" in capsys.readouterr().err


# -- the commands against --sim ---------------------------------------------------------------


def test_quote_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "quote", "AAPL", "EURUSD", "ES:FUT", "--sim", "--once")
    assert code == 0, err
    header, columns, *rows = out.splitlines()
    assert "DU1234567 (paper)" in header
    assert columns.split()[:4] == ["symbol", "bid", "size", "bid"]
    assert [r.split()[0] for r in rows] == ["AAPL", "EURUSD", "ES:FUT"]
    bid, ask = rows[0].split()[2:4]
    assert 0 < float(bid) <= float(ask)


def test_unknown_symbol_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "quote", "ZZZZ", "--sim", "--once")
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("aiotws quote: unknown contract ZZZZ (TWS error 200")
    assert "Traceback" not in err
    assert out.count("\n") == 1  # the header only


def test_unknown_future_month_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "history", "ES:FUT:202001", "--sim")
    assert code == 1
    assert err.splitlines() == [
        "aiotws history: unknown contract ES:FUT:202001 (TWS error 200: No security "
        "definition has been found for the request)"
    ]


def test_refused_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    code, out, err = _run(capsys, "positions", "--port", str(port), "--timeout", "2")
    assert code == 1
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("aiotws positions: ") and "refused" in line and str(port) in line


def test_history_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "history", "AAPL", "--duration", "2 D", "--bar-size", "1 hour", "--rth", "--sim"
    )
    assert code == 0, err
    header, title, columns, *rows = out.splitlines()
    assert "(paper)" in header
    assert title.startswith("AAPL TRADES 1 hour bars over 2 D:")
    assert columns.split() == ["date", "open", "high", "low", "close", "volume", "wap", "bar_count"]
    # two sessions, the last perhaps still open (how many bars depends on the time of day)
    assert 8 <= len(rows) <= 14
    starts = [datetime.fromisoformat(r.split()[0]) for r in rows]
    assert all(t.tzinfo is not None for t in starts)
    assert all(time(9, 30) <= t.time() < time(16) for t in starts)  # regular hours only
    assert len({t.date() for t in starts}) == 2


def test_history_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "aapl.csv"
    code, out, err = _run(
        capsys, "history", "AAPL", "--bar-size", "30 mins", "--csv", str(path), "--sim"
    )
    assert code == 0, err
    assert f"bars to {path}" in out
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == [
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "wap",
        "bar_count",
    ]
    for r in rows:
        assert float(r["low"]) <= float(r["open"]) <= float(r["high"])
        assert datetime.fromisoformat(r["date"]).tzinfo is not None
    assert f"wrote {len(rows)} bars" in out


def test_history_forex_defaults_to_midpoint(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "history", "EUR.USD", "--bar-size", "1 hour", "--sim")
    assert code == 0, err
    assert "EUR.USD MIDPOINT 1 hour bars" in out


@pytest.mark.skipif(
    importlib.util.find_spec("pandas") is not None
    and importlib.util.find_spec("pyarrow") is not None,
    reason="pandas and pyarrow are installed",
)
def test_history_parquet_without_pandas(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(
        capsys, "history", "AAPL", "--parquet", str(tmp_path / "x.parquet"), "--sim"
    )
    assert code == 1
    assert out == ""  # refused before connecting
    [line] = err.splitlines()
    assert "--parquet needs" in line and "pip install pandas pyarrow" in line


def test_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "chain", "AAPL", "--sim")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("AAPL options on SMART: class AAPL, multiplier 100")
    assert lines[2].split()[0] == "expirations"
    assert any(line.split()[0] == "strikes" for line in lines)
    assert "options on CBOE" not in out
    code, out, _ = _run(capsys, "chain", "AAPL", "--exchange", "ALL", "--sim")
    assert code == 0 and "options on CBOE" in out
    code, _, err = _run(capsys, "chain", "AAPL", "--exchange", "NOPE", "--sim")
    assert code == 1 and "no AAPL options on NOPE" in err


def test_chain_of_a_future(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "chain", "ES:FUT", "--sim")
    assert code == 0, err
    assert "ES:FUT options on CME" in out


def test_positions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "positions", "--sim")
    assert code == 0, err
    rows = {r.split()[1]: r.split() for r in out.splitlines()[2:]}
    assert rows["AAPL"][:4] == ["DU1234567", "AAPL", "STK", "100"]
    assert rows["MSFT"][3] == "5"  # the demo book's filled order
    assert any(r[2] == "FUT" for r in rows.values())


def test_orders_open_and_completed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "orders", "--sim")
    assert code == 0, err
    [row] = out.splitlines()[2:]
    assert row.split()[4:9] == ["BUY", "10", "AAPL", "LMT", "100.00"]
    assert row.split()[-1] == "Submitted"
    code, out, err = _run(capsys, "orders", "--completed", "--sim")
    assert code == 0, err
    [row] = out.splitlines()[2:]
    assert row.split()[4:8] == ["BUY", "5", "MSFT", "MKT"]
    assert row.split()[-2:] == ["5", "Filled"]


def test_account(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "account", "--sim")
    assert code == 0, err
    assert "account DU1234567 (paper)" in out
    tags = [line.split()[0] for line in out.splitlines()[3:]]
    assert tags[:4] == ["NetLiquidation", "TotalCashValue", "SettledCash", "BuyingPower"]
    assert "UnrealizedPnL" in tags and "AccountType" not in tags
    code, out, _ = _run(capsys, "account", "--all", "--sim")
    assert code == 0
    assert "AccountType" in out and "INDIVIDUAL" in out


# -- the doctor -------------------------------------------------------------------------------


def test_account_kind() -> None:
    assert account_kind(["DU1", "DF2"]) == "paper"
    assert account_kind(["U1"]) == "live"
    assert account_kind(["DU1", "U1"]) == "mixed"
    assert account_kind([]) == "none"


async def test_doctor_refused() -> None:
    port = _free_port()
    diag = await diagnose("127.0.0.1", port, timeout=FAST)
    assert not diag.healthy
    [report] = diag.reports
    [check] = report.checks
    assert (check.name, check.status) == ("tcp", Status.FAIL)
    assert "refused" in check.summary
    assert "Enable ActiveX and Socket Clients" in check.advice
    assert all(str(p) in check.advice for p in (7497, 7496, 4002, 4001))


async def test_doctor_refused_says_which_default_ports_are_open() -> None:
    port = _free_port()
    async with Simulator(port=0) as sim:
        diag = await diagnose("127.0.0.1", port, timeout=FAST, ports=(port, sim.port))
    [check] = diag.reports[0].checks
    assert f"open here: {sim.port}" in check.summary


async def test_doctor_probes_the_default_ports() -> None:
    closed = _free_port()
    async with Simulator(port=0) as sim:
        diag = await diagnose("127.0.0.1", None, timeout=GUARD, ports=(closed, sim.port))
    assert [p.outcome for p in diag.probes] == ["refused", "ok"]
    assert diag.open_ports == [sim.port]
    assert [r.port for r in diag.reports] == [sim.port]
    assert diag.healthy
    text = "\n".join(render_diagnosis(diag))
    assert f"{closed:<5}" in text and "refused" in text and "open" in text


async def test_doctor_accepted_then_closed() -> None:
    async with Simulator(port=0) as sim:
        sim.faults.close_on_accept = True
        report = await diagnose_port(sim.host, sim.port, timeout=FAST)
    assert [(c.name, c.status) for c in report.checks] == [
        ("tcp", Status.OK),
        ("handshake", Status.FAIL),
    ]
    assert "closed at once" in report.checks[1].summary
    assert "Trusted IPs" in report.checks[1].advice
    assert "localhost only" in report.checks[1].advice


async def test_doctor_no_handshake_answer() -> None:
    async with Simulator(port=0) as sim:
        sim.faults.silent_handshake = True
        report = await diagnose_port(sim.host, sim.port, timeout=FAST)
    check = report.check("handshake")
    assert check is not None and check.status is Status.FAIL
    assert "no handshake reply" in check.summary
    assert "wedged" in check.advice and "not a TWS API port" in check.advice


async def test_doctor_not_a_tws_port() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        probe = await probe_handshake("127.0.0.1", port, FAST)
    assert probe.outcome == "garbage"


async def test_doctor_client_id_in_use() -> None:
    async with Simulator(port=0) as sim:
        ib = IB(reconnect=False, sync=StartupSync.none())
        await ib.connect(sim.host, sim.port, 7, timeout=GUARD)
        try:
            report = await diagnose_port(sim.host, sim.port, 7, timeout=GUARD)
        finally:
            ib.disconnect()
            await ib.wait_closed()
    check = report.check("api")
    assert check is not None and check.status is Status.FAIL
    assert "326" in check.summary and "--client-id" in check.advice


async def test_doctor_read_only() -> None:
    async with Simulator(port=0, read_only=True) as sim:
        report = await diagnose_port(sim.host, sim.port, timeout=GUARD)
    assert report.read_only is True
    check = report.check("read-only")
    assert check is not None and check.status is Status.WARN
    assert "321" in check.summary
    assert (
        "'Read-Only API'" in check.advice
        and "Global Configuration > API > Settings" in check.advice
    )
    assert report.healthy  # a warning: some setups are read-only on purpose
    assert not any(type(m).__name__ == "PlaceOrder" for m in sim.requests)  # refused, never placed


async def test_doctor_healthy_paper() -> None:
    async with Simulator(port=0) as sim:
        report = await diagnose_port(sim.host, sim.port, timeout=GUARD)
        placed = [m for m in sim.requests if type(m).__name__ == "PlaceOrder"]
    assert report.healthy
    assert all(c.status is Status.OK for c in report.checks), report.checks
    assert [c.name for c in report.checks] == [
        "tcp",
        "handshake",
        "api",
        "accounts",
        "farms",
        "read-only",
        "market data",
    ]
    assert report.server_version == 200
    assert report.accounts == ("DU1234567",) and report.kind == "paper"
    assert report.farms == {"usfarm": True, "ushmds": True, "secdefnj": True}
    assert report.read_only is False
    assert [getattr(m, "what_if", None) for m in placed] == [True]  # nothing was placed


async def test_doctor_live_account() -> None:
    async with Simulator(port=0, accounts=("U1234567",)) as sim:
        report = await diagnose_port(sim.host, sim.port, timeout=GUARD)
    assert report.kind == "live"
    check = report.check("accounts")
    assert check is not None and check.status is Status.OK
    assert "U1234567: LIVE (real money)" in check.summary


async def test_doctor_broken_farm_and_competing_session() -> None:
    notices = (
        (2104, "Market data farm connection is OK:usfarm"),
        (2105, "HMDS data farm connection is broken:ushmds"),
        (10197, "No market data during competing live session"),
    )
    async with Simulator(port=0, connect_notices=notices) as sim:
        report = await diagnose_port(sim.host, sim.port, timeout=GUARD)
    assert not report.healthy
    farms = report.check("farms")
    assert farms is not None and farms.status is Status.FAIL
    assert "ushmds broken" in farms.summary and "historical data" in farms.advice
    session = report.check("session")
    assert session is not None and session.status is Status.FAIL
    assert "logged in elsewhere" in session.advice


def test_doctor_cli_refused(capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    code, out, err = _run(capsys, "doctor", "--port", str(port), "--timeout", str(FAST))
    assert code == 1
    assert "Traceback" not in err
    assert f"✗ tcp          connection to 127.0.0.1:{port} refused" in out
    assert "→ nothing listens there" in out
    assert out.rstrip().endswith("problems found")


def test_doctor_cli_sim(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "doctor", "--sim")
    assert code == 0, out + err
    assert out.count("✓") == 7 and "✗" not in out
    assert "accounts DU1234567: paper" in out
    assert out.rstrip().endswith("healthy")
