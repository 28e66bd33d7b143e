"""Sealing client secrets at rest with AES-256-GCM (``cryptography``).

The key comes from ``REGISTRAR_SECRET_KEY`` (32 bytes, base64 or base64url) or, failing that, from a key
file created on first use with mode 0600. Replicas sharing one PostgreSQL must share the key, so they
should set ``REGISTRAR_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SecretBox", "load_key"]

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


def load_key(configured: str | None, key_file: Path) -> bytes:
    """The configured key, else the key file's, else a new key written to ``key_file`` with mode 0600."""
    if configured:
        return _decode_key(configured)
    try:
        return _decode_key(key_file.read_text())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Write a private temporary file, then link it into place: the link is atomic and fails if another
    # process got there first, so concurrent first starts agree on one key and never read a partial file.
    tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
        os.link(tmp, key_file)
    except FileExistsError:
        return _decode_key(key_file.read_text())
    finally:
        tmp.unlink(missing_ok=True)
    return key
