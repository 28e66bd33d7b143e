"""``registrar logs export``: the maintenance command, on the database directly, with its query options."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from registrar.cli import app

from .ocsf_schema import ocsf_problems
from .test_jsonl import export_lines


def run_export(database_url: str, *args: str) -> Result:
    """``registrar logs export ARGS`` in-process, against ``database_url``."""
    return CliRunner().invoke(app, ["logs", "export", *args], env={"REGISTRAR_DATABASE_URL": database_url})


@pytest.mark.usefixtures("some_events")
def test_the_file_holds_exactly_the_bytes_the_api_serves(
    client: TestClient, auth: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "exports" / "log.jsonl"
    out.parent.mkdir()
    result = run_export(database_url, "--output", str(out))
    assert result.exit_code == 0, result.output
    served = client.get("/api/v1/logs", params={"limit": "1000"}, headers=auth).content
    assert served == b"[" + b",".join(out.read_bytes().splitlines()) + b"]"
    assert out.read_bytes().endswith(b"\n")
    assert "exported 11 events (jsonl)" in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["log.jsonl"]  # no partial file left behind


@pytest.mark.usefixtures("some_events")
def test_query_options_mean_what_the_api_parameters_mean(database_url: str, engine: Engine) -> None:
    for options in (
        ["--filter", 'eventType eq "resource_servers.api_server.update"'],
        ["--q", "Payments"],
        ["--since", "2000-01-01T00:00:00Z", "--until", "2100-01-01T00:00:00.000Z"],
        ["--until", "2000-01-01T00:00:00Z"],
    ):
        result = run_export(database_url, *options)
        assert result.exit_code == 0, result.output
        params = dict(zip((o.removeprefix("--") for o in options[::2]), options[1::2], strict=True))
        assert result.stdout_bytes.splitlines() == export_lines(engine, {**params, "limit": "1000"}), options


@pytest.mark.usefixtures("some_events")
def test_ocsf_to_stdout(database_url: str) -> None:
    result = run_export(database_url, "--format", "ocsf", "--filter", 'eventType sw "resource_servers.api"')
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in result.stdout_bytes.splitlines()]
    assert len(records) == 11
    assert [ocsf_problems(r) for r in records] == [[]] * 11


def test_a_bad_query_is_refused_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "log.jsonl"
    out.parent.mkdir()
    for options in (
        ["--since", "yesterday"],
        ["--filter", 'nope eq "x"'],
        ["--filter", "eventType eq"],
        ["--format", "csv"],
    ):
        result = run_export(database_url, *options, "--output", str(out))
        assert result.exit_code == 2, options
        assert result.stdout == ""
        assert list(out.parent.iterdir()) == [], options
