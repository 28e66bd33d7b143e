"""Authentication and authorization: token forms, 401 without an event, 403 with a DENY event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from ..conftest import MakeToken
from .test_api_servers import BASE, register

Events = Callable[[], list[dict[str, Any]]]
BODY = {"resourceUrl": "https://api.example.com", "metadata": {"displayName": "X"}}


@pytest.mark.parametrize("form", ["SSWS {t}", "SSWS{t}", "Bearer {t}", "Bearer{t}", "ssws {t}"])
def test_accepted_authorization_forms(client: TestClient, token: str, form: str) -> None:
    response = client.get(BASE, headers={"Authorization": form.format(t=token)})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header", [None, "", "SSWS", "SSWS not-a-token", "Basic dXNlcjpwYXNz", "Token abc", "SSWS " + "x" * 600]
)
def test_invalid_tokens_are_401_and_never_audited(
    client: TestClient, events: Events, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.post(BASE, json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E0000011"
    assert response.json()["errorSummary"] == "Invalid token provided"
    assert response.headers["content-type"] == "application/json"
    assert events() == []


def test_a_token_without_the_manage_scope_is_denied_and_audited(
    client: TestClient, make_token: MakeToken, events: Events
) -> None:
    reader = make_token("okta.resourceServers.apiServers.read", email="bob@example.com", display_name="Bob")
    headers = {"Authorization": f"SSWS {reader}"}
    assert client.get(BASE, headers=headers).status_code == 200
    response = client.post(BASE, json=BODY, headers=headers)
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000006"
    (event,) = events()
    assert event["eventType"] == "resource_servers.api_server.register"
    assert event["outcome"]["result"] == "DENY"
    assert "okta.resourceServers.apiServers.manage" in event["outcome"]["reason"]
    assert event["actor"]["alternateId"] == "bob@example.com"
    assert client.get(BASE, headers=headers).json()["data"] == []


def test_denied_operation_on_an_object_names_it(
    client: TestClient, auth: dict[str, str], make_token: MakeToken, events: Events
) -> None:
    server = register(client, auth)
    reader = make_token("okta.resourceServers.apiServers.read", email="bob@example.com")
    response = client.delete(f"{BASE}/{server['id']}", headers={"Authorization": f"SSWS {reader}"})
    assert response.status_code == 403
    denied = events()[-1]
    assert denied["eventType"] == "resource_servers.api_server.delete"
    assert denied["outcome"]["result"] == "DENY"
    assert denied["target"][0]["id"] == server["id"]
    assert client.get(f"{BASE}/{server['id']}", headers=auth).status_code == 200


def test_reads_need_a_read_scope(client: TestClient, make_token: MakeToken, events: Events) -> None:
    logs_only = make_token("okta.logs.read", email="carol@example.com")
    headers = {"Authorization": f"SSWS {logs_only}"}
    assert client.get(BASE, headers=headers).status_code == 403
    assert client.get("/resource-servers/api/v1/client-auth-settings", headers=headers).status_code == 403
    assert events() == []


def test_each_token_has_its_own_stable_session_id(
    client: TestClient, make_token: MakeToken, events: Events
) -> None:
    first, second = make_token(), make_token(email="dave@example.com")
    for i, secret in enumerate((first, first, second)):
        body = {"resourceUrl": f"https://api{i}.example", "metadata": {"displayName": "X"}}
        client.post(BASE, json=body, headers={"Authorization": f"SSWS {secret}"})
    sessions = [e["authenticationContext"]["externalSessionId"] for e in events()]
    assert sessions[0] == sessions[1] != sessions[2]
    assert all(sessions)
