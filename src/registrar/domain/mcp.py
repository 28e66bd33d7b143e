"""MCP servers and the authorization servers discovered for them: values, request bodies, lifecycle rules.

Detected metadata has three spellings, each produced here only: the API's (``resourceName``), the
stored JSON (the same), and the audit log's (``mcpServerResourceName`` inside a JSON string, as the
event catalog's ``mcp_server_detected_metadata`` / ``auth_server_detected_metadata`` examples show).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registrar.errors import Conflict

from .inputs import ServerMetadataPatch, Url, _Body
from .statuses import Status

__all__ = [
    "ID_JAG_PROFILE",
    "JWT_BEARER_GRANT",
    "AuthServerMetadata",
    "McpAuthServer",
    "McpServer",
    "McpServerCreate",
    "McpServerDetail",
    "McpServerPatch",
    "ResourceMetadata",
    "ensure_activatable",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ID_JAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"


def _strings(value: Any) -> tuple[str, ...]:
    """A JSON array of strings as a tuple; anything else (absent, malformed) as empty."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def event_json(value: Mapping[str, Any]) -> str:
    """The JSON string an event carries for detected metadata (the catalog's example formatting)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """What an MCP server's protected-resource metadata (RFC 9728) says about it."""

    resource_name: str | None = None
    scopes_supported: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The API / storage form."""
        return {"resourceName": self.resource_name, "scopesSupported": list(self.scopes_supported)}

    def to_event(self) -> str:
        """The ``mcpServerDetectedMetadata`` string of events."""
        return event_json(
            {
                "mcpServerResourceName": self.resource_name,
                "mcpServerScopesSupported": list(self.scopes_supported),
            }
        )


@dataclass(frozen=True, slots=True)
class AuthServerMetadata:
    """What an authorization server's metadata (RFC 8414 / OpenID Connect Discovery) says about it."""

    token_endpoint: str
    authorization_endpoint: str | None = None
    grant_types_supported: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()
    identity_chaining_requested_token_types_supported: tuple[str, ...] = ()
    authorization_grant_profiles_supported: tuple[str, ...] = ()

    @property
    def id_jag_supported(self) -> bool:
        """Cross App Access (ID-JAG) capable: the jwt-bearer grant and the id-jag grant profile."""
        return (
            JWT_BEARER_GRANT in self.grant_types_supported
            and ID_JAG_PROFILE in self.authorization_grant_profiles_supported
        )

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], token_endpoint: str) -> AuthServerMetadata:
        """The fields Registrar keeps from a metadata document (snake_case, as published)."""
        endpoint = doc.get("authorization_endpoint")
        return cls(
            token_endpoint=token_endpoint,
            authorization_endpoint=endpoint if isinstance(endpoint, str) else None,
            grant_types_supported=_strings(doc.get("grant_types_supported")),
            scopes_supported=_strings(doc.get("scopes_supported")),
            identity_chaining_requested_token_types_supported=_strings(
                doc.get("identity_chaining_requested_token_types_supported")
            ),
            authorization_grant_profiles_supported=_strings(
                doc.get("authorization_grant_profiles_supported")
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The API / storage form."""
        return {
            "authorizationEndpoint": self.authorization_endpoint,
            "tokenEndpoint": self.token_endpoint,
            "grantTypesSupported": list(self.grant_types_supported),
            "scopesSupported": list(self.scopes_supported),
            "identityChainingRequestedTokenTypesSupported": list(
                self.identity_chaining_requested_token_types_supported
            ),
            "authorizationGrantProfilesSupported": list(self.authorization_grant_profiles_supported),
            "idJagSupported": self.id_jag_supported,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuthServerMetadata:
        """Back from the stored form."""
        return cls(
            token_endpoint=str(data["tokenEndpoint"]),
            authorization_endpoint=data.get("authorizationEndpoint"),
            grant_types_supported=_strings(data.get("grantTypesSupported")),
            scopes_supported=_strings(data.get("scopesSupported")),
            identity_chaining_requested_token_types_supported=_strings(
                data.get("identityChainingRequestedTokenTypesSupported")
            ),
            authorization_grant_profiles_supported=_strings(data.get("authorizationGrantProfilesSupported")),
        )

    def to_event(self) -> str:
        """The ``authServerDetectedMetadata`` string of events."""
        return event_json(
            {
                "authServerGrantTypesSupported": list(self.grant_types_supported),
                "authServerIdentityChainingRequestedTokenTypesSupported": list(
                    self.identity_chaining_requested_token_types_supported
                ),
                "authServerTokenEndpoint": self.token_endpoint,
                "authServerAuthorizationEndpoint": self.authorization_endpoint,
                "authServerAuthorizationGrantProfilesSupported": list(
                    self.authorization_grant_profiles_supported
                ),
                "authServerIdJagSupported": self.id_jag_supported,
            }
        )


@dataclass(frozen=True, slots=True)
class McpServer:
    id: str
    resource_url: str
    display_name: str
    description: str | None
    status: str
    detected: ResourceMetadata
    last_refreshed_ms: int | None
    created_ms: int
    last_updated_ms: int


@dataclass(frozen=True, slots=True)
class McpAuthServer:
    """An authorization server found in an MCP server's metadata (``type`` EXTERNAL, id prefix ``eas``)."""

    id: str
    mcp_server_id: str
    issuer: str
    status: str
    detected: AuthServerMetadata
    created_ms: int
    last_updated_ms: int


@dataclass(frozen=True, slots=True)
class McpServerDetail:
    """An MCP server together with its authorization servers, in discovery order."""

    server: McpServer
    authorization_servers: tuple[McpAuthServer, ...]


class McpServerCreate(_Body):
    resourceUrl: Url
    metadata: ServerMetadataPatch | None = None


class McpServerPatch(_Body):
    resourceUrl: Url | None = None
    metadata: ServerMetadataPatch | None = None


def ensure_activatable(status: str) -> None:
    """An INVALID server (its last discovery failed) cannot be activated until a refresh succeeds."""
    if status == Status.INVALID:
        raise Conflict(
            "Cannot activate an MCP server in INVALID status. Refresh its discovery until it succeeds first."
        )
