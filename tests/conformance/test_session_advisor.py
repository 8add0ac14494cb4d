"""The official client as an advisor against ``aiotws sim``: FA groups read, replaced, read back.

Real sockets: an official ``EClient`` against an in-process advisor-login
:class:`aiotws.sim.Simulator` (see ``support.py``). The XML the simulator sends is read back
by aiotws's parser from the official ``receiveFA`` callback (what an ibapi user would get);
``replaceFA`` with the official client's own bytes is answered by ``replaceFAEnd`` and stored.
Also: a non-FA login refused with 321, and FA data type 2 (profiles) at 176 / 177+ on both
clients' encoders.
"""

from __future__ import annotations

import pytest

from aiotws.model.advisor import FaGroup, FaMethod, groups_to_xml, parse_aliases, parse_groups
from aiotws.sim.advisor import NON_FA_TEXT, REPLACED_TEXT, fa_book_of
from aiotws.wire import encode
from aiotws.wire.messages.advisor import ReqFa

from .support import Harness, offline_client, round_trip

ACCOUNTS = ("DF1234567", "DU1234568", "DU1234569", "DU1234570")


@pytest.mark.parametrize("version", [157, 176, 177, 200])
def test_request_and_replace_groups(harness: Harness, version: int) -> None:
    sim = harness.sim(accounts=ACCOUNTS, max_version=version)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.requestFA(1)
    got = s.wrapper.wait_for("receiveFA", start=mark)
    assert got["faData"] == 1
    groups = parse_groups(got["cxml"])
    assert {g.name for g in groups} >= {"Everyone", "EqualSplit", "ByNetLiq"}
    legacy = version < 177
    assert ("<String>" in got["cxml"]) is legacy
    new = [FaGroup.of("Pair", FaMethod.EQUAL, ACCOUNTS[1:3])]
    mark = s.wrapper.mark()
    s.client.replaceFA(41, 1, groups_to_xml(new, legacy=legacy))
    end = s.wrapper.wait_for("replaceFAEnd", start=mark)
    assert (end["reqId"], end["text"]) == (41, REPLACED_TEXT)
    s.client.requestFA(1)
    back = s.wrapper.wait_for("receiveFA", start=mark)
    [pair] = [g for g in parse_groups(back["cxml"]) if g.name == "Pair"]
    assert pair.accounts == list(ACCOUNTS[1:3])
    assert pair.method is (FaMethod.EQUAL_QUANTITY if legacy else FaMethod.EQUAL)
    s.client.requestFA(3)
    aliases = s.wrapper.wait_for("receiveFA", lambda c: c["faData"] == 3, start=mark)
    assert [a.account for a in parse_aliases(aliases["cxml"])] == list(ACCOUNTS)
    round_trip(s)
    assert s.wrapper.errors(mark) == []
    assert "Pair" in [g.name for g in harness.loop.call(lambda: fa_book_of(sim).groups)]


def test_replace_with_bad_accounts_is_refused(harness: Harness) -> None:
    sim = harness.sim(accounts=ACCOUNTS)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.replaceFA(42, 1, groups_to_xml([FaGroup.of("X", FaMethod.NET_LIQ, ["U999"])]))
    e = s.wrapper.wait_for("error", start=mark)
    assert (e["reqId"], e["errorCode"]) == (42, 10231)
    assert s.wrapper.named("replaceFAEnd", mark) == []


def test_non_fa_login_is_refused(harness: Harness) -> None:
    sim = harness.sim()
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.requestFA(1)
    e = s.wrapper.wait_for("error", start=mark)
    assert (e["reqId"], e["errorCode"], e["errorString"]) == (-1, 321, NON_FA_TEXT)
    round_trip(s)
    assert s.wrapper.named("receiveFA", mark) == []


def test_profiles_below_177_only() -> None:
    # 176: both encoders send type 2 alike
    client, conn, _ = offline_client(176)
    client.requestFA(2)
    assert conn.sent == [encode(ReqFa(2), 176)]
    # 177+: the official client refuses it itself (585); aiotws's client raises
    # UnsupportedByServer before the wire (see test_e2e_advisor.py)
    client, conn, wrapper = offline_client(177)
    client.requestFA(2)
    assert conn.sent == []
    assert [c["errorCode"] for c in wrapper.errors()] == [585]


def test_profiles_against_the_sim_at_176(harness: Harness) -> None:
    sim = harness.sim(accounts=ACCOUNTS, max_version=176)
    s = harness.connect(sim)
    mark = s.wrapper.mark()
    s.client.requestFA(2)
    got = s.wrapper.wait_for("receiveFA", start=mark)
    assert got["faData"] == 2
    assert "<ListOfAllocationProfiles>" in got["cxml"] and "Split6040" in got["cxml"]
