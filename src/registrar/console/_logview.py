"""The log viewer's reads, all through the System Log API's own ``parse_query`` and ``read_page``.

An event's text is shown with its control characters visibly escaped (``registrar.controls``), whatever
version wrote it: the row's fields here, its JSON in ``_jsonview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from markupsafe import Markup
from sqlalchemy import Engine

from registrar.controls import escape_controls
from registrar.errors import RegistrarError
from registrar.ids import format_timestamp, utcnow
from registrar.syslog.query import parse_query
from registrar.syslog.reader import read_page

from ._forms import FormErrors, errors_of
from ._histogram import build_histogram
from ._jsonview import highlight_json
from ._links import TargetLink, target_links

__all__ = [
    "RANGES",
    "EventRow",
    "LiveBatch",
    "LogView",
    "follow_log",
    "view_log",
]

RANGES: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PAGE_SIZE = 50
LIVE_BATCH = 100
# The histogram reads at most this many events of the range (in pages of the API's maximum size).
HISTOGRAM_LIMIT = 20_000
_HISTOGRAM_PAGE = 1000


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as the viewer lists it, with its full JSON ready to expand."""

    uuid: str
    published: str  # Okta's timestamp form
    event_type: str
    display_message: str
    outcome: str
    reason: str | None
    severity: str
    actor: str
    actor_id: str
    client_ip: str | None
    transaction_id: str
    session_id: str | None
    targets: list[TargetLink]
    json: Markup


@dataclass(slots=True)
class LogView:
    """Everything the log page shows for one set of parameters."""

    filter: str
    q: str
    range: str
    since: str
    until: str
    group: str
    live: bool
    events: list[EventRow] = field(default_factory=list)
    next_after: str | None = None
    after: str | None = None
    chart: dict[str, Any] | None = None
    error: FormErrors | None = None
    error_field: str | None = None


@dataclass(frozen=True, slots=True)
class LiveBatch:
    """New events since a cursor (newest first) and the cursor to continue from."""

    events: list[EventRow]
    after: str


def _shown(value: Any) -> str:
    return escape_controls(str(value))


def _maybe(value: Any) -> str | None:
    return None if value is None else _shown(value)


def _row(body: bytes) -> EventRow:
    event = orjson.loads(body)
    actor = event.get("actor") or {}
    outcome = event.get("outcome") or {}
    transaction = event.get("transaction") or {}
    authn = event.get("authenticationContext") or {}
    targets = [
        replace(link, type=_shown(link.type), id=_shown(link.id), label=_shown(link.label))
        for link in target_links(event.get("target") or [])
    ]
    return EventRow(
        uuid=_shown(event.get("uuid")),
        published=_shown(event.get("published")),
        event_type=_shown(event.get("eventType")),
        display_message=_shown(event.get("displayMessage") or ""),
        outcome=_shown(outcome.get("result") or ""),
        reason=_maybe(outcome.get("reason")),
        severity=_shown(event.get("severity") or ""),
        actor=_shown(actor.get("alternateId") or actor.get("displayName") or actor.get("id") or ""),
        actor_id=_shown(actor.get("id") or ""),
        client_ip=_maybe((event.get("client") or {}).get("ipAddress")),
        transaction_id=_shown(transaction.get("id") or ""),
        session_id=_maybe(authn.get("externalSessionId")),
        targets=targets,
        json=highlight_json(event),
    )


def _field_of(error: RegistrarError) -> str:
    if error.code in {"E0000053", "E0000031"}:
        return "filter"
    first = error.causes[0].split(":", 1)[0] if error.causes else ""
    return first if first in {"q", "since", "until", "after"} else "filter"


def _window(params: Mapping[str, str]) -> tuple[str, str, str]:
    """``(range, since, until)``: a preset resolved against now, or the custom times as typed."""
    chosen = params.get("range") or "24h"
    if chosen == "custom":
        return chosen, (params.get("since") or "").strip(), (params.get("until") or "").strip()
    if chosen not in RANGES:
        chosen = "24h"
    now = utcnow()
    return chosen, format_timestamp(now - RANGES[chosen]), format_timestamp(now)


def _published_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _histogram_points(engine: Engine, base: dict[str, str]) -> tuple[list[tuple[int, str, str]], bool]:
    points: list[tuple[int, str, str]] = []
    after: str | None = None
    while len(points) < HISTOGRAM_LIMIT:
        query = parse_query({**base, "limit": str(_HISTOGRAM_PAGE), **({"after": after} if after else {})})
        page = read_page(engine, query)
        for body in page.bodies:
            event = orjson.loads(body)
            points.append((_published_ms(event["published"]), event["eventType"], event["outcome"]["result"]))
        if page.next_cursor is None:
            return points, False
        after = str(page.next_cursor)
    return points, True


def view_log(engine: Engine, params: Mapping[str, str]) -> LogView:
    """The events page and histogram for the viewer's parameters; a bad parameter becomes ``error``."""
    chosen, since, until = _window(params)
    view = LogView(
        filter=(params.get("filter") or "").strip(),
        q=(params.get("q") or "").strip(),
        range=chosen,
        since=since,
        until=until,
        group="outcome" if params.get("group") == "outcome" else "eventType",
        live=params.get("live") == "1",
        after=params.get("after") or None,
    )
    base = {"since": since, "until": until, "filter": view.filter, "q": view.q}
    base = {name: value for name, value in base.items() if value}
    try:
        table = parse_query({**base, "limit": str(PAGE_SIZE), "sortOrder": "DESCENDING", **_after(view)})
        page = read_page(engine, table)
        view.events = [_row(body) for body in page.bodies]
        view.next_after = str(page.next_cursor) if page.next_cursor else None
        # The resolved window: a custom range typed leniently is shown back in the canonical form.
        view.since = format_timestamp(table.since)
        if table.until is not None:
            view.until = format_timestamp(table.until)
        points, truncated = _histogram_points(engine, {**base, "since": view.since, "until": view.until})
        view.chart = build_histogram(
            points, _published_ms(view.since), _published_ms(view.until), truncated=truncated
        ).chart_data()
    except RegistrarError as error:
        view.events, view.next_after, view.chart = [], None, None
        view.error = errors_of(error)
        view.error_field = _field_of(error)
    return view


def _after(view: LogView) -> dict[str, str]:
    return {"after": view.after} if view.after else {}


def follow_log(engine: Engine, params: Mapping[str, str]) -> LiveBatch:
    """Live mode: the events committed after the cursor (or published since ``since``), newest first.

    A polling query of the System Log (no ``until``, ascending): it follows commit order and its cursor
    never passes an uncommitted event, exactly like an API poller.
    """
    query_params = {
        name: params[name] for name in ("since", "after", "filter", "q") if (params.get(name) or "").strip()
    }
    query = parse_query({**query_params, "limit": str(LIVE_BATCH)})
    page = read_page(engine, query)
    cursor = str(page.next_cursor) if page.next_cursor else query.after or ""
    return LiveBatch([_row(body) for body in reversed(page.bodies)], cursor)
