"""Listing tools from the real ``mcp`` SDK server with a real token: pages, bounds, refusals, the guard."""

from __future__ import annotations

from dataclasses import replace

import pytest

from registrar.capabilities import MAX_TOOLS, discover_tools
from registrar.errors import DiscoveryFailed, UnsafeDestination

from .conftest import LOOPBACK_POLICY, target_for
from .servers import ToolServer, tool


def test_every_page_is_followed(tool_server: ToolServer) -> None:
    tool_server.tools = [tool(f"tool-{n}", f"number {n}") for n in range(7)]
    tool_server.page_size = 3
    tools = discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert [t.name for t in tools] == [f"tool-{n}" for n in range(7)]
    assert tool_server.list_calls == 3


def test_the_definition_keeps_what_the_server_said(tool_server: ToolServer) -> None:
    tool_server.tools = [
        tool(
            "weather",
            "Current weather.",
            title="Weather",
            inputSchema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            outputSchema={"type": "object", "properties": {"celsius": {"type": "number"}}},
            annotations={"readOnlyHint": True, "openWorldHint": False, "title": "Weather now"},
        )
    ]
    [found] = discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert found.to_json() == {
        "name": "weather",
        "title": "Weather",
        "description": "Current weather.",
        "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "outputSchema": {"type": "object", "properties": {"celsius": {"type": "number"}}},
        "annotations": {"readOnlyHint": True, "openWorldHint": False, "title": "Weather now"},
    }
    assert len(found.fingerprint) == 64


def test_no_tools_is_an_empty_listing(tool_server: ToolServer) -> None:
    tool_server.tools = []
    assert discover_tools(LOOPBACK_POLICY, target_for(tool_server)) == ()


def test_more_than_the_bound_of_tools_fails(tool_server: ToolServer) -> None:
    tool_server.tools = [tool(f"t{n}") for n in range(MAX_TOOLS + 1)]
    tool_server.page_size = 200
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert failed.value.cause == f"the MCP server lists more than {MAX_TOOLS} tools"


def test_the_bound_itself_is_accepted(tool_server: ToolServer) -> None:
    tool_server.tools = [tool(f"t{n}") for n in range(MAX_TOOLS)]
    tool_server.page_size = 250
    assert len(discover_tools(LOOPBACK_POLICY, target_for(tool_server))) == MAX_TOOLS


def test_a_token_without_the_required_scope_is_refused_by_the_mcp_server(tool_server: ToolServer) -> None:
    target = target_for(tool_server)
    unscoped = replace(target, credentials=replace(target.credentials, scopes=()))
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, unscoped)
    assert (
        failed.value.cause
        == f"the MCP server at {tool_server.resource_url} refused the access token (HTTP 403)"
    )
    assert tool_server.list_calls == 0


def test_a_token_for_another_resource_is_refused(tool_server: ToolServer) -> None:
    tool_server.issuer.audience = tool_server.resource_url.replace("/mcp", "/other")
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert failed.value.cause.endswith("refused the access token (HTTP 401)")
    assert tool_server.list_calls == 0


def test_a_token_signed_by_someone_else_is_refused(tool_server: ToolServer) -> None:
    tool_server.trusted_key = b"the key of another issuer, not the one that signed"
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert failed.value.cause.endswith("refused the access token (HTTP 401)")
    assert tool_server.list_calls == 0


def test_the_mcp_server_passes_the_ssrf_guard(tool_server: ToolServer) -> None:
    ipv6 = tool_server.resource_url.replace("127.0.0.1", "[::1]")
    with pytest.raises(UnsafeDestination) as refused:
        discover_tools(LOOPBACK_POLICY, replace(target_for(tool_server), resource_url=ipv6))
    assert "is not a public address" in refused.value.cause
    assert tool_server.list_calls == 0


def test_an_unreachable_mcp_server(tool_server: ToolServer) -> None:
    target = replace(target_for(tool_server), resource_url="http://127.0.0.1:9/mcp")
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, target)
    assert failed.value.cause == "could not connect to the MCP server at http://127.0.0.1:9/mcp"


def test_an_oversized_answer_is_cut_off(tool_server: ToolServer) -> None:
    tool_server.tools = [tool("big", "x" * (5 * 1024 * 1024))]
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(LOOPBACK_POLICY, target_for(tool_server))
    assert failed.value.cause.endswith("a response is larger than 4096 KiB")


@pytest.mark.parametrize(("request_timeout", "discovery_timeout"), [(1.0, 5.0), (5.0, 1.0)])
def test_a_slow_server_fails_within_the_deadlines(
    tool_server: ToolServer, request_timeout: float, discovery_timeout: float
) -> None:
    tool_server.delay = 3.0
    quick = replace(LOOPBACK_POLICY, request_timeout=request_timeout, discovery_timeout=discovery_timeout)
    with pytest.raises(DiscoveryFailed) as failed:
        discover_tools(quick, target_for(tool_server))
    assert failed.value.cause == f"the MCP server at {tool_server.resource_url} did not answer in time"
