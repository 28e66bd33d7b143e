"""What every service needs: the engine, the secret box, settings and the installation's org id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from registrar.config import Settings
from registrar.crypto import SecretBox

__all__ = ["Deps", "api_server_orn", "client_auth_settings_orn", "mcp_server_orn"]


@dataclass(frozen=True, slots=True)
class Deps:
    engine: Engine
    box: SecretBox
    settings: Settings
    org_id: str


def api_server_orn(org_id: str, server_id: str) -> str:
    """The ORN of an API server."""
    return f"orn:registrar:directory:{org_id}:resource-servers:api:{server_id}"


def mcp_server_orn(org_id: str, server_id: str) -> str:
    """The ORN of an MCP server."""
    return f"orn:registrar:directory:{org_id}:resource-servers:mcp:{server_id}"


def client_auth_settings_orn(org_id: str, settings_id: str) -> str:
    """The ORN of client authentication settings."""
    return f"orn:registrar:idp:{org_id}:client-auth-settings:{settings_id}"
