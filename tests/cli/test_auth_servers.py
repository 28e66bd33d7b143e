"""``registrar auth-servers``: the authorization servers of every kind, by the parent's id.

Entered ones (API and virtual MCP servers) are added with their endpoints and removed, an API server's also
changed; an A2A server's are read from its agent card and added by issuer alone; an MCP server's are only
read (``test_mcp_servers``).
"""

from __future__ import annotations

import pytest

from registrar.cli.kinds import ServerKind

from ..discovery.servers import sdk_authorization_server
from .conftest import Cli, fails
from .kinds import Maker

ENTERED = ["api-servers", "virtual-mcp-servers"]


@pytest.mark.parametrize("kind", ENTERED, indirect=True)
def test_an_entered_authorization_server_from_add_to_remove(cli: Cli, kind: ServerKind, make: Maker) -> None:
    server = make(f"{kind.noun} of {cli.host}")
    issuer = cli.url("/oauth2")
    added = cli.json(
        "auth-servers", "add", server.id,
        "--issuer", issuer,
        "--authorization-endpoint", f"{issuer}/authorize",
        "--token-endpoint", f"{issuer}/token",
        "--grant-type", "client_credentials",
        "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange",
    )  # fmt: skip
    auth_id = added["id"]
    assert added["grantTypesSupported"] == [
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ]

    table = cli.ok("auth-servers", "list", server.id).stdout
    assert "Authorization servers (1)" in table
    for value in (auth_id, issuer, f"{issuer}/token", "client_credentials, urn:ietf"):
        assert value in table
    assert [a["id"] for a in cli.json("auth-servers", "list", server.id)["data"]] == [auth_id]
    assert f"Authorization server {auth_id}" in cli.ok("auth-servers", "get", server.id, auth_id).stdout

    if "update" in kind.auth_servers.manage:
        changed = cli.json(
            "auth-servers", "update", server.id, auth_id, "--token-endpoint", f"{issuer}/v2/token"
        )
        assert (changed["tokenEndpoint"], changed["issuer"]) == (f"{issuer}/v2/token", issuer)
    else:
        fails(
            cli("auth-servers", "update", server.id, auth_id, "--token-endpoint", "x"), 2, "cannot be changed"
        )

    removed = cli.ok("auth-servers", "remove", server.id, auth_id)
    assert removed.stderr.strip() == f"removed authorization server {auth_id} from {server.id}"
    fails(cli("auth-servers", "get", server.id, auth_id), 4, "error E0000007: ", auth_id)
    fails(cli("auth-servers", "list", f"{kind.prefix}00000000000000000"), 4, "error E0000007: ")


@pytest.mark.parametrize("kind", ["a2a-servers"], indirect=True)
def test_an_a2a_server_s_are_read_from_its_card_and_added_by_issuer(
    cli: Cli, kind: ServerKind, make: Maker, sdk_issuer: str
) -> None:
    server = make(f"agent of {cli.host}")
    (linked,) = cli.json("auth-servers", "list", server.id)["data"]
    assert linked["issuer"] == sdk_issuer
    assert sdk_issuer in cli.ok("auth-servers", "list", server.id).stdout

    with sdk_authorization_server() as other:
        added = cli.json("auth-servers", "add", server.id, "--issuer", other)
    assert added["issuer"] == other
    assert [a["issuer"] for a in cli.json("auth-servers", "list", server.id)["data"]] == [sdk_issuer, other]
    removed = cli.ok("auth-servers", "remove", server.id, added["id"])
    assert removed.stderr.strip() == f"removed authorization server {added['id']} from {server.id}"
    assert [a["id"] for a in cli.json("auth-servers", "list", server.id)["data"]] == [linked["id"]]
