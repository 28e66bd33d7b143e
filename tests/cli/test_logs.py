"""``registrar logs``: queries with filters and paging, and ``logs tail`` following the log live."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import httpx2
import orjson

from .conftest import Cli, MakeToken, fails

BASE = "/resource-servers/api/v1/api-servers"
GREEN, RED, YELLOW = "\x1b[32m", "\x1b[31m", "\x1b[33m"
# A guard against a hung test, not a claim about speed.
PATIENCE_SECONDS = 60


def _register(http: httpx2.Client, url: str, name: str) -> httpx2.Response:
    return http.post(BASE, json={"resourceUrl": url, "metadata": {"displayName": name}})


def _success_failure_and_deny(cli: Cli, reader: str, n: int = 1) -> None:
    """``n`` registrations (SUCCESS), a duplicate (FAILURE), and one without the scope (DENY)."""
    with cli.http() as http:
        for i in range(n):
            assert _register(http, cli.url(f"/{i}"), f"zebra-{i}").status_code == 201
        assert _register(http, cli.url("/0"), "duplicate").status_code == 409
        http.headers["Authorization"] = f"SSWS {reader}"
        assert _register(http, cli.url("/denied"), "denied").status_code == 403


def test_a_query_with_filter_keywords_and_paging(cli: Cli, make_token: MakeToken) -> None:
    _success_failure_and_deny(cli, make_token("okta.logs.read"), n=5)
    mine = f'actor.alternateId eq "{cli.user}"'

    events = cli.json("logs", "--filter", mine)
    assert [e["outcome"]["result"] for e in events] == ["SUCCESS"] * 5 + ["FAILURE", "DENY"]
    assert {e["eventType"] for e in events} == {"resource_servers.api_server.register"}
    uuids = [e["uuid"] for e in events]

    assert [e["uuid"] for e in cli.json("logs", "--filter", mine, "--limit", "2")] == uuids[:2]
    assert [e["uuid"] for e in cli.json("logs", "--filter", mine, "--limit", "2", "--pages", "2")] == uuids[
        :4
    ]
    assert [e["uuid"] for e in cli.json("logs", "--filter", mine, "--limit", "2", "--all")] == uuids
    lines = cli.ok("logs", "--filter", mine, "--limit", "3", "--all", "--jsonl").stdout.splitlines()
    assert [orjson.loads(line)["uuid"] for line in lines] == uuids

    first_page = cli.ok("logs", "--filter", mine, "--limit", "2")
    assert "System Log (2 events)" in first_page.stdout and "more events" in first_page.stderr
    table = cli.ok("logs", "--filter", mine).stdout
    assert "System Log (7 events)" in table
    for value in ("SUCCESS", "FAILURE", "DENY", "resource_servers.api_server.register", cli.user, "zebra-3"):
        assert value in table

    (failure,) = cli.json("logs", "--filter", f'{mine} and outcome.result eq "FAILURE"')
    assert "already registered" in failure["outcome"]["reason"]
    assert [e["target"][0]["displayName"] for e in cli.json("logs", "--filter", mine, "--q", "zebra-3")] == [
        "zebra-3"
    ]

    until = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = cli.json(
        "logs", "--filter", mine, "--since", "2000-01-01", "--until", until,
        "--sort-order", "descending", "--limit", "3",
    )  # fmt: skip
    assert [e["uuid"] for e in newest] == uuids[::-1][:3]

    fails(cli("logs", "--filter", "nonsense eq 1"), 6, "error E0000053: ")
    fails(cli("logs", "--since", "yesterday-ish"), 6, "error E0000001: ")


class Lines:
    """Lines of a child's pipe, read in a thread so that waiting for one can give up."""

    def __init__(self, pipe: IO[str]):
        self.pipe = pipe
        self.queue: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.queue.put(line)

    def next(self) -> str:
        """The next line (the test fails if none comes)."""
        return self.queue.get(timeout=PATIENCE_SECONDS)

    def close(self) -> None:
        """Read to the end (the child has exited) and close the pipe."""
        self.thread.join(PATIENCE_SECONDS)
        self.pipe.close()

    def rest(self) -> list[str]:
        """The lines read so far."""
        out = []
        while not self.queue.empty():
            out.append(self.queue.get())
        return out


@contextmanager
def tail(
    cli: Cli, *args: str, token: str | None = None
) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    """``python -m registrar logs tail ARGS`` (the real console entry), started and followed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")} | {
        "REGISTRAR_URL": cli.server.url,
        "REGISTRAR_TOKEN": token or cli.token,
        "FORCE_COLOR": "1",
    }
    command = [sys.executable, "-m", "registrar", "logs", "tail", "--interval", "0.05", *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        yield process, out, err
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        out.close()
        err.close()


def _is_colored(line: str, color: str, *words: str) -> bool:
    return color in line and all(word in line for word in words)


def test_tail_prints_new_events_as_they_happen_coloured_by_outcome(cli: Cli, make_token: MakeToken) -> None:
    mine = f'actor.alternateId eq "{cli.user}"'
    with tail(cli, "--filter", mine) as (process, out, err):
        assert "following" in err.next()  # the first poll is done: from here on, events are new
        _success_failure_and_deny(cli, make_token("okta.logs.read"))
        success, failure, deny = out.next(), out.next(), out.next()
        assert _is_colored(success, GREEN, "SUCCESS", "resource_servers.api_server.register", "zebra-0")
        assert _is_colored(failure, RED, "FAILURE", "already registered")
        assert _is_colored(deny, YELLOW, "DENY", "lacks the scope okta.resourceServers.apiServers.manage")

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=PATIENCE_SECONDS) == 0
    assert err.rest() == ["\x1b[90mstopped\x1b[0m\n"]  # and no traceback
    assert out.rest() == []


def test_tail_since_catches_up_as_json_lines_and_stops_on_sigterm(cli: Cli) -> None:
    with cli.http() as http:
        ids = [_register(http, cli.url(f"/{i}"), f"n{i}").json()["id"] for i in range(3)]
    mine = f'actor.alternateId eq "{cli.user}"'
    with tail(cli, "--filter", mine, "--since", "2000-01-01", "--limit", "2", "--jsonl") as (
        process,
        out,
        err,
    ):
        events: list[dict[str, Any]] = [orjson.loads(out.next()) for _ in ids]
        assert [e["target"][0]["id"] for e in events] == ids
        assert "following" in err.next()
        process.terminate()
        assert process.wait(timeout=PATIENCE_SECONDS) == 0
    assert [line for line in err.rest() if "Traceback" in line] == []
