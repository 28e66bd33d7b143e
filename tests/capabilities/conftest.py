"""Fixtures for tool discovery: a loopback authorization server, an MCP server it protects, the policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI

from registrar.api.routes.resource_servers import discovery_policy
from registrar.capabilities import ClientCredentials, ToolTarget
from registrar.config import Settings
from registrar.discovery import FetchPolicy, parse_networks

from .servers import SCOPE, OAuthClient, TokenIssuer, ToolServer, tool

# Loopback servers are reachable only through the operator allow-list, as in a real test set-up.
LOOPBACK_POLICY = FetchPolicy(
    allow_http=True,
    allowed_networks=parse_networks(["127.0.0.0/8"]),
    connect_timeout=2.0,
    request_timeout=5.0,
    discovery_timeout=15.0,
)

CLIENTS = {
    "basic-client": OAuthClient("basic-secret", "client_secret_basic"),
    "post-client": OAuthClient("post secret+&=", "client_secret_post"),
    "jwt-client": OAuthClient("jwt-secret-at-least-32-bytes-long!!", "client_secret_jwt"),
}
DEFAULT_TOOLS = [
    tool(
        "echo", "Echo text back.", inputSchema={"type": "object", "properties": {"text": {"type": "string"}}}
    ),
    tool("add", "Add two numbers.", title="Adder", annotations={"readOnlyHint": True}),
]


@pytest.fixture(scope="session")
def issuer_server() -> Iterator[TokenIssuer]:
    with TokenIssuer().serve() as issuer:
        yield issuer


@pytest.fixture
def issuer(issuer_server: TokenIssuer) -> TokenIssuer:
    """The shared authorization server, with the three test clients registered afresh."""
    issuer_server.clients = {name: OAuthClient(c.secret, c.method) for name, c in CLIENTS.items()}
    issuer_server.token_requests.clear()
    issuer_server.audience = None
    return issuer_server


@pytest.fixture(scope="session")
def tool_server_running(issuer_server: TokenIssuer) -> Iterator[ToolServer]:
    with ToolServer(issuer_server).serve() as server:
        yield server


@pytest.fixture
def tool_server(tool_server_running: ToolServer, issuer: TokenIssuer) -> ToolServer:
    """The shared MCP server, listing ``DEFAULT_TOOLS`` in pages of 50 at the start of each test."""
    tool_server_running.tools = [dict(t) for t in DEFAULT_TOOLS]
    tool_server_running.page_size = 50
    tool_server_running.list_calls = 0
    tool_server_running.delay = 0.0
    tool_server_running.trusted_key = None
    return tool_server_running


def target_for(server: ToolServer, client_id: str = "basic-client", secret: str | None = None) -> ToolTarget:
    """A discovery target for ``server`` as one of ``CLIENTS`` (optionally with another secret)."""
    registered = CLIENTS[client_id]
    credentials = ClientCredentials(
        client_id, registered.secret if secret is None else secret, registered.method, (SCOPE,)
    )
    return ToolTarget(server.resource_url, server.issuer.token_endpoint, credentials)


# --- through the HTTP API ----------------------------------------------------------------------------


@pytest.fixture
def drift_policy() -> str:
    """``REGISTRAR_TOOL_DRIFT_POLICY`` of the app under test (parametrize to change it)."""
    return "record"


@pytest.fixture
def settings(settings: Settings, drift_policy: str) -> Settings:
    return replace(
        settings,
        discovery_allow_http=True,
        discovery_allowed_networks=("127.0.0.0/8",),
        tool_drift_policy=drift_policy,
    )


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.dependency_overrides[discovery_policy] = lambda: LOOPBACK_POLICY
    return app
