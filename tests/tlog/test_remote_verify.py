"""``registrar verify --remote``: a log checked from what it publishes alone, each failure named.

These run the command on static tlog-tiles directories built by hand (``test_independent``'s logs, plus a
``verifier-keys`` file): no database, no server. ``test_tamper`` runs it against a live server.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner, Result

from registrar.cli import app

from . import independent
from .test_independent import KEY, ORIGIN, HandLog, cosignature_line, edit_entry, entries, hand_log, vkey_of


def write(log: HandLog, root: Path, *, files: dict[str, bytes] | None = None) -> Path:
    """The log's files (or ``files``) and its verifier key, as ``registrar logs export`` writes them."""
    for path, data in {**(files or log.files()), "verifier-keys": f"{log.vkey}\n".encode()}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def verify(*args: str) -> Result:
    return CliRunner().invoke(app, ["verify", "--remote", *args], env={"COLUMNS": "200"})


def test_a_log_directory_verifies(tmp_path: Path) -> None:
    result = verify(str(write(hand_log(257), tmp_path)))
    assert result.exit_code == 0, result.output
    assert "ok: 257 entries and every tile verify against the checkpoint" in result.stdout
    assert f"checkpoint: {ORIGIN} size 257 root 6sxCy9aaRpNMQLARCcKz6jKIDaigU8zk4Mli0J9pttA=" in result.stdout
    assert hand_log(1).vkey in result.stdout  # the key it trusted


def test_a_kept_checkpoint_must_be_extended(tmp_path: Path) -> None:
    kept = tmp_path / "kept.checkpoint"
    result = verify(str(write(hand_log(3), tmp_path / "then")), "--save-checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert kept.read_bytes() == hand_log(3).checkpoint()
    result = verify(str(write(hand_log(257), tmp_path / "now")), "--checkpoint", str(kept))
    assert result.exit_code == 0, result.output
    assert "it extends the kept checkpoint of size 3" in result.stdout


def test_a_rollback_below_the_kept_checkpoint_is_named(tmp_path: Path) -> None:
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes(hand_log(257).checkpoint())
    result = verify(str(write(hand_log(3), tmp_path / "now")), "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "rollback" in result.stdout
    assert "the log is at size 3, smaller than the kept checkpoint's 257" in result.stdout


def test_a_rewrite_after_the_kept_checkpoint_is_named(tmp_path: Path) -> None:
    kept = tmp_path / "kept.checkpoint"
    kept.write_bytes(hand_log(3).checkpoint())
    rewritten = HandLog([*entries(2), b"event 2, rewritten", *entries(257)[3:]], KEY)
    result = verify(str(write(rewritten, tmp_path / "now")), "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "consistency" in result.stdout
    assert "does not extend the kept checkpoint of 3" in result.stdout
    same_size = HandLog([*entries(2), b"other"], KEY)
    result = verify(str(write(same_size, tmp_path / "same")), "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "size 3 has another root than the kept checkpoint's" in result.stdout


def test_an_edited_entry_is_named_and_the_checkpoint_not_saved(tmp_path: Path) -> None:
    log = hand_log(257)
    files = log.files()
    edit_entry(files, 17, b"event 71")
    kept = tmp_path / "kept.checkpoint"
    result = verify(str(write(log, tmp_path / "log", files=files)), "--save-checkpoint", str(kept))
    assert result.exit_code == 1
    assert "entry 17 (event seq 18) does not hash to its leaf" in result.stdout
    assert not kept.exists()
    assert "not saving the checkpoint" in result.stderr


def test_tiles_that_do_not_hash_to_the_root_are_named(tmp_path: Path) -> None:
    log = hand_log(257)
    files = log.files()
    files["tile/1/000.p/1"] = bytes(32)
    result = verify(str(write(log, tmp_path, files=files)))
    assert result.exit_code == 1
    assert "hash 0 of tile 1/0 is not the root of the tile below it" in result.stdout
    forged = HandLog([*entries(256), b"event 256, forged"], KEY).files()
    forged["checkpoint"] = log.checkpoint()
    result = verify(str(write(log, tmp_path / "forged", files=forged)))
    assert result.exit_code == 1
    assert "root" in result.stdout
    assert "the tiles' root is not the checkpoint's (size 257)" in result.stdout


def test_a_checkpoint_by_another_key_than_the_pinned_one_is_refused(tmp_path: Path) -> None:
    other = vkey_of(ORIGIN, Ed25519PrivateKey.generate())
    result = verify(str(write(hand_log(3), tmp_path)), "--key", other)
    assert result.exit_code == 1
    assert "signature" in result.stdout
    assert "the pinned key" in result.stdout
    assert "is not among the served verifier keys" in result.stdout
    assert verify(str(tmp_path), "--key", hand_log(3).vkey).exit_code == 0


def test_a_required_witness_must_have_cosigned(tmp_path: Path) -> None:
    log = hand_log(3)
    witness = Ed25519PrivateKey.generate()
    witness_vkey = vkey_of("witness.example/w1", witness, 0x04)
    files = log.files()
    result = verify(str(write(log, tmp_path / "alone", files=files)), "--witness", witness_vkey)
    assert result.exit_code == 1
    assert "the checkpoint carries no cosignature of witness.example/w1" in result.stdout
    files["checkpoint"] += cosignature_line("witness.example/w1", witness, log.body(), int(time.time()))
    result = verify(str(write(log, tmp_path / "cosigned", files=files)), "--witness", witness_vkey)
    assert result.exit_code == 0, result.output
    assert "cosigned by: witness.example/w1" in result.stdout


def test_only_a_leading_run_of_bundles_may_be_pruned(tmp_path: Path) -> None:
    log = HandLog(entries(600), KEY)
    files = log.files()
    del files["tile/entries/000"]
    result = verify(str(write(log, tmp_path / "pruned", files=files)))
    assert result.exit_code == 0, result.output
    assert "ok: 344 entries (256 pruned: checked by their hashes only)" in result.stdout
    files = log.files()
    del files["tile/entries/001"]
    result = verify(str(write(log, tmp_path / "hole", files=files)))
    assert result.exit_code == 1
    assert "tile/entries/001 is not served (only a leading run may be pruned)" in result.stdout


@pytest.mark.parametrize("size", [0, 1, 255, 256, 512])
def test_edge_sizes_verify_with_both_verifiers(size: int, tmp_path: Path) -> None:
    log = HandLog([b"%d" % i for i in range(size)], KEY)
    root = write(log, tmp_path)
    result = verify(str(root))
    assert result.exit_code == 0, result.output
    assert independent.verify_log(independent.directory_fetch(root), log.vkey).entries == size
