"""WAL checkpoints of the server's SQLite database, in a thread of their own.

SQLite's automatic checkpoint runs inside the commit that crosses the threshold (1,000 pages), so one
request in a thousand pays for copying the WAL back into the database: that is the write p99. The server's
engine turns it off (``wal_autocheckpoint=0``) and this thread runs a ``PASSIVE`` checkpoint five times a
second: it waits for no reader or writer, and writers go on appending meanwhile. Should the WAL still hold
``_TRUNCATE_FRAMES`` frames it could not copy (readers kept them in use), one ``TRUNCATE`` checkpoint taken
between writers, with the write lock, brings it back to nothing.
"""

from __future__ import annotations

import logging
import threading
import weakref

from sqlalchemy import Engine

__all__ = ["start_wal_checkpoints"]

log = logging.getLogger(__name__)

_INTERVAL_SECONDS = 0.2  # a checkpoint with nothing to copy costs a few system calls
_TRUNCATE_FRAMES = 16_384  # 64 MiB of 4 KiB pages that readers kept from being copied back


def start_wal_checkpoints(engine: Engine) -> threading.Thread:
    """Start the checkpoint thread of ``engine`` (a file SQLite database); it ends with the engine."""
    thread = threading.Thread(target=_run, args=(weakref.ref(engine),), name="wal-checkpoints", daemon=True)
    thread.start()
    return thread


def checkpoint(engine: Engine, mode: str = "PASSIVE") -> tuple[int, int, int]:
    """Run one checkpoint outside any transaction: (busy, frames in the WAL, frames checkpointed)."""
    raw = engine.raw_connection()
    try:
        row = raw.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()  # type: ignore[union-attr]
    finally:
        raw.close()
    return int(row[0]), int(row[1]), int(row[2])


def _run(ref: weakref.ref[Engine]) -> None:
    from .database import write_lock  # the engine module imports this one

    pause = threading.Event()
    while not pause.wait(_INTERVAL_SECONDS):
        engine = ref()
        if engine is None:
            return
        try:
            _, frames, done = checkpoint(engine)
            if frames >= _TRUNCATE_FRAMES and done < frames:
                with write_lock(engine):
                    checkpoint(engine, "TRUNCATE")
        except Exception as error:  # noqa: BLE001 - the next round tries again; requests are unaffected
            log.warning("WAL checkpoint failed: %s", error)
        del engine
