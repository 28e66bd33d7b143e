"""The delivery policy: backoff steps, the cap, jitter bounds, the lease, and the operator's settings."""

from __future__ import annotations

import pytest

from registrar.config import Settings
from registrar.hooks import DeliveryPolicy


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    policy = DeliveryPolicy(backoff_base_seconds=1.0, backoff_max_seconds=60.0)
    for failures, step in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (50, 60), (10_000, 60)]:
        delays = [policy.retry_delay_ms(failures) for _ in range(200)]
        assert all(step * 500 <= d <= step * 1000 for d in delays), (failures, min(delays), max(delays))
        assert len(set(delays)) > 1  # jittered


def test_the_lease_outlasts_a_request() -> None:
    assert DeliveryPolicy(timeout_seconds=10).lease_ms == 21_000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 1001),
        ("poll_seconds", 0),
        ("timeout_seconds", -1),
        ("pause_after_seconds", -5),
        ("batch_bytes", 1023),
        ("concurrency", 0),
        ("concurrency", 65),
    ],
)
def test_nonsense_is_refused_at_start(field: str, value: float) -> None:
    with pytest.raises(ValueError, match="REGISTRAR_HOOK_"):
        DeliveryPolicy(**{field: value})  # type: ignore[arg-type]


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "REGISTRAR_HOOK_POLL_SECONDS": "0.25",
            "REGISTRAR_HOOK_BATCH_SIZE": "50",
            "REGISTRAR_HOOK_TIMEOUT_SECONDS": "3",
            "REGISTRAR_HOOK_BACKOFF_BASE_SECONDS": "2",
            "REGISTRAR_HOOK_BACKOFF_MAX_SECONDS": "120",
            "REGISTRAR_HOOK_PAUSE_AFTER_SECONDS": "3600",
            "REGISTRAR_HOOK_BATCH_BYTES": "65536",
            "REGISTRAR_HOOK_CONCURRENCY": "8",
        }
    )
    assert DeliveryPolicy.from_settings(settings) == DeliveryPolicy(
        poll_seconds=0.25,
        batch_size=50,
        timeout_seconds=3.0,
        backoff_base_seconds=2.0,
        backoff_max_seconds=120.0,
        pause_after_seconds=3600.0,
        batch_bytes=65536,
        concurrency=8,
    )
    defaults = DeliveryPolicy.from_settings(Settings.from_env({}))
    assert (defaults.poll_seconds, defaults.batch_size, defaults.pause_after_seconds) == (1.0, 100, 86400.0)
    assert (defaults.batch_bytes, defaults.concurrency) == (256 * 1024, 4)
