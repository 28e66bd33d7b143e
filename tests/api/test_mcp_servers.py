"""MCP servers over HTTP: registration by discovery, its failures, reads, search, PATCH, lifecycle, deletion.

The MCP and authorization servers are real, on 127.0.0.1: the ``mcp`` SDK's, and a hand-written metadata
site (``tests/discovery/servers.py``). Loopback is reachable only because the settings allow-list it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.api.routes.resource_servers import discovery_policy
from registrar.config import Settings
from registrar.discovery import MAX_BODY_BYTES, FetchPolicy
from registrar.store.schema import resource_servers

from ..conftest import MakeToken
from ..discovery.servers import PRM, MetadataSite, Reply, sdk_authorization_server, sdk_mcp_server
from ..events.okta import parsed_by_okta

BASE = "/resource-servers/api/v1/mcp-servers"
MANAGE = "okta.resourceServers.mcpServers.manage"
Events = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, discovery_allow_http=True, discovery_allowed_networks=("127.0.0.0/8",))


def short_policy(settings: Settings) -> FetchPolicy:
    """The operator's policy from the settings, with timeouts short enough for a test."""
    return replace(
        FetchPolicy.from_settings(settings), connect_timeout=1.0, request_timeout=1.0, discovery_timeout=5.0
    )


@pytest.fixture
def app(app: FastAPI, settings: Settings) -> FastAPI:
    app.dependency_overrides[discovery_policy] = lambda: short_policy(settings)
    return app


@pytest.fixture(scope="module")
def site_server() -> Iterator[MetadataSite]:
    site = MetadataSite()
    with site.serve():
        yield site


@pytest.fixture
def site(site_server: MetadataSite) -> Iterator[MetadataSite]:
    site_server.reset()
    yield site_server
    site_server.reset()


@pytest.fixture(scope="module")
def sdk_issuer() -> Iterator[str]:
    with sdk_authorization_server(identity_assertion=True) as issuer:
        yield issuer


def register(client: TestClient, auth: dict[str, str], url: str, **metadata: Any) -> Any:
    body: dict[str, Any] = {"resourceUrl": url}
    if metadata:
        body["metadata"] = metadata
    response = client.post(BASE, json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def two_issuer_resource(site: MetadataSite, sdk_issuer: str, path: str = "/mcp", **fields: Any) -> str:
    """A resource protected by the SDK authorization server and a second, identity-chaining one."""
    second = site.issuer(
        f"{path}-as",
        identity_chaining_requested_token_types_supported=["urn:ietf:params:oauth:token-type:id_token"],
    )
    defaults: dict[str, Any] = {"resource_name": "Weather tools", "scopes_supported": ["weather:read"]}
    return site.resource([sdk_issuer, second], path=path, **{**defaults, **fields})


def detail(target: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = target["detailEntry"]
    return entry


def test_register_creates_each_discovered_authorization_server_in_one_transaction(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    url = two_issuer_resource(site, sdk_issuer)
    response = client.post(BASE, json={"resourceUrl": url}, headers=auth)
    assert response.status_code == 201, response.text
    server = response.json()
    assert server["id"].startswith("mcp") and len(server["id"]) == 20
    assert server["orn"].endswith(f":resource-servers:mcp:{server['id']}")
    assert (server["status"], server["resourceUrl"]) == ("INACTIVE", url)
    assert server["metadata"] == {"displayName": "Weather tools", "description": None}
    assert server["detectedMetadata"]["resourceName"] == "Weather tools"
    assert server["detectedMetadata"]["scopesSupported"] == ["weather:read"]
    assert server["detectedMetadata"]["lastRefreshedAt"].endswith("Z")
    assert server["authorizationServerCount"] == 2
    first, second = server["_embedded"]["authorizationServers"]
    assert [first["issuer"], second["issuer"]] == [sdk_issuer, site.url("/mcp-as")]
    assert {first["status"], second["status"], first["type"]} == {"ACTIVE", "EXTERNAL"}
    assert first["id"].startswith("eas") and first["detectedMetadata"]["idJagSupported"] is True
    assert first["detectedMetadata"]["tokenEndpoint"] == f"{sdk_issuer}token"
    assert second["detectedMetadata"]["identityChainingRequestedTokenTypesSupported"] == [
        "urn:ietf:params:oauth:token-type:id_token"
    ]

    recorded = events()
    assert [e["eventType"] for e in recorded] == [
        "resource_servers.mcp_server.auth_server.create",
        "resource_servers.mcp_server.auth_server.create",
        "resource_servers.mcp_server.register",
    ]
    assert {e["transaction"]["id"] for e in recorded} == {response.headers["x-okta-request-id"]}
    assert {e["outcome"]["result"] for e in recorded} == {"SUCCESS"}
    created = recorded[0]["target"]
    assert [t["type"] for t in created] == ["ExternalAuthServer", "McpServer"]
    assert created[0]["id"] == first["id"] and created[0]["alternateId"] == sdk_issuer
    assert detail(created[0])["authServerIssuerUrl"] == sdk_issuer
    assert detail(created[0])["authServerStatus"] == "ACTIVE"
    as_metadata = json.loads(detail(created[0])["authServerDetectedMetadata"])
    assert as_metadata["authServerTokenEndpoint"] == f"{sdk_issuer}token"
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in as_metadata["authServerGrantTypesSupported"]
    assert as_metadata["authServerIdentityChainingRequestedTokenTypesSupported"] == []
    (registered,) = recorded[2]["target"]
    assert (registered["id"], registered["type"], registered["alternateId"]) == (
        server["id"],
        "McpServer",
        url,
    )
    assert registered["displayName"] == "Weather tools"
    assert detail(registered)["mcpServerResourceUrl"] == url
    assert detail(registered)["mcpServerStatus"] == "INACTIVE"
    assert json.loads(detail(registered)["mcpServerDetectedMetadata"]) == {
        "mcpServerResourceName": "Weather tools",
        "mcpServerScopesSupported": ["weather:read"],
    }


def test_register_a_real_sdk_mcp_server(
    client: TestClient, auth: dict[str, str], events: Events, sdk_issuer: str
) -> None:
    with sdk_mcp_server(sdk_issuer) as url:
        server = register(client, auth, url, displayName="Weather", description="forecasts")
    assert server["metadata"] == {"displayName": "Weather", "description": "forecasts"}
    assert server["detectedMetadata"]["scopesSupported"] == ["mcp:read"]
    ((auth_server),) = server["_embedded"]["authorizationServers"]
    assert auth_server["issuer"] == sdk_issuer
    assert [e["eventType"].rsplit(".", 2)[-2:] for e in events()] == [
        ["auth_server", "create"],
        ["mcp_server", "register"],
    ]


FailureCase = Callable[[MetadataSite, str], tuple[str, str]]


def _no_metadata(site: MetadataSite, issuer: str) -> tuple[str, str]:
    return site.url(
        "/mcp"
    ), f"No protected resource metadata found: {site.url(PRM + '/mcp')} answered HTTP 404"


def _trailing_slash(site: MetadataSite, issuer: str) -> tuple[str, str]:
    site.json(f"{PRM}/mcp", {"resource": site.url("/mcp/"), "authorization_servers": [issuer]})
    return site.url(
        "/mcp"
    ), f"is for '{site.url('/mcp/')}', not {site.url('/mcp')} (the two must be identical)"


def _empty_list(site: MetadataSite, issuer: str) -> tuple[str, str]:
    return site.resource([]), "No authorization servers found"


def _issuer_mismatch(site: MetadataSite, issuer: str) -> tuple[str, str]:
    return site.resource([issuer.rstrip("/")]), f"names issuer '{issuer}' (the two must be identical)"


def _unreachable(site: MetadataSite, issuer: str) -> tuple[str, str]:
    return site.resource([issuer, "http://127.0.0.1:9"]), "Authorization server http://127.0.0.1:9: "


def _oversize(site: MetadataSite, issuer: str) -> tuple[str, str]:
    site.reply(f"{PRM}/mcp", Reply(200, b" " * (MAX_BODY_BYTES + 1), {"content-type": "application/json"}))
    return site.url("/mcp"), "the response is larger than 256 KiB"


def _redirect(site: MetadataSite, issuer: str) -> tuple[str, str]:
    site.reply(f"{PRM}/mcp", Reply(302, b"", {"location": "http://169.254.169.254/latest/meta-data/"}))
    return site.url("/mcp"), "answered HTTP 302, redirects are not followed"


def _slow(site: MetadataSite, issuer: str) -> tuple[str, str]:
    site.reply(f"{PRM}/mcp", Reply(200, b"{}", {"content-type": "application/json"}, delay=30))
    return site.url("/mcp"), f"{site.url(PRM + '/mcp')}: timed out"


@pytest.mark.parametrize(
    "case",
    [_no_metadata, _trailing_slash, _empty_list, _issuer_mismatch, _unreachable, _oversize, _redirect, _slow],
)
def test_a_failed_discovery_is_a_400_with_its_cause_one_failure_event_and_nothing_stored(
    client: TestClient,
    auth: dict[str, str],
    events: Events,
    site: MetadataSite,
    sdk_issuer: str,
    case: FailureCase,
) -> None:
    url, cause = case(site, sdk_issuer)
    response = client.post(BASE, json={"resourceUrl": url, "metadata": {"displayName": "X"}}, headers=auth)
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["errorCode"], error["errorSummary"]) == ("E0000001", "Api validation failed: resourceUrl")
    (summary,) = [c["errorSummary"] for c in error["errorCauses"]]
    assert summary.startswith("resourceUrl: ") and cause in summary
    (event,) = events()
    assert event["eventType"] == "resource_servers.mcp_server.register"
    assert event["outcome"]["result"] == "FAILURE"
    assert event["outcome"]["reason"] == summary.removeprefix("resourceUrl: ")[:255]
    (target,) = event["target"]
    assert (target["type"], target["alternateId"], target["displayName"]) == ("McpServer", url, "X")
    assert detail(target)["mcpServerStatus"] == "INVALID"
    assert client.get(BASE, headers=auth).json()["data"] == []


def test_with_an_empty_allow_list_loopback_is_refused_and_nothing_is_fetched(
    client: TestClient,
    app: FastAPI,
    auth: dict[str, str],
    events: Events,
    site: MetadataSite,
    sdk_issuer: str,
) -> None:
    app.dependency_overrides[discovery_policy] = lambda: FetchPolicy(allow_http=True, request_timeout=1.0)
    url = two_issuer_resource(site, sdk_issuer)
    for spelling in (
        url,
        url.replace("127.0.0.1", "localhost"),
        url.replace("127.0.0.1", "[::ffff:127.0.0.1]"),
    ):
        response = client.post(BASE, json={"resourceUrl": spelling}, headers=auth)
        assert response.status_code == 400
        assert "is not a public address" in response.json()["errorCauses"][0]["errorSummary"]
    assert site.requests == []
    assert [e["outcome"]["result"] for e in events()] == ["FAILURE"] * 3


def test_https_is_required_unless_the_operator_allows_http(
    client: TestClient, app: FastAPI, auth: dict[str, str], events: Events, site: MetadataSite
) -> None:
    app.dependency_overrides[discovery_policy] = lambda: FetchPolicy()
    response = client.post(BASE, json={"resourceUrl": site.url("/mcp")}, headers=auth)
    assert response.status_code == 400
    assert response.json()["errorCauses"] == [{"errorSummary": "resourceUrl: must be an https URL"}]
    assert site.requests == [] and events()[0]["outcome"]["result"] == "FAILURE"


def test_a_duplicate_resource_url_is_a_conflict_found_before_any_fetch(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    url = two_issuer_resource(site, sdk_issuer)
    register(client, auth, url)
    fetched = len(site.requests)
    again = client.post(BASE, json={"resourceUrl": url}, headers=auth)
    assert again.status_code == 409
    assert again.json()["errorCauses"][0]["errorSummary"].startswith("resourceUrl:")
    assert len(site.requests) == fetched
    failure = events()[-1]
    assert (failure["eventType"], failure["outcome"]["result"]) == (
        "resource_servers.mcp_server.register",
        "FAILURE",
    )
    assert "already registered" in failure["outcome"]["reason"]


def test_search_by_the_detected_resource_name(
    client: TestClient, auth: dict[str, str], site: MetadataSite, sdk_issuer: str
) -> None:
    # Lists, paging and the shared search attributes are tests/api/test_kinds.py's.
    names = ["GitHub tools", "GitLab tools", "Stripe"]
    servers = [
        register(
            client,
            auth,
            two_issuer_resource(site, sdk_issuer, f"/s{i}", resource_name=f"res-{name}"),
            displayName=name,
        )
        for i, name in enumerate(names)
    ]
    client.post(f"{BASE}/{servers[0]['id']}/lifecycle/activate", headers=auth)

    def found(search: str) -> list[str]:
        response = client.get(BASE, params={"search": search}, headers=auth)
        assert response.status_code == 200, response.text
        return [s["metadata"]["displayName"] for s in response.json()["data"]]

    assert found('detectedMetadata.resourceName sw "res-Git" and status eq "INACTIVE"') == ["GitLab tools"]
    assert found('detectedMetadata.resourceName co "Stri"') == ["Stripe"]
    assert found('detectedMetadata.resourceName eq "res-Stripe"') == ["Stripe"]
    bad = client.get(BASE, params={"search": 'authorizationServerId sw "eas"'}, headers=auth)
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000031"
    active = client.get(
        f"{BASE}/{servers[0]['id']}/authorization-servers",
        params={"filter": 'status eq "ACTIVE"'},
        headers=auth,
    )
    assert len(active.json()["data"]) == 2


def test_every_mcp_event_parses_with_the_okta_sdk(
    client: TestClient,
    auth: dict[str, str],
    make_token: MakeToken,
    events: Events,
    site: MetadataSite,
    sdk_issuer: str,
) -> None:
    reader = {"Authorization": f"SSWS {make_token('okta.logs.read', email='r@example.com')}"}
    url = two_issuer_resource(site, sdk_issuer)
    sid = register(client, auth, url)["id"]
    client.patch(f"{BASE}/{sid}", json={"metadata": {"description": "changed"}}, headers=auth)
    client.post(f"{BASE}/{sid}/lifecycle/activate", headers=auth)
    client.delete(f"{BASE}/{sid}", headers=auth)  # FAILURE: active
    client.post(f"{BASE}/{sid}/lifecycle/deactivate", headers=auth)
    two_issuer_resource(site, sdk_issuer, resource_name="Renamed")  # mcp_server.update
    site.issuer("/mcp-as", token_endpoint=site.url("/v2/token"))  # auth_server.update
    assert client.post(f"{BASE}/{sid}/discovery", headers=auth).status_code == 200
    client.post(BASE, json={"resourceUrl": url}, headers=reader)  # DENY
    client.delete(f"{BASE}/{sid}", headers=auth)
    recorded = events()
    assert {e["eventType"].removeprefix("resource_servers.") for e in recorded} == {
        "mcp_server.register",
        "mcp_server.update",
        "mcp_server.activate",
        "mcp_server.deactivate",
        "mcp_server.delete",
        "mcp_server.auth_server.create",
        "mcp_server.auth_server.update",
        "mcp_server.auth_server.delete",
    }
    assert {e["outcome"]["result"] for e in recorded} == {"SUCCESS", "FAILURE", "DENY"}
    for event in recorded:
        parsed_by_okta(event)


def test_a_resource_url_ending_in_a_slash_is_kept_byte_exact(
    client: TestClient,
    auth: dict[str, str],
    events: Events,
    engine: Engine,
    site: MetadataSite,
    sdk_issuer: str,
) -> None:
    # Invariant 8: the slash is part of the resource's identity, so "/mcp/" and "/mcp" are two servers.
    with_slash = site.resource([sdk_issuer], path="/mcp/", resource_name="With slash")
    without = site.resource([sdk_issuer], path="/mcp", resource_name="Without slash")
    assert with_slash.endswith("/mcp/") and without == with_slash.removesuffix("/")
    registered = register(client, auth, with_slash)
    assert PRM + "/mcp/" in site.paths_requested()  # its own metadata, whose `resource` is the exact URL
    other = register(client, auth, without)  # not a duplicate of the first
    assert registered["resourceUrl"] == with_slash and other["resourceUrl"] == without
    assert client.get(f"{BASE}/{registered['id']}", headers=auth).json()["resourceUrl"] == with_slash
    with engine.connect() as conn:
        stored = conn.execute(select(resource_servers.c.id, resource_servers.c.resource_url)).all()
    assert sorted(map(tuple, stored)) == sorted([(registered["id"], with_slash), (other["id"], without)])
    (target,) = next(e for e in events() if e["eventType"].endswith(".mcp_server.register"))["target"]
    assert (target["id"], target["alternateId"]) == (registered["id"], with_slash)
    assert detail(target)["mcpServerResourceUrl"] == with_slash
    # A refresh rediscovers the stored URL itself: its metadata is still found, nothing changed.
    site.requests.clear()
    refreshed = client.post(f"{BASE}/{registered['id']}/discovery", headers=auth)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "INACTIVE" and refreshed.json()["resourceUrl"] == with_slash
    assert PRM + "/mcp/" in site.paths_requested()


def test_metadata_for_the_url_without_its_slash_is_refused(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    url = site.url("/mcp/")
    site.json(f"{PRM}/mcp/", {"resource": site.url("/mcp"), "authorization_servers": [sdk_issuer]})
    response = client.post(BASE, json={"resourceUrl": url}, headers=auth)
    assert response.status_code == 400, response.text
    (cause,) = response.json()["errorCauses"]
    assert f"is for '{site.url('/mcp')}', not {url} (the two must be identical)" in cause["errorSummary"]
    assert client.get(BASE, headers=auth).json()["data"] == []
    (failure,) = events()
    assert failure["outcome"]["result"] == "FAILURE"
