"""Engines for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3), and migrations on start.

Nothing waits for the database without bound. A writer waits at most ``wait_seconds`` for the database
(SQLite's write lock, PostgreSQL's row locks, a pooled connection), then gives up with a 503
(``ServiceUnavailable``); every statement runs at most ``statement_timeout`` seconds (PostgreSQL's
``statement_timeout``; on SQLite a progress handler with a deadline), also a 503. Readers on SQLite open
their connection with ``execution_options(sqlite_immediate=False)``: in WAL mode they take no lock and
never wait for a writer. Migrations and maintenance lift the statement timeout with
``conn.execution_options(**UNLIMITED)``; the maintenance commands build their engine without one.
"""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from registrar.errors import ServiceUnavailable
from registrar.ids import ORG, new_id, utcnow

from ._checkpoints import start_wal_checkpoints
from ._group import GroupCommit
from .schema import installation, log_head

__all__ = [
    "DEFAULT_STATEMENT_TIMEOUT",
    "DEFAULT_WAIT_SECONDS",
    "GENESIS_HASH",
    "UNLIMITED",
    "bootstrap",
    "create_database_engine",
    "group_transaction",
    "is_sqlite",
    "migrate",
    "unavailable",
    "write_lock",
    "write_transaction",
]

GENESIS_HASH = "0" * 64
DEFAULT_WAIT_SECONDS = 5.0
DEFAULT_STATEMENT_TIMEOUT = 10.0
UNLIMITED: dict[str, Any] = {"statement_timeout": None}
"""Execution options lifting the statement timeout of one connection (migrations, maintenance)."""

_MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_POLL_FIRST = 0.0002  # first pause of a writer waiting for another process's (seconds; doubling)
_LOCK_POLL_MAX = 0.005
_BUSY_STEP_SECONDS = 0.1  # granularity of the busy timeout a queued SQLite writer is left with
_PROGRESS_STEPS = 20_000  # SQLite VM instructions between two looks at the deadline (well under 1 ms apart)
_BUSY_MESSAGE = "The database stayed locked by other writers for longer than a request may wait; try again."
_TIMEOUT_MESSAGE = "A database query ran longer than the statement timeout; try again or narrow the request."


@dataclass(frozen=True, slots=True)
class _Limits:
    wait_seconds: float
    writers: threading.Lock | None  # SQLite: this process's writers queue here
    lock_file: int | None = None  # SQLite file: the descriptor every process's writers queue on
    group: GroupCommit | None = None  # audited operations share transactions (``group_transaction``)


_LIMITS: weakref.WeakKeyDictionary[Engine, _Limits] = weakref.WeakKeyDictionary()


def _limits(engine: Engine) -> _Limits:
    return _LIMITS.get(engine) or _Limits(DEFAULT_WAIT_SECONDS, None)


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the store is the embedded SQLite database."""
    return engine.dialect.name == "sqlite"


def _acquire_writer(limits: _Limits, wait: float) -> float:
    """Queue for the write lock of an SQLite database (this process's, then every process's); the
    seconds left of ``wait``. PostgreSQL needs nothing of the kind (row locks queue its writers)."""
    if limits.writers is None:
        return wait
    deadline = time.monotonic() + wait
    acquired = limits.writers.acquire(timeout=wait) if wait > 0 else limits.writers.acquire(blocking=False)
    if not acquired:
        raise ServiceUnavailable([_BUSY_MESSAGE])
    if limits.lock_file is not None and not _lock_file(limits.lock_file, deadline):
        limits.writers.release()
        raise ServiceUnavailable([_BUSY_MESSAGE])
    return max(deadline - time.monotonic(), 0.0)


def _release_writer(limits: _Limits) -> None:
    if limits.writers is None:
        return
    if limits.lock_file is not None:
        fcntl.flock(limits.lock_file, fcntl.LOCK_UN)
    limits.writers.release()


def _lock_file(fd: int, deadline: float) -> bool:
    # Another process (a worker, the CLI) may be writing: wait for it in short steps, not in SQLite's
    # busy handler, which sleeps up to 100 ms between two looks once it has waited a little.
    pause = _LOCK_POLL_FIRST
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, _LOCK_POLL_MAX)


@contextmanager
def write_lock(engine: Engine, *, wait: float | None = None) -> Iterator[float]:
    """Held around an SQLite write transaction, so that writers queue in Python.

    SQLite lets one writer in at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's busy handler,
    which sleeps 1, 2, 5 ... up to 100 ms between tries and so wakes up long after the lock is free.
    Queueing on a Python lock (this process's writers) and a file lock beside the database (every
    process's: the workers of ``registrar serve --workers N``, the CLI) first hands the database over
    as soon as the previous writer commits. The queue is bounded: after ``wait`` seconds (default the
    engine's ``wait_seconds``) it raises ``ServiceUnavailable``. Yields the seconds left of the wait.
    """
    limits = _limits(engine)
    left = _acquire_writer(limits, limits.wait_seconds if wait is None else wait)
    try:
        yield left
    finally:
        _release_writer(limits)


def _connect_for_write(engine: Engine, left: float) -> Connection:
    conn = engine.connect()
    if is_sqlite(engine) and _limits(engine).wait_seconds - left >= _BUSY_STEP_SECONDS:
        # SQLite's own busy wait gets what is left of the wait, rounded down to whole steps: a writer that
        # queued only briefly keeps the connection's setting, so the busy timeout is not re-set (one more
        # statement) on nearly every write under load.
        steps = int(left / _BUSY_STEP_SECONDS)
        conn = conn.execution_options(sqlite_busy_ms=int(steps * _BUSY_STEP_SECONDS * 1000))
    return conn


@contextmanager
def write_transaction(engine: Engine, *, wait: float | None = None) -> Iterator[Connection]:
    """A write transaction of its own that waits at most ``wait`` seconds in all to begin (503 after)."""
    with write_lock(engine, wait=wait) as left:
        conn = _connect_for_write(engine, left)
        with conn, conn.begin():
            yield conn


@contextmanager
def group_transaction(engine: Engine) -> Iterator[Connection]:
    """A savepoint in a transaction shared with concurrent audited operations (:mod:`._group`): it
    rolls back alone, commits with the group, and this returns only once that commit is done. Engines
    built with ``group_commit=False`` give each operation a ``write_transaction`` of its own."""
    limits = _limits(engine)
    if limits.group is None:
        with write_transaction(engine) as conn:
            yield conn
        return
    with limits.group.member(limits.wait_seconds) as conn:
        yield conn


def _group_commit(engine: Engine) -> GroupCommit:
    # Weak: the engine's limits hold the queue, and must not keep the engine alive.
    ref = weakref.ref(engine)

    def open_group(wait: float) -> Connection:
        engine = ref()
        assert engine is not None  # the queue is reached only through its engine
        limits = _limits(engine)
        left = _acquire_writer(limits, wait)
        try:
            conn = _connect_for_write(engine, left)
            conn.begin()
        except BaseException:
            _release_writer(limits)
            raise
        return conn

    def close_group(conn: Connection) -> None:
        engine = ref()
        try:
            conn.close()
        finally:
            if engine is not None:
                _release_writer(_limits(engine))

    return GroupCommit(open_group, close_group)


def unavailable(error: BaseException) -> ServiceUnavailable | None:
    """The 503 that a database error stands for (a wait or a statement out of time), else ``None``."""
    if isinstance(error, ServiceUnavailable):
        return error
    if isinstance(error, PoolTimeout):
        return ServiceUnavailable(["No database connection became free in time; try again."])
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig
    if isinstance(cause, sqlite3.OperationalError):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}:
            return ServiceUnavailable([_BUSY_MESSAGE])
        if code == sqlite3.SQLITE_INTERRUPT:
            return ServiceUnavailable([_TIMEOUT_MESSAGE])
        return None
    state = getattr(cause, "sqlstate", None)
    if state == "57014":  # query_canceled: our statement_timeout
        return ServiceUnavailable([_TIMEOUT_MESSAGE])
    if state == "55P03":  # lock_not_available: our lock_timeout
        return ServiceUnavailable([_BUSY_MESSAGE])
    return None


def create_database_engine(
    url: str,
    *,
    sqlite_synchronous: str = "NORMAL",
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT,
    group_commit: bool = True,
    background_checkpoints: bool = False,
) -> Engine:
    """An engine for ``url``; ``postgresql://`` URLs are routed to the psycopg 3 driver.

    ``wait_seconds`` bounds every wait for the database; ``statement_timeout`` (``None`` or 0: none)
    bounds every statement. ``group_commit``: audited operations (``group_transaction``) share
    transactions. ``background_checkpoints`` (SQLite, the server's engine): WAL checkpoints run in a
    thread of their own, never inside a request's commit.
    """
    if wait_seconds < 0:
        raise ValueError(f"REGISTRAR_DB_WAIT_SECONDS must not be negative, not {wait_seconds}")
    if statement_timeout is not None and statement_timeout < 0:
        raise ValueError(f"REGISTRAR_STATEMENT_TIMEOUT_SECONDS must not be negative, not {statement_timeout}")
    timeout = statement_timeout or None
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    options = {"statement_timeout": timeout}
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(
            str(parsed.render_as_string(hide_password=False)),
            sqlite_synchronous,
            wait_seconds,
            options,
            autocheckpoint=not background_checkpoints,
        )
        lock_file = _writer_lock_file(engine, parsed.database)
        group = _group_commit(engine) if group_commit else None
        _LIMITS[engine] = _Limits(wait_seconds, threading.Lock(), lock_file, group)
        if background_checkpoints and lock_file is not None:
            start_wal_checkpoints(engine)
        return engine
    engine = create_engine(
        parsed,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_timeout=wait_seconds,
        connect_args={"options": f"-c statement_timeout={_ms(timeout)} -c lock_timeout={_ms(wait_seconds)}"},
        execution_options=options,
    )
    _LIMITS[engine] = _Limits(wait_seconds, None, None, _group_commit(engine) if group_commit else None)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A connection whose timeout differs from the engine's (maintenance, tests): for this transaction.
        wanted = conn.get_execution_options().get("statement_timeout", timeout)
        if wanted != timeout:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {_ms(wanted)}")
            if wanted is None:
                conn.exec_driver_sql("SET LOCAL lock_timeout = 0")

    return engine


def _ms(seconds: float | None) -> int:
    """PostgreSQL's form of a timeout: whole milliseconds, 0 for none (and at least 1 for any other)."""
    return 0 if not seconds else max(1, round(seconds * 1000))


class _Deadline:
    """When the statement running on one SQLite connection must stop (its progress handler asks)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf

    def passed(self) -> int:
        # Non-zero interrupts the statement (SQLITE_INTERRUPT).
        return int(time.monotonic() > self.at)


def _writer_lock_file(engine: Engine, database: str | None) -> int | None:
    """The file beside an SQLite database on which every process's writers queue (none in memory)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    weakref.finalize(engine, os.close, fd)
    return fd


def _sqlite_engine(
    url: str, synchronous: str, wait: float, options: dict[str, Any], *, autocheckpoint: bool
) -> Engine:
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(
            f"REGISTRAR_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {synchronous}"
        )
    busy_ms = _ms(wait) if wait else 0
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": wait},
        pool_size=8,
        max_overflow=16,
        pool_timeout=wait,
        execution_options=options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE can be issued (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread's work (below)
        cursor.close()
        deadline = _Deadline()
        record.info["deadline"] = deadline
        record.info["busy_ms"] = busy_ms
        dbapi_conn.set_progress_handler(deadline.passed, _PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN: a deferred transaction that upgrades later can fail
        # with SQLITE_BUSY instead of waiting, and would lose the request. Readers say so
        # (``read_only``): in WAL mode their BEGIN takes no lock and never waits.
        options = conn.get_execution_options()
        if not options.get("sqlite_immediate", True):
            conn.exec_driver_sql("BEGIN")
            return
        _set_busy_ms(conn, int(options.get("sqlite_busy_ms", busy_ms)))
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn: Connection, *_args: Any) -> None:
        # The clock starts per statement; fetching its rows still counts (SQLite computes them lazily).
        timeout = conn.get_execution_options().get("statement_timeout")
        conn.info["deadline"].at = time.monotonic() + timeout if timeout else math.inf

    return engine


def _set_busy_ms(conn: Connection, busy_ms: int) -> None:
    # How long this BEGIN IMMEDIATE may wait for another process's writer (what is left of the wait).
    if conn.info.get("busy_ms") != busy_ms:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
        conn.info["busy_ms"] = busy_ms


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision and make sure the singleton rows exist.

    Migrations are not cut by the statement timeout: a large table takes as long as it takes.
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect().execution_options(**UNLIMITED) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.begin() as conn:
        bootstrap(conn)


def bootstrap(conn: Connection) -> None:
    """Create the installation (org id) and the log head if they are missing; idempotent."""
    if conn.execute(select(installation.c.org_id)).first() is None:
        conn.execute(
            insert(installation).values(
                singleton=1, org_id=new_id(ORG), created_ms=int(utcnow().timestamp() * 1000)
            )
        )
    if conn.execute(select(log_head.c.seq)).first() is None:
        conn.execute(insert(log_head).values(singleton=1, seq=0, hash=GENESIS_HASH))
