"""``…/mcp-servers/{id}/discoveries`` (run one, list the latest per credential) and ``…/{id}/capabilities``.

A discovery waits on the authorization and MCP servers: it runs on the discovery capacity (``SlowWork``),
like an MCP registration, never on the thread pool every other endpoint shares. Reading needs the MCP
read or manage scope; running one, the manage scope (a caller without it is denied, and audited, before
anything is fetched).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.events import catalog as ev
from registrar.ids import format_ms
from registrar.kinds.mcp import KIND
from registrar.services import capabilities as svc
from registrar.services.capabilities_store import StoredTool, ToolDiscovery

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import CLIENT_AUTH_SETTINGS, base_url, json_response, list_response, servers_path
from ..security import request_context, require_scope
from ..slow_work import SlowWork
from .resource_servers import DiscoveryPolicy

__all__ = ["DiscoveryCreate", "discovery_json", "router", "tool_json"]

DiscoveryCreate = svc.DiscoveryCreate  # the request body, in the OpenAPI components

router = APIRouter(prefix=servers_path(KIND), tags=["MCP tool discovery"])


def discovery_json(discovery: ToolDiscovery, base: str) -> dict[str, Any]:
    """A tool discovery as the API returns it."""
    server_url = f"{base}{servers_path(KIND)}/{discovery.server_id}"
    body: dict[str, Any] = {
        "id": discovery.id,
        "mcpServerId": discovery.server_id,
        "credential": {"authType": svc.AUTH_TYPE, "clientAuthSettingsId": discovery.client_auth_settings_id},
        "status": discovery.status,
        "started": format_ms(discovery.started_ms),
        "completed": format_ms(discovery.completed_ms),
        "toolCount": discovery.tool_count,
    }
    if discovery.error_message is not None:
        body["errorMessage"] = discovery.error_message
    body["_links"] = {
        "mcpServer": {"href": server_url},
        "capabilities": {"href": f"{server_url}/capabilities"},
        "clientAuthSettings": {"href": f"{base}{CLIENT_AUTH_SETTINGS}/{discovery.client_auth_settings_id}"},
    }
    return body


def tool_json(tool: StoredTool, org_id: str) -> dict[str, Any]:
    """A discovered tool (capability) as the API returns it."""
    return {
        "id": tool.id,
        **tool.definition.to_json(),
        "fingerprint": tool.definition.fingerprint,
        "status": tool.status,
        "discovered": format_ms(tool.discovered_ms),
        "lastSeen": format_ms(tool.last_seen_ms),
        "changed": format_ms(tool.changed_ms),
        "orn": svc.tool_orn(org_id, tool.server_id, tool.id),
    }


@router.post("/{server_id}/discoveries", status_code=201, openapi_extra=body_schema(svc.DiscoveryCreate))
async def run_discovery(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, policy: DiscoveryPolicy
) -> Response:
    """Discover the MCP server's tools with one of its client authentication settings, and record them."""
    body = await request.body()
    args = (deps, request_context(request, token), server_id, body, policy)
    if ev.MCP_CAPABILITY_DISCOVER.scope in token.scopes:
        discoveries: SlowWork = request.app.state.discoveries
        discovery = await discoveries.run(token.id, svc.discover, *args)
    else:
        discovery = await run_in_threadpool(svc.discover, *args)  # denied (and audited) before any fetch
    return json_response(discovery_json(discovery, base_url(request)), 201)


@router.get("/{server_id}/discoveries")
def list_discoveries(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """The latest tool discovery per credential."""
    require_scope(token, *KIND.read_scopes)
    base = base_url(request)
    found = svc.list_discoveries(deps, server_id)
    return list_response(request, found, None, lambda discovery: discovery_json(discovery, base))


@router.get("/{server_id}/capabilities")
def list_capabilities(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """The tools on record (``PRESENT``, and ``REMOVED`` ones the server no longer lists)."""
    require_scope(token, *KIND.read_scopes)
    tools = svc.list_tools(deps, server_id)
    return list_response(request, tools, None, lambda tool: tool_json(tool, deps.org_id))
