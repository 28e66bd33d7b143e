"""The tree in the store: every append keeps ``tlog_nodes`` and the head's frontier equal to the tree the
stored bodies make (RFC 9162, recomputed independently), whatever the batching or the concurrency."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, delete

from registrar.events.catalog import API_SERVER_UPDATE, api_server_target
from registrar.store.schema import tlog_nodes
from registrar.store.uow import unit_of_work
from registrar.tlog import (
    DatabaseNodes,
    MissingNodes,
    consistency_proof,
    current_root,
    inclusion_proof,
    tree_head,
    tree_size,
)

from . import independent
from .stored import CONTEXT, append, bodies, expected_nodes, stored_nodes


def assert_tree_matches_bodies(engine: Engine) -> list[bytes]:
    leaves = bodies(engine)
    assert stored_nodes(engine) == expected_nodes(leaves)
    with engine.connect() as conn:
        assert tree_size(conn) == len(leaves)
        assert current_root(conn) == independent.mth([independent.leaf_hash(b) for b in leaves])
    return leaves


@pytest.mark.parametrize("per_transaction", [1, 7, 256])
def test_appends_keep_the_nodes_equal_to_the_tree_of_the_bodies(engine: Engine, per_transaction: int) -> None:
    with engine.connect() as conn:
        assert tree_head(conn).size == 0
        assert current_root(conn) == independent.mth([])
    append(engine, 300, per_transaction=per_transaction)
    leaves = assert_tree_matches_bodies(engine)
    assert len(leaves) == 300
    # About two rows per event: every complete subtree, all levels.
    assert len(stored_nodes(engine)) == sum(300 >> level for level in range(9))


def test_concurrent_writers_keep_one_consistent_tree(engine: Engine) -> None:
    writers, transactions = 6, 12
    start = threading.Barrier(writers)

    def writer(n: int) -> None:
        start.wait()
        for i in range(transactions):
            with unit_of_work(engine, CONTEXT) as uow:
                for _ in range(1 + (i + n) % 3):
                    uow.record(
                        API_SERVER_UPDATE, [api_server_target(f"aps{n:03d}{i:014d}", "https://x/", "x")]
                    )

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    leaves = assert_tree_matches_bodies(engine)
    assert len(leaves) == sum(1 + (i + n) % 3 for n in range(writers) for i in range(transactions))


def test_database_proofs_verify_independently(engine: Engine) -> None:
    append(engine, 70, per_transaction=9)
    leaves = [independent.leaf_hash(b) for b in bodies(engine)]
    rng = random.Random(12)
    with engine.connect() as conn:
        source = DatabaseNodes(conn)
        for _ in range(40):
            size = rng.randint(1, 70)
            index = rng.randrange(size)
            root = independent.mth(leaves[:size])
            path = inclusion_proof(index, size, source)
            assert independent.verify_inclusion(leaves[index], index, size, path, root)
            if size == 1:
                continue
            old = rng.randint(1, size - 1)  # RFC 9162 §2.1.4.2 verifies only proper prefixes
            proof = consistency_proof(old, size, source)
            assert independent.verify_consistency(old, size, independent.mth(leaves[:old]), root, proof)


def test_a_missing_node_is_named(engine: Engine) -> None:
    append(engine, 8, per_transaction=8)
    with engine.begin() as conn:
        conn.execute(delete(tlog_nodes).where(tlog_nodes.c.level == 1, tlog_nodes.c.idx == 1))
    with engine.connect() as conn, pytest.raises(MissingNodes, match=r"\(1, 1\)"):
        inclusion_proof(0, 8, DatabaseNodes(conn))
