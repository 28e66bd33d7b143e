"""``GET /metrics`` for event hooks: each delivering hook's backlog, failure streak and pause, and the
delivery attempts by outcome, moving as a real receiver refuses and then accepts the batches."""

from __future__ import annotations

from starlette.testclient import TestClient

from registrar.hooks import HookDelivery

from ..api.test_metrics import Samples, moved, scrape, value
from .conftest import Clock, Hooks, drain
from .receiver import Receiver


def _hook(samples: Samples, name: str, hook_id: str) -> float:
    return value(samples, f"registrar_hook_{name}", hook=hook_id)


def test_backlog_failures_and_deliveries_are_measured(
    client: TestClient,
    auth: dict[str, str],
    hooks: Hooks,
    receiver: Receiver,
    delivery: HookDelivery,
    clock: Clock,
) -> None:
    hook = hooks.ready(f"{receiver.url}/okta")["id"]
    idle = hooks.create(f"{receiver.url}/idle")["id"]  # never verified: it delivers nothing, so no series
    hooks.register(7)
    before = scrape(client, auth)
    assert _hook(before, "backlog_events", hook) == 7
    assert _hook(before, "consecutive_failures", hook) == 0
    assert _hook(before, "paused", hook) == 0
    assert not [pairs for (_, pairs) in before if ("hook", idle) in pairs]

    receiver.answer_next(500, 503)
    delivery.run_once()
    clock.advance(10)  # past the back-off (at most 8 s here), within the pause window (60 s)
    delivery.run_once()
    failing = scrape(client, auth)
    assert _hook(failing, "backlog_events", hook) == 7
    assert _hook(failing, "consecutive_failures", hook) == 2
    assert moved(before, failing, "registrar_hook_deliveries_total", outcome="failure") == 2

    clock.advance(10)
    drain(delivery)
    after = scrape(client, auth)
    assert _hook(after, "backlog_events", hook) == 0
    assert _hook(after, "consecutive_failures", hook) == 0
    assert moved(failing, after, "registrar_hook_deliveries_total", outcome="success") == 2  # 5 + 2
    assert moved(failing, after, "registrar_hook_deliveries_total", outcome="failure") == 0

    hooks.register(1, prefix="late")
    receiver.answer_next(500, then=500)
    delivery.run_once()
    clock.advance(61)  # failing longer than REGISTRAR_HOOK_PAUSE_AFTER_SECONDS: paused
    delivery.run_once()
    paused = scrape(client, auth)
    assert (_hook(paused, "paused", hook), _hook(paused, "backlog_events", hook)) == (1, 1)
    assert hooks.get(hook)["delivery"]["paused"] is True
