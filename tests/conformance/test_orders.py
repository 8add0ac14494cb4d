"""Orders against the official client beyond the shared table: every gate flip, and the
deliberate differences.

``test_outgoing`` / ``test_incoming`` check the rows of ``rows_orders.py`` at
``support.VERSIONS``; here the same rows run at every version where an order gate flips.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiotws.model.order import MarketOrder, OrderState
from aiotws.wire import decode_in, encode
from aiotws.wire.messages import orders as mo

from . import test_incoming, test_outgoing
from .rows_orders import AAPL, INCOMING_ROWS, OUTGOING_ROWS, official_contract, official_order
from .support import offline_client

#: every order gate in 157..200 and its neighbour below
GATE_VERSIONS = (
    157,
    158,
    160,
    162,
    163,
    165,
    166,
    168,
    169,
    170,
    176,
    177,
    179,
    180,
    182,
    183,
    184,
    185,
    186,
    187,
    189,
    190,
    191,
    192,
    193,
    194,
    195,
    197,
    198,
    199,
    200,
)


@pytest.mark.parametrize("version", GATE_VERSIONS)
@pytest.mark.parametrize("row", OUTGOING_ROWS, ids=lambda r: r.id)
def test_outgoing_at_every_gate(row: object, version: int) -> None:
    for args in row.samples:  # type: ignore[attr-defined]
        test_outgoing.check(row, args, version)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", GATE_VERSIONS)
@pytest.mark.parametrize("row", INCOMING_ROWS, ids=lambda r: r.id)
def test_incoming_at_every_gate(row: object, version: int) -> None:
    for msg in row.samples(version):  # type: ignore[attr-defined]
        test_incoming.check(row, msg, version)  # type: ignore[arg-type]


def _official_bytes(order: object, version: int) -> bytes:
    client, conn, _ = offline_client(version)
    client.placeOrder(1, official_contract(AAPL), order)
    return conn.sent[0]


def test_unset_quantity_is_sent_empty_deliberately() -> None:
    """A deliberate difference: an unset ``total_quantity`` (cash-quantity orders) goes out as
    an empty field; the official client writes its ``UNSET_DECIMAL`` as a 39-digit number."""
    order = MarketOrder("BUY", 1, cash_qty=1000.0)
    order.total_quantity = None
    ours = encode(mo.PlaceOrder.from_order(1, AAPL, order), 200)[4:].split(b"\0")
    theirs = _official_bytes(official_order(order), 200)[4:].split(b"\0")
    assert ours[17] == b"" and theirs[17] == str(2**127 - 1).encode()
    assert ours[:17] == theirs[:17] and ours[18:] == theirs[18:]


def test_quantities_are_plain_deliberately() -> None:
    """A deliberate difference: ``Decimal("1E+2")`` goes out as ``100`` (plain notation, what
    TWS parses); the official ``str(Decimal)`` writes ``1E+2``."""
    order = MarketOrder("BUY", Decimal("1E+2"))
    ours = encode(mo.PlaceOrder.from_order(1, AAPL, order), 200)[4:].split(b"\0")
    theirs = _official_bytes(official_order(order), 200)[4:].split(b"\0")
    assert (ours[17], theirs[17]) == (b"100", b"1E+2")


def test_open_order_trail_stop_price_twice() -> None:
    """OPEN_ORDER carries ``trailStopPrice`` twice; like the official decoder, the second
    (``trail_stop_price_2``) wins in ``to_order``."""
    msg = mo.OpenOrder.from_order(AAPL, MarketOrder("BUY", 1, trail_stop_price=5.0), OrderState())
    msg.trail_stop_price = 4.0
    got = decode_in(encode(msg, 200)[4:], 200)
    assert isinstance(got, mo.OpenOrder)
    assert got.to_order().trail_stop_price == 5.0
