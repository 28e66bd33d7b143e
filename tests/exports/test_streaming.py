"""A large export streams: written a page at a time, never the whole log at once."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import Engine

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events import catalog as ev
from registrar.exports import ExportFormat, export_log
from registrar.ids import new_request_id
from registrar.store.uow import unit_of_work
from registrar.syslog.query import parse_query

from .test_cli_export import run_export

EVENTS = 2_500
PAGE = 1_000


class RecordingSink(io.BytesIO):
    """A byte sink that remembers how many lines each ``write`` carried."""

    def __init__(self) -> None:
        super().__init__()
        self.lines_per_write: list[int] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.lines_per_write.append(bytes(data).count(b"\n"))
        return super().write(data)


def fill_log(engine: Engine, count: int) -> None:
    """``count`` events through the store's own write path (unit of work, builder, hash chain)."""
    actor = Actor("00uBulk0000000000000", "User", "bulk@example.com", "Bulk Loader")
    target = ev.api_server_target("aps0000000000000bulk", "https://bulk.example/", "Bulk")
    for start in range(0, count, 500):
        ctx = RequestContext(
            request_id=new_request_id(),
            actor=actor,
            client=ClientInfo("203.0.113.9", "bulk/1.0"),
            request_uri="/bulk",
            url="/bulk",
        )
        with unit_of_work(engine, ctx) as uow:
            for _ in range(min(500, count - start)):
                uow.record(ev.API_SERVER_UPDATE, [target])


def test_a_large_export_is_written_page_by_page(engine: Engine, database_url: str, tmp_path: Path) -> None:
    fill_log(engine, EVENTS)
    sink = RecordingSink()
    pages: list[int] = []
    written = export_log(
        engine, parse_query({"limit": str(PAGE)}), ExportFormat.OCSF, sink, on_page=pages.append
    )
    assert written == EVENTS
    assert pages == [1000, 1000, 500]
    assert sink.lines_per_write == pages  # one write per page: no more than a page is ever held

    out = tmp_path / "all.jsonl"
    result = run_export(database_url, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert len(out.read_bytes().splitlines()) == EVENTS
    assert f"exported {EVENTS} events" in result.stderr
