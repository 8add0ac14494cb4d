"""Simulator handlers for tick-by-tick data, market depth and option calculations.

Driven by the seeded :class:`~aiotws.sim.market.Market`, like :mod:`aiotws.sim.marketdata`:

* REQ_TICK_BY_TICK_DATA: the record of the current state (the latest trade, or the current
  quote / midpoint), then the records of every market step until CANCEL_TICK_BY_TICK_DATA
  (no acknowledgement). ``Last`` leaves out unreported trades, ``AllLast`` has them all;
  ``ignore_size`` drops BidAsk records that only change a size. Error 10190 beyond
  ``config.tick_by_tick_lines`` subscriptions per session. ``number_of_ticks`` > 0 makes
  TWS send that many historical ticks first, under the same id, in one HISTORICAL_TICKS*
  message (:func:`~aiotws.sim.historical.send_tick_history`), then the live ticks.
* REQ_MKT_DEPTH: the inserts that build the book, then on every market step the operations
  that take the client's book to the engine's (MARKET_DEPTH, or MARKET_DEPTH_L2 with the
  exchange of each row for SMART depth). Each subscription keeps the view its client has,
  so the operations are always exact: the client's book equals the engine's top rows.
  Errors: 309 beyond ``config.market_depth_lines`` per session, 10092 for an instrument
  without a book (indices), 200 unknown contract, 102 duplicate id, 310 cancel of an
  unknown id. :func:`reset_depth` and :func:`halt_depth` inject TWS's 317 and 316.
* REQ_MKT_DEPTH_EXCHANGES: a fixed list like a paper account's.
* REQ_CALC_IMPLIED_VOLAT / REQ_CALC_OPTION_PRICE: one TICK_OPTION_COMPUTATION (tick type
  53, CUST_OPTION_COMPUTATION) from :func:`~aiotws.sim.market.bs_greeks` /
  :func:`~aiotws.sim.market.implied_vol`; their cancels are no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, cast

from aiotws.model.contract import Contract
from aiotws.model.ticks import DepthMktDataDescription
from aiotws.sim.historical import send_tick_history
from aiotws.sim.market import (
    ASK_SIDE,
    BID_SIDE,
    RATE,
    DepthOp,
    DepthRow,
    Greeks,
    TickByTick,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickKind,
    TickByTickMidPoint,
    _diff_side,
    bs_greeks,
    implied_vol,
)
from aiotws.sim.server import SimSession, Simulator, handles, on_clock
from aiotws.wire.layout import OutMessage
from aiotws.wire.messages.depth import (
    CancelMktDepth,
    CancelTickByTickData,
    MarketDepth,
    MarketDepthL2,
    MktDepthExchanges,
    ReqMktDepth,
    ReqMktDepthExchanges,
    ReqTickByTickData,
    RerouteMktDepthReq,
)
from aiotws.wire.messages.depth import TickByTick as TickByTickMsg
from aiotws.wire.messages.market import (
    CancelCalcImpliedVolat,
    CancelCalcOptionPrice,
    ReqCalcImpliedVolat,
    ReqCalcOptionPrice,
    TickOptionComputation,
)

__all__ = [
    "DEPTH_EXCHANGES",
    "DepthSubscription",
    "TickByTickSubscription",
    "halt_depth",
    "reset_depth",
    "step_depth",
]

_TBT: Final = "tick_by_tick"
_DEPTH: Final = "mkt_depth"
_KINDS: Final = {"Last": 1, "AllLast": 2, "BidAsk": 3, "MidPoint": 4}
_MAX_ROWS: Final = 50
#: the engine builds books with at least this many rows (a later, deeper subscription
#: then does not relayout the book under the earlier ones)
_BOOK_LEVELS: Final = 10
CUST_OPTION_COMPUTATION: Final = 53
_YEAR_SECONDS: Final = 365 * 86400

#: REQ_MKT_DEPTH_EXCHANGES: (exchange, secType, listingExch, serviceDataType, aggGroup)
DEPTH_EXCHANGES: Final = (
    DepthMktDataDescription("NASDAQ", "STK", "", "Deep2", 1),
    DepthMktDataDescription("ARCA", "STK", "", "Deep", 1),
    DepthMktDataDescription("NYSE", "STK", "", "Deep", 1),
    DepthMktDataDescription("BATS", "STK", "", "Deep", 1),
    DepthMktDataDescription("BYX", "STK", "", "Deep", 1),
    DepthMktDataDescription("EDGX", "STK", "", "Deep", 1),
    DepthMktDataDescription("IEX", "STK", "", "Deep", 1),
    DepthMktDataDescription("MEMX", "STK", "", "Deep", 1),
    DepthMktDataDescription("CME", "FUT", "", "Deep", None),
    DepthMktDataDescription("CBOT", "FUT", "", "Deep", None),
    DepthMktDataDescription("NYMEX", "FUT", "", "Deep", None),
    DepthMktDataDescription("IDEALPRO", "CASH", "", "Deep", None),
    DepthMktDataDescription("PAXOS", "CRYPTO", "", "Deep", None),
)


@dataclass(slots=True)
class TickByTickSubscription:
    """One REQ_TICK_BY_TICK_DATA subscription of a session."""

    req_id: int
    con_id: int
    kind: TickByTickKind
    ignore_size: bool
    last_quote: tuple[float, float] | None = None
    #: the engine step whose records were sent last (``Market.serial``)
    sent_serial: int = 0


@dataclass(slots=True)
class DepthSubscription:
    """One REQ_MKT_DEPTH subscription and the book its client holds (asks, bids)."""

    req_id: int
    con_id: int
    rows: int
    smart: bool
    exchange: str
    view: tuple[list[DepthRow], list[DepthRow]] = field(default_factory=lambda: ([], []))
    #: the engine step the book was last laid out on (``Market.serial``)
    seen_serial: int = 0


def _tbt_subs(session: SimSession) -> dict[int, TickByTickSubscription]:
    subs: dict[int, TickByTickSubscription] = session.state.setdefault(_TBT, {})
    return subs


def _depth_subs(session: SimSession) -> dict[int, DepthSubscription]:
    subs: dict[int, DepthSubscription] = session.state.setdefault(_DEPTH, {})
    return subs


def _match_one(session: SimSession, req_id: int, contract: Contract) -> int | None:
    """The conId of the single instrument matching the request, else error 200 and None."""
    matches = session.sim.universe.match(contract)
    if len(matches) != 1:
        what = "is ambiguous" if matches else "has not been found"
        session.send_error(req_id, 200, f"The contract description specified {what}")
        return None
    return matches[0].contract.con_id


# -- tick-by-tick ------------------------------------------------------------------------------


def _tbt_message(req_id: int, kind: TickByTickKind, r: TickByTick) -> TickByTickMsg:
    when = datetime.fromtimestamp(r.time, UTC)
    if isinstance(r, TickByTickAllLast):
        return TickByTickMsg(
            req_id,
            _KINDS[kind],
            when,
            price=r.price,
            size=r.size,
            last_mask=r.mask,
            exchange=r.exchange,
            special_conditions=r.special_conditions,
        )
    if isinstance(r, TickByTickBidAsk):
        return TickByTickMsg(
            req_id,
            3,
            when,
            bid_price=r.bid,
            ask_price=r.ask,
            bid_size=r.bid_size,
            ask_size=r.ask_size,
            bid_ask_mask=r.mask,
        )
    assert isinstance(r, TickByTickMidPoint)
    return TickByTickMsg(req_id, 4, when, mid_point=r.mid_point)


def _send_tbt(session: SimSession, sub: TickByTickSubscription, records: list[TickByTick]) -> int:
    sent = 0
    for r in records:
        if sub.kind == "Last" and isinstance(r, TickByTickAllLast) and r.mask & 2:
            continue  # "Last" leaves out unreported trades (AllLast has them)
        if isinstance(r, TickByTickBidAsk):
            quote = (r.bid, r.ask)
            if sub.ignore_size and quote == sub.last_quote:
                continue
            sub.last_quote = quote
        session.send(_tbt_message(sub.req_id, sub.kind, r))
        sent += 1
    return sent


@handles(ReqTickByTickData)
def _req_tick_by_tick(session: SimSession, msg: ReqTickByTickData) -> None:
    req_id = msg.req_id
    subs = _tbt_subs(session)
    kind = msg.tick_type
    if kind not in _KINDS:
        session.send_error(req_id, 321, f"Error validating request: invalid tick type {kind!r}")
        return
    if req_id in subs:
        session.send_error(req_id, 102, "Duplicate ticker id")
        return
    if not 0 <= msg.number_of_ticks <= 1000:
        session.send_error(req_id, 321, "Error validating request: numberOfTicks is 0..1000")
        return
    con_id = _match_one(session, req_id, msg.contract)
    if con_id is None:
        return
    if len(subs) >= session.sim.config.tick_by_tick_lines:
        session.send_error(req_id, 10190, "Max number of tick-by-tick requests has been reached.")
        return
    sub = TickByTickSubscription(req_id, con_id, cast(TickByTickKind, kind), msg.ignore_size)
    sub.sent_serial = session.sim.market.serial(con_id)  # it starts from the current state
    if msg.number_of_ticks > 0:
        send_tick_history(session, req_id, con_id, kind, msg.number_of_ticks, msg.ignore_size)
    current = session.sim.market.tick_by_tick_current(con_id, sub.kind)
    if current is not None:
        _send_tbt(session, sub, [current])
    subs[req_id] = sub
    session.sim.ensure_market_clock()


@handles(CancelTickByTickData)
def _cancel_tick_by_tick(session: SimSession, msg: CancelTickByTickData) -> None:
    _tbt_subs(session).pop(msg.req_id, None)  # TWS answers nothing, known id or not


# -- market depth ------------------------------------------------------------------------------


def _send_ops(session: SimSession, sub: DepthSubscription, ops: list[DepthOp]) -> None:
    for op in ops:
        if sub.smart:
            session.send(
                MarketDepthL2(
                    sub.req_id,
                    op.position,
                    op.market_maker or sub.exchange,
                    op.operation,
                    op.side,
                    op.price,
                    op.size,
                    True,
                )
            )
        else:
            session.send(
                MarketDepth(sub.req_id, op.position, op.operation, op.side, op.price, op.size)
            )


def _sync(session: SimSession, sub: DepthSubscription) -> int:
    """Send the operations taking the client's book to the engine's; returns how many."""
    asks, bids = session.sim.market.depth_book(sub.con_id, max(sub.rows, _BOOK_LEVELS)).rows(
        sub.rows
    )
    old_asks, old_bids = sub.view
    ops = _diff_side(ASK_SIDE, old_asks, asks) + _diff_side(BID_SIDE, old_bids, bids)
    sub.view = (asks, bids)
    _send_ops(session, sub, ops)
    return len(ops)


@handles(ReqMktDepth)
def _req_mkt_depth(session: SimSession, msg: ReqMktDepth) -> None:
    sim = session.sim
    req_id = msg.req_id
    subs = _depth_subs(session)
    if req_id in subs:
        session.send_error(req_id, 102, "Duplicate ticker id")
        return
    if not 1 <= msg.num_rows <= _MAX_ROWS:
        session.send_error(req_id, 321, f"Error validating request: numRows is 1..{_MAX_ROWS}")
        return
    con_id = _match_one(session, req_id, msg.contract)
    if con_id is None:
        return
    inst = sim.universe.by_con_id(con_id)
    assert inst is not None
    reroute = sim.reroutes.get(con_id)
    if reroute is not None:
        session.send(RerouteMktDepthReq(req_id, *reroute))
        return
    if inst.contract.sec_type == "IND":
        session.send_error(
            req_id,
            10092,
            "Deep market data is not supported for this combination of security type/exchange",
        )
        return
    if len(subs) >= sim.config.market_depth_lines:
        session.send_error(req_id, 309, "Max number of market depth requests has been reached")
        return
    c = inst.contract
    sub = DepthSubscription(
        req_id, con_id, msg.num_rows, msg.is_smart_depth, c.primary_exchange or c.exchange
    )
    sub.seen_serial = session.sim.market.serial(con_id)
    # the engine's initial inserts (asks first, then bids), then the view they build
    sim.market.depth_book(con_id, max(sub.rows, _BOOK_LEVELS))
    ops = sim.market.initial_depth(con_id, sub.rows)
    sub.view = (
        [DepthRow(o.price, o.size, o.market_maker) for o in ops if o.side == ASK_SIDE],
        [DepthRow(o.price, o.size, o.market_maker) for o in ops if o.side == BID_SIDE],
    )
    _send_ops(session, sub, ops)
    subs[req_id] = sub
    sim.ensure_market_clock()


@handles(CancelMktDepth)
def _cancel_mkt_depth(session: SimSession, msg: CancelMktDepth) -> None:
    if _depth_subs(session).pop(msg.req_id, None) is None:
        session.send_error(
            msg.req_id, 310, f"Can't find the subscribed market depth with tickerId:{msg.req_id}"
        )


@handles(ReqMktDepthExchanges)
def _req_mkt_depth_exchanges(session: SimSession, msg: ReqMktDepthExchanges) -> None:
    session.send(MktDepthExchanges(list(DEPTH_EXCHANGES)))


def reset_depth(sim: Simulator) -> int:
    """Reset every depth subscription as TWS does: ERR_MSG 317, then the whole book again
    as inserts. Returns how many subscriptions were reset."""
    n = 0
    for session in list(sim.sessions):
        for sub in list(session.state.get(_DEPTH, {}).values()):
            session.send_error(
                sub.req_id,
                317,
                "Market depth data has been RESET. Please empty deep book contents before "
                "applying any new entries.",
            )
            sub.view = ([], [])
            _sync(session, sub)
            n += 1
    return n


def halt_depth(sim: Simulator) -> int:
    """Halt every depth subscription (ERR_MSG 316; TWS sends nothing more for it)."""
    n = 0
    for session in list(sim.sessions):
        subs = session.state.get(_DEPTH, {})
        for req_id in list(subs):
            del subs[req_id]
            session.send_error(req_id, 316, "Market depth data HALTED. Please re-subscribe.")
            n += 1
    return n


# -- the clock ---------------------------------------------------------------------------------


@on_clock
def step_depth(sim: Simulator, now: datetime | None = None) -> int:
    """Advance every instrument with tick-by-tick or depth subscribers once and send what
    changed; returns how many messages were sent.

    Runs after :func:`~aiotws.sim.marketdata.step_market` on each clock tick: an instrument
    stepped there already (its engine serial moved since this subscription last sent) is
    not stepped again, and its tick-by-tick records are that step's. Called on its own, it
    steps every instrument it serves. Records are never sent twice.
    """
    now = now or datetime.now(UTC)
    market = sim.market
    sessions = list(sim.sessions)
    tbts = [(s, tbt) for s in sessions for tbt in s.state.get(_TBT, {}).values()]
    depths = [(s, d) for s in sessions for d in s.state.get(_DEPTH, {}).values()]
    seen: dict[int, int] = {}  # con_id -> serial when this call began
    for _, sub in tbts:
        seen.setdefault(sub.con_id, market.serial(sub.con_id))
    for _, d in depths:
        seen.setdefault(d.con_id, market.serial(d.con_id))
    fresh = {sub.con_id for _, sub in tbts if seen[sub.con_id] != sub.sent_serial}
    fresh.update(d.con_id for _, d in depths if seen[d.con_id] != d.seen_serial)
    for con_id in sorted(seen):
        if con_id not in fresh:  # not stepped since we last sent: move the quote now
            market.step(con_id, now)
    for con_id in sorted({d.con_id for _, d in depths}):
        market.step_depth(con_id, _BOOK_LEVELS)  # relayout the book on the moved quote
    for _, d in depths:
        d.seen_serial = market.serial(d.con_id)
    sent = 0
    for s, tbt in tbts:
        serial = market.serial(tbt.con_id)
        if serial != tbt.sent_serial:
            tbt.sent_serial = serial
            sent += _send_tbt(s, tbt, market.tick_by_tick(tbt.con_id, tbt.kind))
    for s, d in depths:
        sent += _sync(s, d)
    return sent


# -- option calculations -------------------------------------------------------------------------


def _option_inputs(
    session: SimSession, req_id: int, msg: ReqCalcImpliedVolat | ReqCalcOptionPrice
) -> tuple[float, float, str, float] | None:
    """(strike, years, right, carry) of the request's option, or an error sent and None."""
    con_id = _match_one(session, req_id, msg.contract)
    if con_id is None:
        return None
    inst = session.sim.universe.by_con_id(con_id)
    assert inst is not None
    c = inst.contract
    if c.sec_type not in ("OPT", "FOP"):
        session.send_error(
            req_id, 321, "Error validating request: option calculations need an option contract"
        )
        return None
    if msg.under_price <= 0:
        session.send_error(req_id, 321, "Error validating request: invalid underlying price")
        return None
    ymd = c.last_trade_date_or_contract_month[:8]
    expiry = datetime.strptime(ymd, "%Y%m%d").replace(hour=21, tzinfo=UTC).timestamp()
    years = (expiry - datetime.now(UTC).timestamp()) / _YEAR_SECONDS
    return c.strike or 0.0, years, c.right, 0.0 if c.sec_type == "FOP" else RATE


def _computation(
    req_id: int, attrib: int, vol: float, price: float, g: Greeks, spot: float
) -> TickOptionComputation:
    return TickOptionComputation(
        req_id, CUST_OPTION_COMPUTATION, attrib, vol, g.delta, price, 0.0, g.gamma, g.vega,
        g.theta, spot,
    )  # fmt: skip


@handles(ReqCalcImpliedVolat)
def _req_calc_implied_volat(session: SimSession, msg: ReqCalcImpliedVolat) -> None:
    inputs = _option_inputs(session, msg.req_id, msg)
    if inputs is None:
        return
    strike, years, right, carry = inputs
    spot, price = msg.under_price, msg.option_price
    iv = implied_vol(price, spot, strike, years, right, carry=carry) if price > 0 else None
    if iv is None:  # outside the no-arbitrage bounds: TWS's "not computed" values
        session.send(_computation(msg.req_id, 1, -1.0, price, Greeks(price, -2, -2, -2, -2), spot))
        return
    g = bs_greeks(spot, strike, years, iv, right, carry=carry)
    session.send(_computation(msg.req_id, 1, iv, price, g, spot))


@handles(ReqCalcOptionPrice)
def _req_calc_option_price(session: SimSession, msg: ReqCalcOptionPrice) -> None:
    inputs = _option_inputs(session, msg.req_id, msg)
    if inputs is None:
        return
    if msg.volatility <= 0:
        session.send_error(msg.req_id, 321, "Error validating request: invalid volatility")
        return
    strike, years, right, carry = inputs
    spot, vol = msg.under_price, msg.volatility
    g = bs_greeks(spot, strike, years, vol, right, carry=carry)
    session.send(_computation(msg.req_id, 0, vol, g.price, g, spot))


@handles(CancelCalcImpliedVolat, CancelCalcOptionPrice)
def _cancel_calc(session: SimSession, msg: OutMessage) -> None:
    """The answer is sent at once: nothing to cancel (TWS acknowledges nothing either)."""
