"""Read-path shortcuts keep their answers: a poll's first page, and target filters next to an event type.

A first page (``since``, no cursor) starts where the events published at or after ``since`` do, looked up
in the ``(published_ms, seq)`` index rather than by walking the log from its first event; commit order is
not ``published`` order, so an event committed early but published late must still be on the page. And
``eventType eq X`` narrows ``target.*`` lookups to the target rows of type X.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events.builder import build_event
from registrar.events.catalog import API_SERVER_ACTIVATE, API_SERVER_UPDATE, api_server_target
from registrar.store.eventlog import append_history
from registrar.syslog.query import parse_query
from registrar.syslog.reader import read_page

from ..conftest import stored_events

T0 = datetime(2026, 3, 1, tzinfo=UTC)
COUNT = 120


def _append(engine: Engine) -> None:
    """COUNT events one second apart in commit order, a few of them published minutes late."""
    ctx = RequestContext(
        request_id="first-page",
        actor=Actor("00u0000000000000test", "User", "test@example.com", "Test"),
        client=ClientInfo("127.0.0.1", "tests"),
        request_uri="/",
        url="/",
    )
    late = set(random.Random(7).sample(range(COUNT), 8)) | {3, 5}
    events = []
    for i in range(COUNT):
        published = T0 + timedelta(seconds=i + (600 if i in late else 0))
        target = api_server_target(f"aps{i:017d}", f"https://api.example.com/{i}", f"Server {i}")
        events.append((build_event(API_SERVER_UPDATE, ctx, [target], published), published))
    with engine.begin() as conn:
        append_history(conn, events)


@pytest.mark.parametrize("offset", [-10, 0, 4, 100, 119, 700])
@pytest.mark.parametrize(
    "extra", [{}, {"q": "update"}, {"filter": 'eventType eq "' + API_SERVER_UPDATE.name + '"'}]
)
def test_first_page_holds_every_event_published_since(
    engine: Engine, offset: int, extra: dict[str, str]
) -> None:
    _append(engine)
    since = T0 + timedelta(seconds=offset)
    expected = [
        e["uuid"] for e in stored_events(engine) if e["published"] >= since.strftime("%Y-%m-%dT%H:%M:%S")
    ]
    for limit in (5, 1000):
        params = {"since": since.isoformat(), "limit": str(limit), **extra}
        page = read_page(engine, parse_query(params))
        assert [orjson.loads(body)["uuid"] for body in page.bodies] == expected[:limit]
        if len(expected) > limit:
            # The cursor names the last event of the page: the next page resumes after it.
            assert page.next_cursor is not None
            assert page.next_cursor.seq == 1 + [e["uuid"] for e in stored_events(engine)].index(
                expected[limit - 1]
            )


SERVERS = [f"aps{i:017d}" for i in range(3)]


def _targets_events(engine: Engine) -> None:
    """Events of two types over three API servers: the first busy, some events naming two servers."""
    ctx = RequestContext(
        request_id="targets",
        actor=Actor("00u0000000000000test", "User", "test@example.com", "Test"),
        client=ClientInfo("127.0.0.1", "tests"),
        request_uri="/",
        url="/",
    )
    targets = [api_server_target(s, f"https://api.example.com/{s}", s) for s in SERVERS]
    events = []
    for i in range(60):
        published = T0 + timedelta(seconds=i)
        named = [targets[0]] if i % 2 else [targets[1 + i % 4 // 2]]
        if i % 5 == 0:
            named.append(targets[0])
        etype = API_SERVER_UPDATE if i % 3 else API_SERVER_ACTIVATE
        events.append((build_event(etype, ctx, named, published), published))
    with engine.begin() as conn:
        append_history(conn, events)


def _is_update(event: dict[str, Any]) -> bool:
    return bool(event["eventType"] == API_SERVER_UPDATE.name)


def _ids(event: dict[str, Any]) -> list[str]:
    return [target["id"] for target in event["target"]]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('eventType eq "{t}" and target.id eq "{a}"', lambda e: _is_update(e) and SERVERS[0] in _ids(e)),
        ('target.id eq "{a}" and eventType eq "{t}"', lambda e: _is_update(e) and SERVERS[0] in _ids(e)),
        (
            'eventType eq "{t}" and not (target.id eq "{a}")',
            lambda e: _is_update(e) and SERVERS[0] not in _ids(e),
        ),
        (
            'eventType eq "{t}" and (target.id eq "{b}" or target.type eq "X")',
            lambda e: _is_update(e) and SERVERS[1] in _ids(e),
        ),
        (
            'eventType eq "{t}" and target.id ne "{a}"',
            lambda e: _is_update(e) and any(i != SERVERS[0] for i in _ids(e)),
        ),
        ('eventType eq "{t}" or target.id eq "{a}"', lambda e: _is_update(e) or SERVERS[0] in _ids(e)),
    ],
)
def test_target_filters_next_to_an_event_type(
    engine: Engine, template: str, expected: Callable[[dict[str, Any]], bool]
) -> None:
    """``eventType eq`` narrows the target lookups to that type's rows; the results are those without."""
    _targets_events(engine)
    text = template.format(t=API_SERVER_UPDATE.name, a=SERVERS[0], b=SERVERS[1])
    page = read_page(engine, parse_query({"since": T0.isoformat(), "limit": "1000", "filter": text}))
    matching = [e["uuid"] for e in stored_events(engine) if expected(e)]
    assert matching
    assert [orjson.loads(body)["uuid"] for body in page.bodies] == matching
