"""``registrar serve --workers 2``: whichever worker answers a scrape reports the requests of both (the
workers' counters are summed through prometheus_client's multiprocess mode), and the private directory
that holds them is gone once the server stopped."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ..conftest import TEST_SECRET_KEY
from ..hooks.receiver import wait_until
from ..live import registrar_command, running_server

HEALTH = ("registrar_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """One request on a kept-alive connection; returns the response body."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    assert head.startswith(b"HTTP/1.1 200 "), head
    return body


def _health_requests(metrics: bytes) -> float:
    for family in text_string_to_metric_families(metrics.decode()):
        for sample in family.samples:
            if (sample.name, tuple(sorted(sample.labels.items()))) == HEALTH:
                return sample.value
    return 0.0


def test_every_worker_reports_the_requests_of_all(tmp_path: Path) -> None:
    env = {
        "REGISTRAR_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}",
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "false",
        "PATH": "/usr/bin:/bin",
    }
    token = subprocess.run(
        registrar_command("tokens", "create", "--user", "prom@example.com", "--scope", "okta.logs.read"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with running_server(env, tmp_path, workers=2) as server:
        held = server.connection_per_worker()
        first, second = sorted(held)
        probe = b"GET /healthz HTTP/1.1\r\nHost: r\r\n\r\n"
        scrape = f"GET /metrics HTTP/1.1\r\nHost: r\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        try:
            start = _health_requests(_exchange(held[first], scrape))
            for _ in range(3):
                _exchange(held[first], probe)
            for _ in range(5):
                _exchange(held[second], probe)
            # A request is counted just after its answer is sent: scrape until the last ones are in.
            by_worker: dict[int, float] = {}

            def both_counted() -> bool:
                by_worker.update({pid: _health_requests(_exchange(held[pid], scrape)) for pid in held})
                return set(by_worker.values()) == {start + 8}

            wait_until(both_counted, "every worker to report the 8 probes", timeout=30)
        finally:
            for sock in held.values():
                sock.close()
        directories = set(re.findall(r"/\S*/registrar-metrics-\w+", _open_files(server.worker_pids())))
    assert by_worker == {first: start + 8, second: start + 8}
    assert directories, "the workers keep their counters in a registrar-metrics-* directory"
    assert not [d for d in directories if Path(d).exists()]  # removed when the server stopped


def _open_files(pids: list[int]) -> str:
    """The files the processes have open (their counters are memory-mapped files)."""
    names = []
    for pid in pids:
        for descriptor in Path(f"/proc/{pid}/fd").iterdir():
            try:
                names.append(str(descriptor.readlink()))
            except OSError:
                continue
        names.append(Path(f"/proc/{pid}/maps").read_text())
    return "\n".join(names)
