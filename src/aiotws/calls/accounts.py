"""Accounts, positions, portfolio and PnL: the client's live account state.

(Skeleton: filled in by the accounts work of issue 6.)
"""

from __future__ import annotations

__all__ = ["AccountCalls"]


class AccountCalls:
    """Account requests and the live account state they keep."""

    def _init_accounts(self) -> None:
        """Called once from ``Client.__init__``."""
