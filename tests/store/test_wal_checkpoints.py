"""The server's SQLite WAL is checkpointed by a thread of its own, never inside a request's commit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text

from registrar.store.database import create_database_engine


def _big_commit(url: str, path: Path, *, background: bool) -> tuple[int, int]:
    """Commit ~8 MB in one transaction; (the connection's wal_autocheckpoint, the database file's size
    once the commit returned)."""
    engine = create_database_engine(url, background_checkpoints=background)
    try:
        with engine.begin() as conn:
            autocheckpoint = int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())
            conn.execute(text("CREATE TABLE filler (b BLOB)"))
            conn.execute(
                text("INSERT INTO filler VALUES (:b)"), [{"b": os.urandom(4000)} for _ in range(2000)]
            )
        size = path.stat().st_size
        if background:
            deadline = time.monotonic() + 30
            while path.stat().st_size < 8_000_000:  # copied back into the database by the thread
                assert time.monotonic() < deadline, "no checkpoint came"
                time.sleep(0.05)
        return autocheckpoint, size
    finally:
        engine.dispose()


def test_the_server_engine_checkpoints_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "bg.db"
    autocheckpoint, size_at_commit = _big_commit(f"sqlite:///{path}", path, background=True)
    assert autocheckpoint == 0  # no commit runs a checkpoint
    assert size_at_commit < 1_000_000  # the commit returned with its pages still in the WAL only


def test_other_engines_keep_sqlites_automatic_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "fg.db"
    autocheckpoint, size_at_commit = _big_commit(f"sqlite:///{path}", path, background=False)
    assert autocheckpoint == 1000
    assert size_at_commit > 8_000_000  # the committing writer copied the WAL back itself
