"""C2SP signed notes, verifier keys, tlog-checkpoint bodies and tlog-cosignature v1 lines — pure.

A signed note (``c2sp.org/signed-note@v1.0.0``) is a text ending in a newline, a blank line, then lines
``— <key name> <base64(4-byte key id ‖ signature)>``. A verifier key is written
``<name>+<hex key id>+<base64(type ‖ public key)>``; for Ed25519 the key id is the first four bytes of
SHA-256(name ‖ 0x0A ‖ type ‖ public key), type 0x01 for note signatures and 0x04 for timestamped witness
cosignatures (``c2sp.org/tlog-cosignature``), whose signature is ``time (u64, big-endian) ‖ Ed25519`` over
``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "CheckpointBody",
    "NoteError",
    "NoteSignature",
    "SignedNote",
    "VerifierKey",
    "checkpoint_body",
    "cosignature_message",
    "note_key_id",
    "open_note",
    "parse_checkpoint_body",
    "parse_note",
    "parse_signature_line",
    "parse_verifier_key",
    "sign_note",
    "signature_line",
    "verify_cosignature",
]

ED25519 = 0x01  # signed-note Ed25519 signatures
COSIGNATURE_V1 = 0x04  # tlog-cosignature v1 timestamped Ed25519 cosignatures
_DASH = "\u2014"
_MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class NoteError(ValueError):
    """A note, key, checkpoint or cosignature that is malformed or does not verify (the message says why)."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not standard base64") from None


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name) or _CONTROL.search(name):
        raise NoteError(f"{name!r} is not a key name (non-empty, no spaces, no '+')")


def note_key_id(name: str, key_type: int, public: bytes) -> bytes:
    """The recommended key id: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A signed-note Ed25519 verifier key (note type 0x01 or cosignature type 0x04)."""

    name: str
    key_type: int
    public: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.key_type not in (ED25519, COSIGNATURE_V1):
            raise NoteError(f"key type 0x{self.key_type:02x} is not an Ed25519 signature type this log uses")
        if len(self.public) != 32:
            raise NoteError("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id."""
        return note_key_id(self.name, self.key_type, self.public)

    def encode(self) -> str:
        """``<name>+<hex key id>+<base64(type ‖ public key)>``."""
        material = base64.b64encode(bytes([self.key_type]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<hex key id>+<base64(type ‖ key)>``; the key id must match the key."""
    name, sep, rest = text.strip().partition("+")
    hex_id, sep2, material = rest.partition("+")
    if not (sep and sep2) or not _KEY_ID_HEX.fullmatch(hex_id):
        raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
    raw = _b64decode(material, "the verifier key's key material")
    if len(raw) != 33:
        raise NoteError("the verifier key's material is not a type byte and a 32-byte Ed25519 key")
    key = VerifierKey(name, raw[0], raw[1:])
    if key.key_id.hex() != hex_id:
        raise NoteError(f"the verifier key's id {hex_id} does not match its name and key")
    return key


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, and the signature bytes after the id."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The line as written in a note (with its newline)."""
        return signature_line(self.name, self.key_id, self.signature)


def signature_line(name: str, key_id: bytes, signature: bytes) -> str:
    """``— <name> <base64(key id ‖ signature)>`` and a newline."""
    return f"{_DASH} {name} {base64.b64encode(key_id + signature).decode()}\n"


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one signature line (with or without its newline)."""
    body = line.removesuffix("\n")
    prefix, _, rest = body.partition(" ")
    name, _, blob = rest.partition(" ")
    if prefix != _DASH or " " in blob:
        raise NoteError("a signature line is '— <name> <base64 signature>'")
    _check_name(name)
    raw = _b64decode(blob, "a signature")
    if len(raw) < 5:
        raise NoteError("a signature is a 4-byte key id and at least one byte")
    return NoteSignature(name, raw[:4], raw[4:])


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A parsed note: its text (ending in a newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        """The note as served: text, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def parse_note(note: str | bytes) -> SignedNote:
    """Split a signed note into its text and signatures (nothing is verified here)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a signed note is UTF-8") from None
    if _CONTROL.search(note):
        raise NoteError("a signed note contains no control characters other than newline")
    if not note.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note has a blank line before its signatures")
    text, lines = note[: split + 1], note[split + 2 :].splitlines()
    if not lines:
        raise NoteError("a signed note has at least one signature")
    if len(lines) > _MAX_SIGNATURES:
        raise NoteError(f"more than {_MAX_SIGNATURES} signatures")
    return SignedNote(text, tuple(parse_signature_line(line) for line in lines))


def sign_note(text: str, name: str, public: bytes, sign: Callable[[bytes], bytes]) -> str:
    """``text`` signed by the Ed25519 key ``public`` (``sign`` makes the raw 64-byte signature)."""
    if not text.endswith("\n") or _CONTROL.search(text):
        raise NoteError("a note's text ends with a newline and has no control characters")
    key = VerifierKey(name, ED25519, public)
    return SignedNote(text, (NoteSignature(name, key.key_id, sign(text.encode())),)).encode()


def open_note(note: str | bytes, keys: Sequence[VerifierKey]) -> SignedNote:
    """Verify ``note`` against ``keys`` (note type 0x01): the signatures from known keys must all verify.

    Signatures from unknown keys (another name or id) are ignored, as the spec requires; one known
    signature that fails rejects the note, and so does a note with no known signature.
    """
    parsed = parse_note(note)
    known = {(key.name, key.key_id): key for key in keys if key.key_type == ED25519}
    verified = 0
    for sig in parsed.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verify(parsed.text.encode(), sig.signature):
            raise NoteError(f"the signature of {sig.name}+{sig.key_id.hex()} does not verify")
        verified += 1
    if not verified:
        raise NoteError("the note carries no signature from a known key")
    return parsed


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    """The text of a tlog-checkpoint: origin, tree size, root hash (and extension lines, if any)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def encode(self) -> str:
        """The note text, each line ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The text of a checkpoint with no extension lines."""
    _check_name(origin)
    if size < 0 or len(root) != 32:
        raise NoteError("a checkpoint has a size ≥ 0 and a 32-byte root")
    return CheckpointBody(origin, size, root).encode()


def parse_checkpoint_body(text: str) -> CheckpointBody:
    """Parse a checkpoint's note text (strictly: decimal size without leading zeros, 32-byte root)."""
    if not text.endswith("\n"):
        raise NoteError("a checkpoint's text ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("a checkpoint has at least three non-empty lines: origin, size, root hash")
    origin, size, root, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise NoteError("a checkpoint's size is a decimal number without leading zeros")
    digest = _b64decode(root, "a checkpoint's root hash")
    if len(digest) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return CheckpointBody(origin, int(size), digest, tuple(extensions))


def cosignature_message(body: str, timestamp: int) -> bytes:
    """What a tlog-cosignature v1 signs: ``cosignature/v1``, ``time <t>``, then the checkpoint text."""
    if not 0 <= timestamp < 2**63:
        raise NoteError("a cosignature's time is between 0 and 2^63 - 1")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def verify_cosignature(line: str, key: VerifierKey, body: str) -> int:
    """Verify a witness's cosignature ``line`` on checkpoint text ``body``; returns its time (seconds).

    Raises :class:`NoteError` when the line is not from ``key`` (name and id) or does not verify.
    """
    if key.key_type != COSIGNATURE_V1:
        raise NoteError("a cosignature key has type 0x04")
    sig = parse_signature_line(line)
    if (sig.name, sig.key_id) != (key.name, key.key_id):
        raise NoteError(f"the cosignature is from {sig.name}+{sig.key_id.hex()}, not from {key.name}")
    if len(sig.signature) != 8 + 64:
        raise NoteError("a cosignature is an 8-byte time and a 64-byte Ed25519 signature")
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if not key.verify(cosignature_message(body, timestamp), sig.signature[8:]):
        raise NoteError(f"the cosignature of {key.name} does not verify")
    return timestamp
