"""Per-token request budgets with Okta's ``X-Rate-Limit-*`` headers.

A fixed one-minute window per caller (the token, or the peer address when there is none). On SQLite (one
process) the counters live in memory; on PostgreSQL they live in the database, so replicas enforce one
budget between them (one upsert per request).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from registrar.store.schema import rate_limit_windows

__all__ = ["DatabaseRateLimiter", "RateLimiter", "Verdict"]

_WINDOW_SECONDS = 60
_MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The three rate-limit headers Okta sends on every response."""
        return [
            (b"x-rate-limit-limit", str(self.limit).encode()),
            (b"x-rate-limit-remaining", str(self.remaining).encode()),
            (b"x-rate-limit-reset", str(self.reset).encode()),
        ]


class RateLimiter:
    """Counts requests per key in fixed windows aligned to the key's first request (one process)."""

    blocking = False

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> Verdict:
        """Count one request for ``key`` and say whether it is within budget."""
        now = time.time()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= _WINDOW_SECONDS:
                start, count = now, 0
            allowed = count < self.per_minute
            if allowed:
                count += 1
            if len(self._windows) >= _MAX_KEYS and key not in self._windows:
                self._evict(now)
            self._windows[key] = (start, count)
        return Verdict(
            allowed=allowed,
            limit=self.per_minute,
            remaining=max(self.per_minute - count, 0),
            reset=math.ceil(start + _WINDOW_SECONDS),
        )

    def _evict(self, now: float) -> None:
        expired = [k for k, (start, _) in self._windows.items() if now - start >= _WINDOW_SECONDS]
        for key in expired:
            del self._windows[key]
        if len(self._windows) >= _MAX_KEYS:
            self._windows.clear()


class DatabaseRateLimiter:
    """Counts requests per key per wall-clock minute in the database, shared by every replica."""

    blocking = True  # does I/O: call it from a worker thread

    def __init__(self, engine: Engine, per_minute: int):
        self.engine = engine
        self.per_minute = per_minute

    def hit(self, key: str) -> Verdict:
        """Count one request for ``key`` and say whether it is within budget."""
        window = int(time.time() // _WINDOW_SECONDS)
        statement = (
            pg_insert(rate_limit_windows)
            .values(caller=key[:80], window=window, count=1)
            .on_conflict_do_update(
                index_elements=["caller", "window"], set_={"count": rate_limit_windows.c.count + 1}
            )
            .returning(rate_limit_windows.c.count)
        )
        with self.engine.begin() as conn:
            count = int(conn.execute(statement).scalar_one())
            if random.random() < 0.001:  # noqa: S311 - housekeeping, not security
                conn.execute(delete(rate_limit_windows).where(rate_limit_windows.c.window < window - 1))
        return Verdict(
            allowed=count <= self.per_minute,
            limit=self.per_minute,
            remaining=max(self.per_minute - count, 0),
            reset=(window + 1) * _WINDOW_SECONDS,
        )
