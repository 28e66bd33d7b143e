"""``/resource-servers/api/v1/{api,mcp,a2a,…}-servers``: one router per kind, built by one factory.

Every kind gets register, list (``search``), get, PATCH, ``lifecycle/{activate,deactivate}``, DELETE and
the list and get of its authorization servers; adding, changing and removing them exist where the kind
allows it (an operation a kind lacks has no route: 405 where the path exists, else 404). Operations that
read the network (a discovery, an agent card) run on the discovery capacity (``SlowWork``), never on the
thread pool that every other endpoint shares. A kind's own extra routes (the MCP refresh) are in
``EXTRA_ROUTES``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.discovery import FetchPolicy
from registrar.domain.entities import ApiToken
from registrar.domain.inputs import AuthServerCreate, AuthServerLink, AuthServerPatch
from registrar.errors import NotFound
from registrar.kinds import KINDS, Kind
from registrar.services import mcp_refresh
from registrar.services.resource_servers import servers

from ..deps import CurrentToken, ServiceDeps, body_schema
from ..responses import (
    auth_server_json,
    base_url,
    json_response,
    list_response,
    page_params,
    server_json,
    servers_path,
)
from ..security import request_context, require_scope
from ..slow_work import SlowWork

__all__ = ["EXTRA_ROUTES", "discovery_policy", "router_for", "routers"]

T = TypeVar("T")


def discovery_policy(deps: ServiceDeps) -> FetchPolicy:
    """How discovery may reach the network (from the settings; tests override this dependency)."""
    return FetchPolicy.from_settings(deps.settings)


DiscoveryPolicy = Annotated[FetchPolicy, Depends(discovery_policy)]


async def _run(request: Request, token: ApiToken, kind: Kind, func: Callable[..., T], *args: Any) -> T:
    """Run an operation of ``kind``: on the discovery capacity when the kind reads the network.

    A caller without the scope is denied (and audited) before any discovery: it needs no slot.
    """
    if not kind.fetches or kind.manage_scope not in token.scopes:
        return await run_in_threadpool(func, *args)
    discoveries: SlowWork = request.app.state.discoveries
    return await discoveries.run(token.id, func, *args)


def router_for(kind: Kind) -> APIRouter:
    """The router of one kind's servers and their authorization servers."""
    svc = servers(kind.key)
    router = APIRouter(prefix=servers_path(kind), tags=[f"{kind.label}s"])

    def render(request: Request, detail: Any, org_id: str, status: int = 200) -> Response:
        return json_response(server_json(kind, detail, base_url(request), org_id), status)

    @router.post(
        "", status_code=201, openapi_extra=body_schema(kind.create_model), name=f"register_{kind.key}"
    )
    async def register(
        request: Request,
        deps: ServiceDeps,
        token: CurrentToken,
        policy: DiscoveryPolicy,
        activate: bool = False,
    ) -> Response:
        """Register a server; it starts INACTIVE (``?activate=true``: ACTIVE)."""
        body = await request.body()
        ctx = request_context(request, token)
        run = partial(svc.register, activate=activate)
        detail = await _run(request, token, kind, run, deps, ctx, body, policy)
        return render(request, detail, deps.org_id, 201)

    @router.get("", name=f"list_{kind.key}")
    def list_servers(
        request: Request, deps: ServiceDeps, token: CurrentToken, search: str | None = None
    ) -> Response:
        """List servers, optionally filtered by a SCIM ``search`` expression."""
        require_scope(token, *kind.read_scopes)
        limit, after = page_params(request)
        page = deps.reads.run(
            lambda engine: svc.list_servers(
                deps.reading_from(engine), limit=limit, after=after, search=search
            )
        )
        base = base_url(request)
        return list_response(
            request, page.items, page.next_cursor, lambda d: server_json(kind, d, base, deps.org_id)
        )

    @router.get("/{server_id}", name=f"get_{kind.key}")
    def get_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
        """Retrieve a server."""
        require_scope(token, *kind.read_scopes)
        return render(request, svc.get_server(deps, server_id), deps.org_id)

    @router.patch(
        "/{server_id}",
        openapi_extra=body_schema(kind.patch_model, merge_patch=True),
        name=f"update_{kind.key}",
    )
    async def update_server(
        request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken
    ) -> Response:
        """Update a server's metadata (JSON merge patch)."""
        body = await request.body()
        detail = await run_in_threadpool(svc.update, deps, request_context(request, token), server_id, body)
        return render(request, detail, deps.org_id)

    @router.post("/{server_id}/lifecycle/activate", name=f"activate_{kind.key}")
    def activate(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
        """Activate a server."""
        return render(request, svc.activate(deps, request_context(request, token), server_id), deps.org_id)

    @router.post("/{server_id}/lifecycle/deactivate", name=f"deactivate_{kind.key}")
    def deactivate(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
        """Deactivate a server."""
        return render(request, svc.deactivate(deps, request_context(request, token), server_id), deps.org_id)

    @router.delete("/{server_id}", status_code=204, name=f"delete_{kind.key}")
    def delete_server(request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken) -> Response:
        """Delete a server that is not ACTIVE, with its authorization servers."""
        svc.delete_server(deps, request_context(request, token), server_id)
        return Response(status_code=204)

    _auth_server_routes(router, kind)
    for install in EXTRA_ROUTES.get(kind.key, ()):
        install(router, kind)
    return router


def _auth_server_routes(router: APIRouter, kind: Kind) -> None:
    svc = servers(kind.key)
    linked = "/{server_id}/authorization-servers"

    if kind.auth_add is not None:
        model = AuthServerCreate if kind.auth_add == "entered" else AuthServerLink

        @router.post(
            linked, status_code=201, openapi_extra=body_schema(model), name=f"add_auth_server_{kind.key}"
        )
        async def add_authorization_server(
            request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, policy: DiscoveryPolicy
        ) -> Response:
            """Link an authorization server to a server."""
            body = await request.body()
            ctx = request_context(request, token)
            fetches = kind.auth_add == "issuer"
            run = _run if fetches else _pooled
            auth = await run(request, token, kind, svc.add_auth_server, deps, ctx, server_id, body, policy)
            return json_response(auth_server_json(kind, auth, base_url(request)), 201)

    @router.get(linked, name=f"list_auth_servers_{kind.key}")
    def list_authorization_servers(
        request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, filter: str | None = None
    ) -> Response:
        """List the authorization servers of a server."""
        require_scope(token, *kind.read_scopes)
        limit, after = page_params(request)
        # A server the replica has not replayed yet is a 404 there: the primary answers for it.
        page = deps.reads.run(
            lambda engine: svc.list_auth_servers(
                deps.reading_from(engine), server_id, limit=limit, after=after, filter_text=filter
            ),
            not_there=(NotFound,),
        )
        base = base_url(request)
        return list_response(request, page.items, page.next_cursor, lambda a: auth_server_json(kind, a, base))

    @router.get(linked + "/{auth_server_id}", name=f"get_auth_server_{kind.key}")
    def get_authorization_server(
        request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
    ) -> Response:
        """Retrieve an authorization server of a server."""
        require_scope(token, *kind.read_scopes)
        auth = svc.get_auth_server(deps, server_id, auth_server_id)
        return json_response(auth_server_json(kind, auth, base_url(request)))

    if kind.auth_patch:

        @router.patch(
            linked + "/{auth_server_id}",
            openapi_extra=body_schema(AuthServerPatch, merge_patch=True),
            name=f"update_auth_server_{kind.key}",
        )
        async def update_authorization_server(
            request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
        ) -> Response:
            """Update an authorization server of a server (JSON merge patch)."""
            body = await request.body()
            ctx = request_context(request, token)
            auth = await run_in_threadpool(svc.update_auth_server, deps, ctx, server_id, auth_server_id, body)
            return json_response(auth_server_json(kind, auth, base_url(request)))

    if kind.auth_remove:

        @router.delete(linked + "/{auth_server_id}", status_code=204, name=f"remove_auth_server_{kind.key}")
        def remove_authorization_server(
            request: Request, server_id: str, auth_server_id: str, deps: ServiceDeps, token: CurrentToken
        ) -> Response:
            """Unlink an authorization server from a server."""
            svc.remove_auth_server(deps, request_context(request, token), server_id, auth_server_id)
            return Response(status_code=204)


async def _pooled(request: Request, token: ApiToken, kind: Kind, func: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(func, *args)


def _refresh_route(router: APIRouter, kind: Kind) -> None:
    @router.post("/{server_id}/discovery", name=f"refresh_{kind.key}")
    async def refresh_server(
        request: Request, server_id: str, deps: ServiceDeps, token: CurrentToken, policy: DiscoveryPolicy
    ) -> Response:
        """Re-run discovery for a server and record what changed."""
        ctx = request_context(request, token)
        detail = await _run(request, token, kind, mcp_refresh.refresh, deps, ctx, server_id, policy)
        return json_response(server_json(kind, detail, base_url(request), deps.org_id))


# A kind's routes beyond the shared ones, by kind key.
EXTRA_ROUTES: dict[str, tuple[Callable[[APIRouter, Kind], None], ...]] = {"mcp": (_refresh_route,)}


@cache
def routers() -> tuple[APIRouter, ...]:
    """One router per registered kind, built once per process: FastAPI's analysis of a route's
    signature is most of what making an application costs, and the routes hold no application state."""
    return tuple(router_for(kind) for kind in KINDS.values())
