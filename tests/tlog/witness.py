"""A witness written in the tests from c2sp.org/tlog-witness@v1.0.0 — none of Registrar's tlog code.

It has its own Ed25519 key, parses ``add-checkpoint`` requests itself, verifies the log's note signature
(signed-note v1.0.0) and the consistency proof with its own RFC 9162 §2.1.4.2 code, cosigns per
tlog-cosignature v1 (type 0x04), and answers the spec's errors: 404 unknown origin, 403 no valid signature,
400 old > size, 409 (``text/x.tlog.size``) when ``old`` is not what it cosigned, 409 for a different root at
the same size, 422 when the proof does not verify. It runs as a real HTTP server on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_vkey(vkey: str) -> tuple[str, bytes, int, bytes]:
    """``name+hexid+base64(type ‖ key)`` → (name, key id, type, public key); checks the id."""
    name, hex_id, material = vkey.split("+", 2)
    raw = base64.b64decode(material, validate=True)
    key_id = _sha256(name.encode() + b"\n" + raw)[:4]
    assert key_id.hex() == hex_id, "verifier key id mismatch"
    return name, key_id, raw[0], raw[1:]


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text, [(name, base64-decoded signature blob)]) — the text ends at the last blank line."""
    cut = note.rindex("\n\n") + 1
    sigs = []
    for line in note[cut + 1 :].splitlines():
        dash, name, blob = line.split(" ")
        assert dash == DASH
        sigs.append((name, base64.b64decode(blob, validate=True)))
    return note[:cut], sigs


def note_verifies(note: str, vkey: str) -> bool:
    """Whether ``note`` carries a valid Ed25519 (type 0x01) signature by ``vkey``."""
    name, key_id, kind, public = parse_vkey(vkey)
    assert kind == 0x01
    text, sigs = split_note(note)
    for sig_name, blob in sigs:
        if sig_name == name and blob[:4] == key_id:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())
            except InvalidSignature:
                return False
            return True
    return False


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right)


def consistent(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, step by step."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if first > second or (not proof and first & (first - 1)):
        return False
    nodes = list(proof)
    if first & (first - 1) == 0:  # 1. first is an exact power of 2: prepend first_hash
        nodes = [first_root, *nodes]
    fn, sn = first - 1, second - 1  # 2-3.
    while fn % 2 == 1:  # 4. right-shift both while LSB(fn) is set
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]  # 5.
    for c in nodes[1:]:  # 6.
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0  # 7.


@dataclass
class SpecWitness:
    """The witness's key, the log keys it trusts (by origin), and what it last cosigned per origin."""

    name: str
    log_vkeys: dict[str, str]
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    cosigned: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # origin → (size, root)
    answers: list[int] = field(default_factory=list)  # every status it answered, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    server: ThreadingHTTPServer | None = None
    lying: bool = False  # cosign something other than what the spec says (a broken or hostile witness)

    def stop(self) -> None:
        """Take the witness off the network: its port refuses connections from now on."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def public(self) -> bytes:
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return _sha256(self.name.encode() + b"\n\x04" + self.public)[:4]

    @property
    def vkey(self) -> str:
        material = base64.b64encode(b"\x04" + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def cosign(self, text: str, timestamp: int) -> str:
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
        if self.lying:
            message += b"and more\n"
        blob = self.key_id + timestamp.to_bytes(8, "big") + self.key.sign(message)
        return f"{DASH} {self.name} {base64.b64encode(blob).decode()}\n"

    def add_checkpoint(self, body: str) -> tuple[int, str, str]:
        """(status, content type, body) for one add-checkpoint request body."""
        head, _, rest = body.partition("\n")
        if not head.startswith("old ") or not head[4:].isdigit():
            return 400, "text/plain", "bad old line\n"
        old = int(head[4:])
        proof: list[bytes] = []
        while True:
            line, _, rest = rest.partition("\n")
            if line == "":
                break
            proof.append(base64.b64decode(line, validate=True))
        note = rest
        text, _ = split_note(note)
        origin, size_line, root_line = text.splitlines()[:3]
        vkey = self.log_vkeys.get(origin)
        if vkey is None:
            return 404, "text/plain", "unknown origin\n"
        if not note_verifies(note, vkey):
            return 403, "text/plain", "no valid log signature\n"
        size, root = int(size_line), base64.b64decode(root_line)
        if old > size:
            return 400, "text/plain", "old is larger than the checkpoint\n"
        with self.lock:  # check and persist atomically (the spec's race)
            have_size, have_root = self.cosigned.get(origin, (0, b""))
            if old != have_size:
                return 409, "text/x.tlog.size", f"{have_size}\n"
            if old == size and have_size and root != have_root:
                return 409, "text/plain", "different root at the same size\n"
            if have_size and not consistent(old, size, have_root, root, proof):
                return 422, "text/plain", "the consistency proof does not verify\n"
            if not have_size and proof:
                return 422, "text/plain", "a proof from size 0 is empty\n"
            self.cosigned[origin] = (size, root)
            return 200, "text/plain; charset=utf-8", self.cosign(text, int(time.time()))


def _handler(witness: SpecWitness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            if self.path != "/add-checkpoint":
                status, kind, answer = 404, "text/plain", "no such path\n"
            else:
                status, kind, answer = witness.add_checkpoint(body)
            witness.answers.append(status)
            data = answer.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(witness: SpecWitness) -> Iterator[SpecWitness]:
    """Run ``witness`` on a loopback port (``witness.url``) until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(witness))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    witness.url = f"http://127.0.0.1:{server.server_address[1]}"
    witness.server = server
    try:
        yield witness
    finally:
        witness.stop()
        thread.join()


def log_vkey(origin: str, public: bytes) -> str:
    """The log's signed-note verifier key (type 0x01), computed here from its raw public key."""
    key_id = _sha256(origin.encode() + b"\n\x01" + public)[:4]
    material = base64.b64encode(b"\x01" + public).decode()
    return f"{origin}+{key_id.hex()}+{material}"
