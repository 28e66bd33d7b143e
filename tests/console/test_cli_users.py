"""``registrar users set-password``: the password comes from standard input and opens the console."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from registrar.cli import app as cli

from ..conftest import TEST_SECRET_KEY
from .conftest import Console


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REGISTRAR_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRAR_SECRET_KEY", TEST_SECRET_KEY)
    return CliRunner()


def test_set_password_from_stdin_then_sign_in(runner: CliRunner, client: TestClient) -> None:
    password = "a long enough passphrase"
    result = runner.invoke(
        cli,
        ["users", "set-password", "--user", "bob@example.com", "--display-name", "Bob"],
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "password set for bob@example.com" in result.output
    browser = Console(client)
    assert browser.login(email="bob@example.com", password=password).status_code == 303
    assert "Bob" in client.get("/mcp-servers").text

    # A new password ends the sessions opened with the old one.
    again = runner.invoke(
        cli, ["users", "set-password", "--user", "bob@example.com"], input="another passphrase!\n"
    )
    assert again.exit_code == 0, again.output
    assert "1 console session(s) ended" in again.output
    assert client.get("/mcp-servers", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert browser.login(email="bob@example.com", password=password).status_code == 401


def test_short_passwords_and_bad_emails_are_refused(runner: CliRunner) -> None:
    short = runner.invoke(cli, ["users", "set-password", "--user", "bob@example.com"], input="short\n")
    assert short.exit_code == 2
    assert "at least 12 characters" in short.output
    not_email = runner.invoke(cli, ["users", "set-password", "--user", "bob"], input="long enough password\n")
    assert not_email.exit_code == 2
