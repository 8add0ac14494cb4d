"""The simulator's financial-advisor account: groups, profiles, allocation of FA orders."""

from __future__ import annotations
