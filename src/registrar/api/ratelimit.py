"""Request budgets with Okta's ``X-Rate-Limit-*`` headers, and a failure budget per client address.

Two kinds of bucket, both fixed one-minute windows:

- **Requests**, ``rate_limit_per_minute`` per caller. The caller is the token a request carries, however
  the ``Authorization`` header spells it (keyed on a SHA-256 of the parsed token, never the raw header),
  or, for a request without one, the client address as resolved through the trusted proxies.
- **Authentication failures**, ``auth_failures_per_minute`` per client address. Every 401 answered to a
  request that carried a token is counted against the address it came from; once that budget is spent,
  every request from the address that carries a token gets 429 until the window ends. A new token per
  guess therefore buys no new budget: guessing tokens from one address is throttled to the failure budget.

On SQLite (one process) the counters live in memory; on PostgreSQL they live in the database, so replicas
enforce one budget between them (one round trip per request, one more per 401).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.dml import ReturningInsert

from registrar.store.schema import rate_limit_windows

if TYPE_CHECKING:
    from registrar.config import Settings

__all__ = ["DatabaseRateLimiter", "RateLimiter", "Verdict", "rate_limiter_for"]

_WINDOW_SECONDS = 60
_MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a request may proceed, and what Okta's X-Rate-Limit-* headers say about its budget."""

    allowed: bool
    limit: int  # requests (or failures) the window allows
    remaining: int  # of ``limit``, after this request
    reset: int  # epoch seconds when the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The three rate-limit headers Okta sends on every response."""
        return [
            (b"x-rate-limit-limit", str(self.limit).encode()),
            (b"x-rate-limit-remaining", str(self.remaining).encode()),
            (b"x-rate-limit-reset", str(self.reset).encode()),
        ]


def _request_verdict(count: int, limit: int, reset: int) -> Verdict:
    # ``count`` includes this request.
    return Verdict(allowed=count <= limit, limit=limit, remaining=max(limit - count, 0), reset=reset)


def _failure_verdict(failures: int, limit: int, reset: int) -> Verdict | None:
    # ``None``: the failure budget is not spent and does not decide this request.
    if failures < limit:
        return None
    return Verdict(allowed=False, limit=limit, remaining=0, reset=reset)


class RateLimiter:
    """Counts per key in fixed windows aligned to the key's first request (one process)."""

    blocking = False

    def __init__(self, per_minute: int, failures_per_minute: int = 30):
        self.per_minute = per_minute
        self.failures_per_minute = failures_per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, guard: str | None = None) -> Verdict:
        """Count one request for ``key``: refused over budget, or while ``guard``'s failures are spent."""
        now = time.time()
        with self._lock:
            start, count = self._count(key, now, 1)
            if guard is not None:
                guard_start, failures = self._current(guard, now)
                guard_reset = math.ceil(guard_start + _WINDOW_SECONDS)
                spent = _failure_verdict(failures, self.failures_per_minute, guard_reset)
                if spent is not None:
                    return spent
        return _request_verdict(count, self.per_minute, math.ceil(start + _WINDOW_SECONDS))

    def fail(self, guard: str) -> None:
        """Count one authentication failure against ``guard`` (a client address's failure bucket)."""
        with self._lock:
            self._count(guard, time.time(), 1)

    def _current(self, key: str, now: float) -> tuple[float, int]:
        start, count = self._windows.get(key, (now, 0))
        return (now, 0) if now - start >= _WINDOW_SECONDS else (start, count)

    def _count(self, key: str, now: float, amount: int) -> tuple[float, int]:
        start, count = self._current(key, now)
        count += amount
        if len(self._windows) >= _MAX_KEYS and key not in self._windows:
            self._evict(now)
        self._windows[key] = (start, count)
        return start, count

    def _evict(self, now: float) -> None:
        expired = [k for k, (start, _) in self._windows.items() if now - start >= _WINDOW_SECONDS]
        for key in expired:
            del self._windows[key]
        if len(self._windows) >= _MAX_KEYS:
            self._windows.clear()


class DatabaseRateLimiter:
    """Counts per key per wall-clock minute in the database, shared by every replica."""

    blocking = True  # does I/O: call it from a worker thread

    def __init__(self, engine: Engine, per_minute: int, failures_per_minute: int = 30):
        self.engine = engine
        self.per_minute = per_minute
        self.failures_per_minute = failures_per_minute

    def hit(self, key: str, guard: str | None = None) -> Verdict:
        """Count one request for ``key``: refused over budget, or while ``guard``'s failures are spent."""
        window = int(time.time() // _WINDOW_SECONDS)
        reset = (window + 1) * _WINDOW_SECONDS
        counted = _upsert(key, window).cte("counted")
        columns: list[ColumnElement[Any]] = [counted.c.count]
        if guard is not None:  # the failure count rides along in the same round trip
            columns.append(
                select(rate_limit_windows.c.count)
                .where(rate_limit_windows.c.caller == guard[:80], rate_limit_windows.c.window == window)
                .scalar_subquery()
            )
        with self.engine.begin() as conn:
            row = conn.execute(select(*columns)).one()
            if random.random() < 0.001:  # noqa: S311 - housekeeping, not security
                conn.execute(delete(rate_limit_windows).where(rate_limit_windows.c.window < window - 1))
        if guard is not None:
            spent = _failure_verdict(int(row[1] or 0), self.failures_per_minute, reset)
            if spent is not None:
                return spent
        return _request_verdict(int(row[0]), self.per_minute, reset)

    def fail(self, guard: str) -> None:
        """Count one authentication failure against ``guard`` (a client address's failure bucket)."""
        window = int(time.time() // _WINDOW_SECONDS)
        with self.engine.begin() as conn:
            conn.execute(_upsert(guard, window))


def _upsert(key: str, window: int) -> ReturningInsert[tuple[int]]:
    """Add one to ``key``'s count in ``window`` and return the new count."""
    return (
        pg_insert(rate_limit_windows)
        .values(caller=key[:80], window=window, count=1)
        .on_conflict_do_update(
            index_elements=["caller", "window"], set_={"count": rate_limit_windows.c.count + 1}
        )
        .returning(rate_limit_windows.c.count)
    )


def rate_limiter_for(settings: Settings, engine: Engine) -> RateLimiter | DatabaseRateLimiter:
    """Shared counters on PostgreSQL (replicas agree on one budget); in-memory ones on SQLite."""
    store = settings.rate_limit_store
    per_minute, failures = settings.rate_limit_per_minute, settings.auth_failures_per_minute
    if store == "database" or (store == "auto" and engine.dialect.name == "postgresql"):
        if engine.dialect.name != "postgresql":
            raise ValueError("REGISTRAR_RATE_LIMIT_STORE=database needs PostgreSQL")
        return DatabaseRateLimiter(engine, per_minute, failures)
    return RateLimiter(per_minute, failures)
