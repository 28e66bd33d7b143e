"""Where an event's targets live in the console, and the filters that find an object's events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from registrar.kinds import KINDS

__all__ = ["TargetLink", "events_url", "target_links"]

_PAGES = {kind.entity: f"/{kind.path}/{{id}}" for kind in KINDS.values()}
_PAGES["ClientAuthSettings"] = "/client-auth-settings/{id}"


def _shown_on() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Authorization servers and tools have no page of their own: each is shown on the page of a server
    its event also names, at ``#<anchor prefix><id>``. Target type -> (anchor prefix, server types)."""
    owners: dict[str, list[str]] = {}
    for kind in KINDS.values():
        owners.setdefault(kind.auth_entity, []).append(kind.entity)
    shown = {auth: ("as-", tuple(entities)) for auth, entities in owners.items()}
    return shown | {"McpServerTool": ("tool-", ("McpServer",))}


_SHOWN_ON = _shown_on()


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
    """Links for an event's ``target[]``; an authorization server or a tool links into its server's page."""
    by_type = {str(t.get("type")): str(t.get("id")) for t in targets}
    links = []
    for target in targets:
        kind, object_id = str(target.get("type", "")), str(target.get("id", ""))
        href = None
        if kind in _PAGES:
            href = _PAGES[kind].format(id=object_id)
        elif kind in _SHOWN_ON:
            anchor, owners = _SHOWN_ON[kind]
            owner = next((owner for owner in owners if owner in by_type), None)
            href = (
                None if owner is None else _PAGES[owner].format(id=by_type[owner]) + f"#{anchor}{object_id}"
            )
        name = target.get("displayName")
        label = str(name) if name and name != "unknown" else object_id
        links.append(TargetLink(kind, object_id, label, href, events_url(object_id)))
    return links
