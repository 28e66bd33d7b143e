"""No control character from a server reaches the terminal raw (issue 11), against a live ``registrar serve``.

Hostile metadata is refused at registration, so the CLI never sees it from this version; what an older
version stored (``tests/events/legacy.py``) still reaches it, and is shown escaped (``\\x1b[2J``) in tables
and lines, while ``--json`` / ``--jsonl`` stay valid JSON carrying the exact value, with DEL and C1 written
as ``\\u`` escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
import pytest
from rich.console import Console
from sqlalchemy import Engine

from registrar.cli.logs_query import event_line
from registrar.cli.output import json_bytes, out_console

from ..discovery.servers import MetadataSite
from ..events.legacy import TERMINAL_ATTACK, legacy_event, legacy_mcp_server
from .conftest import Cli

# What a terminal acts on: C0 but the newline that ends lines, DEL, C1 (as text), and the bidi override.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil\\rfake"  # TERMINAL_ATTACK, visibly escaped


@pytest.fixture(scope="module")
def site() -> Iterator[MetadataSite]:
    site = MetadataSite()
    with site.serve():
        yield site


def assert_no_raw_controls(output: str) -> None:
    assert RAW.search(output) is None, repr(output)


def test_hostile_metadata_is_refused_and_nothing_raw_is_printed(cli: Cli, site: MetadataSite) -> None:
    issuer = site.issuer(f"/{cli.host}/as")
    resource = site.resource([issuer], path=f"/{cli.host}/mcp", resource_name=f"evil\u0000{TERMINAL_ATTACK}")

    refused = cli("mcp-servers", "register", "--resource-url", resource)

    assert refused.exit_code == 6, (refused.stdout, refused.stderr)
    assert "resource_name must not contain control characters" in refused.stderr
    assert_no_raw_controls(refused.stderr)
    logged = cli.ok("logs", "--filter", f'actor.alternateId eq "{cli.user}"')
    assert "FAILURE" in logged.stdout and "mcp_server.register" in logged.stdout
    assert_no_raw_controls(logged.stdout + logged.stderr)
    for expression in ('target.displayName co "x"', 'actor.alternateId co "a"', "client.ipAddress pr"):
        cli.ok("logs", "--filter", expression, "--json")


def test_what_an_older_version_stored_is_shown_escaped(cli: Cli, cli_engine: Engine) -> None:
    name = f"legacy-{cli.host.split('.')[0]} {TERMINAL_ATTACK}"
    server = legacy_mcp_server(cli_engine, name)
    search = f'metadata.displayName sw "legacy-{cli.host.split(".")[0]}"'

    listed = cli.ok("mcp-servers", "list", "--search", search)
    shown = cli.ok("mcp-servers", "get", server.id)

    for output in (listed.stdout, shown.stdout):
        assert_no_raw_controls(output)
    assert server.id in listed.stdout
    assert "\\x1b[2J" in listed.stdout and "\\x1b[2J" in shown.stdout
    # --json: valid JSON with the exact value; DEL and C1 as \u escapes, so no raw C1 byte either.
    document = cli.ok("mcp-servers", "list", "--search", search, "--json")
    assert b"\xc2\x9b" not in document.stdout_bytes and b"\\u009b" in document.stdout_bytes
    (item,) = orjson.loads(document.stdout_bytes)["data"]
    assert item["metadata"]["displayName"] == name


def test_log_lines_tables_and_json_lines_escape_an_older_event(cli: Cli, cli_engine: Engine) -> None:
    event = legacy_event(cli_engine, cli.user, TERMINAL_ATTACK)
    query = ("logs", "--filter", f'actor.alternateId eq "{cli.user}"')

    table = cli.ok(*query)
    jsonl = cli.ok(*query, "--jsonl")
    array = cli.ok(*query, "--json")

    assert_no_raw_controls(table.stdout)
    assert "\\x1b[2J" in table.stdout
    for output in (jsonl, array):
        assert b"\xc2\x9b" not in output.stdout_bytes and b"\x1b" not in output.stdout_bytes
    (line,) = jsonl.stdout_bytes.splitlines()
    assert orjson.loads(line)["target"][0]["displayName"] == f"legacy {TERMINAL_ATTACK}"
    assert orjson.loads(array.stdout_bytes)[0]["outcome"]["reason"] == f"reason {TERMINAL_ATTACK}"
    assert orjson.loads(line)["uuid"] == event["uuid"]


def test_a_tail_line_is_one_escaped_line() -> None:
    # `logs tail` prints event_line for each event: one line, whatever the event holds.
    event = {
        "published": "2026-01-02T03:04:05.678Z",
        "eventType": "resource_servers.mcp_server.register",
        "actor": {"alternateId": f"a{TERMINAL_ATTACK}@example.com"},
        "outcome": {"result": "FAILURE", "reason": f"line one\nline two {TERMINAL_ATTACK}"},
        "target": [{"id": "mcp1", "displayName": TERMINAL_ATTACK}],
    }
    console: Console = out_console()
    with console.capture() as captured:
        console.print(event_line(event), soft_wrap=True)
    printed = captured.get()
    assert printed.count("\n") == 1 and printed.endswith("\n")
    assert_no_raw_controls(printed[:-1])
    assert "line one\\nline two " + SHOWN in printed


def test_the_console_net_escapes_what_a_view_forgot() -> None:
    # Text that reaches a console of the CLI unescaped (an error line, a title) is escaped on output.
    console = out_console()
    with console.capture() as captured:
        console.print(f"error: {TERMINAL_ATTACK}")
    assert_no_raw_controls(captured.get()[:-1])
    # rich itself drops BEL and CR from a plain string; ESC, C1 and the bidi override are escaped here.
    assert "\\x1b[2J\\x1b]0;pwned\\x9b31m\\u202eevil" in captured.get()


def test_json_bytes_keeps_the_value_and_escapes_del_and_c1() -> None:
    value = {"name": f"a\x7fb\x9bc\u00e9\u20ac{TERMINAL_ATTACK}"}
    data = json_bytes(orjson.dumps(value))
    assert orjson.loads(data) == value
    assert re.search(rb"\x7f|\xc2[\x80-\x9f]", data) is None
    assert "é€".encode() in data  # other characters stay as they were
