"""Retention: how long events are kept (default 90 days, lockable), and the purge.

A purge removes a prefix of the log, never a hole, and only whole tlog-tiles entry bundles (256 events):
the retained log then starts at ``first_seq`` and its first event chains to ``anchor_hash`` (the hash of
the last purged event), which a signed checkpoint made in the same transaction vouches for, so
``registrar verify`` still proves the retained log intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Connection

from registrar.errors import Conflict, ValidationFailed
from registrar.ids import utcnow
from registrar.store.schema import installation, log_event_targets, log_events, log_head
from registrar.store.search_text import search_document

from .checkpoints import create_checkpoint
from .signing import Signer

__all__ = ["RetentionPolicy", "get_policy", "purge", "set_policy"]

MAX_DAYS = 36_500
ENTRY_BUNDLE_SIZE = 256  # leaves per tlog-tiles entry bundle


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    days: int
    locked: bool


def get_policy(conn: Connection) -> RetentionPolicy:
    """The installation's retention policy."""
    row = conn.execute(select(installation.c.retention_days, installation.c.retention_locked)).one()
    return RetentionPolicy(days=int(row.retention_days), locked=bool(row.retention_locked))


def set_policy(conn: Connection, days: int, *, lock: bool = False) -> RetentionPolicy:
    """Change the retention period; once locked it can only grow, and the lock cannot be lifted."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed([f"days: must be between 1 and {MAX_DAYS}"])
    current = get_policy(conn)
    if current.locked and days < current.days:
        raise Conflict(f"Retention is locked at {current.days} days and can only grow.")
    policy = RetentionPolicy(days=days, locked=current.locked or lock)
    conn.execute(update(installation).values(retention_days=policy.days, retention_locked=policy.locked))
    return policy


def purge(conn: Connection, signer: Signer, org_id: str, *, batch: int = 10_000) -> int:
    """Delete the events older than the retention period (a prefix of the log); returns how many."""
    policy = get_policy(conn)
    cutoff_ms = int((utcnow() - timedelta(days=policy.days)).timestamp() * 1000)
    head = conn.execute(select(log_head).where(log_head.c.singleton == 1).with_for_update()).one()
    # The retained log starts at the first event still inside the window; everything before it goes.
    keep_from = conn.execute(
        select(func.min(log_events.c.seq)).where(
            log_events.c.published_ms >= cutoff_ms, log_events.c.seq >= head.first_seq
        )
    ).scalar()
    new_first = int(keep_from) if keep_from is not None else int(head.seq) + 1
    # Only whole entry bundles go: tlog-tiles serves every bundle that holds an entry at or above the
    # minimum index in full, so the retained log starts on a bundle boundary (leaf index a multiple of 256).
    # Up to 255 expired events are therefore kept until their bundle has expired entirely.
    new_first = (new_first - 1) // ENTRY_BUNDLE_SIZE * ENTRY_BUNDLE_SIZE + 1
    if new_first <= head.first_seq:
        return 0
    anchor = conn.execute(select(log_events.c.hash).where(log_events.c.seq == new_first - 1)).scalar_one()
    removed = 0
    low = int(head.first_seq)
    while low < new_first:
        high = min(low + batch, new_first)
        _delete_range(conn, low, high)
        removed += high - low
        low = high
    conn.execute(
        update(log_head).where(log_head.c.singleton == 1).values(first_seq=new_first, anchor_hash=anchor)
    )
    create_checkpoint(conn, signer, org_id)
    return removed


def _delete_range(conn: Connection, low: int, high: int) -> None:
    in_range = (log_events.c.seq >= low) & (log_events.c.seq < high)
    conn.execute(
        delete(log_event_targets).where(log_event_targets.c.seq >= low, log_event_targets.c.seq < high)
    )
    if conn.dialect.name == "sqlite":
        # The FTS5 index is contentless: deleting a row needs the document it was indexed with.
        documents = [
            {"seq": seq, "document": search_document(body.encode())}
            for seq, body in conn.execute(select(log_events.c.seq, log_events.c.body).where(in_range))
        ]
        if documents:
            conn.execute(
                text(
                    "INSERT INTO log_event_fts(log_event_fts, rowid, document) "
                    "VALUES ('delete', :seq, :document)"
                ),
                documents,
            )
    else:
        conn.execute(
            text("DELETE FROM log_event_search WHERE seq >= :low AND seq < :high"), {"low": low, "high": high}
        )
    conn.execute(delete(log_events).where(in_range))
