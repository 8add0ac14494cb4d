"""Account messages beyond the generic tables (rows in ``rows_accounts.py``).

The tables check every row at ``support.VERSIONS``; here the same rows run at the versions
where a gate of these messages flips (167 ``USER_INFO``, 178 ``PENDING_PRICE_REVISION``,
198 ``SUBMITTER``, 200 ``PARAMETRIZED_DAYS_OF_EXECUTIONS``), and the official client's
behaviour is pinned where it deliberately differs from aiotws or where the views paper over
a difference.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ibapi.account_summary_tags import AccountSummaryTags as OfficialTags
from ibapi.const import UNSET_DOUBLE, UNSET_INTEGER
from ibapi.errors import UPDATE_TWS

from aiotws.errors import UnsupportedByServer
from aiotws.model.account import AccountSummaryTags, ExecutionFilter
from aiotws.wire import decode_in, decode_out, encode
from aiotws.wire.messages import accounts as A

from . import test_incoming, test_outgoing
from .rows_accounts import INCOMING_ROWS, OUTGOING_ROWS, filter_args, official_filter
from .support import official_decode, offline_client

#: the versions around the gates of these messages inside 157..200
FLIPS = (166, 167, 177, 178, 197, 198, 199)


@pytest.mark.parametrize("version", FLIPS)
@pytest.mark.parametrize("row", OUTGOING_ROWS, ids=lambda r: r.id)
def test_outgoing_samples_at_the_gates(row: test_outgoing.Row, version: int) -> None:
    for args in row.samples:
        test_outgoing.check(row, args, version)


@pytest.mark.parametrize("version", FLIPS)
@pytest.mark.parametrize("row", INCOMING_ROWS, ids=lambda r: r.id)
def test_incoming_samples_at_the_gates(row: test_incoming.Row, version: int) -> None:
    for msg in row.samples(version):
        test_incoming.check(row, msg, version)


def test_official_tag_list() -> None:
    assert AccountSummaryTags.all() == OfficialTags.AllTags
    for tag in AccountSummaryTags:
        assert getattr(OfficialTags, tag.value) == tag.value


# -- REQ_EXECUTIONS: deliberate differences ---------------------------------------------------


@pytest.mark.parametrize("version", [157, 199])
def test_empty_specific_dates_below_200(version: int) -> None:
    """Deliberate: below 200 the official client refuses a filter whose ``specificDates`` is
    an empty list (it checks ``is not None``), though that list sends nothing. aiotws has no
    ``None`` for the list: empty means "not set", and the request goes out."""
    client, conn, wrapper = offline_client(version)
    f = official_filter(filter_args())
    f.specificDates = []
    client.reqExecutions(1, f)
    assert not conn.sent
    assert [c["errorCode"] for c in wrapper.errors()] == [UPDATE_TWS.code()]
    # with None, the official bytes are exactly aiotws's
    client, conn, _ = offline_client(version)
    client.reqExecutions(1, official_filter(filter_args()))
    assert conn.sent == [encode(A.ReqExecutions(1, ExecutionFilter()), version)]


def test_last_n_days_spelled_as_the_sentinel() -> None:
    """Deliberate: ``last_n_days=2147483647`` is a value to aiotws (refused below 200,
    where the server cannot carry it), while the official client takes it for "unset".
    At 200 both send ``2147483647``, which aiotws reads back as ``None`` (unset)."""
    f = ExecutionFilter(last_n_days=UNSET_INTEGER)
    with pytest.raises(UnsupportedByServer):
        encode(A.ReqExecutions(1, f), 199)
    client, conn, _ = offline_client(199)
    client.reqExecutions(1, official_filter(filter_args(last_n_days=UNSET_INTEGER)))
    assert conn.sent == [encode(A.ReqExecutions(1), 199)]
    sent = encode(A.ReqExecutions(1, f), 200)
    assert sent == encode(A.ReqExecutions(1), 200)
    back = decode_out(sent[4:], 200)
    assert isinstance(back, A.ReqExecutions) and back.filter.last_n_days is None


# -- incoming: what the views map ---------------------------------------------------------------


def test_unset_pnl_reads_as_none_not_as_the_sentinel() -> None:
    """Deliberate: aiotws reads ``1.7976931348623157E308`` and an empty field as ``None``;
    the official decoder passes the sentinel through and reads empty as 0.0."""
    payload = b"94\x005\x00\x001.7976931348623157E308\x000.0\x00"
    (call,) = official_decode(payload, 200)
    assert (call["dailyPnL"], call["unrealizedPnL"], call["realizedPnL"]) == (
        0.0,
        UNSET_DOUBLE,
        0.0,
    )
    assert decode_in(payload, 200) == A.Pnl(5, None, None, 0.0)


def test_commission_unset_values() -> None:
    payload = b"59\x001\x00x\x001.0\x00USD\x001.7976931348623157E308\x00\x000\x00"
    (call,) = official_decode(payload, 176)
    report = call["commissionAndFeesReport"]
    assert (report.realizedPNL, report.yield_) == (UNSET_DOUBLE, 0.0)
    assert decode_in(payload, 176) == A.CommissionAndFeesReport("x", 1.0, "USD", None, None, 0)


def test_execution_text_has_no_exercise_type() -> None:
    """``optExerciseOrLapseType`` exists only in the protobuf encoding: the official text
    decoder leaves it at ``NoneItem`` at 200, as aiotws's record does."""
    msg = INCOMING_ROWS[0].samples(200)[0]
    payload = encode(msg, 200)[4:]
    (call,) = official_decode(payload, 200)
    assert call["execution"].optExerciseOrLapseType.name == "NoneItem"
    got = decode_in(payload, 200)
    assert isinstance(got, A.ExecutionData)
    assert got.record().opt_exercise_or_lapse_type.name == "NONE"
    assert got.record().shares == Decimal(100)


@pytest.mark.parametrize("version", [157, 166])
def test_user_info_decodes_below_its_request_gate(version: int) -> None:
    """USER_INFO has no gate in the official decoder: aiotws decodes it at any version too
    (only REQ_USER_INFO needs 167)."""
    payload = encode(A.UserInfo(3, "IBKR"), version)[4:]
    (call,) = official_decode(payload, version)
    assert (call["reqId"], call["whiteBrandingId"]) == (3, "IBKR")
    assert decode_in(payload, version) == A.UserInfo(3, "IBKR")
