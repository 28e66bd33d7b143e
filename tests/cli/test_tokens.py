"""``registrar tokens create | list | revoke``: the token lifecycle on the database, audited as Okta does.

The commands run in-process through Typer's runner against a database on each backend; the events they
write must be Okta's ``system.api_token.*`` with a ``Token`` target, and parse with the okta SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from okta.models.log_event import LogEvent
from sqlalchemy import Engine, update
from typer.testing import CliRunner, Result

from registrar.cli import app
from registrar.cli.tokens import parse_expiry
from registrar.context import SYSTEM_ACTOR
from registrar.ids import utcnow
from registrar.store.database import create_database_engine
from registrar.store.schema import api_tokens

from ..conftest import stored_events

QUIET = {"FORCE_COLOR": None, "NO_COLOR": None, "COLUMNS": "250", "TTY_COMPATIBLE": None}


@dataclass
class TokensCli:
    """``registrar tokens …`` on one database."""

    database_url: str
    data_dir: Path

    def __call__(self, *args: str) -> Result:
        env = {"REGISTRAR_DATABASE_URL": self.database_url, "REGISTRAR_DATA_DIR": str(self.data_dir), **QUIET}
        return CliRunner().invoke(app, ["tokens", *args], env=env)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
        return result

    def create(self, *args: str) -> str:
        """Create a token; returns its text (the one line on stdout)."""
        lines = self.ok("create", *args).stdout.splitlines()
        assert len(lines) == 1
        return lines[0]

    def listed(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = orjson.loads(self.ok("list", "--json").stdout)["data"]
        return data

    def only(self) -> dict[str, Any]:
        (token,) = self.listed()
        return token


@pytest.fixture
def tokens_cli(database_url: str, tmp_path: Path) -> TokensCli:
    return TokensCli(database_url, tmp_path / "data")


@pytest.fixture
def db(database_url: str) -> Any:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


def _token_events(engine: Engine) -> list[dict[str, Any]]:
    return [e for e in stored_events(engine) if e["eventType"].startswith("system.api_token.")]


def test_list_shows_every_token_with_its_lifecycle(tokens_cli: TokensCli) -> None:
    tokens_cli.create(
        "--user", "ops@example.com", "--name", "ci", "--scope", "okta.logs.read", "--expires", "30d"
    )
    token = tokens_cli.only()
    assert token["id"].startswith("00T") and len(token["id"]) == 20
    assert token["name"] == "ci"
    assert token["user"]["email"] == "ops@example.com" and token["user"]["id"].startswith("00u")
    assert token["scopes"] == ["okta.logs.read"]
    assert token["status"] == "ACTIVE"
    assert token["lastUsed"] is None and token["revoked"] is None
    created = datetime.fromisoformat(token["created"])
    expires = datetime.fromisoformat(token["expiresAt"])
    assert timedelta(days=29, hours=23) < expires - created <= timedelta(days=30)
    table = tokens_cli.ok("list").stdout
    header = next(line for line in table.splitlines() if "LAST USED" in line)
    assert header.split() == ["ID", "STATUS", "USER", "NAME", "SCOPES", "CREATED", "LAST", "USED", "EXPIRES"]
    row = next(line for line in table.splitlines() if token["id"] in line)
    assert row.split()[:6] == [
        token["id"],
        "ACTIVE",
        "ops@example.com",
        "ci",
        "okta.logs.read",
        token["created"],
    ]
    assert row.split()[6:] == ["—", token["expiresAt"]]


def test_revoke_marks_the_token_and_is_idempotent(tokens_cli: TokensCli, db: Engine) -> None:
    tokens_cli.create("--user", "ops@example.com", "--name", "deploy")
    token_id = tokens_cli.only()["id"]
    revoked = tokens_cli.ok("revoke", token_id)
    assert revoked.stdout == ""
    assert f"revoked token {token_id} (deploy) of ops@example.com" in revoked.stderr
    listed = tokens_cli.only()
    assert listed["status"] == "REVOKED" and listed["revoked"] is not None
    again = tokens_cli.ok("revoke", token_id)
    assert "already revoked" in again.stderr
    assert [e["eventType"] for e in _token_events(db)] == [
        "system.api_token.create",
        "system.api_token.revoke",
    ]
    missing = tokens_cli("revoke", "00Tnosuchtoken000000")
    assert missing.exit_code == 4 and "no token" in missing.stderr and missing.stdout == ""


def test_an_expired_token_is_listed_as_expired(tokens_cli: TokensCli, db: Engine) -> None:
    tokens_cli.create("--user", "ops@example.com", "--expires", "1h")
    with db.begin() as conn:  # an hour later
        conn.execute(update(api_tokens).values(expires_ms=int(utcnow().timestamp() * 1000) - 1))
    assert tokens_cli.only()["status"] == "EXPIRED"


@pytest.mark.parametrize(
    "expires", ["2000-01-01", "yesterday", "0d", "30", "5x", "1d-2h", "999999w", "2999-13-01", ""]
)
def test_create_refuses_a_bad_or_past_expiry(tokens_cli: TokensCli, db: Engine, expires: str) -> None:
    result = tokens_cli("create", "--user", "ops@example.com", "--expires", expires)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == "" and "--expires" in result.stderr
    assert tokens_cli.listed() == []
    assert _token_events(db) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--name", "ci\x1b[2J"),
        ("--name", ""),
        ("--name", "x" * 256),
        ("--display-name", "Eve\u202e"),
        ("--user", "a\x00@x.io"),
    ],
)
def test_create_refuses_control_characters_and_overlong_names(
    tokens_cli: TokensCli, option: str, value: str
) -> None:
    args = {"--user": "ops@example.com", option: value}
    result = tokens_cli("create", *(part for pair in args.items() for part in pair))
    assert result.exit_code == 2 and option in result.stderr
    assert tokens_cli.listed() == []


def test_expiry_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_expiry("1w2d", now) == now + timedelta(days=9)
    assert parse_expiry("90m", now) == now + timedelta(minutes=90)
    assert parse_expiry("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_expiry("2026-03-01T12:00:00+02:00", now) == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_expiry("2025-12-31T23:59:59Z", now) is None


def test_create_and_revoke_are_audited_with_a_token_target(tokens_cli: TokensCli, db: Engine) -> None:
    tokens_cli.create(
        "--user",
        "ops@example.com",
        "--display-name",
        "Ops Team",
        "--name",
        "ci",
        "--scope",
        "okta.logs.read",
        "--expires",
        "2h",
    )
    token = tokens_cli.only()
    tokens_cli.ok("revoke", token["id"])
    created, revoked = _token_events(db)
    assert (created["displayMessage"], revoked["displayMessage"]) == ("Create API token", "Revoke API token")
    for event in (created, revoked):
        token_target, owner = event["target"]
        assert token_target == {
            "id": token["id"],
            "type": "Token",
            "alternateId": "unknown",  # what Okta puts there
            "displayName": "ci",
            "detailEntry": {
                "tokenOwnerId": token["user"]["id"],
                "scopes": "okta.logs.read",
                "expiresAt": token["expiresAt"],
            },
        }
        assert owner == {
            "id": token["user"]["id"],
            "type": "User",
            "alternateId": "ops@example.com",
            "displayName": "Ops Team",
            "detailEntry": None,
        }
        # No authenticated user ran the CLI: the system principal acts, in a job, and says from where.
        assert event["actor"]["id"] == SYSTEM_ACTOR.id and event["actor"]["type"] == "SystemPrincipal"
        assert event["transaction"]["type"] == "JOB"
        assert event["transaction"]["id"] == event["debugContext"]["debugData"]["requestId"]
        assert event["outcome"] == {"result": "SUCCESS", "reason": None}
        debug = event["debugContext"]["debugData"]
        assert debug["command"] in {"registrar tokens create", "registrar tokens revoke"} and debug["host"]
        parsed = LogEvent.from_dict(event)
        assert parsed is not None and parsed.target is not None
        assert parsed.target[0].type == "Token" and parsed.target[0].id == token["id"]
        assert parsed.actor is not None and parsed.actor.type == "SystemPrincipal"
    assert created["transaction"]["id"] != revoked["transaction"]["id"]


def test_the_event_commits_with_the_token_or_not_at_all(tokens_cli: TokensCli, db: Engine) -> None:
    """Refused input writes neither a token nor an event; a created token always has its event."""
    tokens_cli("create", "--user", "ops@example.com", "--scope", "okta.everything")
    assert tokens_cli.listed() == [] and _token_events(db) == []
    tokens_cli.create("--user", "ops@example.com")
    (event,) = _token_events(db)
    assert event["target"][0]["id"] == tokens_cli.only()["id"]
