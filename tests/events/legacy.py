"""What an older Registrar could leave behind: rows and events holding raw control characters.

This version refuses them at every entrance (discovery, admin input) and cleans every event it builds, so
tests of the renderers (CLI, console) and readers make such data the way an older version did: a row
written directly, and an event whose text is altered after ``build_event`` and before its bytes are made
(the hash chain stays valid: the altered bytes are the ones stored and hashed).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.domain.mcp import McpServer, ResourceMetadata
from registrar.events import catalog as ev
from registrar.ids import MCP_SERVER, new_id
from registrar.kinds import mcp
from registrar.services._run import now_ms
from registrar.store import repositories as repo
from registrar.store.uow import unit_of_work

__all__ = ["TERMINAL_ATTACK", "legacy_event", "legacy_mcp_server"]

# Clear the screen, retitle the window, a one-byte CSI (C1), a right-to-left override, a carriage return.
TERMINAL_ATTACK = "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil\rfake"


def legacy_mcp_server(engine: Engine, display_name: str) -> McpServer:
    """An MCP server row as an older version could store it from hostile metadata."""
    now = now_ms()
    server = McpServer(
        id=new_id(MCP_SERVER),
        resource_url=f"https://{uuid.uuid4().hex[:12]}.example.com/mcp",
        display_name=display_name,
        description=None,
        status="INACTIVE",
        detected=ResourceMetadata(resource_name=display_name, scopes_supported=(TERMINAL_ATTACK,)),
        last_refreshed_ms=now,
        created_ms=now,
        last_updated_ms=now,
    )
    with engine.begin() as conn:
        repo.insert_server(conn, mcp.KIND, server)
    return server


def legacy_event(engine: Engine, actor_email: str, text: str) -> dict[str, Any]:
    """A FAILURE event by ``actor_email`` whose target name and reason hold ``text`` raw."""
    ctx = RequestContext(
        request_id=uuid.uuid4().hex[:20],
        actor=Actor("00u" + uuid.uuid4().hex[:17], "User", actor_email, "Legacy Admin"),
        client=ClientInfo("198.51.100.7", "legacy-agent/1.0"),
        request_uri="/resource-servers/api/v1/mcp-servers",
        url="/resource-servers/api/v1/mcp-servers",
    )
    target = ev.mcp_server_target(new_id(MCP_SERVER), "https://legacy.example.com/mcp", "x", "INVALID", "{}")
    with unit_of_work(engine, ctx) as uow:
        event = uow.record(ev.MCP_SERVER_REGISTER, [target], outcome="FAILURE", reason="x")
        event["target"][0]["displayName"] = f"legacy {text}"
        event["outcome"]["reason"] = f"reason {text}"
    return event
