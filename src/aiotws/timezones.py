"""TWS time-zone names to IANA zones, and lenient parsing of TWS date-time strings (no I/O).

TWS writes whatever zone name its JVM produces: Java short ids (``EST``), Windows display
names (``China Standard Time``), IANA names (``US/Eastern``) and sometimes localized or
garbled text (PROTOCOL.md 1.3, 3.5). :data:`ZONE_ALIASES` is the one table of known names;
users may add to it. An unknown name never raises: parsing returns ``None`` for the zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ZONE_ALIASES", "parse_tws_datetime", "resolve_zone"]

#: Zone names TWS is known to send that are not IANA names, mapped to IANA names.
ZONE_ALIASES: Final[dict[str, str]] = {
    # Java short ids / abbreviations (TWS's host zone; DST variants map to the same zone)
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "GMT": "UTC",
    "UTC": "UTC",
    "Z": "UTC",
    "BST": "Europe/London",
    "WET": "Europe/Lisbon",
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "MET": "Europe/Berlin",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata",
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "ACST": "Australia/Adelaide",
    "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    # Windows display names
    "Eastern Standard Time": "America/New_York",
    "Eastern Daylight Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Central Daylight Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Pacific Daylight Time": "America/Los_Angeles",
    "Greenwich Mean Time": "UTC",
    "Coordinated Universal Time": "UTC",
    "GMT Standard Time": "Europe/London",
    "British Summer Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "W. Europe Daylight Time": "Europe/Berlin",
    "Central European Standard Time": "Europe/Warsaw",
    "Central European Summer Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "E. Europe Standard Time": "Europe/Chisinau",
    "FLE Standard Time": "Europe/Kyiv",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "India Standard Time": "Asia/Kolkata",
    "China Standard Time": "Asia/Shanghai",
    "中国标准时间": "Asia/Shanghai",
    "Hong Kong Standard Time": "Asia/Hong_Kong",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "Japan Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "AUS Eastern Daylight Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Israel Standard Time": "Asia/Jerusalem",
    "Arabian Standard Time": "Asia/Dubai",
    "South Africa Standard Time": "Africa/Johannesburg",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Hora estándar del Pacífico": "America/Los_Angeles",
}

_CACHE: dict[str, tzinfo | None] = {}
_DATE_TIME: Final = re.compile(r"^\s*(\d{8})(?:[ -]+(\d{1,2}:\d{2}(?::\d{2})?))?\s*(.*?)\s*$")


def resolve_zone(name: str) -> tzinfo | None:
    """The zone for a TWS zone name, or ``None`` when it is not known (never raises)."""
    name = name.strip()
    if not name:
        return None
    if name in _CACHE:
        return _CACHE[name]
    iana = ZONE_ALIASES.get(name, name)
    zone: tzinfo | None
    if iana == "UTC":
        zone = UTC
    else:
        try:
            zone = ZoneInfo(iana)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            zone = None
    if zone is not None:  # unknown names are not cached: an alias may be added later
        _CACHE[name] = zone
    return zone


def parse_tws_datetime(text: str, default_zone: tzinfo | None = None) -> datetime | None:
    """Parse ``yyyymmdd[ hh:mm[:ss]] [zone]`` or ``yyyymmdd-hh:mm:ss`` (UTC).

    Returns a tz-aware datetime, or ``None`` if the text does not parse or its zone is
    unknown and no ``default_zone`` was given.
    """
    m = _DATE_TIME.match(text)
    if m is None:
        return None
    day, clock, zone_name = m.groups()
    try:
        fmt = "%Y%m%d"
        value = day
        if clock:
            value += " " + clock
            fmt += " %H:%M:%S" if clock.count(":") == 2 else " %H:%M"
        naive = datetime.strptime(value, fmt)
    except ValueError:
        return None
    if zone_name:
        zone = resolve_zone(zone_name)
    elif "-" in text and clock:
        zone = UTC
    else:
        zone = default_zone
    if zone is None:
        zone = default_zone
    if zone is None:
        return None
    return naive.replace(tzinfo=zone)
