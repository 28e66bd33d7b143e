"""The refresh planner: what a new discovery result changes in what is stored. Pure; no I/O, no events.

Rules (API.md "MCP discovery"): a new issuer is created ACTIVE; a listed issuer whose metadata changed,
or whose metadata now fails (INVALID) or works again (ACTIVE), is updated; an issuer no longer listed
becomes INACTIVE (kept, not deleted: the catalog deletes authorization servers only with their MCP server).
The server becomes INVALID when its own metadata fails or when every listed authorization server fails,
and INACTIVE again when a later discovery succeeds (an admin re-activates it). A new issuer whose metadata
fails is not created: there is nothing valid to keep yet, and the server-level verdict reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registrar.domain.mcp import AuthServerMetadata, McpAuthServer, McpServer, ResourceMetadata
from registrar.domain.statuses import Status
from registrar.errors import DiscoveryFailed

from ._discover import AuthServerResult, Discovery

__all__ = ["AuthServerChange", "RefreshPlan", "plan_refresh"]


@dataclass(frozen=True, slots=True)
class AuthServerChange:
    """A stored authorization server and the status and metadata it should now have."""

    current: McpAuthServer
    status: str  # ACTIVE (metadata fetched and valid), INVALID (it failed) or INACTIVE (no longer listed)
    detected: AuthServerMetadata


@dataclass(frozen=True, slots=True)
class RefreshPlan:
    """Everything a refresh must write; empty when nothing changed."""

    status: str
    detected: ResourceMetadata
    error: str | None
    create: tuple[AuthServerResult, ...]
    update: tuple[AuthServerChange, ...]


def plan_refresh(
    server: McpServer, stored: Sequence[McpAuthServer], outcome: Discovery | DiscoveryFailed
) -> RefreshPlan:
    """Compare a discovery outcome with the stored server and its authorization servers."""
    if isinstance(outcome, DiscoveryFailed):
        return RefreshPlan(Status.INVALID, server.detected, outcome.cause, (), ())
    by_issuer = {auth.issuer: auth for auth in stored}
    listed = {result.issuer for result in outcome.authorization_servers}
    create = tuple(
        r for r in outcome.authorization_servers if r.issuer not in by_issuer and r.metadata is not None
    )
    update: list[AuthServerChange] = []
    for result in outcome.authorization_servers:
        auth = by_issuer.get(result.issuer)
        if auth is None:
            continue
        if result.metadata is None:
            update.append(AuthServerChange(auth, Status.INVALID, auth.detected))
        else:
            update.append(AuthServerChange(auth, Status.ACTIVE, result.metadata))
    update += [AuthServerChange(a, Status.INACTIVE, a.detected) for a in stored if a.issuer not in listed]
    changed = tuple(c for c in update if (c.status, c.detected) != (c.current.status, c.current.detected))
    if all(result.metadata is None for result in outcome.authorization_servers):
        return RefreshPlan(Status.INVALID, outcome.resource, outcome.first_error, create, changed)
    status = Status.INACTIVE if server.status == Status.INVALID else server.status
    return RefreshPlan(status, outcome.resource, None, create, changed)
