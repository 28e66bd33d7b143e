"""``registrar mcp-servers``: what only MCP servers have, against real ``mcp`` SDK servers on loopback.

Their authorization servers are discovered at registration (readable, never edited, through ``auth-servers``)
and again by ``refresh``; their tools are discovered by ``discover`` with a client authentication setting's
token, listed by ``capabilities``, and each credential's latest run by ``discoveries``. What every kind does
alike is in ``test_kinds``.
"""

from __future__ import annotations

import secrets

from ..capabilities.servers import tool
from ..discovery.servers import sdk_mcp_server
from ..events.legacy import TERMINAL_ATTACK
from .conftest import Cli, fails
from .kinds import TOOLS, Upstream, discovered_mcp_server
from .test_escapes import assert_no_raw_controls


def test_discovered_authorization_servers_are_shown_read_and_refreshed(cli: Cli, sdk_issuer: str) -> None:
    with sdk_mcp_server(sdk_issuer) as resource_url:
        name = f"Weather of {cli.host}"
        registered = cli.json("mcp-servers", "register", "--resource-url", resource_url, "--name", name)
        server_id = registered["id"]
        (auth,) = registered["_embedded"]["authorizationServers"]
        assert auth["issuer"] == sdk_issuer

        shown = cli.ok("mcp-servers", "get", server_id).stdout
        for value in (
            f"MCP server {server_id}",
            "Authorization servers (1)",
            "mcp:read",
            auth["id"],
            sdk_issuer,
        ):
            assert value in shown
        table = cli.ok("mcp-servers", "list", "--search", f'metadata.displayName eq "{name}"').stdout
        assert "AUTH SERVERS" in table and server_id in table

        # The discovered authorization servers are readable through auth-servers, by the MCP server's id.
        listed = cli.ok("auth-servers", "list", server_id).stdout
        assert "Authorization servers (1)" in listed and "ACTIVE" in listed and sdk_issuer in listed
        assert cli.json("auth-servers", "get", server_id, auth["id"])["issuer"] == sdk_issuer

        refreshed = cli.json("mcp-servers", "refresh", server_id)
        assert refreshed["detectedMetadata"]["lastRefreshedAt"] is not None


def test_a_failed_discovery_is_a_validation_error_with_its_cause(cli: Cli) -> None:
    fails(
        cli("mcp-servers", "register", "--resource-url", "http://127.0.0.1:9/mcp"),
        6,
        "error E0000001: Api validation failed: resourceUrl: resourceUrl: ",
    )


def test_tools_are_discovered_listed_and_their_changes_recorded(cli: Cli, upstream: Upstream) -> None:
    server, settings_id, tools = discovered_mcp_server(cli, upstream)
    server_id = server["id"]

    table = cli.ok("mcp-servers", "capabilities", server_id).stdout
    assert "Capabilities (2)" in table
    for value in ("echo", "Echo text back.", "add", "Adder", "PRESENT"):
        assert value in table
    listed = cli.json("mcp-servers", "capabilities", server_id)["data"]
    assert sorted(item["name"] for item in listed) == ["add", "echo"]
    fingerprints = {item["name"]: item["fingerprint"] for item in listed}

    (run,) = cli.json("mcp-servers", "discoveries", server_id)["data"]
    assert (run["status"], run["credential"]["clientAuthSettingsId"], run["toolCount"]) == (
        "COMPLETED",
        settings_id,
        2,
    )
    runs = cli.ok("mcp-servers", "discoveries", server_id).stdout
    assert "Discoveries (1)" in runs and settings_id in runs and "COMPLETED" in runs

    # A changed description and a tool gone: the next discovery records both, and the table shows them.
    tools.tools = [tool("echo", "Echo text back, twice.", inputSchema=TOOLS[0]["inputSchema"])]
    again = cli.ok("mcp-servers", "discover", server_id, "--client-auth-settings", settings_id)
    assert "COMPLETED" in again.stdout and again.stderr == ""
    after = {item["name"]: item for item in cli.json("mcp-servers", "capabilities", server_id)["data"]}
    assert after["echo"]["description"] == "Echo text back, twice."
    assert after["echo"]["fingerprint"] != fingerprints["echo"]
    assert after["add"]["status"] == "REMOVED"
    assert "REMOVED" in cli.ok("mcp-servers", "capabilities", server_id).stdout
    (run,) = cli.json("mcp-servers", "discoveries", server_id)["data"]  # still one entry per credential
    assert run["toolCount"] == 1


def test_a_refused_token_fails_the_discovery_and_is_recorded(cli: Cli, upstream: Upstream) -> None:
    server, settings_id, _ = discovered_mcp_server(cli, upstream)
    cli.ok("client-auth-settings", "update", settings_id, "--rotate-secret", input="wrong\n")

    fails(
        cli("mcp-servers", "discover", server["id"], "--client-auth-settings", settings_id),
        6,
        "error E0000001: ",
        "refused the client credentials: HTTP 401 invalid_client",
    )
    (run,) = cli.json("mcp-servers", "discoveries", server["id"])["data"]
    assert run["status"] == "FAILED" and run["errorMessage"]
    assert "FAILED" in cli.ok("mcp-servers", "discoveries", server["id"]).stdout
    fails(
        cli("mcp-servers", "discover", server["id"], "--client-auth-settings", f"rsc{secrets.token_hex(8)}"),
        6,
        "error E0000001: ",
        "No client authentication settings with this id exist.",
    )


def test_a_hostile_tool_description_reaches_no_terminal_raw(cli: Cli, upstream: Upstream) -> None:
    hostile = [tool("evil", f"looks fine {TERMINAL_ATTACK}", title=f"T{TERMINAL_ATTACK}")]
    server, _, _ = discovered_mcp_server(cli, upstream, tools=hostile)
    table = cli.ok("mcp-servers", "capabilities", server["id"]).stdout
    assert_no_raw_controls(table)
    assert "evil" in table and "looks fine" in table
    document = cli.ok("mcp-servers", "capabilities", server["id"], "--json").stdout_bytes
    assert b"\xc2\x9b" not in document and b"\x1b" not in document
