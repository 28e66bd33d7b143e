"""The ACTIVE MCP servers as entries of the official MCP Registry API (``/v0.1/servers``).

What an MCP host or gateway reads as its allow-list: activating a server in Registrar is what publishes
it, deactivating (or deleting) it is what withdraws it, so the entries always agree with the System Log's
``mcp_server.activate`` / ``deactivate`` events. Registrar keeps one state per server, so each server is
one entry, its only and latest version.

Naming and versioning are derived, never stored (both are documented in the README):

- ``name``: the reverse-DNS form of the ``resourceUrl``'s host (``https://mcp.example.com/mcp`` gives
  ``com.example.mcp``; an IP address is kept as written) as the namespace, then ``/`` and the server's
  id. The id, not the display name: a rename never changes the name an allow-list pins, and two servers
  on one host never collide.
- ``version``: ``1.0.<t>``, ``t`` the entry's ``updatedAt`` in epoch milliseconds: the latest change to the
  server or to one of its authorization servers. It is valid semantic versioning and grows with every
  change a host would care about (activation, a changed authorization server, a new description).

Listing scans the ACTIVE servers in registration order (the ``cursor`` is the position of the last entry
of the previous page); ``search``, ``updated_since`` and ``version`` are applied to each entry as it is
built (``name`` is derived, so SQL cannot match it), a batch at a time.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Row

from registrar.domain.mcp import ResourceMetadata
from registrar.domain.resources import AuthServer, ResourceServer
from registrar.domain.statuses import Status
from registrar.errors import NotFound, ValidationFailed
from registrar.ids import is_object_id
from registrar.kinds import KINDS
from registrar.params import INT64_MAX
from registrar.store import repositories as repo
from registrar.store.schema import mcp_discoveries, mcp_tools, resource_servers

from ._run import read_connection
from .capabilities_store import COMPLETED, PRESENT
from .deps import Deps

__all__ = [
    "MAX_NAME_LENGTH",
    "RegistryEntry",
    "RegistryPage",
    "entry_version",
    "find_entry",
    "list_entries",
    "registry_name",
]

KIND = KINDS["mcp"]
MAX_NAME_LENGTH = 200  # server.json: name is 3 to 200 characters
_NOT_NAME_CHARS = re.compile(r"[^a-z0-9.-]+")
_BATCH = 200  # servers read at a time while search, updated_since or version narrows the list


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """An ACTIVE MCP server as a registry entry, with what it is published under."""

    server: ResourceServer[ResourceMetadata]
    authorization_servers: tuple[AuthServer[Any], ...]
    tool_count: int | None  # PRESENT tools after a completed tool discovery; None: never discovered
    name: str
    version: str
    updated_ms: int


@dataclass(frozen=True, slots=True)
class RegistryPage:
    """One page of entries and the cursor of the next, if more entries match."""

    entries: list[RegistryEntry]
    next_cursor: str | None


def _namespace(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # an address is not a DNS name: it keeps its own order (an IPv6 address its colons as "-")
        return _NOT_NAME_CHARS.sub("-", host.lower())
    with contextlib.suppress(UnicodeError):  # what the codec refuses is left to the replacement below
        host = host.encode("idna").decode("ascii")
    labels = [_NOT_NAME_CHARS.sub("-", label) for label in host.lower().split(".") if label]
    return ".".join(reversed(labels))


def registry_name(resource_url: str, server_id: str) -> str:
    """The server.json ``name`` of a server: reverse-DNS namespace of its URL's host, ``/``, its id."""
    host = urlsplit(resource_url).hostname or ""
    namespace = _namespace(host) or "local"
    return f"{namespace[: MAX_NAME_LENGTH - 1 - len(server_id)]}/{server_id}"


def entry_version(updated_ms: int) -> str:
    """The server.json ``version`` of an entry last changed at ``updated_ms``."""
    return f"1.0.{updated_ms}"


def _tool_counts(conn: Connection, server_ids: Sequence[str]) -> dict[str, int | None]:
    counts: dict[str, int | None] = dict.fromkeys(server_ids)
    if not server_ids:
        return counts
    discovered = conn.execute(
        select(mcp_discoveries.c.server_id)
        .where(mcp_discoveries.c.server_id.in_(list(server_ids)), mcp_discoveries.c.status == COMPLETED)
        .distinct()
    ).scalars()
    counts |= dict.fromkeys(discovered, 0)
    present = conn.execute(
        select(mcp_tools.c.server_id, func.count())
        .where(mcp_tools.c.server_id.in_(list(server_ids)), mcp_tools.c.status == PRESENT)
        .group_by(mcp_tools.c.server_id)
    ).all()
    counts |= {server_id: int(n) for server_id, n in present}
    return counts


def _server(row: Row[Any]) -> ResourceServer[ResourceMetadata]:
    return ResourceServer(
        id=row.id,
        resource_url=row.resource_url,
        display_name=row.display_name,
        description=row.description,
        status=row.status,
        detected=KIND.detected_from_json(orjson.loads(row.detected_metadata)),
        last_refreshed_ms=row.last_refreshed_ms,
        created_ms=row.created_ms,
        last_updated_ms=row.last_updated_ms,
    )


def _entries(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegistryEntry]:
    servers = [_server(row) for row in rows]
    ids = [server.id for server in servers]
    auths = repo.list_auth_servers(conn, ids)
    tools = _tool_counts(conn, ids)
    entries = []
    for server in servers:
        linked = tuple(auths[server.id])
        updated = max([server.last_updated_ms, *(a.last_updated_ms for a in linked)])
        entries.append(
            RegistryEntry(
                server=server,
                authorization_servers=linked,
                tool_count=tools[server.id],
                name=registry_name(server.url, server.id),
                version=entry_version(updated),
                updated_ms=updated,
            )
        )
    return entries


_ACTIVE_MCP = (resource_servers.c.kind == KIND.key, resource_servers.c.status == str(Status.ACTIVE))


def list_entries(
    deps: Deps,
    *,
    limit: int,
    cursor: str | None = None,
    search: str | None = None,
    updated_since_ms: int | None = None,
    version: str | None = None,
) -> RegistryPage:
    """A page of entries after ``cursor``: ``search`` in the name (any case), updated after
    ``updated_since_ms``, of ``version`` (``latest``: every entry is its server's latest)."""
    position = _position(cursor)
    needle = search.lower() if search else None

    def wanted(entry: RegistryEntry) -> bool:
        return (
            (needle is None or needle in entry.name.lower())
            and (updated_since_ms is None or entry.updated_ms > updated_since_ms)
            and (version in (None, "", "latest") or entry.version == version)
        )

    narrowed = bool(needle) or updated_since_ms is not None or version not in (None, "", "latest")
    batch = max(_BATCH, limit + 1) if narrowed else limit + 1  # unnarrowed: one page and one more row
    found: list[tuple[int, RegistryEntry]] = []
    with read_connection(deps) as conn:
        while len(found) <= limit:
            rows = conn.execute(
                select(resource_servers)
                .where(*_ACTIVE_MCP, resource_servers.c.pk > position)
                .order_by(resource_servers.c.pk)
                .limit(batch)
            ).all()
            if not rows:
                break
            found += [(row.pk, e) for row, e in zip(rows, _entries(conn, rows), strict=True) if wanted(e)]
            position = rows[-1].pk
    page = found[:limit]
    more = len(found) > limit and page
    return RegistryPage([e for _, e in page], repo.encode_cursor(page[-1][0]) if more else None)


def _position(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        position = repo.decode_cursor(cursor)
    except ValidationFailed:
        position = -1
    # A well-formed cursor past any 64-bit key is refused here too, not by the database.
    if not 0 <= position <= INT64_MAX:
        raise ValidationFailed(["cursor: The cursor is not valid"])
    return position


def find_entry(deps: Deps, name: str, version: str | None = None) -> RegistryEntry:
    """The entry published as ``name`` (of ``version``, when given; ``latest`` is every entry); else 404."""
    server_id = name.rpartition("/")[2]
    if is_object_id(server_id) and server_id.startswith(KIND.id_prefix):
        with read_connection(deps) as conn:
            rows = conn.execute(
                select(resource_servers).where(*_ACTIVE_MCP, resource_servers.c.id == server_id)
            ).all()
            entries = _entries(conn, rows)
        for entry in entries:
            if entry.name == name and version in (None, "latest", entry.version):
                return entry
    shown = name if version is None else f"{name} version {version}"
    raise NotFound(shown, "McpServer")
