"""A recorder of the order messages a low-level ``Client`` receives, for the simulator's
order tests (shared by test_e2e_sim_orders.py and test_e2e_sim_binding.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from aiotws import Client
from aiotws.client import ErrorInfo
from aiotws.model.order import Order
from aiotws.wire.layout import InMessage
from aiotws.wire.messages.accounts import CommissionAndFeesReport, ExecutionData, ExecutionDataEnd
from aiotws.wire.messages.orders import (
    CompletedOrder,
    CompletedOrdersEnd,
    OpenOrder,
    OpenOrderEnd,
    OrderBound,
    OrderStatusMsg,
    PlaceOrder,
    ReqAllOpenOrders,
    ReqOpenOrders,
)

GUARD = 5.0
M = TypeVar("M")
_TYPES: tuple[type[InMessage], ...] = (
    OpenOrder,
    OpenOrderEnd,
    OrderStatusMsg,
    OrderBound,
    ExecutionData,
    ExecutionDataEnd,
    CommissionAndFeesReport,
    CompletedOrder,
    CompletedOrdersEnd,
)


class Recorder:
    """Every order message and error a client receives, in order, and a way to wait."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.msgs: list[Any] = []
        self._changed = asyncio.Event()
        for t in _TYPES:
            client.on(t, self._add)
        client.errors += self._add

    def _add(self, m: object) -> None:
        self.msgs.append(m)
        self._changed.set()

    async def wait(self, pred: Callable[[Any], bool], start: int = 0) -> Any:
        async with asyncio.timeout(GUARD):
            while True:
                for m in self.msgs[start:]:
                    if pred(m):
                        return m
                self._changed.clear()
                await self._changed.wait()

    def of(self, cls: type[M], start: int = 0) -> list[M]:
        return [m for m in self.msgs[start:] if isinstance(m, cls)]

    def statuses(self, order_id: int, start: int = 0) -> list[str]:
        return [m.status for m in self.of(OrderStatusMsg, start) if m.order_id == order_id]

    def errors(self, req_id: int, start: int = 0) -> list[ErrorInfo]:
        return [e for e in self.of(ErrorInfo, start) if e.req_id == req_id]

    async def sync(self) -> int:
        """A round trip: everything the simulator sent before is recorded. Returns a mark."""
        async with asyncio.timeout(GUARD):
            await self.client.req_managed_accounts()
        return len(self.msgs)

    def place(self, contract: Any, order: Order) -> int:
        oid = self.client.next_id()
        self.client.send(PlaceOrder.from_order(oid, contract, order))
        return oid

    async def open_orders(self, msg: ReqOpenOrders | ReqAllOpenOrders | None = None) -> int:
        """Send REQ_OPEN_ORDERS (or ``msg``) and wait for its OPEN_ORDER_END; returns the
        mark before it."""
        mark = len(self.msgs)
        self.client.send(msg or ReqOpenOrders())
        await self.wait(lambda m: isinstance(m, OpenOrderEnd), mark)
        return mark
