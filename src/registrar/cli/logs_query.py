"""``registrar logs``: query the System Log of a running server (``GET /api/v1/logs``), page by page.

The parameters are the API's (``--since --until --filter --q --limit --sort-order``); ``--pages N`` and
``--all`` follow the ``next`` links. A polling query (no ``--until``, ascending) never runs out of ``next``
links, so paging stops once the server says it is caught up (an empty page, or ``next`` equal to ``self``).
``registrar logs tail`` (in :mod:`registrar.cli.logs_tail`) follows the log live.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import httpx2
import orjson
import typer
from rich import box
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .client import LOGS, CliError, ExitCode, Params, RegistrarClient, json_of
from .options import DEFAULT_URL, TokenOption, UrlOption, connect, usage
from .output import STATUS_STYLES, badge, err_console, json_bytes, out_console, safe_text

__all__ = ["LogPage", "event_line", "log_pages", "query_logs", "targets_of"]


class SortOrder(StrEnum):
    """The order of a bounded query (a polling query is always ascending)."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


SinceOption = Annotated[
    str | None,
    typer.Option(help="Oldest event (ISO 8601); the server's default: 7 days ago.", show_default=False),
]
FilterOption = Annotated[
    str | None,
    typer.Option("--filter", help='System Log filter, e.g. outcome.result eq "FAILURE".', show_default=False),
]
QOption = Annotated[str | None, typer.Option("--q", help="Keywords to search for.", show_default=False)]


@dataclass(frozen=True, slots=True)
class LogPage:
    """A page of events, the link to the next one, and whether the server said it has nothing newer."""

    events: list[dict[str, Any]]
    next_url: str | None
    caught_up: bool

    @classmethod
    def of(cls, response: httpx2.Response) -> LogPage:
        """The page a System Log response carries (its events, its ``Link`` headers)."""
        events = json_of(response)
        if not isinstance(events, list):
            raise CliError("error: the server's System Log answer is not a JSON array", ExitCode.SERVER_ERROR)
        links = response.links
        next_url = links.get("next", {}).get("url")
        # A polling query's `next` repeats `self` when caught up; a bounded one just ends.
        caught_up = not events or next_url == links.get("self", {}).get("url")
        return cls(events, next_url, caught_up)


def log_pages(client: RegistrarClient, params: Params, max_pages: int | None) -> Iterator[LogPage]:
    """The pages of a System Log query, following ``next`` until the end, caught up, or ``max_pages``."""
    response = client.get(LOGS, params)
    for number in itertools.count(1):
        page = LogPage.of(response)
        yield page
        if page.next_url is None or page.caught_up or number == max_pages:
            return
        response = client.get(page.next_url)


def targets_of(event: Mapping[str, Any], *, with_ids: bool = True) -> str:
    """An event's targets, as ``name (id)`` (or just the names) joined by commas."""
    names = []
    for target in event.get("target") or []:
        label = target.get("displayName") or target.get("alternateId") or ""
        names.append(f"{label} ({target['id']})" if with_ids and target.get("id") else label)
    return ", ".join(names)


def event_line(event: Mapping[str, Any]) -> Text:
    """One event as one line, coloured by its outcome (SUCCESS green, FAILURE red, DENY yellow).

    One line whatever the event holds: its text is shown with control characters escaped (``\\n`` too).
    """
    outcome = event.get("outcome") or {}
    result = str(outcome.get("result") or "")
    actor = (event.get("actor") or {}).get("alternateId") or ""
    line = Text(safe_text(f"{event.get('published', '')} "), style="bright_black")
    body = f"{result:<7} {event.get('eventType', '')} {actor}"
    if targets := targets_of(event):
        body += f" → {targets}"
    if outcome.get("reason"):
        body += f" ({outcome['reason']})"
    line.append(safe_text(body), style=STATUS_STYLES.get(result, ""))
    return line


def _table(events: list[dict[str, Any]]) -> Table:
    title = f"System Log ({len(events)} event{'' if len(events) == 1 else 's'})"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for header in ("PUBLISHED", "OUTCOME", "EVENT TYPE", "ACTOR"):
        table.add_column(header, no_wrap=True)
    table.add_column("TARGET")
    table.add_column("REASON")
    for event in events:
        outcome = event.get("outcome") or {}
        table.add_row(
            safe_text(event.get("published", "")),
            badge(outcome.get("result")),
            safe_text(event.get("eventType", "")),
            safe_text((event.get("actor") or {}).get("alternateId") or ""),
            safe_text(targets_of(event, with_ids=False)),  # ids: --json
            safe_text(outcome.get("reason") or ""),
        )
    return table


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


class _EventWriter:
    """Events to stdout as they arrive (a JSON array, or JSON Lines), or kept for one table at the end."""

    def __init__(self, mode: Literal["table", "json", "jsonl"]):
        self.mode = mode
        self.count = 0
        self.kept: list[dict[str, Any]] = []

    def write(self, events: list[dict[str, Any]]) -> None:
        """Print (or keep) a page of events."""
        if self.mode == "table":
            self.kept.extend(events)
            return
        for event in events:
            data = json_bytes(orjson.dumps(event))
            if self.mode == "jsonl":
                _write(data + b"\n")
            else:
                _write((b"[" if self.count == 0 else b",") + data)
            self.count += 1

    def close(self) -> None:
        """Finish the document: the table, or the end of the array."""
        if self.mode == "table":
            out_console().print(_table(self.kept))
        elif self.mode == "json":
            _write(b"]\n" if self.count else b"[]\n")


def _query_options_given(ctx: typer.Context) -> bool:
    """Whether a query option has a value other than its default (connection options do not count)."""
    return any(
        param.name not in {"url", "token"} and ctx.params.get(param.name or "") != param.default
        for param in ctx.command.params
    )


def query_logs(
    ctx: typer.Context,
    since: SinceOption = None,
    until: Annotated[
        str | None,
        typer.Option(help="End (ISO 8601, exclusive); without it: a polling query.", show_default=False),
    ] = None,
    filter_: FilterOption = None,
    q: QOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Events per page.")] = 100,
    sort_order: Annotated[
        SortOrder, typer.Option("--sort-order", case_sensitive=False, help="Order (bounded queries).")
    ] = SortOrder.ASCENDING,
    pages: Annotated[int, typer.Option(min=1, help="How many pages to fetch at most.")] = 1,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Fetch every page (to the end, or caught up).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as one JSON array.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Print the events as JSON Lines.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Query the System Log of a running server (as GET /api/v1/logs); `tail` follows it live."""
    if ctx.invoked_subcommand is not None:
        if _query_options_given(ctx):
            raise usage(
                f"put options after the subcommand: registrar logs {ctx.invoked_subcommand} [OPTIONS]"
            )
        return
    if as_json and jsonl:
        raise usage("--json and --jsonl: choose one")
    params = {
        "since": since,
        "until": until,
        "filter": filter_,
        "q": q,
        "limit": str(limit),
        "sortOrder": None if sort_order is SortOrder.ASCENDING else sort_order.value,
    }
    max_pages = None if all_pages else pages
    out = _EventWriter("json" if as_json else "jsonl" if jsonl else "table")
    columns = (
        SpinnerColumn(),
        TextColumn("fetching the System Log: {task.completed} events"),
        TimeElapsedColumn(),
    )
    warn = err_console()
    # A progress display only where someone watches it, and only when more than one page may come.
    quiet = max_pages == 1 or not warn.is_terminal
    progress = Progress(*columns, console=warn, transient=True, disable=quiet)
    last: LogPage | None = None
    with connect(url, token) as client, progress:
        task = progress.add_task("logs", total=None)
        for last in log_pages(client, params, max_pages):
            progress.advance(task, len(last.events))
            out.write(last.events)
    out.close()
    # A polling query always has a `next`; only a full page says there is more right now.
    if last is not None and last.next_url is not None and not last.caught_up and len(last.events) >= limit:
        warn.print("there may be more events: --pages N or --all fetches them", style="bright_black")
