"""Display groups (TWS's colour-linked windows) and the verify/auth handshake messages.

Layouts from the official client (``queryDisplayGroups`` … ``unsubscribeFromGroupEvents``,
``verifyRequest`` … ``verifyAndAuthMessage``) and its decoder. Every message here has a
``V=1`` field and needs server 70 (``LINKING``), always true in 157..200. The incoming ones
are "auto" messages of the official decoder (fields 1:1 onto the callback, each
``\\u``-unescaped from 153): their strings are ``TEXT`` fields.

The two *Completed* messages carry ``isSuccessful`` as the text ``true`` / ``false`` (the
Java and C++ decoders compare with ``"true"``), not as ``0``/``1``: :data:`TRUE_FALSE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiotws.wire.fields import TEXT, FieldError, FieldWriter, Scalar
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, message, wire

__all__ = [
    "TRUE_FALSE",
    "DisplayGroupList",
    "DisplayGroupUpdated",
    "QueryDisplayGroups",
    "SubscribeToGroupEvents",
    "UnsubscribeFromGroupEvents",
    "UpdateDisplayGroup",
    "VerifyAndAuthCompleted",
    "VerifyAndAuthMessage",
    "VerifyAndAuthMessageApi",
    "VerifyAndAuthRequest",
    "VerifyCompleted",
    "VerifyMessage",
    "VerifyMessageApi",
    "VerifyRequest",
]


class _TrueFalse(Scalar[bool]):
    """A boolean written as the text ``true`` / ``false``; only ``true`` (any case) reads
    as true, as in the official Java/C++ decoders."""

    __slots__ = ()

    def parse(self, s: str) -> bool:
        return s.strip().lower() == "true"

    def write(self, w: FieldWriter, value: bool) -> None:
        if not isinstance(value, bool):
            raise FieldError(f"expected bool, got {type(value).__name__}")
        w.out.append("true" if value else "false")


#: ``isSuccessful`` of VERIFY_COMPLETED / VERIFY_AND_AUTH_COMPLETED
TRUE_FALSE: Final[Scalar[bool]] = _TrueFalse("bool (true/false text)")


# -- display groups ---------------------------------------------------------------------------


@message(Out.QUERY_DISPLAY_GROUPS, version=1)
@dataclass(slots=True)
class QueryDisplayGroups(OutMessage):
    """Ask for the display groups TWS shows (DISPLAY_GROUP_LIST)."""

    req_id: int


@message(Out.SUBSCRIBE_TO_GROUP_EVENTS, version=1)
@dataclass(slots=True)
class SubscribeToGroupEvents(OutMessage):
    """Follow display group ``group_id`` (1..7): DISPLAY_GROUP_UPDATED at once with its
    current contract, then whenever it changes, until UNSUBSCRIBE_FROM_GROUP_EVENTS."""

    req_id: int
    group_id: int = 0


@message(Out.UPDATE_DISPLAY_GROUP, version=1)
@dataclass(slots=True)
class UpdateDisplayGroup(OutMessage):
    """Set the contract of the group subscribed under ``req_id``: ``contract_info`` is
    ``"<conId>@<exchange>"``, ``"none"`` (empty selection) or ``"combo"``. TWS then sends
    DISPLAY_GROUP_UPDATED to every subscriber of the group, this one included."""

    req_id: int
    contract_info: str = ""


@message(Out.UNSUBSCRIBE_FROM_GROUP_EVENTS, version=1)
@dataclass(slots=True)
class UnsubscribeFromGroupEvents(OutMessage):
    """Stop following the group subscribed under ``req_id`` (no reply)."""

    req_id: int


@message(In.DISPLAY_GROUP_LIST, version=1)
@dataclass(slots=True)
class DisplayGroupList(InMessage):
    """The answer to QUERY_DISPLAY_GROUPS: group ids separated by ``|``, most used first."""

    req_id: int
    groups: str = wire("", codec=TEXT)

    def group_ids(self) -> list[int]:
        """The group ids as ints (non-numeric entries skipped)."""
        return [int(g) for g in self.groups.split("|") if g.strip().lstrip("-").isdigit()]


@message(In.DISPLAY_GROUP_UPDATED, version=1)
@dataclass(slots=True)
class DisplayGroupUpdated(InMessage):
    """The contract now shown in the subscribed group: ``"<conId>@<exchange>"``,
    ``"none"`` or ``"combo"``."""

    req_id: int
    contract_info: str = wire("", codec=TEXT)


# -- verify / verify-and-auth (API vendor authentication) -------------------------------------


@message(Out.VERIFY_REQUEST, version=1)
@dataclass(slots=True)
class VerifyRequest(OutMessage):
    """Start an API vendor verification (answered by VERIFY_MESSAGE_API or
    VERIFY_COMPLETED). The official client sends it only when the application declared
    its intent to authenticate at connect (``extraAuth``)."""

    api_name: str = ""
    api_version: str = ""


@message(Out.VERIFY_MESSAGE, version=1)
@dataclass(slots=True)
class VerifyMessage(OutMessage):
    """The vendor's answer to VERIFY_MESSAGE_API's challenge (then VERIFY_COMPLETED)."""

    api_data: str = ""


@message(Out.VERIFY_AND_AUTH_REQUEST, version=1)
@dataclass(slots=True)
class VerifyAndAuthRequest(OutMessage):
    """Start a verification with an ISV key (answered by VERIFY_AND_AUTH_MESSAGE_API or
    VERIFY_AND_AUTH_COMPLETED). Text only at every server version."""

    api_name: str = ""
    api_version: str = ""
    opaque_isv_key: str = ""


@message(Out.VERIFY_AND_AUTH_MESSAGE, version=1)
@dataclass(slots=True)
class VerifyAndAuthMessage(OutMessage):
    """The vendor's answer to VERIFY_AND_AUTH_MESSAGE_API (then VERIFY_AND_AUTH_COMPLETED)."""

    api_data: str = ""
    xyz_response: str = ""


@message(In.VERIFY_MESSAGE_API, version=1)
@dataclass(slots=True)
class VerifyMessageApi(InMessage):
    """TWS's challenge after VERIFY_REQUEST."""

    api_data: str = wire("", codec=TEXT)


@message(In.VERIFY_COMPLETED, version=1)
@dataclass(slots=True)
class VerifyCompleted(InMessage):
    """The end of a verification: success, or the reason it failed."""

    is_successful: bool = wire(False, codec=TRUE_FALSE)
    error_text: str = wire("", codec=TEXT)


@message(In.VERIFY_AND_AUTH_MESSAGE_API, version=1)
@dataclass(slots=True)
class VerifyAndAuthMessageApi(InMessage):
    """TWS's challenge after VERIFY_AND_AUTH_REQUEST."""

    api_data: str = wire("", codec=TEXT)
    xyz_challenge: str = wire("", codec=TEXT)


@message(In.VERIFY_AND_AUTH_COMPLETED, version=1)
@dataclass(slots=True)
class VerifyAndAuthCompleted(InMessage):
    """The end of a verify-and-auth: success, or the reason it failed."""

    is_successful: bool = wire(False, codec=TRUE_FALSE)
    error_text: str = wire("", codec=TEXT)
