"""Migration 0016 adds the service app tables and its downgrade takes them away again (SQLite and
PostgreSQL), leaving what 0015 built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from registrar.store import database


def _config(conn: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    return config


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_0016_upgrades_and_downgrades(engine: Engine) -> None:
    try:
        assert {"service_apps", "oauth_assertions"} <= _tables(engine)  # the fixture migrated to head
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("oauth_assertions")}
        assert "ix_oauth_assertions_expires_ms" in indexes
        with engine.begin() as conn:
            command.downgrade(_config(conn), "0015")
        assert not {"service_apps", "oauth_assertions"} & _tables(engine)
        assert "resource_servers" in _tables(engine)
    finally:  # the database is the session's on PostgreSQL: leave it at head whatever happened
        with engine.begin() as conn:
            command.upgrade(_config(conn), "head")
    assert {"service_apps", "oauth_assertions"} <= _tables(engine)
