"""The official client asks ``aiotws sim`` about accounts, and gets what TWS sends.

Positions (all accounts and per account), account updates, account summaries, PnL of the
account and of one position, family codes and user info: decoded by the official ``Decoder``
without errors, with the values the simulator's ledger (:func:`aiotws.sim.accounts.ledger_of`)
holds. Positions are seeded with :func:`aiotws.sim.accounts.seed_position` and fills booked
straight into the ledger (as the order engine does). Real sockets: an official ``EClient``
against an in-process :class:`aiotws.sim.Simulator` (see ``support.py``).

The streaming simulators run their clock ``SPEED`` times as fast as the real one, so the
once-a-second PnL stream arrives every 20 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, TypeVar

import pytest

from aiotws.model.contract import Contract
from aiotws.sim import Simulator
from aiotws.sim.accounts import ledger_of, publish_fill, seed_position
from aiotws.sim.ledger import ALL_SUMMARY_TAGS, Ledger

from .support import Call, Harness, OfficialSession, round_trip, wait_for_count

T = TypeVar("T")

ACCT: Final = "DU1234567"
SPEED: Final = 50.0
CLOCK: Final = 0.01
AAPL: Final = Contract(
    sec_type="STK", con_id=265598, symbol="AAPL", exchange="SMART", primary_exchange="NASDAQ",
    currency="USD", local_symbol="AAPL", trading_class="NMS",
)  # fmt: skip
MSFT: Final = Contract(sec_type="STK", con_id=272093, symbol="MSFT", currency="USD")


def _fast_sim(harness: Harness, **settings: Any) -> Simulator:
    t0 = time.monotonic()
    return harness.sim(
        tick_interval=CLOCK, clock=lambda: t0 + (time.monotonic() - t0) * SPEED, **settings
    )


def _ledger(harness: Harness, sim: Simulator, ask: Callable[[Ledger], T]) -> T:
    """What the simulator's ledger answers (asked in the simulator's thread)."""
    return harness.loop.call(lambda: ask(ledger_of(sim)))


def _calls(s: OfficialSession, name: str, start: int = 0) -> list[Call]:
    return s.wrapper.named(name, start)


def _no_errors(s: OfficialSession, start: int) -> None:
    errors = [(e["reqId"], e["errorCode"], e["errorString"]) for e in s.wrapper.errors(start)]
    assert errors == []


def _seed(harness: Harness, sim: Simulator) -> None:
    harness.loop.call(lambda: seed_position(sim, ACCT, AAPL, Decimal(100), 150.25))


@pytest.mark.parametrize("version", [157, 200])
def test_positions_and_updates(harness: Harness, version: int) -> None:
    sim = harness.sim(max_version=version)
    _seed(harness, sim)
    s = harness.connect(sim)
    start = mark = s.wrapper.mark()
    s.client.reqPositions()
    s.wrapper.wait_for("positionEnd", start=mark)
    [p] = _calls(s, "position", mark)
    assert p["account"] == ACCT
    c = p["contract"]
    assert (c.conId, c.symbol, c.secType, c.currency) == (AAPL.con_id, "AAPL", "STK", "USD")
    assert (p["position"], p["avgCost"]) == (Decimal(100), 150.25)
    # a fill streams a position update
    mark = s.wrapper.mark()

    def fill() -> None:
        ledger_of(sim).apply_fill(ACCT, MSFT, "BOT", Decimal(10), 400.0, 1.0)
        publish_fill(sim, ACCT, MSFT.con_id)

    harness.loop.call(fill)
    u = s.wrapper.wait_for("position", start=mark)
    assert (u["contract"].conId, u["position"], u["avgCost"]) == (MSFT.con_id, Decimal(10), 400.1)
    s.client.cancelPositions()
    # per account
    mark = s.wrapper.mark()
    s.client.reqPositionsMulti(5, ACCT, "")
    s.wrapper.wait_for("positionMultiEnd", start=mark)
    multi = _calls(s, "positionMulti", mark)
    assert {(m["reqId"], m["account"], m["contract"].conId, m["pos"]) for m in multi} == {
        (5, ACCT, AAPL.con_id, Decimal(100)),
        (5, ACCT, MSFT.con_id, Decimal(10)),
    }
    s.client.cancelPositionsMulti(5)
    round_trip(s)
    _no_errors(s, start)


def test_account_updates(harness: Harness) -> None:
    sim = harness.sim()
    _seed(harness, sim)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqAccountUpdates(True, ACCT)
    end = s.wrapper.wait_for("accountDownloadEnd", start=mark)
    assert end["accountName"] == ACCT
    got = {(v["key"], v["currency"]): v["val"] for v in _calls(s, "updateAccountValue", mark)}
    want = _ledger(harness, sim, lambda g: g.account_values(ACCT))
    assert got == {(v.tag, v.currency): v.value for v in want}
    assert {v["accountName"] for v in _calls(s, "updateAccountValue", mark)} == {ACCT}
    [pf] = _calls(s, "updatePortfolio", mark)
    [item] = _ledger(harness, sim, lambda g: g.portfolio(ACCT))
    assert pf["contract"].conId == AAPL.con_id
    assert pf["contract"].primaryExchange == "NASDAQ"
    assert (pf["position"], pf["averageCost"], pf["accountName"]) == (Decimal(100), 150.25, ACCT)
    assert (pf["marketPrice"], pf["marketValue"], pf["unrealizedPNL"]) == (
        item.market_price,
        item.market_value,
        item.unrealized_pnl,
    )
    [t] = _calls(s, "updateAccountTime", mark)
    assert len(t["timeStamp"]) == 5 and t["timeStamp"][2] == ":"
    # a new subscription replaces the old one (2100), an unknown account is refused
    mark = s.wrapper.mark()
    s.client.reqAccountUpdates(True, ACCT)
    s.wrapper.wait_for("accountDownloadEnd", start=mark)
    s.client.reqAccountUpdates(True, "DU0000000")
    s.wrapper.wait_for("error", lambda c: c["errorCode"] == 321, start=mark)
    assert [e["errorCode"] for e in s.wrapper.errors(mark)] == [2100, 321]
    s.client.reqAccountUpdates(False, ACCT)
    mark = s.wrapper.mark()
    s.client.reqAccountUpdatesMulti(7, ACCT, "", True)
    s.wrapper.wait_for("accountUpdateMultiEnd", start=mark)
    keys = {c["key"] for c in _calls(s, "accountUpdateMulti", mark)}
    assert {"NetLiquidation", "CashBalance", "StockMarketValue"} <= keys
    assert "BuyingPower" not in keys
    s.client.cancelAccountUpdatesMulti(7)
    round_trip(s)
    _no_errors(s, mark)


def test_account_summary(harness: Harness) -> None:
    sim = harness.sim()
    _seed(harness, sim)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    all_tags = ",".join(ALL_SUMMARY_TAGS)
    s.client.reqAccountSummary(11, "All", all_tags)
    s.client.reqAccountSummary(12, "All", "$LEDGER")
    s.wrapper.wait_for("accountSummaryEnd", lambda c: c["reqId"] == 12, start=mark)
    rows = _calls(s, "accountSummary", mark)
    got = [(r["account"], r["tag"], r["value"], r["currency"]) for r in rows if r["reqId"] == 11]
    want = _ledger(harness, sim, lambda g: g.summary(ACCT, ALL_SUMMARY_TAGS))
    assert got == [(v.account, v.tag, v.value, v.currency) for v in want]
    ledger_rows = [r for r in rows if r["reqId"] == 12]
    assert {r["currency"] for r in ledger_rows} == {"USD"}
    assert "CashBalance" in {r["tag"] for r in ledger_rows}
    _no_errors(s, mark)
    s.client.reqAccountSummary(13, "All", "NetLiquidation")
    e = s.wrapper.wait_for("error", start=mark)
    assert (e["reqId"], e["errorCode"]) == (13, 322)
    s.client.cancelAccountSummary(11)
    s.client.cancelAccountSummary(12)
    round_trip(s)


def test_pnl_and_pnl_single(harness: Harness) -> None:
    sim = _fast_sim(harness)
    _seed(harness, sim)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqPnL(21, ACCT, "")
    s.client.reqPnLSingle(22, ACCT, "", AAPL.con_id)
    s.client.reqPnLSingle(23, ACCT, "", MSFT.con_id)  # not held: no reply at all
    pnl = wait_for_count(s.wrapper, lambda c: c.name == "pnl", 3, start=mark)
    single = wait_for_count(s.wrapper, lambda c: c.name == "pnlSingle", 3, start=mark)
    assert {c["reqId"] for c in pnl} == {21}
    assert {c["reqId"] for c in single} == {22}
    want = _ledger(harness, sim, lambda g: g.pnl(ACCT))
    assert pnl[0]["realizedPnL"] == want.realized_pnl == 0.0
    assert pnl[0]["unrealizedPnL"] == pytest.approx(want.unrealized_pnl, abs=0.02)
    one = _ledger(harness, sim, lambda g: g.pnl_single(ACCT, AAPL.con_id))
    assert one is not None
    assert single[0]["pos"] == Decimal(100)
    assert single[0]["value"] == pytest.approx(one.value, abs=0.02)
    assert single[0]["unrealizedPnL"] == pytest.approx(one.unrealized_pnl, abs=0.02)
    _no_errors(s, mark)
    s.client.cancelPnL(21)
    s.client.cancelPnLSingle(22)
    s.client.cancelPnLSingle(23)
    round_trip(s)


def test_family_codes_and_user_info(harness: Harness) -> None:
    sim = harness.sim(accounts=(ACCT, "DU7654321"))
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.reqFamilyCodes()
    s.client.reqUserInfo(31)
    fc = s.wrapper.wait_for("familyCodes", start=mark)
    ui = s.wrapper.wait_for("userInfo", start=mark)
    assert [(f.accountID, f.familyCodeStr) for f in fc["familyCodes"]] == [
        (ACCT, ""),
        ("DU7654321", ""),
    ]
    assert (ui["reqId"], ui["whiteBrandingId"]) == (31, "")
    _no_errors(s, mark)
