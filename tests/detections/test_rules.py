"""Every Sigma rule in ``detections/`` stays quiet on ordinary traffic and fires on its case.

All events come from the product: requests through the HTTP API (MCP servers discovered on loopback),
read back from the database of each backend, then handed to the rules as a SIEM would receive them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from tests.api.test_api_auth_servers import add as add_auth_server
from tests.api.test_api_servers import register
from tests.api.test_client_auth_settings import SECRET
from tests.api.test_client_auth_settings import create as create_settings
from tests.conftest import MakeToken, stored_events
from tests.discovery.servers import MetadataSite
from tests.exports.traffic import API, CAS, MCP, McpSite

from .sigma_lab import SigmaLab

Lab = Callable[[], SigmaLab]
Events = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def lab(engine: Engine) -> Iterator[Lab]:
    """Load the log as it is now into a fresh rule table (called again after more traffic)."""
    labs: list[SigmaLab] = []

    def load() -> SigmaLab:
        labs.append(SigmaLab(stored_events(engine)))
        return labs[-1]

    yield load
    for each in labs:
        each.close()


def token_for(make_token: MakeToken, name: str, *scopes: str) -> dict[str, str]:
    secret = make_token(*scopes, email=f"{name.lower()}@example.com", display_name=name)
    return {"Authorization": f"SSWS {secret}"}


def uuids_of(events: list[dict[str, Any]], event_type: str, **outcome: str) -> list[str]:
    wanted = f"resource_servers.{event_type}"
    result = outcome.get("result", "SUCCESS")
    return [e["uuid"] for e in events if e["eventType"] == wanted and e["outcome"]["result"] == result]


def register_mcp(client: TestClient, headers: dict[str, str], site: McpSite, name: str) -> str:
    site.publish(name, ["authorization_code"])
    response = client.post(MCP, json={"resourceUrl": site.resource_url}, headers=headers)
    assert response.status_code == 201, response.text
    server_id: str = response.json()["id"]
    return server_id


def test_every_rule_is_exercised_here_or_in_test_newer_kinds() -> None:
    assert SigmaLab([]).rule_names() == sorted(
        [
            "a2a_or_vmcp_auth_server_added",
            "a2a_or_vmcp_auth_server_removed",
            "a2a_or_vmcp_auth_server_swapped",
            "a2a_or_vmcp_server_activated",
            "a2a_or_vmcp_server_activated_by_other_than_registrant",
            "a2a_or_vmcp_server_registered",
            "api_auth_server_added",
            "api_auth_server_removed",
            "api_auth_server_swapped",
            "auth_server_issuer_not_allowed",
            "client_secret_rotated",
            "mass_deactivation_or_deletion",
            "mcp_discovery_of_active_server",
            "mcp_known_tool_changed",
            "mcp_server_activated",
            "mcp_server_activated_by_other_than_registrant",
            "mcp_server_deactivated_for_tool_drift",
            "mcp_server_registered",
            "mcp_tool_drift_on_active_server",
            "refusal_burst",
            "resource_server_deactivated_or_deleted",
            "resource_server_operation_refused",
        ]
    )


def test_issuer_outside_the_allow_list(
    client: TestClient,
    auth: dict[str, str],
    mcp_site: McpSite,
    loopback_discovery: None,
    lab: Lab,
    events: Events,
) -> None:
    rule = "auth_server_issuer_not_allowed"
    server = register(client, auth)
    add_auth_server(client, auth, server["id"], issuer="https://login.example.com/")
    refused = client.post(
        f"{API}/aps00000000000000000/authorization-servers",
        json={
            "issuer": "https://login.evil.example/",
            "authorizationEndpoint": "https://login.evil.example/a",
            "tokenEndpoint": "https://login.evil.example/t",
        },
        headers=auth,
    )
    assert refused.status_code == 404  # audited, but nothing was linked
    assert lab().hits(rule) == []

    add_auth_server(client, auth, server["id"], issuer="https://login.evil.example/")
    register_mcp(client, auth, mcp_site, "github-tools")  # discovery links the loopback issuer
    fired = lab().matching_events(rule)
    assert fired == {
        *uuids_of(events(), "api_server.auth_server.add")[1:],
        *uuids_of(events(), "mcp_server.auth_server.create"),
    }
    assert len(fired) == 2


def test_client_secret_rotation(client: TestClient, auth: dict[str, str], lab: Lab, events: Events) -> None:
    rule = "client_secret_rotated"
    settings = create_settings(client, auth, register(client, auth)["orn"])
    url = f"{CAS}/{settings['id']}"
    assert client.patch(url, json={"name": "Renamed"}, headers=auth).status_code == 200
    same = {"configuration": {"clientSecret": SECRET}}  # the same secret: no change, no event
    assert client.patch(url, json=same, headers=auth).status_code == 200
    assert lab().hits(rule) == []

    rotated = {"configuration": {"clientSecret": "a-new-Secret-42"}}
    assert client.patch(url, json=rotated, headers=auth).status_code == 200
    assert lab().matching_events(rule) == {events()[-1]["uuid"]}


def test_mass_deactivation_or_deletion(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, lab: Lab, events: Events
) -> None:
    rule = "mass_deactivation_or_deletion"
    bob = token_for(make_token, "Bob")

    def deactivate_new_servers(headers: dict[str, str], prefix: str, count: int) -> list[str]:
        ids = []
        for i in range(count):
            body = {"resourceUrl": f"https://{prefix}{i}.example/", "metadata": {"displayName": prefix}}
            created = client.post(f"{API}?activate=true", json=body, headers=headers).json()
            client.post(f"{API}/{created['id']}/lifecycle/deactivate", headers=headers)
            ids.append(created["id"])
        return ids

    alice_servers = deactivate_new_servers(auth, "alice", 4)
    deactivate_new_servers(bob, "bob", 4)  # four each: neither actor reaches five
    assert lab().hits(rule) == []

    assert client.delete(f"{API}/{alice_servers[0]}", headers=auth).status_code == 204
    (alert,) = lab().hits(rule)
    assert alert.group == {"actor.alternateid": "alice@example.com"}
    alice_events = [e for e in events() if e["actor"]["alternateId"] == "alice@example.com"]
    assert alert.uuids == {
        *uuids_of(alice_events, "api_server.deactivate"),
        *uuids_of(alice_events, "api_server.delete"),
    }


def test_burst_of_refused_operations(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, lab: Lab
) -> None:
    rule = "refusal_burst"
    mallory = token_for(make_token, "Mallory", "okta.logs.read")  # may read the log, change nothing

    def refuse(count: int) -> None:
        for i in range(count):
            if i % 2:
                body = {"resourceUrl": f"https://probe{i}.example/", "metadata": {"displayName": "P"}}
                assert client.post(API, json=body, headers=mallory).status_code == 403
            else:
                activate = f"{API}/aps0000000000000000{i}/lifecycle/activate"
                assert client.post(activate, headers=mallory).status_code == 403

    refuse(9)
    missing = f"{API}/aps00000000000000000/lifecycle/activate"
    for _ in range(5):  # another actor's honest mistakes are FAILUREs, counted for her, not for Mallory
        assert client.post(missing, headers=auth).status_code == 404
    assert lab().hits(rule) == []

    refuse(1)
    (alert,) = lab().hits(rule)
    assert alert.group == {"actor.alternateid": "mallory@example.com"}
    assert len(alert.uuids) == 10


def test_mcp_server_activated_by_someone_other_than_its_registrant(
    client: TestClient,
    auth: dict[str, str],
    make_token: MakeToken,
    metadata_site: MetadataSite,
    mcp_site: McpSite,
    loopback_discovery: None,
    lab: Lab,
    events: Events,
) -> None:
    rule = "mcp_server_activated_by_other_than_registrant"
    bob = token_for(make_token, "Bob")
    alices = register_mcp(client, auth, mcp_site, "alice-tools")
    client.post(f"{MCP}/{alices}/lifecycle/activate", headers=auth)
    client.post(f"{MCP}/{alices}/lifecycle/deactivate", headers=auth)
    first = lab()
    assert first.hits(rule) == []
    # The exact "never registered one": activations with no earlier registration by the same actor.
    never_registered = ("mcp_server_activated", "mcp_server_registered", "actor.alternateId")
    assert first.without_earlier(*never_registered) == set()

    # Bob, who never registered an MCP server, puts Alice's into service.
    client.post(f"{MCP}/{alices}/lifecycle/activate", headers=bob)
    bobs_activation = events()[-1]["uuid"]
    # Later Bob registers and activates his own: that activation is his to make.
    bobs = register_mcp(client, bob, McpSite(metadata_site, "bob"), "bob-tools")
    client.post(f"{MCP}/{bobs}/lifecycle/activate", headers=bob)

    second = lab()
    (alert,) = second.hits(rule)
    assert alert.group == {"target.id": alices.lower()}  # Sigma group keys compare case-insensitively
    assert bobs_activation in alert.uuids
    assert second.without_earlier(*never_registered) == {bobs_activation}


def test_authorization_server_swapped_on_an_api_server(
    client: TestClient, auth: dict[str, str], lab: Lab
) -> None:
    rule = "api_auth_server_swapped"
    server = register(client, auth)
    first = add_auth_server(client, auth, server["id"])
    url = f"{API}/{server['id']}/authorization-servers"
    assert client.delete(f"{url}/{first['id']}", headers=auth).status_code == 204
    assert lab().hits(rule) == []  # added, then removed: nothing replaced it

    add_auth_server(client, auth, server["id"], issuer="https://other.example.com/")
    (alert,) = lab().hits(rule)
    assert alert.group == {"target.id": server["id"].lower()}
