"""The tools and tool discoveries on record (``mcp_tools``, ``mcp_discoveries``), as values.

A tool row holds its last bounded definition (JSON text columns), its fingerprint and whether the server
still lists it (``PRESENT`` / ``REMOVED``: a vanished tool is kept, so that its return or a virtual MCP
server still naming it can be told). A discovery row is the latest run per credential: each run replaces
it, with a new id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from registrar.capabilities import KnownTool, ToolDefinition
from registrar.store import repositories as repo
from registrar.store.schema import mcp_discoveries, mcp_tools

__all__ = [
    "COMPLETED",
    "FAILED",
    "PRESENT",
    "REMOVED",
    "StoredTool",
    "ToolDiscovery",
    "discoveries_of",
    "save_discovery",
    "save_tool",
    "tools_of",
    "touch_present",
]


# A tool's status: listed by the server at its last discovery, or not any more.
PRESENT, REMOVED = "PRESENT", "REMOVED"
# A discovery's status.
COMPLETED, FAILED = "COMPLETED", "FAILED"


@dataclass(frozen=True, slots=True)
class StoredTool:
    """A tool on record for an MCP server (id prefix ``emt``)."""

    id: str
    server_id: str
    definition: ToolDefinition
    status: str
    discovered_ms: int
    last_seen_ms: int
    changed_ms: int

    @property
    def known(self) -> KnownTool:
        """What drift compares a new listing with."""
        return KnownTool(
            self.definition.name,
            self.definition.fingerprint,
            self.status == PRESENT,
            self.definition.to_event(),
        )


@dataclass(frozen=True, slots=True)
class ToolDiscovery:
    """The latest tool discovery of an MCP server with one client authentication setting (``emd``)."""

    id: str
    server_id: str
    client_auth_settings_id: str
    status: str
    started_ms: int
    completed_ms: int | None
    tool_count: int | None
    error_message: str | None


def _json(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _text(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _tool(row: Row[Any]) -> StoredTool:
    definition = ToolDefinition(
        name=row.name,
        title=row.title,
        description=row.description,
        input_schema=_json(row.input_schema),
        output_schema=_json(row.output_schema),
        annotations=_json(row.annotations),
        fingerprint=row.fingerprint,
    )
    return StoredTool(
        row.id, row.server_id, definition, row.status, row.discovered_ms, row.last_seen_ms, row.changed_ms
    )


def tools_of(conn: Connection, server_id: str) -> list[StoredTool]:
    """Every tool on record for a server, in the order they were first discovered."""
    query = select(mcp_tools).where(mcp_tools.c.server_id == server_id).order_by(mcp_tools.c.pk)
    return [_tool(row) for row in conn.execute(query)]


def save_tool(conn: Connection, tool: StoredTool, *, new: bool) -> None:
    """Insert a tool (``new``) or replace the stored values of one (by id)."""
    definition = tool.definition
    values = {
        "id": tool.id,
        "server_id": tool.server_id,
        "name": definition.name,
        "title": definition.title,
        "description": definition.description,
        "input_schema": _text(definition.input_schema),
        "output_schema": _text(definition.output_schema),
        "annotations": _text(definition.annotations),
        "fingerprint": definition.fingerprint,
        "status": tool.status,
        "discovered_ms": tool.discovered_ms,
        "last_seen_ms": tool.last_seen_ms,
        "changed_ms": tool.changed_ms,
    }
    if new:
        repo.insert_row(conn, mcp_tools, values)
    else:
        repo.update_row(conn, mcp_tools, tool.id, values)


def touch_present(conn: Connection, server_id: str, now_ms: int) -> None:
    """Mark every tool the server still lists as seen now (one statement, however many tools)."""
    present = (mcp_tools.c.server_id == server_id) & (mcp_tools.c.status == PRESENT)
    conn.execute(update(mcp_tools).where(present).values(last_seen_ms=now_ms))


def discoveries_of(conn: Connection, server_id: str) -> list[ToolDiscovery]:
    """The latest discovery per credential of a server, in the order the credentials were first used."""
    query = (
        select(mcp_discoveries).where(mcp_discoveries.c.server_id == server_id).order_by(mcp_discoveries.c.pk)
    )
    return [
        ToolDiscovery(
            row.id,
            row.server_id,
            row.client_auth_settings_id,
            row.status,
            row.started_ms,
            row.completed_ms,
            row.tool_count,
            row.error_message,
        )
        for row in conn.execute(query)
    ]


def save_discovery(conn: Connection, discovery: ToolDiscovery) -> None:
    """Record a run as the latest for its credential, replacing the previous one (its id included)."""
    key = (mcp_discoveries.c.server_id == discovery.server_id) & (
        mcp_discoveries.c.client_auth_settings_id == discovery.client_auth_settings_id
    )
    values = {
        "id": discovery.id,
        "server_id": discovery.server_id,
        "client_auth_settings_id": discovery.client_auth_settings_id,
        "status": discovery.status,
        "started_ms": discovery.started_ms,
        "completed_ms": discovery.completed_ms,
        "tool_count": discovery.tool_count,
        "error_message": discovery.error_message,
    }
    if conn.execute(update(mcp_discoveries).where(key).values(values)).rowcount == 0:
        repo.insert_row(conn, mcp_discoveries, values)
