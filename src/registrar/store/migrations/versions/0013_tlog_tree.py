"""The log's Merkle tree: every complete subtree's hash, and the frontier in the log head.

The tree is built over the events already stored, in sequence order, in batches: leaf *i* is the stored
bytes of the event at log position *i* + 1, so the tree covers exactly ``log_head.seq`` leaves.

A log purged before this revision (``first_seq > 1``) no longer has the bytes of its first events, and
nothing else records their leaf hashes. Their positions still exist (leaf *i* stays event *i* + 1 for every
retained event, so indices, tiles and proofs mean what the API says), but they hold a placeholder: the leaf
hash of the empty string. No event is empty (every one is a JSON object), so a placeholder can never be
mistaken for an event; those leaves are below the log's minimum index, declared pruned like any purged
entry, and the retained log's link to them is the hash chain's ``anchor_hash``, which the signed
checkpoint of that purge vouches for. Events purged after this revision keep their true leaf hashes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from registrar.store.migrations._ddl import add_columns, drop_columns, primary_key
from registrar.tlog._tree import Frontier, append_leaves, leaf_hash, pack_frontier

revision = "0013"
down_revision = "0012"

_BATCH = 5000
_PURGED_LEAF = b""  # the placeholder of an event purged before the tree existed

_events = sa.table("log_events", sa.column("seq", sa.BigInteger()), sa.column("body", sa.Text()))
_head = sa.table(
    "log_head",
    sa.column("singleton", sa.Integer()),
    sa.column("seq", sa.BigInteger()),
    sa.column("first_seq", sa.BigInteger()),
    sa.column("frontier", sa.LargeBinary()),
)
_nodes = sa.table(
    "tlog_nodes",
    sa.column("level", sa.SmallInteger()),
    sa.column("idx", sa.BigInteger()),
    sa.column("hash", sa.LargeBinary()),
)


def upgrade() -> None:
    op.create_table(
        "tlog_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        primary_key("tlog_nodes", "level", "idx"),
    )
    add_columns("log_head", sa.Column("frontier", sa.LargeBinary()))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    head = conn.execute(sa.select(_head.c.seq, _head.c.first_seq).where(_head.c.singleton == 1)).first()
    if head is None or int(head.seq) == 0:
        return  # a new database: the head is created empty, the tree with it
    size = int(head.seq)
    frontier: Frontier = []
    position = 0  # leaves made so far
    while position < size:
        high = min(position + _BATCH, size)
        rows = conn.execute(
            sa.select(_events.c.seq, _events.c.body).where(_events.c.seq > position, _events.c.seq <= high)
        ).all()
        bodies = {int(r.seq): r.body.encode() for r in rows}
        leaves = [leaf_hash(bodies.get(seq, _PURGED_LEAF)) for seq in range(position + 1, high + 1)]
        frontier, made = append_leaves(frontier, leaves)
        conn.execute(sa.insert(_nodes), [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in made])
        position = high
    conn.execute(sa.update(_head).where(_head.c.singleton == 1).values(frontier=pack_frontier(frontier)))


def downgrade() -> None:
    drop_columns("log_head", "frontier")
    op.drop_table("tlog_nodes")
