"""Users and API tokens. Only a SHA-256 of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from registrar.domain.entities import ApiToken, User
from registrar.ids import API_TOKEN, USER, new_id, utcnow

from .schema import api_tokens, users

__all__ = ["ALL_SCOPES", "create_token", "ensure_user", "find_token", "hash_token"]

ALL_SCOPES: tuple[str, ...] = (
    "okta.resourceServers.apiServers.read",
    "okta.resourceServers.apiServers.manage",
    "okta.resourceServers.mcpServers.read",
    "okta.resourceServers.mcpServers.manage",
    "okta.resourceServers.clientAuthSettings.read",
    "okta.resourceServers.clientAuthSettings.manage",
    "okta.logs.read",
    "okta.eventHooks.read",
    "okta.eventHooks.manage",
)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def ensure_user(conn: Connection, email: str, display_name: str | None) -> User:
    """The user with that email, created if new (display name defaults to the email's local part)."""
    row = conn.execute(select(users).where(users.c.email == email)).first()
    if row is not None:
        return User(id=row.id, email=row.email, display_name=row.display_name)
    user = User(id=new_id(USER), email=email, display_name=display_name or email.split("@", 1)[0])
    conn.execute(
        insert(users).values(
            id=user.id, email=user.email, display_name=user.display_name, created_ms=_now_ms()
        )
    )
    return user


def create_token(conn: Connection, user: User, name: str, scopes: Iterable[str]) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the record and the token text (shown once, never stored)."""
    scope_set = frozenset(scopes)
    unknown = scope_set - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    secret = "00" + secrets.token_urlsafe(30)
    token = ApiToken(
        id=new_id(API_TOKEN),
        name=name,
        user=user,
        scopes=scope_set,
        # A stable per-token session id: correlates every event made with this token.
        session_id="trs" + secrets.token_urlsafe(16),
    )
    conn.execute(
        insert(api_tokens).values(
            id=token.id,
            name=name,
            user_id=user.id,
            token_hash=hash_token(secret),
            scopes=" ".join(sorted(scope_set)),
            session_id=token.session_id,
            created_ms=_now_ms(),
        )
    )
    return token, secret


def find_token(conn: Connection, secret: str) -> ApiToken | None:
    """The live token whose text is ``secret``, with its user."""
    row = conn.execute(
        select(api_tokens, users.c.email, users.c.display_name)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == hash_token(secret), api_tokens.c.revoked_ms.is_(None))
    ).first()
    if row is None:
        return None
    return ApiToken(
        id=row.id,
        name=row.name,
        user=User(id=row.user_id, email=row.email, display_name=row.display_name),
        scopes=frozenset(row.scopes.split()),
        session_id=row.session_id,
    )
