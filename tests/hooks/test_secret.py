"""The auth header's value is write-only: never in a response, never in the database in clear."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.hooks import HookDelivery
from registrar.store.schema import metadata

from .conftest import Clock, Hooks, drain, hook_body
from .receiver import Receiver

PLANTED = "PLANTED-hook-auth-0c9d2e71"
ROTATED = "PLANTED-hook-rotated-8a4b11f3"


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]


def _database_bytes(engine: Engine, directory: Path) -> bytes:
    if engine.dialect.name == "sqlite":
        return b"".join(p.read_bytes() for p in directory.iterdir() if p.name.startswith("registrar.db"))
    chunks: list[bytes] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.extend(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
    return b"\n".join(chunks)


def test_the_auth_value_appears_nowhere_but_on_the_wire(
    hooks: Hooks,
    client: TestClient,
    receiver: Receiver,
    delivery: HookDelivery,
    engine: Engine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    clock: Clock,
) -> None:
    seen: list[bytes] = []
    created = client.post(
        "/api/v1/eventHooks", headers=hooks.auth, json=hook_body(f"{receiver.url}/h", auth=PLANTED)
    )
    seen.append(created.content)
    hook_id = created.json()["id"]
    for action in ("verify", "deactivate", "activate"):
        seen.append(hooks.lifecycle(hook_id, action).content)
    seen.append(client.get("/api/v1/eventHooks", headers=hooks.auth).content)
    seen.append(client.get(f"/api/v1/eventHooks/{hook_id}", headers=hooks.auth).content)
    rotated = hook_body(f"{receiver.url}/h", auth=ROTATED)
    seen.append(client.put(f"/api/v1/eventHooks/{hook_id}", headers=hooks.auth, json=rotated).content)
    hooks.register(2)
    receiver.answer_next(500)  # a failure is logged: its message must not carry the value either
    drain(delivery)
    clock.advance(8)
    drain(delivery)
    seen.append(client.get(f"/api/v1/eventHooks/{hook_id}", headers=hooks.auth).content)

    # It does reach the receiver, which is the point of it.
    assert receiver.gets()[0].headers["authorization"] == PLANTED
    assert receiver.accepted()[-1].headers["authorization"] == ROTATED
    stored = _database_bytes(engine, tmp_path)
    logged = caplog.text.encode()
    for secret in (PLANTED, ROTATED):
        for form in _forms(secret):
            assert all(form not in body for body in seen)
            assert form not in stored
            assert form not in logged
