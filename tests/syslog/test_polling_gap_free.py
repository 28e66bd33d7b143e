"""Invariant 5: a poller that follows ``next`` links sees every committed event exactly once.

Writers commit concurrently, each holding its transaction open for a random moment after its events are
written, so commits land in an order that differs from the order the writers started in.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import Engine, event
from starlette.testclient import TestClient

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.services.resource_servers import servers
from registrar.store.tokens import ALL_SCOPES

from ..conftest import stored_events
from .test_logs_api import LOGS, links

WRITERS = 6
WRITES_EACH = 25


def _context(writer: int, i: int) -> RequestContext:
    return RequestContext(
        request_id=f"w{writer}-{i}",
        actor=Actor("00u00000000000writer", "User", "writer@example.com", "Writer"),
        client=ClientInfo("127.0.0.1", "writer"),
        request_uri="/",
        url="/",
        scopes=frozenset(ALL_SCOPES),
    )


def test_polling_sees_every_event_exactly_once(
    app: FastAPI, engine: Engine, client: TestClient, auth: dict[str, str]
) -> None:
    deps = app.state.deps
    rng = random.Random(7)

    @event.listens_for(engine, "commit")
    def _linger(_conn: Any) -> None:
        time.sleep(rng.random() * 0.004)  # keep the transaction (and its events) uncommitted a little longer

    def write(writer: int) -> None:
        for i in range(WRITES_EACH):
            body = orjson.dumps(
                {"resourceUrl": f"https://w{writer}-{i}.example", "metadata": {"displayName": "W"}}
            )
            servers("api").register(deps, _context(writer, i), body, activate=i % 3 == 0)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    seen: list[str] = []
    url = f"{LOGS}?limit=7"
    for thread in threads:
        thread.start()
    writing = True
    while writing:
        writing = any(t.is_alive() for t in threads)
        response = client.get(url.removeprefix("http://testserver"), headers=auth)
        assert response.status_code == 200
        seen += [e["uuid"] for e in response.json()]
        url = links(response)["next"]
    while True:  # drain after the last commit
        response = client.get(url.removeprefix("http://testserver"), headers=auth)
        seen += [e["uuid"] for e in response.json()]
        if links(response)["next"] == links(response)["self"]:
            break
        url = links(response)["next"]
    event.remove(engine, "commit", _linger)
    committed = [e["uuid"] for e in stored_events(engine)]
    assert len(committed) == WRITERS * WRITES_EACH + len(range(0, WRITES_EACH, 3)) * WRITERS
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == set(committed), f"{len(set(committed) - set(seen))} events were skipped"
    assert seen == committed  # and in commit order
