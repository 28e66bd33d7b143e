"""The request context: everything about the caller that an event records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["SYSTEM_ACTOR", "Actor", "ClientInfo", "RequestContext"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal an event is attributed to (Okta's ``LogActor``)."""

    id: str
    type: str
    alternate_id: str
    display_name: str


SYSTEM_ACTOR = Actor(
    id="0oaRegistrarSystem00",
    type="SystemPrincipal",
    alternate_id="system@registrar",
    display_name="Registrar System",
)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The network client of a request (Okta's ``client`` and ``request.ipChain``)."""

    ip_address: str | None
    raw_user_agent: str | None


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request or one scheduled job: the source of every event it writes."""

    request_id: str
    actor: Actor
    client: ClientInfo
    request_uri: str
    url: str
    token_id: str | None = None
    session_id: str | None = None
    scopes: frozenset[str] = frozenset()
    transaction_type: Literal["WEB", "JOB"] = "WEB"
