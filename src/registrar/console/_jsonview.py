"""An event's JSON, indented and marked up for colour (keys, strings, numbers, literals), HTML-escaped."""

from __future__ import annotations

import re
from typing import Any

import orjson
from markupsafe import Markup, escape

__all__ = ["highlight_json"]

_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)'
    r'|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
)


def highlight_json(value: Any) -> Markup:
    """``value`` as indented JSON in ``<span class="j-…">`` tokens; every piece of text is escaped."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(str(escape(text[position : match.start()])))
        kind = match.lastgroup or "str"
        out.append(f'<span class="j-{kind}">{escape(match.group())}</span>')
        position = match.end()
    out.append(str(escape(text[position:])))
    return Markup("".join(out))  # noqa: S704 - built from escaped pieces only
