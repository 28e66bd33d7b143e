"""Running a real ``registrar serve`` whose delivery job reaches a receiver on loopback, quickly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2

from ..conftest import TEST_SECRET_KEY
from ..live import cli_token

__all__ = ["api_client", "server_env", "server_token"]


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    """Settings for a live server: jobs on, loopback allowed, a fast poll, short timeouts and backoff."""
    return {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "PATH": "/usr/bin:/bin",
        "REGISTRAR_JOBS": "true",
        "REGISTRAR_DISCOVERY_ALLOW_HTTP": "true",
        "REGISTRAR_DISCOVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
        "REGISTRAR_HOOK_POLL_SECONDS": "0.05",
        "REGISTRAR_HOOK_BATCH_SIZE": "5",
        "REGISTRAR_HOOK_TIMEOUT_SECONDS": "1",
        "REGISTRAR_HOOK_BACKOFF_BASE_SECONDS": "0.05",
        "REGISTRAR_HOOK_BACKOFF_MAX_SECONDS": "0.2",
        **overrides,
    }


def server_token(env: dict[str, str], cwd: Path) -> str:
    """A token with every scope, made by ``registrar tokens create``."""
    return cli_token(env, cwd, "hooks@example.com")


def api_client(url: str, token: str) -> httpx2.Client:
    """An HTTP client for the live server's API."""
    return httpx2.Client(base_url=url, headers={"Authorization": f"SSWS {token}"}, timeout=30)


def register(api: httpx2.Client, count: int, prefix: str = "live") -> None:
    """Register ``count`` API servers: one event each."""
    for i in range(count):
        body: dict[str, Any] = {
            "resourceUrl": f"https://{prefix}-{i}.example/",
            "metadata": {"displayName": "x"},
        }
        api.post("/resource-servers/api/v1/api-servers", json=body).raise_for_status()


def logged_uuids(api: httpx2.Client) -> list[str]:
    """Every resource-server event's uuid, in the log's (commit) order (``tokens create`` writes one too)."""
    params = {"since": "2000-01-01T00:00:00Z", "limit": "1000", "filter": 'eventType sw "resource_servers"'}
    page = api.get("/api/v1/logs", params=params)
    page.raise_for_status()
    return [event["uuid"] for event in page.json()]
