"""Resolving a resource server ORN (as client authentication settings name it) to the server."""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from registrar.events.catalog import Target
from registrar.kinds import kind_of_segment
from registrar.store import repositories as repo

__all__ = ["resource_target"]

_ORN = re.compile(
    r"^orn:registrar:directory:(?P<org>[0-9A-Za-z]{20}):resource-servers:(?P<segment>[a-z0-9-]{1,32})"
    r":(?P<id>[0-9A-Za-z]{20})$"
)


def resource_target(conn: Connection, org_id: str, orn: str) -> Target | None:
    """The event target of the resource server ``orn`` names, or None if there is no such server here."""
    match = _ORN.match(orn)
    kind = None if match is None or match["org"] != org_id else kind_of_segment(match["segment"])
    if match is None or kind is None:
        return None
    server = repo.get_server(conn, kind, match["id"])
    return None if server is None else kind.server_target(server, orn)
