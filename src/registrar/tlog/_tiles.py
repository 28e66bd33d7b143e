"""Reading tlog-tiles paths, strictly: only the one encoding the spec allows for a coordinate is accepted.

The layout itself (what a tile holds, its canonical path, entry bundles) is :mod:`registrar.tlog._layout`;
this module turns what follows ``tile/`` in a request back into a :class:`~registrar.tlog._layout.Tile`.
"""

from __future__ import annotations

import re

from ._layout import TILE_WIDTH, Tile, encode_index

__all__ = ["BadTilePath", "parse_tile_path"]

MAX_LEVEL = 63
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_ELEMENT = re.compile(r"x?[0-9]{3}")
_MAX_INDEX = (1 << 63) - 1


class BadTilePath(ValueError):
    """A path that does not name a tile or an entry bundle in the tlog-tiles encoding."""


def parse_tile_path(rest: str) -> Tile:
    """Parse ``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` (what follows ``tile/``)."""
    head, *parts = rest.split("/")
    if not parts:
        raise BadTilePath("a tile path is tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    level: int | None = None
    if head != "entries":
        if not _LEVEL.fullmatch(head) or int(head) > MAX_LEVEL:
            raise BadTilePath(f"the tile level must be a decimal 0..{MAX_LEVEL} without leading zeroes")
        level = int(head)
    width = TILE_WIDTH
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not _WIDTH.fullmatch(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
            raise BadTilePath("a partial tile's width must be a decimal 1..255 without leading zeroes")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
    if not all(_ELEMENT.fullmatch(p) for p in parts) or any(p[0] != "x" for p in parts[:-1]):
        raise BadTilePath("a tile index is 3-digit elements, all but the last prefixed with x")
    if parts[-1][0] == "x":
        raise BadTilePath("the last element of a tile index has no x prefix")
    index = int("".join(p.lstrip("x") for p in parts))
    if index > _MAX_INDEX or encode_index(index) != "/".join(parts):
        raise BadTilePath("the tile index is not in its one canonical encoding (no leading x000)")
    return Tile(level, index, width)
