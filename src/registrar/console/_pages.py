"""The resource-server pages of every kind: list, registration form, detail, and the confirmations.

Each takes the kind's ``ServerView``; the data comes from the same services as the HTTP API
(``registrar.services.resource_servers.servers(kind)``), so a page shows what the API would return.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import NotFound
from registrar.scopes import CAS_MANAGE, CAS_READ
from registrar.services import client_auth_settings as cas
from registrar.services.deps import Deps
from registrar.services.resource_servers import servers

from ._forms import FormErrors
from ._links import events_url
from ._sessions import ConsoleSession
from ._view import ServerView
from ._web import attempt_on, deps_of, listed, not_found, notice_of, render, see_other

__all__ = [
    "ACTIONS",
    "GRANT_TYPES",
    "act",
    "confirm_page",
    "confirm_remove_page",
    "detail_page",
    "form_page",
    "list_page",
    "settings_of",
]

PAGE_SIZE = 25
GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
# A lifecycle action: its button and the notice after it.
ACTIONS = {
    "activate": ("Activate", "activated"),
    "deactivate": ("Deactivate", "deactivated"),
    "delete": ("Delete", "deleted"),
}


def list_page(request: Request, view: ServerView, search: str, after: str) -> Response:
    """The kind's servers, a page at a time, optionally filtered by a SCIM ``search`` expression."""
    svc = servers(view.key)
    found, next_after, error = listed(
        svc.list_servers, deps=deps_of(request), limit=PAGE_SIZE, after=after or None, search=search or None
    )
    context = {
        "title": view.plural,
        "view": view,
        "servers": found,
        "search": search,
        "error": error,
        "next_after": next_after,
        "notice": notice_of(request),
    }
    return render(request, "resource_servers/list.html", context, 400 if error else 200)


def form_page(
    request: Request,
    session: ConsoleSession,
    view: ServerView,
    values: dict[str, Any],
    error: FormErrors | None,
) -> Response:
    """The registration form, empty or as submitted with its error."""
    context = {"title": view.title, "view": view, "values": values, "error": error}
    context |= view.extra.form_context(request, session, values)
    return render(request, "resource_servers/new.html", context, 400 if error else 200)


def settings_of(deps: Deps, session: ConsoleSession, orn: str) -> list[Any] | None:
    """The client authentication settings for the resource ``orn``; None when the session may not read any."""
    if not session.scopes.intersection((CAS_READ, CAS_MANAGE)):
        return None
    return list(cas.list_settings(deps, limit=200, after=None, search=f'resourceOrn eq "{orn}"').items)


def detail_page(
    request: Request,
    session: ConsoleSession,
    view: ServerView,
    server_id: str,
    *,
    error: FormErrors | None = None,
    error_scope: str = "",
) -> Response:
    """One server: its details, what its kind detects, its authorization servers and credentials.

    ``error_scope`` says which of the page's forms ``error`` belongs to (it is shown next to that one).
    """
    deps = deps_of(request)
    try:
        detail = servers(view.key).get_server(deps, server_id)
    except NotFound:
        return not_found(request, server_id)
    server = detail.server
    orn = view.kind.orn(deps.org_id, server.id)
    settings = settings_of(deps, session, orn)
    context = {
        "title": server.display_name,
        "view": view,
        "kind": view.kind,
        "server": server,
        "detail": detail,
        "auth_servers": detail.authorization_servers,
        "orn": orn,
        "settings": settings,
        "grant_types": GRANT_TYPES,
        "events_href": events_url(server.id, range="30d"),
        "error": error,
        "error_scope": error_scope,
        "notice": notice_of(request),
    }
    context |= view.extra.detail_context(request, session, detail, settings)
    return render(request, "resource_servers/detail.html", context, 400 if error else 200)


async def act(
    request: Request,
    session: ConsoleSession,
    view: ServerView,
    server_id: str,
    error_scope: str,
    location: str,
    call: Any,
    *args: Any,
    fetches: bool = False,
) -> Response:
    """Run a service call for a form of a server's page: on success, go to ``location``; on an error
    (already audited by the service), show the page again with the error next to the form."""
    _, error = await attempt_on(request, session, fetches, call, *args)
    if error is not None:
        return await run_in_threadpool(
            detail_page, request, session, view, server_id, error=error, error_scope=error_scope
        )
    return see_other(location)


def confirm_page(request: Request, view: ServerView, server_id: str, action: str) -> Response:
    """Ask before activating, deactivating or deleting a server."""
    if action not in ACTIONS:
        return not_found(request, action)
    try:
        detail = servers(view.key).get_server(deps_of(request), server_id)
    except NotFound:
        return not_found(request, server_id)
    server, verb = detail.server, ACTIONS[action][0]
    context = {
        "title": f"{verb} {server.display_name}?",
        "action": action,
        "verb": verb,
        "kind": view.kind.label,
        "name": server.display_name,
        "resource_url": server.resource_url,
        "status": server.status,
        "cascade": len(detail.authorization_servers) if action == "delete" else 0,
        "action_url": f"{view.base}/{server.id}/{action}",
        "cancel_url": f"{view.base}/{server.id}",
    }
    return render(request, "confirm.html", context)


def confirm_remove_page(request: Request, view: ServerView, server_id: str, auth_server_id: str) -> Response:
    """Ask before unlinking an authorization server from a server."""
    svc, deps = servers(view.key), deps_of(request)
    try:
        server = svc.get_server(deps, server_id).server
        auth = svc.get_auth_server(deps, server_id, auth_server_id)
    except NotFound as missing:
        return not_found(request, missing.object_id)
    context = {
        "title": f"Remove {auth.issuer}?",
        "action": "remove",
        "verb": "Remove",
        "kind": "authorization server",
        "name": auth.issuer,
        "parent": server.display_name,
        "parent_kind": view.kind.label,
        "action_url": f"{view.base}/{server.id}/authorization-servers/{auth.id}/remove",
        "cancel_url": f"{view.base}/{server.id}#as-{auth.id}",
    }
    return render(request, "confirm.html", context)
