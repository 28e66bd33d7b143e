"""An MCP server's tools and discoveries in the console, and the virtual MCP servers built from them.

Against a real ``mcp`` SDK server that checks real client-credentials tokens from a loopback
authorization server (``tests/capabilities/servers.py``): "Discover now" runs through the same service as
``POST …/discoveries``; a changed definition is marked, a vanished tool is REMOVED, and a virtual MCP
server's capability using it is flagged MISSING.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from registrar.kinds import KINDS

from ..capabilities import api
from ..capabilities.conftest import CLIENTS, DEFAULT_TOOLS
from ..capabilities.servers import OAuthClient, TokenIssuer, ToolServer
from .conftest import Console, registry_events

Events = Callable[[], list[dict[str, Any]]]
needs_virtual = pytest.mark.skipif("vmcp" not in KINDS, reason="virtual MCP servers are not on this server")


@pytest.fixture(scope="module")
def tool_server_running() -> Iterator[ToolServer]:
    with TokenIssuer().serve() as issuer, ToolServer(issuer).serve() as server:
        yield server


@pytest.fixture
def tool_server(tool_server_running: ToolServer) -> ToolServer:
    """The MCP server listing ``DEFAULT_TOOLS`` (echo, add), its issuer knowing the test clients."""
    issuer = tool_server_running.issuer
    issuer.clients = {name: OAuthClient(c.secret, c.method) for name, c in CLIENTS.items()}
    tool_server_running.tools = [dict(t) for t in DEFAULT_TOOLS]
    return tool_server_running


@pytest.fixture
def mcp(client: TestClient, auth: dict[str, str], tool_server: ToolServer) -> dict[str, Any]:
    """The tool server registered (by discovery) with one credential: {id, path, settings}."""
    server = api.register(client, auth, tool_server)
    settings = api.credential(client, auth, server["orn"])
    return {"id": server["id"], "path": f"/mcp-servers/{server['id']}", "settings": settings["id"]}


def _discover(console: Console, mcp: dict[str, Any], settings_id: str | None = None) -> Any:
    form = {"clientAuthSettingsId": settings_id or mcp["settings"]}
    return console.post(f"{mcp['path']}/discoveries", form)


def _row(page: str, tool_id: str) -> str:
    match = re.search(rf'<tr id="tool-{tool_id}">(.*?)</tr>', page, re.S)
    assert match is not None, tool_id
    return match.group(1)


def test_discover_now_lists_the_tools_with_fingerprints(
    console: Console, client: TestClient, auth: dict[str, str], mcp: dict[str, Any], events: Events
) -> None:
    before = console.client.get(mcp["path"]).text
    assert "No tools discovered yet." in before
    assert "not run yet" in before and "Discover now" in before
    response = _discover(console, mcp)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{mcp['path']}?notice=discovered#tools"
    page = console.client.get(response.headers["location"]).text
    assert "Tool discovery ran; any change is in the System Log." in page
    tools = api.capabilities(client, auth, mcp["id"])
    assert [tool["name"] for tool in tools] == ["echo", "add"]
    for tool in tools:
        row = _row(page, tool["id"])
        assert tool["fingerprint"] in row
        assert "badge-present" in row and "Changed since discovery" not in row
    assert "Adder" in _row(page, tools[1]["id"])  # the title
    discovery = re.search(
        rf'<article class="subcard" id="discovery-{mcp["settings"]}">(.*?)</article>', page, re.S
    )
    assert discovery is not None and "COMPLETED" in discovery.group(1)
    assert re.search(r"<dt>Tools</dt><dd>2</dd>", discovery.group(1))
    discovered = [e for e in registry_events(events) if e["eventType"] == api.DISCOVER]
    assert len(discovered) == 2 and discovered[0]["transaction"]["type"] == "WEB"
    assert discovered[0]["authenticationContext"]["externalSessionId"]


def test_a_changed_tool_is_marked_and_a_vanished_one_removed(
    console: Console, client: TestClient, auth: dict[str, str], mcp: dict[str, Any], tool_server: ToolServer
) -> None:
    assert _discover(console, mcp).status_code == 303
    echo, add = api.capabilities(client, auth, mcp["id"])
    tool_server.tools = [{**tool_server.tools[0], "description": "Echo text back, and remember it."}]
    assert _discover(console, mcp).status_code == 303
    page = console.client.get(mcp["path"]).text
    echo_row, add_row = _row(page, echo["id"]), _row(page, add["id"])
    assert "Changed since discovery" in echo_row and "remember it" in echo_row
    assert echo["fingerprint"] not in echo_row  # the new definition's
    assert "badge-removed" in add_row and "Changed since discovery" not in add_row
    assert re.search(r'<h2 id="tools-heading">Tools <span class="count">2</span>', page)  # REMOVED kept


def test_a_failed_discovery_is_shown_and_kept(
    console: Console, client: TestClient, auth: dict[str, str], mcp: dict[str, Any], events: Events
) -> None:
    orn = client.get(f"{api.MCP_SERVERS}/{mcp['id']}", headers=auth).json()["orn"]
    wrong = api.credential(client, auth, orn, "post-client", secret="not the secret")
    response = _discover(console, mcp, wrong["id"])
    assert response.status_code == 400
    tools = re.search(r'<section class="card" id="tools".*?</section>', response.text, re.S)
    assert tools is not None and 'role="alert"' in tools.group()  # the error, by the tools
    page = console.client.get(mcp["path"]).text
    failed = re.search(rf'id="discovery-{wrong["id"]}">(.*?)</article>', page, re.S)
    assert failed is not None and "FAILED" in failed.group(1) and "<dt>Error</dt>" in failed.group(1)
    assert registry_events(events)[-1]["outcome"]["result"] == "FAILURE"


def test_a_discovery_with_another_servers_credential_is_refused(
    console: Console, mcp: dict[str, Any], events: Events
) -> None:
    response = _discover(console, mcp, "cas-not-there")
    assert response.status_code == 400
    assert "No client authentication settings with this id exist." in html.unescape(response.text)


@needs_virtual
def test_a_virtual_server_flags_the_capability_whose_tool_vanished(
    console: Console, mcp: dict[str, Any], tool_server: ToolServer, events: Events
) -> None:
    assert _discover(console, mcp).status_code == 303
    form_page = console.client.get("/virtual-mcp-servers/new").text
    echo, add = f"{mcp['id']}:echo", f"{mcp['id']}:add"
    assert f'value="{echo}"' in form_page and f'value="{add}"' in form_page
    created = console.post(
        "/virtual-mcp-servers/new", {"displayName": "Toolbox", "capabilities": [echo, add]}
    )
    assert created.status_code == 303, created.text
    path = created.headers["location"].split("?")[0]
    page = console.client.get(path).text
    assert page.count("badge-active") >= 2 and "MISSING" not in page
    added = [
        e for e in registry_events(events) if e["eventType"].endswith("virtual_mcp_server.capability.add")
    ]
    assert len(added) == 2

    tool_server.tools = [tool_server.tools[0]]  # "add" vanishes
    assert _discover(console, mcp).status_code == 303
    page = console.client.get(path).text
    assert "1 of its capabilities is <strong>MISSING</strong>" in page
    assert "badge-missing" in page
    assert re.search(rf'value="{add}" checked> <span class="mono">{add}</span>', page)  # kept if saved as is
    assert "badge-missing" in console.client.get("/virtual-mcp-servers").text

    saved = console.post(f"{path}/capabilities", {"capabilities": [echo]})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{path}?notice=capabilities-updated#capabilities"
    page = console.client.get(path).text
    assert "MISSING" not in page and 'Capabilities <span class="count">1</span>' in page
    assert registry_events(events)[-1]["eventType"] == "resource_servers.virtual_mcp_server.capability.remove"


@needs_virtual
def test_a_capability_must_name_a_present_tool(console: Console, mcp: dict[str, Any], events: Events) -> None:
    response = console.post(
        "/virtual-mcp-servers/new", {"displayName": "Toolbox", "capabilities": [f"{mcp['id']}:nothing"]}
    )
    assert response.status_code == 400
    assert "lists no tool of this name" in html.unescape(response.text)
    assert f'value="{mcp["id"]}:nothing" checked' in response.text  # the choice is shown again
    assert registry_events(events)[-1]["outcome"]["result"] == "FAILURE"
