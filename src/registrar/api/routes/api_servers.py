"""``/resource-servers/api/v1/api-servers`` and their authorization servers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.domain.inputs import ApiServerCreate, ApiServerPatch, AuthServerCreate, AuthServerPatch
from registrar.services import api_servers as svc

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import (
    API_SERVERS,
    api_auth_server_json,
    api_server_json,
    base_url,
    json_response,
    list_response,
    page_params,
)
from ..security import request_context, require_scope

__all__ = ["router"]

router = APIRouter(prefix=API_SERVERS, tags=["API servers"])

_READ = ("okta.resourceServers.apiServers.read", "okta.resourceServers.apiServers.manage")


@router.post("", status_code=201, openapi_extra=body_schema(ApiServerCreate))
async def register_api_server(
    request: Request, deps: ServiceDeps, token: CurrentToken, activate: bool = False
) -> Response:
    """Register an API server."""
    body = await request.body()
    ctx = request_context(request, token)
    server = await run_in_threadpool(svc.register, deps, ctx, body, activate=activate)
    return json_response(api_server_json(server, base_url(request), deps.org_id), 201)


@router.get("")
def list_api_servers(
    request: Request, deps: ServiceDeps, token: CurrentToken, search: str | None = None
) -> Response:
    """List API servers."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    page = svc.list_servers(deps, limit=limit, after=after, search=search)
    base = base_url(request)
    return list_response(
        request, page.items, page.next_cursor, lambda s: api_server_json(s, base, deps.org_id)
    )


@router.get("/{server_id}")
def get_api_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Retrieve an API server."""
    require_scope(token, *_READ)
    return json_response(api_server_json(svc.get_server(deps, server_id), base_url(request), deps.org_id))


@router.patch("/{server_id}", openapi_extra=body_schema(ApiServerPatch, merge_patch=True))
async def update_api_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Update an API server (JSON merge patch)."""
    body = await request.body()
    server = await run_in_threadpool(svc.update, deps, request_context(request, token), server_id, body)
    return json_response(api_server_json(server, base_url(request), deps.org_id))


@router.post("/{server_id}/lifecycle/activate")
def activate_api_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Activate an API server."""
    server = svc.activate(deps, request_context(request, token), server_id)
    return json_response(api_server_json(server, base_url(request), deps.org_id))


@router.post("/{server_id}/lifecycle/deactivate")
def deactivate_api_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Deactivate an API server."""
    server = svc.deactivate(deps, request_context(request, token), server_id)
    return json_response(api_server_json(server, base_url(request), deps.org_id))


@router.delete("/{server_id}", status_code=204)
def delete_api_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
    """Delete an INACTIVE API server."""
    svc.delete_server(deps, request_context(request, token), server_id)
    return Response(status_code=204)


@router.post(
    "/{server_id}/authorization-servers", status_code=201, openapi_extra=body_schema(AuthServerCreate)
)
async def add_authorization_server(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Link a third-party authorization server to an API server."""
    body = await request.body()
    auth = await run_in_threadpool(
        svc.add_auth_server, deps, request_context(request, token), server_id, body
    )
    return json_response(api_auth_server_json(auth, base_url(request)), 201)


@router.get("/{server_id}/authorization-servers")
def list_authorization_servers(
    request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, filter: str | None = None
) -> Response:
    """List the authorization servers of an API server."""
    require_scope(token, *_READ)
    limit, after = page_params(request)
    page = svc.list_auth_servers(deps, server_id, limit=limit, after=after, filter_text=filter)
    base = base_url(request)
    return list_response(request, page.items, page.next_cursor, lambda a: api_auth_server_json(a, base))


@router.get("/{server_id}/authorization-servers/{auth_server_id}")
def get_authorization_server(
    request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Retrieve an authorization server of an API server."""
    require_scope(token, *_READ)
    return json_response(
        api_auth_server_json(svc.get_auth_server(deps, server_id, auth_server_id), base_url(request))
    )


@router.patch(
    "/{server_id}/authorization-servers/{auth_server_id}",
    openapi_extra=body_schema(AuthServerPatch, merge_patch=True),
)
async def update_authorization_server(
    request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Update an authorization server of an API server (JSON merge patch)."""
    body = await request.body()
    ctx = request_context(request, token)
    auth = await run_in_threadpool(svc.update_auth_server, deps, ctx, server_id, auth_server_id, body)
    return json_response(api_auth_server_json(auth, base_url(request)))


@router.delete("/{server_id}/authorization-servers/{auth_server_id}", status_code=204)
def remove_authorization_server(
    request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
) -> Response:
    """Unlink an authorization server from an API server."""
    svc.remove_auth_server(deps, request_context(request, token), server_id, auth_server_id)
    return Response(status_code=204)
