"""The Merkle tree of the log (RFC 6962 / RFC 9162 hashing), as pure functions over stored nodes.

Leaf *i* (0-based) is the stored bytes of the event at log position *i* + 1. Every complete subtree is
kept as a node ``(level, index)``: level 0 holds the leaf hashes, level *l* index *k* the hash of leaves
``k·2^l .. (k+1)·2^l - 1``. Appending is O(log n): the *frontier* (the complete subtrees along the right edge
of the tree, largest first) is all an append needs, and it yields the nodes the new leaves complete.

Proofs follow RFC 9162 §2.1.3 and §2.1.4. They are computed in two passes over a :class:`NodeSource`: the
first only collects the coordinates the proof needs, which the source then fetches at once (one query),
the second computes the proof from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "NodeSource",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "pack_frontier",
    "root_from_frontier",
    "tree_root",
    "unpack_frontier",
    "verify_consistency",
    "verify_inclusion",
]

Coord = tuple[int, int]  # (level, index) of a complete subtree
Frontier = list[tuple[int, bytes]]  # (level, hash) of the right edge's complete subtrees, largest first

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeSource(Protocol):
    """Where complete-subtree hashes come from (the database, a dict in tests, served tiles)."""

    def nodes(self, coords: Iterable[Coord]) -> Mapping[Coord, bytes]:
        """The hashes of ``coords``; every one of them must exist."""
        ...


def append_leaves(
    frontier: Frontier, leaves: Sequence[bytes]
) -> tuple[Frontier, list[tuple[int, int, bytes]]]:
    """Append leaf hashes to a tree of ``sum(2**level for level, _ in frontier)`` leaves.

    Returns the new frontier and every node the append completes, as ``(level, index, hash)``, the new
    leaves (level 0) included.
    """
    edge = list(frontier)
    size = sum(1 << level for level, _ in edge)
    made: list[tuple[int, int, bytes]] = []
    for leaf in leaves:
        level, digest, index = 0, leaf, size
        made.append((0, index, leaf))
        while edge and edge[-1][0] == level:
            _, left = edge.pop()
            digest = node_hash(left, digest)
            level += 1
            index >>= 1
            made.append((level, index, digest))
        edge.append((level, digest))
        size += 1
    return edge, made


def root_from_frontier(frontier: Frontier) -> bytes:
    """The root of the tree whose right edge is ``frontier``."""
    if not frontier:
        return EMPTY_ROOT
    digest = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        digest = node_hash(left, digest)
    return digest


def pack_frontier(frontier: Frontier) -> bytes:
    """The frontier as stored: its hashes, largest subtree first (the levels follow from the tree size)."""
    return b"".join(digest for _, digest in frontier)


def unpack_frontier(packed: bytes | None, size: int) -> Frontier:
    """The frontier of a tree of ``size`` leaves from :func:`pack_frontier`'s bytes (None: empty tree)."""
    levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
    packed = packed or b""
    if len(packed) != 32 * len(levels):
        raise ValueError(
            f"a tree of {size} leaves has {len(levels)} frontier hashes, not {len(packed) / 32:g}"
        )
    return [(level, packed[32 * i : 32 * i + 32]) for i, level in enumerate(levels)]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(start: int, n: int, need: Callable[[int, int], bytes]) -> bytes:
    """MTH of leaves ``start .. start+n-1`` (``start`` aligned as in the RFC's recursion)."""
    if n & (n - 1) == 0:  # a complete subtree: one stored node
        level = n.bit_length() - 1
        return need(level, start >> level)
    k = _split(n)
    return node_hash(_subtree(start, k, need), _subtree(start + k, n - k, need))


def _inclusion(m: int, start: int, n: int, need: Callable[[int, int], bytes]) -> list[bytes]:
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_inclusion(m, start, k, need), _subtree(start + k, n - k, need)]
    return [*_inclusion(m - k, start + k, n - k, need), _subtree(start, k, need)]


def _consistency(
    m: int, start: int, n: int, complete: bool, need: Callable[[int, int], bytes]
) -> list[bytes]:
    if m == n:
        return [] if complete else [_subtree(start, n, need)]
    k = _split(n)
    if m <= k:
        return [*_consistency(m, start, k, complete, need), _subtree(start + k, n - k, need)]
    return [*_consistency(m - k, start + k, n - k, False, need), _subtree(start, k, need)]


def _two_pass(
    compute: Callable[[Callable[[int, int], bytes]], list[bytes]], source: NodeSource
) -> list[bytes]:
    wanted: set[Coord] = set()

    def collect(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return EMPTY_ROOT

    compute(collect)
    found = source.nodes(sorted(wanted))
    return compute(lambda level, index: found[(level, index)])


def tree_root(size: int, source: NodeSource) -> bytes:
    """The root of the first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return _two_pass(lambda need: [_subtree(0, size, need)], source)[0]


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    return _two_pass(lambda need: _inclusion(index, 0, size, need), source)


def consistency_proof(old: int, new: int, source: NodeSource) -> list[bytes]:
    """The proof that the tree of ``old`` leaves is a prefix of the tree of ``new`` (RFC 9162 §2.1.4.1)."""
    if not 0 <= old <= new:
        raise ValueError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    return _two_pass(lambda need: _consistency(old, 0, new, True, need), source)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        left, fn, sn = _step(fn, sn)
        digest = node_hash(sibling, digest) if left else node_hash(digest, sibling)
    return sn == 0 and digest == root


def _step(fn: int, sn: int) -> tuple[bool, int, int]:
    """One step up a verification path (RFC 9162 §2.1.3.2, §2.1.4.2): whether the path's next node is
    on the left, and the next ``fn`` and ``sn``."""
    left = bool(fn & 1) or fn == sn
    if left:
        while fn and not fn & 1:
            fn >>= 1
            sn >>= 1
    return left, fn >> 1, sn >> 1


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows the tree of ``old`` leaves is a prefix of ``new``."""
    if old > new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node of the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        left, fn, sn = _step(fn, sn)
        if left:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    return sn == 0 and fr == old_root and sr == new_root
