"""``/api/v1/eventHooks``: Okta's shapes, validation, lifecycle rules, scopes; a write-only auth value."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.events.catalog import CATALOG, OKTA_EVENT_TYPES

from ..conftest import CLIENT_ADDRESS, MakeToken
from .conftest import ALL_TYPES, AUTH_VALUE, Hooks, StoredEvents, hook_body
from .receiver import Receiver

HOOKS = "/api/v1/eventHooks"


def test_create_answers_okta_event_hook(hooks: Hooks, receiver: Receiver, client: TestClient) -> None:
    response = client.post(HOOKS, headers=hooks.auth, json=hook_body(f"{receiver.url}/hook"))
    assert response.status_code == 200  # Okta answers a create with 200
    hook = response.json()
    assert re.fullmatch(r"who[0-9A-Za-z]{17}", hook["id"])
    assert hook["status"] == "ACTIVE"
    assert hook["verificationStatus"] == "UNVERIFIED"
    assert hook["name"] == "SIEM"
    assert hook["createdBy"].startswith("00u")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", hook["created"])
    assert hook["events"] == {"type": "EVENT_TYPE", "items": list(ALL_TYPES)}
    assert hook["channel"] == {
        "type": "HTTP",
        "version": "1.0.0",
        "config": {
            "uri": f"{receiver.url}/hook",
            "headers": [{"key": "X-Other-Header", "value": "my-header-value"}],
            "method": "POST",
            "authScheme": {"type": "HEADER", "key": "Authorization"},
        },
    }
    self_url = f"http://testserver{HOOKS}/{hook['id']}"
    assert hook["_links"]["self"] == {"href": self_url, "hints": {"allow": ["GET", "PUT", "DELETE"]}}
    assert hook["_links"]["verify"]["href"] == f"{self_url}/lifecycle/verify"
    assert hook["_links"]["deactivate"]["href"] == f"{self_url}/lifecycle/deactivate"
    assert hook["delivery"]["backlog"] == 0
    assert hook["delivery"]["paused"] is False


def test_list_get_and_unknown(hooks: Hooks, receiver: Receiver, client: TestClient) -> None:
    first = hooks.create(f"{receiver.url}/a", name="first")
    second = hooks.create(f"{receiver.url}/b", name="second", auth=None)
    listed = client.get(HOOKS, headers=hooks.auth)
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json()] == [first["id"], second["id"]]  # a JSON array, as Okta's
    assert hooks.get(second["id"])["channel"]["config"]["authScheme"] is None
    missing = client.get(f"{HOOKS}/who00000000000000000", headers=hooks.auth)
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "E0000007"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["events"].update(items=["user.lifecycle.create"]), "events.items"),
        (lambda b: b["events"].update(items=[]), "events.items"),
        (lambda b: b["events"].update(type="FLOW_EVENT"), "events.type"),
        (lambda b: b["events"].update(filter={"type": "EXPRESSION_LANGUAGE"}), "events.filter"),
        (lambda b: b["channel"].update(version="2.0.0"), "channel.version"),
        (lambda b: b["channel"]["config"].update(uri="ftp://example.com/x"), "channel.config.uri"),
        (lambda b: b["channel"]["config"].update(uri="https://user:pw@example.com/x"), "channel.config.uri"),
        (
            lambda b: b["channel"]["config"]["authScheme"].update(type="BASIC"),
            "channel.config.authScheme.type",
        ),
        (lambda b: b["channel"]["config"]["authScheme"].pop("value"), "channel.config.authScheme.value"),
        (
            lambda b: b["channel"]["config"]["headers"].append({"key": "Host", "value": "evil"}),
            "channel.config.headers.1.key",
        ),
        (
            lambda b: b["channel"]["config"]["headers"].append({"key": "X-A", "value": "a\r\nX-Injected: 1"}),
            "channel.config.headers.1.value",
        ),
        (
            lambda b: b["channel"]["config"]["headers"].append({"key": "authorization", "value": "x"}),
            "channel.config.headers",
        ),
        (lambda b: b.update(nmae="typo"), "nmae"),
        (lambda b: b.pop("name"), "name"),
    ],
)
def test_invalid_bodies_are_refused_naming_the_field(
    hooks: Hooks, client: TestClient, change: Any, field: str
) -> None:
    body = hook_body("https://hooks.example.com/okta")
    change(body)
    response = client.post(HOOKS, headers=hooks.auth, json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["errorCode"] == "E0000001"
    assert any(cause["errorSummary"].startswith(f"{field}:") for cause in error["errorCauses"]), error
    assert AUTH_VALUE not in response.text
    assert client.get(HOOKS, headers=hooks.auth).json() == []


def test_expression_filters_are_refused_as_unsupported(hooks: Hooks, client: TestClient) -> None:
    body = hook_body("https://hooks.example.com/okta")
    body["events"]["filter"] = {"type": "EXPRESSION_LANGUAGE", "eventFilterMap": []}
    response = client.post(HOOKS, headers=hooks.auth, json=body)
    assert response.status_code == 400
    causes = [cause["errorSummary"] for cause in response.json()["errorCauses"]]
    assert causes == ["events.filter: Event hook filters are not supported"]


def test_every_catalog_type_can_be_subscribed(hooks: Hooks) -> None:
    hook = hooks.create("https://hooks.example.com/okta", items=tuple(CATALOG))
    assert hook["events"]["items"] == list(CATALOG)


def test_sign_in_and_token_events_can_be_subscribed(hooks: Hooks) -> None:
    # Okta's own types that Registrar writes (console sessions, API tokens): a SIEM hook wants them most.
    hook = hooks.create("https://hooks.example.com/okta", items=tuple(OKTA_EVENT_TYPES))
    assert hook["events"]["items"] == list(OKTA_EVENT_TYPES)


def test_malformed_body(hooks: Hooks, client: TestClient) -> None:
    response = client.post(HOOKS, headers=hooks.auth, content=b"{not json")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000003"


def test_http_uri_needs_the_operator_switch(
    settings: Settings, engine: Engine, make_token: MakeToken
) -> None:
    strict = create_app(replace(settings, discovery_allow_http=False), engine=engine)
    with TestClient(strict, client=CLIENT_ADDRESS) as client:
        auth = {"Authorization": f"SSWS {make_token()}"}
        refused = client.post(HOOKS, headers=auth, json=hook_body("http://hooks.example.com/okta"))
        assert refused.status_code == 400
        assert refused.json()["errorCauses"] == [{"errorSummary": "channel.config.uri: must be an https URL"}]
        assert (
            client.post(HOOKS, headers=auth, json=hook_body("https://hooks.example.com/okta")).status_code
            == 200
        )


def test_replace_is_a_put_that_keeps_the_write_only_value(
    hooks: Hooks, receiver: Receiver, client: TestClient
) -> None:
    hook = hooks.ready(f"{receiver.url}/hook")
    body = copy.deepcopy(hook)  # what a client read back: no authScheme.value, read-only members included
    body["name"] = "renamed"
    body["events"]["items"] = ["resource_servers.api_server.delete"]
    replaced = client.put(f"{HOOKS}/{hook['id']}", headers=hooks.auth, json=body)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "renamed"
    assert replaced.json()["events"]["items"] == ["resource_servers.api_server.delete"]
    assert replaced.json()["verificationStatus"] == "VERIFIED"  # same URI: still verified
    assert hooks.lifecycle(hook["id"], "verify").status_code == 200
    assert receiver.gets()[-1].headers["authorization"] == AUTH_VALUE  # the sealed value was kept

    body["channel"]["config"]["uri"] = f"{receiver.url}/moved"
    body["channel"]["config"]["authScheme"]["value"] = "Bearer rotated"
    moved = client.put(f"{HOOKS}/{hook['id']}", headers=hooks.auth, json=body)
    assert moved.json()["verificationStatus"] == "UNVERIFIED"  # a new URI must prove itself again
    assert hooks.lifecycle(hook["id"], "verify").status_code == 200
    assert receiver.gets()[-1].path == "/moved"
    assert receiver.gets()[-1].headers["authorization"] == "Bearer rotated"


def test_replace_without_any_stored_value_needs_one(hooks: Hooks, client: TestClient) -> None:
    hook = hooks.create("https://hooks.example.com/okta", auth=None)
    body = hook_body("https://hooks.example.com/okta")
    del body["channel"]["config"]["authScheme"]["value"]
    response = client.put(f"{HOOKS}/{hook['id']}", headers=hooks.auth, json=body)
    assert response.status_code == 400
    assert response.json()["errorCauses"][0]["errorSummary"].startswith("channel.config.authScheme.value:")


def test_delete_only_when_inactive(hooks: Hooks, client: TestClient) -> None:
    hook = hooks.create("https://hooks.example.com/okta")
    refused = client.delete(f"{HOOKS}/{hook['id']}", headers=hooks.auth)
    assert refused.status_code == 409
    assert "Deactivate it first" in refused.json()["errorSummary"]
    deactivated = hooks.lifecycle(hook["id"], "deactivate")
    assert deactivated.json()["status"] == "INACTIVE"
    assert "activate" in deactivated.json()["_links"]
    assert hooks.lifecycle(hook["id"], "deactivate").json()["status"] == "INACTIVE"  # idempotent
    assert client.delete(f"{HOOKS}/{hook['id']}", headers=hooks.auth).status_code == 204
    assert client.get(f"{HOOKS}/{hook['id']}", headers=hooks.auth).status_code == 404


def test_scopes(hooks: Hooks, client: TestClient, make_token: MakeToken) -> None:
    hook = hooks.create("https://hooks.example.com/okta")
    reader = {"Authorization": f"SSWS {make_token('okta.eventHooks.read', email='r@example.com')}"}
    other = {"Authorization": f"SSWS {make_token('okta.logs.read', email='o@example.com')}"}
    assert client.get(HOOKS, headers=reader).status_code == 200
    assert client.get(f"{HOOKS}/{hook['id']}", headers=reader).status_code == 200
    body = hook_body("https://hooks.example.com/okta")
    assert client.post(HOOKS, headers=reader, json=body).status_code == 403
    assert client.post(f"{HOOKS}/{hook['id']}/lifecycle/deactivate", headers=reader).status_code == 403
    assert client.get(HOOKS, headers=other).status_code == 403
    assert client.get(HOOKS).status_code == 401


def test_hook_administration_writes_no_log_events(
    hooks: Hooks, receiver: Receiver, client: TestClient, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/hook")
    hooks.lifecycle(hook["id"], "deactivate")
    client.delete(f"{HOOKS}/{hook['id']}", headers=hooks.auth)
    assert events() == []  # hook operations are not among the 19 audited types
