"""Tool drift: what changed between the tools on record and the ones a discovery just found.

A tool *appeared* (new, or back after it had disappeared), *disappeared* (on record as present, not listed
any more) or *changed* (its fingerprint differs). Each change carries the two sides a
``capability.discover`` event shows in ``changeDetails``: the old and the new definition, ``{}`` for the
side that does not exist. A changed or disappeared tool is one the server already had: that is what the
``deactivate`` drift policy acts on (a "rug pull"), while a new tool is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._tools import ToolDefinition

__all__ = ["Drift", "KnownTool", "ToolChange", "drift"]

ChangeKind = Literal["appeared", "disappeared", "changed"]


@dataclass(frozen=True, slots=True)
class KnownTool:
    """A tool on record: its last definition (as ``ToolDefinition.to_event`` gave it) and whether present."""

    name: str
    fingerprint: str
    present: bool
    definition: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolChange:
    """One tool's change; ``before`` / ``after`` are ``{}`` for the side that does not exist."""

    kind: ChangeKind
    name: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    reappeared: bool = False  # appeared again after having disappeared


@dataclass(frozen=True, slots=True)
class Drift:
    """Every change of one discovery, each list ordered by tool name."""

    appeared: tuple[ToolChange, ...] = ()
    disappeared: tuple[ToolChange, ...] = ()
    changed: tuple[ToolChange, ...] = ()

    @property
    def changes(self) -> tuple[ToolChange, ...]:
        """All changes, ordered by tool name."""
        return tuple(sorted((*self.appeared, *self.disappeared, *self.changed), key=lambda c: c.name))

    @property
    def known_tool_changed(self) -> bool:
        """Whether a tool the server already had changed or disappeared."""
        return bool(self.changed or self.disappeared)


def drift(known: Iterable[KnownTool], found: Iterable[ToolDefinition]) -> Drift:
    """The changes from the tools on record to the tools found."""
    on_record = {tool.name: tool for tool in known}
    listed = {tool.name: tool for tool in found}
    appeared, changed = [], []
    for name in sorted(listed):
        tool, old = listed[name], on_record.get(name)
        if old is None or not old.present:
            appeared.append(ToolChange("appeared", name, {}, tool.to_event(), reappeared=old is not None))
        elif old.fingerprint != tool.fingerprint:
            changed.append(ToolChange("changed", name, old.definition, tool.to_event()))
    disappeared = [
        ToolChange("disappeared", name, old.definition, {})
        for name, old in sorted(on_record.items())
        if old.present and name not in listed
    ]
    return Drift(tuple(appeared), tuple(disappeared), tuple(changed))
