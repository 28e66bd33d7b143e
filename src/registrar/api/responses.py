"""JSON representations of registry objects and the list envelope."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request, Response

from registrar.context.forwarding import external_origin
from registrar.domain.entities import ClientAuthSettings
from registrar.domain.resources import AuthServer, EnteredEndpoints, ServerDetail
from registrar.errors import ValidationFailed
from registrar.ids import format_ms
from registrar.kinds import Kind
from registrar.params import INT64_MAX, bounded_int
from registrar.services.deps import client_auth_settings_orn
from registrar.store.repositories import decode_cursor

__all__ = [
    "auth_server_json",
    "base_url",
    "client_auth_settings_json",
    "json_response",
    "list_response",
    "page_params",
    "server_json",
    "servers_path",
]

RESOURCE_SERVERS = "/resource-servers/api/v1"
CLIENT_AUTH_SETTINGS = f"{RESOURCE_SERVERS}/client-auth-settings"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response serialized with orjson."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def base_url(request: Request) -> str:
    """The scheme and host the client used (trusted ``Forwarded``/``X-Forwarded-*`` honoured), no slash."""
    scheme, host = external_origin(request.scope, request.app.state.enricher.trusted_proxies)
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{scheme}://{host}{root}"


def _href(url: str, *, methods: Sequence[str] | None = None) -> dict[str, Any]:
    link: dict[str, Any] = {"href": url}
    if methods:
        link["hints"] = {"allow": list(methods)}
    return link


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
        "created": format_ms(settings.created_ms),
        "lastUpdated": format_ms(settings.last_updated_ms),
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


def servers_path(kind: Kind) -> str:
    """Where the servers of a kind are, under the resource-servers API."""
    return f"{RESOURCE_SERVERS}/{kind.path}"


def server_json(kind: Kind, detail: ServerDetail[Any], base: str, org_id: str) -> dict[str, Any]:
    """A resource server as the API returns it; a kind that detects metadata embeds its authorization
    servers."""
    server = detail.server
    self_url = f"{base}{servers_path(kind)}/{server.id}"
    lifecycle = "deactivate" if server.status == "ACTIVE" else "activate"
    body: dict[str, Any] = {
        "id": server.id,
        "orn": kind.orn(org_id, server.id),
        "resourceUrl": server.resource_url,
        "status": server.status,
        "metadata": {"displayName": server.display_name, "description": server.description},
    }
    links = {
        "self": _href(self_url, methods=["GET", "PATCH", "DELETE"]),
        "authorization-servers": _href(f"{self_url}/authorization-servers"),
    }
    if kind.detects:
        body["detectedMetadata"] = {
            **server.detected.to_json(),
            "lastRefreshedAt": format_ms(server.last_refreshed_ms),
        }
        body["authorizationServerCount"] = len(detail.authorization_servers)
    body |= dict(detail.extras)
    body |= {"created": format_ms(server.created_ms), "lastUpdated": format_ms(server.last_updated_ms)}
    if kind.detects:
        body["_embedded"] = {
            "authorizationServers": [auth_server_json(kind, a, base) for a in detail.authorization_servers]
        }
    for name in kind.extra_links:
        links[name] = _href(f"{self_url}/{name}", methods=["POST"])
    links[lifecycle] = _href(f"{self_url}/lifecycle/{lifecycle}", methods=["POST"])
    body["_links"] = links
    return body


def auth_server_json(kind: Kind, auth: AuthServer[Any], base: str) -> dict[str, Any]:
    """An authorization server linked to a resource server: entered (its endpoints) or discovered."""
    server_url = f"{base}{servers_path(kind)}/{auth.server_id}"
    body: dict[str, Any] = {"id": auth.id, "issuer": auth.issuer}
    if isinstance(auth.detected, EnteredEndpoints):
        body |= {
            "authorizationEndpoint": auth.authorization_endpoint,
            "tokenEndpoint": auth.token_endpoint,
            "grantTypesSupported": list(auth.grant_types),
        }
    else:
        body |= {"type": "EXTERNAL", "status": auth.status, "detectedMetadata": auth.detected.to_json()}
    return body | {
        "created": format_ms(auth.created_ms),
        "lastUpdated": format_ms(auth.last_updated_ms),
        "_links": {
            "self": _href(f"{server_url}/authorization-servers/{auth.id}"),
            kind.link_name: _href(server_url),
        },
    }
