"""Per-token request budgets with Okta's ``X-Rate-Limit-*`` headers.

A fixed one-minute window per caller (the token, or the peer address when there is none). The counters
live in this process; replicas each enforce the budget on the requests they serve.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

__all__ = ["RateLimiter", "Verdict"]

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
    """Counts requests per key in fixed windows aligned to the key's first request."""

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
