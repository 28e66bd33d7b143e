"""Where an event's targets live in the console, and the filters that find an object's events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["TargetLink", "events_url", "target_links"]

_PAGES = {
    "ApiServer": "/api-servers/{id}",
    "McpServer": "/mcp-servers/{id}",
    "ClientAuthSettings": "/client-auth-settings/{id}",
}
# Authorization servers have no page of their own: they are shown on their resource server's page.
_PARENTS = {"ApiAuthServer": "ApiServer", "ExternalAuthServer": "McpServer"}


@dataclass(frozen=True, slots=True)
class TargetLink:
    """One target of an event, as the log viewer shows it."""

    type: str
    id: str
    label: str
    href: str | None  # the object's console page (it may have been deleted since)
    events_href: str  # the System Log filtered on this target


def events_url(target_id: str, **extra: str) -> str:
    """The log viewer filtered to the events that name ``target_id``."""
    return "/system-log?" + urlencode({"filter": f'target.id eq "{target_id}"', **extra})


def target_links(targets: Sequence[Mapping[str, Any]]) -> list[TargetLink]:
    """Links for an event's ``target[]``; an authorization server links into its server's page."""
    by_type = {str(t.get("type")): str(t.get("id")) for t in targets}
    links = []
    for target in targets:
        kind, object_id = str(target.get("type", "")), str(target.get("id", ""))
        href = None
        if kind in _PAGES:
            href = _PAGES[kind].format(id=object_id)
        elif kind in _PARENTS and _PARENTS[kind] in by_type:
            parent = _PARENTS[kind]
            href = _PAGES[parent].format(id=by_type[parent]) + f"#as-{object_id}"
        name = target.get("displayName")
        label = str(name) if name and name != "unknown" else object_id
        links.append(TargetLink(kind, object_id, label, href, events_url(object_id)))
    return links
