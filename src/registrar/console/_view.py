"""How the console shows one kind of resource server: a ``ServerView``, a small description per kind.

The pages are written once (``_pages``, ``_routes_servers``, ``templates/resource_servers/``) over the
kinds of ``registrar.kinds``; a view says only what its kind's pages say differently: its words, its list
columns, the partial that shows what the kind detects, and (``Extra``) the sections, form fields and
routes a kind has of its own (an MCP server's tools, a virtual MCP server's capabilities).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from starlette.datastructures import FormData

from registrar.domain.resources import ServerDetail
from registrar.kinds import KINDS, Kind

from ._forms import text
from ._sessions import ConsoleSession

if TYPE_CHECKING:
    from markupsafe import Markup

__all__ = ["Extra", "ServerView", "Words"]

_HEADINGS = {"url": "Resource URL", "status": "Status", "issuers": "Authorization servers"}
_DONE = {"Register": "registered", "Create": "created"}  # the notice after the form's verb


@dataclass(frozen=True, slots=True)
class Words:
    """What a kind's pages say of it beyond its name."""

    intro: str  # under the list's title
    examples: tuple[str, ...]  # SCIM search expressions the list offers
    form_intro: Markup | str = ""  # under the registration form's title (the console's own text)
    url_help: str = ""
    url_placeholder: str = ""
    name_help: str = ""  # set: the display name is optional (the server names itself)
    auth_heading: str = "Authorization servers"
    no_auth: str = "No authorization server is linked yet."


class Extra:
    """What a kind adds to its pages: nothing, for most kinds. Each hook runs in the thread pool."""

    header: str = ""  # a partial among the detail page's actions
    sections: tuple[str, ...] = ()  # partials of the detail page, before its authorization servers
    form_section: str = ""  # a partial of the registration form

    def detail_context(
        self, request: Request, session: ConsoleSession, detail: ServerDetail[Any], settings: list[Any] | None
    ) -> dict[str, Any]:
        """More values for the detail page (``settings``: the server's credentials, when readable)."""
        return {}

    def form_context(
        self, request: Request, session: ConsoleSession, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        """More values for the registration form (``values``: what it was submitted with, if it was)."""
        return {}

    def form_values(self, form: FormData) -> dict[str, Any]:
        """More values read from a submitted registration form (shown again after an error)."""
        return {}

    def body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """More members of the registration body, from the form's values."""
        return {}

    def install(self, router: APIRouter, view: ServerView) -> None:
        """Add the kind's own routes (before the lifecycle route, whose ``{action}`` would shadow them)."""


@dataclass(frozen=True, slots=True)
class ServerView:
    """One kind of resource server as the console shows it."""

    key: str  # the kind's key in ``registrar.kinds.KINDS``
    words: Words
    columns: tuple[str, ...] = ("url", "status", "when")  # of the list, after the name
    when: tuple[str, str] = ("Last updated", "last_updated_ms")  # the time a list and detail show
    verb: str = "Register"  # or "Create", for a kind whose servers have no resource URL
    activate_option: bool = False  # the registration form offers "Activate now"
    detected: str = ""  # what the kind detects, shown by ``resource_servers/_detected_<detected>.html``
    extra: Extra = field(default_factory=Extra)

    @property
    def kind(self) -> Kind:
        return KINDS[self.key]

    @property
    def base(self) -> str:
        """The console path of the kind's list, the same as its API path's last segment."""
        return f"/{self.kind.path}"

    @property
    def plural(self) -> str:
        """``API servers``, ``Virtual MCP servers``: the list's title."""
        label = self.kind.label
        return f"{label[:1].upper()}{label[1:]}s"

    @property
    def title(self) -> str:
        """``Register an API server``: the registration form's title."""
        name = self.kind.name
        return f"{self.verb} {name[:1].lower()}{name[1:]}"

    @property
    def done(self) -> str:
        """The notice after a registration."""
        return _DONE[self.verb]

    @property
    def submit(self) -> str:
        """The registration form's button."""
        return "Discover and register" if self.kind.fetches else self.verb

    @property
    def has_url(self) -> bool:
        """Its servers have a resource URL (every kind but the virtual MCP server)."""
        return "resourceUrl" in self.kind.create_model.model_fields

    @property
    def headings(self) -> list[tuple[str, str]]:
        """The list's columns after the name, with their headings."""
        names = {**_HEADINGS, "when": self.when[0], "capabilities": "Capabilities"}
        return [(column, names[column]) for column in self.columns]

    def form_values(self, form: FormData) -> dict[str, Any]:
        """What a registration form says, to send and, after an error, to show again."""
        values: dict[str, Any] = {"resourceUrl": text(form, "resourceUrl")} if self.has_url else {}
        values |= {"displayName": text(form, "displayName"), "description": text(form, "description")}
        if self.activate_option:
            values["activate"] = form.get("activate") == "on"
        return values | self.extra.form_values(form)

    def registration_body(self, values: Mapping[str, Any]) -> bytes:
        """The API's registration body for the form's values."""
        metadata = {"displayName": values["displayName"], "description": values["description"] or None}
        if self.words.name_help:  # an optional name: send only what was entered
            metadata = {name: value for name, value in metadata.items() if value}
        body: dict[str, Any] = {"resourceUrl": values["resourceUrl"]} if self.has_url else {}
        return orjson.dumps({**body, "metadata": metadata, **self.extra.body(values)})
