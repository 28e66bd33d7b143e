"""``registrar mcp-servers``: a real MCP server (the ``mcp`` SDK on loopback), registered and discovered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..discovery.servers import sdk_authorization_server, sdk_mcp_server
from .conftest import Cli, fails


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    """The issuer of a running SDK authorization server."""
    with sdk_authorization_server() as url:
        yield url


def test_an_mcp_server_from_registration_to_deletion(cli: Cli, issuer: str) -> None:
    with sdk_mcp_server(issuer) as resource_url:
        registered = cli.json("mcp-servers", "register", "--resource-url", resource_url, "--name", "Weather")
        server_id = registered["id"]
        assert (server_id[:3], registered["status"]) == ("mcp", "INACTIVE")
        (auth,) = registered["_embedded"]["authorizationServers"]
        assert auth["issuer"] == issuer

        shown = cli.ok("mcp-servers", "get", server_id).stdout
        for value in (f"MCP server {server_id}", "Weather", resource_url, "mcp:read", auth["id"], issuer):
            assert value in shown

        # The discovered authorization servers are readable through auth-servers, by the MCP server's id.
        listed = cli.ok("auth-servers", "list", server_id).stdout
        assert "Authorization servers (1)" in listed and "ACTIVE" in listed and issuer in listed
        assert cli.json("auth-servers", "get", server_id, auth["id"])["issuer"] == issuer

        refreshed = cli.json("mcp-servers", "refresh", server_id)
        assert refreshed["detectedMetadata"]["lastRefreshedAt"] is not None
        assert cli.json("mcp-servers", "update", server_id, "--description", "forecasts")["metadata"] == {
            "displayName": "Weather",
            "description": "forecasts",
        }
        assert cli.json("mcp-servers", "activate", server_id)["status"] == "ACTIVE"
        table = cli.ok("mcp-servers", "list", "--search", 'metadata.displayName eq "Weather"', "--all").stdout
        assert server_id in table and "ACTIVE" in table

        fails(cli("mcp-servers", "delete", server_id), 5, "error E0000038: ")
        assert "INACTIVE" in cli.ok("mcp-servers", "deactivate", server_id).stdout
        assert cli.ok("mcp-servers", "delete", server_id).stderr.strip() == f"deleted MCP server {server_id}"
        fails(cli("mcp-servers", "get", server_id), 4, f"Resource not found: {server_id} (McpServer)")


def test_a_failed_discovery_is_a_validation_error_with_its_cause(cli: Cli) -> None:
    fails(
        cli("mcp-servers", "register", "--resource-url", "http://127.0.0.1:9/mcp"),
        6,
        "error E0000001: Api validation failed: resourceUrl: resourceUrl: ",
    )
