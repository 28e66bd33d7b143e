"""A real ``registrar serve`` process on loopback, for tests that need the whole server.

With ``workers`` above 1 (or ``REGISTRAR_TEST_WORKERS``: the suites that use this helper can be run against
``registrar serve --workers N`` as they are), the server is ready once every worker accepts connections, and
:meth:`LiveServer.connection_per_worker` opens a connection that each given worker holds.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2

from .conftest import TEST_SECRET_KEY

__all__ = ["LiveServer", "free_port", "registrar_command", "running_server", "serve_env"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        """Everything the server has written to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The processes serving the port: the server itself, or its uvicorn workers (``--workers``)."""
        workers = [pid for pid in _children(self.process.pid) if b"spawn_main" in _cmdline(pid)]
        return sorted(workers) or [self.process.pid]

    def connection_per_worker(self, send: bytes = b"", timeout: float = 60) -> dict[int, socket.socket]:
        """A fresh connection accepted by each worker, by worker pid, ``send`` sent on it as soon as it is
        known whose it is (which worker accepts is the kernel's choice: connections are opened until every
        worker holds one, and the others are closed)."""
        workers = set(self.worker_pids())
        parts = urlsplit(self.url)
        held: dict[int, socket.socket] = {}
        deadline = time.monotonic() + timeout
        while set(held) != workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers {sorted(workers - set(held))} accepted no connection")
            try:
                sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
            except ConnectionRefusedError:  # no worker listens yet
                time.sleep(0.1)
                continue
            owner = _accepted_by(sock, workers)
            if owner is None or owner in held:
                sock.close()
                continue
            if send:  # at once: the connection's header timeout runs from now
                sock.sendall(send)
            held[owner] = sock
        return held


def registrar_command(*args: str) -> list[str]:
    """The command line that runs ``registrar`` with this interpreter."""
    return [sys.executable, "-m", "registrar", *args]


def serve_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``registrar serve`` (or command) on ``database_url``: the tests' secret key, a
    signing key file in ``tmp_path``, no background jobs and a bare ``PATH``; then ``extra``."""
    return {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "false",
        "PATH": "/usr/bin:/bin",
        **extra,
    }


def cli_token(env: Mapping[str, str], cwd: Path, user: str) -> str:
    """A token for ``user`` made by ``registrar tokens create`` (which migrates the database first)."""
    return subprocess.run(
        registrar_command("tokens", "create", "--user", user),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _accepted_by(sock: socket.socket, pids: set[int], timeout: float = 10) -> int | None:
    """Which of ``pids`` holds the server's end of ``sock`` (None if none accepted it within ``timeout``)."""
    client_port: int = sock.getsockname()[1]
    server_port: int = sock.getpeername()[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inode = _tcp_inode(local_port=server_port, remote_port=client_port)
        if inode is not None:
            target = f"socket:[{inode}]"
            for pid in pids:
                try:
                    descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
                except OSError:
                    continue
                for descriptor in descriptors:
                    try:
                        if os.readlink(descriptor) == target:
                            return pid
                    except OSError:
                        continue
        time.sleep(0.01)  # accepted by the kernel, not yet by a worker
    return None


def _tcp_inode(*, local_port: int, remote_port: int) -> int | None:
    """The inode of the IPv4 socket from ``local_port`` to ``remote_port``, from ``/proc/net/tcp``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if (
            int(local.rsplit(":", 1)[1], 16) == local_port
            and int(remote.rsplit(":", 1)[1], 16) == remote_port
        ):
            return inode or None  # 0 until a process has the socket
    return None


@contextmanager
def running_server(
    env: Mapping[str, str],
    cwd: Path,
    *,
    workers: int | None = None,
    serve_args: Sequence[str] = (),
    origin: str = "http://127.0.0.1",
    ready_path: str = "/openapi.json",
    verify: ssl.SSLContext | bool = True,
) -> Iterator[LiveServer]:
    """Start ``registrar serve`` with ``env`` in ``cwd`` and stop it (SIGTERM) afterwards.

    Keys and the default database go to ``cwd/registrar-data`` unless ``env`` names a data directory.
    ``workers`` (default ``REGISTRAR_TEST_WORKERS``, else 1) is ``--workers``: with more than one, the
    server is ready once each worker has accepted a connection. ``serve_args`` follow ``--port``; the
    server's URL is ``origin`` with the port, and it is ready once ``ready_path`` there answers (a client
    trusting ``verify``: for HTTPS, see ``tests/wire/_tls.py``).
    """
    if workers is None:
        workers = int(os.environ.get("REGISTRAR_TEST_WORKERS") or 1)
    port = free_port()
    log_path = cwd / f"server-{port}.log"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    full_env = inherited | {"REGISTRAR_DATA_DIR": str(cwd / "registrar-data")} | dict(env)
    command = registrar_command("serve", "--port", str(port), *serve_args)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *(["--workers", str(workers)] if workers > 1 else [])],
            cwd=cwd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"{origin}:{port}", process, log_path)
    try:
        deadline = time.monotonic() + (30 if workers == 1 else 60)  # workers start more slowly
        with httpx2.Client(verify=verify, timeout=1) as client:
            while True:
                try:
                    client.get(f"{server.url}{ready_path}")
                    break
                except httpx2.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"registrar serve did not start:\n{server.output()}") from None
                    time.sleep(0.1)
        if workers > 1:
            while len(server.worker_pids()) < workers:  # uvicorn starts them one after the other
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"registrar serve did not start its workers:\n{server.output()}")
                time.sleep(0.1)
            for sock in server.connection_per_worker().values():
                sock.close()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
