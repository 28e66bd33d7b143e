"""``verify --reconcile``: the resource tables must be exactly what the successful events describe."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.integrity.reconcile import reconcile

from ..api.test_api_auth_servers import add
from ..api.test_api_servers import BASE, register
from ..api.test_client_auth_settings import create


def mismatches(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(m.kind, m.message) for m in reconcile(conn)]


def test_state_built_through_the_api_reconciles(
    client: TestClient, auth: dict[str, str], app: FastAPI
) -> None:
    engine: Engine = app.state.deps.engine
    kept = register(client, auth, "https://kept.example/")
    gone = register(client, auth, "https://gone.example/")
    add(client, auth, kept["id"])
    create(client, auth, kept["orn"])
    client.post(f"{BASE}/{kept['id']}/lifecycle/activate", headers=auth)
    client.patch(f"{BASE}/{kept['id']}", json={"metadata": {"displayName": "Renamed"}}, headers=auth)
    client.delete(f"{BASE}/{kept['id']}", headers=auth)  # refused: active
    client.delete(f"{BASE}/{gone['id']}", headers=auth)
    assert mismatches(engine) == []


def test_changes_made_behind_the_log_are_found(
    client: TestClient, auth: dict[str, str], app: FastAPI
) -> None:
    engine: Engine = app.state.deps.engine
    server = register(client, auth, "https://a.example/")
    other = register(client, auth, "https://b.example/")
    with engine.begin() as conn:
        conn.execute(text("UPDATE resource_servers SET status = 'ACTIVE' WHERE id = :i"), {"i": server["id"]})
        conn.execute(text("DELETE FROM resource_servers WHERE id = :i"), {"i": other["id"]})
        conn.execute(
            text(
                "INSERT INTO resource_servers (id, kind, resource_url, display_name, status, "
                "detected_metadata, created_ms, last_updated_ms) VALUES "
                "('apsSmuggled000000000', 'api', 'https://smuggled.example', 'S', 'ACTIVE', '{}', 0, 0)"
            )
        )
    found = sorted(mismatches(engine))
    assert found == [
        ("ApiServer", "exists but no event created it"),
        ("ApiServer", "is ('ACTIVE', 'Example API') but its events leave it ('INACTIVE', 'Example API')"),
        ("ApiServer", "its events say it exists but it is not stored"),
    ]
