"""The ``aiotws`` command line, run as a real subprocess (``python -m aiotws``)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

import aiotws
from aiotws import IB

GUARD = 10.0  # a subprocess start includes interpreter start-up
LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOTWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiotws", *args],
        capture_output=True,
        text=True,
        timeout=GUARD,
        env=_env(**env),
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class SimProcess:
    def __init__(self, proc: asyncio.subprocess.Process, port: int, first_line: str) -> None:
        self.proc = proc
        self.port = port
        self.first_line = first_line


async def _start_sim(*args: str) -> SimProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiotws",
        "sim",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None
    async with asyncio.timeout(GUARD):
        line = (await proc.stdout.readline()).decode()
    m = LISTENING.match(line.rstrip("\n"))
    assert m, f"unexpected first line {line!r}"
    return SimProcess(proc, int(m.group(1)), line)


@pytest.fixture
async def sim_process() -> AsyncIterator[SimProcess]:
    sp = await _start_sim()
    yield sp
    if sp.proc.returncode is None:
        sp.proc.kill()
        await sp.proc.wait()


async def _stop(sp: SimProcess, sig: int) -> tuple[int, bytes, bytes]:
    sp.proc.send_signal(sig)
    async with asyncio.timeout(GUARD):
        out, err = await sp.proc.communicate()
    assert sp.proc.returncode is not None
    return sp.proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_sim_serves_and_exits_cleanly_on_signal(sim_process: SimProcess, sig: int) -> None:
    sp = sim_process
    assert sp.port > 0
    async with asyncio.timeout(GUARD):
        async with IB.connect_to("127.0.0.1", sp.port, client_id=1, timeout=GUARD) as ib:
            assert ib.server_version == 200
            assert ib.managed_accounts == ["DU1234567"]
            assert isinstance(await ib.current_time(), datetime)
    loop = asyncio.get_running_loop()
    start = loop.time()
    code, out, err = await _stop(sp, sig)
    assert code == 0, err.decode()
    assert loop.time() - start < 5.0
    # exactly one line on stdout, the listening line
    assert out == b""
    assert sp.first_line.count("\n") == 1
    assert b"Traceback" not in err


async def test_sim_exits_cleanly_with_a_client_still_connected(sim_process: SimProcess) -> None:
    ib = IB()
    async with asyncio.timeout(GUARD):
        await ib.connect("127.0.0.1", sim_process.port, client_id=1)
        lost = asyncio.ensure_future(_next(ib.disconnected))
        code, _, err = await _stop(sim_process, signal.SIGINT)
        await lost
    assert code == 0, err.decode()
    assert not ib.is_connected()


async def _next(event: object) -> object:
    return await event  # type: ignore[misc]


async def test_sim_options() -> None:
    sp = await _start_sim("--max-version", "176", "--accounts", "DF1,DU2", "--read-only")
    try:
        async with asyncio.timeout(GUARD):
            async with IB.connect_to("127.0.0.1", sp.port, client_id=2) as ib:
                assert ib.server_version == 176
                assert ib.managed_accounts == ["DF1", "DU2"]
    finally:
        code, _, _ = await _stop(sp, signal.SIGTERM)
    assert code == 0


def test_demo_with_embedded_simulator() -> None:
    r = _run("demo")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "started the aiotws TWS simulator on 127.0.0.1:" in out
    assert re.search(r"server version\s+200$", out, re.M)
    assert re.search(r"accounts\s+DU1234567$", out, re.M)
    m = re.search(r"server time\s+(\S+)$", out, re.M)
    assert m
    t = datetime.fromisoformat(m.group(1))
    assert t.tzinfo is not None
    assert re.search(r"next order id\s+\d+$", out, re.M)
    # every part of the tour ran (none "skipped")
    for part in ("qualified contracts", "live quotes", "historical bars", "news about AAPL"):
        assert part in out
    assert len(re.findall(r"^  \d{4}-\d\d-\d\d \d\d:\d\d UTC ", out, re.M)) == 3  # headlines
    assert re.search(r"^scanner TOP_PERC_GAIN.*: 1\. \w+, 2\. \w+, 3\. \w+$", out, re.M)
    assert "market order" in out and "skipped" not in out
    assert "Traceback" not in r.stderr


async def test_demo_against_a_running_sim(sim_process: SimProcess) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiotws",
        "demo",
        "--port",
        str(sim_process.port),
        "--client-id",
        "5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    async with asyncio.timeout(GUARD):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "started the aiotws TWS simulator" not in text
    assert f"connected to 127.0.0.1:{sim_process.port} as client 5" in text


def test_demo_refused_prints_one_line() -> None:
    port = _free_port()
    r = _run("demo", "--port", str(port), "--timeout", "2")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("aiotws demo: ")
    assert f"127.0.0.1:{port}" in lines[0]
    assert "refused" in lines[0]
    assert r.stdout == ""


def test_demo_port_from_environment() -> None:
    port = _free_port()
    r = _run("demo", AIOTWS_PORT=str(port))
    assert r.returncode != 0
    assert f"127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_environment_integer() -> None:
    r = _run("demo", AIOTWS_PORT="seventy")
    assert r.returncode != 0
    assert "AIOTWS_PORT" in r.stderr
    assert "Traceback" not in r.stderr


def test_version() -> None:
    r = _run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"aiotws {aiotws.__version__}"


def test_no_command_is_a_usage_error() -> None:
    r = _run()
    assert r.returncode == 2
    assert "usage:" in r.stderr
    assert "Traceback" not in r.stderr
