"""Display groups, verify/auth, soft dollar tiers and delta-neutral validation against the
official client.

The official ``verifyRequest`` and ``verifyAndAuthRequest`` refuse to send unless the client
expressed its intent to authenticate (``extraAuth``, never settable in the Python client):
the rows set it in ``setup``, as aiotws's ``Client.extra_auth`` would allow the same
requests. The incoming display-group and verify messages are "auto" messages of the
official decoder (each field ``unicode-escape``-decoded): aiotws ``TEXT`` fields. The two
*Completed* messages carry ``isSuccessful`` as the text ``true`` / ``false``, which the
official auto-decoder passes on as that text.

SOFT_DOLLAR_TIERS and DELTA_NEUTRAL_VALIDATION belong to the account and order families
(their classes live in ``wire/messages/accounts.py`` and ``orders.py``); their rows are
here, with the rest of issue 9's small requests.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from ibapi.client import EClient

from aiotws.model import SoftDollarTier
from aiotws.wire.messages import accounts as A
from aiotws.wire.messages import display as D
from aiotws.wire.messages import orders as O

from .support import join_surrogates, req_id_row

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS"]

Args = dict[str, Any]
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | st.integers(-(2**63), 2**63 - 1)
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
bad_text = st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FF), min_size=1)
out_text = printable | bad_text
#: any text but NUL (TEXT fields, which aiotws \\u-escapes)
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))
finite = st.floats(allow_nan=False, allow_infinity=False)
infos = st.sampled_from(["none", "combo", "8314@SMART", "265598@NASDAQ"]) | out_text


def _j(s: str) -> str:
    return join_surrogates(s)


def _extra_auth(client: EClient, a: Args) -> None:
    client.extraAuth = True


def _text_row(
    out: Any, cls: type[Any], method: str, names: tuple[str, ...], samples: tuple[Args, ...]
) -> Any:
    """A row for a request of text fields (``names``, passed positionally on both sides)."""
    return out.Row(
        cls,
        method,
        build=lambda a: cls(*(a[n] for n in names)),
        call=lambda c, a: getattr(c, method)(*(a[n] for n in names)),
        samples=samples,
        args=st.fixed_dictionaries(dict.fromkeys(names, out_text)),
        setup=_extra_auth,
    )


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            req_id_row(out, D.QueryDisplayGroups, "queryDisplayGroups"),
            out.Row(
                D.SubscribeToGroupEvents,
                "subscribeToGroupEvents",
                build=lambda a: D.SubscribeToGroupEvents(a["req_id"], a["group_id"]),
                call=lambda c, a: c.subscribeToGroupEvents(a["req_id"], a["group_id"]),
                samples=({"req_id": 1, "group_id": 1}, {"req_id": 9, "group_id": 7}),
                args=st.fixed_dictionaries({"req_id": ints, "group_id": ints}),
            ),
            out.Row(
                D.UpdateDisplayGroup,
                "updateDisplayGroup",
                build=lambda a: D.UpdateDisplayGroup(a["req_id"], a["info"]),
                call=lambda c, a: c.updateDisplayGroup(a["req_id"], a["info"]),
                samples=(
                    {"req_id": 1, "info": "8314@SMART"},
                    {"req_id": 1, "info": "none"},
                    {"req_id": 1, "info": "caf\u00e9@SMART"},  # refused by both (579)
                ),
                args=st.fixed_dictionaries({"req_id": ints, "info": infos}),
            ),
            req_id_row(out, D.UnsubscribeFromGroupEvents, "unsubscribeFromGroupEvents"),
            _text_row(
                out,
                D.VerifyRequest,
                "verifyRequest",
                ("api_name", "api_version"),
                ({"api_name": "app", "api_version": "1.0"}, {"api_name": "", "api_version": ""}),
            ),
            _text_row(out, D.VerifyMessage, "verifyMessage", ("api_data",), ({"api_data": "x"},)),
            _text_row(
                out,
                D.VerifyAndAuthRequest,
                "verifyAndAuthRequest",
                ("api_name", "api_version", "opaque_isv_key"),
                ({"api_name": "app", "api_version": "1.0", "opaque_isv_key": "K"},),
            ),
            _text_row(
                out,
                D.VerifyAndAuthMessage,
                "verifyAndAuthMessage",
                ("api_data", "xyz_response"),
                ({"api_data": "d", "xyz_response": "r"},),
            ),
            req_id_row(out, A.ReqSoftDollarTiers, "reqSoftDollarTiers"),
        ),
    )


def _tiers_view(tiers: list[Any], official: bool) -> list[tuple[str, str, str]]:
    if official:
        return [(t.name, t.val, t.displayName) for t in tiers]
    return [(t.name, t.value, t.display_name) for t in tiers]


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    def nul(*fields: str) -> bytes:
        return "".join(f + "\0" for f in fields).encode()

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                D.DisplayGroupList,
                "displayGroupList",
                ours=lambda m: (m.req_id, m.groups),
                theirs=lambda c: (c["reqId"], _j(c["groups"])),
                messages=lambda v: st.builds(D.DisplayGroupList, ids, texts),
                samples=lambda v: [D.DisplayGroupList(1, "1|2|3|4|5|6|7"), D.DisplayGroupList(2)],
                raw=((176, nul("67", "1", "5", "4|1|2|3|5|6|7")),),
            ),
            inc.Row(
                D.DisplayGroupUpdated,
                "displayGroupUpdated",
                ours=lambda m: (m.req_id, m.contract_info),
                theirs=lambda c: (c["reqId"], _j(c["contractInfo"])),
                messages=lambda v: st.builds(D.DisplayGroupUpdated, ids, texts),
                samples=lambda v: [
                    D.DisplayGroupUpdated(1, "265598@SMART"),
                    D.DisplayGroupUpdated(1, "none"),
                    D.DisplayGroupUpdated(1, "caf\u00e9 \U0001f600"),
                ],
                raw=((176, nul("68", "1", "5", "8314@SMART")),),
            ),
            inc.Row(
                D.VerifyMessageApi,
                "verifyMessageAPI",
                ours=lambda m: m.api_data,
                theirs=lambda c: _j(c["apiData"]),
                messages=lambda v: st.builds(D.VerifyMessageApi, texts),
                samples=lambda v: [D.VerifyMessageApi("challenge"), D.VerifyMessageApi()],
                raw=((176, nul("65", "1", "abc")),),
            ),
            inc.Row(
                D.VerifyCompleted,
                "verifyCompleted",
                ours=lambda m: (m.is_successful, m.error_text),
                theirs=lambda c: (str(c["isSuccessful"]).lower() == "true", _j(c["errorText"])),
                messages=lambda v: st.builds(D.VerifyCompleted, st.booleans(), texts),
                samples=lambda v: [D.VerifyCompleted(True, ""), D.VerifyCompleted(False, "no")],
                raw=((176, nul("66", "1", "false", "not a vendor")),),
            ),
            inc.Row(
                D.VerifyAndAuthMessageApi,
                "verifyAndAuthMessageAPI",
                ours=lambda m: (m.api_data, m.xyz_challenge),
                theirs=lambda c: (_j(c["apiData"]), _j(c["xyzChallange"])),
                messages=lambda v: st.builds(D.VerifyAndAuthMessageApi, texts, texts),
                samples=lambda v: [D.VerifyAndAuthMessageApi("d", "x")],
                raw=((176, nul("69", "1", "d", "x")),),
            ),
            inc.Row(
                D.VerifyAndAuthCompleted,
                "verifyAndAuthCompleted",
                ours=lambda m: (m.is_successful, m.error_text),
                theirs=lambda c: (str(c["isSuccessful"]).lower() == "true", _j(c["errorText"])),
                messages=lambda v: st.builds(D.VerifyAndAuthCompleted, st.booleans(), texts),
                samples=lambda v: [
                    D.VerifyAndAuthCompleted(True, ""),
                    D.VerifyAndAuthCompleted(False, "\u00fcber"),
                ],
                raw=((176, nul("70", "1", "true", "")),),
            ),
            inc.Row(
                A.SoftDollarTiers,
                "softDollarTiers",
                ours=lambda m: (m.req_id, _tiers_view(m.tiers, False)),
                theirs=lambda c: (c["reqId"], _tiers_view(c["tiers"], True)),
                messages=lambda v: st.builds(
                    A.SoftDollarTiers,
                    ids,
                    st.lists(
                        st.builds(SoftDollarTier, printable, printable, printable), max_size=4
                    ),
                ),
                samples=lambda v: [
                    A.SoftDollarTiers(4, [SoftDollarTier("Research", "RES1", "Research 1c")]),
                    A.SoftDollarTiers(4),
                ],
                raw=((176, nul("77", "4", "2", "A", "1", "Tier A", "B", "2", "")),),
            ),
            inc.Row(
                O.DeltaNeutralValidation,
                "deltaNeutralValidation",
                ours=lambda m: (m.req_id, m.con_id, m.delta, m.price),
                theirs=lambda c: (
                    c["reqId"],
                    c["deltaNeutralContract"].conId,
                    c["deltaNeutralContract"].delta,
                    c["deltaNeutralContract"].price,
                ),
                messages=lambda v: st.builds(O.DeltaNeutralValidation, ids, ids, finite, finite),
                samples=lambda v: [
                    O.DeltaNeutralValidation(12, 265598, 0.5, 185.25),
                    O.DeltaNeutralValidation(1),
                ],
                raw=((176, nul("56", "1", "12", "265598", "0.5", "185.25")),),
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
