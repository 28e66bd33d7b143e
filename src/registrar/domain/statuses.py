"""Lifecycle statuses and the rules that depend on them."""

from __future__ import annotations

from enum import StrEnum

from registrar.errors import Conflict

__all__ = ["DELETE_ACTIVE_REASON", "Status", "ensure_deletable"]

DELETE_ACTIVE_REASON = "Cannot delete a resource server in ACTIVE status. Server must be deactivated first."


class Status(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    PENDING = "PENDING"
    INVALID = "INVALID"


def ensure_deletable(status: str) -> None:
    """A resource server may be deleted only when it is not ACTIVE."""
    if status == Status.ACTIVE:
        raise Conflict(DELETE_ACTIVE_REASON)
