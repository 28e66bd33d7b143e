"""``registrar auth-servers``: an API server's authorization servers managed, an MCP server's only read."""

from __future__ import annotations

from .conftest import Cli, fails


def test_an_api_server_s_authorization_server_from_add_to_remove(cli: Cli) -> None:
    server = cli.json("api-servers", "register", "--resource-url", cli.url(), "--name", "Orders")
    issuer = cli.url("/oauth2")
    added = cli.json(
        "auth-servers", "add", server["id"],
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

    table = cli.ok("auth-servers", "list", server["id"]).stdout
    assert "Authorization servers (1)" in table
    for value in (auth_id, issuer, f"{issuer}/token", "client_credentials, urn:ietf"):
        assert value in table
    assert [a["id"] for a in cli.json("auth-servers", "list", server["id"])["data"]] == [auth_id]
    assert f"Authorization server {auth_id}" in cli.ok("auth-servers", "get", server["id"], auth_id).stdout

    changed = cli.json(
        "auth-servers", "update", server["id"], auth_id, "--token-endpoint", f"{issuer}/v2/token"
    )
    assert (changed["tokenEndpoint"], changed["issuer"]) == (f"{issuer}/v2/token", issuer)

    removed = cli.ok("auth-servers", "remove", server["id"], auth_id)
    assert removed.stderr.strip() == f"removed authorization server {auth_id} from {server['id']}"
    fails(cli("auth-servers", "get", server["id"], auth_id), 4, "error E0000007: ", auth_id)
    fails(cli("auth-servers", "list", "aps00000000000000000"), 4, "error E0000007: ")
