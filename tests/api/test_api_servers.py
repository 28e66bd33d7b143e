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


def test_register_with_activate_writes_register_then_activate_in_one_transaction(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    response = client.post(
        f"{BASE}?activate=true",
        json={"resourceUrl": "https://a.example", "metadata": {"displayName": "A"}},
        headers=auth,
    )
    assert response.json()["status"] == "ACTIVE"
    register_event, activate_event = events()
    assert register_event["eventType"] == "resource_servers.api_server.register"
    assert activate_event["eventType"] == "resource_servers.api_server.activate"
    assert register_event["transaction"]["id"] == activate_event["transaction"]["id"]


def test_get_and_unknown_id(client: TestClient, auth: dict[str, str]) -> None:
    server = register(client, auth)
    assert client.get(f"{BASE}/{server['id']}", headers=auth).json() == server
    missing = client.get(f"{BASE}/aps00000000000000000", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "E0000007"


def test_duplicate_resource_url_is_a_conflict_and_audited(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    register(client, auth, "https://dup.example/")
    again = client.post(
        BASE, json={"resourceUrl": "https://dup.example/", "metadata": {"displayName": "B"}}, headers=auth
    )
    assert again.status_code == 409
    assert again.json()["errorCauses"][0]["errorSummary"].startswith("resourceUrl:")
    failure = events()[-1]
    assert failure["eventType"] == "resource_servers.api_server.register"
    assert failure["outcome"]["result"] == "FAILURE"
    assert "already registered" in failure["outcome"]["reason"]


def test_activate_deactivate_and_no_event_when_already_there(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    url = f"{BASE}/{server['id']}/lifecycle"
    assert client.post(f"{url}/activate", headers=auth).json()["status"] == "ACTIVE"
    assert client.post(f"{url}/activate", headers=auth).status_code == 200
    assert client.post(f"{url}/deactivate", headers=auth).json()["status"] == "INACTIVE"
    assert client.post(f"{url}/deactivate", headers=auth).status_code == 200
    assert [e["eventType"] for e in events()] == [
        "resource_servers.api_server.register",
        "resource_servers.api_server.activate",
        "resource_servers.api_server.deactivate",
    ]


def test_delete_active_server_is_refused_with_a_failure_event(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    client.post(f"{BASE}/{server['id']}/lifecycle/activate", headers=auth)
    refused = client.delete(f"{BASE}/{server['id']}", headers=auth)
    assert refused.status_code == 409
    failure = events()[-1]
    assert failure["eventType"] == "resource_servers.api_server.delete"
    assert failure["outcome"] == {
        "result": "FAILURE",
        "reason": "Cannot delete a resource server in ACTIVE status. Server must be deactivated first.",
    }
    assert failure["target"][0]["id"] == server["id"]
    assert failure["debugContext"]["debugData"]["errorMessage"] == failure["outcome"]["reason"]
    assert client.get(f"{BASE}/{server['id']}", headers=auth).status_code == 200


def test_delete_inactive_server(client: TestClient, auth: dict[str, str], events: Events) -> None:
    server = register(client, auth)
    assert client.delete(f"{BASE}/{server['id']}", headers=auth).status_code == 204
    assert client.get(f"{BASE}/{server['id']}", headers=auth).status_code == 404
    deleted = events()[-1]
    assert deleted["eventType"] == "resource_servers.api_server.delete"
    assert deleted["outcome"]["result"] == "SUCCESS"


def test_delete_unknown_server_is_a_failure_event_naming_the_id(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    response = client.delete(f"{BASE}/aps1234567890123456X", headers=auth)
    assert response.status_code == 404
    (event,) = events()
    assert event["outcome"]["result"] == "FAILURE"
    assert event["target"][0]["id"] == "aps1234567890123456X"


def test_patch_records_change_details_of_changed_fields_only(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    response = client.patch(
        f"{BASE}/{server['id']}",
        content=b'{"metadata": {"displayName": "Renamed", "description": "payments"}}',
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200
    assert response.json()["metadata"] == {"displayName": "Renamed", "description": "payments"}
    update = events()[-1]
    assert update["eventType"] == "resource_servers.api_server.update"
    assert update["target"][0]["changeDetails"] == {
        "from": {"displayName": "Example API"},
        "to": {"displayName": "Renamed"},
    }


def test_patch_null_removes_description(client: TestClient, auth: dict[str, str], events: Events) -> None:
    server = register(client, auth)
    response = client.patch(f"{BASE}/{server['id']}", json={"metadata": {"description": None}}, headers=auth)
    assert response.json()["metadata"]["description"] is None
    assert events()[-1]["target"][0]["changeDetails"] == {
        "from": {"description": "payments"},
        "to": {"description": None},
    }


def test_patch_without_change_writes_no_event(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    server = register(client, auth)
    response = client.patch(
        f"{BASE}/{server['id']}", json={"metadata": {"displayName": "Example API"}}, headers=auth
    )
    assert response.status_code == 200
    assert len(events()) == 1


def test_resource_url_is_immutable(client: TestClient, auth: dict[str, str], events: Events) -> None:
    server = register(client, auth, "https://api.example.com/v1/")
    same = client.patch(
        f"{BASE}/{server['id']}", json={"resourceUrl": "https://api.example.com/v1/"}, headers=auth
    )
    assert same.status_code == 200
    changed = client.patch(
        f"{BASE}/{server['id']}", json={"resourceUrl": "https://api.example.com/v1"}, headers=auth
    )
    assert changed.status_code == 400
    assert changed.json()["errorCode"] == "E0000001"
    assert events()[-1]["outcome"]["result"] == "FAILURE"
    assert (
        client.get(f"{BASE}/{server['id']}", headers=auth).json()["resourceUrl"]
        == "https://api.example.com/v1/"
    )


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


def test_list_pages_with_cursor_and_links(client: TestClient, auth: dict[str, str]) -> None:
    ids = [register(client, auth, f"https://api{i}.example/")["id"] for i in range(5)]
    first = client.get(f"{BASE}?limit=2", headers=auth).json()
    assert [s["id"] for s in first["data"]] == ids[:2]
    assert first["_links"]["self"]["href"] == f"http://testserver{BASE}?limit=2"
    seen = [s["id"] for s in first["data"]]
    next_url = first["_links"]["next"]["href"]
    while next_url:
        page = client.get(next_url.removeprefix("http://testserver"), headers=auth).json()
        seen += [s["id"] for s in page["data"]]
        next_url = page["_links"].get("next", {}).get("href")
    assert seen == ids
    for item in first["data"]:
        assert item["_links"]["self"]["href"] == f"http://testserver{BASE}/{item['id']}"


def test_list_rejects_bad_limit_and_garbled_cursor(client: TestClient, auth: dict[str, str]) -> None:
    for query in ("limit=0", "limit=201", "limit=x", "after=%%%", "after=bm90LWpzb24"):
        response = client.get(f"{BASE}?{query}", headers=auth)
        assert response.status_code == 400, query
        assert response.json()["errorCode"] == "E0000001"


def test_search_by_status_and_display_name(client: TestClient, auth: dict[str, str]) -> None:
    github = client.post(
        f"{BASE}?activate=true",
        json={"resourceUrl": "https://gh.example", "metadata": {"displayName": "GitHub"}},
        headers=auth,
    ).json()
    client.post(
        BASE, json={"resourceUrl": "https://gl.example", "metadata": {"displayName": "GitLab"}}, headers=auth
    )
    client.post(
        BASE, json={"resourceUrl": "https://st.example", "metadata": {"displayName": "Stripe"}}, headers=auth
    )

    def names(search: str) -> list[str]:
        response = client.get(BASE, params={"search": search}, headers=auth)
        assert response.status_code == 200, response.text
        return [s["metadata"]["displayName"] for s in response.json()["data"]]

    assert names('metadata.displayName sw "Git"') == ["GitHub", "GitLab"]
    assert names('metadata.displayName sw "Git" and status eq "ACTIVE"') == ["GitHub"]
    assert names('metadata.displayName co "ri"') == ["Stripe"]
    assert names('status eq "INACTIVE"') == ["GitLab", "Stripe"]
    assert github["status"] == "ACTIVE"
    unknown = client.get(BASE, params={"search": 'nope eq "x"'}, headers=auth)
    assert unknown.status_code == 400 and unknown.json()["errorCode"] == "E0000053"
    bad_op = client.get(BASE, params={"search": 'status co "ACT"'}, headers=auth)
    assert bad_op.status_code == 400 and bad_op.json()["errorCode"] == "E0000031"
