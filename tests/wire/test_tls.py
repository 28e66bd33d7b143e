"""``registrar serve --tls-cert --tls-key``: HTTPS for the clients that insist on it.

The real ``okta`` SDK reads the System Log over HTTPS, trusting the test CA the documented way
(``SSL_CERT_FILE``), also with ``--workers 2``; the ``Link`` headers of a page fetched over HTTPS are
https URLs, and following them reads every event; connections are kept alive; plain HTTP to the port
gets no answer; and a server with unusable TLS settings refuses to start, saying why.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, select

from registrar.store.schema import log_events

from ..live import LiveServer, cli_token, registrar_command, serve_env
from ._tls import Pki, make_pki, running_tls_server

SERVERS = "/resource-servers/api/v1/api-servers"
EVENTS = 5
_LINK = re.compile(r'<([^>]+)>; rel="(self|next)"')

# The okta SDK as a log collector runs it: in a process of its own, trusting the CA through SSL_CERT_FILE.
SDK_SCRIPT = """
import asyncio, json, sys
from okta.client import Client
from okta.pagination import paginate_all

async def main():
    client = Client({"orgUrl": sys.argv[1], "token": sys.argv[2]})
    events = [e async for e in paginate_all(
        client.list_log_events, limit=2, max_pages=20, since="2000-01-01T00:00:00.000Z"
    )]
    print(json.dumps([e.uuid for e in events]))

asyncio.run(main())
"""
# One call, the SDK's own logging on: what it says when it cannot trust the server.
SDK_ONE_CALL = """
import asyncio, logging, sys
from okta.client import Client

async def main():
    client = Client({"orgUrl": sys.argv[1], "token": sys.argv[2], "logging": {"enabled": True}})
    try:
        events, _, error = await client.list_log_events(limit=2)
    except Exception as exc:  # the SDK may fail on the missing response itself
        events, error = None, exc
    print(repr(error), file=sys.stderr)
    sys.exit(0 if events else 1)

asyncio.run(main())
"""


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


def _stored_uuids(database_url: str) -> list[str]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(log_events.c.uuid).order_by(log_events.c.seq)).scalars())
    finally:
        engine.dispose()


def _links(response: httpx2.Response) -> dict[str, str]:
    return {rel: url for value in response.headers.get_list("link") for url, rel in _LINK.findall(value)}


@pytest.fixture
def https_server(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, pki: Pki
) -> Iterator[tuple[LiveServer, str]]:
    env = serve_env(database_url, tmp_path)
    token = cli_token(env, tmp_path, "collector@example.com")
    workers: int = getattr(request, "param", 1)
    with running_tls_server(env, tmp_path, pki, workers=workers) as server:
        with httpx2.Client(verify=pki.context()) as client:
            for i in range(EVENTS):
                client.post(
                    f"{server.url}{SERVERS}",
                    headers={"Authorization": f"SSWS {token}"},
                    json={"resourceUrl": f"https://tls-{i}.example/", "metadata": {"displayName": "t"}},
                ).raise_for_status()
        yield server, token


@pytest.mark.parametrize("https_server", [1, 2], ids=["one-process", "two-workers"], indirect=True)
def test_the_okta_sdk_lists_the_log_over_https(
    https_server: tuple[LiveServer, str], database_url: str, pki: Pki, tmp_path: Path
) -> None:
    server, token = https_server
    environment = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    environment.pop("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", None)  # the SDK's https check stays on
    run = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, server.url, token],
        env=environment | {"SSL_CERT_FILE": str(pki.ca)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    stored = _stored_uuids(database_url)
    assert len(stored) == EVENTS + 1  # the token's creation, then the registrations
    assert json.loads(run.stdout) == stored


def test_without_the_ca_the_sdk_refuses_the_server(
    https_server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = https_server
    environment = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
    run = subprocess.run(
        [sys.executable, "-c", SDK_ONE_CALL, server.url, token],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in run.stderr, run.stderr


def test_a_page_fetched_over_https_links_to_https_pages(
    https_server: tuple[LiveServer, str], database_url: str, pki: Pki
) -> None:
    server, token = https_server
    seen: list[str] = []
    with httpx2.Client(verify=pki.context(), headers={"Authorization": f"SSWS {token}"}) as client:
        url = f"{server.url}/api/v1/logs?limit=2&since=2000-01-01T00%3A00%3A00.000Z"
        for _ in range(2 * EVENTS):
            response = client.get(url)
            assert response.status_code == 200, response.text
            links = _links(response)
            assert links["self"].startswith(f"{server.url}/api/v1/logs?")
            assert links["next"].startswith(f"{server.url}/api/v1/logs?")
            page = [event["uuid"] for event in response.json()]
            seen.extend(page)
            if not page:
                break
            url = links["next"]  # followed as sent
    assert seen == _stored_uuids(database_url)


def _request(sock: ssl.SSLSocket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, f"the server closed the connection: {head!r}"
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(4096)
    return head


def test_one_tls_connection_serves_several_requests(database_url: str, tmp_path: Path, pki: Pki) -> None:
    with running_tls_server(serve_env(database_url, tmp_path), tmp_path, pki) as server:
        port = int(server.url.rsplit(":", 1)[1])
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        with pki.context().wrap_socket(raw, server_hostname="localhost") as sock:
            assert sock.version() in ("TLSv1.2", "TLSv1.3")
            heads = [_request(sock, path) for path in ("/healthz", "/readyz", "/healthz")]
    assert all(head.startswith(b"HTTP/1.1 200 ") for head in heads)
    assert all(b"connection: close" not in head.lower() for head in heads)


def test_plain_http_to_the_tls_port_gets_no_answer(database_url: str, tmp_path: Path, pki: Pki) -> None:
    with running_tls_server(serve_env(database_url, tmp_path), tmp_path, pki) as server:
        port = server.url.rsplit(":", 1)[1]
        with pytest.raises(httpx2.TransportError):
            httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        with httpx2.Client(verify=pki.context()) as client:
            assert client.get(f"{server.url}/healthz").status_code == 200  # still serving


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    return subprocess.run(
        registrar_command("serve", "--port", "1", *args),  # never bound: refused before that
        env=environment | {"REGISTRAR_DATA_DIR": str(tmp_path / "data"), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _refused(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


def test_a_certificate_without_a_key_is_refused(tmp_path: Path, pki: Pki) -> None:
    assert "--tls-cert was given without --tls-key" in _refused(_serve(tmp_path, "--tls-cert", str(pki.cert)))
    assert "--tls-key was given without --tls-cert" in _refused(
        _serve(tmp_path, REGISTRAR_TLS_KEY=str(pki.key))
    )


def test_a_key_others_may_read_is_refused(tmp_path: Path, pki: Pki) -> None:
    pki.key.chmod(0o644)
    line = _refused(_serve(tmp_path, "--tls-cert", str(pki.cert), "--tls-key", str(pki.key)))
    assert f"the TLS key file {pki.key} has mode 0644" in line
    assert f"chmod 600 {pki.key}" in line


def test_unreadable_files_are_refused(tmp_path: Path, pki: Pki) -> None:
    missing = tmp_path / "missing.pem"
    line = _refused(_serve(tmp_path, "--tls-cert", str(missing), "--tls-key", str(pki.key)))
    assert f"cannot read the TLS certificate file {missing}" in line
    line = _refused(_serve(tmp_path, REGISTRAR_TLS_CERT=str(pki.cert), REGISTRAR_TLS_KEY=str(tmp_path)))
    assert f"cannot read the TLS key file {tmp_path}" in line


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path, pki: Pki) -> None:
    other = make_pki(tmp_path / "other")
    line = _refused(_serve(tmp_path, "--tls-cert", str(pki.cert), "--tls-key", str(other.key)))
    assert f"cannot use the TLS certificate {pki.cert} with the key {other.key}" in line
