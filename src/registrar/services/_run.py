"""Running a resource-server operation: the clock, read connections, locking loads, and operations that
read the network first.

Network I/O (discovery, an agent card) runs before the unit of work opens, and only for a caller allowed
to run the operation (a DENY fetches nothing); its verdict is then applied, and audited, in one
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from registrar.context import RequestContext
from registrar.domain.resources import ResourceServer
from registrar.errors import NotFound
from registrar.events.catalog import EventType, Target
from registrar.ids import utcnow
from registrar.kinds import Kind
from registrar.store import repositories as repo
from registrar.store.uow import UnitOfWork

from .audit import AuditTrail, perform
from .deps import Deps

__all__ = ["load", "now_ms", "read_connection", "run_with_discovery"]

P = TypeVar("P")
T = TypeVar("T")


def now_ms() -> int:
    """The current time in the stored form (epoch milliseconds)."""
    return int(utcnow().timestamp() * 1000)


def read_connection(deps: Deps) -> Connection:
    """A connection for reads only (no write lock on SQLite)."""
    return deps.engine.connect().execution_options(sqlite_immediate=False)


def load(uow: UnitOfWork, trail: AuditTrail, deps: Deps, kind: Kind, server_id: str) -> ResourceServer[Any]:
    """The server, locked for the transaction; it becomes the failure target from here on."""
    server = repo.get_server(uow.conn, kind, server_id, for_update=True)
    if server is None:
        raise NotFound(server_id, kind.entity)
    trail.targets = [kind.server_target(server, kind.orn(deps.org_id, server.id))]
    return server


@dataclass(slots=True)
class _Prepared(Generic[P]):
    value: P | None = None
    error: Exception | None = None


def run_with_discovery(
    deps: Deps,
    ctx: RequestContext,
    event_type: EventType,
    prepare: Callable[[AuditTrail], P],
    action: Callable[[UnitOfWork, AuditTrail, P], T],
    *,
    targets: Sequence[Target] = (),
) -> T:
    """Run ``prepare`` (network I/O) outside any transaction, then ``action`` in the audited unit of work.

    ``prepare`` runs only when the caller holds the scope, so a denied request reaches nothing; its error,
    if any, is raised inside ``perform`` so that it is audited like any other failure. ``targets`` are
    the failure's targets until ``prepare`` knows better.
    """
    early = AuditTrail(list(targets))
    prepared = _Prepared[P]()
    if event_type.scope in ctx.scopes:
        try:
            prepared.value = prepare(early)
        except Exception as error:  # noqa: BLE001 - re-raised inside perform, which audits and logs it
            prepared.error = error

    def run(uow: UnitOfWork, trail: AuditTrail) -> T:
        if prepared.error is not None:
            raise prepared.error
        return action(uow, trail, prepared.value)  # type: ignore[arg-type]  # set whenever error is None

    return perform(deps.engine, ctx, event_type, run, targets=early.targets)
