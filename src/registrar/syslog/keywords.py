"""``q``: keyword search backed by the text index (FTS5 on SQLite, a GIN tsvector on PostgreSQL)."""

from __future__ import annotations

from registrar.errors import ValidationFailed
from registrar.store.search_text import search_tokens

__all__ = [
    "MAX_KEYWORDS",
    "MAX_KEYWORD_LENGTH",
    "fts5_query",
    "parse_keywords",
    "tsquery_text",
]

MAX_KEYWORDS = 10
MAX_KEYWORD_LENGTH = 40


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


def fts5_query(keywords: list[str]) -> str | None:
    """An FTS5 MATCH expression: every keyword as a quoted phrase, all required."""
    phrases = []
    for keyword in keywords:
        # unicode61 splits on '-' and '_' too, so a hyphenated value matches whole and by its parts.
        tokens = search_tokens(keyword)
        if tokens:
            phrases.append('"' + " ".join(tokens).replace('"', '""') + '"')
    return " AND ".join(phrases) or None


def tsquery_text(keywords: list[str]) -> list[str]:
    """The keyword texts for PostgreSQL's ``phraseto_tsquery('simple', ...)``, one per keyword."""
    return [" ".join(search_tokens(k)) for k in keywords if search_tokens(k)]
