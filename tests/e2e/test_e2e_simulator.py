"""The simulator's own contract, seen from the raw wire: strictness, read-only, client ids."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest

from aiotws import IB, StartupSync, TWSConnectionError
from aiotws.sim import Simulator
from aiotws.wire import OUT_MESSAGES, Out
from aiotws.wire.messages import (
    CurrentTime,
    ErrMsg,
    ManagedAccts,
    NextValidId,
    ReqCurrentTime,
    StartApi,
)

GUARD = 5.0
Raw = Callable[..., Awaitable[Any]]


async def test_raw_handshake_and_start(raw: Raw, sim: Simulator) -> None:
    c = await raw()
    assert await c.handshake("v157..200") == 200
    c.send(StartApi(9))
    got = {type(await c.read()) for _ in range(2)}
    assert got == {ManagedAccts, NextValidId}
    notices = [await c.read() for _ in range(3)]
    assert [(m.req_id, m.code) for m in notices] == [(-1, 2104), (-1, 2106), (-1, 2158)]
    c.send(ReqCurrentTime())
    m = await c.read()
    assert isinstance(m, CurrentTime)
    assert 9 in sim.clients


async def test_version_negotiation_picks_the_highest_common(raw: Raw) -> None:
    c = await raw()
    assert await c.handshake("v100..176") == 176


async def test_start_api_with_an_extra_field_is_refused_by_name(raw: Raw, sim: Simulator) -> None:
    c = await raw()
    await c.handshake()
    c.send_payload(b"71\x002\x001\x00\x00extra\x00")
    err = await c.read()
    assert isinstance(err, ErrMsg)
    assert err.code == 320 and err.req_id == -1
    assert "StartApi" in err.text
    assert "more than the layout" in err.text
    assert sim.clients == {}
    # the session is still usable: a correct START_API starts it
    c.send(StartApi(1))
    assert isinstance(await c.read_until(NextValidId), NextValidId)
    assert 1 in sim.clients


async def test_request_before_start_api_is_an_error(raw: Raw, sim: Simulator) -> None:
    c = await raw()
    await c.handshake()
    c.send(ReqCurrentTime())
    err = await c.read()
    assert isinstance(err, ErrMsg)
    assert err.code == 321
    assert "before START_API" in err.text
    assert "ReqCurrentTime" in err.text
    assert sim.requests == []


async def test_start_api_twice_is_an_error(raw: Raw) -> None:
    c = await raw()
    await c.handshake()
    c.send(StartApi(1))
    await c.read_until(NextValidId)
    c.send(StartApi(1))
    err = await c.read_until(ErrMsg)
    while err.code != 321:  # skip the farm notices
        err = await c.read_until(ErrMsg)
    assert "twice" in err.text


async def test_unknown_message_id_keeps_the_session(raw: Raw) -> None:
    c = await raw()
    await c.handshake()
    c.send(StartApi(1))
    await c.read_until(NextValidId)
    for _ in range(3):
        await c.read_until(ErrMsg)  # farm notices
    c.send_payload(b"9999\x001\x00")
    err = await c.read()
    assert isinstance(err, ErrMsg) and err.code == 320
    assert "9999" in err.text
    # a real request id that aiotws has no message class for yet
    missing = [o for o in Out if o not in OUT_MESSAGES and o < 106]
    if missing:
        c.send_payload(f"{int(missing[0])}\x001\x00".encode())
        err = await c.read()
        assert isinstance(err, ErrMsg) and err.code == 321
        assert missing[0].name in err.text
    c.send(ReqCurrentTime())
    assert isinstance(await c.read(), CurrentTime)


async def test_bad_opening_is_closed(raw: Raw) -> None:
    c = await raw()
    c.writer.write(b"GET / HTTP/1.1\r\n\r\n")
    assert await c.at_eof()


async def test_refused_version_range_closes_without_reply() -> None:
    async with Simulator(port=0, min_version=190) as sim:
        reader, writer = await asyncio.open_connection(sim.host, sim.port)
        try:
            writer.write(b"API\x00" + len(b"v157..178").to_bytes(4, "big") + b"v157..178")
            async with asyncio.timeout(GUARD):
                assert await reader.read() == b""
        finally:
            writer.close()
            await writer.wait_closed()


async def test_read_only_refuses_place_order() -> None:
    async with (
        Simulator(port=0, read_only=True) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as ib,
    ):
        c = ib.client
        got = asyncio.ensure_future(_next_error(c))
        assert c._protocol is not None
        # a truncated PLACE_ORDER (id 3): TWS refuses it on its id, before reading fields
        c._protocol.write(len(b"3\x005\x00").to_bytes(4, "big") + b"3\x005\x00")
        async with asyncio.timeout(GUARD):
            err = await got
        assert err.code == 321
        assert "Read-Only" in err.text
        assert "PLACE_ORDER" in err.text
        # reads still work
        async with asyncio.timeout(GUARD):
            assert isinstance(await ib.current_time(), datetime)


async def _next_error(client: Any) -> Any:
    return await client.errors


async def test_read_only_over_the_raw_wire(raw: Raw) -> None:
    async with Simulator(port=0, read_only=True) as ro:
        c = await raw(ro)
        await c.handshake()
        c.send(StartApi(1))
        await c.read_until(NextValidId)
        c.send_payload(b"3\x0042\x00")
        while True:
            err = await c.read_until(ErrMsg)
            if err.code == 321:
                break
        assert "Read-Only mode" in err.text
        await c.close()


@pytest.mark.parametrize("version", [176, 193, 194])
async def test_errors_in_the_layout_of_the_version(raw: Raw, version: int) -> None:
    c = await raw()
    assert await c.handshake(f"v157..{version}") == version
    c.send(ReqCurrentTime())  # before START_API: an error
    err = await c.read()
    assert isinstance(err, ErrMsg) and err.code == 321
    assert (err.error_time is not None) is (version >= 194)


async def test_master_client_id() -> None:
    async with (
        Simulator(port=0, master_client_id=3) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD),
        IB.connect_to(sim.host, sim.port, client_id=3, timeout=GUARD),
    ):
        assert sim.clients[3].is_master
        assert not sim.clients[1].is_master


async def test_many_clients_at_once(sim: Simulator) -> None:
    ibs = [IB() for _ in range(5)]
    async with asyncio.timeout(GUARD):
        await asyncio.gather(
            *(ib.connect(sim.host, sim.port, client_id=i + 10) for i, ib in enumerate(ibs))
        )
        try:
            assert sorted(sim.clients) == [10, 11, 12, 13, 14]
            times = await asyncio.gather(*(ib.current_time() for ib in ibs))
            assert all(isinstance(t, datetime) for t in times)
            assert {ib.client.client_id for ib in ibs} == {10, 11, 12, 13, 14}
        finally:
            for ib in ibs:
                ib.disconnect()
            await asyncio.gather(*(ib.wait_closed() for ib in ibs))


async def test_max_clients() -> None:
    async with (
        Simulator(port=0, max_clients=1) as sim,
        IB.connect_to(sim.host, sim.port, client_id=1, timeout=GUARD) as first,
    ):
        async with asyncio.timeout(GUARD):
            with pytest.raises(TWSConnectionError):
                await IB().connect(sim.host, sim.port, client_id=2)
        assert first.is_connected()


async def test_next_order_id_config() -> None:
    async with (
        Simulator(port=0, next_order_id=1000) as sim,
        # no connect-time sync: its REQ_EXECUTIONS would take id 1000 (one id counter)
        IB.connect_to(
            sim.host, sim.port, client_id=1, timeout=GUARD, sync=StartupSync.none()
        ) as ib,
    ):
        assert ib.client.next_id() == 1000
        async with asyncio.timeout(GUARD):
            assert await ib.req_ids() == 1000


def test_unknown_simulator_setting() -> None:
    with pytest.raises(TypeError, match="no_such_setting"):
        Simulator(no_such_setting=1)
