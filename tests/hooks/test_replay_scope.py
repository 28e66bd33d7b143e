"""History goes to a hook only on the word of someone who may read the log (``okta.logs.read``).

A token with only ``okta.eventHooks.manage`` may create, verify and run hooks (they get the events committed
from then on), but not replay the log into one, and not redirect a hook that a replay has pointed into the
log's history: 403 ``E0000006``, and nothing is sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from registrar.hooks import HookDelivery

from ..conftest import MakeToken
from .conftest import Hooks, StoredEvents, drain, hook_body
from .receiver import Receiver

MANAGE = "okta.eventHooks.manage"
READ_LOGS = "okta.logs.read"


@pytest.fixture
def manager(client: TestClient, make_token: MakeToken) -> Hooks:
    """Hook calls with a token that may manage hooks but not read the log."""
    return Hooks(client, {"Authorization": f"SSWS {make_token(MANAGE, email='hooks-only@example.com')}"})


@pytest.fixture
def auditor(client: TestClient, make_token: MakeToken) -> Hooks:
    """Hook calls with a token that may manage hooks and read the log."""
    token = make_token(MANAGE, READ_LOGS, email="auditor@example.com")
    return Hooks(client, {"Authorization": f"SSWS {token}"})


def _denied(response: Any) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorCode"] == "E0000006"
    assert any(READ_LOGS in cause["errorSummary"] for cause in body["errorCauses"])


def _position(hooks: Hooks, kind: str) -> dict[str, str]:
    """A replay body: from the start of the log by time, or from the cursor after its first event."""
    if kind == "since":
        return {"since": "2000-01-01T00:00:00Z"}
    page = hooks.client.get("/api/v1/logs", headers=hooks.auth, params={"since": "2000-01-01", "limit": 1})
    return {"after": page.links["next"]["url"].split("after=")[1].split("&")[0]}


@pytest.mark.parametrize("kind", ["since", "after"])
def test_a_replay_without_logs_read_is_refused_and_sends_nothing(
    hooks: Hooks, manager: Hooks, receiver: Receiver, delivery: HookDelivery, kind: str
) -> None:
    hooks.register(3)
    hook = manager.ready(f"{receiver.url}/okta")
    _denied(manager.lifecycle(hook["id"], "replay", json=_position(hooks, kind)))
    drain(delivery)
    assert receiver.posts() == []
    assert manager.get(hook["id"])["delivery"]["backlog"] == 0


@pytest.mark.parametrize("kind", ["since", "after"])
def test_a_replay_with_logs_read_delivers_the_history(
    hooks: Hooks, auditor: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents, kind: str
) -> None:
    hooks.register(3)
    hook = auditor.ready(f"{receiver.url}/okta")
    response = auditor.lifecycle(hook["id"], "replay", json=_position(hooks, kind))
    assert response.status_code == 200, response.text
    drain(delivery)
    expected = [e["uuid"] for e in events()]
    assert receiver.accepted_uuids() == (expected if kind == "since" else expected[1:])


def test_a_hook_created_without_logs_read_starts_at_its_creation(
    hooks: Hooks, manager: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hooks.register(3, prefix="before")
    # Whatever the body says about positions, a new hook starts at the head of the log.
    with_position = {**hook_body(f"{receiver.url}/okta"), "delivery": {"backlog": 3}}
    created = manager.client.post("/api/v1/eventHooks", headers=manager.auth, json=with_position)
    assert created.status_code == 200, created.text
    hook = created.json()
    assert manager.lifecycle(hook["id"], "verify").status_code == 200
    assert created.json()["delivery"]["backlog"] == 0
    hooks.register(2, prefix="after")
    drain(delivery)
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()[3:]]


def test_a_replayed_hook_is_not_redirected_without_logs_read(
    hooks: Hooks,
    manager: Hooks,
    auditor: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    events: StoredEvents,
) -> None:
    hooks.register(3)
    hook = auditor.ready(f"{receiver.url}/audit")
    assert auditor.lifecycle(hook["id"], "replay", json={"since": "2000-01-01"}).status_code == 200

    def replace(who: Hooks, uri: str, items: tuple[str, ...] | None = None) -> Any:
        body = hook_body(uri) if items is None else hook_body(uri, items=items)
        return who.client.put(f"/api/v1/eventHooks/{hook['id']}", headers=who.auth, json=body)

    # The history an auditor sent to their receiver cannot be sent elsewhere, or widened, by a hook manager.
    _denied(replace(manager, f"{receiver.url}/elsewhere"))
    _denied(replace(manager, f"{receiver.url}/audit", items=("resource_servers.mcp_server.register",)))
    assert replace(manager, f"{receiver.url}/audit").status_code == 200  # same URI and events: fine
    drain(delivery)
    assert receiver.posts("/elsewhere") == []
    assert receiver.accepted_uuids("/audit") == [e["uuid"] for e in events()]
    # Once the history is delivered, the hook is an ordinary one again.
    moved = replace(manager, f"{receiver.url}/elsewhere")
    assert moved.status_code == 200, moved.text
    assert moved.json()["verificationStatus"] == "UNVERIFIED"


def test_an_auditor_may_redirect_a_replayed_hook(
    hooks: Hooks, auditor: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hooks.register(2)
    hook = auditor.ready(f"{receiver.url}/audit")
    assert auditor.lifecycle(hook["id"], "replay", json={"since": "2000-01-01"}).status_code == 200
    moved = auditor.client.put(
        f"/api/v1/eventHooks/{hook['id']}", headers=auditor.auth, json=hook_body(f"{receiver.url}/new")
    )
    assert moved.status_code == 200, moved.text
    assert auditor.lifecycle(hook["id"], "verify").status_code == 200
    drain(delivery)
    assert receiver.accepted_uuids("/new") == [e["uuid"] for e in events()]
