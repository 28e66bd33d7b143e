"""MCP servers: registration by discovery, detail with detected metadata, lifecycle, refresh."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from registrar.discovery import FetchPolicy
from registrar.errors import NotFound, RegistrarError
from registrar.kinds import mcp
from registrar.services import client_auth_settings as cas
from registrar.services import mcp_refresh
from registrar.services.resource_servers import servers

from ._forms import NOTICES, FormErrors, errors_of, optional, text
from ._links import events_url
from ._web import (
    ConsoleRoute,
    CurrentSession,
    attempt,
    attempt_discovery,
    audit_context,
    check_csrf,
    deps_of,
    not_found,
    render,
    require_scopes,
)

__all__ = ["router"]

svc = servers(mcp.KIND.key)

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_READ = ("okta.resourceServers.mcpServers.read", "okta.resourceServers.mcpServers.manage")
_CAS_READ = ("okta.resourceServers.clientAuthSettings.read", "okta.resourceServers.clientAuthSettings.manage")
PAGE_SIZE = 25
_ACTIONS = {
    "activate": ("Activate", "activated", svc.activate),
    "deactivate": ("Deactivate", "deactivated", svc.deactivate),
    "delete": ("Delete", "deleted", svc.delete_server),
}


def _policy(request: Request) -> FetchPolicy:
    # The operator's SSRF policy, exactly as the HTTP API applies it.
    return FetchPolicy.from_settings(deps_of(request).settings)


@router.get("/mcp-servers")
def list_mcp_servers(
    request: Request, session: CurrentSession, search: str = "", after: str = ""
) -> Response:
    """MCP servers, optionally filtered with a SCIM ``search`` expression."""
    require_scopes(session, *_READ)
    error: FormErrors | None = None
    servers: list[Any] = []
    next_after = None
    try:
        page = svc.list_servers(deps_of(request), limit=PAGE_SIZE, after=after or None, search=search or None)
        servers, next_after = list(page.items), page.next_cursor
    except RegistrarError as failure:
        error = errors_of(failure)
    context = {
        "title": "MCP servers",
        "servers": servers,
        "search": search,
        "error": error,
        "next_after": next_after,
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
    }
    return render(request, "mcp_servers/list.html", context, 400 if error else 200)


def _form_page(request: Request, values: dict[str, Any], error: FormErrors | None) -> Response:
    context = {"title": "Register an MCP server", "values": values, "error": error}
    return render(request, "mcp_servers/new.html", context, 400 if error else 200)


@router.get("/mcp-servers/new")
def new_mcp_server(request: Request, session: CurrentSession) -> Response:
    """The registration form."""
    require_scopes(session, *_READ)
    return _form_page(request, {}, None)


@router.post("/mcp-servers/new")
async def register_mcp_server(request: Request, session: CurrentSession) -> Response:
    """Discover and register an MCP server (one ``auth_server.create`` each, then ``register``)."""
    form = await request.form()
    check_csrf(request, session, form)
    values = {
        "resourceUrl": text(form, "resourceUrl"),
        "displayName": text(form, "displayName"),
        "description": text(form, "description"),
    }
    metadata = {"displayName": optional(form, "displayName"), "description": optional(form, "description")}
    body = orjson.dumps(
        {"resourceUrl": values["resourceUrl"], "metadata": {k: v for k, v in metadata.items() if v}}
    )
    ctx = audit_context(request, session)
    detail, error = await attempt_discovery(
        request, session, svc.register, deps_of(request), ctx, body, _policy(request)
    )
    if error is not None or detail is None:
        return await run_in_threadpool(_form_page, request, values, error)
    return RedirectResponse(f"/mcp-servers/{detail.server.id}?notice=registered", status_code=303)


def _detail(
    request: Request, session: Any, server_id: str, *, error: FormErrors | None = None, error_scope: str = ""
) -> Response:
    deps = deps_of(request)
    try:
        detail = svc.get_server(deps, server_id)
    except NotFound:
        return not_found(request, server_id)
    orn = mcp.KIND.orn(deps.org_id, detail.server.id)
    settings: list[Any] | None = None
    if session.scopes.intersection(_CAS_READ):
        settings = list(
            cas.list_settings(deps, limit=200, after=None, search=f'resourceOrn eq "{orn}"').items
        )
    context = {
        "title": detail.server.display_name,
        "server": detail.server,
        "auth_servers": detail.authorization_servers,
        "orn": orn,
        "settings": settings,
        "events_href": events_url(detail.server.id, range="30d"),
        "error": error,
        "error_scope": error_scope,
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
    }
    return render(request, "mcp_servers/detail.html", context, 400 if error else 200)


@router.get("/mcp-servers/{server_id}")
def mcp_server_detail(request: Request, server_id: str, session: CurrentSession) -> Response:
    """One MCP server: detected metadata, discovered authorization servers, status."""
    require_scopes(session, *_READ)
    return _detail(request, session, server_id)


@router.post("/mcp-servers/{server_id}/edit")
async def update_mcp_server(request: Request, server_id: str, session: CurrentSession) -> Response:
    """Change the display name or description (``mcp_server.update``)."""
    form = await request.form()
    check_csrf(request, session, form)
    body = orjson.dumps(
        {"metadata": {"displayName": text(form, "displayName"), "description": optional(form, "description")}}
    )
    ctx = audit_context(request, session)
    _, error = await attempt(svc.update, deps_of(request), ctx, server_id, body)
    if error is not None:
        return await run_in_threadpool(_detail, request, session, server_id, error=error, error_scope="edit")
    return RedirectResponse(f"/mcp-servers/{server_id}?notice=updated", status_code=303)


@router.post("/mcp-servers/{server_id}/refresh")
async def refresh_mcp_server(request: Request, server_id: str, session: CurrentSession) -> Response:
    """Run discovery again and record what changed (``mcp_server.update`` / ``auth_server.*``)."""
    form = await request.form()
    check_csrf(request, session, form)
    ctx = audit_context(request, session)
    _, error = await attempt_discovery(
        request, session, mcp_refresh.refresh, deps_of(request), ctx, server_id, _policy(request)
    )
    if error is not None:
        return await run_in_threadpool(
            _detail, request, session, server_id, error=error, error_scope="lifecycle"
        )
    return RedirectResponse(f"/mcp-servers/{server_id}?notice=refreshed", status_code=303)


@router.get("/mcp-servers/{server_id}/confirm/{action}")
def confirm_mcp_server_action(
    request: Request, server_id: str, action: str, session: CurrentSession
) -> Response:
    """Ask before activating, deactivating or deleting."""
    require_scopes(session, *_READ)
    if action not in _ACTIONS:
        return not_found(request, action)
    try:
        detail = svc.get_server(deps_of(request), server_id)
    except NotFound:
        return not_found(request, server_id)
    server = detail.server
    context = {
        "title": f"{_ACTIONS[action][0]} {server.display_name}?",
        "action": action,
        "verb": _ACTIONS[action][0],
        "kind": "MCP server",
        "name": server.display_name,
        "resource_url": server.resource_url,
        "status": server.status,
        "cascade": len(detail.authorization_servers) if action == "delete" else 0,
        "action_url": f"/mcp-servers/{server.id}/{action}",
        "cancel_url": f"/mcp-servers/{server.id}",
    }
    return render(request, "confirm.html", context)


@router.post("/mcp-servers/{server_id}/{action}")
async def mcp_server_action(
    request: Request, server_id: str, action: str, session: CurrentSession
) -> Response:
    """Activate, deactivate or delete, after confirmation."""
    form = await request.form()
    check_csrf(request, session, form)
    if action not in _ACTIONS:
        return not_found(request, action)
    _, notice, operation = _ACTIONS[action]
    ctx = audit_context(request, session)
    _, error = await attempt(operation, deps_of(request), ctx, server_id)
    if error is not None:
        return await run_in_threadpool(
            _detail, request, session, server_id, error=error, error_scope="lifecycle"
        )
    if action == "delete":
        return RedirectResponse(f"/mcp-servers?notice={notice}", status_code=303)
    return RedirectResponse(f"/mcp-servers/{server_id}?notice={notice}", status_code=303)
