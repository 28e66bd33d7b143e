"""Delivery: every event once per successful attempt, all of them, in order, in Okta's envelope."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

from sqlalchemy import Engine, select

from registrar.hooks import HookDelivery
from registrar.services.deps import Deps
from registrar.store.schema import log_events

from .conftest import AUTH_VALUE, Clock, Hooks, StoredEvents, drain
from .receiver import Receiver, wait_until

REGISTER = "resource_servers.api_server.register"
ACTIVATE = "resource_servers.api_server.activate"


def _stored_bodies(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [
            row.encode()
            for row in conn.execute(select(log_events.c.body).order_by(log_events.c.seq)).scalars()
        ]


def test_every_event_arrives_once_in_order_in_okta_envelope(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, engine: Engine, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(12)
    drain(delivery)
    posts = receiver.posts()
    assert [len(p.uuids) for p in posts] == [5, 5, 2]  # REGISTRAR_HOOK_BATCH_SIZE=5
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]
    bodies = _stored_bodies(engine)
    for number, post in enumerate(posts):
        payload = post.payload
        assert list(payload) == [
            "eventType",
            "eventTypeVersion",
            "cloudEventsVersion",
            "source",
            "eventId",
            "data",
            "eventTime",
            "contentType",
        ]
        assert payload["eventType"] == "com.okta.event_hook"
        assert payload["eventTypeVersion"] == "1.0"
        assert payload["cloudEventsVersion"] == "0.1"
        assert payload["contentType"] == "application/json"
        assert payload["source"] == f"http://testserver/api/v1/eventHooks/{hook['id']}"
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", payload["eventId"]
        )
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["eventTime"])
        # The stored canonical bytes, spliced in without re-serialization.
        batch = bodies[number * 5 : number * 5 + 5]
        assert b'"data":{"events":[' + b",".join(batch) + b"]}" in post.body
        assert post.headers["authorization"] == AUTH_VALUE
        assert post.headers["x-other-header"] == "my-header-value"
        assert post.headers["content-type"] == "application/json"
        assert post.headers["accept"] == "application/json"
    assert len({p.payload["eventId"] for p in posts}) == 3
    assert delivery.run_once() is None  # caught up: nothing is sent twice
    assert len(receiver.posts()) == 3
    health = hooks.get(hook["id"])["delivery"]
    assert health["backlog"] == 0
    assert health["lastSuccess"] is not None
    assert health["consecutiveFailures"] == 0


def test_events_committed_later_follow(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hooks.register(3, prefix="before")  # before the hook exists: not delivered
    hooks.ready(f"{receiver.url}/okta")
    hooks.register(2, prefix="one")
    drain(delivery)
    hooks.register(3, prefix="two")
    drain(delivery)
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()[3:]]


def test_subscriptions_filter_by_event_type(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hooks.ready(f"{receiver.url}/activations", items=(ACTIVATE,))
    hooks.ready(f"{receiver.url}/registrations", items=(REGISTER,))
    hooks.ready(f"{receiver.url}/deletes", items=("resource_servers.api_server.delete",))
    hooks.register(4, activate=True)  # register + activate each
    drain(delivery)
    by_type = {t: [e["uuid"] for e in events() if e["eventType"] == t] for t in (REGISTER, ACTIVATE)}
    assert receiver.accepted_uuids("/activations") == by_type[ACTIVATE]
    assert receiver.accepted_uuids("/registrations") == by_type[REGISTER]
    assert receiver.posts("/deletes") == []
    assert all(e["eventType"] == ACTIVATE for p in receiver.posts("/activations") for e in p.events)


def test_only_active_and_verified_hooks_receive(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    unverified = hooks.create(f"{receiver.url}/unverified")
    inactive = hooks.ready(f"{receiver.url}/inactive")
    hooks.lifecycle(inactive["id"], "deactivate")
    hooks.ready(f"{receiver.url}/ready")
    hooks.register(3)
    drain(delivery)
    assert receiver.accepted_uuids("/ready") == [e["uuid"] for e in events()]
    assert receiver.posts("/unverified") == []
    assert receiver.posts("/inactive") == []
    # Their events wait for them (an outbox loses nothing) and show as backlog.
    assert hooks.get(unverified["id"])["delivery"]["backlog"] == 3
    assert hooks.get(inactive["id"])["delivery"]["backlog"] == 3
    hooks.lifecycle(inactive["id"], "activate")
    drain(delivery)
    assert receiver.accepted_uuids("/inactive") == [e["uuid"] for e in events()]


def test_failures_are_retried_with_backoff_and_nothing_is_skipped(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, clock: Clock, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(7)
    receiver.answer_next(500, 503, 500)
    for failures, step in enumerate((1.0, 2.0, 4.0), start=1):  # base 1 s, doubling
        attempt = delivery.run_once()
        assert attempt is not None
        assert attempt.error is not None
        assert attempt.delivered == 0
        assert delivery.run_once() is None  # not due again before its backoff
        health = hooks.get(hook["id"])["delivery"]
        assert health["consecutiveFailures"] == failures
        assert health["lastError"] in {"the receiver answered HTTP 500", "the receiver answered HTTP 503"}
        assert health["backlog"] == 7
        wait_ms = _epoch_ms(health["nextAttempt"]) - clock()
        assert step * 1000 / 2 <= wait_ms <= step * 1000  # equal jitter: [step/2, step]
        clock.advance(step)
    drain(delivery)
    posts = receiver.posts()
    assert [p.status for p in posts] == [500, 503, 500, 200, 200]
    # Every retry resent the very same envelope: same eventId, same bytes.
    assert len({p.body for p in posts[:4]}) == 1
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]
    health = hooks.get(hook["id"])["delivery"]
    assert health["consecutiveFailures"] == 0
    assert health["lastError"] == "the receiver answered HTTP 500"  # kept for the record
    assert health["backlog"] == 0


def test_backoff_is_capped(hooks: Hooks, receiver: Receiver, delivery: HookDelivery, clock: Clock) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(1)
    receiver.default_status = 500
    for _ in range(6):  # 1, 2, 4, 8, 8, 8 s (REGISTRAR_HOOK_BACKOFF_MAX_SECONDS=8)
        assert delivery.run_once() is not None
        clock.advance(8)
    wait_ms = _epoch_ms(hooks.get(hook["id"])["delivery"]["nextAttempt"]) - (clock() - 8000)
    assert 4000 <= wait_ms <= 8000


def test_a_hook_failing_for_the_whole_window_is_paused_until_activated(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, clock: Clock, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(6)
    receiver.default_status = 500
    attempts = 0
    while not hooks.get(hook["id"])["delivery"]["paused"]:
        assert delivery.run_once() is not None
        attempts += 1
        clock.advance(8)  # >= the capped backoff: due again each time
        assert attempts < 20
    assert attempts >= 60 // 8  # REGISTRAR_HOOK_PAUSE_AFTER_SECONDS=60 of failures first
    paused = hooks.get(hook["id"])
    assert paused["status"] == "ACTIVE"
    assert paused["delivery"]["pausedAt"] is not None
    assert paused["delivery"]["backlog"] == 6
    assert "activate" in paused["_links"]
    sent = len(receiver.posts())
    clock.advance(3600)
    assert delivery.run_once() is None  # paused: nothing more is attempted
    assert len(receiver.posts()) == sent

    receiver.default_status = 200
    resumed = hooks.lifecycle(hook["id"], "activate").json()
    assert resumed["delivery"]["paused"] is False
    assert resumed["delivery"]["consecutiveFailures"] == 0
    drain(delivery)
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()]


def test_replay_from_a_cursor_or_a_time(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(6)
    drain(delivery)
    everything = [e["uuid"] for e in events()]
    page = hooks.client.get("/api/v1/logs", headers=hooks.auth, params={"since": "2000-01-01", "limit": 2})
    cursor = page.links["next"]["url"].split("after=")[1].split("&")[0]  # the cursor after event 2

    replayed = hooks.lifecycle(hook["id"], "replay", json={"after": cursor})
    assert replayed.status_code == 200
    assert replayed.json()["delivery"]["backlog"] == 4
    drain(delivery)
    assert receiver.accepted_uuids() == everything + everything[2:]

    since = events()[3]["published"]
    hooks.lifecycle(hook["id"], "replay", json={"since": since})
    drain(delivery)
    again = [e["uuid"] for e in events() if e["published"] >= since]
    assert receiver.accepted_uuids() == everything + everything[2:] + again

    hooks.lifecycle(
        hook["id"], "replay", json={"since": "2000-01-01T00:00:00Z"}
    )  # before retention: all kept
    drain(delivery)
    assert receiver.accepted_uuids()[-6:] == everything


def test_replay_refuses_bad_positions(hooks: Hooks) -> None:
    hook = hooks.create("https://hooks.example.com/okta")
    for body in ({}, {"after": "1_1", "since": "2020-01-01"}, {"after": "garbage"}, {"since": "yesterday"}):
        response = hooks.lifecycle(hook["id"], "replay", json=body)
        assert response.status_code == 400, body
        assert response.json()["errorCode"] == "E0000001"
    assert hooks.lifecycle(hook["id"], "replay", json={"after": "1700000000000_999"}).status_code == 400


def test_delivery_goes_through_the_ssrf_guard(
    hooks: Hooks, receiver: Receiver, deps: Deps, clock: Clock
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(2)
    guarded = replace(deps, settings=replace(deps.settings, discovery_allowed_networks=()))
    worker = HookDelivery(guarded, clock=clock)
    attempt = worker.run_once()
    worker.close()
    assert attempt is not None
    assert attempt.error is not None
    assert "is not a public address (loopback)" in attempt.error
    assert receiver.posts() == []
    assert "is not a public address" in hooks.get(hook["id"])["delivery"]["lastError"]


def test_a_replay_while_a_batch_is_out_wins(
    hooks: Hooks, receiver: Receiver, delivery: HookDelivery, events: StoredEvents
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")
    hooks.register(3)
    receiver.hold_after = 0  # the batch waits at the receiver until released
    worker = threading.Thread(target=delivery.run_once)
    worker.start()
    wait_until(lambda: len(receiver.posts()) == 1, "the batch to arrive")
    hooks.lifecycle(hook["id"], "replay", json={"since": "2000-01-01"})
    receiver.hold_after = None
    receiver.release.set()  # answered 200 after the replay
    worker.join()
    assert hooks.get(hook["id"])["delivery"]["backlog"] == 3  # the replay's position stands
    drain(delivery)
    assert receiver.accepted_uuids() == [e["uuid"] for e in events()] * 2


def _epoch_ms(timestamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
