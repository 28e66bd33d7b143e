"""``registrar logs export --format tiles``: a static tlog-tiles directory any reader verifies offline.

The directory is checked by the independent verifier (files only, no server) and compared byte for byte
with what ``/api/v1/logs/tlog/`` serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from registrar.cli import app
from registrar.config import Settings

from . import independent
from .conftest import Log, open_log
from .stored import append, bodies

TLOG = "/api/v1/logs/tlog/"
SIZE = 600  # two full level-0 tiles and a partial one of 88; a partial level-1 tile of 2


@pytest.fixture
def plain_log(settings: Settings, engine: Engine, token: str) -> Iterator[Log]:
    """The log without witnesses."""
    with open_log(settings, engine, token, None) as log:
        yield log


def export(database_url: str, *args: str) -> Result:
    env = {"REGISTRAR_DATABASE_URL": database_url}
    return CliRunner().invoke(app, ["logs", "export", "--format", "tiles", *args], env=env)


def test_the_export_verifies_offline_and_is_what_the_api_serves(
    plain_log: Log, database_url: str, tmp_path: Path
) -> None:
    append(plain_log.engine, SIZE, per_transaction=200)
    plain_log.checkpoint()
    out = tmp_path / "exports" / "tiles"
    result = export(database_url, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"exported the tree of {SIZE} events (4 hash tiles, 3 entry bundles) to {out}" in result.stderr

    seen: list[bytes] = []
    verified = independent.verify_log(
        independent.directory_fetch(out), plain_log.vkey, on_entry=lambda i, entry: seen.append(entry)
    )
    assert verified.entries == SIZE
    assert seen == bodies(plain_log.engine)

    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(["checkpoint", "verifier-keys", *independent.tile_paths(SIZE)])
    for name in files:
        served = plain_log.client.get(TLOG + name, headers=plain_log.auth)
        assert served.status_code == 200, name
        assert (out / name).read_bytes() == served.content, name
    assert [p.name for p in out.parent.iterdir()] == ["tiles"]  # no partial directory left behind


def test_registrar_verify_accepts_the_export(plain_log: Log, database_url: str, tmp_path: Path) -> None:
    append(plain_log.engine, 300, per_transaction=300)
    plain_log.checkpoint()
    append(plain_log.engine, 5, first=300)  # after the checkpoint: not in the export yet
    assert export(database_url, "--output", str(tmp_path / "t")).exit_code == 0
    result = CliRunner().invoke(app, ["verify", "--remote", str(tmp_path / "t"), "--key", plain_log.vkey])
    assert result.exit_code == 0, result.output
    assert "ok: 300 entries and every tile verify" in result.stdout


def test_what_cannot_be_exported_is_a_usage_error(plain_log: Log, database_url: str, tmp_path: Path) -> None:
    result = export(database_url, "--output", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "no signed checkpoint yet" in result.stderr
    assert not (tmp_path / "none").exists()
    append(plain_log.engine, 3)
    plain_log.checkpoint()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = export(database_url, "--output", str(tmp_path / "full"))
    assert result.exit_code == 2
    assert "must be a new or empty directory" in result.stderr
    for args in ([], ["--output", "-"], ["--output", str(tmp_path / "q"), "--filter", 'eventType eq "x"']):
        result = export(database_url, *args)
        assert result.exit_code == 2, args
        assert "--format tiles writes the whole log to a directory" in result.stderr
    (tmp_path / "empty").mkdir()
    assert export(database_url, "--output", str(tmp_path / "empty")).exit_code == 0
    assert (tmp_path / "empty" / "checkpoint").is_file()
