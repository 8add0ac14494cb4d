"""The official client against ``aiotws sim``: handshake, session messages, errors, client ids.

Every check goes through real sockets: an official ``EClient`` (with ``run`` in a thread and a
recording ``EWrapper``) talks to an :class:`aiotws.sim.Simulator` on a background event loop,
or, in the first test, to ``python -m aiotws sim`` in a subprocess.
"""

from __future__ import annotations

import asyncio
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ibapi.errors import UPDATE_TWS

from aiotws.sim.server import CONNECT_NOTICES
from aiotws.wire.messages import ReqCurrentTimeInMillis, SetServerLogLevel

from .support import WAIT, Call, Harness, OfficialSession

FARM_CODES = tuple(code for code, _ in CONNECT_NOTICES)
_LISTENING = re.compile(r"listening on (\S+):(\d+)")


def _is_error(code: int) -> Callable[[Call], bool]:
    return lambda c: c["errorCode"] == code


def _now_ms() -> int:
    return round(time.time() * 1000)


def _check_connection_time(raw: bytes | str, zone: str = "America/New_York") -> None:
    """``yyyymmdd hh:mm:ss <zone>``, the zone as the sim writes it, within a minute of now.

    The official ``twsConnectionTime()`` returns the raw handshake field (bytes in 10.51).
    """
    text = raw.decode() if isinstance(raw, bytes) else raw
    m = re.fullmatch(r"(\d{8} \d{2}:\d{2}:\d{2}) (\S.*)", text)
    assert m, f"connection time {text!r} is not 'yyyymmdd hh:mm:ss zone'"
    tz = ZoneInfo(zone)
    when = datetime.strptime(m.group(1), "%Y%m%d %H:%M:%S").replace(tzinfo=tz)
    assert abs(datetime.now(tz) - when) < timedelta(minutes=1)
    assert m.group(2) == when.tzname()


def _check_farm_notices(s: OfficialSession, version: int) -> list[Call]:
    notices = [s.wrapper.wait_for("error", _is_error(code)) for code in FARM_CODES]
    for call, (code, text) in zip(notices, CONNECT_NOTICES, strict=True):
        assert call.args == {
            "reqId": -1,
            "errorTime": call["errorTime"],
            "errorCode": code,
            "errorString": text,
            "advancedOrderRejectJson": "",
        }
        if version >= 194:
            assert abs(call["errorTime"] - _now_ms()) < 60_000
        else:
            assert call["errorTime"] == 0  # no errorTime field before ERROR_TIME
    return notices


# -- through the command line -----------------------------------------------------------------


def test_official_client_against_cli_sim(harness: Harness) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiotws", "sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=15), "aiotws sim printed nothing"
        line = proc.stdout.readline()
        m = _LISTENING.search(line)
        assert m, f"unexpected first line from aiotws sim: {line!r}"
        s = harness.connect_to(m.group(1), int(m.group(2)), client_id=3)
        assert s.server_version == 200
        assert s.wrapper.wait_for("managedAccounts")["accountsList"] == "DU1234567"
        assert s.wrapper.wait_for("nextValidId")["orderId"] == 1
        _check_farm_notices(s, 200)
        mark = s.wrapper.mark()
        s.client.reqCurrentTime()
        assert abs(s.wrapper.wait_for("currentTime", start=mark)["time"] - time.time()) < 60
        s.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err


# -- in process -------------------------------------------------------------------------------


def test_handshake_and_ready(harness: Harness) -> None:
    sim = harness.sim(next_order_id=117)
    s = harness.connect(sim, client_id=5)
    assert s.server_version == 200  # the official client offers 100..226; the sim serves <= 200
    _check_connection_time(s.connection_time)
    assert s.wrapper.named("connectAck")
    assert s.wrapper.wait_for("managedAccounts")["accountsList"] == "DU1234567"
    assert s.wrapper.wait_for("nextValidId")["orderId"] == 117
    _check_farm_notices(s, 200)
    assert [c["errorCode"] for c in s.wrapper.errors()] == list(FARM_CODES)


def test_multi_account_sim(harness: Harness) -> None:
    sim = harness.sim(accounts=("DU111111", "DU222222", "U3333333"))
    s = harness.connect(sim)
    assert s.wrapper.wait_for("managedAccounts")["accountsList"] == "DU111111,DU222222,U3333333"
    mark = s.wrapper.mark()
    s.client.reqManagedAccts()
    again = s.wrapper.wait_for("managedAccounts", start=mark)
    assert again["accountsList"] == "DU111111,DU222222,U3333333"


def test_current_time(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqCurrentTime()
    t = s.wrapper.wait_for("currentTime", start=mark)["time"]
    assert isinstance(t, int)
    assert abs(t - time.time()) < 60


def test_current_time_in_millis(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqCurrentTimeInMillis()
    t = s.wrapper.wait_for("currentTimeInMillis", start=mark)["timeInMillis"]
    assert isinstance(t, int)
    assert abs(t - _now_ms()) < 60_000


def test_req_ids(harness: Harness) -> None:
    sim = harness.sim(next_order_id=42)
    s = harness.connect(sim, client_id=9)
    mark = s.wrapper.mark()
    s.client.reqIds(-1)  # the count is ignored by TWS
    assert s.wrapper.wait_for("nextValidId", start=mark)["orderId"] == 42


def test_req_managed_accts(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.reqManagedAccts()
    assert s.wrapper.wait_for("managedAccounts", start=mark)["accountsList"] == "DU1234567"


@pytest.mark.parametrize("level", [1, 3, 5])
def test_set_server_log_level_is_silent(harness: Harness, level: int) -> None:
    sim = harness.sim()
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.setServerLogLevel(level)
    # TWS never answers SET_SERVER_LOGLEVEL; a later reply proves nothing came in between.
    s.client.reqCurrentTime()
    s.wrapper.wait_for("currentTime", start=mark)
    assert [c.name for c in s.wrapper.calls[mark:]] == ["currentTime"]
    requests = harness.loop.call(lambda: list(sim.requests))
    assert any(isinstance(r, SetServerLogLevel) and r.log_level == level for r in requests)
    assert harness.loop.call(lambda: [x.log_level for x in sim.sessions]) == [level]


@pytest.mark.parametrize("level", [0, 6, -1])
def test_set_server_log_level_invalid(harness: Harness, level: int) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    s.client.setServerLogLevel(level)
    err = s.wrapper.wait_for("error", start=mark)
    assert err["reqId"] == -1
    assert err["errorCode"] == 321
    assert str(level) in err["errorString"]


def test_a_protobuf_only_request_is_an_error_for_id_minus_1(harness: Harness) -> None:
    s = harness.connect(harness.sim())
    mark = s.wrapper.mark()
    # every text-mode request has a simulator handler (tests/sim/test_handlers.py); a
    # protobuf-only id sent as text (CANCEL_CONTRACT_DATA, out 106) is refused, not dropped
    s.client.sendMsg(106, "1\0")
    err = s.wrapper.wait_for("error", start=mark)
    assert err["reqId"] == -1
    assert err["errorCode"] == 321
    assert "CANCEL_CONTRACT_DATA is a protobuf message" in err["errorString"]
    # the session goes on
    mark = s.wrapper.mark()
    s.client.reqCurrentTime()
    s.wrapper.wait_for("currentTime", start=mark)
    assert s.client.isConnected()


def test_client_id_in_use(harness: Harness) -> None:
    sim = harness.sim()
    first = harness.connect(sim, client_id=7)
    second = harness.connect(sim, client_id=7, ready=False)
    err = second.wrapper.wait_for("error")
    assert err["reqId"] == -1
    assert err["errorCode"] == 326
    second.wrapper.wait_for("connectionClosed")
    second.wait_closed()
    assert not second.client.isConnected()
    assert not second.wrapper.named("nextValidId")
    assert not second.wrapper.named("managedAccounts")
    # the first client is untouched
    mark = first.wrapper.mark()
    first.client.reqCurrentTime()
    first.wrapper.wait_for("currentTime", start=mark)
    # and the id is free again once its owner leaves
    first.close()
    third = harness.connect(sim, client_id=7)
    assert third.wrapper.named("nextValidId")


@pytest.mark.parametrize("max_version", [157, 165, 166, 176, 193, 194, 200])
def test_server_version_and_err_msg_layout(harness: Harness, max_version: int) -> None:
    """The official decoder reads the sim's ERR_MSG right on both sides of 166 and 194."""
    s = harness.connect(harness.sim(max_version=max_version))
    assert s.server_version == max_version
    _check_farm_notices(s, max_version)


def test_max_version_176_refuses_current_time_in_millis_locally(harness: Harness) -> None:
    sim = harness.sim(max_version=176)
    s = harness.connect(sim)
    assert s.server_version == 176
    mark = s.wrapper.mark()
    s.client.reqCurrentTimeInMillis()  # needs 197: the official client refuses without sending
    s.client.reqCurrentTime()
    s.wrapper.wait_for("currentTime", start=mark)
    err = s.wrapper.errors(mark)
    assert [(e["reqId"], e["errorCode"]) for e in err] == [(-1, UPDATE_TWS.code())]
    requests = harness.loop.call(lambda: list(sim.requests))
    assert not any(isinstance(r, ReqCurrentTimeInMillis) for r in requests)


@pytest.mark.parametrize("max_version", [176, 200])
def test_unicode_error_text_and_reject_json(harness: Harness, max_version: int) -> None:
    sim = harness.sim(max_version=max_version)
    s = harness.connect(sim)
    text = "Ordre refusé: prix hors limites – 价格 ✓"
    reject = '{"rejectReason": "Überschreitung", "code": "€"}'
    mark = s.wrapper.mark()

    def send() -> None:
        for session in sim.clients.values():
            session.send_error(12, 201, text, reject)

    harness.loop.call(send)
    err = s.wrapper.wait_for("error", start=mark)
    assert err["reqId"] == 12
    assert err["errorCode"] == 201
    assert err["errorString"] == text
    assert err["advancedOrderRejectJson"] == reject


def test_official_disconnect(harness: Harness) -> None:
    sim = harness.sim()
    s = harness.connect(sim, client_id=11)
    assert 11 in harness.loop.call(lambda: set(sim.clients))
    sessions = harness.loop.call(lambda: list(sim.sessions))
    s.client.disconnect()  # the official API, called from another thread than run()
    s.wrapper.wait_for("connectionClosed")
    s.wait_closed(timeout=WAIT)
    assert not s.client.isConnected()

    async def gone() -> None:
        await asyncio.wait_for(asyncio.gather(*(asyncio.shield(x.closed) for x in sessions)), WAIT)

    harness.loop.run(gone())
    assert harness.loop.call(lambda: set(sim.clients)) == set()
