"""Witnesses (c2sp.org/tlog-witness): the tests' own witness cosigns the log and refuses a rolled-back one."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, insert, select

from registrar.store.schema import tlog_witnesses

from .conftest import Log
from .witness import SpecWitness, note_verifies, split_note


def _cosigned_by(note: str, witness: SpecWitness) -> bool:
    _, signatures = split_note(note)
    return any(name == witness.name and blob[:4] == witness.key_id for name, blob in signatures)


def test_checkpoints_are_cosigned_by_the_witness_and_served_with_the_cosignature(
    log: Log, witness: SpecWitness
) -> None:
    log.write(3)
    first = log.checkpoint()
    assert first is not None and first.size == log.size() == witness.cosigned[log.origin][0]
    log.write(2)
    second = log.checkpoint()
    assert second is not None and second.size == first.size + 2
    # The witness accepted the second one only because the log proved it extends the first.
    assert witness.cosigned[log.origin] == (second.size, second.root)
    assert witness.answers == [200, 200]

    served = log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth)
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["cache-control"] == "no-cache"
    assert note_verifies(served.text, log.vkey)
    assert _cosigned_by(served.text, witness)
    text, _ = split_note(served.text)
    assert text.splitlines() == [log.origin, str(second.size), text.splitlines()[2]]


def test_a_witness_that_lost_track_is_resynced_from_its_409(log: Log, witness: SpecWitness) -> None:
    log.write(2)
    log.checkpoint()
    with log.engine.begin() as conn:  # the log forgets what the witness cosigned
        conn.execute(tlog_witnesses.update().values(size=None))
    log.write(1)
    assert log.checkpoint() is not None
    assert witness.answers == [200, 409, 200]
    assert witness.cosigned[log.origin][0] == log.size()


def _tables(engine: Engine) -> list[Table]:
    """Every table of the database as it is (migrations add some that ``schema`` does not describe)."""
    reflected = MetaData()
    reflected.reflect(engine)
    return list(reflected.sorted_tables)


Backup = sqlite3.Connection | dict[str, list[dict[str, Any]]]


def _snapshot(engine: Engine) -> Backup:
    """A copy of the whole database (SQLite's backup API; every table's rows on PostgreSQL)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            copy = sqlite3.connect(":memory:")
            conn.connection.driver_connection.backup(copy)  # type: ignore[union-attr]
            return copy
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in _tables(engine)
        }


def _restore(engine: Engine, copy: Backup) -> None:
    """Put the whole database back as it was (an operator restoring an older backup)."""
    if isinstance(copy, sqlite3.Connection):
        with engine.connect() as conn:
            copy.backup(conn.connection.driver_connection)  # type: ignore[arg-type]
        return
    tables = _tables(engine)
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(delete(table))
        for table in tables:
            if copy[table.name]:
                conn.execute(insert(table), copy[table.name])


def _witness_rows(log: Log) -> list[dict[str, Any]]:
    response = log.client.get("/api/v1/logs/tlog/witnesses", headers=log.auth)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def test_a_log_restored_from_an_older_copy_and_grown_again_is_refused(log: Log, witness: SpecWitness) -> None:
    log.write(3)
    log.checkpoint()
    backup = _snapshot(log.engine)
    log.write(2)
    seen = log.checkpoint()
    assert seen is not None and witness.cosigned[log.origin] == (seen.size, seen.root)

    _restore(log.engine, backup)  # the two events the witness saw are gone
    log.write(3)  # other events take their places: a fork of what the witness saw
    forked = log.checkpoint()
    assert forked is not None and forked.size > seen.size
    # The log believed the witness was at 3; the witness said 5 (409), then refused the proof from 5 (422).
    assert witness.answers[-2:] == [409, 422]
    assert witness.cosigned[log.origin] == (seen.size, seen.root)
    assert not _cosigned_by(log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth).text, witness)
    (row,) = _witness_rows(log)
    assert row["cosignedSize"] == seen.size
    assert "422" in row["lastError"]


def test_a_log_rolled_back_below_what_the_witness_saw_is_refused(log: Log, witness: SpecWitness) -> None:
    log.write(2)
    log.checkpoint()
    backup = _snapshot(log.engine)
    log.write(3)
    seen = log.checkpoint()
    assert seen is not None

    _restore(log.engine, backup)
    log.write(1)  # smaller than what the witness cosigned
    rolled = log.checkpoint()
    assert rolled is not None and rolled.size < seen.size
    assert witness.answers[-1] == 409
    assert witness.cosigned[log.origin] == (seen.size, seen.root)
    (row,) = _witness_rows(log)
    assert row["cosignedSize"] == seen.size and "rolled back" in row["lastError"]


def test_a_witness_that_is_down_shows_its_lag_and_error(log: Log, witness: SpecWitness) -> None:
    log.write(1)
    log.checkpoint()
    (row,) = _witness_rows(log)
    assert row["lagEntries"] == 0 and row["lagSeconds"] == 0 and row["lastError"] is None
    assert row["name"] == witness.name and row["url"] == witness.url

    witness.stop()
    log.write(2)
    log.checkpoint()
    (row,) = _witness_rows(log)
    assert row["cosignedSize"] == log.size() - 2
    assert row["lagEntries"] == 2
    assert row["lagSeconds"] is not None and row["lagSeconds"] >= 0
    assert row["lastError"] == "could not connect"
    assert row["lastSuccess"] is not None and row["lastAttempt"] >= row["lastSuccess"]
    assert "could not connect" in log.client.get("/api/v1/logs/tlog/witnesses", headers=log.auth).text


def test_a_cosignature_that_does_not_verify_is_not_stored_or_served(log: Log, witness: SpecWitness) -> None:
    witness.lying = True
    log.write(1)
    log.checkpoint()
    assert witness.answers == [200]
    assert not _cosigned_by(log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth).text, witness)
    (row,) = _witness_rows(log)
    assert row["cosignedSize"] is None and "does not verify" in row["lastError"]
