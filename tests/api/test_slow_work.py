"""``SlowWork``: slow remote work runs on a capacity of its own, bounded per token and in all.

A request beyond the bound waits (on the event loop, holding no thread) for ``queue_seconds``: it runs if
a slot frees in time, else it is refused with Okta's 429 ``E0000047``.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from registrar.api.slow_work import SlowWork
from registrar.errors import RateLimited


def _blocked(release: threading.Event, started: list[str], name: str) -> str:
    started.append(name)
    release.wait(30)
    return name


async def _outcome(work: SlowWork, caller: str, release: threading.Event, started: list[str]) -> str:
    try:
        return await work.run(caller, _blocked, release, started, caller)
    except RateLimited as refused:
        return "429: " + refused.causes[0]


def test_bounds_per_token_and_in_all() -> None:
    work = SlowWork("MCP discoveries", total=3, per_token=2, queue_seconds=0.2)
    release, started = threading.Event(), list[str]()
    outcomes: dict[str, str] = {}

    async def main() -> None:
        async def one(key: str, caller: str) -> None:
            outcomes[key] = await _outcome(work, caller, release, started)

        async with anyio.create_task_group() as tasks:
            for key, caller in (("a1", "a"), ("a2", "a")):
                tasks.start_soon(one, key, caller)
            while len(started) < 2:
                await anyio.sleep(0.01)
            tasks.start_soon(one, "a3", "a")  # a third for token a: over its bound
            tasks.start_soon(one, "b1", "b")  # token b takes the last slot in all
            while len(started) < 3:
                await anyio.sleep(0.01)
            tasks.start_soon(one, "c1", "c")  # nothing left in all
            while len(outcomes) < 2:
                await anyio.sleep(0.01)
            release.set()

    anyio.run(main)
    assert outcomes == {
        "a1": "a",
        "a2": "a",
        "b1": "b",
        "a3": "429: Too many MCP discoveries in progress (2 per API token); try again shortly.",
        "c1": "429: Too many MCP discoveries in progress (3 in all); try again shortly.",
    }
    assert not work._callers  # no bookkeeping is left behind for callers that are gone


def test_a_waiting_request_runs_when_a_slot_frees_in_time() -> None:
    work = SlowWork("MCP discoveries", total=8, per_token=1, queue_seconds=30)
    first, second, started = threading.Event(), threading.Event(), list[str]()
    outcomes: list[str] = []

    async def main() -> None:
        async def one(release: threading.Event) -> None:
            outcomes.append(await _outcome(work, "a", release, started))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(one, first)
            while not started:
                await anyio.sleep(0.01)
            tasks.start_soon(one, second)
            await anyio.sleep(0.1)
            assert len(started) == 1  # the second waits for the token's only slot
            first.set()
            second.set()

    anyio.run(main)
    assert outcomes == ["a", "a"] and len(started) == 2


def test_bounds_must_allow_some_work() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SlowWork("MCP discoveries", total=0, per_token=1, queue_seconds=1)
