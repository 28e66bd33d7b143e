"""A log with a witness: the app on a test database, and the tests' own witness on loopback."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.integrity.service import signer_for
from registrar.jobs.tlog_checkpoints import checkpoint_tree, tlog_origin
from registrar.tlog import Checkpoint, latest_checkpoint, tree_size

from ..conftest import CLIENT_ADDRESS
from .witness import SpecWitness, log_vkey, serving


@dataclass
class Log:
    """The log under test: write events through the API, sign checkpoints, read what is stored."""

    app: FastAPI
    client: TestClient
    auth: dict[str, str]
    engine: Engine
    settings: Settings
    origin: str
    vkey: str  # the log's verifier key, computed by the tests
    written: int = 0

    def write(self, count: int = 1) -> None:
        """``count`` successful API operations, one event each."""
        for _ in range(count):
            self.written += 1
            body = {
                "resourceUrl": f"https://api{self.written}.example.com/",
                "metadata": {"displayName": "A"},
            }
            response = self.client.post("/resource-servers/api/v1/api-servers", json=body, headers=self.auth)
            assert response.status_code == 201, response.text

    def checkpoint(self) -> Checkpoint | None:
        """What the checkpoint job does once."""
        return checkpoint_tree(self.engine, self.settings, self.app.state.deps.org_id)

    def latest(self) -> Checkpoint | None:
        with self.engine.connect() as conn:
            return latest_checkpoint(conn)

    def size(self) -> int:
        with self.engine.connect() as conn:
            return tree_size(conn)


@pytest.fixture
def witness() -> Iterator[SpecWitness]:
    with serving(SpecWitness(name="witness.test/w1", log_vkeys={})) as running:
        yield running


@pytest.fixture
def witnessed_settings(settings: Settings, witness: SpecWitness) -> Settings:
    return replace(
        settings,
        witnesses=((witness.vkey, witness.url),),
        discovery_allow_http=True,
        discovery_allowed_networks=("127.0.0.0/8",),
        witness_timeout_seconds=5.0,
    )


@contextmanager
def open_log(settings: Settings, engine: Engine, token: str, witness: SpecWitness | None) -> Iterator[Log]:
    """The app on ``settings``; ``witness`` is told to trust the log's key."""
    app = create_app(settings, engine=engine)
    origin = tlog_origin(settings, app.state.deps.org_id)
    vkey = log_vkey(origin, base64.b64decode(signer_for(settings).public_key_b64()))
    if witness is not None:
        witness.log_vkeys[origin] = vkey
    with TestClient(app, client=CLIENT_ADDRESS, raise_server_exceptions=False) as client:
        auth = {"Authorization": f"SSWS {token}"}
        yield Log(app, client, auth, engine, settings, origin, vkey)


@pytest.fixture
def log(witnessed_settings: Settings, engine: Engine, token: str, witness: SpecWitness) -> Iterator[Log]:
    with open_log(witnessed_settings, engine, token, witness) as opened:
        yield opened
