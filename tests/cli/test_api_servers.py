"""``registrar api-servers``: what only API servers have (``register --activate``), list paging, and the
errors of registration; what every kind does alike is in ``test_kinds``."""

from __future__ import annotations

from .conftest import Cli, fails

BASE = "/resource-servers/api/v1/api-servers"


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


def test_api_errors_are_one_line_with_the_okta_code_and_their_exit_code(cli: Cli) -> None:
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
