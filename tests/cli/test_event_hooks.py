"""``registrar event-hooks``: create with a write-only auth header, verify against a real receiver, retire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..discovery.servers import bound_socket, running
from .conftest import Cli, fails

AUTH_VALUE = "Bearer hook-s3cret-93f1"


class Receiver:
    """An event hook endpoint on loopback that answers verification and remembers the headers it saw."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/hook", self.verify, methods=["GET"])])

    async def verify(self, request: Request) -> JSONResponse:
        self.headers.append(dict(request.headers))
        return JSONResponse({"verification": request.headers["x-okta-verification-challenge"]})


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    with running(endpoint.app, bound_socket()) as url:
        yield endpoint, f"{url}/hook"


def test_an_event_hook_from_creation_to_deletion(
    cli: Cli, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    endpoint, uri = receiver
    value_file = tmp_path / "auth-value"
    value_file.write_text(AUTH_VALUE)
    created = cli(
        "event-hooks", "create", "--name", f"SIEM {cli.user}", "--uri", uri,
        "--event-type", "resource_servers.api_server.register", "--header", "X-Env: test",
        "--auth-header", "Authorization", "--auth-value-file", str(value_file), "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert AUTH_VALUE not in created.stdout + created.stderr
    hook_id = created.stdout.split('"id":"', 1)[1].split('"', 1)[0]

    verified = cli.ok("event-hooks", "verify", hook_id)
    assert "VERIFIED" in verified.stdout and AUTH_VALUE not in verified.stdout
    # The value read from the file is what the receiver got, with the extra header.
    assert (endpoint.headers[-1]["authorization"], endpoint.headers[-1]["x-env"]) == (AUTH_VALUE, "test")

    table = cli.ok("event-hooks", "list").stdout
    assert hook_id in table and f"SIEM {cli.user}" in table and uri in table
    assert hook_id in {hook["id"] for hook in cli.json("event-hooks", "list")}

    updated = cli.json(
        "event-hooks",
        "update",
        hook_id,
        "--name",
        "SIEM v2",
        "--event-type",
        "resource_servers.mcp_server.register",
    )
    assert (updated["name"], updated["events"]["items"]) == (
        "SIEM v2",
        ["resource_servers.mcp_server.register"],
    )
    assert updated["channel"]["config"]["authScheme"] == {"type": "HEADER", "key": "Authorization"}
    cli.ok("event-hooks", "verify", hook_id)
    assert endpoint.headers[-1]["authorization"] == AUTH_VALUE  # an update without a value keeps it

    fails(cli("event-hooks", "delete", hook_id), 5, "error E0000038: ", "Deactivate it first.")
    assert cli.json("event-hooks", "deactivate", hook_id)["status"] == "INACTIVE"
    assert cli.json("event-hooks", "get", hook_id)["status"] == "INACTIVE"
    assert cli.ok("event-hooks", "delete", hook_id).stderr.strip() == f"deleted event hook {hook_id}"
    fails(cli("event-hooks", "activate", hook_id), 4, "error E0000007: ")


def test_a_failed_verification_is_a_validation_error_with_its_reason(cli: Cli) -> None:
    hook = cli.json(
        "event-hooks", "create", "--name", "Nowhere", "--uri", "http://127.0.0.1:9/hook",
        "--event-type", "resource_servers.api_server.register",
    )  # fmt: skip
    fails(cli("event-hooks", "verify", hook["id"]), 6, "error E0000001: Event hook verification failed.: ")
