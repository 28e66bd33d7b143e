"""MCP servers: authorization servers found by RFC 9728 discovery at registration and on refresh."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from registrar.discovery import Discovery, discover
from registrar.domain.mcp import McpServerCreate, McpServerPatch, ResourceMetadata
from registrar.domain.resources import ResourceServer
from registrar.events import catalog as ev
from registrar.ids import MCP_SERVER
from registrar.scopes import MCP_MANAGE, MCP_READ
from registrar.store.schema import mcp_discoveries, mcp_tools
from registrar.store.uow import UnitOfWork

from ._kind import Bodies, Discovered, Kind, Names, Prepared, events_named

__all__ = ["KIND"]


def _registered(found: Discovery) -> Prepared:
    """What registration keeps of a discovery: the resource's metadata and name, its authorization servers."""
    return Prepared(found.resource, found.resource.resource_name, found.authorization_servers)


class _McpKind(Kind):
    def on_delete(self, uow: UnitOfWork, server: ResourceServer[Any], orn: str) -> None:
        # The tools and tool discoveries of a server go with it (``mcp_server.delete`` records that);
        # first, the virtual servers' capabilities using those tools are flagged MISSING.
        from .vmcp import source_deleted  # deferred: vmcp builds on this module's KIND

        source_deleted(uow, server)
        for table in (mcp_tools, mcp_discoveries):
            uow.conn.execute(delete(table).where(table.c.server_id == server.id))


KIND = _McpKind(
    Names("mcp", "MCP server", "McpServer", MCP_SERVER, (MCP_READ, MCP_MANAGE)),
    events_named("mcp_server", link="create", unlink="delete"),
    Bodies(McpServerCreate, McpServerPatch),
    Discovered(
        ResourceMetadata,
        ev.mcp_server_target,
        discover,
        _registered,
        searchable={"detectedMetadata.resourceName": "resourceName"},
        extra_links=("discovery",),
        register_event_first=False,
        auth_targets_server_first=False,
    ),
)
