"""Reading one member of a JSON text column in SQL, on either backend (for search filters)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import cast

__all__ = ["json_text"]


def json_text(dialect: str, column: ColumnElement[Any], member: str) -> ColumnElement[Any]:
    """The text of the top-level string ``member`` of the JSON held by ``column`` (NULL when absent)."""
    if dialect == "sqlite":
        return func.json_extract(column, "$." + member)
    return func.jsonb_extract_path_text(cast(column, JSONB), member)
