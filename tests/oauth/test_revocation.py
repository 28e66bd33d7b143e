"""Access tokens are checked without reading the database, and ``registrar service-apps revoke`` (another
process) makes every application refuse the app's tokens from the next request on, on both stores."""

from __future__ import annotations

import subprocess
from typing import Any

from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.oauth import live_apps

from .._watch import TableReads, registrar_cli, wait_for_generation
from .conftest import LOGS, MakeApp, access_token, bearer


def _refused(response: Any) -> bool:
    return bool(response.status_code == 401 and response.json()["errorCode"] == "E0000011")


def _revoke(settings: Settings, client_id: str) -> subprocess.CompletedProcess[str]:
    done = registrar_cli(settings, "service-apps", "revoke", client_id)
    assert done.returncode == 0, done.stderr
    return done


def _watching(engine: Engine) -> None:
    """Wait until the engine's revocation watch may be trusted (PostgreSQL: its listener is listening)."""
    watch = live_apps(engine).watch
    assert watch is not None
    wait_for_generation(watch.generation, "the revocation watch")


class AppReads(TableReads):
    """Counts the statements an engine runs that read the service apps table."""

    table = "service_apps"


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
