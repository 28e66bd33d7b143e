"""The System Log viewer: filter, keywords, time range, histogram, expandable events, live mode."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from registrar.errors import RegistrarError

from ._forms import errors_of
from ._logview import RANGES, follow_log, view_log
from ._web import ConsoleRoute, CurrentSession, PollingSession, deps_of, render, require_scopes

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_READ = ("okta.logs.read",)
EXAMPLES = (
    'eventType sw "resource_servers.mcp_server"',
    'outcome.result ne "SUCCESS"',
    'target.type eq "McpServer" and actor.alternateId co "@"',
)


@router.get("/system-log")
async def system_log(request: Request, session: CurrentSession) -> Response:
    """The log viewer; every read goes through the System Log API's query parser and page reader."""
    require_scopes(session, *_READ)
    params = dict(request.query_params)
    view = await run_in_threadpool(view_log, deps_of(request).engine, params)
    keep = {
        name: value
        for name, value in (
            ("filter", view.filter),
            ("q", view.q),
            ("range", view.range),
            ("group", view.group if view.group != "eventType" else ""),
        )
        if value
    }
    if view.range == "custom":
        keep |= {"since": view.since, "until": view.until}
    live_params = {"since": view.until, "filter": view.filter, "q": view.q}
    context = {
        "title": "System Log",
        "view": view,
        "ranges": list(RANGES),
        "examples": EXAMPLES,
        "older_href": "/system-log?"
        + urlencode(
            {
                **keep,
                "range": "custom",
                "since": view.since,
                "until": view.until,
                "after": view.next_after or "",
            }
        ),
        "live_href": "/system-log?" + urlencode({**keep, "live": "1"}),
        "static_href": "/system-log?" + urlencode(keep),
        "group_href": {
            group: "/system-log?"
            + urlencode({**keep, "group": group, **({"live": "1"} if view.live else {})})
            for group in ("eventType", "outcome")
        },
        "poll_href": "/system-log/live?" + urlencode({k: v for k, v in live_params.items() if v}),
    }
    return render(request, "logs/page.html", context, 400 if view.error else 200)


@router.get("/system-log/live")
async def system_log_live(request: Request, session: PollingSession) -> Response:
    """Live mode: new events since the cursor, prepended to the list; the poller replaces itself."""
    require_scopes(session, *_READ)
    params = dict(request.query_params)
    try:
        batch = await run_in_threadpool(follow_log, deps_of(request).engine, params)
    except RegistrarError as failure:
        return render(request, "logs/_poller.html", {"error": errors_of(failure)})
    keep = {name: params[name] for name in ("filter", "q") if params.get(name)}
    context = {
        "events": batch.events,
        "poll_href": "/system-log/live?" + urlencode({**keep, "after": batch.after}),
    }
    return render(request, "logs/_poller.html", context)
