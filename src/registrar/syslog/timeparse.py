"""Lenient ISO 8601 timestamps, as the System Log's clients send them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["parse_timestamp"]

# A '+' offset sent unencoded in a query string arrives as a space: "2017-06-10T00:00:00 00:00".
_SPACE_OFFSET = re.compile(r"^(.*[0-9])[ ]([0-9]{2}:?[0-9]{2})$")


def parse_timestamp(text: str) -> datetime | None:
    """An aware UTC datetime for ``text`` (``Z``, offsets, none, 0-6+ fraction digits, date only), or None.

    None too for a time whose UTC instant falls outside years 1..9999 (``0001-01-01T00:00:00+14:00``):
    Okta answers 400 for those, and nothing downstream could represent them.
    """
    text = text.strip()
    if not text or len(text) > 64:
        return None
    match = _SPACE_OFFSET.match(text)
    if match and "T" in text:
        text = f"{match[1]}+{match[2]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # No offset: Okta reads it as UTC (pullers store naive isoformat() checkpoints).
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None
