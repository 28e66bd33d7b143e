"""Reading an event member by member while remembering what was read, so the rest can go to ``unmapped``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EventReader"]

Path = tuple[str, ...]


class EventReader:
    """A parsed LogEvent whose members are ``take``-n by the mapping; ``unmapped`` is what nobody took."""

    def __init__(self, event: Mapping[str, Any]):
        self.event = event
        self._taken: set[Path] = set()

    def peek(self, *path: str) -> Any:
        """The member at ``path`` (``None`` when any step is missing), without marking it mapped."""
        node: Any = self.event
        for key in path:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return node

    def take(self, *path: str) -> Any:
        """The member at ``path``, marked as mapped: it and everything under it stay out of ``unmapped``."""
        self._taken.add(path)
        return self.peek(*path)

    def text(self, *path: str) -> str | None:
        """``take`` for members that are strings; anything else (absent, null, a number) is ``None``."""
        value = self.take(*path)
        return value if isinstance(value, str) and value != "" else None

    def unmapped(self) -> dict[str, Any]:
        """The members no ``take`` covered, in the event's nesting, without nulls and empty containers."""
        rest = _rest(self.event, (), self._taken)
        return rest if isinstance(rest, dict) else {}


def _rest(node: Any, path: Path, taken: set[Path]) -> Any:
    if path in taken:
        return None
    if isinstance(node, Mapping):
        kept = {key: _rest(value, (*path, key), taken) for key, value in node.items()}
        kept = {key: value for key, value in kept.items() if value is not None}
        return kept or None
    if node is None or node == []:
        return None
    return node
