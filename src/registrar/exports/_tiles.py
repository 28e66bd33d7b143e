"""Writing the transparency log as a static tlog-tiles directory, verifiable offline by any tlog-tiles reader.

The directory holds what ``/api/v1/logs/tlog/`` serves, byte for byte, as of the latest signed checkpoint:
``checkpoint`` (the note with its witness cosignatures), every hash tile and entry bundle of that tree size
(``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``), and ``verifier-keys``. Bundles of purged events
are left out, as tlog-tiles pruning allows; their hash tiles stay, so the tree still verifies. The tiles
come from the stored tree and the bundles from the stored bytes, never recomputed: an export of a
tampered database fails verification just as the server would.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from registrar.errors import ValidationFailed
from registrar.tlog._checkpoints import latest_checkpoint, verifier_keys
from registrar.tlog._layout import entry_bundles, hash_tiles
from registrar.tlog._store import Pruned, read_entry_bundle, read_tile

__all__ = ["TilesExport", "export_tiles"]


@dataclass(frozen=True, slots=True)
class TilesExport:
    """What an export wrote: the tree size, hash tiles, bundles, and the leaves left out as pruned."""

    size: int
    tiles: int
    bundles: int
    pruned: int


def _write(root: Path, path: str, data: bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _fill(engine: Engine, root: Path, on_bundle: Callable[[int], None]) -> TilesExport:
    with engine.connect().execution_options(sqlite_immediate=False) as conn:
        checkpoint = latest_checkpoint(conn)
        if checkpoint is None:
            raise ValidationFailed(
                ["the log has no signed checkpoint yet (the server signs one within seconds)"]
            )
        origin = checkpoint.body.split("\n", 1)[0]
        _write(root, "checkpoint", checkpoint.note.encode())
        _write(root, "verifier-keys", "".join(f"{key}\n" for key in verifier_keys(conn, origin)).encode())
        tiles = 0
        for tile in hash_tiles(checkpoint.size):
            data = read_tile(conn, tile)
            if data is None:  # the tree is smaller than its own checkpoint: the database was altered
                raise LookupError(f"{tile.path}: the stored tree is smaller than its checkpoint")
            _write(root, tile.path, data)
            tiles += 1
        bundles = pruned = 0
        for bundle in entry_bundles(checkpoint.size):
            try:
                data = read_entry_bundle(conn, bundle)
            except Pruned:
                pruned += bundle.width
                on_bundle(bundle.width)
                continue
            if data is None:
                raise LookupError(f"{bundle.path}: the stored log is smaller than its checkpoint")
            _write(root, bundle.path, data)
            bundles += 1
            on_bundle(bundle.width)
    return TilesExport(checkpoint.size, tiles, bundles, pruned)


def export_tiles(
    engine: Engine, output: Path, *, on_bundle: Callable[[int], None] = lambda n: None
) -> TilesExport:
    """Write the log as of its latest checkpoint to the directory ``output`` (absent or empty).

    The files are written into a temporary directory beside ``output``, renamed into place only when all
    of them are written: a failed export leaves nothing behind. ``on_bundle`` is told each bundle's width.
    """
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValidationFailed([f"--output {output} must be a new or empty directory"])
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent))
    try:
        written = _fill(engine, temporary, on_bundle)
        if output.exists():
            output.rmdir()
        os.replace(temporary, output)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return written
