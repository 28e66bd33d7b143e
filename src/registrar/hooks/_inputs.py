"""The event hook request bodies (Okta's ``EventHook`` shape), validated into a :class:`HookSpec`.

Messages name the field and the rule, never the value: a rejected body may hold the auth header's secret.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from registrar.domain.inputs import _Body, parse_body
from registrar.domain.urls import url_problem
from registrar.errors import ValidationFailed
from registrar.events.catalog import AUDITED, OKTA_EVENT_TYPES
from registrar.syslog.cursor import Cursor, parse_cursor
from registrar.syslog.timeparse import parse_timestamp

from ._model import HookSpec

__all__ = ["EventHookBody", "ReplayBody", "parse_hook_body", "parse_replay_body"]

MAX_HEADERS = 20
MAX_EVENT_TYPES = 300  # Okta's limit per hook

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
HeaderValue = Annotated[str, StringConstraints(max_length=1024)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024)]

# RFC 9110 field names; values are visible characters, spaces and tabs (no CR/LF: no header injection).
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,255}$")
_FIELD_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
# Headers the delivery itself owns: a hook may not override framing, the host or the challenge.
_RESERVED = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept-encoding",
        "x-okta-verification-challenge",
    }
)


class HeaderBody(_Body):
    key: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: HeaderValue


class AuthSchemeBody(_Body):
    type: Literal["HEADER"]
    key: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    value: Secret | None = None


class ChannelConfigBody(_Body):
    uri: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    headers: Annotated[list[HeaderBody], Field(max_length=MAX_HEADERS)] | None = None
    authScheme: AuthSchemeBody | None = None  # noqa: N815 - the wire's member name
    method: Literal["POST"] | None = None


class ChannelBody(_Body):
    type: Literal["HTTP"]
    version: Literal["1.0.0"]
    config: ChannelConfigBody


def _no_filter(value: Any) -> None:
    if value is not None:  # Okta's expression filters (Early Access) are not supported
        raise PydanticCustomError("filter_unsupported", "Event hook filters are not supported")
    return


class EventsBody(_Body):
    type: Literal["EVENT_TYPE"]
    items: Annotated[list[str], Field(min_length=1, max_length=MAX_EVENT_TYPES)]
    filter: Annotated[None, BeforeValidator(_no_filter)] = None


class EventHookBody(_Body):
    """Okta's ``EventHook`` as sent to create or replace; read-only members are accepted and ignored."""

    name: Name
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    events: EventsBody
    channel: ChannelBody
    # What a client read from us and sends back unchanged (the okta SDK's get → replace round trip).
    id: Any = None
    status: Any = None
    verificationStatus: Any = None  # noqa: N815
    created: Any = None
    createdBy: Any = None  # noqa: N815
    lastUpdated: Any = None  # noqa: N815
    links: Any = Field(default=None, alias="_links")
    delivery: Any = None


class ReplayBody(_Body):
    after: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    since: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


def parse_hook_body(raw: bytes, *, allow_http: bool) -> HookSpec:
    """Validate a create or replace body; raises ``MalformedBody`` or ``ValidationFailed`` (400)."""
    body, _ = parse_body(raw, EventHookBody)
    problems: list[str] = []
    unknown = sorted({t for t in body.events.items if t not in AUDITED and t not in OKTA_EVENT_TYPES})
    if unknown:
        problems.append(f"events.items: Unknown or ineligible event types: {', '.join(unknown)[:500]}")
    config = body.channel.config
    if (why := url_problem(config.uri, allow_http=allow_http)) is not None:
        problems.append(f"channel.config.uri: {why}")
    headers = tuple((h.key, h.value) for h in config.headers or ())
    auth = config.authScheme
    names = [key for key, _ in headers] + ([auth.key] if auth else [])
    for index, (key, value) in enumerate(headers):
        problems += _header_problems(f"channel.config.headers.{index}", key, value)
    if auth is not None:
        problems += _header_problems("channel.config.authScheme", auth.key, auth.value or "")
    lowered = [name.lower() for name in names]
    if len(set(lowered)) != len(lowered):
        problems.append("channel.config.headers: A header may be configured only once")
    if problems:
        raise ValidationFailed(problems)
    return HookSpec(
        name=body.name,
        description=body.description,
        event_types=tuple(dict.fromkeys(body.events.items)),
        uri=config.uri,
        headers=headers,
        auth_key=auth.key if auth else None,
        auth_value=auth.value if auth else None,
    )


def _header_problems(where: str, key: str, value: str) -> list[str]:
    problems = []
    if not _TOKEN.match(key):
        problems.append(f"{where}.key: must be an HTTP header name")
    elif key.lower() in _RESERVED:
        problems.append(f"{where}.key: {key} is set by the delivery itself and cannot be configured")
    if not _FIELD_VALUE.match(value):
        problems.append(f"{where}.value: must not contain control characters")
    return problems


def parse_replay_body(raw: bytes, head_seq: int) -> Cursor | int:
    """The position a replay asks for: a System Log cursor (``after``) or a time in epoch ms (``since``)."""
    body, _ = parse_body(raw, ReplayBody)
    if (body.after is None) == (body.since is None):
        raise ValidationFailed(["after: Give exactly one of after (a System Log cursor) or since (a time)"])
    if body.after is not None:
        return parse_cursor(body.after, head_seq)
    assert body.since is not None
    moment = parse_timestamp(body.since)
    if moment is None:
        raise ValidationFailed(["since: must be an ISO 8601 timestamp"])
    return int(moment.timestamp() * 1000)
