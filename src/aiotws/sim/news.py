"""The simulator's news: providers, articles, headlines, news ticks, bulletins."""

from __future__ import annotations
