"""Invariant 4: ``registrar verify`` detects and names every edit, deletion, insertion and reordering."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.integrity.service import checkpoint_now, signer_for
from registrar.integrity.verify import Finding, verify_log
from registrar.store.database import is_sqlite
from registrar.store.eventlog import chain_hash

from ..syslog.test_logs_api import make_events

EVENTS = 12


@pytest.fixture
def log(client: TestClient, auth: dict[str, str], app: FastAPI, settings: Settings) -> Engine:
    make_events(client, auth, EVENTS // 2, prefix="a")
    checkpoint_now(app.state.deps.engine, settings, app.state.deps.org_id)
    make_events(client, auth, EVENTS // 2, prefix="b")
    engine: Engine = app.state.deps.engine
    return engine


def findings(engine: Engine, settings: Settings) -> list[Finding]:
    with engine.connect() as conn:
        return verify_log(conn, signer_for(settings).public_key_b64())


@contextmanager
def tampering(engine: Engine) -> Iterator[Connection]:
    """A raw connection with foreign keys off, as an attacker with database access would have."""
    with engine.begin() as conn:
        if is_sqlite(conn):
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield conn


def shift(conn: Connection, from_seq: int, delta: int) -> None:
    """Renumber events from ``from_seq`` on by ``delta`` (through negatives, to dodge the unique key)."""
    for table in ("log_event_targets", "log_events"):
        conn.execute(
            text(f"UPDATE {table} SET seq = -(seq + :d) WHERE seq >= :s"), {"d": delta, "s": from_seq}
        )
        conn.execute(text(f"UPDATE {table} SET seq = -seq WHERE seq < 0"))


def row(conn: Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(text("SELECT * FROM log_events WHERE seq = :s"), {"s": seq}).mappings().one())


def test_an_intact_log_verifies(log: Engine, settings: Settings) -> None:
    assert findings(log, settings) == []


def test_an_edit_is_named(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        conn.execute(text("UPDATE log_events SET body = replace(body, 'alice@', 'mallory@') WHERE seq = 4"))
    assert [(f.kind, f.seq) for f in findings(log, settings)] == [("edited", 4)]


def test_an_edit_with_a_recomputed_hash_is_named(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        victim = row(conn, 8)
        body = str(victim["body"]).replace("alice@", "mallory@")
        new_hash = chain_hash(str(victim["prev_hash"]), body.encode())
        conn.execute(
            text("UPDATE log_events SET body = :b, hash = :h WHERE seq = 8"), {"b": body, "h": new_hash}
        )
    assert [(f.kind, f.seq) for f in findings(log, settings)] == [("altered", 8)]


def test_a_deletion_is_named(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM log_event_targets WHERE seq = 5"))
        conn.execute(text("DELETE FROM log_events WHERE seq = 5"))
    assert [(f.kind, f.seq) for f in findings(log, settings)] == [("deleted", 5)]


def test_a_deletion_with_renumbering_is_detected(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM log_event_targets WHERE seq = 9"))
        conn.execute(text("DELETE FROM log_events WHERE seq = 9"))
        shift(conn, 10, -1)
        conn.execute(text("UPDATE log_head SET seq = seq - 1"))
    # Event 9's successor now sits at seq 9 and chains to a hash no event has: named at seq 8.
    assert [(f.kind, f.seq) for f in findings(log, settings)] == [("altered", 8)]


def test_an_insertion_is_named(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        before, original = row(conn, 6), row(conn, 7)
        shift(conn, 7, 1)
        forged = str(original["body"]).replace("alice@", "forged@").replace(str(original["uuid"]), "0" * 36)
        conn.execute(
            text(
                "INSERT INTO log_events (seq, uuid, published_ms, event_type, severity, outcome_result,"
                " actor_id, transaction_id, body, prev_hash, hash)"
                " VALUES (7, :u, :p, :e, 'INFO', 'SUCCESS', 'x', 'x', :b, :prev, :h)"
            ),
            {
                "u": "0" * 36,
                "p": original["published_ms"],
                "e": original["event_type"],
                "b": forged,
                "prev": before["hash"],
                "h": chain_hash(str(before["hash"]), forged.encode()),
            },
        )
    named = [(f.kind, f.seq) for f in findings(log, settings) if f.kind != "head"]
    assert named == [("inserted", 7)]


def test_a_reordering_is_named(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        conn.execute(text("UPDATE log_events SET seq = -1 WHERE seq = 10"))
        conn.execute(text("UPDATE log_events SET seq = 10 WHERE seq = 11"))
        conn.execute(text("UPDATE log_events SET seq = 11 WHERE seq = -1"))
    assert [(f.kind, f.seq) for f in findings(log, settings)] == [("reordered", 10)]


def test_events_appended_or_cut_at_the_end_are_detected(log: Engine, settings: Settings) -> None:
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM log_event_targets WHERE seq >= 11"))
        conn.execute(text("DELETE FROM log_events WHERE seq >= 11"))
    assert [f.kind for f in findings(log, settings)] == ["head"]


def test_truncation_with_a_rewritten_head_is_caught_by_a_checkpoint(
    log: Engine, app: FastAPI, settings: Settings
) -> None:
    checkpoint_now(log, settings, app.state.deps.org_id)  # signs seq 12
    with tampering(log) as conn:
        tail = row(conn, 10)
        conn.execute(text("DELETE FROM log_event_targets WHERE seq >= 11"))
        conn.execute(text("DELETE FROM log_events WHERE seq >= 11"))
        conn.execute(text("UPDATE log_head SET seq = 10, hash = :h"), {"h": tail["hash"]})
    (finding,) = findings(log, settings)
    assert finding.kind == "checkpoint"
    assert "deleted from the end" in finding.message


def test_forged_or_removed_checkpoints_are_detected(log: Engine, app: FastAPI, settings: Settings) -> None:
    checkpoint_now(log, settings, app.state.deps.org_id)
    checkpoint_now(log, settings, app.state.deps.org_id)
    with tampering(log) as conn:
        conn.execute(
            text("UPDATE log_checkpoints SET payload = replace(payload, :a, :b) WHERE id = 2"),
            {"a": '"seq":12', "b": '"seq":11'},
        )
    assert [f.message for f in findings(log, settings)] == [
        "checkpoint 2: the signature does not verify",
        "checkpoint 3: its predecessor is missing or was altered",
    ]
    with tampering(log) as conn:
        conn.execute(text("DELETE FROM log_checkpoints WHERE id = 2"))
    assert [f.message for f in findings(log, settings)] == [
        "checkpoint 3: its predecessor is missing or was altered"
    ]


@pytest.mark.parametrize("seed", range(6))
def test_random_tampering_is_always_detected(log: Engine, settings: Settings, seed: int) -> None:
    rng = random.Random(seed)
    victim = rng.randint(2, EVENTS - 1)
    action = rng.choice(["edit", "delete", "swap", "rewrite-actor"])
    with tampering(log) as conn:
        if action == "edit":
            conn.execute(
                text("UPDATE log_events SET body = replace(body, 'INFO', 'DEBUG') WHERE seq = :s"),
                {"s": victim},
            )
        elif action == "delete":
            conn.execute(text("DELETE FROM log_event_targets WHERE seq = :s"), {"s": victim})
            conn.execute(text("DELETE FROM log_events WHERE seq = :s"), {"s": victim})
        elif action == "swap":
            conn.execute(text("UPDATE log_events SET seq = -1 WHERE seq = :s"), {"s": victim})
            conn.execute(
                text("UPDATE log_events SET seq = :s WHERE seq = :n"), {"s": victim, "n": victim + 1}
            )
            conn.execute(text("UPDATE log_events SET seq = :n WHERE seq = -1"), {"n": victim + 1})
        else:
            conn.execute(
                text("UPDATE log_events SET body = replace(body, 'Alice Admin', 'Nobody') WHERE seq = :s"),
                {"s": victim},
            )
    found = findings(log, settings)
    assert found, f"{action} of seq {victim} went unnoticed"
    assert victim in {f.seq for f in found}


def test_checkpoints_are_published_and_verify_outside(
    log: Engine, client: TestClient, auth: dict[str, str], app: FastAPI, settings: Settings
) -> None:
    checkpoint_now(log, settings, app.state.deps.org_id)
    checkpoint_now(log, settings, app.state.deps.org_id)  # also when nothing new happened
    response = client.get("/api/v1/logs/checkpoints", headers=auth)
    assert response.status_code == 200
    document = response.json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["publicKey"]["key"]))
    seqs = []
    for item in document["data"]:
        key.verify(base64.b64decode(item["signature"]), item["payload"].encode())  # raises if forged
        seqs.append(int(item["payload"].split('"seq":')[1].split(",")[0]))
    assert seqs == [6, 12, 12]


def test_signing_key_file_is_private(tmp_path: Path) -> None:
    settings = Settings(signing_key_file=tmp_path / "sign.key")
    signer = signer_for(settings)
    assert (tmp_path / "sign.key").stat().st_mode & 0o777 == 0o600
    assert signer_for(settings) is signer
