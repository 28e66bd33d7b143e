"""The authorization servers linked to a resource server of any kind: link, update, unlink, read.

How one is linked is the kind's (``Kind.auth_add``): entered by an admin (endpoints and grant types),
named by its issuer (its metadata is then discovered, the issuer matched exactly, before the
transaction), or found by the kind's own discovery (``link_discovered``, at registration and refresh).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from registrar.context import RequestContext
from registrar.discovery import AuthServerResult, FetchPolicy, discover_authorization_server
from registrar.domain.inputs import AuthServerCreate, AuthServerLink, AuthServerPatch, parse_body
from registrar.domain.resources import AuthServer, EnteredEndpoints, ResourceServer
from registrar.domain.statuses import Status
from registrar.domain.urls import url_problem
from registrar.errors import DuplicateResource, NotFound, ValidationFailed
from registrar.events.catalog import Target, unknown_target
from registrar.ids import AUTH_SERVER, new_id
from registrar.kinds import Kind
from registrar.store import repositories as repo
from registrar.store.schema import resource_auth_servers
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import compile_filter, parse_filter

from ._run import load, now_ms, read_connection, run_with_discovery
from .audit import AuditTrail, perform
from .deps import Deps

__all__ = ["add", "get", "link_discovered", "page", "remove", "update"]

_ENTERED_URLS = ("authorizationEndpoint", "tokenEndpoint")


def _check_urls(values: dict[str, str | None], *, allow_http: bool) -> None:
    problems = [
        f"{name}: {why}"
        for name, value in values.items()
        if value is not None and (why := url_problem(value, allow_http=allow_http))
    ]
    if problems:
        raise ValidationFailed(problems)


def _unknown(kind: Kind, server_id: str, auth_server_id: str | None = None) -> list[Target]:
    targets = [unknown_target(server_id, kind.entity)]
    return targets if auth_server_id is None else [*targets, unknown_target(auth_server_id, kind.auth_entity)]


def link_discovered(
    uow: UnitOfWork, kind: Kind, server: ResourceServer[Any], orn: str, result: AuthServerResult, now: int
) -> AuthServer[Any]:
    """Store a discovered (working) authorization server ACTIVE, and record its linking."""
    if result.metadata is None:
        raise ValueError(f"{result.issuer} has no metadata to store")
    auth = AuthServer(new_id(AUTH_SERVER), server.id, result.issuer, Status.ACTIVE, result.metadata, now, now)
    repo.insert_auth_server(uow.conn, auth)
    uow.record(kind.events["auth.link"], kind.auth_event_targets(server, orn, auth))
    return auth


def _ensure_new(uow: UnitOfWork, kind: Kind, server: ResourceServer[Any], issuer: str) -> None:
    if repo.auth_server_by_issuer(uow.conn, server.id, issuer) is not None:
        raise DuplicateResource("issuer", f"This authorization server is already linked to the {kind.label}.")


def add(
    deps: Deps, ctx: RequestContext, kind: Kind, server_id: str, body: bytes, policy: FetchPolicy
) -> AuthServer[Any]:
    """Link an authorization server to a server, as the kind links them (``Kind.auth_add``)."""
    event_type = kind.events["auth.link"]

    def entered(uow: UnitOfWork, trail: AuditTrail, _nothing: None) -> AuthServer[Any]:
        server = load(uow, trail, deps, kind, server_id)
        data, _ = parse_body(body, AuthServerCreate)
        _check_urls(
            {
                "issuer": data.issuer,
                "authorizationEndpoint": data.authorizationEndpoint,
                "tokenEndpoint": data.tokenEndpoint,
            },
            allow_http=policy.allow_http,
        )
        endpoints = EnteredEndpoints(
            data.authorizationEndpoint, data.tokenEndpoint, tuple(data.grantTypesSupported)
        )
        now = now_ms()
        auth = AuthServer(new_id(AUTH_SERVER), server.id, data.issuer, Status.ACTIVE, endpoints, now, now)
        trail.targets = kind.auth_event_targets(server, kind.orn(deps.org_id, server.id), auth)
        _ensure_new(uow, kind, server, auth.issuer)
        repo.insert_auth_server(uow.conn, auth)
        uow.record(event_type, trail.targets)
        return auth

    def discover(trail: AuditTrail) -> AuthServerResult:
        with read_connection(deps) as conn:
            server = repo.get_server(conn, kind, server_id)
        if server is None:
            raise NotFound(server_id, kind.entity)
        trail.targets = [kind.server_target(server, kind.orn(deps.org_id, server.id))]
        data, _ = parse_body(body, AuthServerLink)
        if why := url_problem(data.issuer, allow_http=policy.allow_http):
            raise ValidationFailed([f"issuer: {why}"])
        found = discover_authorization_server(data.issuer, policy)
        if found.metadata is None:
            why = found.error or f"Authorization server {data.issuer}: no metadata"
            raise ValidationFailed([f"issuer: {why}"], reason=why)
        return found

    def discovered(uow: UnitOfWork, trail: AuditTrail, found: AuthServerResult) -> AuthServer[Any]:
        server = load(uow, trail, deps, kind, server_id)
        _ensure_new(uow, kind, server, found.issuer)
        return link_discovered(uow, kind, server, kind.orn(deps.org_id, server.id), found, now_ms())

    unknown = _unknown(kind, server_id)
    if kind.auth_add == "issuer":
        return run_with_discovery(deps, ctx, event_type, discover, discovered, targets=unknown)
    if kind.auth_add == "entered":
        return run_with_discovery(deps, ctx, event_type, lambda _: None, entered, targets=unknown)
    raise NotFound(server_id, kind.entity)  # no such operation: the routes do not offer it


def _load_both(
    uow: UnitOfWork, trail: AuditTrail, deps: Deps, kind: Kind, server_id: str, auth_server_id: str
) -> tuple[ResourceServer[Any], AuthServer[Any]]:
    server = load(uow, trail, deps, kind, server_id)
    trail.targets.append(unknown_target(auth_server_id, kind.auth_entity))
    auth = repo.get_auth_server(uow.conn, server.id, auth_server_id)
    if auth is None:
        raise NotFound(auth_server_id, kind.auth_entity)
    trail.targets = kind.auth_event_targets(server, kind.orn(deps.org_id, server.id), auth)
    return server, auth


def update(
    deps: Deps, ctx: RequestContext, kind: Kind, server_id: str, auth_server_id: str, body: bytes
) -> AuthServer[Any]:
    """Merge-patch an entered authorization server; ``issuer`` cannot change."""
    event_type = kind.events["auth.update"]

    def action(uow: UnitOfWork, trail: AuditTrail) -> AuthServer[Any]:
        server, auth = _load_both(uow, trail, deps, kind, server_id, auth_server_id)
        data, raw = parse_body(body, AuthServerPatch)
        if "issuer" in raw and data.issuer != auth.issuer:
            raise ValidationFailed(["issuer: The issuer of an authorization server cannot be changed."])
        nulls = [k for k in (*_ENTERED_URLS, "grantTypesSupported") if k in raw and raw[k] is None]
        if nulls:
            raise ValidationFailed([f"{k}: The field cannot be left blank" for k in nulls])
        _check_urls(
            {"authorizationEndpoint": data.authorizationEndpoint, "tokenEndpoint": data.tokenEndpoint},
            allow_http=deps.settings.discovery_allow_http,
        )
        current: dict[str, Any] = {
            "authorizationEndpoint": auth.authorization_endpoint,
            "tokenEndpoint": auth.token_endpoint,
            "grantTypesSupported": list(auth.grant_types),
        }
        wanted = dict(current)
        for key in current:
            if (value := getattr(data, key)) is not None:
                wanted[key] = list(value) if isinstance(value, list) else value
        before = {k: v for k, v in current.items() if wanted[k] != v}
        after = {k: wanted[k] for k in before}
        if not after:
            return auth
        entered = EnteredEndpoints(
            str(wanted["authorizationEndpoint"]),
            str(wanted["tokenEndpoint"]),
            tuple(wanted["grantTypesSupported"]),
        )
        updated = replace(auth, detected=entered, last_updated_ms=now_ms())
        repo.update_auth_server(uow.conn, updated)
        uow.record(
            event_type,
            kind.auth_event_targets(server, kind.orn(deps.org_id, server.id), updated, (before, after)),
        )
        return updated

    return perform(deps.engine, ctx, event_type, action, targets=_unknown(kind, server_id, auth_server_id))


def remove(deps: Deps, ctx: RequestContext, kind: Kind, server_id: str, auth_server_id: str) -> None:
    """Unlink an authorization server from a server."""
    event_type = kind.events["auth.unlink"]

    def action(uow: UnitOfWork, trail: AuditTrail) -> None:
        _, auth = _load_both(uow, trail, deps, kind, server_id, auth_server_id)
        repo.delete_row(uow.conn, resource_auth_servers, auth.id)
        uow.record(event_type, trail.targets)

    perform(deps.engine, ctx, event_type, action, targets=_unknown(kind, server_id, auth_server_id))


def get(deps: Deps, kind: Kind, server_id: str, auth_server_id: str) -> AuthServer[Any]:
    """One authorization server of a server."""
    with read_connection(deps) as conn:
        if repo.get_server(conn, kind, server_id) is None:
            raise NotFound(server_id, kind.entity)
        auth = repo.get_auth_server(conn, server_id, auth_server_id)
    if auth is None:
        raise NotFound(auth_server_id, kind.auth_entity)
    return auth


def page(
    deps: Deps, kind: Kind, server_id: str, *, limit: int, after: str | None, filter_text: str | None
) -> repo.Page:
    """A page of a server's authorization servers, optionally filtered."""
    where = [compile_filter(parse_filter(filter_text), kind.auth_filter_fields())] if filter_text else []
    with read_connection(deps) as conn:
        if repo.get_server(conn, kind, server_id) is None:
            raise NotFound(server_id, kind.entity)
        return repo.auth_server_page(conn, server_id, limit=limit, after=after, where=where)
