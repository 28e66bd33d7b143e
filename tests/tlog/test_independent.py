"""The independent verifier is right before it meets the server: hand-built logs, hashes written out.

The logs here are built in the test by the definitions alone (RFC 9162 §2.1.1 MTH, tlog-tiles §Merkle Tree:
the n-th tile at level l holds MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l])), signed with a key made here.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import independent as tlog
from .independent import VerificationError

ORIGIN = "tests.example/hand-log"

# Entry i is b"event %d" % i. Written out: leaf 0, leaf 1, and the roots of the first 2, 3, 256 and 257.
LEAF_0 = "a344deda6399e079700f18caccc174ed11ef1b1d164271e3a95d82c734466977"
LEAF_1 = "189a944dd1bd99ed6685a75670d57a64591e901d32714d6f6c58e55d8a9edb46"
ROOTS = {
    2: "9597a008c399108ddc67f881629dfbda16be63fcb74b42892f749dde08d3364a",
    3: "72e0d17598d40c143f14ebfb05e2c5c4ddd6bebf165f3569443ac4695887d302",
    256: "d56a4e1ca488792c837ccd7fa985ebaa67c35c17b6e70b80cd31becfad851b17",
    257: "eacc42cbd69a46934c40b01109c2b3ea32880da8a053cce4e0c962d09f69b6d0",
}


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 over raw entries, as the RFC writes it."""
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def vkey_of(name: str, key: Ed25519PrivateKey, key_type: int = 0x01) -> str:
    """The signed-note verifier key string."""
    key_id = _h(name.encode() + b"\n" + bytes([key_type]) + _public(key))[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(bytes([key_type]) + _public(key)).decode()}"


def signature_line(name: str, key: Ed25519PrivateKey, text: bytes) -> bytes:
    key_id = _h(name.encode() + b"\n\x01" + _public(key))[:4]
    return f"— {name} {base64.b64encode(key_id + key.sign(text)).decode()}\n".encode()


def cosignature_line(name: str, key: Ed25519PrivateKey, text: bytes, when: int) -> bytes:
    key_id = _h(name.encode() + b"\n\x04" + _public(key))[:4]
    signed = key.sign(b"cosignature/v1\ntime %d\n" % when + text)
    blob = key_id + when.to_bytes(8, "big") + signed
    return f"— {name} {base64.b64encode(blob).decode()}\n".encode()


def _index(n: int) -> str:
    digits = f"{n:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


@dataclass
class HandLog:
    """A log built by the definitions: its files by path, as a static tlog-tiles directory would hold."""

    entries: list[bytes]
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    origin: str = ORIGIN

    @property
    def vkey(self) -> str:
        return vkey_of(self.origin, self.key)

    def root(self) -> bytes:
        return _mth(self.entries) if self.entries else _h(b"")

    def body(self) -> bytes:
        root = base64.b64encode(self.root()).decode()
        return f"{self.origin}\n{len(self.entries)}\n{root}\n".encode()

    def checkpoint(self) -> bytes:
        return self.body() + b"\n" + signature_line(self.origin, self.key, self.body())

    def files(self) -> dict[str, bytes]:
        files = {"checkpoint": self.checkpoint()}
        size, level = len(self.entries), 0
        while size >> (8 * level):
            span = 256**level
            count = size // span
            for n in range((count + 255) // 256):
                width = min(256, count - n * 256)
                hashes = [
                    _mth(self.entries[(n * 256 + i) * span : (n * 256 + i + 1) * span]) for i in range(width)
                ]
                suffix = "" if width == 256 else f".p/{width}"
                files[f"tile/{level}/{_index(n)}{suffix}"] = b"".join(hashes)
            level += 1
        for n in range((size + 255) // 256):
            bundle = self.entries[n * 256 : (n + 1) * 256]
            suffix = "" if len(bundle) == 256 else f".p/{len(bundle)}"
            data = b"".join(len(e).to_bytes(2, "big") + e for e in bundle)
            files[f"tile/entries/{_index(n)}{suffix}"] = data
        return files


def entries(n: int) -> list[bytes]:
    return [b"event %d" % i for i in range(n)]


def fetch_from(files: dict[str, bytes]) -> tlog.Fetch:
    def fetch(path: str) -> bytes:
        if path not in files:
            raise tlog.Missing(path)
        return files[path]

    return fetch


KEY = Ed25519PrivateKey.generate()


def hand_log(n: int, *, key: Ed25519PrivateKey = KEY) -> HandLog:
    return HandLog(entries(n), key)


# --- paths ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**6, "x001/x000/000"),
    ],
)
def test_tile_indexes_are_written_in_groups_of_three_digits(n: int, encoded: str) -> None:
    assert tlog.encode_index(n) == encoded


def test_tile_and_bundle_paths() -> None:
    assert tlog.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tlog.tile_path(2, 0, 1) == "tile/2/000.p/1"
    assert tlog.tile_path(1, 5, 256) == "tile/1/005"
    assert tlog.entries_path(1, 112) == "tile/entries/001.p/112"
    for bad in (0, 257):
        with pytest.raises(ValueError, match="partial"):
            tlog.tile_path(0, 0, bad)


def test_a_tree_of_70000_is_the_tiles_the_spec_lists() -> None:
    paths = tlog.tile_paths(70_000)
    hash_tiles = [p for p in paths if not p.startswith("tile/entries/")]
    assert len([p for p in hash_tiles if p.startswith("tile/0/") and ".p/" not in p]) == 273
    assert "tile/0/273.p/112" in hash_tiles
    assert [p for p in hash_tiles if p.startswith("tile/1/")] == ["tile/1/000", "tile/1/001.p/17"]
    assert [p for p in hash_tiles if p.startswith("tile/2/")] == ["tile/2/000.p/1"]
    assert len(hash_tiles) == 273 + 1 + 2 + 1
    assert paths[-1] == "tile/entries/273.p/112"


def test_a_tree_of_256_has_a_partial_level_1_tile() -> None:
    assert tlog.tile_paths(256) == ["tile/0/000", "tile/1/000.p/1", "tile/entries/000"]


def test_the_hand_builder_serves_exactly_the_spec_paths() -> None:
    for size in (1, 2, 3, 255, 256, 257):
        assert sorted(hand_log(size).files()) == sorted(["checkpoint", *tlog.tile_paths(size)])


# --- whole logs -------------------------------------------------------------------------------------------


def test_the_written_out_hashes_are_the_rfc_definitions() -> None:
    assert tlog.leaf_hash(b"event 0").hex() == LEAF_0
    assert tlog.leaf_hash(b"event 1").hex() == LEAF_1
    assert tlog.node_hash(bytes.fromhex(LEAF_0), bytes.fromhex(LEAF_1)).hex() == ROOTS[2]
    for size, root in ROOTS.items():
        assert hand_log(size).root().hex() == root
        assert tlog.mth([tlog.leaf_hash(e) for e in entries(size)]).hex() == root


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_a_hand_built_log_verifies_to_its_written_out_root(size: int) -> None:
    log = hand_log(size)
    seen: list[bytes] = []
    verified = tlog.verify_log(fetch_from(log.files()), log.vkey, on_entry=lambda i, e: seen.append(e))
    assert verified.checkpoint.root.hex() == ROOTS[size]
    assert verified.checkpoint.size == verified.entries == size
    assert verified.checkpoint.origin == ORIGIN
    assert verified.checkpoint.extensions == ()
    assert seen == entries(size)


def test_an_empty_and_a_one_leaf_log_verify() -> None:
    for size in (0, 1):
        log = hand_log(size)
        assert tlog.verify_log(fetch_from(log.files()), log.vkey).entries == size


def test_a_log_verifies_from_a_directory(tmp_path: Path) -> None:
    log = hand_log(257)
    for path, data in log.files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert tlog.verify_log(tlog.directory_fetch(tmp_path), log.vkey).entries == 257


def edit_entry(files: dict[str, bytes], index: int, entry: bytes) -> None:
    """Replace entry ``index`` in its (full) bundle of a hand log's files."""
    path = f"tile/entries/{_index(index // 256)}"
    bundle = tlog.parse_bundle(files[path])
    bundle[index % 256] = entry
    files[path] = b"".join(len(e).to_bytes(2, "big") + e for e in bundle)


def _verify_error(files: dict[str, bytes], vkey: str) -> VerificationError:
    with pytest.raises(VerificationError) as caught:
        tlog.verify_log(fetch_from(files), vkey)
    return caught.value


def test_an_edited_entry_is_named() -> None:
    log = hand_log(257)
    files = log.files()
    edit_entry(files, 17, b"event 71")
    error = _verify_error(files, log.vkey)
    assert (error.what, error.detail) == ("entry", "entry 17 does not hash to its leaf in tile 0/0")


def test_an_entry_rehashed_into_its_tile_breaks_the_level_above() -> None:
    log = hand_log(257)
    files = log.files()
    edit_entry(files, 17, b"event 71")
    tile = bytearray(files["tile/0/000"])
    tile[17 * 32 : 18 * 32] = tlog.leaf_hash(b"event 71")
    files["tile/0/000"] = bytes(tile)
    assert _verify_error(files, log.vkey).what == "tile"


def test_a_consistently_rewritten_log_fails_the_signed_root() -> None:
    log = hand_log(257)
    forged = HandLog([*log.entries[:17], b"event 71", *log.entries[18:]], log.key)
    files = forged.files()
    files["checkpoint"] = log.checkpoint()
    assert _verify_error(files, log.vkey).what == "root"


def test_bundles_and_tiles_of_the_wrong_shape_are_named() -> None:
    log = hand_log(257)
    extra = log.files()
    extra["tile/entries/001.p/1"] += b"\x00\x01x"
    assert _verify_error(extra, log.vkey).what == "entries"
    cut = log.files()
    cut["tile/entries/001.p/1"] = cut["tile/entries/001.p/1"][:-1]
    assert _verify_error(cut, log.vkey).what == "bundle"
    short = log.files()
    short["tile/1/000.p/1"] = short["tile/1/000.p/1"][:-1]
    assert _verify_error(short, log.vkey).what == "tile"
    gone = log.files()
    del gone["tile/entries/000"]
    assert _verify_error(gone, log.vkey).what == "entries"


def test_pruned_bundles_are_accepted_only_below_the_minimum_index() -> None:
    log = hand_log(257)
    files = log.files()
    del files["tile/entries/000"]
    verified = tlog.verify_log(fetch_from(files), log.vkey, min_index=256)
    assert (verified.entries, verified.pruned) == (1, 256)
    with pytest.raises(VerificationError, match="entries"):
        tlog.verify_log(fetch_from(files), log.vkey, min_index=255)


# --- signed notes ------------------------------------------------------------------------------------------


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    log = hand_log(3)
    files = HandLog(log.entries, Ed25519PrivateKey.generate()).files()
    assert _verify_error(files, log.vkey).what == "signature"


def test_a_forged_signature_by_the_known_key_is_refused() -> None:
    log = hand_log(3)
    files = log.files()
    body, signature = log.body(), signature_line(ORIGIN, Ed25519PrivateKey.generate(), log.body())
    key_id = _h(ORIGIN.encode() + b"\n\x01" + _public(log.key))[:4]
    blob = base64.b64decode(signature.split()[-1])
    files["checkpoint"] = (
        body + b"\n" + f"— {ORIGIN} {base64.b64encode(key_id + blob[4:]).decode()}\n".encode()
    )
    error = _verify_error(files, log.vkey)
    assert (error.what, error.detail) == ("signature", f"the signature by {ORIGIN} does not verify")


def test_signatures_by_unknown_keys_are_ignored() -> None:
    log = hand_log(3)
    files = log.files()
    files["checkpoint"] += signature_line("other.example/log", Ed25519PrivateKey.generate(), log.body())
    assert tlog.verify_log(fetch_from(files), log.vkey).entries == 3


@pytest.mark.parametrize(
    "note",
    [
        b"no blank line\n\xe2\x80\x94 x AAAA\n",
        b"tests.example/hand-log\n3\nroot\n\n- tests.example/hand-log AAAAAAAA\n",
        b"control \x07 char\n\n",
        b"\xff\xfe\n\n",
    ],
)
def test_malformed_notes_are_refused(note: bytes) -> None:
    with pytest.raises(VerificationError) as caught:
        tlog.parse_checkpoint(note, hand_log(1).vkey)
    assert caught.value.what == "note"


def test_a_checkpoint_body_must_be_origin_size_root() -> None:
    key = Ed25519PrivateKey.generate()
    vkey = vkey_of(ORIGIN, key)
    root = base64.b64encode(b"\x00" * 32).decode()
    for body in (f"{ORIGIN}\n03\n{root}\n", f"{ORIGIN}\n3\n", f"{ORIGIN}\n3\nAAAA\n", f"other\n3\n{root}\n"):
        note = body.encode() + b"\n" + signature_line(ORIGIN, key, body.encode())
        with pytest.raises(VerificationError) as caught:
            tlog.parse_checkpoint(note, vkey)
        assert caught.value.what == "checkpoint", body


def test_a_verifier_key_must_carry_its_derived_key_id() -> None:
    good = vkey_of(ORIGIN, KEY)
    assert tlog.parse_vkey(good).public == _public(KEY)
    name, key_id, rest = good.split("+", 2)
    for bad in (f"{name}+00000000+{rest}", f"{name}+{key_id}", "x+1+2", f"a b+{key_id}+{rest}"):
        with pytest.raises(VerificationError) as caught:
            tlog.parse_vkey(bad)
        assert caught.value.what == "key"


def test_witness_cosignatures_are_required_and_checked() -> None:
    log = hand_log(3)
    witness = Ed25519PrivateKey.generate()
    witness_vkey = vkey_of("witness.example/w1", witness, 0x04)
    when = int(time.time())
    cosigned = log.checkpoint() + cosignature_line("witness.example/w1", witness, log.body(), when)
    checkpoint = tlog.parse_checkpoint(cosigned, log.vkey, witnesses=[witness_vkey])
    assert checkpoint.cosigners == ("witness.example/w1",)
    with pytest.raises(VerificationError, match="cosignature"):
        tlog.parse_checkpoint(log.checkpoint(), log.vkey, witnesses=[witness_vkey])
    # The timestamp is signed: changing it breaks the cosignature.
    lied = log.checkpoint() + cosignature_line("witness.example/w1", witness, log.body(), when)
    line = lied.split(b"\n")[-2]
    blob = bytearray(base64.b64decode(line.split()[-1]))
    blob[11] ^= 1
    lied = lied.replace(line.split()[-1], base64.b64encode(bytes(blob)))
    with pytest.raises(VerificationError, match="signature"):
        tlog.parse_checkpoint(lied, log.vkey, witnesses=[witness_vkey])


# --- inclusion and consistency (RFC 9162 §2.1.3, §2.1.4) ------------------------------------------------


def _subtree(entries: Sequence[bytes]) -> tlog.Subtree:
    return lambda lo, hi: _mth(entries[lo:hi])


def test_the_two_leaf_proofs_written_out() -> None:
    root2 = bytes.fromhex(ROOTS[2])
    leaf0, leaf1 = bytes.fromhex(LEAF_0), bytes.fromhex(LEAF_1)
    assert tlog.inclusion_path(0, 2, _subtree(entries(2))) == [leaf1]
    assert tlog.verify_inclusion(leaf0, 0, 2, [leaf1], root2)
    assert tlog.verify_inclusion(leaf1, 1, 2, [leaf0], root2)
    assert not tlog.verify_inclusion(leaf1, 0, 2, [leaf0], root2)
    # From 1 leaf to 2: the new leaf is the proof; from 2 to 3: leaf 2's hash (the old root is 2's).
    assert tlog.consistency_path(1, 2, _subtree(entries(2))) == [leaf1]
    assert tlog.verify_consistency(1, 2, leaf0, root2, [leaf1])
    leaf2 = tlog.leaf_hash(b"event 2")
    assert tlog.consistency_path(2, 3, _subtree(entries(3))) == [leaf2]
    assert tlog.verify_consistency(2, 3, root2, bytes.fromhex(ROOTS[3]), [leaf2])


def test_every_inclusion_proof_of_a_257_leaf_tree_verifies_and_none_lies() -> None:
    log = hand_log(257)
    reader = tlog._Tiles(fetch_from(log.files()), 257)
    root = bytes.fromhex(ROOTS[257])
    for index in range(257):
        path = tlog.inclusion_path(index, 257, reader.subtree)
        assert path == tlog.inclusion_path(index, 257, _subtree(log.entries))
        leaf = tlog.leaf_hash(log.entries[index])
        assert tlog.verify_inclusion(leaf, index, 257, path, root)
        assert not tlog.verify_inclusion(leaf, (index + 1) % 257, 257, path, root)
        if index < 256:  # a tree of 256 has shorter paths: this one runs past its root
            assert not tlog.verify_inclusion(leaf, index, 256, path, root)
        assert not tlog.verify_inclusion(leaf, index, 257, [*path, path[0]], root)
        if path:
            assert not tlog.verify_inclusion(leaf, index, 257, [_h(path[0]), *path[1:]], root)


def test_every_consistency_proof_up_to_20_verifies_and_every_altered_one_fails() -> None:
    all_entries = entries(20)
    subtree = _subtree(all_entries)
    for new in range(2, 21):
        new_root = _mth(all_entries[:new])
        for old in range(1, new):
            old_root = _mth(all_entries[:old])
            path = tlog.consistency_path(old, new, subtree)
            assert tlog.verify_consistency(old, new, old_root, new_root, path), (old, new)
            assert not tlog.verify_consistency(old, new, new_root, new_root, path)
            for i in range(len(path)):
                altered = [*path[:i], _h(path[i]), *path[i + 1 :]]
                assert not tlog.verify_consistency(old, new, old_root, new_root, altered), (old, new, i)
            assert not tlog.verify_consistency(old, new, old_root, new_root, path[:-1])


@pytest.mark.parametrize(
    ("old", "new"), [(1, 2), (2, 3), (3, 257), (256, 257), (255, 256), (2, 257), (257, 257)]
)
def test_consistency_between_two_hand_checkpoints(old: int, new: int) -> None:
    older, newer = hand_log(old), hand_log(new)
    path = tlog.verify_consistent(
        older.checkpoint(), newer.checkpoint(), fetch_from(newer.files()), newer.vkey
    )
    if old < new:
        assert path == tlog.consistency_path(old, new, _subtree(newer.entries))


def test_a_rollback_is_named() -> None:
    older, newer = hand_log(257), hand_log(3)
    with pytest.raises(VerificationError) as caught:
        tlog.verify_consistent(older.checkpoint(), newer.checkpoint(), fetch_from(newer.files()), older.vkey)
    assert (caught.value.what, caught.value.detail) == ("rollback", "the tree shrank from 257 to 3")


def test_a_rewrite_after_the_kept_checkpoint_is_named() -> None:
    kept = hand_log(3)
    rewritten = HandLog([*entries(2), b"event 2, rewritten", *entries(257)[3:]], KEY)
    with pytest.raises(VerificationError) as caught:
        tlog.verify_consistent(
            kept.checkpoint(), rewritten.checkpoint(), fetch_from(rewritten.files()), kept.vkey
        )
    assert caught.value.what == "consistency"
    same_size = HandLog([*entries(2), b"other"], KEY)
    with pytest.raises(VerificationError, match="two different roots"):
        tlog.verify_consistent(
            kept.checkpoint(), same_size.checkpoint(), fetch_from(same_size.files()), kept.vkey
        )


# --- tlog-proof ------------------------------------------------------------------------------------------


def proof_text(log: HandLog, index: int, *, extra: bytes | None = None) -> bytes:
    path = tlog.inclusion_path(index, len(log.entries), _subtree(log.entries))
    lines = ["c2sp.org/tlog-proof@v1"]
    lines += [f"extra {base64.b64encode(extra).decode()}"] if extra is not None else []
    lines += [f"index {index}", *(base64.b64encode(h).decode() for h in path)]
    return ("\n".join(lines) + "\n\n").encode() + log.checkpoint()


def test_a_tlog_proof_verifies_its_entry_offline() -> None:
    log = hand_log(257)
    for index in (0, 1, 100, 255, 256):
        checkpoint = tlog.verify_proof(proof_text(log, index), b"event %d" % index, log.vkey)
        assert checkpoint.size == 257
    parsed = tlog.parse_proof(proof_text(log, 5, extra=b"context"))
    assert (parsed.index, parsed.extra, len(parsed.hashes)) == (5, b"context", 9)
    assert tlog.verify_proof(proof_text(log, 5, extra=b"context"), b"event 5", log.vkey).size == 257


def test_a_tlog_proof_for_other_bytes_or_a_bad_file_fails() -> None:
    log = hand_log(257)
    with pytest.raises(VerificationError) as caught:
        tlog.verify_proof(proof_text(log, 5), b"event 6", log.vkey)
    assert caught.value.what == "inclusion"
    for bad in (
        proof_text(log, 5).replace(b"tlog-proof@v1", b"tlog-proof@v2"),
        proof_text(log, 5).replace(b"index 5", b"index 05"),
        proof_text(log, 5).replace(b"index 5", b"idx 5"),
        b"c2sp.org/tlog-proof@v1\nindex 5\n",
    ):
        with pytest.raises(VerificationError) as caught:
            tlog.verify_proof(bad, b"event 5", log.vkey)
        assert caught.value.what == "proof"


# --- independence -----------------------------------------------------------------------------------------


def test_the_verifier_imports_nothing_from_registrar() -> None:
    tree = ast.parse(Path(tlog.__file__).read_text())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported
    assert not [name for name in imported if name.split(".")[0] == "registrar"]
    assert "registrar" not in Path(tlog.__file__).read_text().replace("``registrar``", "").replace(
        "Registrar", ""
    )
