"""The unit of work: one database transaction holding a resource change and the events that record it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from registrar.context import RequestContext
from registrar.events.builder import Outcome, build_event
from registrar.events.catalog import EventType, Target
from registrar.ids import utcnow

from .database import group_transaction
from .eventlog import append_events

__all__ = ["UnitOfWork", "unit_of_work"]


class UnitOfWork:
    """A transaction in progress. Services change state through ``conn`` and describe it with ``record``."""

    def __init__(self, conn: Connection, ctx: RequestContext):
        self.conn = conn
        self.ctx = ctx
        self._events: list[dict[str, Any]] = []

    def now(self) -> datetime:
        """The current time (UTC)."""
        return utcnow()

    def record(
        self,
        event_type: EventType,
        targets: Sequence[Target],
        *,
        outcome: Outcome = "SUCCESS",
        reason: str | None = None,
        debug: Mapping[str, Any] | None = None,
        ctx: RequestContext | None = None,
    ) -> dict[str, Any]:
        """Queue an event; it is written with the changes, at commit, or not at all.

        Its ``published`` is provisional: the log head stamps the real one when the event is written.
        ``ctx`` records it for another actor than the unit's own: the system, when a policy acts within
        an admin's request (``registrar.context.job_context``).
        """
        event = build_event(
            event_type, ctx or self.ctx, targets, utcnow(), outcome=outcome, reason=reason, debug=debug
        )
        self._events.append(event)
        return event

    def flush_events(self) -> None:
        """Write the queued events (stamping ``seq`` and ``published`` under the log head lock); called
        once, just before commit."""
        append_events(self.conn, self._events)
        self._events.clear()


@contextmanager
def unit_of_work(engine: Engine, ctx: RequestContext) -> Iterator[UnitOfWork]:
    """Run a block in one transaction; its events are appended last and commit with it, or nothing does.

    The transaction may be shared with concurrent units of work (group commit): the block then runs in a
    savepoint of its own, rolls back alone, and this returns only once the shared commit is done.
    Waiting to begin is bounded (``ServiceUnavailable`` after the engine's ``wait_seconds``).
    """
    with group_transaction(engine) as conn:
        uow = UnitOfWork(conn, ctx)
        yield uow
        uow.flush_events()
