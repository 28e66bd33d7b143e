"""Invariants 1 and 3: a change and its events commit together or not at all; one request, one txn id."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import Engine, select, text
from starlette.testclient import TestClient

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.services.resource_servers import servers
from registrar.store.database import GENESIS_HASH, is_sqlite
from registrar.store.schema import log_event_targets, log_events, log_head
from registrar.store.tokens import ALL_SCOPES

from ..api.test_api_servers import BASE, register

Events = Callable[[], list[dict[str, Any]]]


@contextmanager
def failing_event_log(engine: Engine) -> Iterator[None]:
    """Make every insert into the event log fail, as a full disk or a broken table would."""
    with engine.begin() as conn:
        if is_sqlite(conn):
            conn.execute(
                text(
                    "CREATE TRIGGER fail_event_log BEFORE INSERT ON log_events "
                    "BEGIN SELECT RAISE(ABORT, 'event log unavailable'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION fail_event_log() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'event log unavailable'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER fail_event_log BEFORE INSERT ON log_events "
                    "FOR EACH ROW EXECUTE FUNCTION fail_event_log()"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as conn:
            if is_sqlite(conn):
                conn.execute(text("DROP TRIGGER fail_event_log"))
            else:
                conn.execute(text("DROP TRIGGER fail_event_log ON log_events"))
                conn.execute(text("DROP FUNCTION fail_event_log()"))


def test_a_change_whose_event_cannot_be_written_is_rolled_back(
    client: TestClient, auth: dict[str, str], engine: Engine, events: Events
) -> None:
    kept = register(client, auth, "https://kept.example/")
    with failing_event_log(engine):
        created = client.post(
            BASE, json={"resourceUrl": "https://lost.example", "metadata": {"displayName": "L"}}, headers=auth
        )
        renamed = client.patch(
            f"{BASE}/{kept['id']}", json={"metadata": {"displayName": "Renamed"}}, headers=auth
        )
        activated = client.post(f"{BASE}/{kept['id']}/lifecycle/activate", headers=auth)
        deleted = client.delete(f"{BASE}/{kept['id']}", headers=auth)
    for response in (created, renamed, activated, deleted):
        assert response.status_code == 500
        assert response.json()["errorCode"] == "E0000009"
    listed = client.get(BASE, headers=auth).json()["data"]
    assert listed == [kept]
    assert [e["eventType"] for e in events()] == ["resource_servers.api_server.register"]


def test_events_of_one_request_share_its_transaction_id(
    client: TestClient, auth: dict[str, str], events: Events
) -> None:
    first = client.post(
        f"{BASE}?activate=true",
        json={"resourceUrl": "https://a.example", "metadata": {"displayName": "A"}},
        headers=auth,
    )
    second = client.post(
        f"{BASE}?activate=true",
        json={"resourceUrl": "https://b.example", "metadata": {"displayName": "B"}},
        headers=auth,
    )
    recorded = events()
    assert [e["transaction"]["id"] for e in recorded] == [first.headers["x-okta-request-id"]] * 2 + [
        second.headers["x-okta-request-id"]
    ] * 2
    assert len({e["uuid"] for e in recorded}) == 4


def _context(i: int) -> RequestContext:
    return RequestContext(
        request_id=f"req-{i}",
        actor=Actor("00u0000000000000test", "User", "t@example.com", "T"),
        client=ClientInfo("127.0.0.1", "threads"),
        request_uri=BASE,
        url=BASE,
        scopes=frozenset(ALL_SCOPES),
    )


def test_concurrent_writers_get_gap_free_sequences_and_an_intact_chain(app: FastAPI, engine: Engine) -> None:
    deps = app.state.deps

    def write(i: int) -> None:
        body = orjson.dumps({"resourceUrl": f"https://c{i}.example", "metadata": {"displayName": f"C{i}"}})
        servers("api").register(deps, _context(i), body, activate=i % 2 == 0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))
    with engine.connect() as conn:
        rows = conn.execute(select(log_events).order_by(log_events.c.seq)).all()
        head = conn.execute(select(log_head)).one()
        targets = conn.execute(select(log_event_targets.c.seq)).scalars().all()
    assert [r.seq for r in rows] == list(range(1, 61))
    prev = GENESIS_HASH
    for row in rows:
        assert row.prev_hash == prev
        assert row.hash == hashlib.sha256(bytes.fromhex(prev) + row.body.encode()).hexdigest()
        prev = row.hash
    assert (head.seq, head.hash) == (60, prev)
    assert sorted(targets) == [r.seq for r in rows]
    by_transaction: dict[str, list[str]] = {}
    for row in rows:
        by_transaction.setdefault(row.transaction_id, []).append(row.event_type)
    for i in range(0, 40, 2):
        assert by_transaction[f"req-{i}"] == [
            "resource_servers.api_server.register",
            "resource_servers.api_server.activate",
        ]
