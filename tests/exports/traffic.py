"""Real product traffic for export and detection tests: the 19 operations through the HTTP API.

MCP servers are discovered for real, over loopback, from the project's metadata site
(``tests.discovery.servers.MetadataSite``), with discovery allowed to reach 127.0.0.0/8 exactly as an
operator's allow-list would. The client reaches us through a trusted proxy with a public address in
``X-Forwarded-For``, so events carry a proxy chain and a country, as in production behind a load balancer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from registrar.api.routes.resource_servers import discovery_policy
from registrar.config import Settings
from registrar.context import job_context
from registrar.ids import new_request_id
from registrar.services import mcp_refresh
from tests.conftest import MakeToken
from tests.discovery.conftest import LOOPBACK_POLICY
from tests.discovery.servers import MetadataSite

__all__ = [
    "API",
    "CAS",
    "MCP",
    "McpSite",
    "behind_proxy",
    "exercise_catalog",
    "loopback_discovery",
    "mcp_site",
    "metadata_site",
]

API = "/resource-servers/api/v1/api-servers"
MCP = "/resource-servers/api/v1/mcp-servers"
CAS = "/resource-servers/api/v1/client-auth-settings"
PUBLIC_CLIENT = "8.8.8.8"  # a public address: the country lookup (shipped data) knows it
SECRET = "s3cr3t-Export-Value-1"


def behind_proxy(settings: Settings) -> Settings:
    """``settings`` trusting the test client's network (198.51.100.0/24) as a reverse proxy."""
    return dataclasses.replace(settings, trusted_proxies=("198.51.100.0/24",))


@pytest.fixture
def loopback_discovery(app: FastAPI) -> Iterator[None]:
    """Let MCP discovery reach loopback servers (the operator allow-list of a test set-up)."""
    app.dependency_overrides[discovery_policy] = lambda: LOOPBACK_POLICY
    yield
    app.dependency_overrides.pop(discovery_policy, None)


class McpSite:
    """One MCP server's protected-resource metadata and its authorization server's, served on loopback."""

    def __init__(self, site: MetadataSite, name: str):
        self.site = site
        self.resource_url = site.url(f"/{name}/mcp")
        self.issuer = site.url(f"/{name}/as")
        self._name = name

    def publish(self, resource_name: str, grant_types: list[str]) -> None:
        """(Re)publish both documents; the next discovery run sees them."""
        self.site.json(
            f"/.well-known/oauth-protected-resource/{self._name}/mcp",
            {
                "resource": self.resource_url,
                "authorization_servers": [self.issuer],
                "resource_name": resource_name,
            },
        )
        self.site.json(
            f"/.well-known/oauth-authorization-server/{self._name}/as",
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "grant_types_supported": grant_types,
                "response_types_supported": ["code"],
            },
        )


@pytest.fixture(scope="session")
def metadata_site() -> Iterator[MetadataSite]:
    site = MetadataSite()
    with site.serve():
        yield site


@pytest.fixture
def mcp_site(metadata_site: MetadataSite) -> Iterator[McpSite]:
    """A fresh MCP server's metadata on the shared loopback site."""
    metadata_site.reset()
    yield McpSite(metadata_site, "tools")
    metadata_site.reset()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def exercise_catalog(client: TestClient, auth: dict[str, str], make_token: MakeToken, site: McpSite) -> None:
    """Every one of the 19 operations at least once, plus a FAILURE and a DENY, through the HTTP API.

    One MCP refresh runs as the scheduler runs it (the system actor, a JOB transaction).
    """
    headers = {**auth, "X-Forwarded-For": PUBLIC_CLIENT}
    server = _ok(
        client.post(
            f"{API}?activate=true",
            json={"resourceUrl": "https://payments.example/v1/", "metadata": {"displayName": "Payments"}},
            headers=headers,
        ),
        201,
    )
    one = f"{API}/{server['id']}"
    _ok(client.patch(one, json={"metadata": {"description": "card payments"}}, headers=headers))
    linked = _ok(
        client.post(
            f"{one}/authorization-servers",
            json={
                "issuer": "https://login.example.com/",
                "authorizationEndpoint": "https://login.example.com/authorize",
                "tokenEndpoint": "https://login.example.com/token",
                "grantTypesSupported": ["authorization_code"],
            },
            headers=headers,
        ),
        201,
    )
    link = f"{one}/authorization-servers/{linked['id']}"
    _ok(client.patch(link, json={"grantTypesSupported": ["client_credentials"]}, headers=headers))
    settings = _ok(
        client.post(
            CAS,
            json={
                "name": "Payments client",
                "resourceOrn": server["orn"],
                "configuration": {"clientId": "client-1", "clientSecret": SECRET},
            },
            headers=headers,
        ),
        201,
    )
    rotated = {"configuration": {"clientSecret": SECRET + "-rotated"}}
    _ok(client.patch(f"{CAS}/{settings['id']}", json=rotated, headers=headers))
    _ok(client.delete(f"{CAS}/{settings['id']}", headers=headers), 204)
    _ok(client.delete(link, headers=headers), 204)
    _ok(client.post(f"{one}/lifecycle/deactivate", headers=headers))
    _ok(client.delete(one, headers=headers), 204)

    site.publish("github-tools", ["authorization_code"])
    mcp = _ok(client.post(MCP, json={"resourceUrl": site.resource_url}, headers=headers), 201)
    mcp_one = f"{MCP}/{mcp['id']}"
    _ok(client.post(f"{mcp_one}/lifecycle/activate", headers=headers))
    _ok(client.patch(mcp_one, json={"metadata": {"displayName": "GitHub tools"}}, headers=headers))
    site.publish("github-tools-v2", ["authorization_code", "refresh_token"])
    _ok(client.post(f"{mcp_one}/discovery", headers=headers))
    site.publish("github-tools-v3", ["authorization_code", "refresh_token"])
    app = client.app
    assert isinstance(app, FastAPI)
    mcp_refresh.refresh(app.state.deps, job_context(new_request_id()), mcp["id"], LOOPBACK_POLICY)
    _ok(client.post(f"{mcp_one}/lifecycle/deactivate", headers=headers))
    _ok(client.delete(mcp_one, headers=headers), 204)

    # Refused requests are audited too: a FAILURE (unknown id) and a DENY (a token without the scope).
    _ok(client.post(f"{MCP}/mcp00000000000000000/lifecycle/activate", headers=headers), 404)
    reader = {"Authorization": f"SSWS {make_token('okta.logs.read')}", "X-Forwarded-For": PUBLIC_CLIENT}
    body = {"resourceUrl": "https://denied.example/", "metadata": {"displayName": "Denied"}}
    _ok(client.post(API, json=body, headers=reader), 403)
