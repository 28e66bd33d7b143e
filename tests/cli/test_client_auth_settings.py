"""``registrar client-auth-settings``: the secret goes in from stdin or a file, and never comes out."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from .conftest import Cli, fails

SECRET = "s3cr3t-Client-Value-7f9c"
ROTATED = "r0tated-Client-Value-0a1b"
PATIENCE_SECONDS = 60  # a guard against a hung test, not a claim about speed


def _assert_never_shown(cli: Cli, *results_text: str) -> None:
    for text in results_text:
        assert SECRET not in text and ROTATED not in text


def test_settings_from_creation_to_deletion_never_echo_the_secret(cli: Cli, tmp_path: Path) -> None:
    server = cli.json("api-servers", "register", "--resource-url", cli.url(), "--name", "Orders")
    # From stdin (not a terminal: no prompt), found by the resource server's id.
    created = cli(
        "client-auth-settings", "create",
        "--name", "Orders STS", "--resource", server["id"], "--client-id", "orders-agent",
        "--scope", "orders:read", "--scope", "orders:write", "--json",
        input=f"{SECRET}\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    _assert_never_shown(cli, created.stdout, created.stderr)
    body = created.stdout
    settings_id = body.split('"id":"', 1)[1].split('"', 1)[0]
    assert '"clientId":"orders-agent"' in body and "clientSecret" not in body
    assert f'"resourceOrn":"{server["orn"]}"' in body

    shown = cli.ok("client-auth-settings", "get", settings_id)
    for value in ("orders-agent", "orders:read, orders:write", "client_secret_basic", server["orn"]):
        assert value in shown.stdout
    listed = cli.ok("client-auth-settings", "list", "--search", f'resourceOrn eq "{server["orn"]}"')
    assert "Client authentication settings (1)" in listed.stdout and settings_id in listed.stdout

    # From a file, on rotation; the change is audited with the secret masked.
    secret_file = tmp_path / "secret"
    secret_file.write_text(f"{ROTATED}\n")
    updated = cli(
        "client-auth-settings", "update", settings_id,
        "--client-secret-file", str(secret_file), "--auth-method", "client_secret_post",
    )  # fmt: skip
    assert updated.exit_code == 0, updated.stderr
    assert "client_secret_post" in updated.stdout
    events = cli.json("logs", "--filter", f'target.id eq "{settings_id}"')
    assert [e["eventType"] for e in events] == [
        "resource_servers.client_authentication_settings.create",
        "resource_servers.client_authentication_settings.update",
    ]
    _assert_never_shown(cli, str(events), shown.stdout, listed.stdout, updated.stdout, updated.stderr)
    assert "********" in str(events[1])

    deleted = cli.ok("client-auth-settings", "delete", settings_id)
    assert deleted.stderr.strip() == f"deleted client authentication settings {settings_id}"
    fails(cli("client-auth-settings", "get", settings_id), 4, "error E0000007: ")


def test_an_empty_or_unreadable_secret_is_a_usage_error_and_nothing_is_sent(cli: Cli, tmp_path: Path) -> None:
    server = cli.json("api-servers", "register", "--resource-url", cli.url(), "--name", "Orders")
    args = ("client-auth-settings", "create", "--name", "N", "--resource", server["orn"], "--client-id", "c")
    fails(cli(*args, input="\n"), 2, "error: the client secret is empty")
    fails(
        cli(*args, "--client-secret-file", str(tmp_path / "missing")),
        2,
        "error: cannot read the client secret: No such file or directory",
    )
    # There is no option taking the secret itself: it would stay in the shell history.
    refused = cli(*args, "--client-secret", SECRET)
    assert refused.exit_code == 2 and "No such option: --client-secret" in refused.stderr
    assert cli.json("logs", "--filter", f'actor.alternateId eq "{cli.user}" and eventType co "client"') == []


def _converse(terminal: int, answers: list[tuple[bytes, str]]) -> bytes:
    """Everything the child writes to its terminal, answering each prompt as it appears, until it exits."""
    seen = b""
    while True:
        ready, _, _ = select.select([terminal], [], [], PATIENCE_SECONDS)
        assert ready, f"the command stopped talking: {seen!r}"
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: the child closed the terminal
            return seen
        if not chunk:
            return seen
        seen += chunk
        if answers and answers[0][0] in seen.rsplit(b"\n", 1)[-1]:
            os.write(terminal, answers.pop(0)[1].encode() + b"\n")


def test_on_a_terminal_the_secret_is_asked_twice_and_never_echoed(cli: Cli) -> None:
    server = cli.json("api-servers", "register", "--resource-url", cli.url(), "--name", "Orders")
    env = {"PATH": "/usr/bin:/bin", "REGISTRAR_URL": cli.server.url, "REGISTRAR_TOKEN": cli.token}
    command = [
        sys.executable, "-m", "registrar", "client-auth-settings", "create",
        "--name", "Prompted", "--resource", server["orn"], "--client-id", "agent-7", "--json",
    ]  # fmt: skip
    terminal, child_end = pty.openpty()
    process = subprocess.Popen(command, stdin=child_end, stdout=child_end, stderr=child_end, env=env)
    os.close(child_end)
    try:
        seen = _converse(terminal, [(b"Client secret: ", SECRET), (b"Repeat for confirmation: ", SECRET)])
    finally:
        os.close(terminal)
        assert process.wait(PATIENCE_SECONDS) == 0
    assert b"Client secret: " in seen and b"Repeat for confirmation: " in seen
    assert SECRET.encode() not in seen
    assert b'"clientId":"agent-7"' in seen
