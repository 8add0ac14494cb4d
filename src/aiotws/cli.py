"""The ``aiotws`` command line: ``aiotws demo``, ``aiotws sim``.

Connection flags fall back to the environment: ``AIOTWS_HOST``, ``AIOTWS_PORT``,
``AIOTWS_CLIENT_ID``. Failures print one line and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from aiotws import __version__
from aiotws.errors import RequestError, TWSError
from aiotws.ib import IB
from aiotws.model import ContFuture, Forex, LimitOrder, MarketOrder, Stock
from aiotws.sim import SimConfig, Simulator

__all__ = ["main"]


def _env_int(name: str, default: int | None) -> int | None:
    v = os.environ.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise SystemExit(f"aiotws: {name}={v!r} is not an integer") from None


def _connection_flags(p: argparse.ArgumentParser, default_port: int | None) -> None:
    p.add_argument("--host", default=os.environ.get("AIOTWS_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=_env_int("AIOTWS_PORT", default_port))
    p.add_argument("--client-id", type=int, default=_env_int("AIOTWS_CLIENT_ID", 1))
    p.add_argument("--timeout", type=float, default=10.0, help="connect timeout, seconds")


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
    return p


async def _demo(args: argparse.Namespace) -> int:
    sim: Simulator | None = None
    host, port = args.host, args.port
    if port is None:
        sim = Simulator(port=0, seed=1)
        await sim.start()
        host, port = sim.host, sim.port
        print(f"started the aiotws TWS simulator on {host}:{port}")
    try:
        async with IB.connect_to(host, port, args.client_id, timeout=args.timeout) as ib:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(getattr(args, "verbose", 0), 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run = {"demo": _demo, "sim": _sim}[args.command]
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130
    except (TWSError, OSError) as e:
        print(f"aiotws {args.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
