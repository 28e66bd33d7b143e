"""No remote server can starve the others (invariant 9): discovery runs on a bounded capacity of its own.

A real ``registrar serve`` faces 40 registrations of an MCP server that hangs: at most 8 discoveries run
(at most 2 per token), the rest wait briefly and get Okta's 429 ``E0000047`` without an event, and
``GET /api/v1/logs`` answers while the 8 are still hanging, because they hold none of the threads the
other endpoints share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine

from registrar.store.tokens import ALL_SCOPES

from ..conftest import TEST_SECRET_KEY, MakeToken, stored_events
from ..discovery.servers import MetadataSite, Reply
from ..live import LiveServer, running_server

BASE = "/resource-servers/api/v1/mcp-servers"
HANG = 60.0  # seconds the MCP server takes to answer (cut short by ``site.reset()``)


@pytest.fixture
def site() -> Iterator[MetadataSite]:
    site = MetadataSite()
    with site.serve():
        yield site


@pytest.fixture
def server(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[LiveServer]:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DATA_DIR": str(tmp_path / "data"),
        "REGISTRAR_JOBS": "false",
        "REGISTRAR_DISCOVERY_ALLOW_HTTP": "true",
        "REGISTRAR_DISCOVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REGISTRAR_DISCOVERY_CONCURRENCY": "8",
        "REGISTRAR_DISCOVERY_CONCURRENCY_PER_TOKEN": "2",
        "REGISTRAR_DISCOVERY_QUEUE_SECONDS": "0.5",
        "PATH": "/usr/bin:/bin",
    }
    with running_server(env, tmp_path) as live:
        yield live


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG / 2
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.02)


def _post(url: str, token: str, path: str, body: object = None) -> httpx2.Response:
    headers = {"Authorization": f"SSWS {token}"}
    return httpx2.post(url + path, json=body, headers=headers, timeout=HANG * 2)


def test_hanging_discoveries_leave_the_log_api_answering(
    server: LiveServer, site: MetadataSite, make_token: MakeToken, engine: Engine
) -> None:
    resource = site.url("/mcp")
    site.reply("/mcp", Reply(status=401, delay=HANG))
    admins = [make_token(*ALL_SCOPES, email=f"admin{i}@example.com") for i in range(10)]
    reader = make_token("okta.logs.read", email="reader@example.com")
    body = {"resourceUrl": resource, "metadata": {"displayName": "Slow"}}
    with ThreadPoolExecutor(40) as pool:
        registrations = [pool.submit(_post, server.url, admins[i % 10], BASE, body) for i in range(40)]

        def finished() -> list[Future[httpx2.Response]]:
            return [f for f in registrations if f.done()]

        # Every registration is either hanging at the remote server or already refused.
        _wait_until(lambda: len(site.requests) + len(finished()) >= 40)
        # Half the time discovery gives a remote server (10 s): a starved reader would wait all of it.
        logs = httpx2.get(f"{server.url}/api/v1/logs", headers={"Authorization": f"SSWS {reader}"}, timeout=5)
        assert logs.status_code == 200, logs.text
        hanging = [f for f in registrations if not f.done()]
        assert len(hanging) == 8, "the log API answered only after the discoveries"
        assert len(site.requests) == 8, "more discoveries ran than the global bound allows"
        for refused in (f.result() for f in finished()):
            assert refused.status_code == 429, refused.text
            error = refused.json()
            assert error["errorCode"] == "E0000047"
            assert error["errorCauses"][0]["errorSummary"].startswith("Too many MCP discoveries in progress")
        site.reset()  # the slow server answers now (and discovery fails: nothing is there any more)
        outcomes = [f.result().status_code for f in hanging]
    assert outcomes == [400] * 8
    # Invariant 2: each failed registration wrote its FAILURE event; the 429s (rate limiting) wrote none.
    written = [(e["eventType"], e["outcome"]["result"]) for e in stored_events(engine)]
    assert written == [("resource_servers.mcp_server.register", "FAILURE")] * 8


def test_refresh_is_bounded_per_token(
    server: LiveServer, site: MetadataSite, make_token: MakeToken, engine: Engine
) -> None:
    issuer = site.issuer("/as")
    resource = site.resource([issuer])
    admin = make_token(*ALL_SCOPES)
    created = _post(server.url, admin, BASE, {"resourceUrl": resource, "metadata": {"displayName": "M"}})
    assert created.status_code == 201, created.text
    refresh = f"{BASE}/{created.json()['id']}/discovery"
    site.requests.clear()
    site.reply("/mcp", Reply(status=401, delay=HANG))
    with ThreadPoolExecutor(3) as pool:
        refreshes = [pool.submit(_post, server.url, admin, refresh) for _ in range(3)]
        _wait_until(lambda: sum(f.done() for f in refreshes) == 1)
        (refused,) = [f.result() for f in refreshes if f.done()]
        assert refused.status_code == 429, refused.text
        assert "2 per API token" in refused.json()["errorCauses"][0]["errorSummary"]
        assert [path for path, _ in site.requests] == ["/mcp", "/mcp"]
        site.reset()
        assert sorted(f.result().status_code for f in refreshes) == [200, 200, 429]
