"""Text that came from outside: control characters found, replaced before storage, escaped for display;
lengths capped.

Three uses, one vocabulary. *Control characters* are C0 (U+0000-U+001F, NUL included), DEL (U+007F) and
C1 (U+0080-U+009F): a terminal acts on them (``ESC [2J`` clears the screen, ``ESC ]0;…BEL`` retitles the
window, U+009B is a one-character CSI), PostgreSQL cannot store NUL, and none of them is ever part of a
name, a scope or a URL.

- ``control_problem`` says why a value from a remote document or a form is refused.
- ``replace_controls`` is what events store: each control character becomes U+FFFD, except TAB, LF and
  CR, which an admin's description may legitimately hold (they are JSON-escaped in the stored bytes and
  escaped again by every renderer). Lone surrogates, which cannot be encoded as UTF-8, become U+FFFD too.
- ``truncate`` cuts a string to a documented length, ending it in "…" so that the cut shows.
- ``escape_controls`` is what a terminal or a page shows: every control character (TAB, LF and CR too)
  and the invisible bidirectional / line-separator format characters, written as visible ``\\x1b``,
  ``\\n``, ``\\u202e`` escapes. The text around them is unchanged (a backslash stays a backslash).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, overload

__all__ = [
    "ELLIPSIS",
    "clean_value",
    "control_problem",
    "escape_controls",
    "has_controls",
    "replace_controls",
    "truncate",
]

REPLACEMENT = "\ufffd"
ELLIPSIS = "\u2026"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_STORED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SHOWN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SHOWN_IN_FORMS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a control character (C0 with NUL, DEL, C1)."""
    return _CONTROL.search(text) is not None


def control_problem(text: str, max_length: int) -> str | None:
    """Why ``text`` is not acceptable as one line of outside text, or None (the caller names the field)."""
    if has_controls(text):
        return "must not contain control characters"
    if len(text) > max_length:
        return f"must be at most {max_length} characters"
    return None


@overload
def truncate(text: str, limit: int) -> str: ...
@overload
def truncate(text: None, limit: int) -> None: ...
def truncate(text: str | None, limit: int) -> str | None:
    """``text`` at most ``limit`` characters long; a cut one ends in "…" (within the limit)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def replace_controls(text: str) -> str:
    """``text`` as an event stores it: control characters (but TAB, LF, CR) and lone surrogates → U+FFFD."""
    if _STORED.search(text) is None:  # the common case: no new string
        return text
    return _STORED.sub(REPLACEMENT, text)


def clean_value(value: Any) -> Any:
    """A JSON-like value with every string and key through ``replace_controls`` (tuples become lists)."""
    if isinstance(value, str):
        return replace_controls(value)
    if isinstance(value, Mapping):
        return {replace_controls(str(key)): clean_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(item) for item in value]
    return value


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_line_breaks: bool = False) -> str:
    """``text`` safe for a terminal or a page: control and invisible format characters as visible escapes.

    ``keep_line_breaks`` leaves TAB, LF and CR as they are (a form field that must round-trip them).
    """
    pattern = _SHOWN_IN_FORMS if keep_line_breaks else _SHOWN
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)
