"""Event hooks: Okta's ``/api/v1/eventHooks`` objects, verification, at-least-once delivery from the log."""

from . import _service as service
from ._delivery import RUN_BUDGET_SECONDS, Attempt, Clock, HookDelivery, wall_clock_ms
from ._http import USER_AGENT, hook_client
from ._inputs import EventHookBody, ReplayBody
from ._model import DeliveryHealth, EventHook, HookSkip, HookStatus, VerificationStatus
from ._payload import CHALLENGE_HEADER, envelope
from ._policy import DeliveryPolicy
from ._service import HookView

__all__ = [
    "CHALLENGE_HEADER",
    "RUN_BUDGET_SECONDS",
    "USER_AGENT",
    "Attempt",
    "Clock",
    "DeliveryHealth",
    "DeliveryPolicy",
    "EventHook",
    "EventHookBody",
    "HookDelivery",
    "HookSkip",
    "HookStatus",
    "HookView",
    "ReplayBody",
    "VerificationStatus",
    "envelope",
    "hook_client",
    "service",
    "wall_clock_ms",
]
