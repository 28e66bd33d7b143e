"""A ``registrar serve`` that receives SIGTERM stops accepting connections, still answers the request in
flight (an MCP registration held by a slow discovery), stops its jobs, signs a last checkpoint covering
every event, and exits 0; with one process and with ``--workers 2``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx2
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from registrar.store.database import create_database_engine
from registrar.store.schema import log_events, log_head
from registrar.tlog import latest_checkpoint, tree_size

from ..conftest import TEST_SECRET_KEY
from ..discovery.servers import OAUTH_SERVER, PRM, bound_socket, running
from ..hooks.receiver import wait_until
from ..live import LiveServer, registrar_command, running_server

MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"


@dataclass
class GatedSite:
    """An MCP resource whose protected-resource metadata is answered only once ``gate`` is set."""

    base: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)

    @property
    def resource(self) -> str:
        return f"{self.base}/mcp"

    async def metadata(self, _request: Request) -> Response:
        self.arrived.set()
        await anyio.to_thread.run_sync(self.gate.wait, 60)
        return JSONResponse({"resource": self.resource, "authorization_servers": [self.base]})

    async def issuer(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.base,
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "grant_types_supported": ["client_credentials"],
            }
        )


@contextmanager
def gated_site() -> Iterator[GatedSite]:
    site = GatedSite()
    app = Starlette(routes=[Route(f"{PRM}/mcp", site.metadata), Route(OAUTH_SERVER, site.issuer)])
    try:
        with running(app, bound_socket()) as base:
            site.base = base
            yield site
    finally:
        site.gate.set()


def _log_state(database_url: str) -> tuple[int, int, int]:
    """(events in the log, leaves in the tree, size of the latest signed checkpoint)."""
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            head = int(conn.execute(select(log_head.c.seq)).scalar_one())
            latest = latest_checkpoint(conn)
            return head, tree_size(conn), 0 if latest is None else latest.size
    finally:
        engine.dispose()


def _event_types(database_url: str) -> list[str]:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(log_events.c.event_type).order_by(log_events.c.seq)).scalars())
    finally:
        engine.dispose()


def _refused(server: LiveServer) -> bool:
    parts = urlsplit(server.url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
def test_sigterm_drains_the_request_in_flight_and_signs_a_last_checkpoint(
    database_url: str, tmp_path: Path, workers: int
) -> None:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "true",
        # No checkpoint but the first run's and the last one: only the shutdown can cover the new events.
        "REGISTRAR_TLOG_CHECKPOINT_SECONDS": "3600",
        "REGISTRAR_TLOG_HEARTBEAT_SECONDS": "3600",
        "REGISTRAR_CHECKPOINT_SECONDS": "3600",
        "REGISTRAR_MCP_REFRESH_SECONDS": "0",
        "REGISTRAR_DISCOVERY_ALLOW_HTTP": "true",
        "REGISTRAR_DISCOVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REGISTRAR_SHUTDOWN_TIMEOUT_SECONDS": "30",
        "PATH": "/usr/bin:/bin",
    }
    token = subprocess.run(
        registrar_command("tokens", "create", "--user", "ops@example.com"),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    answer: dict[str, Any] = {}
    with gated_site() as site, running_server(env, tmp_path, workers=workers) as server:
        wait_until(lambda: _log_state(database_url)[2] > 0, "the checkpoint job's first run")

        def register() -> None:
            answer["response"] = httpx2.post(
                f"{server.url}{MCP_SERVERS}",
                headers={"Authorization": f"SSWS {token}"},
                json={"resourceUrl": site.resource},
                timeout=120,
            )

        writer = threading.Thread(target=register)
        writer.start()
        assert site.arrived.wait(60), "the registration's discovery never reached the site"
        os.kill(server.process.pid, signal.SIGTERM)
        wait_until(lambda: "Shutting down" in server.output(), "the server to begin stopping")
        if workers == 1:  # (the workers' parent holds its socket until they have all stopped)
            wait_until(lambda: _refused(server), "the listening socket to close")
        before = _log_state(database_url)
        site.gate.set()
        writer.join(120)
        exit_code = server.process.wait(120)

    response = answer["response"]
    assert response.status_code == 201, response.text
    assert exit_code == 0, server.output()
    events, leaves, checkpoint = _log_state(database_url)
    assert before[0] < events  # the registration was written after the stop began ...
    assert checkpoint == leaves == events  # ... and the last checkpoint covers it
    assert _event_types(database_url)[-1] == "resource_servers.mcp_server.register"
    output = server.output()
    assert "Application shutdown complete" in output
    assert "Traceback" not in output and " ERROR " not in output
