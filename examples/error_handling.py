"""What each connect failure looks like, and how to handle it, against the simulator.

Every connection failure is a :class:`aiotws.TWSConnectionError`, which is also the builtin
``ConnectionError``; the subclasses say what went wrong and what to do:

* ``ConnectionRefused``: nothing listens on the port. Is TWS/IB Gateway running, with the
  API enabled, on this port?
* ``ClientIdInUse``: TWS answered 326. Another connection (or a stale one from a crashed
  process) holds the id: use another id, or wait until the old socket is really closed.
* ``ConnectTimeout``: TCP was accepted but TWS never finished the handshake: a wedged or
  restarting gateway, a login dialog, or not a TWS API port.
* ``RequestTimeout``: a request got no answer in time; TWS's cancel was sent, if it has one.

    python examples/error_handling.py
"""

from __future__ import annotations

import asyncio
import logging
import sys

from aiotws import (
    IB,
    ClientIdInUse,
    ConnectionRefused,
    ConnectTimeout,
    RequestTimeout,
)
from aiotws.sim import Simulator
from aiotws.wire.messages import ReqCurrentTime, ReqCurrentTimeInMillis


async def refused(port: int) -> None:
    try:
        await IB().connect("127.0.0.1", port, client_id=1, timeout=2.0)
    except ConnectionRefused as e:
        print(f"ConnectionRefused: {e}")


async def client_id_in_use(sim: Simulator) -> None:
    async with IB.connect_to(sim.host, sim.port, client_id=7) as first:
        print(f"first connection: {first!r}")
        try:
            await IB().connect(sim.host, sim.port, client_id=7)
        except ClientIdInUse as e:
            print(f"ClientIdInUse (client_id={e.client_id}): {e}")
            # One way out: try the next id. (aiotws's session layer will offer rotation.)
            second = await IB().connect(sim.host, sim.port, client_id=e.client_id + 1)
            print(f"retried with the next id: {second!r}")
            second.disconnect()
            await second.wait_closed()  # TWS frees a client id only once the socket is gone


async def connect_timeout(sim: Simulator) -> None:
    sim.faults.silent_handshake = True  # accept TCP, never answer: a wedged gateway
    try:
        await IB().connect(sim.host, sim.port, client_id=2, timeout=0.5)
    except ConnectTimeout as e:
        print(f"ConnectTimeout: {e}")
    finally:
        sim.faults.silent_handshake = False


async def request_timeout(sim: Simulator) -> None:
    # The simulator swallows these requests without an answer.
    sim.faults.unanswered |= {ReqCurrentTime, ReqCurrentTimeInMillis}
    try:
        # request_timeout: the default limit of every one-shot request of this IB (30 s).
        async with IB.connect_to(sim.host, sim.port, client_id=3, request_timeout=0.3) as ib:
            try:
                await ib.current_time()
            except RequestTimeout as e:
                print(f"RequestTimeout: {e}")
            print(f"the session goes on: {ib.is_connected()}, accounts {ib.managed_accounts}")
    finally:
        sim.faults.unanswered.clear()


async def main() -> int:
    # TWS's 326 is logged at ERROR by aiotws.tws; the example prints its own lines instead.
    logging.basicConfig(level=logging.CRITICAL)
    async with Simulator(port=0) as sim:
        free_port = sim.port
        await client_id_in_use(sim)
        await connect_timeout(sim)
        await request_timeout(sim)
    # The simulator has stopped: nothing listens on its port any more.
    await refused(free_port)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
