"""The texts and helpers behind the simulator's session faults (see :class:`~aiotws.sim.Simulator`).

TWS's notices for an IB-side outage and for farm flaps (PROTOCOL.md 1.8, 8.1), which farm
a name belongs to, and the listeners a :meth:`~aiotws.sim.Simulator.restart` leaves on the
port while it is down (``mode="accept_close"``: TWS restarting or at its login screen;
``mode="silent"``: a wedged gateway).
"""

from __future__ import annotations

import asyncio
from typing import Final, Literal

__all__ = [
    "CONNECTIVITY_LOST",
    "CONNECTIVITY_RESTORED_DATA_LOST",
    "CONNECTIVITY_RESTORED_DATA_MAINTAINED",
    "RESTART_MODES",
    "DownListener",
    "FarmKind",
    "RestartMode",
    "farm_kind",
    "farm_notice",
]

#: how a restarting simulator treats connects while it is down
RestartMode = Literal["refuse", "accept_close", "silent"]
RESTART_MODES: Final[tuple[RestartMode, ...]] = ("refuse", "accept_close", "silent")

CONNECTIVITY_LOST: Final = (1100, "Connectivity between IB and Trader Workstation has been lost.")
CONNECTIVITY_RESTORED_DATA_LOST: Final = (
    1101,
    "Connectivity between IB and Trader Workstation has been restored - data lost.",
)
CONNECTIVITY_RESTORED_DATA_MAINTAINED: Final = (
    1102,
    "Connectivity between IB and Trader Workstation has been restored - data maintained.",
)

FarmKind = Literal["market", "hmds", "secdef"]

#: kind -> ((broken code, OK code), the farm's label in TWS's text)
_FARMS: Final[dict[FarmKind, tuple[tuple[int, int], str]]] = {
    "market": ((2103, 2104), "Market data"),
    "hmds": ((2105, 2106), "HMDS data"),
    "secdef": ((2157, 2158), "Sec-def data"),
}


def farm_kind(farm: str) -> FarmKind:
    """Which kind of farm ``farm`` is, by TWS's naming: ``…hmds…`` (``ushmds``, ``euhmds``,
    ``cashhmds``) is a historical data farm, ``secdef…`` (``secdefnj``) a sec-def farm,
    anything else (``usfarm``, ``usfarm.nj``, ``cashfarm``, ``usopt``) a market data farm."""
    name = farm.lower()
    if name.startswith("secdef"):
        return "secdef"
    if "hmds" in name:
        return "hmds"
    return "market"


def farm_notice(farm: str, ok: bool) -> tuple[int, str]:
    """TWS's notice (code, text) for ``farm`` going down or coming back, e.g.
    ``(2103, "Market data farm connection is broken:usfarm")``."""
    (broken, fine), label = _FARMS[farm_kind(farm)]
    state = "OK" if ok else "broken"
    return (fine if ok else broken), f"{label} farm connection is {state}:{farm}"


class _DownConnection(asyncio.Protocol):
    def __init__(self, listener: DownListener) -> None:
        self.listener = listener
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if self.listener.mode == "accept_close":
            transport.close()
        else:
            self.listener.connections.add(self)

    def data_received(self, data: bytes) -> None:  # silent: read and ignore everything
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)


class DownListener:
    """What listens on a restarting simulator's port while it is down (``accept_close``
    and ``silent`` modes): it accepts TCP, then closes at once or never answers."""

    def __init__(self, mode: RestartMode) -> None:
        self.mode = mode
        self.connections: set[_DownConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _DownConnection(self), host, port)

    async def close(self) -> None:
        """Stop listening and close what it accepted (the wedged process is gone)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for c in list(self.connections):
            if c.transport is not None:
                c.transport.close()
        self.connections.clear()
        if server is not None:
            await server.wait_closed()
