"""Orders: placing, modifying and cancelling, live trades, executions and completed orders.

(Skeleton: filled in by the orders work of issue 6.)
"""

from __future__ import annotations

__all__ = ["OrderCalls"]


class OrderCalls:
    """Order requests and the live trades they keep."""

    def _init_orders(self) -> None:
        """Called once from ``Client.__init__``."""
