"""The delivery policy: cadence, batch size and bytes, timeout, concurrency, lease, backoff, auto-pause."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields

from registrar.config import Settings

__all__ = ["MAX_BATCH_SIZE", "MIN_BATCH_BYTES", "DeliveryPolicy"]

MAX_BATCH_SIZE = 1000
# Room for Okta's envelope (about 300 bytes with a long ``source``) and one small event.
MIN_BATCH_BYTES = 1024
MAX_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How often, how much and how patiently events are delivered (from ``REGISTRAR_HOOK_*``)."""

    poll_seconds: float = 1.0
    batch_size: int = 100
    batch_bytes: int = 256 * 1024
    concurrency: int = 4
    timeout_seconds: float = 10.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    pause_after_seconds: float = 86400.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"REGISTRAR_HOOK_BATCH_SIZE must be between 1 and {MAX_BATCH_SIZE}")
        if self.batch_bytes < MIN_BATCH_BYTES:
            raise ValueError(f"REGISTRAR_HOOK_BATCH_BYTES must be at least {MIN_BATCH_BYTES}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"REGISTRAR_HOOK_CONCURRENCY must be between 1 and {MAX_CONCURRENCY}")
        for name in ("poll_seconds", "timeout_seconds", "backoff_base_seconds", "backoff_max_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"REGISTRAR_HOOK_{name.upper().removesuffix('_SECONDS')}_SECONDS must be > 0"
                )
        if self.pause_after_seconds < 0:
            raise ValueError("REGISTRAR_HOOK_PAUSE_AFTER_SECONDS must not be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        """The operator's policy (each field from ``Settings.hook_<field>``); raises ``ValueError`` at
        start-up for a value that makes no sense."""
        return cls(**{f.name: getattr(settings, f"hook_{f.name}") for f in fields(cls)})

    @property
    def lease_ms(self) -> int:
        """How long a claim keeps other workers off a hook: longer than any request can take.

        A request is bounded by the timeout (connect, send, answer); twice that plus a second leaves room for
        the database round trips around it, so a claim only lapses when its worker died.
        """
        return int((2 * self.timeout_seconds + 1) * 1000)

    def retry_delay_ms(self, failures: int) -> int:
        """The wait before attempt ``failures + 1``: exponential, capped, with equal jitter.

        Half of the exponential delay is kept and the other half drawn at random, so replicas and hooks that
        failed together spread out without any retry coming sooner than half its step.
        """
        step = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** min(max(failures - 1, 0), 62))
        # Jitter spreads retries; it guards nothing, so the non-cryptographic generator is right here.
        seconds = step / 2 + random.uniform(0, step / 2)  # noqa: S311
        return int(seconds * 1000)

    @property
    def pause_after_ms(self) -> int:
        """Failing for this long without a single success pauses a hook."""
        return int(self.pause_after_seconds * 1000)
