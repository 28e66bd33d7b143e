"""Appending to the audit log: sequence numbers in commit order, stored bytes, the hash chain."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection

from registrar.events.builder import canonical_bytes
from registrar.syslog.keywords import search_document

from .schema import log_event_targets, log_events, log_head

__all__ = ["append_events", "chain_hash"]


_INSERT_DOCUMENT = {
    True: text("INSERT INTO log_event_fts(rowid, document) VALUES (:seq, :document)"),
    False: text(
        "INSERT INTO log_event_search(seq, document) VALUES (:seq, to_tsvector('simple', :document))"
    ),
}


def chain_hash(prev_hash: str, body: bytes) -> str:
    """The hash of an event: SHA-256 over its predecessor's hash and its canonical bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def append_events(conn: Connection, events: Sequence[tuple[dict[str, Any], datetime]]) -> None:
    """Append ``(event, published)`` pairs inside the caller's transaction.

    Locks the log head until the transaction ends: sequence numbers are therefore handed out in the
    order transactions commit, and a reader's snapshot always holds a gap-free prefix of the log.
    The lock is taken last, after the resource writes, to keep it held as briefly as possible.
    """
    if not events:
        return
    head = conn.execute(
        select(log_head.c.seq, log_head.c.hash).where(log_head.c.singleton == 1).with_for_update()
    ).one()
    seq, prev = int(head.seq), str(head.hash)
    rows: list[dict[str, Any]] = []
    target_rows: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for event, published in events:
        seq += 1
        body = canonical_bytes(event)
        digest = chain_hash(prev, body)
        rows.append(
            {
                "seq": seq,
                "uuid": event["uuid"],
                "published_ms": int(published.timestamp() * 1000),
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
        prev = digest
    conn.execute(insert(log_events), rows)
    if target_rows:
        conn.execute(insert(log_event_targets), target_rows)
    conn.execute(_INSERT_DOCUMENT[conn.dialect.name == "sqlite"], documents)
    conn.execute(update(log_head).where(log_head.c.singleton == 1).values(seq=seq, hash=prev))
