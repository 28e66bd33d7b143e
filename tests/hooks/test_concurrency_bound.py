"""At most ``REGISTRAR_HOOK_CONCURRENCY`` hook requests at once, and the API keeps answering meanwhile.

Six hooks, one event each, on a receiver that holds every delivery until the test lets one go: the
receiver counts the deliveries in flight. With a bound of three, three arrive, and each one let go makes
room for exactly one more; the API answers throughout, however many receivers hang. Verifications (which
an admin's request waits for) have a bound of their own, the same number, counted the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from registrar.config import Settings

from ..live import running_server
from .conftest import Hooks, hook_body
from .live import api_client, register, server_env, server_token
from .receiver import Receiver, wait_until

BOUND = 3
HOOKS = 6


def test_deliveries_in_flight_never_exceed_the_bound(
    database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    # A long timeout: a held delivery stays in flight until let go, instead of being abandoned and retried.
    env = server_env(database_url, REGISTRAR_HOOK_CONCURRENCY=str(BOUND), REGISTRAR_HOOK_TIMEOUT_SECONDS="60")
    token = server_token(env, tmp_path)
    receiver.gate = threading.Semaphore(0)
    with running_server(env, tmp_path) as server, api_client(server.url, token) as api:
        paths = [f"/hook-{n}" for n in range(HOOKS)]
        for path in paths:
            hook = api.post("/api/v1/eventHooks", json=hook_body(f"{receiver.url}{path}")).json()
            assert api.post(f"/api/v1/eventHooks/{hook['id']}/lifecycle/verify").status_code == 200
        register(api, 1)
        for answered in range(HOOKS):
            held = min(BOUND, HOOKS - answered)
            wait_until(
                _holding(receiver, held, answered + held), f"{held} in flight after {answered} answered"
            )
            # Every worker is stuck on a receiver: the request threads still serve the API.
            assert api.get("/api/v1/logs", params={"limit": "1"}).status_code == 200
            assert api.get("/api/v1/eventHooks").status_code == 200
            receiver.gate.release()
        wait_until(lambda: all(receiver.accepted(path) for path in paths), "every hook's delivery")
    assert receiver.max_in_flight == BOUND
    assert sorted(post.path for post in receiver.posts()) == sorted(paths)  # one delivery each


def _holding(receiver: Receiver, held: int, arrived: int) -> Callable[[], bool]:
    """True once ``arrived`` deliveries came in, ``held`` of them still unanswered."""
    return lambda: receiver.in_flight == held and len(receiver.posts()) == arrived


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A long timeout: a held verification stays in flight until let go, instead of being abandoned.
    return replace(settings, hook_concurrency=2, hook_timeout_seconds=60.0)


def test_verifications_run_at_most_the_bound_at_once_and_off_the_request_threads(
    hooks: Hooks, receiver: Receiver
) -> None:
    bound, count = 2, 5
    gate = threading.Semaphore(0)
    inside = [0, 0, 0]  # in the receiver now, most ever, arrived
    lock = threading.Lock()

    def held_echo(challenge: str | None) -> tuple[int, bytes]:
        with lock:
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
            inside[2] += 1
        gate.acquire(timeout=60)
        with lock:
            inside[0] -= 1
        return 200, orjson.dumps({"verification": challenge})

    receiver.verification = held_echo
    created = [hooks.create(f"{receiver.url}/v{n}") for n in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = [pool.submit(hooks.lifecycle, hook["id"], "verify") for hook in created]
        for answered in range(count):
            held = min(bound, count - answered)
            wait_until(_verifying(inside, held, answered + held), f"{held} verifying after {answered}")
            assert hooks.client.get("/api/v1/logs", headers=hooks.auth).status_code == 200
            gate.release()
        assert [answer.result().status_code for answer in answers] == [200] * count
    assert inside[1] == bound


def _verifying(inside: list[int], held: int, arrived: int) -> Callable[[], bool]:
    """True once ``arrived`` verifications came in, ``held`` of them still unanswered."""
    return lambda: inside[0] == held and inside[2] == arrived
