"""TWS date-time strings and zone names (PROTOCOL.md 1.3, 3.5): lenient, never raising."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiotws import timezones
from aiotws.timezones import ZONE_ALIASES, parse_tws_datetime, resolve_zone

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20230228 17:24:14 EST", datetime(2023, 2, 28, 17, 24, 14, tzinfo=NY)),
        (
            "20260301 09:30:00 US/Eastern",
            datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("US/Eastern")),
        ),
        ("20260301-14:30:00", datetime(2026, 3, 1, 14, 30, tzinfo=UTC)),
        (
            "20260301 09:30 China Standard Time",
            datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        ),
        (
            "20260301 09:30:00 中国标准时间",
            datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        ),
        (
            "20260301 09:30:00 Europe/London",
            datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/London")),
        ),
        ("20260301 09:30:00 GMT", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("20260301 9:30:00 JST", datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))),
        ("  20260301  09:30:00  EST  ", datetime(2026, 3, 1, 9, 30, tzinfo=NY)),
        ("20260301 09:30:00 UTC", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse(text: str, expected: datetime) -> None:
    got = parse_tws_datetime(text)
    assert got == expected
    assert got is not None
    assert got.tzinfo is not None
    assert got.utcoffset() == expected.utcoffset()


def test_parse_est_is_new_york_time() -> None:
    got = parse_tws_datetime("20230228 17:24:14 EST")
    assert got is not None
    assert got.utcoffset() == timedelta(hours=-5)
    summer = parse_tws_datetime("20230728 17:24:14 EDT")
    assert summer is not None
    assert summer.utcoffset() == timedelta(hours=-4)


def test_parse_dash_form_is_utc_even_with_a_default_zone() -> None:
    assert parse_tws_datetime("20260301-14:30:00", NY) == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def test_date_only_uses_the_default_zone() -> None:
    assert parse_tws_datetime("20260301", NY) == datetime(2026, 3, 1, tzinfo=NY)
    assert parse_tws_datetime("20260301") is None  # no zone known: no guess


def test_no_zone_uses_the_default_zone() -> None:
    assert parse_tws_datetime("20260301 09:30:00", NY) == datetime(2026, 3, 1, 9, 30, tzinfo=NY)
    assert parse_tws_datetime("20260301 09:30:00") is None


@pytest.mark.parametrize(
    "zone", ["ÖÐ¹ú±ê×¼Ê±¼ä", "Nowhere Standard Time", "Mars/Olympus", "../../etc/passwd", "a\0b"]
)
def test_unknown_zone_is_none_not_an_exception(zone: str) -> None:
    assert parse_tws_datetime(f"20230228 17:24:14 {zone}") is None
    assert resolve_zone(zone) is None
    # a default zone stands in for an unknown one
    assert parse_tws_datetime(f"20230228 17:24:14 {zone}", NY) == datetime(
        2023, 2, 28, 17, 24, 14, tzinfo=NY
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2026030",
        "20261301 09:30:00 EST",
        "20260230",
        "20260301 25:00:00 EST",
        "20260301 09:61 EST",
        "2026-03-01",
    ],
)
def test_garbage_is_none(text: str) -> None:
    assert parse_tws_datetime(text) is None
    assert parse_tws_datetime(text, NY) is None


@given(st.text(max_size=40), st.sampled_from([None, UTC, NY]))
def test_parse_never_raises(text: str, default: tzinfo | None) -> None:
    got = parse_tws_datetime(text, default)
    assert got is None or got.tzinfo is not None


@pytest.mark.parametrize(
    ("name", "iana"),
    [
        ("EST", "America/New_York"),
        ("EDT", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("JST", "Asia/Tokyo"),
        ("SGT", "Asia/Singapore"),
        ("British Summer Time", "Europe/London"),
        ("China Standard Time", "Asia/Shanghai"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("中国标准时间", "Asia/Shanghai"),
        ("Hora estándar del Pacífico", "America/Los_Angeles"),
        ("America/Chicago", "America/Chicago"),  # IANA names pass through
        (" Asia/Tokyo ", "Asia/Tokyo"),
    ],
)
def test_resolve_zone_aliases(name: str, iana: str) -> None:
    zone = resolve_zone(name)
    assert zone == ZoneInfo(iana)


@pytest.mark.parametrize(
    "name", ["UTC", "GMT", "Z", "Greenwich Mean Time", "Coordinated Universal Time"]
)
def test_resolve_zone_utc(name: str) -> None:
    assert resolve_zone(name) is UTC


@pytest.mark.parametrize("name", ["", "   "])
def test_resolve_zone_empty(name: str) -> None:
    assert resolve_zone(name) is None


def test_every_alias_resolves() -> None:
    for name, iana in ZONE_ALIASES.items():
        zone = resolve_zone(name)
        assert zone is not None, name
        assert zone == (UTC if iana == "UTC" else ZoneInfo(iana))


@pytest.fixture
def scratch_alias() -> Iterator[str]:
    name = "Test Zone For aiotws"
    yield name
    ZONE_ALIASES.pop(name, None)
    timezones._CACHE.pop(name, None)


def test_added_alias_resolves(scratch_alias: str) -> None:
    ZONE_ALIASES[scratch_alias] = "Asia/Tokyo"
    assert resolve_zone(scratch_alias) == ZoneInfo("Asia/Tokyo")
    assert parse_tws_datetime(f"20260301 09:30:00 {scratch_alias}") == datetime(
        2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo")
    )


def test_alias_added_after_a_failed_lookup_resolves(scratch_alias: str) -> None:
    # an unknown name must not be cached as unknown: users may add the alias later
    assert resolve_zone(scratch_alias) is None
    ZONE_ALIASES[scratch_alias] = "Asia/Tokyo"
    assert resolve_zone(scratch_alias) == ZoneInfo("Asia/Tokyo")
