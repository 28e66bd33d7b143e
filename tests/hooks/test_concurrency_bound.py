"""A real server delivers to at most ``REGISTRAR_HOOK_CONCURRENCY`` receivers at once, and keeps answering.

Six hooks, one event each, on a receiver that holds every delivery until the test lets one go: the
receiver counts the deliveries in flight. With a bound of three, three arrive, and each one let go makes
room for exactly one more; the API answers throughout, however many receivers hang.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ..live import running_server
from .conftest import hook_body
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
