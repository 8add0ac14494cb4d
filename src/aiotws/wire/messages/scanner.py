"""Market scanner messages: parameters (XML), subscriptions and their results."""

from __future__ import annotations

__all__: list[str] = []
