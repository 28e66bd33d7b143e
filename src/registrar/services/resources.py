"""Resolving a resource server ORN (as client authentication settings name it) to the server."""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from registrar.events.catalog import Target
from registrar.store import repositories as repo

__all__ = ["resource_target"]

_ORN = re.compile(
    r"^orn:registrar:directory:(?P<org>[0-9A-Za-z]{20}):resource-servers:(?P<kind>api|mcp):(?P<id>[0-9A-Za-z]{20})$"
)


def resource_target(conn: Connection, org_id: str, orn: str) -> Target | None:
    """The event target of the resource server ``orn`` names, or None if there is no such server here."""
    match = _ORN.match(orn)
    if match is None or match["org"] != org_id:
        return None
    if match["kind"] == "api":
        from .api_servers import STORED, server_target

        server = repo.get_server(conn, STORED, match["id"])
        return None if server is None else server_target(server)
    from ._mcp import STORED as MCP
    from .mcp_servers import server_target as mcp_server_target

    mcp_server = repo.get_server(conn, MCP, match["id"])
    return None if mcp_server is None else mcp_server_target(mcp_server)
