"""Every event Registrar writes parses with the official Okta SDK's strict ``LogEvent`` model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from okta.models.log_event import LogEvent
from starlette.testclient import TestClient

from ..api.test_api_auth_servers import AS_BODY
from ..api.test_api_servers import BASE, register
from ..api.test_client_auth_settings import BASE as SETTINGS
from ..api.test_client_auth_settings import create
from ..conftest import MakeToken

Events = Callable[[], list[dict[str, Any]]]


def _exercise_every_operation(client: TestClient, auth: dict[str, str], reader: dict[str, str]) -> None:
    server = register(client, auth)
    sid = server["id"]
    client.patch(f"{BASE}/{sid}", json={"metadata": {"displayName": "Renamed"}}, headers=auth)
    linked = client.post(f"{BASE}/{sid}/authorization-servers", json=AS_BODY, headers=auth).json()
    client.patch(
        f"{BASE}/{sid}/authorization-servers/{linked['id']}",
        json={"tokenEndpoint": "https://t.example/"},
        headers=auth,
    )
    settings = create(client, auth, server["orn"])
    client.patch(
        f"{SETTINGS}/{settings['id']}", json={"configuration": {"clientSecret": "rotated"}}, headers=auth
    )
    client.post(f"{BASE}/{sid}/lifecycle/activate", headers=auth)
    client.delete(f"{BASE}/{sid}", headers=auth)  # FAILURE: active
    client.post(f"{BASE}/{sid}/lifecycle/deactivate", headers=auth)
    client.post(BASE, json={"resourceUrl": "https://x.example"}, headers=reader)  # DENY
    client.delete(f"{SETTINGS}/{settings['id']}", headers=auth)
    client.delete(f"{BASE}/{sid}/authorization-servers/{linked['id']}", headers=auth)
    client.delete(f"{BASE}/{sid}", headers=auth)


def test_every_event_parses_with_the_okta_sdk(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, events: Events
) -> None:
    reader = {"Authorization": f"SSWS {make_token('okta.logs.read', email='r@example.com')}"}
    _exercise_every_operation(client, auth, reader)
    recorded = events()
    assert {e["eventType"].split(".", 1)[1] for e in recorded} >= {
        "api_server.register",
        "api_server.update",
        "api_server.activate",
        "api_server.deactivate",
        "api_server.delete",
        "api_server.auth_server.add",
        "api_server.auth_server.update",
        "api_server.auth_server.remove",
        "client_authentication_settings.create",
        "client_authentication_settings.update",
        "client_authentication_settings.delete",
    }
    assert {e["outcome"]["result"] for e in recorded} == {"SUCCESS", "FAILURE", "DENY"}
    for event in recorded:
        parsed = LogEvent.from_dict(event)
        assert parsed is not None
        assert parsed.uuid == event["uuid"]
        assert parsed.event_type == event["eventType"]
        assert parsed.published is not None and parsed.published.tzinfo is not None
        assert parsed.actor is not None
        assert parsed.actor.alternate_id in {"alice@example.com", "r@example.com"}
