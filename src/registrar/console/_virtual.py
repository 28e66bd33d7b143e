"""A virtual MCP server's own parts of its pages: its capabilities (tools of registered MCP servers), each
flagged ``MISSING`` once its source tool is gone, and the picker that chooses them as a set.

A capability is sent as ``<mcpServerId>:<tool name>`` (an id holds no colon), as the CLI's option is.
The picker offers the tools each MCP server's last discovery listed (``PRESENT``), and keeps whatever is
chosen but no longer offered, so that saving the set never drops a capability by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from registrar.domain.resources import ServerDetail
from registrar.kinds import mcp
from registrar.services import capabilities
from registrar.services.capabilities_store import PRESENT
from registrar.services.resource_servers import servers

from . import _pages as pages
from ._sessions import ConsoleSession
from ._view import Extra, ServerView
from ._web import CurrentSession, deps_of, posted

__all__ = ["VirtualCapabilities"]

MAX_SOURCES = 200  # MCP servers the picker reads the tools of


def _chosen(form: FormData) -> list[str]:
    return list(
        dict.fromkeys(v.strip() for v in form.getlist("capabilities") if isinstance(v, str) and v.strip())
    )


def _refs(chosen: Iterable[str]) -> list[dict[str, str]]:
    """``{mcpServerId, name}`` of each chosen capability."""
    return [{"mcpServerId": value.partition(":")[0], "name": value.partition(":")[2]} for value in chosen]


def _picker(request: Request, session: ConsoleSession, chosen: Iterable[str]) -> dict[str, Any]:
    """The tools on offer, by MCP server (when the session may read them), and what is already chosen."""
    deps, wanted = deps_of(request), list(chosen)
    groups: list[dict[str, Any]] = []
    if session.scopes.intersection(mcp.KIND.read_scopes):
        listing = servers(mcp.KIND.key).list_servers(deps, limit=MAX_SOURCES, after=None, search=None)
        for detail in listing.items:
            source = detail.server
            names = [
                tool.definition.name
                for tool in capabilities.list_tools(deps, source.id)
                if tool.status == PRESENT
            ]
            options = [(f"{source.id}:{name}", name) for name in names]
            groups.append({"id": source.id, "label": source.display_name, "options": options})
    offered = {value for group in groups for value, _ in group["options"]}
    return {
        "groups": [group for group in groups if group["options"]],
        "others": [value for value in wanted if value not in offered],
        "chosen": set(wanted),
        "names": {group["id"]: group["label"] for group in groups},
    }


class VirtualCapabilities(Extra):
    """The capabilities section of the detail page, and the picker of the registration form."""

    sections = ("capabilities",)
    form_section = "resource_servers/_capability_picker.html"

    def detail_context(
        self, request: Request, session: ConsoleSession, detail: ServerDetail[Any], settings: list[Any] | None
    ) -> dict[str, Any]:
        found: list[Mapping[str, Any]] = list(detail.extras.get("capabilities", ()))
        chosen = [f"{item['mcpServerId']}:{item['name']}" for item in found]
        return {
            "capabilities": found,
            "missing_count": sum(item["status"] == "MISSING" for item in found),
            "picker": _picker(request, session, chosen),
        }

    def form_context(
        self, request: Request, session: ConsoleSession, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {"picker": _picker(request, session, values.get("capabilities", ()))}

    def form_values(self, form: FormData) -> dict[str, Any]:
        return {"capabilities": _chosen(form)}

    def body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {"capabilities": _refs(values["capabilities"])}

    def install(self, router: APIRouter, view: ServerView) -> None:
        base = view.base
        svc = servers(view.key)

        @router.post(base + "/{server_id}/capabilities")
        async def set_capabilities(request: Request, server_id: str, session: CurrentSession) -> Response:
            """Make the server's capabilities the chosen set (``capability.add`` / ``capability.remove``)."""
            form, ctx = await posted(request, session)
            body = orjson.dumps({"capabilities": _refs(_chosen(form))})
            location = f"{base}/{server_id}?notice=capabilities-updated#capabilities"
            args = (svc.update, deps_of(request), ctx, server_id, body)
            return await pages.act(request, session, view, server_id, "capabilities", location, *args)
