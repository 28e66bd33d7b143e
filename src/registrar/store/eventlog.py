"""Appending to the audit log: ``seq`` and ``published`` in commit order, stored bytes, the hash chain and
the Merkle tree (the leaf hashes and every subtree they complete, O(log n) per event, same transaction)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from registrar.events.builder import canonical_bytes
from registrar.ids import format_timestamp, utcnow
from registrar.tlog._tree import append_leaves, leaf_hash, pack_frontier, unpack_frontier

from ._sql import Sql
from .search_text import search_document

__all__ = ["Clock", "append_events", "append_history", "chain_hash"]

Clock = Callable[[], datetime]
"""Where ``published`` comes from: the wall clock, or a test's."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# The append's statements (registrar.store.schema names the tables and columns), built once.
_LOCK_HEAD = Sql(
    "SELECT seq, hash, published_ms, frontier FROM log_head WHERE singleton = 1 FOR UPDATE",
    sqlite="SELECT seq, hash, published_ms, frontier FROM log_head WHERE singleton = 1",
)
_INSERT_EVENT = Sql(
    "INSERT INTO log_events (seq, uuid, published_ms, event_type, severity, outcome_result, actor_id,"
    " transaction_id, body, prev_hash, hash) VALUES (:seq, :uuid, :published_ms, :event_type, :severity,"
    " :outcome_result, :actor_id, :transaction_id, :body, :prev_hash, :hash)"
)
_INSERT_TARGET = Sql(
    "INSERT INTO log_event_targets (seq, position, target_id, target_type, event_type)"
    " VALUES (:seq, :position, :target_id, :target_type, :event_type)"
)
_INSERT_DOCUMENT = Sql(
    "INSERT INTO log_event_search (seq, document) VALUES (:seq, to_tsvector('simple', :document))",
    sqlite="INSERT INTO log_event_fts (rowid, document) VALUES (:seq, :document)",
)
_INSERT_NODE = Sql("INSERT INTO tlog_nodes (level, idx, hash) VALUES (:level, :idx, :hash)")
_UPDATE_HEAD = Sql(
    "UPDATE log_head SET seq = :seq, hash = :hash, published_ms = :published_ms, frontier = :frontier"
    " WHERE singleton = 1"
)


def chain_hash(prev_hash: str, body: bytes) -> str:
    """The hash of an event: SHA-256 over its predecessor's hash and its canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def _epoch_ms(moment: datetime) -> int:
    # Integer arithmetic: the column and the body's ``.SSS`` then name the same millisecond.
    return (moment - _EPOCH) // _MS


def append_events(conn: Connection, events: Sequence[dict[str, Any]], *, clock: Clock = utcnow) -> None:
    """Stamp ``events`` (built by ``build_event``) and append them inside the caller's transaction.

    Locks the log head until the transaction ends, so sequence numbers are handed out in the order
    transactions commit and a reader's snapshot always holds a gap-free prefix of the log. ``published``
    is read from ``clock`` only once the lock is held, and never earlier than the last published time
    the head remembers: in log order ``published`` never decreases, whatever the writers' timing or a
    clock stepping back. Each event's ``published`` field is overwritten with that time before its bytes
    are made. The lock is taken last, after the resource writes, to keep it held as briefly as possible.
    """
    if not events:
        return
    head = _lock_head(conn)
    published_ms = max(_epoch_ms(clock()), int(head.published_ms))
    _write(conn, head, [(event, published_ms) for event in events])


def append_history(conn: Connection, events: Sequence[tuple[dict[str, Any], datetime]]) -> None:
    """Append ``(event, published)`` pairs that carry their own times (a history loaded by a benchmark
    or a test); nothing that records an operation calls this.

    The times are taken as given, unordered ones included (a log written before the head remembered
    ``published``); the head keeps the latest, so later ``append_events`` never go before any of them.
    """
    if not events:
        return
    _write(conn, _lock_head(conn), [(event, _epoch_ms(published)) for event, published in events])


def _lock_head(conn: Connection) -> Any:
    return _LOCK_HEAD.run(conn).one()


def _write(conn: Connection, head: Any, stamped: Sequence[tuple[dict[str, Any], int]]) -> None:
    seq, prev, last_ms = int(head.seq), str(head.hash), int(head.published_ms)
    rows: list[dict[str, Any]] = []
    target_rows: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    for event, published_ms in stamped:
        seq += 1
        event["published"] = format_timestamp(_EPOCH + published_ms * _MS)
        body = canonical_bytes(event)
        digest = chain_hash(prev, body)
        rows.append(
            {
                "seq": seq,
                "uuid": event["uuid"],
                "published_ms": published_ms,
                "event_type": event["eventType"],
                "severity": event["severity"],
                "outcome_result": event["outcome"]["result"],
                "actor_id": event["actor"]["id"],
                "transaction_id": event["transaction"]["id"],
                "body": body.decode(),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        for position, tgt in enumerate(event.get("target") or ()):
            target_rows.append(
                {
                    "seq": seq,
                    "position": position,
                    "target_id": tgt["id"],
                    "target_type": tgt["type"],
                    "event_type": event["eventType"],
                }
            )
        documents.append({"seq": seq, "document": search_document(body)})
        leaves.append(leaf_hash(body))
        prev = digest
        last_ms = max(last_ms, published_ms)
    _INSERT_EVENT.run(conn, rows)
    if target_rows:
        _INSERT_TARGET.run(conn, target_rows)
    _INSERT_DOCUMENT.run(conn, documents)
    frontier, nodes = append_leaves(unpack_frontier(head.frontier, int(head.seq)), leaves)
    if nodes:  # always, outside bench_tlog's "without the tree" arm
        _INSERT_NODE.run(conn, [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes])
    _UPDATE_HEAD.run(
        conn, {"seq": seq, "hash": prev, "published_ms": last_ms, "frontier": pack_frontier(frontier)}
    )
