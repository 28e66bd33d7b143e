"""The maintenance commands: ``registrar tokens create`` prints the token alone and it works."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx2

from .conftest import TEST_SECRET_KEY
from .live import registrar_command, running_server


def test_tokens_create_prints_only_a_working_token(database_url: str, tmp_path: Path) -> None:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        registrar_command(
            "tokens",
            "create",
            "--user",
            "ops@example.com",
            "--name",
            "ci",
            "--scope",
            "okta.logs.read",
            "--scope",
            "okta.resourceServers.apiServers.read",
        ),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0]) >= 40
    assert "okta.logs.read" in result.stderr
    with running_server(env, tmp_path) as server:
        ok = httpx2.get(
            f"{server.url}/resource-servers/api/v1/api-servers", headers={"Authorization": f"SSWS {lines[0]}"}
        )
        assert ok.status_code == 200
        denied = httpx2.post(
            f"{server.url}/resource-servers/api/v1/api-servers",
            headers={"Authorization": f"SSWS {lines[0]}"},
            json={"resourceUrl": "https://a.example", "metadata": {"displayName": "A"}},
        )
        assert denied.status_code == 403


def test_tokens_create_refuses_unknown_scopes_and_bad_emails(tmp_path: Path) -> None:
    env = {"REGISTRAR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    for args in (["--user", "a@example.com", "--scope", "okta.everything"], ["--user", "not-an-email"]):
        result = subprocess.run(
            registrar_command("tokens", "create", *args),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2
        assert result.stdout == ""


def test_default_serve_uses_sqlite_in_the_working_directory(tmp_path: Path) -> None:
    token = subprocess.run(
        registrar_command("tokens", "create", "--user", "me@example.com"),
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with running_server({}, tmp_path) as server:
        response = httpx2.post(
            f"{server.url}/resource-servers/api/v1/api-servers",
            headers={"Authorization": f"SSWS {token}"},
            json={"resourceUrl": "https://a.example", "metadata": {"displayName": "A"}},
        )
        assert response.status_code == 201
    assert (tmp_path / "registrar.db").exists()
    assert (tmp_path / "registrar.key").stat().st_mode & 0o777 == 0o600
