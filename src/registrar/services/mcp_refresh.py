"""Refreshing an MCP server: re-run discovery, then write (and audit) only what changed.

Called by ``POST .../mcp-servers/{id}/discovery`` with the admin's context, and by a scheduled job with
``registrar.context.job_context(...)`` (the system actor, ``transaction.type`` JOB): the events are the
same, only their actor and transaction differ. The diff itself is ``registrar.discovery.plan_refresh``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from registrar.context import RequestContext
from registrar.discovery import Discovery, FetchPolicy, RefreshPlan, discover, plan_refresh
from registrar.domain.mcp import McpAuthServer, McpServer, McpServerDetail
from registrar.errors import DiscoveryFailed, NotFound
from registrar.kinds import Changes, mcp
from registrar.store import repositories as repo
from registrar.store.uow import UnitOfWork

from . import auth_servers
from ._run import load, now_ms, read_connection, run_with_discovery
from .audit import AuditTrail
from .deps import Deps

__all__ = ["refresh"]


def refresh(deps: Deps, ctx: RequestContext, server_id: str, policy: FetchPolicy) -> McpServerDetail:
    """Re-discover an MCP server and apply the difference; a failed discovery makes the server INVALID."""
    kind = mcp.KIND
    orn = kind.orn(deps.org_id, server_id)

    def prepare(trail: AuditTrail) -> Discovery | DiscoveryFailed:
        with read_connection(deps) as conn:
            server = repo.get_server(conn, kind, server_id)
        if server is None:
            raise NotFound(server_id, kind.entity)
        trail.targets = [kind.server_target(server, orn)]
        try:
            return discover(server.url, policy)
        except DiscoveryFailed as failure:
            return failure  # not an error of the operation: it is what the refresh records

    def action(uow: UnitOfWork, trail: AuditTrail, outcome: Discovery | DiscoveryFailed) -> McpServerDetail:
        # Diff against the rows as they are now, locked: the server may have changed during discovery.
        server = load(uow, trail, deps, kind, server_id)
        stored = repo.list_auth_servers(uow.conn, [server.id])[server.id]
        plan = plan_refresh(server, stored, outcome)
        now = now_ms()
        current = _apply_server(server, plan, refreshed=not isinstance(outcome, DiscoveryFailed), now=now)
        auths = {auth.id: auth for auth in stored}
        for result in plan.create:  # the planner creates only servers whose metadata works
            auth = auth_servers.link_discovered(uow, kind, current, orn, result, now)
            auths[auth.id] = auth
        for change in plan.update:
            updated = replace(
                change.current, status=change.status, detected=change.detected, last_updated_ms=now
            )
            repo.update_auth_server(uow.conn, updated)
            changes = _auth_changes(change.current, updated)
            uow.record(kind.events["auth.update"], kind.auth_event_targets(current, orn, updated, changes))
            auths[updated.id] = updated
        repo.update_server(uow.conn, current)
        changed = _server_changes(server, current)
        if changed is not None:
            debug = {"errorMessage": plan.error} if plan.error else None
            uow.record(kind.events["update"], [kind.server_target(current, orn, changed)], debug=debug)
        return McpServerDetail(current, tuple(auths.values()))  # stored order, then the new ones

    return run_with_discovery(deps, ctx, kind.events["update"], prepare, action)


def _apply_server(server: McpServer, plan: RefreshPlan, *, refreshed: bool, now: int) -> McpServer:
    changed = (plan.status, plan.detected) != (server.status, server.detected)
    return replace(
        server,
        status=plan.status,
        detected=plan.detected,
        # When the registry last read the server's metadata: bookkeeping, not a change of the server.
        last_refreshed_ms=now if refreshed else server.last_refreshed_ms,
        last_updated_ms=now if changed else server.last_updated_ms,
    )


def _server_changes(old: McpServer, new: McpServer) -> Changes | None:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if old.status != new.status:
        before["mcpServerStatus"], after["mcpServerStatus"] = old.status, new.status
    if old.detected != new.detected:
        before["mcpServerDetectedMetadata"] = old.detected.to_event()
        after["mcpServerDetectedMetadata"] = new.detected.to_event()
    return (before, after) if after else None


def _auth_changes(old: McpAuthServer, new: McpAuthServer) -> Changes:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if old.detected != new.detected:
        before["authServerDetectedMetadata"] = old.detected.to_event()
        after["authServerDetectedMetadata"] = new.detected.to_event()
    if old.status != new.status:
        before["authServerStatus"], after["authServerStatus"] = old.status, new.status
    return before, after
