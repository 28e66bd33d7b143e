"""What every service needs: the engine, the secret box, settings and the installation's org id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from registrar.config import Settings
from registrar.crypto import SecretBox

__all__ = ["Deps", "client_auth_settings_orn"]


@dataclass(frozen=True, slots=True)
class Deps:
    engine: Engine
    box: SecretBox
    settings: Settings
    org_id: str


def client_auth_settings_orn(org_id: str, settings_id: str) -> str:
    """The ORN of client authentication settings."""
    return f"orn:registrar:idp:{org_id}:client-auth-settings:{settings_id}"
