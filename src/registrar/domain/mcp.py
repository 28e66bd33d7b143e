"""MCP servers and the authorization servers discovered for them: values, request bodies, lifecycle rules.

Detected metadata comes from documents an MCP server's operator writes, so it is read as hostile
(``ResourceMetadata.from_document``, ``AuthServerMetadata.from_document``): every string kept passes the
rules of admin input (no control characters, NUL included; a name or a list item at most 255
characters, a URL at most 2048) and every list at most ``MAX_LIST_ITEMS`` values. A document that breaks
one is refused whole with a ``DiscoveryFailed`` naming the member: a clean name, scope or URL never needs
a control character, so one is a sign of a broken or hostile server, and a cleaned copy would record
something the server never said. Members of the wrong JSON type are ignored, as before.

Detected metadata has three spellings, each produced here only: the API's (``resourceName``), the
stored JSON (the same), and the audit log's (``mcpServerResourceName`` inside a JSON string, as the
event catalog's ``mcp_server_detected_metadata`` / ``auth_server_detected_metadata`` examples show).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registrar.controls import clean_value, control_problem
from registrar.errors import Conflict, DiscoveryFailed

from .inputs import ApiServerPatch, ServerMetadataPatch, Url, _Body
from .resources import AuthServer, ResourceServer, ServerDetail
from .statuses import Status
from .urls import MAX_URL_LENGTH

__all__ = [
    "ID_JAG_PROFILE",
    "JWT_BEARER_GRANT",
    "MAX_ITEM_LENGTH",
    "MAX_LIST_ITEMS",
    "MAX_NAME_LENGTH",
    "AuthServerMetadata",
    "McpAuthServer",
    "McpServer",
    "McpServerCreate",
    "McpServerDetail",
    "McpServerPatch",
    "ResourceMetadata",
    "ensure_activatable",
    "remote_text",
]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ID_JAG_PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"

MAX_NAME_LENGTH = 255  # ``resource_name``: as an admin's ``displayName``
MAX_ITEM_LENGTH = 255  # one scope, grant type, token type or grant profile: as an admin's scopes
MAX_LIST_ITEMS = 256  # values of one list (real servers list tens; Okta's own org server ~100 scopes)


def _strings(value: Any) -> tuple[str, ...]:
    """A JSON array of strings as a tuple; anything else (absent, malformed) as empty."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def remote_text(
    doc: Mapping[str, Any], key: str, max_length: int, *, member: str | None = None
) -> str | None:
    """A string member of a remote document, checked; absent, empty or not a string: None.

    A refused value fails the whole document with a ``DiscoveryFailed`` naming ``member`` (``key`` unless
    the member is nested).
    """
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        return None
    if why := control_problem(value, max_length):
        raise DiscoveryFailed(f"{member or key} {why}")
    return value


def _remote_strings(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The strings of a list member of a remote document, each checked (other values ignored)."""
    value = doc.get(key)
    if not isinstance(value, list):
        return ()
    if len(value) > MAX_LIST_ITEMS:
        raise DiscoveryFailed(f"{key} lists {len(value)} values; at most {MAX_LIST_ITEMS} are accepted")
    kept: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            if why := control_problem(item, MAX_ITEM_LENGTH):
                raise DiscoveryFailed(f"{key}[{index}] {why}")
            kept.append(item)
    return tuple(kept)


def event_json(value: Mapping[str, Any]) -> str:
    """The JSON string an event carries for detected metadata (the catalog's example formatting).

    Cleaned first, like the rest of the event: json.dumps would escape a control character of a row
    stored before metadata was checked into ``\\u001b`` text, which the event's own cleaning cannot see.
    """
    return json.dumps(clean_value(value), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ResourceMetadata:
    """What an MCP server's protected-resource metadata (RFC 9728) says about it."""

    resource_name: str | None = None
    scopes_supported: tuple[str, ...] = ()

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ResourceMetadata:
        """The members Registrar keeps from protected-resource metadata; ``DiscoveryFailed`` if unfit."""
        return cls(
            resource_name=remote_text(doc, "resource_name", MAX_NAME_LENGTH),
            scopes_supported=_remote_strings(doc, "scopes_supported"),
        )

    def to_json(self) -> dict[str, Any]:
        """The API / storage form."""
        return {"resourceName": self.resource_name, "scopesSupported": list(self.scopes_supported)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceMetadata:
        """Back from the stored form (``{}``: nothing detected yet)."""
        name = data.get("resourceName")
        return cls(name if isinstance(name, str) else None, _strings(data.get("scopesSupported")))

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
        """The fields Registrar keeps from a metadata document (snake_case, as published), checked."""
        if why := control_problem(token_endpoint, MAX_URL_LENGTH):
            raise DiscoveryFailed(f"token_endpoint {why}")
        return cls(
            token_endpoint=token_endpoint,
            authorization_endpoint=remote_text(doc, "authorization_endpoint", MAX_URL_LENGTH),
            grant_types_supported=_remote_strings(doc, "grant_types_supported"),
            scopes_supported=_remote_strings(doc, "scopes_supported"),
            identity_chaining_requested_token_types_supported=_remote_strings(
                doc, "identity_chaining_requested_token_types_supported"
            ),
            authorization_grant_profiles_supported=_remote_strings(
                doc, "authorization_grant_profiles_supported"
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


# An MCP server, its discovered authorization servers, and both together (the kind's detected values).
McpServer = ResourceServer[ResourceMetadata]
McpAuthServer = AuthServer[AuthServerMetadata]
McpServerDetail = ServerDetail[ResourceMetadata]


class McpServerCreate(_Body):
    resourceUrl: Url
    metadata: ServerMetadataPatch | None = None


# An MCP server's changes: the members of an API server's (a docstring would enter the OpenAPI schema).
class McpServerPatch(ApiServerPatch):
    pass


def ensure_activatable(status: str) -> None:
    """An INVALID server (its last discovery failed) cannot be activated until a refresh succeeds."""
    if status == Status.INVALID:
        raise Conflict(
            "Cannot activate an MCP server in INVALID status. Refresh its discovery until it succeeds first."
        )
