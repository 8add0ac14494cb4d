"""Financial advisors: reading and replacing FA groups and profiles."""

from __future__ import annotations

from aiotws.calls.base import CoreBase

__all__ = ["AdvisorCalls"]


class AdvisorCalls(CoreBase):
    """Financial advisors: reading and replacing FA groups and profiles."""

    def _init_advisor(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
