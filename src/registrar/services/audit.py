"""Running an operation so that its outcome, whatever it is, is written to the audit log.

Success: the change and its events commit together (DESIGN.md invariant 1). Failure: the change rolls
back and exactly one event of the operation's type records the FAILURE, or the DENY when the token lacks
the scope (invariant 2), in a transaction of its own. A database out of time (a wait or a query beyond
its limit) fails the operation with ``ServiceUnavailable`` (503), audited the same way; when the audit
cannot get in either, that is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine

from registrar.context import RequestContext
from registrar.errors import PermissionDenied, RegistrarError
from registrar.events.builder import Outcome
from registrar.events.catalog import EventType, Target
from registrar.store.database import unavailable
from registrar.store.uow import UnitOfWork, unit_of_work

__all__ = ["AuditTrail", "perform"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_INTERNAL_REASON = "The operation failed because of an internal error."


@dataclass(slots=True)
class AuditTrail:
    """What an operation has learnt about its targets so far: named in its event if it fails."""

    targets: list[Target] = field(default_factory=list)
    debug: dict[str, object] = field(default_factory=dict)


def perform(
    engine: Engine,
    ctx: RequestContext,
    event_type: EventType,
    action: Callable[[UnitOfWork, AuditTrail], T],
    *,
    targets: Sequence[Target] = (),
) -> T:
    """Authorize and run ``action`` in one unit of work; audit a failure or denial on its own."""
    trail = AuditTrail(list(targets))
    if event_type.scope not in ctx.scopes:
        credential = "access token" if ctx.actor.type == "PublicClientApp" else "API token"
        error = PermissionDenied(reason=f"The {credential} lacks the scope {event_type.scope}.")
        _record_failure(engine, ctx, event_type, trail, "DENY", error.reason)
        raise error
    try:
        with unit_of_work(engine, ctx) as uow:
            return action(uow, trail)
    except RegistrarError as error:
        _record_failure(engine, ctx, event_type, trail, "FAILURE", error.reason)
        raise
    except Exception as error:
        busy = unavailable(error)
        if busy is not None:
            # The database was out of time, not broken: a 503 the caller may retry, audited as such.
            log.warning("operation %s gave up: %s (request %s)", event_type.name, busy.reason, ctx.request_id)
            _record_failure(engine, ctx, event_type, trail, "FAILURE", busy.reason)
            raise busy from error
        log.exception("operation %s failed (request %s)", event_type.name, ctx.request_id)
        _record_failure(engine, ctx, event_type, trail, "FAILURE", _INTERNAL_REASON)
        raise


def _record_failure(
    engine: Engine,
    ctx: RequestContext,
    event_type: EventType,
    trail: AuditTrail,
    outcome: Outcome,
    reason: str,
) -> None:
    try:
        with unit_of_work(engine, ctx) as uow:
            uow.record(event_type, trail.targets, outcome=outcome, reason=reason, debug=trail.debug)
    except Exception as error:
        # The store itself is failing (or still busy); the caller still gets the original error.
        if unavailable(error) is not None:
            log.error(
                "could not audit the failure of %s (request %s): the database is still busy: %s",
                event_type.name,
                ctx.request_id,
                error,
            )
            return
        log.exception("could not audit the failure of %s (request %s)", event_type.name, ctx.request_id)
