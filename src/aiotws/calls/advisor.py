"""Financial advisors: reading and replacing FA groups, aliases and (legacy) profiles.

* :meth:`AdvisorCalls.request_fa` (REQUEST_FA → RECEIVE_FA) returns the raw XML of one kind;
  :meth:`~AdvisorCalls.fa_groups`, :meth:`~AdvisorCalls.fa_aliases` and
  :meth:`~AdvisorCalls.fa_profiles` parse it into :mod:`aiotws.model.advisor` records.
* :meth:`AdvisorCalls.replace_fa` (REPLACE_FA → REPLACE_FA_END, routed by request id)
  returns TWS's confirmation text; :meth:`~AdvisorCalls.replace_fa_groups` writes the XML
  from records (the legacy shape below server 177) after checking each group.

REQUEST_FA has no request id and TWS refuses it for a login that is not an advisor's with
ERR_MSG id -1 (321 "FA data operations ignored for non FA customers"). The client fails the
oldest FA read in flight with that error (a :class:`~aiotws.errors.RequestError`) rather
than letting it time out. Profiles are gone from server 177 (``FA_PROFILE_DESUPPORT``):
asking for them there raises :class:`~aiotws.errors.UnsupportedByServer` before the wire.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from aiotws.calls.base import CoreBase, Timeout
from aiotws.errors import UnsupportedByServer
from aiotws.model.advisor import (
    FaAlias,
    FaDataType,
    FaGroup,
    FaProfile,
    groups_to_xml,
    parse_aliases,
    parse_groups,
    parse_profiles,
    profiles_to_xml,
)
from aiotws.requests import Single
from aiotws.wire.codes import ErrorKind
from aiotws.wire.messages.advisor import ReceiveFa, ReplaceFa, ReplaceFaEnd, ReqFa
from aiotws.wire.versions import SV

if TYPE_CHECKING:
    from aiotws.client import ErrorInfo
    from aiotws.wire.layout import InMessage

__all__ = ["AdvisorCalls", "is_fa_refusal"]

#: codes TWS answers an FA request with (id -1 for REQUEST_FA, which has no request id)
_FA_CODES: Final = frozenset({321, 10230, 10231})


def is_fa_refusal(code: int, text: str) -> bool:
    """Is ERR_MSG ``code`` / ``text`` with id -1 TWS's answer to an FA request?

    321 is TWS's generic validation error, so it counts only when the text is about FA
    (``FA data operations ignored for non FA customers`` …); 10230 (FA changes pending) and
    10231 (invalid accounts in the FA XML) always do.
    """
    if code not in _FA_CODES:
        return False
    return code != 321 or "FA" in text


def _kind(kind: FaDataType | int) -> FaDataType:
    try:
        return FaDataType(int(kind))
    except ValueError:
        raise ValueError(
            f"FA data type must be 1 (groups), 2 (profiles) or 3 (aliases), not {kind!r}"
        ) from None


class AdvisorCalls(CoreBase):
    """Financial-advisor configuration requests."""

    _fa_reads: deque[Single]

    def _init_advisor(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
        self._fa_reads = deque()
        self.errors += self._on_fa_error

    def _on_fa_error(self, info: ErrorInfo) -> None:
        if info.req_id != -1 or info.kind is not ErrorKind.ERROR:
            return
        if not is_fa_refusal(info.code, info.text):
            return
        while self._fa_reads:
            p = self._fa_reads.popleft()
            if not p.done:
                self._registry.discard(p)
                p.fail(info.to_exception())
                return

    def _check_profiles(self, kind: FaDataType, what: str) -> None:
        if kind is FaDataType.PROFILES and self.server_version >= SV.FA_PROFILE_DESUPPORT:
            raise UnsupportedByServer(
                what, "fa_data_type=2 (profiles)", SV.FA_PROFILE_DESUPPORT,
                self.server_version, removed=True,
            )  # fmt: skip

    async def request_fa(self, kind: FaDataType | int, *, timeout: Timeout = ...) -> str:
        """The advisor's configuration of ``kind`` as TWS's XML (REQUEST_FA → RECEIVE_FA).

        ib_async: ``requestFA(faDataType)``; ibapi: ``requestFA`` → ``receiveFA``.
        Raises :class:`~aiotws.errors.RequestError` when TWS refuses (321 for a login
        that is not an advisor's), :class:`~aiotws.errors.UnsupportedByServer` for
        profiles on server 177+, ``ValueError`` for an unknown kind.
        """
        k = _kind(kind)
        self._check_profiles(k, "ReqFa")

        def ours(m: InMessage) -> bool:
            return isinstance(m, ReceiveFa) and m.fa_data_type == k

        p = Single(None, (ReceiveFa,), f"ReqFa({k.name})")
        p.match = ours
        self._start(ReqFa(int(k)), p)
        self._fa_reads.append(p)
        try:
            msg: ReceiveFa = await self._settle(p, p.future, timeout, None)
        finally:
            if p in self._fa_reads:
                self._fa_reads.remove(p)
        return msg.xml

    async def replace_fa(self, kind: FaDataType | int, xml: str, *, timeout: Timeout = ...) -> str:
        """Replace the configuration of ``kind`` with ``xml``; TWS's REPLACE_FA_END text.

        TWS merges nothing: ``xml`` replaces every group (alias, profile) there is.
        ib_async: ``replaceFA(faDataType, xml)`` (which does not wait); ibapi:
        ``replaceFA(reqId, faDataType, cxml)`` → ``replaceFAEnd``. Raises
        :class:`~aiotws.errors.RequestError` when TWS refuses it.
        """
        k = _kind(kind)
        self._check_profiles(k, "ReplaceFa")
        req_id = self.next_id()
        end = await self.request(
            ReplaceFa(int(k), xml, req_id), ReplaceFaEnd, key=req_id, timeout=timeout
        )
        return end.text

    async def fa_groups(self, *, timeout: Timeout = ...) -> list[FaGroup]:
        """The advisor's allocation groups (``request_fa(GROUPS)``, parsed).

        Raises :class:`~aiotws.errors.FaXmlError` if TWS's XML cannot be read.
        """
        return parse_groups(await self.request_fa(FaDataType.GROUPS, timeout=timeout))

    async def fa_aliases(self, *, timeout: Timeout = ...) -> list[FaAlias]:
        """The advisor's account aliases (``request_fa(ALIASES)``, parsed)."""
        return parse_aliases(await self.request_fa(FaDataType.ALIASES, timeout=timeout))

    async def fa_profiles(self, *, timeout: Timeout = ...) -> list[FaProfile]:
        """The advisor's allocation profiles: servers below 177 only (from 177 profiles
        are groups with a user-specified method; this raises
        :class:`~aiotws.errors.UnsupportedByServer` there)."""
        return parse_profiles(await self.request_fa(FaDataType.PROFILES, timeout=timeout))

    async def replace_fa_groups(self, groups: Iterable[FaGroup], *, timeout: Timeout = ...) -> str:
        """Replace every allocation group with ``groups``; TWS's REPLACE_FA_END text.

        Each group is checked first (:meth:`FaGroup.validate`, ``ValueError``), and the XML
        is written in the shape the server speaks (legacy below 177, where a group cannot
        carry amounts).
        """
        gs = list(groups)
        names: set[str] = set()
        for g in gs:
            g.validate()
            if g.name in names:
                raise ValueError(f"two FA groups are named {g.name!r}")
            names.add(g.name)
        legacy = self.server_version < SV.FA_PROFILE_DESUPPORT
        return await self.replace_fa(
            FaDataType.GROUPS, groups_to_xml(gs, legacy=legacy), timeout=timeout
        )

    async def replace_fa_profiles(
        self, profiles: Iterable[FaProfile], *, timeout: Timeout = ...
    ) -> str:
        """Replace every allocation profile (servers below 177 only)."""
        ps = list(profiles)
        for p in ps:
            p.validate()
        return await self.replace_fa(FaDataType.PROFILES, profiles_to_xml(ps), timeout=timeout)
