"""Bounded delivery: batches capped in bytes, an event too large for the receiver skipped and recorded.

An event is skipped only when it cannot be delivered at all: larger than ``REGISTRAR_HOOK_BATCH_BYTES``
on its own, or refused with 413 by the receiver when sent alone. A larger batch the receiver refuses is cut
smaller; a 5xx is retried. Either way every other event still arrives, in order.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.hooks import HookDelivery, envelope

from .conftest import Clock, Hooks, StoredEvents, drain
from .receiver import Receiver

CAP = 4096
UPDATE = "resource_servers.api_server.update"


@pytest.fixture
def hook_limits(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings a test overrides (``parametrize("hook_limits", [...], indirect=True)``)."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    return overrides


@pytest.fixture
def settings(settings: Settings, hook_limits: dict[str, Any]) -> Settings:
    """The hook suite's settings with a 4 KiB byte cap and room for 100 events a batch."""
    return replace(settings, **{"hook_batch_bytes": CAP, "hook_batch_size": 100, **hook_limits})


def _size(event: dict[str, Any], stored: list[bytes]) -> int:
    return next(len(body) for body in stored if event["uuid"].encode() in body)


def _stored(events: StoredEvents) -> list[bytes]:
    return [orjson.dumps(event) for event in events()]


def _alone(hook: dict[str, Any], size: int) -> int:
    """The bytes of a delivery to ``hook`` holding one event of ``size`` bytes."""
    source = f"http://testserver/api/v1/eventHooks/{hook['id']}"
    return len(envelope(source, "00000000-0000-4000-8000-000000000000", 0, [b"x" * size]))


def _big_server(client: TestClient, auth: dict[str, str], name: str) -> str:
    """Register an API server with the longest name and description allowed; returns its id."""
    response = client.post(
        "/resource-servers/api/v1/api-servers",
        headers=auth,
        json={
            "resourceUrl": f"https://{name}.example/",
            "metadata": {"displayName": "d" * 255, "description": "x" * 1024},
        },
    )
    assert response.status_code == 201, response.text
    server_id: str = response.json()["id"]
    return server_id


def _big_update(client: TestClient, auth: dict[str, str], server_id: str) -> None:
    """Change both long fields: the update event carries both versions of each in ``changeDetails``."""
    response = client.patch(
        f"/resource-servers/api/v1/api-servers/{server_id}",
        headers=auth,
        json={"metadata": {"displayName": "e" * 255, "description": "y" * 1024}},
    )
    assert response.status_code == 200, response.text


def _skips(client: TestClient, auth: dict[str, str], hook_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/eventHooks/{hook_id}/skips", headers=auth)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_an_event_over_the_byte_cap_is_skipped_with_its_reason_and_later_events_follow(
    hooks: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    events: StoredEvents,
    client: TestClient,
    auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(3, prefix="before")
    _big_update(client, auth, _big_server(client, auth, "big"))
    hooks.register(3, prefix="after")
    logged = events()
    huge = next(e for e in logged if e["eventType"] == UPDATE)
    stored = _stored(events)
    # The premise: this event cannot fit in any delivery, every other one can.
    assert _alone(hook, _size(huge, stored)) > CAP
    assert all(_alone(hook, _size(e, stored)) <= CAP for e in logged if e is not huge)

    with caplog.at_level(logging.WARNING, logger="registrar.hooks"):
        drain(delivery)

    # Every other event arrived, in order, once; the huge one did not block them.
    assert receiver.accepted_uuids() == [e["uuid"] for e in logged if e is not huge]
    assert all(len(post.body) <= CAP for post in receiver.posts())
    [skip] = _skips(client, auth, hook["id"])
    assert skip["eventUuid"] == huge["uuid"]
    assert skip["eventType"] == UPDATE
    assert skip["size"] == _size(huge, stored)
    assert "REGISTRAR_HOOK_BATCH_BYTES (4096 bytes)" in skip["reason"]
    assert skip["skipped"].endswith("Z")
    health = hooks.get(hook["id"])["delivery"]
    assert health["skipped"] == 1
    assert health["backlog"] == 0
    assert health["consecutiveFailures"] == 0
    # The operator's log says so too, naming the event.
    assert any(huge["uuid"] in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    # Recorded, not retried: a fresh worker finds nothing left to send.
    assert delivery.run_once() is None


def test_batches_are_cut_by_bytes_and_never_exceed_the_cap(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hooks.ready(f"{receiver.url}/okta")
    hooks.register(12)
    drain(delivery)
    posts = receiver.posts()
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]
    assert all(len(post.body) <= CAP for post in posts)
    # The cap, not the event count (100), ended each batch: the next event would not have fitted.
    sizes = [len(body) for body in _stored(events)]
    position = 0
    for post in posts[:-1]:
        position += len(post.uuids)
        assert len(post.body) + 1 + sizes[position] > CAP
    assert len(posts) > 1


def test_an_event_the_receiver_refuses_alone_with_413_is_skipped(
    hooks: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    events: StoredEvents,
    client: TestClient,
    auth: dict[str, str],
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(2, prefix="before")
    _big_server(client, auth, "big")
    hooks.register(2, prefix="after")
    logged = events()
    big = logged[2]
    stored = _stored(events)
    # A receiver behind a proxy that caps bodies: at less than the big event alone, more than any other.
    others = max(_alone(hook, _size(e, stored)) for e in logged if e is not big)
    receiver.max_body = (others + _alone(hook, _size(big, stored))) // 2
    assert others < receiver.max_body < _alone(hook, _size(big, stored)) <= CAP

    drain(delivery)

    assert receiver.accepted_uuids() == [e["uuid"] for e in logged if e is not big]
    refused = [post for post in receiver.posts() if post.status == 413]
    assert refused and [post.uuids for post in refused][-1] == [big["uuid"]]
    [skip] = _skips(client, auth, hook["id"])
    assert skip["eventUuid"] == big["uuid"]
    assert "HTTP 413" in skip["reason"]
    health = hooks.get(hook["id"])["delivery"]
    assert (health["skipped"], health["backlog"], health["consecutiveFailures"]) == (1, 0, 0)
    assert health["paused"] is False


@pytest.mark.parametrize("hook_limits", [{"hook_batch_bytes": 256 * 1024}], indirect=True)
def test_a_receiver_capping_bodies_at_64_kib_gets_every_event_in_smaller_batches(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents, client: TestClient
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(70)
    receiver.max_body = 64 * 1024
    drain(delivery)
    posts = receiver.posts()
    assert posts[0].status == 413 and len(posts[0].body) > receiver.max_body  # the first cut was too big
    # Then smaller batches, each accepted: every event once, in order, nothing skipped.
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]
    assert all(len(post.body) <= receiver.max_body for post in receiver.accepted())
    assert hooks.get(hook["id"])["delivery"]["skipped"] == 0
    # What the receiver refused is remembered: later batches are cut to fit at once.
    assert [post.status for post in posts].count(413) < len(receiver.accepted())


def test_a_receiver_failing_with_5xx_is_retried_never_skipped(
    hooks: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    clock: Clock,
    events: StoredEvents,
    client: TestClient,
    auth: dict[str, str],
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(1)
    receiver.answer_next(500, 502, 503, 507)
    for failures in range(1, 5):
        attempt = delivery.run_once()
        assert attempt is not None and attempt.error is not None and attempt.skipped == 0
        assert hooks.get(hook["id"])["delivery"]["consecutiveFailures"] == failures
        clock.advance(8)  # past the capped backoff
    drain(delivery)
    posts = receiver.posts()
    assert [post.status for post in posts] == [500, 502, 503, 507, 200]
    assert len({post.body for post in posts}) == 1  # the same envelope each time
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]
    assert _skips(client, auth, hook["id"]) == []
    assert hooks.get(hook["id"])["delivery"]["skipped"] == 0


def test_skips_are_listed_in_pages_and_need_a_read_scope(
    hooks: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    client: TestClient,
    auth: dict[str, str],
    make_token: Any,
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    for n in range(3):
        _big_update(client, auth, _big_server(client, auth, f"big-{n}"))
    drain(delivery)
    url = f"/api/v1/eventHooks/{hook['id']}/skips"
    first = client.get(url, params={"limit": 2}, headers=auth).json()
    assert len(first["data"]) == 2
    second = client.get(first["_links"]["next"]["href"], headers=auth).json()
    assert len(second["data"]) == 1 and "next" not in second["_links"]
    assert len({s["eventUuid"] for s in first["data"] + second["data"]}) == 3
    assert hooks.get(hook["id"])["_links"]["skips"]["href"].endswith(url)
    reader = {"Authorization": f"SSWS {make_token('okta.eventHooks.read')}"}
    assert client.get(url, headers=reader).status_code == 200
    nobody = {"Authorization": f"SSWS {make_token('okta.logs.read')}"}
    denied = client.get(url, headers=nobody)
    assert (denied.status_code, denied.json()["errorCode"]) == (403, "E0000006")
    missing = client.get("/api/v1/eventHooks/who00000000000000000/skips", headers=auth)
    assert (missing.status_code, missing.json()["errorCode"]) == (404, "E0000007")
    bad = client.get(url, params={"after": "%%%"}, headers=auth)
    assert (bad.status_code, bad.json()["errorCode"]) == (400, "E0000001")
