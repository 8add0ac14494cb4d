"""ERR_MSG routing over a live connection: errors fail their request, the rest never do.

Each test puts a keyed request in flight that the simulator does not answer
(``faults.unanswered``), then makes the simulator send an ERR_MSG for that id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiotws import IB, Client, CodeTable, ErrorInfo, ErrorKind, RequestError
from aiotws.sim import SimSession, Simulator
from aiotws.wire.messages import CurrentTime, NextValidId, ReqCurrentTime

GUARD = 5.0
Sync = Callable[[], Awaitable[Any]]


async def _keyed(
    client: Client, sim: Simulator, *, collect: bool = False
) -> tuple[int, asyncio.Future[Any]]:
    """A keyed request in flight at the simulator, never answered: ``(req_id, task)``."""
    sim.faults.unanswered.add(ReqCurrentTime)
    k = client.next_id()
    coro: Any
    if collect:
        coro = client.request_list(
            ReqCurrentTime(), (CurrentTime,), (NextValidId,), key=k, timeout=None
        )
    else:
        coro = client.request(ReqCurrentTime(), CurrentTime, key=k, timeout=None)
    task = asyncio.ensure_future(coro)
    async with asyncio.timeout(GUARD):
        while not any(isinstance(m, ReqCurrentTime) for m in sim.requests):
            await client.req_managed_accounts()
    assert client._registry.get(k) is not None
    return k, task


async def _fails(task: asyncio.Future[Any]) -> RequestError:
    async with asyncio.timeout(GUARD):
        with pytest.raises(RequestError) as info:
            await task
    return info.value


async def test_error_fails_its_request(client: Client, sim: Simulator, session: SimSession) -> None:
    errors: list[ErrorInfo] = []
    client.errors += errors.append
    k, task = await _keyed(client, sim)
    reject = '{"rejectReason": "not allowed", "code": 7}'
    session.send_error(k, 201, "Order rejected - reason: not allowed", reject)
    e = await _fails(task)
    assert e.code == 201
    assert e.message == "Order rejected - reason: not allowed"
    assert e.req_id == k
    assert e.advanced_order_reject == {"rejectReason": "not allowed", "code": 7}
    assert e.kind is ErrorKind.ERROR
    assert e.time is not None and e.time.tzinfo is not None
    assert abs(e.time - datetime.now(UTC)) < timedelta(seconds=5)
    assert "TWS error 201" in str(e)
    assert len(client._registry) == 0
    # the errors event saw it as well, classified
    [info] = errors
    assert (info.req_id, info.code, info.kind) == (k, 201, ErrorKind.ERROR)
    assert info.advanced_order_reject == e.advanced_order_reject


async def test_error_reject_that_is_not_json_stays_text(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    k, task = await _keyed(client, sim)
    session.send_error(k, 201, "rejected", "not json {")
    e = await _fails(task)
    assert e.advanced_order_reject == "not json {"


async def test_error_without_reject_json(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    k, task = await _keyed(client, sim)
    session.send_error(k, 200, "No security definition has been found for the request")
    e = await _fails(task)
    assert e.code == 200
    assert e.advanced_order_reject is None


@pytest.mark.parametrize(
    ("version", "has_time"), [(176, False), (193, False), (194, True), (200, True)]
)
async def test_error_time_only_from_194(version: int, has_time: bool) -> None:
    async with (
        Simulator(port=0, max_version=version) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        k, task = await _keyed(ib.client, sim)
        sim.clients[1].send_error(k, 200, "no definition", '{"x": 1}')
        e = await _fails(task)
        assert e.code == 200 and e.req_id == k
        assert (e.time is not None) is has_time
        if has_time:
            assert e.time is not None and e.time.tzinfo is not None
        # the reject JSON exists from 166 on: every version here carries it
        assert e.advanced_order_reject == {"x": 1}


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (2109, "Order Event Warning: Attribute 'Outside Regular Trading Hours' is ignored"),
        (10167, "Requested market data is not subscribed. Displaying delayed market data."),
        (2150, "any other 21xx code is a warning"),
    ],
)
async def test_warning_attaches_and_does_not_fail(
    client: Client, sim: Simulator, session: SimSession, sync: Sync, code: int, text: str
) -> None:
    errors: list[ErrorInfo] = []
    client.errors += errors.append
    k, task = await _keyed(client, sim)
    session.send_error(k, code, text)
    await sync()
    assert not task.done()
    p = client._registry.get(k)
    assert p is not None
    [w] = p.warnings
    assert (w.code, w.message, w.req_id, w.kind) == (code, text, k, ErrorKind.WARNING)
    assert [(e.code, e.kind) for e in errors] == [(code, ErrorKind.WARNING)]
    # the request still ends normally afterwards (here: with a real error)
    session.send_error(k, 200, "done")
    assert (await _fails(task)).code == 200


@pytest.mark.parametrize(
    ("code", "kind"),
    [(10349, ErrorKind.NOTICE), (2104, ErrorKind.FARM), (1100, ErrorKind.CONNECTIVITY)],
)
async def test_notices_never_fail_a_request(
    client: Client,
    sim: Simulator,
    session: SimSession,
    sync: Sync,
    code: int,
    kind: ErrorKind,
) -> None:
    seen: list[ErrorInfo] = []
    client.errors += seen.append
    k, task = await _keyed(client, sim)
    session.send_error(k, code, f"notice {code}")
    sim.broadcast_error(code, f"broadcast {code}")  # id -1 as well
    await sync()
    assert not task.done()
    p = client._registry.get(k)
    assert p is not None and p.warnings == []
    assert [(e.code, e.kind, e.req_id) for e in seen] == [(code, kind, k), (code, kind, -1)]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_connectivity_and_farm_events(client: Client, sim: Simulator, sync: Sync) -> None:
    connectivity: list[ErrorInfo] = []
    farms: list[ErrorInfo] = []
    client.connectivity += connectivity.append
    client.farm_status += farms.append
    sim.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
    sim.broadcast_error(2103, "Market data farm connection is broken:usfarm")
    sim.broadcast_error(1102, "Connectivity restored - data maintained.")
    await sync()
    assert [e.code for e in connectivity] == [1100, 1102]
    assert [e.code for e in farms] == [2103]
    assert client.is_connected()


async def test_query_cancelled_ends_a_list_request_with_what_arrived(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    k, task = await _keyed(client, sim, collect=True)
    session.send_error(
        k,
        162,
        f"Historical Market Data Service error message:API historical data query cancelled: {k}",
    )
    async with asyncio.timeout(GUARD):
        items, end = await task
    assert items == []
    assert end is None
    assert len(client._registry) == 0


async def test_162_other_than_cancelled_is_an_error(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    k, task = await _keyed(client, sim, collect=True)
    session.send_error(k, 162, "Historical Market Data Service error message:pacing violation")
    e = await _fails(task)
    assert e.code == 162 and e.kind is ErrorKind.ERROR


async def test_query_cancelled_on_a_single_request_is_an_error(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    k, task = await _keyed(client, sim)
    session.send_error(k, 162, "API historical data query cancelled: 1")
    e = await _fails(task)
    assert e.kind is ErrorKind.CANCELLED


async def test_error_for_an_unknown_id_only_goes_to_the_event(
    client: Client,
    sim: Simulator,
    session: SimSession,
    sync: Sync,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[ErrorInfo] = []
    client.errors += seen.append
    k, task = await _keyed(client, sim)
    with caplog.at_level(logging.INFO, logger="aiotws"):
        session.send_error(k + 1000, 200, "for nobody")
        session.send_error(-1, 321, "session-level error")
        await sync()
    assert not task.done()
    assert [(e.req_id, e.code, e.kind) for e in seen] == [
        (k + 1000, 200, ErrorKind.ERROR),
        (-1, 321, ErrorKind.ERROR),
    ]
    # unrouted errors are logged (nobody else would see them)
    tws = [r for r in caplog.records if r.name == "aiotws.tws"]
    assert [r.levelno for r in tws] == [logging.ERROR, logging.ERROR]
    assert "for nobody" in tws[0].getMessage()
    assert client.is_connected()
    session.send_error(k, 200, "now the real one")
    assert (await _fails(task)).message == "now the real one"


async def test_routed_error_is_logged_at_debug_only(
    client: Client, sim: Simulator, session: SimSession, caplog: pytest.LogCaptureFixture
) -> None:
    k, task = await _keyed(client, sim)
    with caplog.at_level(logging.DEBUG, logger="aiotws"):
        session.send_error(k, 200, "raised to the caller")
        await _fails(task)
    tws = [r for r in caplog.records if r.name == "aiotws.tws"]
    assert [r.levelno for r in tws] == [logging.DEBUG]


async def test_error_after_the_request_ended_is_ignored(
    client: Client, sim: Simulator, session: SimSession, sync: Sync
) -> None:
    k, task = await _keyed(client, sim)
    session.send_error(k, 200, "first")
    assert (await _fails(task)).message == "first"
    session.send_error(k, 200, "second")  # the request is gone: only the event sees it
    await sync()
    assert client.is_connected()
    assert len(client._registry) == 0


async def test_client_code_table_turns_a_warning_into_an_error(
    client: Client, sim: Simulator, session: SimSession
) -> None:
    client.codes.set(2109, ErrorKind.ERROR)
    k, task = await _keyed(client, sim)
    session.send_error(k, 2109, "now fatal for this request")
    e = await _fails(task)
    assert e.code == 2109 and e.kind is ErrorKind.ERROR


async def test_ib_codes_turn_an_error_into_a_warning(sim: Simulator) -> None:
    codes = CodeTable()
    codes.set(200, ErrorKind.WARNING)
    codes.set(555, lambda text: ErrorKind.NOTICE if "fine" in text else ErrorKind.ERROR)
    async with IB.connect_to(sim.host, sim.port, client_id=1, codes=codes) as ib:
        c = ib.client
        assert c.codes is not codes  # a copy: later changes to ``codes`` do not leak in
        k, task = await _keyed(c, sim)
        session = sim.clients[1]
        session.send_error(k, 200, "only a warning here")
        session.send_error(k, 555, "this is fine")
        async with asyncio.timeout(GUARD):
            await c.req_managed_accounts()
        assert not task.done()
        p = c._registry.get(k)
        assert p is not None and [w.code for w in p.warnings] == [200]
        session.send_error(k, 555, "this is bad")
        assert (await _fails(task)).code == 555
    # the default table is untouched
    assert Client().codes.classify(200) is ErrorKind.ERROR


async def test_errors_event_payload_kinds(client: Client, sync: Sync, session: SimSession) -> None:
    seen: list[ErrorInfo] = []
    client.errors += seen.append
    for code in (2104, 10167, 10349, 1100, 200, 326):
        session.send_error(-1, code, f"code {code}")
    await sync()
    assert [(e.code, e.kind) for e in seen] == [
        (2104, ErrorKind.FARM),
        (10167, ErrorKind.WARNING),
        (10349, ErrorKind.NOTICE),
        (1100, ErrorKind.CONNECTIVITY),
        (200, ErrorKind.ERROR),
        (326, ErrorKind.FATAL),
    ]
    assert all(isinstance(e, ErrorInfo) and e.req_id == -1 for e in seen)
    assert client.is_connected()
