"""Statements of the hottest paths, written once and run straight on the driver.

An SQLAlchemy Core statement is built, its cache key computed and its compiled form looked up on every
execution: on the event-log append (six statements a write) that cost several times what SQLite itself
spent. A :class:`Sql` is plain SQL with ``:name`` parameters, turned once into each driver's own style
(sqlite3 takes ``:name``, psycopg ``%(name)s``) and run with ``exec_driver_sql``, which still passes the
engine's events (the statement deadline) but builds and compiles nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, CursorResult

__all__ = ["Sql"]

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement for both engines; ``sqlite`` is the SQLite spelling where it differs."""

    __slots__ = ("_postgresql", "_sqlite")

    def __init__(self, sql: str, *, sqlite: str | None = None):
        if "%" in sql:
            raise ValueError("a literal % would have to be doubled for psycopg")
        self._sqlite = sqlite or sql
        self._postgresql = _NAMED.sub(r"%(\1)s", sql)

    def run(
        self, conn: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = ()
    ) -> CursorResult[Any]:
        """Execute once (a mapping) or for each of a sequence of mappings."""
        sql = self._sqlite if conn.dialect.name == "sqlite" else self._postgresql
        return conn.exec_driver_sql(sql, params if params else None)
