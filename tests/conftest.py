"""Fixtures: one suite, run against SQLite and a real PostgreSQL server.

PostgreSQL comes from ``REGISTRAR_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Where none answers, the PostgreSQL half is skipped with a message, unless ``REGISTRAR_REQUIRE_POSTGRES=1``
(as in ``.ci/run``), which turns the missing server into a failure.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.store.database import bootstrap, create_database_engine, migrate
from registrar.store.schema import log_events, metadata
from registrar.store.tokens import ALL_SCOPES, create_token, ensure_user

POSTGRES_URL = os.environ.get("REGISTRAR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REGISTRAR_REQUIRE_POSTGRES") == "1"
TEST_SECRET_KEY = base64.b64encode(b"k" * 32).decode()
CLIENT_ADDRESS = ("198.51.100.23", 50123)


def _postgres_admin_url() -> str:
    return str(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, migrated once, dropped at the end."""
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
        admin.dispose()
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (REGISTRAR_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message + " - skipping the PostgreSQL half of the suite")
    name = f"registrar_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = str(make_url(_postgres_admin_url()).set(database=name).render_as_string(hide_password=False))
    engine = create_database_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database migrated once per test process: each test's database is a copy of it (migrating
    a new file costs more than the average test). Closing its last connection checkpoints its WAL into
    the file and removes it, so the file alone is the database."""
    path = tmp_path_factory.mktemp("template") / "registrar.db"
    engine = create_database_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    assert not path.with_name("registrar.db-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        database = tmp_path / "registrar.db"
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, database)
        database.chmod(0o600)  # as Registrar makes its own database file
        yield f"sqlite:///{database}"
        return
    url: str = request.getfixturevalue("postgres_database")
    yield _emptied(url)


def _emptied(url: str) -> str:
    engine = create_database_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        bootstrap(conn)
    engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """A freshly emptied PostgreSQL database, for tests that only make sense there (replicas)."""
    return _emptied(postgres_database)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        secret_key_file=tmp_path / "unused.key",
        rate_limit_per_minute=100_000,
        jobs_enabled=False,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_database_engine(settings.database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=CLIENT_ADDRESS, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def replicas(settings: Settings) -> Iterator[list[tuple[TestClient, Engine]]]:
    """Two applications, each with its own engine, on one database and one data directory (two replicas'
    worth of caches)."""
    engines = [create_database_engine(settings.database_url) for _ in range(2)]
    for engine in engines:
        migrate(engine)
    apps = [create_app(settings, engine=engine) for engine in engines]
    with TestClient(apps[0], client=CLIENT_ADDRESS) as one, TestClient(apps[1], client=CLIENT_ADDRESS) as two:
        yield [(one, engines[0]), (two, engines[1])]
    for engine in engines:
        engine.dispose()


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(engine: Engine) -> MakeToken:
    """Create a token for a user with the given scopes (all by default); returns the token text."""

    def make(*scopes: str, email: str = "alice@example.com", display_name: str = "Alice Admin") -> str:
        with engine.begin() as conn:
            user = ensure_user(conn, email, display_name)
            _, secret = create_token(conn, user, "test", scopes or ALL_SCOPES)
        return secret

    return make


@pytest.fixture
def token(make_token: MakeToken) -> str:
    return make_token()


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"SSWS {token}", "User-Agent": "registrar-tests/1.0"}


def stored_events(engine: Engine) -> list[dict[str, Any]]:
    """Every event in the log, in sequence order, parsed from the stored bytes."""
    with engine.connect() as conn:
        rows = conn.execute(select(log_events.c.body).order_by(log_events.c.seq)).scalars().all()
    return [orjson.loads(body) for body in rows]


@pytest.fixture
def events(engine: Engine) -> Callable[[], list[dict[str, Any]]]:
    return lambda: stored_events(engine)
