"""Bounded request heads, through a real ``registrar serve``: 431 for oversized headers, 414 for an
oversized request target, each an Okta error object; memory stays bounded under 16 MB headers; a client
that trickles its headers, or connects and says nothing, is disconnected."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ._live import Served, body_of, exchange, read_all, served, status_of

GET = b"GET /openapi.json HTTP/1.1\r\nHost: registrar\r\n"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path: Path = tmp_path_factory.mktemp("heads")
    with served(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, header_timeout_seconds="1") as server:
        yield server


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    """Make the kernel's peak-RSS mark (VmHWM) start again from the current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _refused(response: bytes, status: int) -> None:
    assert status_of(response) == status, response[:200]
    assert b"\r\nconnection: close\r\n" in response.split(b"\r\n\r\n", 1)[0] + b"\r\n"
    body = body_of(response)
    assert body["errorCode"] == "E0000001"
    assert body["errorCauses"]


def test_headers_within_the_limit_are_served(live: Served) -> None:
    response = exchange(live.url, GET + b"X-Padding: " + b"a" * 15000 + b"\r\nConnection: close\r\n\r\n")
    assert status_of(response) == 200


def test_one_oversized_header_gets_431(live: Served) -> None:
    response = exchange(live.url, GET + b"X-Big: " + b"a" * 17000 + b"\r\n\r\n")
    _refused(response, 431)
    assert body_of(response)["errorSummary"] == "Request header fields too large"


def test_many_small_headers_add_up_to_431(live: Served) -> None:
    _refused(exchange(live.url, GET + b"X-A: b\r\n" * 2100 + b"\r\n"), 431)


def test_an_oversized_request_target_gets_414(live: Served) -> None:
    _refused(exchange(live.url, b"GET /" + b"a" * 17000 + b" HTTP/1.1\r\nHost: registrar\r\n\r\n"), 414)


def test_16_mb_headers_leave_memory_bounded(live: Served) -> None:
    pid = live.server.process.pid
    exchange(live.url, GET + b"Connection: close\r\n\r\n")  # warm
    _reset_peak(pid)
    before = _status_bytes(pid, "VmRSS")
    head = GET + b"X-Big: " + b"a" * (16 * MIB) + b"\r\n\r\n"
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: exchange(live.url, head), range(8)))
    # The peak, not the RSS afterwards: the parser's buffers are freed once the requests are done.
    grown = _status_bytes(pid, "VmHWM") - before
    print(f"peak RSS growth under 8 x 16 MB headers: {grown / MIB:.1f} MiB")
    # 8 x 16 MB held by the parser would be 128 MiB; bounded, each connection holds the limit plus one read.
    assert grown < 50 * MIB, f"the server's peak RSS grew by {grown / MIB:.1f} MiB"
    assert {status_of(r) for r in responses if r} == {431}
    assert status_of(exchange(live.url, GET + b"Connection: close\r\n\r\n")) == 200


def _connect(live: Served) -> socket.socket:
    parts = urlsplit(live.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=60)


def test_a_client_trickling_its_headers_is_cut_off(live: Served) -> None:
    with _connect(live) as sock:
        sock.sendall(GET)
        answer = b""
        for _ in range(600):  # one header byte every 0.1 s, far slower than the 1 s header timeout
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.1)
            try:
                answer += sock.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
        sock.settimeout(60)
        answer += read_all(sock)
    _refused(answer, 408)


def test_a_connection_that_says_nothing_is_closed(live: Served) -> None:
    with _connect(live) as sock:
        assert read_all(sock) == b""  # returns only once the server closes the connection


def test_the_header_timeout_runs_per_request_on_a_kept_alive_connection(live: Served) -> None:
    # Idle time between requests is the keep-alive timeout's (5 s), not the header timeout's (1 s here):
    # a client that sends each head at once is never cut off, however long the connection lives.
    with _connect(live) as sock:
        for pause in (0.0, 1.5, 1.5):
            time.sleep(pause)
            sock.sendall(GET + b"\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                received += sock.recv(65536)
            head, _, rest = received.partition(b"\r\n\r\n")
            assert status_of(head) == 200
            length = int(
                next(
                    v
                    for k, _, v in (line.partition(b": ") for line in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                )
            )
            while len(rest) < length:
                rest += sock.recv(65536)
