"""Access tokens are checked without reading the database, and ``registrar service-apps revoke`` (another
process) makes every application refuse the app's tokens from the next request on, on both stores."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.oauth import live_apps
from registrar.store.database import create_database_engine, migrate

from ..conftest import CLIENT_ADDRESS
from ..live import registrar_command
from .conftest import LOGS, MakeApp, access_token, bearer


def _refused(response: Any) -> bool:
    return bool(response.status_code == 401 and response.json()["errorCode"] == "E0000011")


def _revoke(settings: Settings, client_id: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")},
        "REGISTRAR_DATABASE_URL": settings.database_url,
        "REGISTRAR_DATA_DIR": str(settings.data_dir),
    }
    done = subprocess.run(
        registrar_command("service-apps", "revoke", client_id),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _watching(engine: Engine) -> None:
    """Wait until the engine's revocation watch may be trusted (PostgreSQL: its listener is listening)."""
    watch = live_apps(engine).watch
    assert watch is not None
    deadline = time.monotonic() + 30
    while watch.generation() is None:
        assert time.monotonic() < deadline, "the revocation watch never came on"
        time.sleep(0.01)


class AppReads:
    """Counts the statements an engine runs that read the service apps table."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.count = 0
        self.after: Callable[[], object] | None = None

    def __enter__(self) -> AppReads:
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM service_apps" in statement:
            self.count += 1
            if self.after is not None:
                after, self.after = self.after, None
                after()


@pytest.fixture
def replicas(settings: Settings) -> Iterator[list[tuple[TestClient, Engine]]]:
    """Two applications, each with its own engine, on one database and one data directory."""
    engines = [create_database_engine(settings.database_url) for _ in range(2)]
    for engine in engines:
        migrate(engine)
    apps = [create_app(settings, engine=engine) for engine in engines]
    with TestClient(apps[0], client=CLIENT_ADDRESS) as one, TestClient(apps[1], client=CLIENT_ADDRESS) as two:
        yield [(one, engines[0]), (two, engines[1])]
    for engine in engines:
        engine.dispose()


def test_a_known_app_is_not_read_from_the_database_again(
    client: TestClient, engine: Engine, make_app: MakeApp
) -> None:
    client_id, key = make_app()
    token = access_token(client, client_id, key)
    _watching(engine)
    with AppReads(engine) as reads:
        assert all(client.get(LOGS, headers=bearer(token)).status_code == 200 for _ in range(5))
    assert reads.count == 1  # the first request's


def test_a_revocation_by_the_cli_is_refused_at_once_by_every_application(
    replicas: list[tuple[TestClient, Engine]], settings: Settings, make_app: MakeApp
) -> None:
    (first, _), _ = replicas
    client_id, key = make_app()
    other_id, other_key = make_app(name="other")
    token, other = access_token(first, client_id, key), access_token(first, other_id, other_key)
    for client, engine in replicas:
        _watching(engine)
        assert client.get(LOGS, headers=bearer(token)).status_code == 200
    for client, engine in replicas:
        with AppReads(engine) as reads:
            assert client.get(LOGS, headers=bearer(token)).status_code == 200
        assert reads.count == 0  # known, and no revocation since
    assert "revoked service app" in _revoke(settings, client_id).stderr
    for client, _ in replicas:
        assert _refused(client.get(LOGS, headers=bearer(token)))
        assert _refused(client.get(LOGS, headers={"Authorization": f"SSWS {token}"}))
    assert first.get(LOGS, headers=bearer(other)).status_code == 200  # only that app
    assert "was already revoked" in _revoke(settings, client_id).stderr


def test_an_app_read_while_a_revocation_committed_is_not_served_afterwards(
    client: TestClient, engine: Engine, settings: Settings, make_app: MakeApp
) -> None:
    client_id, key = make_app()
    token = access_token(client, client_id, key)
    _watching(engine)
    with AppReads(engine) as reads:
        # The revocation commits (and is announced) after this request read the app live, before the
        # request files what it read: the request itself may pass, the next one must not.
        reads.after = lambda: _revoke(settings, client_id)
        assert client.get(LOGS, headers=bearer(token)).status_code == 200
        assert reads.after is None
        assert _refused(client.get(LOGS, headers=bearer(token)))
