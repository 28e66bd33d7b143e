"""The 29 ``resource_servers.*`` event types of Okta's catalog, and the targets they carry.

The first 19 are the seed's (2026.04.0); Okta added ten since: ``mcp_server.capability.discover``, five
``virtual_mcp_server.*`` and four ``a2a_server.*``. Target types and ``detailEntry`` keys follow the
catalog's schemas (``ApiServerDetails``, ``ApiAuthServerResourceDetails``, ``McpServerResourceDetails``,
``ExternalAuthServerResourceDetails``, ``McpServerToolResourceDetails``, ``ClientAuthSettingResourceDetails``,
``ResourceDetails``), with the catalog's snake_case property names written in the camelCase the wire
uses everywhere else.

Okta's catalog has no type for some operations Registrar performs on the newer kinds (an A2A server's
lifecycle and metadata, a virtual MCP server's creation, metadata, lifecycle and deletion: Okta writes those
through another API whose events are not published). They are audited all the same, with types of the same
shape in ``EXTENSION_EVENT_TYPES``, kept apart from ``CATALOG`` so that the 29 stay exactly Okta's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from registrar.scopes import A2A_MANAGE, API_MANAGE, CAS_MANAGE, MCP_MANAGE, VMCP_MANAGE

__all__ = ["AUDITED", "CATALOG", "EXTENSION_EVENT_TYPES", "OKTA_EVENT_TYPES", "EventType", "Target", "target"]

Target = dict[str, Any]
Changes = tuple[Mapping[str, Any], Mapping[str, Any]]  # (from, to): what an update changed


@dataclass(frozen=True, slots=True)
class EventType:
    """One audited operation: its ``eventType`` and the sentence Okta shows for it."""

    name: str
    display_message: str
    scope: str = ""  # the token scope that allows the operation; empty for Okta's own types (below)

    def __str__(self) -> str:
        return self.name


# ``CATALOG``, ``EXTENSION_EVENT_TYPES`` and ``OKTA_EVENT_TYPES`` (below), each filled by the maker that
# defines its types, so that a type is named once.
_catalog: dict[str, EventType] = {}
_extensions: dict[str, EventType] = {}
_okta_own: dict[str, EventType] = {}


def _entered(table: dict[str, EventType], event_type: EventType) -> EventType:
    """``event_type``, entered in ``table`` under its name."""
    table[event_type.name] = event_type
    return event_type


def _family(family: str, scope: str, table: dict[str, EventType]) -> Callable[[str, str], EventType]:
    """The types ``resource_servers.<family>.<action>``, allowed by ``scope``, entered in ``table``."""

    def event_type(action: str, display_message: str) -> EventType:
        return _entered(table, EventType(f"resource_servers.{family}.{action}", display_message, scope))

    return event_type


def _okta(name: str, display_message: str) -> EventType:
    """One of Okta's own types (no scope allows it), entered in ``OKTA_EVENT_TYPES``."""
    return _entered(_okta_own, EventType(name, display_message))


_api = _family("api_server", API_MANAGE, _catalog)
_cas = _family("client_authentication_settings", CAS_MANAGE, _catalog)
_mcp = _family("mcp_server", MCP_MANAGE, _catalog)
_vmcp = _family("virtual_mcp_server", VMCP_MANAGE, _catalog)
_a2a = _family("a2a_server", A2A_MANAGE, _catalog)
_vmcp_own = _family("virtual_mcp_server", VMCP_MANAGE, _extensions)
_a2a_own = _family("a2a_server", A2A_MANAGE, _extensions)

API_SERVER_REGISTER = _api("register", "Register API server")
API_SERVER_UPDATE = _api("update", "Update API server")
API_SERVER_ACTIVATE = _api("activate", "Activate API server")
API_SERVER_DEACTIVATE = _api("deactivate", "Deactivate API server")
API_SERVER_DELETE = _api("delete", "Delete API server")
API_AUTH_SERVER_ADD = _api("auth_server.add", "Add authorization server to API server")
API_AUTH_SERVER_UPDATE = _api("auth_server.update", "Update authorization server of API server")
API_AUTH_SERVER_REMOVE = _api("auth_server.remove", "Remove authorization server from API server")
CLIENT_AUTH_SETTINGS_CREATE = _cas("create", "Create client authentication settings")
CLIENT_AUTH_SETTINGS_UPDATE = _cas("update", "Update client authentication settings")
CLIENT_AUTH_SETTINGS_DELETE = _cas("delete", "Delete client authentication settings")
MCP_SERVER_REGISTER = _mcp("register", "Register MCP server")
MCP_SERVER_UPDATE = _mcp("update", "Update MCP server")
MCP_SERVER_ACTIVATE = _mcp("activate", "Activate MCP server")
MCP_SERVER_DEACTIVATE = _mcp("deactivate", "Deactivate MCP server")
MCP_SERVER_DELETE = _mcp("delete", "Delete MCP server")
MCP_AUTH_SERVER_CREATE = _mcp("auth_server.create", "Create third-party authorization server")
MCP_AUTH_SERVER_UPDATE = _mcp("auth_server.update", "Update third-party authorization server")
MCP_AUTH_SERVER_DELETE = _mcp("auth_server.delete", "Delete third-party authorization server")

MCP_CAPABILITY_DISCOVER = _mcp("capability.discover", "Discover MCP server capabilities")
VMCP_AUTH_SERVER_ADD = _vmcp("auth_server.add", "Add authorization server to virtual MCP server")
VMCP_AUTH_SERVER_REMOVE = _vmcp("auth_server.remove", "Remove authorization server from virtual MCP server")
VMCP_CAPABILITY_ADD = _vmcp("capability.add", "Add capability to virtual MCP server")
VMCP_CAPABILITY_REMOVE = _vmcp("capability.remove", "Remove capability from virtual MCP server")
VMCP_CAPABILITY_UPDATE = _vmcp("capability.update", "Update capability of virtual MCP server")
A2A_SERVER_REGISTER = _a2a("register", "Register A2A server")
A2A_SERVER_DELETE = _a2a("delete", "Delete A2A server")
A2A_AUTH_SERVER_ADD = _a2a("auth_server.add", "Add authorization server to A2A server")
A2A_AUTH_SERVER_REMOVE = _a2a("auth_server.remove", "Remove authorization server from A2A server")

# Registrar's own types for operations Okta's catalog names no type for (see the module docstring).
A2A_SERVER_UPDATE = _a2a_own("update", "Update A2A server")
A2A_SERVER_ACTIVATE = _a2a_own("activate", "Activate A2A server")
A2A_SERVER_DEACTIVATE = _a2a_own("deactivate", "Deactivate A2A server")
VMCP_SERVER_CREATE = _vmcp_own("create", "Create virtual MCP server")
VMCP_SERVER_UPDATE = _vmcp_own("update", "Update virtual MCP server")
VMCP_SERVER_ACTIVATE = _vmcp_own("activate", "Activate virtual MCP server")
VMCP_SERVER_DEACTIVATE = _vmcp_own("deactivate", "Deactivate virtual MCP server")
VMCP_SERVER_DELETE = _vmcp_own("delete", "Delete virtual MCP server")

# Okta's own event types, with Okta's display messages (detections match on both). They are written by
# the console's sign-in and sign-out and by ``registrar tokens``, never through ``perform``: no token scope
# allows them, so they stay out of ``CATALOG`` (Okta's ``resource_servers.*`` types).
USER_SESSION_START = _okta("user.session.start", "User login to Okta")
USER_SESSION_END = _okta("user.session.end", "User logout from Okta")
API_TOKEN_CREATE = _okta("system.api_token.create", "Create API token")
API_TOKEN_REVOKE = _okta("system.api_token.revoke", "Revoke API token")

# OAuth 2.0 service apps (``registrar service-apps``, ``POST /oauth2/v1/token`` at the org authorization
# server): an app's creation and revocation (Okta deactivates an app that may no longer get tokens), a granted
# access token, and a refused token request (Okta's type for a failed grant has no ``.access_token``).
APP_CREATE = _okta("application.lifecycle.create", "Create application")
APP_DEACTIVATE = _okta("application.lifecycle.deactivate", "Deactivate application")
ACCESS_TOKEN_GRANT = _okta("app.oauth2.token.grant.access_token", "OIDC access token is granted")
TOKEN_GRANT_FAILURE = _okta("app.oauth2.token.grant", "OAuth 2.0 token grant request")

# The tables, as the makers above filled them (in the order the types are defined): Okta's 29, Registrar's
# extensions, Okta's own types and every type the registry's operations write through ``perform`` (Okta's 29
# and Registrar's extensions).
CATALOG: Mapping[str, EventType] = MappingProxyType(_catalog)
EXTENSION_EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(_extensions)
OKTA_EVENT_TYPES: Mapping[str, EventType] = MappingProxyType(_okta_own)
AUDITED: Mapping[str, EventType] = MappingProxyType({**CATALOG, **EXTENSION_EVENT_TYPES})


def target(
    id: str,
    type: str,
    alternate_id: str | None,
    display_name: str,
    detail: Mapping[str, Any] | None = None,
    changes: Changes | None = None,
) -> Target:
    """A ``LogTarget`` in Okta's key order; ``changes`` is ``(from, to)`` for update events."""
    entry: Target = {
        "id": id,
        "type": type,
        "alternateId": alternate_id,
        "displayName": display_name,
        "detailEntry": dict(detail) if detail else None,
    }
    if changes is not None:
        entry["changeDetails"] = {"from": dict(changes[0]), "to": dict(changes[1])}
    return entry


def api_server_target(
    server_id: str, resource_url: str, display_name: str, changes: Changes | None = None
) -> Target:
    """``ApiServerDetails``: the API server, first target of every api_server event."""
    detail = {"apiServerId": server_id, "apiServerDisplayName": display_name}
    return target(server_id, "ApiServer", resource_url, display_name, detail, changes)


def api_auth_server_target(
    auth_server_id: str,
    issuer: str,
    authorization_endpoint: str,
    token_endpoint: str,
    grant_types: Sequence[str],
    changes: Changes | None = None,
) -> Target:
    """``ApiAuthServerResourceDetails``: a third-party authorization server linked to an API server."""
    detail = {
        "authServerIssuer": issuer,
        "authServerAuthorizationEndpoint": authorization_endpoint,
        "authServerTokenEndpoint": token_endpoint,
        "authServerGrantTypesSupported": list(grant_types),
    }
    return target(auth_server_id, "ApiAuthServer", issuer, issuer, detail, changes)


def client_auth_settings_target(
    settings_id: str, orn: str, name: str, resource_orn: str, changes: Changes | None = None
) -> Target:
    """``ResourceDetails``: client authentication settings (never carries the secret)."""
    detail = {"clientAuthSettingId": settings_id, "clientAuthSettingName": name, "resourceOrn": resource_orn}
    return target(settings_id, "ClientAuthSettings", orn, name, detail, changes)


def unknown_target(object_id: str, kind: str) -> Target:
    """A target known only by the id a failed request named (e.g. a 404)."""
    return target(object_id, kind, "unknown", "unknown")


@dataclass(frozen=True, slots=True)
class _DiscoveredTarget:
    """The target of a resource Registrar discovers (a URL, a status and detected metadata, a JSON string):
    its ``type`` and the ``detailEntry`` key of each member, in Okta's order (``None``: not carried)."""

    type: str
    id_key: str | None
    name_key: str | None
    url_key: str
    status_key: str
    detected_key: str

    def __call__(
        self,
        server_id: str,
        resource_url: str,
        display_name: str,
        status: str,
        detected_metadata: str,
        changes: Changes | None = None,
    ) -> Target:
        members = (
            (self.id_key, server_id),
            (self.name_key, display_name),
            (self.url_key, resource_url),
            (self.status_key, status),
            (self.detected_key, detected_metadata),
        )
        detail = {key: value for key, value in members if key is not None}
        return target(server_id, self.type, resource_url, display_name, detail, changes)


# ``McpServerResourceDetails``: an MCP server; ``detected_metadata`` is the catalog's JSON string.
mcp_server_target = _DiscoveredTarget(
    "McpServer", None, None, "mcpServerResourceUrl", "mcpServerStatus", "mcpServerDetectedMetadata"
)
_external_auth_server_target = _DiscoveredTarget(
    "ExternalAuthServer", None, None, "authServerIssuerUrl", "authServerStatus", "authServerDetectedMetadata"
)


def external_auth_server_target(
    auth_server_id: str, issuer: str, status: str, detected_metadata: str, changes: Changes | None = None
) -> Target:
    """``ExternalAuthServerResourceDetails``: an authorization server discovered for an MCP server."""
    return _external_auth_server_target(auth_server_id, issuer, issuer, status, detected_metadata, changes)


def token_target(
    token_id: str, name: str, scopes: Iterable[str], expires: str | None, owner_id: str
) -> Target:
    """An API token, as Okta names it in ``system.api_token.*`` (``alternateId`` is Okta's "unknown").

    ``detailEntry`` says what the token may do and until when (``expiresAt`` null: never expires), which
    Okta's own events leave to the token's owner being the actor; here the actor is whoever ran the CLI.
    """
    detail = {"tokenOwnerId": owner_id, "scopes": " ".join(sorted(scopes)), "expiresAt": expires}
    return target(token_id, "Token", "unknown", name, detail)


def app_instance_target(client_id: str, name: str, scopes: Iterable[str], key_ids: Iterable[str]) -> Target:
    """A service app, as Okta names an OAuth app (``AppInstance``; ``alternateId`` is Okta's app name for
    OAuth clients, ``oidc_client``); ``detailEntry`` says what it may be granted and with which keys."""
    detail = {
        "clientId": client_id,
        "grantedScopes": " ".join(sorted(scopes)),
        "tokenEndpointAuthMethod": "private_key_jwt",
        "keyIds": " ".join(key_ids),
    }
    return target(client_id, "AppInstance", "oidc_client", name, detail)


def access_token_target(token_id: str, expires: str, subject: str, token_hash: str) -> Target:
    """A granted access token as Okta writes it: its ``jti``, no ``alternateId``, when it expires, whose
    it is and a hash of it (never the token)."""
    detail = {"expires": expires, "subject": subject, "hash": token_hash}
    return target(token_id, "access_token", None, "Access Token", detail)


def user_target(user_id: str, email: str, display_name: str) -> Target:
    """A user (Okta's ``User`` target): the owner of a token."""
    return target(user_id, "User", email, display_name)


def mcp_server_tool_target(tool_id: str, name: str, orn: str, changes: Changes | None = None) -> Target:
    """``McpServerToolResourceDetails``: a tool discovered on an MCP server (``alternateId`` is its ORN)."""
    detail = {"mcpServerToolName": name, "mcpServerToolId": tool_id}
    return target(tool_id, "McpServerTool", orn, name, detail, changes)


def client_auth_setting_resource_target(settings_id: str, name: str, orn: str) -> Target:
    """``ClientAuthSettingResourceDetails``: the credential a tool discovery authenticated with."""
    detail = {"clientAuthSettingName": name, "clientAuthSettingId": settings_id}
    return target(settings_id, "ClientAuthSettings", orn, name, detail)


# An A2A server; ``detected_metadata`` is a JSON string of what its agent card declared.
a2a_server_target = _DiscoveredTarget(
    "A2aServer",
    "a2aServerId",
    "a2aServerDisplayName",
    "a2aServerResourceUrl",
    "a2aServerStatus",
    "a2aServerDetectedMetadata",
)


def virtual_mcp_server_target(
    server_id: str, orn: str, display_name: str, status: str, changes: Changes | None = None
) -> Target:
    """A virtual MCP server (a composition of discovered tools): no URL, so ``alternateId`` is its ORN."""
    detail = {
        "virtualMcpServerId": server_id,
        "virtualMcpServerDisplayName": display_name,
        "virtualMcpServerStatus": status,
    }
    return target(server_id, "VirtualMcpServer", orn, display_name, detail, changes)
