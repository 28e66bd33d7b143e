"""Invariant 6: a client secret never appears in clear: not in the database, responses, events or logs."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx2
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from registrar.store.schema import metadata

from .conftest import TEST_SECRET_KEY
from .live import registrar_command, running_server

PLANTED = "PLANTED-secret-7f3a9c1e"
SECOND = "PLANTED-rotated-5b21d0aa"
SETTINGS = "/resource-servers/api/v1/client-auth-settings"


def _forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")]


def _database_dump(database_url: str, workdir: Path) -> bytes:
    if database_url.startswith("sqlite"):
        return b"".join(
            p.read_bytes() for p in workdir.rglob("*") if p.is_file() and not p.name.endswith(".log")
        )
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    chunks: list[bytes] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.extend(
                    bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row
                )
    engine.dispose()
    return b"\n".join(chunks)


def test_a_planted_secret_appears_nowhere(database_url: str, tmp_path: Path) -> None:
    # The server logs at DEBUG, so that the scan below reads what it logs at every level.
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_LOG_LEVEL": "DEBUG",
    }
    token = subprocess.run(
        registrar_command("tokens", "create", "--user", "sec@example.com"),
        env=env | {"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    seen: list[bytes] = []
    with running_server(env, tmp_path) as server:
        client = httpx2.Client(base_url=server.url, headers={"Authorization": f"SSWS {token}"})

        def call(method: str, url: str, **kwargs: object) -> httpx2.Response:
            response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
            seen.append(str(response.headers).encode() + response.content)
            return response

        api = call(
            "POST",
            "/resource-servers/api/v1/api-servers",
            json={"resourceUrl": "https://api.example.com", "metadata": {"displayName": "A"}},
        ).json()
        config = {"clientId": "cid", "clientSecret": PLANTED, "scopes": ["read"]}
        created = call(
            "POST", SETTINGS, json={"name": "n", "resourceOrn": api["orn"], "configuration": config}
        )
        assert created.status_code == 201
        sid = created.json()["id"]
        assert call("GET", f"{SETTINGS}/{sid}").status_code == 200
        assert call("GET", SETTINGS).status_code == 200
        assert (
            call("PATCH", f"{SETTINGS}/{sid}", json={"configuration": {"clientSecret": SECOND}}).status_code
            == 200
        )
        # Failures that carry the secret: unknown member, bad type next to it, unknown ORN, missing object,
        # broken JSON, and a secret that is too long.
        failures = [
            call(
                "POST",
                SETTINGS,
                json={"name": "n", "resourceOrn": api["orn"], "configuration": {**config, "x": PLANTED}},
            ),
            call("POST", SETTINGS, json={"name": 5, "resourceOrn": api["orn"], "configuration": config}),
            call("POST", SETTINGS, json={"name": "n", "resourceOrn": "orn:nope", "configuration": config}),
            call(
                "PATCH", f"{SETTINGS}/rsc00000000000000000", json={"configuration": {"clientSecret": PLANTED}}
            ),
            call(
                "POST",
                SETTINGS,
                content=b'{"configuration": {"clientSecret": "' + PLANTED.encode() + b'"',
                headers={"Content-Type": "application/json"},
            ),
            call("PATCH", f"{SETTINGS}/{sid}", json={"configuration": {"clientSecret": PLANTED * 100}}),
            call("PATCH", f"{SETTINGS}/{sid}", json={"configuration": {"clientSecret": [PLANTED]}}),
        ]
        assert [r.status_code for r in failures] == [400, 400, 400, 404, 400, 400, 400]
        client.close()
    output = server.output().encode()
    assert b"POST /resource-servers/api/v1/client-auth-settings" in output  # the access log was captured
    assert b" DEBUG registrar.api.middleware " in output  # and so were the DEBUG records
    dump = _database_dump(database_url, tmp_path)
    assert b"client_authentication_settings" in dump  # the events were captured
    for secret in (PLANTED, SECOND):
        for form in _forms(secret):
            assert form not in dump, f"{secret} in the database"
            assert form not in output, f"{secret} in the server output"
            for response in seen:
                assert form not in response, f"{secret} in a response"
