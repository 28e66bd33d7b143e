"""Slow remote work (MCP discovery) on its own bounded capacity, so it cannot starve the other requests.

FastAPI runs every sync endpoint and dependency on anyio's default thread limiter (40 threads, shared by
all of them). Discovery may wait seconds on a remote server; run there, 40 registrations of a server that
hangs would hold every thread and stall even ``GET /api/v1/logs``. Here it runs on a limiter of its own,
at most ``total`` at once and ``per_token`` per API token. A request that finds no free slot waits
``queue_seconds`` on the event loop (holding no thread), then gets Okta's 429 ``E0000047``: like Okta's own
concurrency limit, this is rate limiting, so (invariant 2) it writes no event.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread

from registrar.errors import RateLimited

__all__ = ["SlowWork"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(slots=True)
class _Caller:
    slots: anyio.Semaphore
    users: int = 0  # requests holding or awaiting one of its slots; the entry goes when none are left


class SlowWork:
    """Bounded concurrency for one kind of slow work (``name``, in the plural, names it in errors):
    ``total`` at once, ``per_token`` per caller.

    Used from the event loop only (one thread), so its bookkeeping needs no lock.
    """

    def __init__(self, name: str, *, total: int, per_token: int, queue_seconds: float):
        if total < 1 or per_token < 1:
            raise ValueError(f"{name}: concurrency limits must be at least 1")
        self.name = name
        self.total = total
        self.per_token = per_token
        self.queue_seconds = queue_seconds
        self._total = anyio.Semaphore(total)
        self._threads = anyio.CapacityLimiter(total)  # always free for a holder of a total slot
        self._callers: dict[str, _Caller] = {}

    async def run(self, caller: str, func: Callable[..., T], *args: object) -> T:
        """Run ``func(*args)`` in a worker thread once a slot is free; 429 after ``queue_seconds``."""
        entry = self._callers.setdefault(caller, _Caller(anyio.Semaphore(self.per_token)))
        entry.users += 1
        try:
            async with AsyncExitStack() as held:
                deadline = anyio.current_time() + self.queue_seconds
                for slots, limit in (
                    (entry.slots, f"{self.per_token} per API token"),
                    (self._total, f"{self.total} in all"),
                ):
                    if not await _take(slots, deadline):
                        log.warning("%s refused: %s already running (%s)", self.name, limit, caller)
                        raise RateLimited(
                            causes=[f"Too many {self.name} in progress ({limit}); try again shortly."]
                        )
                    held.callback(slots.release)
                return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=self._threads)
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._callers[caller]


async def _take(slots: anyio.Semaphore, deadline: float) -> bool:
    """Take a slot, waiting until ``deadline`` at most; whether one was taken."""
    try:
        slots.acquire_nowait()
        return True
    except anyio.WouldBlock:
        pass
    with anyio.move_on_after(deadline - anyio.current_time()):
        await slots.acquire()
        return True
    return False
