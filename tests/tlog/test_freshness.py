"""``registrar verify`` reports events that no signed checkpoint has covered for more than twice the
checkpoint interval: until one does, they can be removed without a trace."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.integrity.freshness import checkpoint_freshness
from registrar.jobs.tlog_checkpoints import checkpoint_tree

from ..conftest import TEST_SECRET_KEY
from ..live import registrar_command
from ..syslog.test_logs_api import make_events

INTERVAL = 10.0


def _age(engine: Engine, from_seq: int, seconds: float) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE log_events SET published_ms = published_ms - :ms WHERE seq >= :s"),
            {"ms": int(seconds * 1000), "s": from_seq},
        )


def _findings(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found = checkpoint_freshness(conn, now_ms=int(time.time() * 1000), interval_seconds=INTERVAL)
    return [f.message for f in found]


def test_uncovered_events_are_reported_once_they_have_waited_too_long(
    app: FastAPI, client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 3)
    assert _findings(engine) == []  # seconds old: the job has time yet
    _age(engine, 1, 3 * INTERVAL)
    (message,) = _findings(engine)
    assert message.startswith("no signed checkpoint covers the log: events 1..3 have waited")
    checkpoint_tree(engine, settings, app.state.deps.org_id)
    assert _findings(engine) == []
    make_events(client, auth, 2, prefix="later")
    _age(engine, 4, 3 * INTERVAL)
    (message,) = _findings(engine)
    assert message.startswith("the latest checkpoint (size 3) is stale: events 4..5 have waited")


def test_a_log_shorter_than_its_checkpoint_is_reported(
    app: FastAPI, client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 4)
    checkpoint_tree(engine, settings, app.state.deps.org_id)
    with engine.begin() as conn:  # an insider drops the tail and rewinds the head
        conn.execute(text("DELETE FROM log_event_targets WHERE seq > 2"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("DELETE FROM log_event_search WHERE seq > 2"))
        conn.execute(text("DELETE FROM log_events WHERE seq > 2"))
        conn.execute(text("UPDATE log_head SET seq = 2"))
    (message,) = _findings(engine)
    assert "the latest signed checkpoint is for 4 events but the log holds 2" in message


def test_the_checkpoint_command_signs_the_tree_and_answers_the_report(
    database_url: str, tmp_path: Path, client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    make_events(client, auth, 3)
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
        "REGISTRAR_TLOG_CHECKPOINT_SECONDS": "0.2",  # so the events are soon older than twice the interval
        "PATH": "/usr/bin:/bin",
    }
    time.sleep(0.5)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(registrar_command(*args), env=env, cwd=tmp_path, capture_output=True, text=True)

    stale = run("verify")
    assert stale.returncode == 1
    assert "no signed checkpoint covers the log: events 1..3" in stale.stdout
    signed = run("checkpoint")
    assert signed.returncode == 0, signed.stderr
    origin, size, _root, blank, signature = signed.stdout.splitlines()[-5:]
    assert (origin.startswith("registrar/00o"), size, blank) == (True, "3", "")
    assert signature.startswith("\u2014 registrar/00o")
    fresh = run("verify")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
