"""``IB``: the facade most users touch.

One ``IB`` is one TWS/IB Gateway session. Every method that talks to TWS is a coroutine;
live objects (tickers, trades, portfolio) arrive with later features and are kept current by
events. The one rule, as in every asyncio program: never block the event loop in a callback
or between awaits (no ``time.sleep``, no blocking I/O), or every stream stalls behind you.

    async with IB.connect_to("127.0.0.1", 7497, client_id=1) as ib:
        print(ib.server_version, ib.managed_accounts, await ib.current_time())
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Generator, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any, Literal

from eventkit import Event

from aiotws.bars import BarList, RealTimeBarList
from aiotws.calls.accounts import ALL_TAGS, AccountSummaryTable
from aiotws.calls.base import Timeout
from aiotws.calls.display import DisplayGroup
from aiotws.calls.historical import HistoricalTickRecord
from aiotws.calls.scanner import FilterOptions
from aiotws.calls.tickbytick import TickByTickKind, TickByTickRecord
from aiotws.client import Client, ClientState, ErrorInfo
from aiotws.download import HistoricalDownload
from aiotws.errors import (
    AccountKindMismatch,
    AmbiguousContract,
    FundamentalDataRemoved,
    RequestError,
)
from aiotws.history_pacing import HistoricalPacer
from aiotws.model.account import (
    AccountValue,
    ExecutionFilter,
    FamilyCode,
    Fill,
    PortfolioItem,
    Position,
)
from aiotws.model.advisor import FaAlias, FaDataType, FaGroup, FaProfile, check_fa_order
from aiotws.model.contract import (
    Contract,
    ContractDescription,
    ContractDetails,
    OptionChain,
    PriceIncrement,
    SmartComponent,
    TagValue,
)
from aiotws.model.history import HistogramEntry, HistoricalSchedule
from aiotws.model.news import (
    HistoricalNewsList,
    NewsArticle,
    NewsBulletin,
    NewsProvider,
    NewsTick,
)
from aiotws.model.order import Order, OrderCancel, OrderState, SoftDollarTier
from aiotws.model.scanner import ScannerParameters, ScannerSubscription
from aiotws.model.ticks import DepthMktDataDescription
from aiotws.model.wsh import WshEventData, WshEvents, WshMeta
from aiotws.orderbook import OrderBook
from aiotws.pacing import DEFAULT_BURST, DEFAULT_RATE
from aiotws.portfolio import LivePnL, LivePnLSingle
from aiotws.requests import Stream
from aiotws.scanner import ScanResults
from aiotws.session import ReconnectPolicy, Session
from aiotws.startup import StartupSync, SyncReport, run_sync
from aiotws.ticker import OptionComputation, Ticker
from aiotws.trade import Trade
from aiotws.wire.codes import CodeTable
from aiotws.wire.versions import SV

__all__ = ["IB"]

log = logging.getLogger("aiotws.ib")


class IB:
    """A TWS session.

    Args:
        request_timeout: default timeout of one-shot requests, seconds (``None``: none).
        rate: outgoing messages per second (TWS allows 50/s; default 45/s).
        burst: messages that may go at once after a quiet period (default 45).
        codes: error classification table to start from.
        reconnect: the session supervisor's :class:`~aiotws.session.ReconnectPolicy`
            (``True``: the defaults, reconnect forever with capped backoff; ``False``: a loss
            ends the session).
        sync: what :meth:`connect` loads before returning (default: open orders, positions,
            account values and portfolio, today's executions; see
            :class:`~aiotws.startup.StartupSync`).

    Events: ``connected``, ``disconnected(exc | None)``, ``errors(ErrorInfo)``,
    ``connectivity(ErrorInfo)``, ``farm_status(ErrorInfo)``, ``decode_errors(DecodeError)``,
    ``partial_sync(SyncReport)``, ``reconnecting(attempt, delay)``, ``restored(SyncReport)``,
    ``session_state(SessionStatus)``; the order events of :class:`~aiotws.calls.orders.OrderCalls`
    (``new_order_event``, ``order_status_event``, ``exec_details_event`` …) and the account
    events of :class:`~aiotws.calls.accounts.AccountCalls` (``position_event``,
    ``account_value_event``, ``portfolio_event``, ``account_time_event``, ``pnl_event``,
    ``pnl_single_event``).
    """

    def __init__(
        self,
        *,
        request_timeout: float | None = 30.0,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        codes: CodeTable | None = None,
        sync: StartupSync | None = None,
        reconnect: ReconnectPolicy | bool = True,
    ) -> None:
        self.client = Client(request_timeout=request_timeout, rate=rate, burst=burst, codes=codes)
        #: what connect() loads before it returns (see :class:`~aiotws.startup.StartupSync`)
        self.sync = sync if sync is not None else StartupSync()
        #: the outcome of the last connect-time sync
        self.last_sync: SyncReport | None = None
        #: emitted with the :class:`~aiotws.startup.SyncReport` when a step did not finish
        self.partial_sync = Event("partial_sync")
        c = self.client
        policy = ReconnectPolicy(enabled=reconnect) if isinstance(reconnect, bool) else reconnect
        #: the supervisor that reconnects and restores (see :mod:`aiotws.session`)
        self.session = Session(self, policy)
        self.reconnecting: Event = self.session.reconnecting
        self.restored: Event = self.session.restored
        self.session_state: Event = self.session.state_changed
        #: TWS's API is in read-only mode (seen from a 321 "Read-Only" refusal): no orders
        self.read_only_api = False
        self._explained: set[int] = set()
        c.errors += self._explain
        self.connected: Event = c.connected
        self.disconnected: Event = c.disconnected
        self.errors: Event = c.errors
        self.connectivity: Event = c.connectivity
        self.farm_status: Event = c.farm_status
        self.decode_errors: Event = c.decode_errors
        self.new_order_event: Event = c.new_order_event
        self.order_modify_event: Event = c.order_modify_event
        self.cancel_order_event: Event = c.cancel_order_event
        self.open_order_event: Event = c.open_order_event
        self.order_status_event: Event = c.order_status_event
        self.exec_details_event: Event = c.exec_details_event
        self.commission_report_event: Event = c.commission_report_event
        self.completed_order_event: Event = c.completed_order_event
        self.order_error_event: Event = c.order_error_event
        self.position_event: Event = c.position_event
        self.account_value_event: Event = c.account_value_event
        self.portfolio_event: Event = c.portfolio_event
        self.account_time_event: Event = c.account_time_event
        self.pnl_event: Event = c.pnl_event
        self.pnl_single_event: Event = c.pnl_single_event

    # -- connection ----------------------------------------------------------------------

    async def connect(
        self,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        *,
        timeout: float = 10.0,
        connect_options: str = "",
        account: str = "",
        expect: Literal["paper", "live"] | None = None,
    ) -> IB:
        """Connect, wait until TWS is ready, and load the state (``sync``); returns ``self``.

        Raises :class:`~aiotws.errors.TWSConnectionError` subclasses (which are also
        builtin ``ConnectionError``): ``ConnectionRefused``, ``ConnectTimeout``,
        ``ClientIdInUse``, ``UnsupportedServerVersion``. The state sync never fails the
        connect: a step that does not finish is reported by ``partial_sync`` and
        :attr:`last_sync`. ``account``: the account whose values and portfolio to follow
        (default: the only managed account).

        ``expect``: ``"paper"`` or ``"live"``: refuse with
        :class:`~aiotws.errors.AccountKindMismatch` (and disconnect, before anything else is
        sent) when TWS's managed accounts are of the other kind. Paper accounts start with
        ``D`` (DU…, DF…). Paper and live TWS often run side by side (7497/7496, 4002/4001):
        a strategy meant for one should say so.
        """
        await self.client.connect(
            host, port, client_id, timeout=timeout, connect_options=connect_options
        )
        if expect is not None:
            await self._check_kind(expect)
        self.last_sync = await self._startup_sync(account)
        if not self.last_sync.complete:
            self.partial_sync.emit(self.last_sync)
        self.session.attach(host, port, client_id, account, connect_options)
        return self

    def _explain(self, info: ErrorInfo) -> None:
        """Say in plain words what two confusing TWS answers mean (once per session)."""
        if info.code == 321 and "read-only" in info.text.lower():
            self.read_only_api = True
            if 321 not in self._explained:
                self._explained.add(321)
                log.warning(
                    "TWS's API is read-only: it refuses orders (and what-ifs). To trade, untick "
                    "'Read-Only API' in TWS: Global Configuration > API > Settings"
                )
        elif info.code == 10197 and 10197 not in self._explained:
            self._explained.add(10197)
            log.warning(
                "no market data (10197): the same IB user is logged in elsewhere (another TWS "
                "or IB Gateway, the mobile app, the Client Portal) and that session holds the "
                "market data; log out there, or give this login its own user"
            )

    async def _check_kind(self, expect: str) -> None:
        if expect not in ("paper", "live"):
            self.disconnect()
            await self.wait_closed()
            raise ValueError(f"expect must be 'paper', 'live' or None, not {expect!r}")
        kind = self.account_kind
        if kind != expect:
            accounts = tuple(self.client.managed_accounts)
            self.disconnect()
            await self.wait_closed()
            raise AccountKindMismatch(
                f"expected a {expect} account but {self.client.host}:{self.client.port} "
                f"manages {', '.join(accounts) or 'no accounts'} ({kind}): refusing to go on",
                expect,
                accounts,
            )

    @property
    def account_kind(self) -> Literal["paper", "live", "mixed", "none"]:
        """``"paper"`` when every managed account is a paper one (``D…``), ``"live"`` when
        none is, ``"mixed"`` for both, ``"none"`` before connecting."""
        accounts = self.client.managed_accounts
        if not accounts:
            return "none"
        paper = [a.startswith("D") for a in accounts]
        return "paper" if all(paper) else "live" if not any(paper) else "mixed"

    async def _startup_sync(self, account: str, *, completed_orders: bool = False) -> SyncReport:
        c, opts = self.client, self.sync
        limit = opts.step_timeout
        steps: dict[str, Callable[[], Awaitable[Any]]] = {}
        if opts.open_orders:
            if c.client_id == 0:
                c.req_auto_open_orders(True)
            steps["open orders"] = lambda: c.sync_open_orders(opts.all_open_orders, timeout=None)
        if opts.positions:
            steps["positions"] = lambda: c.sync_positions(timeout=None)
        acct = account or (c.managed_accounts[0] if len(c.managed_accounts) == 1 else "")
        if opts.account_updates and acct:
            steps["account updates"] = lambda: c.sync_account_updates(acct, timeout=None)
        if opts.executions:
            steps["executions"] = lambda: c.sync_executions(opts.execution_filter, timeout=None)
        if opts.completed_orders or completed_orders:
            steps["completed orders"] = lambda: c.sync_completed_orders(timeout=None)
        return await run_sync(steps, limit)

    @classmethod
    def connect_to(
        cls,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        *,
        timeout: float = 10.0,
        connect_options: str = "",
        account: str = "",
        expect: Literal["paper", "live"] | None = None,
        **options: Any,
    ) -> _ConnectTo:
        """``async with IB.connect_to(...) as ib:`` connects, and disconnects on exit.

        ``await IB.connect_to(...)`` also works and returns the connected ``IB``.
        ``options`` go to :class:`IB` (``request_timeout``, ``rate``, ``codes``, ``sync`` …).
        """
        return _ConnectTo(
            cls(**options), host, port, client_id, timeout, connect_options, account, expect
        )

    def disconnect(self) -> None:
        """Close the connection and stop reconnecting (returns at once; ``await
        ib.wait_closed()`` to be sure)."""
        self.session.close()
        self.client.disconnect()

    async def wait_closed(self) -> None:
        """Wait until the socket is closed; TWS frees the client id only then."""
        await self.client.wait_closed()

    def is_connected(self) -> bool:
        return self.client.state is ClientState.CONNECTED

    @property
    def server_version(self) -> int:
        """The negotiated server version (0 before connecting)."""
        return self.client.server_version

    @property
    def managed_accounts(self) -> list[str]:
        """The accounts this login manages, as TWS reported them at connect."""
        return list(self.client.managed_accounts)

    @property
    def connection_time(self) -> datetime | None:
        """TWS's time at connect, tz-aware (``None`` if TWS's zone name is unknown)."""
        return self.client.connection_time

    # -- requests ------------------------------------------------------------------------

    async def current_time(self, *, timeout: Timeout = ...) -> datetime:
        """TWS's clock, UTC: milliseconds on server 197+, whole seconds below.

        ``timeout``: seconds (default: ``request_timeout``; ``None`` waits forever).
        """
        if self.client.server_version >= SV.CURRENT_TIME_IN_MILLIS:
            return await self.client.current_time_millis(timeout=timeout)
        return await self.client.current_time(timeout=timeout)

    async def req_ids(self, *, timeout: Timeout = ...) -> int:
        """The next valid order id, fresh from TWS."""
        return await self.client.req_ids(timeout=timeout)

    # -- contracts -----------------------------------------------------------------------

    async def qualify(self, *contracts: Contract, timeout: Timeout = ...) -> list[Contract]:
        """Fill in ``con_id`` and every other field of each contract, in place.

        Returns the same objects (a ``Stock`` stays a ``Stock``), in order. The lookups run
        concurrently, and no contract changes unless all resolve. A field TWS leaves empty
        keeps your value (a bond's ``sec_id``). Raises ``RequestError`` (TWS's 200) for a
        contract nothing matches and :class:`~aiotws.errors.AmbiguousContract`, listing the
        candidates, for one that matches several.
        """
        results = await asyncio.gather(
            *(self.client.contract_details(c, timeout=timeout) for c in contracts)
        )
        matches: list[Contract] = []
        for contract, details in zip(contracts, results, strict=True):
            found = {d.contract.con_id: d.contract for d in details}
            if len(found) > 1:
                raise AmbiguousContract(contract, list(found.values()))
            if not found:
                raise RequestError(200, f"No security definition has been found for {contract!r}")
            matches.extend(found.values())
        # all or nothing: contracts change only once every one of them resolved
        for contract, match in zip(contracts, matches, strict=True):
            for f in dataclasses.fields(Contract):
                value = getattr(match, f.name)
                mine = getattr(contract, f.name)
                if mine and (f.name in _KEEP_IF_SET or value in ("", None, 0, [])):
                    continue  # TWS's answer is less specific (SMART) or silent (sec_id)
                setattr(contract, f.name, value)
        return list(contracts)

    async def contract_details(
        self, contract: Contract, *, timeout: Timeout = ...
    ) -> list[ContractDetails]:
        """Every match of ``contract`` with all TWS knows about it (REQ_CONTRACT_DATA)."""
        return await self.client.contract_details(contract, timeout=timeout)

    async def matching_symbols(
        self, pattern: str, *, timeout: Timeout = ...
    ) -> list[ContractDescription]:
        """Contracts whose symbol or name starts with ``pattern`` (REQ_MATCHING_SYMBOLS)."""
        return await self.client.matching_symbols(pattern, timeout=timeout)

    async def option_chain(
        self, underlying: Contract, fut_fop_exchange: str = "", *, timeout: Timeout = ...
    ) -> list[OptionChain]:
        """Expirations and strikes of the options on ``underlying``, per exchange and class.

        ``underlying`` is qualified first if it has no ``con_id``. For options on futures
        pass the futures exchange (``"CME"``) as ``fut_fop_exchange``.
        """
        if not underlying.con_id:
            await self.qualify(underlying, timeout=timeout)
        sec_type = "FUT" if underlying.sec_type == "CONTFUT" else underlying.sec_type
        return await self.client.sec_def_opt_params(
            underlying.symbol,
            sec_type,
            underlying.con_id,
            fut_fop_exchange,
            timeout=timeout,
        )

    async def market_rule(
        self, market_rule_id: int, *, timeout: Timeout = ...
    ) -> list[PriceIncrement]:
        """The price increments of a market rule (see ``ContractDetails.market_rule_ids``)."""
        return await self.client.market_rule(market_rule_id, timeout=timeout)

    async def smart_components(
        self, bbo_exchange: str, *, timeout: Timeout = ...
    ) -> list[SmartComponent]:
        """The exchanges behind a SMART BBO exchange code."""
        return await self.client.smart_components(bbo_exchange, timeout=timeout)

    # -- market data ---------------------------------------------------------------------

    def market_data(
        self,
        contract: Contract,
        generic_ticks: str | Iterable[int] = "",
        *,
        regulatory_snapshot: bool = False,
    ) -> Ticker:
        """Subscribe to ``contract``'s market data; returns a live :class:`Ticker`.

        ``generic_ticks``: extra tick groups (``"233,236"`` or ``[233, 236]``: RT volume,
        shortable …). The ticker updates in place until :meth:`cancel_market_data`; TWS's
        errors and warnings for it land in ``ticker.errors`` (an error also ends it).
        """
        if regulatory_snapshot:
            raise ValueError("use snapshot(contract, regulatory=True) for a regulatory snapshot")
        return self.client.req_mkt_data(contract, generic_ticks)

    def cancel_market_data(self, ticker: Ticker) -> None:
        """End a :meth:`market_data` subscription (TWS sends no reply; it ends at once)."""
        self.client.cancel_mkt_data(ticker)

    async def snapshot(
        self, contract: Contract, *, regulatory: bool = False, timeout: Timeout = ...
    ) -> Ticker:
        """A fresh :class:`Ticker` filled by one snapshot, never a cached live one.

        Completes at TICK_SNAPSHOT_END (TWS takes up to ~11 s for a full snapshot).
        ``regulatory=True`` asks for a regulatory snapshot (billed by IB per request).
        """
        ticker = self.client.req_mkt_data(
            contract, snapshot=not regulatory, regulatory_snapshot=regulatory
        )
        done = ticker._snapshot_done
        assert done is not None
        limit = self.client.request_timeout if timeout is ... else timeout
        try:
            async with asyncio.timeout(limit):
                return await asyncio.shield(done)
        except BaseException:
            self.client._drop_ticker(ticker)
            raise

    def market_data_type(self, market_data_type: int) -> None:
        """1 live, 2 frozen, 3 delayed, 4 delayed-frozen, for the subscriptions that follow."""
        self.client.req_market_data_type(market_data_type)

    def tickers(self) -> list[Ticker]:
        """Every live market data subscription's ticker."""
        return self.client.tickers()

    def tick_by_tick(
        self,
        contract: Contract,
        kind: TickByTickKind,
        number_of_ticks: int = 0,
        ignore_size: bool = False,
        *,
        maxlen: int = 10_000,
    ) -> Stream[TickByTickRecord]:
        """Every trade (``"Last"``, ``"AllLast"``), quote (``"BidAsk"``) or midpoint
        (``"MidPoint"``) of ``contract`` as it happens: a stream of tick records.

        ``async for tick in stream`` or ``stream.updated += handler``; ``stream.cancel()``
        (or ``async with stream:``) ends the subscription. ``maxlen`` bounds the iterator's
        buffer (the oldest ticks go first, counted in ``stream.dropped``).
        """
        return self.client.tick_by_tick(contract, kind, number_of_ticks, ignore_size, maxlen=maxlen)

    def market_depth(self, contract: Contract, rows: int = 5, smart: bool = False) -> OrderBook:
        """Live market depth (level 2) of ``contract``: an :class:`OrderBook` kept current.

        ``await book.ready()`` for the first rows; ``smart`` aggregates the exchanges of
        :meth:`market_depth_exchanges` (rows carry their exchange in ``market_maker``).
        """
        return self.client.req_mkt_depth(contract, rows, smart)

    def cancel_market_depth(self, book: OrderBook) -> None:
        """End a market depth subscription (the book ends at once)."""
        self.client.cancel_mkt_depth(book)

    async def market_depth_exchanges(
        self, *, timeout: Timeout = ...
    ) -> list[DepthMktDataDescription]:
        """The exchanges that offer market depth."""
        return await self.client.req_mkt_depth_exchanges(timeout=timeout)

    def order_books(self) -> list[OrderBook]:
        """Every live market depth subscription's book."""
        return self.client.order_books()

    async def calc_implied_volatility(
        self,
        contract: Contract,
        option_price: float,
        under_price: float,
        *,
        timeout: Timeout = ...,
    ) -> OptionComputation:
        """TWS's implied volatility (and greeks) of an option at ``option_price``."""
        return await self.client.calc_implied_volatility(
            contract, option_price, under_price, timeout=timeout
        )

    async def calc_option_price(
        self,
        contract: Contract,
        volatility: float,
        under_price: float,
        *,
        timeout: Timeout = ...,
    ) -> OptionComputation:
        """TWS's model price (and greeks) of an option at ``volatility``."""
        return await self.client.calc_option_price(
            contract, volatility, under_price, timeout=timeout
        )

    # -- historical data ---------------------------------------------------------------

    @property
    def historical_pacer(self) -> HistoricalPacer:
        """The scheduler keeping historical requests inside IB's pacing rules: its
        ``waiting(reason, delay)`` event says when and why a request waits."""
        return self.client.historical_pacer

    async def historical_bars(
        self,
        contract: Contract,
        end: datetime | None = None,
        duration: str = "1 D",
        bar_size: str = "1 hour",
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        format_date: int = 1,
        keep_up_to_date: bool = False,
        chart_options: str = "",
        *,
        timeout: Timeout = ...,
    ) -> BarList:
        """Bars of ``contract`` over ``duration`` up to ``end`` (``None``: now).

        ``bar_size`` from ``"1 secs"`` to ``"1 month"``; ``what_to_show`` TRADES, MIDPOINT,
        BID, ASK, BID_ASK, ADJUSTED_LAST, HISTORICAL_VOLATILITY, OPTION_IMPLIED_VOLATILITY,
        FEE_RATE, AGGTRADES …; an illegal combination raises ``InvalidHistoricalRequest``
        before anything is sent. Intraday bar times are tz-aware, daily and longer bars
        have dates. With ``keep_up_to_date`` the returned list stays live: the last bar is
        revised in place and new bars are appended (``bars.updated``, ``bars.updates()``)
        until :meth:`cancel_historical_bars`. Waits as IB's pacing rules require.
        """
        return await self.client.req_historical_data(
            contract,
            end,
            duration,
            bar_size,
            what_to_show,
            use_rth,
            format_date,
            keep_up_to_date,
            chart_options,
            timeout=timeout,
        )

    def cancel_historical_bars(self, bars: BarList) -> None:
        """End a keep-up-to-date bar list."""
        self.client.cancel_historical_data(bars)

    def download_bars(
        self,
        contract: Contract,
        start: datetime,
        end: datetime,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        **options: Any,
    ) -> HistoricalDownload:
        """A resumable :class:`~aiotws.download.HistoricalDownload` of ``[start, end)``:
        ``bars = await download`` (again after a ``DownloadIncomplete`` to resume)."""
        return HistoricalDownload(
            self.client, contract, start, end, bar_size, what_to_show, use_rth, **options
        )

    async def historical_bars_range(
        self,
        contract: Contract,
        start: datetime,
        end: datetime,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        concurrency: int = 4,
        progress: Callable[[int, int], object] | bool | None = None,
        resume: HistoricalDownload | None = None,
        **options: Any,
    ) -> BarList:
        """Every bar from ``start`` to ``end``, however long: split into legal requests,
        run ``concurrency`` at a time within pacing, stitched and de-duplicated.

        ``progress``: ``callback(done, total)``, or ``True`` for a tqdm bar. On a failed
        chunk it raises ``DownloadIncomplete``; pass its ``download`` as ``resume=`` (or
        await it) to fetch only the missing chunks.
        """
        dl = resume or self.download_bars(
            contract,
            start,
            end,
            bar_size,
            what_to_show,
            use_rth,
            concurrency=concurrency,
            progress=progress,
            **options,
        )
        return await dl.run()

    async def head_timestamp(
        self,
        contract: Contract,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> datetime:
        """The earliest time TWS has ``what_to_show`` data for ``contract`` (tz-aware)."""
        return await self.client.req_head_timestamp(
            contract, what_to_show, use_rth, timeout=timeout
        )

    async def historical_ticks(
        self,
        contract: Contract,
        start: datetime | None = None,
        end: datetime | None = None,
        number_of_ticks: int = 1000,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        ignore_size: bool = False,
        *,
        timeout: Timeout = ...,
    ) -> list[HistoricalTickRecord]:
        """Up to 1000 historical ticks from ``start`` or up to ``end``: TRADES gives
        ``HistoricalTickLast``, BID_ASK ``HistoricalTickBidAsk`` (with its mask bits as
        ``ask_past_high``/``bid_past_low``), MIDPOINT ``HistoricalTick``."""
        return await self.client.req_historical_ticks(
            contract,
            start,
            end,
            number_of_ticks,
            what_to_show,
            use_rth,
            ignore_size,
            timeout=timeout,
        )

    async def histogram(
        self,
        contract: Contract,
        period: str = "1 week",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> list[HistogramEntry]:
        """Volume by price over ``period`` (``"3 days"``, ``"1 week"``, ``"2 months"`` …)."""
        return await self.client.req_histogram_data(contract, period, use_rth, timeout=timeout)

    async def historical_schedule(
        self,
        contract: Contract,
        end: datetime | None = None,
        duration: str = "1 M",
        use_rth: bool = True,
        *,
        timeout: Timeout = ...,
    ) -> HistoricalSchedule:
        """``contract``'s trading sessions over ``duration`` up to ``end``, tz-aware."""
        return await self.client.req_historical_schedule(
            contract, end, duration, use_rth, timeout=timeout
        )

    def real_time_bars(
        self,
        contract: Contract,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        *,
        max_bars: int | None = None,
    ) -> RealTimeBarList:
        """Live 5-second bars: a list that grows by one bar every 5 seconds
        (``bars.updated``, ``bars.updates()``); ``max_bars`` keeps only the newest."""
        return self.client.req_real_time_bars(contract, what_to_show, use_rth, max_bars=max_bars)

    def cancel_real_time_bars(self, bars: RealTimeBarList) -> None:
        """End a real-time bars subscription."""
        self.client.cancel_real_time_bars(bars)

    # -- orders and trades ------------------------------------------------------------

    def place_order(self, contract: Contract, order: Order) -> Trade:
        """Place ``order`` and return its live :class:`~aiotws.trade.Trade` (placeOrder).

        An ``order`` already placed (same ``order_id``) is modified: re-placed with the same
        id, same trade. ``await trade.done()`` waits until filled, cancelled or rejected;
        ``await trade.filled()`` raises if it did not fill. Bad orders raise ``ValueError``
        (or the encoder's :class:`~aiotws.errors.UnsupportedByServer`) before the wire.
        """
        return self.client.place_order(contract, order)

    def place_bracket(self, contract: Contract, *orders: Order) -> list[Trade]:
        """Place a parent and its children (``bracket(...)``'s three orders) together: the
        children get the parent's id as ``parent_id``; TWS holds them until the last one
        (``transmit=True``) arrives."""
        return self.client.place_orders(contract, orders)

    def cancel_order(self, order: Order | Trade, cancel: OrderCancel | None = None) -> Trade | None:
        """Cancel an order (cancelOrder); returns its trade (``PendingCancel`` at once)."""
        return self.client.cancel_order(order, cancel)

    def cancel_all_orders(self, cancel: OrderCancel | None = None) -> None:
        """Cancel all open orders, of every client and of TWS (reqGlobalCancel)."""
        self.client.cancel_all_orders(cancel)

    async def what_if(
        self, contract: Contract, order: Order, *, timeout: Timeout = ...
    ) -> OrderState:
        """Margin and commission of ``order`` without placing it (whatIfOrder)."""
        return await self.client.what_if(contract, order, timeout=timeout)

    def trades(self) -> list[Trade]:
        """Every trade this session knows (placed here, synced, or seen from others)."""
        return self.client.trades()

    def open_trades(self) -> list[Trade]:
        """The trades still working (openTrades)."""
        return self.client.open_trades()

    def orders(self) -> list[Order]:
        """The orders of every known trade."""
        return [t.order for t in self.client.trades()]

    def open_orders(self) -> list[Order]:
        """The orders still working, from the live order book (openOrders)."""
        return [t.order for t in self.client.open_trades()]

    async def req_open_orders(
        self, all_clients: bool = False, *, timeout: Timeout = ...
    ) -> list[Trade]:
        """Refresh the open orders from TWS (reqOpenOrders / reqAllOpenOrders)."""
        return await self.client.sync_open_orders(all_clients, timeout=timeout)

    async def completed_orders(
        self, api_only: bool = False, *, timeout: Timeout = ...
    ) -> list[Trade]:
        """Today's filled and cancelled orders, as trades (reqCompletedOrders)."""
        return await self.client.sync_completed_orders(api_only, timeout=timeout)

    async def executions(
        self, filter: ExecutionFilter | None = None, *, timeout: Timeout = ...
    ) -> list[Fill]:
        """The executions TWS has for ``filter`` (reqExecutions), as fills with their
        commission reports."""
        return await self.client.sync_executions(filter, timeout=timeout)

    def fills(self) -> list[Fill]:
        """Every fill this session saw, live or from :meth:`executions`."""
        return self.client.fills()

    def exercise_options(
        self,
        contract: Contract,
        exercise_action: int,
        quantity: int,
        account: str = "",
        override: bool = False,
    ) -> int:
        """Exercise (1) or lapse (2) options (exerciseOptions); returns the request id."""
        return self.client.exercise_options(contract, exercise_action, quantity, account, override)

    def req_auto_open_orders(self, auto_bind: bool = True) -> None:
        """Client 0: bind orders entered in TWS from now on (reqAutoOpenOrders)."""
        self.client.req_auto_open_orders(auto_bind)

    # -- accounts, positions, portfolio and PnL ----------------------------------------

    async def positions(
        self, account: str | None = None, *, timeout: Timeout = ...
    ) -> list[Position]:
        """The positions of ``account`` (or of all accounts). ib_async: ``positions()`` /
        ``reqPositions``.

        From the live REQ_POSITIONS subscription when it is up, else after subscribing and
        waiting for POSITION_END (``timeout``); while disconnected it raises
        ``NotConnected`` (the stale cache stays readable: ``ib.client.positions_now()``).
        """
        c = self.client
        if not c.positions_active:
            await c.sync_positions(timeout=timeout)
        return c.positions_now(account)

    def portfolio(self, account: str | None = None) -> list[PortfolioItem]:
        """The portfolio (positions with market value) of ``account`` or all, from the
        account-updates subscription the connect-time sync made. ib_async: ``portfolio()``."""
        return self.client.portfolio(account)

    def account_values(self, account: str | None = None) -> list[AccountValue]:
        """The account values of ``account`` or all, from the account-updates subscription.
        ib_async: ``accountValues()``."""
        return self.client.account_values(account)

    async def account_updates(self, account: str = "", *, timeout: Timeout = ...) -> None:
        """Subscribe to ``account``'s values and portfolio (or switch to it: TWS keeps one)
        and wait for the first full set. ib_async: ``reqAccountUpdates``."""
        await self.client.sync_account_updates(account, timeout=timeout)

    async def account_summary(
        self, group: str = "All", tags: str = ALL_TAGS, *, timeout: Timeout = ...
    ) -> list[AccountValue]:
        """The account summary ``tags`` of ``group``'s accounts, once. ib_async:
        ``accountSummary`` / ``reqAccountSummary`` (official ``reqAccountSummary``)."""
        return await self.client.account_summary(group, tags, timeout=timeout)

    def subscribe_account_summary(
        self, group: str = "All", tags: str = ALL_TAGS
    ) -> AccountSummaryTable:
        """The account summary as a live table keyed by (account, tag, currency)."""
        return self.client.req_account_summary(group, tags)

    def cancel_account_summary(self, table: AccountSummaryTable) -> None:
        """End a :meth:`subscribe_account_summary` table (official ``cancelAccountSummary``)."""
        self.client.cancel_account_summary(table)

    def pnl(self, account: str = "", model_code: str = "") -> LivePnL:
        """Live daily/unrealized/realized PnL of ``account`` (default: the only managed
        account), updated about once a second. ib_async: ``reqPnL``."""
        return self.client.req_pnl(account or self._only_account(), model_code)

    def cancel_pnl(self, pnl: LivePnL | str, model_code: str = "") -> None:
        """End a :meth:`pnl` subscription (the object, or its account). ib_async:
        ``cancelPnL``."""
        if isinstance(pnl, str):
            found = [
                p for p in self.client.pnls() if (p.account, p.model_code) == (pnl, model_code)
            ]
            if not found:
                return
            pnl = found[0]
        self.client.cancel_pnl(pnl)

    def pnl_single(self, account: str, con_id: int, model_code: str = "") -> LivePnLSingle:
        """Live PnL of one position. ib_async: ``reqPnLSingle``."""
        return self.client.req_pnl_single(account or self._only_account(), con_id, model_code)

    def cancel_pnl_single(
        self, pnl: LivePnLSingle | str, con_id: int = 0, model_code: str = ""
    ) -> None:
        """End a :meth:`pnl_single` subscription (the object, or its account and con_id).
        ib_async: ``cancelPnLSingle``."""
        if isinstance(pnl, str):
            key = (pnl, model_code, con_id)
            found = [
                p for p in self.client.pnl_singles() if (p.account, p.model_code, p.con_id) == key
            ]
            if not found:
                return
            pnl = found[0]
        self.client.cancel_pnl_single(pnl)

    async def positions_multi(
        self, account: str = "", model_code: str = "", *, timeout: Timeout = ...
    ) -> list[Position]:
        """Positions per account and/or model, once. ib_async: ``reqPositionsMulti``."""
        return await self.client.positions_multi(account, model_code, timeout=timeout)

    async def account_updates_multi(
        self,
        account: str = "",
        model_code: str = "",
        ledger_and_nlv: bool = False,
        *,
        timeout: Timeout = ...,
    ) -> list[AccountValue]:
        """Account values per account and/or model, once. ib_async:
        ``reqAccountUpdatesMulti``."""
        return await self.client.account_updates_multi(
            account, model_code, ledger_and_nlv, timeout=timeout
        )

    async def family_codes(self, *, timeout: Timeout = ...) -> list[FamilyCode]:
        """The family codes of this login's accounts. ib_async: ``reqFamilyCodes``."""
        return await self.client.family_codes(timeout=timeout)

    async def user_info(self, *, timeout: Timeout = ...) -> str:
        """The login's white-branding id (server 167+). ib_async: ``reqUserInfo``."""
        return await self.client.user_info(timeout=timeout)

    def _only_account(self) -> str:
        accounts = self.client.managed_accounts
        if len(accounts) != 1:
            raise ValueError(f"name the account: this login manages {', '.join(accounts)}")
        return accounts[0]

    def set_server_log_level(self, level: int) -> None:
        """TWS's API log level, 1 (system) .. 5 (detail)."""
        self.client.set_server_log_level(level)

    # -- news (issue 9) --------------------------------------------------------------------

    async def news_providers(self, *, timeout: Timeout = ...) -> list[NewsProvider]:
        """The news providers this login may use (code and name). ib_async:
        ``reqNewsProviders`` (official ``reqNewsProviders``)."""
        return await self.client.news_providers(timeout=timeout)

    async def news_article(
        self,
        provider_code: str,
        article_id: str,
        options: Iterable[TagValue] | None = None,
        *,
        timeout: Timeout = ...,
    ) -> NewsArticle:
        """The body of one article: ``article_type`` 0 text / 1 binary, ``text`` as sent,
        ``data`` as bytes (base64-decoded for binary). ib_async: ``reqNewsArticle``."""
        return await self.client.news_article(provider_code, article_id, options, timeout=timeout)

    async def historical_news(
        self,
        con_id: int,
        provider_codes: str | Iterable[str],
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        total_results: int = 10,
        options: Iterable[TagValue] | None = None,
        *,
        timeout: Timeout = ...,
    ) -> HistoricalNewsList:
        """Up to ``total_results`` (max 300) headlines about ``con_id`` from
        ``provider_codes`` (``"BRFG+DJNL"`` or a list) after ``start`` up to ``end``
        (tz-aware datetimes, TWS text, or ``None`` for open), newest first; the list's
        ``has_more`` says whether TWS holds more. ib_async: ``reqHistoricalNews``.

        A naive datetime, an inverted range or more than 300 results raise
        ``InvalidNewsRequest`` before anything is sent.
        """
        return await self.client.historical_news(
            con_id, provider_codes, start, end, total_results, options, timeout=timeout
        )

    def news_ticks(self) -> list[NewsTick]:
        """The latest news ticks of every subscription with generic tick 292 (each ticker
        keeps its own in ``ticker.news``). ib_async: ``newsTicks()``."""
        return self.client.news_ticks()

    @property
    def news_tick_event(self) -> Event:
        """Emitted with each :class:`~aiotws.model.news.NewsTick`. ib_async:
        ``tickNewsEvent``."""
        return self.client.news_tick_event

    @news_tick_event.setter
    def news_tick_event(self, event: Event) -> None:
        # ``ib.news_tick_event += handler`` assigns the same event back
        if event is not self.client.news_tick_event:
            raise AttributeError("news_tick_event cannot be replaced; connect handlers with +=")

    def subscribe_news_bulletins(self, all_messages: bool = True) -> Stream[NewsBulletin]:
        """Subscribe to IB's news bulletins: a stream of
        :class:`~aiotws.model.news.NewsBulletin` (also kept in :meth:`news_bulletins` and
        emitted on :attr:`news_bulletin_event`), restored after a reconnect.
        ``all_messages``: also today's earlier bulletins. ib_async: ``reqNewsBulletins``."""
        return self.client.subscribe_news_bulletins(all_messages)

    def cancel_news_bulletins(self) -> None:
        """End the bulletin subscription and its streams. ib_async: ``cancelNewsBulletins``."""
        self.client.cancel_news_bulletins()

    def news_bulletins(self) -> list[NewsBulletin]:
        """Every bulletin received this session. ib_async: ``newsBulletins()``."""
        return self.client.news_bulletins()

    @property
    def news_bulletin_event(self) -> Event:
        """Emitted with each new :class:`~aiotws.model.news.NewsBulletin`. ib_async:
        ``newsBulletinEvent``."""
        return self.client.news_bulletin_event

    @news_bulletin_event.setter
    def news_bulletin_event(self, event: Event) -> None:
        # ``ib.news_bulletin_event += handler`` assigns the same event back
        if event is not self.client.news_bulletin_event:
            raise AttributeError("news_bulletin_event cannot be replaced; connect handlers with +=")

    # -- scanners (issue 9) ----------------------------------------------------------------

    async def scanner_parameters(self, *, timeout: Timeout = ...) -> ScannerParameters:
        """Every instrument type, location, scan type and filter TWS's scanners offer,
        parsed from TWS's XML (the raw text is ``.xml``). ib_async: ``reqScannerParameters``
        (which returns the XML); official ``reqScannerParameters``."""
        return await self.client.req_scanner_parameters(timeout=timeout)

    def scanner(
        self,
        subscription: ScannerSubscription,
        filter_options: FilterOptions = None,
        options: FilterOptions = None,
    ) -> ScanResults:
        """A live scan: :class:`~aiotws.scanner.ScanResults`, a list of
        :class:`~aiotws.model.scanner.ScanRow` replaced as a whole on each refresh (about
        every 30 s); ``results.updated`` fires, ``async for rows in results`` yields each
        set, ``await results`` the first. ``filter_options``: ``{"priceAbove": 5}`` or
        ``TagValue`` pairs (the codes of :meth:`scanner_parameters` ``.filters()``).
        Restored after a reconnect. Raises
        :class:`~aiotws.errors.InvalidScannerSubscription` before sending a bad one.
        ib_async: ``reqScannerSubscription``."""
        return self.client.req_scanner_subscription(subscription, filter_options, options)

    def cancel_scanner(self, results: ScanResults) -> None:
        """End a :meth:`scanner` subscription (its last set stays readable). ib_async:
        ``cancelScannerSubscription``."""
        self.client.cancel_scanner_subscription(results)

    async def scan(
        self,
        subscription: ScannerSubscription,
        filter_options: FilterOptions = None,
        options: FilterOptions = None,
        *,
        timeout: Timeout = ...,
    ) -> ScanResults:
        """One scan's result set: subscribe, wait for the first set, cancel. ib_async:
        ``reqScannerData``."""
        return await self.client.scan(subscription, filter_options, options, timeout=timeout)

    def scanners(self) -> list[ScanResults]:
        """The live :meth:`scanner` subscriptions."""
        return self.client.scanner_subscriptions()

    # -- financial advisors (issue 9) ------------------------------------------------------

    async def fa_groups(self, *, timeout: Timeout = ...) -> list[FaGroup]:
        """The advisor's allocation groups, parsed from TWS's XML.

        ib_async: ``requestFA(1)`` (which returns the raw XML); ibapi: ``requestFA(1)`` →
        ``receiveFA``. A login that is not an advisor's raises
        :class:`~aiotws.errors.RequestError` (321).
        """
        return await self.client.fa_groups(timeout=timeout)

    async def fa_aliases(self, *, timeout: Timeout = ...) -> list[FaAlias]:
        """The advisor's account aliases. ib_async / ibapi: ``requestFA(3)``."""
        return await self.client.fa_aliases(timeout=timeout)

    async def fa_profiles(self, *, timeout: Timeout = ...) -> list[FaProfile]:
        """The advisor's allocation profiles, servers below 177 only (raises
        :class:`~aiotws.errors.UnsupportedByServer` from 177). ib_async / ibapi:
        ``requestFA(2)``."""
        return await self.client.fa_profiles(timeout=timeout)

    async def replace_fa_groups(self, groups: Iterable[FaGroup], *, timeout: Timeout = ...) -> str:
        """Replace all allocation groups with ``groups``; waits for REPLACE_FA_END and
        returns its text. ib_async: ``replaceFA(1, xml)``; ibapi: ``replaceFA(reqId, 1,
        xml)`` → ``replaceFAEnd``. Bad groups raise ``ValueError`` before the wire."""
        return await self.client.replace_fa_groups(groups, timeout=timeout)

    async def replace_fa_profiles(
        self, profiles: Iterable[FaProfile], *, timeout: Timeout = ...
    ) -> str:
        """Replace all allocation profiles (servers below 177). ib_async: ``replaceFA(2,
        xml)``."""
        return await self.client.replace_fa_profiles(profiles, timeout=timeout)

    async def request_fa(self, kind: FaDataType | int, *, timeout: Timeout = ...) -> str:
        """The raw FA XML of ``kind`` (1 groups, 2 profiles below 177, 3 aliases).
        ib_async: ``requestFA(faDataType)``."""
        return await self.client.request_fa(kind, timeout=timeout)

    async def replace_fa(self, kind: FaDataType | int, xml: str, *, timeout: Timeout = ...) -> str:
        """Replace the FA configuration of ``kind`` with raw ``xml``; REPLACE_FA_END's text.
        ib_async: ``replaceFA(faDataType, xml)``."""
        return await self.client.replace_fa(kind, xml, timeout=timeout)

    def place_fa_order(
        self,
        contract: Contract,
        order: Order,
        group: str,
        method: str = "",
        percentage: str = "",
    ) -> Trade:
        """Place ``order`` for the FA group ``group`` (sets ``fa_group`` / ``fa_method`` /
        ``fa_percentage``) and return its :class:`~aiotws.trade.Trade`.

        ``method`` empty: the group's own method; else one IB computes (``AvailableEquity``,
        ``NetLiq``, ``Equal``/``EqualQuantity``, ``PctChange`` with ``percentage``). FA
        fields that are wrong whatever the login raise ``ValueError`` before the wire
        (:func:`aiotws.model.advisor.check_fa_order`). ib_async / ibapi: ``placeOrder``
        with ``order.faGroup`` etc.
        """
        check_fa_order(group, method, percentage)
        order.fa_group, order.fa_method, order.fa_percentage = group, method, percentage
        return self.client.place_order(contract, order)

    # -- wall street horizon (issue 9) -----------------------------------------------------

    async def wsh_meta_data(self, *, timeout: Timeout = ...) -> WshMeta:
        """Wall Street Horizon meta data: the event types (their ``tag`` is the filter key)
        and filters, parsed; ``.json`` keeps TWS's text. ib_async: ``getWshMetaData`` /
        ``reqWshMetaData``. Needs a WSH subscription (else ``RequestError`` 10276/10277)
        and server 161."""
        return await self.client.wsh_meta_data(timeout=timeout)

    async def wsh_event_data(self, query: WshEventData, *, timeout: Timeout = ...) -> WshEvents:
        """Wall Street Horizon corporate events (earnings, dividends, splits, conferences …)
        for one contract or a filter: a list of :class:`~aiotws.model.wsh.WshEvent` (each
        keeps its ``raw`` dict; ``.json`` the text). ib_async: ``getWshEventData`` /
        ``reqWshEventData``.

        Fetches the meta data first when this connection has not had it (TWS refuses event
        data before it, 10282). ``InvalidField`` for a bad query (``con_id`` and ``filter``
        together …) and ``UnsupportedByServer`` (filters 171+, dates 173+) before the wire.
        """
        return await self.client.wsh_event_data(query, timeout=timeout)

    def fundamental_data(self, *args: Any, **kwargs: Any) -> None:
        """Removed by IB: always raises :class:`~aiotws.errors.FundamentalDataRemoved`,
        nothing is sent. ib_async: ``reqFundamentalData``.

        IB took REQ_FUNDAMENTAL_DATA out of the TWS API in 10.47; for corporate events use
        :meth:`wsh_event_data`, for statements and ratios another data provider.
        """
        raise FundamentalDataRemoved("fundamental_data")

    def req_fundamental_data(self, *args: Any, **kwargs: Any) -> None:
        """ib_async's name for :meth:`fundamental_data`: raises
        :class:`~aiotws.errors.FundamentalDataRemoved` the same way."""
        raise FundamentalDataRemoved("req_fundamental_data")

    # -- display groups and the rest (issue 9) ---------------------------------------------

    async def display_groups(self, *, timeout: Timeout = ...) -> list[int]:
        """The ids of TWS's display groups (colour-linked windows), most used first.
        ib_async: ``queryDisplayGroups``."""
        return await self.client.display_groups(timeout=timeout)

    def display_group(self, group_id: int) -> DisplayGroup:
        """Follow display group ``group_id`` (1..7): a live :class:`~aiotws.calls.display.
        DisplayGroup` (``contract_info``, ``con_id``/``exchange``, ``updated`` event, async
        iterator, ``await group.update(contract)``), restored after a reconnect.
        ib_async: ``subscribeToGroupEvents``."""
        return self.client.display_group(group_id)

    def cancel_display_group(self, group: DisplayGroup) -> None:
        """Stop following ``group``. ib_async: ``unsubscribeFromGroupEvents``."""
        self.client.cancel_display_group(group)

    async def update_display_group(
        self, group: DisplayGroup, contract: Contract | str | None, *, timeout: float = 10.0
    ) -> DisplayGroup:
        """Show ``contract`` in ``group``'s TWS windows and wait for TWS to confirm.
        ib_async: ``updateDisplayGroup``."""
        return await group.update(contract, timeout=timeout)

    async def soft_dollar_tiers(self, *, timeout: Timeout = ...) -> list[SoftDollarTier]:
        """The soft dollar tiers of this login (empty for most).
        ib_async: ``reqSoftDollarTiers``."""
        return await self.client.soft_dollar_tiers(timeout=timeout)

    # -- context manager -----------------------------------------------------------------

    async def __aenter__(self) -> IB:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()
        await self.wait_closed()

    def __repr__(self) -> str:
        c = self.client
        if c.state is ClientState.CONNECTED:
            return f"<IB connected {c.host}:{c.port} client_id={c.client_id} sv={c.server_version}>"
        return f"<IB {c.state.value}>"


#: fields a user's request may set more specifically than TWS's answer (SMART routing)
_KEEP_IF_SET = frozenset({"exchange"})


class _ConnectTo:
    """What :meth:`IB.connect_to` returns: awaitable and an async context manager."""

    def __init__(
        self,
        ib: IB,
        host: str,
        port: int,
        client_id: int,
        timeout: float,
        options: str,
        account: str,
        expect: Literal["paper", "live"] | None = None,
    ) -> None:
        self._ib = ib
        self._expect = expect
        self._args = (host, port, client_id)
        self._timeout = timeout
        self._options = options
        self._account = account

    async def _connect(self) -> IB:
        return await self._ib.connect(
            *self._args,
            timeout=self._timeout,
            connect_options=self._options,
            account=self._account,
            expect=self._expect,
        )

    def __await__(self) -> Generator[Any, None, IB]:
        return self._connect().__await__()

    async def __aenter__(self) -> IB:
        return await self._connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._ib.__aexit__(exc_type, exc, tb)
