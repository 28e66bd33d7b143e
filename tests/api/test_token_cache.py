"""The token cache: a known token is not read from the database again, and a revocation made by another
process (``registrar tokens revoke``) is refused from the next request on, by every application that had
the token cached, on both stores; expiry is checked against the clock; the console session opened with a
revoked token ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.api.security import TokenCache, token_cache
from registrar.config import Settings
from registrar.ids import utcnow
from registrar.store.database import create_database_engine, migrate
from registrar.store.tokens import (
    announce_revocation,
    create_token,
    ensure_user,
    hash_token,
    lookup_token,
    revocation_watch,
    revoke_token,
)

from .._watch import TableReads, registrar_cli, wait_for_generation
from ..conftest import CLIENT_ADDRESS, TEST_SECRET_KEY
from ..console.conftest import Console

LIST = "/resource-servers/api/v1/api-servers"


def _get(client: TestClient, token: str) -> Any:
    return client.get(LIST, headers={"Authorization": f"SSWS {token}"})


def _refused(response: Any) -> bool:
    return bool(response.status_code == 401 and response.json()["errorCode"] == "E0000011")


def _make_token(engine: Engine, name: str = "test", expires_ms: int | None = None) -> tuple[str, str]:
    """A new token that may read API servers: its id and its text."""
    with engine.begin() as conn:
        user = ensure_user(conn, "ops@example.com", None)
        token, secret = create_token(
            conn, user, name, ["okta.resourceServers.apiServers.read"], expires_ms=expires_ms
        )
    return token.id, secret


def _revoke(settings: Settings, token_id: str) -> None:
    result = registrar_cli(settings, "tokens", "revoke", token_id)
    assert result.returncode == 0, result.stderr
    assert f"revoked token {token_id}" in result.stderr


def _cache_on(engine: Engine) -> None:
    """Wait until the engine's token cache may be used (PostgreSQL: its listener is listening)."""
    wait_for_generation(token_cache(engine).generation, "the token cache")


class TokenReads(TableReads):
    """Counts the statements an engine runs that read the token table."""

    table = "api_tokens"


def test_a_known_token_is_not_read_from_the_database_again(client: TestClient, engine: Engine) -> None:
    _, token = _make_token(engine)
    _cache_on(engine)
    with TokenReads(engine) as reads:
        assert all(_get(client, token).status_code == 200 for _ in range(5))
        assert reads.count == 1  # the first request's
        assert _refused(_get(client, "00" + "x" * 40))  # an unknown token is read each time, never cached
        assert _refused(_get(client, "00" + "x" * 40))
        assert reads.count == 3


def test_a_revocation_by_the_cli_is_refused_at_once_by_every_application(
    replicas: list[tuple[TestClient, Engine]], settings: Settings
) -> None:
    first, _ = replicas[0]
    token_id, token = _make_token(replicas[0][1])
    _, other = _make_token(replicas[0][1], "other")
    for client, engine in replicas:
        _cache_on(engine)
        assert _get(client, token).status_code == 200
    for client, engine in replicas:
        with TokenReads(engine) as reads:
            assert _get(client, token).status_code == 200
        assert reads.count == 0  # served from the cache
    _revoke(settings, token_id)
    for client, _ in replicas:
        assert _refused(_get(client, token))
    assert _refused(first.get(LIST, headers={"Authorization": f"Bearer {token}"}))
    assert _get(first, other).status_code == 200  # only that token


def test_a_lookup_that_raced_a_revocation_is_not_served_afterwards(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    token_id, token = _make_token(engine)
    _cache_on(engine)
    with TokenReads(engine) as reads:
        # The revocation commits (and is announced) after this request read the token live, before the
        # request files it in the cache: the request itself may pass, the next one must not.
        reads.after = lambda: _revoke(settings, token_id)
        assert _get(client, token).status_code == 200
        assert reads.after is None  # the revocation ran in the middle of the lookup
        assert _refused(_get(client, token))


def test_an_expiry_is_checked_against_the_clock_on_every_use(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    expires_ms = int(utcnow().timestamp() * 1000) + 1500
    _, token = _make_token(engine, expires_ms=expires_ms)
    _cache_on(engine)
    with TokenReads(engine) as reads:
        while int(utcnow().timestamp() * 1000) < expires_ms - 100:
            assert _get(client, token).status_code == 200
            time.sleep(0.05)
        while int(utcnow().timestamp() * 1000) < expires_ms:
            time.sleep(0.01)
        assert _refused(_get(client, token))
    assert reads.count == 1  # refused on the clock, from the cache
    (listed,) = orjson.loads(registrar_cli(settings, "tokens", "list", "--json").stdout)["data"]
    assert listed["status"] == "EXPIRED"


def test_a_console_session_opened_with_a_revoked_token_ends(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    token_id, token = _make_token(engine)
    _cache_on(engine)
    assert Console(client).login_token(token).status_code == 303
    assert client.get("/api-servers", follow_redirects=False).status_code == 200
    assert _get(client, token).status_code == 200
    _revoke(settings, token_id)
    assert client.get("/api-servers", follow_redirects=False).status_code == 303  # to sign-in
    assert _refused(_get(client, token))


def test_the_cache_is_a_bounded_lru(engine: Engine) -> None:
    found = []
    for number in range(4):
        _, secret = _make_token(engine, f"t{number}")
        with engine.connect() as conn:
            key = hash_token(secret)
            live = lookup_token(conn, key, int(utcnow().timestamp() * 1000))
        assert live is not None
        found.append((key, live))
    cache = TokenCache(revocation_watch(engine), size=3)
    _cache_on(engine)
    generation = cache.generation()
    assert generation is not None
    assert cache.get(found[0][0], generation) is None  # the cache takes this generation
    for key, live in found[:3]:
        cache.put(key, live, generation)
    assert cache.get(found[0][0], generation) == found[0][1]  # now the most recently used
    cache.put(*found[3], generation)
    assert len(cache) == 3
    assert cache.get(found[1][0], generation) is None  # the least recently used went
    assert cache.get(found[0][0], generation) == found[0][1]
    cache.put(found[1][0], found[1][1], "another generation")  # filed under a generation left behind
    assert cache.get(found[1][0], generation) is None


# SQLite: the marker file.


@dataclass
class App:
    settings: Settings
    engine: Engine
    client: TestClient


def _cached_token(app: App) -> tuple[str, str]:
    """A new token (its id and text) used once, with success, once the token cache is on: now cached."""
    token_id, token = _make_token(app.engine)
    _cache_on(app.engine)
    assert _get(app.client, token).status_code == 200
    return token_id, token


def _served(database_url: str, tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        jobs_enabled=False,
        rate_limit_per_minute=100_000,
    )
    engine = create_database_engine(database_url)
    migrate(engine)
    with TestClient(create_app(settings, engine=engine), client=CLIENT_ADDRESS) as client:
        yield App(settings, engine, client)
    engine.dispose()


@pytest.fixture
def on_sqlite(tmp_path: Path) -> Iterator[App]:
    """An application on SQLite alone (the marker file is SQLite's watch)."""
    yield from _served(f"sqlite:///{tmp_path / 'registrar.db'}", tmp_path)


def test_sqlite_revocations_are_announced_in_a_marker_file_beside_the_database(
    on_sqlite: App,
) -> None:
    settings = on_sqlite.settings
    engine = on_sqlite.engine
    client = on_sqlite.client
    token_id, token = _make_token(engine)
    assert _get(client, token).status_code == 200
    marker = Path(str(engine.url.database) + "-revocations")
    before = marker.stat().st_size
    _revoke(settings, token_id)
    assert marker.stat().st_size > before
    assert oct(marker.stat().st_mode & 0o777) == "0o600"
    assert _refused(_get(client, token))


def test_sqlite_a_removed_marker_file_starts_a_new_generation(
    on_sqlite: App,
) -> None:
    engine = on_sqlite.engine
    watch = revocation_watch(engine)
    assert watch is not None
    marker = Path(str(engine.url.database) + "-revocations")
    before = watch.generation()
    assert before is not None
    marker.unlink()
    assert watch.generation() is None  # no cache for this request
    after = watch.generation()
    assert after is not None and after != before


def test_sqlite_a_revocation_that_cannot_be_announced_fails_the_command(
    on_sqlite: App,
) -> None:
    settings = on_sqlite.settings
    engine = on_sqlite.engine
    token_id, _ = _make_token(engine)
    marker = Path(str(engine.url.database) + "-revocations")
    marker.unlink(missing_ok=True)
    marker.mkdir()  # cannot be written
    result = registrar_cli(settings, "tokens", "revoke", token_id)
    assert result.returncode == 1
    assert f"revoked token {token_id}" in result.stderr  # the revocation itself is committed
    assert "warning: could not write" in result.stderr and "until they restart" in result.stderr


# PostgreSQL: the listener.


@pytest.fixture
def on_postgres(postgres_url: str, tmp_path: Path) -> Iterator[App]:
    """An application on PostgreSQL alone (the listener is PostgreSQL's watch)."""
    yield from _served(postgres_url, tmp_path)


def _libpq(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _listeners(engine: Engine) -> list[int]:
    with psycopg.connect(_libpq(engine), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            ("registrar token cache",),
        ).fetchall()
    return [pid for (pid,) in rows]


def test_postgresql_a_lost_listener_turns_the_cache_off_and_misses_no_revocation(
    on_postgres: App,
) -> None:
    engine, client = on_postgres.engine, on_postgres.client
    token_id, token = _cached_token(on_postgres)
    watch = revocation_watch(engine)
    assert watch is not None
    (listener,) = _listeners(engine)
    with psycopg.connect(_libpq(engine), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (listener,))
    deadline = time.monotonic() + 10
    while watch.generation() is not None:  # it notices, and stops trusting the cache
        assert time.monotonic() < deadline
        time.sleep(0.005)
    with engine.begin() as conn:  # revoked while nobody listens: the notification reaches no one
        assert revoke_token(conn, token_id)
    _cache_on(engine)  # listening again, under a new generation
    assert _refused(_get(client, token))


def test_postgresql_a_listener_that_does_not_confirm_is_disconnected(
    on_postgres: App,
) -> None:
    engine, client = on_postgres.engine, on_postgres.client
    token_id, token = _cached_token(on_postgres)
    # A session that carries a listener's name but never answers (a process stuck, say).
    with psycopg.connect(_libpq(engine), autocommit=True, application_name="registrar token cache") as stuck:
        with engine.begin() as conn:
            assert revoke_token(conn, token_id)
        started = time.monotonic()
        problems = announce_revocation(engine, timeout=1.0)
        assert time.monotonic() - started >= 1.0
        (problem,) = problems
        assert "1 serving process(es)" in problem and str(stuck.info.backend_pid) in problem
        assert "were disconnected" in problem
        with pytest.raises(psycopg.OperationalError):
            stuck.execute("SELECT 1")
    assert _refused(_get(client, token))  # the live listener confirmed


def test_postgresql_every_listener_confirms_before_the_announcement_returns(
    on_postgres: App,
) -> None:
    engine = on_postgres.engine
    _cached_token(on_postgres)
    watch = revocation_watch(engine)
    assert watch is not None
    before = watch.generation()
    assert announce_revocation(engine, timeout=10) == []
    assert watch.generation() != before  # this process's listener moved on before it answered
