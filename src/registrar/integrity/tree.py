"""Checking the Merkle tree in the database against the stored events, node by node.

Every leaf still backed by an event must be the hash of that event's stored bytes; every interior node the
hash of its two children; each level must hold exactly ``size >> level`` nodes (no more: a tail deleted
with the head rewritten leaves its leaves behind; no fewer); and the head's frontier must be the tree's
right edge. Leaves of purged events are checked only through their parents (their bytes are gone). One
pass per level over ``tlog_nodes``, in batches: O(n) reads, little memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection

from registrar.store.schema import log_events, log_head
from registrar.tlog import DatabaseNodes, MissingNodes, leaf_hash, node_hash, unpack_frontier

from .findings import Finding
from .scan import event_batches, level_nodes

__all__ = ["check_tree"]


def _bodies(conn: Connection) -> Iterator[tuple[int, bytes]]:
    for rows in event_batches(conn, log_events.c.body):
        for row in rows:
            yield int(row.seq), row.body.encode()


def _count(level: int, got: list[int], size: int) -> list[Finding]:
    """Findings for a level whose node indices were ``got`` (in order) in a tree of ``size`` leaves."""
    want = size >> level
    extra = [i for i in got if i >= want]
    findings = []
    if extra:
        findings.append(
            Finding(
                "tree",
                None,
                f"the tree holds {len(extra)} node(s) at level {level} beyond its size {size} (from index "
                f"{extra[0]}): events were deleted from the end and the head rewritten",
            )
        )
    inside = len(got) - len(extra)
    if inside != want:
        findings.append(
            Finding("tree", None, f"the tree lacks {want - inside} of its {want} node(s) at level {level}")
        )
    return findings


def _parents(children: Iterator[tuple[int, bytes]]) -> Iterator[tuple[int, bytes]]:
    """``(index, hash)`` of every parent whose two children are stored, from the children in order."""
    left: tuple[int, bytes] | None = None
    for index, digest in children:
        if index % 2 == 0:
            left = (index, digest)
        elif left is not None and left[0] == index - 1:
            yield index // 2, node_hash(left[1], digest)
            left = None


def _check_leaves(conn: Connection, size: int) -> tuple[list[Finding], int]:
    """Level 0 against the stored bodies; also returns the highest leaf index stored plus one."""
    findings: list[Finding] = []
    bodies = _bodies(conn)
    body = next(bodies, None)
    got: list[int] = []
    for index, digest in level_nodes(conn, 0):
        got.append(index)
        while body is not None and body[0] < index + 1:
            body = next(bodies, None)
        if body is not None and body[0] == index + 1 and leaf_hash(body[1]) != digest:
            findings.append(
                Finding(
                    "tree",
                    index + 1,
                    f"event seq {index + 1}: its leaf in the Merkle tree is not the hash of its stored bytes",
                )
            )
    return findings + _count(0, got, size), (got[-1] + 1 if got else 0)


def _check_level(conn: Connection, level: int, size: int) -> tuple[list[Finding], bool]:
    """Level ``level`` against its children; also says whether the level holds any node."""
    findings: list[Finding] = []
    expected = _parents(level_nodes(conn, level - 1))
    want = next(expected, None)
    got: list[int] = []
    for index, digest in level_nodes(conn, level):
        got.append(index)
        while want is not None and want[0] < index:
            want = next(expected, None)
        if want is not None and want[0] == index and want[1] != digest:
            findings.append(
                Finding(
                    "tree",
                    None,
                    f"tree node (level {level}, index {index}) is not the hash of its two children",
                )
            )
    return findings + _count(level, got, size), bool(got)


def _check_frontier(conn: Connection, packed: bytes | None, size: int) -> list[Finding]:
    try:
        frontier = unpack_frontier(None if packed is None else bytes(packed), size)
    except ValueError as error:
        return [Finding("tree", None, f"the head's frontier does not fit its size: {error}")]
    coords = [(level, (size >> level) - 1) for level, _ in frontier]
    try:
        stored = DatabaseNodes(conn).nodes(coords)
    except MissingNodes:
        return []  # already reported as missing nodes
    if [stored[c] for c in coords] != [digest for _, digest in frontier]:
        return [Finding("tree", None, "the head's frontier is not the right edge of the stored tree")]
    return []


def check_tree(conn: Connection) -> list[Finding]:
    """Every disagreement between ``tlog_nodes``, the head's frontier and the stored events."""
    head = conn.execute(select(log_head.c.seq, log_head.c.frontier).where(log_head.c.singleton == 1)).one()
    size = int(head.seq)
    findings, stored = _check_leaves(conn, size)
    for level in range(1, max(size, stored).bit_length() + 1):
        found, any_node = _check_level(conn, level, size)
        findings += found
        if not any_node and size >> level == 0:
            break
    return findings + _check_frontier(conn, head.frontier, size)
