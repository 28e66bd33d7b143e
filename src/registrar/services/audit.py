"""Running an operation so that its outcome, whatever it is, is written to the audit log.

Success: the change and its events commit together (DESIGN.md invariant 1). Failure: the change rolls
back and exactly one event of the operation's type records the FAILURE, or the DENY when the token lacks
the scope (invariant 2), in a transaction of its own.
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
        error = PermissionDenied(reason=f"The API token lacks the scope {event_type.scope}.")
        _record_failure(engine, ctx, event_type, trail, "DENY", error.reason)
        raise error
    try:
        with unit_of_work(engine, ctx) as uow:
            return action(uow, trail)
    except RegistrarError as error:
        _record_failure(engine, ctx, event_type, trail, "FAILURE", error.reason)
        raise
    except Exception:
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
    except Exception:
        # The store itself is failing; the caller still gets the original error.
        log.exception("could not audit the failure of %s (request %s)", event_type.name, ctx.request_id)
