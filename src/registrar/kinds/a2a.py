"""A2A servers: the agent card's security schemes name the authorization servers; an admin may add more."""

from __future__ import annotations

from registrar.discovery import AgentCardDiscovery, fetch_agent_card
from registrar.domain.a2a import AgentCardMetadata
from registrar.domain.mcp import McpServerCreate, McpServerPatch
from registrar.events import catalog as ev
from registrar.ids import A2A_SERVER
from registrar.scopes import A2A_MANAGE, A2A_READ

from ._kind import Bodies, Discovered, Kind, Names, Prepared, events_named

__all__ = ["KIND", "A2aServerCreate", "A2aServerPatch"]


class A2aServerCreate(McpServerCreate):
    """``{resourceUrl, metadata{displayName?, description?}}``: the card's name when no displayName."""


class A2aServerPatch(McpServerPatch):
    """``{metadata{displayName?, description?}}`` (``resourceUrl`` cannot change)."""


def _registered(found: AgentCardDiscovery) -> Prepared:
    """What registration keeps of an agent card: its summary, its name, the authorization servers it named."""
    card = AgentCardMetadata.from_json(found.detected_metadata)
    return Prepared(card, card.name, tuple(found.authorization_servers))


KIND = Kind(
    Names("a2a", "A2A server", "A2aServer", A2A_SERVER, (A2A_READ, A2A_MANAGE)),
    events_named("a2a_server"),
    Bodies(A2aServerCreate, A2aServerPatch),
    Discovered(
        AgentCardMetadata,
        ev.a2a_server_target,
        fetch_agent_card,
        _registered,
        auth_add="issuer",
        searchable={"detectedMetadata.name": "name"},
    ),
)
