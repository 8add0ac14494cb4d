"""Display groups (TWS's colour-linked windows) and the verify/auth handshake messages."""

from __future__ import annotations

__all__: list[str] = []
