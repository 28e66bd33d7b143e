"""Retention: a purge removes a prefix, keeps the rest verifiable, and a locked period only grows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.errors import Conflict
from registrar.integrity.retention import get_policy, set_policy
from registrar.integrity.service import purge_now

from ..conftest import TEST_SECRET_KEY
from ..live import registrar_command
from ..syslog.test_logs_api import LOGS, make_events
from .test_verify import findings, tampering

DAY_MS = 86_400_000


def backdate(engine: Engine, through_seq: int, days: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE log_events SET published_ms = published_ms - :d WHERE seq <= :s"),
            {"d": days * DAY_MS, "s": through_seq},
        )


def test_purge_removes_the_expired_prefix_and_the_rest_still_verifies(
    client: TestClient, auth: dict[str, str], app: FastAPI, settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 3, prefix="old")
    backdate(engine, 3, 100)
    # Fewer expired events than an entry bundle holds: nothing goes yet (only whole bundles are purged).
    assert purge_now(engine, settings, app.state.deps.org_id) == 0
    make_events(client, auth, 256, prefix="older")
    make_events(client, auth, 2, prefix="new")
    backdate(engine, 259, 100)
    assert purge_now(engine, settings, app.state.deps.org_id) == 256
    assert purge_now(engine, settings, app.state.deps.org_id) == 0
    remaining = client.get(LOGS, params={"since": "2000-01-01", "limit": "1000"}, headers=auth).json()
    # Events 257-259 expired too, but their bundle has not: they stay until it expires whole.
    assert [e["target"][0]["displayName"] for e in remaining] == [
        "older 253",
        "older 254",
        "older 255",
        "new 0",
        "new 1",
    ]
    assert client.get(LOGS, params={"q": "old"}, headers=auth).json() == []
    assert findings(engine, settings) == []


def test_a_prefix_deleted_outside_the_purge_is_not_anchored(
    client: TestClient, auth: dict[str, str], app: FastAPI, settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 4)
    with tampering(engine) as conn:
        anchor = conn.execute(text("SELECT hash FROM log_events WHERE seq = 2")).scalar_one()
        conn.execute(text("DELETE FROM log_event_targets WHERE seq <= 2"))
        conn.execute(text("DELETE FROM log_events WHERE seq <= 2"))
        conn.execute(text("UPDATE log_head SET first_seq = 3, anchor_hash = :a"), {"a": anchor})
    assert [f.kind for f in findings(engine, settings)] == ["checkpoint"]


def test_locked_retention_can_only_grow(engine: Engine) -> None:
    with engine.begin() as conn:
        assert get_policy(conn).days == 90
        set_policy(conn, 30)
        set_policy(conn, 60, lock=True)
        with pytest.raises(Conflict):
            set_policy(conn, 59)
        assert set_policy(conn, 365).locked


def test_cli_verify_and_retention(
    database_url: str, tmp_path: Path, client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    make_events(client, auth, 3)
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "PATH": "/usr/bin:/bin",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(registrar_command(*args), env=env, cwd=tmp_path, capture_output=True, text=True)

    assert run("checkpoint").returncode == 0
    intact = run("verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "3 events" in intact.stdout
    with tampering(engine) as conn:
        conn.execute(text("UPDATE log_events SET body = replace(body, 'alice@', 'eve@') WHERE seq = 2"))
    broken = run("verify")
    assert broken.returncode == 1
    assert "edited" in broken.stdout and "seq 2" in broken.stdout
    assert run("retention", "set", "--days", "30", "--lock").returncode == 0
    refused = run("retention", "set", "--days", "10")
    assert refused.returncode == 1
    assert "locked" in refused.stderr
    assert "30 days (locked" in run("retention", "show").stdout
