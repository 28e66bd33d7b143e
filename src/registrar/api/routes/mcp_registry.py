"""The official MCP Registry API's read side (``/v0.1/servers``, also at ``/v0`` for older clients).

MCP hosts and gateways read their allow-list here: the ACTIVE MCP servers
(:mod:`registrar.services.mcp_registry`), each a ``server.json`` (schema 2025-12-11) whose one remote is
the server's streamable-http ``resourceUrl``. Beside the registry's own ``_meta`` entry
(``io.modelcontextprotocol.registry/official``), each response carries what Registrar verified:

- ``io.github.registrar/authorization``: the protected-resource metadata discovery found (``resource``,
  ``resourceName``, ``scopesSupported``, when it was last verified) and the server's ACTIVE authorization
  servers with their metadata (issuer, endpoints, grant types, ``idJagSupported``, ...);
- ``io.github.registrar/registration``: the server's Registrar id and ORN, and how many tools its last
  tool discovery found (null before any).

Reading needs a token with ``okta.resourceServers.mcpServers.read`` (or ``.manage``), unless
``REGISTRAR_PUBLIC_REGISTRY=true`` opens it to anonymous reads. Errors are Okta error objects, as
everywhere in Registrar (a missing server is a 404 ``E0000007``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from registrar.domain.mcp import AuthServerMetadata
from registrar.domain.resources import AuthServer
from registrar.domain.statuses import Status
from registrar.errors import ValidationFailed
from registrar.ids import format_ms
from registrar.params import bounded_int
from registrar.services.deps import Deps
from registrar.services.mcp_registry import KIND, RegistryEntry, find_entry, list_entries
from registrar.syslog.timeparse import parse_timestamp

from ..deps import ServiceDeps
from ..responses import json_response
from ..security import authenticate, require_scope

__all__ = ["AUTHORIZATION", "OFFICIAL", "REGISTRATION", "SCHEMA_URL", "entry_json", "router"]

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
OFFICIAL = "io.modelcontextprotocol.registry/official"
AUTHORIZATION = "io.github.registrar/authorization"
REGISTRATION = "io.github.registrar/registration"
_TEXT_MAX = 100  # server.json: title and description are 1 to 100 characters
_PREFIXES = ("/v0.1", "/v0")


def _reader(request: Request) -> None:
    """Anonymous with ``REGISTRAR_PUBLIC_REGISTRY=true``; else a token that may read MCP servers."""
    deps: Deps = request.app.state.deps
    if deps.settings.public_registry:
        return
    require_scope(authenticate(deps.engine, request), *KIND.read_scopes)


router = APIRouter(tags=["MCP Registry"], dependencies=[Depends(_reader)])


def _bounded(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 1] + "…"


def _authorization_server(auth: AuthServer[Any]) -> dict[str, Any]:
    if isinstance(auth.detected, AuthServerMetadata):
        metadata = auth.detected.to_json()
    else:  # entered by an admin: its endpoints and grant types
        metadata = {
            "authorizationEndpoint": auth.authorization_endpoint,
            "tokenEndpoint": auth.token_endpoint,
            "grantTypesSupported": list(auth.grant_types),
        }
    return {"issuer": auth.issuer, **metadata}


def entry_json(entry: RegistryEntry, org_id: str) -> dict[str, Any]:
    """An entry as the registry's ``ServerResponse``: the ``server.json`` and the registry's ``_meta``."""
    server = entry.server
    title = _bounded(server.display_name)
    document: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "name": entry.name,
        **({"title": title} if title else {}),
        "description": _bounded(server.description or "") or title or _bounded(server.url),
        "version": entry.version,
        "remotes": [{"type": "streamable-http", "url": server.url}],
    }
    return {
        "server": document,
        "_meta": {
            OFFICIAL: {
                "status": "active",
                "publishedAt": format_ms(server.created_ms),
                "updatedAt": format_ms(entry.updated_ms),
                "isLatest": True,
            },
            AUTHORIZATION: {
                "resource": server.url,
                "resourceName": server.detected.resource_name,
                "scopesSupported": list(server.detected.scopes_supported),
                "verifiedAt": format_ms(server.last_refreshed_ms),
                "authorizationServers": [
                    _authorization_server(auth)
                    for auth in entry.authorization_servers
                    if auth.status == Status.ACTIVE
                ],
            },
            REGISTRATION: {
                "id": server.id,
                "orn": KIND.orn(org_id, server.id),
                "toolCount": entry.tool_count,
            },
        },
    }


def _updated_since(raw: str | None) -> int | None:
    if not raw:
        return None
    moment = parse_timestamp(raw)
    if moment is None:
        raise ValidationFailed(
            ["updated_since: must be an RFC 3339 timestamp, e.g. 2025-08-07T13:15:04.280Z"]
        )
    return int(moment.timestamp() * 1000)


def _list(
    deps: ServiceDeps,
    cursor: Annotated[str | None, Query(description="metadata.nextCursor of the previous page")] = None,
    limit: Annotated[str | None, Query(description="1..100, default 30")] = None,
    search: Annotated[str | None, Query(description="Substring of the server name (any case)")] = None,
    updated_since: Annotated[str | None, Query(description="RFC 3339: entries updated after it")] = None,
    version: Annotated[str | None, Query(description="latest, or an exact version")] = None,
) -> Response:
    """List the ACTIVE MCP servers (the registry's ``ServerList``)."""
    page = list_entries(
        deps,
        limit=bounded_int(limit, "limit", low=1, high=100, default=30),
        cursor=cursor,
        search=search,
        updated_since_ms=_updated_since(updated_since),
        version=version,
    )
    metadata: dict[str, Any] = {"count": len(page.entries)}
    if page.next_cursor is not None:
        metadata["nextCursor"] = page.next_cursor
    return json_response(
        {"servers": [entry_json(e, deps.org_id) for e in page.entries], "metadata": metadata}
    )


def _versions(serverName: str, deps: ServiceDeps) -> Response:  # noqa: N803 - the registry's parameter name
    """List the versions of an MCP server: its one, latest version."""
    entry = find_entry(deps, serverName)
    return json_response({"servers": [entry_json(entry, deps.org_id)], "metadata": {"count": 1}})


def _version(serverName: str, version: str, deps: ServiceDeps) -> Response:  # noqa: N803
    """Retrieve a version of an MCP server (``latest``, or its exact version)."""
    return json_response(entry_json(find_entry(deps, serverName, version), deps.org_id))


_ROUTES = (
    ("", _list, "list_servers"),
    ("/{serverName:path}/versions", _versions, "list_server_versions"),
    ("/{serverName:path}/versions/{version}", _version, "get_server_version"),
)
for _prefix in _PREFIXES:
    for _path, _endpoint, _name in _ROUTES:
        router.add_api_route(
            f"{_prefix}/servers{_path}",
            _endpoint,
            methods=["GET"],
            include_in_schema=_prefix == _PREFIXES[0],  # /v0 repeats /v0.1 for older clients
            name=f"{_name}{_prefix}",
        )
