"""Fixtures: a real streaming replica of the test server (one per pytest worker), and its databases.

Without a PostgreSQL server the tests skip, as the rest of the PostgreSQL half does; with one, a replica
that cannot be started fails them when ``REGISTRAR_REQUIRE_POSTGRES=1`` (as in ``.ci/run``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text

from registrar.store.database import create_database_engine

from ..conftest import REQUIRE_POSTGRES, _postgres_admin_url
from .standby import Standby, StandbyUnavailable, running_standby


@pytest.fixture(scope="session")
def standby(postgres_database: str) -> Iterator[Standby]:
    """A hot standby of the test server, streaming from it, for the whole session (removed after)."""
    stack = ExitStack()
    try:
        replica = stack.enter_context(running_standby(_postgres_admin_url()))
    except StandbyUnavailable as error:
        message = f"no streaming replica of the test server: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (REGISTRAR_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    with stack:
        yield replica


class Replica:
    """The test's database on the primary and on the standby, and control over the standby's replay."""

    def __init__(self, primary_url: str, replica_url: str):
        self.primary_url = primary_url
        self.url = replica_url
        self.primary: Engine = create_database_engine(primary_url)
        self.admin: Engine = create_engine(replica_url, isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.resume()
        self.primary.dispose()
        self.admin.dispose()

    def catch_up(self, timeout: float = 30) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        with self.primary.connect() as conn:
            target = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        deadline = time.monotonic() + timeout
        while True:
            with self.admin.connect() as conn:
                behind = conn.execute(
                    text("SELECT pg_wal_lsn_diff(:target, pg_last_wal_replay_lsn()) > 0"), {"target": target}
                ).scalar_one()
            if not behind:
                return
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.02)

    def pause(self) -> None:
        """Stop the standby's replay (it keeps receiving WAL): it now lags the primary."""
        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
            while conn.execute(text("SELECT pg_get_wal_replay_pause_state()")).scalar_one() != "paused":
                time.sleep(0.01)

    def resume(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def head(self, engine: Engine | None = None) -> int:
        with (engine or self.admin).connect() as conn:
            return int(conn.execute(text("SELECT seq FROM log_head")).scalar_one())


@pytest.fixture
def replica(standby: Standby, postgres_url: str) -> Iterator[Replica]:
    """A freshly emptied test database and its replayed copy on the standby."""
    replica = Replica(postgres_url, standby.url(postgres_url))
    try:
        replica.catch_up()
        yield replica
    finally:
        replica.dispose()
