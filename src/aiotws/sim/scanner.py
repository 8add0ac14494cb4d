"""The simulator's market scanners: parameters XML and scan results over the universe."""

from __future__ import annotations
