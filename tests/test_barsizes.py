"""Historical request vocabulary and rules: parsing, check_request / tws_error, chunk planning.

No I/O and no clock: everything here is a pure function of its arguments.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws.model.barsizes import (
    BAR_SIZES,
    LIVE_SOURCES,
    RULES,
    SUPPORTED_SEC_TYPES,
    BarSize,
    Chunk,
    Duration,
    DurationUnit,
    InvalidHistoricalRequest,
    WhatToShow,
    check_request,
    chunk_plan,
    format_end_datetime,
    max_duration,
    parse_bar_size,
    parse_duration,
    parse_what_to_show,
    tws_error,
)

TWS_BAR_SIZES = [
    "1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins", "5 mins",
    "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours", "4 hours",
    "8 hours", "1 day", "1 week", "1 month",
]  # fmt: skip
END = datetime(2024, 3, 8, 21, 0, tzinfo=UTC)
NY = timezone(timedelta(hours=-5))


# -- bar sizes ----------------------------------------------------------------------------------


def test_the_bar_sizes_are_tws_s_shortest_first() -> None:
    assert [b.text for b in BAR_SIZES] == TWS_BAR_SIZES
    assert [b.seconds for b in BAR_SIZES] == sorted(b.seconds for b in BAR_SIZES)
    assert sorted(BAR_SIZES) == list(BAR_SIZES)
    assert [str(b) for b in BAR_SIZES] == TWS_BAR_SIZES


@pytest.mark.parametrize("text", TWS_BAR_SIZES)
def test_tws_spelling_parses_to_itself(text: str) -> None:
    bar = parse_bar_size(text)
    assert bar.text == text
    assert parse_bar_size(bar) is bar
    assert tws_error(text, str(max_duration(bar)), "TRADES") is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1 secs", 1), ("30 secs", 30), ("2 mins", 120), ("8 hours", 28800), ("1 day", 86400),
     ("1 week", 604800), ("1 month", 2_629_746)],
)  # fmt: skip
def test_bar_lengths(text: str, seconds: int) -> None:
    assert parse_bar_size(text).seconds == seconds


def test_bar_kinds_and_order() -> None:
    minute, day, week = parse_bar_size("1 min"), parse_bar_size("1 day"), parse_bar_size("1 week")
    assert minute < day < week
    assert week > minute and day >= minute and minute <= week
    assert minute.intraday and not day.intraday and not day.multi_day and week.multi_day
    assert parse_bar_size("1 month").multi_day
    with pytest.raises(TypeError):
        _ = minute < "1 day"  # no ordering against strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 sec", "1 secs"),
        ("1 SECS", "1 secs"),
        ("1 second", "1 secs"),
        ("5s", "5 secs"),
        ("  30   secs ", "30 secs"),
        ("5min", "5 mins"),
        ("1 mins", "1 min"),
        ("2 min", "2 mins"),
        ("20 Minutes", "20 mins"),
        ("1 hours", "1 hour"),
        ("2 hour", "2 hours"),
        ("4h", "4 hours"),
        ("1 hr", "1 hour"),
        ("1d", "1 day"),
        ("1 days", "1 day"),
        ("1W", "1 week"),
        ("1 w", "1 week"),
        ("1 weeks", "1 week"),
        ("1M", "1 month"),
        ("1 months", "1 month"),
        ("1 mo", "1 month"),
    ],
)
def test_forgiving_bar_sizes_normalise_to_tws_spelling(text: str, expected: str) -> None:
    assert parse_bar_size(text).text == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("7 mins", "no '7 mins' bars"),
        ("60 mins", "did you mean '1 hour'"),
        ("120 secs", "did you mean '2 mins'"),
        ("2 days", "no '2 days' bars"),
        ("1m", "ambiguous"),
        ("5 m", "ambiguous"),
        ("", "not a bar size"),
        ("one day", "not a bar size"),
        ("1 fortnight", "no '1 fortnight' bars"),
        ("1.5 hours", "not a bar size"),
    ],
)
def test_bar_sizes_tws_lacks_are_refused(text: str, needle: str) -> None:
    with pytest.raises(InvalidHistoricalRequest, match=needle) as info:
        parse_bar_size(text)
    assert info.value.rule is RULES["bar_size"]
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("bar_size: ")


@pytest.mark.parametrize("text", ["1 sec", "1 mins", "1 hours", "1 days", "1 d", "5min", "1 wk"])
def test_tws_itself_refuses_the_forgiving_spellings(text: str) -> None:
    code, message = tws_error(text, "1 Y", "TRADES") or (0, "")
    assert code == 321
    assert message.endswith(
        "Historical data bar size setting is invalid. Legal ones are: 1 secs, 5 secs, 10 secs, "
        "15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, 30 mins, "
        "1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M"
    )


@pytest.mark.parametrize(
    "text", ["1W", "1w", "1 W", "1 week", "1M", "1m", "1 M", "1 MONTH", "1 MIN"]
)
def test_tws_accepts_its_own_aliases_in_any_case(text: str) -> None:
    assert tws_error(text, "1 Y", "TRADES") is None


# -- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 D", "30 D"),
        ("30 d", "30 D"),
        ("2 days", "2 D"),
        ("1day", "1 D"),
        ("300", "300 S"),
        ("3600 S", "3600 S"),
        ("60 secs", "60 S"),
        ("1 W", "1 W"),
        ("13 weeks", "13 W"),
        ("6 M", "6 M"),
        ("6 months", "6 M"),
        ("6m", "6 M"),
        ("1y", "1 Y"),
        ("10 years", "10 Y"),
    ],
)
def test_durations_parse_and_format(text: str, expected: str) -> None:
    duration = parse_duration(text)
    assert str(duration) == expected
    assert parse_duration(duration) is duration
    assert parse_duration(str(duration)) == duration


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "duration_missing"),
        ("   ", "duration_missing"),
        ("x", "duration_format"),
        ("D", "duration_format"),
        ("-1 D", "duration_format"),
        ("1.5 D", "duration_format"),
        ("2 hours", "duration_format"),
        ("0 D", "duration_invalid"),
    ],
)
def test_malformed_durations_are_refused(text: str, rule: str) -> None:
    with pytest.raises(InvalidHistoricalRequest) as info:
        parse_duration(text)
    assert info.value.rule.name == rule


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("45 S", 45), ("2 D", 172_800), ("1 W", 604_800), ("1 M", 2_629_746), ("1 Y", 31_556_952)],
)
def test_duration_lengths(duration: str, seconds: int) -> None:
    assert parse_duration(duration).seconds == seconds


def test_duration_records() -> None:
    assert Duration(2, DurationUnit.DAYS) == parse_duration("2 D")
    assert str(DurationUnit.YEARS) == "Y"
    with pytest.raises(InvalidHistoricalRequest, match="duration_invalid"):
        Duration(0, DurationUnit.SECONDS)


# -- what to show -------------------------------------------------------------------------------

BRIEF_TYPES = [
    "TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST", "HISTORICAL_VOLATILITY",
    "OPTION_IMPLIED_VOLATILITY", "FEE_RATE", "SCHEDULE", "AGGTRADES", "YIELD_BID", "YIELD_ASK",
    "YIELD_BID_ASK", "YIELD_LAST",
]  # fmt: skip


def test_what_to_show_values() -> None:
    assert [w.value for w in WhatToShow] == BRIEF_TYPES
    assert {w.value for w in LIVE_SOURCES} == {"TRADES", "MIDPOINT", "BID", "ASK"}
    assert set(SUPPORTED_SEC_TYPES) <= set(WhatToShow)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("trades", "TRADES"), (" Bid_Ask ", "BID_ASK"), ("bid ask", "BID_ASK"), ("Bid/Ask", "BID_ASK"),
     ("adjusted-last", "ADJUSTED_LAST"), (WhatToShow.SCHEDULE, "SCHEDULE")],
)  # fmt: skip
def test_what_to_show_parses_forgivingly(text: str, expected: str) -> None:
    assert parse_what_to_show(text) == expected


def test_unknown_what_to_show_is_refused_by_name() -> None:
    with pytest.raises(InvalidHistoricalRequest, match="'REBATE' is not one of TRADES") as info:
        parse_what_to_show("REBATE")
    assert info.value.text.endswith("cause - What to show value of REBATE rejected.")


# -- the rules ----------------------------------------------------------------------------------

LIVE = {"keep_up_to_date": True}
AT = {"end": END}

#: (rule, check_request arguments) — one case per rule check_request can break
CHECK_CASES: list[tuple[str, tuple[str, str, str], dict[str, Any]]] = [
    ("end_format", ("1 day", "1 Y", "TRADES"), {"end": datetime(1977, 1, 1, tzinfo=UTC)}),
    ("end_naive", ("1 day", "1 Y", "TRADES"), {"end": datetime(2024, 1, 1)}),
    ("duration_missing", ("1 day", "", "TRADES"), {}),
    ("duration_format", ("1 day", "1 fortnight", "TRADES"), {}),
    ("duration_invalid", ("1 secs", "29 S", "TRADES"), {}),
    ("duration_seconds_max", ("1 min", "86401 S", "TRADES"), {}),
    ("duration_days_max", ("1 day", "366 D", "TRADES"), {}),
    ("duration_weeks_max", ("1 day", "53 W", "TRADES"), {}),
    ("duration_months_max", ("1 day", "13 M", "TRADES"), {}),
    ("adjusted_last_end", ("1 day", "1 Y", "ADJUSTED_LAST"), AT),
    ("bar_size", ("7 mins", "1 D", "TRADES"), {}),
    ("adjusted_last_multi_day", ("1 week", "1 Y", "ADJUSTED_LAST"), {}),
    ("what_to_show", ("1 day", "1 Y", "LAST"), {}),
    ("live_end", ("1 min", "1 D", "TRADES"), {**LIVE, **AT}),
    ("live_combo", ("1 min", "1 D", "TRADES"), {**LIVE, "sec_type": "BAG"}),
    ("live_source", ("1 min", "1 D", "BID_ASK"), LIVE),
    ("live_source", ("1 day", "1 Y", "ADJUSTED_LAST"), LIVE),
    ("schedule_daily", ("1 hour", "1 W", "SCHEDULE"), {}),
    ("live_bar_size", ("1 secs", "60 S", "MIDPOINT"), LIVE),
    ("duration_years_max", ("1 day", "69 Y", "TRADES"), {}),
    ("one_sec_step", ("1 secs", "1 D", "TRADES"), {}),
    ("one_sec_length", ("1 secs", "2001 S", "TRADES"), {}),
    ("bar_longer_than_duration", ("1 day", "3600 S", "TRADES"), {}),
    ("bar_longer_than_duration", ("1 month", "4 W", "TRADES"), {}),
    ("product", ("1 day", "1 Y", "TRADES"), {"sec_type": "CASH"}),
    ("product", ("1 day", "1 Y", "HISTORICAL_VOLATILITY"), {"sec_type": "FUT"}),
    ("product", ("1 day", "1 Y", "MIDPOINT"), {"sec_type": "IND"}),
    ("product", ("1 day", "1 Y", "AGGTRADES"), {"sec_type": "STK"}),
]


@pytest.mark.parametrize(("rule", "args", "kwargs"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_check_request_names_the_rule(
    rule: str, args: tuple[str, str, str], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidHistoricalRequest) as info:
        check_request(*args, **kwargs)
    err = info.value
    assert err.rule is RULES[rule]
    assert str(err).startswith(f"{rule}: ")
    assert err.code == RULES[rule].code
    assert isinstance(err, ValueError)


def test_every_rule_has_a_case() -> None:
    assert {c[0] for c in CHECK_CASES} == set(RULES)


def test_the_rule_table_is_well_formed() -> None:
    assert list(RULES) == [r.name for r in RULES.values()]
    for rule in RULES.values():
        assert rule.code in (321, 162, 10314, 2174)
        assert rule.source and rule.cause


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("1 sec", "1800", "trades"), {}, ("1 secs", "1800 S", "TRADES")),
        (("5 mins", "1 week", "bid ask"), {"end": END}, ("5 mins", "1 W", "BID_ASK")),
        (("1 day", "10 years", "ADJUSTED_LAST"), {}, ("1 day", "10 Y", "ADJUSTED_LAST")),
        (("1 day", "1 M", "SCHEDULE"), {"end": END}, ("1 day", "1 M", "SCHEDULE")),
        (("5 secs", "3600 S", "MIDPOINT"), LIVE, ("5 secs", "3600 S", "MIDPOINT")),
        (("1 min", "1 D", "MIDPOINT"), {"sec_type": "CASH"}, ("1 min", "1 D", "MIDPOINT")),
        (("1 min", "1 D", "TRADES"), {"sec_type": "BAG"}, ("1 min", "1 D", "TRADES")),
        (("1 month", "1 M", "TRADES"), {}, ("1 month", "1 M", "TRADES")),
        (("1 day", "86400 S", "TRADES"), {}, ("1 day", "86400 S", "TRADES")),
        (
            ("1 secs", "2000 S", "TRADES"),
            {"end": END.astimezone(NY)},
            ("1 secs", "2000 S", "TRADES"),
        ),
    ],
)
def test_legal_requests_come_back_normalised(
    args: tuple[str, str, str], kwargs: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    bar, duration, what = check_request(*args, **kwargs)
    assert (bar.text, str(duration), what.value) == expected


# -- tws_error: what TWS would answer -----------------------------------------------------------

P321 = "Error validating request.-'bH' : cause - "
P162 = "Historical Market Data Service error message:"


LONGER = "Historical data request for durations longer than {} must be made in years."


@pytest.mark.parametrize(
    ("args", "kwargs", "code", "cause"),
    [
        (("1 day", "400 D", "TRADES"), {}, 321,
         "Historical data requests for durations longer than 365 days must be made in years."),
        (("1 day", "", "TRADES"), {}, 321, "Historical data request duration not specified."),
        (("1 day", "1D", "TRADES"), {}, 321,
         "When specifying a unit, historical data request duration format is "
         "integer{SPACE}unit (S|D|W|M|Y)."),
        (("1 day", "1  D", "TRADES"), {}, 321, RULES["duration_format"].cause),
        (("1 day", "2 days", "TRADES"), {}, 321, RULES["duration_format"].cause),
        (("1 secs", "29", "TRADES"), {}, 321, "Historical data requested duration is invalid."),
        (("1 min", "0 D", "TRADES"), {}, 321, "Historical data requested duration is invalid."),
        (("1 min", "90000 S", "TRADES"), {}, 321,
         "Historical data request for greater than 86400 seconds rejected."),
        (("1 day", "53 W", "TRADES"), {}, 321, LONGER.format("52 weeks")),
        (("1 day", "13 M", "TRADES"), {}, 321, LONGER.format("12 months")),
        (("1 day", "1 Y", "adjusted_last"), {"end": "20240101-00:00:00"}, 321,
         "End date not supported with adjusted last"),
        (("1W", "1 Y", "ADJUSTED_LAST"), {}, 321,
         "Multi day bar size not supported with adjusted last"),
        (("1 day", "1 Y", "bid ask"), {}, 321, "What to show value of bid ask rejected."),
        (("1 min", "1 D", "TRADES"), {"end": "20240101 10:00:00 US/Eastern", **LIVE}, 321,
         "End date not supported with live updates"),
        (("1 min", "1 D", "TRADES"), {"sec_type": "BAG", **LIVE}, 321,
         "Live updates for combos are not supported"),
        (("1 min", "1 D", "BID_ASK"), LIVE, 321, "Source price not supported with live updates"),
        (("1 hour", "1 W", "SCHEDULE"), {}, 321,
         "Only daily resolution supported for Schedule requests"),
        (("1 secs", "60 S", "TRADES"), LIVE, 321, "Live updates need bars of 5 secs or longer"),
        (("1 day", "70 Y", "TRADES"), {}, 162, "Time length exceed max."),
        (("1 secs", "1 D", "TRADES"), {}, 162, "invalid step: 1"),
        (("1 secs", "3600 S", "TRADES"), {}, 162, "Time length exceed max."),
        (("1 day", "3600 S", "TRADES"), {}, 162, "invalid step: 86400"),
        (("1 min", "1 D", "TRADES"), {"sec_type": "CASH", "symbol": "EUR", "exchange": "IDEALPRO"},
         162, "No historical market data for EUR/CASH@FXSUBPIP Last 60"),
        (("30 mins", "1 W", "BID"), {"sec_type": "IND", "symbol": "CAC40", "exchange": "MONEP"},
         162, "No historical market data for CAC40/IND@MONEP Bid 1800"),
        (("1 day", "1 Y", "TRADES"), {"sec_type": "cash", "symbol": "EUR", "exchange": "idealpro"},
         162, "No historical market data for EUR/CASH@FXSUBPIP Last 0"),
        (("1 day", "1 Y", "TRADES"), {"end": "20240101-00:00:00 UTC"}, 10314,
         RULES["end_format"].cause),
    ],
)  # fmt: skip
def test_tws_error_answers_like_tws(
    args: tuple[str, str, str], kwargs: dict[str, Any], code: int, cause: str
) -> None:
    prefix = {321: P321, 162: P162, 10314: ""}[code]
    assert tws_error(*args, **kwargs) == (code, prefix + cause)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("1 secs", "1800 S", "TRADES"), {}),
        (("1 secs", "30", "TRADES"), {}),  # a bare number is seconds
        (("5 secs", "1 d", "midpoint"), {}),  # units and types in any case
        (("1 day", "20 Y", "TRADES"), {"end": "20240101-23:59:59"}),
        (("1 day", "1 Y", "TRADES"), {"end": "20240101 23:59:59 US/Eastern"}),
        (("1 day", "1 Y", "TRADES"), {"end": "20240101 23:59:59"}),  # 2174 is only a warning
        (("1 hour", "1 D", "TRADES"), {"end": "23:59:59"}),
        (("1 min", "1 D", "TRADES"), LIVE),
        (("1 day", "1 M", "SCHEDULE"), {"end": " "}),
        (("1M", "1 Y", "TRADES"), {"sec_type": "STK"}),
        (("1 hour", "1 W", "AGGTRADES"), {"sec_type": "CRYPTO"}),
    ],
)
def test_tws_error_passes_what_tws_accepts(
    args: tuple[str, str, str], kwargs: dict[str, Any]
) -> None:
    assert tws_error(*args, **kwargs) is None


@pytest.mark.parametrize(
    ("args", "kwargs", "rule"),
    [
        # duration before ADJUSTED_LAST before bar size before whatToShow, as TWS checks
        (("1 sec", "400 D", "NOPE"), {}, "duration_days_max"),
        (("1 sec", "1 Y", "ADJUSTED_LAST"), {"end": "20240101-00:00:00"}, "adjusted_last_end"),
        (("1 sec", "1 Y", "NOPE"), {}, "bar_size"),
        (("1 day", "1 Y", "NOPE"), {"end": "bad"}, "end_format"),
        (("1 secs", "1 D", "BID_ASK"), LIVE, "live_source"),
    ],
)
def test_tws_error_reports_the_first_rule_in_tws_order(
    args: tuple[str, str, str], kwargs: dict[str, Any], rule: str
) -> None:
    answer = tws_error(*args, **kwargs)
    assert answer is not None
    assert answer[0] == RULES[rule].code
    assert RULES[rule].cause.split("{")[0] in answer[1]


@pytest.mark.parametrize(
    ("end", "ok"),
    [
        ("", True),
        ("20240101-10:00:00", True),
        ("20240101 10:00:00", True),
        ("20240101 10:00:00 US/Eastern", True),
        ("20240101 10:00:00 America/New_York", True),
        ("10:00:00", True),
        ("10:00:00 UTC", True),
        ("20240101-10:00:00 UTC", False),  # a zone after the UTC dash form (PROTOCOL.md 3.5)
        ("2024-01-01 10:00:00", False),
        ("20241301 10:00:00", False),
        ("20240101 25:00:00", False),
        ("20240101", False),
        ("19770101 10:00:00", False),
        ("garbage", False),
    ],
)
def test_end_date_forms(end: str, ok: bool) -> None:
    answer = tws_error("1 day", "1 Y", "TRADES", end=end)
    assert (answer is None) is ok
    if not ok:
        assert answer == (10314, RULES["end_format"].cause)


def test_the_errors_carry_the_tws_answer() -> None:
    with pytest.raises(InvalidHistoricalRequest) as info:
        check_request("1 day", "400 D", "TRADES")
    err = info.value
    assert err.code == 321
    assert err.text == P321 + RULES["duration_days_max"].cause
    assert (err.code, err.text) == tws_error("1 day", "400 D", "TRADES")
    assert "400 D is longer than 365 D" in str(err)


# -- max_duration and chunk_plan ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bar", "expected"),
    [("1 secs", "2000 S"), ("5 secs", "3600 S"), ("10 secs", "14400 S"), ("15 secs", "14400 S"),
     ("30 secs", "28800 S"), ("1 min", "86400 S"), ("2 mins", "2 D"), ("3 mins", "1 W"),
     ("20 mins", "1 W"), ("30 mins", "30 D"), ("8 hours", "30 D"), ("1 day", "365 D"),
     ("1 week", "365 D"), ("1 month", "365 D")],
)  # fmt: skip
def test_max_duration(bar: str, expected: str) -> None:
    assert str(max_duration(bar)) == expected


@pytest.mark.parametrize("bar", BAR_SIZES, ids=str)
def test_every_max_duration_is_legal(bar: BarSize) -> None:
    check_request(bar, max_duration(bar), "TRADES", end=END)
    assert tws_error(bar.text, str(max_duration(bar)), "TRADES", end="20240101-00:00:00") is None


def test_chunk_plan_pages_back_from_the_end() -> None:
    plan = chunk_plan(END - timedelta(days=2, seconds=100), END, "1 min")
    assert plan == [
        Chunk(END, "86400 S"),
        Chunk(END - timedelta(days=1), "86400 S"),
        Chunk(END - timedelta(days=2), "120 S"),  # 100 s, rounded up to whole bars
    ]
    assert plan[0].end_text == "20240308-21:00:00"
    assert plan[-1].start == END - timedelta(days=2, seconds=120)


def test_chunk_plan_mixes_days_and_seconds() -> None:
    plan = chunk_plan(END - timedelta(days=3, hours=5), END, "2 mins")
    assert [c.duration for c in plan] == ["2 D", "1 D", "18000 S"]
    assert plan[-1].start == END - timedelta(days=3, hours=5)


def test_chunk_plan_daily_bars_use_whole_days() -> None:
    plan = chunk_plan(END - timedelta(days=400, hours=3), END, "1 day")
    assert [c.duration for c in plan] == ["365 D", "36 D"]
    month = chunk_plan(END - timedelta(days=3), END, "1 month")
    assert [c.duration for c in month] == ["31 D"]  # never shorter than one bar


def test_chunk_plan_edges() -> None:
    assert chunk_plan(END, END, "1 min") == []
    assert chunk_plan(END + timedelta(hours=1), END, "1 min") == []
    assert chunk_plan(END - timedelta(seconds=1), END, "1 secs") == [Chunk(END, "30 S")]
    tokyo = END.astimezone(timezone(timedelta(hours=9)))
    late = tokyo + timedelta(microseconds=1)
    plan = chunk_plan(late - timedelta(minutes=1), late, "1 min")  # the end rounds up a second
    assert plan == [Chunk(END + timedelta(seconds=1), "120 S")]
    assert plan[0].end.tzinfo is UTC


def test_chunk_plan_takes_a_smaller_max_chunk() -> None:
    plan = chunk_plan(END - timedelta(hours=2), END, "5 secs", max_chunk="1800 S")
    assert [c.duration for c in plan] == ["1800 S"] * 4
    assert [
        c.duration for c in chunk_plan(END - timedelta(days=9), END, "3 mins", max_chunk="1 W")
    ] == [
        "7 D",
        "2 D",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_chunk": "1 M"}, "calendar-based"),
        ({"max_chunk": "1 Y"}, "calendar-based"),
        ({"max_chunk": "60 S"}, "bar_longer_than_duration"),
        ({"max_chunk": "400 D"}, "duration_days_max"),
        ({"bar_size": "7 mins"}, "bar_size"),
    ],
)
def test_chunk_plan_refuses_bad_arguments(kwargs: dict[str, Any], error: str) -> None:
    args: dict[str, Any] = {"bar_size": "1 hour", **kwargs}
    with pytest.raises(ValueError, match=error):
        chunk_plan(END - timedelta(days=1), END, **args)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2024, 1, 1)
    with pytest.raises(InvalidHistoricalRequest, match="end_naive: start"):
        chunk_plan(naive, END, "1 min")
    with pytest.raises(InvalidHistoricalRequest, match="end_naive: end"):
        chunk_plan(END, naive, "1 min")
    with pytest.raises(InvalidHistoricalRequest, match="end_naive"):
        format_end_datetime(naive)


def test_end_dates_tws_cannot_read_are_refused() -> None:
    old = datetime(1977, 12, 31, 23, tzinfo=UTC)
    with pytest.raises(InvalidHistoricalRequest, match="end_format: end 1977"):
        check_request("1 day", "1 Y", "TRADES", end=old)
    with pytest.raises(InvalidHistoricalRequest, match="end_format"):
        format_end_datetime(old)
    with pytest.raises(InvalidHistoricalRequest, match="end_format: the oldest request's end"):
        chunk_plan(old - timedelta(days=800), datetime(1979, 1, 1, tzinfo=UTC), "1 day")
    assert chunk_plan(old, datetime(1978, 1, 2, tzinfo=UTC), "1 day") == [
        Chunk(datetime(1978, 1, 2, tzinfo=UTC), "2 D")
    ]


def test_an_end_that_is_not_a_datetime_is_refused_with_a_hint() -> None:
    # historical_bars(contract, "1 D", "1 hour"): the second argument is the end
    with pytest.raises(InvalidHistoricalRequest, match="looks like a duration: pass duration="):
        check_request("1 hour", "1 D", "TRADES", end="1 D")  # type: ignore[arg-type]
    with pytest.raises(InvalidHistoricalRequest, match="tz-aware datetime or None, not 17"):
        check_request("1 hour", "1 D", "TRADES", end=17)  # type: ignore[arg-type]


def test_format_end_datetime() -> None:
    assert format_end_datetime(None) == ""
    assert format_end_datetime(END) == "20240308-21:00:00"
    assert (
        format_end_datetime(datetime(2024, 3, 8, 16, 0, 5, 999_999, tzinfo=NY))
        == "20240308-21:00:05"
    )
    assert tws_error("1 day", "1 Y", "TRADES", end=format_end_datetime(END)) is None


# Spans up to ~60 requests for each bar size, so every size gets many chunks but few enough.
@st.composite
def plans(draw: st.DrawFn) -> tuple[datetime, datetime, BarSize, Duration | None]:
    bar = draw(st.sampled_from(BAR_SIZES))
    cap: Duration | None = draw(
        st.one_of(
            st.none(),
            st.sampled_from(
                [max_duration(bar), Duration(1, DurationUnit.DAYS), Duration(1, DurationUnit.WEEKS)]
            ),
        )
    )
    if cap is not None and (bar.seconds > cap.seconds or (bar.seconds == 1 and cap.unit != "S")):
        cap = None
    longest = (cap or max_duration(bar)).seconds
    span = draw(st.integers(min_value=0, max_value=longest * 60))
    micros = draw(st.integers(min_value=0, max_value=999_999))
    offset = draw(st.integers(min_value=-12, max_value=14))
    end = draw(st.datetimes(min_value=datetime(2040, 1, 1), max_value=datetime(2060, 1, 1)))
    end = end.replace(tzinfo=timezone(timedelta(hours=offset)))
    return end - timedelta(seconds=span, microseconds=micros), end, bar, cap


@given(plans())
def test_chunk_plan_covers_the_range_with_legal_requests(
    case: tuple[datetime, datetime, BarSize, Duration | None],
) -> None:
    start, end, bar, cap = case
    plan = chunk_plan(start, end, bar, max_chunk=cap)
    if start >= end:
        assert plan == []
        return
    longest = (cap or max_duration(bar)).seconds
    assert plan[0].end >= end and plan[0].end - end < timedelta(seconds=1)
    for newer, older in itertools.pairwise(plan):
        assert older.end == newer.start  # contiguous, no overlap, newest first
    assert plan[-1].start <= start
    least = max(30, bar.seconds) if bar.intraday else -(-bar.seconds // 86400) * 86400
    assert start - plan[-1].start < timedelta(seconds=least)
    assert all(start < c.end for c in plan)  # no chunk lies wholly before the range
    for chunk in plan:
        assert chunk.end.tzinfo is UTC and chunk.end.microsecond == 0
        duration = parse_duration(chunk.duration)
        assert duration.unit in ("S", "D")
        assert duration.seconds <= max(longest, bar.seconds)
        check_request(bar, duration, "TRADES", end=chunk.end)
        assert tws_error(bar.text, chunk.duration, "TRADES", end=chunk.end_text) is None
        if bar.intraday:  # boundaries on whole bars before the end
            assert (plan[0].end - chunk.start).total_seconds() % bar.seconds == 0
