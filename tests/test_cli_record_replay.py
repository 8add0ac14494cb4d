"""The CLI's record and replay (``--record``, ``--redact``, ``aiotws replay``) and its
``--expect`` guard: sessions recorded with ``--sim``, listed, served by a real
``aiotws replay`` process on a free port (port 0) and replayed by a second CLI run."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aiotws.cli import main
from aiotws.record import Recording
from aiotws.sim import Simulator

GUARD = 10.0  # a subprocess start includes interpreter start-up
HISTORY = ("history", "AAPL", "--duration", "5 D", "--bar-size", "1 day")  # bars at any hour
STRAYED = ("history", "AAPL", "--duration", "10 D", "--bar-size", "1 day")  # not as recorded
LISTENING = re.compile(r"^listening on 127\.0\.0\.1:(\d+)$")


@pytest.fixture(autouse=True)
def _no_aiotws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection flags fall back to AIOTWS_*: none from the caller's shell here."""
    for name in list(os.environ):
        if name.startswith("AIOTWS_"):
            monkeypatch.delenv(name)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _bars(out: str) -> list[str]:
    """The table of a ``history`` run: everything after the connection header."""
    header, *table = out.splitlines()
    assert "DU1234567 (paper)" in header
    return table


@dataclass(frozen=True)
class Recorded:
    path: Path
    table: list[str]  # what the recorded run printed (without the header)
    stderr: str


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """``aiotws history AAPL … --sim --record F``, once for the module."""
    path = tmp_path_factory.mktemp("rec") / "history.twsrec"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*HISTORY, "--sim", "--record", str(path)])
    assert code == 0, err.getvalue()
    return Recorded(path, _bars(out.getvalue()), err.getvalue())


@dataclass
class ReplayProcess:
    proc: subprocess.Popen[str]
    port: int

    def finish(self) -> tuple[int, str, str]:
        """Wait for it to end (it does once every recorded connection was played); its
        output after the ``listening on`` line. (Not ``communicate()``: that would lose
        what ``readline()`` buffered. The output is far below a pipe's buffer.)"""
        status = self.proc.wait(timeout=GUARD)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        return status, self.proc.stdout.read(), self.proc.stderr.read()


@contextlib.contextmanager
def _replay_process(path: Path, *flags: str) -> Iterator[ReplayProcess]:
    """``aiotws replay FILE --port 0 …`` in a subprocess; its port read from its first line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOTWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    with subprocess.Popen(
        [sys.executable, "-m", "aiotws", "replay", str(path), "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:  # closes the pipes and waits at exit
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline().strip()
            m = LISTENING.match(first)
            if m is None:
                proc.kill()
                _, err = proc.communicate(timeout=GUARD)
                pytest.fail(f"aiotws replay did not start: {first!r} {err}")
            yield ReplayProcess(proc, int(m.group(1)))
        finally:
            if proc.poll() is None:
                proc.kill()


# -- recording and listing --------------------------------------------------------------------


def test_record_writes_the_session(recorded: Recorded) -> None:
    rec = Recording.load(recorded.path)
    [conn] = rec.connections
    assert conn.client_id == 1 and conn.server_version == 200 and conn.closed_by == "client"
    names = [f.name for f in conn.frames]
    assert names[0] == "START_API"
    assert names.count("HISTORICAL_DATA") == 1 and names[-1] == "HISTORICAL_DATA_END"
    [request] = [f for f in conn.requests if f.name == "REQ_HISTORICAL_DATA"]
    assert "1 day" in request.fields and "5 D" in request.fields
    assert recorded.stderr.splitlines() == [f"recorded {len(rec.frames)} frames to {recorded.path}"]
    title, columns, *rows = recorded.table
    assert title == f"AAPL TRADES 1 day bars over 5 D: {len(rows)} bars"
    assert columns.split()[:2] == ["date", "open"] and len(rows) >= 4


def test_replay_list_prints_the_frames(
    capsys: pytest.CaptureFixture[str], recorded: Recorded
) -> None:
    rec = Recording.load(recorded.path)
    code, out, err = _run(capsys, "replay", str(recorded.path), "--list")
    assert (code, err) == (0, "")
    head, *frames = out.splitlines()
    assert head.startswith("connection 1: 127.0.0.1:")
    assert "v157..200, server version 200" in head and head.endswith("closed by the client")
    assert len(frames) == len(rec.frames)
    numbers = [int(line.split()[0]) for line in frames]
    assert numbers == list(range(1, len(rec.frames) + 1))
    arrows = [(line.split()[2], line.split()[3]) for line in frames]
    assert arrows[0] == ("->", "START_API")
    assert ("->", "REQ_HISTORICAL_DATA") in arrows and ("<-", "HISTORICAL_DATA") in arrows
    assert arrows == [("->" if f.direction == "out" else "<-", f.name) for f in rec.frames]


def test_record_redacted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "redacted.twsrec"
    code, _, err = _run(capsys, "positions", "--sim", "--record", str(path), "--redact")
    assert code == 0, err
    text = path.read_text()
    assert "DU1234567" not in text and "DU0000001" in text
    assert json.loads(text.splitlines()[0])["redacted"] is True
    code, out, _ = _run(capsys, "replay", str(path), "--list")
    assert code == 0 and out.splitlines()[-1] == "(account ids redacted)"


def test_record_to_a_bad_path_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "no" / "such" / "dir.twsrec"
    code, out, err = _run(capsys, *HISTORY, "--sim", "--record", str(path))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"aiotws history: cannot record to {path}: No such file or directory"
    ]


# -- replaying ---------------------------------------------------------------------------------


def test_replay_serves_the_recorded_bars(
    capsys: pytest.CaptureFixture[str], recorded: Recorded
) -> None:
    with _replay_process(recorded.path) as server:
        code, out, err = _run(capsys, *HISTORY, "--port", str(server.port))
        assert code == 0, err
        assert out.splitlines()[0].startswith(f"127.0.0.1:{server.port} · server 200")
        assert _bars(out) == recorded.table  # the same bars, to the digit
        status, sout, serr = server.finish()
    assert (status, serr) == (0, "")
    assert sout.splitlines() == [
        f"replaying {recorded.path}: 1 connection(s), "
        f"{len(Recording.load(recorded.path).frames)} frames",
        "played 1 connection(s) as recorded",
    ]


def test_a_strict_replay_reports_the_request_that_strayed(
    capsys: pytest.CaptureFixture[str], recorded: Recorded
) -> None:
    with _replay_process(recorded.path) as server:
        code, out, err = _run(capsys, *STRAYED, "--port", str(server.port), "--timeout", "5")
        # the replay fails the request that strayed (321, saying how) and closes: the
        # client fails at once, with the reason
        assert code == 1
        assert err.splitlines() == [
            "aiotws history: no history for AAPL: TWS error 321: aiotws replay: "
            "REQ_HISTORICAL_DATA differs from the recorded one in duration_str "
            "(duration_str: recorded '5 D', sent '10 D')"
        ]
        assert "bars over" not in out
        status, _, serr = server.finish()
    assert status == 1
    lines = serr.splitlines()
    assert lines[:2] == [
        "the client strayed from the recording (1 mismatch):",
        "connection 1: REQ_HISTORICAL_DATA differs from the recorded one in duration_str",
    ]
    assert lines[2].startswith("  expected: REQ_HISTORICAL_DATA [") and "'5 D'" in lines[2]
    assert lines[3].startswith("  actual:   REQ_HISTORICAL_DATA [") and "'10 D'" in lines[3]
    assert len(lines) == 4  # reported once (not also logged) and no traceback


def test_a_lenient_replay_answers_and_still_reports(
    capsys: pytest.CaptureFixture[str], recorded: Recorded
) -> None:
    with _replay_process(recorded.path, "--lenient") as server:
        code, out, err = _run(capsys, *STRAYED, "--port", str(server.port))
        assert code == 0, err
        # answered with the recorded 5 D bars (the title echoes the request)
        assert _bars(out)[1:] == recorded.table[1:]
        status, _, serr = server.finish()
    assert status == 1
    assert "REQ_HISTORICAL_DATA differs from the recorded one in duration_str" in serr


CORRUPT = {
    "missing": None,
    "garbage": "this is not a recording\n",
    "empty": "",
    "binary": b"\xff\xfe\x00\x01",
    "truncated": "cut",
}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
@pytest.mark.parametrize("listing", [False, True])
def test_a_missing_or_corrupt_file_is_one_line(
    capsys: pytest.CaptureFixture[str],
    recorded: Recorded,
    tmp_path: Path,
    kind: str,
    listing: bool,
) -> None:
    path = tmp_path / f"{kind}.twsrec"
    content = CORRUPT[kind]
    if content == "cut":  # a recording cut off in the middle of its 5th line
        lines = recorded.path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = _run(capsys, "replay", str(path), *(["--list"] if listing else []))
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith("aiotws replay: ") and str(path) in line
    expected = {
        "missing": "No such file or directory",
        "garbage": "line 1: not JSON",
        "empty": "empty, not a recording",
        "binary": "not a recording (not UTF-8 text",
        "truncated": "line 5: not JSON",
    }[kind]
    assert expected in line
    assert "Traceback" not in err


def test_replay_refuses_a_speed_of_zero(recorded: Recorded) -> None:
    with pytest.raises(SystemExit) as info:
        main(["replay", str(recorded.path), "--speed", "0"])
    assert info.value.code == "aiotws replay: --speed must be more than 0"


# -- --expect ------------------------------------------------------------------------------------


def test_expect_paper_against_paper_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "positions", "--sim", "--expect", "paper")
    assert code == 0, err
    assert "DU1234567 (paper)" in out.splitlines()[0]
    assert any(line.split()[:2] == ["DU1234567", "AAPL"] for line in out.splitlines())


def _refused_live(err: str, command: str) -> None:
    [line] = err.splitlines()
    assert line.startswith(f"aiotws {command}: expected a live account but 127.0.0.1:")
    assert line.endswith("manages DU1234567 (paper): refusing to go on (--expect / AIOTWS_EXPECT)")


def test_expect_live_against_paper_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "positions", "--sim", "--expect", "live")
    assert code == 2
    assert out == ""  # refused before anything was shown
    _refused_live(err, "positions")


def test_expect_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOTWS_EXPECT", "live")
    code, out, err = _run(capsys, "account", "--sim")
    assert code == 2 and out == ""
    _refused_live(err, "account")
    code, out, err = _run(capsys, "account", "--sim", "--expect", "paper")  # the flag wins
    assert code == 0, err
    assert "account DU1234567 (paper)" in out
    monkeypatch.setenv("AIOTWS_EXPECT", "Paper")
    code, _, err = _run(capsys, "account", "--sim")
    assert code == 0, err
    monkeypatch.setenv("AIOTWS_EXPECT", "real")
    with pytest.raises(SystemExit, match="AIOTWS_EXPECT='real' must be 'paper' or 'live'"):
        main(["account", "--sim"])


async def test_doctor_expect_against_a_running_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with Simulator(port=0, seed=1) as sim:
        argv = ["doctor", "--host", sim.host, "--port", str(sim.port), "--timeout", "5"]
        live = await asyncio.to_thread(main, [*argv, "--expect", "live"])
        out_live, _ = capsys.readouterr()
        paper = await asyncio.to_thread(main, [*argv, "--expect", "paper"])
        out_paper, _ = capsys.readouterr()
    assert live == 2
    assert (
        f"  ✗ expect       expected a live login, but {sim.host}:{sim.port} is paper (DU1234567)"
        in out_live.splitlines()
    )
    assert "use the other port, or drop --expect" in out_live
    assert out_live.rstrip().endswith("problems found")
    assert paper == 0
    assert "  ✓ expect       a paper login, as expected" in out_paper.splitlines()
    assert out_paper.rstrip().endswith("healthy") and "✗" not in out_paper
