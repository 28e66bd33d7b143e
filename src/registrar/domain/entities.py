"""The objects Registrar keeps, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ApiToken", "ClientAuthSettings", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """A principal that acts: an operator signed in to the console, a token's owner."""

    id: str
    email: str  # the login: an event actor's ``alternateId``
    display_name: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    name: str
    user: User
    scopes: frozenset[str]
    session_id: str


@dataclass(frozen=True, slots=True)
class ClientAuthSettings:
    """Client credentials for a resource server's authorization server; the secret stays sealed."""

    id: str
    name: str
    resource_orn: str
    purpose: str
    client_id: str
    scopes: tuple[str, ...]
    token_endpoint_auth_method: str
    created_ms: int
    last_updated_ms: int
