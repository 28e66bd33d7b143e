"""Client authentication settings: create, read, update, delete; the secret is write-only and masked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from .test_api_servers import register

BASE = "/resource-servers/api/v1/client-auth-settings"
Events = Callable[[], list[dict[str, Any]]]
SECRET = "s3cr3t-Planted-Value-9f2c"


def create(client: TestClient, auth: dict[str, str], resource_orn: str, **overrides: Any) -> Any:
    body = {
        "name": "GitHub MCP Auth",
        "resourceOrn": resource_orn,
        "purpose": ["STS"],
        "configuration": {
            "clientId": "client-123",
            "clientSecret": SECRET,
            "scopes": ["repo", "read:user"],
            "tokenEndpointAuthMethod": "client_secret_basic",
        },
        **overrides,
    }
    response = client.post(BASE, json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_settings_without_the_secret(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    settings = create(client, auth, server["orn"])
    assert settings["id"].startswith("rsc")
    assert settings["orn"].endswith(f":client-auth-settings:{settings['id']}")
    assert settings["configuration"] == {
        "clientId": "client-123",
        "scopes": ["repo", "read:user"],
        "tokenEndpointAuthMethod": "client_secret_basic",
    }
    assert SECRET not in client.get(f"{BASE}/{settings['id']}", headers=auth).text
    event = events()[-1]
    assert event["eventType"] == "resource_servers.client_authentication_settings.create"
    resource, target = event["target"]
    assert resource["id"] == server["id"] and resource["type"] == "ApiServer"
    assert target["id"] == settings["id"] and target["type"] == "ClientAuthSettings"


def test_resource_orn_must_name_a_registered_server(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    for orn in (
        server["orn"].replace(server["id"], "aps00000000000000000"),
        server["orn"].replace(":api:", ":mcp:"),
        "orn:okta:idp:00o1n8sbwArJ7OQRw406:apps:github:0oa1gjh63g214q0Hq0g4",
    ):
        response = client.post(
            BASE,
            json={
                "name": "x",
                "resourceOrn": orn,
                "configuration": {"clientId": "c", "clientSecret": SECRET},
            },
            headers=auth,
        )
        assert response.status_code == 400, orn
        assert response.json()["errorCauses"][0]["errorSummary"].startswith("resourceOrn:")
    assert [e["outcome"]["result"] for e in events()[1:]] == ["FAILURE"] * 3


def test_purpose_is_exactly_one_known_value(client: TestClient, auth: dict[str, str]) -> None:
    server = register(client, auth)
    for purpose in ([], ["STS", "STS"], ["OTHER"]):
        response = client.post(
            BASE,
            json={
                "name": "x",
                "resourceOrn": server["orn"],
                "purpose": purpose,
                "configuration": {"clientId": "c", "clientSecret": SECRET},
            },
            headers=auth,
        )
        assert response.status_code == 400, purpose


def test_update_masks_a_changed_secret(client: TestClient, auth: dict[str, str], events: Events) -> None:
    server = register(client, auth)
    settings = create(client, auth, server["orn"])
    response = client.patch(
        f"{BASE}/{settings['id']}",
        json={"name": "Renamed", "configuration": {"clientSecret": "another-Secret-77", "scopes": ["repo"]}},
        headers=auth,
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed" and response.json()["configuration"]["scopes"] == ["repo"]
    update = events()[-1]
    assert update["eventType"] == "resource_servers.client_authentication_settings.update"
    assert update["target"][1]["changeDetails"] == {
        "from": {"name": "GitHub MCP Auth", "scopes": ["repo", "read:user"], "clientSecret": "********"},
        "to": {"name": "Renamed", "scopes": ["repo"], "clientSecret": "********"},
    }


def test_update_with_the_same_secret_changes_nothing(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    settings = create(client, auth, server["orn"])
    before = len(events())
    response = client.patch(
        f"{BASE}/{settings['id']}", json={"configuration": {"clientSecret": SECRET}}, headers=auth
    )
    assert response.status_code == 200
    assert len(events()) == before


def test_list_search_and_delete(client: TestClient, auth: dict[str, str], events: Events) -> None:
    one = register(client, auth, "https://one.example/")
    two = register(client, auth, "https://two.example/")
    a = create(client, auth, one["orn"])
    b = create(client, auth, two["orn"], name="Two")
    listed = client.get(BASE, headers=auth).json()
    assert [s["id"] for s in listed["data"]] == [a["id"], b["id"]]
    found = client.get(
        BASE, params={"search": f'resourceOrn eq "{two["orn"]}" and purpose eq "STS"'}, headers=auth
    )
    assert [s["id"] for s in found.json()["data"]] == [b["id"]]
    assert client.delete(f"{BASE}/{a['id']}", headers=auth).status_code == 204
    assert client.get(f"{BASE}/{a['id']}", headers=auth).status_code == 404
    deleted = events()[-1]
    assert deleted["eventType"] == "resource_servers.client_authentication_settings.delete"
    assert [t["id"] for t in deleted["target"]] == [one["id"], a["id"]]


def test_a_referenced_api_server_cannot_be_deleted(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    create(client, auth, server["orn"])
    response = client.delete(f"/resource-servers/api/v1/api-servers/{server['id']}", headers=auth)
    assert response.status_code == 409
    assert events()[-1]["outcome"]["result"] == "FAILURE"
