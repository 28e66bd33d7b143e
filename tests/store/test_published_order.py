"""Invariant 5: in log order ``published`` never decreases, so a poller resuming by ``since`` misses nothing.

``published`` (and ``seq``) are stamped while the log head is locked, never earlier than the last published
time the head remembers: concurrent writers, a wall clock stepping back and a log written before the head
remembered anything all leave ``published`` monotonic in ``seq`` order, and the indexed ``published_ms``
column names the same millisecond as the stored bytes.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Engine, select

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events.builder import build_event
from registrar.events.catalog import API_SERVER_UPDATE, api_server_target
from registrar.ids import format_timestamp
from registrar.store.eventlog import append_events, append_history
from registrar.store.schema import log_events, log_head
from registrar.store.uow import unit_of_work

WRITERS = 8
TRANSACTIONS = 40  # per writer: 320 transactions, 480 events


def _context(name: str) -> RequestContext:
    return RequestContext(
        request_id=name,
        actor=Actor("00u0000000000000test", "User", "test@example.com", "Test"),
        client=ClientInfo("127.0.0.1", "tests"),
        request_uri="/",
        url="/",
    )


def _target(i: int) -> dict[str, object]:
    return api_server_target(f"aps{i:017d}", f"https://api.example.com/{i}", f"Server {i}")


def _log(engine: Engine) -> list[tuple[int, int, dict[str, object]]]:
    """``(seq, published_ms, body)`` of every event, in log order."""
    query = select(log_events.c.seq, log_events.c.published_ms, log_events.c.body).order_by(log_events.c.seq)
    with engine.connect() as conn:
        return [(row.seq, row.published_ms, orjson.loads(row.body)) for row in conn.execute(query)]


def _head_published_ms(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(log_head.c.published_ms)).scalar_one())


def _assert_in_commit_order(engine: Engine) -> list[int]:
    """Every event's column equals its body's ``published``; both never decrease in ``seq`` order."""
    log = _log(engine)
    for _, published_ms, body in log:
        moment = datetime.fromtimestamp(published_ms / 1000, UTC)
        assert body["published"] == format_timestamp(moment)
    stamps = [published_ms for _, published_ms, _ in log]
    backwards = [(a, b) for a, b in itertools.pairwise(stamps) if b < a]
    assert not backwards, f"{len(backwards)} of {len(stamps)} events published before their predecessor"
    assert _head_published_ms(engine) == stamps[-1]
    return stamps


def test_concurrent_writers_publish_in_commit_order(engine: Engine) -> None:
    """8 writers, each queueing events and then doing more work before commit (as services do)."""
    start = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        rng = random.Random(n)
        ctx = _context(f"writer-{n}")
        start.wait()
        for i in range(TRANSACTIONS):
            with unit_of_work(engine, ctx) as uow:
                uow.record(API_SERVER_UPDATE, [_target(n * 1000 + i)])
                if i % 3 == 0:
                    uow.record(API_SERVER_UPDATE, [_target(n * 1000 + i)])
                # The rest of the transaction (resource writes) runs after the event is queued.
                time.sleep(rng.random() * 0.004)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    stamps = _assert_in_commit_order(engine)
    assert len(stamps) == WRITERS * (TRANSACTIONS + len(range(0, TRANSACTIONS, 3)))


def _clock(times: list[datetime]) -> Iterator[datetime]:
    yield from times


def test_a_clock_stepping_back_does_not_move_published_back(engine: Engine) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    readings = [now, now + timedelta(seconds=5), now - timedelta(hours=1), now + timedelta(seconds=6)]
    clock = _clock(readings)
    for i in range(len(readings)):
        with engine.begin() as conn:
            events = [build_event(API_SERVER_UPDATE, _context("clock"), [_target(i)], now) for _ in range(2)]
            append_events(conn, events, clock=lambda: next(clock))
    stamps = _assert_in_commit_order(engine)
    step = int(timedelta(seconds=5) / timedelta(milliseconds=1))
    base = int(now.timestamp() * 1000)
    # The step back is held at the latest time seen, then the clock catches up.
    assert stamps == [base] * 2 + [base + step] * 4 + [base + step + 1000] * 2


def test_new_events_go_after_an_unordered_history(engine: Engine) -> None:
    """A log written before the head remembered ``published`` may be unordered; what follows is not."""
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    history = [t0 + timedelta(seconds=s) for s in (0, 600, 3)]
    with engine.begin() as conn:
        append_history(
            conn, [(build_event(API_SERVER_UPDATE, _context("old"), [_target(0)], t), t) for t in history]
        )
    assert _head_published_ms(engine) == int(history[1].timestamp() * 1000)
    with engine.begin() as conn:
        event = build_event(API_SERVER_UPDATE, _context("new"), [_target(1)], t0)
        append_events(conn, [event], clock=lambda: t0 + timedelta(seconds=10))
    assert [ms for _, ms, _ in _log(engine)][-1] == int(history[1].timestamp() * 1000)
    assert event["published"] == format_timestamp(history[1])
