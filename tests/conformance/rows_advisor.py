"""Financial-advisor messages: REQUEST_FA, REPLACE_FA, RECEIVE_FA, REPLACE_FA_END.

* REQUEST_FA / REPLACE_FA take plain ints and one string on both sides. FA data type 2
  (profiles) is left out of the rows: from server 177 the official client refuses it itself
  (its local error 585) while aiotws refuses it one layer up, in the client
  (``UnsupportedByServer`` from ``request_fa``); ``test_session_advisor.py`` pins both.
* RECEIVE_FA: the official decoder maps the fields 1:1 onto ``receiveFA`` and
  ``unicode-escape``-decodes each, so the XML is an aiotws ``TEXT`` field (any Unicode).
* REPLACE_FA_END: decoded with ``decode(str)``, plain text (``STR``).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from aiotws.wire.messages import advisor as F

from .support import join_surrogates

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS"]

Args = dict[str, Any]

# Built lazily (see rows_accounts.py): the tables import this module and it needs their Row
# classes; nothing here imports a table, or another rows_*.py module, at import time.
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | st.integers(-(2**63), 2**63 - 1)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
any_text = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))
kinds = st.sampled_from([1, 3])

GROUPS_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListOfGroups>\n  <Group>\n    <name>Core</name>\n'
    '    <defaultMethod>NetLiq</defaultMethod>\n    <ListOfAccts varName="list">\n'
    "      <Account>\n        <acct>DU1234568</acct>\n      </Account>\n    </ListOfAccts>\n"
    "  </Group>\n</ListOfGroups>\n"
)
ALIASES_XML = (
    "<ListOfAccountAliases><AccountAlias><account>DU1234568</account>"
    "<alias>Client 1</alias></AccountAlias></ListOfAccountAliases>"
)
xmls = st.sampled_from([GROUPS_XML, ALIASES_XML, "", "<ListOfGroups/>"]) | printable


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


bad_text = any_text.filter(_is_bad_out_text)


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    @st.composite
    def replace_args(draw: st.DrawFn) -> Args:
        xml = draw(bad_text if draw(st.booleans()) else xmls, label="xml")
        return {"req_id": draw(ints), "kind": draw(kinds), "xml": xml}

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                F.ReqFa,
                "requestFA",
                build=lambda a: F.ReqFa(a["kind"]),
                call=lambda c, a: c.requestFA(a["kind"]),
                samples=({"kind": 1}, {"kind": 3}, {"kind": 0}, {"kind": 7}),
                args=st.fixed_dictionaries({"kind": kinds | st.integers(-5, 50)}).filter(
                    lambda a: a["kind"] != 2
                ),
            ),
            out.Row(
                F.ReplaceFa,
                "replaceFA",
                build=lambda a: F.ReplaceFa(a["kind"], a["xml"], a["req_id"]),
                call=lambda c, a: c.replaceFA(a["req_id"], a["kind"], a["xml"]),
                samples=(
                    {"req_id": 5, "kind": 1, "xml": GROUPS_XML},
                    {"req_id": 6, "kind": 3, "xml": ALIASES_XML},
                    {"req_id": -1, "kind": 1, "xml": ""},
                    {"req_id": 7, "kind": 1, "xml": "<name>M\u00fcller</name>"},  # refused (579)
                ),
                args=replace_args(),
            ),
        ),
    )


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                F.ReceiveFa,
                "receiveFA",
                ours=lambda msg: (msg.fa_data_type, msg.xml),
                theirs=lambda c: (c["faData"], join_surrogates(c["cxml"])),
                messages=lambda v: st.builds(
                    F.ReceiveFa,
                    st.sampled_from([1, 2, 3]) | st.integers(-(2**31), 2**31 - 1),
                    texts | st.sampled_from([GROUPS_XML, ALIASES_XML]),
                ),
                samples=lambda v: [
                    F.ReceiveFa(1, GROUPS_XML),
                    F.ReceiveFa(3, ALIASES_XML.replace("Client 1", "M\u00fcller \\ \U0001f600")),
                    F.ReceiveFa(1, ""),
                ],
                raw=((176, _nul("16", "1", "3", ALIASES_XML)),),
            ),
            inc.Row(
                F.ReplaceFaEnd,
                "replaceFAEnd",
                ours=lambda msg: (msg.req_id, msg.text),
                theirs=lambda c: (c["reqId"], c["text"]),
                messages=lambda v: st.builds(F.ReplaceFaEnd, ids, printable),
                samples=lambda v: [
                    F.ReplaceFaEnd(5, "FA configuration has been saved"),
                    F.ReplaceFaEnd(-1, ""),
                ],
                raw=((176, _nul("103", "5", "FA configuration has been saved")),),
            ),
        ),
    )


def __getattr__(name: str) -> Any:
    """``OUTGOING_ROWS`` / ``INCOMING_ROWS`` asked for while this module is still importing."""
    if name == "OUTGOING_ROWS":
        return _outgoing_rows()
    if name == "INCOMING_ROWS":
        return _incoming_rows()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


OUTGOING_ROWS: tuple[Any, ...] = _outgoing_rows()
INCOMING_ROWS: tuple[Any, ...] = _incoming_rows()
