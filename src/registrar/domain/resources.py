"""Resource servers of every kind and the authorization servers linked to them, as plain values.

What all kinds share lives here: identity, URL, metadata, lifecycle status and the linked authorization
servers. What a kind detects about a server (an MCP server's protected-resource metadata, an A2A agent's
card, nothing for an API server) is its ``detected`` value, read and written by the kind's codec
(``registrar.kinds``); an authorization server's ``detected`` value is either what an admin entered
(``EnteredEndpoints``) or what its metadata document said (``AuthServerMetadata``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "AuthServer",
    "Endpoints",
    "EnteredEndpoints",
    "NoMetadata",
    "ResourceServer",
    "ServerDetail",
]


class Endpoints(Protocol):
    """What every authorization server's metadata says, entered or discovered."""

    @property
    def authorization_endpoint(self) -> str | None: ...

    @property
    def token_endpoint(self) -> str | None: ...

    @property
    def grant_types_supported(self) -> tuple[str, ...]: ...


D = TypeVar("D")
M = TypeVar("M", bound=Endpoints)


# Not slotted: a slotted frozen dataclass cannot be built through its subscripted alias (``McpServer(...)``).
@dataclass(frozen=True)
class ResourceServer(Generic[D]):
    """A registered resource server; ``resource_url`` is None for a virtual MCP server (it has none)."""

    id: str
    resource_url: str | None
    display_name: str
    description: str | None
    status: str
    detected: D
    last_refreshed_ms: int | None
    created_ms: int
    last_updated_ms: int

    @property
    def url(self) -> str:
        """The resource URL of a server that has one (every kind but the virtual MCP server)."""
        if self.resource_url is None:
            raise ValueError(f"{self.id} has no resource URL")
        return self.resource_url


@dataclass(frozen=True)
class AuthServer(Generic[M]):
    """An authorization server linked to a resource server (id prefix ``eas``)."""

    id: str
    server_id: str
    issuer: str
    status: str
    detected: M
    created_ms: int
    last_updated_ms: int

    @property
    def authorization_endpoint(self) -> str | None:
        return self.detected.authorization_endpoint

    @property
    def token_endpoint(self) -> str | None:
        return self.detected.token_endpoint

    @property
    def grant_types(self) -> tuple[str, ...]:
        return self.detected.grant_types_supported


@dataclass(frozen=True)
class ServerDetail(Generic[D]):
    """A resource server together with its authorization servers, in linking order."""

    server: ResourceServer[D]
    authorization_servers: tuple[AuthServer[Any], ...]
    extras: Mapping[str, Any] = field(default_factory=dict)  # ``Kind.extras``: JSON members of its own


@dataclass(frozen=True, slots=True)
class EnteredEndpoints:
    """An admin-entered authorization server: its endpoints and grant types, as entered."""

    authorization_endpoint: str
    token_endpoint: str
    grant_types_supported: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoMetadata:
    """The detected metadata of a kind that detects nothing (API servers, virtual MCP servers)."""

    def to_json(self) -> dict[str, Any]:
        """The API / storage form: empty."""
        return {}

    @classmethod
    def from_json(cls, _data: Mapping[str, Any]) -> NoMetadata:
        """Back from the stored form."""
        return cls()
