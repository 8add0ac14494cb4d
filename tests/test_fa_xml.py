"""FA XML: parsing TWS's documents into records, writing them back, round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.errors import FaXmlError
from aiotws.model.advisor import (
    FaAlias,
    FaGroup,
    FaMember,
    FaMethod,
    FaProfile,
    FaProfileType,
    aliases_to_xml,
    check_fa_order,
    groups_to_xml,
    parse_aliases,
    parse_groups,
    parse_profiles,
    profiles_to_xml,
)

D = Decimal

#: the current (unified, 177+) shape, as IB documents it
CURRENT = """<?xml version="1.0" encoding="UTF-8"?>
<ListOfGroups>
  <Group>
    <name>Shares</name>
    <defaultMethod>ContractsOrShares</defaultMethod>
    <ListOfAccts varName="list">
      <Account><acct>DU6202167</acct><amount>100.0</amount></Account>
      <Account><acct>DU6202168</acct><amount>200.0</amount></Account>
    </ListOfAccts>
  </Group>
  <Group>
    <name>Even</name>
    <defaultMethod>Equal</defaultMethod>
    <ListOfAccts varName="list">
      <Account><acct>DU6202167</acct></Account>
      <Account><acct>DU6202168</acct></Account>
    </ListOfAccts>
  </Group>
</ListOfGroups>
"""

#: the legacy shape: <String> members, defaultMethod last, an element we do not model
LEGACY = """<?xml version="1.0" encoding="UTF-8"?>
<ListOfGroups>
  <Group>
    <name>EqualQuantity</name>
    <ListOfAccts varName="list">
      <String>DU2372888</String>
      <String>DU2372889</String>
    </ListOfAccts>
    <defaultMethod>EqualQuantity</defaultMethod>
    <linkedHFGroup>false</linkedHFGroup>
  </Group>
</ListOfGroups>
"""

PROFILES = """<?xml version="1.0" encoding="UTF-8"?>
<ListOfAllocationProfiles>
  <AllocationProfile>
    <name>PERCENT</name>
    <type>1</type>
    <ListOfAllocations varName="listOfAllocations">
      <Allocation><acct>DU2372888</acct><amount>80.0</amount></Allocation>
      <Allocation><acct>DU2372889</acct><amount>20.0</amount></Allocation>
    </ListOfAllocations>
  </AllocationProfile>
</ListOfAllocationProfiles>
"""

ALIASES = """<?xml version="1.0" encoding="UTF-8"?>
<ListOfAccountAliases>
  <AccountAlias><account>DF1234567</account><alias>Advisor</alias></AccountAlias>
  <AccountAlias><account>DU1234568</account><alias>Smith &amp; Sons</alias></AccountAlias>
</ListOfAccountAliases>
"""


def test_parse_current_groups() -> None:
    shares, even = parse_groups(CURRENT)
    assert shares.name == "Shares"
    assert shares.method is FaMethod.CONTRACTS_OR_SHARES
    assert shares.amounts() == {"DU6202167": D("100.0"), "DU6202168": D("200.0")}
    assert even.method is FaMethod.EQUAL
    assert even.accounts == ["DU6202167", "DU6202168"]
    assert [m.amount for m in even.members] == [None, None]


def test_parse_legacy_groups_keeps_unknown_elements() -> None:
    [g] = parse_groups(LEGACY)
    assert (g.name, g.method, g.accounts) == (
        "EqualQuantity",
        FaMethod.EQUAL_QUANTITY,
        ["DU2372888", "DU2372889"],
    )
    assert g.extra == ["<linkedHFGroup>false</linkedHFGroup>"]
    again = groups_to_xml([g], legacy=True)
    assert "<linkedHFGroup>false</linkedHFGroup>" in again
    assert parse_groups(again) == [g]


def test_unknown_method_is_kept_as_text() -> None:
    xml = CURRENT.replace("<defaultMethod>Equal</defaultMethod>", "<defaultMethod>Mystery"
                          "</defaultMethod>")  # fmt: skip
    g = parse_groups(xml)[1]
    assert g.method == "Mystery" and not isinstance(g.method, FaMethod)
    assert "<defaultMethod>Mystery</defaultMethod>" in groups_to_xml([g])


def test_current_round_trip() -> None:
    groups = parse_groups(CURRENT)
    xml = groups_to_xml(groups)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ListOfGroups>')
    assert '<ListOfAccts varName="list">' in xml
    assert parse_groups(xml) == groups


def test_legacy_writer_renames_equal_and_refuses_amounts() -> None:
    g = FaGroup.of("Even", FaMethod.EQUAL, ["DU1", "DU2"])
    xml = groups_to_xml([g], legacy=True)
    assert "<String>DU1</String>" in xml
    assert xml.index("</ListOfAccts>") < xml.index("<defaultMethod>EqualQuantity")
    assert (
        groups_to_xml([FaGroup.of("E", FaMethod.EQUAL_QUANTITY, ["DU1"])]).count(
            "<defaultMethod>Equal</defaultMethod>"
        )
        == 1
    )
    with pytest.raises(ValueError, match="amounts"):
        groups_to_xml([FaGroup.of("P", FaMethod.PERCENT, {"DU1": 100})], legacy=True)


def test_escaping_of_names() -> None:
    g = FaGroup.of('R&D <core> "A" Müller', FaMethod.NET_LIQ, ["DU1"])
    xml = groups_to_xml([g])
    assert "R&amp;D &lt;core&gt;" in xml
    assert "M&#252;ller" in xml
    assert xml.isascii()
    assert parse_groups(xml)[0].name == g.name


def test_profiles_round_trip() -> None:
    [p] = parse_profiles(PROFILES)
    assert (p.name, p.type) == ("PERCENT", FaProfileType.PERCENTAGES)
    assert [(m.account, m.amount) for m in p.allocations] == [
        ("DU2372888", D("80.0")),
        ("DU2372889", D("20.0")),
    ]
    assert parse_profiles(profiles_to_xml([p])) == [p]
    odd = parse_profiles(PROFILES.replace("<type>1</type>", "<type>7</type>"))
    assert odd[0].type == 7


def test_aliases_round_trip() -> None:
    aliases = parse_aliases(ALIASES)
    assert aliases == [FaAlias("DF1234567", "Advisor"), FaAlias("DU1234568", "Smith & Sons")]
    assert parse_aliases(aliases_to_xml(aliases)) == aliases


def test_member_extra_is_kept() -> None:
    xml = CURRENT.replace("<amount>100.0</amount>", "<amount>100.0</amount><note>x</note>")
    g = parse_groups(xml)[0]
    assert g.members[0].extra == ("<note>x</note>",)
    assert parse_groups(groups_to_xml([g]))[0] == g


@pytest.mark.parametrize(
    ("xml", "match"),
    [
        ("<ListOfGroups><Group>", "does not parse"),
        ("<ListOfAccountAliases/>", "expected <ListOfGroups>"),
        ("<ListOfGroups><Thing/></ListOfGroups>", "unexpected <Thing>"),
        ("<ListOfGroups><Group><defaultMethod>NetLiq</defaultMethod></Group></ListOfGroups>",
         "without <name>"),
        ("<ListOfGroups><Group><name>a</name><ListOfAccts><Account><amount>1</amount></Account>"
         "</ListOfAccts></Group></ListOfGroups>", "without <acct>"),
        ("<ListOfGroups><Group><name>a</name><ListOfAccts><Account><acct>DU1</acct>"
         "<amount>lots</amount></Account></ListOfAccts></Group></ListOfGroups>", "not a number"),
    ],
)  # fmt: skip
def test_bad_xml_is_reported(xml: str, match: str) -> None:
    with pytest.raises(FaXmlError, match=match):
        parse_groups(xml)


def test_empty_documents() -> None:
    assert parse_groups("") == []
    assert parse_groups("<ListOfGroups/>") == []
    assert parse_aliases("  ") == []
    assert parse_profiles("<ListOfAllocationProfiles/>") == []


@pytest.mark.parametrize(
    ("group", "match"),
    [
        (FaGroup("", FaMethod.NET_LIQ, [FaMember("DU1")]), "needs a name"),
        (FaGroup("g", FaMethod.NET_LIQ, []), "no accounts"),
        (FaGroup.of("g", FaMethod.NET_LIQ, ["DU1", "DU1"]), "twice"),
        (FaGroup.of("g", FaMethod.RATIO, ["DU1"]), "needs an amount"),
        (FaGroup.of("g", FaMethod.NET_LIQ, {"DU1": 3}), "takes no amounts"),
        (FaGroup.of("g", FaMethod.CONTRACTS_OR_SHARES, {"DU1": -3}), "must not be negative"),
    ],
)
def test_group_validation(group: FaGroup, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        group.validate()


def test_percent_may_be_negative() -> None:
    FaGroup.of("close", FaMethod.PERCENT, {"DU1": -100}).validate()


def test_profile_validation() -> None:
    with pytest.raises(ValueError, match="needs an amount"):
        FaProfile("p", FaProfileType.SHARES, [FaMember("DU1")]).validate()


@pytest.mark.parametrize(
    ("group", "method", "pct", "match"),
    [
        ("", "NetLiq", "", "need fa_group"),
        ("", "", "10", "need fa_group"),
        ("G", "Ratio", "", "fa_method must be"),
        ("G", "Bogus", "", "fa_method must be"),
        ("G", "NetLiq", "10", "only for fa_method PctChange"),
        ("G", "PctChange", "", "needs fa_percentage"),
        ("G", "PctChange", "abc", "must be a number"),
        ("G", "PctChange", "150", r"\[-100, 100\]"),
    ],
)
def test_check_fa_order(group: str, method: str, pct: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_fa_order(group, method, pct)


def test_check_fa_order_accepts() -> None:
    check_fa_order("", "", "")
    check_fa_order("G", "", "")
    check_fa_order("G", "AvailableEquity", "")
    check_fa_order("G", "PctChange", "-50")


_names = st.text(
    st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("&<>\"'"), min_size=1
).filter(lambda s: s.strip() == s and s)
_accounts = st.sampled_from(["DU1", "DU2", "DU3", "U4", "DF5"])
_amounts = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0,
                       max_value=10**6)  # fmt: skip


@st.composite
def _group(draw: st.DrawFn) -> FaGroup:
    method = draw(st.sampled_from(list(FaMethod)))
    accounts = draw(st.lists(_accounts, min_size=1, max_size=4, unique=True))
    if method.takes_amounts:
        members = [FaMember(a, draw(_amounts)) for a in accounts]
    else:
        members = [FaMember(a) for a in accounts]
    # the writer spells "equal" the way the shape wants it
    method = FaMethod.EQUAL if method is FaMethod.EQUAL_QUANTITY else method
    return FaGroup(draw(_names), method, members)


def _norm(groups: list[FaGroup]) -> list[FaGroup]:
    return [
        FaGroup(g.name, g.method, [FaMember(m.account, m.amount and m.amount.normalize())
                                   for m in g.members])
        for g in groups
    ]  # fmt: skip


@given(st.lists(_group(), max_size=4))
def test_groups_round_trip_any(groups: list[FaGroup]) -> None:
    xml = groups_to_xml(groups)
    assert xml.isascii()
    assert _norm(parse_groups(xml)) == _norm(groups)
