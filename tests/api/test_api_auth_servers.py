"""Third-party authorization servers of an API server: add, update, remove and their events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from .test_api_servers import BASE, register

Events = Callable[[], list[dict[str, Any]]]

AS_BODY = {
    "issuer": "https://login.example.com/",
    "authorizationEndpoint": "https://login.example.com/authorize",
    "tokenEndpoint": "https://login.example.com/token",
    "grantTypesSupported": ["authorization_code", "refresh_token"],
}


def add(client: TestClient, auth: dict[str, str], server_id: str, **overrides: Any) -> Any:
    response = client.post(
        f"{BASE}/{server_id}/authorization-servers", json={**AS_BODY, **overrides}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_add_links_an_authorization_server_with_both_targets(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    linked = add(client, auth, server["id"])
    assert linked["id"].startswith("eas") and linked["issuer"] == "https://login.example.com/"
    assert linked["_links"]["self"]["href"].endswith(f"/{server['id']}/authorization-servers/{linked['id']}")
    event = events()[-1]
    assert event["eventType"] == "resource_servers.api_server.auth_server.add"
    api_target, as_target = event["target"]
    assert api_target["id"] == server["id"] and api_target["type"] == "ApiServer"
    assert as_target["id"] == linked["id"] and as_target["type"] == "ApiAuthServer"
    assert as_target["detailEntry"]["authServerGrantTypesSupported"] == [
        "authorization_code",
        "refresh_token",
    ]
    assert as_target["detailEntry"]["authServerTokenEndpoint"] == "https://login.example.com/token"


def test_same_issuer_twice_is_refused(client: TestClient, auth: dict[str, str], events: Events) -> None:
    server = register(client, auth)
    add(client, auth, server["id"])
    again = client.post(f"{BASE}/{server['id']}/authorization-servers", json=AS_BODY, headers=auth)
    assert again.status_code == 409
    assert events()[-1]["outcome"]["result"] == "FAILURE"


def test_update_records_changes_and_issuer_is_immutable(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    linked = add(client, auth, server["id"])
    url = f"{BASE}/{server['id']}/authorization-servers/{linked['id']}"
    response = client.patch(url, json={"grantTypesSupported": ["client_credentials"]}, headers=auth)
    assert response.status_code == 200 and response.json()["grantTypesSupported"] == ["client_credentials"]
    update = events()[-1]
    assert update["eventType"] == "resource_servers.api_server.auth_server.update"
    assert update["target"][1]["changeDetails"] == {
        "from": {"grantTypesSupported": ["authorization_code", "refresh_token"]},
        "to": {"grantTypesSupported": ["client_credentials"]},
    }
    refused = client.patch(url, json={"issuer": "https://login.example.com"}, headers=auth)
    assert refused.status_code == 400
    assert events()[-1]["outcome"]["result"] == "FAILURE"
    assert client.get(url, headers=auth).json()["issuer"] == "https://login.example.com/"
    assert client.patch(url, json={"issuer": "https://login.example.com/"}, headers=auth).status_code == 200
