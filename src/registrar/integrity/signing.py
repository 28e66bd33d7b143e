"""The Ed25519 key that signs checkpoints (``cryptography``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from registrar.crypto import load_key

__all__ = ["Signer", "key_id", "key_id_of", "verify_signature"]


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def key_id_of(public_b64: str) -> str | None:
    """The :func:`key_id` of a base64 public key, or None when it is not an Ed25519 public key."""
    try:
        return key_id(Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True)))
    except ValueError:
        return None


class Signer:
    """Signs checkpoint payloads; the private seed comes from config or a 0600 key file."""

    def __init__(self, seed: bytes):
        self._seed = seed
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self._private.public_key()
        self.key_id = key_id(self.public)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"  # never the seed

    @classmethod
    def load(cls, configured: str | None, key_file: Path) -> Signer:
        """The configured seed (``REGISTRAR_SIGNING_KEY``), else the key file's, else a new key file."""
        return cls(load_key(configured, key_file))

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a fresh random seed (kept in memory only)."""
        return cls(secrets.token_bytes(32))

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed: for writing it to a key file, or printing it once on request."""
        return self._seed

    def sign(self, payload: bytes) -> str:
        """The base64 signature of ``payload``."""
        return base64.b64encode(self._private.sign(payload)).decode()

    def public_key_b64(self) -> str:
        """The raw public key, base64: what an outside verifier needs."""
        return base64.b64encode(self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def verify_signature(public_b64: str, payload: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid Ed25519 signature of ``payload`` by ``public_b64``."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        public.verify(base64.b64decode(signature_b64), payload)
    except (InvalidSignature, ValueError):
        return False
    return True
