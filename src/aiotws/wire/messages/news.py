"""News messages: providers, articles, historical headlines, news ticks and bulletins."""

from __future__ import annotations

__all__: list[str] = []
