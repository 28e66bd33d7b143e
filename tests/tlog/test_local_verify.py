"""Local ``registrar verify``: the tree against the bodies, the indexed columns and target rows against the
bytes, and ``--reconcile`` reading outcomes from the bytes. Each tampering is caught and named."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine, select, text, update
from starlette.testclient import TestClient

from registrar.integrity.reconcile import reconcile
from registrar.integrity.verify import Finding, verify_derived, verify_log
from registrar.store.eventlog import chain_hash
from registrar.store.schema import log_events, log_head

from ..syslog.test_logs_api import make_events
from .stored import append


def derived(engine: Engine) -> list[Finding]:
    with engine.connect() as conn:
        return verify_derived(conn, verify_log(conn, None))


def test_an_intact_log_has_nothing_to_report(engine: Engine) -> None:
    append(engine, 40, per_transaction=7)
    assert derived(engine) == []


def test_an_edited_body_with_a_rehashed_chain_is_caught_by_the_tree(engine: Engine) -> None:
    append(engine, 12, per_transaction=12)
    with engine.begin() as conn:
        rows = conn.execute(select(log_events).order_by(log_events.c.seq)).all()
        prev = rows[4].prev_hash
        for row in rows[4:]:
            body = row.body.replace('"Server 4"', '"Server X"') if row.seq == 5 else row.body
            digest = chain_hash(prev, body.encode())
            conn.execute(
                update(log_events)
                .where(log_events.c.seq == row.seq)
                .values(body=body, prev_hash=prev, hash=digest)
            )
            prev = digest
        conn.execute(update(log_head).values(hash=prev))
    with engine.connect() as conn:
        chain = verify_log(conn, None)
        assert [f.kind for f in chain if f.kind != "checkpoint"] == []  # the chain alone is fooled
        found = verify_derived(conn, chain)
    assert [(f.kind, f.seq) for f in found] == [("tree", 5)]
    assert "not the hash of its stored bytes" in found[0].message


def test_an_edited_indexed_column_is_named(engine: Engine) -> None:
    append(engine, 10)
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_events SET event_type = 'hidden' WHERE seq = 3"))
        conn.execute(text("UPDATE log_events SET published_ms = published_ms - 1 WHERE seq = 6"))
    found = derived(engine)
    assert [(f.kind, f.seq) for f in found] == [("column", 3), ("column", 6)]
    assert "column event_type is 'hidden'" in found[0].message
    assert "resource_servers.api_server.update" in found[0].message
    assert "column published_ms" in found[1].message


def test_an_edited_target_row_is_named(engine: Engine) -> None:
    append(engine, 10)
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_event_targets SET target_id = 'aps-elsewhere' WHERE seq = 8"))
    found = derived(engine)
    assert [(f.kind, f.seq) for f in found] == [("column", 8)]
    assert "log_event_targets" in found[0].message and "aps-elsewhere" in found[0].message


def test_a_deleted_tail_with_a_rewritten_head_leaves_the_tree_behind(engine: Engine) -> None:
    append(engine, 20, per_transaction=20)
    with engine.begin() as conn:
        last = conn.execute(select(log_events.c.hash).where(log_events.c.seq == 17)).scalar_one()
        conn.execute(text("DELETE FROM log_event_targets WHERE seq > 17"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("DELETE FROM log_event_search WHERE seq > 17"))
        conn.execute(text("DELETE FROM log_events WHERE seq > 17"))
        conn.execute(update(log_head).values(seq=17, hash=last))
    with engine.connect() as conn:
        chain = verify_log(conn, None)
        assert [f for f in chain if f.kind in ("deleted", "head")] == []  # the chain alone is fooled
    found = derived(engine)
    assert {f.kind for f in found} == {"tree"}
    messages = " | ".join(f.message for f in found)
    assert "beyond its size 17" in messages and "deleted from the end" in messages
    assert "the head's frontier is not the right edge of the stored tree" in messages


def test_reconcile_reads_outcomes_from_the_bytes(
    client: TestClient, auth: dict[str, str], app: FastAPI
) -> None:
    engine: Engine = app.state.deps.engine
    make_events(client, auth, 2)
    with engine.connect() as conn:
        assert reconcile(conn) == []
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_events SET outcome_result = 'FAILURE' WHERE seq = 2"))
    with engine.connect() as conn:
        assert reconcile(conn) == []  # the column lies; the bytes still say SUCCESS
        found = verify_derived(conn, [])
    assert [(f.kind, f.seq) for f in found] == [("column", 2)]
    assert "outcome_result is 'FAILURE'" in found[0].message
