"""Helpers for tool-discovery tests through the HTTP API: an MCP server registered by discovery of the
loopback ``ToolServer``, client authentication settings for it, and a discovery run."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .conftest import CLIENTS
from .servers import SCOPE, ToolServer

MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
SETTINGS = "/resource-servers/api/v1/client-auth-settings"
DISCOVER = "resource_servers.mcp_server.capability.discover"
DEACTIVATE = "resource_servers.mcp_server.deactivate"


def register(client: TestClient, auth: dict[str, str], server: ToolServer) -> dict[str, Any]:
    """Register the tool server (Registrar discovers its authorization server, the ``TokenIssuer``)."""
    response = client.post(MCP_SERVERS, json={"resourceUrl": server.resource_url}, headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def credential(
    client: TestClient,
    auth: dict[str, str],
    orn: str,
    client_id: str = "basic-client",
    secret: str | None = None,
) -> dict[str, Any]:
    """Client authentication settings for the server ``orn`` as one of the issuer's ``CLIENTS``."""
    registered = CLIENTS[client_id]
    configuration = {
        "clientId": client_id,
        "clientSecret": registered.secret if secret is None else secret,
        "scopes": [SCOPE],
        "tokenEndpointAuthMethod": registered.method,
    }
    body = {"name": f"{client_id} credential", "resourceOrn": orn, "configuration": configuration}
    response = client.post(SETTINGS, json=body, headers=auth)
    assert response.status_code == 201, response.text
    settings: dict[str, Any] = response.json()
    return settings


def discovery_body(settings_id: str) -> dict[str, Any]:
    return {"credential": {"authType": "CLIENT_AUTH_SETTINGS", "clientAuthSettingsId": settings_id}}


def discover(client: TestClient, auth: dict[str, str], server_id: str, settings_id: str) -> Any:
    """POST a discovery; returns the response."""
    return client.post(
        f"{MCP_SERVERS}/{server_id}/discoveries", json=discovery_body(settings_id), headers=auth
    )


def capabilities(client: TestClient, auth: dict[str, str], server_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{MCP_SERVERS}/{server_id}/capabilities", headers=auth)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def discoveries(client: TestClient, auth: dict[str, str], server_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{MCP_SERVERS}/{server_id}/discoveries", headers=auth)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [event for event in events if event["eventType"] == event_type]


def tool_target(event: dict[str, Any]) -> dict[str, Any] | None:
    return next((t for t in event["target"] if t["type"] == "McpServerTool"), None)
