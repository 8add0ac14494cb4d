"""FA messages: hand-written frames at 157, 176, 177 and 200 (PROTOCOL.md 6.20)."""

from __future__ import annotations

import pytest

from aiotws.errors import MalformedMessage, UnsupportedByServer
from aiotws.wire import decode_in, decode_out
from aiotws.wire.codec import encode_payload
from aiotws.wire.messages.advisor import ReceiveFa, ReplaceFa, ReplaceFaEnd, ReqFa

from .roundtrip import both_ways, nul

VERSIONS = (157, 176, 177, 200)
XML = '<?xml version="1.0" encoding="UTF-8"?>\n<ListOfGroups/>\n'


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", [1, 2, 3])
def test_req_fa(version: int, kind: int) -> None:
    both_ways(ReqFa(kind), version, nul("18", "1", str(kind)))


@pytest.mark.parametrize("version", VERSIONS)
def test_receive_fa(version: int) -> None:
    both_ways(ReceiveFa(1, XML), version, nul("16", "1", "1", XML))
    both_ways(ReceiveFa(3, ""), version, nul("16", "1", "3", ""))


@pytest.mark.parametrize("version", VERSIONS)
def test_receive_fa_unescapes_text(version: int) -> None:
    # TWS \\u-escapes non-ASCII text; the XML is a TEXT field both ways
    msg = ReceiveFa(3, "<alias>Müller</alias>")
    both_ways(msg, version, nul("16", "1", "3", "<alias>M\\u00fcller</alias>"))


@pytest.mark.parametrize("version", VERSIONS)
def test_replace_fa_carries_req_id_from_157(version: int) -> None:
    both_ways(ReplaceFa(1, XML, 42), version, nul("19", "1", "1", XML, "42"))


def test_replace_fa_below_157_has_no_req_id() -> None:
    assert encode_payload(ReplaceFa(1, XML), 156) == nul("19", "1", "1", XML)
    with pytest.raises(UnsupportedByServer) as e:
        encode_payload(ReplaceFa(1, XML, 5), 156)
    assert (e.value.field, e.value.needed) == ("req_id", 157)


def test_replace_fa_xml_must_be_ascii() -> None:
    # REPLACE_FA's XML is plain text: groups_to_xml writes non-ASCII as character references
    with pytest.raises(ValueError, match="ASCII"):
        encode_payload(ReplaceFa(1, "<name>Müller</name>", 1), 200)


@pytest.mark.parametrize("version", VERSIONS)
def test_replace_fa_end(version: int) -> None:
    both_ways(ReplaceFaEnd(42, "FA configuration has been saved"), version,
              nul("103", "42", "FA configuration has been saved"))  # fmt: skip


def test_replace_fa_end_needs_157() -> None:
    with pytest.raises(UnsupportedByServer):
        encode_payload(ReplaceFaEnd(1, ""), 156)


def test_strict_decoder_rejects_missing_fields() -> None:
    with pytest.raises(MalformedMessage):
        decode_out(nul("19", "1", "1", XML), 200)  # no req_id at 200
    with pytest.raises(MalformedMessage):
        decode_in(nul("16", "1"), 200, strict=True)
