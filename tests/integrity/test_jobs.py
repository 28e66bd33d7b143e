"""The server signs checkpoints on its own, even when no event arrives (CloudTrail's empty digests)."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import Engine, func, select
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.store.schema import log_checkpoints


def test_the_checkpoint_job_runs_in_the_server(settings: Settings, engine: Engine) -> None:
    fast = dataclasses.replace(
        settings, jobs_enabled=True, checkpoint_interval_seconds=0.05, purge_interval_seconds=3600
    )
    app = create_app(fast, engine=engine)

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(log_checkpoints)).scalar_one())

    with TestClient(app):
        deadline = time.monotonic() + 20
        while count() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    made = count()
    assert made >= 3
    time.sleep(0.2)
    assert count() == made  # the scheduler stopped with the server
