"""The simulator's display groups, soft dollar tiers, verify/auth answers and delta-neutral
validation.

**Display groups**: TWS's seven colour groups (1..7), each with a selection
(``contractInfo``: ``"<conId>@<exchange>"``, ``"none"`` or ``"combo"``; all start at
``"none"``), shared by every connection as TWS's windows are. A subscription
(SUBSCRIBE_TO_GROUP_EVENTS) is per connection and gets DISPLAY_GROUP_UPDATED at once with
the current selection; UPDATE_DISPLAY_GROUP (under a subscription's request id) changes the
group and sends DISPLAY_GROUP_UPDATED to every subscriber of it, the sender included.
:func:`set_display_group` plays the user picking a contract in a TWS window.

**Soft dollar tiers**: :func:`set_soft_dollar_tiers` configures what REQ_SOFT_DOLLAR_TIERS
returns (default: two tiers, as an advisor with research arrangements might have).

**Verify / verify-and-auth**: answered as TWS answers an application that is not an
IB-registered API vendor: the verification fails at once, VERIFY_COMPLETED (or
VERIFY_AND_AUTH_COMPLETED) with ``isSuccessful`` ``false`` and a reason, no challenge.
The exact text real TWS sends is not documented (unverified); the simulator's is
:data:`NOT_A_VENDOR`.

**Delta-neutral validation**: :func:`validate_delta_neutral` (called by the order handler)
sends DELTA_NEUTRAL_VALIDATION for a PLACE_ORDER that carries a delta-neutral contract.
"""

from __future__ import annotations

from typing import Final

from aiotws.model.order import SoftDollarTier
from aiotws.sim.server import SimSession, Simulator, handles
from aiotws.wire.layout import OutMessage
from aiotws.wire.messages.accounts import ReqSoftDollarTiers, SoftDollarTiers
from aiotws.wire.messages.display import (
    DisplayGroupList,
    DisplayGroupUpdated,
    QueryDisplayGroups,
    SubscribeToGroupEvents,
    UnsubscribeFromGroupEvents,
    UpdateDisplayGroup,
    VerifyAndAuthCompleted,
    VerifyAndAuthMessage,
    VerifyAndAuthRequest,
    VerifyCompleted,
    VerifyMessage,
    VerifyRequest,
)
from aiotws.wire.messages.orders import DeltaNeutralValidation, PlaceOrder

__all__ = [
    "DEFAULT_SOFT_DOLLAR_TIERS",
    "GROUP_IDS",
    "NOT_A_VENDOR",
    "display_group_of",
    "set_display_group",
    "set_soft_dollar_tiers",
    "validate_delta_neutral",
]

#: TWS's colour groups, in the order DISPLAY_GROUP_LIST gives them
GROUP_IDS: Final = (1, 2, 3, 4, 5, 6, 7)
#: the reason a verification fails for a client that is not a registered API vendor
NOT_A_VENDOR: Final = "API client verification is not enabled for this login."
DEFAULT_SOFT_DOLLAR_TIERS: Final = (
    SoftDollarTier("Research", "RES1", "Research (1 cent/share)"),
    SoftDollarTier("Execution", "EXE2", "Execution and research (2 cents/share)"),
)

_GROUPS: Final = "display.groups"  # sim.store: group id -> contract info
_TIERS: Final = "display.soft_dollar_tiers"
_SUBS: Final = "display.subscriptions"  # session.state: req id -> group id


def _groups(sim: Simulator) -> dict[int, str]:
    groups: dict[int, str] = sim.store.setdefault(_GROUPS, dict.fromkeys(GROUP_IDS, "none"))
    return groups


def _subs(session: SimSession) -> dict[int, int]:
    subs: dict[int, int] = session.state.setdefault(_SUBS, {})
    return subs


def display_group_of(sim: Simulator, group_id: int) -> str:
    """The current selection (``contractInfo``) of display group ``group_id``."""
    return _groups(sim)[group_id]


def set_display_group(sim: Simulator, group_id: int, contract_info: str) -> int:
    """Select ``contract_info`` in group ``group_id``, as a user clicking in TWS: every
    subscriber of the group gets DISPLAY_GROUP_UPDATED. Returns how many were told.
    Raises ``ValueError`` for a group id outside 1..7."""
    if group_id not in GROUP_IDS:
        raise ValueError(f"display groups are 1..7, not {group_id!r}")
    _groups(sim)[group_id] = contract_info
    n = 0
    for s in list(sim.sessions):
        for req_id, gid in list(_subs(s).items()):
            if gid == group_id:
                s.send(DisplayGroupUpdated(req_id, contract_info))
                n += 1
    return n


@handles(QueryDisplayGroups)
def _query_groups(session: SimSession, msg: QueryDisplayGroups) -> None:
    session.send(DisplayGroupList(msg.req_id, "|".join(map(str, GROUP_IDS))))


@handles(SubscribeToGroupEvents)
def _subscribe(session: SimSession, msg: SubscribeToGroupEvents) -> None:
    if msg.group_id not in GROUP_IDS:
        session.send_error(
            msg.req_id,
            321,
            f"Error validating request:-'bV' : cause - Invalid group id {msg.group_id}",
        )
        return
    _subs(session)[msg.req_id] = msg.group_id
    session.send(DisplayGroupUpdated(msg.req_id, display_group_of(session.sim, msg.group_id)))


@handles(UpdateDisplayGroup)
def _update(session: SimSession, msg: UpdateDisplayGroup) -> None:
    group_id = _subs(session).get(msg.req_id)
    if group_id is None:
        session.send_error(
            msg.req_id,
            321,
            f"Error validating request:-'bV' : cause - No display group subscription "
            f"with id {msg.req_id}",
        )
        return
    info = msg.contract_info.strip()
    head, sep, _ = info.partition("@")
    if info.lower() not in ("none", "combo") and not (sep and head.isdigit()):
        session.send_error(
            msg.req_id,
            321,
            f"Error validating request:-'bV' : cause - Invalid contract info {info!r} "
            "(conId@exchange, none or combo)",
        )
        return
    set_display_group(session.sim, group_id, info)


@handles(UnsubscribeFromGroupEvents)
def _unsubscribe(session: SimSession, msg: UnsubscribeFromGroupEvents) -> None:
    _subs(session).pop(msg.req_id, None)


# -- soft dollar tiers ------------------------------------------------------------------------


def set_soft_dollar_tiers(
    sim: Simulator, tiers: list[SoftDollarTier] | tuple[SoftDollarTier, ...]
) -> None:
    """What REQ_SOFT_DOLLAR_TIERS returns from now on (``[]``: none, as for most logins)."""
    sim.store[_TIERS] = tuple(tiers)


@handles(ReqSoftDollarTiers)
def _soft_dollar_tiers(session: SimSession, msg: ReqSoftDollarTiers) -> None:
    tiers = session.sim.store.get(_TIERS, DEFAULT_SOFT_DOLLAR_TIERS)
    session.send(SoftDollarTiers(msg.req_id, list(tiers)))


# -- verify / verify-and-auth -----------------------------------------------------------------


@handles(VerifyRequest, VerifyMessage)
def _verify(session: SimSession, msg: OutMessage) -> None:
    session.send(VerifyCompleted(False, NOT_A_VENDOR))


@handles(VerifyAndAuthRequest, VerifyAndAuthMessage)
def _verify_and_auth(session: SimSession, msg: OutMessage) -> None:
    session.send(VerifyAndAuthCompleted(False, NOT_A_VENDOR))


# -- delta-neutral validation -----------------------------------------------------------------


def validate_delta_neutral(session: SimSession, msg: PlaceOrder) -> None:
    """Send DELTA_NEUTRAL_VALIDATION for ``msg`` if it carries a delta-neutral contract.

    Deterministic: the con id as given; the delta as given (rounded to 4 places; 0 becomes
    0.5); the price of the hedge instrument in the universe (rounded to its tick), or the
    price given when the con id is not one of the simulator's."""
    dn = msg.delta_neutral_contract
    if dn is None:
        return
    inst = session.sim.universe.by_con_id(dn.con_id)
    price = dn.price
    if inst is not None:
        tick = inst.tick or 0.01
        price = round(round(inst.price / tick) * tick, 8)
    delta = round(dn.delta, 4) if dn.delta else 0.5
    session.send(DeltaNeutralValidation(msg.order_id, dn.con_id, delta, price))
