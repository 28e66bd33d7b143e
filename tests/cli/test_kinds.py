"""What every kind's group does alike (``api-servers``, ``mcp-servers``, ``a2a-servers``,
``virtual-mcp-servers``): the same commands, tables, JSON and exit codes, each kind backed by a real server.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from registrar.cli import app
from registrar.cli.kinds import ServerKind

from .conftest import QUIET_ENV, Cli, MakeToken, fails
from .kinds import ENTITY_TYPES, KIND_IDS, Maker

COMMANDS = {
    "api-servers": ["list", "get", "register", "update", "activate", "deactivate", "delete"],
    "mcp-servers": [
        "list", "get", "register", "update", "activate", "deactivate",
        "refresh", "discover", "discoveries", "capabilities", "delete",
    ],
    "a2a-servers": ["list", "get", "register", "update", "activate", "deactivate", "delete"],
    "virtual-mcp-servers": ["list", "get", "create", "update", "activate", "deactivate", "delete"],
}  # fmt: skip


def test_a_server_from_registration_to_deletion(cli: Cli, kind: ServerKind, make: Maker) -> None:
    name = f"{kind.noun} of {cli.host}"
    made = make(name)
    server_id = made.id
    assert (server_id[:3], made.server["status"], made.server["metadata"]["displayName"]) == (
        kind.prefix,
        "INACTIVE",
        name,
    )

    shown = cli.ok(kind.command, "get", server_id).stdout
    for value in (f"{kind.title} {server_id}", "INACTIVE", name, made.server["orn"]):
        assert value in shown
    with cli.http() as http:
        # --json is the server's answer, byte for byte.
        assert cli.ok(kind.command, "get", server_id, "--json").stdout.encode() == (
            http.get(f"{kind.path}/{server_id}").content + b"\n"
        )

    listed = cli.ok(kind.command, "list", "--search", made.search).stdout
    assert f"{kind.title}s (1)" in listed and server_id in listed and name in listed
    assert [item["id"] for item in cli.json(kind.command, "list", "--search", made.search)["data"]] == [
        server_id
    ]

    updated = cli.ok(kind.command, "update", server_id, "--name", "Renamed", "--description", "What it does")
    assert "What it does" in updated.stdout
    assert cli.json(kind.command, "get", server_id)["metadata"] == {
        "displayName": "Renamed",
        "description": "What it does",
    }
    cleared = cli.json(kind.command, "update", server_id, "--description", "")
    assert cleared["metadata"].get("description") is None

    activated = cli.ok(kind.command, "activate", server_id).stdout
    assert re.search(r"status\s+ACTIVE", activated), activated
    fails(
        cli(kind.command, "delete", server_id),
        5,
        "error E0000038: ",
        "Cannot delete a resource server in ACTIVE status. Server must be deactivated first.",
    )
    assert cli.json(kind.command, "deactivate", server_id)["status"] == "INACTIVE"

    deleted = cli.ok(kind.command, "delete", server_id)
    assert (deleted.stdout, deleted.stderr.strip()) == ("", f"deleted {kind.noun} {server_id}")
    fails(
        cli(kind.command, "get", server_id),
        4,
        f"error E0000007: Not found: Resource not found: {server_id} ({ENTITY_TYPES[kind.command]})",
    )


def test_reading_needs_a_token_and_changing_needs_the_kind_s_manage_scope(
    cli: Cli, kind: ServerKind, make: Maker, make_token: MakeToken
) -> None:
    made = make(f"guarded {kind.noun} of {cli.host}")
    fails(cli(kind.command, "get", made.id, token="not-a-token"), 3, "error E0000011: Invalid token provided")
    reader = make_token("okta.logs.read")
    fails(
        cli(kind.command, "activate", made.id, token=reader),
        3,
        "error E0000006: You do not have permission to perform the requested action",
    )
    fails(cli(kind.command, "get", f"{kind.prefix}0000000000000000x"), 4, "error E0000007: ")


@pytest.mark.parametrize("command", KIND_IDS)
def test_each_group_has_its_kind_s_commands(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={**QUIET_ENV, "COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    listed = re.findall(r"^│ ([a-z-]+) ", result.stdout.split("Commands")[1], flags=re.MULTILINE)
    assert listed == COMMANDS[command]
