"""``registrar service-apps create / list / revoke``: the client id alone on stdout, the keys checked, and
every change audited with Okta's application lifecycle types."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from joserfc.jwk import RSAKey
from okta.models.log_event import LogEvent
from sqlalchemy import Engine

from registrar.config import Settings
from registrar.ids import is_object_id
from registrar.scopes import API_READ, LOGS_READ

from ..live import registrar_command
from .conftest import rsa_key

Events = Callable[[], list[dict[str, Any]]]


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")},
        "REGISTRAR_DATABASE_URL": settings.database_url,
        "REGISTRAR_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.run(registrar_command(*args), env=env, capture_output=True, text=True, check=False)


def _jwks_file(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "jwks.json"
    path.write_bytes(orjson.dumps(document))
    return path


def test_create_prints_the_client_id_and_audits_the_app(
    settings: Settings, engine: Engine, tmp_path: Path, events: Events
) -> None:
    key = rsa_key(kid="siem-2026")
    jwks = _jwks_file(tmp_path, {"keys": [key.public_jwk()]})
    done = _cli(
        settings,
        "service-apps",
        "create",
        "--name",
        "SIEM",
        "--jwks",
        str(jwks),
        "--scope",
        LOGS_READ,
        "--scope",
        API_READ,
    )
    assert done.returncode == 0, done.stderr
    client_id = done.stdout.strip()
    assert done.stdout == client_id + "\n"
    assert client_id.startswith("0oa") and len(client_id) == 20 and is_object_id(client_id)
    assert f"created service app {client_id} (SIEM)" in done.stderr

    [created] = [e for e in events() if e["eventType"] == "application.lifecycle.create"]
    assert LogEvent.from_dict(created) is not None
    assert created["displayMessage"] == "Create application"
    assert created["actor"]["type"] == "SystemPrincipal" and created["transaction"]["type"] == "JOB"
    [target] = created["target"]
    assert (target["id"], target["type"], target["alternateId"], target["displayName"]) == (
        client_id,
        "AppInstance",
        "oidc_client",
        "SIEM",
    )
    assert target["detailEntry"] == {
        "clientId": client_id,
        "grantedScopes": f"{LOGS_READ} {API_READ}",
        "tokenEndpointAuthMethod": "private_key_jwt",
        "keyIds": "siem-2026",
    }
    assert created["debugContext"]["debugData"]["command"] == "registrar service-apps create"

    listed = orjson.loads(_cli(settings, "service-apps", "list", "--json").stdout)["data"]
    assert listed == [
        {
            "clientId": client_id,
            "name": "SIEM",
            "status": "ACTIVE",
            "scopes": sorted([LOGS_READ, API_READ]),
            "keyIds": ["siem-2026"],
            "tokenEndpointAuthMethod": "private_key_jwt",
            "created": listed[0]["created"],
            "revoked": None,
        }
    ]
    assert client_id in _cli(settings, "service-apps", "list").stdout

    revoked = _cli(settings, "service-apps", "revoke", client_id)
    assert revoked.returncode == 0 and f"revoked service app {client_id} (SIEM)" in revoked.stderr
    [deactivated] = [e for e in events() if e["eventType"] == "application.lifecycle.deactivate"]
    assert LogEvent.from_dict(deactivated) is not None
    assert deactivated["displayMessage"] == "Deactivate application"
    assert deactivated["target"][0]["id"] == client_id
    (listed,) = orjson.loads(_cli(settings, "service-apps", "list", "--json").stdout)["data"]
    assert listed["status"] == "REVOKED" and listed["revoked"] is not None
    again = _cli(settings, "service-apps", "revoke", client_id)
    assert again.returncode == 0 and "already revoked" in again.stderr
    assert len([e for e in events() if e["eventType"] == "application.lifecycle.deactivate"]) == 1


def test_private_keys_and_unknown_scopes_are_refused_and_nothing_is_created(
    settings: Settings, engine: Engine, tmp_path: Path, events: Events
) -> None:
    key = rsa_key()
    assert isinstance(key.key, RSAKey)
    private = _jwks_file(tmp_path, {"keys": [key.key.as_dict(private=True)]})
    refused = _cli(
        settings, "service-apps", "create", "--name", "x", "--jwks", str(private), "--scope", LOGS_READ
    )
    assert refused.returncode == 6 and refused.stdout == ""
    assert "private key material" in refused.stderr and "exposed" in refused.stderr
    public = _jwks_file(tmp_path, key.public_jwk())
    unknown = _cli(
        settings, "service-apps", "create", "--name", "x", "--jwks", str(public), "--scope", "okta.everything"
    )
    assert unknown.returncode == 2 and "unknown scope(s) okta.everything" in unknown.stderr
    missing = _cli(
        settings,
        "service-apps",
        "create",
        "--name",
        "x",
        "--jwks",
        str(tmp_path / "nope"),
        "--scope",
        LOGS_READ,
    )
    assert missing.returncode == 2 and "cannot read --jwks" in missing.stderr
    no_app = _cli(settings, "service-apps", "revoke", "0oaNoSuchApp00000000")
    assert no_app.returncode == 4
    assert orjson.loads(_cli(settings, "service-apps", "list", "--json").stdout) == {"data": []}
    assert [e for e in events() if e["eventType"].startswith("application.")] == []
