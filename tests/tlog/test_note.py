"""Signed notes, verifier keys, checkpoint bodies and cosignatures against the specs' published examples."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registrar.tlog import (
    COSIGNATURE_V1,
    ED25519,
    NoteError,
    VerifierKey,
    checkpoint_body,
    open_note,
    parse_checkpoint_body,
    parse_note,
    parse_verifier_key,
    verify_cosignature,
)
from registrar.tlog._note import sign_note

from .witness import SpecWitness

# The example of golang.org/x/mod/sumdb/note (the reference implementation's documentation and tests).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_SIG


def _go_private() -> Ed25519PrivateKey:
    material = base64.b64decode(GO_SKEY.split("+", 4)[4])
    assert material[0] == ED25519
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def test_the_reference_note_verifies_and_signing_reproduces_it_byte_for_byte() -> None:
    key = parse_verifier_key(GO_VKEY)
    assert (key.name, key.key_id.hex(), key.key_type) == ("PeterNeumann", "c74f20a3", ED25519)
    assert key.encode() == GO_VKEY
    assert open_note(GO_NOTE, [key]).text == GO_TEXT
    assert sign_note(GO_TEXT, "PeterNeumann", key.public, _go_private().sign) == GO_NOTE


@pytest.mark.parametrize(
    "mangled",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # id does not match
        GO_VKEY.replace("PeterNeumann", "PeterNeumannX", 1),  # name does not match the id
        GO_VKEY.replace("+ARpc", "+AhpC"),  # another key type / key
        GO_VKEY[:-4],  # short key material
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_mangled_verifier_keys_are_refused(mangled: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(mangled)


def test_an_altered_text_or_signature_is_rejected() -> None:
    key = parse_verifier_key(GO_VKEY)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), [key])
    flipped = GO_SIG[:-6] + ("B" if GO_SIG[-6] != "B" else "C") + GO_SIG[-5:]
    with pytest.raises(NoteError):
        open_note(GO_TEXT + "\n" + flipped, [key])


def test_signatures_from_unknown_keys_are_ignored_but_one_known_signature_is_needed() -> None:
    key = parse_verifier_key(GO_VKEY)
    other = Ed25519PrivateKey.generate()
    stranger = VerifierKey("stranger.example/k", ED25519, other.public_key().public_bytes_raw())
    stranger_line = sign_note(GO_TEXT, stranger.name, stranger.public, other.sign).split("\n\n", 1)[1]
    # Same name, another id: an unknown key, ignored rather than failing the note.
    impostor = f"— PeterNeumann {base64.b64encode(b'ABCD' + bytes(64)).decode()}\n"
    both = GO_NOTE + stranger_line + impostor
    assert [s.name for s in parse_note(both).signatures] == [
        "PeterNeumann",
        "stranger.example/k",
        "PeterNeumann",
    ]
    assert open_note(both, [key]).text == GO_TEXT
    assert open_note(both, [stranger]).text == GO_TEXT
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(GO_TEXT + "\n" + stranger_line, [key])


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT + GO_SIG,  # no blank line
        GO_TEXT + "\n",  # no signature
        GO_NOTE.rstrip("\n"),  # no final newline
        GO_NOTE.replace("problem,", "problem,\x07"),  # a control character
        GO_TEXT + "\n— PeterNeumann not*base64\n",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        parse_note(note)


def test_checkpoint_bodies_round_trip_and_parse_strictly() -> None:
    # The example checkpoint of c2sp.org/tlog-checkpoint.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    body = parse_checkpoint_body(text)
    assert (body.origin, body.size, body.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert checkpoint_body(body.origin, body.size, body.root) == text
    for bad in [
        text.replace("20852163", "020852163"),
        text.replace("20852163", "-1"),
        text.replace("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", "CsUY"),
        "example.com/behind-the-sofa\n20852163\n",
        text.rstrip("\n"),
    ]:
        with pytest.raises(NoteError):
            parse_checkpoint_body(bad)
    with pytest.raises(NoteError):
        checkpoint_body("has space", 1, bytes(32))


def test_cosignatures_made_by_the_spec_witness_verify_and_altered_ones_do_not() -> None:
    witness = SpecWitness(name="witness.example/w1", log_vkeys={})
    key = parse_verifier_key(witness.vkey)
    assert key.key_type == COSIGNATURE_V1
    body = checkpoint_body("example.com/log", 7, bytes(range(32)))
    line = witness.cosign(body, 1679315147)
    assert verify_cosignature(line, key, body) == 1679315147
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(line, key, body.replace("\n7\n", "\n8\n"))
    raw = base64.b64decode(line.split()[-1])
    retimed = raw[:4] + (1679315148).to_bytes(8, "big") + raw[12:]
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(f"— {witness.name} {base64.b64encode(retimed).decode()}\n", key, body)
    other = SpecWitness(name="witness.example/w1", log_vkeys={})
    with pytest.raises(NoteError, match="not from"):
        verify_cosignature(other.cosign(body, 1), key, body)
