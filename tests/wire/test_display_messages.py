"""Display group, verify/auth, soft dollar tier and delta-neutral validation messages:
hand-written frames at 157 and 200 (none of them has a gate inside 157..200)."""

from __future__ import annotations

import pytest

from aiotws.errors import InvalidField
from aiotws.model import DeltaNeutralContract, SoftDollarTier
from aiotws.model.contract import Contract
from aiotws.model.display import DisplayGroupSelection, contract_info_of
from aiotws.wire import decode_in, encode
from aiotws.wire.messages import accounts as A
from aiotws.wire.messages import display as D
from aiotws.wire.messages import orders as O

from .roundtrip import both_ways, nul

VERSIONS = (157, 200)


@pytest.mark.parametrize("version", VERSIONS)
def test_display_group_requests(version: int) -> None:
    both_ways(D.QueryDisplayGroups(3), version, nul("67", "1", "3"))
    both_ways(D.SubscribeToGroupEvents(4, 2), version, nul("68", "1", "4", "2"))
    both_ways(D.UpdateDisplayGroup(4, "8314@SMART"), version, nul("69", "1", "4", "8314@SMART"))
    both_ways(D.UnsubscribeFromGroupEvents(4), version, nul("70", "1", "4"))


@pytest.mark.parametrize("version", VERSIONS)
def test_display_group_answers(version: int) -> None:
    m = D.DisplayGroupList(3, "1|2|3|4|5|6|7")
    both_ways(m, version, nul("67", "1", "3", "1|2|3|4|5|6|7"))
    assert m.group_ids() == [1, 2, 3, 4, 5, 6, 7]
    assert D.DisplayGroupList(3, "").group_ids() == []
    both_ways(
        D.DisplayGroupUpdated(4, "265598@SMART"), version, nul("68", "1", "4", "265598@SMART")
    )
    both_ways(D.DisplayGroupUpdated(4, "none"), version, nul("68", "1", "4", "none"))


@pytest.mark.parametrize("version", VERSIONS)
def test_verify_requests(version: int) -> None:
    both_ways(D.VerifyRequest("app", "1.2"), version, nul("65", "1", "app", "1.2"))
    both_ways(D.VerifyMessage("data"), version, nul("66", "1", "data"))
    both_ways(
        D.VerifyAndAuthRequest("app", "1.2", "key"), version, nul("72", "1", "app", "1.2", "key")
    )
    both_ways(D.VerifyAndAuthMessage("data", "resp"), version, nul("73", "1", "data", "resp"))


@pytest.mark.parametrize("version", VERSIONS)
def test_verify_answers(version: int) -> None:
    both_ways(D.VerifyMessageApi("challenge"), version, nul("65", "1", "challenge"))
    both_ways(D.VerifyCompleted(True, ""), version, nul("66", "1", "true", ""))
    both_ways(D.VerifyCompleted(False, "nope"), version, nul("66", "1", "false", "nope"))
    both_ways(D.VerifyAndAuthMessageApi("d", "xyz"), version, nul("69", "1", "d", "xyz"))
    both_ways(D.VerifyAndAuthCompleted(False, "no"), version, nul("70", "1", "false", "no"))
    # isSuccessful is the text "true": "1" is not true (the official Java/C++ decoders)
    assert decode_in(nul("66", "1", "1", ""), version) == D.VerifyCompleted(False, "")
    assert decode_in(nul("70", "1", "TRUE", "x"), version) == D.VerifyAndAuthCompleted(True, "x")


@pytest.mark.parametrize("version", VERSIONS)
def test_soft_dollar_tiers(version: int) -> None:
    both_ways(A.ReqSoftDollarTiers(9), version, nul("79", "9"))
    tiers = [SoftDollarTier("Research", "RES1", "Research"), SoftDollarTier("E", "2", "")]
    both_ways(
        A.SoftDollarTiers(9, tiers),
        version,
        nul("77", "9", "2", "Research", "RES1", "Research", "E", "2", ""),
    )
    both_ways(A.SoftDollarTiers(9, []), version, nul("77", "9", "0"))


@pytest.mark.parametrize("version", VERSIONS)
def test_delta_neutral_validation(version: int) -> None:
    m = O.DeltaNeutralValidation(12, 265598, 0.5, 185.25)
    both_ways(m, version, nul("56", "1", "12", "265598", "0.5", "185.25"))
    assert m.record() == DeltaNeutralContract(265598, 0.5, 185.25)


def test_outgoing_text_must_be_ascii() -> None:
    with pytest.raises(InvalidField):
        encode(D.UpdateDisplayGroup(1, "caf\u00e9"), 200)


def test_selection_and_contract_info() -> None:
    assert DisplayGroupSelection.parse("8314@SMART") == DisplayGroupSelection(
        "8314@SMART", 8314, "SMART"
    )
    none = DisplayGroupSelection.parse("none")
    assert none.is_empty and none.con_id is None and none.contract() is None
    assert DisplayGroupSelection.parse("combo").is_combo
    assert contract_info_of(Contract(con_id=8314)) == "8314@SMART"
    assert contract_info_of(Contract(con_id=8314, exchange="ARCA")) == "8314@ARCA"
    assert contract_info_of(None) == "none"
    with pytest.raises(ValueError):
        contract_info_of(Contract(symbol="IBM"))
