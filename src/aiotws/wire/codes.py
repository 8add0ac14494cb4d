"""What each TWS error code means for a client: one table, read by the request correlator.

ERR_MSG carries errors, warnings and notices alike. :func:`classify` maps a code (and, for
the few codes whose meaning is in the text, the text) to an :class:`ErrorKind`:

========== ===========================================================================
kind       effect in aiotws
========== ===========================================================================
ERROR      fails the request (or order) whose id the message carries
CANCELLED  the request ended because it was cancelled (162 "query cancelled")
WARNING    attached to the request and logged; the request goes on
NOTICE     informational; logged at info, never changes any state
CONNECTIVITY TWS <-> IB link state (1100/1101/1102/1300/2110): session events
FARM       a data farm's state (2103/2104/…): farm-status events
FATAL      the connection itself is refused or ended (326 client id in use)
========== ===========================================================================

An informational code never changes the state of a request or an order (clients that
guess here cancel live orders on 10349). Users extend or override the table through
:data:`DEFAULT_CODES` or a per-client :class:`CodeTable`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Final

__all__ = ["DEFAULT_CODES", "CodeTable", "ErrorKind", "classify"]


class ErrorKind(enum.StrEnum):
    ERROR = "error"
    CANCELLED = "cancelled"
    WARNING = "warning"
    NOTICE = "notice"
    CONNECTIVITY = "connectivity"
    FARM = "farm"
    FATAL = "fatal"


Rule = ErrorKind | Callable[[str], ErrorKind]


def _hmds(text: str) -> ErrorKind:
    # 162 covers cancel acks, pacing violations and "no data": only the text tells them apart.
    # Scanners too: "API scanner subscription cancelled: <id>" acks a cancel (or TWS ended it).
    t = text.lower()
    if "query cancelled" in t or "scanner subscription cancelled" in t:
        return ErrorKind.CANCELLED
    return ErrorKind.ERROR


_K = ErrorKind
_TABLE: Final[dict[int, Rule]] = {
    # connectivity (PROTOCOL.md 8.1)
    1100: _K.CONNECTIVITY,
    1101: _K.CONNECTIVITY,
    1102: _K.CONNECTIVITY,
    1300: _K.CONNECTIVITY,
    2110: _K.CONNECTIVITY,
    # farms
    2103: _K.FARM,
    2104: _K.FARM,
    2105: _K.FARM,
    2106: _K.FARM,
    2107: _K.FARM,
    2108: _K.FARM,
    2119: _K.FARM,
    2157: _K.FARM,
    2158: _K.FARM,
    # warnings (8.2): the request or order stays live
    105: _K.WARNING,
    165: _K.NOTICE,
    329: _K.WARNING,
    399: _K.WARNING,
    404: _K.WARNING,
    10090: _K.WARNING,
    10091: _K.WARNING,
    10167: _K.WARNING,
    # no market data while the same user runs a competing live session elsewhere
    10197: _K.WARNING,
    10349: _K.NOTICE,
    # 492 "You must subscribe for additional permissions to obtain precise results for
    # scanner": the results still come (ib_insync#196); 490 (no permission to run it) fails
    492: _K.WARNING,
    # 202 "Order Canceled - reason: ...": the order ended because it was cancelled
    202: _K.CANCELLED,
    # connection level
    326: _K.FATAL,
    # text-dependent
    162: _hmds,
}


def _default_rule(code: int) -> ErrorKind:
    if 2100 <= code <= 2199:
        return ErrorKind.WARNING
    return ErrorKind.ERROR


class CodeTable:
    """A code -> kind table with defaults; copy it to customise one client."""

    __slots__ = ("_rules",)

    def __init__(self, rules: Mapping[int, Rule] | None = None) -> None:
        self._rules: dict[int, Rule] = dict(_TABLE if rules is None else rules)

    def set(self, code: int, kind: Rule) -> None:
        """Classify ``code`` as ``kind`` (an :class:`ErrorKind` or a function of the text)."""
        self._rules[code] = kind

    def classify(self, code: int, text: str = "") -> ErrorKind:
        rule = self._rules.get(code)
        if rule is None:
            return _default_rule(code)
        if isinstance(rule, ErrorKind):
            return rule
        return rule(text)

    def copy(self) -> CodeTable:
        return CodeTable(self._rules)

    def __contains__(self, code: int) -> bool:
        return code in self._rules


#: The table every client starts from (a copy of it).
DEFAULT_CODES: Final = CodeTable()


def classify(code: int, text: str = "") -> ErrorKind:
    """Classify with :data:`DEFAULT_CODES`."""
    return DEFAULT_CODES.classify(code, text)
