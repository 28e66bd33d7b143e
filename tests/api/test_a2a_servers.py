"""A2A servers over HTTP, against a real a2a-sdk agent: registration from its agent card, the authorization
servers its security schemes name (and those an admin adds by issuer), and the a2a_server events.

What A2A servers share with the other kinds (lifecycle, deletion, search, PATCH, 404s) is
tests/api/test_kinds.py's; the card's own parsing is tests/discovery/test_agentcard.py's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from registrar.events.catalog import CATALOG, EXTENSION_EVENT_TYPES
from registrar.scopes import A2A_MANAGE, A2A_READ, MCP_READ

from ..conftest import MakeToken
from ..discovery.a2a_agent import a2a_agent, api_key, oauth2, openid
from ..discovery.servers import OPENID, MetadataSite
from ..events.okta import parsed_by_okta
from . import test_mcp_servers as mcp_tests

# The MCP tests' fixtures: loopback allowed, the loopback metadata site, the SDK's authorization server.
app, settings, site_server, site, sdk_issuer = (
    mcp_tests.app,
    mcp_tests.settings,
    mcp_tests.site_server,
    mcp_tests.site,
    mcp_tests.sdk_issuer,
)

BASE = "/resource-servers/api/v1/a2a-servers"
Events = Callable[[], list[dict[str, Any]]]


def _metadata_url(issuer: str) -> str:
    return f"{issuer}.well-known/oauth-authorization-server"


def detail(target: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = target["detailEntry"]
    return entry


def test_registration_reads_the_agent_card_and_links_the_issuers_its_schemes_name(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    oidc = site.issuer("/oidc", location=2)
    schemes = {
        "oauth": oauth2(metadata_url=_metadata_url(sdk_issuer), token_url=f"{sdk_issuer}token"),
        "sso": openid(oidc + OPENID),
        "key": api_key(),  # names no authorization server
    }
    with a2a_agent(schemes) as url:
        response = client.post(BASE, json={"resourceUrl": url}, headers=auth)
    assert response.status_code == 201, response.text
    server = response.json()
    assert server["id"].startswith("a2a") and server["orn"].endswith(f":resource-servers:a2a:{server['id']}")
    assert (server["status"], server["resourceUrl"]) == ("INACTIVE", url)
    assert server["metadata"] == {"displayName": "Echo agent", "description": None}  # the card's name
    detected = server["detectedMetadata"]
    assert (detected["name"], detected["version"], detected["skillsCount"]) == ("Echo agent", "1.2.3", 2)
    assert detected["url"] == f"{url}/" and detected["cardUrl"] == f"{url}/.well-known/agent-card.json"
    assert sorted(detected["securitySchemes"]) == ["key", "oauth", "sso"]  # a protobuf map: any order
    assert detected["lastRefreshedAt"].endswith("Z")
    assert server["authorizationServerCount"] == 2
    linked = {a["issuer"]: a for a in server["_embedded"]["authorizationServers"]}
    assert set(linked) == {sdk_issuer, oidc}
    first = linked[sdk_issuer]
    assert (first["type"], first["status"]) == ("EXTERNAL", "ACTIVE")
    assert first["detectedMetadata"]["tokenEndpoint"] == f"{sdk_issuer}token"
    assert first["_links"]["a2aServer"]["href"] == f"http://testserver{BASE}/{server['id']}"

    recorded = events()
    assert [e["eventType"] for e in recorded] == [
        "resource_servers.a2a_server.register",
        "resource_servers.a2a_server.auth_server.add",
        "resource_servers.a2a_server.auth_server.add",
    ]
    assert {e["transaction"]["id"] for e in recorded} == {response.headers["x-okta-request-id"]}
    (registered,) = recorded[0]["target"]
    assert (registered["type"], registered["id"], registered["alternateId"]) == (
        "A2aServer",
        server["id"],
        url,
    )
    assert detail(registered)["a2aServerStatus"] == "INACTIVE"
    card = json.loads(detail(registered)["a2aServerDetectedMetadata"])
    assert (card["agentCardName"], card["agentCardSkillsCount"]) == ("Echo agent", 2)
    added = next(e["target"] for e in recorded[1:] if e["target"][1]["id"] == first["id"])
    assert [t["type"] for t in added] == ["A2aServer", "ExternalAuthServer"]
    assert added[1]["alternateId"] == sdk_issuer
    assert detail(added[1])["authServerIssuerUrl"] == sdk_issuer


def test_an_agent_without_a_card_is_a_400_with_one_failure_event_and_nothing_stored(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite
) -> None:
    url = site.url("/no-agent")
    response = client.post(BASE, json={"resourceUrl": url, "metadata": {"displayName": "X"}}, headers=auth)
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["errorCode"], error["errorSummary"]) == ("E0000001", "Api validation failed: resourceUrl")
    assert "No agent card found" in error["errorCauses"][0]["errorSummary"]
    (event,) = events()
    assert (event["eventType"], event["outcome"]["result"]) == (
        "resource_servers.a2a_server.register",
        "FAILURE",
    )
    (target,) = event["target"]
    assert (target["type"], target["alternateId"], target["displayName"]) == ("A2aServer", url, "X")
    assert detail(target)["a2aServerStatus"] == "INVALID"
    assert client.get(BASE, headers=auth).json()["data"] == []


def test_a_scheme_whose_issuer_does_not_match_refuses_the_registration(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    site.json("/.well-known/oauth-authorization-server/as", {"issuer": site.url("/elsewhere")})
    named = site.url("/.well-known/oauth-authorization-server/as")
    with a2a_agent({"oauth": oauth2(metadata_url=named)}) as url:
        response = client.post(BASE, json={"resourceUrl": url}, headers=auth)
    assert response.status_code == 400, response.text
    assert "(the two must match)" in response.json()["errorCauses"][0]["errorSummary"]
    (event,) = events()
    assert event["outcome"]["result"] == "FAILURE"
    assert client.get(BASE, headers=auth).json()["data"] == []


def test_an_admin_adds_an_authorization_server_by_its_exact_issuer_and_removes_it(
    client: TestClient, auth: dict[str, str], events: Events, site: MetadataSite, sdk_issuer: str
) -> None:
    with a2a_agent({"key": api_key()}) as url:
        server = client.post(
            BASE, json={"resourceUrl": url, "metadata": {"displayName": "Agent"}}, headers=auth
        )
    sid = server.json()["id"]
    assert server.json()["authorizationServerCount"] == 0
    linked_url = f"{BASE}/{sid}/authorization-servers"
    added = client.post(linked_url, json={"issuer": sdk_issuer}, headers=auth)
    assert added.status_code == 201, added.text
    linked = added.json()
    assert (linked["issuer"], linked["status"], linked["type"]) == (sdk_issuer, "ACTIVE", "EXTERNAL")
    assert linked["detectedMetadata"]["tokenEndpoint"] == f"{sdk_issuer}token"
    event = events()[-1]
    assert event["eventType"] == "resource_servers.a2a_server.auth_server.add"
    assert [(t["type"], t["id"]) for t in event["target"]] == [
        ("A2aServer", sid),
        ("ExternalAuthServer", linked["id"]),
    ]
    assert event["transaction"]["id"] == added.headers["x-okta-request-id"]
    assert client.get(f"{linked_url}/{linked['id']}", headers=auth).json() == linked

    again = client.post(linked_url, json={"issuer": sdk_issuer}, headers=auth)
    assert again.status_code == 409
    inexact = client.post(linked_url, json={"issuer": sdk_issuer.rstrip("/")}, headers=auth)
    assert inexact.status_code == 400, inexact.text
    assert "(the two must be identical)" in inexact.json()["errorCauses"][0]["errorSummary"]
    for body in ({}, {"issuer": "ftp://x"}, {"issuer": sdk_issuer, "tokenEndpoint": "x"}):
        assert client.post(linked_url, json=body, headers=auth).status_code == 400, body
    failures = events()[-5:]
    assert {(e["eventType"], e["outcome"]["result"]) for e in failures} == {
        ("resource_servers.a2a_server.auth_server.add", "FAILURE")
    }
    assert [a["id"] for a in client.get(linked_url, headers=auth).json()["data"]] == [linked["id"]]

    assert client.delete(f"{linked_url}/{linked['id']}", headers=auth).status_code == 204
    removed = events()[-1]
    assert removed["eventType"] == "resource_servers.a2a_server.auth_server.remove"
    assert client.patch(f"{linked_url}/{linked['id']}", json={}, headers=auth).status_code == 405


def test_metadata_changes_and_lifecycle_are_audited_with_registrars_extension_types(
    client: TestClient, auth: dict[str, str], events: Events, sdk_issuer: str
) -> None:
    with a2a_agent({"oauth": oauth2(metadata_url=_metadata_url(sdk_issuer))}) as url:
        sid = client.post(BASE, json={"resourceUrl": url}, headers=auth).json()["id"]
    client.patch(f"{BASE}/{sid}", json={"metadata": {"description": "echoes"}}, headers=auth)
    client.post(f"{BASE}/{sid}/lifecycle/activate", headers=auth)
    client.post(f"{BASE}/{sid}/lifecycle/deactivate", headers=auth)
    assert client.delete(f"{BASE}/{sid}", headers=auth).status_code == 204
    types = [e["eventType"].removeprefix("resource_servers.a2a_server.") for e in events()]
    assert types == [
        "register",
        "auth_server.add",
        "update",
        "activate",
        "deactivate",
        "auth_server.remove",
        "delete",
    ]
    names = {e["eventType"] for e in events()}
    assert {n for n in names if n in EXTENSION_EVENT_TYPES} == {
        "resource_servers.a2a_server.update",
        "resource_servers.a2a_server.activate",
        "resource_servers.a2a_server.deactivate",
    }
    assert names - set(EXTENSION_EVENT_TYPES) <= set(CATALOG)
    for event in events():
        parsed_by_okta(event)


def test_a2a_scopes_read_and_manage_a2a_servers_only(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, events: Events, sdk_issuer: str
) -> None:
    with a2a_agent({"oauth": oauth2(metadata_url=_metadata_url(sdk_issuer))}) as url:
        sid = client.post(BASE, json={"resourceUrl": url}, headers=auth).json()["id"]

        def token(*scopes: str) -> dict[str, str]:
            return {
                "Authorization": f"SSWS {make_token(*scopes, email=f'{len(scopes)}{scopes[0]}@example.com')}"
            }

        reader, mcp_reader, manager = token(A2A_READ), token(MCP_READ), token(A2A_MANAGE)
        assert client.get(f"{BASE}/{sid}", headers=reader).status_code == 200
        assert client.get(f"{BASE}/{sid}", headers=manager).status_code == 200
        assert client.get(f"{BASE}/{sid}", headers=mcp_reader).status_code == 403
        denied = client.post(
            f"{BASE}/{sid}/authorization-servers", json={"issuer": sdk_issuer}, headers=reader
        )
        assert denied.status_code == 403
        deny = events()[-1]
        assert (deny["eventType"], deny["outcome"]["result"]) == (
            "resource_servers.a2a_server.auth_server.add",
            "DENY",
        )
        assert A2A_MANAGE in deny["outcome"]["reason"]
        assert client.post(f"{BASE}/{sid}/lifecycle/activate", headers=manager).status_code == 200
