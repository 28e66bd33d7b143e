"""The audited operations on resource servers of any kind: register, read, PATCH, lifecycle, delete.

One implementation for every kind; the ``Kind`` strategy says what differs (its events, what registration
reads from the network, its detected metadata and targets). ``servers(kind)`` gives the operations of one
kind, with the authorization-server operations of ``auth_servers`` beside them.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from registrar.context import RequestContext
from registrar.discovery import FetchPolicy
from registrar.domain.inputs import parse_body
from registrar.domain.resources import AuthServer, ResourceServer, ServerDetail
from registrar.domain.statuses import Status, ensure_deletable
from registrar.domain.urls import url_problem
from registrar.errors import Conflict, DiscoveryFailed, DuplicateResource, NotFound, ValidationFailed
from registrar.events.catalog import Target, unknown_target
from registrar.ids import new_id
from registrar.kinds import KINDS, Changes, Kind, Prepared, Registration
from registrar.store import repositories as repo
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import compile_filter, parse_filter

from . import auth_servers
from ._run import load, now_ms, read_connection, run_with_discovery
from .audit import AuditTrail, perform
from .deps import Deps

__all__ = ["Servers", "policy_for", "servers"]

Detail = ServerDetail[Any]
_Draft = tuple[ResourceServer[Any], Prepared, Registration]


def policy_for(deps: Deps, kind: Kind, policy: FetchPolicy | None) -> FetchPolicy:
    """How an operation may reach the network; a kind that fetches nothing takes the settings' URL rules."""
    return policy if policy is not None and kind.fetches else FetchPolicy.from_settings(deps.settings)


class Servers:
    """The operations on one kind's servers and (through ``auth_servers``) on their authorization servers."""

    def __init__(self, kind: Kind):
        self.kind = kind

    def target(self, deps: Deps, server: ResourceServer[Any], changes: Changes | None = None) -> Target:
        """The event target describing a server of this kind."""
        return self.kind.server_target(server, self.kind.orn(deps.org_id, server.id), changes)

    def _unknown(self, server_id: str) -> list[Target]:
        return [unknown_target(server_id, self.kind.entity)]

    def _duplicate(self) -> DuplicateResource:
        return DuplicateResource(
            "resourceUrl", f"{self.kind.name} with this resourceUrl is already registered."
        )

    def _ensure_unique(self, conn: Connection, resource_url: str | None) -> None:
        if resource_url is not None and repo.url_taken(conn, self.kind, resource_url):
            raise self._duplicate()

    def _detail(self, conn: Connection, server: ResourceServer[Any]) -> Detail:
        auths = tuple(repo.list_auth_servers(conn, [server.id])[server.id])
        return ServerDetail(server, auths, self.kind.extras(conn, [server])[server.id])

    # --- registration ----------------------------------------------------------------------------------

    def register(
        self,
        deps: Deps,
        ctx: RequestContext,
        body: bytes,
        policy: FetchPolicy | None = None,
        *,
        activate: bool = False,
    ) -> Detail:
        """Register a server INACTIVE (ACTIVE when asked) with what its kind learns before the transaction."""
        kind = self.kind
        rules = policy_for(deps, kind, policy)

        def prepare(trail: AuditTrail) -> _Draft:
            registration = kind.parse_registration(body)
            url = registration.resource_url
            if url is not None and (why := url_problem(url, allow_http=rules.allow_http)):
                raise ValidationFailed([f"resourceUrl: {why}"])
            draft: ResourceServer[Any] = ResourceServer(
                id=new_id(kind.id_prefix),
                resource_url=url,
                display_name=registration.display_name or (url or "")[:255],
                description=registration.description,
                status=Status.PENDING if kind.fetches else Status.INACTIVE,
                detected=kind.nothing_detected(),
                last_refreshed_ms=None,
                created_ms=0,
                last_updated_ms=0,
            )
            trail.targets = [self.target(deps, draft)]
            if kind.fetches:  # a duplicate fetches nothing; the transaction checks again in any case
                with read_connection(deps) as conn:
                    self._ensure_unique(conn, url)
            try:
                found = kind.prepare(registration, rules)
            except DiscoveryFailed:
                trail.targets = [self.target(deps, replace(draft, status=Status.INVALID))]
                raise
            named = registration.display_name or found.detected_name or draft.display_name
            return replace(draft, display_name=named[:255], detected=found.detected), found, registration

        def action(uow: UnitOfWork, trail: AuditTrail, drafted: _Draft) -> Detail:
            draft, found, registration = drafted
            now = now_ms()
            server = replace(
                draft,
                status=Status.INACTIVE,
                last_refreshed_ms=now if kind.fetches else None,
                created_ms=now,
                last_updated_ms=now,
            )
            orn = kind.orn(deps.org_id, server.id)
            trail.targets = [self.target(deps, server)]
            self._ensure_unique(uow.conn, server.resource_url)
            try:
                repo.insert_server(uow.conn, kind, server)
            except IntegrityError:
                raise self._duplicate() from None
            if kind.register_event_first:
                uow.record(kind.events["register"], [self.target(deps, server)])
            # prepare refused any failed authorization server: each one here has its metadata.
            linked = [
                auth_servers.link_discovered(uow, kind, server, orn, result, now)
                for result in found.authorization_servers
            ]
            if not kind.register_event_first:
                uow.record(kind.events["register"], [self.target(deps, server)])
            kind.on_registered(uow, server, orn, registration)
            if activate:
                server = self._set_status(uow, server, Status.ACTIVE)
                uow.record(kind.events["activate"], [self.target(deps, server)])
            return ServerDetail(server, tuple(linked), kind.extras(uow.conn, [server])[server.id])

        return run_with_discovery(deps, ctx, kind.events["register"], prepare, action)

    def _set_status(
        self, uow: UnitOfWork, server: ResourceServer[Any], status: Status
    ) -> ResourceServer[Any]:
        changed = replace(server, status=str(status), last_updated_ms=now_ms())
        repo.update_server(uow.conn, changed)
        return changed

    # --- admin changes ---------------------------------------------------------------------------------

    def update(self, deps: Deps, ctx: RequestContext, server_id: str, body: bytes) -> Detail:
        """Merge-patch a server's ``metadata``; ``resourceUrl`` cannot change."""
        kind = self.kind

        def action(uow: UnitOfWork, trail: AuditTrail) -> Detail:
            server = load(uow, trail, deps, kind, server_id)
            data, raw = parse_body(body, kind.patch_model)
            _check_url_kept(server, raw)
            new = _patched_metadata(server, data, raw)
            before = {kind.change_keys[k]: getattr(server, k) for k in new if getattr(server, k) != new[k]}
            after = {kind.change_keys[k]: new[k] for k in new if getattr(server, k) != new[k]}
            updated = replace(
                server,
                display_name=str(new["display_name"]),
                description=new["description"],
                last_updated_ms=now_ms(),
            )
            if after:
                repo.update_server(uow.conn, updated)
                uow.record(kind.events["update"], [self.target(deps, updated, (before, after))])
            if kind.on_updated(uow, updated, kind.orn(deps.org_id, server.id), data) and not after:
                repo.update_server(uow.conn, updated)  # only what the kind keeps changed: lastUpdated moves
            elif not after:
                return self._detail(uow.conn, server)
            return self._detail(uow.conn, updated)

        return perform(deps.engine, ctx, kind.events["update"], action, targets=self._unknown(server_id))

    def _transition(self, deps: Deps, ctx: RequestContext, server_id: str, status: Status) -> Detail:
        kind = self.kind
        event_type = kind.events["activate" if status == Status.ACTIVE else "deactivate"]

        def action(uow: UnitOfWork, trail: AuditTrail) -> Detail:
            server = load(uow, trail, deps, kind, server_id)
            if status == Status.ACTIVE:
                if server.status == Status.ACTIVE:
                    return self._detail(uow.conn, server)
                if server.status == Status.INVALID:
                    raise Conflict(
                        f"Cannot activate {kind.name} in INVALID status. "
                        "Refresh its discovery until it succeeds first."
                    )
            elif server.status != Status.ACTIVE:
                return self._detail(
                    uow.conn, server
                )  # not active already: nothing changes, nothing is recorded
            changed = self._set_status(uow, server, status)
            uow.record(event_type, [self.target(deps, changed)])
            return self._detail(uow.conn, changed)

        return perform(deps.engine, ctx, event_type, action, targets=self._unknown(server_id))

    def activate(self, deps: Deps, ctx: RequestContext, server_id: str) -> Detail:
        """Make a server ACTIVE (not while it is INVALID)."""
        return self._transition(deps, ctx, server_id, Status.ACTIVE)

    def deactivate(self, deps: Deps, ctx: RequestContext, server_id: str) -> Detail:
        """Make an ACTIVE server INACTIVE."""
        return self._transition(deps, ctx, server_id, Status.INACTIVE)

    def delete_server(self, deps: Deps, ctx: RequestContext, server_id: str) -> None:
        """Delete a server that is not ACTIVE, with its authorization servers (each unlinking audited)."""
        kind = self.kind

        def action(uow: UnitOfWork, trail: AuditTrail) -> None:
            server = load(uow, trail, deps, kind, server_id)
            ensure_deletable(server.status)
            orn = kind.orn(deps.org_id, server.id)
            if repo.settings_referencing(uow.conn, orn):
                raise Conflict(
                    "Cannot delete a resource server that client authentication settings still reference. "
                    "Delete those settings first."
                )
            kind.on_delete(uow, server, orn)
            for auth in repo.list_auth_servers(uow.conn, [server.id])[server.id]:
                uow.record(kind.events["auth.unlink"], kind.auth_event_targets(server, orn, auth))
            repo.delete_server(uow.conn, server.id)
            uow.record(kind.events["delete"], [self.target(deps, server)])

        perform(deps.engine, ctx, kind.events["delete"], action, targets=self._unknown(server_id))

    # --- reads -----------------------------------------------------------------------------------------

    def get_server(self, deps: Deps, server_id: str) -> Detail:
        """One server with its authorization servers."""
        with read_connection(deps) as conn:
            server = repo.get_server(conn, self.kind, server_id)
            if server is None:
                raise NotFound(server_id, self.kind.entity)
            return self._detail(conn, server)

    def list_servers(self, deps: Deps, *, limit: int, after: str | None, search: str | None) -> repo.Page:
        """A page of servers (``ServerDetail``), optionally filtered by a SCIM ``search`` expression."""
        fields = self.kind.search_fields(deps.engine.dialect.name)
        where = [compile_filter(parse_filter(search), fields)] if search else []
        with read_connection(deps) as conn:
            page = repo.server_page(conn, self.kind, limit=limit, after=after, where=where)
            auths = repo.list_auth_servers(conn, [s.id for s in page.items])
            extras = self.kind.extras(conn, page.items)
            details = [ServerDetail(s, tuple(auths[s.id]), extras[s.id]) for s in page.items]
        return repo.Page(details, page.next_cursor)

    # --- authorization servers -------------------------------------------------------------------------

    def add_auth_server(
        self, deps: Deps, ctx: RequestContext, server_id: str, body: bytes, policy: FetchPolicy | None = None
    ) -> AuthServer[Any]:
        """Link an authorization server (entered, or named by issuer and discovered)."""
        return auth_servers.add(deps, ctx, self.kind, server_id, body, policy_for(deps, self.kind, policy))

    def update_auth_server(
        self, deps: Deps, ctx: RequestContext, server_id: str, auth_server_id: str, body: bytes
    ) -> AuthServer[Any]:
        """Merge-patch an entered authorization server; ``issuer`` cannot change."""
        return auth_servers.update(deps, ctx, self.kind, server_id, auth_server_id, body)

    def remove_auth_server(
        self, deps: Deps, ctx: RequestContext, server_id: str, auth_server_id: str
    ) -> None:
        """Unlink an authorization server."""
        auth_servers.remove(deps, ctx, self.kind, server_id, auth_server_id)

    def get_auth_server(self, deps: Deps, server_id: str, auth_server_id: str) -> AuthServer[Any]:
        """One authorization server of a server."""
        return auth_servers.get(deps, self.kind, server_id, auth_server_id)

    def list_auth_servers(
        self, deps: Deps, server_id: str, *, limit: int, after: str | None, filter_text: str | None
    ) -> repo.Page:
        """A page of a server's authorization servers, optionally filtered."""
        return auth_servers.page(
            deps, self.kind, server_id, limit=limit, after=after, filter_text=filter_text
        )


def _check_url_kept(server: ResourceServer[Any], raw: dict[str, Any]) -> None:
    if "resourceUrl" not in raw:
        return
    if raw["resourceUrl"] is None:
        raise ValidationFailed(["resourceUrl: The resourceUrl of a resource server cannot be removed."])
    if raw["resourceUrl"] != server.resource_url:
        raise ValidationFailed(["resourceUrl: The resourceUrl of a resource server cannot be changed."])


def _patched_metadata(server: ResourceServer[Any], data: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """The display name and description a merge patch leaves (``null`` removes the description)."""
    new: dict[str, Any] = {"display_name": server.display_name, "description": server.description}
    meta_raw = raw.get("metadata")
    meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
    if data.metadata is None:
        if "metadata" in raw:
            raise ValidationFailed(["metadata: The field cannot be removed"])
        return new
    if "displayName" in meta:
        if data.metadata.displayName is None:
            raise ValidationFailed(["metadata.displayName: The field cannot be left blank"])
        new["display_name"] = data.metadata.displayName
    if "description" in meta:
        new["description"] = data.metadata.description
    return new


@cache
def servers(key: str) -> Servers:
    """The operations on the servers of the kind ``key`` (``api``, ``mcp``, ``a2a``, ...)."""
    return Servers(KINDS[key])
