"""A bracket order played out: the entry fills, then the take-profit and the stop-loss
wait on either side of the market until one of them fills and TWS cancels the other.

By default this runs against an embedded TWS simulator, whose matching engine fills
orders on its simulated market (stepped every 10 ms here, so it is over in a second or
two). ``--port`` points it at a real TWS or IB Gateway: it then places real orders, so it
refuses to unless every managed account is a paper account (DU…), and the exits are
placed only a few cents from the market.

    python examples/bracket_order.py
    python examples/bracket_order.py --port 7497 --client-id 7     # a paper TWS
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiotws import IB, Stock, Trade, TWSConnectionError, bracket
from aiotws.sim import Simulator

OFFSET = 0.04  # the exits' distance from the entry, in dollars
TIMEOUT = 30.0


def status(t: Trade) -> str:
    o = t.order
    price = o.lmt_price if o.order_type == "LMT" else o.aux_price
    return f"{o.action} {o.order_type} @ {price:.2f}: {t.status}"


async def show(ib: IB) -> None:
    (aapl,) = await ib.qualify(Stock("AAPL"))
    ticker = ib.market_data(aapl)
    await ticker.ready(10)
    entry = ticker.ask  # marketable: the entry fills at once
    parent, take_profit, stop_loss = bracket(
        "BUY", 100, entry, round(entry + OFFSET, 2), round(entry - OFFSET, 2)
    )
    trades = ib.place_bracket(aapl, parent, take_profit, stop_loss)
    entry_trade, tp_trade, sl_trade = trades
    await entry_trade.filled(timeout=TIMEOUT)
    fill = entry_trade.fills[-1].execution
    print(f"entry filled: {fill.shares} @ {fill.price} (market {ticker.bid} / {ticker.ask})")
    for t in (tp_trade, sl_trade):
        print(f"  exit waiting: {status(t)}")

    # whichever exit fills first, TWS cancels the other (they share an OCA group)
    await asyncio.gather(*(t.done(timeout=TIMEOUT) for t in (tp_trade, sl_trade)))
    winner = tp_trade if tp_trade.status == "Filled" else sl_trade
    exit_fill = winner.fills[-1].execution
    name = "take-profit" if winner is tp_trade else "stop-loss"
    market = f"market {ticker.bid} / {ticker.ask}"
    print(f"{name} filled: {exit_fill.shares} @ {exit_fill.price} ({market})")
    for t in trades:
        print(f"  {status(t)}")
    pnl = (exit_fill.price - fill.price) * float(fill.shares)
    fees = sum(
        f.commission_report.commission for t in trades for f in t.fills if f.commission_report
    )
    print(f"round trip: {pnl:+.2f} USD before {fees:.2f} USD commissions")
    ib.cancel_market_data(ticker)
    positions = [p for p in await ib.positions() if p.contract.con_id == aapl.con_id]
    print(f"AAPL position after: {positions[0].position if positions else 0}")


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real (paper) TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1, tick_interval=0.01))
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port}; pass --port for a paper TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        if port != args.port or all(a.startswith("D") for a in ib.managed_accounts):
            await show(ib)
        else:
            print("refusing to place orders: not every account is a paper account", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
