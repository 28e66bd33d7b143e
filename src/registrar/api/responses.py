"""JSON representations of registry objects and the list envelope."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request, Response

from registrar.context.forwarding import external_origin
from registrar.domain.entities import ClientAuthSettings
from registrar.domain.mcp import McpAuthServer, McpServerDetail
from registrar.domain.resources import AuthServer, EnteredEndpoints, NoMetadata, ResourceServer
from registrar.errors import ValidationFailed
from registrar.ids import format_timestamp
from registrar.params import INT64_MAX, bounded_int
from registrar.services.deps import api_server_orn, client_auth_settings_orn, mcp_server_orn
from registrar.store.repositories import decode_cursor

__all__ = [
    "api_auth_server_json",
    "api_server_json",
    "base_url",
    "client_auth_settings_json",
    "json_response",
    "list_response",
    "mcp_auth_server_json",
    "mcp_server_json",
    "page_params",
]

API_SERVERS = "/resource-servers/api/v1/api-servers"
CLIENT_AUTH_SETTINGS = "/resource-servers/api/v1/client-auth-settings"
MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def base_url(request: Request) -> str:
    """The scheme and host the client used (trusted ``Forwarded``/``X-Forwarded-*`` honoured), no slash."""
    scheme, host = external_origin(request.scope, request.app.state.enricher.trusted_proxies)
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{scheme}://{host}{root}"


def _ts(ms: int) -> str:
    return format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))


def _href(url: str, *, methods: Sequence[str] | None = None) -> dict[str, Any]:
    link: dict[str, Any] = {"href": url}
    if methods:
        link["hints"] = {"allow": list(methods)}
    return link


def api_server_json(server: ResourceServer[NoMetadata], base: str, org_id: str) -> dict[str, Any]:
    """An API server as the API returns it."""
    self_url = f"{base}{API_SERVERS}/{server.id}"
    lifecycle = "deactivate" if server.status == "ACTIVE" else "activate"
    return {
        "id": server.id,
        "orn": api_server_orn(org_id, server.id),
        "resourceUrl": server.resource_url,
        "status": server.status,
        "metadata": {"displayName": server.display_name, "description": server.description},
        "created": _ts(server.created_ms),
        "lastUpdated": _ts(server.last_updated_ms),
        "_links": {
            "self": _href(self_url, methods=["GET", "PATCH", "DELETE"]),
            "authorization-servers": _href(f"{self_url}/authorization-servers"),
            lifecycle: _href(f"{self_url}/lifecycle/{lifecycle}", methods=["POST"]),
        },
    }


def api_auth_server_json(auth: AuthServer[EnteredEndpoints], base: str) -> dict[str, Any]:
    """An API server's third-party authorization server as the API returns it."""
    return {
        "id": auth.id,
        "issuer": auth.issuer,
        "authorizationEndpoint": auth.authorization_endpoint,
        "tokenEndpoint": auth.token_endpoint,
        "grantTypesSupported": list(auth.grant_types),
        "created": _ts(auth.created_ms),
        "lastUpdated": _ts(auth.last_updated_ms),
        "_links": {
            "self": _href(f"{base}{API_SERVERS}/{auth.server_id}/authorization-servers/{auth.id}"),
            "apiServer": _href(f"{base}{API_SERVERS}/{auth.server_id}"),
        },
    }


def client_auth_settings_json(settings: ClientAuthSettings, base: str, org_id: str) -> dict[str, Any]:
    """Client authentication settings as the API returns them: the secret is write-only."""
    return {
        "id": settings.id,
        "orn": client_auth_settings_orn(org_id, settings.id),
        "name": settings.name,
        "resourceOrn": settings.resource_orn,
        "purpose": [settings.purpose],
        "protocol": "OAUTH2",
        "configuration": {
            "clientId": settings.client_id,
            "scopes": list(settings.scopes),
            "tokenEndpointAuthMethod": settings.token_endpoint_auth_method,
        },
        "created": _ts(settings.created_ms),
        "lastUpdated": _ts(settings.last_updated_ms),
        "_links": {"self": _href(f"{base}{CLIENT_AUTH_SETTINGS}/{settings.id}")},
    }


def page_params(request: Request) -> tuple[int, str | None]:
    """``limit`` (1..200, default 20) and ``after`` of a registry list request; anything else is a 400."""
    limit = bounded_int(request.query_params.get("limit"), "limit", low=1, high=200, default=20)
    after = request.query_params.get("after") or None
    # A well-formed cursor can still name a position no 64-bit key reaches; refuse it here, not in SQL.
    if after is not None and decode_cursor(after) > INT64_MAX:
        raise ValidationFailed(["after: The cursor is not valid"])
    return limit, after


def list_response(
    request: Request, items: Sequence[Any], next_cursor: str | None, render: Callable[[Any], dict[str, Any]]
) -> Response:
    """The ``{data, _links}`` envelope; ``next`` repeats the request's parameters with the new cursor."""
    path = base_url(request) + request.url.path
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
    self_url = f"{path}?{request.url.query}" if request.url.query else path
    links: dict[str, Any] = {"self": {"href": self_url}}
    if next_cursor is not None:
        links["next"] = {"href": f"{path}?{urlencode([*params, ('after', next_cursor)])}"}
    return json_response({"data": [render(item) for item in items], "_links": links})


def mcp_server_json(detail: McpServerDetail, base: str, org_id: str) -> dict[str, Any]:
    """An MCP server as the API returns it, with its authorization servers embedded."""
    server = detail.server
    self_url = f"{base}{MCP_SERVERS}/{server.id}"
    lifecycle = "deactivate" if server.status == "ACTIVE" else "activate"
    refreshed = server.last_refreshed_ms
    return {
        "id": server.id,
        "orn": mcp_server_orn(org_id, server.id),
        "resourceUrl": server.resource_url,
        "status": server.status,
        "metadata": {"displayName": server.display_name, "description": server.description},
        "detectedMetadata": {
            **server.detected.to_json(),
            "lastRefreshedAt": None if refreshed is None else _ts(refreshed),
        },
        "authorizationServerCount": len(detail.authorization_servers),
        "created": _ts(server.created_ms),
        "lastUpdated": _ts(server.last_updated_ms),
        "_embedded": {
            "authorizationServers": [mcp_auth_server_json(a, base) for a in detail.authorization_servers]
        },
        "_links": {
            "self": _href(self_url, methods=["GET", "PATCH", "DELETE"]),
            "authorization-servers": _href(f"{self_url}/authorization-servers"),
            "discovery": _href(f"{self_url}/discovery", methods=["POST"]),
            lifecycle: _href(f"{self_url}/lifecycle/{lifecycle}", methods=["POST"]),
        },
    }


def mcp_auth_server_json(auth: McpAuthServer, base: str) -> dict[str, Any]:
    """An authorization server discovered for an MCP server, as the API returns it."""
    server_url = f"{base}{MCP_SERVERS}/{auth.server_id}"
    return {
        "id": auth.id,
        "issuer": auth.issuer,
        "type": "EXTERNAL",
        "status": auth.status,
        "detectedMetadata": auth.detected.to_json(),
        "created": _ts(auth.created_ms),
        "lastUpdated": _ts(auth.last_updated_ms),
        "_links": {
            "self": _href(f"{server_url}/authorization-servers/{auth.id}"),
            "mcpServer": _href(server_url),
        },
    }
