"""Reading and writing resource rows. Functions take the caller's connection; none of them commits."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Row

from registrar.domain.entities import ApiAuthServer, ApiServer, ClientAuthSettings
from registrar.domain.mcp import AuthServerMetadata, McpAuthServer, McpServer, ResourceMetadata
from registrar.errors import ValidationFailed
from registrar.ids import is_object_id

from .schema import (
    api_auth_servers,
    api_servers,
    client_auth_settings,
    installation,
    mcp_auth_servers,
    mcp_servers,
)

__all__ = [
    "Page",
    "decode_cursor",
    "delete_row",
    "get_api_auth_server",
    "get_api_server",
    "get_client_auth_settings",
    "get_mcp_auth_server",
    "get_mcp_server",
    "insert_row",
    "list_mcp_auth_servers",
    "list_page",
    "org_id",
    "update_row",
]


def org_id(conn: Connection) -> str:
    """The installation's org id (used in ORNs)."""
    return str(conn.execute(select(installation.c.org_id)).scalar_one())


def _api_server(row: Row[Any]) -> ApiServer:
    return ApiServer(
        id=row.id,
        resource_url=row.resource_url,
        display_name=row.display_name,
        description=row.description,
        status=row.status,
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


def _api_auth_server(row: Row[Any]) -> ApiAuthServer:
    return ApiAuthServer(
        id=row.id,
        api_server_id=row.api_server_id,
        issuer=row.issuer,
        authorization_endpoint=row.authorization_endpoint,
        token_endpoint=row.token_endpoint,
        grant_types=tuple(orjson.loads(row.grant_types)),
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


def _client_auth_settings(row: Row[Any]) -> ClientAuthSettings:
    return ClientAuthSettings(
        id=row.id,
        name=row.name,
        resource_orn=row.resource_orn,
        purpose=row.purpose,
        client_id=row.client_id,
        scopes=tuple(orjson.loads(row.scopes)),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


def get_api_server(conn: Connection, server_id: str, *, for_update: bool = False) -> ApiServer | None:
    """The API server with that id, optionally locked for the rest of the transaction."""
    if not is_object_id(server_id):
        return None
    query = select(api_servers).where(api_servers.c.id == server_id)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return None if row is None else _api_server(row)


def get_api_auth_server(conn: Connection, server_id: str, auth_server_id: str) -> ApiAuthServer | None:
    """An authorization server, only if it belongs to that API server."""
    if not (is_object_id(server_id) and is_object_id(auth_server_id)):
        return None
    row = conn.execute(
        select(api_auth_servers).where(
            api_auth_servers.c.id == auth_server_id, api_auth_servers.c.api_server_id == server_id
        )
    ).first()
    return None if row is None else _api_auth_server(row)


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


_CONVERTERS = {
    api_servers.name: _api_server,
    api_auth_servers.name: _api_auth_server,
    client_auth_settings.name: _client_auth_settings,
}


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
) -> Page:
    """Rows in registration order after the cursor, at most ``limit`` of them."""
    query = select(table).where(*where).order_by(table.c.pk).limit(limit + 1)
    if after:
        query = query.where(table.c.pk > decode_cursor(after))
    rows = conn.execute(query).all()
    convert = _CONVERTERS[table.name]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([convert(r) for r in rows], encode_cursor(rows[-1].pk) if more and rows else None)


# --- MCP servers and their discovered authorization servers -------------------------------------------


def _mcp_server(row: Row[Any]) -> McpServer:
    return McpServer(
        id=row.id,
        resource_url=row.resource_url,
        display_name=row.display_name,
        description=row.description,
        status=row.status,
        detected=ResourceMetadata(row.resource_name, tuple(orjson.loads(row.scopes_supported))),
        last_refreshed_ms=row.last_refreshed_ms,
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


def _mcp_auth_server(row: Row[Any]) -> McpAuthServer:
    return McpAuthServer(
        id=row.id,
        mcp_server_id=row.mcp_server_id,
        issuer=row.issuer,
        status=row.status,
        detected=AuthServerMetadata.from_json(orjson.loads(row.detected_metadata)),
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


_CONVERTERS[mcp_servers.name] = _mcp_server
_CONVERTERS[mcp_auth_servers.name] = _mcp_auth_server


def get_mcp_server(conn: Connection, server_id: str, *, for_update: bool = False) -> McpServer | None:
    """The MCP server with that id, optionally locked for the rest of the transaction."""
    if not is_object_id(server_id):
        return None
    query = select(mcp_servers).where(mcp_servers.c.id == server_id)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return None if row is None else _mcp_server(row)


def get_mcp_auth_server(conn: Connection, server_id: str, auth_server_id: str) -> McpAuthServer | None:
    """An authorization server, only if it belongs to that MCP server."""
    if not (is_object_id(server_id) and is_object_id(auth_server_id)):
        return None
    row = conn.execute(
        select(mcp_auth_servers).where(
            mcp_auth_servers.c.id == auth_server_id, mcp_auth_servers.c.mcp_server_id == server_id
        )
    ).first()
    return None if row is None else _mcp_auth_server(row)


def list_mcp_auth_servers(conn: Connection, server_ids: Sequence[str]) -> dict[str, list[McpAuthServer]]:
    """The authorization servers of each of ``server_ids``, in discovery (insertion) order."""
    found: dict[str, list[McpAuthServer]] = {server_id: [] for server_id in server_ids}
    if not server_ids:
        return found
    rows = conn.execute(
        select(mcp_auth_servers)
        .where(mcp_auth_servers.c.mcp_server_id.in_(list(server_ids)))
        .order_by(mcp_auth_servers.c.pk)
    ).all()
    for row in rows:
        found[row.mcp_server_id].append(_mcp_auth_server(row))
    return found
