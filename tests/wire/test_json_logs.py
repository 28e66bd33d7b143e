"""``registrar serve --log-format json`` (``REGISTRAR_LOG_FORMAT=json``): every line on stderr is one JSON
object, and every request has one access line with its method, route template, status, duration, client
address (as resolved through the trusted proxies) and the request id the response carried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2

from ._live import exchange, served

SERVERS = "/resource-servers/api/v1/api-servers"


def _lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line]
    assert lines and all(isinstance(line, dict) for line in lines)
    return lines


def _access(lines: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    [line] = [
        line for line in lines if line["logger"] == "registrar.access" and line["requestId"] == request_id
    ]
    return line


def test_every_line_is_json_and_each_request_has_its_access_line(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, log_format="json") as live:
        token = live.token()
        with httpx2.Client(base_url=live.url, headers={"Authorization": f"SSWS {token}"}) as client:
            listed = client.get("/api/v1/logs")
            missing = client.get(f"{SERVERS}/apsNoSuchServer")
            anonymous = client.get(SERVERS, headers={"Authorization": ""})
    lines = _lines(live.server.output())
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # the server's own records too
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]  # replaced, not doubled

    access = _access(lines, listed.headers["x-okta-request-id"])
    assert {k: access[k] for k in ("level", "method", "route", "status", "client")} == {
        "level": "INFO",
        "method": "GET",
        "route": "/api/v1/logs",
        "status": 200,
        "client": "127.0.0.1",
    }
    assert isinstance(access["durationMs"], float) and access["durationMs"] >= 0
    assert access["time"].endswith("Z")
    assert _access(lines, missing.headers["x-okta-request-id"])["route"] == f"{SERVERS}/{{server_id}}"
    assert _access(lines, missing.headers["x-okta-request-id"])["status"] == 404
    assert _access(lines, anonymous.headers["x-okta-request-id"])["status"] == 401
    access_lines = [line for line in lines if line["logger"] == "registrar.access"]
    assert len(access_lines) == len({line["requestId"] for line in access_lines})  # one per request


def test_the_client_is_the_one_the_trusted_proxies_name(tmp_path: Path) -> None:
    with served(
        f"sqlite:///{tmp_path / 'r.db'}", tmp_path, log_format="json", trusted_proxies="127.0.0.1/32"
    ) as live:
        # The left-most address is what the client wrote; the trusted proxy (the peer) vouches for the last.
        forwarded = httpx2.get(
            f"{live.url}/healthz", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        )
    lines = _lines(live.server.output())
    assert _access(lines, forwarded.headers["x-okta-request-id"])["client"] == "203.0.113.7"


def test_forwarding_headers_of_an_untrusted_peer_are_not_believed(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, log_format="json") as live:
        forged = httpx2.get(f"{live.url}/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    lines = _lines(live.server.output())
    assert _access(lines, forged.headers["x-okta-request-id"])["client"] == "127.0.0.1"


def test_a_request_cannot_forge_lines_or_reach_a_terminal(tmp_path: Path) -> None:
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, log_format="json", log_level="debug") as live:
        path = b"/%1b[2J%0a{%22level%22:%22INFO%22}%e2%80%a8%c2%9b"
        exchange(live.url, b"GET " + path + b" HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
    output = live.server.output()
    assert output.isascii()  # ESC, LF, U+2028 and C1 are all \\u escapes
    lines = _lines(output)
    [logged] = [line for line in lines if "\x1b[2J" in line["message"]]  # the middleware's debug record
    assert '\n{"level":"INFO"}\u2028\x9b' in logged["message"]
