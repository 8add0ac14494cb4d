"""Display groups, soft dollar tiers and the rest of the small requests."""

from __future__ import annotations

from aiotws.calls.base import CoreBase

__all__ = ["DisplayCalls"]


class DisplayCalls(CoreBase):
    """Display groups, soft dollar tiers and the rest of the small requests."""

    def _init_display(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
