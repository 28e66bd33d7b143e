"""The public surface of ``registrar.hooks`` is what ``__all__`` names, and only that."""

from __future__ import annotations

import registrar.hooks as hooks


def test_public_surface_is_pinned() -> None:
    assert sorted(hooks.__all__) == [
        "Attempt",
        "CHALLENGE_HEADER",
        "Clock",
        "DeliveryHealth",
        "DeliveryPolicy",
        "EventHook",
        "EventHookBody",
        "HookDelivery",
        "HookSkip",
        "HookStatus",
        "HookView",
        "RUN_BUDGET_SECONDS",
        "ReplayBody",
        "USER_AGENT",
        "VerificationStatus",
        "envelope",
        "hook_client",
        "service",
        "wall_clock_ms",
    ]
    assert all(hasattr(hooks, name) for name in hooks.__all__)
