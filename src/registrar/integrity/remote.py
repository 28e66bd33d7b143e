"""Verifying a log from what it publishes alone: checkpoint, verifier keys, hash tiles and entry bundles.

This is ``registrar verify --remote``: no database, no key of the host, only the tlog-tiles resources under
``/api/v1/logs/tlog/`` (or the same files exported to a directory). It checks, and names what fails:

- ``key``: the served verifier keys parse, and a pinned key is among them;
- ``signature``: the checkpoint is signed by a trusted key (the pinned one, else the served ones) whose name
  is the origin; ``cosignature``: every witness asked for cosigned it;
- ``tile`` / ``root``: every hash tile the size needs is served with the right length, every hash in it is
  the root of the tiles below, and the root of them all is the checkpoint's;
- ``entries`` / ``entry``: every entry bundle is served (a leading run may be pruned, as tlog-tiles allows),
  holds the right count, and each entry hashes to its leaf;
- ``rollback`` / ``consistency``: against a checkpoint kept outside (a witness's, or a previous run's), the
  log did not shrink and its current tree extends the kept one (an RFC 9162 consistency proof built from the
  served tiles and checked against both signed roots).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from registrar.tlog import (
    Frontier,
    append_leaves,
    consistency_proof,
    leaf_hash,
    root_from_frontier,
    verify_consistency,
)
from registrar.tlog._layout import (
    HASH_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    BundleError,
    TileHashes,
    entry_bundles,
    hash_tiles,
    parse_bundle,
)
from registrar.tlog._note import (
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    VerifierKey,
    open_note,
    parse_checkpoint_body,
    parse_note,
    parse_verifier_key,
    verify_cosignature,
)

__all__ = ["Fetch", "RemoteFinding", "RemoteReport", "verify_remote"]

Kind = Literal[
    "key",
    "signature",
    "cosignature",
    "checkpoint",
    "tile",
    "root",
    "entries",
    "entry",
    "rollback",
    "consistency",
]
Fetch = Callable[[str], bytes | None]  # a path under the log's prefix -> its bytes, None when not served
_MAX_ENTRY_FINDINGS = 20


@dataclass(frozen=True, slots=True)
class RemoteFinding:
    """One thing found wrong, named by the check that failed."""

    kind: Kind
    message: str


@dataclass(frozen=True, slots=True)
class _Signed:
    """A checkpoint whose signature verified: its origin line, tree size and root, and its note bytes."""

    origin: str
    size: int  # the number of leaves the root commits to
    root: bytes
    note: bytes


@dataclass
class RemoteReport:
    """What a remote verification saw and found."""

    trusted: list[str] = field(default_factory=list)  # the verifier keys the checkpoint was checked against
    origin: str | None = None
    size: int | None = None
    root: bytes | None = None
    note: bytes | None = None  # the verified checkpoint, to keep for the next run
    cosigners: list[str] = field(default_factory=list)
    entries: int = 0  # entries checked byte for byte
    pruned: int = 0  # leaves whose bundles are pruned (their hashes come from the tiles)
    kept_size: int | None = None
    findings: list[RemoteFinding] = field(default_factory=list)

    def fail(self, kind: Kind, message: str) -> None:
        """Record a finding."""
        self.findings.append(RemoteFinding(kind, message))


def _served_keys(fetch: Fetch, report: RemoteReport) -> list[VerifierKey]:
    data = fetch("verifier-keys")
    if data is None:
        report.fail("key", "verifier-keys is not served")
        return []
    lines = (line.strip() for line in data.decode("utf-8", "replace").splitlines())
    return list(_parsed_keys((line for line in lines if line), "served verifier key", report))


def _parsed_keys(texts: Iterable[str], what: str, report: RemoteReport) -> Iterator[VerifierKey]:
    """Each of ``texts`` that is a verifier key, as it comes; each one that is not is a ``key`` finding."""
    for text in texts:
        try:
            key = parse_verifier_key(text)
        except NoteError as error:
            report.fail("key", f"{what} {text!r}: {error}")
        else:
            yield key


def _trusted(fetch: Fetch, pinned: Sequence[str], report: RemoteReport) -> list[VerifierKey]:
    served = _served_keys(fetch, report)
    keys = []
    for key in _parsed_keys(pinned, "pinned key", report):
        if key not in served:
            report.fail("key", f"the pinned key {key.encode()} is not among the served verifier keys")
        keys.append(key)
    trusted = [k for k in (keys if pinned else served) if k.key_type == ED25519]
    report.trusted = [k.encode() for k in trusted]
    return trusted


def _open(note: bytes, trusted: Sequence[VerifierKey], what: str, report: RemoteReport) -> _Signed | None:
    try:
        text = open_note(note, trusted).text
        body = parse_checkpoint_body(text)
    except NoteError as error:
        report.fail("signature", f"{what}: {error}")
        return None
    if body.origin not in {key.name for key in trusted}:
        report.fail("checkpoint", f"{what}: origin {body.origin!r} is not the name of a trusted key")
        return None
    if body.extensions:
        report.fail("checkpoint", f"{what}: {len(body.extensions)} extension line(s), Registrar writes none")
    return _Signed(body.origin, body.size, body.root, note)


def _cosignatures(note: bytes, witnesses: Sequence[str], report: RemoteReport) -> None:
    parsed = parse_note(note)
    for key in _parsed_keys(witnesses, "witness key", report):
        if key.key_type != COSIGNATURE_V1:
            report.fail("key", f"witness key {key.name} is not a cosignature key (type 0x04)")
            continue
        lines = [s.line() for s in parsed.signatures if (s.name, s.key_id) == (key.name, key.key_id)]
        if not lines:
            report.fail("cosignature", f"the checkpoint carries no cosignature of {key.name}")
            continue
        try:
            verify_cosignature(lines[0], key, parsed.text)
        except NoteError as error:
            report.fail("cosignature", str(error))
            continue
        report.cosigners.append(key.name)


def _tiles(fetch: Fetch, size: int, report: RemoteReport) -> dict[tuple[int, int], bytes] | None:
    tiles: dict[tuple[int, int], bytes] = {}
    for tile in hash_tiles(size):
        data = fetch(tile.path)
        if data is None:
            report.fail("tile", f"{tile.path} is not served")
            return None
        if len(data) != tile.width * HASH_SIZE:
            report.fail("tile", f"{tile.path} is {len(data)} bytes, not {tile.width * HASH_SIZE}")
            return None
        assert tile.level is not None
        tiles[(tile.level, tile.n)] = data
    return tiles


def _check_entries(
    fetch: Fetch,
    tiles: dict[tuple[int, int], bytes],
    size: int,
    report: RemoteReport,
    progress: Callable[[int], None],
) -> None:
    wrong = 0
    seen_bundle = False
    for bundle in entry_bundles(size):
        data = fetch(bundle.path)
        if data is None:
            if seen_bundle:
                report.fail("entries", f"{bundle.path} is not served (only a leading run may be pruned)")
            else:
                report.pruned += bundle.width
            progress(bundle.width)
            continue
        seen_bundle = True
        try:
            entries = parse_bundle(data)
        except BundleError as error:
            report.fail("entries", f"{bundle.path}: {error}")
            continue
        if len(entries) != bundle.width:
            report.fail("entries", f"{bundle.path} holds {len(entries)} entries, not {bundle.width}")
            continue
        leaves = tiles[(0, bundle.n)]
        for i, entry in enumerate(entries):
            if leaf_hash(entry) != leaves[i * HASH_SIZE : (i + 1) * HASH_SIZE]:
                wrong += 1
                if wrong <= _MAX_ENTRY_FINDINGS:
                    index = bundle.start + i
                    report.fail("entry", f"entry {index} (event seq {index + 1}) does not hash to its leaf")
        report.entries += len(entries)
        progress(bundle.width)
    if wrong > _MAX_ENTRY_FINDINGS:
        report.fail(
            "entry", f"and {wrong - _MAX_ENTRY_FINDINGS} more entries that do not hash to their leaves"
        )


def _tree_root(tiles: dict[tuple[int, int], bytes], size: int, report: RemoteReport) -> bytes | None:
    """The root of the level-0 hashes, every node a tile records compared on the way; None on a mismatch."""
    frontier: Frontier = []
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        data = tiles[(0, n)]
        leaves = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        frontier, made = append_leaves(frontier, leaves)
        for level, index, digest in made:
            if level == 0 or level % TILE_HEIGHT:
                continue
            tile_level = level // TILE_HEIGHT
            recorded = tiles[(tile_level, index // TILE_WIDTH)]
            at = (index % TILE_WIDTH) * HASH_SIZE
            if recorded[at : at + HASH_SIZE] != digest:
                path = f"tile {tile_level}/{index // TILE_WIDTH}"
                report.fail(
                    "tile", f"hash {index % TILE_WIDTH} of {path} is not the root of the tile below it"
                )
                return None
    return root_from_frontier(frontier)


def _consistent(
    kept: _Signed, current: _Signed, tiles: dict[tuple[int, int], bytes] | None, report: RemoteReport
) -> None:
    report.kept_size = kept.size
    if kept.origin != current.origin:
        report.fail("consistency", f"the kept checkpoint is of log {kept.origin!r}, not {current.origin!r}")
    elif current.size < kept.size:
        report.fail(
            "rollback",
            f"the log is at size {current.size}, smaller than the kept checkpoint's {kept.size}: "
            f"rolled back or truncated",
        )
    elif current.size == kept.size:
        if current.root != kept.root:
            report.fail(
                "consistency", f"size {kept.size} has another root than the kept checkpoint's: rewritten"
            )
    elif kept.size > 0 and tiles is not None:
        try:
            proof = consistency_proof(kept.size, current.size, TileHashes(tiles))
        except KeyError:
            report.fail("tile", "the tiles do not hold the nodes of a consistency proof")
            return
        if not verify_consistency(kept.size, current.size, kept.root, current.root, proof):
            report.fail(
                "consistency",
                f"the tree of {current.size} does not extend the kept checkpoint of {kept.size}: "
                f"events up to {kept.size} were rewritten or removed",
            )


def verify_remote(
    fetch: Fetch,
    *,
    pinned: Sequence[str] = (),
    witnesses: Sequence[str] = (),
    kept: bytes | None = None,
    progress: Callable[[int], None] = lambda n: None,
    on_size: Callable[[int], None] = lambda n: None,
) -> RemoteReport:
    """Verify the log ``fetch`` reads; every check that fails is a finding in the report."""
    report = RemoteReport()
    trusted = _trusted(fetch, pinned, report)
    note = fetch("checkpoint")
    if note is None:
        report.fail("signature", "checkpoint is not served")
        return report
    current = _open(note, trusted, "the served checkpoint", report)
    if current is None:
        return report
    report.origin, report.size, report.root, report.note = current.origin, current.size, current.root, note
    on_size(current.size)
    _cosignatures(note, witnesses, report)
    tiles = _tiles(fetch, current.size, report)
    if tiles is not None:
        _check_entries(fetch, tiles, current.size, report, progress)
        root = _tree_root(tiles, current.size, report)
        if root is not None and root != current.root:
            report.fail("root", f"the tiles' root is not the checkpoint's (size {current.size})")
    if kept is not None:
        signed = _open(kept, trusted, "the kept checkpoint", report)
        if signed is not None:
            _consistent(signed, current, tiles, report)
    return report
