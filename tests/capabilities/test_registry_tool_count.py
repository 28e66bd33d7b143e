"""The MCP Registry API tells how many tools an ACTIVE server's last tool discovery found: null before
any discovery, then the tools it lists now (a vanished tool, kept as REMOVED, is not counted)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from .api import MCP_SERVERS, credential, discover, register
from .servers import ToolServer

REGISTRATION = "io.github.registrar/registration"


def _count(client: TestClient, auth: dict[str, str]) -> Any:
    response = client.get("/v0.1/servers", headers=auth)
    assert response.status_code == 200, response.text
    (entry,) = response.json()["servers"]
    return entry["_meta"][REGISTRATION]["toolCount"]


def test_the_tool_count_follows_the_last_discovery(
    client: TestClient, auth: dict[str, str], tool_server: ToolServer
) -> None:
    server = register(client, auth, tool_server)
    activated = client.post(f"{MCP_SERVERS}/{server['id']}/lifecycle/activate", headers=auth)
    assert activated.status_code == 200, activated.text
    assert _count(client, auth) is None
    settings = credential(client, auth, server["orn"])
    assert discover(client, auth, server["id"], settings["id"]).status_code == 201
    assert _count(client, auth) == 2
    tool_server.tools = tool_server.tools[:1]
    assert discover(client, auth, server["id"], settings["id"]).status_code == 201
    assert _count(client, auth) == 1
