"""The scheduled refresh: the system actor's JOB events, and one refresh per server per interval across
replicas (each claims the server in the database first)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.jobs.mcp_refresh import refresh_due_servers
from registrar.services.deps import Deps
from registrar.store.database import create_database_engine

from ..api.test_mcp_servers import register
from .servers import MetadataSite
from .test_refresh import Remote


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, discovery_allow_http=True, discovery_allowed_networks=("127.0.0.0/8",))


@pytest.fixture
def remote(site: MetadataSite) -> Remote:
    return Remote(site)


Events = Callable[[], list[dict[str, Any]]]


def test_the_job_refreshes_as_the_system_and_once_per_interval(
    client: TestClient,
    auth: dict[str, str],
    events: Events,
    remote: Remote,
    app: FastAPI,
) -> None:
    deps: Deps = app.state.deps
    server = register(client, auth, remote.publish())
    remote.fields = {"resource_name": "renamed tools", "scopes_supported": ["read"]}
    remote.publish()
    before = len(events())
    assert refresh_due_servers(deps, interval_s=3600) == 1
    (event,) = events()[before:]
    assert event["eventType"] == "resource_servers.mcp_server.update"
    assert event["target"][0]["id"] == server["id"]
    assert event["actor"]["type"] == "SystemPrincipal"
    assert event["transaction"]["type"] == "JOB"
    assert event["client"]["ipAddress"] is None
    remote.fields = {"resource_name": "again", "scopes_supported": ["read"]}
    remote.publish()
    assert refresh_due_servers(deps, interval_s=3600) == 0  # refreshed within the interval: not due
    assert refresh_due_servers(deps, interval_s=0) == 1


def test_replicas_refresh_each_server_once(
    client: TestClient,
    auth: dict[str, str],
    remote: Remote,
    app: FastAPI,
) -> None:
    deps: Deps = app.state.deps
    for i in range(3):
        register(client, auth, remote.site.resource(remote.issuers, path=f"/mcp{i}", resource_name="t"))
    replicas = [replace(deps, engine=create_database_engine(deps.settings.database_url)) for _ in range(3)]
    barrier = threading.Barrier(len(replicas))

    def run(replica: Deps) -> int:
        barrier.wait()
        return refresh_due_servers(replica, interval_s=3600)

    with ThreadPoolExecutor(len(replicas)) as pool:
        counts = list(pool.map(run, replicas))
    for replica in replicas:
        replica.engine.dispose()
    assert sum(counts) == 3
