"""API servers: the five api_server operations, their events, lists and search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

BASE = "/resource-servers/api/v1/api-servers"
Events = Callable[[], list[dict[str, Any]]]


def register(
    client: TestClient, auth: dict[str, str], url: str = "https://api.example.com/v1/", **extra: Any
) -> Any:
    body = {
        "resourceUrl": url,
        "metadata": {"displayName": "Example API", "description": "payments"},
        **extra,
    }
    response = client.post(BASE, json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_register_returns_inactive_server_and_writes_its_event(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    response = client.post(
        BASE,
        json={"resourceUrl": "https://api.example.com/v1/", "metadata": {"displayName": "Example API"}},
        headers=auth,
    )
    assert response.status_code == 201
    server = response.json()
    assert server["id"].startswith("aps") and len(server["id"]) == 20
    assert server["status"] == "INACTIVE"
    assert server["resourceUrl"] == "https://api.example.com/v1/"
    assert server["orn"].endswith(f":resource-servers:api:{server['id']}")
    assert server["_links"]["self"]["href"] == f"http://testserver{BASE}/{server['id']}"
    (event,) = events()
    assert event["eventType"] == "resource_servers.api_server.register"
    assert event["outcome"] == {"result": "SUCCESS", "reason": None}
    assert event["actor"]["type"] == "User" and event["actor"]["alternateId"] == "alice@example.com"
    assert event["actor"]["displayName"] == "Alice Admin" and event["actor"]["id"].startswith("00u")
    assert event["target"][0]["id"] == server["id"]
    assert event["target"][0]["type"] == "ApiServer"
    assert event["target"][0]["alternateId"] == "https://api.example.com/v1/"
    assert event["transaction"]["id"] == response.headers["x-okta-request-id"]
    assert event["debugContext"]["debugData"]["requestId"] == response.headers["x-okta-request-id"]
    assert event["client"]["ipAddress"] == "198.51.100.23"
    assert event["client"]["userAgent"]["rawUserAgent"] == "registrar-tests/1.0"
    assert event["transaction"]["detail"]["requestApiTokenId"].startswith("00T")
    assert event["version"] == "0" and event["severity"] == "INFO"


def test_trailing_slash_is_kept_byte_exact_and_meaningful(client: TestClient, auth: dict[str, str]) -> None:
    with_slash = register(client, auth, "https://api.example.com/x/")
    without = register(client, auth, "https://api.example.com/x")
    assert with_slash["resourceUrl"] == "https://api.example.com/x/"
    assert without["resourceUrl"] == "https://api.example.com/x"
    odd = register(client, auth, "https://API.example.com:443/a/../b/?q=1")
    assert (
        client.get(f"{BASE}/{odd['id']}", headers=auth).json()["resourceUrl"]
        == "https://API.example.com:443/a/../b/?q=1"
    )


def test_invalid_bodies_are_validation_failures_with_events(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    cases = [
        ({"resourceUrl": "ftp://x.example", "metadata": {"displayName": "X"}}, "resourceUrl"),
        ({"resourceUrl": "http://x.example", "metadata": {"displayName": "X"}}, "resourceUrl"),
        ({"resourceUrl": "https://user:pw@x.example", "metadata": {"displayName": "X"}}, "resourceUrl"),
        ({"resourceUrl": "https://x.example"}, "metadata"),
        ({"resourceUrl": "https://x.example", "metadata": {"displayName": ""}}, "metadata.displayName"),
        ({"resourceUrl": "https://x.example", "metadata": {"displayName": "X"}, "extra": 1}, "extra"),
        ({"resourceUrl": 5, "metadata": {"displayName": "X"}}, "resourceUrl"),
    ]
    for body, field in cases:
        response = client.post(BASE, json=body, headers=auth)
        assert response.status_code == 400, body
        error = response.json()
        assert error["errorCode"] == "E0000001"
        assert error["errorSummary"].startswith("Api validation failed:")
        assert any(c["errorSummary"].startswith(f"{field}:") for c in error["errorCauses"]), error
    recorded = events()
    assert len(recorded) == len(cases)
    assert {e["outcome"]["result"] for e in recorded} == {"FAILURE"}


def test_malformed_json_is_e0000003_and_audited(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    for body in (b"{not json", b"[1, 2]", b""):
        response = client.post(BASE, content=body, headers={**auth, "Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["errorCode"] == "E0000003"
    assert [e["outcome"]["result"] for e in events()] == ["FAILURE"] * 3
