"""What ``registrar verify`` reports: one :class:`Finding` per thing found wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding", "Kind"]

Kind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "altered",
    "head",
    "checkpoint",
    "key",
    "reconcile",
    "tree",
    "column",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found wrong; ``seq`` is the event concerned (None for checkpoints, the head, the tree)."""

    kind: Kind
    seq: int | None
    message: str
