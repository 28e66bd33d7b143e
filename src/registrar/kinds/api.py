"""API servers: admin-entered, with admin-entered authorization servers (add, update, remove)."""

from __future__ import annotations

from typing import Any

from registrar.domain.inputs import ApiServerCreate, ApiServerPatch
from registrar.domain.resources import ResourceServer
from registrar.events import catalog as ev
from registrar.events.catalog import Target
from registrar.ids import API_SERVER
from registrar.scopes import API_MANAGE, API_READ

from ._kind import Bodies, Changes, Entered, Kind, Names, events_named

__all__ = ["KIND"]


def _target(server: ResourceServer[Any], orn: str, changes: Changes | None) -> Target:
    """``ApiServer``: named by its URL and display name (no status, nothing detected)."""
    return ev.api_server_target(server.id, server.url, server.display_name, changes)


KIND = Kind(
    Names("api", "API server", "ApiServer", API_SERVER, (API_READ, API_MANAGE), auth_entity="ApiAuthServer"),
    events_named("api_server"),
    Bodies(ApiServerCreate, ApiServerPatch),
    Entered(_target),
)
