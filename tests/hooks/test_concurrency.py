"""Two delivery workers on one database (two engines, two threads) never send a hook's batches at once."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from registrar.hooks import HookDelivery
from registrar.services.deps import Deps
from registrar.store.database import create_database_engine

from .conftest import Hooks, StoredEvents
from .receiver import Receiver, wait_until

HOOKS = 3
EVENTS = 40


def test_two_workers_share_the_work_without_sending_a_batch_twice(
    hooks: Hooks, receiver: Receiver, deps: Deps, events: StoredEvents
) -> None:
    paths = [f"/hook-{n}" for n in range(HOOKS)]
    for path in paths:
        hooks.ready(f"{receiver.url}{path}")
    hooks.register(EVENTS)
    receiver.delay = 0.005  # keeps each batch in flight long enough for the other worker to try it
    engines = [create_database_engine(deps.settings.database_url) for _ in range(2)]
    workers = [HookDelivery(replace(deps, engine=engine)) for engine in engines]
    stop = threading.Event()

    def work(worker: HookDelivery) -> int:
        attempts = 0
        while not stop.is_set():
            attempts += worker.run_once() is not None
        return attempts

    pool = ThreadPoolExecutor(max_workers=2)
    runs = [pool.submit(work, worker) for worker in workers]
    try:
        wait_until(
            lambda: len(receiver.accepted_uuids()) >= HOOKS * EVENTS or any(run.done() for run in runs),
            "all deliveries",
        )
    finally:
        stop.set()
        pool.shutdown()
        for worker in workers:
            worker.close()
        for engine in engines:
            engine.dispose()
    for run in runs:
        run.result()  # re-raises what a worker raised
    expected = [e["uuid"] for e in events()]
    for path in paths:
        # Exactly once (no failures, no lapsed lease) and in order, whichever worker sent each batch.
        assert receiver.accepted_uuids(path) == expected
        posts = sorted(receiver.posts(path), key=lambda r: r.started)
        for earlier, later in itertools.pairwise(posts):
            assert later.started >= earlier.finished, "two batches of one hook were in flight at once"
    assert all(post.status == 200 for post in receiver.posts())
