"""Client authentication settings: the three ``client_authentication_settings`` operations.

The client secret is sealed before it touches the database, never returned, and shown in events only as
``********`` (DESIGN.md invariant 6).
"""

from __future__ import annotations

from typing import Any

import orjson

from registrar.context import RequestContext
from registrar.domain.entities import ClientAuthSettings
from registrar.domain.inputs import ClientAuthSettingsCreate, ClientAuthSettingsPatch, parse_body
from registrar.errors import NotFound, ValidationFailed
from registrar.events import catalog as ev
from registrar.events.catalog import Target, unknown_target
from registrar.ids import CLIENT_AUTH_SETTINGS, new_id
from registrar.store import repositories as repo
from registrar.store.schema import client_auth_settings
from registrar.store.uow import UnitOfWork
from registrar.syslog.filter import Field, compile_filter, parse_filter

from .audit import AuditTrail, perform
from .deps import Deps, client_auth_settings_orn
from .resources import resource_target

__all__ = ["create", "delete_settings", "get_settings", "list_settings", "update"]

MASK = "********"
_KIND = "ClientAuthSettings"

SEARCH_FIELDS = {
    "resourceOrn": Field(client_auth_settings.c.resource_orn, ops=frozenset({"eq"})),
    "purpose": Field(client_auth_settings.c.purpose, ops=frozenset({"eq"})),
}


def settings_target(
    deps: Deps, settings: ClientAuthSettings, changes: tuple[dict[str, Any], dict[str, Any]] | None = None
) -> Target:
    """The event target describing client authentication settings."""
    return ev.client_auth_settings_target(
        settings.id,
        client_auth_settings_orn(deps.org_id, settings.id),
        settings.name,
        settings.resource_orn,
        changes,
    )


def _resource(uow: UnitOfWork, deps: Deps, orn: str) -> Target:
    found = resource_target(uow.conn, deps.org_id, orn)
    if found is None:
        raise ValidationFailed(["resourceOrn: No resource server with this ORN is registered."])
    return found


def _row(settings: ClientAuthSettings) -> dict[str, Any]:
    return {
        "id": settings.id,
        "name": settings.name,
        "resource_orn": settings.resource_orn,
        "purpose": settings.purpose,
        "client_id": settings.client_id,
        "scopes": orjson.dumps(list(settings.scopes)).decode(),
        "token_endpoint_auth_method": settings.token_endpoint_auth_method,
        "created_ms": settings.created_ms,
        "last_updated_ms": settings.last_updated_ms,
    }


def create(deps: Deps, ctx: RequestContext, body: bytes) -> ClientAuthSettings:
    """Create client authentication settings for an existing resource server."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ClientAuthSettings:
        data, _ = parse_body(body, ClientAuthSettingsCreate)
        now = int(uow.now().timestamp() * 1000)
        settings = ClientAuthSettings(
            id=new_id(CLIENT_AUTH_SETTINGS),
            name=data.name,
            resource_orn=data.resourceOrn,
            purpose=data.purpose[0],
            client_id=data.configuration.clientId,
            scopes=tuple(data.configuration.scopes),
            token_endpoint_auth_method=data.configuration.tokenEndpointAuthMethod,
            created_ms=now,
            last_updated_ms=now,
        )
        trail.targets = [settings_target(deps, settings)]
        resource = _resource(uow, deps, settings.resource_orn)
        trail.targets = [resource, settings_target(deps, settings)]
        sealed = deps.box.seal(data.configuration.clientSecret, settings.id)
        repo.insert_row(uow.conn, client_auth_settings, {**_row(settings), "client_secret_sealed": sealed})
        uow.record(ev.CLIENT_AUTH_SETTINGS_CREATE, trail.targets)
        return settings

    return perform(deps.engine, ctx, ev.CLIENT_AUTH_SETTINGS_CREATE, action)


def _load(
    uow: UnitOfWork, deps: Deps, trail: AuditTrail, settings_id: str
) -> tuple[Target | None, ClientAuthSettings]:
    settings = repo.get_client_auth_settings(uow.conn, settings_id)
    if settings is None:
        raise NotFound(settings_id, _KIND)
    resource = resource_target(uow.conn, deps.org_id, settings.resource_orn)
    trail.targets = [*([resource] if resource else []), settings_target(deps, settings)]
    return resource, settings


def update(deps: Deps, ctx: RequestContext, settings_id: str, body: bytes) -> ClientAuthSettings:
    """Merge-patch client authentication settings; a changed secret is audited as ``********``."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> ClientAuthSettings:
        resource, settings = _load(uow, deps, trail, settings_id)
        data, raw = parse_body(body, ClientAuthSettingsPatch)
        config_member = raw.get("configuration")
        config_raw: dict[str, Any] = config_member if isinstance(config_member, dict) else {}
        nulls: list[str] = [
            k for k in ("name", "resourceOrn", "purpose", "configuration") if k in raw and raw[k] is None
        ]
        nulls += [f"configuration.{k}" for k, v in config_raw.items() if v is None]
        if nulls:
            raise ValidationFailed([f"{k}: The field cannot be left blank" for k in nulls])
        current: dict[str, Any] = {
            "name": settings.name,
            "resourceOrn": settings.resource_orn,
            "purpose": [settings.purpose],
            "clientId": settings.client_id,
            "scopes": list(settings.scopes),
            "tokenEndpointAuthMethod": settings.token_endpoint_auth_method,
        }
        wanted = dict(current)
        for key in ("name", "resourceOrn", "purpose"):
            if getattr(data, key) is not None:
                wanted[key] = getattr(data, key)
        config = data.configuration
        if config is not None:
            for key in ("clientId", "scopes", "tokenEndpointAuthMethod"):
                if getattr(config, key) is not None:
                    wanted[key] = getattr(config, key)
        before = {k: v for k, v in current.items() if wanted[k] != v}
        after = {k: wanted[k] for k in before}
        new_secret = config.clientSecret if config is not None else None
        secret_changed = new_secret is not None and new_secret != deps.box.open(
            repo.sealed_secret(uow.conn, settings.id), settings.id
        )
        if secret_changed:
            before["clientSecret"] = after["clientSecret"] = MASK
        if not after:
            return settings
        if "resourceOrn" in after:
            resource = _resource(uow, deps, str(wanted["resourceOrn"]))
        updated = ClientAuthSettings(
            id=settings.id,
            name=str(wanted["name"]),
            resource_orn=str(wanted["resourceOrn"]),
            purpose=str(wanted["purpose"][0]),
            client_id=str(wanted["clientId"]),
            scopes=tuple(wanted["scopes"]),
            token_endpoint_auth_method=str(wanted["tokenEndpointAuthMethod"]),
            created_ms=settings.created_ms,
            last_updated_ms=int(uow.now().timestamp() * 1000),
        )
        values = _row(updated)
        if secret_changed and new_secret is not None:
            values["client_secret_sealed"] = deps.box.seal(new_secret, settings.id)
        repo.update_row(uow.conn, client_auth_settings, settings.id, values)
        targets = [*([resource] if resource else []), settings_target(deps, updated, (before, after))]
        uow.record(ev.CLIENT_AUTH_SETTINGS_UPDATE, targets)
        return updated

    return perform(
        deps.engine, ctx, ev.CLIENT_AUTH_SETTINGS_UPDATE, action, targets=[unknown_target(settings_id, _KIND)]
    )


def delete_settings(deps: Deps, ctx: RequestContext, settings_id: str) -> None:
    """Delete client authentication settings (and with them the sealed secret)."""

    def action(uow: UnitOfWork, trail: AuditTrail) -> None:
        _load(uow, deps, trail, settings_id)
        repo.delete_row(uow.conn, client_auth_settings, settings_id)
        uow.record(ev.CLIENT_AUTH_SETTINGS_DELETE, trail.targets)

    perform(
        deps.engine, ctx, ev.CLIENT_AUTH_SETTINGS_DELETE, action, targets=[unknown_target(settings_id, _KIND)]
    )


def get_settings(deps: Deps, settings_id: str) -> ClientAuthSettings:
    """One settings object (without its secret)."""
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        settings = repo.get_client_auth_settings(conn, settings_id)
    if settings is None:
        raise NotFound(settings_id, _KIND)
    return settings


def list_settings(deps: Deps, *, limit: int, after: str | None, search: str | None) -> repo.Page:
    """A page of settings, optionally filtered by ``resourceOrn`` and ``purpose``."""
    where = [compile_filter(parse_filter(search), SEARCH_FIELDS)] if search else []
    with deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
        return repo.list_page(conn, client_auth_settings, limit=limit, after=after, where=where)
