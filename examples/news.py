"""News: providers, recent headlines and one article, live headlines, IB bulletins.

By default this runs against an embedded TWS simulator (seeded; its news desk makes up
headlines for every instrument); ``--port`` points it at a real TWS or IB Gateway, where
you see the providers your account is entitled to.

    python examples/news.py
    python examples/news.py --port 7497 --client-id 7
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from datetime import UTC, datetime, timedelta

from aiotws import IB, Contract, RequestError, Stock, TWSConnectionError
from aiotws.model.news import BulletinType, NewsTick, split_headline
from aiotws.sim import Simulator

SECONDS = 3.0  # how long to listen to live headlines
LIVE = 3  # stop earlier after this many


async def show(ib: IB) -> None:
    providers = await ib.news_providers()
    print("providers:", ", ".join(f"{p.code} ({p.name})" for p in providers))
    codes = [p.code for p in providers]
    [aapl] = await ib.qualify(Stock("AAPL", "SMART", "USD"))

    # the last week's headlines, five at a time
    end = datetime.now(UTC)
    news = await ib.historical_news(aapl.con_id, codes, end - timedelta(days=7), end, 5)
    print(f"latest headlines about AAPL (more: {news.has_more}):")
    for h in news:
        _, text = split_headline(h.headline)
        print(f"  {h.time:%Y-%m-%d %H:%M} {h.provider_code:<8} {text}")
    if news:
        article = await ib.news_article(news[0].provider_code, news[0].article_id)
        kind = "binary" if article.is_binary else "text"
        print(f"article {news[0].article_id}: {kind}, {len(article.data)} bytes")

    # live headlines: generic tick 292 on a stock; "mdoff" drops the quotes
    seen: list[NewsTick] = []
    enough = asyncio.Event()

    def on_news(tick: NewsTick) -> None:
        seen.append(tick)
        if len(seen) >= LIVE:
            enough.set()

    ib.news_tick_event += on_news
    ticker = ib.market_data(aapl, "mdoff,292")
    broadtape = ib.market_data(
        Contract(sec_type="NEWS", exchange="BRFG", symbol="BRFG:BRFG_ALL"), "mdoff,292"
    )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(enough.wait(), SECONDS)
    ib.news_tick_event -= on_news
    print(f"{len(seen)} live headlines ({len(ticker.news)} about AAPL):")
    for tick in seen:
        print(f"  {tick.time:%H:%M:%S} {tick.provider_code:<8} {split_headline(tick.headline)[1]}")
    for t in (ticker, broadtape):
        if t.errors:
            print(f"  {t.contract.symbol}: {t.errors[-1]}")
        ib.cancel_market_data(t)

    # IB's bulletins: today's so far, then new ones as they come
    bulletins = ib.subscribe_news_bulletins(all_messages=True)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):
            async for b in bulletins:
                kind = b.msg_type.name if isinstance(b.msg_type, BulletinType) else b.msg_type
                print(f"bulletin {b.msg_id} ({kind}): {b.message}")
                break
    ib.cancel_news_bulletins()


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="a real TWS/IB Gateway port")
    p.add_argument("--client-id", type=int, default=1)
    args = p.parse_args(argv)
    async with contextlib.AsyncExitStack() as stack:
        host, port = args.host, args.port
        if port is None:
            sim = await stack.enter_async_context(Simulator(port=0, seed=1, tick_interval=0.05))
            host, port = sim.host, sim.port
            print(f"(embedded simulator on {host}:{port}; pass --port for a real TWS)")
        try:
            ib = await stack.enter_async_context(
                IB.connect_to(host, port, client_id=args.client_id)
            )
        except TWSConnectionError as e:
            print(f"could not connect: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        try:
            await show(ib)
        except RequestError as e:  # e.g. no news subscription on a real account
            print(f"TWS refused: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
