"""Scanner messages: REQ_SCANNER_PARAMETERS, REQ/CANCEL_SCANNER_SUBSCRIPTION, SCANNER_PARAMETERS,
SCANNER_DATA.

Outgoing rows build an official ``ScannerSubscription`` from the same argument dict as the
aiotws :class:`~aiotws.model.scanner.ScannerSubscription`: ``None`` is the official
``UNSET_DOUBLE`` / ``UNSET_INTEGER`` (both write an empty field) and, for ``number_of_rows``,
``-1`` (``NO_ROW_NUMBER_SPECIFIED``). Values the two encoders spell differently are left out
of the strategies, each for a reason:

* ``number_of_rows=-1`` is refused by aiotws (it is the wire form of ``None``);
* the sentinels themselves (``2147483647``, ``1.7976931348623157e308``) as set values: the
  official client writes them empty, aiotws writes them literally (they are not ``None``);
* NaN and -inf: aiotws refuses them, the official client writes ``nan`` / ``-inf``;
* tag/value pairs whose tag is empty or holds ``=`` / ``;`` (or a value with ``;``): aiotws
  refuses what cannot be read back, the official client concatenates them anyway.

The official ``reqScannerSubscription`` takes ``scannerSubscriptionOptions`` before
``scannerSubscriptionFilterOptions`` and sends them in the opposite order; the rows pass each
to its place.

Incoming: SCANNER_PARAMETERS is mapped 1:1 onto ``scannerParameters(xml)`` with
``unicode-escape`` (aiotws ``TEXT``). SCANNER_DATA becomes one ``scannerData`` per row and one
``scannerDataEnd``; the view compares the whole list. Strikes: aiotws reads an empty field
and the sentinel as ``None``, the official decoder empty as 0.0: views map both to 0.0.
"""

from __future__ import annotations

import math
from typing import Any, Final

from hypothesis import strategies as st
from ibapi.const import UNSET_DOUBLE, UNSET_INTEGER
from ibapi.scanner import ScannerSubscription as OfficialSubscription
from ibapi.tag_value import TagValue as OfficialTagValue

from aiotws.model import ScannerSubscription, TagValue
from aiotws.wire.messages import scanner as S

from .support import Call, join_surrogates, req_id_row

__all__ = ["INCOMING_ROWS", "OUTGOING_ROWS", "SUB_KEYS", "official_subscription"]

Args = dict[str, Any]

# Built lazily (see rows_accounts.py): the tables import this module and it needs their Row
# classes; nothing here imports a table, or another rows_*.py module, at import time.
_ROWS: dict[str, tuple[Any, ...]] = {}

ints = st.integers()
int64 = st.integers(-(2**63), 2**63 - 1)
ids = st.sampled_from([-1, 0, 1, 2**31 - 1]) | int64
printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n\r"))
any_text = st.text(st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))
texts = st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)))

#: aiotws ``ScannerSubscription`` attribute -> official attribute, in wire order
SUB_KEYS: Final = (
    ("number_of_rows", "numberOfRows"),
    ("instrument", "instrument"),
    ("location_code", "locationCode"),
    ("scan_code", "scanCode"),
    ("above_price", "abovePrice"),
    ("below_price", "belowPrice"),
    ("above_volume", "aboveVolume"),
    ("market_cap_above", "marketCapAbove"),
    ("market_cap_below", "marketCapBelow"),
    ("moody_rating_above", "moodyRatingAbove"),
    ("moody_rating_below", "moodyRatingBelow"),
    ("sp_rating_above", "spRatingAbove"),
    ("sp_rating_below", "spRatingBelow"),
    ("maturity_date_above", "maturityDateAbove"),
    ("maturity_date_below", "maturityDateBelow"),
    ("coupon_rate_above", "couponRateAbove"),
    ("coupon_rate_below", "couponRateBelow"),
    ("exclude_convertible", "excludeConvertible"),
    ("average_option_volume_above", "averageOptionVolumeAbove"),
    ("scanner_setting_pairs", "scannerSettingPairs"),
    ("stock_type_filter", "stockTypeFilter"),
)
_FLOATS: Final = frozenset(
    {
        "above_price",
        "below_price",
        "market_cap_above",
        "market_cap_below",
        "coupon_rate_above",
        "coupon_rate_below",
    }
)
_INTS: Final = frozenset({"above_volume", "average_option_volume_above"})


def official_subscription(a: Args) -> OfficialSubscription:
    s = OfficialSubscription()
    for ours, theirs in SUB_KEYS:
        v = a[ours]
        if v is None:
            v = (
                -1
                if ours == "number_of_rows"
                else UNSET_DOUBLE
                if ours in _FLOATS
                else UNSET_INTEGER
            )
        setattr(s, theirs, v)
    return s


def our_subscription(a: Args) -> ScannerSubscription:
    return ScannerSubscription(**{k: a[k] for k, _ in SUB_KEYS})


def _official_tags(tags: list[tuple[str, str]]) -> list[OfficialTagValue]:
    return [OfficialTagValue(t, v) for t, v in tags]


def _our_tags(tags: list[tuple[str, str]]) -> list[TagValue]:
    return [TagValue(t, v) for t, v in tags]


def sub_args(**changes: Any) -> Args:
    a: Args = {ours: None for ours, _ in SUB_KEYS}
    a.update({k: "" for k, _ in SUB_KEYS if k not in _FLOATS | _INTS | {"number_of_rows"}})
    a["exclude_convertible"] = False
    a.update(req_id=1, filter_options=[], options=[])
    a.update(changes)
    return a


def _is_bad_out_text(v: object) -> bool:
    return isinstance(v, str) and any(not (32 <= ord(ch) < 127 or ch in "\t\n\r") for ch in v)


bad_text = any_text.filter(_is_bad_out_text)
finite = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda x: x not in (UNSET_DOUBLE, float(UNSET_INTEGER))
)
opt_floats = st.none() | st.sampled_from([0.0, 5.0, 1e9, 0.1]) | finite | st.just(math.inf)
opt_ints = st.none() | st.sampled_from([0, 100000]) | ints.filter(lambda n: n != UNSET_INTEGER)
rows = (
    st.none()
    | st.sampled_from([1, 10, 50, 0, 51])
    | ints.filter(lambda n: n not in (-1, UNSET_INTEGER))
)
out_text = st.sampled_from(["", "STK", "STK.US.MAJOR", "TOP_PERC_GAIN", "CORP", "AAA"]) | printable
tag_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="=;"), min_size=1
)
value_text = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=";"))
tags = st.lists(
    st.tuples(st.sampled_from(["priceAbove", "marketCapAbove1e6"]) | tag_text, value_text),
    max_size=3,
)


@st.composite
def _sub_draw(draw: st.DrawFn) -> Args:
    a = sub_args(req_id=draw(ints))
    for ours, _ in SUB_KEYS:
        if ours == "number_of_rows":
            a[ours] = draw(rows, label=ours)
        elif ours in _FLOATS:
            a[ours] = draw(opt_floats, label=ours)
        elif ours in _INTS:
            a[ours] = draw(opt_ints, label=ours)
        elif ours == "exclude_convertible":
            a[ours] = draw(st.booleans(), label=ours)
        else:
            a[ours] = draw(out_text, label=ours)
    a["filter_options"] = draw(tags, label="filter_options")
    a["options"] = draw(tags, label="options")
    if draw(st.booleans()):
        keys = [k for k, v in a.items() if isinstance(v, str)]
        key = draw(st.sampled_from(keys))
        a[key] = draw(bad_text, label=f"bad {key}")
    return a


def _build_subscription(a: Args) -> S.ReqScannerSubscription:
    return S.ReqScannerSubscription(
        a["req_id"],
        our_subscription(a),
        _our_tags(a["filter_options"]),
        _our_tags(a["options"]),
    )


def _call_subscription(client: Any, a: Args) -> None:
    client.reqScannerSubscription(
        a["req_id"],
        official_subscription(a),
        _official_tags(a["options"]),
        _official_tags(a["filter_options"]),
    )


def _outgoing_rows() -> tuple[Any, ...]:
    from . import outgoing_table as out

    return _ROWS.setdefault(
        "out",
        (
            out.Row(
                S.ReqScannerParameters,
                "reqScannerParameters",
                build=lambda a: S.ReqScannerParameters(),
                call=lambda c, a: c.reqScannerParameters(),
            ),
            out.Row(
                S.ReqScannerSubscription,
                "reqScannerSubscription",
                build=_build_subscription,
                call=_call_subscription,
                samples=(
                    sub_args(),
                    sub_args(
                        req_id=7,
                        instrument="STK",
                        location_code="STK.US.MAJOR",
                        scan_code="TOP_PERC_GAIN",
                        number_of_rows=20,
                        above_price=5.0,
                        above_volume=100000,
                        market_cap_above=1e9,
                        filter_options=[("priceAbove", "5"), ("marketCapAbove1e6", "1000")],
                    ),
                    sub_args(
                        scan_code="MOST_ACTIVE",
                        below_price=math.inf,
                        coupon_rate_above=1.5,
                        coupon_rate_below=7.25,
                        exclude_convertible=True,
                        average_option_volume_above=0,
                        moody_rating_above="A",
                        sp_rating_below="AA",
                        maturity_date_above="20250101",
                        scanner_setting_pairs="Annual,true",
                        stock_type_filter="CORP",
                        options=[("x", "1")],
                    ),
                    sub_args(number_of_rows=0, above_volume=-5, below_price=-1.5),
                    sub_args(scan_code="caf\u00e9"),  # refused by both (579)
                    sub_args(filter_options=[("priceAbove", "\u00e9")]),  # refused by both
                ),
                args=_sub_draw(),
            ),
            req_id_row(out, S.CancelScannerSubscription, "cancelScannerSubscription"),
        ),
    )


# -- incoming ---------------------------------------------------------------------------------


def _nul(*fields: str) -> bytes:
    return "".join(f + "\0" for f in fields).encode()


def _opt(x: float | None) -> float:
    return 0.0 if x is None or x == UNSET_DOUBLE else x


def our_rows_view(msg: S.ScannerData) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for r in msg.rows:
        out.append(
            (
                "scannerData",
                msg.req_id,
                r.rank,
                r.con_id,
                r.symbol,
                r.sec_type,
                r.last_trade_date_or_contract_month,
                _opt(r.strike),
                r.right,
                r.exchange,
                r.currency,
                r.local_symbol,
                r.market_name,
                r.trading_class,
                r.distance,
                r.benchmark,
                r.projection,
                r.legs_str,
            )
        )
    out.append(("scannerDataEnd", msg.req_id))
    return out


def official_rows_view(calls: list[Call]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for c in calls:
        if c.name == "scannerData":
            d = c["contractDetails"]
            k = d.contract
            out.append(
                (
                    c.name,
                    c["reqId"],
                    c["rank"],
                    k.conId,
                    k.symbol,
                    k.secType,
                    k.lastTradeDateOrContractMonth,
                    _opt(k.strike),
                    k.right,
                    k.exchange,
                    k.currency,
                    k.localSymbol,
                    d.marketName,
                    k.tradingClass,
                    c["distance"],
                    c["benchmark"],
                    c["projection"],
                    c["legsStr"],
                )
            )
        else:
            out.append((c.name, *c.args.values()))
    return out


text = printable
short = st.sampled_from(["", "AAPL", "STK", "SMART", "USD", "NMS", "FUT", "20261218"]) | text
strikes = st.none() | st.sampled_from([0.0, 185.0]) | finite
scan_rows = st.builds(
    S.ScanDataElement,
    rank=st.integers(0, 49) | int64,
    con_id=st.sampled_from([0, 265598]) | int64,
    symbol=short,
    sec_type=short,
    last_trade_date_or_contract_month=short,
    strike=strikes,
    right=short,
    exchange=short,
    currency=short,
    local_symbol=short,
    market_name=short,
    trading_class=short,
    distance=short,
    benchmark=short,
    projection=short,
    legs_str=short,
)

AAPL_ROW = S.ScanDataElement(
    0, 265598, "AAPL", "STK", "", 0.0, "", "SMART", "USD", "AAPL", "NMS", "NMS"
)
ES_ROW = S.ScanDataElement(
    1, 495512557, "ES", "FUT", "20261218", None, "", "CME", "USD", "ESZ6", "ES", "ES", "1.5"
)
PARAMS_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ScanParameterResponse>\n <InstrumentList '
    'varName="fullInstrumentList">\n  <Instrument>\n   <name>US Stocks</name>\n   <type>STK</type>'
    "\n  </Instrument>\n </InstrumentList>\n</ScanParameterResponse>"
)
#: two rows as TWS sends them (rust-ibapi #213's log: strike "0", distance empty)
_RAW_ROWS: Final = (
    *("0", "751045847", "ALUR", "STK", "", "0", "", "SMART", "USD", "ALUR", "ALUR", "ALUR"),
    *("", "", "", ""),
    *("1", "750855369", "ELAB", "STK", "", "0", "", "SMART", "USD", "ELAB", "SCM", "SCM"),
    *("", "", "", ""),
)


def _incoming_rows() -> tuple[Any, ...]:
    from . import incoming_table as inc

    return _ROWS.setdefault(
        "in",
        (
            inc.Row(
                S.ScannerParameters,
                "scannerParameters",
                ours=lambda msg: msg.xml,
                theirs=lambda c: join_surrogates(c["xml"]),
                messages=lambda v: st.builds(S.ScannerParameters, texts | st.just(PARAMS_XML)),
                samples=lambda v: [
                    S.ScannerParameters(PARAMS_XML),
                    S.ScannerParameters(PARAMS_XML.replace("US Stocks", "Z\u00fcrich \U0001f600")),
                    S.ScannerParameters(""),
                ],
                raw=((176, _nul("19", "1", PARAMS_XML)),),
            ),
            inc.Row(
                S.ScannerData,
                "scannerData",
                ours=our_rows_view,
                theirs=lambda c: None,
                theirs_calls=official_rows_view,
                messages=lambda v: st.builds(S.ScannerData, ids, st.lists(scan_rows, max_size=4)),
                samples=lambda v: [
                    S.ScannerData(9000, [AAPL_ROW, ES_ROW]),
                    S.ScannerData(5, []),
                    S.ScannerData(-1, [AAPL_ROW]),
                ],
                raw=(
                    (176, _nul("20", "3", "9000", "2", *_RAW_ROWS)),
                    (200, _nul("20", "3", "9009", "0")),
                ),
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
