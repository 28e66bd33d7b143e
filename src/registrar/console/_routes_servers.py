"""The resource-server pages of every kind, through the same audited services as the HTTP API.

One set of routes per kind, built by ``install`` from its ``ServerView`` (``_kinds.VIEWS``): list (SCIM
search, pages), registration, detail, metadata edit, lifecycle with confirmation, delete, and the
authorization-server forms where the kind allows them (``Kind.auth_add``, ``auth_patch``,
``auth_remove``); a kind's own pages come from its view's ``Extra``. Operations that read the network
(a discovery, an agent card, an issuer's metadata) run on the discovery capacity, as in the API.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.services.resource_servers import servers

from . import _pages as pages
from ._forms import optional, text
from ._kinds import views
from ._view import ServerView
from ._web import (
    ConsoleRoute,
    CurrentSession,
    attempt_on,
    deps_of,
    fetch_policy,
    not_found,
    posted,
    require_scopes,
    see_other,
)

__all__ = ["install", "router"]


def install(router: APIRouter, view: ServerView) -> None:
    """Add the pages of one kind's servers to ``router``."""
    _page_routes(router, view)
    _auth_server_routes(router, view)
    view.extra.install(router, view)
    _lifecycle_route(router, view)  # last: its ``{action}`` segment would otherwise shadow the routes above


def _page_routes(router: APIRouter, view: ServerView) -> None:
    kind, base = view.kind, view.base
    svc = servers(view.key)

    @router.get(base)
    def list_servers(
        request: Request, session: CurrentSession, search: str = "", after: str = ""
    ) -> Response:
        """The kind's servers, optionally filtered with a SCIM ``search`` expression."""
        require_scopes(session, *kind.read_scopes)
        return pages.list_page(request, view, search, after)

    @router.get(base + "/new")
    def new_server(request: Request, session: CurrentSession) -> Response:
        """The registration form."""
        require_scopes(session, *kind.read_scopes)
        return pages.form_page(request, session, view, {}, None)

    @router.post(base + "/new")
    async def register_server(request: Request, session: CurrentSession) -> Response:
        """Register a server (the kind's ``register`` event, with what its registration found)."""
        form, ctx = await posted(request, session)
        values = view.form_values(form)
        run = partial(svc.register, activate=bool(values.get("activate")))
        body = view.registration_body(values)
        deps = deps_of(request)
        detail, error = await attempt_on(
            request, session, kind.fetches, run, deps, ctx, body, fetch_policy(request)
        )
        if error is not None or detail is None:
            return await run_in_threadpool(pages.form_page, request, session, view, values, error)
        return see_other(f"{base}/{detail.server.id}?notice={view.done}")

    @router.get(base + "/{server_id}")
    def server_detail(request: Request, server_id: str, session: CurrentSession) -> Response:
        """One server: details, what its kind detects, authorization servers, credentials."""
        require_scopes(session, *kind.read_scopes)
        return pages.detail_page(request, session, view, server_id)

    @router.post(base + "/{server_id}/edit")
    async def update_server(request: Request, server_id: str, session: CurrentSession) -> Response:
        """Change the display name or description (the kind's ``update`` event)."""
        form, ctx = await posted(request, session)
        metadata = {"displayName": text(form, "displayName"), "description": optional(form, "description")}
        body = orjson.dumps({"metadata": metadata})
        location = f"{base}/{server_id}?notice=updated"
        return await pages.act(
            request,
            session,
            view,
            server_id,
            "edit",
            location,
            svc.update,
            deps_of(request),
            ctx,
            server_id,
            body,
        )

    @router.get(base + "/{server_id}/confirm/{action}")
    def confirm_action(request: Request, server_id: str, action: str, session: CurrentSession) -> Response:
        """Ask before activating, deactivating or deleting."""
        require_scopes(session, *kind.read_scopes)
        return pages.confirm_page(request, view, server_id, action)


def _auth_body(form: Any, *, entered: bool, with_issuer: bool) -> bytes:
    """An authorization server's body: its issuer and, when an admin enters it, endpoints and grant types."""
    body: dict[str, Any] = {"issuer": text(form, "issuer")} if with_issuer else {}
    if entered:
        grants = [g.strip() for g in form.getlist("grantTypesSupported") if isinstance(g, str) and g.strip()]
        grants += text(form, "otherGrantTypes").split()
        body |= {
            "authorizationEndpoint": text(form, "authorizationEndpoint"),
            "tokenEndpoint": text(form, "tokenEndpoint"),
            "grantTypesSupported": list(dict.fromkeys(grants)),
        }
    return orjson.dumps(body)


def _auth_server_routes(router: APIRouter, view: ServerView) -> None:
    kind, base = view.kind, view.base
    svc = servers(view.key)
    linked = base + "/{server_id}/authorization-servers"
    entered = kind.auth_add == "entered"

    if kind.auth_add is not None:

        @router.post(linked)
        async def add_authorization_server(
            request: Request, server_id: str, session: CurrentSession
        ) -> Response:
            """Link an authorization server (entered, or named by its issuer and discovered)."""
            form, ctx = await posted(request, session)
            body = _auth_body(form, entered=entered, with_issuer=True)
            location = f"{base}/{server_id}?notice=auth-server-added"
            args = (svc.add_auth_server, deps_of(request), ctx, server_id, body, fetch_policy(request))
            return await pages.act(
                request, session, view, server_id, "add-auth-server", location, *args, fetches=not entered
            )

    if kind.auth_patch:

        @router.post(linked + "/{auth_server_id}/edit")
        async def update_authorization_server(
            request: Request, server_id: str, auth_server_id: str, session: CurrentSession
        ) -> Response:
            """Change an entered authorization server's endpoints or grant types."""
            form, ctx = await posted(request, session)
            body = _auth_body(form, entered=True, with_issuer=False)
            location = f"{base}/{server_id}?notice=auth-server-updated#as-{auth_server_id}"
            args = (svc.update_auth_server, deps_of(request), ctx, server_id, auth_server_id, body)
            return await pages.act(
                request, session, view, server_id, f"edit-{auth_server_id}", location, *args
            )

    if kind.auth_remove:

        @router.get(linked + "/{auth_server_id}/confirm-remove")
        def confirm_remove_authorization_server(
            request: Request, server_id: str, auth_server_id: str, session: CurrentSession
        ) -> Response:
            """Ask before unlinking an authorization server."""
            require_scopes(session, *kind.read_scopes)
            return pages.confirm_remove_page(request, view, server_id, auth_server_id)

        @router.post(linked + "/{auth_server_id}/remove")
        async def remove_authorization_server(
            request: Request, server_id: str, auth_server_id: str, session: CurrentSession
        ) -> Response:
            """Unlink an authorization server."""
            _, ctx = await posted(request, session)
            location = f"{base}/{server_id}?notice=auth-server-removed"
            args = (svc.remove_auth_server, deps_of(request), ctx, server_id, auth_server_id)
            return await pages.act(request, session, view, server_id, "lifecycle", location, *args)


def _lifecycle_route(router: APIRouter, view: ServerView) -> None:
    base, svc = view.base, servers(view.key)
    operations = {"activate": svc.activate, "deactivate": svc.deactivate, "delete": svc.delete_server}

    @router.post(base + "/{server_id}/{action}")
    async def server_action(
        request: Request, server_id: str, action: str, session: CurrentSession
    ) -> Response:
        """Activate, deactivate or delete, after confirmation."""
        _, ctx = await posted(request, session)
        if action not in operations:
            return not_found(request, action)
        notice = pages.ACTIONS[action][1]
        location = f"{base}?notice={notice}" if action == "delete" else f"{base}/{server_id}?notice={notice}"
        args = (operations[action], deps_of(request), ctx, server_id)
        return await pages.act(request, session, view, server_id, "lifecycle", location, *args)


router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
for _view in views():
    install(router, _view)
