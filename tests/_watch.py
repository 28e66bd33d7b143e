"""What the tests of the revocation watches share (the token cache, the service apps an access token names):
counting the statements that read a table, waiting for a watch to come on, and ``registrar`` run by another
process on the test's database (the ``replicas`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from sqlalchemy import Engine, event

from registrar.config import Settings

from .live import registrar_command

__all__ = ["TableReads", "registrar_cli", "wait_for_generation"]


class TableReads:
    """Counts the statements an engine runs that read ``table`` (a ``SELECT`` from it; a subclass names
    the table)."""

    table: ClassVar[str]

    def __init__(self, engine: Engine):
        self.engine = engine
        self.count = 0
        self.after: Callable[[], object] | None = None  # run once, right after the next read of the table

    def __enter__(self) -> TableReads:
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {self.table}" in statement:
            self.count += 1
            if self.after is not None:
                after, self.after = self.after, None
                after()


def wait_for_generation(generation: Callable[[], Hashable | None], what: str) -> None:
    """Wait until ``generation()`` names one, so that what it guards may be used (PostgreSQL: its listener
    is listening); ``what`` never coming on within 30 seconds fails the test."""
    deadline = time.monotonic() + 30
    while generation() is None:
        assert time.monotonic() < deadline, f"{what} never came on"
        time.sleep(0.01)


def registrar_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``registrar …`` in a process of its own, on the test's database and data directory."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")},
        "REGISTRAR_DATABASE_URL": settings.database_url,
        "REGISTRAR_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(registrar_command(*args), env=env, capture_output=True, text=True, check=False)
