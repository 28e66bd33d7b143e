"""The tree as the database holds it: ``tlog_nodes`` (every complete subtree) and the head's frontier.

The tree size is the log head's ``seq``: leaf *i* is the event at log position *i* + 1, so the tree and the
hash chain always describe the same prefix (both are written under the head's lock, in one transaction).
Purges delete event bodies, never nodes: ``minimum_index`` is then the first leaf whose bytes remain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from registrar.store.schema import log_events, log_head, tlog_nodes

from ._layout import Tile, encode_bundle
from ._tree import Coord, Frontier, root_from_frontier, unpack_frontier

__all__ = [
    "DatabaseNodes",
    "MissingNodes",
    "Pruned",
    "TreeHead",
    "current_root",
    "leaf_bodies",
    "level_hashes",
    "minimum_index",
    "read_entry_bundle",
    "read_tile",
    "tree_head",
    "tree_size",
]


class MissingNodes(LookupError):
    """Nodes a proof needs are not stored (a tree damaged in the database, or a size beyond the tree)."""

    def __init__(self, missing: Iterable[Coord]):
        self.missing = sorted(missing)
        shown = ", ".join(f"({level}, {index})" for level, index in self.missing[:5])
        more = f" and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
        super().__init__(f"tree nodes (level, index) not stored: {shown}{more}")


class DatabaseNodes:
    """A :class:`~registrar.tlog.NodeSource` over ``tlog_nodes``: one query per proof."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def nodes(self, coords: Iterable[Coord]) -> dict[Coord, bytes]:
        """The hashes of ``coords``, fetched in one query; raises :class:`MissingNodes` if any is absent.

        One point lookup per node on the primary key, OR-ed, as literal SQL text with bound values: the
        SQLAlchemy expression for the same query costs ~1.3 ms to build and compile per proof, ten times
        what the database takes (the statement's shape changes with every proof, so no compiled form is
        reused).
        """
        wanted = sorted(set(coords))
        if not wanted:
            return {}
        where = " OR ".join(f"(level = :l{k} AND idx = :i{k})" for k in range(len(wanted)))
        params: dict[str, int] = {}
        for k, (level, index) in enumerate(wanted):
            params[f"l{k}"], params[f"i{k}"] = level, index
        # Only placeholder names go into the text; every value is bound.
        query = text(f"SELECT level, idx, hash FROM tlog_nodes WHERE {where}")  # noqa: S608
        rows = self._conn.execute(query, params)
        found = {(int(level), int(index)): bytes(digest) for level, index, digest in rows}
        if missing := set(wanted) - found.keys():
            raise MissingNodes(missing)
        return found


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The tree as of the log head: its size (= the head's ``seq``), root and right edge."""

    size: int
    root: bytes
    frontier: Frontier


def tree_head(conn: Connection) -> TreeHead:
    """The current tree, read with the log head in one row (a committed, gap-free prefix)."""
    row = conn.execute(select(log_head.c.seq, log_head.c.frontier).where(log_head.c.singleton == 1)).one()
    size = int(row.seq)
    frontier = unpack_frontier(None if row.frontier is None else bytes(row.frontier), size)
    return TreeHead(size=size, root=root_from_frontier(frontier), frontier=frontier)


def tree_size(conn: Connection) -> int:
    """How many leaves the tree holds: the log head's ``seq``."""
    return int(conn.execute(select(log_head.c.seq).where(log_head.c.singleton == 1)).scalar_one())


def current_root(conn: Connection) -> bytes:
    """The root hash of the current tree (RFC 6962 MTH), from the head's frontier."""
    return tree_head(conn).root


def minimum_index(conn: Connection) -> int:
    """The first leaf whose event is still stored (tlog-tiles' minimum index): 0 until a purge."""
    first_seq = conn.execute(select(log_head.c.first_seq).where(log_head.c.singleton == 1)).scalar_one()
    return int(first_seq) - 1


def level_hashes(conn: Connection, level: int, start: int, count: int) -> list[bytes]:
    """The hashes of nodes ``start .. start+count-1`` at ``level``, in order (the leading run stored)."""
    rows = conn.execute(
        select(tlog_nodes.c.idx, tlog_nodes.c.hash)
        .where(tlog_nodes.c.level == level, tlog_nodes.c.idx >= start, tlog_nodes.c.idx < start + count)
        .order_by(tlog_nodes.c.idx)
    ).all()
    hashes: list[bytes] = []
    for expected, row in enumerate(rows, start):
        if int(row.idx) != expected:
            break
        hashes.append(bytes(row.hash))
    return hashes


def leaf_bodies(conn: Connection, start: int, count: int) -> list[bytes]:
    """The stored bytes of leaves ``start .. start+count-1`` (events ``start+1 ..``), in order; only the
    leading run that is stored (a purged or missing event ends it)."""
    rows = conn.execute(
        select(log_events.c.seq, log_events.c.body)
        .where(log_events.c.seq > start, log_events.c.seq <= start + count)
        .order_by(log_events.c.seq)
    ).all()
    bodies: list[bytes] = []
    for expected, row in enumerate(rows, start + 1):
        if int(row.seq) != expected:
            break
        bodies.append(row.body.encode())
    return bodies


class Pruned(LookupError):
    """An entry bundle whose events were purged (below the log's minimum index): its hashes remain."""

    def __init__(self, coord: Tile, minimum: int):
        self.coord = coord
        self.minimum = minimum
        super().__init__(f"{coord.path} is pruned: the log's minimum index is {minimum}")


def _within(coord: Tile, size: int) -> bool:
    """Whether the tree of ``size`` leaves has every node ``coord`` holds (a full tile: all 256)."""
    return coord.start + coord.width <= size >> coord.tree_level


def read_tile(conn: Connection, coord: Tile) -> bytes | None:
    """The bytes of a hash tile (concatenated 32-byte hashes); None when the tree does not have them yet.

    Hash tiles outlive purges: the nodes of purged events are kept, so every retained proof stays valid.
    """
    if not _within(coord, tree_size(conn)):
        return None
    hashes = level_hashes(conn, coord.tree_level, coord.start, coord.width)
    if len(hashes) != coord.width:
        raise MissingNodes(
            (coord.tree_level, i) for i in range(coord.start + len(hashes), coord.start + coord.width)
        )
    return b"".join(hashes)


def read_entry_bundle(conn: Connection, coord: Tile) -> bytes | None:
    """The entry bundle of ``coord`` (None when the tree does not have those leaves yet).

    Raises :class:`Pruned` when any of its events was purged: a bundle is served whole or not at all.
    """
    if not _within(coord, tree_size(conn)):
        return None
    minimum = minimum_index(conn)
    if coord.start < minimum:
        raise Pruned(coord, minimum)
    bodies = leaf_bodies(conn, coord.start, coord.width)
    if len(bodies) != coord.width:
        minimum = minimum_index(conn)
        if coord.start < minimum:  # purged while we read
            raise Pruned(coord, minimum)
        raise LookupError(f"{coord.path}: event seq {coord.start + len(bodies) + 1} is missing from the log")
    return encode_bundle(bodies)
