"""``registrar virtual-mcp-servers``: a named set of tools of registered MCP servers, and what it shows when
a source tool disappears. What every kind does alike is in ``test_kinds``.
"""

from __future__ import annotations

from .conftest import Cli, fails
from .kinds import TOOLS, Upstream, discovered_mcp_server


def test_capabilities_are_shown_and_replaced_as_a_set(cli: Cli, upstream: Upstream) -> None:
    source, _, _ = discovered_mcp_server(cli, upstream)
    name = f"gateway of {cli.host}"
    created = cli.json(
        "virtual-mcp-servers", "create", "--name", name,
        "--capability", f"{source['id']}:echo", "--capability", f"{source['id']}:add",
    )  # fmt: skip
    assert (created["id"][:3], created["status"]) == ("vms", "INACTIVE")
    assert sorted((c["mcpServerId"], c["name"]) for c in created["capabilities"]) == [
        (source["id"], "add"),
        (source["id"], "echo"),
    ]

    shown = cli.ok("virtual-mcp-servers", "get", created["id"]).stdout
    assert f"Virtual MCP server {created['id']}" in shown and "Capabilities (2)" in shown
    for value in (source["id"], "echo", "add", "ACTIVE"):
        assert value in shown

    updated = cli.json("virtual-mcp-servers", "update", created["id"], "--capability", f"{source['id']}:add")
    assert [c["name"] for c in updated["capabilities"]] == ["add"]
    assert updated["metadata"]["displayName"] == name
    assert "Capabilities (1)" in cli.ok("virtual-mcp-servers", "get", created["id"]).stdout


def test_a_capability_no_discovery_found_is_refused(cli: Cli, upstream: Upstream) -> None:
    source, _, _ = discovered_mcp_server(cli, upstream)
    fails(
        cli("virtual-mcp-servers", "create", "--name", "N", "--capability", f"{source['id']}:nope"),
        6,
        "error E0000001: ",
    )


def test_a_capability_whose_tool_disappears_is_shown_missing(cli: Cli, upstream: Upstream) -> None:
    source, settings_id, tools = discovered_mcp_server(cli, upstream)
    created = cli.json(
        "virtual-mcp-servers",
        "create",
        "--name",
        f"gateway of {cli.host}",
        "--capability",
        f"{source['id']}:add",
    )
    tools.tools = [dict(TOOLS[0])]  # "add" is gone
    cli.ok("mcp-servers", "discover", source["id"], "--client-auth-settings", settings_id)

    (capability,) = cli.json("virtual-mcp-servers", "get", created["id"])["capabilities"]
    assert capability["status"] == "MISSING"
    assert "MISSING" in cli.ok("virtual-mcp-servers", "get", created["id"]).stdout
