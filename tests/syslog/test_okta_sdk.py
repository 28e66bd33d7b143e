"""The real ``okta`` SDK (3.4.6) reads the System Log through pages, filters, keywords and time bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from okta.client import Client as OktaClient
from okta.pagination import paginate_all

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, cli_token, running_server

EVENTS = 7


@pytest.fixture
def live(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LiveServer, str]]:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "PATH": "/usr/bin:/bin",
    }
    token = cli_token(env, tmp_path, "siem@example.com")
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with running_server(env, tmp_path) as server:
        for i in range(EVENTS):
            httpx2.post(
                f"{server.url}/resource-servers/api/v1/api-servers",
                headers={"Authorization": f"SSWS {token}"},
                json={
                    "resourceUrl": f"https://sdk-{i}.example/",
                    "metadata": {"displayName": f"sdk-target-{i}"},
                },
            ).raise_for_status()
        yield server, token


def _run(server: LiveServer, token: str, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    async def go() -> tuple[list[Any], list[Any]]:
        client = OktaClient({"orgUrl": server.url, "token": token})
        # paginate_all follows `next` until an empty page: a cursor that stops advancing would loop forever.
        bound = 2 * (EVENTS + 1)  # pages: more than a log of a few events needs, even at one event a page
        items = [event async for event in paginate_all(client.list_log_events, max_pages=bound, **kwargs)]
        events, _, error = await client.list_log_events(**{k: v for k, v in kwargs.items() if k != "limit"})
        assert error is None, error
        return items, events

    return asyncio.run(go())


def test_paginate_all_over_a_polling_query(live: tuple[LiveServer, str]) -> None:
    server, token = live
    items, _ = _run(server, token, limit=2, since="2000-01-01T00:00:00.000Z")
    # The log opens with the creation of the SDK's own token (by the CLI, as the system principal).
    created, *registered = items
    assert created.event_type == "system.api_token.create"
    assert created.actor.alternate_id == "system@registrar"
    assert len(registered) == EVENTS
    assert len({e.uuid for e in items}) == EVENTS + 1
    assert all(e.event_type == "resource_servers.api_server.register" for e in registered)
    assert all(e.actor.alternate_id == "siem@example.com" for e in registered)
    assert all(e.published.tzinfo is not None for e in items)


def test_paginate_all_with_filter_keyword_and_bounds(live: tuple[LiveServer, str]) -> None:
    server, token = live
    items, first_page = _run(
        server,
        token,
        limit=1,
        since="2000-01-01",
        until="2100-01-01T00:00:00Z",
        filter='eventType eq "resource_servers.api_server.register" and target.displayName sw "sdk-target"',
        q="sdk-target-3 register",
    )
    assert [e.target[0].display_name for e in items] == ["sdk-target-3"]
    assert [e.target[0].display_name for e in first_page] == ["sdk-target-3"]


def test_sdk_gets_okta_errors(live: tuple[LiveServer, str]) -> None:
    server, token = live

    async def go() -> Any:
        client = OktaClient({"orgUrl": server.url, "token": token})
        return await client.list_log_events(filter='eventType eqq "x"')

    data, _, error = asyncio.run(go())
    assert data is None
    assert error.status == 400
    assert error.error_code == "E0000053"
