"""An event's JSON, indented and marked up for colour (keys, strings, numbers, literals), HTML-escaped.

Nothing invisible is shown raw: orjson escapes C0 control characters, and DEL, C1 and the bidirectional /
line-separator format characters (which JSON allows raw) are written as ``\\uXXXX`` escapes too, so the
view is still the event's JSON, value for value.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from markupsafe import Markup, escape

__all__ = ["highlight_json", "visible_json"]

_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
)

_INVISIBLE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible_json(value: Any) -> str:
    """``value`` as indented JSON whose every character is visible (the same value, still valid JSON)."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def highlight_json(value: Any) -> Markup:
    """``value`` as indented JSON in ``<span class="j-…">`` tokens; every piece of text is escaped."""
    text = visible_json(value)
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(str(escape(text[position : match.start()])))
        kind = match.lastgroup or "str"
        out.append(f'<span class="j-{kind}">{escape(match.group())}</span>')
        position = match.end()
    out.append(str(escape(text[position:])))
    return Markup("".join(out))  # noqa: S704 - built from escaped pieces only
