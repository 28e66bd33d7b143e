"""Tampering in the database, as an insider would, and who catches it (invariant 4), on both databases.

- an edited body: local ``registrar verify`` and ``verify --remote`` (the entry no longer hashes to its leaf);
- an edited indexed column only (the bytes intact, the event hidden from ``filter=eventType eq …``): local
  ``registrar verify``, which re-derives every column from the bytes;
- the tail deleted and every head and checkpoint row rewritten to match: ``verify --remote`` against a
  checkpoint kept outside (a third party without one sees a consistent, shorter log);
- an older copy of the whole database restored: ``verify --remote --checkpoint`` kept from before, and
  again once the restored log has grown past the kept size (the trees fork).

Every ``verify --remote`` here is the real command against a real ``registrar serve`` on the database.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.engine import Connection, make_url
from typer.testing import CliRunner, Result

from registrar.cli import app
from registrar.config import Settings
from registrar.store.database import is_sqlite
from registrar.store.schema import (
    log_checkpoints,
    log_event_targets,
    log_events,
    log_head,
    tlog_checkpoints,
    tlog_cosignatures,
    tlog_nodes,
)
from registrar.tlog import pack_frontier

from ..conftest import TEST_SECRET_KEY
from ..live import running_server
from .conftest import Log, open_log
from .stored import append

UPDATE = "resource_servers.api_server.update"


@pytest.fixture
def log(settings: Settings, engine: Engine, token: str) -> Iterator[Log]:
    with open_log(settings, engine, token, None) as opened:
        yield opened


def env(log: Log) -> dict[str, str]:
    """What the CLI and the server need to share this test's database and signing key."""
    return {
        "REGISTRAR_DATABASE_URL": log.settings.database_url,
        "REGISTRAR_DATA_DIR": str(log.settings.data_dir),
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_JOBS": "false",  # checkpoints are signed by the tests, when they say
        "COLUMNS": "200",
    }


def local_verify(log: Log) -> Result:
    return CliRunner().invoke(app, ["verify"], env=env(log))


def remote_verify(log: Log, tmp_path: Path, token: str, *args: str) -> Result:
    """``registrar verify --remote`` against a ``registrar serve`` started on the log's database."""
    with running_server(env(log), tmp_path) as server:
        return CliRunner().invoke(
            app, ["verify", "--remote", server.url, "--token", token, *args], env=env(log)
        )


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A raw connection with foreign keys off, as an attacker with database access has."""
    with engine.begin() as conn:
        if is_sqlite(conn):
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield conn


def grow(log: Log, count: int, *, other: bool = False) -> None:
    """``count`` more events (``other``: unlike any written before), then a signed checkpoint of them."""
    with log.engine.connect() as conn:
        size = int(conn.execute(select(log_head.c.seq)).scalar_one())
    append(log.engine, count, first=size + (10_000 if other else 0), per_transaction=count)
    assert log.checkpoint() is not None


# --- a clean log --------------------------------------------------------------------------------------


def test_a_clean_log_passes_both_verifications(log: Log, token: str, tmp_path: Path) -> None:
    log.write(3)  # real API operations too, not only appended events
    grow(log, 40)
    result = local_verify(log)
    assert result.exit_code == 0, result.output
    kept = tmp_path / "kept.checkpoint"
    result = remote_verify(log, tmp_path, token, "--key", log.vkey, "--save-checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert "ok: 43 entries and every tile verify against the checkpoint" in result.stdout
    grow(log, 5)
    result = remote_verify(log, tmp_path, token, "--checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert "it extends the kept checkpoint of size 43" in result.stdout


# --- an edited body -----------------------------------------------------------------------------------


def test_an_edited_body_is_caught_locally_and_remotely(log: Log, token: str, tmp_path: Path) -> None:
    grow(log, 30)
    with tampering(log.engine) as conn:
        conn.execute(text("UPDATE log_events SET body = replace(body, 'Server 6', 'Sorvor 6') WHERE seq = 7"))
    result = local_verify(log)
    assert result.exit_code == 1
    assert "edited" in result.stdout
    result = remote_verify(log, tmp_path, token)
    assert result.exit_code == 1
    assert "entry 6 (event seq 7) does not hash to its leaf" in result.stdout


# --- an edited indexed column ---------------------------------------------------------------------------


def _updates(log: Log) -> int:
    params = {"filter": f'eventType eq "{UPDATE}"', "since": "2000-01-01", "limit": "1000"}
    response = log.client.get("/api/v1/logs", params=params, headers=log.auth)
    assert response.status_code == 200
    return len(response.json())


def test_an_edited_indexed_column_is_caught_by_local_verify(log: Log) -> None:
    grow(log, 12)
    assert _updates(log) == 12
    with tampering(log.engine) as conn:
        conn.execute(
            update(log_events)
            .where(log_events.c.seq == 5)
            .values(event_type="resource_servers.api_server.read")
        )
    assert _updates(log) == 11  # the attack works: the filter no longer finds the event
    result = local_verify(log)
    assert result.exit_code == 1
    assert "event seq 5: column event_type is 'resource_servers.api_server.read'" in result.stdout


# --- the tail deleted, head and checkpoints rewritten ---------------------------------------------------


def truncate(conn: Connection, size: int) -> None:
    """Delete every event after ``size`` and rewrite the head, the tree and every checkpoint row to match."""
    conn.execute(delete(log_event_targets).where(log_event_targets.c.seq > size))
    if not is_sqlite(conn):  # PostgreSQL's keyword-search documents
        conn.execute(text("DELETE FROM log_event_search WHERE seq > :size"), {"size": size})
    conn.execute(delete(log_events).where(log_events.c.seq > size))
    conn.execute(delete(tlog_checkpoints).where(tlog_checkpoints.c.size > size))
    conn.execute(delete(tlog_cosignatures).where(tlog_cosignatures.c.size > size))
    conn.execute(delete(log_checkpoints).where(log_checkpoints.c.seq > size))
    nodes = conn.execute(select(tlog_nodes.c.level, tlog_nodes.c.idx)).all()
    for level, idx in nodes:
        if (idx + 1) << level > size:
            conn.execute(delete(tlog_nodes).where(tlog_nodes.c.level == level, tlog_nodes.c.idx == idx))
    frontier, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            where = (tlog_nodes.c.level == level, tlog_nodes.c.idx == start >> level)
            frontier.append(
                (level, bytes(conn.execute(select(tlog_nodes.c.hash).where(*where)).scalar_one()))
            )
            start += 1 << level
    last = conn.execute(
        select(log_events.c.hash, log_events.c.published_ms).where(log_events.c.seq == size)
    ).one()
    conn.execute(
        update(log_head).values(
            seq=size, hash=last.hash, published_ms=last.published_ms, frontier=pack_frontier(frontier)
        )
    )


def test_a_deleted_tail_is_caught_against_a_kept_checkpoint(log: Log, token: str, tmp_path: Path) -> None:
    grow(log, 20)
    grow(log, 20)
    kept = tmp_path / "kept.checkpoint"
    assert remote_verify(log, tmp_path, token, "--save-checkpoint", str(kept)).exit_code == 0
    with tampering(log.engine) as conn:
        truncate(conn, 25)
    # Without a kept checkpoint, the truncated log is a consistent log of 25 with a genuine checkpoint of 20.
    result = remote_verify(log, tmp_path, token)
    assert result.exit_code == 0, result.output
    assert "size 20" in result.stdout
    result = remote_verify(log, tmp_path, token, "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "rollback" in result.stdout
    assert (
        "the log is at size 20, smaller than the kept checkpoint's 40: rolled back or truncated"
        in result.stdout
    )
    # The log grows again past the kept size, and signs: its tree is not the one the kept checkpoint saw.
    grow(log, 30, other=True)
    result = remote_verify(log, tmp_path, token, "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "consistency" in result.stdout
    assert "the tree of 55 does not extend the kept checkpoint of 40" in result.stdout


# --- an older copy of the whole database restored -------------------------------------------------------


def _sqlite_path(log: Log) -> Path:
    database = make_url(log.settings.database_url).database
    assert database
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the WAL included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _tables(conn: Connection) -> list[str]:
    return list(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


def backup(log: Log, tmp_path: Path) -> Path | None:
    """SQLite: a copy of the file. PostgreSQL: a copy of every table (schema ``backup``)."""
    if is_sqlite_url(log):
        _copy_sqlite(_sqlite_path(log), tmp_path / "backup.db")
        return tmp_path / "backup.db"
    with log.engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS backup CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA backup")
        for table in _tables(conn):
            conn.exec_driver_sql(f'CREATE TABLE backup."{table}" AS SELECT * FROM public."{table}"')
    return None


def restore(log: Log, copy: Path | None) -> None:
    """Put the copy back in place of the whole database."""
    if copy is not None:
        log.engine.dispose()
        live = _sqlite_path(log)
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(copy, live)
        return
    with tampering(log.engine) as conn:
        tables = _tables(conn)
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'public."{t}"' for t in tables) + " CASCADE")
        for table in tables:
            conn.exec_driver_sql(f'INSERT INTO public."{table}" SELECT * FROM backup."{table}"')
        conn.exec_driver_sql("DROP SCHEMA backup CASCADE")


def is_sqlite_url(log: Log) -> bool:
    return make_url(log.settings.database_url).get_backend_name() == "sqlite"


def test_an_older_copy_of_the_database_is_caught(log: Log, token: str, tmp_path: Path) -> None:
    grow(log, 20)
    copy = backup(log, tmp_path)
    grow(log, 20)
    kept = tmp_path / "kept.checkpoint"
    assert remote_verify(log, tmp_path, token, "--save-checkpoint", str(kept)).exit_code == 0
    restore(log, copy)
    result = remote_verify(log, tmp_path, token, "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert (
        "the log is at size 20, smaller than the kept checkpoint's 40: rolled back or truncated"
        in result.stdout
    )
    grow(
        log, 25, other=True
    )  # the restored database goes on: other events take the positions the kept tree had
    result = remote_verify(log, tmp_path, token, "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "the tree of 45 does not extend the kept checkpoint of 40" in result.stdout
