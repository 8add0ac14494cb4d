"""Market scanners: the parameters XML and live scanner subscriptions."""

from __future__ import annotations

from aiotws.calls.base import CoreBase

__all__ = ["ScannerCalls"]


class ScannerCalls(CoreBase):
    """Market scanners: the parameters XML and live scanner subscriptions."""

    def _init_scanner(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
