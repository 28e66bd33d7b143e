"""What an A2A server's agent card declared: the detected metadata of the A2A kind.

The values come from ``registrar.discovery.fetch_agent_card`` (``AgentCardDiscovery.detected_metadata``),
which has already stripped and bounded them; this is their stored, API and audit-log form. Reading the
stored form back keeps only the known members, each of its type (a wrong one reads as absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .mcp import event_json

__all__ = ["AgentCardMetadata"]

# Member -> (its type, its value when absent), in the API's order.
_MEMBERS: dict[str, tuple[type, Any]] = {
    "name": (str, None),
    "description": (str, None),
    "version": (str, None),
    "url": (str, None),
    "protocolVersion": (str, None),
    "skillsCount": (int, 0),
    "securitySchemes": (list, []),
    "cardUrl": (str, None),
}


def _read(data: Mapping[str, Any], member: str) -> Any:
    kind, absent = _MEMBERS[member]
    value = data.get(member)
    if not isinstance(value, kind) or isinstance(value, bool):
        return absent
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else value


@dataclass(frozen=True, slots=True)
class AgentCardMetadata:
    """The agent card's name, description, versions, endpoint, skill count and security scheme names."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """The agent's own name (a display name when the admin gave none)."""
        name = self.values.get("name")
        return name if isinstance(name, str) else None

    def to_json(self) -> dict[str, Any]:
        """The API / storage form: every member, in order."""
        return {member: _read(self.values, member) for member in _MEMBERS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AgentCardMetadata:
        """Back from the stored form (``{}``: nothing detected)."""
        return cls({member: _read(data, member) for member in _MEMBERS})

    def to_event(self) -> str:
        """The ``a2aServerDetectedMetadata`` string of events."""
        card = self.to_json()
        shown = (m for m in _MEMBERS if m not in {"description", "cardUrl"})
        return event_json({f"agentCard{m[0].upper()}{m[1:]}": card[m] for m in shown})
