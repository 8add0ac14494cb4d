"""Historical bars: one year of 1-minute bars (~98,000) decoded into a bar list, side by side.

A minimal raw TWS (``rawtws.py``, server version 176) runs in a child process. On
REQ_HISTORICAL_DATA it builds one HISTORICAL_DATA frame holding a year of regular-hours
1-minute bars of a stock (252 days x 390 bars = 98,280), dated the way TWS writes them
with ``formatDate=1`` (``20251201 09:30:00 US/Eastern``), *before* starting the clock, and
writes it in one go. Timed: from the server's first write to the client's awaited call
returning the bars. Each client proves it decoded them by its bar count and the last bar's
close and time.

Clients: aiotws (``IB.historical_bars`` → ``BarList`` of ``BarData`` with tz-aware dates
and ``Decimal`` volumes) and ib_async 2.1 (``IB.reqHistoricalDataAsync`` → ``BarDataList``;
skipped when not installed). No assertion on speed: numbers are printed.

    python benchmarks/bench_bars.py [--days 252] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import sys
import time
from datetime import date, timedelta
from typing import Any

from rawtws import accept, answer_startup, frame, listen, recv_frame

FIRST_DAY = date(2024, 12, 2)


def _days(n: int) -> list[date]:
    out: list[date] = []
    d = FIRST_DAY
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def _bars(req_id: bytes, days: int) -> tuple[bytes, int, float]:
    """The HISTORICAL_DATA frame, its bar count and its last close."""
    rows: list[bytes] = []
    price = 200.0
    close = price
    for d in _days(days):
        day = d.strftime("%Y%m%d").encode()
        for minute in range(390):
            h, m = divmod(570 + minute, 60)  # 09:30 + minute
            step = ((minute * 7919 + d.toordinal()) % 21 - 10) * 0.01
            o = round(price, 2)
            close = round(price + step, 2)
            hi, lo = max(o, close) + 0.03, min(o, close) - 0.02
            rows.append(
                b"%s %02d:%02d:00 US/Eastern\x00%.2f\x00%.2f\x00%.2f\x00%.2f\x00%d\x00%.4f\x00%d"
                % (day, h, m, o, hi, lo, close, 1000 + minute * 13, (o + close) / 2, 10 + minute)
            )
            price = close
    start = _days(1)[0].strftime("%Y%m%d").encode() + b" 09:30:00 US/Eastern"
    end = _days(days)[-1].strftime("%Y%m%d").encode() + b" 16:00:00 US/Eastern"
    head = b"17\x00%s\x00%s\x00%s\x00%d\x00" % (req_id, start, end, len(rows))
    return frame(head + b"\x00".join(rows) + b"\x00"), len(rows), close


def _serve(sock: socket.socket, days: int, start: Any) -> None:
    while True:
        conn, buf = accept(sock)
        while True:
            payload = recv_frame(conn, buf)
            if payload is None:
                break
            fields = payload.split(b"\x00")
            msg_id = int(fields[0])
            if answer_startup(conn, msg_id):
                continue
            if msg_id == 20:  # REQ_HISTORICAL_DATA (no version field from 124): reqId
                data, _, _ = _bars(fields[1], days)
                start.value = time.perf_counter()
                conn.sendall(data)
        conn.close()


async def run_aiotws(port: int) -> tuple[float, int, float]:
    from aiotws import IB, StartupSync, Stock

    # the raw TWS answers no startup sync (open orders, positions …): load nothing, as
    # ib_async's StartupFetchNONE below
    ib = IB(rate=0, sync=StartupSync.none())
    await ib.connect("127.0.0.1", port, client_id=1)
    bars = await ib.historical_bars(
        Stock("AAPL", con_id=265598),
        duration="1 Y",
        bar_size="1 min",
        what_to_show="TRADES",
        use_rth=True,
        timeout=120,
    )
    end = time.perf_counter()
    assert bars[-1].date.tzinfo is not None  # type: ignore[union-attr]
    ib.disconnect()
    await ib.wait_closed()
    return end, len(bars), bars[-1].close


async def run_ib_async(port: int) -> tuple[float, int, float]:
    from ib_async import IB, Stock  # type: ignore[import-not-found]
    from ib_async.ib import StartupFetchNONE  # type: ignore[import-not-found]

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, fetchFields=StartupFetchNONE)
    bars = await ib.reqHistoricalDataAsync(
        Stock("AAPL", "SMART", "USD", conId=265598),
        endDateTime="",
        durationStr="1 Y",
        barSizeSetting="1 min",
        whatToShow="TRADES",
        useRTH=True,
        timeout=120,
    )
    end = time.perf_counter()
    ib.disconnect()
    return end, len(bars), bars[-1].close


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=252)
    p.add_argument("--repeat", type=int, default=3)
    args, _ = p.parse_known_args(argv)
    _, n, last_close = _bars(b"1", args.days)
    sock = listen()
    ctx = mp.get_context("fork")
    start = ctx.Value("d", 0.0)
    proc = ctx.Process(target=_serve, args=(sock, args.days, start), daemon=True)
    proc.start()
    port = sock.getsockname()[1]
    clients: list[tuple[str, Any]] = [("aiotws", run_aiotws)]
    try:
        import ib_async  # type: ignore[import-not-found]  # noqa: F401

        clients.append(("ib_async 2.1", run_ib_async))
    except ImportError:
        print("ib_async not installed: skipped (nox -s bench installs it)")
    best = dict.fromkeys((name for name, _ in clients), float("inf"))
    try:
        for _ in range(args.repeat):  # rounds interleave the clients (see bench_ticks.py)
            for name, run in clients:
                start.value = 0.0
                end, count, close = asyncio.run(run(port))
                if count != n or abs(close - last_close) > 1e-9:
                    raise SystemExit(f"{name} decoded {count} bars ending {close}, not {n}")
                best[name] = min(best[name], end - start.value)
    finally:
        proc.kill()
        proc.join()
        sock.close()
    print(f"{n:,} 1-minute bars in one HISTORICAL_DATA over loopback, best of {args.repeat}")
    ref = best.get("ib_async 2.1")
    print(f"{'client':<16} {'seconds':>9} {'bars/s':>12} {'vs ib_async':>12}")
    for name, elapsed in best.items():
        rel = f"{ref / elapsed:.2f}x" if ref else "-"
        print(f"{name:<16} {elapsed:>9.3f} {n / elapsed:>12,.0f} {rel:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
