"""Whether the newest events are covered by a signed tree checkpoint (what ``registrar verify`` reports).

Until a checkpoint covers an event, nothing outside the database vouches for it: it can be deleted and the
head rewritten without a trace. The checkpoint job covers new events within
``REGISTRAR_TLOG_CHECKPOINT_SECONDS``, so an event left uncovered for more than twice that long means the
job is not running (no server, jobs off, a refused key) or the checkpoints were removed; either way the
operator must know.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from registrar.store.schema import log_events
from registrar.tlog import latest_checkpoint, tree_size

from .findings import Finding

__all__ = ["checkpoint_freshness"]


def checkpoint_freshness(conn: Connection, *, now_ms: int, interval_seconds: float) -> list[Finding]:
    """A finding when the log holds events that no signed checkpoint has covered for twice ``interval``."""
    size = tree_size(conn)
    latest = latest_checkpoint(conn)
    covered = latest.size if latest is not None else 0
    if covered > size:
        return [
            Finding(
                "checkpoint",
                None,
                f"the latest signed checkpoint is for {covered} events but the log holds {size}: "
                "the log was truncated or rolled back after it was signed",
            )
        ]
    if covered == size:
        return []
    first_uncovered = conn.execute(
        select(log_events.c.published_ms).where(log_events.c.seq == covered + 1)
    ).scalar()
    if first_uncovered is None:
        return []  # purged (or deleted: the chain and the tree report that)
    age_seconds = (now_ms - int(first_uncovered)) / 1000
    allowed = 2 * interval_seconds
    if age_seconds <= allowed:
        return []
    which = (
        "no signed checkpoint covers the log"
        if latest is None
        else f"the latest checkpoint (size {covered}) is stale"
    )
    return [
        Finding(
            "checkpoint",
            covered + 1,
            f"{which}: events {covered + 1}..{size} have waited {age_seconds:.0f} s for one, more than twice "
            f"REGISTRAR_TLOG_CHECKPOINT_SECONDS ({interval_seconds:g} s); until one is signed they can be "
            "removed without a trace (is the server running, with its jobs and its current signing key?)",
        )
    ]
