"""Claiming a hook's next batch and settling it: the database half of a delivery attempt.

The event log is the outbox. Its sequence numbers are gap-free and handed out in commit order, so a hook's
position is one number, ``cursor_seq``: everything at or below it has been dealt with. An attempt is
two short transactions around an HTTP call that runs outside any transaction:

1. :func:`claim` picks one due hook with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; on SQLite, ``BEGIN
   IMMEDIATE`` serializes claims instead), fixes its batch as the range ``(cursor_seq, pending_upto_seq]``
   with a stable event id (so a retry resends the same envelope), reads the events' stored bytes and
   takes a lease that keeps every other worker off the hook.
2. :func:`settle` re-checks that the lease is still this worker's and the batch still pending (a replay or
   a replace may have reset it), then advances the position on success, or records the failure, the next
   retry time and, after a failure window, the pause. Only then is the next batch of that hook claimable,
   so batches leave in order and never twice at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, LargeBinary, String, cast, func, literal_column, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from registrar.store.schema import event_hook_deliveries, event_hooks, log_events

from ._model import HookStatus, VerificationStatus
from ._policy import DeliveryPolicy
from ._store import head_seq, update_delivery

__all__ = ["Batch", "Settled", "Skipped", "claim", "settle"]

_D = event_hook_deliveries.c
_H = event_hooks.c
MAX_ERROR_LENGTH = 1000
# What a batch needs from the hook itself, read under the same lock as its position.
_HOOK_COLUMNS = (_H.event_types, _H.uri, _H.headers, _H.auth_key, _H.auth_value_sealed, _H.source)
SCAN_WINDOW = 10_000


@dataclass(frozen=True, slots=True)
class Batch:
    """A claimed batch: what to send where, and the lease that lets its worker settle it."""

    hook_id: str
    owner: str
    event_id: str
    event_time_ms: int
    upto_seq: int
    source: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    auth_key: str | None
    auth_sealed: bytes | None
    bodies: list[bytes]


@dataclass(frozen=True, slots=True)
class Settled:
    """What settling a batch did: nothing (the claim was lost), or its outcome and what follows."""

    applied: bool
    retry_at_ms: int | None = None  # after a failure: when the batch goes again
    paused: bool = False  # the failure completed the window: the hook is paused


@dataclass(frozen=True, slots=True)
class Skipped:
    """A hook whose position moved without a request: none of its types were committed in the range."""

    hook_id: str


def _due(now_ms: int, head: int) -> list[ColumnElement[bool]]:
    return [
        _H.status == HookStatus.ACTIVE,
        _H.verification_status == VerificationStatus.VERIFIED,
        _D.paused_ms.is_(None),
        _D.next_attempt_ms <= now_ms,
        or_(_D.lease_until_ms.is_(None), _D.lease_until_ms <= now_ms),
        _D.cursor_seq < head,
    ]


def _joined() -> Any:
    return event_hook_deliveries.join(event_hooks, _H.id == _D.hook_id)


def _anything_due(engine: Engine, now_ms: int) -> bool:
    # A look without locks first, so an idle installation never takes SQLite's write lock every poll.
    with engine.connect().execution_options(sqlite_immediate=False) as conn, conn.begin():
        head = head_seq(conn)
        found = conn.execute(select(_D.hook_id).select_from(_joined()).where(*_due(now_ms, head)).limit(1))
        return found.first() is not None


def _bodies(conn: Connection) -> ColumnElement[bytes]:
    # The stored text fetched as bytes: spliced into the envelope without decoding or re-serializing.
    if conn.dialect.name == "sqlite":
        return cast(log_events.c.body, LargeBinary)
    return func.convert_to(log_events.c.body, "UTF8")


def _event_type(conn: Connection) -> ColumnElement[str]:
    # SQLite's planner prefers the (event_type, seq) index, then sorts every match up to ``upto``: a unary
    # plus keeps it on sequence order, so LIMIT ends the scan after one batch.
    if conn.dialect.name == "sqlite":
        return literal_column("+log_events.event_type", String)
    return log_events.c.event_type


def _events(
    conn: Connection, after: int, upto: int, types: Sequence[str], limit: int | None
) -> list[tuple[int, bytes]]:
    query = (
        select(log_events.c.seq, _bodies(conn))
        .where(log_events.c.seq > after, log_events.c.seq <= upto, _event_type(conn).in_(list(types)))
        .order_by(log_events.c.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(int(seq), bytes(body)) for seq, body in conn.execute(query)]


def claim(
    engine: Engine, policy: DeliveryPolicy, now_ms: int, *, look_first: bool = True
) -> Batch | Skipped | None:
    """Claim the hook that has waited longest for its next batch; None when no hook is due.

    ``look_first`` checks without locks whether anything is due before locking; a worker draining a
    backlog (its last claim found work) skips that look.
    """
    if look_first and not _anything_due(engine, now_ms):
        return None
    with engine.begin() as conn:
        # Everything at or below the head is committed (the head row is written last, under its lock).
        head = head_seq(conn)
        row = conn.execute(
            select(event_hook_deliveries, *_HOOK_COLUMNS)
            .select_from(_joined())
            .where(*_due(now_ms, head))
            .order_by(_D.next_attempt_ms, _D.hook_id)
            .limit(1)
            .with_for_update(skip_locked=True, of=event_hook_deliveries)
        ).first()
        if row is None:
            return None
        types = orjson.loads(row.event_types)
        cursor = int(row.cursor_seq)
        if row.pending_event_id is None:
            # At most SCAN_WINDOW events are looked at per claim, however rare the hook's types are.
            window = min(head, cursor + SCAN_WINDOW)
            events = _events(conn, cursor, window, types, policy.batch_size)
            # A short batch covers the whole window: the position then moves past the events of other
            # types too, instead of scanning them again next time.
            upto = events[-1][0] if len(events) == policy.batch_size else window
            event_id, event_time_ms = str(uuid.uuid4()), now_ms
        else:
            upto, event_id = int(row.pending_upto_seq), str(row.pending_event_id)
            event_time_ms = int(row.pending_event_time_ms)
            events = _events(conn, cursor, upto, types, None)
        if not events:
            update_delivery(conn, row.hook_id, {**_NOTHING_PENDING, "cursor_seq": upto})
            return Skipped(row.hook_id)
        owner = uuid.uuid4().hex
        update_delivery(
            conn,
            row.hook_id,
            {
                "pending_upto_seq": upto,
                "pending_event_id": event_id,
                "pending_event_time_ms": event_time_ms,
                "lease_owner": owner,
                "lease_until_ms": now_ms + policy.lease_ms,
            },
        )
    return Batch(
        hook_id=row.hook_id,
        owner=owner,
        event_id=event_id,
        event_time_ms=event_time_ms,
        upto_seq=upto,
        source=row.source,
        uri=row.uri,
        headers=tuple((h["key"], h["value"]) for h in orjson.loads(row.headers)),
        auth_key=row.auth_key,
        auth_sealed=None if row.auth_value_sealed is None else bytes(row.auth_value_sealed),
        bodies=[body for _, body in events],
    )


_NOTHING_PENDING = {"pending_upto_seq": None, "pending_event_id": None, "pending_event_time_ms": None}


def settle(engine: Engine, policy: DeliveryPolicy, batch: Batch, error: str | None, now_ms: int) -> Settled:
    """Record the outcome of ``batch`` (``error`` None for a 2xx).

    Not applied when the hook was deleted or its lease lapsed and another worker took it over (the events
    went out; that worker sends them again: at least once). A batch that a replay or replace reset while it
    was in flight releases the lease and changes nothing else.
    """
    with engine.begin() as conn:
        row = conn.execute(
            select(event_hook_deliveries).where(_D.hook_id == batch.hook_id).with_for_update()
        ).first()
        if row is None or row.lease_owner != batch.owner:
            return Settled(applied=False)
        values: dict[str, Any] = {"lease_owner": None, "lease_until_ms": None}
        retry_at: int | None = None
        paused = False
        if row.pending_event_id == batch.event_id and error is None:
            values |= _NOTHING_PENDING | {
                "cursor_seq": batch.upto_seq,
                "consecutive_failures": 0,
                "failing_since_ms": None,
                "last_success_ms": now_ms,
                "next_attempt_ms": now_ms,
            }
        elif row.pending_event_id == batch.event_id:
            failures = int(row.consecutive_failures) + 1
            since = now_ms if row.failing_since_ms is None else int(row.failing_since_ms)
            retry_at = now_ms + policy.retry_delay_ms(failures)
            values |= {
                "consecutive_failures": failures,
                "failing_since_ms": since,
                "last_error": (error or "")[:MAX_ERROR_LENGTH],
                "last_error_ms": now_ms,
                "next_attempt_ms": retry_at,
            }
            if now_ms - since >= policy.pause_after_ms:
                values["paused_ms"] = now_ms
                paused = True
        update_delivery(conn, batch.hook_id, values)
    return Settled(applied=True, retry_at_ms=retry_at, paused=paused)
