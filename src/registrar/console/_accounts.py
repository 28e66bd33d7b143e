"""Console sign-in: users' passwords (Argon2id) and API tokens as credentials.

Passwords are hashed with argon2-cffi's defaults (Argon2id, RFC 9106's low-memory profile); a hash made
with older parameters is upgraded at the next successful sign-in. Unknown users and users without a
password cost the same Argon2 verification as a wrong password, so timing does not reveal which emails
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from registrar.domain.entities import User
from registrar.store.schema import users
from registrar.store.tokens import ALL_SCOPES, ensure_user, find_token

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Credential",
    "password_problem",
    "set_password",
    "verify_password",
    "verify_token",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # bounds the work an attacker can make one sign-in attempt cost

_hasher = PasswordHasher()


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified against when there is no real hash, so a miss costs what a wrong password costs.
    return hasher.hash("registrar: no such user")


@dataclass(frozen=True, slots=True)
class Credential:
    """Who signed in, with what, and the scopes their console session gets."""

    user: User
    kind: str  # PASSWORD or API_TOKEN
    scopes: frozenset[str]
    token_id: str | None = None


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be set, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must be at most {MAX_PASSWORD_LENGTH} characters long."
    return None


def set_password(conn: Connection, email: str, password: str, display_name: str | None = None) -> User:
    """Set (or replace) the console password of the user ``email``, creating the user if new."""
    problem = password_problem(password)
    if problem is not None:
        raise ValueError(problem)
    user = ensure_user(conn, email, display_name)
    conn.execute(update(users).where(users.c.id == user.id).values(password_hash=_hasher.hash(password)))
    return user


def verify_password(conn: Connection, email: str, password: str) -> Credential | None:
    """The credential of ``email`` if ``password`` is theirs; a password user holds every scope."""
    row = conn.execute(select(users).where(users.c.email == email.strip())).first()
    stored = row.password_hash if row is not None else None
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    try:
        _hasher.verify(stored or _dummy_hash(_hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
    user = User(id=row.id, email=row.email, display_name=row.display_name)
    return Credential(user=user, kind="PASSWORD", scopes=frozenset(ALL_SCOPES))


def verify_token(conn: Connection, secret: str) -> Credential | None:
    """The credential of a live API token: its user, with the token's own scopes."""
    secret = secret.strip()
    if not secret or len(secret) > 512:
        return None
    token = find_token(conn, secret)
    if token is None:
        return None
    return Credential(user=token.user, kind="API_TOKEN", scopes=token.scopes, token_id=token.id)
