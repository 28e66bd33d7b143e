"""``/resource-servers/api/v1/mcp-servers``, their discovered authorization servers, and refresh.

Registration and refresh wait on remote servers: they run on the discovery capacity (``SlowWork``), never
on the thread pool that every other endpoint shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.discovery import FetchPolicy
from registrar.domain.entities import ApiToken
from registrar.domain.mcp import McpServerCreate, McpServerPatch
from registrar.events import catalog as ev
from registrar.services import mcp_refresh
from registrar.services import mcp_servers as svc

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import (
    MCP_SERVERS,
    base_url,
    json_response,
    list_response,
    mcp_auth_server_json,
    mcp_server_json,
    page_params,
)
from ..security import request_context, require_scope
from ..slow_work import SlowWork

__all__ = ["discovery_policy", "router"]

router = APIRouter(prefix=MCP_SERVERS, tags=["MCP servers"])

_READ = ("okta.resourceServers.mcpServers.read", "okta.resourceServers.mcpServers.manage")


def discovery_policy(deps: ServiceDeps) -> FetchPolicy:
    """How discovery may reach the network (from the settings; tests override this dependency)."""
    return FetchPolicy.from_settings(deps.settings)


DiscoveryPolicy = Annotated[FetchPolicy, Depends(discovery_policy)]

T = TypeVar("T")


async def _discovering(request: Request, token: ApiToken, func: Callable[..., T], *args: object) -> T:
    """Run an operation that discovers on the discovery capacity, never on the shared thread pool.

    A caller without the scope is denied (and audited) before any discovery: it needs no slot.
    """
    if ev.MCP_SERVER_REGISTER.scope not in token.scopes:
        return await run_in_threadpool(func, *args)
    discoveries: SlowWork = request.app.state.discoveries
    return await discoveries.run(token.id, func, *args)


@router.post("", status_code=201, openapi_extra=body_schema(McpServerCreate))
async def register_mcp_server(
    request: Request, deps: ServiceDeps, token: CurrentToken, policy: DiscoveryPolicy
) -> Response:
    """Register an MCP server: discover its authorization servers, then store it INACTIVE."""
    body = await request.body()
    ctx = request_context(request, token)
    detail = await _discovering(request, token, svc.register, deps, ctx, body, policy)
    return json_response(mcp_server_json(detail, base_url(request), deps.org_id), 201)


@router.get("")
def list_mcp_servers(
    request: Request, deps: ServiceDeps, token: CurrentToken, search: str | None = None
) -> Response:
    """List MCP servers."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    page = svc.list_servers(deps, limit=limit, after=after, search=search)
    base = base_url(request)
    return list_response(
        request, page.items, page.next_cursor, lambda d: mcp_server_json(d, base, deps.org_id)
    )


@router.get("/{server_id}")
def get_mcp_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Retrieve an MCP server."""
    require_scope(token, *_READ)
    return json_response(mcp_server_json(svc.get_server(deps, server_id), base_url(request), deps.org_id))


@router.patch("/{server_id}", openapi_extra=body_schema(McpServerPatch, merge_patch=True))
async def update_mcp_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Update an MCP server's metadata (JSON merge patch)."""
    body = await request.body()
    detail = await run_in_threadpool(svc.update, deps, request_context(request, token), server_id, body)
    return json_response(mcp_server_json(detail, base_url(request), deps.org_id))


@router.post("/{server_id}/lifecycle/activate")
def activate_mcp_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Activate an MCP server."""
    detail = svc.activate(deps, request_context(request, token), server_id)
    return json_response(mcp_server_json(detail, base_url(request), deps.org_id))


@router.post("/{server_id}/lifecycle/deactivate")
def deactivate_mcp_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Deactivate an MCP server."""
    detail = svc.deactivate(deps, request_context(request, token), server_id)
    return json_response(mcp_server_json(detail, base_url(request), deps.org_id))


@router.delete("/{server_id}", status_code=204)
def delete_mcp_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Delete an MCP server that is not ACTIVE, with its authorization servers."""
    svc.delete_server(deps, request_context(request, token), server_id)
    return Response(status_code=204)


@router.post("/{server_id}/discovery")
async def refresh_mcp_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, policy: DiscoveryPolicy
) -> Response:
    """Re-run discovery for an MCP server and record what changed."""
    ctx = request_context(request, token)
    detail = await _discovering(request, token, mcp_refresh.refresh, deps, ctx, server_id, policy)
    return json_response(mcp_server_json(detail, base_url(request), deps.org_id))


@router.get("/{server_id}/authorization-servers")
def list_authorization_servers(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, filter: str | None = None
) -> Response:
    """List the authorization servers of an MCP server."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    page = svc.list_auth_servers(deps, server_id, limit=limit, after=after, filter_text=filter)
    base = base_url(request)
    return list_response(request, page.items, page.next_cursor, lambda a: mcp_auth_server_json(a, base))


@router.get("/{server_id}/authorization-servers/{auth_server_id}")
def get_authorization_server(
    request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Retrieve an authorization server of an MCP server."""
    require_scope(token, *_READ)
    return json_response(
        mcp_auth_server_json(svc.get_auth_server(deps, server_id, auth_server_id), base_url(request))
    )
