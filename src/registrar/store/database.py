"""Engines for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3), and migrations on start."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine import Connection, make_url

from registrar.ids import ORG, new_id, utcnow

from .schema import installation, log_head

__all__ = ["GENESIS_HASH", "bootstrap", "create_database_engine", "is_sqlite", "migrate", "write_lock"]

GENESIS_HASH = "0" * 64
_MIGRATIONS = Path(__file__).with_name("migrations")
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """Held around an SQLite write transaction, so this process's writers queue in Python.

    SQLite lets one writer in at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's busy handler,
    which sleeps 1, 2, 5 ... up to 100 ms between tries and so wakes up long after the lock is free.
    Queueing on a Python lock first hands the database over as soon as the previous writer commits.
    PostgreSQL needs nothing of the kind.
    """
    return _WRITE_LOCKS.get(engine) or nullcontext()


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the store is the embedded SQLite database."""
    return engine.dialect.name == "sqlite"


def create_database_engine(url: str, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``; ``postgresql://`` URLs are routed to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(str(parsed.render_as_string(hide_password=False)), sqlite_synchronous)
    return create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(
            f"REGISTRAR_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {synchronous}"
        )
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=16,
    )

    _WRITE_LOCKS[engine] = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE can be issued (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN: a deferred transaction that upgrades later can fail
        # with SQLITE_BUSY instead of waiting, and would lose the request.
        immediate = conn.get_execution_options().get("sqlite_immediate", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision and make sure the singleton rows exist."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
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
