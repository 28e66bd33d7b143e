"""Event hook fixtures: settings that let hooks reach loopback, a real receiver, a steppable clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.hooks import HookDelivery, wall_clock_ms
from registrar.services.deps import Deps

from ..conftest import TEST_SECRET_KEY
from .receiver import Receiver

AUTH_VALUE = "Bearer PLANTED-hook-secret-5e1f0c"
ALL_TYPES = (
    "resource_servers.api_server.register",
    "resource_servers.api_server.activate",
    "resource_servers.api_server.update",
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The suite's settings, plus loopback allowed for hooks and a small batch size, timeout and backoff."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        secret_key_file=tmp_path / "unused.key",
        rate_limit_per_minute=100_000,
        jobs_enabled=False,
        discovery_allow_http=True,
        discovery_allowed_networks=("127.0.0.0/8",),
        hook_batch_size=5,
        hook_timeout_seconds=5.0,
        hook_backoff_base_seconds=1.0,
        hook_backoff_max_seconds=8.0,
        hook_pause_after_seconds=60.0,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


class Clock:
    """A frozen clock the test moves forward: backoff and pauses without sleeping, and exact figures.

    It starts a minute ahead of the wall clock, so whatever the API stamps with the real time during a
    test (a hook's creation, a resume) is already in its past.
    """

    def __init__(self) -> None:
        self.now_ms = wall_clock_ms() + 60_000

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deps(app: FastAPI) -> Deps:
    deps: Deps = app.state.deps
    return deps


@pytest.fixture
def delivery(deps: Deps, clock: Clock) -> Iterator[HookDelivery]:
    """The delivery worker the server's job runs, driven by the test one claim at a time."""
    worker = HookDelivery(deps, clock=clock)
    yield worker
    worker.close()


def hook_body(
    uri: str,
    *,
    items: tuple[str, ...] = ALL_TYPES,
    name: str = "SIEM",
    auth: str | None = AUTH_VALUE,
    headers: tuple[tuple[str, str], ...] = (("X-Other-Header", "my-header-value"),),
) -> dict[str, Any]:
    """An Okta ``EventHook`` create body."""
    config: dict[str, Any] = {"uri": uri, "headers": [{"key": k, "value": v} for k, v in headers]}
    if auth is not None:
        config["authScheme"] = {"type": "HEADER", "key": "Authorization", "value": auth}
    return {
        "name": name,
        "events": {"type": "EVENT_TYPE", "items": list(items)},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": config},
    }


@dataclass
class Hooks:
    """Admin calls on ``/api/v1/eventHooks`` and event-producing calls, through the test client."""

    client: TestClient
    auth: dict[str, str]

    def create(self, uri: str, **kwargs: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/eventHooks", headers=self.auth, json=hook_body(uri, **kwargs))
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created

    def lifecycle(self, hook_id: str, action: str, **kwargs: Any) -> Any:
        return self.client.post(
            f"/api/v1/eventHooks/{hook_id}/lifecycle/{action}", headers=self.auth, **kwargs
        )

    def get(self, hook_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/eventHooks/{hook_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        got: dict[str, Any] = response.json()
        return got

    def ready(self, uri: str, **kwargs: Any) -> dict[str, Any]:
        """A created and verified hook (ACTIVE and VERIFIED: it receives events)."""
        hook = self.create(uri, **kwargs)
        response = self.lifecycle(hook["id"], "verify")
        assert response.status_code == 200, response.text
        verified: dict[str, Any] = response.json()
        assert verified["verificationStatus"] == "VERIFIED"
        return verified

    def register(self, count: int, *, activate: bool = False, prefix: str = "srv") -> None:
        """Register ``count`` API servers: one event each (two with ``activate``)."""
        for i in range(count):
            response = self.client.post(
                "/resource-servers/api/v1/api-servers" + ("?activate=true" if activate else ""),
                headers=self.auth,
                json={
                    "resourceUrl": f"https://{prefix}-{i}.example/",
                    "metadata": {"displayName": f"{prefix}-{i}"},
                },
            )
            assert response.status_code == 201, response.text


@pytest.fixture
def hooks(client: TestClient, auth: dict[str, str]) -> Hooks:
    return Hooks(client, auth)


def drain(worker: HookDelivery, *, attempts: int = 1000) -> None:
    """Run claims until nothing is due (bounded, so a bug shows as a failure rather than a hang)."""
    for _ in range(attempts):
        if worker.run_once() is None:
            return
    raise AssertionError("delivery never ran out of due work")


StoredEvents = Callable[[], list[dict[str, Any]]]
