"""Users and API tokens. Only a SHA-256 of each token is stored.

A token is live until it is revoked or its expiry passes. Every lookup reads the database (nothing is
cached), so a revocation or an expiry holds on the very next request, on every replica. "Last used" is
kept at minute resolution: :func:`note_token_use` writes it at most once a minute per token, in a
transaction of its own, never in the caller's.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, Select, and_, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from registrar.domain.entities import ApiToken, User
from registrar.ids import API_TOKEN, USER, new_id, utcnow
from registrar.scopes import ALL_SCOPES

from .database import write_transaction
from .schema import api_tokens, users

__all__ = [
    "ALL_SCOPES",
    "TokenRecord",
    "TokenStatus",
    "create_token",
    "ensure_user",
    "find_token",
    "get_token",
    "hash_token",
    "list_tokens",
    "note_token_use",
    "revoke_token",
]

log = logging.getLogger(__name__)


TokenStatus = Literal["ACTIVE", "EXPIRED", "REVOKED"]

# "Last used" is written at most this often per token: a request is not worth a write each time.
USE_RESOLUTION_MS = 60_000
_MAX_NOTED = 10_000


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as an operator sees it (``registrar tokens list``): never its text, which is not stored."""

    id: str
    name: str
    user: User
    scopes: frozenset[str]
    created_ms: int
    expires_ms: int | None
    last_used_ms: int | None
    revoked_ms: int | None

    def status(self, now_ms: int) -> TokenStatus:
        """REVOKED, EXPIRED (its expiry has passed) or ACTIVE."""
        if self.revoked_ms is not None:
            return "REVOKED"
        if self.expires_ms is not None and self.expires_ms <= now_ms:
            return "EXPIRED"
        return "ACTIVE"


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


def create_token(
    conn: Connection, user: User, name: str, scopes: Iterable[str], *, expires_ms: int | None = None
) -> tuple[ApiToken, str]:
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
            expires_ms=expires_ms,
        )
    )
    return token, secret


def _live(now_ms: int) -> ColumnElement[bool]:
    return and_(
        api_tokens.c.revoked_ms.is_(None),
        or_(api_tokens.c.expires_ms.is_(None), api_tokens.c.expires_ms > now_ms),
    )


def find_token(conn: Connection, secret: str) -> ApiToken | None:
    """The live (neither revoked nor expired) token whose text is ``secret``, with its user."""
    row = conn.execute(
        select(api_tokens, users.c.email, users.c.display_name)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == hash_token(secret), _live(_now_ms()))
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


def _record(row: Row[Any]) -> TokenRecord:
    m = row._mapping
    return TokenRecord(
        id=m["id"],
        name=m["name"],
        user=User(id=m["user_id"], email=m["email"], display_name=m["display_name"]),
        scopes=frozenset(str(m["scopes"]).split()),
        created_ms=m["created_ms"],
        expires_ms=m["expires_ms"],
        last_used_ms=m["last_used_ms"],
        revoked_ms=m["revoked_ms"],
    )


def _records() -> Select[Any]:
    columns = [c for c in api_tokens.c if c.name not in {"token_hash", "session_id"}]
    return select(*columns, users.c.email, users.c.display_name).join(
        users, users.c.id == api_tokens.c.user_id
    )


def list_tokens(conn: Connection) -> list[TokenRecord]:
    """Every token, revoked and expired ones included, oldest first."""
    rows = conn.execute(_records().order_by(api_tokens.c.created_ms, api_tokens.c.id))
    return [_record(row) for row in rows]


def get_token(conn: Connection, token_id: str) -> TokenRecord | None:
    """The token with id ``token_id``, whatever its status."""
    row = conn.execute(_records().where(api_tokens.c.id == token_id)).first()
    return None if row is None else _record(row)


def revoke_token(conn: Connection, token_id: str) -> bool:
    """Revoke a token; False when there is no such token or it was already revoked (nothing changes)."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
        .values(revoked_ms=_now_ms())
    )
    return result.rowcount == 1


class _UseNotes:
    """When this process last wrote each token's "last used": the writes it may skip."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._noted: dict[str, int] = {}

    def due(self, token_id: str, now_ms: int) -> bool:
        """Whether to write now, claiming the write for this minute if so."""
        with self._lock:
            last = self._noted.get(token_id)
            if last is not None and now_ms - last < USE_RESOLUTION_MS:
                return False
            if len(self._noted) >= _MAX_NOTED:
                self._noted.clear()
            self._noted[token_id] = now_ms
            return True


_notes = _UseNotes()


def note_token_use(engine: Engine, token_id: str) -> None:
    """Record that a token was just used: one short write per token per minute, never the caller's.

    The process skips the write when it made one for the token less than a minute ago; the ``WHERE``
    makes the other replicas' writes within that minute change nothing. A failure is logged, not raised:
    "last used" is a convenience, the request must not fail for it.
    """
    now = _now_ms()
    if not _notes.due(token_id, now):
        return
    statement = (
        update(api_tokens)
        .where(
            api_tokens.c.id == token_id,
            or_(
                api_tokens.c.last_used_ms.is_(None),
                api_tokens.c.last_used_ms <= now - USE_RESOLUTION_MS,
            ),
        )
        .values(last_used_ms=now)
    )
    try:
        # wait=0: a reader never queues behind writers for this note (skipped, it waits for next minute).
        with write_transaction(engine, wait=0) as conn:
            conn.execute(statement)
    except Exception:  # see the docstring: a failure here must not fail the request
        log.warning("could not record the use of token %s", token_id, exc_info=True)
