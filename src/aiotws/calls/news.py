"""News: providers, articles, historical headlines, bulletins (news ticks arrive on tickers)."""

from __future__ import annotations

from aiotws.calls.base import CoreBase

__all__ = ["NewsCalls"]


class NewsCalls(CoreBase):
    """News: providers, articles, historical headlines, bulletins (news ticks arrive on tickers)."""

    def _init_news(self) -> None:
        """Register this domain's message handlers (called once by ``Client.__init__``)."""
