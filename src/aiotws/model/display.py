"""Display groups and vendor verification: the small records of those requests.

A *display group* is one of TWS's colour-linked window groups (ids 1..7). Its selection
travels as ``contractInfo`` text: ``"<conId>@<exchange>"`` for one contract (``265598@SMART``),
``"none"`` for an empty selection, ``"combo"`` for a combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiotws.model.contract import Contract

__all__ = [
    "DISPLAY_GROUP_IDS",
    "DisplayGroupSelection",
    "VerifyChallenge",
    "VerifyOutcome",
    "contract_info_of",
]

#: the colour groups TWS has (its display groups 1..7)
DISPLAY_GROUP_IDS: Final = tuple(range(1, 8))


@dataclass(frozen=True, slots=True)
class DisplayGroupSelection:
    """A display group's selection, parsed from its ``contractInfo`` text.

    ``con_id`` / ``exchange`` are set for one contract; ``is_empty`` for ``"none"``,
    ``is_combo`` for ``"combo"``; any other text keeps only ``text``.
    """

    text: str
    con_id: int | None = None
    exchange: str = ""

    @property
    def is_empty(self) -> bool:
        return self.text.strip().lower() in ("", "none")

    @property
    def is_combo(self) -> bool:
        return self.text.strip().lower() == "combo"

    @classmethod
    def parse(cls, text: str) -> DisplayGroupSelection:
        head, sep, exchange = text.strip().partition("@")
        if sep and head.isdigit():
            return cls(text, int(head), exchange)
        return cls(text)

    def contract(self) -> Contract | None:
        """The selected contract as ``Contract(con_id=…, exchange=…)`` (qualify it for the
        rest), or ``None`` for none or a combo."""
        if self.con_id is None:
            return None
        return Contract(con_id=self.con_id, exchange=self.exchange)


def contract_info_of(contract: Contract | str | None) -> str:
    """The ``contractInfo`` text for ``contract``: ``"<conId>@<exchange>"`` (exchange
    ``SMART`` when the contract has none), ``"none"`` for ``None``; text passes through.

    Raises ``ValueError`` for a contract without ``con_id`` (qualify it first).
    """
    if contract is None:
        return "none"
    if isinstance(contract, str):
        return contract
    if not contract.con_id:
        raise ValueError(
            f"a display group takes a qualified contract (con_id set); got {contract!r}"
        )
    return f"{contract.con_id}@{contract.exchange or 'SMART'}"


@dataclass(frozen=True, slots=True)
class VerifyChallenge:
    """TWS's challenge in a vendor verification (VERIFY_MESSAGE_API, or with
    ``xyz_challenge`` VERIFY_AND_AUTH_MESSAGE_API): answer it with ``verify_message``."""

    api_data: str
    xyz_challenge: str = ""


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """The end of a vendor verification (VERIFY_COMPLETED / VERIFY_AND_AUTH_COMPLETED)."""

    successful: bool
    error_text: str = ""
