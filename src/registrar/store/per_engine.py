"""One object per database engine in this process, made on first use and gone with its engine."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Engine

__all__ = ["PerEngine"]

T = TypeVar("T")


class PerEngine(Generic[T]):
    """``self(engine)``: the one ``factory(engine)`` of ``engine``, made once even when threads race."""

    def __init__(self, factory: Callable[[Engine], T]) -> None:
        self._factory = factory
        self._made: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, engine: Engine) -> T:
        made = self._made.get(engine)
        if made is None:
            with self._lock:
                made = self._made.get(engine)
                if made is None:
                    made = self._made[engine] = self._factory(engine)
        return made
