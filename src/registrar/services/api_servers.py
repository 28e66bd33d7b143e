"""API servers and their third-party authorization servers: the eight ``api_server`` operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from registrar.context import RequestContext
from registrar.domain.inputs import (
    ApiServerCreate,
    ApiServerPatch,
    AuthServerCreate,
    AuthServerPatch,
    parse_body,
)
from registrar.domain.resources import AuthServer, EnteredEndpoints, NoMetadata, ResourceServer
from registrar.domain.statuses import Status, ensure_deletable
from registrar.domain.urls import url_problem
from registrar.errors import Conflict, DuplicateResource, NotFound, ValidationFailed
from registrar.events import catalog as ev
from registrar.events.catalog import Target, unknown_target
from registrar.ids import API_SERVER, AUTH_SERVER, new_id
from registrar.store import repositories as repo
from registrar.store.schema import resource_auth_servers, resource_servers
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import Field, compile_filter, parse_filter

from .audit import AuditTrail, perform
from .deps import Deps, api_server_orn

__all__ = [
    "activate",
    "add_auth_server",
    "deactivate",
    "delete_server",
    "get_auth_server",
    "get_server",
    "list_auth_servers",
    "list_servers",
    "register",
    "remove_auth_server",
    "update",
    "update_auth_server",
]

ApiServer = ResourceServer[NoMetadata]
ApiAuthServer = AuthServer[EnteredEndpoints]

SEARCH_FIELDS = {
    "status": Field(resource_servers.c.status, ops=frozenset({"eq"})),
    "metadata.displayName": Field(resource_servers.c.display_name, ops=frozenset({"eq", "sw", "co"})),
    "resourceUrl": Field(resource_servers.c.resource_url, ops=frozenset({"eq", "sw"})),
}
AUTH_SERVER_FILTER_FIELDS = {
    "issuer": Field(resource_auth_servers.c.issuer, ops=frozenset({"eq", "sw"})),
}


class _Stored:
    key = "api"

    def detected_from_json(self, data: Mapping[str, Any]) -> NoMetadata:
        return NoMetadata.from_json(data)


STORED = _Stored()

_KIND = "ApiServer"
_AS_KIND = "ApiAuthServer"


def _ms(uow: UnitOfWork) -> int:
    return int(uow.now().timestamp() * 1000)


def server_target(server: ApiServer, changes: tuple[dict[str, Any], dict[str, Any]] | None = None) -> Target:
    """The event target describing an API server."""
    return ev.api_server_target(server.id, server.url, server.display_name, changes)


def auth_server_target(
    auth: ApiAuthServer, changes: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> Target:
    """The event target describing an authorization server linked to an API server."""
    entered = auth.detected
    return ev.api_auth_server_target(
        auth.id,
        auth.issuer,
        entered.authorization_endpoint,
        entered.token_endpoint,
        entered.grant_types_supported,
        changes,
    )


def _check_urls(deps: Deps, values: dict[str, str | None]) -> None:
    problems = []
    for name, value in values.items():
        if value is not None and (why := url_problem(value, allow_http=deps.settings.discovery_allow_http)):
            problems.append(f"{name}: {why}")
    if problems:
        raise ValidationFailed(problems)


def _load(uow: UnitOfWork, trail: AuditTrail, server_id: str) -> ApiServer:
    server = repo.get_server(uow.conn, STORED, server_id, for_update=True)
    if server is None:
        raise NotFound(server_id, _KIND)
    trail.targets = [server_target(server)]
    return server


# --- the API server itself -------------------------------------------------------------------------


def register(deps: Deps, ctx: RequestContext, body: bytes, *, activate: bool = False) -> ApiServer:
    """Register an API server (INACTIVE, or ACTIVE with its activate event when asked)."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ApiServer:
        data, _ = parse_body(body, ApiServerCreate)
        _check_urls(deps, {"resourceUrl": data.resourceUrl})
        now = _ms(uow)
        server = ApiServer(
            id=new_id(API_SERVER),
            resource_url=data.resourceUrl,
            display_name=data.metadata.displayName,
            description=data.metadata.description,
            status=Status.INACTIVE,
            detected=NoMetadata(),
            last_refreshed_ms=None,
            created_ms=now,
            last_updated_ms=now,
        )
        trail.targets = [server_target(server)]
        _ensure_unique_url(uow.conn, server.url)
        try:
            repo.insert_server(uow.conn, STORED, server)
        except IntegrityError:
            raise _duplicate_url() from None
        uow.record(ev.API_SERVER_REGISTER, [server_target(server)])
        if activate:
            server = _set_status(uow, server, Status.ACTIVE)
            uow.record(ev.API_SERVER_ACTIVATE, [server_target(server)])
        return server

    return perform(deps.engine, ctx, ev.API_SERVER_REGISTER, action)


def _duplicate_url() -> DuplicateResource:
    return DuplicateResource("resourceUrl", "An API server with this resourceUrl is already registered.")


def _ensure_unique_url(conn: Connection, resource_url: str) -> None:
    if repo.url_taken(conn, STORED, resource_url):
        raise _duplicate_url()


def _set_status(uow: UnitOfWork, server: ApiServer, status: Status) -> ApiServer:
    changed = replace(server, status=str(status), last_updated_ms=_ms(uow))
    repo.update_server(uow.conn, changed)
    return changed


def update(deps: Deps, ctx: RequestContext, server_id: str, body: bytes) -> ApiServer:
    """Merge-patch an API server's metadata; ``resourceUrl`` cannot change."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ApiServer:
        server = _load(uow, trail, server_id)
        data, raw = parse_body(body, ApiServerPatch)
        if data.resourceUrl is not None and data.resourceUrl != server.resource_url:
            raise ValidationFailed(["resourceUrl: The resourceUrl of a resource server cannot be changed."])
        if "resourceUrl" in raw and raw["resourceUrl"] is None:
            raise ValidationFailed(["resourceUrl: The resourceUrl of a resource server cannot be removed."])
        new = {"display_name": server.display_name, "description": server.description}
        meta_raw = raw.get("metadata")
        meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
        if data.metadata is not None:
            if "displayName" in meta:
                if data.metadata.displayName is None:
                    raise ValidationFailed(["metadata.displayName: The field cannot be left blank"])
                new["display_name"] = data.metadata.displayName
            if "description" in meta:
                new["description"] = data.metadata.description
        elif "metadata" in raw:
            raise ValidationFailed(["metadata: The field cannot be removed"])
        wire = {"display_name": "displayName", "description": "description"}
        before = {wire[k]: getattr(server, k) for k in new if getattr(server, k) != new[k]}
        after = {wire[k]: new[k] for k in new if getattr(server, k) != new[k]}
        if not after:
            return server
        updated = replace(
            server,
            display_name=str(new["display_name"]),
            description=new["description"],
            last_updated_ms=_ms(uow),
        )
        repo.update_server(uow.conn, updated)
        uow.record(ev.API_SERVER_UPDATE, [server_target(updated, (before, after))])
        return updated

    return perform(deps.engine, ctx, ev.API_SERVER_UPDATE, action, targets=[unknown_target(server_id, _KIND)])


def _transition(deps: Deps, ctx: RequestContext, server_id: str, status: Status) -> ApiServer:
    event_type = ev.API_SERVER_ACTIVATE if status == Status.ACTIVE else ev.API_SERVER_DEACTIVATE

    def action(uow: UnitOfWork, trail: AuditTrail) -> ApiServer:
        server = _load(uow, trail, server_id)
        if server.status == status:
            return server  # already there: nothing changed, so nothing to record
        changed = _set_status(uow, server, status)
        uow.record(event_type, [server_target(changed)])
        return changed

    return perform(deps.engine, ctx, event_type, action, targets=[unknown_target(server_id, _KIND)])


def activate(deps: Deps, ctx: RequestContext, server_id: str) -> ApiServer:
    """Make an API server ACTIVE."""
    return _transition(deps, ctx, server_id, Status.ACTIVE)


def deactivate(deps: Deps, ctx: RequestContext, server_id: str) -> ApiServer:
    """Make an API server INACTIVE."""
    return _transition(deps, ctx, server_id, Status.INACTIVE)


def delete_server(deps: Deps, ctx: RequestContext, server_id: str) -> None:
    """Delete an INACTIVE API server with its authorization servers (each removal audited)."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> None:
        server = _load(uow, trail, server_id)
        ensure_deletable(server.status)
        orn = api_server_orn(deps.org_id, server.id)
        if repo.settings_referencing(uow.conn, orn):
            raise Conflict(
                "Cannot delete a resource server that client authentication settings still reference. "
                "Delete those settings first."
            )
        for auth in repo.list_auth_servers(uow.conn, [server.id])[server.id]:
            uow.record(ev.API_AUTH_SERVER_REMOVE, [server_target(server), auth_server_target(auth)])
        repo.delete_server(uow.conn, server.id)
        uow.record(ev.API_SERVER_DELETE, [server_target(server)])

    perform(deps.engine, ctx, ev.API_SERVER_DELETE, action, targets=[unknown_target(server_id, _KIND)])


def get_server(deps: Deps, server_id: str) -> ApiServer:
    """One API server."""
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        server = repo.get_server(conn, STORED, server_id)
    if server is None:
        raise NotFound(server_id, _KIND)
    return server


def list_servers(deps: Deps, *, limit: int, after: str | None, search: str | None) -> repo.Page:
    """A page of API servers, optionally filtered by a SCIM ``search`` expression."""
    where = [compile_filter(parse_filter(search), SEARCH_FIELDS)] if search else []
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        return repo.server_page(conn, STORED, limit=limit, after=after, where=where)


# --- authorization servers of an API server ----------------------------------------------------------


def add_auth_server(deps: Deps, ctx: RequestContext, server_id: str, body: bytes) -> ApiAuthServer:
    """Link a third-party authorization server to an API server."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ApiAuthServer:
        server = _load(uow, trail, server_id)
        data, _ = parse_body(body, AuthServerCreate)
        _check_urls(
            deps,
            {
                "issuer": data.issuer,
                "authorizationEndpoint": data.authorizationEndpoint,
                "tokenEndpoint": data.tokenEndpoint,
            },
        )
        now = _ms(uow)
        auth = ApiAuthServer(
            id=new_id(AUTH_SERVER),
            server_id=server.id,
            issuer=data.issuer,
            status=Status.ACTIVE,
            detected=EnteredEndpoints(
                data.authorizationEndpoint, data.tokenEndpoint, tuple(data.grantTypesSupported)
            ),
            created_ms=now,
            last_updated_ms=now,
        )
        trail.targets = [server_target(server), auth_server_target(auth)]
        if repo.auth_server_by_issuer(uow.conn, server.id, auth.issuer) is not None:
            raise DuplicateResource(
                "issuer", "This authorization server is already linked to the API server."
            )
        repo.insert_auth_server(uow.conn, auth)
        uow.record(ev.API_AUTH_SERVER_ADD, trail.targets)
        return auth

    return perform(
        deps.engine, ctx, ev.API_AUTH_SERVER_ADD, action, targets=[unknown_target(server_id, _KIND)]
    )


def _load_auth(
    uow: UnitOfWork, trail: AuditTrail, server_id: str, auth_server_id: str
) -> tuple[ApiServer, ApiAuthServer]:
    server = _load(uow, trail, server_id)
    trail.targets.append(unknown_target(auth_server_id, _AS_KIND))
    auth = repo.get_auth_server(uow.conn, server.id, auth_server_id)
    if auth is None:
        raise NotFound(auth_server_id, _AS_KIND)
    trail.targets = [server_target(server), auth_server_target(auth)]
    return server, auth


def update_auth_server(
    deps: Deps, ctx: RequestContext, server_id: str, auth_server_id: str, body: bytes
) -> ApiAuthServer:
    """Merge-patch a linked authorization server; ``issuer`` cannot change."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ApiAuthServer:
        server, auth = _load_auth(uow, trail, server_id, auth_server_id)
        data, raw = parse_body(body, AuthServerPatch)
        if "issuer" in raw and data.issuer != auth.issuer:
            raise ValidationFailed(["issuer: The issuer of an authorization server cannot be changed."])
        nulls = [
            k
            for k in ("authorizationEndpoint", "tokenEndpoint", "grantTypesSupported")
            if k in raw and raw[k] is None
        ]
        if nulls:
            raise ValidationFailed([f"{k}: The field cannot be left blank" for k in nulls])
        _check_urls(
            deps, {"authorizationEndpoint": data.authorizationEndpoint, "tokenEndpoint": data.tokenEndpoint}
        )
        current: dict[str, Any] = {
            "authorizationEndpoint": auth.authorization_endpoint,
            "tokenEndpoint": auth.token_endpoint,
            "grantTypesSupported": list(auth.grant_types),
        }
        wanted = dict(current)
        if data.authorizationEndpoint is not None:
            wanted["authorizationEndpoint"] = data.authorizationEndpoint
        if data.tokenEndpoint is not None:
            wanted["tokenEndpoint"] = data.tokenEndpoint
        if data.grantTypesSupported is not None:
            wanted["grantTypesSupported"] = list(data.grantTypesSupported)
        before = {k: v for k, v in current.items() if wanted[k] != v}
        after = {k: wanted[k] for k in before}
        if not after:
            return auth
        now = _ms(uow)
        entered = EnteredEndpoints(
            str(wanted["authorizationEndpoint"]),
            str(wanted["tokenEndpoint"]),
            tuple(wanted["grantTypesSupported"]),
        )
        updated = replace(auth, detected=entered, last_updated_ms=now)
        repo.update_auth_server(uow.conn, updated)
        uow.record(
            ev.API_AUTH_SERVER_UPDATE, [server_target(server), auth_server_target(updated, (before, after))]
        )
        return updated

    return perform(
        deps.engine,
        ctx,
        ev.API_AUTH_SERVER_UPDATE,
        action,
        targets=[unknown_target(server_id, _KIND), unknown_target(auth_server_id, _AS_KIND)],
    )


def remove_auth_server(deps: Deps, ctx: RequestContext, server_id: str, auth_server_id: str) -> None:
    """Unlink an authorization server from an API server."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> None:
        server, auth = _load_auth(uow, trail, server_id, auth_server_id)
        repo.delete_row(uow.conn, resource_auth_servers, auth.id)
        uow.record(ev.API_AUTH_SERVER_REMOVE, [server_target(server), auth_server_target(auth)])

    perform(
        deps.engine,
        ctx,
        ev.API_AUTH_SERVER_REMOVE,
        action,
        targets=[unknown_target(server_id, _KIND), unknown_target(auth_server_id, _AS_KIND)],
    )


def get_auth_server(deps: Deps, server_id: str, auth_server_id: str) -> ApiAuthServer:
    """One authorization server of an API server."""
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        if repo.get_server(conn, STORED, server_id) is None:
            raise NotFound(server_id, _KIND)
        auth = repo.get_auth_server(conn, server_id, auth_server_id)
    if auth is None:
        raise NotFound(auth_server_id, _AS_KIND)
    return auth


def list_auth_servers(
    deps: Deps, server_id: str, *, limit: int, after: str | None, filter_text: str | None
) -> repo.Page:
    """A page of the authorization servers linked to an API server."""
    where = [compile_filter(parse_filter(filter_text), AUTH_SERVER_FILTER_FIELDS)] if filter_text else []
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        if repo.get_server(conn, STORED, server_id) is None:
            raise NotFound(server_id, _KIND)
        return repo.auth_server_page(conn, server_id, limit=limit, after=after, where=where)
