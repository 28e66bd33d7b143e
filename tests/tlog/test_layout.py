"""The tlog-tiles layout Registrar serves and exports is the one the independent verifier reads."""

from __future__ import annotations

import pytest

from registrar.tlog import append_leaves, consistency_proof, leaf_hash, root_from_frontier, verify_consistency
from registrar.tlog._layout import (
    BundleError,
    Tile,
    TileHashes,
    encode_bundle,
    encode_index,
    entry_bundles,
    hash_tiles,
    parse_bundle,
)

from . import independent


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1234067, 10**9 + 7])
def test_indexes_are_encoded_as_the_spec_says(n: int) -> None:
    assert encode_index(n) == independent.encode_index(n)
    assert encode_index(1234067) == "x001/x234/067"


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 65535, 65536, 65537, 70_000, 16_777_217])
def test_a_size_has_the_tiles_and_bundles_the_spec_lists(size: int) -> None:
    ours = [t.path for t in hash_tiles(size)] + [t.path for t in entry_bundles(size)]
    assert ours == independent.tile_paths(size)


def test_tile_coordinates() -> None:
    tile = Tile(1, 3, 17)
    assert (tile.path, tile.start, tile.tree_level) == ("tile/1/003.p/17", 768, 8)
    assert Tile(None, 1000, 256).path == "tile/entries/x001/000"


def test_bundles_round_trip_and_refuse_what_is_cut_off() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = encode_bundle(entries)
    assert parse_bundle(data) == entries == independent.parse_bundle(data)
    for cut in (data[:1], data[:-1]):
        with pytest.raises(BundleError):
            parse_bundle(cut)
    with pytest.raises(BundleError, match="uint16"):
        encode_bundle([b"x" * 65536])


def test_nodes_read_from_tiles_prove_consistency() -> None:
    size = 70_000
    leaves = [leaf_hash(b"%d" % i) for i in range(size)]
    frontier, made = append_leaves([], leaves)
    stored = {(level, index): digest for level, index, digest in made}
    tiles = {
        (t.level, t.n): b"".join(stored[(t.tree_level, t.start + i)] for i in range(t.width))
        for t in hash_tiles(size)
        if t.level is not None
    }
    source = TileHashes(tiles)
    for old in (1, 3, 256, 1000, 65536, 69_999):
        proof = consistency_proof(old, size, source)
        old_root = root_from_frontier(append_leaves([], leaves[:old])[0])
        assert verify_consistency(old, size, old_root, root_from_frontier(frontier), proof)
    with pytest.raises(KeyError):
        TileHashes({}).nodes([(0, 0)])
