"""``/healthz`` and ``/readyz``: a load balancer's probes, answered without a token, without a rate-limit
budget and without an event; ``/readyz`` says 503, naming the failing check, when the database does not
answer, its schema is not the code's, or a background job stopped."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.store.database import create_database_engine

from ..conftest import CLIENT_ADDRESS, POSTGRES_URL, TEST_SECRET_KEY
from ..wire._live import inside_one_window

Events = Callable[[], list[dict[str, Any]]]
READY = {"status": "ready", "checks": {"database": True, "migrations": True}}


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the application's engine runs from here on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_healthz_needs_no_token_and_no_database(client: TestClient, statements: list[str]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-okta-request-id"]
    assert statements == []


def test_readyz_is_ready_and_says_only_which_checks_passed(
    client: TestClient, statements: list[str], events: Events
) -> None:
    before = len(events())
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == READY
    assert response.headers["cache-control"] == "no-store"
    assert len(events()) == before  # no event
    assert not any("rate_limit" in statement for statement in statements)  # no budget on PostgreSQL


def test_probes_are_never_rate_limited(settings: Settings, engine: Engine) -> None:
    app = create_app(replace(settings, rate_limit_per_minute=2), engine=engine)
    inside_one_window()  # PostgreSQL's budgets are wall-clock minutes
    with TestClient(app, client=CLIENT_ADDRESS) as client:
        answers = [client.get(path).status_code for _ in range(10) for path in ("/healthz", "/readyz")]
        assert answers == [200] * 20
        probe = client.get("/healthz")
        assert "x-rate-limit-remaining" not in probe.headers
        others = [client.get("/api/v1/logs").status_code for _ in range(3)]
    assert others == [401, 401, 429]  # the same address's other requests are still counted


def test_readyz_says_when_the_schema_is_not_the_codes(client: TestClient, engine: Engine) -> None:
    with engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    try:
        response = client.get("/readyz")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": True, "migrations": False},
        "failed": ["migrations"],
    }


def test_readyz_checks_the_jobs_when_the_process_runs_them(settings: Settings, engine: Engine) -> None:
    app = create_app(replace(settings, jobs_enabled=True), engine=engine)
    with TestClient(app, client=CLIENT_ADDRESS) as client:
        ready = client.get("/readyz")
        app.state.scheduler.stop()
        app.state.readiness.cache_seconds = 0  # the store is checked again; the jobs always are
        stopped = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "jobs": True}
    assert stopped.status_code == 503
    assert stopped.json() == {
        "status": "unavailable",
        "checks": {"database": True, "migrations": True, "jobs": False},
        "failed": ["jobs"],
    }


@pytest.fixture
def doomed_database(postgres_database: str) -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL database of the test's own, and a way to drop it under the application's feet."""
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"registrar_doomed_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False), drop
    finally:
        drop()
        admin.dispose()


def test_readyz_says_when_the_database_does_not_answer(
    doomed_database: tuple[str, Callable[[], None]], tmp_path: Path
) -> None:
    url, drop = doomed_database
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        secret_key=TEST_SECRET_KEY,
        jobs_enabled=False,
        rate_limit_store="memory",
    )
    engine = create_database_engine(url, wait_seconds=1)
    try:
        app = create_app(settings, engine=engine)
        with TestClient(app, client=CLIENT_ADDRESS) as client:
            assert client.get("/readyz").status_code == 200
            drop()
            app.state.readiness.cache_seconds = 0
            response = client.get("/readyz")
            alive = client.get("/healthz")
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": False, "migrations": False},
        "failed": ["database", "migrations"],
    }
    assert alive.status_code == 200  # the process itself is fine
