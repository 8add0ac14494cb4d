"""Financial-advisor messages: REQUEST_FA / RECEIVE_FA / REPLACE_FA / REPLACE_FA_END.

Layouts (PROTOCOL.md 6.20), checked against the official client's ``requestFA``,
``replaceFA``, ``processReplaceFAEndMsg`` and its auto-decoder entry for RECEIVE_FA:

=================== ============ ===========================================================
message             id           fields
=================== ============ ===========================================================
REQUEST_FA          out 18       ``V=1, faDataType:i``
RECEIVE_FA          in 16        ``V=1, faDataType:i, xml:s`` (the official decoder maps the
                                 fields 1:1 onto ``receiveFA`` and ``unicode-escape``-decodes
                                 them, so ``xml`` is a ``TEXT`` field)
REPLACE_FA          out 19       ``V=1, faDataType:i, xml:s, [≥157 REPLACE_FA_END] reqId:i``
REPLACE_FA_END      in 103       ``reqId:i, text:s`` (no version field; plain text)
=================== ============ ===========================================================

``faDataType``: 1 groups, 2 profiles (gone from server 177, ``FA_PROFILE_DESUPPORT``: the
official client refuses type 2 itself with its local error 585; aiotws raises
:class:`~aiotws.errors.UnsupportedByServer` in the client layer), 3 account aliases. It stays
a plain ``int`` on the wire so a type this version does not know still decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiotws.wire.fields import TEXT
from aiotws.wire.ids import In, Out
from aiotws.wire.layout import InMessage, OutMessage, message, since, wire
from aiotws.wire.versions import SV

__all__ = ["ReceiveFa", "ReplaceFa", "ReplaceFaEnd", "ReqFa"]


@message(Out.REQ_FA, version=1)
@dataclass(slots=True)
class ReqFa(OutMessage):
    """Ask for the advisor's configuration of one kind (``fa_data_type``): RECEIVE_FA.

    A non-advisor login gets ERR_MSG 321 (id -1) instead.
    """

    fa_data_type: int


@message(In.RECEIVE_FA, version=1)
@dataclass(slots=True)
class ReceiveFa(InMessage):
    """The advisor's configuration of one kind, as XML (see :mod:`aiotws.model.advisor`)."""

    fa_data_type: int
    xml: str = wire("", codec=TEXT)


@message(Out.REPLACE_FA, version=1)
@dataclass(slots=True)
class ReplaceFa(OutMessage):
    """Replace the advisor's configuration of one kind with ``xml``.

    From server 157 it carries ``req_id`` and TWS confirms with REPLACE_FA_END. TWS does no
    merging: what is sent replaces everything of that kind.
    """

    fa_data_type: int
    xml: str = ""
    req_id: int = since(SV.REPLACE_FA_END, 0)


@message(In.REPLACE_FA_END, since=SV.REPLACE_FA_END)
@dataclass(slots=True)
class ReplaceFaEnd(InMessage):
    """Confirms the REPLACE_FA with ``req_id``; ``text`` is TWS's message."""

    req_id: int
    text: str = ""
