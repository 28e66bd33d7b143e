"""Verification: one GET carrying ``x-okta-verification-challenge``; VERIFIED only when it is echoed."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings

from ..conftest import CLIENT_ADDRESS, MakeToken
from ..live import free_port
from .conftest import AUTH_VALUE, Hooks, hook_body
from .receiver import Receiver


def test_an_echoed_challenge_verifies(hooks: Hooks, receiver: Receiver) -> None:
    hook = hooks.create(f"{receiver.url}/okta?tenant=1")
    response = hooks.lifecycle(hook["id"], "verify")
    assert response.status_code == 200
    assert response.json()["verificationStatus"] == "VERIFIED"
    assert hooks.get(hook["id"])["verificationStatus"] == "VERIFIED"
    [request] = receiver.requests  # the one GET, nothing else
    assert request.method == "GET"
    assert request.path == "/okta?tenant=1"
    assert len(request.headers["x-okta-verification-challenge"]) >= 32
    assert request.headers["authorization"] == AUTH_VALUE
    assert request.headers["x-other-header"] == "my-header-value"


def test_each_verification_sends_a_fresh_challenge(hooks: Hooks, receiver: Receiver) -> None:
    hook = hooks.create(f"{receiver.url}/okta")
    for _ in range(2):
        assert hooks.lifecycle(hook["id"], "verify").status_code == 200
    first, second = (r.headers["x-okta-verification-challenge"] for r in receiver.gets())
    assert first != second


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda c: (200, orjson.dumps({"verification": "something else"})), "not the challenge"),
        (lambda c: (200, orjson.dumps({"challenge": c})), 'no "verification" member'),
        (lambda c: (200, b"<html>ok</html>"), "not JSON"),
        (lambda c: (500, orjson.dumps({"verification": c})), "answered HTTP 500"),
        (lambda c: (302, b""), "answered HTTP 302"),
        (lambda c: (200, b'{"verification": "' + b"x" * 70_000 + b'"}'), "larger than 64 KiB"),
    ],
)
def test_a_wrong_answer_fails_with_the_reason(
    hooks: Hooks, receiver: Receiver, answer: object, reason: str
) -> None:
    receiver.verification = answer  # type: ignore[assignment]
    hook = hooks.create(f"{receiver.url}/okta")
    response = hooks.lifecycle(hook["id"], "verify")
    assert response.status_code == 400
    error = response.json()
    assert error["errorCode"] == "E0000001"
    assert error["errorSummary"] == "Event hook verification failed."
    assert reason in error["errorCauses"][0]["errorSummary"]
    assert hooks.get(hook["id"])["verificationStatus"] == "UNVERIFIED"
    assert len(receiver.gets()) == 1


def test_an_unreachable_endpoint_fails(hooks: Hooks) -> None:
    hook = hooks.create(f"http://127.0.0.1:{free_port()}/okta")
    response = hooks.lifecycle(hook["id"], "verify")
    assert response.status_code == 400
    assert "could not connect" in response.json()["errorCauses"][0]["errorSummary"]


def test_the_ssrf_guard_refuses_loopback_unless_allowed(
    settings: Settings, engine: Engine, make_token: MakeToken, receiver: Receiver
) -> None:
    guarded = create_app(replace(settings, discovery_allowed_networks=()), engine=engine)
    with TestClient(guarded, client=CLIENT_ADDRESS) as client:
        auth = {"Authorization": f"SSWS {make_token()}"}
        for uri in (f"{receiver.url}/okta", f"http://localhost:{receiver.url.rsplit(':', 1)[1]}/okta"):
            hook = client.post("/api/v1/eventHooks", headers=auth, json=hook_body(uri)).json()
            response = client.post(f"/api/v1/eventHooks/{hook['id']}/lifecycle/verify", headers=auth)
            assert response.status_code == 400
            assert "is not a public address (loopback)" in response.json()["errorCauses"][0]["errorSummary"]
    assert receiver.requests == []  # refused before anything was sent


def test_verifying_an_unknown_hook(hooks: Hooks) -> None:
    assert hooks.lifecycle("who00000000000000000", "verify").status_code == 404
