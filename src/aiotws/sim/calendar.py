"""US exchange holidays for the simulator: the NYSE/Nasdaq/CBOE full-day closures.

Computed from the rules, not a table, so any year works: New Year's Day, Martin Luther
King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth (from 2022),
Independence Day, Labor Day, Thanksgiving and Christmas. A holiday on a Saturday is
observed the Friday before and on a Sunday the Monday after, except that New Year's Day
on a Saturday is not observed (NYSE rule 7.2). Early closes (the day after Thanksgiving,
Christmas Eve) are not modelled.

The universe uses it for expiries (an expiry on a holiday moves to the business day
before, as the exchanges move them) and for trading hours (a holiday is ``CLOSED``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

__all__ = ["is_business_day", "previous_business_day", "us_holidays"]


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    la = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * la) // 451
    month, day = divmod(h + la - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 Monday) of the month; ``n = -1`` is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


@cache
def us_holidays(year: int) -> frozenset[date]:
    """The weekdays of ``year`` on which US stock and options exchanges are closed."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if date(year, 1, 1).weekday() != 5:  # a Saturday New Year is not observed
        days.add(_observed(date(year, 1, 1)))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    return frozenset(d for d in days if d.year == year)


def is_business_day(d: date) -> bool:
    """A weekday that is not a US exchange holiday."""
    return d.weekday() < 5 and d not in us_holidays(d.year)


def previous_business_day(d: date) -> date:
    """``d`` if it is a business day, else the business day before it."""
    while not is_business_day(d):
        d -= timedelta(days=1)
    return d
