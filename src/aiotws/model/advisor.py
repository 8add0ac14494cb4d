"""Financial-advisor (FA) configuration: allocation groups, account aliases, legacy profiles.

TWS hands an advisor login's configuration out as XML (RECEIVE_FA) and takes it back the
same way (REPLACE_FA). This module is the typed side of that XML, with no I/O:

* :class:`FaGroup`: a named set of client accounts and the allocation method that splits an
  order placed for the group across them (:class:`FaMethod`). Methods IB computes
  (``AvailableEquity``, ``NetLiq``, ``Equal``/``EqualQuantity``, ``PctChange``) need no
  amounts; the user-specified ones (``ContractsOrShares``, ``Percent``, ``Ratio``,
  ``MonetaryAmount``, "formerly known as allocation profiles") need one per account.
* :class:`FaAlias`: a display name the advisor gave an account.
* :class:`FaProfile`: an allocation profile, the pre-unification form of the user-specified
  methods; only servers below 177 (``FA_PROFILE_DESUPPORT``) have them.

Two XML shapes exist for groups. The current one (TWS 983+ "Use Account Groups with
Allocation Methods", the default since 10.20) lists ``<Account><acct/><amount/></Account>``
members after ``<defaultMethod>``; the legacy one lists ``<String>acct</String>`` members
and puts ``<defaultMethod>`` last. :func:`parse_groups` reads both; :func:`groups_to_xml`
writes the current shape, or the legacy one with ``legacy=True``.

Nothing is silently lost: an element this module does not model inside a group, alias,
profile or member is kept verbatim in its ``extra`` and written back in place; one it cannot
place (an unknown element directly under the list, an unknown root) raises
:class:`~aiotws.errors.FaXmlError`. Names are escaped by the XML writer, and anything outside
ASCII is written as a character reference (``&#252;``), since REPLACE_FA's text must be
ASCII.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from aiotws.errors import FaXmlError

__all__ = [
    "FaAlias",
    "FaDataType",
    "FaGroup",
    "FaMember",
    "FaMethod",
    "FaProfile",
    "FaProfileType",
    "aliases_to_xml",
    "check_fa_order",
    "groups_to_xml",
    "parse_aliases",
    "parse_groups",
    "parse_profiles",
    "profiles_to_xml",
]


class FaDataType(enum.IntEnum):
    """What REQUEST_FA / REPLACE_FA carry (the official ``FaDataTypeEnum``)."""

    GROUPS = 1
    #: desupported from server 177 (``FA_PROFILE_DESUPPORT``)
    PROFILES = 2
    ALIASES = 3


class FaMethod(enum.StrEnum):
    """An FA group's allocation method, as the XML's ``<defaultMethod>`` spells it."""

    #: by each account's available equity
    AVAILABLE_EQUITY = "AvailableEquity"
    #: by each account's net liquidation value
    NET_LIQ = "NetLiq"
    #: the same quantity to every account (current name)
    EQUAL = "Equal"
    #: the same quantity to every account (legacy groups' name)
    EQUAL_QUANTITY = "EqualQuantity"
    #: change each account's position by ``fa_percentage`` percent (legacy groups)
    PCT_CHANGE = "PctChange"
    #: each account gets its ``amount`` of shares/contracts; the order size is their sum
    CONTRACTS_OR_SHARES = "ContractsOrShares"
    #: split by the accounts' percentages (``amount``)
    PERCENT = "Percent"
    #: split by the accounts' ratios (``amount``)
    RATIO = "Ratio"
    #: each account gets what its ``amount`` of money buys
    MONETARY_AMOUNT = "MonetaryAmount"

    @property
    def takes_amounts(self) -> bool:
        """True for the user-specified methods (each member needs an ``amount``)."""
        return self in _AMOUNT_METHODS


_AMOUNT_METHODS: Final = frozenset(
    {FaMethod.CONTRACTS_OR_SHARES, FaMethod.PERCENT, FaMethod.RATIO, FaMethod.MONETARY_AMOUNT}
)
#: the methods an order may name in ``Order.fa_method`` (IB computes the split)
ORDER_METHODS: Final = frozenset(
    {
        FaMethod.AVAILABLE_EQUITY,
        FaMethod.NET_LIQ,
        FaMethod.EQUAL,
        FaMethod.EQUAL_QUANTITY,
        FaMethod.PCT_CHANGE,
    }
)


class FaProfileType(enum.IntEnum):
    """A legacy allocation profile's ``<type>``."""

    PERCENTAGES = 1
    RATIOS = 2
    SHARES = 3


def _method(s: str) -> FaMethod | str:
    try:
        return FaMethod(s)
    except ValueError:
        return s  # kept as written: a method this version of aiotws does not know


def _profile_type(s: str) -> FaProfileType | int:
    try:
        n = int(s)
    except ValueError:
        raise FaXmlError(f"profile type must be a number, not {s!r}") from None
    try:
        return FaProfileType(n)
    except ValueError:
        return n


@dataclass(frozen=True, slots=True)
class FaMember:
    """One account of a group (or profile) and, for the user-specified methods, its amount.

    ``extra``: elements of the member this module does not model, as XML text (kept).
    """

    account: str
    amount: Decimal | None = None
    extra: tuple[str, ...] = ()


def _members(accounts: Iterable[str] | Mapping[str, Decimal | int | float | str]) -> list[FaMember]:
    if isinstance(accounts, Mapping):
        return [FaMember(a, Decimal(str(v))) for a, v in accounts.items()]
    return [FaMember(a) for a in accounts]


@dataclass(slots=True)
class FaGroup:
    """An allocation group (ib_async / ibapi: an element of the ``requestFA(1)`` XML).

    ``method`` is a :class:`FaMethod`, or the text TWS sent if aiotws does not know it.
    ``extra``: elements of the group this module does not model (e.g. ``linkedHFGroup``),
    as XML text, written back as they came.
    """

    name: str
    method: FaMethod | str = FaMethod.AVAILABLE_EQUITY
    members: list[FaMember] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        name: str,
        method: FaMethod | str,
        accounts: Iterable[str] | Mapping[str, Decimal | int | float | str],
    ) -> FaGroup:
        """A group from a list of accounts, or a mapping account -> amount."""
        return cls(name, _method(str(method)), _members(accounts))

    @property
    def accounts(self) -> list[str]:
        """The member accounts, in order."""
        return [m.account for m in self.members]

    def amounts(self) -> dict[str, Decimal]:
        """Account -> amount, for the members that have one."""
        return {m.account: m.amount for m in self.members if m.amount is not None}

    def validate(self) -> None:
        """Raise ``ValueError`` for what TWS would refuse: no name, no members, a member
        twice, a user-specified method with a member missing its amount (or amounts on a
        method IB computes), a negative amount where only positive ones make sense."""
        if not self.name.strip():
            raise ValueError("an FA group needs a name")
        if not str(self.method).strip():
            raise ValueError(f"FA group {self.name!r} needs an allocation method")
        if not self.members:
            raise ValueError(f"FA group {self.name!r} has no accounts")
        seen: set[str] = set()
        for m in self.members:
            if not m.account.strip():
                raise ValueError(f"FA group {self.name!r} has a member with no account")
            if m.account in seen:
                raise ValueError(f"FA group {self.name!r} lists {m.account} twice")
            seen.add(m.account)
        method = self.method
        if isinstance(method, FaMethod):
            if method.takes_amounts:
                for m in self.members:
                    if m.amount is None:
                        raise ValueError(
                            f"FA group {self.name!r} ({method}): {m.account} needs an amount"
                        )
                    if not m.amount.is_finite():
                        raise ValueError(
                            f"FA group {self.name!r}: amount {m.amount} of "
                            f"{m.account} is not a number"
                        )
                    if method is not FaMethod.PERCENT and m.amount < 0:
                        raise ValueError(
                            f"FA group {self.name!r} ({method}): {m.account}'s amount must "
                            f"not be negative, not {m.amount}"
                        )
            else:
                for m in self.members:
                    if m.amount is not None:
                        raise ValueError(
                            f"FA group {self.name!r}: {method} takes no amounts "
                            f"({m.account} has {m.amount})"
                        )


@dataclass(slots=True)
class FaProfile:
    """A legacy allocation profile (servers below 177): a name, a type, and amounts."""

    name: str
    type: FaProfileType | int = FaProfileType.PERCENTAGES
    allocations: list[FaMember] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        name: str,
        type: FaProfileType | int,
        amounts: Mapping[str, Decimal | int | float | str],
    ) -> FaProfile:
        """A profile from a mapping account -> amount."""
        return cls(name, type, _members(amounts))

    @property
    def accounts(self) -> list[str]:
        return [m.account for m in self.allocations]

    def validate(self) -> None:
        """Raise ``ValueError`` for a profile with no name, no accounts or a missing amount."""
        if not self.name.strip():
            raise ValueError("an FA profile needs a name")
        if not self.allocations:
            raise ValueError(f"FA profile {self.name!r} has no accounts")
        for m in self.allocations:
            if m.amount is None or not m.amount.is_finite():
                raise ValueError(f"FA profile {self.name!r}: {m.account} needs an amount")


@dataclass(slots=True)
class FaAlias:
    """A display name (``alias``) of an account."""

    account: str
    alias: str
    extra: list[str] = field(default_factory=list)


# -- parsing ----------------------------------------------------------------------------------


def _root(xml: str, tag: str) -> ET.Element | None:
    """The document's root, checked to be ``tag``; ``None`` for an empty document."""
    if not xml.strip():
        return None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise FaXmlError(f"FA XML does not parse: {e}") from None
    if root.tag != tag:
        raise FaXmlError(f"expected <{tag}>, got <{root.tag}>")
    return root


def _text(e: ET.Element) -> str:
    return (e.text or "").strip()


def _raw(e: ET.Element) -> str:
    tail, e.tail = e.tail, None
    try:
        return ET.tostring(e, encoding="unicode")
    finally:
        e.tail = tail


def _amount(e: ET.Element, where: str) -> Decimal:
    s = _text(e)
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise FaXmlError(f"{where}: amount {s!r} is not a number") from None
    if not d.is_finite():
        raise FaXmlError(f"{where}: amount {s!r} is not a number")
    return d


def _member(e: ET.Element, where: str) -> FaMember:
    if e.tag == "String":  # legacy group member: the account alone
        return FaMember(_text(e))
    account: str | None = None
    amount: Decimal | None = None
    extra: list[str] = []
    for c in e:
        if c.tag == "acct":
            account = _text(c)
        elif c.tag == "amount":
            amount = _amount(c, where)
        else:
            extra.append(_raw(c))
    if account is None:
        raise FaXmlError(f"{where}: <{e.tag}> without <acct>")
    return FaMember(account, amount, tuple(extra))


def parse_groups(xml: str) -> list[FaGroup]:
    """The groups of a ``<ListOfGroups>`` document (current or legacy shape).

    Raises :class:`~aiotws.errors.FaXmlError` for XML that does not parse, another root,
    an element other than ``<Group>`` in the list, or a group without a name.
    """
    root = _root(xml, "ListOfGroups")
    if root is None:
        return []
    groups = []
    for g in root:
        if g.tag != "Group":
            raise FaXmlError(f"unexpected <{g.tag}> in <ListOfGroups>")
        name: str | None = None
        method: FaMethod | str = ""
        members: list[FaMember] = []
        extra: list[str] = []
        for c in g:
            if c.tag == "name":
                name = _text(c)
            elif c.tag == "defaultMethod":
                method = _method(_text(c))
            elif c.tag == "ListOfAccts":
                where = f"group {name!r}"
                members.extend(_member(m, where) for m in c)
            else:
                extra.append(_raw(c))
        if name is None:
            raise FaXmlError("a <Group> without <name>")
        groups.append(FaGroup(name, method, members, extra))
    return groups


def parse_aliases(xml: str) -> list[FaAlias]:
    """The aliases of a ``<ListOfAccountAliases>`` document."""
    root = _root(xml, "ListOfAccountAliases")
    if root is None:
        return []
    out = []
    for a in root:
        if a.tag != "AccountAlias":
            raise FaXmlError(f"unexpected <{a.tag}> in <ListOfAccountAliases>")
        account: str | None = None
        alias = ""
        extra: list[str] = []
        for c in a:
            if c.tag == "account":
                account = _text(c)
            elif c.tag == "alias":
                alias = _text(c)
            else:
                extra.append(_raw(c))
        if account is None:
            raise FaXmlError("an <AccountAlias> without <account>")
        out.append(FaAlias(account, alias, extra))
    return out


def parse_profiles(xml: str) -> list[FaProfile]:
    """The profiles of a ``<ListOfAllocationProfiles>`` document (servers below 177)."""
    root = _root(xml, "ListOfAllocationProfiles")
    if root is None:
        return []
    out = []
    for p in root:
        if p.tag != "AllocationProfile":
            raise FaXmlError(f"unexpected <{p.tag}> in <ListOfAllocationProfiles>")
        name: str | None = None
        ptype: FaProfileType | int = FaProfileType.PERCENTAGES
        allocations: list[FaMember] = []
        extra: list[str] = []
        for c in p:
            if c.tag == "name":
                name = _text(c)
            elif c.tag == "type":
                ptype = _profile_type(_text(c))
            elif c.tag == "ListOfAllocations":
                where = f"profile {name!r}"
                allocations.extend(_member(m, where) for m in c)
            else:
                extra.append(_raw(c))
        if name is None:
            raise FaXmlError("an <AllocationProfile> without <name>")
        out.append(FaProfile(name, ptype, allocations, extra))
    return out


# -- writing ----------------------------------------------------------------------------------

_HEADER: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    e = ET.SubElement(parent, tag)
    e.text = text
    return e


def _add_extra(parent: ET.Element, extra: Iterable[str]) -> None:
    for raw in extra:
        try:
            parent.append(ET.fromstring(raw))
        except ET.ParseError as e:
            raise ValueError(f"an extra FA element is not XML ({e}): {raw!r}") from None


def _fmt(d: Decimal) -> str:
    s = f"{d:f}"
    return s if "." in s else s + ".0"


def _document(root: ET.Element) -> str:
    ET.indent(root)
    # us-ascii: non-ASCII characters become character references (REPLACE_FA is ASCII text)
    raw: bytes = ET.tostring(root, encoding="us-ascii")
    body = raw.decode("ascii")
    if body.startswith("<?xml"):
        body = body.partition("?>")[2].lstrip()
    return _HEADER + body + "\n"


def _member_element(parent: ET.Element, tag: str, m: FaMember) -> None:
    e = ET.SubElement(parent, tag)
    _sub(e, "acct", m.account)
    if m.amount is not None:
        _sub(e, "amount", _fmt(m.amount))
    _add_extra(e, m.extra)


_LEGACY_NAMES: Final = {FaMethod.EQUAL: FaMethod.EQUAL_QUANTITY}
_CURRENT_NAMES: Final = {FaMethod.EQUAL_QUANTITY: FaMethod.EQUAL}


def groups_to_xml(groups: Iterable[FaGroup], *, legacy: bool = False) -> str:
    """The ``<ListOfGroups>`` document REPLACE_FA takes for ``groups``.

    ``legacy``: the pre-unification shape (servers below 177): ``<String>`` members, which
    cannot carry amounts (``ValueError`` for a member with one), and the method named
    ``EqualQuantity`` rather than ``Equal``. The current shape names it ``Equal``.
    """
    root = ET.Element("ListOfGroups")
    for g in groups:
        ge = ET.SubElement(root, "Group")
        _sub(ge, "name", g.name)
        method = g.method
        if isinstance(method, FaMethod):
            method = (_LEGACY_NAMES if legacy else _CURRENT_NAMES).get(method, method)
        if not legacy:
            _sub(ge, "defaultMethod", str(method))
        accts = ET.SubElement(ge, "ListOfAccts", varName="list")
        for m in g.members:
            if legacy:
                if m.amount is not None or m.extra:
                    raise ValueError(
                        f"FA group {g.name!r}: the legacy group XML cannot carry amounts "
                        f"({m.account}); use profiles below server 177"
                    )
                _sub(accts, "String", m.account)
            else:
                _member_element(accts, "Account", m)
        if legacy:
            _sub(ge, "defaultMethod", str(method))
        _add_extra(ge, g.extra)
    return _document(root)


def aliases_to_xml(aliases: Iterable[FaAlias]) -> str:
    """The ``<ListOfAccountAliases>`` document for ``aliases``."""
    root = ET.Element("ListOfAccountAliases")
    for a in aliases:
        e = ET.SubElement(root, "AccountAlias")
        _sub(e, "account", a.account)
        _sub(e, "alias", a.alias)
        _add_extra(e, a.extra)
    return _document(root)


def profiles_to_xml(profiles: Iterable[FaProfile]) -> str:
    """The ``<ListOfAllocationProfiles>`` document for ``profiles`` (servers below 177)."""
    root = ET.Element("ListOfAllocationProfiles")
    for p in profiles:
        e = ET.SubElement(root, "AllocationProfile")
        _sub(e, "name", p.name)
        _sub(e, "type", str(int(p.type)))
        allocs = ET.SubElement(e, "ListOfAllocations", varName="listOfAllocations")
        for m in p.allocations:
            _member_element(allocs, "Allocation", m)
        _add_extra(e, p.extra)
    return _document(root)


# -- FA orders --------------------------------------------------------------------------------


def check_fa_order(fa_group: str, fa_method: str, fa_percentage: str) -> None:
    """Raise ``ValueError`` for FA order fields that are wrong whatever the login.

    ``fa_method`` / ``fa_percentage`` without ``fa_group``; a method an order cannot name
    (the user-specified methods live in the group, not the order); ``fa_percentage`` on a
    method other than ``PctChange``, or one that is not a number in [-100, 100] (TWS
    reduces positions with negative percentages). Whether the login is an advisor's and the
    group exists is TWS's call.
    """
    if (fa_method or fa_percentage) and not fa_group:
        raise ValueError("fa_method / fa_percentage need fa_group (the FA group to allocate to)")
    if fa_method:
        try:
            m = FaMethod(fa_method)
        except ValueError:
            m = None
        if m not in ORDER_METHODS:
            names = ", ".join(sorted(str(x) for x in ORDER_METHODS))
            raise ValueError(
                f"fa_method must be empty (the group's method) or one of {names}, not {fa_method!r}"
            )
    if fa_percentage:
        if fa_method != FaMethod.PCT_CHANGE:
            raise ValueError(
                f"fa_percentage is only for fa_method PctChange, not {fa_method or 'none'!r}"
            )
        try:
            pct = Decimal(fa_percentage)
        except InvalidOperation:
            raise ValueError(f"fa_percentage must be a number, not {fa_percentage!r}") from None
        if not pct.is_finite() or not -100 <= pct <= 100 or pct == 0:
            raise ValueError(f"fa_percentage must be in [-100, 100] and not 0, not {pct}")
    elif fa_method == FaMethod.PCT_CHANGE:
        raise ValueError("fa_method PctChange needs fa_percentage")
