"""The tree math against the RFC 9162 definitions written out naively (recursion over the leaves)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from registrar.tlog import (
    EMPTY_ROOT,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_frontier,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, literally."""
    n = len(leaves)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


class DictSource:
    def __init__(self, nodes: dict[tuple[int, int], bytes]):
        self.store = nodes
        self.calls = 0

    def nodes(self, coords: Iterable[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
        self.calls += 1
        return {c: self.store[c] for c in coords}


def build(leaves: list[bytes]) -> tuple[DictSource, list[tuple[int, bytes]]]:
    frontier: list[tuple[int, bytes]] = []
    store: dict[tuple[int, int], bytes] = {}
    # In uneven batches, as transactions append them.
    i = 0
    while i < len(leaves):
        step = 1 + i % 5
        frontier, made = append_leaves(frontier, [leaf_hash(x) for x in leaves[i : i + step]])
        store.update({(level, index): digest for level, index, digest in made})
        i += step
    return DictSource(store), frontier


SIZES = st.integers(min_value=1, max_value=300)


@settings(max_examples=60, deadline=None)
@given(SIZES)
def test_roots_match_the_definition_at_every_size(n: int) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    source, frontier = build(leaves)
    assert root_from_frontier(frontier) == mth(leaves)
    assert tree_root(n, source) == mth(leaves)
    m = max(1, n // 3)
    assert tree_root(m, source) == mth(leaves[:m])  # an older size, from the same nodes
    assert source.calls == 2  # one fetch per proof or root


@settings(max_examples=60, deadline=None)
@given(SIZES, st.data())
def test_inclusion_proofs_match_and_verify(n: int, data: st.DataObject) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    source, _ = build(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = inclusion_proof(index, size, source)
    assert proof == path(index, leaves[:size])
    root = mth(leaves[:size])
    assert verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)
    assert not verify_inclusion(leaf_hash(b"forged"), index, size, proof, root)
    if size > 1:
        assert not verify_inclusion(leaf_hash(leaves[index]), (index + 1) % size, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(SIZES, st.data())
def test_consistency_proofs_match_and_verify(n: int, data: st.DataObject) -> None:
    leaves = [f"event {i}".encode() for i in range(n)]
    source, _ = build(leaves)
    new = data.draw(st.integers(min_value=1, max_value=n))
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = consistency_proof(old, new, source)
    assert proof == ([] if old == new else subproof(old, leaves[:new], True))
    old_root, new_root = mth(leaves[:old]), mth(leaves[:new])
    assert verify_consistency(old, new, old_root, new_root, proof)
    if old < new:
        rewritten = [*leaves[: old - 1], b"rewritten", *leaves[old:new]]
        assert not verify_consistency(old, new, old_root, mth(rewritten), proof)


def test_the_empty_tree() -> None:
    assert root_from_frontier([]) == EMPTY_ROOT == mth([])
    assert consistency_proof(0, 5, DictSource({})) == []
