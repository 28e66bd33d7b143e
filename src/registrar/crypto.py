"""Sealing client secrets at rest with AES-256-GCM (``cryptography``).

The key comes from ``REGISTRAR_SECRET_KEY`` (32 bytes, base64 or base64url) or, failing that, from a key
file created on first use with mode 0600 (in a 0700 directory). A key file that group or others may read
or write is refused (:class:`~registrar.datadir.InsecureKeyFile`): the key may already be out. Replicas
sharing one PostgreSQL must share the key, so they should set ``REGISTRAR_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .datadir import ensure_private_dir, require_private

__all__ = ["SecretBox", "load_key", "read_key_file", "swap_key_file", "write_key_file"]

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretBox:
    """Seals and opens secrets; the associated data binds a sealed blob to the row it belongs to."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, associated: str) -> bytes:
        """Encrypt ``plaintext``: version byte, random nonce, ciphertext with tag."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), associated.encode())

    def open(self, sealed: bytes, associated: str) -> str:
        """Decrypt a blob made by :meth:`seal`; raises ``ValueError`` if it was altered or moved."""
        if sealed[:1] != _VERSION:
            raise ValueError("unknown sealed-secret version")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, associated.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("sealed secret failed authentication") from exc


def _decode_key(text: str) -> bytes:
    text = text.strip()
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            key = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(key) == 32:
            return key
    raise ValueError(
        "REGISTRAR_SECRET_KEY must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)"
    )


def read_key_file(key_file: Path) -> bytes:
    """The 32-byte key in ``key_file``; refuses a file that group or others may read or write."""
    fd = os.open(key_file, os.O_RDONLY)
    with os.fdopen(fd) as handle:
        require_private(key_file, fd)
        return _decode_key(handle.read())


def write_key_file(key_file: Path, key: bytes) -> None:
    """Create ``key_file`` (it must not exist) with mode 0600 holding ``key``, flushed to disk."""
    ensure_private_dir(key_file.parent)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_key(configured: str | None, key_file: Path) -> bytes:
    """The configured key, else the key file's, else a new key written to ``key_file`` with mode 0600."""
    if configured:
        return _decode_key(configured)
    try:
        return read_key_file(key_file)
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    # Write a private temporary file, then link it into place: the link is atomic and fails if another
    # process got there first, so concurrent first starts agree on one key and never read a partial file.
    tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_key_file(tmp, key)
    try:
        os.link(tmp, key_file)
    except FileExistsError:
        return read_key_file(key_file)
    finally:
        tmp.unlink(missing_ok=True)
    return key


def swap_key_file(new_file: Path, key_file: Path) -> None:
    """Move ``new_file`` over ``key_file`` atomically and overwrite the old key's bytes on disk.

    The old file is opened before the swap and zeroed after it: a crash at any point leaves either the old
    key or the new one in place, never a partial file. (On copy-on-write or wear-levelled storage the
    zeroing is best effort, and backups still hold the old key.)
    """
    old: int | None
    try:
        key_file.chmod(0o600)  # a 0400 file is private too, but must be writable to be zeroed
        old = os.open(key_file, os.O_WRONLY)
    except FileNotFoundError:
        old = None
    try:
        os.replace(new_file, key_file)
        if old is not None:
            os.pwrite(old, b"\0" * os.fstat(old).st_size, 0)
            os.fsync(old)
            os.ftruncate(old, 0)
    finally:
        if old is not None:
            os.close(old)
