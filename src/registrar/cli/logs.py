"""``registrar logs export``: a System Log query to JSON Lines or OCSF, read from the database directly.

A maintenance command (``REGISTRAR_DATABASE_URL``), like ``tokens`` and ``verify``: it needs no running
server and no API token. The query means what it means on ``/api/v1/logs``: the same parameters, the same
defaults (``since`` is 7 days before ``until``, or before now), the same order.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from registrar.errors import RegistrarError
from registrar.exports import ExportFormat, count_events, export_log, export_tiles
from registrar.syslog.query import MAX_LIMIT, LogQuery, parse_query

from .database import database

__all__ = ["logs"]

logs = typer.Typer(no_args_is_help=True, help="The System Log.")
err = Console(stderr=True, soft_wrap=True)


def _fail(error: RegistrarError) -> typer.Exit:
    err.print(f"[red]error:[/] {'; '.join(error.causes) or error.summary}", markup=True, highlight=False)
    return typer.Exit(2)


def _query(since: str | None, until: str | None, filter_: str | None, q: str | None) -> LogQuery:
    given = {"since": since, "until": until, "filter": filter_, "q": q}
    params = {name: value for name, value in given.items() if value is not None}
    # The largest page the API allows: fewest round trips, and still a bounded amount in memory.
    params["limit"] = str(MAX_LIMIT)
    try:
        return parse_query(params)
    except RegistrarError as error:
        raise _fail(error) from None


@contextlib.contextmanager
def _sink(output: str) -> Iterator[IO[bytes]]:
    """stdout for ``-``; otherwise a temporary file beside ``output``, renamed over it only on success."""
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _progress(total: int | None, unit: str = "events") -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (a bar with a total when it was cheap to count, a counter otherwise)."""
    columns = [SpinnerColumn(), TextColumn("exporting"), BarColumn()]
    columns += [MofNCompleteColumn()] if total is not None else [TextColumn(f"{{task.completed}} {unit}")]
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task("export", total=total)
        yield lambda count: progress.advance(task, count)


@logs.command("export")
def export(
    since: Annotated[
        str | None, typer.Option(help="Oldest event (ISO 8601); default 7 days before --until or now.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End (ISO 8601, exclusive); without it, everything up to now.")
    ] = None,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help='System Log filter, e.g. eventType sw "resource_servers.mcp".'),
    ] = None,
    q: Annotated[str | None, typer.Option("--q", help="Keyword search, as the API's q parameter.")] = None,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl: the stored events; ocsf: OCSF 1.3.0 records; tiles: the whole log as a static "
            "tlog-tiles directory (--output DIR), as of its latest checkpoint.",
        ),
    ] = ExportFormat.JSONL,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for stdout (tiles: a new directory).")
    ] = "-",
) -> None:
    """Export the events a System Log query selects, one JSON object per line (or the log as tiles)."""
    if export_format is ExportFormat.TILES:
        _export_tiles(output, query_given=any(v is not None for v in (since, until, filter_, q)))
        return
    query = _query(since, until, filter_, q)
    try:
        with database(maintenance=True) as engine:
            total = count_events(engine, query)
            with _sink(output) as sink, _progress(total) as advance:
                written = export_log(engine, query, export_format, sink, on_page=advance)
    except RegistrarError as error:
        raise _fail(error) from None
    where = "stdout" if output == "-" else output
    err.print(f"exported {written} events ({export_format.value}) to {where}", highlight=False)


def _export_tiles(output: str, *, query_given: bool) -> None:
    """``--format tiles``: the tree as of the latest checkpoint, every tile and bundle, into a directory."""
    if output == "-" or query_given:
        err.print(
            "[red]error:[/] --format tiles writes the whole log to a directory: give --output DIR and no "
            "--since, --until, --filter or --q",
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        with database(maintenance=True) as engine, _progress(None, unit="entry bundles") as advance:
            written = export_tiles(engine, Path(output), on_bundle=advance)
    except RegistrarError as error:
        raise _fail(error) from None
    pruned = f", {written.pruned} pruned" if written.pruned else ""
    err.print(
        f"exported the tree of {written.size} events ({written.tiles} hash tiles, {written.bundles} entry "
        f"bundles{pruned}) to {output}",
        highlight=False,
    )
