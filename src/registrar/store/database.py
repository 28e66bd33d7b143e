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

import math
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

from .schema import installation, log_head

__all__ = [
    "DEFAULT_STATEMENT_TIMEOUT",
    "DEFAULT_WAIT_SECONDS",
    "GENESIS_HASH",
    "UNLIMITED",
    "bootstrap",
    "create_database_engine",
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
_BUSY_STEP_SECONDS = 0.1  # granularity of the busy timeout a queued SQLite writer is left with
_PROGRESS_STEPS = 20_000  # SQLite VM instructions between two looks at the deadline (well under 1 ms apart)
_BUSY_MESSAGE = "The database stayed locked by other writers for longer than a request may wait; try again."
_TIMEOUT_MESSAGE = "A database query ran longer than the statement timeout; try again or narrow the request."


@dataclass(frozen=True, slots=True)
class _Limits:
    wait_seconds: float
    writers: threading.Lock | None  # SQLite: this process's writers queue here


_LIMITS: weakref.WeakKeyDictionary[Engine, _Limits] = weakref.WeakKeyDictionary()


def _limits(engine: Engine) -> _Limits:
    return _LIMITS.get(engine) or _Limits(DEFAULT_WAIT_SECONDS, None)


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the store is the embedded SQLite database."""
    return engine.dialect.name == "sqlite"


@contextmanager
def write_lock(engine: Engine, *, wait: float | None = None) -> Iterator[float]:
    """Held around an SQLite write transaction, so this process's writers queue in Python.

    SQLite lets one writer in at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's busy handler,
    which sleeps 1, 2, 5 ... up to 100 ms between tries and so wakes up long after the lock is free.
    Queueing on a Python lock first hands the database over as soon as the previous writer commits.
    The queue is bounded: after ``wait`` seconds (default the engine's ``wait_seconds``) it raises
    ``ServiceUnavailable``. Yields the seconds left of the wait. PostgreSQL needs nothing of the kind.
    """
    limits = _limits(engine)
    wait = limits.wait_seconds if wait is None else wait
    if limits.writers is None:
        yield wait
        return
    deadline = time.monotonic() + wait
    acquired = limits.writers.acquire(timeout=wait) if wait > 0 else limits.writers.acquire(blocking=False)
    if not acquired:
        raise ServiceUnavailable([_BUSY_MESSAGE])
    try:
        yield max(deadline - time.monotonic(), 0.0)
    finally:
        limits.writers.release()


@contextmanager
def write_transaction(engine: Engine, *, wait: float | None = None) -> Iterator[Connection]:
    """A write transaction that waits at most ``wait`` seconds in all to begin (503 after that)."""
    usual = _limits(engine).wait_seconds
    with write_lock(engine, wait=wait) as left:
        conn = engine.connect()
        if is_sqlite(engine) and usual - left >= _BUSY_STEP_SECONDS:
            # SQLite's own busy wait (for another process's writer) gets what is left of the wait, rounded
            # down to whole steps: a writer that queued only briefly keeps the connection's setting, so the
            # busy timeout is not re-set (one more statement) on nearly every write under load.
            steps = int(left / _BUSY_STEP_SECONDS)
            conn = conn.execution_options(sqlite_busy_ms=int(steps * _BUSY_STEP_SECONDS * 1000))
        with conn, conn.begin():
            yield conn


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
) -> Engine:
    """An engine for ``url``; ``postgresql://`` URLs are routed to the psycopg 3 driver.

    ``wait_seconds`` bounds every wait for the database; ``statement_timeout`` (``None`` or 0: none)
    bounds every statement.
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
            str(parsed.render_as_string(hide_password=False)), sqlite_synchronous, wait_seconds, options
        )
        _LIMITS[engine] = _Limits(wait_seconds, threading.Lock())
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
    _LIMITS[engine] = _Limits(wait_seconds, None)

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


def _sqlite_engine(url: str, synchronous: str, wait: float, options: dict[str, Any]) -> Engine:
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
