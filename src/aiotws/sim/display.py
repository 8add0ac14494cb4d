"""The simulator's display groups and its answers to the verify/auth messages."""

from __future__ import annotations
