"""Reading and writing event hooks and their delivery rows (inside the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import orjson
from sqlalchemy import LargeBinary, cast, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from registrar.ids import is_object_id
from registrar.store.schema import event_hook_deliveries, event_hook_skips, event_hooks, log_events, log_head

from ._model import DeliveryHealth, EventHook, HookSkip

__all__ = [
    "backlog",
    "delete_hook",
    "get_hook",
    "head_seq",
    "health",
    "hook_row",
    "insert_hook",
    "list_hooks",
    "list_skips",
    "octets",
    "record_skip",
    "sealed_auth",
    "update_delivery",
    "update_hook",
]


def head_seq(conn: Connection) -> int:
    """The sequence number of the newest committed event (0 for an empty log)."""
    return int(conn.execute(select(log_head.c.seq).where(log_head.c.singleton == 1)).scalar_one())


def hook_row(hook: EventHook) -> dict[str, Any]:
    """The ``event_hooks`` columns describing ``hook`` (the sealed auth value is written separately)."""
    return {
        **{f.name: getattr(hook, f.name) for f in fields(hook)},
        "event_types": orjson.dumps(list(hook.event_types)).decode(),
        "headers": orjson.dumps([{"key": k, "value": v} for k, v in hook.headers]).decode(),
    }


def _hook(row: Row[Any]) -> EventHook:
    """The hook of a row of ``_HOOK_COLUMNS``: the columns are the hook's fields, two of them JSON."""
    return EventHook(
        **{
            **row._mapping,
            "event_types": tuple(orjson.loads(row.event_types)),
            "headers": tuple((h["key"], h["value"]) for h in orjson.loads(row.headers)),
            "created_ms": int(row.created_ms),
            "last_updated_ms": int(row.last_updated_ms),
        }
    )


_HOOK_COLUMNS = [c for c in event_hooks.c if c.name not in {"pk", "auth_value_sealed"}]


def insert_hook(conn: Connection, hook: EventHook, sealed: bytes | None, *, cursor_seq: int) -> None:
    """Store a new hook whose position is ``cursor_seq`` (it receives the events committed after it).

    That position is also the hook's origin: what lies at or below it is history (see ``origin_seq``).
    """
    conn.execute(insert(event_hooks).values(**hook_row(hook), auth_value_sealed=sealed))
    conn.execute(
        insert(event_hook_deliveries).values(
            hook_id=hook.id,
            cursor_seq=cursor_seq,
            origin_seq=cursor_seq,
            next_attempt_ms=hook.created_ms,
            consecutive_failures=0,
        )
    )


def get_hook(conn: Connection, hook_id: str, *, for_update: bool = False) -> EventHook | None:
    """The hook ``hook_id``, or None; ``for_update`` locks its row until the transaction ends."""
    if not is_object_id(hook_id):
        return None
    query = select(*_HOOK_COLUMNS).where(event_hooks.c.id == hook_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _hook(row)


def list_hooks(conn: Connection) -> list[EventHook]:
    """Every hook, oldest first."""
    return [_hook(row) for row in conn.execute(select(*_HOOK_COLUMNS).order_by(event_hooks.c.pk))]


def sealed_auth(conn: Connection, hook_id: str) -> bytes | None:
    """The sealed auth header value of a hook (None when it has no auth scheme)."""
    value = conn.execute(select(event_hooks.c.auth_value_sealed).where(event_hooks.c.id == hook_id)).scalar()
    return None if value is None else bytes(value)


def update_hook(conn: Connection, hook_id: str, values: dict[str, Any]) -> None:
    """Change columns of a hook."""
    conn.execute(update(event_hooks).where(event_hooks.c.id == hook_id).values(**values))


def update_delivery(conn: Connection, hook_id: str, values: dict[str, Any]) -> None:
    """Change columns of a hook's delivery row."""
    conn.execute(
        update(event_hook_deliveries).where(event_hook_deliveries.c.hook_id == hook_id).values(**values)
    )


def delete_hook(conn: Connection, hook_id: str) -> None:
    """Remove a hook, its delivery row and its skip records."""
    conn.execute(delete(event_hook_skips).where(event_hook_skips.c.hook_id == hook_id))
    conn.execute(delete(event_hook_deliveries).where(event_hook_deliveries.c.hook_id == hook_id))
    conn.execute(delete(event_hooks).where(event_hooks.c.id == hook_id))


def backlog(conn: Connection, cursor_seq: int, event_types: Sequence[str]) -> int:
    """How many committed events of ``event_types`` lie after ``cursor_seq``."""
    count = conn.execute(
        select(func.count())
        .select_from(log_events)
        .where(log_events.c.seq > cursor_seq, log_events.c.event_type.in_(list(event_types)))
    ).scalar_one()
    return int(count)


def health(conn: Connection, hook: EventHook) -> DeliveryHealth:
    """The delivery health of ``hook``."""
    d = event_hook_deliveries.c
    row = conn.execute(select(event_hook_deliveries).where(d.hook_id == hook.id)).one()
    return DeliveryHealth(
        backlog=backlog(conn, int(row.cursor_seq), hook.event_types),
        consecutive_failures=int(row.consecutive_failures),
        last_success_ms=row.last_success_ms,
        last_error=row.last_error,
        last_error_ms=row.last_error_ms,
        failing_since_ms=row.failing_since_ms,
        next_attempt_ms=int(row.next_attempt_ms),
        paused_ms=row.paused_ms,
        skipped=_skip_count(conn, hook.id),
    )


_S = event_hook_skips.c


def _skip_count(conn: Connection, hook_id: str) -> int:
    return int(conn.execute(select(func.count()).where(_S.hook_id == hook_id)).scalar_one())


def record_skip(conn: Connection, hook_id: str, seq: int, reason: str, now_ms: int) -> HookSkip:
    """Record that ``hook_id`` skipped the event at ``seq`` because of ``reason``; returns the record."""
    event = conn.execute(
        select(log_events.c.uuid, log_events.c.event_type, octets(conn).label("size")).where(
            log_events.c.seq == seq
        )
    ).one()
    size = int(event.size)
    values = {
        "hook_id": hook_id,
        "seq": seq,
        "event_uuid": event.uuid,
        "event_type": event.event_type,
        "size_bytes": size,
        "reason": reason,
        "skipped_ms": now_ms,
    }
    pk = conn.execute(insert(event_hook_skips).values(**values).returning(_S.pk)).scalar_one()
    return HookSkip(
        pk=int(pk),
        seq=seq,
        event_uuid=event.uuid,
        event_type=event.event_type,
        size_bytes=size,
        reason=reason,
        skipped_ms=now_ms,
    )


def list_skips(conn: Connection, hook_id: str, *, after_pk: int, limit: int) -> list[HookSkip]:
    """The skips of ``hook_id`` recorded after ``after_pk``, oldest first, at most ``limit``."""
    rows = conn.execute(
        select(event_hook_skips).where(_S.hook_id == hook_id, _S.pk > after_pk).order_by(_S.pk).limit(limit)
    )
    return [
        HookSkip(
            pk=int(row.pk),
            seq=int(row.seq),
            event_uuid=row.event_uuid,
            event_type=row.event_type,
            size_bytes=int(row.size_bytes),
            reason=row.reason,
            skipped_ms=int(row.skipped_ms),
        )
        for row in rows
    ]


def octets(conn: Connection) -> ColumnElement[int]:
    """The byte length of an event's stored text (UTF-8), computed by the database."""
    if conn.dialect.name == "sqlite":
        return func.length(cast(log_events.c.body, LargeBinary))
    return func.octet_length(log_events.c.body)
