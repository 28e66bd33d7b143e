"""MCP servers: registration by discovery, PATCH, lifecycle, deletion and reads.

Discovery is network I/O: it runs before the unit of work opens, and only for a caller allowed to run the
operation (a DENY fetches nothing); its verdict is then applied, and audited, in one transaction. The
refresh operation lives in ``mcp_refresh``.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from registrar.context import RequestContext
from registrar.discovery import Discovery, FetchPolicy, discover
from registrar.domain.inputs import ServerMetadataPatch, parse_body
from registrar.domain.mcp import (
    McpAuthServer,
    McpServer,
    McpServerCreate,
    McpServerDetail,
    McpServerPatch,
    ResourceMetadata,
    ensure_activatable,
)
from registrar.domain.statuses import Status, ensure_deletable
from registrar.domain.urls import url_problem
from registrar.errors import Conflict, DiscoveryFailed, DuplicateResource, NotFound, ValidationFailed
from registrar.events import catalog as ev
from registrar.events.catalog import unknown_target
from registrar.ids import MCP_SERVER, new_id
from registrar.store import repositories as repo
from registrar.store.json_fields import json_text
from registrar.store.schema import resource_auth_servers, resource_servers
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import Field, Value, compare_column, compile_filter, parse_filter

from ._mcp import (
    AS_KIND,
    KIND,
    STORED,
    auth_event_targets,
    create_auth_server,
    load,
    now_ms,
    read_connection,
    run_with_discovery,
    server_target,
)
from .audit import AuditTrail, perform
from .deps import Deps, mcp_server_orn

__all__ = [
    "activate",
    "deactivate",
    "delete_server",
    "get_auth_server",
    "get_server",
    "list_auth_servers",
    "list_servers",
    "register",
    "server_target",
    "update",
]


def _has_auth_server(op: str, value: Value) -> ColumnElement[bool]:
    # "servers one of whose authorization servers has this id" (the filter is on the child table).
    owners = select(resource_auth_servers.c.server_id).where(
        compare_column(resource_auth_servers.c.id, op, value)
    )
    return resource_servers.c.id.in_(owners)


def _search_fields(dialect: str) -> dict[str, Field]:
    resource_name = json_text(dialect, resource_servers.c.detected_metadata, "resourceName")
    return {
        "status": Field(resource_servers.c.status, ops=frozenset({"eq"})),
        "metadata.displayName": Field(resource_servers.c.display_name, ops=frozenset({"eq", "sw", "co"})),
        "detectedMetadata.resourceName": Field(resource_name, ops=frozenset({"eq", "sw", "co"})),
        "authorizationServerId": Field(
            resource_servers.c.id, ops=frozenset({"eq"}), predicate=_has_auth_server
        ),
    }


AUTH_SERVER_FILTER_FIELDS = {
    "status": Field(resource_auth_servers.c.status, ops=frozenset({"eq"})),
    "issuer": Field(resource_auth_servers.c.issuer, ops=frozenset({"eq", "sw"})),
}


# --- registration ----------------------------------------------------------------------------------


def _duplicate_url() -> DuplicateResource:
    return DuplicateResource("resourceUrl", "An MCP server with this resourceUrl is already registered.")


def _ensure_unique_url(conn: Connection, resource_url: str) -> None:
    if repo.url_taken(conn, STORED, resource_url):
        raise _duplicate_url()


def register(deps: Deps, ctx: RequestContext, body: bytes, policy: FetchPolicy) -> McpServerDetail:
    """Discover an MCP server's authorization servers and register it INACTIVE with them."""

    def prepare(trail: AuditTrail) -> tuple[McpServer, Discovery]:
        data, _ = parse_body(body, McpServerCreate)
        if why := url_problem(data.resourceUrl, allow_http=policy.allow_http):
            raise ValidationFailed([f"resourceUrl: {why}"])
        meta = data.metadata or ServerMetadataPatch()
        draft = McpServer(
            id=new_id(MCP_SERVER),
            resource_url=data.resourceUrl,
            display_name=meta.displayName or data.resourceUrl[:255],
            description=meta.description,
            status=Status.PENDING,
            detected=ResourceMetadata(),
            last_refreshed_ms=None,
            created_ms=0,
            last_updated_ms=0,
        )
        trail.targets = [server_target(draft)]
        with read_connection(deps) as conn:
            _ensure_unique_url(conn, draft.url)
        try:
            found = discover(draft.url, policy)
            if found.first_error is not None:
                raise DiscoveryFailed(found.first_error)
        except DiscoveryFailed:
            trail.targets = [server_target(replace(draft, status=Status.INVALID))]
            raise
        named = meta.displayName or found.resource.resource_name or draft.display_name
        return replace(draft, display_name=named[:255], detected=found.resource), found

    def action(uow: UnitOfWork, trail: AuditTrail, prepared: tuple[McpServer, Discovery]) -> McpServerDetail:
        draft, found = prepared
        now = now_ms()
        server = replace(
            draft, status=Status.INACTIVE, last_refreshed_ms=now, created_ms=now, last_updated_ms=now
        )
        trail.targets = [server_target(server)]
        _ensure_unique_url(uow.conn, server.url)
        try:
            repo.insert_server(uow.conn, STORED, server)
        except IntegrityError:
            raise _duplicate_url() from None
        # prepare refused any failed authorization server: each one here has its metadata.
        created = [create_auth_server(uow, server, result, now) for result in found.authorization_servers]
        uow.record(ev.MCP_SERVER_REGISTER, [server_target(server)])
        return McpServerDetail(server, tuple(created))

    return run_with_discovery(deps, ctx, ev.MCP_SERVER_REGISTER, prepare, action)


# --- admin changes ---------------------------------------------------------------------------------


def _detail(conn: Connection, server: McpServer) -> McpServerDetail:
    return McpServerDetail(server, tuple(repo.list_auth_servers(conn, [server.id])[server.id]))


def update(deps: Deps, ctx: RequestContext, server_id: str, body: bytes) -> McpServerDetail:
    """Merge-patch an MCP server's metadata; ``resourceUrl`` cannot change."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> McpServerDetail:
        server = load(uow, trail, server_id)
        data, raw = parse_body(body, McpServerPatch)
        if "resourceUrl" in raw and data.resourceUrl != server.resource_url:
            raise ValidationFailed(["resourceUrl: The resourceUrl of a resource server cannot be changed."])
        new = {"display_name": server.display_name, "description": server.description}
        meta_raw = raw.get("metadata", {})
        if data.metadata is None and "metadata" in raw:
            raise ValidationFailed(["metadata: The field cannot be removed"])
        if data.metadata is not None and isinstance(meta_raw, dict):
            if "displayName" in meta_raw:
                if data.metadata.displayName is None:
                    raise ValidationFailed(["metadata.displayName: The field cannot be left blank"])
                new["display_name"] = data.metadata.displayName
            if "description" in meta_raw:
                new["description"] = data.metadata.description
        wire = {"display_name": "mcpServerDisplayName", "description": "mcpServerDescription"}
        before = {wire[k]: getattr(server, k) for k in new if getattr(server, k) != new[k]}
        after = {wire[k]: new[k] for k in new if getattr(server, k) != new[k]}
        if not after:
            return _detail(uow.conn, server)
        now = now_ms()
        updated = replace(server, display_name=str(new["display_name"]), description=new["description"])
        updated = replace(updated, last_updated_ms=now)
        repo.update_server(uow.conn, updated)
        uow.record(ev.MCP_SERVER_UPDATE, [server_target(updated, (before, after))])
        return _detail(uow.conn, updated)

    return perform(deps.engine, ctx, ev.MCP_SERVER_UPDATE, action, targets=[unknown_target(server_id, KIND)])


def _transition(deps: Deps, ctx: RequestContext, server_id: str, status: Status) -> McpServerDetail:
    event_type = ev.MCP_SERVER_ACTIVATE if status == Status.ACTIVE else ev.MCP_SERVER_DEACTIVATE

    def action(uow: UnitOfWork, trail: AuditTrail) -> McpServerDetail:
        server = load(uow, trail, server_id)
        if status == Status.ACTIVE:
            if server.status == Status.ACTIVE:
                return _detail(uow.conn, server)
            ensure_activatable(server.status)
        elif server.status != Status.ACTIVE:
            return _detail(uow.conn, server)  # not active already: nothing changes, nothing is recorded
        now = now_ms()
        changed = replace(server, status=str(status), last_updated_ms=now)
        repo.update_server(uow.conn, changed)
        uow.record(event_type, [server_target(changed)])
        return _detail(uow.conn, changed)

    return perform(deps.engine, ctx, event_type, action, targets=[unknown_target(server_id, KIND)])


def activate(deps: Deps, ctx: RequestContext, server_id: str) -> McpServerDetail:
    """Make an MCP server ACTIVE (not while it is INVALID)."""
    return _transition(deps, ctx, server_id, Status.ACTIVE)


def deactivate(deps: Deps, ctx: RequestContext, server_id: str) -> McpServerDetail:
    """Make an ACTIVE MCP server INACTIVE."""
    return _transition(deps, ctx, server_id, Status.INACTIVE)


def delete_server(deps: Deps, ctx: RequestContext, server_id: str) -> None:
    """Delete a server that is not ACTIVE, with its authorization servers (each deletion audited)."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> None:
        server = load(uow, trail, server_id)
        ensure_deletable(server.status)
        if repo.settings_referencing(uow.conn, mcp_server_orn(deps.org_id, server.id)):
            raise Conflict(
                "Cannot delete a resource server that client authentication settings still reference. "
                "Delete those settings first."
            )
        for auth in repo.list_auth_servers(uow.conn, [server.id])[server.id]:
            uow.record(ev.MCP_AUTH_SERVER_DELETE, auth_event_targets(server, auth))
        repo.delete_server(uow.conn, server.id)
        uow.record(ev.MCP_SERVER_DELETE, [server_target(server)])

    perform(deps.engine, ctx, ev.MCP_SERVER_DELETE, action, targets=[unknown_target(server_id, KIND)])


# --- reads -------------------------------------------------------------------------------------------


def get_server(deps: Deps, server_id: str) -> McpServerDetail:
    """One MCP server with its authorization servers."""
    with read_connection(deps) as conn:
        server = repo.get_server(conn, STORED, server_id)
        if server is None:
            raise NotFound(server_id, KIND)
        return _detail(conn, server)


def list_servers(deps: Deps, *, limit: int, after: str | None, search: str | None) -> repo.Page:
    """A page of MCP servers (``McpServerDetail``), optionally filtered by a SCIM ``search`` expression."""
    fields = _search_fields(deps.engine.dialect.name)
    where = [compile_filter(parse_filter(search), fields)] if search else []
    with read_connection(deps) as conn:
        page = repo.server_page(conn, STORED, limit=limit, after=after, where=where)
        auths = repo.list_auth_servers(conn, [s.id for s in page.items])
    return repo.Page([McpServerDetail(s, tuple(auths[s.id])) for s in page.items], page.next_cursor)


def get_auth_server(deps: Deps, server_id: str, auth_server_id: str) -> McpAuthServer:
    """One authorization server of an MCP server."""
    with read_connection(deps) as conn:
        if repo.get_server(conn, STORED, server_id) is None:
            raise NotFound(server_id, KIND)
        auth = repo.get_auth_server(conn, server_id, auth_server_id)
    if auth is None:
        raise NotFound(auth_server_id, AS_KIND)
    return auth


def list_auth_servers(
    deps: Deps, server_id: str, *, limit: int, after: str | None, filter_text: str | None
) -> repo.Page:
    """A page of an MCP server's authorization servers, optionally filtered (``status eq``)."""
    where = [compile_filter(parse_filter(filter_text), AUTH_SERVER_FILTER_FIELDS)] if filter_text else []
    with read_connection(deps) as conn:
        if repo.get_server(conn, STORED, server_id) is None:
            raise NotFound(server_id, KIND)
        return repo.auth_server_page(conn, server_id, limit=limit, after=after, where=where)
