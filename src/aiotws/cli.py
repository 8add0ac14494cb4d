"""The ``aiotws`` command line: ``demo``, ``sim``, and the everyday commands ``quote``,
``history``, ``chain``, ``positions``, ``orders``, ``account`` and ``doctor``; ``replay``
plays a recording back as a fake TWS.

Connection flags fall back to the environment: ``AIOTWS_HOST``, ``AIOTWS_PORT``,
``AIOTWS_CLIENT_ID``, ``AIOTWS_EXPECT``; ``--sim`` runs a command against an embedded
simulator; ``--record FILE`` records its session. Failures print one line and exit
non-zero (2: ``--expect`` met the other kind of account); no tracebacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import importlib.util
import logging
import math
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from aiotws import __version__
from aiotws.doctor import Check, Diagnosis, Status, account_kind, diagnose, port_label
from aiotws.errors import (
    AccountKindMismatch,
    AmbiguousContract,
    ClientIdInUse,
    RequestError,
    TWSError,
)
from aiotws.ib import IB
from aiotws.model import (
    ContFuture,
    Contract,
    Forex,
    Future,
    FuturesOption,
    LimitOrder,
    MarketOrder,
    Option,
    ScannerSubscription,
    Stock,
)
from aiotws.model.account import PortfolioItem
from aiotws.model.news import split_headline
from aiotws.record import Recorder, Recording
from aiotws.replay import ReplayMismatch, ReplayServer
from aiotws.sim import SimConfig, Simulator
from aiotws.sim.accounts import seed_position
from aiotws.sim.orders import place_manual_order
from aiotws.startup import StartupSync
from aiotws.ticker import Ticker
from aiotws.trade import Trade

__all__ = ["CLIError", "Symbol", "main", "parse_symbol", "render_diagnosis", "seed_demo_book"]


def _env_int(name: str, default: int | None) -> int | None:
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise SystemExit(f"aiotws: {name}={v!r} is not an integer") from None


#: the exit status of a connection refused by ``--expect`` (the other kind of account)
EXIT_EXPECT: Final = 2


def _env_expect() -> str | None:
    v = os.environ.get("AIOTWS_EXPECT", "").strip().lower()
    if v in ("", "none", "any"):
        return None
    if v not in ("paper", "live"):
        raise SystemExit(f"aiotws: AIOTWS_EXPECT={v!r} must be 'paper' or 'live'")
    return v


def _expect_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--expect",
        choices=("paper", "live"),
        default=_env_expect(),
        help="refuse to go on (exit status 2) unless TWS's accounts are of this kind: paper "
        "(DU…, DF…) or live (env AIOTWS_EXPECT)",
    )


def _connection_flags(p: argparse.ArgumentParser, default_port: int | None) -> None:
    p.add_argument("--host", default=os.environ.get("AIOTWS_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=_env_int("AIOTWS_PORT", default_port))
    p.add_argument("--client-id", type=int, default=_env_int("AIOTWS_CLIENT_ID", 1))
    p.add_argument("--timeout", type=float, default=10.0, help="connect timeout, seconds")
    _expect_flag(p)
    p.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="record the session's frames to FILE (play it back with: aiotws replay FILE)",
    )
    p.add_argument(
        "--redact",
        action="store_true",
        help="with --record: rewrite account ids consistently (DU1234567 -> DU0000001)",
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="log more (-vv: debug)"
    )
    p = argparse.ArgumentParser(
        prog="aiotws", description="asyncio client for the TWS API", parents=[common]
    )
    p.add_argument("--version", action="version", version=f"aiotws {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="tour aiotws against an embedded simulator (or a real TWS with --port)",
        description="Starts an embedded TWS simulator on a free port and tours aiotws "
        "against it. With --port (or AIOTWS_PORT) it connects to that TWS/IB Gateway instead.",
    )
    _connection_flags(demo, None)
    demo.add_argument(
        "--restart",
        action="store_true",
        help="end with a TWS restart: the embedded simulator goes down for a few seconds "
        "(against a real TWS: restart it yourself) and the session reconnects, re-syncs and "
        "resumes the live quotes",
    )
    demo.add_argument(
        "--place-orders",
        action="store_true",
        help="against a real TWS: also place (and fill) a 1-share market order; paper "
        "accounts (DU…) only. Against the embedded simulator orders are always placed.",
    )

    sim = sub.add_parser(
        "sim", parents=[common], help="run the TWS simulator", description="Serve a simulated TWS."
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=7497)
    sim.add_argument("--max-version", type=int, default=SimConfig.max_version)
    sim.add_argument("--min-version", type=int, default=SimConfig.min_version)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument(
        "--accounts", default=",".join(SimConfig.accounts), help="comma-separated account ids"
    )
    sim.add_argument("--master-client-id", type=int, default=None)
    sim.add_argument("--read-only", action="store_true", help="refuse order requests (321)")
    sim.add_argument(
        "--restart-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="rehearse TWS's daily restart: restart after every SECONDS of serving",
    )
    sim.add_argument(
        "--downtime",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long each restart (scheduled or on SIGHUP) stays down (default 5)",
    )
    sim.add_argument(
        "--restart-mode",
        choices=("refuse", "accept_close", "silent"),
        default="refuse",
        help="while down: refuse connects (default), accept and close them (TWS starting "
        "or at its login screen), or accept and never answer (a wedged gateway)",
    )
    _everyday_commands(sub, common)
    _replay_command(sub, common)
    return p


def _replay_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    replay = sub.add_parser(
        "replay",
        parents=[common],
        help="play a recording (--record FILE) back as a fake TWS",
        description="Serve a recorded session: a client connecting gets the recorded "
        "handshake and TWS's recorded answers to its requests (matched by message type and "
        "order, request ids remapped). Prints 'listening on HOST:PORT', serves until every "
        "recorded connection was played (or Ctrl-C), then reports where the client strayed "
        "from the recording (exit status 1).",
    )
    replay.add_argument("file", metavar="FILE", help="a recording (.twsrec)")
    replay.add_argument("--host", default="127.0.0.1")
    replay.add_argument("--port", type=int, default=7497)
    replay.add_argument(
        "--speed",
        type=float,
        default=None,
        help="1 keeps the recorded pauses, 2 halves them … (default: as fast as possible)",
    )
    replay.add_argument(
        "--lenient",
        action="store_true",
        help="let requests' fields differ and leave unexpected requests unanswered (still "
        "reported) instead of closing the connection at the first mismatch",
    )
    replay.add_argument("--list", action="store_true", help="print the recording's frames and exit")


def _session_flags(p: argparse.ArgumentParser) -> None:
    _connection_flags(p, 7497)
    p.add_argument(
        "--sim",
        action="store_true",
        help="run against an embedded simulator (with a small demo book) instead of TWS",
    )


def _everyday_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    symbol_help = (
        "AAPL, SAP@IBIS/EUR, EURUSD or EUR.USD, ES:FUT (front month), ES:FUT:202612, "
        "AAPL:OPT:20261218:230:C, SPX:IND, BTC:CRYPTO, or a con_id"
    )
    quote = sub.add_parser(
        "quote",
        parents=[common],
        help="live quotes, updating until Ctrl-C",
        description="Live quotes of one or more symbols, redrawn until Ctrl-C (--once: one "
        f"snapshot). Symbols: {symbol_help}.",
    )
    _session_flags(quote)
    quote.add_argument("symbols", nargs="+", type=parse_symbol, metavar="SYMBOL")
    quote.add_argument("--once", action="store_true", help="print one table and exit")
    quote.add_argument(
        "--interval", type=float, default=1.0, metavar="SECONDS", help="redraw every (1)"
    )

    hist = sub.add_parser(
        "history",
        parents=[common],
        help="historical bars as a table, CSV or Parquet",
        description=f"Historical bars of one symbol ({symbol_help}).",
    )
    _session_flags(hist)
    hist.add_argument("symbol", type=parse_symbol, metavar="SYMBOL")
    hist.add_argument("--duration", default="1 D", help='how far back: "1 D", "2 W", "1 Y" …')
    hist.add_argument("--bar-size", default="5 mins", help='"1 min", "5 mins", "1 hour", "1 day" …')
    hist.add_argument(
        "--what",
        default=None,
        help="TRADES (default; MIDPOINT for forex), MIDPOINT, BID, ASK, BID_ASK, ADJUSTED_LAST …",
    )
    hist.add_argument("--rth", action="store_true", help="regular trading hours only")
    out = hist.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write the bars to a CSV file")
    out.add_argument("--parquet", metavar="FILE", help="write a Parquet file (pandas + pyarrow)")

    chain = sub.add_parser(
        "chain",
        parents=[common],
        help="option expirations and strikes",
        description="The option chain of an underlying: expirations and strikes per "
        "exchange and trading class.",
    )
    _session_flags(chain)
    chain.add_argument("symbol", type=parse_symbol, metavar="SYMBOL")
    chain.add_argument(
        "--exchange",
        default=None,
        help="the chain's exchange (default SMART, or every one where SMART has none; "
        "ALL for every one)",
    )

    pos = sub.add_parser(
        "positions",
        parents=[common],
        help="positions with their value and PnL",
        description="Every position of every managed account, valued.",
    )
    _session_flags(pos)
    pos.add_argument("--account", default=None, help="only this account")

    orders = sub.add_parser(
        "orders",
        parents=[common],
        help="open orders (--completed: today's completed)",
        description="The open orders of every API client and of TWS itself.",
    )
    _session_flags(orders)
    orders.add_argument(
        "--completed", action="store_true", help="today's filled and cancelled orders instead"
    )

    acct = sub.add_parser(
        "account",
        parents=[common],
        help="key account values (--all: every tag)",
        description="Net liquidation, cash, buying power, margin and PnL of each account.",
    )
    _session_flags(acct)
    acct.add_argument("--account", default=None, help="only this account")
    acct.add_argument("--all", action="store_true", help="every account value TWS sends")

    doctor = sub.add_parser(
        "doctor",
        parents=[common],
        help="diagnose a TWS / IB Gateway API setup",
        description="Checks step by step why a client cannot connect or trade, and says "
        "what to change in TWS's settings. Without --port it probes the four default "
        "ports (7497 TWS paper, 7496 TWS live, 4002 IB Gateway paper, 4001 IB Gateway live).",
    )
    doctor.add_argument("--host", default=os.environ.get("AIOTWS_HOST", "127.0.0.1"))
    doctor.add_argument("--port", type=int, default=_env_int("AIOTWS_PORT", None))
    doctor.add_argument("--client-id", type=int, default=_env_int("AIOTWS_CLIENT_ID", 1))
    doctor.add_argument("--timeout", type=float, default=5.0, help="per step, seconds (5)")
    doctor.add_argument("--sim", action="store_true", help="diagnose an embedded simulator")
    _expect_flag(doctor)


async def _demo(args: argparse.Namespace) -> int:
    sim: Simulator | None = None
    host, port = args.host, args.port
    if port is None:
        sim = Simulator(port=0, seed=1)
        await sim.start()
        host, port = sim.host, sim.port
        print(f"started the aiotws TWS simulator on {host}:{port}")
    try:
        async with _session(args, host, port, IB()) as ib:
            print(f"connected to {host}:{port} as client {args.client_id}")
            print(f"  server version   {ib.server_version}")
            ct = ib.connection_time
            print(f"  connection time  {ct.isoformat() if ct else ib.client.connection_time_text}")
            print(f"  accounts         {', '.join(ib.managed_accounts)}")
            now = await ib.current_time()
            print(f"  server time      {now.isoformat(timespec='milliseconds')}")
            print(f"  next order id    {await ib.req_ids()}")
            await _tour_contracts(ib)
            await _tour_quotes(ib)
            await _tour_history(ib)
            await _tour_news_and_scanner(ib)
            paper = all(a.startswith("D") for a in ib.managed_accounts)
            if sim is not None or (args.place_orders and paper):
                await _tour_orders(ib, Decimal(100) if sim is not None else Decimal(1))
            elif args.place_orders:
                print("  (order tour skipped: --place-orders only runs on paper accounts)")
            else:
                print("  (order tour skipped against a real TWS; --place-orders on paper)")
            if args.restart:
                await _tour_restart(ib, sim)
    finally:
        if sim is not None:
            await sim.stop()
    return 0


async def _tour_contracts(ib: IB) -> None:
    """Qualify a few contracts and show an option chain slice."""
    contracts = [Stock("AAPL"), Forex("EURUSD"), ContFuture("ES", "CME")]
    try:
        await ib.qualify(*contracts)
    except RequestError as e:  # a real TWS without these permissions
        print(f"  (contract tour skipped: {e})")
        return
    print("qualified contracts")
    for c in contracts:
        print(f"  {c.sec_type:<8} {c.local_symbol:<12} con_id {c.con_id:<11} {c.exchange}")
    [details] = await ib.contract_details(contracts[0])
    print(f"  {details.long_name}: min tick {details.min_tick}, zone {details.time_zone_id}")
    chains = await ib.option_chain(contracts[0])
    chain = next((c for c in chains if c.exchange == "SMART"), chains[0] if chains else None)
    if chain is not None:
        mid = len(chain.strikes) // 2
        strikes = ", ".join(f"{k:g}" for k in chain.strikes[max(0, mid - 3) : mid + 3])
        print(f"option chain {chain.trading_class} on {chain.exchange} (x{chain.multiplier})")
        print(f"  expirations  {', '.join(chain.expirations[:6])} … ({len(chain.expirations)})")
        print(f"  strikes      … {strikes} … ({len(chain.strikes)})")


async def _tour_quotes(ib: IB, updates: int = 3) -> None:
    """Stream a few live quotes, then snapshot an option's greeks."""
    tickers = [ib.market_data(Stock("AAPL")), ib.market_data(Forex("EURUSD"))]
    try:
        for t in tickers:
            await t.ready(timeout=10)
    except (RequestError, TimeoutError) as e:
        print(f"  (quote tour skipped: {e or 'no quote in time'})")
        return
    print("live quotes (bid x ask, last)")
    seen = 0
    async for _ in tickers[0].updates():
        for q in tickers:
            sym = q.contract.local_symbol or q.contract.symbol
            last = "-" if math.isnan(q.last) else f"{q.last:g}"
            print(f"  {sym:<8} {q.bid:>10g} x {q.ask:<10g} last {last}")
        seen += 1
        if seen == updates:
            break
    for t in tickers:
        ib.cancel_market_data(t)


async def _tour_history(ib: IB, count: int = 5) -> None:
    """The last few daily and 5-minute bars of AAPL, and when its data begins."""
    aapl = Stock("AAPL")
    try:
        daily = await ib.historical_bars(aapl, duration="10 D", bar_size="1 day")
        intraday = await ib.historical_bars(aapl, duration="1 D", bar_size="5 mins")
        head = await ib.head_timestamp(aapl)
    except (RequestError, TimeoutError) as e:
        print(f"  (history tour skipped: {e or 'no answer in time'})")
        return
    print(f"historical bars, AAPL TRADES (data since {head:%Y-%m-%d})")
    for label, bars in (("1 day", daily), ("5 mins", intraday)):
        for b in bars[-count:]:
            when = (
                b.date.isoformat()
                if not isinstance(b.date, datetime)
                else f"{b.date:%Y-%m-%d %H:%M %Z}"
            )
            print(
                f"  {label:<7} {when:<20} o {b.open:<8g} h {b.high:<8g} l {b.low:<8g} "
                f"c {b.close:<8g} v {b.volume}"
            )


async def _tour_news_and_scanner(ib: IB, count: int = 3) -> None:
    """The latest AAPL headlines and the top % gainers (a real TWS needs the news and
    scanner permissions: without them this part says so and the tour goes on)."""
    try:
        [aapl] = await ib.qualify(Stock("AAPL"))
        providers = [p.code for p in await ib.news_providers(timeout=10)]
        news = []
        if providers:
            news = list(await ib.historical_news(aapl.con_id, providers, total_results=count))
        top = await ib.scan(
            ScannerSubscription("TOP_PERC_GAIN", "STK", "STK.US.MAJOR", number_of_rows=count),
            {"priceAbove": 10},
            timeout=10,
        )
    except (RequestError, TimeoutError) as e:
        print(f"  (news and scanner tour skipped: {e or 'no answer in time'})")
        return
    print(f"news about AAPL ({', '.join(providers) or 'no providers'})")
    for h in news:
        when = f"{h.time:%Y-%m-%d %H:%M %Z}"
        print(f"  {when:<20} {h.provider_code:<8} {split_headline(h.headline)[1]}")
    ranks = ", ".join(f"{r.rank + 1}. {r.contract.symbol}" for r in top)
    print(f"scanner TOP_PERC_GAIN, US major stocks above $10: {ranks or 'no results'}")


async def _tour_orders(ib: IB, quantity: Decimal) -> None:
    """A what-if, a market order to its fill, a resting limit order cancelled, the account."""
    [aapl] = await ib.qualify(Stock("AAPL"))
    state = await ib.what_if(aapl, MarketOrder("BUY", quantity))
    print(f"what-if: BUY {quantity} AAPL at market")
    print(
        f"  initial margin change {_money(state.init_margin_change)}, commission "
        f"{_money(state.commission)} {state.commission_currency}"
    )
    trade = ib.place_order(aapl, MarketOrder("BUY", quantity))
    try:
        await trade.filled(timeout=30)
    except (TWSError, TimeoutError) as e:
        print(f"  (order tour stopped: {e or 'no fill in time'})")
        return
    print(f"market order {trade.order.order_id}: {trade.status}")
    for f in trade.fills:
        x, r = f.execution, f.commission_report
        fee = f", commission {r.commission:.2f} {r.currency}" if r else ""
        print(f"  fill {x.exec_id}  {x.side} {x.shares} @ {x.price:g} on {x.exchange}{fee}")
    ticker = ib.market_data(aapl)
    with contextlib.suppress(RequestError, TimeoutError):
        await ticker.ready(timeout=10)
    below = ticker.bid * 0.9 if ticker.bid > 0 else trade.avg_fill_price() or 100.0
    resting = ib.place_order(aapl, LimitOrder("BUY", quantity, round(below, 2)))
    ib.cancel_market_data(ticker)
    async for t in resting.updates():
        if t.status in ("Submitted", "PreSubmitted") or t.is_done():
            break
    ib.cancel_order(resting)
    await resting.done(timeout=10)
    print(f"limit order {resting.order.order_id} at {resting.order.lmt_price:g}: ", end="")
    print(" -> ".join(e.status for e in resting.log if e.status))
    for p in await ib.positions():
        print(f"  position {p.account} {p.contract.symbol:<6} {p.position} @ {p.avg_cost:.2f}")
    values = {v.tag: v for v in ib.account_values() if v.currency in ("USD", "BASE")}
    for tag in ("NetLiquidation", "TotalCashValue", "BuyingPower"):
        if tag in values:
            print(f"  {tag:<16} {_money(float(values[tag].value))} {values[tag].currency}")


async def _tour_restart(ib: IB, sim: Simulator | None, downtime: float = 3.0) -> None:
    """A TWS restart under a live ticker: down, reconnecting with backoff, restored."""
    ticker = ib.market_data(Stock("AAPL"))
    await ticker.ready(timeout=10)
    t0 = asyncio.get_running_loop().time()

    def stamp() -> str:
        return f"{asyncio.get_running_loop().time() - t0:6.2f} s"

    ib.disconnected += lambda exc: exc is None or print(f"  {stamp()}  disconnected: {exc}")
    ib.reconnecting += lambda n, delay: print(
        f"  {stamp()}  reconnect attempt {n} in {delay:.2f} s"
    )
    ib.restored += lambda report: print(f"  {stamp()}  restored: {report}")
    print(f"restart: AAPL {ticker.bid:g} x {ticker.ask:g} (req id {ticker.req_id})")
    if sim is not None:
        print(f"  {stamp()}  the simulator restarts, down for {downtime:g} s")
        restart = asyncio.ensure_future(sim.restart(downtime))
    else:
        print("  restart TWS / IB Gateway now; waiting for the session to restore it …")
        restart = None
    async with asyncio.timeout(None if sim is None else downtime + 60):
        await _restored(ib)
    if restart is not None:
        await restart
    seen = 0
    async for t in ticker.updates():
        print(f"  {stamp()}  AAPL {t.bid:g} x {t.ask:g} (req id {t.req_id}, same Ticker)")
        seen += 1
        if seen == 2:
            break
    ib.cancel_market_data(ticker)
    st = ib.session.status
    print(
        f"  session {st.state.value}; restores {st.restores}, last took "
        f"{(st.last_restore_seconds or 0) * 1000:.0f} ms"
    )


async def _restored(ib: IB) -> None:
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(*_: object) -> None:
        if not fut.done():
            fut.set_result(None)

    ib.restored += done
    try:
        await fut
    finally:
        ib.restored -= done


def _money(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}"


async def _sim(args: argparse.Namespace) -> int:
    if args.restart_every is not None and not args.restart_every > 0:
        raise SystemExit("aiotws sim: --restart-every must be more than 0 seconds")
    if not args.downtime >= 0:
        raise SystemExit("aiotws sim: --downtime must be 0 seconds or more")
    accounts = tuple(a for a in args.accounts.split(",") if a)
    cfg = SimConfig(
        host=args.host,
        port=args.port,
        min_version=args.min_version,
        max_version=args.max_version,
        seed=args.seed,
        accounts=accounts,
        master_client_id=args.master_client_id,
        read_only=args.read_only,
    )
    sim = Simulator(cfg)
    await sim.start()
    stop = asyncio.Event()
    hup = asyncio.Event()  # SIGHUP: one restart now
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    sighup = getattr(signal, "SIGHUP", None)  # POSIX only
    if sighup is not None:
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sighup, hup.set)
    # ready: the signals are handled from here on
    print(f"listening on {sim.host}:{sim.port}", flush=True)

    async def restarts() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(args.restart_every):
                    await hup.wait()
            print(f"restarting: down for {args.downtime:g} s", flush=True)
            await sim.restart(args.downtime, mode=args.restart_mode)
            hup.clear()  # a SIGHUP during a restart is folded into it
            print(f"listening on {sim.host}:{sim.port}", flush=True)

    restarting = asyncio.ensure_future(restarts())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((restarting, stopping), return_when=asyncio.FIRST_COMPLETED)
        if restarting.done():
            restarting.result()  # a restart failed (the port taken meanwhile): report it
    finally:
        for task in (restarting, stopping):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await restarting
        if sighup is not None:
            loop.remove_signal_handler(sighup)
        await sim.stop()
    return 0


# -- the everyday commands ---------------------------------------------------------------------


class CLIError(Exception):
    """A failure the command reports in one line (exit status 1)."""


#: currencies a bare six-letter symbol (EURUSD) or EUR.USD / EUR/USD is read as forex with
_CURRENCIES: Final = frozenset(
    (
        "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "SEK", "NOK",
        "DKK", "CNH", "MXN", "ZAR", "KRW", "PLN", "CZK", "HUF", "ILS", "TRY", "INR", "AED",
    )
)  # fmt: skip
_SEC_TYPES: Final = {
    "STK": "STK",
    "CASH": "CASH",
    "FX": "CASH",
    "FUT": "FUT",
    "OPT": "OPT",
    "FOP": "FOP",
    "IND": "IND",
    "CRYPTO": "CRYPTO",
    "CFD": "CFD",
}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A symbol as typed on the command line and the contract it stands for."""

    text: str
    contract: Contract


def parse_symbol(text: str) -> Symbol:
    """Read the CLI's symbol grammar (see docs/cli.md)::

        AAPL                   a stock on SMART in USD
        SAP@IBIS/EUR           a stock on an exchange, in a currency
        EURUSD  EUR.USD  EUR/USD   a forex pair on IDEALPRO
        ES:FUT  ES:FUT:202612  the front future (continuous), or one contract month
        AAPL:OPT:20261218:230:C    an option (FOP for an option on a future)
        SPX:IND  BTC:CRYPTO  IBUS500:CFD   other kinds
        265598                 a contract id

    Raises ``argparse.ArgumentTypeError`` for text that does not fit.
    """
    raw = text.strip()
    if raw.isdigit():
        return Symbol(raw, Contract(con_id=int(raw)))
    body, currency = raw, ""
    head, slash, tail = raw.rpartition("/")
    if slash and len(tail) == 3 and tail.isalpha():
        body, currency = head, tail.upper()
    body, at, exchange = body.partition("@")
    exchange = exchange.upper()
    if at and not exchange:
        raise argparse.ArgumentTypeError(f"{text!r}: an exchange must follow '@'")
    parts = [p.strip() for p in body.split(":")]
    symbol = parts[0].upper()
    if not symbol:
        raise argparse.ArgumentTypeError(f"{text!r}: no symbol")
    kind = parts[1].upper() if len(parts) > 1 else ""
    if kind and kind not in _SEC_TYPES:
        known = ", ".join(sorted(_SEC_TYPES))
        raise argparse.ArgumentTypeError(f"{text!r}: unknown kind {parts[1]!r} (one of {known})")
    sec_type = _SEC_TYPES.get(kind, "")
    rest = parts[2:]
    ccy = {"currency": currency} if currency else {}
    exch = {"exchange": exchange} if exchange else {}

    def need(n: int, form: str) -> None:
        if len(rest) != n:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {form}")

    contract: Contract
    if not sec_type:
        base, quote = _pair(symbol, currency)
        if base:
            contract = Forex(symbol=base, currency=quote, **exch)
        else:
            contract = Stock(symbol, **exch, **ccy)
    elif sec_type == "CASH":
        need(0, "PAIR:CASH")
        base, quote = _pair(symbol, currency)
        if not base:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a pair like EURUSD or EUR.USD")
        contract = Forex(symbol=base, currency=quote, **exch)
    elif sec_type == "STK":
        need(0, "SYMBOL:STK")
        contract = Stock(symbol, **exch, **ccy)
    elif sec_type == "FUT":
        if len(rest) > 1:
            raise argparse.ArgumentTypeError(f"{text!r}: expected SYMBOL:FUT or SYMBOL:FUT:YYYYMM")
        if rest and rest[0]:
            contract = Future(symbol, rest[0], **exch, **ccy)
        else:
            contract = ContFuture(symbol, **exch, **ccy)
    elif sec_type in ("OPT", "FOP"):
        need(3, f"SYMBOL:{sec_type}:YYYYMMDD:STRIKE:C|P")
        expiry, strike_text, right = rest
        try:
            strike = float(strike_text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: strike {strike_text!r} is no number"
            ) from None
        right = right.upper()[:1]
        if right not in ("C", "P"):
            raise argparse.ArgumentTypeError(f"{text!r}: the right must be C or P")
        if sec_type == "OPT":
            contract = Option(symbol, expiry, strike, right, exchange or "SMART", **ccy)
        else:
            contract = FuturesOption(symbol, expiry, strike, right, exchange, **ccy)
    else:
        need(0, f"SYMBOL:{kind}")
        default_exchange = {"CRYPTO": "PAXOS", "CFD": "SMART"}.get(sec_type, "")
        default_currency = "USD" if sec_type in ("CRYPTO", "CFD") else ""
        contract = Contract(
            sec_type=sec_type,
            symbol=symbol,
            exchange=exchange or default_exchange,
            currency=currency or default_currency,
        )
    return Symbol(raw, contract)


def _pair(symbol: str, currency: str) -> tuple[str, str]:
    """``(base, quote)`` when ``symbol`` (with ``/currency``) reads as a currency pair."""
    if currency and symbol in _CURRENCIES and currency in _CURRENCIES:
        return symbol, currency
    if currency:
        return "", ""
    if "." in symbol:
        base, _, quote = symbol.partition(".")
        if base in _CURRENCIES and quote in _CURRENCIES:
            return base, quote
        return "", ""
    if len(symbol) == 6 and symbol[:3] in _CURRENCIES and symbol[3:] in _CURRENCIES:
        return symbol[:3], symbol[3:]
    return "", ""


def _describe(c: Contract) -> str:
    return c.local_symbol or c.symbol or str(c.con_id)


async def _qualify(ib: IB, symbols: Sequence[Symbol], timeout: float) -> list[Contract]:
    """Qualify every symbol; an unknown or ambiguous one is a one-line :class:`CLIError`."""

    async def one(s: Symbol) -> Contract:
        try:
            [c] = await ib.qualify(s.contract, timeout=timeout)
        except AmbiguousContract as e:
            names = ", ".join(
                f"{_describe(c)}@{c.exchange}" if c.exchange else _describe(c)
                for c in e.candidates[:6]
            )
            more = " …" if len(e.candidates) > 6 else ""
            raise CLIError(
                f"{s.text} is ambiguous: {len(e.candidates)} contracts match ({names}{more}); "
                "add an exchange (@EXCH), a currency (/CCY) or an expiry"
            ) from None
        except RequestError as e:
            raise CLIError(f"unknown contract {s.text} (TWS error {e.code}: {e.message})") from None
        return c

    return list(await asyncio.gather(*(one(s) for s in symbols)))


def _kind(accounts: Sequence[str]) -> str:
    kind = account_kind(accounts)
    return {"paper": "paper", "live": "LIVE", "mixed": "paper and LIVE"}.get(kind, "no account")


def _header(ib: IB, where: str) -> str:
    accounts = ib.managed_accounts
    return (
        f"{where} · server {ib.server_version} · "
        f"{', '.join(accounts) or 'no accounts'} ({_kind(accounts)})"
    )


@contextlib.asynccontextmanager
async def _connect(args: argparse.Namespace) -> AsyncIterator[IB]:
    """Connect for one command (no reconnects, no startup sync) and print the header line;
    ``--sim``: to an embedded simulator with a small demo book."""
    sim: Simulator | None = None
    host, port = args.host, args.port
    if args.sim:
        sim = Simulator(port=0, seed=1)
        await sim.start()
        seed_demo_book(sim)
        host, port = sim.host, sim.port
    ib = IB(reconnect=False, sync=StartupSync.none(), request_timeout=max(30.0, args.timeout))
    try:
        async with _session(args, host, port, ib):
            where = "simulator" if sim is not None else f"{host}:{port}"
            print(_header(ib, where), flush=True)
            yield ib
    finally:
        if sim is not None:
            await sim.stop()


@contextlib.asynccontextmanager
async def _session(args: argparse.Namespace, host: str, port: int, ib: IB) -> AsyncIterator[IB]:
    """Connect ``ib`` with the connection flags (``--expect``, ``--record``), disconnect at
    the end; a recording is complete on disk when this returns."""
    recorder: Recorder | None = None
    if getattr(args, "record", None):
        try:
            recorder = ib.client.start_recording(args.record, redact=args.redact)
        except OSError as e:
            raise CLIError(f"cannot record to {args.record}: {e.strerror or e}") from None
    try:
        await ib.connect(
            host, port, args.client_id, timeout=args.timeout, expect=getattr(args, "expect", None)
        )
        try:
            yield ib
        finally:
            ib.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await ib.wait_closed()
    finally:
        if recorder is not None:
            await recorder.aclose()
            if recorder.error is None:
                print(
                    f"recorded {recorder.frames_written} frames to {recorder.path}", file=sys.stderr
                )


def seed_demo_book(sim: Simulator) -> None:
    """What ``--sim`` starts with: 100 AAPL and 2 ES futures held, a working limit order to
    buy 10 AAPL far below the market, and a filled market order for 5 MSFT (all entered "in
    TWS": client 0's manual orders)."""
    account = sim.config.accounts[0]
    [aapl] = sim.universe.match(Stock("AAPL"))
    [msft] = sim.universe.match(Stock("MSFT"))
    es = sim.universe.match(ContFuture("ES"))
    seed_position(sim, account, aapl.contract, Decimal(100), 190.0)
    if es:
        [fut] = sim.universe.match(Contract(con_id=es[0].contract.con_id))
        mark = sim.market.quote(fut.contract.con_id).mark
        seed_position(sim, account, fut.contract, Decimal(2), round(mark * 50 * 0.99, 2))
    place_manual_order(sim, aapl.contract, LimitOrder("BUY", Decimal(10), 100.0))
    place_manual_order(sim, msft.contract, MarketOrder("BUY", Decimal(5)))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: str = "") -> list[str]:
    """Rows as aligned text columns; the columns whose index is in ``right`` (a string of
    digits) align right."""
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(widths[i]) if str(i) in right else c.ljust(widths[i])
            for i, c in enumerate(cells)
        ]
        return "  ".join(out).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _num(x: float | Decimal | None, fmt: str = "g") -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return "-"
    return format(x, fmt)


def _price(x: float | None) -> str:
    if x is None or math.isnan(x) or x <= 0:
        return "-"
    return f"{x:.6g}" if abs(x) < 10 else f"{x:,.2f}"


# -- quote -------------------------------------------------------------------------------------


_DATA_TYPES: Final = {1: "", 2: "frozen", 3: "delayed", 4: "delayed frozen"}


def _quote_rows(symbols: Sequence[Symbol], tickers: Sequence[Ticker]) -> list[str]:
    rows = []
    for s, t in zip(symbols, tickers, strict=True):
        change = "-"
        ref = t.last if not math.isnan(t.last) else t.mid()
        if not math.isnan(ref) and not math.isnan(t.close) and t.close > 0:
            change = f"{(ref / t.close - 1) * 100:+.2f}%"
        note = _DATA_TYPES.get(t.market_data_type, "")
        if t.errors:
            e = t.errors[-1]
            note = f"{note + '; ' if note else ''}{e.code}: {e.message}"
        rows.append(
            [
                s.text,
                _num(t.bid_size),
                _price(t.bid),
                _price(t.ask),
                _num(t.ask_size),
                _price(t.last),
                change,
                _num(t.volume),
                note,
            ]
        )
    headers = ["symbol", "bid size", "bid", "ask", "ask size", "last", "change", "volume", ""]
    return _table(headers, rows, right="1234567")


async def _quote(args: argparse.Namespace) -> int:
    async with _connect(args) as ib:
        contracts = await _qualify(ib, args.symbols, args.timeout)
        tickers = [ib.market_data(c) for c in contracts]
        if args.once:
            await asyncio.gather(
                *(t.ready(timeout=args.timeout) for t in tickers), return_exceptions=True
            )
            for line in _quote_rows(args.symbols, tickers):
                print(line)
            return 1 if any(t.done and t.errors for t in tickers) else 0
        # the first table with quotes in it, where they come soon
        await asyncio.gather(
            *(t.ready(timeout=min(args.timeout, 2.0)) for t in tickers), return_exceptions=True
        )
        tty = sys.stdout.isatty()
        drawn = 0
        while True:
            lines = _quote_rows(args.symbols, tickers)
            stamp = datetime.now().strftime("%H:%M:%S")
            if tty:
                if drawn:
                    sys.stdout.write(f"\x1b[{drawn}F\x1b[J")
                lines = [f"{stamp}  (Ctrl-C to stop)", *lines]
            else:
                lines = [stamp, *lines, ""]
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
            drawn = len(lines)
            if all(t.done for t in tickers):
                return 1
            await asyncio.sleep(args.interval)


# -- history -----------------------------------------------------------------------------------


_BAR_COLUMNS: Final = ("date", "open", "high", "low", "close", "volume", "wap", "bar_count")


def _bar_time(d: object) -> str:
    return d.isoformat() if isinstance(d, (datetime, date)) else str(d)


async def _history(args: argparse.Namespace) -> int:
    if args.parquet:
        _need_parquet()
    what = args.what or ("MIDPOINT" if args.symbol.contract.sec_type == "CASH" else "TRADES")
    async with _connect(args) as ib:
        [contract] = await _qualify(ib, [args.symbol], args.timeout)
        try:
            bars = await ib.historical_bars(
                contract,
                duration=args.duration,
                bar_size=args.bar_size,
                what_to_show=what,
                use_rth=args.rth,
            )
        except RequestError as e:
            raise CLIError(
                f"no history for {args.symbol.text}: TWS error {e.code}: {e.message}"
            ) from None
        except ValueError as e:  # an illegal duration / bar size / what-to-show
            raise CLIError(str(e)) from None
        rows = [
            [
                _bar_time(b.date),
                f"{b.open:g}",
                f"{b.high:g}",
                f"{b.low:g}",
                f"{b.close:g}",
                _num(b.volume),
                _num(b.wap),
                _num(b.bar_count),
            ]
            for b in bars
        ]
        what_line = f"{args.symbol.text} {what} {args.bar_size} bars over {args.duration}"
        if args.csv:
            await asyncio.to_thread(_write_csv, args.csv, rows)
            print(f"{what_line}: wrote {len(rows)} bars to {args.csv}")
        elif args.parquet:
            bars.df().to_parquet(args.parquet)
            print(f"{what_line}: wrote {len(rows)} bars to {args.parquet}")
        else:
            print(f"{what_line}: {len(rows)} bars")
            for line in _table(_BAR_COLUMNS, rows, right="1234567"):
                print(line)
    return 0


def _write_csv(path: str, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(_BAR_COLUMNS)
        w.writerows([[c if c != "-" else "" for c in r] for r in rows])


def _need_parquet() -> None:
    missing = [m for m in ("pandas", "pyarrow") if importlib.util.find_spec(m) is None]
    if missing:
        raise CLIError(
            f"--parquet needs {' and '.join(missing)}: pip install pandas pyarrow "
            "(or write --csv FILE)"
        )


# -- chain -------------------------------------------------------------------------------------


def _wrap(prefix: str, items: Sequence[str], width: int = 96) -> list[str]:
    lines, cur = [], prefix
    pad = " " * len(prefix)
    for it in items:
        if len(cur) + len(it) + 1 > width and cur.strip():
            lines.append(cur.rstrip())
            cur = pad
        cur += it + " "
    lines.append(cur.rstrip())
    return lines


async def _chain(args: argparse.Namespace) -> int:
    async with _connect(args) as ib:
        [und] = await _qualify(ib, [args.symbol], args.timeout)
        fut_exchange = und.exchange if und.sec_type in ("FUT", "CONTFUT") else ""
        try:
            chains = await ib.option_chain(und, fut_exchange, timeout=args.timeout)
        except RequestError as e:
            raise CLIError(
                f"no option chain for {args.symbol.text}: TWS error {e.code}: {e.message}"
            ) from None
        wanted = (args.exchange or "SMART").upper()
        shown = [c for c in chains if wanted in ("ALL", "*") or c.exchange == wanted]
        if not shown and args.exchange is None:  # options on futures: their exchange
            shown = chains
        if not shown:
            have = ", ".join(sorted({c.exchange for c in chains})) or "none"
            raise CLIError(
                f"no {args.symbol.text} options on {wanted} (exchanges: {have}; --exchange ALL)"
            )
        for c in shown:
            print(
                f"{args.symbol.text} options on {c.exchange}: class {c.trading_class}, "
                f"multiplier {c.multiplier}, {len(c.expirations)} expirations, "
                f"{len(c.strikes)} strikes"
            )
            for line in _wrap("  expirations ", sorted(c.expirations)):
                print(line)
            for line in _wrap("  strikes     ", [f"{k:g}" for k in sorted(c.strikes)]):
                print(line)
    return 0


# -- positions, orders, account ----------------------------------------------------------------


async def _positions(args: argparse.Namespace) -> int:
    async with _connect(args) as ib:
        positions = [p for p in await ib.positions(args.account) if p.position != 0]
        values: dict[tuple[str, int], PortfolioItem] = {}
        for account in sorted({p.account for p in positions}):
            with contextlib.suppress(TWSError, TimeoutError):
                await ib.account_updates(account, timeout=args.timeout)
                values.update({(account, i.contract.con_id): i for i in ib.portfolio(account)})
        if not positions:
            print("no positions")
            return 0
        rows = []
        for p in sorted(positions, key=lambda p: (p.account, _describe(p.contract))):
            item = values.get((p.account, p.contract.con_id))
            rows.append(
                [
                    p.account,
                    _describe(p.contract),
                    p.contract.sec_type,
                    _num(p.position),
                    f"{p.avg_cost:,.2f}",
                    _price(item.market_price) if item else "-",
                    f"{item.market_value:,.2f}" if item else "-",
                    _money(item.unrealized_pnl) if item else "-",
                ]
            )
        headers = [
            "account",
            "symbol",
            "type",
            "position",
            "avg cost",
            "price",
            "value",
            "unrealized",
        ]
        for line in _table(headers, rows, right="34567"):
            print(line)
    return 0


def _order_rows(trades: Sequence[Trade], completed: bool) -> list[str]:
    rows = []
    for t in trades:
        o = t.order
        price = " ".join(
            x
            for x in (
                _price(o.lmt_price) if o.lmt_price else "",
                _price(o.aux_price) if o.aux_price else "",
            )
            if x
        )
        st = t.order_state
        done_status = st.completed_status if completed and st is not None else ""
        status = done_status or t.status
        rows.append(
            [
                str(o.order_id),
                str(o.perm_id),
                str(o.client_id),
                o.account,
                o.action,
                _num(o.total_quantity),
                _describe(t.contract),
                o.order_type,
                price or "-",
                o.tif,
                _num(o.filled_quantity if completed and o.filled_quantity else t.filled_quantity()),
                status,
            ]
        )
    headers = [
        "id",
        "perm id",
        "client",
        "account",
        "action",
        "qty",
        "symbol",
        "type",
        "price",
        "tif",
        "filled",
        "status",
    ]
    return _table(headers, rows, right="0125810")


async def _orders(args: argparse.Namespace) -> int:
    async with _connect(args) as ib:
        if args.completed:
            trades = await ib.completed_orders(timeout=args.timeout)
            empty = "no completed orders today"
        else:
            trades = [
                t for t in await ib.req_open_orders(True, timeout=args.timeout) if not t.is_done()
            ]
            empty = "no open orders"
        if not trades:
            print(empty)
            return 0
        for line in _order_rows(trades, args.completed):
            print(line)
    return 0


#: the tags ``aiotws account`` shows without --all
KEY_TAGS: Final = (
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "BuyingPower",
    "AvailableFunds",
    "ExcessLiquidity",
    "GrossPositionValue",
    "InitMarginReq",
    "MaintMarginReq",
    "Cushion",
    "UnrealizedPnL",
    "RealizedPnL",
)


async def _account(args: argparse.Namespace) -> int:
    async with _connect(args) as ib:
        accounts = [args.account] if args.account else ib.managed_accounts
        for account in accounts:
            try:
                await ib.account_updates(account, timeout=args.timeout)
            except RequestError as e:
                raise CLIError(f"account {account}: TWS error {e.code}: {e.message}") from None
            values = ib.account_values(account)
            if args.all:
                shown = sorted(values, key=lambda v: (v.tag, v.currency))
            else:
                by_tag = {
                    v.tag: v for v in values if v.currency in ("BASE", "") or v.tag not in KEY_TAGS
                }
                for v in values:  # single-currency accounts report the base currency by name
                    by_tag.setdefault(v.tag, v)
                shown = [by_tag[t] for t in KEY_TAGS if t in by_tag]
            base = next(
                (v.value for v in values if v.tag == "Currency" and v.currency == "BASE"), "BASE"
            )
            print(f"account {account} ({_kind([account])})")
            rows = [
                [v.tag, _value(v.value), base if v.currency == "BASE" else v.currency]
                for v in shown
            ]
            for line in _table(["tag", "value", "currency"], rows, right="1"):
                print("  " + line)
    return 0


def _value(text: str) -> str:
    try:
        x = float(text)
    except ValueError:
        return text
    return f"{x:,.2f}" if abs(x) >= 1 or x == 0 else text


# -- doctor ------------------------------------------------------------------------------------


_MARKS: Final = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}


def render_diagnosis(diag: Diagnosis) -> list[str]:
    """The doctor's findings as the lines ``aiotws doctor`` prints."""
    lines = []
    if diag.port is None:
        lines.append(f"probing {diag.host}: TWS and IB Gateway's default API ports")
        for p in diag.probes:
            state = "open" if p.tcp_open else p.outcome
            lines.append(f"  {p.port:<5} {port_label(p.port):<17} {state}")
        if not diag.reports:
            lines.append(
                "✗ nothing listens on any default port: start TWS / IB Gateway and tick "
                "'Enable ActiveX and Socket Clients' (Global Configuration > API > Settings); "
                "a custom port: --port"
            )
    for r in diag.reports:
        label = f" ({r.label})" if r.label else ""
        lines.append(f"{r.host}:{r.port}{label}")
        for c in r.checks:
            lines.append(f"  {_MARKS[c.status]} {c.name:<12} {c.summary}")
            if c.advice:
                lines.append(f"    {'':<12} → {c.advice}")
    verdict = "healthy" if diag.healthy else "problems found"
    lines.append(f"{verdict}")
    return lines


async def _doctor(args: argparse.Namespace) -> int:
    logger = logging.getLogger("aiotws")
    level = logger.level
    if not getattr(args, "verbose", 0):  # the checks provoke TWS errors on purpose
        logger.setLevel(logging.CRITICAL)
    try:
        return await _run_doctor(args)
    finally:
        logger.setLevel(level)


async def _run_doctor(args: argparse.Namespace) -> int:
    sim: Simulator | None = None
    host, port = args.host, args.port
    if args.sim:
        sim = Simulator(port=0, seed=1)
        await sim.start()
        host, port = sim.host, sim.port
    try:
        diag = await diagnose(host, port, args.client_id, timeout=args.timeout)
    finally:
        if sim is not None:
            await sim.stop()
    mismatch = _expect_checks(diag, args.expect)
    for line in render_diagnosis(diag):
        print(line)
    if mismatch:
        return EXIT_EXPECT
    return 0 if diag.healthy else 1


def _expect_checks(diag: Diagnosis, expect: str | None) -> bool:
    """Add an ``expect`` check to each connected report; True when one met the other kind."""
    if expect is None:
        return False
    mismatch = False
    for r in diag.reports:
        if r.kind == "none":
            continue
        if r.kind == expect:
            r.checks.append(Check("expect", Status.OK, f"a {expect} login, as expected"))
            continue
        mismatch = True
        r.checks.append(
            Check(
                "expect",
                Status.FAIL,
                f"expected a {expect} login, but {r.host}:{r.port} is {r.kind} "
                f"({', '.join(r.accounts)})",
                "this is the other TWS / IB Gateway (paper and live often run side by side: "
                "7497/7496, 4002/4001): use the other port, or drop --expect",
            )
        )
    return mismatch


# -- replay ------------------------------------------------------------------------------------


def _list_recording(rec: Recording) -> list[str]:
    lines = []
    n = 0
    for c in rec.connections:
        mid = " (recorded mid-session)" if c.mid_session else ""
        closed = f", closed by the {c.closed_by}" if c.closed_by else ""
        lines.append(
            f"connection {c.number}: {c.host}:{c.port}, {c.hello}, server version "
            f"{c.server_version}, {c.connection_time}{mid}{closed}"
        )
        for f in c.frames:
            n += 1
            arrow = "->" if f.direction == "out" else "<-"
            body = "|".join(f.fields[1:])
            if len(body) > 110:
                body = body[:109] + "…"
            lines.append(f"  {n:>5} {f.t:10.3f} {arrow} {f.name:<26} {body}")
    if rec.redacted:
        lines.append("(account ids redacted)")
    return lines


async def _replay(args: argparse.Namespace) -> int:
    rec = await asyncio.to_thread(Recording.load, args.file)
    if args.list:
        for line in _list_recording(rec):
            print(line)
        return 0
    if args.speed is not None and not args.speed > 0:
        raise SystemExit("aiotws replay: --speed must be more than 0")
    server = ReplayServer(
        rec, host=args.host, port=args.port, speed=args.speed, strict=not args.lenient
    )
    logger = logging.getLogger("aiotws.replay")
    level = logger.level
    if not getattr(args, "verbose", 0):  # each mismatch is in the report at the end (-v: live)
        logger.setLevel(logging.ERROR)
    try:
        return await _serve_replay(args, rec, server)
    finally:
        logger.setLevel(level)


async def _serve_replay(args: argparse.Namespace, rec: Recording, server: ReplayServer) -> int:
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not on Windows, nor in a thread other than the main one
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    n = len(rec.connections)
    print(f"listening on {server.host}:{server.port}", flush=True)
    print(f"replaying {args.file}: {n} connection(s), {len(rec.frames)} frames", flush=True)
    done = asyncio.ensure_future(server.wait_done())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((done, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (done, stopping):
            task.cancel()
        await server.stop()
    if server.mismatches:
        print(ReplayMismatch(server.mismatches), file=sys.stderr)
        return 1
    print(f"played {server.served} connection(s) as recorded")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(getattr(args, "verbose", 0), 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run = {
        "demo": _demo,
        "sim": _sim,
        "quote": _quote,
        "history": _history,
        "chain": _chain,
        "positions": _positions,
        "orders": _orders,
        "account": _account,
        "doctor": _doctor,
        "replay": _replay,
    }[args.command]
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except AccountKindMismatch as e:
        print(f"aiotws {args.command}: {e} (--expect / AIOTWS_EXPECT)", file=sys.stderr)
        return EXIT_EXPECT
    except ClientIdInUse as e:
        hint = "; pick another with --client-id (or AIOTWS_CLIENT_ID)"
        print(f"aiotws {args.command}: {e}{hint}", file=sys.stderr)
        return 1
    except (CLIError, TWSError, OSError) as e:
        text = " ".join(str(e).split()) or type(e).__name__  # one line, always
        print(f"aiotws {args.command}: {text}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
