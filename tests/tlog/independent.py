"""An independent verifier of C2SP transparency logs, written from the specifications alone.

It reads a log through a ``fetch(path) -> bytes`` function (paths relative to the log's prefix, as in
c2sp.org/tlog-tiles: ``checkpoint``, ``tile/<L>/<N>[.p/<W>]``, ``tile/entries/<N>[.p/<W>]``) and checks it
against a signed-note verifier key, with nothing from Registrar: this module must never import
``registrar`` (``test_independent.py`` pins that). The sources, section by section:

- c2sp.org/signed-note: the note format, verifier keys ``<name>+<hex key id>+<base64(type ‖ key)>``, the key
  ID ``SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]``, Ed25519 signatures (type 0x01);
- c2sp.org/tlog-cosignature: Ed25519 witness cosignatures (type 0x04) over
  ``cosignature/v1\\ntime <t>\\n`` ‖ the checkpoint body;
- c2sp.org/tlog-checkpoint: the body (origin, size, base64 root, optional extension lines);
- c2sp.org/tlog-tiles: tile paths, the ``x001/x234/067`` index encoding, partial tiles, entry bundles
  (big-endian uint16 length ‖ entry);
- c2sp.org/tlog-proof: ``c2sp.org/tlog-proof@v1``, ``[extra]``, ``index``, hashes, blank line, checkpoint;
- RFC 9162 §2.1.1 (MTH), §2.1.3 (inclusion proofs: PATH and its verification), §2.1.4 (consistency
  proofs: PROOF/SUBPROOF and its verification), each written out step by step as the RFC gives it.

Every failure raises :class:`VerificationError` whose ``what`` names the check that failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "Missing",
    "Proof",
    "VerificationError",
    "VerifiedCheckpoint",
    "VerifierKey",
    "consistency_path",
    "directory_fetch",
    "encode_index",
    "entries_path",
    "http_fetch",
    "inclusion_path",
    "leaf_hash",
    "mth",
    "node_hash",
    "parse_bundle",
    "parse_checkpoint",
    "parse_proof",
    "parse_vkey",
    "tile_path",
    "tile_paths",
    "verify_consistency",
    "verify_consistent",
    "verify_inclusion",
    "verify_log",
    "verify_proof",
]

HASH_SIZE = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
ED25519 = 0x01
COSIGNATURE_ED25519 = 0x04
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
EM_DASH = "\u2014"

Fetch = Callable[[str], bytes]


class VerificationError(Exception):
    """The log failed a check; ``what`` names it (``signature``, ``root``, ``entry``, ``consistency`` …)."""

    def __init__(self, what: str, detail: str):
        super().__init__(f"{what}: {detail}")
        self.what = what
        self.detail = detail


class Missing(LookupError):
    """The log does not serve this resource (HTTP 404, or no such file)."""


# --- RFC 9162 §2.1.1 ---------------------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """HASH(0x00 ‖ d): the hash of one leaf."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 ‖ left ‖ right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the RFC's recursive definition, over already-hashed leaves (for small trees)."""
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = _largest_power_of_two_below(n)
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


Subtree = Callable[[int, int], bytes]  # MTH(D[lo:hi])


def inclusion_path(m: int, n: int, subtree: Subtree, lo: int = 0) -> list[bytes]:
    """PATH(m, D[lo:lo+n]) of RFC 9162 §2.1.3.1."""
    if n <= 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*inclusion_path(m, k, subtree, lo), subtree(lo + k, lo + n)]
    return [*inclusion_path(m - k, n - k, subtree, lo + k), subtree(lo, lo + k)]


def _subproof(m: int, n: int, whole: bool, subtree: Subtree, lo: int) -> list[bytes]:
    if m == n:
        return [] if whole else [subtree(lo, lo + n)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, k, whole, subtree, lo), subtree(lo + k, lo + n)]
    return [*_subproof(m - k, n - k, False, subtree, lo + k), subtree(lo, lo + k)]


def consistency_path(m: int, n: int, subtree: Subtree) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1 (0 < m < n)."""
    if not 0 < m < n:
        raise ValueError(f"a consistency proof needs 0 < {m} < {n}")
    return _subproof(m, n, True, subtree, 0)


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step: whether ``path`` proves leaf hash ``leaf`` at ``index``."""
    # 1. leaf_index must be smaller than tree_size.
    if index >= size or index < 0:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn, sn, r = index, size - 1, leaf
    # 4. for each p in inclusion_path:
    for p in path:
        # a. sn == 0: fail.
        if sn == 0:
            return False
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 5. sn == 0 and r == root_hash.
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, step by step, for 0 < first < second."""
    if not 0 < first < second:
        return False
    # 1. an empty consistency_path fails.
    if not path:
        return False
    proof = list(path)
    # 2. first an exact power of two: prepend first_hash.
    if first & (first - 1) == 0:
        proof.insert(0, first_hash)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. while LSB(fn) is set, shift both.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value.
    fr = sr = proof[0]
    # 6. for each subsequent value c:
    for c in proof[1:]:
        # a. sn == 0: fail.
        if sn == 0:
            return False
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash, sn == 0.
    return fr == first_hash and sr == second_hash and sn == 0


# --- c2sp.org/signed-note and tlog-cosignature -----------------------------------------------------


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationError(what, f"{text!r} is not standard base64") from None


def _key_id(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


@dataclass(frozen=True)
class VerifierKey:
    """A signed-note verifier key: a log key (Ed25519, 0x01) or a witness key (cosignature, 0x04)."""

    name: str
    key_id: bytes
    key_type: int
    public: bytes

    def verifies(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (the bytes after the key ID) signs the note ``text`` under this key."""
        public = Ed25519PublicKey.from_public_bytes(self.public)
        if self.key_type == ED25519:
            message, raw = text, signature
        else:
            if len(signature) != 8 + 64:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            message = b"cosignature/v1\ntime %d\n" % timestamp + text
            raw = signature[8:]
        try:
            public.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def parse_vkey(text: str) -> VerifierKey:
    """``<name>+<hex key id>+<base64(type ‖ public key)>``; the key ID must be the one the spec derives."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_key_name(parts[0]) or len(parts[1]) != 8:
        raise VerificationError("key", f"{text!r} is not a verifier key")
    name, hex_id, encoded = parts
    try:
        key_id = bytes.fromhex(hex_id)
    except ValueError:
        raise VerificationError("key", f"{hex_id!r} is not a hex key ID") from None
    material = _b64(encoded, "key")
    if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_ED25519):
        raise VerificationError("key", f"{text!r} is not an Ed25519 key (type 0x01 or 0x04)")
    key_type, public = material[0], material[1:]
    if _key_id(name, key_type, public) != key_id:
        raise VerificationError("key", f"{text!r}: its key ID is not SHA-256(name, type, key)[:4]")
    return VerifierKey(name, key_id, key_type, public)


@dataclass(frozen=True)
class _Signature:
    name: str
    key_id: bytes
    signature: bytes


def _split_note(raw: bytes) -> tuple[bytes, list[_Signature]]:
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationError("note", "not UTF-8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in decoded):
        raise VerificationError("note", "contains a control character")
    separator = decoded.rfind("\n\n")
    if separator < 0 or not decoded.endswith("\n"):
        raise VerificationError("note", "no blank line before the signatures, or no final newline")
    text, block = decoded[: separator + 1], decoded[separator + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(EM_DASH + " "):
            raise VerificationError("note", f"signature line {line!r} does not start with an em dash")
        name, _, encoded = line[2:].partition(" ")
        blob = _b64(encoded, "note")
        if not _valid_key_name(name) or len(blob) < 5:
            raise VerificationError("note", f"malformed signature line {line!r}")
        signatures.append(_Signature(name, blob[:4], blob[4:]))
    return text.encode(), signatures


def _verify_note(raw: bytes, keys: Sequence[VerifierKey]) -> tuple[bytes, list[VerifierKey]]:
    """The note text and the known keys that signed it; a bad signature by a known key fails the note."""
    text, signatures = _split_note(raw)
    signed: list[VerifierKey] = []
    for sig in signatures:
        key = next((k for k in keys if k.name == sig.name and k.key_id == sig.key_id), None)
        if key is None:
            continue  # the spec: ignore signatures by unknown keys
        if not key.verifies(text, sig.signature):
            raise VerificationError("signature", f"the signature by {key.name} does not verify")
        signed.append(key)
    return text, signed


# --- c2sp.org/tlog-checkpoint ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint whose log signature verified (and every witness asked for cosigned it)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    raw: bytes
    cosigners: tuple[str, ...] = ()


def _as_key(key: str | VerifierKey) -> VerifierKey:
    return key if isinstance(key, VerifierKey) else parse_vkey(key)


def parse_checkpoint(
    raw: bytes, vkey: str | VerifierKey, *, witnesses: Sequence[str | VerifierKey] = ()
) -> Checkpoint:
    """Verify and parse a checkpoint note: signed by ``vkey``, cosigned by every one of ``witnesses``."""
    log_key = _as_key(vkey)
    witness_keys = [_as_key(w) for w in witnesses]
    if log_key.key_type != ED25519 or any(w.key_type != COSIGNATURE_ED25519 for w in witness_keys):
        raise VerificationError("key", "the log key must be type 0x01, witness keys type 0x04")
    text, signed = _verify_note(raw, [log_key, *witness_keys])
    if log_key not in signed:
        raise VerificationError("signature", f"the checkpoint is not signed by {log_key.name}")
    absent = [w.name for w in witness_keys if w not in signed]
    if absent:
        raise VerificationError("cosignature", f"not cosigned by {', '.join(absent)}")
    lines = text.decode().split("\n")[:-1]
    if len(lines) < 3 or not all(lines):
        raise VerificationError("checkpoint", "the body needs origin, size and root on non-empty lines")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise VerificationError("checkpoint", f"tree size {size_text!r} is not a decimal without leading 0")
    root = _b64(root_text, "checkpoint")
    if len(root) != HASH_SIZE:
        raise VerificationError("checkpoint", "the root hash is not 32 bytes")
    if origin != log_key.name:
        raise VerificationError("checkpoint", f"origin {origin!r} is not the key's name {log_key.name!r}")
    names = tuple(w.name for w in witness_keys)
    return Checkpoint(origin, int(size_text), root, tuple(extensions), raw, names)


# --- c2sp.org/tlog-tiles paths and bundles ---------------------------------------------------------


def encode_index(n: int) -> str:
    """Tile index ``n`` as zero-padded 3-digit path elements, all but the last prefixed ``x``."""
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def _suffix(width: int | None) -> str:
    if width is None or width == TILE_WIDTH:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise ValueError(f"a partial tile is 1 to 255 wide, not {width}")
    return f".p/{width}"


def tile_path(level: int, n: int, width: int | None = None) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    return f"tile/{level}/{encode_index(n)}{_suffix(width)}"


def entries_path(n: int, width: int | None = None) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_index(n)}{_suffix(width)}"


def tile_paths(size: int) -> list[str]:
    """Every resource a tree of ``size`` leaves is served as: hash tiles level by level, then bundles."""
    paths = []
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        full, width = divmod(count, TILE_WIDTH)
        paths += [tile_path(level, n) for n in range(full)]
        paths += [tile_path(level, full, width)] if width else []
        level += 1
    full, width = divmod(size, TILE_WIDTH)
    paths += [entries_path(n) for n in range(full)]
    paths += [entries_path(full, width)] if width else []
    return paths


def parse_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle: each a big-endian uint16 length, then that many bytes."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise VerificationError("bundle", "a length prefix is cut off")
        length = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + length > len(data):
            raise VerificationError("bundle", "an entry is cut off")
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    return entries


@dataclass
class _Tiles:
    """The hash tiles of the tree of ``size`` leaves, fetched once each."""

    fetch: Fetch
    size: int
    cache: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)

    def width(self, level: int, n: int) -> int:
        """How many hashes tile ``n`` at ``level`` holds in this tree (0: it does not exist)."""
        count = self.size >> (TILE_HEIGHT * level)  # hashes at this level
        return max(0, min(TILE_WIDTH, count - n * TILE_WIDTH))

    def tile(self, level: int, n: int) -> list[bytes]:
        if (level, n) not in self.cache:
            width = self.width(level, n)
            if width == 0:
                raise VerificationError("tile", f"tile {level}/{n} is outside a tree of {self.size}")
            path = tile_path(level, n, width)
            try:
                data = self.fetch(path)
            except Missing:
                raise VerificationError("tile", f"{path} is not served") from None
            if len(data) != width * HASH_SIZE:
                raise VerificationError("tile", f"{path} is {len(data)} bytes, not {width * HASH_SIZE}")
            self.cache[(level, n)] = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return self.cache[(level, n)]

    def node(self, height: int, index: int) -> bytes:
        """The hash of the complete subtree of ``2**height`` leaves starting at leaf ``index << height``."""
        level, rest = divmod(height, TILE_HEIGHT)
        first = index << rest  # its first hash at this tile level
        span = 1 << rest
        hashes = self.tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        if offset + span > len(hashes):
            raise VerificationError("tile", f"node {height}/{index} is outside a tree of {self.size}")
        return mth(hashes[offset : offset + span])

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) from the tiles, by the RFC's recursion (``lo`` aligned as the RFC's splits are)."""
        n = hi - lo
        if n & (n - 1) == 0:
            height = n.bit_length() - 1
            return self.node(height, lo >> height)
        k = _largest_power_of_two_below(n)
        return node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))


# --- whole-log verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose root was recomputed from every entry and matched every served tile hash."""

    checkpoint: Checkpoint
    entries: int
    pruned: int


def _leaves(tiles: _Tiles, fetch: Fetch, min_index: int) -> Iterator[tuple[int, bytes | None, bytes]]:
    """Every leaf in order: (index, entry or None when pruned, leaf hash), each checked against tile 0."""
    size = tiles.size
    for n in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = tiles.width(0, n)
        level0 = tiles.tile(0, n)
        path = entries_path(n, width)
        try:
            entries: list[bytes] | None = parse_bundle(fetch(path))
        except Missing:
            if (n + 1) * TILE_WIDTH > min_index:
                raise VerificationError("entries", f"{path} is not served") from None
            entries = None
        if entries is not None and len(entries) != width:
            raise VerificationError("entries", f"{path} holds {len(entries)} entries, not {width}")
        for i in range(width):
            index = n * TILE_WIDTH + i
            if entries is None:
                yield index, None, level0[i]
                continue
            digest = leaf_hash(entries[i])
            if digest != level0[i]:
                raise VerificationError("entry", f"entry {index} does not hash to its leaf in tile 0/{n}")
            yield index, entries[i], digest


def verify_log(
    fetch: Fetch,
    vkey: str | VerifierKey,
    *,
    witnesses: Sequence[str | VerifierKey] = (),
    min_index: int = 0,
    on_entry: Callable[[int, bytes], None] | None = None,
) -> VerifiedCheckpoint:
    """Verify the log's checkpoint, then recompute its root from every entry.

    Every entry must hash to its leaf in the level-0 tiles, every hash of every tile (full and partial,
    at every level) must be the MTH of the entries under it, and the root of all of them must be the
    checkpoint's. Entry bundles wholly below ``min_index`` may be pruned (their tile-0 hashes stand in).
    """
    checkpoint = parse_checkpoint(fetch("checkpoint"), vkey, witnesses=witnesses)
    tiles = _Tiles(fetch, checkpoint.size)
    stack: list[tuple[int, bytes]] = []  # complete subtrees along the right edge: (height, hash)
    entries = pruned = 0
    for index, entry, digest in _leaves(tiles, fetch, min_index):
        if entry is None:
            pruned += 1
        else:
            entries += 1
            if on_entry is not None:
                on_entry(index, entry)
        height = 0
        while stack and stack[-1][0] == height:
            digest = node_hash(stack.pop()[1], digest)
            height += 1
            if height % TILE_HEIGHT == 0:
                node = index >> height
                level = height // TILE_HEIGHT
                if tiles.tile(level, node // TILE_WIDTH)[node % TILE_WIDTH] != digest:
                    raise VerificationError(
                        "tile", f"hash {node % TILE_WIDTH} of tile {level}/{node // TILE_WIDTH} is wrong"
                    )
        stack.append((height, digest))
    root = hashlib.sha256(b"").digest()
    if stack:
        root = stack[-1][1]
        for _, left in reversed(stack[:-1]):
            root = node_hash(left, root)
    if root != checkpoint.root:
        raise VerificationError("root", f"the entries' root is not the checkpoint's (size {checkpoint.size})")
    return VerifiedCheckpoint(checkpoint, entries, pruned)


def verify_consistent(old_note: bytes, new_note: bytes, fetch: Fetch, vkey: str | VerifierKey) -> list[bytes]:
    """Prove the tree of ``old_note`` a prefix of ``new_note``'s, from the tiles ``fetch`` serves.

    The proof is built from the tiles (RFC 9162 §2.1.4.1) and checked against both signed roots
    (§2.1.4.2); it is returned. A smaller new tree is a rollback; equal sizes must have equal roots.
    """
    old = parse_checkpoint(old_note, vkey)
    new = parse_checkpoint(new_note, vkey)
    if new.size < old.size:
        raise VerificationError("rollback", f"the tree shrank from {old.size} to {new.size}")
    if new.size == old.size:
        if new.root != old.root:
            raise VerificationError("consistency", f"two different roots for size {new.size}")
        return []
    if old.size == 0:
        return []
    path = consistency_path(old.size, new.size, _Tiles(fetch, new.size).subtree)
    if not verify_consistency(old.size, new.size, old.root, new.root, path):
        raise VerificationError(
            "consistency", f"the tree of {new.size} does not extend the kept tree of {old.size}"
        )
    return path


# --- c2sp.org/tlog-proof ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    """A parsed (not yet verified) tlog-proof."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None


def parse_proof(text: bytes) -> Proof:
    """Split a ``c2sp.org/tlog-proof@v1`` file into its parts."""
    head, sep, checkpoint = text.partition(b"\n\n")
    if not sep:
        raise VerificationError("proof", "no blank line before the checkpoint")
    lines = head.decode("utf-8", "replace").split("\n")
    if lines[0] != PROOF_HEADER:
        raise VerificationError("proof", f"first line is {lines[0]!r}, not {PROOF_HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest.pop(0)[len("extra ") :], "proof")
    if not rest or not rest[0].startswith("index "):
        raise VerificationError("proof", "no index line")
    index_text = rest.pop(0)[len("index ") :]
    if not index_text.isascii() or not index_text.isdigit() or (index_text != "0" and index_text[0] == "0"):
        raise VerificationError("proof", f"index {index_text!r} is not a decimal without leading 0")
    hashes = tuple(_b64(line, "proof") for line in rest)
    if any(len(h) != HASH_SIZE for h in hashes):
        raise VerificationError("proof", "an inclusion hash is not 32 bytes")
    return Proof(int(index_text), hashes, checkpoint, extra)


def verify_proof(
    text: bytes, leaf: bytes, vkey: str | VerifierKey, *, witnesses: Sequence[str | VerifierKey] = ()
) -> Checkpoint:
    """Verify that ``leaf`` (the entry's bytes) is in the log, offline, from a tlog-proof alone."""
    proof = parse_proof(text)
    checkpoint = parse_checkpoint(proof.checkpoint, vkey, witnesses=witnesses)
    if not verify_inclusion(leaf_hash(leaf), proof.index, checkpoint.size, proof.hashes, checkpoint.root):
        raise VerificationError(
            "inclusion", f"the proof does not show this entry at index {proof.index} of {checkpoint.size}"
        )
    return checkpoint


# --- fetchers ----------------------------------------------------------------------------------------


class _Response(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...


class _Client(Protocol):
    def get(self, url: str, *, headers: Mapping[str, str]) -> _Response: ...


def http_fetch(client: _Client, prefix: str, headers: Mapping[str, str]) -> Fetch:
    """GET ``prefix/path`` with ``headers``; 404 is :class:`Missing`, any other non-200 an error."""

    def fetch(path: str) -> bytes:
        response = client.get(f"{prefix.rstrip('/')}/{path}", headers=headers)
        if response.status_code == 404:
            raise Missing(path)
        if response.status_code != 200:
            raise VerificationError("http", f"GET {path}: status {response.status_code}")
        return response.content

    return fetch


def directory_fetch(root: Path) -> Fetch:
    """Read ``root/path`` from a static tlog-tiles directory."""

    def fetch(path: str) -> bytes:
        target = root / path
        if not target.is_file():
            raise Missing(path)
        return target.read_bytes()

    return fetch
