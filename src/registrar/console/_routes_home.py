"""The console's front door."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from ._web import ConsoleRoute, CurrentSession

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.get("/")
def home(session: CurrentSession) -> RedirectResponse:
    """Start where most work starts: the MCP servers (the sign-in page when not signed in)."""
    del session  # required only to send a signed-out browser to the sign-in page
    return RedirectResponse("/mcp-servers", status_code=303)
