"""What the MCP services share: event targets, rows, locking loads, and the discover-then-transact runner."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from registrar.context import RequestContext
from registrar.discovery import AuthServerResult
from registrar.domain.mcp import McpAuthServer, McpServer, ResourceMetadata
from registrar.domain.statuses import Status
from registrar.errors import NotFound
from registrar.events import catalog as ev
from registrar.events.catalog import EventType, Target
from registrar.ids import AUTH_SERVER, new_id, utcnow
from registrar.store import repositories as repo
from registrar.store.uow import UnitOfWork

from .audit import AuditTrail, perform
from .deps import Deps

__all__ = [
    "AS_KIND",
    "KIND",
    "STORED",
    "auth_event_targets",
    "auth_server_target",
    "create_auth_server",
    "load",
    "now_ms",
    "read_connection",
    "run_with_discovery",
    "server_target",
]

KIND = "McpServer"
AS_KIND = "ExternalAuthServer"


class _Stored:
    key = "mcp"

    def detected_from_json(self, data: Mapping[str, Any]) -> ResourceMetadata:
        return ResourceMetadata.from_json(data)


STORED = _Stored()

P = TypeVar("P")
T = TypeVar("T")


def now_ms() -> int:
    """The current time in the stored form (epoch milliseconds)."""
    return int(utcnow().timestamp() * 1000)


def server_target(server: McpServer, changes: tuple[dict[str, Any], dict[str, Any]] | None = None) -> Target:
    """The event target describing an MCP server."""
    return ev.mcp_server_target(
        server.id,
        server.url,
        server.display_name,
        server.status,
        server.detected.to_event(),
        changes,
    )


def auth_server_target(
    auth: McpAuthServer, changes: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> Target:
    """The event target describing an authorization server discovered for an MCP server."""
    return ev.external_auth_server_target(
        auth.id, auth.issuer, auth.status, auth.detected.to_event(), changes
    )


def auth_event_targets(
    server: McpServer, auth: McpAuthServer, changes: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> list[Target]:
    """Targets of an ``mcp_server.auth_server.*`` event: the authorization server, then its server."""
    return [auth_server_target(auth, changes), server_target(server)]


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
) -> T:
    """Run ``prepare`` (network I/O) outside any transaction, then ``action`` in the audited unit of work.

    ``prepare`` runs only when the caller holds the scope, so a denied request reaches nothing; its error,
    if any, is raised inside ``perform`` so that it is audited like any other failure.
    """
    early = AuditTrail()
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


def read_connection(deps: Deps) -> Connection:
    """A connection for reads only (no write lock on SQLite)."""
    return deps.engine.connect().execution_options(sqlite_immediate=False)


def load(uow: UnitOfWork, trail: AuditTrail, server_id: str) -> McpServer:
    """The MCP server, locked for the transaction; it becomes the failure target from here on."""
    server = repo.get_server(uow.conn, STORED, server_id, for_update=True)
    if server is None:
        raise NotFound(server_id, KIND)
    trail.targets = [server_target(server)]
    return server


def create_auth_server(
    uow: UnitOfWork, server: McpServer, result: AuthServerResult, now: int
) -> McpAuthServer:
    """Store a newly discovered (working) authorization server ACTIVE, and record its creation."""
    if result.metadata is None:
        raise ValueError(f"{result.issuer} has no metadata to store")
    auth = McpAuthServer(
        new_id(AUTH_SERVER), server.id, result.issuer, Status.ACTIVE, result.metadata, now, now
    )
    repo.insert_auth_server(uow.conn, auth)
    uow.record(ev.MCP_AUTH_SERVER_CREATE, auth_event_targets(server, auth))
    return auth
