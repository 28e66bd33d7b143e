"""``registrar api-servers``: every command, as tables and as the server's JSON, and its error exit codes."""

from __future__ import annotations

from .conftest import Cli, MakeToken, fails

BASE = "/resource-servers/api/v1/api-servers"


def test_an_api_server_from_registration_to_deletion(cli: Cli) -> None:
    url = cli.url("/orders")
    created = cli.json("api-servers", "register", "--resource-url", url, "--name", "Orders API")
    server_id = created["id"]
    assert (server_id[:3], created["status"], created["resourceUrl"]) == ("aps", "INACTIVE", url)

    shown = cli.ok("api-servers", "get", server_id).stdout
    assert f"API server {server_id}" in shown
    for value in ("INACTIVE", "Orders API", url, created["orn"]):
        assert value in shown
    with cli.http() as http:
        # --json is the server's answer, byte for byte.
        assert cli.ok("api-servers", "get", server_id, "--json").stdout.encode() == (
            http.get(f"{BASE}/{server_id}").content + b"\n"
        )

    listed = cli.ok("api-servers", "list", "--search", f'resourceUrl eq "{url}"').stdout
    assert "API servers (1)" in listed
    assert server_id in listed and "Orders API" in listed

    updated = cli.ok(
        "api-servers", "update", server_id, "--name", "Orders", "--description", "Order management"
    )
    assert "Order management" in updated.stdout
    assert cli.json("api-servers", "get", server_id)["metadata"] == {
        "displayName": "Orders",
        "description": "Order management",
    }

    assert "ACTIVE" in cli.ok("api-servers", "activate", server_id).stdout
    fails(
        cli("api-servers", "delete", server_id),
        5,
        "error E0000038: ",
        "Cannot delete a resource server in ACTIVE status. Server must be deactivated first.",
    )
    assert cli.json("api-servers", "deactivate", server_id)["status"] == "INACTIVE"

    deleted = cli.ok("api-servers", "delete", server_id)
    assert (deleted.stdout, deleted.stderr.strip()) == ("", f"deleted API server {server_id}")
    fails(
        cli("api-servers", "get", server_id),
        4,
        f"error E0000007: Not found: Resource not found: {server_id} (ApiServer)",
    )


def test_register_active_and_the_json_of_a_list_page(cli: Cli) -> None:
    active = cli.json("api-servers", "register", "--resource-url", cli.url(), "--name", "A", "--activate")
    assert active["status"] == "ACTIVE"
    listed = cli.json("api-servers", "list", "--search", f'resourceUrl sw "{cli.url()}"')
    assert [item["id"] for item in listed["data"]] == [active["id"]]
    assert set(listed["_links"]) == {"self"}


def test_lists_page_through_next_links_with_all(cli: Cli) -> None:
    with cli.http() as http:
        for i in range(5):
            body = {"resourceUrl": cli.url(f"/{i}"), "metadata": {"displayName": f"server-{i}"}}
            http.post(BASE, json=body, params={"activate": str(i % 2 == 0).lower()}).raise_for_status()
    mine = f'resourceUrl sw "{cli.url()}"'

    first = cli.json("api-servers", "list", "--search", mine, "--limit", "2")
    assert len(first["data"]) == 2 and "next" in first["_links"]
    everything = cli.json("api-servers", "list", "--search", mine, "--limit", "2", "--all")
    assert set(everything) == {"data"}
    assert sorted(item["metadata"]["displayName"] for item in everything["data"]) == [
        f"server-{i}" for i in range(5)
    ]

    page = cli.ok("api-servers", "list", "--search", mine, "--limit", "2")
    assert "API servers (2)" in page.stdout
    assert "add --all" in page.stderr
    table = cli.ok("api-servers", "list", "--search", mine, "--limit", "2", "--all")
    assert "API servers (5)" in table.stdout and table.stderr == ""

    active = cli.json("api-servers", "list", "--search", f'{mine} and status eq "ACTIVE"', "--all")
    assert sorted(item["metadata"]["displayName"] for item in active["data"]) == [
        "server-0",
        "server-2",
        "server-4",
    ]


def test_api_errors_are_one_line_with_the_okta_code_and_their_exit_code(
    cli: Cli, make_token: MakeToken
) -> None:
    url = cli.url()
    cli.ok("api-servers", "register", "--resource-url", url, "--name", "Orders")
    fails(
        cli("api-servers", "register", "--resource-url", url, "--name", "Again"),
        5,
        "error E0000001: Api validation failed: resourceUrl: resourceUrl: ",
    )
    fails(
        cli("api-servers", "register", "--resource-url", cli.url("/x"), "--name", ""),
        6,
        "error E0000001: Api validation failed: metadata.displayName",
    )
    fails(cli("api-servers", "list", token="not-a-token"), 3, "error E0000011: Invalid token provided")
    reader = make_token("okta.logs.read")
    fails(
        cli("api-servers", "register", "--resource-url", cli.url("/y"), "--name", "Y", token=reader),
        3,
        "error E0000006: You do not have permission to perform the requested action",
    )
