"""Contract messages beyond the generic tables (rows in ``rows_contracts.py``).

* CONTRACT_DATA and BOND_CONTRACT_DATA change layout at versions the suite's ``VERSIONS`` skip
  (163: ``sizeMinTick``; 164: no version field, no ``mdSizeMultiplier``, ``minSize`` & co;
  179 funds, 182 ``lastTradeDate``, 186 ineligibility reasons, 188 bond trading hours): the
  rows run there too, and the official decoder must read every field aiotws writes.
* Official-client quirks and deliberate differences are pinned, so a change on either side
  shows up; disagreements where aiotws is wrong are ``xfail(strict=True)`` with ``MISMATCH``.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ibapi.const import UNSET_DOUBLE, UNSET_INTEGER
from ibapi.contract import FundAssetType
from ibapi.utils import BadMessage

from aiotws.errors import InvalidField, UnsupportedByServer
from aiotws.model import Contract
from aiotws.model.contract import IneligibilityReason
from aiotws.wire import InMessage, decode_in, encode
from aiotws.wire import messages as m

from .incoming_table import INCOMING
from .incoming_table import Row as InRow
from .outgoing_table import OUTGOING
from .rows_contracts import CONTRACT_KEYS, _contract_args, official_contract
from .support import VERSIONS, official_decode, offline_client
from .test_incoming import check
from .test_outgoing import Refused, Sent, ours, theirs

#: layout changes of CONTRACT_DATA / BOND_CONTRACT_DATA between and around ``VERSIONS``
EXTRA_VERSIONS = (163, 164, 179, 182, 186, 188)
DETAIL_ROWS = [r for r in INCOMING if r.cls in (m.ContractData, m.BondContractData)]
CONTRACT_ROWS = [
    r
    for r in INCOMING
    if r.cls.__module__ == m.ContractData.__module__  # every row of rows_contracts
]
EXTRA = [pytest.param(r, v, id=f"{r.id}-{v}") for r in DETAIL_ROWS for v in EXTRA_VERSIONS]
ALL = [
    pytest.param(r, v, id=f"{r.id}-{v}")
    for r in CONTRACT_ROWS
    for v in sorted({*VERSIONS, *EXTRA_VERSIONS})
]


def _payload(msg: InMessage, version: int) -> bytes:
    return encode(msg, version)[4:]


@pytest.mark.parametrize(("row", "version"), EXTRA)
def test_samples_at_layout_changes(row: InRow, version: int) -> None:
    for msg in row.samples(version):
        check(row, msg, version)


@pytest.mark.parametrize(("row", "version"), EXTRA)
@given(data=st.data())
def test_generated_at_layout_changes(row: InRow, version: int, data: st.DataObject) -> None:
    msg = data.draw(row.messages(version), label="message")
    check(row, msg, version)
    # fields the official client reads and drops (mdSizeMultiplier, sizeMinTick) round trip
    assert decode_in(_payload(msg, version), version, strict=True) == msg


@pytest.mark.parametrize(("row", "version"), ALL)
def test_official_decoder_reads_every_field(row: InRow, version: int) -> None:
    """No field aiotws writes is left over: without the last one the official decoder fails
    (``BadMessage``) or, for the messages it decodes by signature, makes no callback.

    (The official decoder ignores trailing fields, so equal views alone would not show an
    extra field at the end, e.g. a gate one version off.)
    """
    for msg in row.samples(version):
        payload = _payload(msg, version)
        short = payload[: payload.rindex(b"\0", 0, len(payload) - 1) + 1]
        try:
            calls = official_decode(short, version)
        except (BadMessage, TypeError):  # TypeError: its handler joins bytes with ","
            calls = []
        assert row.callback not in [c.name for c in calls], f"{short!r} still decodes"


# -- official quirks and deliberate differences, pinned -----------------------------------------


def _official_details(msg: InMessage, version: int) -> object:
    (call,) = official_decode(_payload(msg, version), version)
    return call["contractDetails"]


def test_fund_asset_type_others_is_lost_by_the_official_client() -> None:
    """``FundAssetType.Others`` is declared ``("000", "Others"),`` (a stray comma makes its
    value a 1-tuple), so the official decoder reads "000" as ``NoneItem``; unknown codes
    also become ``NoneItem``. aiotws keeps the codes as sent."""
    msg = m.ContractData(
        1, sec_type="FUND", fund_asset_type="000", fund_distribution_policy_indicator="X"
    )
    cd = _official_details(msg, 200)
    assert cd.fundAssetType is FundAssetType.NoneItem  # type: ignore[attr-defined]
    assert cd.fundDistributionPolicyIndicator.name == "NoneItem"  # type: ignore[attr-defined]
    ours = decode_in(_payload(msg, 200), 200)
    assert isinstance(ours, m.ContractData)
    assert (ours.fund_asset_type, ours.fund_distribution_policy_indicator) == ("000", "X")


def test_fund_block_only_for_fund() -> None:
    """Both sides read the 17 fund fields only for secType FUND, from 179 on."""
    fund = m.ContractData(1, sec_type="FUND", fund_name="F", fund_closed=True)
    no_fund = dataclasses.replace(fund).at_version(178)
    assert _payload(fund, 179).count(b"\0") - _payload(no_fund, 178).count(b"\0") == 17
    assert _official_details(fund, 179).fundName == "F"  # type: ignore[attr-defined]
    stock = m.ContractData(1, sec_type="STK")
    assert _payload(stock, 179).count(b"\0") == _payload(stock, 178).count(b"\0")
    with pytest.raises(UnsupportedByServer):
        encode(fund, 178)  # fund fields set, the server cannot carry them


@pytest.mark.parametrize("version", [176, 200])
def test_escaped_text_the_official_client_leaves_escaped(version: int) -> None:
    """A deliberate difference: TWS sends non-ASCII text as ``\\uXXXX`` from 153 on
    (PROTOCOL.md 3.1: long names among them). The official client unescapes CONTRACT_DATA's
    ``longName`` only, not BOND_CONTRACT_DATA's ``longName`` nor ineligibility reason
    descriptions; aiotws unescapes all three (they are TEXT fields)."""
    text = "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"
    bond = m.BondContractData(1, long_name=text)
    assert _official_details(bond, version).longName == "Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale"  # type: ignore[attr-defined]
    assert decode_in(_payload(bond, version), version).long_name == text  # type: ignore[attr-defined]
    stock = m.ContractData(1, long_name=text)
    assert _official_details(stock, version).longName == text  # type: ignore[attr-defined]
    if version >= 186:
        msg = m.ContractData(1, ineligibility_reasons=[IneligibilityReason("1", text)])
        (reason,) = _official_details(msg, version).ineligibilityReasonList  # type: ignore[attr-defined]
        assert reason.description == "Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale"
        got = decode_in(_payload(msg, version), version)
        assert got.ineligibility_reasons[0].description == text  # type: ignore[attr-defined]


def test_agg_group_unset_forms() -> None:
    """The official decoder reads an empty aggGroup as 0 and ``2147483647`` as itself;
    aiotws reads both as ``None`` and writes ``None`` as ``2147483647``, as TWS does."""
    (row,) = [r for r in INCOMING if r.cls is m.ContractData]
    payload = row.raw[0][1]  # captured-style AAPL at 176, aggGroup 2147483647
    assert b"\x002147483647\x00" in payload
    assert _official_details(decode_in(payload, 176), 176).aggGroup == UNSET_INTEGER  # type: ignore[attr-defined]
    (call,) = official_decode(payload, 176)
    assert call["contractDetails"].aggGroup == UNSET_INTEGER
    assert decode_in(payload, 176).agg_group is None  # type: ignore[attr-defined]


def test_bond_zone_from_maturity_is_kept_when_the_field_is_empty() -> None:
    """A deliberate difference in the model record: BOND_CONTRACT_DATA's maturity may carry a
    zone (``20301115 16:00 US/Eastern``). Below 188 both take it as timeZoneId; from 188 the
    official decoder overwrites it with the timeZoneId field even when that is empty, while
    ``BondContractData.details()`` keeps the zone unless the field has one."""
    msg = m.BondContractData(1, maturity="20301115 16:00 US/Eastern")
    for version, official_zone in ((176, "US/Eastern"), (188, "")):
        cd = _official_details(msg, version)
        assert (cd.maturity, cd.lastTradeTime, cd.timeZoneId) == (  # type: ignore[attr-defined]
            "20301115",
            "16:00",
            official_zone,
        )
        d = decode_in(_payload(msg, version), version).details()  # type: ignore[attr-defined]
        assert (d.maturity, d.last_trade_time, d.time_zone_id) == (
            "20301115",
            "16:00",
            "US/Eastern",
        )


def test_option_parameters_are_sets_in_the_official_client() -> None:
    """The official client hands expirations and strikes over as sets: order and duplicates
    (which TWS does not send) are gone; aiotws keeps the lists as sent."""
    msg = m.SecurityDefinitionOptionParameter(
        1, "SMART", 1, "X", "100", ["20270115", "20261218", "20261218"], [200.0, 150.0, 200.0]
    )
    (call,) = official_decode(_payload(msg, 176), 176)
    assert call["expirations"] == {"20261218", "20270115"}
    assert call["strikes"] == {150.0, 200.0}
    assert decode_in(_payload(msg, 176), 176) == msg


def _req_contract(version: int, **changes: object) -> tuple[object, object]:
    (row,) = [r for r in OUTGOING if r.cls is m.ReqContractData]
    args = _contract_args(**{"sec_type": "OPT", "symbol": "X", **changes})
    return theirs(row, args, version), ours(row, args, version)


def test_strike_2147483647_is_sent_empty_by_the_official_client() -> None:
    """``make_field_handle_empty`` treats a strike equal to ``UNSET_INTEGER`` as unset: the
    official client sends ``2147483647.0`` as an empty field (no strike). aiotws sends the
    number asked for; an official-client quirk, pinned."""
    official, aiotws = _req_contract(176, strike=float(UNSET_INTEGER))
    assert isinstance(official, Sent) and isinstance(aiotws, Sent)
    assert b"\x00OPT\x00\x00\x00" in official.data
    assert b"\x00OPT\x00\x002147483647.0\x00" in aiotws.data


@pytest.mark.parametrize("strike", [math.nan, -math.inf])
def test_unsendable_strikes(strike: float) -> None:
    """NaN and -inf have no TWS form: the official client sends Python's ``nan``/``-inf``
    (which TWS's Java parser rejects), aiotws refuses before sending."""
    official, aiotws = _req_contract(176, strike=strike)
    assert isinstance(official, Sent)
    assert str(strike).encode() + b"\x00" in official.data
    assert aiotws == Refused("invalid")


# -- mismatches: aiotws is wrong ----------------------------------------------------------------


def test_strike_unset_double_is_sent_empty() -> None:
    official, aiotws = _req_contract(176, strike=UNSET_DOUBLE)
    assert official == aiotws


def test_refusal_reason_version_before_value() -> None:
    official, aiotws = _req_contract(157, symbol="caf\u00e9", issuer_id="e1")
    assert official == Refused("unsupported")
    assert aiotws == official


def test_details_survive_odd_market_rule_ids() -> None:
    payload = _payload(m.ContractData(1, market_rule_ids="26,--5"), 176)
    msg = decode_in(payload, 176)
    assert isinstance(msg, m.ContractData)
    assert msg.details().market_rule_ids == [26]


# -- sanity of the oracle side ------------------------------------------------------------------


def test_official_contract_mapping_covers_the_block() -> None:
    """Every field REQ_CONTRACT_DATA's block sends is set on the official Contract too."""
    args = _contract_args(strike=None)
    c = official_contract(args)
    assert c.strike == UNSET_DOUBLE
    block = [spec.name for spec in m.ReqContractData.LAYOUT.specs[1].codec.layout.specs]  # type: ignore[attr-defined]
    assert block == [k for k, _ in CONTRACT_KEYS]
    client, conn, _ = offline_client(200)
    client.reqContractDetails(1, c)
    assert conn.sent == [encode(m.ReqContractData(1, Contract()), 200)]


def test_issuer_id_both_refuse_below_176() -> None:
    official, aiotws = _req_contract(175, issuer_id="e1")
    assert official == aiotws == Refused("unsupported")
    with pytest.raises(UnsupportedByServer):
        encode(m.ReqContractData(1, Contract(issuer_id="e1")), 175)
    with pytest.raises(InvalidField):
        encode(m.ReqContractData(1, Contract(symbol="\u00e9")), 176)
