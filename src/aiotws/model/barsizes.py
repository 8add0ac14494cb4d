"""Historical bar requests: TWS's vocabulary and legality rules, and chunk planning. No I/O.

Bar sizes, durations and ``whatToShow`` values as TWS spells them, with forgiving parsers
that normalise user input to that spelling (:func:`parse_bar_size`, :func:`parse_duration`,
:func:`parse_what_to_show`). The rules TWS and its historical data farm (HMDS) apply to a
REQ_HISTORICAL_DATA request are one table, :data:`RULES`, read by two front ends:

* :func:`check_request` for the client: forgiving input, raises
  :class:`InvalidHistoricalRequest` (a ``ValueError``) before anything is sent;
* :func:`tws_error` for the simulator: the raw wire strings, parsed as strictly as TWS does,
  answered with the ``(code, text)`` TWS would send, in TWS's own check order.

:func:`chunk_plan` splits a long ``[start, end)`` into requests that each pass those rules.

Lengths are in seconds. A bar's length is nominal: ``1 day`` is 86400 s (a trading session is
shorter), ``1 week`` 604800 s, ``1 month`` the mean Gregorian month (2629746 s). Duration
units ``S``, ``D`` and ``W`` are fixed lengths (``D`` = 24 h); ``M`` and ``Y`` are calendar
units that TWS counts in its own time zone, so their lengths here are means (approximate) and
:func:`chunk_plan` never uses them. Datetimes must be tz-aware.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

__all__ = [
    "BAR_SIZES",
    "LIVE_SOURCES",
    "RULES",
    "SUPPORTED_SEC_TYPES",
    "BarSize",
    "Chunk",
    "Duration",
    "DurationUnit",
    "InvalidHistoricalRequest",
    "Rule",
    "WhatToShow",
    "check_request",
    "chunk_plan",
    "format_end_datetime",
    "max_duration",
    "parse_bar_size",
    "parse_duration",
    "parse_what_to_show",
    "tws_error",
]

DAY: Final = 86_400
WEEK: Final = 7 * DAY
MONTH: Final = 2_629_746  # mean Gregorian month (365.2425 / 12 days)
YEAR: Final = 31_556_952  # mean Gregorian year

# -- sources of the rules (cited by RULES and the tables below) --------------------------------
_CAMPUS: Final = (
    "IBKR Campus, TWS API 'Market Data: Historical' (interactivebrokers.com/campus/"
    "ibkr-api-page/twsapi-doc/#hist-md): bar sizes, max duration per bar size, whatToShow"
)
_OLD_BARS: Final = "interactivebrokers.github.io/tws-api/historical_bars.html (keepUpToDate)"
_OLD_LIMITS: Final = "interactivebrokers.github.io/tws-api/historical_limitations.html (steps)"
_GATEWAY: Final = (
    "userFRM/ibx gateway re-implementation, src/control/historical/mod.rs check_bar_request: "
    "TWS's local checks in TWS's order, with its texts"
)


# -- rules --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One legality rule of a historical bar request.

    ``code`` is what TWS answers when the rule is broken: 321 (TWS's own validation), 162
    (the historical data farm), 10314 (unreadable end date) or 2174 (a warning: TWS goes on,
    aiotws refuses). ``cause`` is TWS's text (a ``str.format`` template); ``verified`` says
    whether that text was seen from a real TWS (else it is a re-implementation's or ours).
    """

    name: str
    code: int
    cause: str
    source: str
    verified: bool = False

    def wire_text(self, cause: str) -> str:
        """The ERR_MSG text TWS sends for this rule with ``cause`` filled in."""
        if self.code == 321:
            # the quoted letters name an obfuscated class and vary by build ('bH', 'bK', 'bS')
            return f"Error validating request.-'bH' : cause - {cause}"
        if self.code == 162:
            return f"Historical Market Data Service error message:{cause}"
        return cause


_LEGAL_TEXT: Final = (
    "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, "
    "15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M"
)
_END_FORMAT_TEXT: Final = (
    "End Date/Time: The date, time, or time-zone entered is invalid.\n"
    "The correct format is yyyymmdd hh:mm:ss xx/xxxx\nwhere yyyymmdd and xx/xxxx are optional.\n"
    "E.g.: 20031126 15:59:00 US/Eastern\n\n"
    "Note that there is a space between the date and time,\nand between the time and time-zone.\n\n"
    "If no date is specified, current date is assumed.\n"
    "If no time-zone is specified, local time-zone is assumed(deprecated).\n\n"
    "You can also provide yyyymmddd-hh:mm:ss time is in UTC.\n"
    "Note that there is a dash between the date and time in UTC notation."
)

_RULE_LIST: Final = (
    # TWS's local checks, in TWS's order (error 321 unless noted)
    Rule("end_format", 10314, _END_FORMAT_TEXT, _GATEWAY + "; PROTOCOL.md 3.5"),
    Rule(
        "end_naive",
        2174,
        "Warning: You submitted request with date-time attributes without explicit time zone. "
        "Please switch to use yyyymmdd-hh:mm:ss in UTC or use instrument time zone, like "
        "US/Eastern. Implied time zone functionality will be removed in the next API release",
        _GATEWAY + "; ib_insync#530, PROTOCOL.md 3.5 (a warning: TWS goes on in its login zone)",
    ),
    Rule("duration_missing", 321, "Historical data request duration not specified.", _GATEWAY),
    Rule(
        "duration_format",
        321,
        "When specifying a unit, historical data request duration format is integer{SPACE}"
        "unit (S|D|W|M|Y).",
        _GATEWAY,
    ),
    Rule("duration_invalid", 321, "Historical data requested duration is invalid.", _GATEWAY),
    Rule(
        "duration_seconds_max",
        321,
        "Historical data request for greater than 86400 seconds rejected.",
        _GATEWAY + "; " + _CAMPUS,
    ),
    Rule(
        "duration_days_max",
        321,
        "Historical data requests for durations longer than 365 days must be made in years.",
        "ib-api-reloaded/ib_async#229 (TWS log); " + _CAMPUS,
        verified=True,
    ),
    Rule(
        "duration_weeks_max",
        321,
        "Historical data request for durations longer than 52 weeks must be made in years.",
        _GATEWAY + "; " + _CAMPUS,
    ),
    Rule(
        "duration_months_max",
        321,
        "Historical data request for durations longer than 12 months must be made in years.",
        _GATEWAY + "; " + _CAMPUS,
    ),
    Rule("adjusted_last_end", 321, "End date not supported with adjusted last", _GATEWAY),
    Rule(
        "bar_size",
        321,
        "Historical data bar size setting is invalid. Legal ones are: " + _LEGAL_TEXT,
        "wboayue/rust-ibapi#245, dshe/InterReact#16 (TWS logs)",
        verified=True,
    ),
    Rule(
        "adjusted_last_multi_day",
        321,
        "Multi day bar size not supported with adjusted last",
        _GATEWAY,
    ),
    Rule("what_to_show", 321, "What to show value of {value} rejected.", _GATEWAY),
    Rule("live_end", 321, "End date not supported with live updates", _GATEWAY + "; " + _CAMPUS),
    Rule("live_combo", 321, "Live updates for combos are not supported", _GATEWAY),
    Rule(
        "live_source",
        321,
        "Source price not supported with live updates",
        _GATEWAY + "; " + _CAMPUS + " (keepUpToDate only for TRADES, MIDPOINT, BID, ASK)",
    ),
    Rule(
        "schedule_daily",
        321,
        "Only daily resolution supported for Schedule requests",
        _GATEWAY + "; " + _CAMPUS + " (SCHEDULE returns only on 1 day bars)",
    ),
    # documented, but TWS's answer was never seen: the cause text is ours
    Rule("live_bar_size", 321, "Live updates need bars of 5 secs or longer", _OLD_BARS),
    # answered by the historical data farm (HMDS), after TWS's own checks
    Rule(
        "duration_years_max",
        162,
        "Time length exceed max.",
        _CAMPUS + " (68 Y: the maximum for every bar size)",
    ),
    Rule(
        "one_sec_step",
        162,
        "invalid step: 1",
        "wrighter/ib-scripts#1 (TWS log: 1 secs bars over 1 D); " + _CAMPUS + " (S only)",
        verified=True,
    ),
    Rule(
        "one_sec_length",
        162,
        "Time length exceed max.",
        _CAMPUS + " (1 secs: at most 2000 S); text seen in TWS logs for other lengths",
    ),
    Rule(
        "bar_longer_than_duration",
        162,
        "invalid step: {step}",
        _OLD_LIMITS + " (a duration allows bars up to its own length)",
    ),
    Rule(
        "product",
        162,
        "No historical market data for {symbol}/{sec_type}@{exchange} {series} {step}",
        _CAMPUS + " ('Supported Products' per whatToShow); text shape from TWS logs",
        verified=True,
    ),
)
#: Every rule by name, in the order the checks run.
RULES: Final[Mapping[str, Rule]] = {r.name: r for r in _RULE_LIST}


class InvalidHistoricalRequest(ValueError):
    """A historical request that breaks :data:`RULES` (raised before anything is sent).

    Attributes: ``rule`` (the :class:`Rule`), ``code`` and ``text`` (the error TWS would
    answer with). ``str()`` names the rule and says what is wrong.
    """

    def __init__(self, rule: Rule, detail: str = "", **fields: object) -> None:
        self.rule = rule
        self.code = rule.code
        cause = rule.cause.format(**fields) if fields else rule.cause
        self.text = rule.wire_text(cause)
        super().__init__(f"{rule.name}: {detail or cause}")


def _fail(name: str, detail: str = "", **fields: object) -> InvalidHistoricalRequest:
    return InvalidHistoricalRequest(RULES[name], detail, **fields)


# -- bar sizes ----------------------------------------------------------------------------------


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class BarSize:
    """A bar size as TWS spells it (``text``) and its nominal length in seconds.

    Ordered by length. ``str()`` is the TWS spelling.
    """

    text: str
    seconds: int

    def __str__(self) -> str:
        return self.text

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, BarSize):
            return NotImplemented
        return self.seconds < other.seconds

    @property
    def intraday(self) -> bool:
        """Shorter than a day (bar times carry a time of day)."""
        return self.seconds < DAY

    @property
    def multi_day(self) -> bool:
        """Weekly and monthly bars: calendar-based, longer than a day."""
        return self.seconds > DAY


_SEC, _MIN, _HOUR, _DAY, _WEEK, _MONTH = "secs", "min", "hour", "day", "week", "month"
_UNIT_SECONDS: Final = {_SEC: 1, _MIN: 60, _HOUR: 3600, _DAY: DAY, _WEEK: WEEK, _MONTH: MONTH}
_BAR_TABLE: Final = (
    (1, _SEC, "1 secs"), (5, _SEC, "5 secs"), (10, _SEC, "10 secs"), (15, _SEC, "15 secs"),
    (30, _SEC, "30 secs"), (1, _MIN, "1 min"), (2, _MIN, "2 mins"), (3, _MIN, "3 mins"),
    (5, _MIN, "5 mins"), (10, _MIN, "10 mins"), (15, _MIN, "15 mins"), (20, _MIN, "20 mins"),
    (30, _MIN, "30 mins"), (1, _HOUR, "1 hour"), (2, _HOUR, "2 hours"), (3, _HOUR, "3 hours"),
    (4, _HOUR, "4 hours"), (8, _HOUR, "8 hours"), (1, _DAY, "1 day"), (1, _WEEK, "1 week"),
    (1, _MONTH, "1 month"),
)  # fmt: skip
#: The 21 bar sizes TWS knows, shortest first (IBKR Campus "Valid Bar Sizes").
BAR_SIZES: Final[tuple[BarSize, ...]] = tuple(
    BarSize(text, n * _UNIT_SECONDS[unit]) for n, unit, text in _BAR_TABLE
)
_BY_COUNT_UNIT: Final = {
    (n, unit): bar for (n, unit, _), bar in zip(_BAR_TABLE, BAR_SIZES, strict=True)
}
_BY_TEXT: Final = {bar.text: bar for bar in BAR_SIZES}
#: What TWS itself accepts (case-insensitively): its own list also names ``1W`` and ``1M``;
#: ``1 sec``, ``1 mins`` and ``1 hours`` are refused (rust-ibapi#245, ib-ruby/ib-api#32).
_TWS_BAR_TEXTS: Final = {
    **_BY_TEXT,
    **dict.fromkeys(("1w", "1 w"), _BY_TEXT["1 week"]),
    **dict.fromkeys(("1m", "1 m"), _BY_TEXT["1 month"]),
}
#: Unit words :func:`parse_bar_size` accepts (lower case). A lone ``m`` is ambiguous (minute
#: or month) and refused; a capital ``M`` is TWS's own month (``1M``).
_BAR_UNIT_WORDS: Final = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _SEC),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), _MIN),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), _WEEK),
    **dict.fromkeys(("mo", "mon", "mons", "month", "months"), _MONTH),
}
_COUNT_UNIT = re.compile(r"(\d+)\s*([A-Za-z]*)")


def parse_bar_size(value: BarSize | str) -> BarSize:
    """A bar size from TWS's spelling or a forgiving variant of it, normalised.

    Accepted: any case and spacing, singular or plural, short unit words (``"1 sec"``,
    ``"5min"``, ``"1 hours"``, ``"1d"``, ``"1W"``, ``"1M"`` = month). Refused: sizes TWS
    lacks (``"7 mins"``; the error suggests an equal one, ``"60 mins"`` → ``"1 hour"``) and
    the ambiguous ``"1m"`` (write ``"1 min"`` or ``"1 month"``). Raises
    :class:`InvalidHistoricalRequest` (rule ``bar_size``).
    """
    if isinstance(value, BarSize):
        return value
    text = " ".join(value.split())
    match = _COUNT_UNIT.fullmatch(text)
    if match is None:
        raise _fail("bar_size", f"{value!r} is not a bar size; legal: {_legal_bar_sizes()}")
    count, word = int(match[1]), match[2]
    if word == "M":
        unit: str | None = _MONTH
    elif word == "m":
        raise _fail("bar_size", f"{value!r} is ambiguous: write '{count} min' or '{count} month'")
    else:
        unit = _BAR_UNIT_WORDS.get(word.lower())
    bar = _BY_COUNT_UNIT.get((count, unit)) if unit is not None else None
    if bar is None:
        hint = ""
        if unit is not None:
            same = [b for b in BAR_SIZES if b.seconds == count * _UNIT_SECONDS[unit]]
            hint = f" (did you mean {same[0].text!r}?)" if same else ""
        raise _fail("bar_size", f"no {value!r} bars{hint}; legal: {_legal_bar_sizes()}")
    return bar


def _legal_bar_sizes() -> str:
    return ", ".join(b.text for b in BAR_SIZES)


def _tws_bar_size(text: str) -> BarSize:
    bar = _TWS_BAR_TEXTS.get(text.lower())
    if bar is None:
        raise _fail("bar_size")
    return bar


# -- durations ----------------------------------------------------------------------------------


class DurationUnit(enum.StrEnum):
    """The unit letter of a TWS duration string."""

    SECONDS = "S"
    DAYS = "D"
    WEEKS = "W"
    MONTHS = "M"
    YEARS = "Y"


_S, _D, _W, _M, _Y = DurationUnit
#: Length of one unit in seconds: exact for S, D (24 h) and W; the mean for M and Y.
_DURATION_SECONDS: Final = {_S: 1, _D: DAY, _W: WEEK, _M: MONTH, _Y: YEAR}
#: The longest duration TWS takes in each unit before it wants years (321, IBKR Campus
#: "Max Duration Per Bar Size"); years go to 68 (2^31 seconds), checked by HMDS.
_UNIT_MAX: Final = {_S: 86_400, _D: 365, _W: 52, _M: 12, _Y: 68}
_UNIT_MAX_RULE: Final = {
    _S: "duration_seconds_max",
    _D: "duration_days_max",
    _W: "duration_weeks_max",
    _M: "duration_months_max",
    _Y: "duration_years_max",
}
_UNIT_LETTERS: Final = frozenset(DurationUnit)
#: The shortest ``N S`` TWS takes (shorter ones: "requested duration is invalid").
_MIN_SECONDS: Final = 30
_DURATION_WORDS: Final = {
    **dict.fromkeys(("", "s", "sec", "secs", "second", "seconds"), _S),
    **dict.fromkeys(("d", "day", "days"), _D),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), _W),
    **dict.fromkeys(("m", "mo", "mon", "mons", "month", "months"), _M),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), _Y),
}


@dataclass(frozen=True, slots=True)
class Duration:
    """A TWS duration: ``count`` units back from the request's end. ``str()`` is the wire
    form (``"2 D"``). ``count`` must be at least 1."""

    count: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if self.count < 1:
            raise _fail("duration_invalid", f"duration must be at least 1 {self.unit}")

    def __str__(self) -> str:
        return f"{self.count} {self.unit}"

    @property
    def seconds(self) -> int:
        """Length in seconds: exact for S, D (24 h) and W; approximate (the Gregorian mean)
        for M and Y, which TWS counts on its calendar."""
        return self.count * _DURATION_SECONDS[self.unit]


def parse_duration(value: Duration | str) -> Duration:
    """A duration from TWS's ``"N U"`` form or a forgiving variant of it, normalised.

    Accepted: any case and spacing, unit words (``"2 days"``, ``"1 week"``, ``"6 months"``,
    ``"1y"``), and a bare number as seconds (as TWS reads it). Limits (at least 30 S, at most
    365 D …) are :func:`check_request`'s. Raises :class:`InvalidHistoricalRequest`.
    """
    if isinstance(value, Duration):
        return value
    text = " ".join(value.split())
    if not text:
        raise _fail("duration_missing")
    match = _COUNT_UNIT.fullmatch(text)
    unit = _DURATION_WORDS.get(match[2].lower()) if match else None
    if match is None or unit is None:
        raise _fail("duration_format", f"{value!r} is not a duration like '30 D' (S|D|W|M|Y)")
    return Duration(int(match[1]), unit)


def _tws_duration(text: str) -> Duration:
    # TWS: a bare number is seconds; else exactly "<digits> <letter>", the letter in any case
    if not text:
        raise _fail("duration_missing")
    if text.isdigit():
        text += " S"
    number, _, letter = text.partition(" ")
    if not (number.isdigit() and number.isascii()) or letter.upper() not in _UNIT_LETTERS:
        raise _fail("duration_format")
    return Duration(int(number), DurationUnit(letter.upper()))


# -- what to show -------------------------------------------------------------------------------


class WhatToShow(enum.StrEnum):
    """Historical bar data types (``whatToShow``), IBKR Campus "Historical Bar whatToShow"."""

    TRADES = "TRADES"
    MIDPOINT = "MIDPOINT"
    BID = "BID"
    ASK = "ASK"
    BID_ASK = "BID_ASK"
    ADJUSTED_LAST = "ADJUSTED_LAST"
    HISTORICAL_VOLATILITY = "HISTORICAL_VOLATILITY"
    OPTION_IMPLIED_VOLATILITY = "OPTION_IMPLIED_VOLATILITY"
    FEE_RATE = "FEE_RATE"
    SCHEDULE = "SCHEDULE"
    AGGTRADES = "AGGTRADES"
    YIELD_BID = "YIELD_BID"
    YIELD_ASK = "YIELD_ASK"
    YIELD_BID_ASK = "YIELD_BID_ASK"
    YIELD_LAST = "YIELD_LAST"


_WTS = WhatToShow
#: The only data types keepUpToDate streams (IBKR Campus "Keep Up To Date").
LIVE_SOURCES: Final[frozenset[WhatToShow]] = frozenset(
    {_WTS.TRADES, _WTS.MIDPOINT, _WTS.BID, _WTS.ASK}
)
_QUOTED: Final = frozenset(
    {"BOND", "CFD", "CMDTY", "CRYPTO", "STK", "FOP", "CASH", "FUND", "FUT", "CONTFUT", "OPT",
     "IOPT", "WAR"}
)  # fmt: skip
#: secTypes each data type serves (IBKR Campus "Supported Products", mapped to secTypes: ETFs
#: and stocks are STK, metals CMDTY, single-stock futures FUT, structured products IOPT).
#: Types missing here (ADJUSTED_LAST) and secTypes in none of the sets (BAG) are not checked.
SUPPORTED_SEC_TYPES: Final[Mapping[WhatToShow, frozenset[str]]] = {
    _WTS.TRADES: frozenset(
        {"BOND", "STK", "FOP", "FUT", "CONTFUT", "IND", "CMDTY", "OPT", "IOPT", "WAR"}
    ),
    **dict.fromkeys((_WTS.MIDPOINT, _WTS.BID, _WTS.ASK, _WTS.BID_ASK), _QUOTED),
    _WTS.FEE_RATE: frozenset({"STK"}),
    _WTS.HISTORICAL_VOLATILITY: frozenset({"STK", "IND"}),
    _WTS.OPTION_IMPLIED_VOLATILITY: frozenset({"STK", "IND"}),
    _WTS.SCHEDULE: (_QUOTED | {"IND"}) - {"FOP", "OPT"},
    _WTS.AGGTRADES: frozenset({"CRYPTO"}),
    **dict.fromkeys(
        (_WTS.YIELD_BID, _WTS.YIELD_ASK, _WTS.YIELD_BID_ASK, _WTS.YIELD_LAST),
        frozenset({"BOND", "IND"}),
    ),
}
_KNOWN_SEC_TYPES: Final = frozenset[str]().union(*SUPPORTED_SEC_TYPES.values())
#: HMDS's name of each data series, as its "No historical market data" text writes it.
_SERIES: Final[Mapping[WhatToShow, str]] = {
    _WTS.TRADES: "Last", _WTS.MIDPOINT: "MidPoint", _WTS.BID: "Bid", _WTS.ASK: "Ask",
    _WTS.BID_ASK: "BidAsk", _WTS.ADJUSTED_LAST: "Last", _WTS.HISTORICAL_VOLATILITY: "HistVol",
    _WTS.OPTION_IMPLIED_VOLATILITY: "OptionImpliedVol", _WTS.FEE_RATE: "FeeRate",
    _WTS.SCHEDULE: "Schedule", _WTS.AGGTRADES: "AggLast", _WTS.YIELD_BID: "BidYield",
    _WTS.YIELD_ASK: "AskYield", _WTS.YIELD_BID_ASK: "BidYield", _WTS.YIELD_LAST: "LastYield",
}  # fmt: skip


def parse_what_to_show(value: WhatToShow | str) -> WhatToShow:
    """A data type from its TWS name in any case; spaces, dashes and slashes may stand for
    underscores (``"bid ask"`` → ``BID_ASK``). Raises :class:`InvalidHistoricalRequest`."""
    if isinstance(value, WhatToShow):
        return value
    key = re.sub(r"[\s/-]+", "_", value.strip()).upper()
    try:
        return WhatToShow(key)
    except ValueError:
        legal = ", ".join(WhatToShow)
        raise _fail("what_to_show", f"{value!r} is not one of {legal}", value=value) from None


# -- the checks ---------------------------------------------------------------------------------


def check_request(
    bar_size: BarSize | str,
    duration: Duration | str,
    what_to_show: WhatToShow | str,
    *,
    end: datetime | None = None,
    keep_up_to_date: bool = False,
    sec_type: str = "",
) -> tuple[BarSize, Duration, WhatToShow]:
    """Check a historical bar request against :data:`RULES`; return its normalised parts.

    ``end`` is the request's end (``None``: now); it must be tz-aware. ``sec_type`` (the
    contract's, optional) enables the supported-products rule. Raises
    :class:`InvalidHistoricalRequest` naming the first rule broken, in TWS's order.
    """
    if end is not None:
        _check_end(end)
    return _check(bar_size, duration, what_to_show, end is not None, keep_up_to_date, sec_type)


def tws_error(
    bar_size: str,
    duration: str,
    what_to_show: str,
    *,
    end: str = "",
    keep_up_to_date: bool = False,
    sec_type: str = "",
    symbol: str = "",
    exchange: str = "",
) -> tuple[int, str] | None:
    """The error TWS answers a REQ_HISTORICAL_DATA with, as ``(code, text)``, or ``None``.

    Takes the wire strings, read as strictly as TWS reads them (``"1 sec"`` is refused, ``"1W"``
    accepted); same rules and order as :func:`check_request`. ``symbol`` and ``exchange`` only
    fill in the text of the supported-products rule.
    """
    try:
        if not _tws_end_ok(end):
            raise _fail("end_format")
        _check(
            bar_size,
            duration,
            what_to_show,
            bool(end.strip()),
            keep_up_to_date,
            sec_type,
            strict=True,
            symbol=symbol,
            exchange=exchange,
        )
    except InvalidHistoricalRequest as e:
        return e.code, e.text
    return None


def _check(
    bar_size: BarSize | str,
    duration: Duration | str,
    what_to_show: WhatToShow | str,
    has_end: bool,
    live: bool,
    sec_type: str,
    *,
    strict: bool = False,
    symbol: str = "",
    exchange: str = "",
) -> tuple[BarSize, Duration, WhatToShow]:
    # TWS's order: duration, ADJUSTED_LAST with an end, bar size, ADJUSTED_LAST with long bars,
    # whatToShow, keepUpToDate, SCHEDULE; then the historical data farm's checks
    dur = (
        _tws_duration(duration)
        if strict and isinstance(duration, str)
        else parse_duration(duration)
    )
    if dur.unit is _S and dur.count < _MIN_SECONDS:
        raise _fail("duration_invalid", f"{dur} is shorter than {_MIN_SECONDS} S")
    if dur.unit is not _Y and dur.count > _UNIT_MAX[dur.unit]:
        raise _fail(
            _UNIT_MAX_RULE[dur.unit], f"{dur} is longer than {_UNIT_MAX[dur.unit]} {dur.unit}"
        )
    wts = str(what_to_show).upper() if strict else str(what_to_show)
    adjusted = wts == _WTS.ADJUSTED_LAST if strict else _adjusted(wts)
    if adjusted and has_end:
        raise _fail("adjusted_last_end", "ADJUSTED_LAST bars always end now: leave end empty")
    bar = (
        _tws_bar_size(bar_size)
        if strict and isinstance(bar_size, str)
        else parse_bar_size(bar_size)
    )
    if adjusted and bar.multi_day:
        raise _fail("adjusted_last_multi_day", f"ADJUSTED_LAST does not take {bar} bars")
    if strict:
        try:
            what = WhatToShow(wts)
        except ValueError:
            raise _fail("what_to_show", value=what_to_show) from None
    else:
        what = parse_what_to_show(what_to_show)
    if live:
        if has_end:
            raise _fail("live_end", "keepUpToDate bars always end now: leave end empty")
        if sec_type.upper() in ("BAG", "PDC"):
            raise _fail("live_combo", "keepUpToDate is not available for combos")
        if what not in LIVE_SOURCES:
            raise _fail(
                "live_source", f"keepUpToDate streams only TRADES, MIDPOINT, BID, ASK, not {what}"
            )
    if what is _WTS.SCHEDULE and bar.text != "1 day":
        raise _fail("schedule_daily", f"SCHEDULE takes only '1 day' bars, not {bar}")
    if live and bar.seconds < 5:
        raise _fail("live_bar_size", f"keepUpToDate needs bars of 5 secs or longer, not {bar}")
    _check_farm(bar, dur, what, sec_type.upper(), symbol, exchange)
    return bar, dur, what


def _check_farm(
    bar: BarSize, dur: Duration, what: WhatToShow, st: str, symbol: str, exchange: str
) -> None:
    # what the historical data farm refuses (162), once TWS passed the request on
    if dur.unit is _Y and dur.count > _UNIT_MAX[_Y]:
        raise _fail("duration_years_max", f"{dur} is longer than {_UNIT_MAX[_Y]} Y")
    if bar.seconds == 1 and dur.unit is not _S:
        raise _fail("one_sec_step", f"1 secs bars take durations in seconds (≤ 2000 S), not {dur}")
    if bar.seconds == 1 and dur.count > _ONE_SEC_MAX:
        raise _fail("one_sec_length", f"1 secs bars take at most {_ONE_SEC_MAX} S, not {dur}")
    if bar.seconds > dur.seconds:
        raise _fail("bar_longer_than_duration", f"{bar} bars do not fit in {dur}", step=bar.seconds)
    allowed = SUPPORTED_SEC_TYPES.get(what)
    if allowed is not None and st in _KNOWN_SEC_TYPES and st not in allowed:
        raise _fail(
            "product",
            f"{what} is not served for {st} contracts (try: {_serving(st)})",
            symbol=symbol,
            sec_type=st,
            exchange="FXSUBPIP" if (st, exchange.upper()) == ("CASH", "IDEALPRO") else exchange,
            series=_SERIES[what],
            step=bar.seconds if bar.intraday else 0,
        )


_ONE_SEC_MAX: Final = 2000


def _adjusted(what_to_show: str) -> bool:
    try:
        return parse_what_to_show(what_to_show) is _WTS.ADJUSTED_LAST
    except InvalidHistoricalRequest:
        return False


def _serving(sec_type: str) -> str:
    return ", ".join(w for w, types in SUPPORTED_SEC_TYPES.items() if sec_type in types)


#: The years TWS reads in an end date (else 10314).
_YEARS: Final = range(1978, 3001)


def _check_end(end: object, name: str = "end") -> None:
    if not isinstance(end, datetime):  # e.g. historical_bars(c, "1 D", "1 hour")
        hint = ""
        if isinstance(end, str) and end.strip()[-1:].upper() in ("S", "D", "W", "M", "Y"):
            hint = f" ({end!r} looks like a duration: pass duration={end!r})"
        raise _fail("end_format", f"{name} must be a tz-aware datetime or None, not {end!r}{hint}")
    if end.utcoffset() is None:
        raise _fail("end_naive", f"{name} {end.isoformat()} has no time zone")
    if end.astimezone(UTC).year not in _YEARS:
        raise _fail("end_format", f"{name} {end.isoformat()}: TWS reads years 1978 to 3000")


_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(r"(\d+):(\d+):(\d+)")


def _tws_end_ok(text: str) -> bool:
    # what TWS reads (else 10314): empty; yyyymmdd-hh:mm:ss (UTC); [yyyymmdd ]hh:mm:ss [zone]
    # (the zone name itself is checked by TWS against its own list, which is not known here)
    text = text.strip()
    if not text:
        return True
    date_part, dash, time_part = text.partition("-")
    if dash and " " not in text and _date_ok(date_part) and _time_ok(time_part):
        return True
    numeric = [w for w in text.split() if w[0].isdigit()]
    if len(numeric) == 2:
        return _date_ok(numeric[0]) and _time_ok(numeric[1])
    return len(numeric) == 1 and _time_ok(numeric[0])


def _date_ok(text: str) -> bool:
    m = _DATE.fullmatch(text)
    return m is not None and int(m[1]) in _YEARS and 1 <= int(m[2]) <= 12 and int(m[3]) <= 31


def _time_ok(text: str) -> bool:
    m = _TIME.fullmatch(text)
    return m is not None and int(m[1]) <= 23 and int(m[2]) <= 59 and int(m[3]) <= 59


# -- chunk planning -----------------------------------------------------------------------------

_W1 = Duration(1, _W)
#: The longest request :func:`chunk_plan` makes per bar size: IB's step-size table ("only a few
#: thousand bars at a time", historical_limitations.html), with 1 M and 1 Y as 30 D and 365 D,
#: and IBKR Campus's 2000 S for 1 secs bars. TWS takes longer ones for most sizes (up to the
#: unit limits :func:`check_request` enforces), but they are slow and get cancelled.
_PLAN_MAX: Final[Mapping[str, Duration]] = {
    "1 secs": Duration(_ONE_SEC_MAX, _S), "5 secs": Duration(3600, _S),
    "10 secs": Duration(14400, _S), "15 secs": Duration(14400, _S),
    "30 secs": Duration(28800, _S), "1 min": Duration(DAY, _S), "2 mins": Duration(2, _D),
    **dict.fromkeys(("3 mins", "5 mins", "10 mins", "15 mins", "20 mins"), _W1),
    **dict.fromkeys(("30 mins", "1 hour", "2 hours", "3 hours", "4 hours", "8 hours"),
                    Duration(30, _D)),
    **dict.fromkeys(("1 day", "1 week", "1 month"), Duration(365, _D)),
}  # fmt: skip


def max_duration(bar_size: BarSize | str) -> Duration:
    """The longest single request :func:`chunk_plan` makes for ``bar_size`` (see
    ``_PLAN_MAX``: IB's step-size guidance, 2000 S for 1 secs bars)."""
    return _PLAN_MAX[parse_bar_size(bar_size).text]


class Chunk(NamedTuple):
    """One request of a :func:`chunk_plan`: its end (UTC, whole seconds) and duration."""

    end: datetime
    duration: str

    @property
    def start(self) -> datetime:
        """``end`` minus the duration (exact: plans use only S and D, D being 24 h)."""
        return self.end - timedelta(seconds=parse_duration(self.duration).seconds)

    @property
    def end_text(self) -> str:
        """``end`` as REQ_HISTORICAL_DATA's endDateTime (:func:`format_end_datetime`)."""
        return format_end_datetime(self.end)


def chunk_plan(
    start: datetime,
    end: datetime,
    bar_size: BarSize | str,
    *,
    max_chunk: Duration | str | None = None,
) -> list[Chunk]:
    """Requests that together cover ``[start, end)`` with ``bar_size`` bars, newest first.

    Newest first because that is how TWS pages: each request ends where the one before it
    starts, and a downloader can stop at the first "no data" (the head of the series). The
    chunks are contiguous and never overlap; the first ends at ``end`` (rounded up to a whole
    second), the last may start before ``start`` by less than one shortest legal request
    (30 S, one bar, or one day for daily and longer bars): clip the bars to the range. Each
    chunk passes :func:`check_request` and is at most ``max_chunk`` (default
    :func:`max_duration`) long. Durations are ``N S`` up to a day for intraday bars and
    ``N D`` otherwise; TWS may serve whole sessions for ``D``, so merge bars by their time.
    No request may end before 1978 (TWS refuses such end dates).

    Intraday chunk boundaries are whole multiples of the bar before ``end``: with an aligned
    ``end`` (and a ``max_chunk`` that is a multiple of the bar) no bar is split. Raises
    ``ValueError`` for naive datetimes and for a ``max_chunk`` in M or Y (no fixed length).
    """
    if start.utcoffset() is None:
        raise _fail("end_naive", f"start {start.isoformat()} has no time zone")
    _check_end(end)
    bar = parse_bar_size(bar_size)
    cap = max_duration(bar) if max_chunk is None else parse_duration(max_chunk)
    if cap.unit in (_M, _Y):
        raise ValueError(f"max_chunk {cap} is calendar-based; give it in S, D or W")
    check_request(bar, cap, _WTS.TRADES)
    if start >= end:
        return []
    end = end.astimezone(UTC)
    if end.microsecond:
        end = end.replace(microsecond=0) + timedelta(seconds=1)
    span = end - start
    remaining = span.days * DAY + span.seconds + (1 if span.microseconds else 0)
    chunks: list[Chunk] = []
    while remaining > 0:
        seconds, text = _next_chunk(remaining, bar, cap.seconds)
        chunks.append(Chunk(end, text))
        end -= timedelta(seconds=seconds)
        remaining -= seconds
    if chunks:
        _check_end(chunks[-1].end, "the oldest request's end")
    return chunks


def _next_chunk(remaining: int, bar: BarSize, cap: int) -> tuple[int, str]:
    """The newest chunk of what is left: ``(seconds, duration text)``."""
    if not bar.intraday:  # whole days, at least one bar long
        least = -(-bar.seconds // DAY)
        days = max(least, min(cap // DAY, -(-remaining // DAY)))
        return days * DAY, f"{days} D"
    if remaining >= DAY and cap > DAY:
        days = min(remaining, cap) // DAY
        return days * DAY, f"{days} D"
    seconds = min(remaining, cap)
    if seconds == remaining:  # the oldest: whole bars, at least 30 S, never above the cap
        whole = -(-seconds // bar.seconds) * bar.seconds
        seconds = min(max(_MIN_SECONDS, whole, bar.seconds), max(cap, bar.seconds))
    return seconds, f"{seconds} S"


def format_end_datetime(dt: datetime | None) -> str:
    """``dt`` as REQ_HISTORICAL_DATA's endDateTime: ``yyyymmdd-hh:mm:ss`` in UTC, the one form
    with an explicit zone that TWS documents; ``None`` is ``""`` (now). The sub-second part is
    dropped (TWS has whole seconds). Raises ``ValueError`` for a naive ``dt`` or a year TWS
    does not read (before 1978, after 3000)."""
    if dt is None:
        return ""
    _check_end(dt)
    return dt.astimezone(UTC).strftime("%Y%m%d-%H:%M:%S")
