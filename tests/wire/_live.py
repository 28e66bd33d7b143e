"""A real ``registrar serve`` for the wire tests, and a raw-socket client that can misbehave on purpose."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from sqlalchemy import create_engine, func, select

from registrar.store.schema import log_events

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, registrar_command, running_server

__all__ = [
    "Served",
    "body_of",
    "event_count",
    "exchange",
    "inside_one_window",
    "read_all",
    "served",
    "status_of",
]


@dataclass
class Served:
    server: LiveServer
    env: dict[str, str]
    cwd: Path

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, user: str = "wire@example.com") -> str:
        """A new API token (all scopes) made by ``registrar tokens create``."""
        return subprocess.run(
            registrar_command("tokens", "create", "--user", user),
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


@contextmanager
def served(database_url: str, tmp_path: Path, **settings: str) -> Iterator[Served]:
    """``registrar serve`` on ``database_url`` with ``REGISTRAR_<name>`` settings, jobs off."""
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "false",
        "PATH": "/usr/bin:/bin",
        **{f"REGISTRAR_{name.upper()}": value for name, value in settings.items()},
    }
    with running_server(env, tmp_path) as server:
        yield Served(server, env, tmp_path)


def exchange(url: str, raw: bytes, *, timeout: float = 60.0) -> bytes:
    """Send ``raw`` on a fresh connection and read until the server closes it (what it answered)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)  # refused while still sending: the answer may still be there to read
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    """Everything until the peer closes (a reset after an answer still returns the answer)."""
    chunks: list[bytes] = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP/1.1 response."""
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> dict[str, object]:
    """The JSON body of a raw (not chunked) HTTP/1.1 response."""
    parsed: dict[str, object] = orjson.loads(response.split(b"\r\n\r\n", 1)[1])
    return parsed


def event_count(database_url: str) -> int:
    """How many events the log holds, read from the database itself."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(log_events)).scalar_one())
    finally:
        engine.dispose()


def inside_one_window() -> None:
    """Wait, if need be, so that a short burst stays inside one wall-clock minute (PostgreSQL's windows)."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
