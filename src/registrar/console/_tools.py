"""An MCP server's own parts of its page: its tools, its tool discoveries per credential, and the buttons
that run discovery again (RFC 9728, ``refresh``) or discover its tools now (``discoveries``).

Tool definitions are the MCP server's words, hostile like every remote string: they are shown through
Jinja's autoescape (and the console's control-character escape), never marked safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from registrar.domain.resources import ServerDetail
from registrar.services import capabilities, mcp_refresh
from registrar.services.capabilities_store import ToolDiscovery

from . import _pages as pages
from ._forms import text
from ._sessions import ConsoleSession
from ._view import Extra, ServerView
from ._web import CurrentSession, deps_of, fetch_policy, posted

__all__ = ["McpTools"]


def _credentials(discoveries: Sequence[ToolDiscovery], settings: list[Any] | None) -> list[dict[str, Any]]:
    """Each credential's latest discovery (or none yet), first those already used, then the others."""
    names = {item.id: item.name for item in settings or ()}
    rows = [
        {"id": found.client_auth_settings_id, "name": names.get(found.client_auth_settings_id), "run": found}
        for found in discoveries
    ]
    used = {found.client_auth_settings_id for found in discoveries}
    return rows + [
        {"id": item.id, "name": item.name, "run": None} for item in settings or () if item.id not in used
    ]


class McpTools(Extra):
    """Tools (with fingerprint, status and a mark when changed since first discovered) and discoveries."""

    header = "resource_servers/_refresh.html"
    sections = ("tools",)

    def detail_context(
        self, request: Request, session: ConsoleSession, detail: ServerDetail[Any], settings: list[Any] | None
    ) -> dict[str, Any]:
        deps = deps_of(request)
        tools = capabilities.list_tools(deps, detail.server.id)
        discoveries = capabilities.list_discoveries(deps, detail.server.id)
        return {"tools": tools, "credentials": _credentials(discoveries, settings)}

    def install(self, router: APIRouter, view: ServerView) -> None:
        base = view.base

        @router.post(base + "/{server_id}/refresh")
        async def refresh_server(request: Request, server_id: str, session: CurrentSession) -> Response:
            """Run RFC 9728 discovery again and record what changed (``update``, ``auth_server.*``)."""
            _, ctx = await posted(request, session)
            location = f"{base}/{server_id}?notice=refreshed"
            args = (mcp_refresh.refresh, deps_of(request), ctx, server_id, fetch_policy(request))
            return await pages.act(
                request, session, view, server_id, "lifecycle", location, *args, fetches=True
            )

        @router.post(base + "/{server_id}/discoveries")
        async def discover_tools(request: Request, server_id: str, session: CurrentSession) -> Response:
            """Discover the server's tools now with one of its credentials (``capability.discover``)."""
            form, ctx = await posted(request, session)
            credential = {
                "authType": capabilities.AUTH_TYPE,
                "clientAuthSettingsId": text(form, "clientAuthSettingsId"),
            }
            body = orjson.dumps({"credential": credential})
            location = f"{base}/{server_id}?notice=discovered#tools"
            args = (capabilities.discover, deps_of(request), ctx, server_id, body, fetch_policy(request))
            return await pages.act(
                request, session, view, server_id, "discover", location, *args, fetches=True
            )
