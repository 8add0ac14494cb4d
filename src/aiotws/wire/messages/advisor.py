"""Financial-advisor messages: REQUEST_FA / RECEIVE_FA / REPLACE_FA / REPLACE_FA_END."""

from __future__ import annotations

__all__: list[str] = []
