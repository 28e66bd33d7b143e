"""Whole numbers in request parameters: ASCII digits only, bounded, or a 400 that names the parameter.

``str.isdigit()`` says yes to superscripts (``"²"``) that ``int()`` then refuses, and ``int()`` itself takes
what no client means to send (``"٣"``, ``" 7"``, ``"1_0"``, ``"+5"``). Every integer a request carries is
read here, with one rule: 1 to 19 ASCII digits, then the range check, so no value can overflow a 64-bit
SQL integer further down.
"""

from __future__ import annotations

import re

from registrar.errors import ValidationFailed

__all__ = ["INT64_MAX", "ascii_int", "bounded_int"]

INT64_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def ascii_int(raw: str) -> int | None:
    """``raw`` as a whole number when it is 1 to 19 ASCII digits (a header, a CLI argument), else None."""
    return int(raw) if _DIGITS.fullmatch(raw) is not None else None


def bounded_int(
    raw: str | None, name: str, *, low: int, high: int, default: int, cause: str | None = None
) -> int:
    """``raw`` as an integer in ``low..high``; ``default`` when absent or empty; else a 400 naming ``name``.

    ``cause`` replaces the default "must be an integer between" sentence (it should start with ``name:``).
    """
    if raw is None or raw == "":
        return default
    if _DIGITS.fullmatch(raw) is not None:  # fullmatch: "$" would let a trailing newline through
        value = int(raw)
        if low <= value <= high:
            return value
    raise ValidationFailed([cause or f"{name}: must be an integer between {low} and {high}"])
