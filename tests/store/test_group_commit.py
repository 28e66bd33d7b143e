"""Group commit: concurrent audited operations share a transaction and a commit, and every invariant holds.

Each test holds the first operation inside its unit of work until the others have queued behind it, so
that they are bound to share a group; the queue is read from the engine's group-commit state only to know
when they have.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from registrar.errors import Conflict, ServiceUnavailable
from registrar.events import catalog
from registrar.integrity.verify import verify_log
from registrar.services.audit import perform
from registrar.store.database import _limits, is_sqlite
from registrar.store.schema import log_events
from registrar.store.uow import UnitOfWork, unit_of_work

from .test_atomicity import _context

REGISTER = catalog.API_SERVER_REGISTER


def _target(i: int) -> dict[str, Any]:
    return catalog.target(f"aps{i:017d}", "ApiServer", f"https://g{i}.example/", f"G{i}")


def _queued(engine: Engine) -> int:
    group = _limits(engine).group
    assert group is not None
    return len(group._queue)


@contextmanager
def _commits(engine: Engine) -> Iterator[list[int]]:
    """Count the transactions committed on ``engine`` (group commits included) while the block runs."""
    count = [0]

    def on_commit(_conn: Any) -> None:
        count[0] += 1

    event.listen(engine, "commit", on_commit)
    try:
        yield count
    finally:
        event.remove(engine, "commit", on_commit)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the operations never queued"
        time.sleep(0.005)


def _run_behind_a_held_one(
    engine: Engine, operations: list[Callable[[], object]]
) -> tuple[Future[object], list[Future[object]]]:
    """Start an operation that holds the group open, queue ``operations`` behind it one by one (in this
    order), then let it go; returns the futures of the held operation and of the others."""
    release = threading.Event()

    def held() -> object:
        with unit_of_work(engine, _context(1000)) as uow:
            uow.record(REGISTER, [_target(1000)])
            release.wait(30)
        return "held"

    group = _limits(engine).group
    assert group is not None
    group._max_seconds = 3600  # however slow the machine, the age of the group does not split it
    pool = ThreadPoolExecutor(max_workers=len(operations) + 1)
    first = pool.submit(held)
    _wait_for(lambda: group._busy)
    others: list[Future[object]] = []
    for i, operation in enumerate(operations):
        others.append(pool.submit(operation))
        _wait_for(lambda n=i + 1: _queued(engine) == n)  # type: ignore[misc]
    release.set()
    pool.shutdown(wait=True)
    return first, others


def _register(engine: Engine, i: int) -> Callable[[], object]:
    def run() -> object:
        def action(uow: UnitOfWork, _trail: object) -> int:
            uow.record(REGISTER, [_target(i)])
            return i

        return perform(engine, _context(i), REGISTER, action)

    return run


def _fail_after_writing(engine: Engine, i: int) -> Callable[[], object]:
    """An operation that appends its event to the log and then fails: all of it must roll back."""

    def run() -> object:
        def action(uow: UnitOfWork, _trail: object) -> int:
            uow.record(REGISTER, [_target(i)])
            uow.flush_events()  # the log head moves, in this operation's savepoint
            raise Conflict("An API server with this resourceUrl already exists.")

        return perform(engine, _context(i), REGISTER, action)

    return run


def _stored(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(log_events).order_by(log_events.c.seq)).all())


def _intact(engine: Engine) -> None:
    with engine.connect() as conn:
        problems = [f for f in verify_log(conn, None) if f.kind in {"edited", "deleted", "head"}]
    assert problems == []


def test_concurrent_operations_share_commits_and_a_failing_one_rolls_back_alone(engine: Engine) -> None:
    operations = [_register(engine, i) for i in range(8)]
    operations.insert(3, _fail_after_writing(engine, 99))
    with _commits(engine) as commits:
        first, others = _run_behind_a_held_one(engine, operations)
    assert first.result() == "held"
    results = [future.exception() or future.result() for future in others]
    assert isinstance(results[3], Conflict)
    assert [r for r in results if not isinstance(r, Exception)] == list(range(8))
    # Ten units of work (the held one, eight successes, one failure's audit; the failed one's own work
    # left nothing) in one commit, or two if the failure's audit came after the queue had run dry.
    assert commits[0] <= 2

    rows = _stored(engine)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    outcomes = {(row.transaction_id, row.outcome_result) for row in rows}
    assert {(f"req-{i}", "SUCCESS") for i in range(8)} <= outcomes
    # The failing operation's own event rolled back with its savepoint; its FAILURE event is there, once.
    assert [row.outcome_result for row in rows if row.transaction_id == "req-99"] == ["FAILURE"]
    published = [row.published_ms for row in rows]
    assert published == sorted(published)
    _intact(engine)


def _break_the_transaction(engine: Engine, i: int) -> Callable[[], object]:
    """An operation whose error takes the whole transaction with it (as SQLite does to an interrupted
    write, or a lost connection): the group's earlier operations cannot commit either."""

    def run() -> object:
        with unit_of_work(engine, _context(i)) as uow:
            uow.record(REGISTER, [_target(i)])
            uow.flush_events()
            driver = uow.conn.connection.driver_connection
            assert driver is not None
            if is_sqlite(engine):
                driver.execute("ROLLBACK")
            else:
                driver.rollback()
            raise RuntimeError("the transaction is gone")
        return i

    return run


def test_an_error_that_ends_the_shared_transaction_fails_the_operations_waiting_on_its_commit(
    engine: Engine,
) -> None:
    def plain(i: int) -> Callable[[], object]:
        def run() -> object:
            with unit_of_work(engine, _context(i)) as uow:
                uow.record(REGISTER, [_target(i)])
            return i

        return run

    # The held operation and 1 share a group with 2, which breaks it; 3 and 4 come after, in a new one.
    operations = [plain(1), _break_the_transaction(engine, 2), plain(3), plain(4)]
    first, others = _run_behind_a_held_one(engine, operations)
    one, two, three, four = others
    # Never acknowledged: the commit that would have held them never happened.
    assert isinstance(first.exception(), ServiceUnavailable)
    assert isinstance(one.exception(), ServiceUnavailable)
    assert isinstance(two.exception(), RuntimeError)
    assert (three.result(), four.result()) == (3, 4)
    assert {row.transaction_id for row in _stored(engine)} == {"req-3", "req-4"}
    _intact(engine)


@pytest.mark.parametrize("members", [1, 5])
def test_nothing_returns_before_its_group_has_committed(engine: Engine, members: int) -> None:
    """Whatever returned from its unit of work is visible to a new connection at once."""
    seen: list[bool] = []

    def check(i: int) -> Callable[[], object]:
        def run() -> object:
            with unit_of_work(engine, _context(i)) as uow:
                uow.record(REGISTER, [_target(i)])
            with engine.connect() as conn:
                ids = conn.execute(select(log_events.c.transaction_id)).scalars().all()
            seen.append(f"req-{i}" in ids)
            return i

        return run

    _run_behind_a_held_one(engine, [check(i) for i in range(members)])
    assert seen == [True] * members
