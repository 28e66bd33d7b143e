"""Immutable System Log pages and tlog tiles are served from memory, and never differently from the log.

Every check compares the caching app with a second app on the same database that keeps nothing
(``page_cache_bytes=0``): what a fresh read gives is what the cache must give, byte for byte, headers too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event, select
from starlette.testclient import TestClient

from registrar.api import create_app
from registrar.config import Settings
from registrar.integrity.service import purge_now
from registrar.store.schema import log_head

from ..conftest import CLIENT_ADDRESS, MakeToken
from ..integrity.test_retention import backdate
from ..tlog.stored import append
from ..tlog.test_tamper import tampering, truncate
from .test_logs_api import LOGS, links, make_events

SINCE = "2000-01-01T00:00:00Z"
TILES = "/api/v1/logs/tlog/tile"


@pytest.fixture
def fresh(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A second app on the same database that keeps no page or tile: every answer is a fresh read."""
    app = create_app(replace(settings, page_cache_bytes=0), engine=engine)
    with TestClient(app, client=CLIENT_ADDRESS, raise_server_exceptions=False) as client:
        yield client


def read(client: TestClient, auth: dict[str, str], url: str) -> tuple[int, bytes, list[str]]:
    response = client.get(url, headers=auth)
    return response.status_code, response.content, response.headers.get_list("link")


def same_as_fresh(client: TestClient, fresh: TestClient, auth: dict[str, str], url: str) -> Any:
    """``url`` read twice through the caching app and once fresh: all three alike. Returns the response."""
    response = client.get(url, headers=auth)
    first = response.status_code, response.content, response.headers.get_list("link")
    assert first == read(client, auth, url) == read(fresh, auth, url)
    return response


def relative(url: str) -> str:
    return url.removeprefix("http://testserver")


def head(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(log_head.c.seq)).scalar_one())


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_repeated_full_page_is_not_read_from_the_log_again(
    app: FastAPI, client: TestClient, auth: dict[str, str], engine: Engine, statements: list[str]
) -> None:
    append(engine, 30)
    url = f"{LOGS}?since={SINCE}&limit=10"
    first = client.get(url, headers=auth)
    assert len(first.json()) == 10
    assert any("log_events.body" in s for s in statements)
    statements.clear()
    again = client.get(url, headers=auth)
    assert (again.content, again.headers.get_list("link")) == (first.content, first.headers.get_list("link"))
    # One indexed lookup checks that the log still backs the page; no event is read again.
    [lookup] = [s for s in statements if "log_events" in s]
    assert "LEFT OUTER JOIN log_events" in lookup
    assert "log_events.body" not in lookup
    assert app.state.read_cache.hits == 1


def test_filters_keywords_limits_and_cursors_never_share_a_page(
    client: TestClient, fresh: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    append(engine, 20)  # resource_servers.api_server.update
    make_events(client, auth, 6)  # resource_servers.api_server.register
    append(engine, 20, first=100)
    start = links(client.get(f"{LOGS}?since={SINCE}&limit=3", headers=auth))["next"]
    cursor = start.split("after=")[1].split("&")[0]
    variants = [
        f"after={cursor}&limit=5",
        f"after={cursor}&limit=6",
        f"after={cursor}&limit=5&filter=eventType+eq+%22resource_servers.api_server.register%22",
        f"after={cursor}&limit=5&filter=eventType+eq+%22resource_servers.api_server.update%22",
        f"after={cursor}&limit=5&q=Server",
        f"after={cursor}&limit=2&q=svc",
        f"since={SINCE}&limit=5",
        "since=2026-03-01T00:00:10Z&limit=5",
        f"since={SINCE}&after={cursor}&limit=5",
    ]
    bodies = {query: same_as_fresh(client, fresh, auth, f"{LOGS}?{query}").content for query in variants}
    for query in variants:  # each again, once all the others are kept
        assert read(client, auth, f"{LOGS}?{query}") == read(fresh, auth, f"{LOGS}?{query}")
    assert bodies[variants[0]] != bodies[variants[1]] != bodies[variants[2]] != bodies[variants[3]]
    assert bodies[variants[0]] == bodies[variants[-1]]  # `since` does not count once there is a cursor


def test_a_partial_page_at_the_head_is_not_kept_and_fills_later(
    client: TestClient, fresh: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    append(engine, 13)
    first = same_as_fresh(client, fresh, auth, f"{LOGS}?since={SINCE}&limit=10")
    next_url = relative(links(first)["next"])
    partial = same_as_fresh(client, fresh, auth, next_url)
    assert len(partial.json()) == 3
    append(engine, 10, first=13)
    filled = same_as_fresh(client, fresh, auth, next_url)
    assert len(filled.json()) == 10
    assert filled.json()[:3] == partial.json()


def test_links_are_built_for_each_request_origin(
    client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    append(engine, 12)
    query = f"/api/v1/logs?since={SINCE}&limit=5"
    one = client.get(f"http://one.example{query}", headers=auth)
    two = client.get(f"https://two.example:8443{query}", headers=auth)
    slash = client.get(f"http://one.example/api/v1/logs/?since={SINCE}&limit=5", headers=auth)
    assert one.content == two.content == slash.content
    assert links(one)["self"].startswith("http://one.example/api/v1/logs?")
    assert links(one)["next"].startswith("http://one.example/api/v1/logs?")
    assert links(two)["self"].startswith("https://two.example:8443/api/v1/logs?")
    assert links(two)["next"].startswith("https://two.example:8443/api/v1/logs?")
    assert links(slash)["next"].startswith("http://one.example/api/v1/logs/?")


def test_a_kept_page_needs_the_scope_like_any_other(
    client: TestClient, auth: dict[str, str], engine: Engine, make_token: MakeToken
) -> None:
    append(engine, 12)
    url = f"{LOGS}?since={SINCE}&limit=5"
    assert client.get(url, headers=auth).status_code == 200
    assert client.get(url, headers=auth).status_code == 200
    other = make_token("okta.resourceServers.apiServers.read", email="bob@example.com", display_name="Bob")
    response = client.get(url, headers={"Authorization": f"SSWS {other}"})
    assert response.status_code == 403


def test_pages_read_while_writers_append_match_fresh_reads(
    client: TestClient, fresh: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    def write() -> None:
        for batch in range(30):
            append(engine, 4, first=1000 + 4 * batch, per_transaction=2)

    writer = threading.Thread(target=write)
    writer.start()
    visited: list[str] = []
    seen: list[str] = []
    url = f"{LOGS}?since={SINCE}&limit=7"
    while True:
        writing = writer.is_alive()
        first = client.get(url, headers=auth)
        again = client.get(url, headers=auth)
        if len(first.json()) == 7:  # a full page never changes, whoever asks and when
            assert again.content == first.content
        visited.append(url)
        seen += [e["uuid"] for e in first.json()]
        rel = links(first)
        if not writing and rel["next"] == rel["self"]:
            break
        url = relative(rel["next"])
    writer.join()
    assert len(seen) == len(set(seen)) == 120
    for url in visited:  # and now, with every page kept that could be, each is what a fresh read gives
        assert read(client, auth, url) == read(fresh, auth, url)


def test_a_purge_is_never_hidden_by_a_kept_page(
    app: FastAPI, client: TestClient, fresh: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 258, prefix="old")
    backdate(engine, 258, 100)
    make_events(client, auth, 3, prefix="new")
    url = f"{LOGS}?since={SINCE}&limit=5"
    before = same_as_fresh(client, fresh, auth, url)
    assert purge_now(engine, settings, app.state.deps.org_id) == 256
    after = same_as_fresh(client, fresh, auth, url)
    assert after.content != before.content
    assert [e["target"][0]["displayName"] for e in after.json()][:2] == ["old 256", "old 257"]


def test_a_rewritten_log_is_never_hidden_by_a_kept_page_or_tile(
    client: TestClient, fresh: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    append(engine, 300)
    cursor_page = links(client.get(f"{LOGS}?since={SINCE}&limit=150", headers=auth))["next"]
    url = relative(cursor_page).replace("limit=150", "limit=5")
    before = same_as_fresh(client, fresh, auth, url)
    tiles = [f"{TILES}/0/000", f"{TILES}/entries/000"]
    kept = [same_as_fresh(client, fresh, auth, tile).content for tile in tiles]
    # Someone with database access cuts the log back and it grows again: other events in the same places.
    with tampering(engine) as conn:
        truncate(conn, 100)
    append(engine, 200, first=10_000)
    assert head(engine) == 300
    after = same_as_fresh(client, fresh, auth, url)
    assert after.content != before.content
    for tile, old in zip(tiles, kept, strict=True):
        assert same_as_fresh(client, fresh, auth, tile).content != old


def test_full_tiles_are_kept_partial_ones_never(
    app: FastAPI, client: TestClient, fresh: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    append(engine, 300)
    cache = app.state.read_cache
    for tile in (f"{TILES}/0/000", f"{TILES}/entries/000"):
        same_as_fresh(client, fresh, auth, tile)
    assert cache.hits == 2 and len(cache) == 2
    for tile in (f"{TILES}/0/001.p/44", f"{TILES}/entries/001.p/44"):
        same_as_fresh(client, fresh, auth, tile)
    assert cache.hits == 2 and len(cache) == 2
    assert client.get(f"{TILES}/0/001", headers=auth).status_code == 404  # not in the tree yet: not kept
    append(engine, 212, first=300)
    for tile in (f"{TILES}/0/001", f"{TILES}/entries/001", f"{TILES}/1/000.p/2"):
        same_as_fresh(client, fresh, auth, tile)


def test_a_purged_entry_bundle_is_not_served_from_memory(
    app: FastAPI, client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 258, prefix="old")
    backdate(engine, 258, 100)
    bundle = f"{TILES}/entries/000"
    assert client.get(bundle, headers=auth).status_code == 200
    assert client.get(bundle, headers=auth).status_code == 200
    assert purge_now(engine, settings, app.state.deps.org_id) == 256
    response = client.get(bundle, headers=auth)
    assert response.status_code == 404
    assert "pruned" in response.text
    assert client.get(f"{TILES}/0/000", headers=auth).status_code == 200  # hashes outlive a purge


def test_the_cache_keeps_to_its_byte_budget(settings: Settings, engine: Engine, auth: dict[str, str]) -> None:
    budget = 160 * 1024
    app = create_app(replace(settings, page_cache_bytes=budget), engine=engine)
    append(engine, 400)
    with TestClient(app, client=CLIENT_ADDRESS) as client:
        url = f"{LOGS}?since={SINCE}&limit=10"
        for _ in range(39):
            response = client.get(url, headers=auth)
            url = relative(links(response)["next"])
            assert app.state.read_cache.size_bytes <= budget
        assert 0 < len(app.state.read_cache) < 39
