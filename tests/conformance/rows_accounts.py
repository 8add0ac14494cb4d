"""Account messages: executions, commissions, positions, account updates and summary, PnL.

Outgoing rows build an official ``ExecutionFilter`` from the same argument dict as the aiotws
``ExecutionFilter``: ``last_n_days=None`` is the official ``UNSET_INTEGER`` and an empty
``specific_dates`` list is the official ``None`` (see below). The other requests take plain
strings, ints and bools on both sides.

Official value mappings used by the views:

* sizes (``shares``, ``cumQty``, ``position``, ``pos``): the official ``UNSET_DECIMAL`` is
  aiotws's ``None``.
* optional money values (PnL, ``realizedPNL``, ``yield``, ``evMultiplier``, PORTFOLIO_VALUE's
  PnL) and strikes: aiotws reads an empty field *and* ``1.7976931348623157E308`` as
  ``None``; the official decoder reads empty as 0.0 and the sentinel as ``UNSET_DOUBLE``.
  Views map all three to 0.0 on both sides (aiotws writes ``None`` as an empty field).
* ACCT_VALUE, ACCOUNT_SUMMARY, ACCOUNT_UPDATE_MULTI and the ``*_END`` messages: the
  official decoder maps fields 1:1 onto the callback and ``unicode-escape``-decodes each,
  so their strings are aiotws ``TEXT`` fields (any Unicode text; surrogate pairs joined).
* REQ_EXECUTIONS below 200: the official client refuses a filter whose ``specificDates`` is
  not ``None``, even an empty list; aiotws cannot tell an empty list from none and sends
  it. Pinned in ``test_accounts.py``; the rows pass ``None`` for an empty list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st
from ibapi.client import EClient
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER
from ibapi.execution import ExecutionFilter as OfficialExecutionFilter

from aiotws.model import Contract
from aiotws.model.account import ExecutionFilter, FamilyCode
from aiotws.wire.messages import accounts as A
from aiotws.wire.versions import SV

from .support import Call, join_surrogates, req_id_row

__all__ = [
    "FILTER_KEYS",
    "INCOMING_ROWS",
    "OUTGOING_ROWS",
    "official_filter",
    "our_filter",
]

Args = dict[str, Any]

# Rows are built lazily, as in rows_contracts (see the note there): the tables import this
# module and it needs their Row classes, so nothing here imports a table at import time.
# Nor another rows_*.py module: this one sorts first, and importing rows_contracts here
# would make it import the tables while this module is half-built (its rows then go
# missing without a word). So the base strategies are repeated from rows_contracts.
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
int64 = st.integers(-(2**63), 2**63 - 1)
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | int64
#: printable ASCII plus TAB/LF/CR (what both encoders send), and text the official client refuses
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
any_text = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))
#: any text but NUL (TEXT fields, which aiotws \\u-escapes)
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))
out_text = st.one_of(
    st.sampled_from(["", "SMART", "AAPL", "USD", "NASDAQ", "STK", "OPT", "C", "100", "ISIN"]),
    printable,
)
_UNSET_DECIMALS: Final = {Decimal(2**31 - 1), Decimal(2**63 - 1), Decimal(-(2**63))}
sizes = st.one_of(
    st.none(),
    st.sampled_from([Decimal("1"), Decimal("0.0001"), Decimal("100"), Decimal("0.50")]),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).filter(
        lambda d: d not in _UNSET_DECIMALS
    ),
)

# -- outgoing ---------------------------------------------------------------------------------

#: aiotws ``ExecutionFilter`` attribute -> official ``ExecutionFilter`` attribute
FILTER_KEYS: Final = (
    ("client_id", "clientId"),
    ("acct_code", "acctCode"),
    ("time", "time"),
    ("symbol", "symbol"),
    ("sec_type", "secType"),
    ("exchange", "exchange"),
    ("side", "side"),
    ("last_n_days", "lastNDays"),
    ("specific_dates", "specificDates"),
)


def our_filter(a: Args) -> ExecutionFilter:
    return ExecutionFilter(**{k: a[k] for k, _ in FILTER_KEYS})


def official_filter(a: Args) -> OfficialExecutionFilter:
    f = OfficialExecutionFilter()
    for ours, theirs in FILTER_KEYS:
        setattr(f, theirs, a[ours])
    if a["last_n_days"] is None:
        f.lastNDays = UNSET_INTEGER
    if not a["specific_dates"]:
        f.specificDates = None
    return f


def filter_args(**changes: Any) -> Args:
    a: Args = {
        "req_id": 1,
        "client_id": 0,
        "acct_code": "",
        "time": "",
        "symbol": "",
        "sec_type": "",
        "exchange": "",
        "side": "",
        "last_n_days": None,
        "specific_dates": [],
    }
    a.update(changes)
    return a


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


bad_text = any_text.filter(_is_bad_out_text)
#: lastNDays: ``None`` (sent as 2147483647) or any other int (2147483647 itself is pinned)
n_days = st.none() | st.integers().filter(lambda n: n != UNSET_INTEGER)
dates = st.lists(st.sampled_from(["20240102", "20231229"]) | out_text, max_size=3)


@st.composite
def _filter_draw(draw: st.DrawFn) -> Args:
    a = filter_args(
        req_id=draw(ints),
        client_id=draw(st.sampled_from([0, 1]) | ints),
        acct_code=draw(st.sampled_from(["", "DU1234567"]) | out_text),
        time=draw(st.sampled_from(["", "20240102 09:30:00 US/Eastern"]) | out_text),
        symbol=draw(out_text),
        sec_type=draw(out_text),
        exchange=draw(out_text),
        side=draw(st.sampled_from(["", "BUY", "SELL"]) | out_text),
        # half the time leave the 200+ fields unset, so older versions send bytes too
        last_n_days=draw(st.none() | n_days),
        specific_dates=draw(st.just([]) | dates),
    )
    if draw(st.booleans()):
        keys = [k for k, v in a.items() if isinstance(v, str)]
        key = draw(st.sampled_from(keys))
        a[key] = draw(bad_text, label=f"bad {key}")
    elif a["specific_dates"] and draw(st.booleans()):
        a["specific_dates"][0] = draw(bad_text, label="bad date")
    return a


def _fixed(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Args]:
    """Argument dicts from ``keys``, with text the official client refuses now and then."""

    @st.composite
    def draw_args(draw: st.DrawFn) -> Args:
        a = {k: draw(s, label=k) for k, s in keys.items()}
        texts_ = [k for k, v in a.items() if isinstance(v, str)]
        if texts_ and draw(st.booleans()):
            key = draw(st.sampled_from(texts_))
            a[key] = draw(bad_text, label=f"bad {key}")
        return a

    return draw_args()


accounts = st.sampled_from(["", "All", "DU1234567", "U123,U456"]) | out_text
models = st.sampled_from(["", "MODEL1"]) | out_text
tag_lists = (
    st.sampled_from(
        ["NetLiquidation,BuyingPower", "$LEDGER", "$LEDGER:ALL", "$LEDGER:USD", "AccountType"]
    )
    | out_text
)


def _no_arg_row(out: Any, cls: type[Any], method: str) -> Any:
    return out.Row(cls, method, build=lambda a: cls(), call=lambda c, a: getattr(c, method)())


def _call_executions(client: EClient, a: Args) -> None:
    client.reqExecutions(a["req_id"], official_filter(a))


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                A.ReqExecutions,
                "reqExecutions",
                build=lambda a: A.ReqExecutions(a["req_id"], our_filter(a)),
                call=_call_executions,
                samples=(
                    filter_args(),
                    filter_args(req_id=7, client_id=3, acct_code="DU1234567", side="BUY"),
                    filter_args(time="20240102 09:30:00 US/Eastern", symbol="AAPL", sec_type="STK"),
                    filter_args(exchange="SMART", time="20240102-14:30:00"),
                    filter_args(last_n_days=3),  # 200+ only: refused below
                    filter_args(specific_dates=["20240102", "20231229"]),  # 200+ only
                    filter_args(last_n_days=0, specific_dates=["20240102"]),
                    filter_args(symbol="caf\u00e9"),  # refused by both (579)
                    filter_args(specific_dates=["\u00e9"]),  # refused (200+) or unsupported
                ),
                args=_filter_draw(),
            ),
            _no_arg_row(out, A.ReqPositions, "reqPositions"),
            _no_arg_row(out, A.CancelPositions, "cancelPositions"),
            out.Row(
                A.ReqPositionsMulti,
                "reqPositionsMulti",
                build=lambda a: A.ReqPositionsMulti(a["req_id"], a["account"], a["model_code"]),
                call=lambda c, a: c.reqPositionsMulti(a["req_id"], a["account"], a["model_code"]),
                samples=(
                    {"req_id": 1, "account": "DU1234567", "model_code": ""},
                    {"req_id": 2, "account": "", "model_code": "MODEL1"},
                    {"req_id": -1, "account": "\u00e9", "model_code": ""},  # refused (579)
                ),
                args=_fixed({"req_id": ints, "account": accounts, "model_code": models}),
            ),
            req_id_row(out, A.CancelPositionsMulti, "cancelPositionsMulti"),
            out.Row(
                A.ReqAcctData,
                "reqAccountUpdates",
                build=lambda a: A.ReqAcctData(a["subscribe"], a["acct_code"]),
                call=lambda c, a: c.reqAccountUpdates(a["subscribe"], a["acct_code"]),
                samples=(
                    {"subscribe": True, "acct_code": "DU1234567"},
                    {"subscribe": False, "acct_code": "DU1234567"},
                    {"subscribe": True, "acct_code": ""},
                    {"subscribe": True, "acct_code": "\u00e9"},  # refused (579)
                ),
                args=_fixed({"subscribe": st.booleans(), "acct_code": accounts}),
            ),
            out.Row(
                A.ReqAccountUpdatesMulti,
                "reqAccountUpdatesMulti",
                build=lambda a: A.ReqAccountUpdatesMulti(
                    a["req_id"], a["account"], a["model_code"], a["ledger_and_nlv"]
                ),
                call=lambda c, a: c.reqAccountUpdatesMulti(
                    a["req_id"], a["account"], a["model_code"], a["ledger_and_nlv"]
                ),
                samples=(
                    {"req_id": 1, "account": "DU1", "model_code": "", "ledger_and_nlv": False},
                    {"req_id": 2, "account": "", "model_code": "M1", "ledger_and_nlv": True},
                    {"req_id": 3, "account": "\u00e9", "model_code": "", "ledger_and_nlv": True},
                ),
                args=_fixed(
                    {
                        "req_id": ints,
                        "account": accounts,
                        "model_code": models,
                        "ledger_and_nlv": st.booleans(),
                    }
                ),
            ),
            req_id_row(out, A.CancelAccountUpdatesMulti, "cancelAccountUpdatesMulti"),
            out.Row(
                A.ReqAccountSummary,
                "reqAccountSummary",
                build=lambda a: A.ReqAccountSummary(a["req_id"], a["group_name"], a["tags"]),
                call=lambda c, a: c.reqAccountSummary(a["req_id"], a["group_name"], a["tags"]),
                samples=(
                    {"req_id": 1, "group_name": "All", "tags": "NetLiquidation,BuyingPower"},
                    {"req_id": 2, "group_name": "All", "tags": "$LEDGER:ALL"},
                    {"req_id": 3, "group_name": "FA1", "tags": ""},
                    {"req_id": 4, "group_name": "All", "tags": "\u00e9"},  # refused (579)
                ),
                args=_fixed(
                    {
                        "req_id": ints,
                        "group_name": st.sampled_from(["All", "FAGROUP"]) | out_text,
                        "tags": tag_lists,
                    }
                ),
            ),
            req_id_row(out, A.CancelAccountSummary, "cancelAccountSummary"),
            out.Row(
                A.ReqPnl,
                "reqPnL",
                build=lambda a: A.ReqPnl(a["req_id"], a["account"], a["model_code"]),
                call=lambda c, a: c.reqPnL(a["req_id"], a["account"], a["model_code"]),
                samples=(
                    {"req_id": 1, "account": "DU1234567", "model_code": ""},
                    {"req_id": 2, "account": "DU1234567", "model_code": "M1"},
                    {"req_id": 3, "account": "\u00e9", "model_code": ""},  # refused (579)
                ),
                args=_fixed({"req_id": ints, "account": accounts, "model_code": models}),
            ),
            req_id_row(out, A.CancelPnl, "cancelPnL"),
            out.Row(
                A.ReqPnlSingle,
                "reqPnLSingle",
                build=lambda a: A.ReqPnlSingle(
                    a["req_id"], a["account"], a["model_code"], a["con_id"]
                ),
                call=lambda c, a: c.reqPnLSingle(
                    a["req_id"], a["account"], a["model_code"], a["con_id"]
                ),
                samples=(
                    {"req_id": 1, "account": "DU1234567", "model_code": "", "con_id": 265598},
                    {"req_id": 2, "account": "DU1", "model_code": "M1", "con_id": 0},
                    {"req_id": 3, "account": "\u00e9", "model_code": "", "con_id": 1},
                ),
                args=_fixed(
                    {
                        "req_id": ints,
                        "account": accounts,
                        "model_code": models,
                        "con_id": st.sampled_from([0, 265598]) | ints,
                    }
                ),
            ),
            req_id_row(out, A.CancelPnlSingle, "cancelPnLSingle"),
            _no_arg_row(out, A.ReqFamilyCodes, "reqFamilyCodes"),
            req_id_row(out, A.ReqUserInfo, "reqUserInfo"),
        ),
    )


# -- incoming ---------------------------------------------------------------------------------

#: STR fields: aiotws writes printable ASCII only, the official client reads it raw
text = printable
finite = st.floats(allow_nan=False, allow_infinity=False)
prices = st.sampled_from([0.0, -1.0, 185.5, 0.01, 1e-7, 1e22, float("inf")]) | finite
#: optional floats: ``None`` (written empty) or any finite float but the sentinel
opt_floats = (
    st.none() | st.sampled_from([0.0, -12.5, 1e-7]) | finite.filter(lambda x: x != UNSET_DOUBLE)
)
strikes = (
    st.none() | st.sampled_from([0.0, 185.0, 0.5]) | finite.filter(lambda x: x != UNSET_DOUBLE)
)
exec_times = st.sampled_from(["20240102 10:15:30 US/Eastern", "20240102-15:15:30", ""]) | text


def _opt(x: float | None) -> float:
    return 0.0 if x is None or x == UNSET_DOUBLE else x


def _size(d: Decimal | None) -> Decimal | None:
    return None if d is None or d == UNSET_DECIMAL else d


#: aiotws ``Contract`` attribute -> official attribute, EXECUTION_DATA / POSITION_DATA order
C11_KEYS: Final = (
    ("con_id", "conId"),
    ("symbol", "symbol"),
    ("sec_type", "secType"),
    ("last_trade_date_or_contract_month", "lastTradeDateOrContractMonth"),
    ("strike", "strike"),
    ("right", "right"),
    ("multiplier", "multiplier"),
    ("exchange", "exchange"),
    ("currency", "currency"),
    ("local_symbol", "localSymbol"),
    ("trading_class", "tradingClass"),
)
PORTFOLIO_KEYS: Final = (
    *C11_KEYS[:7],
    ("primary_exchange", "primaryExchange"),
    *C11_KEYS[8:],
)


def _contract_view(c: Any, keys: tuple[tuple[str, str], ...], official: bool) -> tuple[Any, ...]:
    values = []
    for ours, theirs in keys:
        v = getattr(c, theirs if official else ours)
        values.append(_opt(v) if ours == "strike" else v)
    return tuple(values)


def _contracts(keys: tuple[tuple[str, str], ...]) -> st.SearchStrategy[Contract]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        k: (st.sampled_from(["", "AAPL", "STK", "USD", "SMART"]) | text) for k, _ in keys
    }
    fields["con_id"] = st.sampled_from([0, 265598]) | int64
    fields["strike"] = strikes
    return st.builds(Contract, **fields)


#: EXECUTION_DATA's execution fields after the contract: (aiotws, official, view)
_EXEC_FIELDS: Final = (
    ("exec_id", "execId", None),
    ("time", "time", None),
    ("acct_number", "acctNumber", None),
    ("exchange", "exchange", None),
    ("side", "side", None),
    ("shares", "shares", _size),
    ("price", "price", None),
    ("perm_id", "permId", None),
    ("client_id", "clientId", None),
    ("liquidation", "liquidation", None),
    ("cum_qty", "cumQty", _size),
    ("avg_price", "avgPrice", None),
    ("order_ref", "orderRef", None),
    ("ev_rule", "evRule", None),
    ("ev_multiplier", "evMultiplier", _opt),
    ("model_code", "modelCode", None),
    ("last_liquidity", "lastLiquidity", None),
    ("pending_price_revision", "pendingPriceRevision", None),
    ("submitter", "submitter", None),
)


def exec_view(msg: A.ExecutionData) -> Any:
    e = tuple((view or (lambda v: v))(getattr(msg, ours)) for ours, _, view in _EXEC_FIELDS)
    return (msg.req_id, msg.order_id, _contract_view(msg.contract, C11_KEYS, False), e)


def official_exec_view(c: Call) -> Any:
    ex = c["execution"]
    e = tuple((view or (lambda v: v))(getattr(ex, theirs)) for _, theirs, view in _EXEC_FIELDS)
    return (c["reqId"], ex.orderId, _contract_view(c["contract"], C11_KEYS, True), e)


@st.composite
def _exec_draw(draw: st.DrawFn, version: int) -> A.ExecutionData:
    return A.ExecutionData(
        req_id=draw(ids),
        order_id=draw(ids),
        contract=draw(_contracts(C11_KEYS)),
        exec_id=draw(st.sampled_from(["0000e0d5.65a3b2c1.01.01"]) | text),
        time=draw(exec_times),
        acct_number=draw(text),
        exchange=draw(text),
        side=draw(st.sampled_from(["BOT", "SLD"]) | text),
        shares=draw(sizes),
        price=draw(prices),
        perm_id=draw(int64),
        client_id=draw(ids),
        liquidation=draw(st.sampled_from([0, 1]) | int64),
        cum_qty=draw(sizes),
        avg_price=draw(prices),
        order_ref=draw(text),
        ev_rule=draw(text),
        ev_multiplier=draw(opt_floats),
        model_code=draw(text),
        last_liquidity=draw(st.sampled_from([0, 1, 2, 3]) | int64),
        pending_price_revision=draw(st.booleans())
        if version >= SV.PENDING_PRICE_REVISION
        else False,
        submitter=draw(text) if version >= SV.SUBMITTER else "",
    )


AAPL: Final = Contract(
    sec_type="STK",
    con_id=265598,
    symbol="AAPL",
    strike=0.0,
    exchange="NASDAQ",
    currency="USD",
    local_symbol="AAPL",
    trading_class="NMS",
)
AAPL_C11: Final = ("265598", "AAPL", "STK", "", "0.0", "", "", "NASDAQ", "USD", "AAPL", "NMS")
D = Decimal


def _exec_samples(version: int) -> list[Any]:
    later = {
        "pending_price_revision": version >= SV.PENDING_PRICE_REVISION,
        "submitter": "alice" if version >= SV.SUBMITTER else "",
    }
    return [
        A.ExecutionData(
            -1, 42, AAPL, "0000e0d5.65a3b2c1.01.01", "20240102 10:15:30 US/Eastern",
            "DU1234567", "NASDAQ", "BOT", D("100"), 185.5, 1234567890, 7, 0, D("100"),
            185.5, "ref", "", None, "", 2, **later,
        ),
        A.ExecutionData(
            3, 0, Contract(sec_type="OPT", strike=185.0, right="C", multiplier="100"),
            "x", "", "", "", "SLD", D("0.25"), 1e-7, 0, 0, 1, None, 0.0, "", "rule", 2.5,
            "M1", 0,
        ),
        A.ExecutionData(-1),
    ]  # fmt: skip


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


_EXEC_HEAD: Final = (
    "0000e0d5.65a3b2c1.01.01", "20240102 10:15:30 US/Eastern", "DU1234567", "NASDAQ", "BOT",
    "100", "185.5", "1234567890", "7", "0", "100", "185.5", "", "", "", "", "2",
)  # fmt: skip
_UNSET: Final = "1.7976931348623157E308"


def _text_builds(cls: type[Any], *names: str, req_id: bool = False) -> Any:
    """A ``messages`` strategy for a message of TEXT fields (plus a leading req_id)."""
    kw: dict[str, st.SearchStrategy[Any]] = dict.fromkeys(names, texts)
    if req_id:
        kw["req_id"] = ids
    return lambda v: st.builds(cls, **kw)


def _j(s: str) -> str:
    return join_surrogates(s)


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    def end_row(cls: type[Any], callback: str, raw: bytes) -> Any:
        return inc.Row(
            cls,
            callback,
            ours=lambda msg: msg.req_id,
            theirs=lambda c: c["reqId"],
            messages=lambda v: st.builds(cls, ids),
            samples=lambda v: [cls(1), cls(-1), cls(2**31 - 1)],
            raw=((176, raw),),
        )

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                A.ExecutionData,
                "execDetails",
                ours=exec_view,
                theirs=official_exec_view,
                messages=_exec_draw,
                samples=_exec_samples,
                raw=(
                    (176, _nul("11", "-1", "42", *AAPL_C11, *_EXEC_HEAD)),
                    (178, _nul("11", "-1", "42", *AAPL_C11, *_EXEC_HEAD, "1")),
                    (200, _nul("11", "5", "42", *AAPL_C11, *_EXEC_HEAD, "0", "bob")),
                ),
            ),
            end_row(A.ExecutionDataEnd, "execDetailsEnd", _nul("55", "1", "7")),
            inc.Row(
                A.CommissionAndFeesReport,
                "commissionAndFeesReport",
                ours=lambda msg: (
                    msg.exec_id,
                    msg.commission,
                    msg.currency,
                    _opt(msg.realized_pnl),
                    _opt(msg.yield_),
                    msg.yield_redemption_date,
                ),
                theirs=lambda c: (
                    c["commissionAndFeesReport"].execId,
                    c["commissionAndFeesReport"].commissionAndFees,
                    c["commissionAndFeesReport"].currency,
                    _opt(c["commissionAndFeesReport"].realizedPNL),
                    _opt(c["commissionAndFeesReport"].yield_),
                    c["commissionAndFeesReport"].yieldRedemptionDate,
                ),
                messages=lambda v: st.builds(
                    A.CommissionAndFeesReport,
                    text,
                    prices,
                    st.sampled_from(["USD", "EUR"]) | text,
                    opt_floats,
                    opt_floats,
                    st.sampled_from([0, 20301231]) | int64,
                ),
                samples=lambda v: [
                    A.CommissionAndFeesReport("0000e0d5.65a3b2c1.01.01", 1.0, "USD"),
                    A.CommissionAndFeesReport("x", 1.25, "USD", -12.5, 4.1, 20301231),
                    A.CommissionAndFeesReport(),
                ],
                raw=(
                    (
                        176,
                        _nul(
                            "59", "1", "0000e0d5.65a3b2c1.01.01", "1.0", "USD", _UNSET, _UNSET, "0"
                        ),
                    ),
                    (200, _nul("59", "1", "x", "0.35", "USD", "-12.5", "", "")),
                ),
            ),
            inc.Row(
                A.PositionData,
                "position",
                ours=lambda msg: (
                    msg.account,
                    _contract_view(msg.contract, C11_KEYS, False),
                    msg.position,
                    msg.avg_cost,
                ),
                theirs=lambda c: (
                    c["account"],
                    _contract_view(c["contract"], C11_KEYS, True),
                    _size(c["position"]),
                    c["avgCost"],
                ),
                messages=lambda v: st.builds(
                    A.PositionData, text, _contracts(C11_KEYS), sizes, prices
                ),
                samples=lambda v: [
                    A.PositionData("DU1234567", AAPL, D("100"), 150.25),
                    A.PositionData("DU1", Contract(sec_type="FUT"), D("-0.5"), 0.0),
                    A.PositionData(),
                ],
                raw=((176, _nul("61", "3", "DU1234567", *AAPL_C11, "100", "150.25")),),
            ),
            inc.Row(
                A.PositionEnd,
                "positionEnd",
                ours=lambda msg: (),
                theirs=lambda c: tuple(c.args.values()),
                messages=lambda v: st.just(A.PositionEnd()),
                samples=lambda v: [A.PositionEnd()],
                raw=((176, _nul("62", "1")),),
            ),
            inc.Row(
                A.PositionMulti,
                "positionMulti",
                ours=lambda msg: (
                    msg.req_id,
                    msg.account,
                    msg.model_code,
                    _contract_view(msg.contract, C11_KEYS, False),
                    msg.position,
                    msg.avg_cost,
                ),
                theirs=lambda c: (
                    c["reqId"],
                    c["account"],
                    c["modelCode"],
                    _contract_view(c["contract"], C11_KEYS, True),
                    _size(c["pos"]),
                    c["avgCost"],
                ),
                messages=lambda v: st.builds(
                    A.PositionMulti, ids, text, _contracts(C11_KEYS), sizes, prices, text
                ),
                samples=lambda v: [
                    A.PositionMulti(4, "DU1", AAPL, D("10"), 150.0, "M1"),
                    A.PositionMulti(-1),
                ],
                raw=((176, _nul("71", "1", "4", "DU1", *AAPL_C11, "10", "150.0", "M1")),),
            ),
            end_row(A.PositionMultiEnd, "positionMultiEnd", _nul("72", "1", "4")),
            inc.Row(
                A.AcctValue,
                "updateAccountValue",
                ours=lambda msg: (msg.key, msg.value, msg.currency, msg.account_name),
                theirs=lambda c: (
                    _j(c["key"]),
                    _j(c["val"]),
                    _j(c["currency"]),
                    _j(c["accountName"]),
                ),
                messages=_text_builds(A.AcctValue, "key", "value", "currency", "account_name"),
                samples=lambda v: [
                    A.AcctValue("NetLiquidation", "100000.50", "USD", "DU1234567"),
                    A.AcctValue("AccountReady", "true", "", "DU1234567"),
                    A.AcctValue("k", "caf\u00e9 \\ \U0001f600", "", "DU1"),
                    A.AcctValue(),
                ],
                raw=((176, _nul("6", "2", "NetLiquidation", "100000.50", "USD", "DU1")),),
            ),
            inc.Row(
                A.PortfolioValue,
                "updatePortfolio",
                ours=lambda msg: (
                    _contract_view(msg.contract, PORTFOLIO_KEYS, False),
                    msg.position,
                    msg.market_price,
                    msg.market_value,
                    msg.average_cost,
                    _opt(msg.unrealized_pnl),
                    _opt(msg.realized_pnl),
                    msg.account_name,
                ),
                theirs=lambda c: (
                    _contract_view(c["contract"], PORTFOLIO_KEYS, True),
                    _size(c["position"]),
                    c["marketPrice"],
                    c["marketValue"],
                    c["averageCost"],
                    _opt(c["unrealizedPNL"]),
                    _opt(c["realizedPNL"]),
                    c["accountName"],
                ),
                messages=lambda v: st.builds(
                    A.PortfolioValue,
                    _contracts(PORTFOLIO_KEYS),
                    sizes,
                    prices,
                    prices,
                    prices,
                    opt_floats,
                    opt_floats,
                    text,
                ),
                samples=lambda v: [
                    A.PortfolioValue(
                        Contract(
                            sec_type="STK",
                            con_id=265598,
                            symbol="AAPL",
                            strike=0.0,
                            primary_exchange="NASDAQ",
                            currency="USD",
                        ),
                        D("100"),
                        185.5,
                        18550.0,
                        150.25,
                        3525.0,
                        0.0,
                        "DU1234567",
                    ),
                    A.PortfolioValue(Contract(), D("-2"), 1.0, -2.0, 1.0, None, None, "DU1"),
                    A.PortfolioValue(),
                ],
                raw=(
                    (
                        176,
                        _nul(
                            "7",
                            "8",
                            "495512563",
                            "ES",
                            "FUT",
                            "20241220",
                            "0.0",
                            "",
                            "50",
                            "CME",
                            "USD",
                            "ESZ4",
                            "ES",
                            "2",
                            "5900.25",
                            "590025.0",
                            "295000.0",
                            _UNSET,
                            "",
                            "DU1234567",
                        ),
                    ),
                ),
            ),
            inc.Row(
                A.AcctUpdateTime,
                "updateAccountTime",
                ours=lambda msg: msg.time_stamp,
                theirs=lambda c: _j(c["timeStamp"]),
                messages=_text_builds(A.AcctUpdateTime, "time_stamp"),
                samples=lambda v: [A.AcctUpdateTime("14:35"), A.AcctUpdateTime()],
                raw=((176, _nul("8", "1", "14:35")),),
            ),
            inc.Row(
                A.AcctDownloadEnd,
                "accountDownloadEnd",
                ours=lambda msg: msg.account_name,
                theirs=lambda c: _j(c["accountName"]),
                messages=_text_builds(A.AcctDownloadEnd, "account_name"),
                samples=lambda v: [A.AcctDownloadEnd("DU1234567"), A.AcctDownloadEnd()],
                raw=((176, _nul("54", "1", "DU1234567")),),
            ),
            inc.Row(
                A.AccountUpdateMulti,
                "accountUpdateMulti",
                ours=lambda msg: (
                    msg.req_id,
                    msg.account,
                    msg.model_code,
                    msg.key,
                    msg.value,
                    msg.currency,
                ),
                theirs=lambda c: (
                    c["reqId"],
                    _j(c["account"]),
                    _j(c["modelCode"]),
                    _j(c["key"]),
                    _j(c["value"]),
                    _j(c["currency"]),
                ),
                messages=_text_builds(
                    A.AccountUpdateMulti,
                    "account",
                    "model_code",
                    "key",
                    "value",
                    "currency",
                    req_id=True,
                ),
                samples=lambda v: [
                    A.AccountUpdateMulti(8, "DU1", "M1", "CashBalance", "1000", "USD"),
                    A.AccountUpdateMulti(-1),
                ],
                raw=((176, _nul("73", "1", "8", "DU1", "", "CashBalance", "1000", "USD")),),
            ),
            end_row(A.AccountUpdateMultiEnd, "accountUpdateMultiEnd", _nul("74", "1", "8")),
            inc.Row(
                A.AccountSummary,
                "accountSummary",
                ours=lambda msg: (msg.req_id, msg.account, msg.tag, msg.value, msg.currency),
                theirs=lambda c: (
                    c["reqId"],
                    _j(c["account"]),
                    _j(c["tag"]),
                    _j(c["value"]),
                    _j(c["currency"]),
                ),
                messages=_text_builds(
                    A.AccountSummary, "account", "tag", "value", "currency", req_id=True
                ),
                samples=lambda v: [
                    A.AccountSummary(2, "DU1234567", "NetLiquidation", "100000.50", "USD"),
                    A.AccountSummary(2, "DU1234567", "AccountType", "INDIVIDUAL", ""),
                    A.AccountSummary(2, "DU1", "k", "\u00fcber\\x", ""),
                    A.AccountSummary(-1),
                ],
                raw=(
                    (176, _nul("63", "1", "2", "DU1", "NetLiquidation", "100000.50", "USD")),
                    (200, _nul("63", "1", "2", "DU1", "Name", "caf\\u00e9", "")),
                ),
            ),
            end_row(A.AccountSummaryEnd, "accountSummaryEnd", _nul("64", "1", "2")),
            inc.Row(
                A.Pnl,
                "pnl",
                ours=lambda msg: (
                    msg.req_id,
                    _opt(msg.daily_pnl),
                    _opt(msg.unrealized_pnl),
                    _opt(msg.realized_pnl),
                ),
                theirs=lambda c: (
                    c["reqId"],
                    _opt(c["dailyPnL"]),
                    _opt(c["unrealizedPnL"]),
                    _opt(c["realizedPnL"]),
                ),
                messages=lambda v: st.builds(A.Pnl, ids, opt_floats, opt_floats, opt_floats),
                samples=lambda v: [
                    A.Pnl(5, 12.5, -3.0, 0.0),
                    A.Pnl(5, 12.5, None, None),
                    A.Pnl(5),
                ],
                raw=(
                    (176, _nul("94", "5", "12.5", _UNSET, _UNSET)),
                    (200, _nul("94", "5", "", "-3.0", "0.0")),
                ),
            ),
            inc.Row(
                A.PnlSingle,
                "pnlSingle",
                ours=lambda msg: (
                    msg.req_id,
                    msg.position,
                    _opt(msg.daily_pnl),
                    _opt(msg.unrealized_pnl),
                    _opt(msg.realized_pnl),
                    _opt(msg.value),
                ),
                theirs=lambda c: (
                    c["reqId"],
                    _size(c["pos"]),
                    _opt(c["dailyPnL"]),
                    _opt(c["unrealizedPnL"]),
                    _opt(c["realizedPnL"]),
                    _opt(c["value"]),
                ),
                messages=lambda v: st.builds(
                    A.PnlSingle, ids, sizes, opt_floats, opt_floats, opt_floats, opt_floats
                ),
                samples=lambda v: [
                    A.PnlSingle(6, D("100"), 1.0, 2.0, 3.0, 18550.0),
                    A.PnlSingle(6, D("0.5"), None, -2.5, None, None),
                    A.PnlSingle(6),
                ],
                raw=(
                    (176, _nul("95", "6", "100", _UNSET, "-2.5", _UNSET, "18550.0")),
                    (200, _nul("95", "6", "2147483647", "", "", "", "")),
                ),
            ),
            inc.Row(
                A.FamilyCodes,
                "familyCodes",
                ours=lambda msg: [(f.account_id, f.family_code) for f in msg.codes],
                theirs=lambda c: [(f.accountID, f.familyCodeStr) for f in c["familyCodes"]],
                messages=lambda v: st.builds(
                    A.FamilyCodes, st.lists(st.builds(FamilyCode, text, text), max_size=4)
                ),
                samples=lambda v: [
                    A.FamilyCodes([FamilyCode("DU1", "F1"), FamilyCode("DU2", "")]),
                    A.FamilyCodes(),
                ],
                raw=((176, _nul("78", "1", "DU1234567", "F123")),),
            ),
            inc.Row(
                A.UserInfo,
                "userInfo",
                ours=lambda msg: (msg.req_id, msg.white_branding_id),
                theirs=lambda c: (c["reqId"], c["whiteBrandingId"]),
                messages=lambda v: st.builds(A.UserInfo, ids, text),
                samples=lambda v: [A.UserInfo(3, "IBKR"), A.UserInfo(3, "")],
                raw=((176, _nul("107", "3", "")),),
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
