"""Fixtures for the ``registrar`` HTTP commands: a real ``registrar serve`` on each backend, and a runner.

Starting a server takes seconds, so one runs per backend for the whole CLI suite, on a database of its own
(the suite's shared PostgreSQL database is truncated by other tests). Tests stay independent by what they
create: each test gets its own user (the actor of its events, so ``logs`` filters find only its own) and
its own host name for the URLs it registers.

Commands run in-process through Typer's ``CliRunner`` (stdout and stderr kept apart); tests that need the
real console entry run ``python -m registrar``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx2
import orjson
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from registrar.cli import app
from registrar.cli.kinds import ServerKind
from registrar.store.database import create_database_engine, migrate
from registrar.store.tokens import ALL_SCOPES, create_token, ensure_user

from ..capabilities.servers import TokenIssuer
from ..conftest import TEST_SECRET_KEY
from ..discovery.servers import sdk_authorization_server
from ..live import LiveServer, running_server
from .kinds import KIND_IDS, Maker, Upstream, kind_named, maker

# Neither colour nor a terminal width leaks in from the environment the suite runs in.
QUIET_ENV: dict[str, str | None] = {
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "COLUMNS": None,
    "TTY_COMPATIBLE": None,
}


def server_env(database_url: str) -> dict[str, str]:
    """The environment of the test server: its database, loopback discovery allowed, no background jobs."""
    return {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DISCOVERY_ALLOW_HTTP": "true",
        "REGISTRAR_DISCOVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REGISTRAR_JOBS": "false",
        "REGISTRAR_RATE_LIMIT_PER_MINUTE": "100000",
        "PATH": "/usr/bin:/bin",
    }


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def cli_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own for the CLI suite's server, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('cli') / 'registrar.db'}"
        return
    # Skips (or fails, under REGISTRAR_REQUIRE_POSTGRES=1) exactly as the rest of the suite does.
    shared = make_url(request.getfixturevalue("postgres_database"))
    name = f"{shared.database}_cli"
    admin = create_engine(shared, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = shared.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def cli_engine(cli_database: str) -> Iterator[Engine]:
    """The server's database, migrated, for making users and tokens."""
    engine = create_database_engine(cli_database)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def live(
    cli_database: str, cli_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``registrar serve`` on the CLI suite's database."""
    with running_server(server_env(cli_database), tmp_path_factory.mktemp("server")) as server:
        yield server


MakeToken = Callable[..., str]


@pytest.fixture
def user() -> str:
    """An email address of this test's own (``logs --filter 'actor.alternateId eq …'`` finds its events)."""
    return f"cli-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def make_token(cli_engine: Engine, user: str) -> MakeToken:
    """A token for this test's user (or ``email``) with the given scopes (all by default)."""

    def make(*scopes: str, email: str | None = None) -> str:
        with cli_engine.begin() as conn:
            owner = ensure_user(conn, email or user, None)
            _, secret = create_token(conn, owner, "cli-test", scopes or ALL_SCOPES)
        return secret

    return make


@dataclass
class Cli:
    """Runs ``registrar`` commands against the live server as this test's user."""

    server: LiveServer
    token: str
    user: str
    host: str  # a host name of this test's own, for the URLs it registers

    def __call__(self, *args: str, input: str | None = None, token: str | None = None) -> Result:
        env = {"REGISTRAR_URL": self.server.url, "REGISTRAR_TOKEN": token or self.token, **QUIET_ENV}
        return CliRunner().invoke(app, list(args), input=input, env=env)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str, input: str | None = None) -> Any:
        """Run a command with ``--json`` and parse the one document it prints."""
        return orjson.loads(self.ok(*args, "--json", input=input).stdout)

    def url(self, path: str = "/") -> str:
        """An https URL on this test's own host."""
        return f"https://{self.host}{path}"

    def http(self) -> httpx2.Client:
        """A plain HTTP client with the same token, to arrange things behind the CLI's back."""
        return httpx2.Client(base_url=self.server.url, headers={"Authorization": f"SSWS {self.token}"})


@pytest.fixture
def cli(live: LiveServer, make_token: MakeToken, user: str) -> Cli:
    """The CLI, pointed at the live server with a token of this test's user holding every scope."""
    return Cli(live, make_token(), user, f"{user.split('@')[0]}.example.com")


def fails(result: Result, exit_code: int, *needles: str) -> None:
    """``result`` failed with ``exit_code`` and one stderr line holding every needle, and printed no data."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="session")
def sdk_issuer() -> Iterator[str]:
    """The issuer of a running SDK authorization server (metadata only)."""
    with sdk_authorization_server() as url:
        yield url


@pytest.fixture(scope="session")
def token_issuer() -> Iterator[TokenIssuer]:
    """A loopback authorization server issuing client-credentials tokens (tests register their clients)."""
    with TokenIssuer().serve() as issuer:
        yield issuer


@pytest.fixture
def upstream(sdk_issuer: str, token_issuer: TokenIssuer) -> Iterator[Upstream]:
    """The loopback servers this test's resource servers stand for, stopped when it ends."""
    with ExitStack() as stack:
        yield Upstream(stack, sdk_issuer, token_issuer)


@pytest.fixture(params=KIND_IDS)
def kind(request: pytest.FixtureRequest) -> ServerKind:
    """Each kind of resource server in turn."""
    return kind_named(request.param)


@pytest.fixture
def make(kind: ServerKind, cli: Cli, upstream: Upstream) -> Maker:
    """Makes a server of this test's kind through the CLI, with what it stands for running on loopback."""
    return maker(kind, cli, upstream)
