"""Reading a System Log page: the stored bytes, in commit or ``published`` order, and the next cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Engine,
    LargeBinary,
    Select,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from registrar.store.replica import Horizon, ReplicaBehind
from registrar.store.schema import log_events, log_head

from .cursor import Cursor, parse_cursor
from .fields import event_fields
from .filter import compile_filter
from .keywords import fts5_query, tsquery_text
from .query import LogQuery

__all__ = ["Page", "Span", "read_page"]

_FTS = table("log_event_fts", literal_column("rowid"))
_FTS_ROWID: ColumnElement[Any] = literal_column("log_event_fts.rowid")
_SEARCH = table("log_event_search", literal_column("seq"), literal_column("document"))

# Where a first polling page (``since``, no cursor) starts in sequence order, on SQLite. Without statistics
# SQLite answers ``published_ms >= :since ORDER BY seq`` by walking the log in sequence order from its
# first event, reading every older event's row: seconds for a recent ``since`` (the 7-day default) over
# a million events. The first event in ``published`` order is one index seek; an earlier-committed event
# published at or after ``since`` (commit order is not ``published`` order) can only be ruled out by
# reading the (published_ms, seq) index to its end, so that is done when it is the cheaper of the two.
_FIRST_PUBLISHED = text(
    "SELECT seq FROM log_events WHERE published_ms >= :since ORDER BY published_ms, seq LIMIT 1"
)
_MIN_SEQ_PUBLISHED = text(
    "SELECT min(seq) FROM log_events INDEXED BY ix_log_events_published WHERE published_ms >= :since"
)
# Index entries read per event row skipped, at equal cost: ~70 ns per entry of the (published_ms, seq)
# index, ~1.7 us per skipped ~2 KB row (measured on 1M events). Either way a first page then costs at most
# ~70 ms per million events, where walking from the start cost up to 4 s.
_INDEX_ENTRIES_PER_ROW = 24


# Bigger than any sequence number: a cursor is checked against the replica's head by the reader itself.
_ANY_SEQ = 10**18


@dataclass(frozen=True, slots=True)
class Span:
    """Where an immutable page lies in the log: a later read may serve it again while the log still holds
    ``first_seq`` and the event at ``last_seq`` still has ``last_hash`` (the chain hash covers every event
    up to it, so an altered, restored or re-grown log shows there)."""

    first_seq: int
    last_seq: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class Page:
    """The events of a page as their stored JSON bytes, and the cursor of the next page (if any)."""

    bodies: list[bytes]
    next_cursor: Cursor | None
    # Set on a full polling page (``limit`` events, all committed): the page can never change.
    span: Span | None = None


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def _body(dialect: str) -> ColumnElement[bytes]:
    # Fetch the stored text as bytes: no decode, no re-serialization on the read path.
    if dialect == "sqlite":
        return cast(log_events.c.body, LargeBinary)
    return func.convert_to(log_events.c.body, "UTF8")


def _keyword_condition(dialect: str, keywords: list[str]) -> ColumnElement[bool] | None:
    if dialect == "sqlite":
        expression = fts5_query(keywords)
        if expression is None:
            return None
        return literal_column("log_event_fts").op("MATCH")(bindparam("fts_query", expression))
    texts = tsquery_text(keywords)
    if not texts:
        return None
    query: ColumnElement[Any] = func.phraseto_tsquery("simple", texts[0])
    for extra in texts[1:]:
        query = query.op("&&")(func.phraseto_tsquery("simple", extra))
    return literal_column("log_event_search.document").op("@@")(query)


def _snapshot(engine: Engine) -> Connection:
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn = conn.execution_options(sqlite_immediate=False)
    else:
        # One snapshot for the head and the page: the cursor then never passes an invisible event.
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def read_page(engine: Engine, query: LogQuery, *, horizon: Horizon | None = None) -> Page:
    """One page of events for ``query``.

    ``horizon`` is given on a replica (:meth:`registrar.store.replica.Reads.catch_up`): a snapshot that
    does not reach a cursor's position, the horizon, or (for a ``published`` window ending after the
    replica's newest event) the primary's head raises ``ReplicaBehind`` instead of answering. A replica's
    snapshot is a prefix of the primary's log, so what it answers otherwise is what the primary would.
    """
    dialect = engine.dialect.name
    with _snapshot(engine) as conn, conn.begin():
        head = conn.execute(select(log_head.c.seq, log_head.c.published_ms)).one()
        head_seq = int(head.seq)
        if horizon is None:
            cursor = parse_cursor(query.after, head_seq) if query.after else None
        else:
            cursor = parse_cursor(query.after, _ANY_SEQ) if query.after else None
            _check_horizon(query, horizon, cursor, head_seq, int(head.published_ms or 0))
        conditions: list[ColumnElement[bool]] = []
        if query.filter is not None:
            conditions.append(compile_filter(query.filter, event_fields(query.filter, dialect)))
        source: Any = log_events
        seq: ColumnElement[Any] = log_events.c.seq
        keyword = _keyword_condition(dialect, query.keywords)
        if keyword is not None:
            conditions.append(keyword)
            if dialect == "sqlite":
                # Drive from the FTS index in rowid (= seq) order so LIMIT stops the scan early.
                source = _FTS.join(log_events, log_events.c.seq == _FTS_ROWID)
                seq = _FTS_ROWID
            else:
                source = log_events.join(_SEARCH, literal_column("log_event_search.seq") == log_events.c.seq)
        if query.limit == 0:
            return Page([], cursor)
        if query.polling:
            return _polling(conn, query, cursor, head_seq, source, seq, conditions, dialect)
        return _bounded(conn, query, cursor, source, seq, conditions, dialect)


def _check_horizon(
    query: LogQuery, horizon: Horizon, cursor: Cursor | None, head_seq: int, head_published_ms: int
) -> None:
    if head_seq < horizon.seq:
        raise ReplicaBehind(horizon.seq)
    if cursor is not None and cursor.seq > head_seq:
        raise ReplicaBehind(cursor.seq)  # handed out by the primary, or by a replica further ahead
    if not query.polling and not horizon.synced:
        assert query.until is not None
        # ``published`` never decreases in log order: events the replica has not replayed were published
        # at or after its newest one, so a window ending no later than that is complete here; a later end
        # needs every event the primary has committed.
        if _ms(query.until) > head_published_ms:
            raise ReplicaBehind(None)


def _polling(
    conn: Connection,
    query: LogQuery,
    cursor: Cursor | None,
    head_seq: int,
    source: Any,
    seq: ColumnElement[Any],
    conditions: list[ColumnElement[bool]],
    dialect: str,
) -> Page:
    rows: Sequence[Any] = ()
    if cursor is not None:
        conditions.append(seq > cursor.seq)  # `after` wins over `since`
        start: int | None = 0
    else:
        since_ms = _ms(query.since)
        conditions.append(log_events.c.published_ms >= since_ms)
        start = _first_seq_since(conn, since_ms, head_seq) if dialect == "sqlite" else 0
        if start:
            conditions.append(seq >= start)
    if start is not None:
        rows = _fetch(
            conn,
            select(seq, log_events.c.published_ms, _body(dialect))
            .select_from(source)
            .where(*conditions)
            .order_by(seq)
            .limit(query.limit),
        )
    if len(rows) == query.limit:
        # Every event up to the head of this snapshot is committed: this page is final.
        last_hash = conn.execute(
            select(log_events.c.hash).where(log_events.c.seq == rows[-1][0])
        ).scalar_one()
        span = Span(int(rows[0][0]), int(rows[-1][0]), str(last_hash))
        return Page([r[2] for r in rows], Cursor(rows[-1][1], rows[-1][0]), span)
    # Caught up: everything committed up to the head of this snapshot has been looked at.
    if cursor is not None and cursor.seq == head_seq:
        return Page([r[2] for r in rows], cursor)
    if rows and rows[-1][0] == head_seq:
        return Page([r[2] for r in rows], Cursor(rows[-1][1], rows[-1][0]))
    head_published = conn.execute(
        select(log_events.c.published_ms).where(log_events.c.seq == head_seq)
    ).scalar()
    return Page([r[2] for r in rows], Cursor(int(head_published or 0), head_seq))


def _bounded(
    conn: Connection,
    query: LogQuery,
    cursor: Cursor | None,
    source: Any,
    seq: ColumnElement[Any],
    conditions: list[ColumnElement[bool]],
    dialect: str,
) -> Page:
    published = log_events.c.published_ms
    assert query.until is not None
    conditions += [published >= _ms(query.since), published < _ms(query.until)]
    if cursor is not None:
        if query.descending:
            conditions.append(
                or_(published < cursor.published_ms, and_(published == cursor.published_ms, seq < cursor.seq))
            )
        else:
            conditions.append(
                or_(published > cursor.published_ms, and_(published == cursor.published_ms, seq > cursor.seq))
            )
    order = (published.desc(), seq.desc()) if query.descending else (published, seq)
    rows = _fetch(
        conn,
        select(seq, published, _body(dialect))
        .select_from(source)
        .where(*conditions)
        .order_by(*order)
        .limit(query.limit + 1),
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = Cursor(rows[-1][1], rows[-1][0]) if more and rows else None
    return Page([r[2] for r in rows], next_cursor)


def _fetch(conn: Connection, statement: Select[Any]) -> Sequence[Any]:
    """The rows as the driver returns them: ``(seq, published_ms, body bytes)``.

    The columns need no conversion; SQLAlchemy's per-row processing (``Row`` objects, the ``LargeBinary``
    processor) adds ~12 % to the SELECT of a 1,000-event page.
    """
    result = conn.execute(statement)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return rows


def _first_seq_since(conn: Connection, since_ms: int, head_seq: int) -> int | None:
    """A lower bound on the sequence numbers of events published at or after ``since_ms`` (SQLite).

    ``None`` when there are none; ``0`` when scanning from the start of the log skips few events anyway.
    """
    first = conn.execute(_FIRST_PUBLISHED, {"since": since_ms}).scalar()
    if first is None:
        return None
    if (head_seq - int(first)) > _INDEX_ENTRIES_PER_ROW * int(first):
        return 0
    return int(conn.execute(_MIN_SEQ_PUBLISHED, {"since": since_ms}).scalar_one())
