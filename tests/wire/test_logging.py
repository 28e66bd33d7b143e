"""``registrar serve`` configures logging: records at the configured level and above are written, one line
each as ``time level logger message``, and a client cannot forge lines or send escape sequences."""

from __future__ import annotations

import re
from pathlib import Path

from ._live import exchange, served, status_of

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ ")


def test_info_records_are_written_and_debug_ones_are_not_at_the_default_level(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path) as live:
        refused = exchange(live.url, b"GET / HTTP/1.1\r\nHost: r\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        exchange(live.url, b"GET /openapi.json HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
    assert status_of(refused) == 431
    output = live.server.output()
    assert " INFO registrar.wire refused a request from 127.0.0.1:" in output  # a service's INFO record
    assert " INFO uvicorn.access 127.0.0.1:" in output  # the access log, in the same format
    assert " DEBUG " not in output
    assert all(LINE.match(line) for line in output.splitlines() if line and not line.startswith(" "))


def test_a_request_cannot_forge_log_lines_or_reach_a_terminal(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, log_level="debug") as live:
        path = b"/%1b[2J%0a2030-01-01T00:00:00.000Z%20INFO%20registrar%20forged"
        exchange(live.url, b"GET " + path + b" HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
    output = live.server.output()
    assert "\x1b" not in output
    assert "\\x1b[2J\\x0a2030-01-01T00:00:00.000Z INFO registrar forged" in output
    assert not any(line.startswith("2030-") for line in output.splitlines())
