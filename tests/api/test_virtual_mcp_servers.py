"""Virtual MCP servers through the HTTP API, on SQLite and PostgreSQL: composed of tools that a real tool
discovery recorded (the loopback OAuth server and ``mcp`` SDK server of ``tests/capabilities``), their
capabilities as a set, flagged when a rediscovery finds a tool gone, changed or back, or its MCP server
deleted; admin-entered authorization servers; every event parsing with the okta SDK's strict model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.integrity.reconcile import reconcile
from registrar.store.schema import virtual_capabilities

from ..capabilities import conftest as tools
from ..capabilities.api import MCP_SERVERS, SETTINGS, capabilities, credential, discover, register
from ..capabilities.servers import ToolServer
from ..conftest import MakeToken
from ..events.okta import parsed_by_okta
from .test_api_auth_servers import AS_BODY

# The tool-discovery fixtures: loopback allowed, the OAuth server, the MCP server listing echo and add.
app, settings, drift_policy, issuer_server, issuer, tool_server_running, tool_server = (
    tools.app,
    tools.settings,
    tools.drift_policy,
    tools.issuer_server,
    tools.issuer,
    tools.tool_server_running,
    tools.tool_server,
)

Events = Callable[[], list[dict[str, Any]]]
BASE = "/resource-servers/api/v1/virtual-mcp-servers"
PREFIX = "resource_servers.virtual_mcp_server."
VMCP_READ = "okta.resourceServers.virtualMcpServers.read"


@pytest.fixture(autouse=True)
def every_event_parses(events: Events, engine: Engine) -> Iterator[None]:
    """After each test: every event written parses with the okta SDK's strict ``LogEvent`` model, and the
    state the test left reconciles with the log."""
    yield
    for event in events():
        parsed_by_okta(event)
    with engine.connect() as conn:
        assert reconcile(conn) == []


class Source:
    """An MCP server registered and discovered with one credential; its tools by name."""

    def __init__(self, client: TestClient, auth: dict[str, str], server: ToolServer):
        self.client, self.auth, self.tool_server = client, auth, server
        self.server = register(client, auth, server)
        self.id: str = self.server["id"]
        self.settings = credential(client, auth, self.server["orn"])
        self.rediscover()

    def rediscover(self) -> None:
        response = discover(self.client, self.auth, self.id, self.settings["id"])
        assert response.status_code == 201 and response.json()["status"] == "COMPLETED", response.text

    def tool(self, name: str) -> dict[str, Any]:
        return next(t for t in capabilities(self.client, self.auth, self.id) if t["name"] == name)

    def ref(self, name: str) -> dict[str, str]:
        return {"mcpServerId": self.id, "name": name}


@pytest.fixture
def source(client: TestClient, auth: dict[str, str], tool_server: ToolServer) -> Source:
    return Source(client, auth, tool_server)


def create(client: TestClient, auth: dict[str, str], *refs: dict[str, str], name: str = "Gateway") -> Any:
    body = {"metadata": {"displayName": name, "description": "tools for agents"}, "capabilities": list(refs)}
    return client.post(BASE, json=body, headers=auth)


def created(client: TestClient, auth: dict[str, str], *refs: dict[str, str], name: str = "Gateway") -> Any:
    response = create(client, auth, *refs, name=name)
    assert response.status_code == 201, response.text
    return response.json()


def since(events: Events, count: int) -> list[dict[str, Any]]:
    return events()[count:]


def types(recorded: list[dict[str, Any]]) -> list[str]:
    return [e["eventType"].removeprefix(PREFIX) for e in recorded]


def target_types(event: dict[str, Any]) -> list[str]:
    return [t["type"] for t in event["target"]]


def named_tool(event: dict[str, Any]) -> str:
    (tool,) = [t for t in event["target"] if t["type"] == "McpServerTool"]
    name: str = tool["displayName"]
    return name


# --- create, read, list ----------------------------------------------------------------------------------


def test_a_virtual_server_is_created_with_its_capabilities_each_audited(
    client: TestClient, auth: dict[str, str], source: Source, events: Events
) -> None:
    before = len(events())
    server = created(client, auth, source.ref("echo"), source.ref("add"))
    sid = server["id"]
    assert sid.startswith("vms") and len(sid) == 20
    assert server["orn"].endswith(f":resource-servers:virtual-mcp:{sid}")
    assert (server["status"], server["metadata"]) == (
        "INACTIVE",
        {"displayName": "Gateway", "description": "tools for agents"},
    )
    assert [(c["mcpServerId"], c["name"], c["status"]) for c in server["capabilities"]] == [
        (source.id, "echo", "ACTIVE"),
        (source.id, "add", "ACTIVE"),
    ]
    assert all(c["id"].startswith("vcp") for c in server["capabilities"])
    assert server["_links"]["self"]["href"] == f"http://testserver{BASE}/{sid}"
    assert client.get(f"{BASE}/{sid}", headers=auth).json() == server

    recorded = since(events, before)
    assert types(recorded) == ["create", "capability.add", "capability.add"]
    assert len({e["transaction"]["id"] for e in recorded}) == 1
    create_event, echo_added, add_added = recorded
    assert target_types(create_event) == ["VirtualMcpServer"]
    assert create_event["target"][0]["alternateId"] == server["orn"]
    echo = source.tool("echo")
    assert target_types(echo_added) == ["VirtualMcpServer", "McpServerTool", "McpServer"]
    assert [t["id"] for t in echo_added["target"]] == [sid, echo["id"], source.id]
    assert echo_added["target"][1]["alternateId"] == echo["orn"]
    assert echo_added["debugContext"]["debugData"]["capabilityId"] == server["capabilities"][0]["id"]
    assert named_tool(add_added) == "add"


def test_lists_and_search(client: TestClient, auth: dict[str, str], source: Source) -> None:
    first = created(client, auth, source.ref("echo"), name="Alpha")
    created(client, auth, name="Beta")
    created(client, auth, source.ref("add"), source.ref("echo"), name="Gamma")
    client.post(f"{BASE}/{first['id']}/lifecycle/activate", headers=auth)
    listed = client.get(BASE, headers=auth).json()["data"]  # a page's capabilities are read at once
    assert [(s["metadata"]["displayName"], [c["name"] for c in s["capabilities"]]) for s in listed] == [
        ("Alpha", ["echo"]),
        ("Beta", []),
        ("Gamma", ["add", "echo"]),
    ]
    search = client.get(BASE, params={"search": 'status eq "ACTIVE"'}, headers=auth).json()["data"]
    assert [s["id"] for s in search] == [first["id"]]


@pytest.mark.parametrize(
    ("refs", "cause"),
    [
        ([{"mcpServerId": "mcp" + "x" * 17, "name": "echo"}], "capabilities[0].mcpServerId: No MCP server"),
        ([{"name": "echo"}], "capabilities.0.mcpServerId: The field cannot be left blank"),
        ("self", "capabilities[0].name: The MCP server lists no tool of this name"),
        ("twice", "capabilities[1]: The same tool is named twice"),
    ],
)
def test_a_capability_must_name_a_present_tool_of_a_registered_mcp_server(
    client: TestClient, auth: dict[str, str], source: Source, events: Events, refs: Any, cause: str
) -> None:
    if refs == "self":
        refs = [source.ref("no-such-tool")]
    elif refs == "twice":
        refs = [source.ref("echo"), source.ref("echo")]
    before = len(events())
    response = create(client, auth, *refs)
    assert response.status_code == 400 and response.json()["errorCode"] == "E0000001", response.text
    assert response.json()["errorCauses"][0]["errorSummary"].startswith(cause)
    (failure,) = since(events, before)
    assert (failure["eventType"], failure["outcome"]["result"]) == (PREFIX + "create", "FAILURE")
    assert client.get(BASE, headers=auth).json()["data"] == []


def test_a_tool_the_last_discovery_did_not_list_cannot_be_added(
    client: TestClient, auth: dict[str, str], source: Source
) -> None:
    source.tool_server.tools = [t for t in source.tool_server.tools if t["name"] != "add"]
    source.rediscover()
    assert source.tool("add")["status"] == "REMOVED"
    refused = create(client, auth, source.ref("add"))
    assert refused.status_code == 400
    assert refused.json()["errorCauses"][0]["errorSummary"].startswith("capabilities[0].name:")


# --- PATCH: metadata, and the capabilities as a set -----------------------------------------------------


def test_patch_replaces_the_capabilities_as_a_set(
    client: TestClient, auth: dict[str, str], source: Source, events: Events
) -> None:
    server = created(client, auth, source.ref("echo"), source.ref("add"))
    url = f"{BASE}/{server['id']}"
    echo_id, add_id = (c["id"] for c in server["capabilities"])

    before = len(events())
    patched = client.patch(url, json={"capabilities": [source.ref("add")]}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert [c["id"] for c in patched.json()["capabilities"]] == [add_id]  # a kept capability keeps its id
    assert patched.json()["lastUpdated"] >= server["lastUpdated"]
    (removed,) = since(events, before)
    assert types([removed]) == ["capability.remove"] and named_tool(removed) == "echo"
    assert removed["debugContext"]["debugData"]["capabilityId"] == echo_id

    before = len(events())
    body = {"metadata": {"displayName": "Renamed"}, "capabilities": [source.ref("add"), source.ref("echo")]}
    patched = client.patch(url, json=body, headers=auth)
    assert [(c["name"], c["id"] == add_id) for c in patched.json()["capabilities"]] == [
        ("add", True),
        ("echo", False),
    ]
    update, added = since(events, before)
    assert types([update, added]) == ["update", "capability.add"]
    assert update["target"][0]["changeDetails"] == {
        "from": {"displayName": "Gateway"},
        "to": {"displayName": "Renamed"},
    }
    assert added["target"][0]["displayName"] == "Renamed"  # the server as the PATCH left it

    before = len(events())
    same = client.patch(url, json={"capabilities": [source.ref("echo"), source.ref("add")]}, headers=auth)
    assert same.status_code == 200 and since(events, before) == []  # the same set: nothing changed

    refused = client.patch(url, json={"capabilities": [source.ref("gone")]}, headers=auth)
    assert refused.status_code == 400
    assert types(since(events, before)) == ["update"]  # the FAILURE of the PATCH, nothing else
    assert len(client.get(url, headers=auth).json()["capabilities"]) == 2
    for bad in ({"resourceUrl": "https://x.example"}, {"capabilities": None, "unknown": 1}):
        assert client.patch(url, json=bad, headers=auth).status_code == 400
    emptied = client.patch(url, json={"capabilities": []}, headers=auth).json()
    assert emptied["capabilities"] == []


# --- a rediscovery flags the capabilities using a tool that went, changed or came back ------------------


def test_a_rediscovery_flags_capabilities_missing_then_active_again(
    client: TestClient, auth: dict[str, str], source: Source, events: Events
) -> None:
    server = created(client, auth, source.ref("echo"), source.ref("add"))
    other = created(client, auth, source.ref("echo"), name="Other")
    echo, add = source.tool_server.tools

    before = len(events())
    source.tool_server.tools = [add]
    source.rediscover()
    recorded = since(events, before)
    flagged = [e for e in recorded if e["eventType"] == PREFIX + "capability.update"]
    assert [e["target"][0]["id"] for e in flagged] == [server["id"], other["id"]]
    assert len({e["transaction"]["id"] for e in recorded}) == 1  # in the discovery's transaction
    first = flagged[0]
    assert target_types(first) == ["VirtualMcpServer", "McpServerTool", "McpServer"]
    assert first["target"][1]["id"] == source.tool("echo")["id"]
    capability = server["capabilities"][0]
    assert first["target"][0]["changeDetails"] == {
        "from": {"capabilities": [capability]},
        "to": {"capabilities": [{**capability, "status": "MISSING"}]},
    }
    assert first["debugContext"]["debugData"]["reason"] == "The MCP server no longer lists the tool"
    statuses = [
        c["status"] for c in client.get(f"{BASE}/{server['id']}", headers=auth).json()["capabilities"]
    ]
    assert statuses == ["MISSING", "ACTIVE"]

    before = len(events())
    source.tool_server.tools = [echo, {**add, "description": "Adds, and mails the sum elsewhere."}]
    source.rediscover()
    flagged = [e for e in since(events, before) if e["eventType"] == PREFIX + "capability.update"]
    reasons = [
        (e["target"][0]["id"], named_tool(e), e["debugContext"]["debugData"]["reason"]) for e in flagged
    ]
    assert reasons == [
        (server["id"], "add", "The tool's definition changed"),
        (server["id"], "echo", "The MCP server lists the tool again"),
        (other["id"], "echo", "The MCP server lists the tool again"),
    ]
    assert "changeDetails" not in flagged[0]["target"][0]  # still ACTIVE: no status change to show
    statuses = [
        c["status"] for c in client.get(f"{BASE}/{server['id']}", headers=auth).json()["capabilities"]
    ]
    assert statuses == ["ACTIVE", "ACTIVE"]


def test_deleting_the_source_mcp_server_flags_its_capabilities_missing(
    client: TestClient, auth: dict[str, str], source: Source, events: Events
) -> None:
    server = created(client, auth, source.ref("echo"))
    assert client.delete(f"{SETTINGS}/{source.settings['id']}", headers=auth).status_code == 204
    before = len(events())
    assert client.delete(f"{MCP_SERVERS}/{source.id}", headers=auth).status_code == 204
    recorded = since(events, before)
    assert recorded[0]["eventType"] == PREFIX + "capability.update"
    assert recorded[0]["debugContext"]["debugData"]["reason"] == "The MCP server was deleted"
    assert recorded[-1]["eventType"] == "resource_servers.mcp_server.delete"
    (capability,) = client.get(f"{BASE}/{server['id']}", headers=auth).json()["capabilities"]
    assert capability["status"] == "MISSING"
    before = len(events())
    assert client.patch(f"{BASE}/{server['id']}", json={"capabilities": []}, headers=auth).status_code == 200
    (removed,) = since(events, before)
    # The deleted server is not a target (that would say it exists): its id is in debugData.
    assert [(t["type"], t["id"]) for t in removed["target"][1:]] == [("McpServerTool", "unknown")]
    assert removed["debugContext"]["debugData"]["mcpServerId"] == source.id
    assert named_tool(removed) == "echo"


# --- lifecycle, delete, authorization servers, permissions ----------------------------------------------


def test_lifecycle_and_delete_with_its_capabilities_and_authorization_servers(
    client: TestClient, auth: dict[str, str], source: Source, events: Events, engine: Engine
) -> None:
    server = created(client, auth, source.ref("echo"), source.ref("add"))
    sid = server["id"]
    linked = client.post(f"{BASE}/{sid}/authorization-servers", json=AS_BODY, headers=auth)
    assert linked.status_code == 201, linked.text
    assert linked.json()["tokenEndpoint"] == AS_BODY["tokenEndpoint"]
    assert linked.json()["_links"]["virtualMcpServer"]["href"] == f"http://testserver{BASE}/{sid}"
    added = events()[-1]
    assert added["eventType"] == PREFIX + "auth_server.add"
    assert target_types(added) == ["VirtualMcpServer", "ApiAuthServer"]
    as_url = f"{BASE}/{sid}/authorization-servers/{linked.json()['id']}"
    assert client.patch(as_url, json={"tokenEndpoint": "https://t.example/"}, headers=auth).status_code == 405

    before = len(events())
    assert client.post(f"{BASE}/{sid}/lifecycle/activate", headers=auth).json()["status"] == "ACTIVE"
    assert client.delete(f"{BASE}/{sid}", headers=auth).status_code == 409
    assert client.post(f"{BASE}/{sid}/lifecycle/deactivate", headers=auth).json()["status"] == "INACTIVE"
    deleted = client.delete(f"{BASE}/{sid}", headers=auth)
    assert deleted.status_code == 204
    recorded = since(events, before)
    assert types(recorded) == [
        "activate",
        "delete",  # the FAILURE: ACTIVE
        "deactivate",
        "capability.remove",
        "capability.remove",
        "auth_server.remove",
        "delete",
    ]
    assert recorded[1]["outcome"]["result"] == "FAILURE"
    assert {e["transaction"]["id"] for e in recorded[3:]} == {deleted.headers["x-okta-request-id"]}
    assert client.get(f"{BASE}/{sid}", headers=auth).status_code == 404
    assert client.get(as_url, headers=auth).status_code == 404
    with engine.connect() as conn:  # the capabilities went with the server
        assert conn.execute(select(virtual_capabilities.c.id)).all() == []


def test_a_read_only_token_reads_and_every_change_it_tries_is_denied(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, source: Source, events: Events
) -> None:
    server = created(client, auth, source.ref("echo"))
    reader = {"Authorization": f"SSWS {make_token(VMCP_READ, email='r@example.com')}"}
    assert client.get(f"{BASE}/{server['id']}", headers=reader).status_code == 200
    before = len(events())
    attempts = [
        ("post", BASE, {"metadata": {"displayName": "D"}, "capabilities": [source.ref("add")]}),
        ("patch", f"{BASE}/{server['id']}", {"capabilities": []}),
        ("post", f"{BASE}/{server['id']}/lifecycle/activate", None),
        ("post", f"{BASE}/{server['id']}/authorization-servers", AS_BODY),
        ("delete", f"{BASE}/{server['id']}", None),
    ]
    for method, path, body in attempts:
        response = client.request(method, path, json=body, headers=reader)
        assert response.status_code == 403, path
    denied = since(events, before)
    assert types(denied) == ["create", "update", "activate", "auth_server.add", "delete"]
    assert {e["outcome"]["result"] for e in denied} == {"DENY"}
    assert len(client.get(f"{BASE}/{server['id']}", headers=auth).json()["capabilities"]) == 1


def test_every_virtual_mcp_server_event_type_is_written(
    client: TestClient, auth: dict[str, str], source: Source, events: Events
) -> None:
    server = created(client, auth, source.ref("echo"))
    sid = server["id"]
    linked = client.post(f"{BASE}/{sid}/authorization-servers", json=AS_BODY, headers=auth).json()
    client.patch(f"{BASE}/{sid}", json={"metadata": {"description": "x"}, "capabilities": []}, headers=auth)
    client.patch(f"{BASE}/{sid}", json={"capabilities": [source.ref("add")]}, headers=auth)
    source.tool_server.tools = source.tool_server.tools[:1]
    source.rediscover()
    client.post(f"{BASE}/{sid}/lifecycle/activate", headers=auth)
    client.post(f"{BASE}/{sid}/lifecycle/deactivate", headers=auth)
    client.delete(f"{BASE}/{sid}/authorization-servers/{linked['id']}", headers=auth)
    client.delete(f"{BASE}/{sid}", headers=auth)
    written = {e["eventType"].removeprefix(PREFIX) for e in events() if e["eventType"].startswith(PREFIX)}
    assert written == {
        "create",
        "update",
        "activate",
        "deactivate",
        "delete",
        "capability.add",
        "capability.remove",
        "capability.update",
        "auth_server.add",
        "auth_server.remove",
    }
