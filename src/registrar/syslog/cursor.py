"""System Log cursors: ``<published epoch ms>_<sequence>``, the shape Okta's own cursors have.

Self-contained and URL-safe (digits and one underscore), valid as long as the event it names is retained:
polling resumes after the sequence number, bounded queries after the ``(published, sequence)`` pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registrar.errors import ValidationFailed

__all__ = ["Cursor", "parse_cursor"]

_SHAPE = re.compile(r"([0-9]{1,15})_([0-9]{1,18})")


@dataclass(frozen=True, slots=True)
class Cursor:
    published_ms: int
    seq: int

    def __str__(self) -> str:
        return f"{self.published_ms}_{self.seq}"


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        ["after: The cursor is not valid. Use the after value of a next link from this server."]
    )


def parse_cursor(text: str, head_seq: int) -> Cursor:
    """The cursor ``text`` names; a garbled cursor, or one past the end of the log, is a 400."""
    match = _SHAPE.fullmatch(text)  # not match(): "$" would let a trailing newline through
    if match is None:
        raise _invalid()
    cursor = Cursor(int(match[1]), int(match[2]))
    if cursor.seq > head_seq:
        raise _invalid()
    return cursor
