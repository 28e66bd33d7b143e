"""Sealing secrets: authenticated, bound to their row, keys from config or a private key file."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from registrar.crypto import SecretBox, load_key


def test_seal_and_open_round_trip_and_binding() -> None:
    box = SecretBox(b"\x01" * 32)
    sealed = box.seal("hunter2", "rsc1")
    assert b"hunter2" not in sealed
    assert box.open(sealed, "rsc1") == "hunter2"
    assert box.seal("hunter2", "rsc1") != sealed  # fresh nonce each time
    with pytest.raises(ValueError, match="authentication"):
        box.open(sealed, "rsc2")  # moved to another row
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ValueError, match="authentication"):
        box.open(tampered, "rsc1")
    with pytest.raises(ValueError, match="authentication"):
        SecretBox(b"\x02" * 32).open(sealed, "rsc1")


def test_generated_key_file_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "registrar.key"
    key = load_key(None, path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_key(None, path) == key
    assert [p.name for p in path.parent.iterdir()] == ["registrar.key"]


def test_configured_key_wins_and_is_validated(tmp_path: Path) -> None:
    configured = base64.b64encode(b"\x07" * 32).decode()
    assert load_key(configured, tmp_path / "absent.key") == b"\x07" * 32
    assert not (tmp_path / "absent.key").exists()
    with pytest.raises(ValueError, match="32 bytes"):
        load_key(base64.b64encode(b"short").decode(), tmp_path / "absent.key")
