"""The delivery worker: claim a batch, POST it outside any transaction, settle the outcome.

Delivery is at least once: a batch is resent (with the same ``eventId``) until a receiver answers 2xx,
however long that takes. The one exception is an event too large for the receiver (over
``REGISTRAR_HOOK_BATCH_BYTES`` on its own, or refused with 413 when sent alone): it is skipped, and the skip
is recorded and logged, so that one event cannot block every later one. Between failures a hook waits an
exponentially growing, jittered delay; failing without a single success for
``REGISTRAR_HOOK_PAUSE_AFTER_SECONDS`` pauses it until it is activated again. Every step of the state lives
in the database, so a restart loses nothing and any number of workers (threads, processes, replicas) can
share the work. A server process runs ``REGISTRAR_HOOK_CONCURRENCY`` workers, each its own scheduler
thread: that many deliveries at most are in flight at once, whatever the receivers do, and none of them
runs on a request thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from prometheus_client import Counter

from registrar.ids import utcnow
from registrar.outbound import CallFailed, call
from registrar.services.deps import Deps

from ._claims import Batch, Moved, Outcome, claim, settle
from ._http import hook_client
from ._model import HookSkip
from ._payload import envelope
from ._policy import DeliveryPolicy

__all__ = ["RUN_BUDGET_SECONDS", "Attempt", "Clock", "HookDelivery", "wall_clock_ms"]

log = logging.getLogger(__name__)

Clock = Callable[[], int]
"""The current time in epoch milliseconds (tests pass their own to step through backoff and pauses)."""

# One run drains what is due for at most this long, then yields to the scheduler: a stopping server
# waits for at most this plus one request.
RUN_BUDGET_SECONDS = 5.0
_DELIVERIES = Counter("registrar_hook_deliveries", "Hook delivery attempts, by outcome.", ["outcome"])


def wall_clock_ms() -> int:
    """The current UTC time in epoch milliseconds."""
    return int(utcnow().timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one claim came to: the events delivered, or the reason they were not; the events skipped."""

    hook_id: str
    delivered: int
    error: str | None
    skipped: int = 0


class HookDelivery:
    """Delivers due batches of every hook; safe to run in several threads, processes and replicas at once."""

    def __init__(
        self, deps: Deps, *, clock: Clock = wall_clock_ms, budget_seconds: float = RUN_BUDGET_SECONDS
    ):
        self.deps = deps
        self.policy = DeliveryPolicy.from_settings(deps.settings)
        self._clock = clock
        self._budget = budget_seconds
        self._client: httpx2.Client | None = None

    def run(self) -> int:
        """Deliver until no hook is due or the run's time budget is spent; returns the events delivered."""
        deadline = time.monotonic() + self._budget
        delivered = 0
        draining = False
        while time.monotonic() < deadline:
            attempt = self.run_once(look_first=not draining)
            if attempt is None:
                break
            delivered += attempt.delivered
            draining = True
        return delivered

    def run_once(self, *, look_first: bool = True) -> Attempt | None:
        """Claim one due hook and deliver its next batch; None when no hook is due."""
        batch = claim(self.deps.engine, self.policy, self._clock(), look_first=look_first)
        if batch is None:
            return None
        if isinstance(batch, Moved):
            if batch.skipped is not None:
                _log_skip(batch.hook_id, batch.skipped)
            return Attempt(batch.hook_id, 0, None, skipped=int(batch.skipped is not None))
        try:
            outcome = self._post(batch)
        except Exception:
            # Settle even on a bug, so the hook backs off instead of waiting for its lease to lapse.
            log.exception("event hook %s: delivery failed unexpectedly", batch.hook_id)
            outcome = Outcome("an internal error stopped the delivery")
        error = outcome.error
        _DELIVERIES.labels("success" if error is None else "failure").inc()
        settled = settle(self.deps.engine, self.policy, batch, outcome, self._clock())
        if settled.skipped is not None:
            _log_skip(batch.hook_id, settled.skipped)
        elif settled.narrowed_to is not None:
            log.warning(
                "event hook %s: the receiver refused %d bytes with HTTP 413; batches now stay under %d bytes",
                batch.hook_id,
                batch.size,
                settled.narrowed_to,
            )
        elif settled.paused:
            log.error(
                "event hook %s: paused after failing for %.0f s (%s); activate it to resume",
                batch.hook_id,
                self.policy.pause_after_seconds,
                error,
            )
        elif settled.retry_at_ms is not None:
            wait = (settled.retry_at_ms - self._clock()) / 1000
            log.warning("event hook %s: delivery failed (%s); retrying in %.1f s", batch.hook_id, error, wait)
        return Attempt(
            batch.hook_id,
            len(batch.bodies) if error is None else 0,
            error,
            skipped=int(settled.skipped is not None),
        )

    def close(self) -> None:
        """Release the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _post(self, batch: Batch) -> Outcome:
        headers = [("Accept", "application/json"), ("Content-Type", "application/json"), *batch.headers]
        if batch.auth_key is not None and batch.auth_sealed is not None:
            try:
                headers.append((batch.auth_key, self.deps.box.open(batch.auth_sealed, batch.hook_id)))
            except ValueError:
                return Outcome("the auth header value cannot be unsealed (was REGISTRAR_SECRET_KEY changed?)")
        body = envelope(batch.source, batch.event_id, batch.event_time_ms, batch.bodies)
        if self._client is None:
            self._client = hook_client(self.deps.settings)
        try:
            answer = call(
                self._client,
                "POST",
                batch.uri,
                headers=headers,
                content=body,
                timeout=self.policy.timeout_seconds,
            )
        except CallFailed as failure:
            return Outcome(failure.reason)
        if 200 <= answer.status < 300:
            return Outcome()
        if answer.status == _CONTENT_TOO_LARGE:
            return Outcome(f"the receiver refused {batch.size} bytes with HTTP 413", too_large=True)
        if 300 <= answer.status < 400:
            return Outcome(f"the receiver answered HTTP {answer.status}; redirects are not followed")
        return Outcome(f"the receiver answered HTTP {answer.status}")


_CONTENT_TOO_LARGE = 413


def _log_skip(hook_id: str, skip: HookSkip) -> None:
    log.warning(
        "event hook %s: skipped event %s (%s, %d bytes): %s",
        hook_id,
        skip.event_uuid,
        skip.event_type,
        skip.size_bytes,
        skip.reason,
    )
