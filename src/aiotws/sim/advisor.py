"""The simulator's financial-advisor login: FA groups and aliases, allocation of FA orders.

An advisor login (``SimConfig.advisor``, or by default a first account starting with ``DF``
or ``F``, e.g. ``accounts=("DF1234567", "DU1234568", "DU1234569", "DU1234570")``) has the
master account ``accounts[0]`` and the client accounts after it. Its configuration lives in
``sim.store["advisor"]`` (:func:`fa_book_of`), so it survives ``sim.restart()`` and client
reconnects. It starts seeded (deterministically, from the account list):

* groups ``Everyone`` (AvailableEquity), ``EqualSplit`` (Equal) and ``ByNetLiq`` (NetLiq)
  over all client accounts, and with two clients or more ``Split6040`` (Percent: 60 / 40 of
  the first two);
* aliases ``Advisor`` for the master and ``Client 1``, ``Client 2`` … for the clients.

What TWS answers, as the simulator does it:

* REQUEST_FA from a login that is not an advisor's: ERR_MSG id -1, 321 ``Error validating
  request.-'bB' : cause - FA data operations ignored for non FA customers.``; REPLACE_FA
  gets the same under its request id.
* Server 177+ (unified groups): groups in the current XML shape (``<Account><acct/>
  <amount/></Account>``), all methods. Profiles (type 2) are refused with 321 (the official
  client refuses them itself, with its local 585, before they reach TWS), as is replacing
  aliases (IB: "replaceFA only accepts faDataType 1 now").
* Below 177: groups in the legacy shape (``<String>`` members; ``EqualQuantity``), only the
  groups with a method IB computes; the user-specified ones (Percent, Ratio,
  ContractsOrShares) are the profiles there (types 1, 2, 3). Replacing groups there keeps
  the profiles and the other way round.
* REPLACE_FA: XML that does not parse or breaks the schema, a bad group (no accounts, a
  missing amount …) → 321 naming the problem; an account that is not one of the advisor's
  clients → 10231. Success: stored, REPLACE_FA_END with :data:`REPLACED_TEXT`.

FA orders (``Order.fa_group``): :func:`plan_allocation` splits the order across the group's
accounts by the order's ``fa_method`` or else the group's method — Equal/EqualQuantity
evenly (the remainder one unit at a time in member order, IB's example: 400 over 6 → 66
each, then 1 more to the first four), NetLiq / AvailableEquity by the ledger's net
liquidation / available funds, Percent / Ratio by the amounts, ContractsOrShares the amounts
themselves (the order's size must be 0 or their sum), MonetaryAmount what each amount buys at
the reference price, PctChange ``fa_percentage`` of each account's position (size computed).
Each fill is then split across the accounts by what each still needs (so partial fills stay
proportional and the full fill lands exactly on the plan): every account's share is one
EXECUTION_DATA (same order id and perm id, the account in ``acctNumber``, its own exec id and
commission report) booked in that account's ledger, which moves its positions, portfolio and
account values. The block itself is reported by ORDER_STATUS only, so the executions of an
order always add up to its filled quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from aiotws.errors import FaXmlError
from aiotws.model.advisor import (
    ORDER_METHODS,
    FaAlias,
    FaDataType,
    FaGroup,
    FaMember,
    FaMethod,
    FaProfile,
    FaProfileType,
    aliases_to_xml,
    groups_to_xml,
    parse_aliases,
    parse_groups,
    parse_profiles,
    profiles_to_xml,
)
from aiotws.model.contract import Contract
from aiotws.model.order import Order
from aiotws.sim.accounts import ledger_of
from aiotws.sim.ledger import multiplier_of
from aiotws.sim.server import SimSession, Simulator, handles
from aiotws.wire.messages.advisor import ReceiveFa, ReplaceFa, ReplaceFaEnd, ReqFa
from aiotws.wire.versions import SV

__all__ = [
    "NON_FA_TEXT",
    "REPLACED_TEXT",
    "AllocationError",
    "FaBook",
    "allocation_state",
    "apportion",
    "client_accounts",
    "fa_book_of",
    "is_advisor",
    "plan_allocation",
    "register_allocation",
    "split_fill",
]

_STORE: Final = "advisor"
NON_FA_TEXT: Final = (
    "Error validating request.-'bB' : cause - FA data operations ignored for non FA customers."
)
#: REPLACE_FA_END's text (the simulator's wording: IB documents none)
REPLACED_TEXT: Final = "FA configuration has been saved"
_VALIDATION: Final = "Error validating request.-'bB' : cause - "
_ZERO: Final = Decimal(0)

#: legacy profile type <-> the user-specified method that replaced it
_PROFILE_METHOD: Final = {
    FaProfileType.PERCENTAGES: FaMethod.PERCENT,
    FaProfileType.RATIOS: FaMethod.RATIO,
    FaProfileType.SHARES: FaMethod.CONTRACTS_OR_SHARES,
}
_METHOD_PROFILE: Final = {m: t for t, m in _PROFILE_METHOD.items()}


def is_advisor(sim: Simulator) -> bool:
    """Is this simulator an advisor login (``config.advisor``, else by the first account)?"""
    cfg = sim.config
    if cfg.advisor is not None:
        return cfg.advisor
    first = cfg.accounts[0] if cfg.accounts else ""
    return first.startswith(("DF", "F"))


def client_accounts(sim: Simulator) -> tuple[str, ...]:
    """The advisor's client accounts (every account but the master ``accounts[0]``)."""
    return tuple(sim.config.accounts[1:]) if is_advisor(sim) else ()


@dataclass(slots=True)
class _Allocation:
    """One FA order's plan (account -> quantity) and what its fills booked so far."""

    targets: dict[str, Decimal]
    booked: dict[str, Decimal] = field(default_factory=dict)
    value: dict[str, float] = field(default_factory=dict)
    commission: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class FaBook:
    """The advisor's configuration (current model: groups carry every method) and the
    allocation plans of live FA orders, by perm id."""

    groups: list[FaGroup]
    aliases: list[FaAlias]
    allocations: dict[int, _Allocation] = field(default_factory=dict)

    def group(self, name: str) -> FaGroup | None:
        # TWS matches group names without regard to case
        for g in self.groups:
            if g.name.lower() == name.lower():
                return g
        return None


def _seed(sim: Simulator) -> FaBook:
    clients = client_accounts(sim)
    groups = [
        FaGroup.of("Everyone", FaMethod.AVAILABLE_EQUITY, clients),
        FaGroup.of("EqualSplit", FaMethod.EQUAL, clients),
        FaGroup.of("ByNetLiq", FaMethod.NET_LIQ, clients),
    ]
    if len(clients) >= 2:
        groups.append(FaGroup.of("Split6040", FaMethod.PERCENT, {clients[0]: 60, clients[1]: 40}))
    aliases = [FaAlias(sim.config.accounts[0], "Advisor")]
    aliases += [FaAlias(a, f"Client {i}") for i, a in enumerate(clients, 1)]
    return FaBook(groups, aliases)


def fa_book_of(sim: Simulator) -> FaBook:
    """The advisor's :class:`FaBook` (``sim.store["advisor"]``), seeded on first use."""
    book = sim.store.get(_STORE)
    if book is None:
        book = _seed(sim)
        sim.store[_STORE] = book
    assert isinstance(book, FaBook)
    return book


# -- what each server version sees ------------------------------------------------------------


def _computed(g: FaGroup) -> bool:
    return not (isinstance(g.method, FaMethod) and g.method.takes_amounts)


def _as_profile(g: FaGroup) -> FaProfile | None:
    if not isinstance(g.method, FaMethod):
        return None
    t = _METHOD_PROFILE.get(g.method)
    return None if t is None else FaProfile(g.name, t, list(g.members))


def _groups_xml(book: FaBook, version: int) -> str:
    if version >= SV.FA_PROFILE_DESUPPORT:
        return groups_to_xml(book.groups)
    return groups_to_xml([g for g in book.groups if _computed(g)], legacy=True)


def _profiles_xml(book: FaBook) -> str:
    return profiles_to_xml(p for g in book.groups if (p := _as_profile(g)) is not None)


@handles(ReqFa)
def _req_fa(session: SimSession, msg: ReqFa) -> None:
    sim = session.sim
    if not is_advisor(sim):
        session.send_error(-1, 321, NON_FA_TEXT)
        return
    book = fa_book_of(sim)
    kind = msg.fa_data_type
    if kind == FaDataType.GROUPS:
        xml = _groups_xml(book, session.version)
    elif kind == FaDataType.ALIASES:
        xml = aliases_to_xml(book.aliases)
    elif kind == FaDataType.PROFILES and session.version < SV.FA_PROFILE_DESUPPORT:
        xml = _profiles_xml(book)
    elif kind == FaDataType.PROFILES:
        session.send_error(
            -1, 321, _VALIDATION + "FA Profile is not supported anymore, use FA Group instead."
        )
        return
    else:
        session.send_error(-1, 321, _VALIDATION + f"Invalid FA data type {kind}.")
        return
    session.send(ReceiveFa(kind, xml))


def _check_accounts(sim: Simulator, members: list[FaMember]) -> str | None:
    clients = set(client_accounts(sim))
    bad = [m.account for m in members if m.account not in clients]
    return ", ".join(dict.fromkeys(bad)) if bad else None


class _Refused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _replace_groups(sim: Simulator, book: FaBook, xml: str, version: int) -> None:
    groups = parse_groups(xml)
    names: set[str] = set()
    for g in groups:
        if isinstance(g.method, str) and not isinstance(g.method, FaMethod):
            raise _Refused(
                321, _VALIDATION + f"Invalid allocation method {g.method!r} in group {g.name!r}."
            )
        if version >= SV.FA_PROFILE_DESUPPORT and g.method is FaMethod.EQUAL_QUANTITY:
            g.method = FaMethod.EQUAL
        if version < SV.FA_PROFILE_DESUPPORT:
            if not _computed(g):
                raise _Refused(
                    321,
                    _VALIDATION + f"Group {g.name!r}: method {g.method} is a "
                    "profile on this server; replace the profiles instead.",
                )
            if g.method is FaMethod.EQUAL_QUANTITY:
                g.method = FaMethod.EQUAL
        try:
            g.validate()
        except ValueError as e:
            raise _Refused(321, _VALIDATION + str(e)) from None
        if g.name.lower() in names:
            raise _Refused(321, _VALIDATION + f"Duplicate group name {g.name!r}.")
        names.add(g.name.lower())
        bad = _check_accounts(sim, g.members)
        if bad:
            raise _Refused(10231, f"Invalid accounts in FA XML: {bad}")
    if version < SV.FA_PROFILE_DESUPPORT:
        kept = [g for g in book.groups if not _computed(g) and g.name.lower() not in names]
        book.groups = groups + kept
    else:
        book.groups = groups


def _replace_profiles(sim: Simulator, book: FaBook, xml: str) -> None:
    groups = []
    names = {g.name.lower() for g in book.groups if _computed(g)}
    for p in parse_profiles(xml):
        try:
            p.validate()
        except ValueError as e:
            raise _Refused(321, _VALIDATION + str(e)) from None
        method = _PROFILE_METHOD.get(p.type) if isinstance(p.type, FaProfileType) else None
        if method is None:
            raise _Refused(321, _VALIDATION + f"Invalid profile type {p.type} of {p.name!r}.")
        if p.name.lower() in names:
            raise _Refused(321, _VALIDATION + f"Duplicate profile name {p.name!r}.")
        names.add(p.name.lower())
        bad = _check_accounts(sim, p.allocations)
        if bad:
            raise _Refused(10231, f"Invalid accounts in FA XML: {bad}")
        groups.append(FaGroup(p.name, method, list(p.allocations), list(p.extra)))
    book.groups = [g for g in book.groups if _computed(g)] + groups


def _replace_aliases(sim: Simulator, book: FaBook, xml: str) -> None:
    aliases = parse_aliases(xml)
    known = set(sim.config.accounts)
    bad = [a.account for a in aliases if a.account not in known]
    if bad:
        raise _Refused(10231, f"Invalid accounts in FA XML: {', '.join(bad)}")
    book.aliases = aliases


@handles(ReplaceFa)
def _replace_fa(session: SimSession, msg: ReplaceFa) -> None:
    sim = session.sim
    rid = msg.req_id
    if not is_advisor(sim):
        session.send_error(rid, 321, NON_FA_TEXT)
        return
    book = fa_book_of(sim)
    v = session.version
    kind = msg.fa_data_type
    try:
        if kind == FaDataType.GROUPS:
            _replace_groups(sim, book, msg.xml, v)
        elif kind == FaDataType.PROFILES and v < SV.FA_PROFILE_DESUPPORT:
            _replace_profiles(sim, book, msg.xml)
        elif kind == FaDataType.ALIASES and v < SV.FA_PROFILE_DESUPPORT:
            _replace_aliases(sim, book, msg.xml)
        elif kind in (FaDataType.PROFILES, FaDataType.ALIASES):
            raise _Refused(321, _VALIDATION + "replaceFA only accepts FA groups (type 1).")
        else:
            raise _Refused(321, _VALIDATION + f"Invalid FA data type {kind}.")
    except FaXmlError as e:
        session.send_error(rid, 321, _VALIDATION + f"Invalid FA XML: {e}")
        return
    except _Refused as e:
        session.send_error(rid, e.code, e.text)
        return
    if v >= SV.REPLACE_FA_END:  # older servers confirm nothing
        session.send(ReplaceFaEnd(rid, REPLACED_TEXT))


# -- allocation of FA orders ------------------------------------------------------------------


class AllocationError(Exception):
    """An FA order the simulator refuses: ``code`` and ``text`` of the ERR_MSG."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _unit(q: Decimal) -> Decimal:
    """The smallest step of ``q``: 1 for a whole number, else its last decimal place."""
    if q == q.to_integral_value():
        return Decimal(1)
    return Decimal(1).scaleb(q.normalize().as_tuple().exponent)  # type: ignore[arg-type]


def apportion(total: Decimal, weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` across ``weights``' keys in proportion (largest remainder).

    Whole units of ``total``'s smallest step; each share is floored, then the units left
    go one at a time to the largest remainders, ties to the earlier key (IB's rule for
    EqualQuantity). Zero weights get nothing; all zero raises ``ValueError``.
    """
    wsum = sum(weights.values(), _ZERO)
    if wsum <= 0:
        raise ValueError("nothing to allocate by: every weight is 0")
    unit = _unit(total)
    units = int(total / unit)
    raw = {k: Decimal(units) * w / wsum for k, w in weights.items()}
    base = {k: int(v.to_integral_value(ROUND_FLOOR)) for k, v in raw.items()}
    left = units - sum(base.values())
    order = sorted(weights, key=lambda k: (-(raw[k] - base[k]), list(weights).index(k)))
    for k in order[:left]:
        base[k] += 1
    return {k: Decimal(n) * unit for k, n in base.items()}


def _method_of(order: Order, group: FaGroup) -> FaMethod:
    if order.fa_method:
        try:
            m = FaMethod(order.fa_method)
        except ValueError:
            m = None
        if m not in ORDER_METHODS:
            raise AllocationError(
                321, _VALIDATION + f"Invalid FA allocation method {order.fa_method!r}."
            )
        assert m is not None
        return m
    if not isinstance(group.method, FaMethod):
        raise AllocationError(321, _VALIDATION + f"Invalid allocation method {group.method!r}.")
    return group.method


def plan_allocation(
    sim: Simulator, contract: Contract, order: Order, price: float
) -> dict[str, Decimal]:
    """How the simulator splits the FA order ``order`` (account -> quantity); sets the
    order's ``total_quantity`` where the method computes it. Raises
    :class:`AllocationError` with TWS's code and text for an order it refuses."""
    if not is_advisor(sim):
        raise AllocationError(321, NON_FA_TEXT)
    book = fa_book_of(sim)
    group = book.group(order.fa_group)
    if group is None:
        raise AllocationError(321, _VALIDATION + f"Invalid allocation group {order.fa_group!r}.")
    method = _method_of(order, group)
    accounts = group.accounts
    if not accounts:
        raise AllocationError(321, _VALIDATION + f"Group {group.name!r} has no accounts.")
    if order.fa_percentage and method is not FaMethod.PCT_CHANGE:
        raise AllocationError(321, _VALIDATION + "FA percentage needs the PctChange method.")
    qty = order.total_quantity or _ZERO
    ledger = ledger_of(sim)
    plan: dict[str, Decimal]
    if method is FaMethod.CONTRACTS_OR_SHARES:
        plan = {m.account: m.amount or _ZERO for m in group.members}
        total = sum(plan.values(), _ZERO)
        if qty and qty != total:
            raise AllocationError(
                321, _VALIDATION + f"The order size {qty} must equal the {total} shares of "
                f"group {group.name!r} (ContractsOrShares)."
            )  # fmt: skip
        order.total_quantity = total
        return plan
    if method is FaMethod.MONETARY_AMOUNT:
        unit_value = price * multiplier_of(contract)
        if unit_value <= 0:
            raise AllocationError(321, _VALIDATION + "No price to allocate a monetary amount.")
        plan = {m.account: Decimal(int(float(m.amount or 0) // unit_value)) for m in group.members}
        order.total_quantity = sum(plan.values(), _ZERO)
        return plan
    if method is FaMethod.PCT_CHANGE:
        try:
            pct = Decimal(order.fa_percentage)
        except ArithmeticError:
            raise AllocationError(321, _VALIDATION + "PctChange needs an FA percentage.") from None
        buy = order.action == "BUY"
        plan = {}
        for a in accounts:
            pos = ledger.position(a, contract.con_id)
            # + increases a position, - decreases it; a buy only moves longs up / shorts down
            change = (abs(pos) * abs(pct) / 100).to_integral_value(ROUND_FLOOR)
            grows = pct > 0
            moves = (pos > 0 and buy == grows) or (pos < 0 and buy != grows)
            plan[a] = change if moves else _ZERO
        order.total_quantity = sum(plan.values(), _ZERO)
        return plan
    if qty <= 0:
        raise AllocationError(434, "The order size must be larger than 0.")
    weights: dict[str, Decimal]
    if method in (FaMethod.EQUAL, FaMethod.EQUAL_QUANTITY):
        weights = dict.fromkeys(accounts, Decimal(1))
    elif method is FaMethod.NET_LIQ:
        weights = {a: Decimal(str(max(ledger.totals(a).net_liquidation, 0.0))) for a in accounts}
    elif method is FaMethod.AVAILABLE_EQUITY:
        weights = {a: Decimal(str(max(ledger.totals(a).available_funds, 0.0))) for a in accounts}
    else:  # Percent, Ratio
        weights = {m.account: max(m.amount or _ZERO, _ZERO) for m in group.members}
    try:
        return apportion(qty, weights)
    except ValueError:
        raise AllocationError(
            321, _VALIDATION + f"Nothing to allocate by in group {group.name!r} ({method})."
        ) from None


def register_allocation(sim: Simulator, perm_id: int, plan: dict[str, Decimal]) -> None:
    """Remember ``plan`` for the order ``perm_id`` (its fills are split by it)."""
    book = fa_book_of(sim)
    old = book.allocations.get(perm_id)
    if old is None:
        book.allocations[perm_id] = _Allocation(dict(plan))
    else:  # a modification: the new plan, what was booked stays booked
        old.targets = dict(plan)


def split_fill(sim: Simulator, perm_id: int, shares: Decimal) -> list[tuple[str, Decimal]]:
    """Split one fill of ``shares`` of the FA order ``perm_id`` across its accounts by what
    each still needs of its plan (account, quantity), and book it as done. Empty when the
    order is not an FA order."""
    book = sim.store.get(_STORE)
    if not isinstance(book, FaBook):
        return []
    alloc = book.allocations.get(perm_id)
    if alloc is None:
        return []
    need = {a: max(t - alloc.booked.get(a, _ZERO), _ZERO) for a, t in alloc.targets.items()}
    if sum(need.values(), _ZERO) <= 0:  # over the plan (a modification grew it): evenly
        need = dict.fromkeys(alloc.targets, Decimal(1))
    parts = apportion(shares, need)
    out = []
    for a, q in parts.items():
        if q > 0:
            alloc.booked[a] = alloc.booked.get(a, _ZERO) + q
            out.append((a, q))
    return out


def allocation_state(sim: Simulator, perm_id: int) -> _Allocation | None:
    """The plan and bookings of the FA order ``perm_id`` (for the order engine and tests)."""
    book = sim.store.get(_STORE)
    return book.allocations.get(perm_id) if isinstance(book, FaBook) else None
