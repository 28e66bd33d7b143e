"""The MCP Registry API (``/v0.1/servers``, ``/v0/servers``) over real registrations, on SQLite and
PostgreSQL: activating an MCP server publishes it, deactivating it withdraws it (in step with the log's
events); every entry is a valid ``server.json``; paging, ``search``, ``updated_since``, ``version``; the
versions endpoints; a token with the MCP read scope, or none with ``REGISTRAR_PUBLIC_REGISTRY``.

The MCP servers and their authorization servers are a loopback metadata site (``tests/discovery``).
``schemas/server.schema.2025-12-11.json`` is the official schema, vendored byte for byte from the
repository ``modelcontextprotocol/static``, path ``schemas/2025-12-11/server.schema.json`` (commit
12022abc5a8c1cb839f7fadd5f74727709bfa07f), published at
https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json (the version the registry's
CHANGELOG lists as the latest release). The envelope (``ServerList``, ``ServerResponse``) is checked
against the shapes of ``modelcontextprotocol/registry`` ``docs/reference/api/openapi.yaml`` (2025-12-01).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fastapi import FastAPI
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.api.routes.resource_servers import discovery_policy
from registrar.config import Settings
from registrar.services.mcp_registry import entry_version, registry_name

from ..conftest import CLIENT_ADDRESS, MakeToken
from ..discovery.conftest import LOOPBACK_POLICY
from ..discovery.servers import MetadataSite
from . import test_mcp_servers as mcp_tests

MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
REGISTRY = "/v0.1/servers"
OFFICIAL = "io.modelcontextprotocol.registry/official"
AUTHORIZATION = "io.github.registrar/authorization"
REGISTRATION = "io.github.registrar/registration"
SERVER_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "server.schema.2025-12-11.json").read_text())
# ServerResponse and ServerList of the registry's OpenAPI document, with server.json as the schema above.
SERVER_RESPONSE = {
    "type": "object",
    "required": ["server"],
    "properties": {
        "server": {"$ref": SERVER_SCHEMA["$id"]},
        "_meta": {
            "type": "object",
            "properties": {
                OFFICIAL: {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["active", "deprecated", "deleted"]},
                        "publishedAt": {"type": "string", "format": "date-time"},
                        "updatedAt": {"type": "string", "format": "date-time"},
                        "isLatest": {"type": "boolean"},
                    },
                    "additionalProperties": False,
                }
            },
            "additionalProperties": True,
        },
    },
}
SERVER_LIST = {
    "type": "object",
    "required": ["servers"],
    "properties": {
        "servers": {"type": "array", "items": SERVER_RESPONSE},
        "metadata": {
            "type": "object",
            "properties": {"nextCursor": {"type": "string"}, "count": {"type": "integer"}},
        },
    },
}
_REGISTRY = Registry().with_resource(SERVER_SCHEMA["$id"], Resource.from_contents(SERVER_SCHEMA))
Events = Callable[[], list[dict[str, Any]]]
# The discovery tests' loopback policy, with more time to answer.
LOOPBACK = dataclasses.replace(
    LOOPBACK_POLICY, connect_timeout=2.0, request_timeout=5.0, discovery_timeout=10.0
)


def valid(schema: dict[str, Any], document: Any) -> None:
    """``document`` is valid against ``schema`` (formats checked where jsonschema can check them)."""
    validator = Draft7Validator(schema, registry=_REGISTRY, format_checker=FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors


def valid_list(body: Any) -> list[dict[str, Any]]:
    """A valid ``ServerList`` whose every entry is valid too (see ``valid_entry``); returns its entries."""
    valid(SERVER_LIST, body)
    assert body["metadata"]["count"] == len(body["servers"])
    for entry in body["servers"]:
        valid_entry(entry)
    servers: list[dict[str, Any]] = body["servers"]
    return servers


def valid_entry(entry: Any) -> dict[str, Any]:
    """A valid ``ServerResponse``, its timestamps RFC 3339 and its remote an absolute http(s) URL."""
    valid(SERVER_RESPONSE, entry)
    valid(SERVER_SCHEMA, entry["server"])
    official = entry["_meta"][OFFICIAL]
    assert set(official) == {"status", "publishedAt", "updatedAt", "isLatest"}
    for moment in (official["publishedAt"], official["updatedAt"]):
        assert datetime.fromisoformat(moment).tzinfo is not None
    for remote in entry["server"]["remotes"]:
        parts = urlsplit(remote["url"])
        assert parts.scheme in {"http", "https"} and parts.netloc
    result: dict[str, Any] = entry
    return result


# The MCP tests' fixtures: loopback allowed in the settings, the loopback metadata site.
settings, site_server, site = mcp_tests.settings, mcp_tests.site_server, mcp_tests.site


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.dependency_overrides[discovery_policy] = lambda: LOOPBACK
    return app


class Registrar:
    """Registering and changing MCP servers through the resource-servers API, reading the registry."""

    def __init__(self, client: TestClient, auth: dict[str, str], site: MetadataSite):
        self.client, self.auth, self.site = client, auth, site

    def register(self, path: str, **metadata: Any) -> dict[str, Any]:
        issuer = self.site.issuer(f"{path}-as", scopes_supported=["tools:call"])
        url = self.site.resource(
            [issuer], path=path, resource_name=f"Tools at {path}", scopes_supported=["a"]
        )
        server: dict[str, Any] = mcp_tests.register(self.client, self.auth, url, **metadata)
        return server

    def lifecycle(self, server_id: str, action: str) -> dict[str, Any]:
        response = self.client.post(f"{MCP_SERVERS}/{server_id}/lifecycle/{action}", headers=self.auth)
        assert response.status_code == 200, response.text
        server: dict[str, Any] = response.json()
        return server

    def listed(self, path: str = REGISTRY, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(path, params=params, headers=self.auth)
        assert response.status_code == 200, response.text
        return valid_list(response.json())

    def versions(self, name: str) -> Any:
        return self.client.get(f"{REGISTRY}/{quote(name, safe='')}/versions", headers=self.auth)


@pytest.fixture
def registrar(client: TestClient, auth: dict[str, str], site: MetadataSite) -> Registrar:
    return Registrar(client, auth, site)


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["_meta"][REGISTRATION]["id"] for e in entries]


def test_activation_publishes_a_server_and_deactivation_withdraws_it(
    registrar: Registrar, events: Events
) -> None:
    server = registrar.register("/mcp", displayName="Weather tools", description="Forecasts by city.")
    name = registry_name(server["resourceUrl"], server["id"])
    assert registrar.listed() == []  # registered INACTIVE: not approved yet
    assert registrar.versions(name).status_code == 404

    registrar.lifecycle(server["id"], "activate")
    assert events()[-1]["eventType"] == "resource_servers.mcp_server.activate"
    (entry,) = registrar.listed()
    published = entry["server"]
    assert published["name"] == name == f"127.0.0.1/{server['id']}"
    assert (published["title"], published["description"]) == ("Weather tools", "Forecasts by city.")
    assert published["remotes"] == [{"type": "streamable-http", "url": server["resourceUrl"]}]
    assert published["$schema"] == SERVER_SCHEMA["$id"]
    official = entry["_meta"][OFFICIAL]
    assert (official["status"], official["isLatest"]) == ("active", True)
    assert official["publishedAt"] == server["created"]
    updated = datetime.fromisoformat(official["updatedAt"])
    assert published["version"] == entry_version(int(updated.timestamp() * 1000))
    first_version = published["version"]

    registrar.lifecycle(server["id"], "deactivate")
    assert events()[-1]["eventType"] == "resource_servers.mcp_server.deactivate"
    assert registrar.listed() == []
    assert registrar.versions(name).status_code == 404
    latest = registrar.client.get(
        f"{REGISTRY}/{quote(name, safe='')}/versions/latest", headers=registrar.auth
    )
    assert (latest.status_code, latest.json()["errorCode"]) == (404, "E0000007")

    registrar.lifecycle(server["id"], "activate")
    (back,) = registrar.listed()
    assert back["server"]["name"] == name  # the same name: allow-lists keep pinning it
    assert back["_meta"][OFFICIAL]["updatedAt"] >= official["updatedAt"]
    assert int(back["server"]["version"].rsplit(".", 1)[1]) >= int(first_version.rsplit(".", 1)[1])

    registrar.lifecycle(server["id"], "deactivate")
    deleted = registrar.client.delete(f"{MCP_SERVERS}/{server['id']}", headers=registrar.auth)
    assert deleted.status_code == 204
    assert registrar.listed() == []


def test_an_entry_carries_the_authorization_registrar_verified(registrar: Registrar) -> None:
    server = registrar.register("/verified")
    registrar.lifecycle(server["id"], "activate")
    (entry,) = registrar.listed()
    verified = entry["_meta"][AUTHORIZATION]
    assert verified["resource"] == server["resourceUrl"]
    assert (verified["resourceName"], verified["scopesSupported"]) == ("Tools at /verified", ["a"])
    assert verified["verifiedAt"] == server["detectedMetadata"]["lastRefreshedAt"]
    (linked,) = server["_embedded"]["authorizationServers"]
    (auth_server,) = verified["authorizationServers"]
    assert auth_server == {"issuer": linked["issuer"], **linked["detectedMetadata"]}
    assert auth_server["tokenEndpoint"] == linked["issuer"] + "/token"
    assert auth_server["scopesSupported"] == ["tools:call"]
    registration = entry["_meta"][REGISTRATION]
    assert registration == {"id": server["id"], "orn": server["orn"], "toolCount": None}


def test_every_entry_is_a_valid_server_json_whatever_its_metadata(registrar: Registrar) -> None:
    shapes = [
        {},  # the display name comes from the resource's metadata, no description
        {"displayName": "N" * 255, "description": "D" * 1024},
        {"displayName": "Ünïcødé ☂ tools", "description": "  spaced out  "},
    ]
    servers = [registrar.register(f"/shape{i}", **shape) for i, shape in enumerate(shapes)]
    for server in servers:
        registrar.lifecycle(server["id"], "activate")
    entries = registrar.listed()  # each one validated
    assert _ids(entries) == [s["id"] for s in servers]
    plain, long, spaced = (e["server"] for e in entries)
    assert plain["title"] == plain["description"] == "Tools at /shape0"
    assert len(long["title"]) == len(long["description"]) == 100 and long["description"].endswith("…")
    assert (spaced["title"], spaced["description"]) == ("Ünïcødé ☂ tools", "spaced out")


@pytest.mark.parametrize(
    ("url", "namespace"),
    [
        ("https://mcp.example.com/mcp", "com.example.mcp"),
        ("https://MCP.Example.COM:8443/", "com.example.mcp"),
        ("http://127.0.0.1:8080/mcp", "127.0.0.1"),
        ("https://[2001:db8::1]/mcp", "2001-db8-1"),
        ("https://bücher.example/mcp", "example.xn--bcher-kva"),
        ("https://under_score.example/", "example.under-score"),
    ],
)
def test_a_name_is_the_reverse_dns_of_the_host_and_the_server_id(url: str, namespace: str) -> None:
    server_id = "mcpAbCdEfGhIjKlMnOpQ"
    name = registry_name(url, server_id)
    assert name == f"{namespace}/{server_id}"
    valid(SERVER_SCHEMA["definitions"]["ServerDetail"]["properties"]["name"], name)


def test_a_name_fits_the_schema_for_any_host_length() -> None:
    host = ".".join(["label" + "x" * 55] * 4)  # 243 characters, a valid DNS name
    name = registry_name(f"https://{host}/mcp", "mcpAbCdEfGhIjKlMnOpQ")
    assert len(name) == 200 and name.endswith("/mcpAbCdEfGhIjKlMnOpQ")
    valid(SERVER_SCHEMA["definitions"]["ServerDetail"]["properties"]["name"], name)


def _every_page(registrar: Registrar, **params: Any) -> list[str]:
    """The ids of every entry, page by page (``metadata.nextCursor``); each page full but the last."""
    seen: list[str] = []
    while True:
        body = registrar.client.get(REGISTRY, params=params, headers=registrar.auth).json()
        entries = valid_list(body)
        seen += _ids(entries)
        if "nextCursor" not in body["metadata"]:
            return seen
        assert len(entries) == params["limit"]
        params["cursor"] = body["metadata"]["nextCursor"]


def test_paging_search_updated_since_and_version(registrar: Registrar) -> None:
    servers = [registrar.register(f"/page{i}") for i in range(4)]
    for server in servers[:3]:  # the fourth stays INACTIVE
        registrar.lifecycle(server["id"], "activate")
    active = [s["id"] for s in servers[:3]]

    assert _every_page(registrar, limit=1) == active
    assert _every_page(registrar, limit=2, search="127.0.0.1/") == active  # narrowed: scanned in batches
    assert _ids(registrar.listed(limit=100)) == active

    everyone = registrar.listed()
    second = everyone[1]
    assert _ids(registrar.listed(search=second["_meta"][REGISTRATION]["id"].lower())) == [active[1]]
    assert _ids(registrar.listed(search="127.0.0.1/")) == active
    assert registrar.listed(search="no-such-server") == []
    assert _ids(registrar.listed(updated_since="2000-01-01T00:00:00Z")) == active
    newest = max(e["_meta"][OFFICIAL]["updatedAt"] for e in everyone)
    assert registrar.listed(updated_since=newest) == []
    assert _ids(registrar.listed(version="latest")) == active
    assert _ids(registrar.listed(version=second["server"]["version"])) == [
        e["_meta"][REGISTRATION]["id"]
        for e in everyone
        if e["server"]["version"] == second["server"]["version"]
    ]
    assert registrar.listed(version="0.0.1") == []


def test_bad_list_parameters_are_okta_400s(registrar: Registrar) -> None:
    beyond = base64.urlsafe_b64encode(json.dumps({"pk": 2**70}).encode()).decode().rstrip("=")
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": beyond},  # well-formed, past any 64-bit key
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "many"},
        {"updated_since": "yesterday"},
    ):
        response = registrar.client.get(REGISTRY, params=params, headers=registrar.auth)
        assert response.status_code == 400, params
        assert response.json()["errorCode"] == "E0000001", params


def test_the_versions_of_a_server_and_the_v0_mount(registrar: Registrar) -> None:
    server = registrar.register("/versions")
    registrar.lifecycle(server["id"], "activate")
    (entry,) = registrar.listed()
    name, version = entry["server"]["name"], entry["server"]["version"]
    encoded = quote(name, safe="")

    listed = registrar.versions(name)
    assert listed.status_code == 200
    assert valid_list(listed.json()) == [entry]
    for path in (
        f"{REGISTRY}/{encoded}/versions/latest",
        f"{REGISTRY}/{encoded}/versions/{quote(version, safe='')}",
        f"{REGISTRY}/{name}/versions/latest",  # the name's slash unencoded
        f"/v0/servers/{encoded}/versions/latest",
    ):
        response = registrar.client.get(path, headers=registrar.auth)
        assert response.status_code == 200, path
        assert valid_entry(response.json()) == entry
    assert registrar.listed("/v0/servers") == [entry]

    for missing in (
        f"{REGISTRY}/{encoded}/versions/1.0.0",  # not its version
        f"{REGISTRY}/{quote('com.example/' + server['id'], safe='')}/versions",  # its id, another host
        f"{REGISTRY}/{quote('127.0.0.1/mcpNoSuchServer00000', safe='')}/versions",
        f"{REGISTRY}/nothing-here/versions/latest",
    ):
        response = registrar.client.get(missing, headers=registrar.auth)
        assert response.status_code == 404, missing
        assert response.json()["errorCode"] == "E0000007"


def test_reading_needs_the_mcp_read_scope_and_writes_no_event(
    registrar: Registrar, make_token: MakeToken, events: Events
) -> None:
    server = registrar.register("/scoped")
    registrar.lifecycle(server["id"], "activate")
    before = events()
    client = registrar.client
    anonymous = client.get(REGISTRY)
    assert (anonymous.status_code, anonymous.json()["errorCode"]) == (401, "E0000011")
    logs_only = {"Authorization": f"SSWS {make_token('okta.logs.read', email='siem@example.com')}"}
    denied = client.get(REGISTRY, headers=logs_only)
    assert (denied.status_code, denied.json()["errorCode"]) == (403, "E0000006")
    reader = {"Authorization": f"SSWS {make_token('okta.resourceServers.mcpServers.read', email='g@x.io')}"}
    assert _ids(valid_list(client.get(REGISTRY, headers=reader).json())) == [server["id"]]
    assert events() == before


def test_a_public_registry_answers_anonymous_reads(
    registrar: Registrar, settings: Settings, engine: Engine
) -> None:
    server = registrar.register("/public")
    registrar.lifecycle(server["id"], "activate")
    public = create_app(dataclasses.replace(settings, public_registry=True), engine=engine)
    with TestClient(public, client=CLIENT_ADDRESS) as anonymous:
        entries = valid_list(anonymous.get(REGISTRY).json())
        assert _ids(entries) == [server["id"]]
        name = quote(entries[0]["server"]["name"], safe="")
        assert anonymous.get(f"/v0/servers/{name}/versions/latest").status_code == 200
        # The rest of the API still wants a token.
        assert anonymous.get(MCP_SERVERS).status_code == 401
