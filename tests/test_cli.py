"""The maintenance commands: ``registrar tokens create`` prints the token alone and it works."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import httpx2

from .conftest import TEST_SECRET_KEY
from .live import cli_token, registrar_command, running_server


def test_tokens_create_prints_only_a_working_token(database_url: str, tmp_path: Path) -> None:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
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
    env = {
        "REGISTRAR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
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


def test_default_serve_keeps_database_and_keys_private_in_the_data_dir(tmp_path: Path) -> None:
    # No REGISTRAR_DATA_DIR, no XDG_DATA_HOME: the default is ~/.local/share/registrar, outside the tree.
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_DATA_HOME": "", "REGISTRAR_DATA_DIR": ""}
    token = cli_token(env, work, "me@example.com")
    subprocess.run(registrar_command("checkpoint"), env=env, cwd=work, capture_output=True, check=True)
    data = home / ".local" / "share" / "registrar"
    with running_server(env, work) as server:
        response = httpx2.post(
            f"{server.url}/resource-servers/api/v1/api-servers",
            headers={"Authorization": f"SSWS {token}"},
            json={"resourceUrl": "https://a.example", "metadata": {"displayName": "A"}},
        )
        assert response.status_code == 201
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"registrar.db", "registrar.db-wal", "registrar.key", "registrar-signing.key"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes
    assert [p.name for p in work.iterdir() if not p.name.startswith("server-")] == []
