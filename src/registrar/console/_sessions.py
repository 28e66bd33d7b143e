"""Server-side console sessions.

The browser holds only a random 256-bit secret (the cookie); the database holds its SHA-256, so a copy of
the database opens no session. Each session also has a public id, recorded in events as
``authenticationContext.externalSessionId``: a reader of the System Log learns which session acted but
cannot take it over. A session ends at logout, after ``IDLE_TIMEOUT`` without activity, at
``ABSOLUTE_LIFETIME`` whatever the activity, when its user's password changes, and when the API token it
was opened with is revoked or expires.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from registrar.domain.entities import User
from registrar.ids import utcnow
from registrar.store.schema import api_tokens, console_sessions, users

from ._accounts import Credential

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_TIMEOUT",
    "ConsoleSession",
    "csrf_matches",
    "end_session",
    "end_user_sessions",
    "load_session",
    "new_session_id",
    "open_session",
]

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
# Activity is written at most this often: a page view is not worth a write each time.
_TOUCH_EVERY_MS = 60_000
_BASE62 = string.digits + string.ascii_letters


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A live console session."""

    id: str  # public: the events' externalSessionId
    user: User
    credential: str  # PASSWORD or API_TOKEN
    scopes: frozenset[str]
    csrf_token: str
    token_id: str | None
    expires_ms: int


def _now_ms() -> int:
    return int(utcnow().timestamp() * 1000)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_id() -> str:
    """A fresh public session id (known before the session is stored, so its event can name it)."""
    # Okta's session ids start with 102; 22 base62 characters carry 131 bits.
    return "102" + "".join(secrets.choice(_BASE62) for _ in range(22))


def open_session(
    conn: Connection,
    credential: Credential,
    *,
    ip_address: str | None,
    user_agent: str | None,
    session_id: str | None = None,
) -> tuple[ConsoleSession, str]:
    """A new session for ``credential``; returns it and the cookie secret (never stored)."""
    secret = secrets.token_urlsafe(32)
    now = _now_ms()
    session = ConsoleSession(
        id=session_id or new_session_id(),
        user=credential.user,
        credential=credential.kind,
        scopes=credential.scopes,
        csrf_token=secrets.token_urlsafe(32),
        token_id=credential.token_id,
        expires_ms=now + int(ABSOLUTE_LIFETIME.total_seconds() * 1000),
    )
    conn.execute(
        insert(console_sessions).values(
            id=session.id,
            secret_hash=_hash(secret),
            csrf_token=session.csrf_token,
            user_id=session.user.id,
            token_id=session.token_id,
            credential=session.credential,
            scopes=" ".join(sorted(session.scopes)),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:1024] or None,
            created_ms=now,
            last_seen_ms=now,
            expires_ms=session.expires_ms,
        )
    )
    return session, secret


def load_session(engine: Engine, secret: str, *, touch: bool = True) -> ConsoleSession | None:
    """The live session whose cookie secret is ``secret``; ``touch`` counts this request as activity.

    The lookup is a plain read; a write (activity, or ending an expired session) follows only when needed,
    so a page view does not take SQLite's write lock.
    """
    if not secret or len(secret) > 128:
        return None
    with engine.connect().execution_options(sqlite_immediate=False) as conn, conn.begin():
        row = conn.execute(
            select(
                console_sessions,
                users.c.email,
                users.c.display_name,
                api_tokens.c.revoked_ms,
                api_tokens.c.expires_ms.label("token_expires_ms"),
            )
            .join(users, users.c.id == console_sessions.c.user_id)
            .outerjoin(api_tokens, api_tokens.c.id == console_sessions.c.token_id)
            .where(console_sessions.c.secret_hash == _hash(secret))
        ).first()
    now = _now_ms()
    if row is None or row.ended_ms is not None:
        return None
    idle_ms = int(IDLE_TIMEOUT.total_seconds() * 1000)
    token_gone = row.revoked_ms is not None or (
        row.token_expires_ms is not None and now >= row.token_expires_ms
    )
    if now >= row.expires_ms or now - row.last_seen_ms >= idle_ms or token_gone:
        with engine.begin() as conn:
            end_session(conn, row.id)
        return None
    if touch and now - row.last_seen_ms >= _TOUCH_EVERY_MS:
        with engine.begin() as conn:
            conn.execute(
                update(console_sessions).where(console_sessions.c.id == row.id).values(last_seen_ms=now)
            )
    return ConsoleSession(
        id=row.id,
        user=User(id=row.user_id, email=row.email, display_name=row.display_name),
        credential=row.credential,
        scopes=frozenset(row.scopes.split()),
        csrf_token=row.csrf_token,
        token_id=row.token_id,
        expires_ms=row.expires_ms,
    )


def end_session(conn: Connection, session_id: str) -> bool:
    """End one session (logout); False when it had already ended."""
    result = conn.execute(
        update(console_sessions)
        .where(console_sessions.c.id == session_id, console_sessions.c.ended_ms.is_(None))
        .values(ended_ms=_now_ms())
    )
    return result.rowcount == 1


def end_user_sessions(conn: Connection, user_id: str) -> int:
    """End every open session of a user (after a password change); returns how many were open."""
    result = conn.execute(
        update(console_sessions)
        .where(console_sessions.c.user_id == user_id, console_sessions.c.ended_ms.is_(None))
        .values(ended_ms=_now_ms())
    )
    return int(result.rowcount or 0)


def csrf_matches(session: ConsoleSession, presented: str | None) -> bool:
    """Whether a request carries the session's synchronizer token (compared in constant time)."""
    return bool(presented) and hmac.compare_digest(session.csrf_token.encode(), (presented or "").encode())
