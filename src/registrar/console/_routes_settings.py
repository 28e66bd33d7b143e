"""Client authentication settings. The client secret is write-only: a password input, never rendered back."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import NotFound
from registrar.scopes import CAS_MANAGE, CAS_READ
from registrar.services import client_auth_settings
from registrar.services.deps import Deps, client_auth_settings_orn
from registrar.services.resource_servers import servers

from ._forms import FormErrors, text
from ._kinds import views
from ._links import events_url
from ._web import (
    ConsoleRoute,
    CurrentSession,
    attempt,
    deps_of,
    listed,
    not_found,
    notice_of,
    posted,
    render,
    require_scopes,
    see_other,
)

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# The settings pages: for those who read settings, or a kind of server settings are for.
_READ = (CAS_READ, CAS_MANAGE, *(view.kind.read_scopes[0] for view in views()))
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
_SHORT = {"vmcp": "Virtual MCP"}  # a kind's label before a server's name, where it is not its key's


def _resources(deps: Deps, scopes: frozenset[str]) -> list[dict[str, str]]:
    """The resource servers settings can be created for, as ``{orn, label, href}`` choices."""
    choices = []
    for view in views():
        kind = view.kind
        if not scopes.intersection(kind.read_scopes):
            continue
        short = _SHORT.get(kind.key, kind.key.upper())
        for listed_server in servers(kind.key).list_servers(deps, limit=200, after=None, search=None).items:
            server = listed_server.server
            choices.append(
                {
                    "orn": kind.orn(deps.org_id, server.id),
                    "label": f"{short} · {server.display_name}",
                    "href": f"{view.base}/{server.id}",
                }
            )
    return choices


@router.get("/client-auth-settings")
def list_settings(request: Request, session: CurrentSession, after: str = "") -> Response:
    """All client authentication settings, with the resource server each is for."""
    require_scopes(session, *_READ)
    deps = deps_of(request)
    items, next_after, error = listed(
        client_auth_settings.list_settings, deps=deps, limit=50, after=after or None, search=None
    )
    resources = {choice["orn"]: choice for choice in _resources(deps, session.scopes)}
    context = {
        "title": "Client authentication settings",
        "items": items,
        "resources": resources,
        "error": error,
        "next_after": next_after,
        "notice": notice_of(request),
    }
    return render(request, "settings/list.html", context)


def _form_page(request: Request, session: Any, values: dict[str, Any], error: FormErrors | None) -> Response:
    context = {
        "title": "New client authentication settings",
        "values": values,
        "error": error,
        "resources": _resources(deps_of(request), session.scopes),
        "auth_methods": AUTH_METHODS,
    }
    return render(request, "settings/new.html", context, 400 if error else 200)


@router.get("/client-auth-settings/new")
def new_settings(request: Request, session: CurrentSession, resourceOrn: str = "") -> Response:  # noqa: N803
    """The creation form (``resourceOrn`` preselects a resource server)."""
    require_scopes(session, *_READ)
    return _form_page(request, session, {"resourceOrn": resourceOrn}, None)


def _values(form: Any) -> dict[str, Any]:
    """What the form showed, to show again after an error: never the secret."""
    return {
        "name": text(form, "name"),
        "resourceOrn": text(form, "resourceOrn"),
        "clientId": text(form, "clientId"),
        "scopes": text(form, "scopes"),
        "tokenEndpointAuthMethod": text(form, "tokenEndpointAuthMethod"),
    }


@router.post("/client-auth-settings/new")
async def create_settings(request: Request, session: CurrentSession) -> Response:
    """Create settings (``client_authentication_settings.create``); the secret goes only to the service."""
    form, ctx = await posted(request, session)
    values = _values(form)
    secret = form.get("clientSecret")
    body = orjson.dumps(
        {
            "name": values["name"],
            "resourceOrn": values["resourceOrn"],
            "purpose": ["STS"],
            "configuration": {
                "clientId": values["clientId"],
                "clientSecret": secret if isinstance(secret, str) else "",
                "scopes": values["scopes"].split(),
                "tokenEndpointAuthMethod": values["tokenEndpointAuthMethod"] or "client_secret_basic",
            },
        }
    )
    created, error = await attempt(client_auth_settings.create, deps_of(request), ctx, body)
    if error is not None or created is None:
        return await run_in_threadpool(_form_page, request, session, values, error)
    return see_other(f"/client-auth-settings/{created.id}?notice=created")


def _detail(request: Request, session: Any, settings_id: str, error: FormErrors | None = None) -> Response:
    deps = deps_of(request)
    try:
        settings = client_auth_settings.get_settings(deps, settings_id)
    except NotFound:
        return not_found(request, settings_id)
    resources = _resources(deps, session.scopes)
    context = {
        "title": settings.name,
        "settings": settings,
        "orn": client_auth_settings_orn(deps.org_id, settings.id),
        "resources": resources,
        "resource": next((r for r in resources if r["orn"] == settings.resource_orn), None),
        "auth_methods": AUTH_METHODS,
        "events_href": events_url(settings.id, range="30d"),
        "error": error,
        "notice": notice_of(request),
    }
    return render(request, "settings/detail.html", context, 400 if error else 200)


@router.get("/client-auth-settings/{settings_id}")
def settings_detail(request: Request, settings_id: str, session: CurrentSession) -> Response:
    """One settings object and its edit form (the secret field always starts empty)."""
    require_scopes(session, *_READ)
    return _detail(request, session, settings_id)


@router.post("/client-auth-settings/{settings_id}/edit")
async def update_settings(request: Request, settings_id: str, session: CurrentSession) -> Response:
    """Update settings (``client_authentication_settings.update``); an empty secret field keeps the secret."""
    form, ctx = await posted(request, session)
    values = _values(form)
    configuration: dict[str, Any] = {
        "clientId": values["clientId"],
        "scopes": values["scopes"].split(),
        "tokenEndpointAuthMethod": values["tokenEndpointAuthMethod"] or "client_secret_basic",
    }
    secret = form.get("clientSecret")
    if isinstance(secret, str) and secret:
        configuration["clientSecret"] = secret
    body = orjson.dumps(
        {"name": values["name"], "resourceOrn": values["resourceOrn"], "configuration": configuration}
    )
    return await _settings_action(
        request,
        session,
        settings_id,
        f"/client-auth-settings/{settings_id}?notice=updated",
        client_auth_settings.update,
        ctx,
        settings_id,
        body,
    )


@router.get("/client-auth-settings/{settings_id}/confirm/delete")
def confirm_delete_settings(request: Request, settings_id: str, session: CurrentSession) -> Response:
    """Ask before deleting (the sealed secret goes with the settings)."""
    require_scopes(session, *_READ)
    try:
        settings = client_auth_settings.get_settings(deps_of(request), settings_id)
    except NotFound:
        return not_found(request, settings_id)
    context = {
        "title": f"Delete {settings.name}?",
        "action": "delete",
        "verb": "Delete",
        "kind": "client authentication settings",
        "name": settings.name,
        "action_url": f"/client-auth-settings/{settings.id}/delete",
        "cancel_url": f"/client-auth-settings/{settings.id}",
    }
    return render(request, "confirm.html", context)


@router.post("/client-auth-settings/{settings_id}/delete")
async def delete_settings(request: Request, settings_id: str, session: CurrentSession) -> Response:
    """Delete settings (``client_authentication_settings.delete``)."""
    _, ctx = await posted(request, session)
    return await _settings_action(
        request,
        session,
        settings_id,
        "/client-auth-settings?notice=deleted",
        client_auth_settings.delete_settings,
        ctx,
        settings_id,
    )


async def _settings_action(
    request: Request, session: Any, settings_id: str, location: str, call: Any, *args: Any
) -> Response:
    """Run a change of one settings object: on success, go to ``location``; else show it with the error."""
    _, error = await attempt(call, deps_of(request), *args)
    if error is not None:
        return await run_in_threadpool(_detail, request, session, settings_id, error)
    return see_other(location)
