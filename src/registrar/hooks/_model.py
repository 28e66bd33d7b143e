"""Event hooks as plain values: the configuration an admin gives, the stored hook, its delivery health."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

__all__ = ["DeliveryHealth", "EventHook", "HookSkip", "HookSpec", "HookStatus", "VerificationStatus"]


class HookStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class VerificationStatus(StrEnum):
    UNVERIFIED = "UNVERIFIED"
    VERIFIED = "VERIFIED"


@dataclass(frozen=True, slots=True)
class HookSpec:
    """A validated create or replace body. ``auth_value`` None with an ``auth_key`` keeps the stored value."""

    name: str
    description: str | None
    event_types: tuple[str, ...]
    uri: str
    headers: tuple[tuple[str, str], ...]
    auth_key: str | None
    auth_value: str | None

    def hook_fields(self) -> dict[str, Any]:
        """What the body sets on the stored hook: every field but the write-only ``auth_value``."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "auth_value"}


@dataclass(frozen=True, slots=True)
class EventHook:
    """A stored event hook. The auth header's value stays sealed in the store and is never part of this."""

    id: str
    name: str
    description: str | None
    status: str
    verification_status: str
    event_types: tuple[str, ...]
    uri: str
    headers: tuple[tuple[str, str], ...]
    auth_key: str | None
    source: str
    created_by: str
    created_ms: int
    last_updated_ms: int

    @property
    def receives_events(self) -> bool:
        """Only ACTIVE and VERIFIED hooks are delivered to (as in Okta)."""
        return self.status == HookStatus.ACTIVE and self.verification_status == VerificationStatus.VERIFIED


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """Where a hook stands: what is still to deliver, and how the last attempts went."""

    backlog: int  # events of the subscribed types committed after the hook's position
    consecutive_failures: int
    last_success_ms: int | None
    last_error: str | None
    last_error_ms: int | None
    failing_since_ms: int | None
    next_attempt_ms: int
    paused_ms: int | None
    skipped: int  # events skipped as too large for the receiver (see ``HookSkip``)


@dataclass(frozen=True, slots=True)
class HookSkip:
    """An event a hook did not deliver because it was too large for its receiver, and why."""

    pk: int
    seq: int
    event_uuid: str
    event_type: str
    size_bytes: int  # the event's stored bytes
    reason: str
    skipped_ms: int
