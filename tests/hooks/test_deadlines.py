"""``REGISTRAR_HOOK_TIMEOUT_SECONDS`` bounds a whole request, not each read: a trickling receiver is cut.

The receiver here sends a byte every 0.1 s, well inside any per-read timeout, and never finishes. Without
a deadline on the whole exchange the delivery (or verification) would wait forever; with it, the attempt
fails as a timeout (retried later, never skipped) and the connection is closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Literal, TypeVar

import pytest

from registrar.config import Settings
from registrar.hooks import Attempt, HookDelivery

from .conftest import Hooks
from .receiver import wait_until
from .trickle import Trickler, Where

T = TypeVar("T")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, hook_timeout_seconds=1.0)


@pytest.fixture
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    where: Where
    verify: Literal["echo", "trickle"]
    where, verify = getattr(request, "param", ("in_headers", "echo"))
    trickler = Trickler(where, verify=verify).start()
    yield trickler
    trickler.stop()


def _within_guard(call: Callable[[], T]) -> T:
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it has not returned in 30 s."""
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(call()), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the request was never cut"
    return results[0]


def test_a_trickling_receiver_is_cut_at_the_timeout_and_the_batch_retried(
    hooks: Hooks, trickler: Trickler, delivery: HookDelivery
) -> None:
    hook = hooks.ready(f"{trickler.url}/okta")
    hooks.register(2)
    attempt: Attempt | None = _within_guard(delivery.run_once)
    assert attempt is not None
    assert (attempt.error, attempt.delivered, attempt.skipped) == ("no answer within 1 s", 0, 0)
    wait_until(lambda: trickler.cut == 1, "the connection to be closed")
    health = hooks.get(hook["id"])["delivery"]
    assert health["lastError"] == "no answer within 1 s"
    assert (health["consecutiveFailures"], health["skipped"], health["backlog"]) == (1, 0, 2)


@pytest.mark.parametrize(
    "trickler", [("in_headers", "trickle"), ("in_body", "trickle")], indirect=True, ids=["headers", "body"]
)
def test_a_trickling_verification_answer_is_cut_at_the_timeout(hooks: Hooks, trickler: Trickler) -> None:
    hook = hooks.create(f"{trickler.url}/okta")
    response = _within_guard(lambda: hooks.lifecycle(hook["id"], "verify"))
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "E0000001"
    causes = " ".join(cause["errorSummary"] for cause in body["errorCauses"])
    assert "no answer within 1 s" in causes or "the response took too long" in causes
    wait_until(lambda: trickler.cut == 1, "the connection to be closed")
    assert hooks.get(hook["id"])["verificationStatus"] == "UNVERIFIED"
