"""Simulator handlers for top-of-book market data, driven by the seeded :class:`Market`.

REQ_MKT_DATA answers like TWS: TICK_REQ_PARAMS, MARKET_DATA_TYPE when the connection asked
for a non-live type, the initial burst of ticks, then (for a subscription) the updates of
every market step until CANCEL_MKT_DATA; a snapshot ends with TICK_SNAPSHOT_END. Errors as
TWS sends them: 200 unknown or ambiguous contract, 101 too many market data lines, 102
duplicate ticker id, 300 cancel of an unknown id, 321 generic ticks on a snapshot.

While ``sim.data_paused`` (IB connectivity lost, a market data farm down, a hang) no tick is
sent: a subscription made meanwhile gets its TICK_REQ_PARAMS and its ticks from the resume.

Market data permissions, as TWS answers them. For an instrument named in
``SimConfig.no_market_data`` (no subscription), a request at market data type 1 (live) or 2
(frozen) gets 354 and nothing else; at type 3 or 4 (delayed) it gets 10167, then
MARKET_DATA_TYPE 3 (4 for delayed frozen) and the delayed ticks (66…). An instrument that
*is* subscribed gets real-time data whatever type was asked for: MARKET_DATA_TYPE 1 after a
request for delayed data (3), 2 after frozen or delayed frozen (2, 4). During
``sim.competing_session()`` (the same user's other session holds the data) every request
gets 10197 and no ticks; a snapshot ends at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from aiotws.model.contract import ContractDetails
from aiotws.sim.market import (
    GenericTick,
    OptionTick,
    PriceTick,
    SizeTick,
    StringTick,
    TickEvent,
    select_ticks,
    to_delayed,
)
from aiotws.sim.server import COMPETING_SESSION, SimSession, Simulator, handles, on_clock
from aiotws.wire.layout import InMessage
from aiotws.wire.messages.market import (
    CancelMktData,
    MarketDataType,
    ReqMarketDataType,
    ReqMktData,
    RerouteMktDataReq,
    TickGeneric,
    TickOptionComputation,
    TickPrice,
    TickReqParams,
    TickSize,
    TickSnapshotEnd,
    TickString,
)

__all__ = ["MarketSubscription", "halt", "has_market_data", "step_market", "to_message"]

_SUBS: Final = "mkt_data"
_TYPE: Final = "mkt_data_type"

#: sec type -> handler of REQ_MKT_DATA for contracts outside the universe (``NEWS``, set by
#: :mod:`aiotws.sim.news`): it answers, or refuses with the error and returns False; a
#: subscription it accepts is kept with ``con_id`` 0 (no market steps)
SPECIAL_FEEDS: Final[dict[str, Callable[[SimSession, ReqMktData, MarketSubscription], bool]]] = {}
#: checks of a new subscription's generic ticks (:mod:`aiotws.sim.news`: the providers of
#: ``292:BRFG+DJNL``); one that refuses sends the error and returns False
GENERIC_CHECKS: Final[list[Callable[[SimSession, MarketSubscription], bool]]] = []


@dataclass(slots=True)
class MarketSubscription:
    """One REQ_MKT_DATA subscription of a session."""

    req_id: int
    con_id: int
    generic_ticks: frozenset[int]
    delayed: bool
    #: ``mdoff`` in the generic tick list: no top-of-book ticks (news only)
    mdoff: bool = False
    #: the providers of ``292:BRFG+DJNL`` (empty: every provider of the login)
    news_providers: tuple[str, ...] = ()


def to_message(req_id: int, e: TickEvent) -> InMessage:
    """The wire message for one market event."""
    if isinstance(e, PriceTick):
        return TickPrice(req_id, e.tick_type, e.price, e.size, e.attr_mask)
    if isinstance(e, SizeTick):
        return TickSize(req_id, e.tick_type, e.size)
    if isinstance(e, StringTick):
        return TickString(req_id, e.tick_type, e.value)
    if isinstance(e, GenericTick):
        return TickGeneric(req_id, e.tick_type, e.value)
    assert isinstance(e, OptionTick)
    return TickOptionComputation(
        req_id,
        e.tick_type,
        e.tick_attrib,
        e.implied_vol,
        e.delta,
        e.opt_price,
        e.pv_dividend,
        e.gamma,
        e.vega,
        e.theta,
        e.und_price,
    )


def _subs(session: SimSession) -> dict[int, MarketSubscription]:
    subs: dict[int, MarketSubscription] = session.state.setdefault(_SUBS, {})
    return subs


def _lines_in_use(sim: Simulator) -> int:
    return sum(len(s.state.get(_SUBS, ())) for s in sim.sessions)


def has_market_data(sim: Simulator, details: ContractDetails) -> bool:
    """False when ``sim.config.no_market_data`` names the instrument (its symbol, local
    symbol or con id): the account has no market data subscription for it."""
    names = sim.config.no_market_data
    if not names:
        return True
    c = details.contract
    for n in names:
        if isinstance(n, int) or n.isdigit():
            if int(n) == c.con_id:
                return False
        elif n in (c.symbol, c.local_symbol):
            return False
    return True


def _send(session: SimSession, sub: MarketSubscription, events: list[TickEvent]) -> None:
    sim = session.sim
    if sim.data_paused or sub.mdoff or sim.is_competing_session:
        return  # connectivity lost, a farm down, the data held elsewhere; or mdoff
    picked = select_ticks(events, sub.generic_ticks)
    if sub.delayed:
        picked = to_delayed(picked)
    for e in picked:
        session.send(to_message(sub.req_id, e))


@handles(ReqMktData)
def _req_mkt_data(session: SimSession, msg: ReqMktData) -> None:
    sim = session.sim
    req_id = msg.req_id
    subs = _subs(session)
    if req_id in subs:
        session.send_error(req_id, 102, "Duplicate ticker id")
        return
    mdoff = False
    news: tuple[str, ...] = ()
    ticks: set[int] = set()
    try:
        for token in (t.strip() for t in msg.generic_tick_list.split(",")):
            if token.lower() == "mdoff":
                mdoff = True
            elif token:
                tick, _, providers = token.partition(":")  # 292:BRFG+DJNL
                ticks.add(int(tick))
                news += tuple(p for p in providers.split("+") if p)
    except ValueError:
        session.send_error(req_id, 321, f"Invalid generic tick list {msg.generic_tick_list!r}")
        return
    generic = frozenset(ticks)
    snapshot = msg.snapshot or msg.regulatory_snapshot
    if snapshot and generic:
        session.send_error(
            req_id, 321, "Snapshot market data subscription is not applicable to generic ticks"
        )
        return
    special = SPECIAL_FEEDS.get(msg.contract.sec_type)
    if special is not None:
        sub = MarketSubscription(req_id, 0, generic, False, mdoff, news)
        if special(session, msg, sub) and not snapshot:
            subs[req_id] = sub
            sim.ensure_market_clock()
        return
    matches = sim.universe.match(msg.contract)
    if len(matches) != 1:
        what = "is ambiguous" if matches else "has not been found"
        session.send_error(req_id, 200, f"The contract description specified {what}")
        return
    if not snapshot and _lines_in_use(sim) >= sim.config.market_data_lines:
        session.send_error(
            req_id,
            101,
            f"Max number of tickers has been reached ({sim.config.market_data_lines} lines)",
        )
        return
    details = matches[0]
    con_id = details.contract.con_id
    reroute = sim.reroutes.get(con_id)
    if reroute is not None:  # no subscription: the client asks again for the named one
        session.send(RerouteMktDataReq(req_id, *reroute))
        return
    market_type = int(session.state.get(_TYPE, 1))
    exchange = sim.universe.bbo_exchange(con_id)
    subscribed = has_market_data(sim, details)
    if not subscribed and market_type in (1, 2):
        where = f"{details.contract.primary_exchange or exchange}/{details.contract.sec_type}/Top"
        session.send_error(
            req_id,
            354,
            "Requested market data is not subscribed.Delayed market data is available."
            f"Error&{where}&{where}",
        )
        return
    sub = MarketSubscription(req_id, con_id, generic, not subscribed, mdoff, news)
    if not all(check(session, sub) for check in GENERIC_CHECKS):
        return
    session.send(TickReqParams(req_id, details.min_tick, exchange, 3))
    if sim.is_competing_session:
        session.send_error(req_id, *COMPETING_SESSION)
        if snapshot:
            session.send(TickSnapshotEnd(req_id))
        else:  # kept: its ticks come once the other session is gone
            subs[req_id] = sub
            sim.ensure_market_clock()
        return
    if not subscribed:
        session.send_error(
            req_id,
            10167,
            "Requested market data is not subscribed. Displaying delayed market data.",
        )
        session.send(MarketDataType(req_id, market_type))
    elif market_type != 1:  # real-time data beats delayed: live (1), or frozen (2)
        session.send(MarketDataType(req_id, 1 if market_type == 3 else 2))
    now = datetime.now(UTC)
    _send(session, sub, sim.market.initial_ticks(con_id, generic, now))
    if snapshot:
        session.send(TickSnapshotEnd(req_id))
        return
    subs[req_id] = sub
    sim.ensure_market_clock()


@handles(CancelMktData)
def _cancel_mkt_data(session: SimSession, msg: CancelMktData) -> None:
    if _subs(session).pop(msg.req_id, None) is None:
        session.send_error(msg.req_id, 300, f"Can't find EId with tickerId:{msg.req_id}")


@handles(ReqMarketDataType)
def _req_market_data_type(session: SimSession, msg: ReqMarketDataType) -> None:
    if msg.market_data_type not in (1, 2, 3, 4):
        session.send_error(-1, 321, f"Invalid market data type {msg.market_data_type}")
        return
    session.state[_TYPE] = msg.market_data_type


@on_clock
def step_market(sim: Simulator, now: datetime | None = None) -> int:
    """Advance every subscribed instrument once and send the ticks; returns how many sent."""
    now = now or datetime.now(UTC)
    steps: dict[int, list[TickEvent]] = {}
    sent = 0
    for session in list(sim.sessions):
        for sub in list(session.state.get(_SUBS, {}).values()):
            if not sub.con_id:  # a NEWS contract: no market (sim.news sends its headlines)
                continue
            events = steps.get(sub.con_id)
            if events is None:
                events = steps[sub.con_id] = sim.market.step(sub.con_id, now)
            _send(session, sub, events)
            sent += len(events)
    return sent


def halt(sim: Simulator, con_id: int, halted: bool = True) -> int:
    """Halt (or resume) an instrument and tell its subscribers (the HALTED tick, 49).

    Returns how many subscriptions were told. Prices freeze while halted.
    """
    events = sim.market.halt(con_id, halted, datetime.now(UTC))
    told = 0
    for session in list(sim.sessions):
        for sub in list(session.state.get(_SUBS, {}).values()):
            if sub.con_id == con_id:
                _send(session, sub, events)
                told += 1
    return told
