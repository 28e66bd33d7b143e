"""Reading the whole log (or one tree level) in key order, a batch at a time: what every check walks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection, Row

from registrar.store.schema import log_events, tlog_nodes

__all__ = ["event_batches", "level_nodes"]

BATCH = 5000


def _batches(
    conn: Connection,
    key: ColumnElement[Any],
    columns: tuple[Any, ...],
    after: int,
    where: tuple[Any, ...] = (),
) -> Iterator[list[Row[Any]]]:
    cursor = after
    while True:
        rows = list(
            conn.execute(select(key, *columns).where(key > cursor, *where).order_by(key).limit(BATCH))
        )
        if not rows:
            return
        yield rows
        cursor = int(rows[-1][0])


def event_batches(conn: Connection, *columns: Any, after_seq: int = 0) -> Iterator[list[Row[Any]]]:
    """The events after ``after_seq`` in ``seq`` order, ``BATCH`` rows at a time: ``seq`` then ``columns``."""
    return _batches(conn, log_events.c.seq, columns, after_seq)


def level_nodes(conn: Connection, level: int) -> Iterator[tuple[int, bytes]]:
    """The stored tree nodes of ``level`` in index order, as ``(index, hash)``."""
    for rows in _batches(conn, tlog_nodes.c.idx, (tlog_nodes.c.hash,), -1, (tlog_nodes.c.level == level,)):
        for row in rows:
            yield int(row.idx), bytes(row.hash)
