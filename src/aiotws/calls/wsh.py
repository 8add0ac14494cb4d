"""Wall Street Horizon: corporate-event meta data and event data."""

from __future__ import annotations

from aiotws.calls.base import CoreBase

__all__ = ["WshCalls"]


class WshCalls(CoreBase):
    """Wall Street Horizon: corporate-event meta data and event data."""

    def _init_wsh(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
