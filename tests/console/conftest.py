"""Fixtures for console tests: a user with a password, and a browser-like client that signs in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.console import _accounts, set_password
from registrar.domain.entities import User
from registrar.store.schema import console_sessions

from ..conftest import TEST_SECRET_KEY
from ..discovery.a2a_agent import a2a_agent, oauth2
from ..discovery.servers import sdk_authorization_server, sdk_mcp_server

PASSWORD = "correct horse battery staple"
EMAIL = "alice@example.com"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The suite's settings, with discovery allowed to reach loopback MCP servers."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        secret_key_file=tmp_path / "unused.key",
        rate_limit_per_minute=100_000,
        jobs_enabled=False,
        discovery_allow_http=True,
        discovery_allowed_networks=("127.0.0.0/8",),
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with test-sized costs: the same code path, without 64 MiB and three passes per sign-in."""
    monkeypatch.setattr(_accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def console_user(engine: Engine) -> User:
    """Alice, an administrator with a console password."""
    with engine.begin() as conn:
        return set_password(conn, EMAIL, PASSWORD, "Alice Admin")


@dataclass
class Console:
    """A TestClient used the way a browser uses the console: sign in, read pages, post forms."""

    client: TestClient

    def login_form(self) -> str:
        """Open the sign-in page; returns its login CSRF token (the cookie is now set)."""
        page = self.client.get("/login")
        assert page.status_code == 200
        match = _LOGIN_CSRF.search(page.text)
        assert match is not None
        return match.group(1)

    def login(self, email: str = EMAIL, password: str = PASSWORD, **extra: str) -> httpx2.Response:
        """Sign in with a password (not following the redirect)."""
        data = {"method": "password", "email": email, "password": password, "login_csrf": self.login_form()}
        return self.client.post("/login", data=data | extra, follow_redirects=False)

    def login_token(self, token: str) -> httpx2.Response:
        """Sign in with an API token (not following the redirect)."""
        data = {"method": "token", "token": token, "login_csrf": self.login_form()}
        return self.client.post("/login", data=data, follow_redirects=False)

    def csrf(self, page: str = "/mcp-servers") -> str:
        """The session's CSRF token, as a page carries it."""
        match = _CSRF.search(self.client.get(page).text)
        assert match is not None, "no CSRF token on the page: not signed in?"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx2.Response:
        """Submit a form with the session's CSRF token, as the page would."""
        form = {"csrf_token": self.csrf(), **(data or {})}
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)


@pytest.fixture
def console(client: TestClient, console_user: User) -> Console:
    """A console signed in as Alice with her password."""
    browser = Console(client)
    response = browser.login()
    assert response.status_code == 303, response.text
    return browser


def registry_events(events: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The events of registry operations: the ``user.session.*`` of signing in and out left out."""
    return [event for event in events() if event["eventType"].startswith("resource_servers.")]


def session_ids(engine: Engine) -> list[str]:
    """The public ids of every console session, in creation order."""
    with engine.connect() as conn:
        rows = conn.execute(select(console_sessions.c.id).order_by(console_sessions.c.created_ms)).scalars()
        return list(rows)


@dataclass(frozen=True)
class Remote:
    """Real loopback servers the discovering kinds register: two ``mcp`` SDK servers and two ``a2a-sdk``
    agents, each naming the same real SDK authorization server (``issuer``)."""

    issuer: str
    urls: dict[str, tuple[str, str]]  # kind key -> two resource URLs


@pytest.fixture(scope="session")
def remote() -> Iterator[Remote]:
    with ExitStack() as stack:
        issuer = stack.enter_context(sdk_authorization_server())
        schemes = {"oauth": oauth2(metadata_url=f"{issuer}.well-known/oauth-authorization-server")}
        mcp = tuple(stack.enter_context(sdk_mcp_server(issuer)) for _ in range(2))
        a2a = tuple(stack.enter_context(a2a_agent(schemes, name=f"Agent {n}")) for n in (1, 2))
        yield Remote(issuer, {"mcp": (mcp[0], mcp[1]), "a2a": (a2a[0], a2a[1])})


def registration_form(key: str, remote: Remote, name: str, which: int = 0) -> dict[str, str]:
    """A registration form of the kind ``key`` (``which``: the first or second server of its kind)."""
    if key == "vmcp":
        return {"displayName": name}
    urls = remote.urls.get(key, ("https://one.example.com/", "https://two.example.com/"))
    return {"resourceUrl": urls[which], "displayName": name}
