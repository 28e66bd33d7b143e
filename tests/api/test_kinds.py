"""What every kind of resource server does alike, run over each kind: lifecycle, the delete rule, ORNs and
client authentication settings, lists and search, PATCH, 404s, linked authorization servers, DENY and
FAILURE auditing, and events the okta SDK's strict models parse.

Each kind's server is registered the way that kind registers (an API server and an admin-entered
authorization server; an MCP server discovered on the loopback metadata site; an A2A server whose agent
card, on the same site, names the SDK's authorization server) and so has one authorization server linked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.integrity.reconcile import reconcile

from ..conftest import MakeToken
from ..discovery.servers import MetadataSite
from ..events.okta import parsed_by_okta
from . import test_mcp_servers as mcp_tests
from .test_api_auth_servers import AS_BODY

# The MCP tests' fixtures: loopback allowed, the loopback metadata site, the SDK's authorization server.
app, settings, site_server, site, sdk_issuer = (
    mcp_tests.app,
    mcp_tests.settings,
    mcp_tests.site_server,
    mcp_tests.site,
    mcp_tests.sdk_issuer,
)

Events = Callable[[], list[dict[str, Any]]]
ROOT = "/resource-servers/api/v1"
KINDS = ["api", "mcp", "a2a", "vmcp"]
SEGMENTS = {"vmcp": "virtual-mcp"}  # a kind's ORN segment and path stem, where not its key
CARD = "/.well-known/agent-card.json"


def agent_card(site: MetadataSite, path: str, issuer: str, name: str) -> str:
    """An A2A agent card at ``path`` on the site (A2A 1.x shape) naming ``issuer``; returns the URL."""
    resource = site.url(path)
    scheme = {
        "oauth2SecurityScheme": {"oauth2MetadataUrl": f"{issuer}.well-known/oauth-authorization-server"}
    }
    card = {
        "name": name,
        "description": "An agent",
        "version": "1.0.0",
        "supportedInterfaces": [
            {"url": resource + "/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "skills": [{"id": "echo", "name": "Echo", "description": "Echoes", "tags": []}],
        "securitySchemes": {"oauth": scheme},
    }
    site.json(path + CARD, card)
    return resource


@dataclass
class Kind:
    """One kind under test: where it lives, how its events are named, how a server of it is made."""

    key: str
    entity: str
    events_prefix: str
    unlink: str  # the operation that unlinks an authorization server
    change_keys: tuple[str, str]
    client: TestClient
    auth: dict[str, str]
    site: MetadataSite
    issuer: str

    @property
    def segment(self) -> str:
        return SEGMENTS.get(self.key, self.key)

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.segment}-servers"

    def event(self, operation: str) -> str:
        if self.key == "vmcp" and operation == "register":
            operation = "create"  # a virtual server is created, not registered (an extension type)
        return f"resource_servers.{self.events_prefix}.{operation}"

    def url(self, name: str) -> str:
        """Where a server named ``name`` is (set up on the site for the kinds that fetch)."""
        path = "/" + "".join(c for c in name.lower() if c.isalnum())
        if self.key == "mcp":
            return self.site.resource([self.issuer], path=path, resource_name=name)
        if self.key == "a2a":
            return agent_card(self.site, path, self.issuer, name)
        return f"https://{path[1:]}.example.com/"

    def register(self, name: str = "Example", **query: Any) -> dict[str, Any]:
        """A registered server with one authorization server linked."""
        body = {"resourceUrl": self.url(name), "metadata": {"displayName": name, "description": "first"}}
        if self.key == "vmcp":  # no URL: a virtual server is its capabilities (none here)
            del body["resourceUrl"]
        response = self.client.post(self.base, params=query, json=body, headers=self.auth)
        assert response.status_code == 201, response.text
        if self.key in ("api", "vmcp"):
            linked = self.client.post(
                f"{self.base}/{response.json()['id']}/authorization-servers", json=AS_BODY, headers=self.auth
            )
            assert linked.status_code == 201, linked.text
        got = self.client.get(f"{self.base}/{response.json()['id']}", headers=self.auth)
        result: dict[str, Any] = got.json()
        return result

    def linked(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        """The server's authorization servers, as listed."""
        response = self.client.get(f"{self.base}/{server['id']}/authorization-servers", headers=self.auth)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


_SHAPES = {
    "api": ("ApiServer", "api_server", "auth_server.remove", ("displayName", "description")),
    "mcp": (
        "McpServer",
        "mcp_server",
        "auth_server.delete",
        ("mcpServerDisplayName", "mcpServerDescription"),
    ),
    "a2a": (
        "A2aServer",
        "a2a_server",
        "auth_server.remove",
        ("a2aServerDisplayName", "a2aServerDescription"),
    ),
    "vmcp": ("VirtualMcpServer", "virtual_mcp_server", "auth_server.remove", ("displayName", "description")),
}


@pytest.fixture(params=KINDS)
def kind(
    request: pytest.FixtureRequest,
    client: TestClient,
    auth: dict[str, str],
    site: MetadataSite,
    sdk_issuer: str,
) -> Kind:
    entity, prefix, unlink, keys = _SHAPES[request.param]
    return Kind(request.param, entity, prefix, unlink, keys, client, auth, site, sdk_issuer)


def _types(events: Events) -> list[str]:
    return [e["eventType"] for e in events()]


def test_a_registered_server_has_its_kind_id_orn_links_and_one_register_event(
    kind: Kind, events: Events
) -> None:
    server = kind.register("Alpha")
    prefix = {"api": "aps", "mcp": "mcp", "a2a": "a2a", "vmcp": "vms"}[kind.key]
    assert server["id"].startswith(prefix) and len(server["id"]) == 20
    assert server["orn"].endswith(f":resource-servers:{kind.segment}:{server['id']}")
    assert (server["status"], server["metadata"]) == (
        "INACTIVE",
        {"displayName": "Alpha", "description": "first"},
    )
    assert server["_links"]["self"]["href"] == f"http://testserver{kind.base}/{server['id']}"
    assert server["_links"]["activate"]["href"].endswith("/lifecycle/activate")
    (registered,) = [e for e in events() if e["eventType"] == kind.event("register")]
    assert registered["target"][0]["type"] == kind.entity and registered["target"][0]["id"] == server["id"]


def test_activate_and_deactivate_record_only_real_transitions(kind: Kind, events: Events) -> None:
    server = kind.register()
    lifecycle = f"{kind.base}/{server['id']}/lifecycle"
    before = len(events())
    assert kind.client.post(f"{lifecycle}/activate", headers=kind.auth).json()["status"] == "ACTIVE"
    assert kind.client.post(f"{lifecycle}/activate", headers=kind.auth).status_code == 200
    activated = kind.client.get(f"{kind.base}/{server['id']}", headers=kind.auth).json()
    assert "deactivate" in activated["_links"] and "activate" not in activated["_links"]
    assert kind.client.post(f"{lifecycle}/deactivate", headers=kind.auth).json()["status"] == "INACTIVE"
    assert kind.client.post(f"{lifecycle}/deactivate", headers=kind.auth).status_code == 200
    assert _types(events)[before:] == [kind.event("activate"), kind.event("deactivate")]


def test_register_with_activate_writes_activate_in_the_same_transaction(kind: Kind, events: Events) -> None:
    server = kind.register("Live", activate="true")
    assert server["status"] == "ACTIVE"
    registered = next(e for e in events() if e["eventType"] == kind.event("register"))
    activated = next(e for e in events() if e["eventType"] == kind.event("activate"))
    assert registered["transaction"]["id"] == activated["transaction"]["id"]


def test_an_active_server_cannot_be_deleted_then_goes_with_its_authorization_servers(
    kind: Kind, events: Events
) -> None:
    server = kind.register()
    sid = server["id"]
    (linked,) = kind.linked(server)
    kind.client.post(f"{kind.base}/{sid}/lifecycle/activate", headers=kind.auth)
    refused = kind.client.delete(f"{kind.base}/{sid}", headers=kind.auth)
    assert refused.status_code == 409
    failure = events()[-1]
    assert failure["eventType"] == kind.event("delete")
    assert failure["outcome"] == {
        "result": "FAILURE",
        "reason": "Cannot delete a resource server in ACTIVE status. Server must be deactivated first.",
    }
    assert failure["target"][0]["id"] == sid
    assert failure["debugContext"]["debugData"]["errorMessage"] == failure["outcome"]["reason"]
    kind.client.post(f"{kind.base}/{sid}/lifecycle/deactivate", headers=kind.auth)
    deleted = kind.client.delete(f"{kind.base}/{sid}", headers=kind.auth)
    assert deleted.status_code == 204
    unlinked, gone = events()[-2:]
    assert [unlinked["eventType"], gone["eventType"]] == [kind.event(kind.unlink), kind.event("delete")]
    assert linked["id"] in [t["id"] for t in unlinked["target"]]
    assert {unlinked["transaction"]["id"], gone["transaction"]["id"]} == {
        deleted.headers["x-okta-request-id"]
    }
    assert kind.client.get(f"{kind.base}/{sid}", headers=kind.auth).status_code == 404
    assert kind.client.get(f"{kind.base}/{sid}/authorization-servers", headers=kind.auth).status_code == 404


def test_deleting_an_unknown_server_is_a_failure_naming_the_id(kind: Kind, events: Events) -> None:
    missing = "x" * 20
    response = kind.client.delete(f"{kind.base}/{missing}", headers=kind.auth)
    assert response.status_code == 404 and response.json()["errorCode"] == "E0000007"
    (event,) = events()
    assert (event["eventType"], event["outcome"]["result"]) == (kind.event("delete"), "FAILURE")
    assert (event["target"][0]["id"], event["target"][0]["type"]) == (missing, kind.entity)


def test_client_auth_settings_name_the_server_by_its_orn_and_keep_it_from_deletion(
    kind: Kind, events: Events
) -> None:
    server = kind.register()
    body = {
        "name": "Credentials",
        "resourceOrn": server["orn"],
        "configuration": {"clientId": "client-1", "clientSecret": "s3cret"},
    }
    created = kind.client.post(f"{ROOT}/client-auth-settings", json=body, headers=kind.auth)
    assert created.status_code == 201, created.text
    named = events()[-1]
    assert [t["id"] for t in named["target"] if t["type"] == kind.entity] == [server["id"]]
    refused = kind.client.delete(f"{kind.base}/{server['id']}", headers=kind.auth)
    assert refused.status_code == 409
    assert "client authentication settings still reference" in events()[-1]["outcome"]["reason"]


def test_lists_page_by_cursor_and_search_by_status_name_url_and_authorization_server(kind: Kind) -> None:
    servers = [kind.register(name) for name in ("GitHub", "GitLab", "Stripe")]
    kind.client.post(f"{kind.base}/{servers[0]['id']}/lifecycle/activate", headers=kind.auth)
    first = kind.client.get(f"{kind.base}?limit=2", headers=kind.auth).json()
    assert [s["id"] for s in first["data"]] == [s["id"] for s in servers[:2]]
    assert first["_links"]["self"]["href"] == f"http://testserver{kind.base}?limit=2"
    rest = kind.client.get(
        first["_links"]["next"]["href"].removeprefix("http://testserver"), headers=kind.auth
    )
    assert [s["id"] for s in rest.json()["data"]] == [servers[2]["id"]] and "next" not in rest.json()[
        "_links"
    ]

    def found(search: str) -> list[str]:
        response = kind.client.get(kind.base, params={"search": search}, headers=kind.auth)
        assert response.status_code == 200, response.text
        return [s["metadata"]["displayName"] for s in response.json()["data"]]

    assert found('metadata.displayName sw "Git"') == ["GitHub", "GitLab"]
    assert found('metadata.displayName sw "Git" and status eq "ACTIVE"') == ["GitHub"]
    assert found('metadata.displayName co "ri"') == ["Stripe"]
    assert found('status eq "INACTIVE"') == ["GitLab", "Stripe"]
    if servers[1]["resourceUrl"] is not None:  # a virtual MCP server has none
        assert found(f'resourceUrl eq "{servers[1]["resourceUrl"]}"') == ["GitLab"]
    (linked,) = kind.linked(servers[2])
    assert found(f'authorizationServerId eq "{linked["id"]}"') == ["Stripe"]
    for search, code in (('nope eq "x"', "E0000053"), ('status co "ACT"', "E0000031")):
        bad = kind.client.get(kind.base, params={"search": search}, headers=kind.auth)
        assert bad.status_code == 400 and bad.json()["errorCode"] == code
    for query in ("limit=0", "limit=201", "limit=x", "after=%%%", "after=bm90LWpzb24"):
        assert kind.client.get(f"{kind.base}?{query}", headers=kind.auth).status_code == 400, query


def test_patch_records_the_changed_metadata_only_and_keeps_the_resource_url(
    kind: Kind, events: Events
) -> None:
    server = kind.register("Weather")
    url = f"{kind.base}/{server['id']}"
    patched = kind.client.patch(
        url,
        content=b'{"metadata": {"displayName": "Forecasts", "description": null}}',
        headers={**kind.auth, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"] == {"displayName": "Forecasts", "description": None}
    update = events()[-1]
    assert update["eventType"] == kind.event("update")
    name, description = kind.change_keys
    assert update["target"][0]["changeDetails"] == {
        "from": {name: "Weather", description: "first"},
        "to": {name: "Forecasts", description: None},
    }
    count = len(events())
    for unchanged in ({"metadata": {"displayName": "Forecasts"}}, {"resourceUrl": server["resourceUrl"]}):
        if unchanged.get("resourceUrl", "") is None:
            continue  # a virtual MCP server has no resourceUrl to repeat (naming one is refused below)
        assert kind.client.patch(url, json=unchanged, headers=kind.auth).status_code == 200
    assert len(events()) == count  # nothing changed, nothing recorded
    for refused_body in (
        {"resourceUrl": f"{server['resourceUrl']}x"},
        {"resourceUrl": None},
        {"metadata": {"displayName": None}},
        {"metadata": None},
        {"unknown": 1},
    ):
        refused = kind.client.patch(url, json=refused_body, headers=kind.auth)
        assert refused.status_code == 400 and refused.json()["errorCode"] == "E0000001", refused_body
        assert (events()[-1]["eventType"], events()[-1]["outcome"]["result"]) == (
            kind.event("update"),
            "FAILURE",
        )
    assert kind.client.get(url, headers=kind.auth).json()["resourceUrl"] == server["resourceUrl"]


def test_unknown_ids_are_404s_and_authorization_servers_are_listed_and_read(kind: Kind) -> None:
    server = kind.register()
    assert kind.client.get(f"{kind.base}/{server['id']}", headers=kind.auth).json() == server
    for path in (
        f"/{'x' * 20}",
        f"/{'x' * 20}/authorization-servers",
        f"/{server['id']}/authorization-servers/eas0",
    ):
        missing = kind.client.get(kind.base + path, headers=kind.auth)
        assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007", path
    (linked,) = kind.linked(server)
    assert linked["id"].startswith("eas") and linked["_links"][f"{kind.entity[0].lower()}{kind.entity[1:]}"]
    self_href = linked["_links"]["self"]["href"]
    assert self_href == f"http://testserver{kind.base}/{server['id']}/authorization-servers/{linked['id']}"
    assert kind.client.get(self_href, headers=kind.auth).json() == linked
    listed = kind.client.get(
        f"{kind.base}/{server['id']}/authorization-servers",
        params={"filter": f'issuer eq "{linked["issuer"]}"'},
        headers=kind.auth,
    )
    assert [a["id"] for a in listed.json()["data"]] == [linked["id"]]
    other = kind.register("Other")
    wrong_parent = kind.client.get(
        f"{kind.base}/{other['id']}/authorization-servers/{linked['id']}", headers=kind.auth
    )
    assert wrong_parent.status_code == 404


def test_a_duplicate_resource_url_is_a_conflict_and_audited(kind: Kind, events: Events) -> None:
    if kind.key == "vmcp":
        pytest.skip("a virtual MCP server has no resourceUrl")
    server = kind.register()
    again = kind.client.post(
        kind.base,
        json={"resourceUrl": server["resourceUrl"], "metadata": {"displayName": "B"}},
        headers=kind.auth,
    )
    assert again.status_code == 409
    assert again.json()["errorCauses"][0]["errorSummary"].startswith("resourceUrl:")
    failure = events()[-1]
    assert (failure["eventType"], failure["outcome"]["result"]) == (kind.event("register"), "FAILURE")
    assert "already registered" in failure["outcome"]["reason"]


def test_a_read_only_token_reads_and_is_denied_every_change_each_audited(
    kind: Kind, make_token: MakeToken, events: Events
) -> None:
    server = kind.register()
    scopes = {"api": "apiServers", "mcp": "mcpServers", "a2a": "a2aServers", "vmcp": "virtualMcpServers"}[
        kind.key
    ]
    reader = {
        "Authorization": f"SSWS {make_token(f'okta.resourceServers.{scopes}.read', email='r@example.com')}"
    }
    assert kind.client.get(kind.base, headers=reader).status_code == 200
    assert (
        kind.client.get(f"{kind.base}/{server['id']}/authorization-servers", headers=reader).status_code
        == 200
    )
    stranger = {"Authorization": f"SSWS {make_token('okta.logs.read', email='s@example.com')}"}
    assert kind.client.get(kind.base, headers=stranger).status_code == 403
    kind.site.requests.clear()
    before = len(events())
    sid = server["id"]
    attempts = [
        ("post", kind.base, {"resourceUrl": kind.url("Denied"), "metadata": {"displayName": "D"}}),
        ("patch", f"{kind.base}/{sid}", {"metadata": {"displayName": "D"}}),
        ("post", f"{kind.base}/{sid}/lifecycle/activate", None),
        ("delete", f"{kind.base}/{sid}", None),
    ]
    for method, path, body in attempts:
        response = kind.client.request(method, path, json=body, headers=reader)
        assert response.status_code == 403 and response.json()["errorCode"] == "E0000006", path
    denied = events()[before:]
    assert [e["eventType"] for e in denied] == [
        kind.event(op) for op in ("register", "update", "activate", "delete")
    ]
    assert {e["outcome"]["result"] for e in denied} == {"DENY"}
    assert [p for p in kind.site.paths_requested() if "denied" in p] == []  # a DENY fetches nothing


def test_every_event_of_the_kind_parses_with_the_okta_sdk(kind: Kind, events: Events) -> None:
    server = kind.register()
    sid = server["id"]
    (linked,) = kind.linked(server)
    kind.client.patch(f"{kind.base}/{sid}", json={"metadata": {"description": "changed"}}, headers=kind.auth)
    kind.client.post(f"{kind.base}/{sid}/lifecycle/activate", headers=kind.auth)
    kind.client.delete(f"{kind.base}/{sid}", headers=kind.auth)  # FAILURE: active
    kind.client.post(f"{kind.base}/{sid}/lifecycle/deactivate", headers=kind.auth)
    if kind.key != "mcp":
        kind.client.delete(f"{kind.base}/{sid}/authorization-servers/{linked['id']}", headers=kind.auth)
    kind.client.delete(f"{kind.base}/{sid}", headers=kind.auth)
    recorded = events()
    assert {e["outcome"]["result"] for e in recorded} == {"SUCCESS", "FAILURE"}
    for event in recorded:
        parsed_by_okta(event)


def test_an_authorization_server_is_unlinked_where_the_kind_allows_it(kind: Kind, events: Events) -> None:
    server = kind.register()
    (linked,) = kind.linked(server)
    url = f"{kind.base}/{server['id']}/authorization-servers"
    response = kind.client.delete(f"{url}/{linked['id']}", headers=kind.auth)
    if kind.key == "mcp":  # discovered, never unlinked by hand: no such route
        assert response.status_code == 405 and response.json()["errorCode"] == "E0000022"
        assert kind.linked(server) == [linked]
        return
    assert response.status_code == 204
    removed = events()[-1]
    assert removed["eventType"] == kind.event(kind.unlink)
    auth_entity = {"api": "ApiAuthServer", "a2a": "ExternalAuthServer", "vmcp": "ApiAuthServer"}[kind.key]
    assert [(t["type"], t["id"]) for t in removed["target"]] == [
        (kind.entity, server["id"]),
        (auth_entity, linked["id"]),
    ]
    assert kind.linked(server) == []
    missing = kind.client.delete(f"{url}/eas00000000000000000", headers=kind.auth)
    assert missing.status_code == 404
    failure = events()[-1]
    assert (failure["eventType"], failure["outcome"]["result"]) == (kind.event(kind.unlink), "FAILURE")
    assert [t["id"] for t in failure["target"]] == [server["id"], "eas00000000000000000"]


def test_the_state_built_through_the_api_reconciles_with_the_log(kind: Kind, engine: Engine) -> None:
    kept, gone = kind.register("Kept"), kind.register("Gone")
    kind.client.post(f"{kind.base}/{kept['id']}/lifecycle/activate", headers=kind.auth)
    kind.client.patch(
        f"{kind.base}/{kept['id']}", json={"metadata": {"displayName": "Renamed"}}, headers=kind.auth
    )
    assert kind.client.delete(f"{kind.base}/{gone['id']}", headers=kind.auth).status_code == 204
    with engine.connect() as conn:
        assert reconcile(conn) == []
