"""The real ``okta`` SDK (3.4.6) reads the Users API of a live ``registrar serve``: ``list_users`` paged
by ``paginate_all``, searched and filtered, ``get_user`` by id and by login, and its 404, every user parsed
by the SDK's strict ``User`` model. The token is the one ``registrar tokens create`` makes without
``--scope``: its default scopes include ``okta.users.read``."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from okta.client import Client as OktaClient
from okta.models import User
from okta.pagination import paginate_all

from registrar.store.database import create_database_engine
from registrar.store.tokens import ensure_user

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, registrar_command, running_server

LONG_EMAIL = "a-very-long-mailbox-name-" + "x" * 90 + "@example.com"  # beyond Okta's 100-character email
USERS = [
    ("siem@example.com", None),
    ("carol.smith@corp.example", "Carol Ann Smith"),
    (LONG_EMAIL, "Maximilian Alexander " + "L" * 60),
]


def _token(env: dict[str, str], cwd: Path, email: str) -> str:
    done = subprocess.run(
        registrar_command("tokens", "create", "--user", email),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "okta.users.read" in done.stderr  # "created token ... with scopes: ..."
    return done.stdout.strip()


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, str]]:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "PATH": "/usr/bin:/bin",
    }
    (siem, _), *others = USERS
    token = _token(env, tmp_path, siem)  # migrates the database too
    engine = create_database_engine(database_url)
    with engine.begin() as conn:  # the others need no token to be listed
        for email, name in others:
            ensure_user(conn, email, name)
    engine.dispose()
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with running_server(env, tmp_path) as server:
        yield server, token


def _client(server: LiveServer, token: str) -> OktaClient:
    return OktaClient({"orgUrl": server.url, "token": token})


def _ok(result: Any) -> Any:
    """The data of an SDK call's (data, response, error), which its annotations do not say it returns."""
    data, _, error = result
    assert error is None, error
    return data


def test_the_sdk_lists_pages_searches_and_gets_users(live: tuple[LiveServer, str]) -> None:
    server, token = live
    queries: list[dict[str, Any]] = [
        {"search": 'profile.login eq "SIEM@example.com"'},
        {"search": 'profile.login sw "carol"'},
        {"filter": 'profile.login eq "carol.smith@corp.example"'},
        {"q": "smi"},
    ]

    async def go() -> dict[str, Any]:
        client = _client(server, token)
        paged = [user async for user in paginate_all(client.list_users, limit=1, max_pages=10)]
        by_login = _ok(await client.get_user("carol.smith@corp.example"))
        _, _, unknown = await client.get_user("nobody@example.com")
        return {
            "paged": paged,
            "whole": _ok(await client.list_users()),
            "found": [[u.profile.login for u in _ok(await client.list_users(**q))] for q in queries],
            "by_login": by_login,
            "by_id": _ok(await client.get_user(by_login.id)),
            "me": _ok(await client.get_user("me")),
            "unknown": unknown,
        }

    got = asyncio.run(go())
    paged: list[User] = got["paged"]
    assert all(isinstance(user, User) for user in paged)
    assert [u.id for u in paged] == [u.id for u in got["whole"]]  # one page at a time, as many as in one
    assert sorted(u.profile.login for u in paged) == sorted(email for email, _ in USERS)
    carol = next(u for u in paged if u.profile.login == "carol.smith@corp.example")
    assert (carol.profile.first_name, carol.profile.last_name) == ("Carol Ann", "Smith")
    assert carol.status.value == "ACTIVE"
    assert carol.created is not None and carol.created.tzinfo is not None
    assert carol.links.var_self.href == f"{server.url}/api/v1/users/{carol.id}"
    long = next(u for u in paged if u.profile.login == LONG_EMAIL)
    assert long.profile.email is None and len(long.profile.last_name) == 50

    assert got["found"] == [
        ["siem@example.com"],
        ["carol.smith@corp.example"],
        ["carol.smith@corp.example"],
        ["carol.smith@corp.example"],
    ]
    assert got["by_login"].id == carol.id == got["by_id"].id
    assert got["by_id"].profile.display_name == "Carol Ann Smith"
    assert got["me"].profile.login == "siem@example.com"
    assert (got["unknown"].status, got["unknown"].error_code) == (404, "E0000007")
