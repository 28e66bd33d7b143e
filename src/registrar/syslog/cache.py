"""A bounded in-process cache of immutable read results (System Log pages, tlog tiles), by bytes, LRU.

It only keeps what its callers know can never change; each caller checks, with one indexed lookup,
that the log still holds what an entry was read from before serving it again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["ByteCache"]

V = TypeVar("V")

# An entry larger than this share of the budget is not kept: one huge page must not empty the cache.
_LARGEST_SHARE = 4
_ENTRY_OVERHEAD = 256  # the key, the entry and the dictionary slot, roughly


class ByteCache(Generic[V]):
    """At most ``max_bytes`` of values (as their callers size them), the least recently used dropped first."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(max_bytes, 0)
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        """The bytes the entries held now take."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes) for ``key``, dropping the least recently used to make room."""
        size += _ENTRY_OVERHEAD
        if size * _LARGEST_SHARE > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` (an entry the log no longer backs)."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
