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

Batches are bounded in events (``REGISTRAR_HOOK_BATCH_SIZE``) and in bytes (``REGISTRAR_HOOK_BATCH_BYTES``,
Okta's envelope included). An event is skipped, never retried forever, in exactly two cases, each recorded
in ``event_hook_skips`` with its reason: it exceeds the byte cap on its own, or the receiver answered 413
to a batch holding only that event. A 413 to a larger batch halves the body size the hook's batches are
cut to (``body_limit_bytes``, kept until the hook is activated or its URI replaced). Every other failure,
a 5xx or a timeout included, is retried with backoff.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, LargeBinary, String, cast, func, literal_column, or_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from registrar.store.schema import event_hook_deliveries, event_hooks, log_events

from ._model import HookSkip, HookStatus, VerificationStatus
from ._payload import envelope_size
from ._policy import DeliveryPolicy
from ._store import head_seq, octets, record_skip, update_delivery

__all__ = ["Batch", "Moved", "Outcome", "Settled", "claim", "settle"]

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
    owner: str  # the lease owner (a random id per claim)
    event_id: str  # the delivery's id (one per batch, kept across retries)
    event_time_ms: int
    upto_seq: int
    source: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    auth_key: str | None
    auth_sealed: bytes | None
    seqs: tuple[int, ...]
    bodies: list[bytes]
    size: int  # bytes of the whole envelope


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of posting a batch: accepted (no ``error``), refused as too large (413), or failed."""

    error: str | None = None
    too_large: bool = False


@dataclass(frozen=True, slots=True)
class Settled:
    """What settling a batch did: nothing (the claim was lost), or its outcome and what follows."""

    applied: bool
    retry_at_ms: int | None = None  # after a failure: when the batch goes again
    paused: bool = False  # the failure completed the window: the hook is paused
    skipped: HookSkip | None = None  # the receiver refused the batch's only event as too large
    narrowed_to: int | None = None  # the receiver refused a larger batch: batches are cut to this many bytes


@dataclass(frozen=True, slots=True)
class Moved:
    """A hook whose position moved without a request: nothing of its types in the range, or an event skipped.

    ``skipped`` is the record of an event too large for any batch on its own.
    """

    hook_id: str
    skipped: HookSkip | None = None


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


def _matching(conn: Connection, after: int, upto: int, types: Sequence[str]) -> list[ColumnElement[bool]]:
    return [log_events.c.seq > after, log_events.c.seq <= upto, _event_type(conn).in_(list(types))]


def _sizes(
    conn: Connection, after: int, upto: int, types: Sequence[str], limit: int
) -> list[tuple[int, int]]:
    # Sizes first, so a batch is cut by bytes without fetching bodies that will not go in it.
    query = (
        select(log_events.c.seq, octets(conn))
        .where(*_matching(conn, after, upto, types))
        .order_by(log_events.c.seq)
        .limit(limit)
    )
    return [(int(seq), int(size)) for seq, size in conn.execute(query)]


def _events(conn: Connection, after: int, upto: int, types: Sequence[str]) -> list[tuple[int, bytes]]:
    query = (
        select(log_events.c.seq, _bodies(conn))
        .where(*_matching(conn, after, upto, types))
        .order_by(log_events.c.seq)
    )
    return [(int(seq), bytes(body)) for seq, body in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where the next batch of a hook ends: ``count`` events up to ``upto``, or an event to skip."""

    upto: int
    count: int = 0
    oversized: int | None = None  # the seq of an event too large for any batch on its own
    size: int = 0  # the delivery that event alone would make, in bytes


def _cut(conn: Connection, row: Row[Any], head: int, policy: DeliveryPolicy) -> _Cut:
    cursor = int(row.cursor_seq)
    # At most SCAN_WINDOW events are looked at per claim, however rare the hook's types are.
    window = min(head, cursor + SCAN_WINDOW)
    sizes = _sizes(conn, cursor, window, orjson.loads(row.event_types), policy.batch_size)
    if not sizes:
        return _Cut(upto=window)
    first_seq, first_size = sizes[0]
    total = envelope_size(row.source, [first_size])
    if total > policy.batch_bytes:
        return _Cut(upto=first_seq, oversized=first_seq, size=total)
    # What the receiver refused before narrows the batch; an event above that is still sent once alone,
    # and skipped only when the receiver refuses it on its own too.
    limit = policy.batch_bytes
    if row.body_limit_bytes is not None:
        limit = min(limit, int(row.body_limit_bytes))
    taken = 1
    while taken < len(sizes) and total + 1 + sizes[taken][1] <= limit:  # 1: the comma between events
        total += 1 + sizes[taken][1]
        taken += 1
    # A batch that holds every match of the window covers the whole window: the position then moves past
    # the events of other types too, instead of scanning them again next time.
    full = taken == len(sizes) and len(sizes) < policy.batch_size
    return _Cut(upto=window if full else sizes[taken - 1][0], count=taken)


def claim(
    engine: Engine, policy: DeliveryPolicy, now_ms: int, *, look_first: bool = True
) -> Batch | Moved | None:
    """Claim the hook that has waited longest for its next batch; None when no hook is due.

    A batch holds at most ``batch_size`` events and ``batch_bytes`` bytes (envelope included). An event
    that does not fit on its own is skipped here, recorded with its reason, and the hook moves past it.
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
        events: list[tuple[int, bytes]] | None = None
        if row.pending_event_id is not None:
            upto, event_id = int(row.pending_upto_seq), str(row.pending_event_id)
            event_time_ms = int(row.pending_event_time_ms)
            events = _events(conn, cursor, upto, types)
            if envelope_size(row.source, [len(body) for _, body in events]) > policy.batch_bytes:
                events = None  # cut under a larger REGISTRAR_HOOK_BATCH_BYTES: cut it again
        if events is None:
            cut = _cut(conn, row, head, policy)
            if cut.oversized is not None:
                reason = (
                    f"The event alone makes a {cut.size}-byte delivery, over REGISTRAR_HOOK_BATCH_BYTES "
                    f"({policy.batch_bytes} bytes)."
                )
                skip = record_skip(conn, row.hook_id, cut.oversized, reason, now_ms)
                update_delivery(conn, row.hook_id, {**_NOTHING_PENDING, "cursor_seq": cut.upto})
                return Moved(row.hook_id, skip)
            upto, event_id, event_time_ms = cut.upto, str(uuid.uuid4()), now_ms
            events = _events(conn, cursor, upto, types) if cut.count else []
        if not events:
            update_delivery(conn, row.hook_id, {**_NOTHING_PENDING, "cursor_seq": upto})
            return Moved(row.hook_id)
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
    bodies = [body for _, body in events]
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
        seqs=tuple(seq for seq, _ in events),
        bodies=bodies,
        size=envelope_size(row.source, [len(body) for body in bodies]),
    )


_NOTHING_PENDING = {"pending_upto_seq": None, "pending_event_id": None, "pending_event_time_ms": None}


def settle(engine: Engine, policy: DeliveryPolicy, batch: Batch, outcome: Outcome, now_ms: int) -> Settled:
    """Record the ``outcome`` of ``batch``.

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
        settled = Settled(applied=True)
        if row.pending_event_id != batch.event_id:
            pass
        elif outcome.error is None:
            values |= _NOTHING_PENDING | {
                "cursor_seq": batch.upto_seq,
                "consecutive_failures": 0,
                "failing_since_ms": None,
                "last_success_ms": now_ms,
                "next_attempt_ms": now_ms,
            }
        elif outcome.too_large and len(batch.seqs) == 1:
            # The receiver's answer is final for this event: record it and move on to the next ones.
            reason = (
                f"The receiver refused the event on its own with HTTP 413 (a {batch.size}-byte delivery)."
            )
            skip = record_skip(conn, batch.hook_id, batch.seqs[0], reason, now_ms)
            values |= _NOTHING_PENDING | {"cursor_seq": batch.upto_seq, "next_attempt_ms": now_ms}
            settled = Settled(applied=True, skipped=skip)
        elif outcome.too_large:
            # Cut the batch again, smaller, at once: halving reaches what the receiver takes in a few steps.
            limit = batch.size // 2
            if row.body_limit_bytes is not None:
                limit = min(limit, int(row.body_limit_bytes))
            values |= _NOTHING_PENDING | {"body_limit_bytes": limit, "next_attempt_ms": now_ms}
            settled = Settled(applied=True, narrowed_to=limit)
        else:
            failures = int(row.consecutive_failures) + 1
            since = now_ms if row.failing_since_ms is None else int(row.failing_since_ms)
            retry_at = now_ms + policy.retry_delay_ms(failures)
            values |= {
                "consecutive_failures": failures,
                "failing_since_ms": since,
                "last_error": outcome.error[:MAX_ERROR_LENGTH],
                "last_error_ms": now_ms,
                "next_attempt_ms": retry_at,
            }
            paused = now_ms - since >= policy.pause_after_ms
            if paused:
                values["paused_ms"] = now_ms
            settled = Settled(applied=True, retry_at_ms=retry_at, paused=paused)
        update_delivery(conn, batch.hook_id, values)
    return settled
