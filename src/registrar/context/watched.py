"""A file read once and read again only when it changes: databases and lists an operator maintains."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["WatchedFile"]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CHECK_INTERVAL = 5.0


def _signature(path: Path) -> tuple[int, int, int]:
    stat = os.stat(path)
    # Inode too: an atomic replace (write elsewhere, rename over) can keep the mtime and the size.
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class WatchedFile(Generic[T]):
    """``load(path)``, kept until the file's mtime, size or inode changes; that check is one ``stat``
    per ``check_interval`` seconds, so the request path never waits on it.
    """

    def __init__(
        self,
        path: Path,
        load: Callable[[Path], T],
        *,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._load = load
        self._interval = check_interval
        self._clock = clock
        self._lock = threading.Lock()
        # At start a missing or broken file is the operator's mistake: fail loudly, not on every request.
        self._signature = _signature(path)
        self._value = load(path)
        self.generation = 0  # bumped on every reload, so that caches of derived answers know to drop
        self._next_check = clock() + check_interval

    def get(self) -> T:
        """The current contents, reloaded first if the file changed since the last check."""
        if self._clock() >= self._next_check:
            self._refresh()
        return self._value

    def _refresh(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is checking; the current value is good enough meanwhile
        try:
            self._next_check = self._clock() + self._interval
            try:
                signature = _signature(self.path)
            except OSError as error:
                log.warning("%s is unreadable (%s); keeping the copy loaded before", self.path, error)
                return
            if signature == self._signature:
                return
            try:
                value = self._load(self.path)
            except Exception:  # a half-written or corrupt file must not take requests down
                log.exception("could not reload %s; keeping the copy loaded before", self.path)
                return
            self._signature = signature
            self._value = value
            self.generation += 1
            log.info("reloaded %s", self.path)
        finally:
            self._lock.release()
