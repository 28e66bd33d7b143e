"""The tlog-tiles layout of a tree: which tiles and entry bundles a size has, their paths and their bytes.

A tile at level *l* holds up to 256 hashes of complete subtrees of ``256**l`` leaves (tree level ``8·l``);
tile *n* starts at hash ``256·n``. The tree of *s* leaves has ``s // 256**l`` hashes at level *l*: full
tiles, then one partial tile of the remainder (``.p/<W>``) if it is not zero. Tile indexes are written in
groups of three digits, all but the last prefixed ``x`` (``1234067`` → ``x001/x234/067``). An entry bundle
is each leaf as a big-endian uint16 length and its bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ._tree import Coord, node_hash

__all__ = [
    "HASH_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "BundleError",
    "Tile",
    "TileHashes",
    "encode_bundle",
    "encode_index",
    "entry_bundles",
    "hash_tiles",
    "parse_bundle",
]

HASH_SIZE = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY = 0xFFFF  # a bundle's length prefix is a uint16


class BundleError(ValueError):
    """An entry bundle that does not parse, or an entry too long for one."""


def encode_index(n: int) -> str:
    """``n`` as zero-padded 3-digit path elements, all but the last prefixed ``x``."""
    if n < 0:
        raise ValueError(f"tile index {n} is negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile (``level`` ≥ 0) or entry bundle (``level`` None): index ``n``, ``width`` hashes or entries."""

    level: int | None
    n: int
    width: int

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
        where = "entries" if self.level is None else str(self.level)
        suffix = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{where}/{encode_index(self.n)}{suffix}"

    @property
    def start(self) -> int:
        """The index of its first hash at its tree level (its first leaf, for a bundle)."""
        return self.n * TILE_WIDTH

    @property
    def tree_level(self) -> int:
        """The tree level of its hashes (0 for a bundle's leaves)."""
        return 0 if self.level is None else TILE_HEIGHT * self.level


def _tiles(count: int, level: int | None) -> Iterator[Tile]:
    full, rest = divmod(count, TILE_WIDTH)
    for n in range(full):
        yield Tile(level, n, TILE_WIDTH)
    if rest:
        yield Tile(level, full, rest)


def hash_tiles(size: int) -> Iterator[Tile]:
    """Every hash tile of the tree of ``size`` leaves, level by level."""
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        yield from _tiles(count, level)
        level += 1


def entry_bundles(size: int) -> Iterator[Tile]:
    """Every entry bundle of the tree of ``size`` leaves."""
    return _tiles(size, None)


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries as a bundle: each a big-endian uint16 length, then its bytes."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise BundleError(f"an entry of {len(entry)} bytes does not fit a bundle's uint16 length")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def parse_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; raises :class:`BundleError` if a length or an entry is cut off."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise BundleError("a length prefix is cut off")
        end = at + 2 + int.from_bytes(data[at : at + 2], "big")
        if end > len(data):
            raise BundleError("an entry is cut off")
        entries.append(data[at + 2 : end])
        at = end
    return entries


class TileHashes:
    """A :class:`~registrar.tlog.NodeSource` over the hash tiles of one tree size (fetched tiles, in bytes).

    A node at tree level ``8·l + r`` is the root of ``2**r`` consecutive hashes of a level-*l* tile.
    """

    def __init__(self, tiles: Mapping[tuple[int, int], bytes]):
        self._tiles = tiles  # (tile level, n) -> the tile's bytes

    def _hashes(self, level: int, start: int, count: int) -> list[bytes]:
        data = self._tiles[(level, start // TILE_WIDTH)]
        offset = (start % TILE_WIDTH) * HASH_SIZE
        if offset + count * HASH_SIZE > len(data):
            raise KeyError((level, start))
        return [data[i : i + HASH_SIZE] for i in range(offset, offset + count * HASH_SIZE, HASH_SIZE)]

    def nodes(self, coords: Iterable[Coord]) -> dict[Coord, bytes]:
        """The hashes of ``coords``; a ``KeyError`` names a tile that is not there or too short."""
        found: dict[Coord, bytes] = {}
        for level, index in coords:
            tile_level, rest = divmod(level, TILE_HEIGHT)
            span = 1 << rest
            run = self._hashes(tile_level, index * span, span)
            while len(run) > 1:  # a complete subtree: hash pairs up to its root
                run = [node_hash(run[i], run[i + 1]) for i in range(0, len(run), 2)]
            found[(level, index)] = run[0]
        return found
