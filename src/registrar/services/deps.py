"""What every service needs: the engine, the secret box, settings and the installation's org id."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine

from registrar.config import Settings
from registrar.crypto import SecretBox
from registrar.store.replica import Reads

__all__ = ["Deps", "client_auth_settings_orn"]


@dataclass(frozen=True, slots=True)
class Deps:
    engine: Engine
    box: SecretBox
    settings: Settings
    org_id: str
    # A read-only engine on a streaming replica of ``engine`` (REGISTRAR_READ_DATABASE_URL), or None.
    replica_engine: Engine | None = None

    @property
    def read_engine(self) -> Engine:
        """Where reads that scale out go (the System Log, tlog tiles, registry lists): the replica, if any."""
        return self.replica_engine or self.engine

    @property
    def reads(self) -> Reads:
        """Those reads, with the rules for a replica that lags or fails (:mod:`registrar.store.replica`)."""
        return Reads(self.engine, self.replica_engine, self.settings.read_replica_wait_seconds)

    def reading_from(self, engine: Engine) -> Deps:
        """These deps with ``engine`` as their engine: for a read-only service call on the read engine."""
        return replace(self, engine=engine)


def client_auth_settings_orn(org_id: str, settings_id: str) -> str:
    """The ORN of client authentication settings."""
    return f"orn:registrar:idp:{org_id}:client-auth-settings:{settings_id}"
