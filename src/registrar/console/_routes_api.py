"""API servers and their authorization servers, through the same audited services as the HTTP API."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from registrar.errors import NotFound, RegistrarError
from registrar.kinds import api
from registrar.services import client_auth_settings as cas
from registrar.services.resource_servers import servers as kind_servers

from ._forms import NOTICES, FormErrors, errors_of, optional, text
from ._links import events_url
from ._web import (
    ConsoleRoute,
    CurrentSession,
    attempt,
    audit_context,
    check_csrf,
    deps_of,
    not_found,
    render,
    require_scopes,
)

__all__ = ["router"]

svc = kind_servers(api.KIND.key)

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_READ = ("okta.resourceServers.apiServers.read", "okta.resourceServers.apiServers.manage")
_CAS_READ = ("okta.resourceServers.clientAuthSettings.read", "okta.resourceServers.clientAuthSettings.manage")
PAGE_SIZE = 25
GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
_ACTIONS = {
    "activate": ("Activate", "activated", svc.activate),
    "deactivate": ("Deactivate", "deactivated", svc.deactivate),
    "delete": ("Delete", "deleted", svc.delete_server),
}


def _json(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value)


@router.get("/api-servers")
def list_api_servers(
    request: Request, session: CurrentSession, search: str = "", after: str = ""
) -> Response:
    """API servers, optionally filtered with a SCIM ``search`` expression."""
    require_scopes(session, *_READ)
    error: FormErrors | None = None
    servers: list[Any] = []
    next_after = None
    try:
        page = svc.list_servers(deps_of(request), limit=PAGE_SIZE, after=after or None, search=search or None)
        servers, next_after = [detail.server for detail in page.items], page.next_cursor
    except RegistrarError as failure:
        error = errors_of(failure)
    context = {
        "title": "API servers",
        "servers": servers,
        "search": search,
        "error": error,
        "next_after": next_after,
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
    }
    return render(request, "api_servers/list.html", context, 400 if error else 200)


def _form_page(request: Request, values: dict[str, Any], error: FormErrors | None) -> Response:
    context = {"title": "Register an API server", "values": values, "error": error}
    return render(request, "api_servers/new.html", context, 400 if error else 200)


@router.get("/api-servers/new")
def new_api_server(request: Request, session: CurrentSession) -> Response:
    """The registration form."""
    require_scopes(session, *_READ)
    return _form_page(request, {}, None)


@router.post("/api-servers/new")
async def register_api_server(request: Request, session: CurrentSession) -> Response:
    """Register an API server (``api_server.register``, and ``activate`` when asked)."""
    form = await request.form()
    check_csrf(request, session, form)
    values = {
        "resourceUrl": text(form, "resourceUrl"),
        "displayName": text(form, "displayName"),
        "description": text(form, "description"),
        "activate": form.get("activate") == "on",
    }
    body = _json(
        {
            "resourceUrl": values["resourceUrl"],
            "metadata": {"displayName": values["displayName"], "description": optional(form, "description")},
        }
    )
    ctx = audit_context(request, session)
    server, error = await attempt(
        lambda: svc.register(deps_of(request), ctx, body, activate=bool(values["activate"]))
    )
    if error is not None or server is None:
        return await run_in_threadpool(_form_page, request, values, error)
    return RedirectResponse(f"/api-servers/{server.server.id}?notice=registered", status_code=303)


def _detail(
    request: Request,
    session: Any,
    server_id: str,
    *,
    error: FormErrors | None = None,
    error_scope: str = "",
) -> Response:
    deps = deps_of(request)
    try:
        server = svc.get_server(deps, server_id).server
    except NotFound:
        return not_found(request, server_id)
    auth_servers = svc.list_auth_servers(deps, server.id, limit=200, after=None, filter_text=None).items
    settings: list[Any] | None = None
    if session.scopes.intersection(_CAS_READ):
        orn = api.KIND.orn(deps.org_id, server.id)
        settings = list(
            cas.list_settings(deps, limit=200, after=None, search=f'resourceOrn eq "{orn}"').items
        )
    context = {
        "title": server.display_name,
        "server": server,
        "orn": api.KIND.orn(deps.org_id, server.id),
        "auth_servers": auth_servers,
        "settings": settings,
        "grant_types": GRANT_TYPES,
        "events_href": events_url(server.id, range="30d"),
        "error": error,
        "error_scope": error_scope,
        "notice": NOTICES.get(request.query_params.get("notice") or ""),
    }
    return render(request, "api_servers/detail.html", context, 400 if error else 200)


@router.get("/api-servers/{server_id}")
def api_server_detail(request: Request, server_id: str, session: CurrentSession) -> Response:
    """One API server: metadata, status, authorization servers, client authentication settings."""
    require_scopes(session, *_READ)
    return _detail(request, session, server_id)


@router.post("/api-servers/{server_id}/edit")
async def update_api_server(request: Request, server_id: str, session: CurrentSession) -> Response:
    """Change the display name or description (``api_server.update``)."""
    form = await request.form()
    check_csrf(request, session, form)
    body = _json(
        {"metadata": {"displayName": text(form, "displayName"), "description": optional(form, "description")}}
    )
    ctx = audit_context(request, session)
    _, error = await attempt(svc.update, deps_of(request), ctx, server_id, body)
    if error is not None:
        return await run_in_threadpool(_detail, request, session, server_id, error=error, error_scope="edit")
    return RedirectResponse(f"/api-servers/{server_id}?notice=updated", status_code=303)


@router.get("/api-servers/{server_id}/confirm/{action}")
def confirm_api_server_action(
    request: Request, server_id: str, action: str, session: CurrentSession
) -> Response:
    """Ask before activating, deactivating or deleting."""
    require_scopes(session, *_READ)
    if action not in _ACTIONS:
        return not_found(request, action)
    try:
        server = svc.get_server(deps_of(request), server_id).server
    except NotFound:
        return not_found(request, server_id)
    context = {
        "title": f"{_ACTIONS[action][0]} {server.display_name}?",
        "action": action,
        "verb": _ACTIONS[action][0],
        "kind": "API server",
        "name": server.display_name,
        "resource_url": server.resource_url,
        "status": server.status,
        "action_url": f"/api-servers/{server.id}/{action}",
        "cancel_url": f"/api-servers/{server.id}",
    }
    return render(request, "confirm.html", context)


# --- authorization servers of an API server --------------------------------------------------------


def _auth_body(form: Any, *, with_issuer: bool) -> bytes:
    grants = [g.strip() for g in form.getlist("grantTypesSupported") if isinstance(g, str) and g.strip()]
    grants += text(form, "otherGrantTypes").split()
    body: dict[str, Any] = {
        "authorizationEndpoint": text(form, "authorizationEndpoint"),
        "tokenEndpoint": text(form, "tokenEndpoint"),
        "grantTypesSupported": list(dict.fromkeys(grants)),
    }
    if with_issuer:
        body = {"issuer": text(form, "issuer"), **body}
    return _json(body)


@router.post("/api-servers/{server_id}/authorization-servers")
async def add_authorization_server(request: Request, server_id: str, session: CurrentSession) -> Response:
    """Link a third-party authorization server (``api_server.auth_server.add``)."""
    form = await request.form()
    check_csrf(request, session, form)
    ctx = audit_context(request, session)
    body = _auth_body(form, with_issuer=True)
    _, error = await attempt(svc.add_auth_server, deps_of(request), ctx, server_id, body)
    if error is not None:
        return await run_in_threadpool(
            _detail, request, session, server_id, error=error, error_scope="add-auth-server"
        )
    return RedirectResponse(f"/api-servers/{server_id}?notice=auth-server-added", status_code=303)


@router.post("/api-servers/{server_id}/authorization-servers/{auth_server_id}/edit")
async def update_authorization_server(
    request: Request, server_id: str, auth_server_id: str, session: CurrentSession
) -> Response:
    """Change a linked authorization server's endpoints or grant types (``api_server.auth_server.update``)."""
    form = await request.form()
    check_csrf(request, session, form)
    ctx = audit_context(request, session)
    body = _auth_body(form, with_issuer=False)
    _, error = await attempt(svc.update_auth_server, deps_of(request), ctx, server_id, auth_server_id, body)
    if error is not None:
        return await run_in_threadpool(
            _detail, request, session, server_id, error=error, error_scope=f"edit-{auth_server_id}"
        )
    return RedirectResponse(
        f"/api-servers/{server_id}?notice=auth-server-updated#as-{auth_server_id}", status_code=303
    )


@router.get("/api-servers/{server_id}/authorization-servers/{auth_server_id}/confirm-remove")
def confirm_remove_authorization_server(
    request: Request, server_id: str, auth_server_id: str, session: CurrentSession
) -> Response:
    """Ask before unlinking an authorization server."""
    require_scopes(session, *_READ)
    try:
        server = svc.get_server(deps_of(request), server_id).server
        auth = svc.get_auth_server(deps_of(request), server_id, auth_server_id)
    except NotFound as missing:
        return not_found(request, missing.object_id)
    context = {
        "title": f"Remove {auth.issuer}?",
        "action": "remove",
        "verb": "Remove",
        "kind": "authorization server",
        "name": auth.issuer,
        "parent": server.display_name,
        "action_url": f"/api-servers/{server.id}/authorization-servers/{auth.id}/remove",
        "cancel_url": f"/api-servers/{server.id}#as-{auth.id}",
    }
    return render(request, "confirm.html", context)


@router.post("/api-servers/{server_id}/authorization-servers/{auth_server_id}/remove")
async def remove_authorization_server(
    request: Request, server_id: str, auth_server_id: str, session: CurrentSession
) -> Response:
    """Unlink an authorization server (``api_server.auth_server.remove``)."""
    form = await request.form()
    check_csrf(request, session, form)
    ctx = audit_context(request, session)
    _, error = await attempt(svc.remove_auth_server, deps_of(request), ctx, server_id, auth_server_id)
    if error is not None:
        return await run_in_threadpool(
            _detail, request, session, server_id, error=error, error_scope="lifecycle"
        )
    return RedirectResponse(f"/api-servers/{server_id}?notice=auth-server-removed", status_code=303)


# Last: its ``{action}`` segment would otherwise shadow the routes above.
@router.post("/api-servers/{server_id}/{action}")
async def api_server_action(
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
        return RedirectResponse(f"/api-servers?notice={notice}", status_code=303)
    return RedirectResponse(f"/api-servers/{server_id}?notice={notice}", status_code=303)
