"""A revoked or expired token is refused on the very next request, by every replica; last use is recorded
cheaply (one write per token per minute, outside the request's own transaction)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.ids import utcnow
from registrar.store.database import create_database_engine, migrate

from ..cli.test_tokens import TokensCli
from ..conftest import CLIENT_ADDRESS

LIST = "/resource-servers/api/v1/api-servers"


@pytest.fixture
def tokens_cli(database_url: str, tmp_path: Path) -> TokensCli:
    return TokensCli(database_url, tmp_path / "data")


@pytest.fixture
def replicas(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two application instances, each with its own engine and pool, on one database: two replicas (on the
    PostgreSQL run, exactly the production shape; on SQLite, two processes' worth of engines on one file)."""
    engines = [create_database_engine(settings.database_url) for _ in range(2)]
    for engine in engines:
        migrate(engine)
    apps = [create_app(settings, engine=engine) for engine in engines]
    with TestClient(apps[0], client=CLIENT_ADDRESS) as one, TestClient(apps[1], client=CLIENT_ADDRESS) as two:
        yield one, two
    for engine in engines:
        engine.dispose()


def _get(client: TestClient, token: str) -> Any:
    return client.get(LIST, headers={"Authorization": f"SSWS {token}"})


def _assert_refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["errorCode"] == "E0000011"


def test_a_revoked_token_is_refused_at_once_by_every_replica(
    replicas: tuple[TestClient, TestClient], tokens_cli: TokensCli
) -> None:
    one, two = replicas
    token = tokens_cli.create("--user", "ops@example.com")
    other = tokens_cli.create("--user", "ops@example.com", "--name", "other")
    for replica in replicas:  # both replicas have seen the token work (anything cached would be warm)
        assert _get(replica, token).status_code == 200
    tokens_cli.ok("revoke", next(t["id"] for t in tokens_cli.listed() if t["name"] == "registrar"))
    _assert_refused(_get(two, token))
    _assert_refused(_get(one, token))
    _assert_refused(one.get(LIST, headers={"Authorization": f"Bearer {token}"}))
    assert _get(one, other).status_code == 200  # only that token


def test_an_expired_token_is_refused(client: TestClient, tokens_cli: TokensCli, engine: Engine) -> None:
    # Expiry is immutable and checked against the clock (a cached token too): let the clock pass it.
    expires = (utcnow() + timedelta(seconds=3)).replace(microsecond=0)
    token = tokens_cli.create("--user", "ops@example.com", "--expires", expires.isoformat())
    assert _get(client, token).status_code == 200
    while utcnow() <= expires:
        time.sleep(0.05)
    _assert_refused(_get(client, token))
    assert tokens_cli.only()["status"] == "EXPIRED"


def test_last_use_is_recorded_once_a_minute_outside_the_request(
    client: TestClient, tokens_cli: TokensCli, engine: Engine
) -> None:
    token = tokens_cli.create("--user", "ops@example.com")
    assert tokens_cli.only()["lastUsed"] is None
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert _get(client, token).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1
    assert tokens_cli.only()["lastUsed"] is not None


def test_last_use_survives_a_request_whose_transaction_rolls_back(
    client: TestClient, tokens_cli: TokensCli
) -> None:
    token = tokens_cli.create("--user", "ops@example.com")
    # The body is parsed inside the operation's unit of work: its transaction rolls back (a FAILURE event).
    bad = client.post(LIST, json={"resourceUrl": ""}, headers={"Authorization": f"SSWS {token}"})
    assert bad.status_code == 400
    assert tokens_cli.only()["lastUsed"] is not None
