"""The columns the log is queried by, re-derived from the stored bytes: an edited column is named.

``event_type``, ``published_ms``, ``actor_id``, ``transaction_id``, ``outcome_result``, ``severity`` and
``uuid`` are copies of fields of the event, made at write time for indexed queries; so is every row of
``log_event_targets``. None of them is hashed, so each is compared with what the stored bytes say: a
changed column would hide an event from ``filter=eventType eq …`` or a time-bounded query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from registrar.store.schema import log_event_targets, log_events

from .findings import Finding
from .scan import event_batches

__all__ = ["check_columns", "event_fields"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _published_ms(text: str) -> int:
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - _EPOCH) // _MS


_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "uuid": lambda e: e["uuid"],
    "event_type": lambda e: e["eventType"],
    "published_ms": lambda e: _published_ms(e["published"]),
    "severity": lambda e: e["severity"],
    "outcome_result": lambda e: e["outcome"]["result"],
    "actor_id": lambda e: e["actor"]["id"],
    "transaction_id": lambda e: e["transaction"]["id"],
}
_TargetRow = tuple[int, str, str, str]  # position, target_id, target_type, event_type


def event_fields(event: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns of ``event`` as its bytes define them."""
    return {column: derive(event) for column, derive in _FIELDS.items()}


def _targets(event: dict[str, Any]) -> list[_TargetRow]:
    return [
        (position, t["id"], t["type"], event["eventType"])
        for position, t in enumerate(event.get("target") or ())
    ]


def _check_event(row: Any, stored_targets: list[_TargetRow]) -> list[Finding]:
    try:
        event = orjson.loads(row.body)
        fields = event_fields(event)
        targets = _targets(event)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        return [
            Finding("column", row.seq, f"event seq {row.seq}: its stored bytes are not an event ({error})")
        ]
    findings = [
        Finding(
            "column",
            row.seq,
            f"event seq {row.seq}: column {column} is {getattr(row, column)!r} "
            f"but its stored bytes say {value!r}",
        )
        for column, value in fields.items()
        if getattr(row, column) != value
    ]
    if sorted(stored_targets) != targets:
        findings.append(
            Finding(
                "column",
                row.seq,
                f"event seq {row.seq}: its log_event_targets rows {sorted(stored_targets)} differ from the "
                f"targets its stored bytes name {targets}",
            )
        )
    return findings


def check_columns(conn: Connection, start: int = 1) -> list[Finding]:
    """Every indexed column or target row (from event ``start`` on) that its event's bytes contradict."""
    columns = [log_events.c[name] for name in _FIELDS]
    findings: list[Finding] = []
    for rows in event_batches(conn, log_events.c.body, *columns, after_seq=start - 1):
        low, high = int(rows[0].seq), int(rows[-1].seq)
        targets: dict[int, list[_TargetRow]] = defaultdict(list)
        for t in conn.execute(
            select(log_event_targets).where(log_event_targets.c.seq >= low, log_event_targets.c.seq <= high)
        ):
            targets[int(t.seq)].append((int(t.position), t.target_id, t.target_type, t.event_type))
        seen = {int(r.seq) for r in rows}
        for row in rows:
            findings += _check_event(row, targets.pop(int(row.seq), []))
        for seq in sorted(targets.keys() - seen):
            findings.append(
                Finding("column", seq, f"log_event_targets rows for seq {seq}, which is not in the log")
            )
    return findings
