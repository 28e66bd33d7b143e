"""``q``: keyword search backed by the text index (FTS5 on SQLite, a GIN tsvector on PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from registrar.errors import ValidationFailed

__all__ = [
    "MAX_KEYWORDS",
    "MAX_KEYWORD_LENGTH",
    "fts5_query",
    "parse_keywords",
    "search_document",
    "tsquery_text",
]

MAX_KEYWORDS = 10
MAX_KEYWORD_LENGTH = 40
# Everything but letters, digits, '-' and '_' separates tokens, on both engines alike.
_SEPARATORS = re.compile(r"[^\w\-]+", re.UNICODE)


def parse_keywords(q: str | None) -> list[str]:
    """The keywords of ``q`` (empty or absent means none), validated as Okta validates them."""
    if not q:
        return []
    keywords = q.split()
    if any(len(k) > MAX_KEYWORD_LENGTH for k in keywords):
        raise ValidationFailed(
            ["q: Freeform search cannot contain items longer than 40 characters."],
            summary="Api validation failed: 'q': Freeform search cannot contain items longer than 40 "
            "characters. "
            "Please shorten the items in your search or use an advanced filter to query by specific fields.",
        )
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationFailed(
            ["q: Freeform search cannot contain more than 10 items."],
            summary="Api validation failed: 'q': Freeform search cannot contain more than 10 items. "
            "Please use an advanced filter to query by specific fields.",
        )
    return keywords


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def search_document(event: dict[str, Any]) -> str:
    """The text indexed for an event: its attribute values (not its keys), tokens separated alike."""
    return _SEPARATORS.sub(" ", " ".join(_strings(event)))


def _tokens(keyword: str) -> list[str]:
    return [t for t in _SEPARATORS.sub(" ", keyword).split() if t]


def fts5_query(keywords: list[str]) -> str | None:
    """An FTS5 MATCH expression: every keyword as a quoted phrase, all required."""
    phrases = []
    for keyword in keywords:
        # unicode61 splits on '-' and '_' too, so a hyphenated value matches whole and by its parts.
        tokens = _tokens(keyword)
        if tokens:
            phrases.append('"' + " ".join(tokens).replace('"', '""') + '"')
    return " AND ".join(phrases) or None


def tsquery_text(keywords: list[str]) -> list[str]:
    """The keyword texts for PostgreSQL's ``phraseto_tsquery('simple', ...)``, one per keyword."""
    return [" ".join(_tokens(k)) for k in keywords if _tokens(k)]
