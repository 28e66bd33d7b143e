"""Users and API tokens. Only a SHA-256 of each token is stored.

A token is live until it is revoked or its expiry passes. "Last used" is kept at minute resolution:
:func:`note_token_use` writes it at most once a minute per token, in a transaction of its own, never in
the caller's.

Serving processes may cache live tokens (:mod:`registrar.api.security`) as long as a revocation reaches
them before the next request; what carries it is the database's **revocation watch**
(:func:`revocation_watch`), whose generation changes with every revocation:

- **SQLite** (every process is on this host): a marker file beside the database,
  ``<database>-revocations``, one line per revocation appended after the revocation commits. Its
  ``stat()`` is the generation: a syscall per request, no query.
- **PostgreSQL**: a thread per process LISTENs on a channel that :func:`revoke_token` notifies inside the
  revoking transaction (so it is delivered at commit, and only then); the generation counts what it
  received, and is ``None`` (no cache) while it is not listening. Delivery is asynchronous, so
  :func:`announce_revocation` closes the race: after the commit it sends a fence through the same
  channel and waits until every listening process has acknowledged it, having bumped its generation
  first; a process that does not answer in time has its listener disconnected, which turns its cache
  off. ``registrar tokens revoke`` returns only then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Engine, Select, and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from registrar.domain.entities import ApiToken, User
from registrar.errors import ServiceUnavailable
from registrar.ids import API_TOKEN, USER, new_id, utcnow
from registrar.scopes import ALL_SCOPES

from .database import write_transaction
from .schema import api_tokens, users

__all__ = [
    "ALL_SCOPES",
    "LiveToken",
    "RevocationWatch",
    "TokenRecord",
    "TokenStatus",
    "announce_revocation",
    "create_token",
    "ensure_user",
    "find_token",
    "get_token",
    "hash_token",
    "list_tokens",
    "lookup_token",
    "note_token_use",
    "notify_revocation",
    "revocation_watch",
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
    user: User  # the owner: the events' actor when the token is used
    scopes: frozenset[str]
    created_ms: int
    expires_ms: int | None  # None: never expires
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


@dataclass(frozen=True, slots=True)
class LiveToken:
    """A token found live, with its expiry: what a cache may hold (an expiry never changes)."""

    token: ApiToken
    expires_ms: int | None

    def live_at(self, now_ms: int) -> bool:
        """Whether the token is still unexpired at ``now_ms`` (a revocation is the watch's business)."""
        return self.expires_ms is None or now_ms < self.expires_ms


def lookup_token(conn: Connection, token_hash: str, now_ms: int) -> LiveToken | None:
    """The token stored as ``token_hash`` if it is live at ``now_ms``, with its user and expiry."""
    row = conn.execute(
        select(api_tokens, users.c.email, users.c.display_name)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == token_hash, _live(now_ms))
    ).first()
    if row is None:
        return None
    token = ApiToken(
        id=row.id,
        name=row.name,
        user=User(id=row.user_id, email=row.email, display_name=row.display_name),
        scopes=frozenset(row.scopes.split()),
        session_id=row.session_id,
    )
    return LiveToken(token, row.expires_ms)


def find_token(conn: Connection, secret: str) -> ApiToken | None:
    """The live (neither revoked nor expired) token whose text is ``secret``, with its user."""
    found = lookup_token(conn, hash_token(secret), _now_ms())
    return None if found is None else found.token


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
    """Revoke a token; False when there is no such token or it was already revoked (nothing changes).

    On PostgreSQL the serving processes' watches are notified in the same transaction (at commit, then);
    after the commit, call :func:`announce_revocation`, which SQLite's watch needs and which waits for
    PostgreSQL's.
    """
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
        .values(revoked_ms=_now_ms())
    )
    revoked = result.rowcount == 1
    if revoked:
        notify_revocation(conn, token_id)
    return revoked


def notify_revocation(conn: Connection, subject: str) -> None:
    """Move every serving process's revocation generation on when ``conn``'s transaction commits.

    For whatever else a process caches under the generation (``registrar service-apps revoke`` uses it
    too): on PostgreSQL the watches are notified inside the transaction; SQLite's marker file, like the
    fence PostgreSQL's listeners confirm, is :func:`announce_revocation`'s, after the commit.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(_CHANNEL, subject)))


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
    except ServiceUnavailable:  # the write lock was taken: expected under writes, not worth a warning
        log.debug("skipped recording the use of token %s: the database is busy with writes", token_id)
    except Exception:  # see the docstring: a failure here must not fail the request
        log.warning("could not record the use of token %s", token_id, exc_info=True)


# Revocation watches (see the module docstring).

_CHANNEL = "registrar_token_revocations"
_ACKS = "registrar_token_revocation_acks"
_LISTENER_NAME = "registrar token cache"  # the listening sessions' application_name
_CONFIRM_SECONDS = 5.0  # how long announce_revocation waits for the listening processes
_HELLO_SECONDS = 5.0  # a new listener must hear its own notification within this before it is trusted
_RETRY_SECONDS = (0.5, 30.0)  # a lost listener reconnects after this, doubling up to the second figure


class RevocationWatch(Protocol):
    """What a token cache asks before every use: the database's revocation generation."""

    def generation(self) -> Hashable | None:
        """A value that changes with every revocation; ``None`` when no cache may be used now."""


class _MarkerFile:
    """SQLite: the marker file's identity, size and times are the generation (it only grows)."""

    def __init__(self, path: Path):
        self.path = path
        _touch(path)
        log.info("API tokens are cached in process %d; revocations are announced in %s", os.getpid(), path)

    def generation(self) -> Hashable | None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            _touch(self.path)  # removed by hand: a new file is a new generation
            return None
        except OSError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _touch(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as error:
        log.warning("cannot create %s (%s): API tokens are read from the database every time", path, error)


class _Listener:
    """PostgreSQL: a thread LISTENing for revocations; the generation counts what it has received.

    It is trusted only once it has heard its own notification (a pooler in transaction mode would take
    LISTEN and deliver nothing), and only from then on does it carry the name that
    :func:`announce_revocation` waits for. While it is not listening the generation is ``None``; every
    reconnection starts a new one, since revocations may have passed unheard meanwhile.
    """

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._count = 0
        self._generation: int | None = None
        threading.Thread(target=self._run, name="registrar-token-revocations", daemon=True).start()

    def generation(self) -> Hashable | None:
        return self._generation

    def _run(self) -> None:
        delay = _RETRY_SECONDS[0]
        warned = False
        while True:
            started = time.monotonic()
            try:
                self._listen()
            except Exception as error:  # noqa: BLE001 - whatever broke, the cache is off until we are back
                if self._generation is not None or not warned:
                    log.warning(
                        "token revocation listener down (%s): token cache off until it is back", error
                    )
                    warned = True
                else:  # still down: said already
                    log.info("token revocation listener still down (%s); retrying in %.1f s", error, delay)
            finally:
                self._generation = None
            if time.monotonic() - started > _RETRY_SECONDS[1]:
                delay = _RETRY_SECONDS[0]  # it had been up for a while: a fresh failure
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_SECONDS[1])

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._conninfo, autocommit=True, **_LISTENER_OPTIONS) as conn:
            backend = conn.info.backend_pid
            hello = f"registrar_token_hello_{backend}"
            conn.execute(f"LISTEN {_CHANNEL}")
            conn.execute(f"LISTEN {hello}")
            conn.execute("SELECT pg_notify(%s, '')", (hello,))
            deadline = time.monotonic() + _HELLO_SECONDS
            while hello not in [n.channel for n in conn.notifies(timeout=_left(deadline), stop_after=1)]:
                if time.monotonic() >= deadline:
                    raise RuntimeError("LISTEN delivers nothing on this connection (a transaction pooler?)")
            conn.execute("SELECT set_config('application_name', %s, false)", (_LISTENER_NAME,))
            self._bump()
            log.info(
                "API tokens are cached in process %d; it hears revocations on PostgreSQL (backend %d)",
                os.getpid(),
                backend,
            )
            while True:
                received = list(conn.notifies(stop_after=1))
                self._bump()  # before any acknowledgement: the fence's sender returns once it has it
                for notice in received:
                    if notice.channel == _CHANNEL and notice.payload.startswith("fence "):
                        conn.execute("SELECT pg_notify(%s, %s)", (_ACKS, f"{notice.payload[6:]} {backend}"))

    def _bump(self) -> None:
        self._count += 1
        self._generation = self._count


# A listener that would not notice a dead peer would keep its cache on: TCP keepalives close it.
_LISTENER_OPTIONS: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


_watches: dict[str, RevocationWatch] = {}
_watches_lock = threading.Lock()


def revocation_watch(engine: Engine) -> RevocationWatch | None:
    """This process's watch on the database of ``engine`` (one per database); None where there is none
    (an in-memory SQLite database, another dialect): then nothing may be cached."""
    key: Path | str | None = None
    if engine.dialect.name == "sqlite":
        key = _marker_path(engine)
    elif engine.dialect.name == "postgresql":
        key = _conninfo(engine)
    if key is None:
        return None
    with _watches_lock:
        watch = _watches.get(str(key))
        if watch is None:
            watch = _MarkerFile(key) if isinstance(key, Path) else _Listener(key)
            _watches[str(key)] = watch
        return watch


def announce_revocation(engine: Engine, *, timeout: float = _CONFIRM_SECONDS) -> list[str]:
    """Make the serving processes drop their cached tokens, after a revocation has committed.

    Returns what went wrong, for the operator: empty when every process has confirmed (SQLite: the marker
    was written; PostgreSQL: every listening process acknowledged within ``timeout``).
    """
    if engine.dialect.name == "postgresql":
        return _announce_to_listeners(_conninfo(engine), timeout)
    path = _marker_path(engine)
    if path is None:
        return []
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{_now_ms()}\n".encode())
        finally:
            os.close(fd)
    except OSError as error:
        return [
            f"could not write {path} ({error.strerror}): servers on this host may accept revoked tokens "
            "from their cache until they restart"
        ]
    return []


def _announce_to_listeners(conninfo: str, timeout: float) -> list[str]:
    import psycopg

    nonce = secrets.token_hex(8)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"LISTEN {_ACKS}")
        # Every process whose cache is on listened before this: it hears the fence sent next.
        listening = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            (_LISTENER_NAME,),
        )
        waiting = {pid for (pid,) in listening}
        conn.execute("SELECT pg_notify(%s, %s)", (_CHANNEL, f"fence {nonce}"))
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for notice in conn.notifies(timeout=_left(deadline), stop_after=1):
                answer, _, backend = notice.payload.partition(" ")
                if notice.channel == _ACKS and answer == nonce and backend.isdigit():
                    waiting.discard(int(backend))
        if not waiting:
            return []
        # Disconnected, a listener's process turns its cache off (and reconnects with a new generation).
        cut = {pid for pid in waiting if _terminate(conn, pid)}
    problems = []
    if cut:
        problems.append(
            f"{_processes(cut)} did not confirm within {timeout:g} s; their revocation listeners were "
            "disconnected, which turns their token caches off"
        )
    if waiting - cut:
        problems.append(
            f"{_processes(waiting - cut)} did not confirm within {timeout:g} s and could not be "
            "disconnected: they may accept revoked tokens until they restart"
        )
    return problems


def _terminate(conn: Any, backend: int) -> bool:
    """Disconnect a listener; True when it is disconnected or gone (this role may not be allowed to)."""
    import psycopg

    try:
        row = conn.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone()
    except psycopg.Error as error:
        log.warning("cannot disconnect the revocation listener of backend %d: %s", backend, error)
        return False
    if row and row[0]:
        return True
    return conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone() is None


def _processes(backends: set[int]) -> str:
    listed = ", ".join(map(str, sorted(backends)))
    return f"{len(backends)} serving process(es) (the PostgreSQL backends of their listeners: {listed})"


def _marker_path(engine: Engine) -> Path | None:
    """``<database file>-revocations`` (symbolic links resolved); None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(os.path.realpath(database) + "-revocations")


def _conninfo(engine: Engine) -> str:
    """A libpq connection URI for the engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
