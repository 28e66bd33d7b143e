"""JSON Lines export: the stored bytes, page for page what ``/api/v1/logs`` serves for the same query."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from registrar.exports import ExportFormat, count_events, export_log
from registrar.syslog.query import parse_query


def api_pages(client: TestClient, auth: dict[str, str], params: dict[str, str]) -> Iterator[bytes]:
    """The bodies of the pages a client gets by following ``next`` until it has caught up."""
    response = client.get("/api/v1/logs", params=params, headers=auth)
    while True:
        assert response.status_code == 200, response.text
        if response.content == b"[]":
            return
        yield response.content
        next_url = response.links.get("next", {}).get("url")
        if next_url is None:
            return
        response = client.get(next_url, headers=auth)


def export_lines(engine: Engine, params: dict[str, str]) -> list[bytes]:
    sink = io.BytesIO()
    written = export_log(engine, parse_query(params), ExportFormat.JSONL, sink)
    lines = sink.getvalue().splitlines()
    assert written == len(lines)
    return lines


def paged(lines: list[bytes], size: int) -> list[bytes]:
    """``lines`` grouped as the API pages them: ``[event,event,...]``."""
    return [b"[" + b",".join(lines[i : i + size]) + b"]" for i in range(0, len(lines), size)]


QUERIES = [
    {},
    {"filter": 'eventType eq "resource_servers.api_server.activate"'},
    {"filter": 'outcome.result eq "FAILURE"'},
    {"q": "Ledger"},
    {"sortOrder": "DESCENDING"},
]


@pytest.mark.usefixtures("some_events")
def test_export_is_byte_for_byte_the_api_pages(
    client: TestClient, auth: dict[str, str], engine: Engine
) -> None:
    page_size = "2"
    for params in QUERIES:
        lines = export_lines(engine, {**params, "limit": page_size})
        assert lines, f"{params} should select something"
        served = list(api_pages(client, auth, {**params, "limit": page_size}))
        assert served == paged(lines, int(page_size)), params


@pytest.mark.usefixtures("some_events")
def test_filters_and_keywords_narrow_the_export(engine: Engine, events: Any) -> None:
    everything = export_lines(engine, {})
    assert len(everything) == len(events()) == 11
    activations = export_lines(engine, {"filter": 'eventType eq "resource_servers.api_server.activate"'})
    assert len(activations) == 3 + 1  # three activations and the refused one
    assert all(b'"eventType":"resource_servers.api_server.activate"' in line for line in activations)
    ledger = export_lines(engine, {"q": "Ledger"})
    assert ledger and len(ledger) < len(everything) and all(b"Ledger" in line for line in ledger)


@pytest.mark.usefixtures("some_events")
def test_time_bounds_select_since_inclusive_until_exclusive(
    client: TestClient, auth: dict[str, str], engine: Engine, events: Any
) -> None:
    published = sorted({e["published"] for e in events()})
    assert len(published) >= 3, "events should span several milliseconds"
    since, until = published[1], published[-1]
    params = {"since": since, "until": until}
    lines = export_lines(engine, params)
    expected = sorted((e for e in events() if since <= e["published"] < until), key=lambda e: e["published"])
    assert expected
    assert [orjson.loads(line)["uuid"] for line in lines] == [e["uuid"] for e in expected]
    assert list(api_pages(client, auth, {**params, "limit": "1000"})) == paged(lines, 1000)
    assert count_events(engine, parse_query(params)) == len(lines)
    assert count_events(engine, parse_query({"q": "Ledger"})) is None
