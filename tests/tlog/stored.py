"""Helpers for the tree-in-the-store tests: append events fast, and the tree the bodies should make.

The expected tree is computed with the independent verifier's ``mth`` (RFC 9162 §2.1.1 written out), never
with ``registrar.tlog``: a node at (level, index) is the MTH of its 2**level leaves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events.builder import build_event
from registrar.events.catalog import API_SERVER_UPDATE, api_server_target
from registrar.store.eventlog import append_history
from registrar.store.schema import log_events, tlog_nodes

from . import independent

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONTEXT = RequestContext(
    request_id="tlog-tests",
    actor=Actor("00u0000000000000test", "User", "test@example.com", "Test"),
    client=ClientInfo("127.0.0.1", "tests"),
    request_uri="/",
    url="/",
)


def append(engine: Engine, count: int, *, per_transaction: int = 50, first: int = 0) -> None:
    """Append ``count`` events (``per_transaction`` per transaction), published a second apart."""
    done = 0
    while done < count:
        batch = []
        for i in range(first + done, first + min(done + per_transaction, count)):
            published = T0 + timedelta(seconds=i)
            target = api_server_target(f"aps{i:017d}", f"https://api.example.com/{i}", f"Server {i}")
            batch.append((build_event(API_SERVER_UPDATE, CONTEXT, [target], published), published))
        with engine.begin() as conn:
            append_history(conn, batch)
        done += len(batch)


def bodies(engine: Engine) -> list[bytes]:
    """The stored bytes of every event, in log order."""
    with engine.connect() as conn:
        rows = conn.execute(select(log_events.c.body).order_by(log_events.c.seq)).scalars().all()
    return [body.encode() for body in rows]


def stored_nodes(engine: Engine) -> dict[tuple[int, int], bytes]:
    """Every row of ``tlog_nodes``."""
    with engine.connect() as conn:
        rows = conn.execute(select(tlog_nodes.c.level, tlog_nodes.c.idx, tlog_nodes.c.hash)).all()
    return {(int(r.level), int(r.idx)): bytes(r.hash) for r in rows}


def expected_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete subtree of the tree over ``leaves`` (entries, not hashes), by the RFC definition."""
    hashes = [independent.leaf_hash(leaf) for leaf in leaves]
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while (1 << level) <= len(hashes):
        width = 1 << level
        for index in range(len(hashes) // width):
            nodes[(level, index)] = independent.mth(hashes[index * width : (index + 1) * width])
        level += 1
    return nodes
