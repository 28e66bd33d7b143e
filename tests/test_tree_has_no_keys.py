"""No key can be in the repository: a committed key is a key everyone has (issue 11).

The scan reads every tracked file (``git ls-files``): key-file names, PEM private-key blocks, and files at
a key-like path holding nothing but a base64 32-byte seed (what Registrar's key files look like).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_KEY_SUFFIXES = {".key", ".pem", ".p12", ".pfx", ".seed"}
_KEY_NAME = re.compile(r"key|seed|secret", re.IGNORECASE)
# Spelled in two parts so that this file does not match itself.
_PEM_PRIVATE = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE" + rb" KEY-----")


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks in ``root`` (staged deletions excluded)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached"], cwd=root, capture_output=True, check=True
    ).stdout
    paths = [root / name for name in listing.decode().split("\0") if name]
    return [path for path in paths if path.is_file()]


def _is_seed(content: bytes) -> bool:
    text = content.strip()
    if not text or len(text) > 64 or b"\n" in text:
        return False
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            if len(decode(text + b"=" * (-len(text) % 4))) == 32:
                return True
        except (binascii.Error, ValueError):
            continue
    return False


def key_material(root: Path, paths: list[Path]) -> list[str]:
    """Why each of ``paths`` looks like a key (empty when none does)."""
    found = []
    for path in paths:
        name = str(path.relative_to(root))
        content = path.read_bytes()
        if path.suffix.lower() in _KEY_SUFFIXES:
            found.append(f"{name}: a key file name")
        elif _PEM_PRIVATE.search(content):
            found.append(f"{name}: holds a PEM private key")
        elif _KEY_NAME.search(path.name) and _is_seed(content):
            found.append(f"{name}: a 32-byte base64 seed at a key path")
    return found


def test_no_tracked_file_is_or_holds_a_key() -> None:
    files = tracked_files(ROOT)
    assert len(files) > 50  # the listing worked (a broken one would pass vacuously)
    assert key_material(ROOT, files) == []


def test_the_scan_finds_each_kind_of_key(tmp_path: Path) -> None:
    seed = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    planted = {
        "registrar-signing.key": seed + "\n",
        "certs/server.pem": "anything",
        "config/signing-seed": seed,
        "deploy/notes.txt": "-----BEGIN OPENSSH PRIVATE" + " KEY-----\nb3Bl\n",
        "docs/keys.md": "Keys live in the data directory.\n",  # prose about keys is fine
        "src/keywords.py": "WORDS = 1\n",
    }
    for name, text in planted.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = key_material(tmp_path, sorted(p for p in tmp_path.rglob("*") if p.is_file()))
    assert [line.split(":")[0] for line in found] == [
        "certs/server.pem",
        "config/signing-seed",
        "deploy/notes.txt",
        "registrar-signing.key",
    ]


def test_gitignore_keeps_key_files_out() -> None:
    for name in ("registrar.key", "registrar-signing.key", "tls/server.pem", "registrar-data/registrar.db"):
        checked = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", name], cwd=ROOT, capture_output=True
        )
        assert checked.returncode == 0, f"{name} is not ignored by .gitignore"
