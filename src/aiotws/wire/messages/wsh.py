"""Wall Street Horizon corporate-event messages: meta data and event data."""

from __future__ import annotations

__all__: list[str] = []
