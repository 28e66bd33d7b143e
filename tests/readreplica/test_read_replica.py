"""``REGISTRAR_READ_DATABASE_URL``: the System Log, tlog tiles and registry lists read from a real streaming
replica, through ``registrar serve`` processes; writes, tokens and everything else stay on the primary.

A replica lags: its replay is paused (``pg_wal_replay_pause()``) to make it lag on purpose. What it answers
is then the log as the primary had it earlier, never a page that moves a poller's cursor wrongly: a cursor,
tile or ``published`` window it has not replayed is waited for, then answered by the primary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from registrar.store.replica import APPLICATION_NAME, create_replica_engine
from registrar.store.schema import log_events, log_head

from ..live import LiveServer, cli_token, running_server, serve_env
from ..tlog.stored import append
from .conftest import Replica

SERVERS = "/resource-servers/api/v1/api-servers"
pytestmark = pytest.mark.timeout(180)


@dataclass
class Servers:
    """Two ``registrar serve`` on the test database: ``direct`` on the primary alone, ``http`` reading from
    the replica; a client on each, with the same token."""

    primary: LiveServer
    read: LiveServer
    token: str
    direct: httpx2.Client
    http: httpx2.Client


def client(server: LiveServer, token: str) -> httpx2.Client:
    return httpx2.Client(base_url=server.url, headers={"Authorization": f"SSWS {token}"}, timeout=60)


@contextmanager
def servers(replica: Replica, tmp_path: Path, wait: str = "0.5") -> Iterator[Servers]:
    """:class:`Servers`; the replica's server waits ``wait`` seconds for the replica to catch up."""
    plain = serve_env(replica.primary_url, tmp_path)
    token = cli_token(plain, tmp_path, "reader@example.com")
    reading = serve_env(
        replica.primary_url,
        tmp_path,
        REGISTRAR_READ_DATABASE_URL=replica.url,
        REGISTRAR_READ_REPLICA_WAIT_SECONDS=wait,
    )
    replica.catch_up()
    with ExitStack() as stack:
        primary = stack.enter_context(running_server(plain, tmp_path))
        read = stack.enter_context(running_server(reading, tmp_path))
        direct = stack.enter_context(client(primary, token))
        http = stack.enter_context(client(read, token))
        yield Servers(primary, read, token, direct, http)


def links(response: Any) -> dict[str, str]:
    return {v.split('rel="')[1][:-1]: v[1:].split(">")[0] for v in response.headers.get_list("link")}


def path_of(url: str) -> str:
    """A link's path and query, to follow it through another server."""
    return "/api/v1/logs" + url.split("/api/v1/logs", 1)[1]


def answered_by(http: httpx2.Client) -> dict[str, float]:
    """The server's ``registrar_replica_reads_total`` by who answered, from its ``/metrics``."""
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        sample.labels["answered_by"]: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "registrar_replica_reads_total"
    }


def moved(before: dict[str, float], after: dict[str, float], answered: str) -> float:
    return after.get(answered, 0.0) - before.get(answered, 0.0)


def register(http: httpx2.Client, name: str) -> str:
    body = {"resourceUrl": f"https://{name}.example/", "metadata": {"displayName": name}}
    response = http.post(SERVERS, json=body)
    assert response.status_code == 201, response.text  # a write: on the primary, or it would fail
    return str(response.json()["id"])


def listed(http: httpx2.Client, path: str = SERVERS) -> list[str]:
    """The ids a registry list shows."""
    response = http.get(path)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def stored_uuids(replica: Replica) -> list[str]:
    with replica.primary.connect() as conn:
        return list(conn.execute(select(log_events.c.uuid).order_by(log_events.c.seq)).scalars())


def caught_up_cursor(http: httpx2.Client) -> str:
    """The ``next`` link of a poll that has read to the end of the log (as the server answering sees it)."""
    url = "/api/v1/logs?since=2000-01-01T00:00:00Z&limit=1000"
    while True:
        response = http.get(url)
        response.raise_for_status()
        rel = links(response)
        if rel["next"] == rel["self"]:
            return path_of(rel["next"])
        url = path_of(rel["next"])


def test_writes_on_the_primary_become_visible_through_the_replica(replica: Replica, tmp_path: Path) -> None:
    with servers(replica, tmp_path) as both:
        http = both.http
        server_id = register(http, "visible")
        orn = http.get(f"{SERVERS}/{server_id}").json()["orn"]
        settings = http.post(
            "/resource-servers/api/v1/client-auth-settings",
            json={
                "name": "visible",
                "resourceOrn": orn,
                "configuration": {
                    "clientId": "client-1",
                    "clientSecret": "s3cret",
                    "tokenEndpointAuthMethod": "client_secret_basic",
                },
            },
        )
        assert settings.status_code == 201, settings.text
        replica.catch_up()
        assert listed(http) == [server_id]
        assert listed(http, "/resource-servers/api/v1/client-auth-settings") == [settings.json()["id"]]
        events = http.get("/api/v1/logs?since=2000-01-01T00:00:00Z").json()
        assert [e["uuid"] for e in events] == stored_uuids(replica)
        assert [e["eventType"] for e in events][-2:] == [
            "resource_servers.api_server.register",
            "resource_servers.client_authentication_settings.create",
        ]


def test_reads_are_served_by_the_replica(replica: Replica, tmp_path: Path) -> None:
    with servers(replica, tmp_path) as both:
        http = both.http
        register(http, "before")
        replica.catch_up()
        cursor = caught_up_cursor(http)
        with replica.paused():
            server_id = register(http, "during")  # on the primary; the replica does not replay it
            assert server_id in listed(both.direct)
            assert len(both.direct.get(cursor).json()) == 1
            # The replica answers: the list and the log as it has them, the cursor kept where it was.
            before = answered_by(http)
            assert server_id not in listed(http)
            page = http.get(cursor)
            assert page.json() == []
            assert links(page)["next"] == links(page)["self"]
            after = answered_by(http)
            assert moved(before, after, "replica") >= 2  # the list and the page, counted in /metrics
            assert {moved(before, after, other) for other in ("primary_behind", "primary_failed")} == {0}
            with replica.admin.connect() as conn:
                sessions = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": APPLICATION_NAME},
                ).scalar_one()
            assert sessions >= 1
        replica.catch_up()
        assert server_id in listed(http)
        assert [e["target"][0]["id"] for e in http.get(cursor).json()] == [server_id]


def test_a_cursor_the_replica_has_not_replayed_is_answered_by_the_primary(
    replica: Replica, tmp_path: Path
) -> None:
    with servers(replica, tmp_path) as both, replica.paused():
        register(both.direct, "one")
        ahead = caught_up_cursor(both.direct)  # a position only the primary has
        later = [register(both.direct, f"later-{i}") for i in range(3)]
        assert replica.head() < replica.head(replica.primary)
        before = answered_by(both.http)
        page = both.http.get(ahead)
        assert page.status_code == 200, page.text  # not a 400 for a cursor "past the end"
        assert moved(before, answered_by(both.http), "primary_behind") == 1  # and /metrics says why
        assert [e["target"][0]["id"] for e in page.json()] == later
        assert path_of(links(page)["next"]) == path_of(links(both.direct.get(ahead))["next"])
        # A cursor past the primary's head too is a 400, as without a replica.
        head = replica.head(replica.primary)
        beyond = both.http.get(f"/api/v1/logs?after=1700000000000_{head + 1}")
        assert beyond.status_code == 400
        assert beyond.json()["errorCode"] == "E0000001"


def test_a_lagging_replica_is_waited_for(replica: Replica, tmp_path: Path) -> None:
    with servers(replica, tmp_path, wait="100") as both:
        register(both.direct, "one")
        replica.catch_up()
        with ThreadPoolExecutor(1) as pool, replica.paused():
            skipped = register(both.direct, "two")
            ahead = caught_up_cursor(both.direct)
            last = register(both.direct, "three")
            answer = pool.submit(both.http.get, ahead)
            time.sleep(1)
            assert not answer.done()  # waiting for the replica, not answered by the primary
            replica.resume()
            page = answer.result()
        assert page.status_code == 200
        assert [e["target"][0]["id"] for e in page.json()] == [last]
        assert skipped not in page.text


def test_polling_through_a_lagging_replica_sees_every_event_once_in_order(
    replica: Replica, tmp_path: Path
) -> None:
    with servers(replica, tmp_path, wait="0.3") as both:
        done = threading.Event()

        def lag() -> None:  # the replica falls behind and catches up, again and again
            while not done.is_set():
                with replica.paused():
                    time.sleep(0.2)
                time.sleep(0.1)

        def write(server: LiveServer, writer: int, n: int) -> None:
            with client(server, both.token) as http:
                for i in range(n):
                    register(http, f"w{writer}-{i}")

        lagging = threading.Thread(target=lag)
        lagging.start()
        seen: list[str] = []
        try:
            with ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(write, (both.primary, both.read)[w % 2], w, 15) for w in range(4)]
                url, turn = "/api/v1/logs?since=2000-01-01T00:00:00Z&limit=7", 0
                while True:
                    writing = not all(f.done() for f in futures)
                    # Mostly through the replica; every third link through the primary, whose cursors the
                    # replica may not have replayed yet.
                    http = both.direct if turn % 3 == 2 else both.http
                    response = http.get(url)
                    assert response.status_code == 200, response.text
                    seen += [e["uuid"] for e in response.json()]
                    rel = links(response)
                    url, turn = path_of(rel["next"]), turn + 1
                    # Only the primary can tell that the log has no more: the replica may lag.
                    if not writing and http is both.direct and rel["next"] == rel["self"]:
                        break
                for future in futures:
                    future.result()
        finally:
            done.set()
            lagging.join()
        assert seen == stored_uuids(replica)  # every event, once, in log order
        assert len(seen) == 4 * 15 + 1  # the registrations, and the token's creation


def test_a_published_window_is_answered_as_the_primary_would(replica: Replica, tmp_path: Path) -> None:
    with servers(replica, tmp_path) as both:
        for i in range(3):
            register(both.direct, f"old-{i}")
        replica.catch_up()
        newest = both.direct.get("/api/v1/logs", params={"sortOrder": "DESCENDING", "limit": "1"})
        with replica.paused():
            time.sleep(0.01)  # the next events are published later than the replica's newest
            fresh = [register(both.direct, f"new-{i}") for i in range(2)]
            now = datetime.now(UTC)
            windows = [
                # Ending after the replica's newest event: the primary's newer events belong in it.
                {
                    "since": (now - timedelta(hours=1)).isoformat(),
                    "until": (now + timedelta(hours=1)).isoformat(),
                },
                {"sortOrder": "DESCENDING", "limit": "3"},
                # Ending at it: the replica has all of it, and answers alone.
                {"since": "2000-01-01T00:00:00Z", "until": newest.json()[0]["published"]},
            ]
            for window in windows:
                through_replica = both.http.get("/api/v1/logs", params=window)
                expected = both.direct.get("/api/v1/logs", params=window)
                assert through_replica.status_code == expected.status_code == 200
                assert through_replica.json() == expected.json()
            recent = both.http.get("/api/v1/logs", params=windows[1]).json()
            assert [e["target"][0]["id"] for e in recent[:2]] == fresh[::-1]


def test_tiles_the_replica_lacks_come_from_the_primary(replica: Replica, tmp_path: Path) -> None:
    with servers(replica, tmp_path) as both, replica.paused():
        append(replica.primary, 300)
        assert replica.head() < 256
        for tile in ("0/000", "entries/000", "0/001.p/44"):
            through_replica = both.http.get(f"/api/v1/logs/tlog/tile/{tile}")
            assert through_replica.status_code == 200, through_replica.text
            assert through_replica.content == both.direct.get(f"/api/v1/logs/tlog/tile/{tile}").content
        assert both.http.get("/api/v1/logs/tlog/tile/0/001").status_code == 404  # nowhere yet


def test_the_replica_engine_never_writes(replica: Replica) -> None:
    # Even pointed at the primary, the read engine's sessions refuse writes.
    for url in (replica.primary_url, replica.url):
        engine = create_replica_engine(url)
        try:
            with pytest.raises(DBAPIError, match="read-only transaction"), engine.begin() as conn:
                conn.execute(insert(log_head).values(singleton=2, seq=0, hash="0" * 64))
            with engine.connect() as conn:
                assert conn.execute(text("SHOW default_transaction_read_only")).scalar_one() == "on"
        finally:
            engine.dispose()
