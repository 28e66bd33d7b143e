"""Console sign-in: users' passwords (Argon2id) and API tokens as credentials.

Passwords are hashed with argon2-cffi's defaults (Argon2id, RFC 9106's low-memory profile); a hash made
with older parameters is upgraded at the next successful sign-in. Unknown users and users without a
password cost the same Argon2 verification as a wrong password, so timing does not reveal which emails
exist. A failed check names the reason Okta's System Log gives (``UNKNOWN_USER``, ``INVALID_CREDENTIALS``,
``PASSWORD_BASED_LOGIN_DISALLOWED``) for the audit log only: the browser is told the same thing each time.
"""

from __future__ import annotations

import unicodedata
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
    "MAX_LOGIN_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "Check",
    "Credential",
    "find_user",
    "password_problem",
    "set_password",
    "store_rehash",
    "verify_password",
    "verify_token",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # bounds the work an attacker can make one sign-in attempt cost
MAX_LOGIN_LENGTH = 320  # an email address's limit (RFC 5321: 64 + 1 + 255)

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


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict on one submitted credential."""

    credential: Credential | None  # set when it is good
    user: User | None  # the account the attempt names, when there is one
    reason: str | None  # Okta's outcome.reason when it is not good: UNKNOWN_USER, INVALID_CREDENTIALS, ...
    rehash: str | None = None  # a new hash of the password, when the stored one is outdated


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


def _clean_login(login: str) -> str | None:
    """The submitted login as looked up, or None when it cannot name an account (control characters,
    which PostgreSQL may not even accept in a query, or more than an email address can hold)."""
    login = login.strip()
    if len(login) > MAX_LOGIN_LENGTH or any(unicodedata.category(ch).startswith("C") for ch in login):
        return None
    return login


def find_user(conn: Connection, login: str) -> User | None:
    """The user whose email is ``login`` (as typed on the sign-in form), if any."""
    cleaned = _clean_login(login)
    row = conn.execute(select(users).where(users.c.email == cleaned)).first() if cleaned else None
    return None if row is None else User(id=row.id, email=row.email, display_name=row.display_name)


def verify_password(conn: Connection, email: str, password: str) -> Check:
    """Whether ``password`` is the console password of ``email``; a password user holds every scope.

    Read-only (no write lock is held through the Argon2 verification): a hash made with older parameters
    comes back in ``Check.rehash`` for the session's transaction to store.
    """
    cleaned = _clean_login(email)
    row = conn.execute(select(users).where(users.c.email == cleaned)).first() if cleaned else None
    stored = row.password_hash if row is not None else None
    user = None if row is None else User(id=row.id, email=row.email, display_name=row.display_name)
    if user is None:
        refusal = "UNKNOWN_USER"
    else:
        refusal = "PASSWORD_BASED_LOGIN_DISALLOWED" if stored is None else "INVALID_CREDENTIALS"
    if len(password) > MAX_PASSWORD_LENGTH:
        return Check(None, user, refusal)
    try:
        _hasher.verify(stored or _dummy_hash(_hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Check(None, user, refusal)
    if user is None or stored is None:  # the dummy hash's own text: still no account, or no password
        return Check(None, user, refusal)
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(stored) else None
    credential = Credential(user=user, kind="PASSWORD", scopes=frozenset(ALL_SCOPES))
    return Check(credential, user, None, rehash)


def store_rehash(conn: Connection, user: User, password_hash: str) -> None:
    """Replace a user's password hash by one made with today's parameters (after a sign-in)."""
    conn.execute(update(users).where(users.c.id == user.id).values(password_hash=password_hash))


def verify_token(conn: Connection, secret: str) -> Check:
    """Whether ``secret`` is a live API token: its user, with the token's own scopes."""
    secret = secret.strip()
    token = find_token(conn, secret) if secret and len(secret) <= 512 else None
    if token is None:
        return Check(None, None, "INVALID_CREDENTIALS")
    credential = Credential(user=token.user, kind="API_TOKEN", scopes=token.scopes, token_id=token.id)
    return Check(credential, token.user, None)
