"""Reading and writing resource rows. Functions take the caller's connection; none of them commits.

Resource servers of every kind share ``resource_servers`` and ``resource_auth_servers``; a kind's detected
metadata is decoded by the ``StoredKind`` (a ``registrar.kinds.Kind``) that the caller names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, Protocol

import orjson
from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from registrar.domain.entities import ClientAuthSettings
from registrar.domain.mcp import AuthServerMetadata
from registrar.domain.resources import AuthServer, EnteredEndpoints, ResourceServer
from registrar.errors import ValidationFailed
from registrar.ids import is_object_id

from .schema import client_auth_settings, installation, resource_auth_servers, resource_servers

__all__ = [
    "Page",
    "StoredKind",
    "auth_server_by_issuer",
    "auth_server_page",
    "decode_cursor",
    "delete_row",
    "delete_server",
    "get_auth_server",
    "get_client_auth_settings",
    "get_server",
    "insert_auth_server",
    "insert_row",
    "insert_server",
    "list_auth_servers",
    "list_page",
    "org_id",
    "server_ids",
    "server_page",
    "settings_referencing",
    "update_auth_server",
    "update_row",
    "update_server",
    "url_taken",
]


Where = Sequence[ColumnElement[bool]]


class StoredKind(Protocol):
    """What the store needs of a kind: its key and how its detected metadata is read back."""

    @property
    def key(self) -> str: ...

    def detected_from_json(self, data: Mapping[str, Any]) -> Any: ...


def org_id(conn: Connection) -> str:
    """The installation's org id (used in ORNs)."""
    return str(conn.execute(select(installation.c.org_id)).scalar_one())


def _same_named(row: Row[Any], entity: type[Any], *decoded: str) -> dict[str, Any]:
    """The row's columns named like the fields of ``entity`` (a dataclass), but for the ``decoded`` ones."""
    values = row._mapping
    return {f.name: values[f.name] for f in fields(entity) if f.name not in decoded}


def _client_auth_settings(row: Row[Any]) -> ClientAuthSettings:
    scopes = tuple(orjson.loads(row.scopes))
    return ClientAuthSettings(**_same_named(row, ClientAuthSettings, "scopes"), scopes=scopes)


def get_client_auth_settings(conn: Connection, settings_id: str) -> ClientAuthSettings | None:
    """Client authentication settings by id (without the secret)."""
    if not is_object_id(settings_id):
        return None
    row = conn.execute(select(client_auth_settings).where(client_auth_settings.c.id == settings_id)).first()
    return None if row is None else _client_auth_settings(row)


def sealed_secret(conn: Connection, settings_id: str) -> bytes:
    """The sealed client secret of a settings object (to compare a new secret against)."""
    return bytes(
        conn.execute(
            select(client_auth_settings.c.client_secret_sealed).where(
                client_auth_settings.c.id == settings_id
            )
        ).scalar_one()
    )


def insert_row(conn: Connection, table: Table, values: Mapping[str, Any]) -> None:
    """Insert one row."""
    # Parameters rather than .values(): the compiled INSERT is cached and reused across calls.
    conn.execute(insert(table), dict(values))


def update_row(conn: Connection, table: Table, object_id: str, values: Mapping[str, Any]) -> None:
    """Update one row by public id."""
    conn.execute(update(table).where(table.c.id == object_id).values(**values))


def delete_row(conn: Connection, table: Table, object_id: str) -> None:
    """Delete one row by public id."""
    conn.execute(delete(table).where(table.c.id == object_id))


_CONVERTERS: dict[str, Callable[[Row[Any]], Any]] = {client_auth_settings.name: _client_auth_settings}


class Page:
    """One page of a registry list and the cursor of the next page, if there is one."""

    def __init__(self, items: Sequence[Any], next_cursor: str | None):
        self.items = list(items)
        self.next_cursor = next_cursor


def encode_cursor(pk: int) -> str:
    """An opaque, URL-safe cursor for keyset pagination."""
    return base64.urlsafe_b64encode(orjson.dumps({"pk": pk})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position an ``after`` cursor points at; a garbled cursor is a validation error."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        pk = data["pk"]
        if isinstance(pk, int) and not isinstance(pk, bool) and pk >= 0:
            return pk
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        pass
    raise ValidationFailed(["after: The cursor is not valid"])


def list_page(
    conn: Connection,
    table: Table,
    *,
    limit: int,
    after: str | None,
    where: Sequence[ColumnElement[bool]] = (),
    convert: Callable[[Row[Any]], Any] | None = None,
) -> Page:
    """Rows in registration order after the cursor, at most ``limit`` of them, as ``convert`` makes them."""
    query = select(table).where(*where).order_by(table.c.pk).limit(limit + 1)
    if after:
        query = query.where(table.c.pk > decode_cursor(after))
    rows = conn.execute(query).all()
    convert = convert or _CONVERTERS[table.name]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([convert(r) for r in rows], encode_cursor(rows[-1].pk) if more and rows else None)


# --- resource servers of every kind -------------------------------------------------------------------


def _server(kind: StoredKind, row: Row[Any]) -> ResourceServer[Any]:
    detected = kind.detected_from_json(orjson.loads(row.detected_metadata))
    return ResourceServer(**_same_named(row, ResourceServer, "detected"), detected=detected)


def _server_values(server: ResourceServer[Any]) -> dict[str, Any]:
    return {
        "resource_url": server.resource_url,
        "display_name": server.display_name,
        "description": server.description,
        "status": server.status,
        "detected_metadata": orjson.dumps(server.detected.to_json()).decode(),
        "last_refreshed_ms": server.last_refreshed_ms,
        "created_ms": server.created_ms,
        "last_updated_ms": server.last_updated_ms,
    }


def get_server(
    conn: Connection, kind: StoredKind, server_id: str, *, for_update: bool = False
) -> ResourceServer[Any] | None:
    """The server of that kind with that id, optionally locked for the rest of the transaction."""
    if not is_object_id(server_id):
        return None
    query = select(resource_servers).where(
        resource_servers.c.id == server_id, resource_servers.c.kind == kind.key
    )
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return None if row is None else _server(kind, row)


def server_page(
    conn: Connection, kind: StoredKind, *, limit: int, after: str | None, where: Where = ()
) -> Page:
    """A page of the servers of a kind, in registration order."""
    mine = [resource_servers.c.kind == kind.key, *where]
    return list_page(
        conn, resource_servers, limit=limit, after=after, where=mine, convert=lambda r: _server(kind, r)
    )


def server_ids(conn: Connection, kind: StoredKind) -> list[str]:
    """The ids of every server of a kind, in registration order."""
    query = (
        select(resource_servers.c.id)
        .where(resource_servers.c.kind == kind.key)
        .order_by(resource_servers.c.pk)
    )
    return list(conn.execute(query).scalars())


def url_taken(conn: Connection, kind: StoredKind, resource_url: str) -> bool:
    """Whether a server of that kind is registered with that URL."""
    query = select(resource_servers.c.id).where(
        resource_servers.c.kind == kind.key, resource_servers.c.resource_url == resource_url
    )
    return conn.execute(query).first() is not None


def insert_server(conn: Connection, kind: StoredKind, server: ResourceServer[Any]) -> None:
    """Store a new server of a kind."""
    insert_row(conn, resource_servers, {"id": server.id, "kind": kind.key, **_server_values(server)})


def update_server(conn: Connection, server: ResourceServer[Any]) -> None:
    """Write a server's current values."""
    update_row(conn, resource_servers, server.id, _server_values(server))


def delete_server(conn: Connection, server_id: str) -> None:
    """Delete a server and the authorization servers linked to it."""
    conn.execute(delete(resource_auth_servers).where(resource_auth_servers.c.server_id == server_id))
    delete_row(conn, resource_servers, server_id)


def settings_referencing(conn: Connection, orn: str) -> int:
    """How many client authentication settings name the resource ``orn``."""
    query = (
        select(func.count())
        .select_from(client_auth_settings)
        .where(client_auth_settings.c.resource_orn == orn)
    )
    return int(conn.execute(query).scalar_one())


# --- the authorization servers linked to them ------------------------------------------------------------


def _auth_server(row: Row[Any]) -> AuthServer[Any]:
    stored = orjson.loads(row.detected_metadata)
    grant_types = tuple(orjson.loads(row.grant_types))
    detected = (
        AuthServerMetadata.from_json(stored)
        if stored
        else EnteredEndpoints(row.authorization_endpoint, row.token_endpoint, grant_types)
    )
    return AuthServer(**_same_named(row, AuthServer, "detected"), detected=detected)


def _auth_values(auth: AuthServer[Any]) -> dict[str, Any]:
    detected = auth.detected
    return {
        "server_id": auth.server_id,
        "issuer": auth.issuer,
        "status": auth.status,
        "authorization_endpoint": detected.authorization_endpoint,
        "token_endpoint": detected.token_endpoint,
        "grant_types": orjson.dumps(list(detected.grant_types_supported)).decode(),
        # Entered endpoints are the columns themselves; discovered metadata is kept whole.
        "detected_metadata": orjson.dumps(
            detected.to_json() if isinstance(detected, AuthServerMetadata) else {}
        ).decode(),
        "created_ms": auth.created_ms,
        "last_updated_ms": auth.last_updated_ms,
    }


def get_auth_server(conn: Connection, server_id: str, auth_server_id: str) -> AuthServer[Any] | None:
    """An authorization server, only if it is linked to that server."""
    if not (is_object_id(server_id) and is_object_id(auth_server_id)):
        return None
    row = conn.execute(
        select(resource_auth_servers).where(
            resource_auth_servers.c.id == auth_server_id, resource_auth_servers.c.server_id == server_id
        )
    ).first()
    return None if row is None else _auth_server(row)


def auth_server_by_issuer(conn: Connection, server_id: str, issuer: str) -> AuthServer[Any] | None:
    """The authorization server with that issuer linked to that server, if any."""
    row = conn.execute(
        select(resource_auth_servers).where(
            resource_auth_servers.c.server_id == server_id, resource_auth_servers.c.issuer == issuer
        )
    ).first()
    return None if row is None else _auth_server(row)


def list_auth_servers(conn: Connection, server_ids: Sequence[str]) -> dict[str, list[AuthServer[Any]]]:
    """The authorization servers of each of ``server_ids``, in linking (insertion) order."""
    found: dict[str, list[AuthServer[Any]]] = {server_id: [] for server_id in server_ids}
    if not server_ids:
        return found
    rows = conn.execute(
        select(resource_auth_servers)
        .where(resource_auth_servers.c.server_id.in_(list(server_ids)))
        .order_by(resource_auth_servers.c.pk)
    ).all()
    for row in rows:
        found[row.server_id].append(_auth_server(row))
    return found


def auth_server_page(
    conn: Connection, server_id: str, *, limit: int, after: str | None, where: Where = ()
) -> Page:
    """A page of the authorization servers linked to a server."""
    linked = [resource_auth_servers.c.server_id == server_id, *where]
    return list_page(
        conn, resource_auth_servers, limit=limit, after=after, where=linked, convert=_auth_server
    )


def insert_auth_server(conn: Connection, auth: AuthServer[Any]) -> None:
    """Store a newly linked authorization server."""
    insert_row(conn, resource_auth_servers, {"id": auth.id, **_auth_values(auth)})


def update_auth_server(conn: Connection, auth: AuthServer[Any]) -> None:
    """Write an authorization server's current values."""
    update_row(conn, resource_auth_servers, auth.id, _auth_values(auth))
