"""Identifiers in Okta's shapes: 20-character base62 ids with a type prefix, request ids, timestamps."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from typing import overload

__all__ = [
    "A2A_SERVER",
    "API_SERVER",
    "API_TOKEN",
    "AUTH_SERVER",
    "CLIENT_AUTH_SETTINGS",
    "EVENT_HOOK",
    "MCP_DISCOVERY",
    "MCP_SERVER",
    "MCP_TOOL",
    "ORG",
    "USER",
    "VIRTUAL_CAPABILITY",
    "VIRTUAL_MCP_SERVER",
    "format_ms",
    "format_timestamp",
    "is_object_id",
    "new_id",
    "new_request_id",
    "utcnow",
]

API_SERVER = "aps"
MCP_SERVER = "mcp"
A2A_SERVER = "a2a"
VIRTUAL_MCP_SERVER = "vms"
MCP_TOOL = "emt"
MCP_DISCOVERY = "emd"
VIRTUAL_CAPABILITY = "vcp"
AUTH_SERVER = "eas"
CLIENT_AUTH_SETTINGS = "rsc"
USER = "00u"
API_TOKEN = "00T"  # noqa: S105 - an id prefix, not a credential
EVENT_HOOK = "who"
ORG = "00o"

_BASE62 = string.digits + string.ascii_letters
_ID_LENGTH = 20
_MAX_ID_LENGTH = 64


def is_object_id(value: str) -> bool:
    """Whether ``value`` could name a stored object: 1..64 ASCII letters and digits.

    Anything else (a NUL, which PostgreSQL cannot even compare, a space, a megabyte) names nothing, and
    the lookup answers "not found" without asking the database.
    """
    return 0 < len(value) <= _MAX_ID_LENGTH and value.isascii() and value.isalnum()


def new_id(prefix: str) -> str:
    """A new random id: ``prefix`` followed by base62 characters, 20 characters in all."""
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(_ID_LENGTH - len(prefix)))


def new_request_id() -> str:
    """A request id in the shape Okta uses for ``X-Okta-Request-Id`` (27 URL-safe characters)."""
    return secrets.token_urlsafe(20)[:27]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """Okta's timestamp form ``YYYY-MM-DDTHH:mm:ss.SSSZ`` (UTC, milliseconds)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@overload
def format_ms(ms: int) -> str: ...
@overload
def format_ms(ms: None) -> None: ...
@overload
def format_ms(ms: int | None) -> str | None: ...
def format_ms(ms: int | None) -> str | None:
    """Epoch milliseconds (how the store keeps time) in Okta's timestamp form; None stays None."""
    return None if ms is None else format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))
