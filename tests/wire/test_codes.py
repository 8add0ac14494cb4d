"""Error-code classification (PROTOCOL.md section 8): one table, copied per client."""

from __future__ import annotations

import pytest

from aiotws.wire.codes import DEFAULT_CODES, CodeTable, ErrorKind, classify

K = ErrorKind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1100, K.CONNECTIVITY),
        (1101, K.CONNECTIVITY),
        (1102, K.CONNECTIVITY),
        (1300, K.CONNECTIVITY),
        (2110, K.CONNECTIVITY),
        (2103, K.FARM),
        (2104, K.FARM),
        (2105, K.FARM),
        (2106, K.FARM),
        (2107, K.FARM),
        (2108, K.FARM),
        (2119, K.FARM),
        (2157, K.FARM),
        (2158, K.FARM),
        (2100, K.WARNING),  # 2100-2199 default to warnings
        (2109, K.WARNING),
        (2150, K.WARNING),
        (2174, K.WARNING),
        (2199, K.WARNING),
        (105, K.WARNING),
        (399, K.WARNING),
        (10167, K.WARNING),
        (10197, K.WARNING),
        (492, K.WARNING),  # scanner results without precise data still come
        (490, K.ERROR),  # no permission to run the scanner
        (165, K.NOTICE),
        (10349, K.NOTICE),
        (326, K.FATAL),
        (200, K.ERROR),
        (201, K.ERROR),
        (321, K.ERROR),
        (2099, K.ERROR),
        (2200, K.ERROR),
        (0, K.ERROR),
        (-1, K.ERROR),
        (99999, K.ERROR),
    ],
)
def test_classification(code: int, kind: ErrorKind) -> None:
    assert classify(code) is kind
    assert classify(code, "any text") is kind
    assert DEFAULT_CODES.classify(code) is kind


def test_10349_is_never_an_error() -> None:
    # "Order TIF was set to DAY based on order preset": clients that fail here cancel live orders
    for text in ("", "Order TIF was set to DAY based on order preset.", "error"):
        assert classify(10349, text) is K.NOTICE


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "Historical Market Data Service query message:API historical data query cancelled: 28",
            K.CANCELLED,
        ),
        ("HMDS QUERY CANCELLED", K.CANCELLED),
        (
            "Historical Market Data Service error message:Historical data request pacing violation",
            K.ERROR,
        ),
        ("Historical Market Data Service error message:HMDS query returned no data", K.ERROR),
        ("", K.ERROR),
    ],
)
def test_162_depends_on_the_text(text: str, kind: ErrorKind) -> None:
    assert classify(162, text) is kind


def test_error_kind_values() -> None:
    assert {k.value for k in K} == {
        "error", "cancelled", "warning", "notice", "connectivity", "farm", "fatal",
    }  # fmt: skip
    assert K.WARNING == "warning"


def test_contains() -> None:
    assert 2104 in DEFAULT_CODES
    assert 162 in DEFAULT_CODES
    assert 2150 not in DEFAULT_CODES  # default rule, not a table entry
    assert 200 not in DEFAULT_CODES


def test_copy_and_set_do_not_leak_into_default() -> None:
    table = DEFAULT_CODES.copy()
    table.set(200, K.WARNING)
    table.set(2104, K.NOTICE)
    table.set(10349, K.ERROR)
    assert table.classify(200) is K.WARNING
    assert table.classify(2104) is K.NOTICE
    assert table.classify(10349) is K.ERROR
    assert 200 in table
    assert classify(200) is K.ERROR
    assert classify(2104) is K.FARM
    assert classify(10349) is K.NOTICE
    assert 200 not in DEFAULT_CODES


def test_copies_are_independent() -> None:
    a = DEFAULT_CODES.copy()
    b = a.copy()
    a.set(1, K.NOTICE)
    assert a.classify(1) is K.NOTICE
    assert b.classify(1) is K.ERROR


def test_callable_rule() -> None:
    seen: list[str] = []

    def read_only(text: str) -> ErrorKind:
        seen.append(text)
        return K.FATAL if "Read-Only" in text else K.ERROR

    table = DEFAULT_CODES.copy()
    table.set(321, read_only)
    assert table.classify(321, "The API interface is currently in Read-Only mode.") is K.FATAL
    assert table.classify(321, "Error validating request") is K.ERROR
    assert table.classify(321) is K.ERROR
    assert seen == [
        "The API interface is currently in Read-Only mode.",
        "Error validating request",
        "",
    ]
    assert classify(321, "Read-Only") is K.ERROR


def test_table_from_explicit_rules() -> None:
    table = CodeTable({7: K.NOTICE})
    assert table.classify(7) is K.NOTICE
    assert table.classify(2104) is K.WARNING  # not in this table: the 2100-2199 default
    assert table.classify(1100) is K.ERROR
    empty = CodeTable({})
    assert empty.classify(326) is K.ERROR
    assert CodeTable().classify(326) is K.FATAL


def test_rules_are_copied_not_shared() -> None:
    rules = {7: K.NOTICE}
    table = CodeTable(rules)
    rules[7] = K.FATAL
    assert table.classify(7) is K.NOTICE
