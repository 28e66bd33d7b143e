"""The System Log as a C2SP transparency log: the Merkle tree, tiles, signed checkpoints, proofs."""

from __future__ import annotations

from ._store import (
    DatabaseNodes,
    MissingNodes,
    TreeHead,
    current_root,
    leaf_bodies,
    level_hashes,
    minimum_index,
    tree_head,
    tree_size,
)
from ._tree import (
    EMPTY_ROOT,
    Frontier,
    NodeSource,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    pack_frontier,
    root_from_frontier,
    tree_root,
    unpack_frontier,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "DatabaseNodes",
    "Frontier",
    "MissingNodes",
    "NodeSource",
    "TreeHead",
    "append_leaves",
    "consistency_proof",
    "current_root",
    "inclusion_proof",
    "leaf_bodies",
    "leaf_hash",
    "level_hashes",
    "minimum_index",
    "node_hash",
    "pack_frontier",
    "root_from_frontier",
    "tree_head",
    "tree_root",
    "tree_size",
    "unpack_frontier",
    "verify_consistency",
    "verify_inclusion",
]
