"""A real ``registrar serve`` process on loopback, for tests that need the whole server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

__all__ = ["LiveServer", "free_port", "running_server"]


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


def registrar_command(*args: str) -> list[str]:
    """The command line that runs ``registrar`` with this interpreter."""
    return [sys.executable, "-m", "registrar", *args]


@contextmanager
def running_server(env: Mapping[str, str], cwd: Path) -> Iterator[LiveServer]:
    """Start ``registrar serve`` with ``env`` in ``cwd`` and stop it (SIGTERM) afterwards.

    Keys and the default database go to ``cwd/registrar-data`` unless ``env`` names a data directory.
    """
    port = free_port()
    log_path = cwd / f"server-{port}.log"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    full_env = inherited | {"REGISTRAR_DATA_DIR": str(cwd / "registrar-data")} | dict(env)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            registrar_command("serve", "--port", str(port)),
            cwd=cwd,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{server.url}/openapi.json", timeout=1)
                break
            except httpx2.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"registrar serve did not start:\n{server.output()}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
