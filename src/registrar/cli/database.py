"""The database, for the commands that work on it directly (``REGISTRAR_DATABASE_URL``), not over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from registrar.config import Settings
from registrar.store.database import create_database_engine, migrate

__all__ = ["database"]


@contextmanager
def database(settings: Settings | None = None, *, maintenance: bool = False) -> Iterator[Engine]:
    """The database, migrated, and disposed of when the block ends (``settings``: from the environment).

    ``maintenance`` is for verify, purge and export, which take as long as the log is big: no statement
    timeout, and the configured wait for locks.
    """
    settings = settings or Settings.from_env()
    if maintenance:
        engine = create_database_engine(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            wait_seconds=settings.db_wait_seconds,
            statement_timeout=None,
        )
    else:
        engine = create_database_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
