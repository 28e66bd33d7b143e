"""The wire promises hold in every worker of ``registrar serve --workers 2``: each worker refuses oversized
heads (431 / 414) and bodies (413) and trickled heads (408), drops a connection that says nothing, takes
client addresses from the socket alone, and logs in Registrar's format. Each check is made on a
connection that worker accepted (which worker accepts a connection is the kernel's choice)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import orjson
import pytest

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, cli_token, running_server
from ._live import body_of, read_all, status_of

WORKERS = 2
GET = b"GET /openapi.json HTTP/1.1\r\nHost: registrar\r\n"
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ ")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    tmp_path: Path = tmp_path_factory.mktemp("workers")
    env = {
        "REGISTRAR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "false",
        "REGISTRAR_HEADER_TIMEOUT_SECONDS": "1",
        "REGISTRAR_MAX_BODY_BYTES": "65536",
        "PATH": "/usr/bin:/bin",
    }
    with running_server(env, tmp_path, workers=WORKERS) as server:
        token = cli_token(env, tmp_path, "wire@example.com")
        yield server, token


def _answers(server: LiveServer, raw: bytes) -> list[bytes]:
    """What each worker answered to ``raw``, sent on a connection of its own (until it closed)."""
    connections = server.connection_per_worker(send=raw)
    assert len(connections) == WORKERS
    answers = []
    for sock in connections.values():
        with sock:
            answers.append(read_all(sock))
    return answers


def _refused(response: bytes, status: int) -> None:
    assert status_of(response) == status, response[:200]
    assert b"\r\nconnection: close\r\n" in response.split(b"\r\n\r\n", 1)[0].lower() + b"\r\n"
    assert body_of(response)["errorCode"] == "E0000001"


def test_the_server_runs_the_workers_it_was_asked_for(live: tuple[LiveServer, str]) -> None:
    server, _ = live
    workers = server.worker_pids()
    assert len(workers) == WORKERS and server.process.pid not in workers
    assert [status_of(a) for a in _answers(server, GET + b"Connection: close\r\n\r\n")] == [200] * WORKERS


def test_every_worker_bounds_request_heads(live: tuple[LiveServer, str]) -> None:
    server, _ = live
    for answer in _answers(server, GET + b"X-Big: " + b"a" * 17000 + b"\r\n\r\n"):
        _refused(answer, 431)
    for answer in _answers(server, b"GET /" + b"a" * 17000 + b" HTTP/1.1\r\nHost: registrar\r\n\r\n"):
        _refused(answer, 414)


def test_every_worker_cuts_off_an_unfinished_head_and_a_silent_connection(
    live: tuple[LiveServer, str],
) -> None:
    server, _ = live
    for answer in _answers(server, GET):  # the head never ends: 408 after the 1 s header timeout
        _refused(answer, 408)
    assert _answers(server, b"") == [b""] * WORKERS  # connected, said nothing: closed


def test_every_worker_bounds_request_bodies(live: tuple[LiveServer, str]) -> None:
    server, token = live
    head = (
        b"POST /resource-servers/api/v1/api-servers HTTP/1.1\r\nHost: registrar\r\n"
        b"Authorization: SSWS " + token.encode() + b"\r\nContent-Length: %d\r\n\r\n" % (65536 + 1)
    )
    for answer in _answers(server, head):  # the body is never sent: the answer comes without it
        assert status_of(answer) == 413, answer[:200]
        assert body_of(answer)["errorSummary"] == "Request body too large"


def test_every_worker_takes_the_client_address_from_the_socket(live: tuple[LiveServer, str]) -> None:
    server, token = live
    body = orjson.dumps({"resourceUrl": "https://w.example/", "metadata": {"displayName": "W"}})
    post = (
        b"POST /resource-servers/api/v1/api-servers HTTP/1.1\r\nHost: registrar\r\n"
        b"Authorization: SSWS " + token.encode() + b"\r\nContent-Type: application/json\r\n"
        b"X-Forwarded-For: 203.0.113.66\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    answers = _answers(server, post)  # the first registers the server, the other is a conflict: both audited
    assert sorted(status_of(a) for a in answers) == [201, 409], [a[:100] for a in answers]
    for answer in answers:
        request_id = re.search(rb"(?im)^x-okta-request-id: (\S+)", answer.split(b"\r\n\r\n", 1)[0])
        assert request_id is not None
        logs = httpx2.get(
            f"{server.url}/api/v1/logs",
            params={"filter": f'transaction.id eq "{request_id.group(1).decode()}"'},
            headers={"Authorization": f"SSWS {token}"},
        )
        (event,) = logs.json()
        assert event["client"]["ipAddress"] == "127.0.0.1"  # not the header's: no proxy is trusted
        assert event["securityContext"]["isProxy"] is True


def test_every_worker_logs_in_registrars_format(live: tuple[LiveServer, str]) -> None:
    server, _ = live
    _answers(server, GET + b"X-Big: " + b"a" * 17000 + b"\r\n\r\n")
    output = server.output()
    assert output.count(" INFO uvicorn.error Application startup complete.") == WORKERS
    assert " INFO registrar.wire refused a request from 127.0.0.1:" in output
    foreign = [
        line for line in output.splitlines() if line and not line.startswith(" ") and not LINE.match(line)
    ]
    assert foreign == [], output
