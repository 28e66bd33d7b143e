"""The System Log as a C2SP transparency log: the Merkle tree, tiles, signed checkpoints, proofs."""

from __future__ import annotations

from ._tree import (
    EMPTY_ROOT,
    Frontier,
    NodeSource,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_frontier,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "NodeSource",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_frontier",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]
