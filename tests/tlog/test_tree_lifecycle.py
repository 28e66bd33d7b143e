"""The tree across a schema upgrade and a purge: migration 0013 builds it over an existing log (placeholder
leaves for events purged before the tree existed), and purging bodies keeps every node, so the size, the root
and every retained event's proof stay valid while the purged entry bundles are declared pruned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Engine, inspect, text
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.integrity.retention import set_policy
from registrar.integrity.service import purge_now
from registrar.store import database
from registrar.tlog import DatabaseNodes, current_root, inclusion_proof, tree_size

from ..integrity.test_retention import backdate
from . import independent
from .stored import append, bodies, expected_nodes, stored_nodes


@contextmanager
def at_revision(engine: Engine, revision: str) -> Iterator[None]:
    """The schema at ``revision`` inside the block, migrated to head after it (whatever happens)."""
    config = Config()
    config.set_main_option("script_location", str(database._MIGRATIONS))

    with engine.connect().execution_options(**database.UNLIMITED) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    try:
        yield
    finally:
        database.migrate(engine)


def test_the_migration_builds_the_tree_over_an_existing_log(engine: Engine) -> None:
    append(engine, 600, per_transaction=100)
    before = stored_nodes(engine)
    with at_revision(engine, "0012"):
        assert not inspect(engine).has_table("tlog_nodes")
    leaves = bodies(engine)
    assert stored_nodes(engine) == before == expected_nodes(leaves)
    with engine.connect() as conn:
        assert current_root(conn) == independent.mth([independent.leaf_hash(b) for b in leaves])
    append(engine, 5, first=600)  # appends go on from the migrated frontier
    assert stored_nodes(engine) == expected_nodes(bodies(engine))


def test_a_log_purged_before_the_tree_gets_placeholder_leaves(
    app: FastAPI, client: TestClient, auth: dict[str, str]
) -> None:
    engine: Engine = app.state.deps.engine
    append(engine, 300, per_transaction=100)
    with at_revision(engine, "0012"), engine.begin() as conn:
        anchor = conn.execute(text("SELECT hash FROM log_events WHERE seq = 4")).scalar_one()
        conn.execute(text("DELETE FROM log_event_targets WHERE seq <= 4"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("DELETE FROM log_event_search WHERE seq <= 4"))
        conn.execute(text("DELETE FROM log_events WHERE seq <= 4"))
        conn.execute(text("UPDATE log_head SET first_seq = 5, anchor_hash = :a"), {"a": anchor})
    kept = bodies(engine)
    placeholder = independent.leaf_hash(b"")
    leaves = [placeholder] * 4 + [independent.leaf_hash(b) for b in kept]
    with engine.connect() as conn:
        assert tree_size(conn) == 300
        assert current_root(conn) == independent.mth(leaves)
        for index in (4, 5, 150, 299):  # leaf i is still the event at position i + 1
            path = inclusion_proof(index, 300, DatabaseNodes(conn))
            assert independent.verify_inclusion(leaves[index], index, 300, path, independent.mth(leaves))
    assert client.get("/api/v1/logs/tlog/tile/0/000", headers=auth).content[:128] == placeholder * 4
    pruned = client.get("/api/v1/logs/tlog/tile/entries/000", headers=auth)
    assert pruned.status_code == 404 and "pruned" in pruned.json()["errorSummary"]
    assert (
        independent.parse_bundle(client.get("/api/v1/logs/tlog/tile/entries/001.p/44", headers=auth).content)
        == kept[252:]
    )


def test_a_purge_keeps_the_tree_and_every_retained_proof(
    app: FastAPI, client: TestClient, auth: dict[str, str], settings: Settings
) -> None:
    engine: Engine = app.state.deps.engine
    with engine.begin() as conn:
        set_policy(conn, 3650)
    append(engine, 520, per_transaction=130)
    every = bodies(engine)
    nodes = stored_nodes(engine)
    with engine.connect() as conn:
        root = current_root(conn)
    backdate(engine, 300, 4000)
    # 300 expired, but only whole entry bundles go: events 1-256 (leaves 0-255); 257-300 wait for theirs.
    assert purge_now(engine, settings, app.state.deps.org_id) == 256
    assert stored_nodes(engine) == nodes  # no node goes with the bodies
    leaves = [independent.leaf_hash(b) for b in every]
    with engine.connect() as conn:
        assert (tree_size(conn), current_root(conn)) == (520, root)
        for index in (300, 301, 511, 519):
            path = inclusion_proof(index, 520, DatabaseNodes(conn))
            assert independent.verify_inclusion(leaves[index], index, 520, path, root)
    response = client.get("/api/v1/logs/tlog/tile/entries/000", headers=auth)
    assert response.status_code == 404
    assert "pruned: the log's minimum index is 256" in response.json()["errorSummary"]
    # The first retained bundle is served whole: every entry at or above the minimum index stays fetchable.
    assert (
        independent.parse_bundle(client.get("/api/v1/logs/tlog/tile/entries/001", headers=auth).content)
        == every[256:512]
    )
    assert client.get("/api/v1/logs/tlog/tile/0/000", headers=auth).content == b"".join(leaves[:256])
    assert (
        independent.parse_bundle(client.get("/api/v1/logs/tlog/tile/entries/002.p/8", headers=auth).content)
        == every[512:]
    )
