"""The simulator's market engine: determinism, quote invariants, options, ticks, depth."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiotws.sim.market import (
    GENERIC_TICKS,
    DepthOp,
    DepthRow,
    GenericTick,
    Market,
    OptionTick,
    PriceTick,
    SizeTick,
    StringTick,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickMidPoint,
    TickEvent,
    _diff_side,
    apply_ops,
    bs_greeks,
    implied_vol,
    select_ticks,
    to_delayed,
)
from aiotws.sim.universe import MARKET_RULES, Instrument, Universe, increment_at

TODAY = date(2026, 3, 2)  # a Monday
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AAPL, MSFT, SPX, EURUSD, USDJPY, BTC = 265598, 272093, 416904, 12087792, 15016059, 479624278
GRID_TYPES = {1, 2, 4, 6, 7, 9, 14, 15, 16, 17, 18, 19, 20}
GATED = {t for types in GENERIC_TICKS.values() for t in types}


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe(seed=3, today=TODAY)


def times(n: int, start: datetime = T0, dt: float = 0.25) -> Iterator[datetime]:
    for i in range(1, n + 1):
        yield start + timedelta(seconds=dt * i)


def on_grid(universe: Universe, con_id: int, price: float) -> bool:
    inst = universe.by_con_id(con_id)
    assert inst is not None
    rule = MARKET_RULES[inst.details.market_rule_ids[0]]
    k = price / increment_at(rule, price)
    return abs(k - round(k)) < 1e-6


def option(universe: Universe, und: int, right: str, near: float) -> Instrument:
    """The option on ``und`` of the first expiry with the strike closest to ``near``."""
    opts = [o for o in universe.options_of(und) if o.contract.right == right]
    expiry = min(o.contract.last_trade_date_or_contract_month for o in opts)
    same = [o for o in opts if o.contract.last_trade_date_or_contract_month == expiry]
    return min(same, key=lambda o: abs((o.contract.strike or 0) - near))


def pair(universe: Universe, call: Instrument) -> Instrument:
    c = call.contract
    return next(
        o
        for o in universe.options_of(call.details.under_con_id)
        if o.contract.right == "P"
        and o.contract.strike == c.strike
        and o.contract.trading_class == c.trading_class
        and o.contract.last_trade_date_or_contract_month == c.last_trade_date_or_contract_month
    )


def mix(universe: Universe) -> list[int]:
    """Every non-option, plus calls and puts on each option root."""
    ids = [i.con_id for i in universe.underlyings]
    for und in (AAPL, SPX):
        spot = universe.by_con_id(und)
        assert spot is not None
        ids += [
            option(universe, und, r, spot.price * k).con_id for r in "CP" for k in (0.9, 1, 1.1)
        ]
    es = universe.front_future("ES")
    assert es is not None
    ids += [option(universe, es.con_id, r, es.price).con_id for r in "CP"]
    return ids


# -- determinism ---------------------------------------------------------------------------------


def _record(universe: Universe, seed: int) -> list[object]:
    m = Market(universe, seed)
    ids = mix(universe)
    out: list[object] = [
        m.initial_ticks(c, {100, 101, 106, 165, 221, 233, 236, 456}, T0) for c in ids
    ]
    out.append(m.initial_depth(AAPL, 5))
    for now in times(60):
        for c in ids:
            out.append(m.step(c, now))
            out.append(m.tick_by_tick(c, "BidAsk"))
        out.append(m.step_depth(AAPL, 5, now))
    out += [m.quote(c) for c in ids]
    return out


def test_same_seed_same_outputs(universe: Universe) -> None:
    fresh = Universe(seed=3, today=TODAY)
    assert _record(universe, 11) == _record(fresh, 11)


def test_other_seed_other_outputs(universe: Universe) -> None:
    assert _record(universe, 11) != _record(universe, 12)


def test_stream_independent_of_other_instruments(universe: Universe) -> None:
    a, b = Market(universe, 5), Market(universe, 5)
    for now in times(40):
        b.step(MSFT, now)
        assert a.step(AAPL, now) == b.step(AAPL, now)


def test_naive_now_is_utc(universe: Universe) -> None:
    a, b = Market(universe, 1), Market(universe, 1)
    naive = T0.replace(tzinfo=None)
    assert a.initial_ticks(AAPL, {233}, T0) == b.initial_ticks(AAPL, {233}, naive)
    for now in times(20):
        assert a.step(AAPL, now) == b.step(AAPL, now.replace(tzinfo=None))


def test_unknown_con_id(universe: Universe) -> None:
    with pytest.raises(KeyError):
        Market(universe).quote(4)


# -- quote invariants ----------------------------------------------------------------------------


def test_prices_on_grid_and_bid_below_ask(universe: Universe) -> None:
    m = Market(universe, 2)
    ids = mix(universe)
    events = {c: m.initial_ticks(c, {165}, T0) for c in ids}
    for now in times(150):
        for c in ids:
            events[c] += m.step(c, now)
            q = m.quote(c)
            if q.bid != -1:
                assert q.bid < q.ask, (c, q)
            for price in (q.bid, q.ask, q.last, q.high, q.low, q.open, q.close):
                assert price == -1 or on_grid(universe, c, price), (c, price)
    for c, evs in events.items():
        for e in evs:
            if isinstance(e, PriceTick) and e.tick_type in GRID_TYPES and e.price != -1:
                assert on_grid(universe, c, e.price), (c, e)


def test_spreads(universe: Universe) -> None:
    m = Market(universe, 4)
    for now in times(200):
        for c, lo, hi in ((AAPL, 0.01, 0.03), (EURUSD, 0.0001, 0.0002), (USDJPY, 0.01, 0.02)):
            m.step(c, now)
            q = m.quote(c)
            assert lo - 1e-9 <= q.ask - q.bid <= hi + 1e-9, (c, q.bid, q.ask)


def test_ladder_rule(universe: Universe) -> None:
    """SPX options use rule 110: 0.05 below 3, 0.10 above."""
    spx = universe.by_con_id(SPX)
    assert spx is not None
    m = Market(universe, 1)
    cheap = option(universe, SPX, "C", spx.price * 1.04)
    rich = option(universe, SPX, "C", spx.price * 0.98)
    for now in times(100):
        for o in (cheap, rich):
            m.step(o.con_id, now)
            q = m.quote(o.con_id)
            for p in (q.bid, q.ask):
                inc = 0.05 if p < 3 else 0.10
                assert abs(p / inc - round(p / inc)) < 1e-6, p
    assert m.quote(rich.con_id).bid > 3


def test_sizes_are_decimal_in_lots(universe: Universe) -> None:
    m = Market(universe, 6)
    seen: dict[int, list[Decimal]] = {AAPL: [], EURUSD: [], BTC: []}
    for c in seen:
        for e in m.initial_ticks(c, {165, 233, 236}, T0):
            if isinstance(e, PriceTick | SizeTick):
                assert isinstance(e.size, Decimal)
    for now in times(100):
        for c, sizes in seen.items():
            for e in m.step(c, now):
                if isinstance(e, PriceTick | SizeTick):
                    assert isinstance(e.size, Decimal), e
                if isinstance(e, SizeTick) and e.tick_type in (0, 3):
                    sizes.append(e.size)
    assert seen[AAPL] and all(s % 100 == 0 and s > 0 for s in seen[AAPL])
    assert seen[EURUSD] and all(s % 100_000 == 0 for s in seen[EURUSD])
    assert any(s != s.to_integral_value() for s in seen[BTC])
    assert all(s > 0 for s in seen[BTC])


def test_volume_monotone_high_low_bound_last(universe: Universe) -> None:
    m = Market(universe, 8)
    ids = [AAPL, BTC, option(universe, AAPL, "C", 230).con_id]
    es = universe.front_future("ES")
    assert es is not None
    ids.append(es.con_id)
    previous = {c: m.quote(c).volume for c in ids}
    trades = 0
    for now in times(300):
        for c in ids:
            evs = m.step(c, now)
            q = m.quote(c)
            assert q.volume >= previous[c]
            trades += q.volume > previous[c]
            previous[c] = q.volume
            assert q.low <= q.last <= q.high
            assert q.low <= q.open <= q.high
            assert q.low - 1e-9 <= q.vwap <= q.high + 1e-9
            vols = [e.size for e in evs if isinstance(e, SizeTick) and e.tick_type == 8]
            if vols:
                assert vols == [q.volume]
    assert trades > 50


def test_untraded_and_index(universe: Universe) -> None:
    m = Market(universe, 1)
    fx = m.initial_ticks(EURUSD, set(), T0)
    assert not {4, 5, 8, 45} & {e.tick_type for e in fx}
    spx = m.initial_ticks(SPX, set(), T0)
    by_type = {e.tick_type: e for e in spx}
    bid, ask = by_type[1], by_type[2]
    assert isinstance(bid, PriceTick) and isinstance(ask, PriceTick)
    assert bid.price == ask.price == -1
    assert 8 not in by_type
    for now in times(50):
        for e in m.step(EURUSD, now):
            assert e.tick_type not in (4, 5, 8, 45, 48)
        for e in m.step(SPX, now):
            assert e.tick_type not in (0, 1, 2, 3, 5, 8, 48)
    assert m.quote(SPX).bid == -1
    assert m.quote(EURUSD).last == -1


def test_initial_ticks_burst(universe: Universe) -> None:
    m = Market(universe, 1)
    types = [e.tick_type for e in m.initial_ticks(AAPL, set(), T0)]
    assert types == [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 14, 45, 49]
    q = m.quote(AAPL)
    evs = {e.tick_type: e for e in m.initial_ticks(AAPL, set(), T0)}
    assert evs[1] == PriceTick(1, q.bid, q.bid_size, 1)
    assert evs[9] == PriceTick(9, q.close, Decimal(0), 0)
    assert evs[45] == StringTick(45, str(q.last_time))
    inst = universe.by_con_id(AAPL)
    assert inst is not None and q.close == inst.price  # previous close = reference price


# -- options -------------------------------------------------------------------------------------


def _model(events: list[TickEvent]) -> OptionTick | None:
    models = [e for e in events if isinstance(e, OptionTick) and e.tick_type == 13]
    return models[-1] if models else None


@pytest.mark.parametrize("und", [AAPL, SPX, "ES"])
def test_option_model_tracks_underlying(universe: Universe, und: int | str) -> None:
    if isinstance(und, str):
        fut = universe.front_future(und)
        assert fut is not None
        und = fut.con_id
    spot = universe.by_con_id(und)
    assert spot is not None
    m = Market(universe, 9)
    calls = [option(universe, und, "C", spot.price * k) for k in (0.95, 1.0, 1.05)]
    pairs = [(c, pair(universe, c)) for c in calls]
    for c, p in pairs:
        m.initial_ticks(c.con_id, set(), T0)
        m.initial_ticks(p.con_id, set(), T0)
    carry = 0.0 if spot.contract.sec_type == "FUT" else 0.04
    seen = 0
    for now in times(120):
        m.step(und, now)
        for c, p in pairs:
            m.step(c.con_id, now)
            m.step(p.con_id, now)
            cm, pm = m.quote(c.con_id).model, m.quote(p.con_id).model
            assert cm is not None and pm is not None
            assert 0 < cm.delta < 1
            assert -1 < pm.delta < 0
            assert cm.gamma > 0 and cm.vega > 0 and cm.theta < 0
            s = m.quote(und).midpoint
            assert cm.und_price == pm.und_price == pytest.approx(s, abs=1e-9)
            strike = c.contract.strike
            assert strike is not None
            expiry = datetime.strptime(c.contract.last_trade_date_or_contract_month, "%Y%m%d")
            years = (expiry.replace(hour=21, tzinfo=UTC) - now).total_seconds() / (365 * 86400)
            parity = s * math.exp((carry - 0.04) * years) - strike * math.exp(-0.04 * years)
            assert cm.opt_price - pm.opt_price == pytest.approx(parity, abs=1e-6 * s)
            g = bs_greeks(s, strike, years, cm.implied_vol, "C", carry=carry)
            # the model is re-valued on underlying moves, and at least every minute
            assert cm.opt_price == pytest.approx(g.price, abs=-g.theta * 61 / 86400 + 1e-9)
            q = m.quote(c.con_id)
            tick = increment_at(MARKET_RULES[c.details.market_rule_ids[0]], q.bid)
            assert q.bid - tick <= cm.opt_price <= q.ask + tick
            seen += 1
    assert seen


def test_option_price_moves_with_underlying(universe: Universe) -> None:
    m = Market(universe, 10)
    call = option(universe, AAPL, "C", 230)
    put = pair(universe, call)
    points = []
    for now in times(400):
        m.step(call.con_id, now)  # advances AAPL implicitly
        m.step(put.con_id, now)
        cm, pm = m.quote(call.con_id).model, m.quote(put.con_id).model
        assert cm is not None and pm is not None
        points.append((cm.und_price, cm.opt_price, pm.opt_price))
    lo = min(points)
    hi = max(points)
    assert hi[0] > lo[0]
    assert hi[1] > lo[1]  # the call is worth more when the underlying is higher
    assert hi[2] < lo[2]  # the put less


def test_option_computation_ticks(universe: Universe) -> None:
    m = Market(universe, 12)
    call = option(universe, AAPL, "C", 230)
    first = m.initial_ticks(call.con_id, set(), T0)
    types = [e.tick_type for e in first if isinstance(e, OptionTick)]
    assert types[:2] == [10, 11] and types[-1] == 13
    for now in times(100):
        for e in m.step(call.con_id, now):
            if isinstance(e, OptionTick) and e.tick_type in (10, 11, 12):
                q = m.quote(call.con_id)
                price = {10: q.bid, 11: q.ask, 12: q.last}[e.tick_type]
                assert e.opt_price == price
                assert e.tick_attrib == 1
                if e.implied_vol > 0:
                    assert 0 < e.delta < 1
                    assert e.und_price == m.quote(AAPL).midpoint
                else:
                    assert e.delta == -2


@settings(max_examples=200, deadline=None)
@given(
    spot=st.floats(20, 500),
    moneyness=st.floats(0.7, 1.3),
    years=st.floats(0.01, 2.0),
    vol=st.floats(0.05, 1.5),
    right=st.sampled_from("CP"),
    carry=st.sampled_from([0.0, 0.04]),
)
def test_greeks_match_finite_differences(
    spot: float, moneyness: float, years: float, vol: float, right: str, carry: float
) -> None:
    strike = spot * moneyness
    g = bs_greeks(spot, strike, years, vol, right, carry=carry)

    def price(s: float = spot, t: float = years, v: float = vol) -> float:
        return bs_greeks(s, strike, t, v, right, carry=carry).price

    # a small step: near expiry and at low volatility the price curves sharply (hypothesis
    # found spot 20, T 0.012, vol 0.055), and the central difference's error grows as h**2
    d = spot * 1e-6
    assert g.delta == pytest.approx((price(s=spot + d) - price(s=spot - d)) / (2 * d), abs=1e-5)
    h = spot * 1e-4
    gamma = (price(s=spot + h) - 2 * g.price + price(s=spot - h)) / (h * h)
    assert g.gamma == pytest.approx(gamma, rel=1e-2, abs=1e-4)
    assert g.vega == pytest.approx(
        (price(v=vol + 1e-4) - price(v=vol - 1e-4)) / 2e-4 / 100, rel=1e-4, abs=1e-6
    )
    day = 1 / 365
    if years > 2 * day:
        theta = (price(t=years - 1e-4) - price(t=years + 1e-4)) / 2e-4 * day
        assert g.theta == pytest.approx(theta, rel=1e-3, abs=1e-5)
    if right == "C":
        assert 0 <= g.delta <= 1
    else:
        assert -1 <= g.delta <= 0
    if g.vega > 1e-4:
        iv = implied_vol(g.price, spot, strike, years, right, carry=carry)
        assert iv is not None
        again = bs_greeks(spot, strike, years, iv, right, carry=carry).price
        assert again == pytest.approx(g.price, rel=1e-7, abs=1e-9)
        if g.vega > 0.01:  # well-conditioned: the volatility itself comes back
            assert iv == pytest.approx(vol, rel=1e-4)


def test_implied_vol_bounds() -> None:
    assert implied_vol(0.5, 100, 50, 0.5, "C") is None  # below intrinsic
    assert implied_vol(101.0, 100, 50, 0.5, "C") is None  # above the spot
    assert implied_vol(0.0, 100, 150, 0.5, "C") is None


# -- string and generic ticks ---------------------------------------------------------------------

RT_VOLUME = re.compile(
    r"^(\d+\.\d+);(\d+(?:\.\d+)?);(\d{13});(\d+(?:\.\d+)?);(\d+\.\d+);(true|false)$"
)


def test_rt_volume_format(universe: Universe) -> None:
    m = Market(universe, 13)
    first = select_ticks(m.initial_ticks(AAPL, {233}, T0), {233})
    assert any(e.tick_type == 48 for e in first)
    count = 0
    for now in times(200):
        evs = m.step(AAPL, now)
        q = m.quote(AAPL)
        for e in evs:
            if e.tick_type != 48:
                continue
            assert isinstance(e, StringTick)
            match = RT_VOLUME.match(e.value)
            assert match, e.value
            price, size, ms, total, vwap, single = match.groups()
            assert float(price) == q.last and len(price.split(".")[1]) == 2
            assert Decimal(size) == q.last_size and Decimal(size) % 100 == 0
            assert int(ms) == round(now.timestamp() * 1000)
            assert Decimal(total) == q.volume
            assert float(vwap) == pytest.approx(q.vwap, abs=1e-5)
            assert single == "true"
            count += 1
    assert count > 20


def test_generic_extras_only_when_requested(universe: Universe) -> None:
    m = Market(universe, 14)
    plain = m.initial_ticks(AAPL, set(), T0)
    assert not GATED & {e.tick_type for e in plain}
    expected = {
        100: {29, 30},
        101: {27, 28},
        104: {23},
        106: {24},
        165: {15, 16, 17, 18, 19, 20, 21},
        221: {37},
        232: {37},
        233: {48},
        236: {46, 89},
        293: {54},
        411: {58},
        456: {59},
    }
    for generic, types in expected.items():
        got = {e.tick_type for e in m.initial_ticks(AAPL, {generic}, T0)} & GATED
        assert got == types, generic
    every = m.initial_ticks(AAPL, set(expected), T0)
    by_type = {e.tick_type: e for e in every}
    assert by_type[46] == GenericTick(46, 3.0)
    dividends = by_type[59]
    assert isinstance(dividends, StringTick)
    assert re.fullmatch(r"\d+\.\d\d,\d+\.\d\d,\d{8},\d+\.\d\d", dividends.value)
    q = m.quote(AAPL)
    lows = [by_type[t] for t in (15, 17, 19)]
    highs = [by_type[t] for t in (16, 18, 20)]
    assert all(isinstance(e, PriceTick) for e in lows + highs)
    low_prices = [e.price for e in lows if isinstance(e, PriceTick)]
    high_prices = [e.price for e in highs if isinstance(e, PriceTick)]
    assert low_prices == sorted(low_prices, reverse=True) and low_prices[0] <= q.low
    assert high_prices == sorted(high_prices) and high_prices[0] >= q.high
    streamed: set[int] = set()
    for now in times(100):
        evs = m.step(AAPL, now)
        assert not GATED & {e.tick_type for e in select_ticks(evs, set())}
        streamed |= {e.tick_type for e in select_ticks(evs, {233, 221})}
    assert {48, 37} <= streamed
    assert 54 not in streamed


def test_no_stock_extras_on_forex(universe: Universe) -> None:
    m = Market(universe, 1)
    types = {e.tick_type for e in m.initial_ticks(EURUSD, {233, 236, 456}, T0)}
    assert not {46, 48, 59, 89} & types


def test_halt(universe: Universe) -> None:
    m = Market(universe, 15)
    assert m.halt(AAPL, True, T0) == [GenericTick(49, 1.0)]
    assert GenericTick(49, 1.0) in m.initial_ticks(AAPL, set(), T0)
    before = m.quote(AAPL)

    def markers() -> list[tuple[int, float, Decimal, int]]:
        records = m.tick_by_tick(AAPL, "Last")
        return [
            (t.time, t.price, t.size, t.mask) for t in records if isinstance(t, TickByTickAllLast)
        ]

    for i, now in enumerate(times(20)):
        assert m.step(AAPL, now) == []
        # the halt marker: a zero tick with pastLimit set, then nothing
        assert markers() == ([(int(T0.timestamp()), 0.0, Decimal(0), 1)] if i == 0 else [])
    assert m.quote(AAPL) == before
    assert m.halt(AAPL, False) == [GenericTick(49, 0.0)]
    later = T0 + timedelta(seconds=10)
    assert m.step(AAPL, later)
    # no ``now``: stamped with the time of the latest update (the 20th step)
    assert markers()[0] == (int(T0.timestamp()) + 5, 0.0, Decimal(0), 1)
    assert GenericTick(49, 0.0) in m.initial_ticks(AAPL, set(), T0)


def test_to_delayed(universe: Universe) -> None:
    m = Market(universe, 1)
    call = option(universe, AAPL, "C", 230)
    live = m.initial_ticks(call.con_id, {233}, T0)
    delayed = to_delayed(live)
    mapping = {1: 66, 2: 67, 4: 68, 0: 69, 3: 70, 5: 71, 6: 72, 7: 73, 8: 74, 9: 75, 14: 76}
    mapping |= {10: 80, 11: 81, 12: 82, 13: 83, 45: 88, 49: 90}
    assert [e.tick_type for e in delayed] == [mapping.get(e.tick_type, e.tick_type) for e in live]
    for a, b in zip(live, delayed, strict=True):
        assert type(a) is type(b)


# -- implicit underlying updates -----------------------------------------------------------------


def test_option_step_advances_underlying_once(universe: Universe) -> None:
    call = option(universe, AAPL, "C", 230)
    a, b = Market(universe, 16), Market(universe, 16)
    a.initial_ticks(call.con_id, set(), T0)
    b.initial_ticks(call.con_id, set(), T0)
    for now in times(50):
        ua = a.step(AAPL, now)
        ca = a.step(call.con_id, now)
        cb = b.step(call.con_id, now)  # advances AAPL first
        ub = b.step(AAPL, now)  # reports that update, makes no other
        assert (ua, ca) == (ub, cb)
        assert a.quote(AAPL) == b.quote(AAPL)


def test_reports_updates_made_implicitly(universe: Universe) -> None:
    """Stepping the underlying rarely still reports everything that changed meanwhile."""
    m = Market(universe, 17)
    call = option(universe, AAPL, "C", 230)
    m.initial_ticks(AAPL, set(), T0)
    state: dict[int, object] = {}
    for i, now in enumerate(times(200)):
        m.step(call.con_id, now)
        if i % 7 == 0:
            for e in m.step(AAPL, now):
                if isinstance(e, PriceTick):
                    state[e.tick_type] = e.price
                elif isinstance(e, SizeTick):
                    state[e.tick_type] = e.size
    for now in times(1, T0 + timedelta(seconds=100)):
        for e in m.step(AAPL, now):
            if isinstance(e, PriceTick):
                state[e.tick_type] = e.price
            elif isinstance(e, SizeTick):
                state[e.tick_type] = e.size
    q = m.quote(AAPL)
    assert state[1] == q.bid and state[2] == q.ask and state[4] == q.last
    assert state[8] == q.volume and state[0] == q.bid_size


# -- tick by tick ----------------------------------------------------------------------------------


def test_tick_by_tick_consistent_with_quote(universe: Universe) -> None:
    m = Market(universe, 18)
    current = m.tick_by_tick_current(AAPL, "BidAsk")
    q = m.quote(AAPL)
    assert isinstance(current, TickByTickBidAsk)
    assert (current.bid, current.ask, current.bid_size, current.ask_size) == (
        q.bid,
        q.ask,
        q.bid_size,
        q.ask_size,
    )
    trades = 0
    for now in times(200):
        evs = m.step(AAPL, now)
        q = m.quote(AAPL)
        ba = m.tick_by_tick(AAPL, "BidAsk")
        quote_changed = any(e.tick_type in (0, 1, 2, 3) for e in evs)
        assert bool(ba) == quote_changed
        if ba:
            last = ba[-1]
            assert isinstance(last, TickByTickBidAsk)
            assert (last.bid, last.ask, last.bid_size, last.ask_size) == (
                q.bid,
                q.ask,
                q.bid_size,
                q.ask_size,
            )
            assert last.time == int(now.timestamp())
            assert last.mask == (q.bid < q.low) | (q.ask > q.high) << 1
        mid = m.tick_by_tick(AAPL, "MidPoint")
        if mid:
            assert isinstance(mid[-1], TickByTickMidPoint)
            assert mid[-1].mid_point == pytest.approx((q.bid + q.ask) / 2, abs=1e-9)
        lasts = m.tick_by_tick(AAPL, "Last")
        assert m.tick_by_tick(AAPL, "AllLast") == lasts
        last_ticks = [e for e in evs if isinstance(e, PriceTick) and e.tick_type == 4]
        assert bool(lasts) == bool(last_ticks)
        for t in lasts:
            assert isinstance(t, TickByTickAllLast)
            assert (t.price, t.size) == (q.last, q.last_size)
            assert t.exchange and t.mask == 0
            trades += 1
    assert trades > 20
    with pytest.raises(ValueError, match="tick-by-tick"):
        m.tick_by_tick(AAPL, "Bogus")  # type: ignore[arg-type]


# -- depth ----------------------------------------------------------------------------------------


@given(
    old=st.lists(st.integers(0, 30), unique=True, max_size=12),
    new=st.lists(st.integers(0, 30), unique=True, max_size=12),
    sizes=st.lists(st.integers(1, 3), min_size=31, max_size=31),
)
def test_diff_side_reproduces_any_side(old: list[int], new: list[int], sizes: list[int]) -> None:
    rows_old = [DepthRow(p / 4, Decimal(1), "") for p in sorted(old)]
    rows_new = [DepthRow(p / 4, Decimal(sizes[p]), "") for p in sorted(new)]
    book: list[list[DepthRow]] = [list(rows_old), []]
    ops = _diff_side(0, rows_old, rows_new)
    apply_ops(book, ops)
    assert book[0] == rows_new
    assert all(op.side == 0 for op in ops)


@pytest.mark.parametrize("which", ["AAPL", "EUR.USD", "ES", "SPX option", "BTC"])
def test_depth_ops_reproduce_engine_book(universe: Universe, which: str) -> None:
    con_id = {"AAPL": AAPL, "EUR.USD": EURUSD, "BTC": BTC}.get(which)
    if which == "ES":
        fut = universe.front_future("ES")
        assert fut is not None
        con_id = fut.con_id
    elif which == "SPX option":
        spx = universe.by_con_id(SPX)
        assert spx is not None
        con_id = option(universe, SPX, "C", spx.price * 1.01).con_id
    assert con_id is not None
    m = Market(universe, 19)
    m.depth_book(con_id, 10)
    clients: dict[int, list[list[DepthRow]]] = {rows: [[], []] for rows in (3, 5, 10)}
    for rows, book in clients.items():
        apply_ops(book, m.initial_depth(con_id, rows))
        assert list(m.depth_book(con_id).rows(rows)) == book
    counts = [0, 0, 0]
    for now in times(300):
        for rows, book in clients.items():
            ops = m.step_depth(con_id, rows, now)
            apply_ops(book, ops)
            for op in ops:
                counts[op.operation] += 1
            asks, bids = m.depth_book(con_id).rows(rows)
            assert book == [asks, bids]
            assert len(asks) == rows and len(bids) == rows
            assert [r.price for r in asks] == sorted(r.price for r in asks)
            assert [r.price for r in bids] == sorted((r.price for r in bids), reverse=True)
            q = m.quote(con_id)
            assert asks[0].price == q.ask and bids[0].price == q.bid
            assert asks[0].size == q.ask_size and bids[0].size == q.bid_size
            assert all(isinstance(r.size, Decimal) and r.size > 0 for r in asks + bids)
            assert all(on_grid(universe, con_id, r.price) for r in asks + bids)
    assert all(counts), counts  # inserts, updates and deletes all happened


def test_depth_same_now_same_ops(universe: Universe) -> None:
    """Subscribers calling at the same ``now`` get the same update's operations."""
    m = Market(universe, 20)
    m.initial_depth(AAPL, 5)
    for now in times(30):
        first = m.step_depth(AAPL, 5, now)
        assert m.step_depth(AAPL, 5, now) == first


def test_depth_market_makers(universe: Universe) -> None:
    m = Market(universe, 21)
    ops = m.initial_depth(AAPL, 5)
    assert len(ops) == 10
    assert all(isinstance(op, DepthOp) and op.operation == 0 for op in ops)
    assert all(op.market_maker for op in ops)
    assert not any(op.market_maker for op in m.initial_depth(EURUSD, 5))
    assert m.initial_depth(SPX, 5) == []


def test_step_a_thousand_instruments(universe: Universe) -> None:
    """No timing assertion: the engine copes with a thousand live instruments."""
    m = Market(universe, 22)
    ids = [i.con_id for i in universe.instruments][:1000]
    assert len(ids) == 1000
    for c in ids:
        m.initial_ticks(c, set(), T0)
    for now in times(2):
        out = [m.step(c, now) for c in ids]
    assert sum(map(len, out)) > 0


def test_invalid_interval(universe: Universe) -> None:
    with pytest.raises(ValueError, match="interval"):
        Market(universe, interval=0)
    start = Market(universe, 1).quote(AAPL).midpoint
    slow, fast = Market(universe, 1, interval=60.0), Market(universe, 1)
    for now in times(100):
        slow.step(AAPL, now)
        fast.step(AAPL, now)
    # the same draws, scaled by sqrt(interval)
    moved_slow = abs(math.log(slow.quote(AAPL).midpoint / start))
    moved_fast = abs(math.log(fast.quote(AAPL).midpoint / start))
    assert moved_slow > moved_fast


def test_an_instrument_first_used_without_a_time_starts_at_the_clock(universe: Universe) -> None:
    # the simulator's first use of an instrument may carry no time (its update counter, a
    # quote for an order): it starts at the clock's time, not at 09:30 of the universe's day,
    # so the first tick-by-tick record is not stamped hours ahead of the ones after it
    early = T0 - timedelta(hours=2)  # 08:00 New York: before the open
    clocked = Market(universe, seed=1, clock=early.timestamp)
    assert clocked.serial(AAPL) == 0
    first = clocked.tick_by_tick_current(AAPL, "MidPoint")
    assert isinstance(first, TickByTickMidPoint) and first.time == int(early.timestamp())
    clocked.step(AAPL, early + timedelta(seconds=1))
    assert [r.time for r in clocked.tick_by_tick(AAPL, "MidPoint")] in ([], [first.time + 1])
    unclocked = Market(universe, seed=1)  # no clock: a fixed 09:30 New York on the day
    fixed = unclocked.tick_by_tick_current(AAPL, "MidPoint")
    assert fixed is not None
    assert fixed.time == int(datetime(2026, 3, 2, 14, 30, tzinfo=UTC).timestamp())
