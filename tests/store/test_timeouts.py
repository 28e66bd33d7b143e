"""Nothing waits for the database without bound (invariant 9), and readers never wait for writers.

A write lock held elsewhere (another SQLite connection in ``BEGIN IMMEDIATE``; on PostgreSQL another
transaction holding the log head) leaves ``GET /api/v1/logs`` answering; a writer gives up after
``REGISTRAR_DB_WAIT_SECONDS`` with a 503 ``E0000009``; a statement running past the statement timeout is
stopped with a 503 too, while migrations and maintenance connections (``UNLIMITED``) are not cut.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.errors import ServiceUnavailable
from registrar.store.database import (
    UNLIMITED,
    create_database_engine,
    is_sqlite,
    migrate,
    unavailable,
    write_lock,
)

from ..conftest import CLIENT_ADDRESS, MakeToken

BASE = "/resource-servers/api/v1/api-servers"
Events = Callable[[], list[dict[str, Any]]]


def _engine(settings: Settings, **limits: Any) -> Engine:
    engine = create_database_engine(settings.database_url, **limits)
    migrate(engine)
    return engine


@contextmanager
def _client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine=engine), client=CLIENT_ADDRESS) as client:
        yield client


@contextmanager
def write_lock_held_elsewhere(database_url: str) -> Iterator[None]:
    """Another connection holds what every writer needs: SQLite's write lock, PostgreSQL's log head."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    holder = create_database_engine(database_url, statement_timeout=None)
    with holder.connect() as conn, conn.begin():
        conn.execute(text("SELECT seq FROM log_head FOR UPDATE"))
        yield
    holder.dispose()


def _register(client: TestClient, token: str, name: str) -> Any:
    body = {"resourceUrl": f"https://{name}.example.com/", "metadata": {"displayName": name}}
    return client.post(BASE, json=body, headers={"Authorization": f"SSWS {token}"})


@pytest.mark.timeout(20)  # the writer gives up after 0.3 s (twice: the failure audit waits too), not 30
def test_a_writer_gives_up_with_503_and_readers_still_answer(
    settings: Settings, make_token: MakeToken, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _engine(settings, wait_seconds=0.3)
    token = make_token()
    with _client(replace(settings, db_wait_seconds=0.3), engine) as client:
        with write_lock_held_elsewhere(settings.database_url), caplog.at_level(logging.WARNING):
            logs = client.get("/api/v1/logs", headers={"Authorization": f"SSWS {token}"})
            assert logs.status_code == 200, logs.text
            refused = _register(client, token, "busy")
            assert refused.status_code == 503, refused.text
        body = refused.json()
        assert body["errorCode"] == "E0000009" and body["errorSummary"] == "Service Unavailable"
        assert body["errorCauses"][0]["errorSummary"].startswith("The database stayed locked")
        assert refused.headers["retry-after"] == "1"
        # The failure audit could not get in either: that is logged, and nothing half-done is stored.
        assert "could not audit the failure of resource_servers.api_server.register" in caplog.text
        assert events() == []
        # Once the lock is gone, writes go through again.
        assert _register(client, token, "free").status_code == 201
    assert [e["eventType"] for e in events()] == ["resource_servers.api_server.register"]
    engine.dispose()


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def _writer_waiting(engine: Engine) -> Callable[[], bool]:
    """True once a writer of ``engine`` is waiting for the held lock."""
    if is_sqlite(engine):

        def queued() -> bool:  # the waiting writer holds this process's writer queue
            try:
                with write_lock(engine, wait=0):
                    return False
            except ServiceUnavailable:
                return True

        return queued

    def blocked() -> bool:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            return bool(conn.execute(text(query)).scalar_one())

    return blocked


def test_readers_do_not_queue_behind_a_waiting_writer(settings: Settings, make_token: MakeToken) -> None:
    """With a long wait, a writer stuck on the lock is still waiting when a fresh reader has answered."""
    engine = _engine(settings, wait_seconds=60)
    writer, reader = make_token(email="writer@example.com"), make_token(email="reader@example.com")
    with _client(settings, engine) as client, ThreadPoolExecutor(1) as pool:
        with write_lock_held_elsewhere(settings.database_url):
            pending = pool.submit(_register, client, writer, "waiting")
            _wait_until(_writer_waiting(engine))
            for path in ("/api/v1/logs", BASE, "/resource-servers/api/v1/mcp-servers"):
                answer = client.get(path, headers={"Authorization": f"SSWS {reader}"})
                assert answer.status_code == 200, (path, answer.text)
            assert not pending.done()
        assert pending.result().status_code == 201
    engine.dispose()


def _slow_query(engine: Engine) -> str:
    """A statement that runs for at least 0.2 s on either database."""
    if is_sqlite(engine):

        @event.listens_for(engine, "connect")
        def _nap(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.create_function("nap", 1, time.sleep)

        # The nap comes first; the thousands of steps after it find the deadline passed.
        return (
            "WITH RECURSIVE c(x) AS (SELECT 1 + coalesce(nap(0.2), 0) UNION ALL "
            "SELECT x + 1 FROM c WHERE x < 20000) SELECT count(*) FROM c"
        )
    return "SELECT count(*) FROM (SELECT pg_sleep(0.2)) AS s"


def test_a_statement_past_the_timeout_is_stopped_and_maintenance_is_not_cut(settings: Settings) -> None:
    engine = create_database_engine(settings.database_url, statement_timeout=0.05)
    slow = text(_slow_query(engine))
    migrate(engine)  # migrations lift the timeout
    with engine.connect() as conn, pytest.raises(DBAPIError) as stopped:
        conn.execute(slow).all()
    error = unavailable(stopped.value)
    assert isinstance(error, ServiceUnavailable) and error.status == 503
    assert error.reason.startswith("A database query ran longer than the statement timeout")
    with engine.connect().execution_options(**UNLIMITED) as conn:
        assert conn.execute(slow).scalar_one() in {1, 20000}
    # The connection that was stopped goes back to work (the timeout is per statement).
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_postgresql_timeout_is_applied_per_transaction(postgres_url: str) -> None:
    engine = create_database_engine(postgres_url, statement_timeout=0.1)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "100ms"
    with engine.connect().execution_options(**UNLIMITED) as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "0"
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "0"
    # SET LOCAL: the pooled connection comes back with the engine's timeout.
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "100ms"
    engine.dispose()


# PostgreSQL only: on SQLite no reader ever waits for a lock (WAL); the statement timeout is shown above.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_query_cut_by_the_timeout_is_a_503_through_the_api(
    settings: Settings, make_token: MakeToken
) -> None:
    """The System Log query waits on a table another transaction has locked, until the timeout stops it."""
    engine = _engine(settings, statement_timeout=0.1)
    token = make_token()
    holder = create_database_engine(settings.database_url, statement_timeout=None)
    with _client(settings, engine) as client:
        with holder.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE log_events IN ACCESS EXCLUSIVE MODE"))
            stopped = client.get("/api/v1/logs", headers={"Authorization": f"SSWS {token}"})
        assert stopped.status_code == 503, stopped.text
        assert stopped.json()["errorCode"] == "E0000009"
        assert "statement timeout" in stopped.json()["errorCauses"][0]["errorSummary"]
        assert client.get("/api/v1/logs", headers={"Authorization": f"SSWS {token}"}).status_code == 200
    holder.dispose()
    engine.dispose()
