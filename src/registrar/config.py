"""Settings, read once from the environment (``REGISTRAR_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]

_TRUE = {"1", "true", "yes", "on"}


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None or raw == "" else raw.strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator can configure; see the README's settings table."""

    database_url: str = "sqlite:///./registrar.db"
    secret_key: str | None = None
    secret_key_file: Path = field(default_factory=lambda: Path("registrar.key"))
    rate_limit_per_minute: int = 1200
    discovery_allow_http: bool = False
    sqlite_synchronous: str = "NORMAL"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``REGISTRAR_*`` variables, falling back to the defaults."""
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            database_url=env.get("REGISTRAR_DATABASE_URL") or defaults.database_url,
            secret_key=env.get("REGISTRAR_SECRET_KEY") or None,
            secret_key_file=Path(env.get("REGISTRAR_SECRET_KEY_FILE") or defaults.secret_key_file),
            rate_limit_per_minute=int(
                env.get("REGISTRAR_RATE_LIMIT_PER_MINUTE") or defaults.rate_limit_per_minute
            ),
            discovery_allow_http=_flag(env, "REGISTRAR_DISCOVERY_ALLOW_HTTP"),
            sqlite_synchronous=(env.get("REGISTRAR_SQLITE_SYNCHRONOUS") or "NORMAL").upper(),
        )
