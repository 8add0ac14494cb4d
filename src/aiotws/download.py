"""The chunked downloader: a long range of bars in legal requests, stitched into one list.

:class:`HistoricalDownload` splits ``[start, end)`` into requests TWS accepts for the bar
size (:func:`~aiotws.model.barsizes.chunk_plan`, newest first), runs up to
``concurrency`` of them at once through the client's historical pacer (which waits, never
fails, to stay inside IB's rules), and stitches the answers: sorted by time, one bar per
time (where two chunks meet, the newer chunk's bar wins), clipped to the range.

It is resumable: a chunk that failed (a lost connection, a timeout) leaves the ones that
arrived in place, :meth:`HistoricalDownload.run` raises :class:`DownloadIncomplete`, and
calling ``run()`` again fetches only what is missing. Progress is reported through the
``progress(done, total)`` event, a ``progress=`` callback, and a tqdm bar when tqdm is
installed and ``progress=True``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from eventkit import Event

from aiotws.bars import BarList
from aiotws.errors import RequestError, TWSError
from aiotws.model.barsizes import Chunk, chunk_plan, parse_bar_size
from aiotws.model.contract import Contract
from aiotws.model.history import BarData

if TYPE_CHECKING:
    from aiotws.client import Client

__all__ = ["DownloadIncomplete", "HistoricalDownload"]

log = logging.getLogger("aiotws.download")

Progress = Callable[[int, int], object]


class DownloadIncomplete(TWSError):
    """Some chunks of a download failed; the others are kept. ``await download.run()``
    again fetches only the missing ones.

    Attributes:
        download: the :class:`HistoricalDownload` (its :meth:`~HistoricalDownload.bars` has
            what arrived).
        errors: the failure of each missing chunk, by chunk.
    """

    def __init__(self, download: HistoricalDownload, errors: dict[Chunk, BaseException]) -> None:
        first = next(iter(errors.values()))
        super().__init__(
            f"{len(errors)} of {len(download.chunks)} chunks of {download.describe()} failed "
            f"(first: {first!r}); run() again to fetch only those"
        )
        self.download = download
        self.errors = errors


class HistoricalDownload:
    """Bars of ``contract`` from ``start`` to ``end``, fetched in legal chunks.

    Args:
        client: the connected client.
        contract: the (qualified) contract.
        start: the range's start (tz-aware); bars are kept when ``start <= bar time < end``.
        end: the range's end (tz-aware, exclusive).
        bar_size: as for ``historical_bars``.
        what_to_show: as for ``historical_bars``.
        use_rth: as for ``historical_bars``.
        format_date: as for ``historical_bars``.
        concurrency: requests in flight at once (the pacer may hold them further).
        max_chunk: cap one request's duration below the legal maximum (e.g. ``"1 D"``).
        clip_to_head: ask TWS for the head timestamp first and start no earlier.
        progress: ``callback(done, total)`` after each chunk, or ``True`` for a tqdm bar.
    """

    def __init__(
        self,
        client: Client,
        contract: Contract,
        start: datetime,
        end: datetime,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        format_date: int = 1,
        concurrency: int = 4,
        max_chunk: str | None = None,
        clip_to_head: bool = False,
        progress: Progress | bool | None = None,
        timeout: float | None = None,
    ) -> None:
        if start.utcoffset() is None or end.utcoffset() is None:
            raise ValueError("start and end must be time-zone aware")
        if not start < end:
            raise ValueError("start must be before end")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.contract = contract
        self.start = start
        self.end = end
        self.bar_size = parse_bar_size(bar_size).text
        self.what_to_show = what_to_show.upper()
        self.use_rth = use_rth
        self.format_date = format_date
        self.concurrency = concurrency
        self.max_chunk = max_chunk
        self.clip_to_head = clip_to_head
        self.timeout = timeout
        self._callback = progress if callable(progress) else None
        self._tqdm = progress is True
        self.chunks: list[Chunk] = chunk_plan(start, end, self.bar_size, max_chunk=max_chunk)
        #: the bars of each chunk that arrived
        self.results: dict[Chunk, list[BarData]] = {}
        #: ``progress(done, total)``: after each chunk that arrives
        self.progress = Event("download.progress")
        self._head_checked = not clip_to_head

    # -- reading ---------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self.chunks)

    @property
    def done(self) -> int:
        """Chunks that arrived."""
        return len(self.results)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    def describe(self) -> str:
        sym = self.contract.local_symbol or self.contract.symbol
        span = f"{self.start:%Y-%m-%d} .. {self.end:%Y-%m-%d}"
        return f"{sym} {self.bar_size} {self.what_to_show} {span}"

    def bars(self) -> BarList:
        """What arrived so far, stitched: sorted, one bar per time, clipped to the range."""
        by_time: dict[datetime | date, BarData] = {}
        for chunk in reversed(self.chunks):  # oldest first: a newer chunk's bar wins
            for bar in self.results.get(chunk, ()):
                by_time[bar.date] = bar
        keep = [b for t, b in sorted(by_time.items(), key=_sort_key) if self._in_range(t)]
        return BarList(
            self.contract,
            end=self.end,
            duration=f"{self.total} chunks",
            bar_size=self.bar_size,
            what_to_show=self.what_to_show,
            use_rth=self.use_rth,
            format_date=self.format_date,
            bars=keep,
        )

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> BarList:
        """Fetch the missing chunks and return every bar; raises :class:`DownloadIncomplete`
        (keeping what arrived) if any chunk fails. Call it again to resume."""
        if not self._head_checked:
            await self._clip_to_head()
        missing = [c for c in self.chunks if c not in self.results]
        bar = self._progress_bar()
        errors: dict[Chunk, BaseException] = {}
        gate = asyncio.Semaphore(self.concurrency)

        async def fetch(chunk: Chunk) -> None:
            async with gate:
                try:
                    got = await self.client.req_historical_data(
                        self.contract,
                        end=chunk.end,
                        duration=chunk.duration,
                        bar_size=self.bar_size,
                        what_to_show=self.what_to_show,
                        use_rth=self.use_rth,
                        format_date=self.format_date,
                        timeout=self.timeout,
                    )
                except (RequestError, TWSError, TimeoutError) as e:
                    errors[chunk] = e
                    log.warning("chunk ending %s of %s failed: %s", chunk.end, self.describe(), e)
                    return
                self.results[chunk] = list(got)
                self._report(bar)

        try:
            async with asyncio.TaskGroup() as tg:
                for chunk in missing:
                    tg.create_task(fetch(chunk))
        finally:
            if bar is not None:
                bar.close()
        if errors:
            raise DownloadIncomplete(self, errors)
        return self.bars()

    def __await__(self) -> Any:
        return self.run().__await__()

    # -- internals ---------------------------------------------------------------------------

    async def _clip_to_head(self) -> None:
        head = await self.client.req_head_timestamp(self.contract, self.what_to_show, self.use_rth)
        self._head_checked = True
        if head > self.start:
            if head >= self.end:
                self.chunks = []
                return
            self.start = head
            self.chunks = chunk_plan(head, self.end, self.bar_size, max_chunk=self.max_chunk)

    def _in_range(self, t: datetime | date) -> bool:
        if isinstance(t, datetime):
            return self.start <= t < self.end
        first = self.start.astimezone(UTC).date()
        last = self.end.astimezone(UTC)
        last_day = last.date() if last.time() != time() else last.date() - timedelta(days=1)
        return first <= t <= last_day

    def _report(self, bar: Any) -> None:
        done, total = self.done, self.total
        if bar is not None:
            bar.update(1)
        if self._callback is not None:
            self._callback(done, total)
        if len(self.progress):
            self.progress.emit(done, total)

    def _progress_bar(self) -> Any:
        if not self._tqdm:
            return None
        try:
            tqdm = importlib.import_module("tqdm").tqdm
        except ImportError:
            log.info("progress=True needs tqdm (pip install 'aiotws[progress]'); no bar shown")
            return None
        return tqdm(total=self.total, initial=self.done, desc=self.describe(), unit="chunk")


def _sort_key(item: tuple[datetime | date, BarData]) -> tuple[int, float]:
    t = item[0]
    if isinstance(t, datetime):
        return 1, t.timestamp()
    return 0, float(t.toordinal())
