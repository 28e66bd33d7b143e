"""``GET /api/v1/logs``: the System Log API, compatible with Okta's clients."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from registrar.syslog.links import link_headers, log_url
from registrar.syslog.pages import PageCache
from registrar.syslog.query import parse_query

from ..deps import CurrentToken, ServiceDeps
from ..responses import base_url
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["System Log"])


@router.get("/api/v1/logs")
@router.get("/api/v1/logs/", include_in_schema=False)
def list_log_events(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """List System Log events (Okta's ``listLogEvents``): polling or bounded, filtered, keyword-searched."""
    require_scope(token, "okta.logs.read")
    query = parse_query(request.query_params)
    pages: PageCache = request.app.state.log_pages
    page = pages.page(deps.reads, query)
    origin = base_url(request)
    path = request.url.path
    self_url = log_url(origin, path, query.params, query.after)
    if query.polling:
        # Polling never ends: when caught up, `next` repeats `self` byte for byte.
        next_url: str | None = log_url(
            origin, path, query.params, str(page.next_cursor) if page.next_cursor else query.after
        )
    else:
        next_url = log_url(origin, path, query.params, str(page.next_cursor)) if page.next_cursor else None
    response = Response(page.body, media_type="application/json")
    response.raw_headers.extend(link_headers(self_url, next_url))
    return response
