"""The simulator's Wall Street Horizon events: meta data and deterministic event data."""

from __future__ import annotations
