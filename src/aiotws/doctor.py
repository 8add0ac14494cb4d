"""``aiotws doctor``: diagnose a TWS / IB Gateway API setup, step by step.

The logic behind the ``aiotws doctor`` command, as coroutines returning dataclasses (the
command only prints them)::

    diagnosis = await diagnose("127.0.0.1")          # probes 7497, 7496, 4002, 4001
    for report in diagnosis.reports:
        for check in report.checks:
            print(check.status, check.name, check.summary, check.advice)

The steps, per port: (1) TCP: refused means the API is off or the port is wrong; (2) the
API handshake on a raw socket: closed at once (an untrusted IP, another program on the
port, TWS restarting) or no answer (a wedged gateway, a dialog, not a TWS port); (3) the API
session with the client id (326: in use); then, connected: (4) the managed accounts, paper
(``D…``) or live; (5) the data farms' notices (2104/2106/2158 OK, 2103/2105/2157 broken);
(6) read-only API, by a what-if order of one share (a what-if places nothing; TWS refuses
even that with 321 "Read-Only" in read-only mode); (7) market data, by one snapshot
(live, delayed 10167, not subscribed 354, 10197 a competing session).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from aiotws.client import ErrorInfo
from aiotws.errors import (
    ClientIdInUse,
    ConnectTimeout,
    RequestError,
    TWSConnectionError,
    TWSError,
)
from aiotws.ib import IB
from aiotws.model import MarketOrder, Stock
from aiotws.startup import StartupSync
from aiotws.wire.connection import ClientConnection, ConnectionFailed, Handshake

__all__ = [
    "DEFAULT_PORTS",
    "Check",
    "Diagnosis",
    "HandshakeProbe",
    "PortReport",
    "Status",
    "account_kind",
    "diagnose",
    "diagnose_port",
    "port_label",
    "probe_handshake",
    "probe_tcp",
]

#: TWS's and IB Gateway's default API ports, in the order the doctor probes them
DEFAULT_PORTS: Final[dict[int, str]] = {
    7497: "TWS paper",
    7496: "TWS live",
    4002: "IB Gateway paper",
    4001: "IB Gateway live",
}

_PORTS_TEXT: Final = ", ".join(f"{p} {label}" for p, label in DEFAULT_PORTS.items())
_API_SETTINGS: Final = "Global Configuration > API > Settings"

#: farm notice codes: code -> (kind, ok)
_FARM_CODES: Final[dict[int, tuple[str, bool]]] = {
    2104: ("market data", True),
    2103: ("market data", False),
    2108: ("market data", True),  # inactive, available on demand
    2106: ("historical data", True),
    2105: ("historical data", False),
    2107: ("historical data", True),  # inactive, available on demand
    2158: ("sec-def", True),
    2157: ("sec-def", False),
}
#: market data errors meaning "not subscribed" (no live data, no delayed data either)
_NOT_SUBSCRIBED: Final = frozenset({354, 10089, 10090, 10168, 10186})


class Status(enum.StrEnum):
    """The outcome of one check: ``ok``, ``warn`` (works, but read the advice), ``fail``
    (something to fix), ``skip`` (not run: an earlier step failed)."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One step of a diagnosis: its ``name``, ``status``, what was found (``summary``) and
    what to do about it (``advice``, empty when there is nothing to do)."""

    name: str
    status: Status
    summary: str
    advice: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAIL


@dataclass(frozen=True, slots=True)
class HandshakeProbe:
    """What a raw API handshake on ``host:port`` met.

    ``outcome``: ``"ok"`` (a TWS handshake reply), ``"refused"`` (nothing listens),
    ``"unreachable"`` (no TCP answer, or another socket error: ``error``), ``"closed"``
    (TCP accepted, then closed before any reply), ``"silent"`` (accepted, no reply within
    the timeout), ``"garbage"`` (a reply that is not TWS's).
    """

    host: str
    port: int
    outcome: str
    server_version: int = 0
    connection_time: str = ""
    error: str = ""

    @property
    def tcp_open(self) -> bool:
        return self.outcome not in ("refused", "unreachable")


@dataclass(slots=True)
class PortReport:
    """The diagnosis of one TWS / IB Gateway port."""

    host: str
    port: int
    checks: list[Check] = field(default_factory=list)
    server_version: int = 0
    accounts: tuple[str, ...] = ()
    #: "paper", "live", "mixed" or "none" (not connected)
    kind: str = "none"
    #: None: not tested
    read_only: bool | None = None
    #: farm name -> OK (the latest notice of each farm)
    farms: dict[str, bool] = field(default_factory=dict)
    #: 1 live, 2 frozen, 3 delayed, 4 delayed frozen; 0: no market data seen
    market_data_type: int = 0
    #: TWS's error and notice codes seen while connected
    codes: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return port_label(self.port)

    @property
    def healthy(self) -> bool:
        """No check failed."""
        return all(c.ok for c in self.checks)

    def check(self, name: str) -> Check | None:
        """The check called ``name`` (``None`` if it was not run)."""
        return next((c for c in self.checks if c.name == name), None)


@dataclass(slots=True)
class Diagnosis:
    """The doctor's findings: one :class:`PortReport` per port it could reach (or the one
    port asked for), and what every probed port met."""

    host: str
    #: the port asked for (``None``: the four defaults were probed)
    port: int | None
    probes: list[HandshakeProbe] = field(default_factory=list)
    reports: list[PortReport] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """At least one port diagnosed, and no check failed."""
        return bool(self.reports) and all(r.healthy for r in self.reports)

    @property
    def open_ports(self) -> list[int]:
        return [p.port for p in self.probes if p.tcp_open]


def port_label(port: int) -> str:
    """``"TWS paper"`` for 7497 and so on; ``""`` for a port that is no default."""
    return DEFAULT_PORTS.get(port, "")


def account_kind(accounts: Sequence[str]) -> str:
    """``"paper"`` when every account starts with ``D`` (DU…, DF…), ``"live"`` when none
    does, ``"mixed"`` for both, ``"none"`` for no accounts."""
    if not accounts:
        return "none"
    paper = [a.startswith("D") for a in accounts]
    return "paper" if all(paper) else "live" if not any(paper) else "mixed"


# -- probes -----------------------------------------------------------------------------------


async def probe_tcp(host: str, port: int, timeout: float = 2.0) -> HandshakeProbe:
    """Only the TCP connect: ``outcome`` ``"ok"`` when it was accepted (then closed)."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        return HandshakeProbe(host, port, "refused")
    except TimeoutError:
        return HandshakeProbe(host, port, "unreachable", error=f"no TCP answer in {timeout:g} s")
    except OSError as e:
        return HandshakeProbe(host, port, "unreachable", error=str(e) or type(e).__name__)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return HandshakeProbe(host, port, "ok")


async def probe_handshake(host: str, port: int, timeout: float = 5.0) -> HandshakeProbe:
    """Connect, send the API handshake and read TWS's reply on a raw socket, then close.

    Tells apart the ways a port can fail before a client id is even sent (see
    :class:`HandshakeProbe`); TWS sees a client that connected and left.
    """
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        return HandshakeProbe(host, port, "refused")
    except TimeoutError:
        return HandshakeProbe(host, port, "unreachable", error=f"no TCP answer in {timeout:g} s")
    except OSError as e:
        return HandshakeProbe(host, port, "unreachable", error=str(e) or type(e).__name__)
    conn = ClientConnection()
    received = 0
    try:
        writer.write(conn.initiate())
        async with asyncio.timeout(timeout):
            while True:
                data = await reader.read(4096)
                if not data:
                    outcome = "closed" if received == 0 else "garbage"
                    return HandshakeProbe(host, port, outcome, error="closed by the peer")
                received += len(data)
                for ev in conn.receive_data(data):
                    if isinstance(ev, Handshake):
                        return HandshakeProbe(
                            host, port, "ok", ev.server_version, ev.raw_time or ""
                        )
                    if isinstance(ev, ConnectionFailed):
                        return HandshakeProbe(host, port, "garbage", error=str(ev.error))
    except TimeoutError:
        outcome = "silent" if received == 0 else "garbage"
        return HandshakeProbe(host, port, outcome, error=f"no handshake reply in {timeout:g} s")
    except TWSError as e:  # a frame that is not TWS's (an HTTP answer, a huge length)
        return HandshakeProbe(host, port, "garbage", error=str(e))
    except OSError as e:  # reset by the peer
        return HandshakeProbe(host, port, "closed", error=str(e) or type(e).__name__)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


# -- the diagnosis ----------------------------------------------------------------------------


def _refused_check(host: str, port: int, open_ports: Sequence[int] = ()) -> Check:
    where = f"{host}:{port}" + (f" ({port_label(port)})" if port_label(port) else "")
    found = (
        "; open here: " + ", ".join(f"{p} ({port_label(p) or 'custom'})" for p in open_ports)
        if open_ports
        else ""
    )
    return Check(
        "tcp",
        Status.FAIL,
        f"connection to {where} refused{found}",
        "nothing listens there: start TWS / IB Gateway, tick 'Enable ActiveX and Socket "
        f"Clients' in {_API_SETTINGS} and check its 'Socket port' (defaults: {_PORTS_TEXT})",
    )


def _probe_checks(probe: HandshakeProbe) -> list[Check]:
    """The TCP and handshake checks of a probe (the handshake only when TCP was accepted)."""
    host, port = probe.host, probe.port
    if probe.outcome == "refused":
        return [_refused_check(host, port)]
    if probe.outcome == "unreachable":
        return [
            Check(
                "tcp",
                Status.FAIL,
                f"cannot reach {host}:{port}: {probe.error}",
                "check the host name and the network (a firewall dropping the port?); "
                "TWS / IB Gateway on another machine must have its port reachable",
            )
        ]
    checks = [Check("tcp", Status.OK, f"{host}:{port} accepts TCP connections")]
    if probe.outcome == "closed":
        checks.append(
            Check(
                "handshake",
                Status.FAIL,
                "TCP accepted, then closed at once, before any API reply",
                "this host is not trusted: untick 'Allow connections from localhost only' or "
                f"add this machine's IP under 'Trusted IPs' ({_API_SETTINGS}); or another "
                "program holds the port, or TWS is restarting / at its login screen",
            )
        )
    elif probe.outcome == "silent":
        checks.append(
            Check(
                "handshake",
                Status.FAIL,
                f"TCP accepted but no handshake reply ({probe.error})",
                "a wedged IB Gateway (restart it), a dialog waiting in TWS (a login, 'accept "
                "incoming connection?'), or this port is not a TWS API port (the Client "
                "Portal gateway, a proxy)",
            )
        )
    elif probe.outcome == "garbage":
        checks.append(
            Check(
                "handshake",
                Status.FAIL,
                f"the reply is not a TWS API handshake ({probe.error})",
                "this port is not a TWS / IB Gateway API port (a web server, the Client "
                f"Portal gateway?); TWS's is set in {_API_SETTINGS} 'Socket port'",
            )
        )
    else:
        when = f", TWS time {probe.connection_time}" if probe.connection_time else ""
        checks.append(
            Check(
                "handshake",
                Status.OK,
                f"API handshake: server version {probe.server_version}{when}",
            )
        )
    return checks


async def diagnose_port(
    host: str,
    port: int,
    client_id: int = 0,
    *,
    timeout: float = 5.0,
    probe: HandshakeProbe | None = None,
    what_if_symbol: str = "AAPL",
) -> PortReport:
    """Diagnose one port: the raw probe (unless ``probe`` is given), then, if it answered,
    an API session as ``client_id`` and the checks made while connected. Never raises for
    what it finds; ``timeout`` bounds each step."""
    report = PortReport(host, port)
    if probe is None:
        probe = await probe_handshake(host, port, timeout)
    report.checks.extend(_probe_checks(probe))
    if probe.outcome != "ok":
        return report
    report.server_version = probe.server_version
    ib = IB(reconnect=False, sync=StartupSync.none(), request_timeout=timeout)
    seen: list[ErrorInfo] = []
    ib.errors += seen.append
    try:
        await ib.connect(host, port, client_id, timeout=timeout)
    except ClientIdInUse:
        report.checks.append(
            Check(
                "api",
                Status.FAIL,
                f"client id {client_id} is already in use (TWS error 326)",
                "another program (or a session of this one that has not closed yet) uses this "
                "id: pick another --client-id, or close the other one",
            )
        )
        return report
    except ConnectTimeout as e:
        report.checks.append(
            Check(
                "api",
                Status.FAIL,
                f"the API session did not start: {e}",
                "TWS took the handshake but never said it was ready: look for a dialog in TWS "
                "(accept the incoming connection?), or restart a wedged IB Gateway",
            )
        )
        return report
    except TWSConnectionError as e:
        report.checks.append(
            Check(
                "api",
                Status.FAIL,
                f"the API session did not start: {e}",
                "TWS closed the connection after the handshake: check TWS's API log, the "
                f"'Trusted IPs' in {_API_SETTINGS}, and that the client id is free",
            )
        )
        return report
    try:
        await _connected_checks(ib, report, seen, client_id, timeout, what_if_symbol)
    finally:
        ib.disconnect()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await ib.wait_closed()
    return report


async def _connected_checks(
    ib: IB,
    report: PortReport,
    seen: list[ErrorInfo],
    client_id: int,
    timeout: float,
    what_if_symbol: str,
) -> None:
    report.server_version = ib.server_version
    report.checks.append(
        Check(
            "api",
            Status.OK,
            f"API session started as client {client_id}, server version {ib.server_version}",
        )
    )
    # accounts
    report.accounts = tuple(ib.managed_accounts)
    report.kind = kind = account_kind(report.accounts)
    accounts = ", ".join(report.accounts) or "none"
    if kind == "none":
        report.checks.append(
            Check("accounts", Status.FAIL, "TWS reported no managed accounts", "log in to TWS")
        )
    else:
        note = {
            "paper": "paper (simulated trading)",
            "live": "LIVE (real money)",
            "mixed": "paper and LIVE accounts",
        }[kind]
        expected = port_label(report.port)
        mismatch = expected and kind in ("paper", "live") and not expected.endswith(kind)
        report.checks.append(
            Check(
                "accounts",
                Status.WARN if mismatch else Status.OK,
                f"accounts {accounts}: {note}",
                f"port {report.port} is {expected}'s default, but this login is {kind}: "
                "mind which session you trade in"
                if mismatch
                else "",
            )
        )
    # a round trip: every notice TWS sent at connect has been read after it
    with contextlib.suppress(TWSError, TimeoutError):
        await ib.current_time(timeout=timeout)
    report.checks.append(_farm_check(report, seen))
    report.checks.append(await _read_only_check(ib, report, timeout, what_if_symbol))
    report.checks.append(await _market_data_check(ib, report, seen, timeout, what_if_symbol))
    report.codes = [e.code for e in seen]
    session = _session_check(seen)
    if session is not None:
        report.checks.append(session)


def _farm_check(report: PortReport, seen: list[ErrorInfo]) -> Check:
    kinds: dict[str, str] = {}
    for e in seen:
        if e.code in _FARM_CODES:
            kind, ok = _FARM_CODES[e.code]
            farm = e.text.rpartition(":")[2].strip() or kind
            report.farms[farm] = ok
            kinds[farm] = kind
    if not report.farms:
        return Check(
            "farms",
            Status.WARN,
            "no data farm notices (2104/2106/2158) arrived",
            "TWS may still be connecting to IB's servers; run the doctor again in a minute",
        )
    broken = [f for f, ok in report.farms.items() if not ok]
    listing = ", ".join(f"{f} {'OK' if ok else 'broken'}" for f, ok in report.farms.items())
    if broken:
        what = sorted({kinds[f] for f in broken})
        return Check(
            "farms",
            Status.FAIL,
            f"data farms: {listing}",
            f"TWS lost its {' and '.join(what)} farm connection (2103/2105/2157): usually "
            "IB's nightly reset or a network problem between TWS and IB; it restores by itself",
        )
    return Check("farms", Status.OK, f"data farms: {listing}")


async def _read_only_check(ib: IB, report: PortReport, timeout: float, symbol: str) -> Check:
    stock = Stock(symbol)
    order = MarketOrder("BUY", Decimal(1))
    if report.accounts:
        order.account = report.accounts[0]
    try:
        await ib.qualify(stock, timeout=timeout)
        await ib.what_if(stock, order, timeout=timeout)
    except RequestError as e:
        if e.code == 321 and "read-only" in e.message.lower():
            report.read_only = True
            return Check(
                "read-only",
                Status.WARN,
                "the API is read-only: TWS refused a what-if order (321 Read-Only)",
                "to place orders, untick 'Read-Only API' in "
                f"{_API_SETTINGS} (keep it if this setup must never trade)",
            )
        return Check(
            "read-only",
            Status.WARN,
            f"could not tell: a what-if of 1 {symbol} got TWS error {e.code}: {e.message}",
            "orders may still work; the error says what TWS disliked",
        )
    except (TWSError, TimeoutError) as e:
        return Check(
            "read-only",
            Status.WARN,
            f"could not tell: a what-if of 1 {symbol} got no answer ({e or 'timeout'})",
            "a confirmation dialog may be waiting in TWS / IB Gateway",
        )
    report.read_only = False
    return Check(
        "read-only",
        Status.OK,
        f"orders allowed: a what-if of 1 {symbol} was answered (nothing was placed)",
    )


async def _market_data_check(
    ib: IB, report: PortReport, seen: list[ErrorInfo], timeout: float, symbol: str
) -> Check:
    stock = Stock(symbol)
    try:
        ticker = await ib.snapshot(stock, timeout=timeout)
    except RequestError as e:
        return _market_data_error(e.code, e.message, symbol)
    except (TWSError, TimeoutError) as e:
        return Check(
            "market data",
            Status.WARN,
            f"no snapshot of {symbol} within {timeout:g} s ({e or 'timeout'})",
            "the market data farm may be slow or down; try again",
        )
    codes = {e.code for e in ticker.errors}
    bad = next((e for e in ticker.errors if e.code in _NOT_SUBSCRIBED | {10197}), None)
    if bad is not None:
        return _market_data_error(bad.code, bad.message, symbol)
    report.market_data_type = ticker.market_data_type
    price = next(
        (p for p in (ticker.last, ticker.bid, ticker.close) if not math.isnan(p) and p > 0), None
    )
    quote = f"{price:g}" if price is not None else "no price"
    if 10167 in codes or ticker.market_data_type in (3, 4):
        return Check(
            "market data",
            Status.WARN,
            f"{symbol} {quote}: delayed data (10167: not subscribed to live data)",
            "subscribe to the market data in IB's Client Portal (Settings > Market Data "
            "Subscriptions); a paper account also needs 'share real-time market data "
            "subscriptions with paper account' set on its live account",
        )
    if price is None:
        return Check(
            "market data",
            Status.WARN,
            f"a snapshot of {symbol} came back without a price",
            "the market may be closed; check the market data subscriptions if it persists",
        )
    return Check("market data", Status.OK, f"{symbol} {quote}: live market data")


def _market_data_error(code: int, message: str, symbol: str) -> Check:
    if code == 10197:
        return Check(
            "market data",
            Status.FAIL,
            f"no market data during a competing live session (10197): {message}",
            "the same IB user is logged in elsewhere (another TWS or IB Gateway, the mobile "
            "app, the Client Portal) and that session holds the market data: log out there, "
            "or give this setup its own IB user",
        )
    if code in _NOT_SUBSCRIBED:
        return Check(
            "market data",
            Status.WARN,
            f"{symbol}: not subscribed to its market data (TWS error {code})",
            "subscribe in IB's Client Portal (Settings > Market Data Subscriptions), or use "
            "delayed data (ib.market_data_type(3)); a paper account shares its live "
            "account's subscriptions only when that is switched on",
        )
    return Check(
        "market data",
        Status.WARN,
        f"a snapshot of {symbol} failed: TWS error {code}: {message}",
        "check the market data subscriptions and the data farms",
    )


def _session_check(seen: list[ErrorInfo]) -> Check | None:
    codes = {e.code for e in seen}
    if 10197 in codes:
        return Check(
            "session",
            Status.FAIL,
            "TWS reported a competing live session (10197)",
            "the same IB user is logged in elsewhere and holds the market data: log out there",
        )
    if 1100 in codes and not codes & {1101, 1102}:
        return Check(
            "session",
            Status.FAIL,
            "TWS has lost its connection to IB's servers (1100)",
            "TWS reconnects by itself (IB's nightly reset, a network problem); wait for 1101/1102",
        )
    return None


async def diagnose(
    host: str = "127.0.0.1",
    port: int | None = None,
    client_id: int = 0,
    *,
    timeout: float = 5.0,
    ports: Sequence[int] = tuple(DEFAULT_PORTS),
) -> Diagnosis:
    """Diagnose ``host:port``, or (``port=None``) every one of ``ports`` (TWS's and IB
    Gateway's defaults) that accepts TCP. A refused ``port`` also probes ``ports`` to say
    which are open instead."""
    diag = Diagnosis(host, port)
    if port is not None:
        probe = await probe_handshake(host, port, timeout)
        diag.probes.append(probe)
        if probe.outcome == "refused":
            others = [p for p in ports if p != port]
            probes = await asyncio.gather(*(probe_tcp(host, p, timeout) for p in others))
            report = PortReport(host, port)
            report.checks.append(_refused_check(host, port, [p.port for p in probes if p.tcp_open]))
            diag.probes.extend(probes)
            diag.reports.append(report)
            return diag
        diag.reports.append(
            await diagnose_port(host, port, client_id, timeout=timeout, probe=probe)
        )
        return diag
    probes = await asyncio.gather(*(probe_handshake(host, p, timeout) for p in ports))
    diag.probes.extend(probes)
    for probe in probes:
        if probe.tcp_open:
            diag.reports.append(
                await diagnose_port(host, probe.port, client_id, timeout=timeout, probe=probe)
            )
    return diag
