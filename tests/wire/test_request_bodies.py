"""Bounded request bodies, through a real ``registrar serve``: a declared ``Content-Length`` above
``REGISTRAR_MAX_BODY_BYTES`` is refused before the body is sent, a chunked body as soon as it passes the
cap; both are 413 Okta error objects, write no event, and close the connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest

from ._live import Served, body_of, event_count, exchange, read_all, served, status_of

LIMIT = 64 * 1024
PATH = b"/resource-servers/api/v1/api-servers"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    tmp_path: Path = tmp_path_factory.mktemp("bodies")
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with served(url, tmp_path, max_body_bytes=str(LIMIT)) as server:
        yield server, url


def _post(token: str, headers: bytes) -> bytes:
    return (
        b"POST " + PATH + b" HTTP/1.1\r\nHost: registrar\r\nAuthorization: SSWS " + token.encode() + headers
    )


def _too_large(response: bytes) -> None:
    assert status_of(response) == 413, response[:300]
    head = response.split(b"\r\n\r\n", 1)[0].lower() + b"\r\n"
    assert b"\r\nconnection: close\r\n" in head
    assert b"\r\nx-okta-request-id: " in head
    body = body_of(response)
    assert body["errorCode"] == "E0000001"
    assert body["errorSummary"] == "Request body too large"


def test_a_body_within_the_limit_is_served(live: tuple[Served, str]) -> None:
    server, _ = live
    registration = {"resourceUrl": "https://big.example.com", "metadata": {"displayName": "B"}}
    body = orjson.dumps(registration) + b" " * (LIMIT - 100)  # JSON may be padded with whitespace
    raw = _post(server.token(), b"\r\nContent-Type: application/json\r\nConnection: close\r\n")
    response = exchange(server.url, raw + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert status_of(response) == 201, response[-300:]


def test_a_declared_length_above_the_limit_is_refused_before_the_body(live: tuple[Served, str]) -> None:
    server, database = live
    token = server.token()
    before = event_count(database)
    # Only the head is sent: the answer must come without the server waiting for the body.
    response = exchange(server.url, _post(token, b"\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1)))
    _too_large(response)
    assert event_count(database) == before


def test_a_chunked_body_is_refused_once_it_passes_the_limit(live: tuple[Served, str]) -> None:
    server, database = live
    token = server.token()
    before = event_count(database)
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(
            _post(token, b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        )
        chunk = b"a" * 4096
        sent = 0
        while sent <= LIMIT:  # just past the cap, then wait for the answer
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        response = read_all(sock)  # the server answers and closes though the body never ended
    _too_large(response)
    assert event_count(database) == before
