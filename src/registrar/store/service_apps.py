"""OAuth 2.0 service apps (client credentials with ``private_key_jwt``) and their used client assertions.

An app is its client id (``0oa…``, Okta's shape), a name, the public JSON Web Key Set its assertions are
checked against (validated before it gets here: :mod:`registrar.oauth`), the scopes it may be granted, and
whether it was revoked. Revoking is final; the row stays, so events keep naming something that exists.

A revocation moves the serving processes' revocation generation on, the one API tokens use
(:func:`registrar.store.tokens.notify_revocation`, then :func:`~registrar.store.tokens.announce_revocation`
after the commit): each process forgets what it knew about apps and asks the database again.

Used assertions (:func:`claim_assertion`) are rows keyed by a hash of (client id, ``jti``): inserting one
twice does nothing, which is how a replay is told, whichever process or replica saw the first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from registrar.ids import new_id, utcnow
from registrar.scopes import ALL_SCOPES

from .schema import oauth_assertions, service_apps
from .tokens import notify_revocation

__all__ = [
    "CLIENT_ID_PREFIX",
    "ServiceApp",
    "ServiceAppStatus",
    "claim_assertion",
    "create_service_app",
    "get_service_app",
    "list_service_apps",
    "purge_assertions",
    "revoke_service_app",
]

CLIENT_ID_PREFIX = "0oa"  # Okta's prefix for applications (and so OAuth client ids)

ServiceAppStatus = Literal["ACTIVE", "REVOKED"]


@dataclass(frozen=True, slots=True)
class ServiceApp:
    """One service app as stored."""

    client_id: str
    name: str
    jwks: str  # the registered JSON Web Key Set, as JSON text
    scopes: frozenset[str]
    created_ms: int
    revoked_ms: int | None

    @property
    def status(self) -> ServiceAppStatus:
        """ACTIVE until revoked."""
        return "ACTIVE" if self.revoked_ms is None else "REVOKED"


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def _app(row: Row[Any]) -> ServiceApp:
    return ServiceApp(
        client_id=row.id,
        name=row.name,
        jwks=row.jwks,
        scopes=frozenset(row.scopes.split()),
        created_ms=row.created_ms,
        revoked_ms=row.revoked_ms,
    )


def create_service_app(conn: Connection, name: str, jwks: str, scopes: Iterable[str]) -> ServiceApp:
    """A new active app with a new client id; ``jwks`` must already be a checked public key set."""
    granted = frozenset(scopes)
    unknown = granted - set(ALL_SCOPES)
    if unknown or not granted:
        raise ValueError(f"unknown or no scope(s): {', '.join(sorted(unknown))}")
    now = _now_ms()
    app = ServiceApp(new_id(CLIENT_ID_PREFIX), name, jwks, granted, now, None)
    conn.execute(
        insert(service_apps).values(
            id=app.client_id,
            name=name,
            jwks=jwks,
            scopes=" ".join(sorted(granted)),
            created_ms=now,
            last_updated_ms=now,
        )
    )
    return app


def get_service_app(conn: Connection, client_id: str) -> ServiceApp | None:
    """The app with that client id, revoked or not."""
    row = conn.execute(select(service_apps).where(service_apps.c.id == client_id)).first()
    return None if row is None else _app(row)


def list_service_apps(conn: Connection) -> list[ServiceApp]:
    """Every app, revoked ones too, oldest first."""
    return [_app(row) for row in conn.execute(select(service_apps).order_by(service_apps.c.pk))]


def revoke_service_app(conn: Connection, client_id: str) -> bool:
    """Revoke an app; False when there is none or it was revoked already (nothing changes then).

    After the commit, call :func:`registrar.store.tokens.announce_revocation`: its access tokens are
    refused from the next request on, by every process, once it returns.
    """
    now = _now_ms()
    result = conn.execute(
        update(service_apps)
        .where(service_apps.c.id == client_id, service_apps.c.revoked_ms.is_(None))
        .values(revoked_ms=now, last_updated_ms=now)
    )
    revoked = result.rowcount == 1
    if revoked:
        notify_revocation(conn, client_id)
    return revoked


def _assertion_key(client_id: str, jti: str) -> str:
    return hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()


def claim_assertion(conn: Connection, client_id: str, jti: str, expires_ms: int) -> bool:
    """Record the use of ``client_id``'s assertion ``jti`` (kept until ``expires_ms``); False: used before.

    A concurrent first use in another transaction makes this wait for that one's outcome (the primary key),
    then answer False if it committed.
    """
    values = {"jti_hash": _assertion_key(client_id, jti), "expires_ms": expires_ms}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(oauth_assertions).values(**values).on_conflict_do_nothing()
    # RETURNING, not rowcount: on this engine PostgreSQL's count comes back as -1 for ON CONFLICT DO NOTHING.
    return conn.execute(statement.returning(oauth_assertions.c.jti_hash)).first() is not None


def purge_assertions(conn: Connection, now_ms: int) -> int:
    """Forget the assertions whose ``exp`` has passed (they are refused as expired anyway)."""
    return conn.execute(delete(oauth_assertions).where(oauth_assertions.c.expires_ms < now_ms)).rowcount
