"""Key rotation: old checkpoints still verify, the retired seed leaves the disk, retired keys cannot sign."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from registrar.config import Settings
from registrar.crypto import write_key_file
from registrar.integrity.checkpoints import list_checkpoints
from registrar.integrity.keys import SigningKeyRefused, published_keys
from registrar.integrity.service import (
    KeyRotationRefused,
    checkpoint_now,
    rotate_signing_key,
    signer_for,
)
from registrar.integrity.signing import Signer
from registrar.integrity.verify import Finding, verify_log

from ..conftest import TEST_SECRET_KEY
from ..live import registrar_command
from ..syslog.test_logs_api import make_events
from .test_verify import tampering


@pytest.fixture
def rotated(
    client: TestClient, auth: dict[str, str], app: FastAPI, settings: Settings
) -> tuple[Engine, Signer, Signer]:
    """Events and a checkpoint under the first key, a rotation, then more of both under the new key."""
    engine: Engine = app.state.deps.engine
    org = app.state.deps.org_id
    make_events(client, auth, 3, prefix="old")
    first = signer_for(settings)
    checkpoint_now(engine, settings, org)
    rotation = rotate_signing_key(engine, settings)
    make_events(client, auth, 3, prefix="new")
    checkpoint_now(engine, settings, org)
    return engine, first, rotation.current


def verify(engine: Engine, trusted: str | None) -> list[Finding]:
    with engine.connect() as conn:
        return verify_log(conn, trusted)


def test_old_checkpoints_verify_and_new_ones_use_the_new_key(
    rotated: tuple[Engine, Signer, Signer], settings: Settings
) -> None:
    engine, old, new = rotated
    assert old.key_id != new.key_id
    with engine.connect() as conn:
        assert [c.key_id for c in list_checkpoints(conn)] == [old.key_id, new.key_id]
        keys = published_keys(conn)
    assert [(k.key_id, k.current) for k in keys] == [(old.key_id, False), (new.key_id, True)]
    assert keys[0].not_after_ms == keys[1].not_before_ms
    assert signer_for(settings).key_id == new.key_id  # the key file now holds the new seed
    # Trusting either key is enough: the rotation statement is signed by both.
    assert verify(engine, new.public_key_b64()) == []
    assert verify(engine, old.public_key_b64()) == []


def test_the_retired_seed_leaves_the_data_directory(
    rotated: tuple[Engine, Signer, Signer], settings: Settings
) -> None:
    _, old, new = rotated
    files = sorted(p for p in settings.data_dir.rglob("*") if p.is_file())
    contents = b"".join(p.read_bytes() for p in files)
    assert [p.name for p in files] == ["registrar-signing.key"]  # no .next or temporary file left
    assert base64.urlsafe_b64encode(new.seed) in contents
    assert base64.urlsafe_b64encode(old.seed) not in contents and old.seed not in contents


def test_the_route_publishes_every_key_for_outside_verifiers(
    rotated: tuple[Engine, Signer, Signer], client: TestClient, auth: dict[str, str]
) -> None:
    _, old, new = rotated
    document = client.get("/api/v1/logs/checkpoints", headers=auth).json()
    keys = {key["keyId"]: key for key in document["keys"]}
    assert [key["keyId"] for key in document["keys"]] == [new.key_id, old.key_id]  # current first
    assert document["publicKey"]["keyId"] == new.key_id
    assert keys[old.key_id]["notAfter"] == keys[new.key_id]["notBefore"] is not None
    assert keys[new.key_id]["notAfter"] is None
    # An outsider needs nothing but this document and one trusted key: check each checkpoint with the
    # key it names, and the rotation with both keys.
    public = {kid: Ed25519PublicKey.from_public_bytes(base64.b64decode(k["key"])) for kid, k in keys.items()}
    for item in document["data"]:
        public[item["keyId"]].verify(base64.b64decode(item["signature"]), item["payload"].encode())
    rotation = keys[new.key_id]["rotation"]
    statement = rotation["statement"].encode()
    public[old.key_id].verify(base64.b64decode(rotation["predecessorSignature"]), statement)
    public[new.key_id].verify(base64.b64decode(rotation["signature"]), statement)
    assert orjson.loads(statement)["retired"]["keyId"] == old.key_id


def test_a_replica_with_the_retired_key_refuses_to_sign(
    rotated: tuple[Engine, Signer, Signer], settings: Settings, app: FastAPI
) -> None:
    engine, old, _ = rotated
    stale = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        signing_key=base64.b64encode(old.seed).decode(),
    )
    with pytest.raises(SigningKeyRefused, match=f"signing key {old.key_id} was retired"):
        checkpoint_now(engine, stale, app.state.deps.org_id)
    stranger = Settings(data_dir=settings.data_dir / "other", database_url=settings.database_url)
    with pytest.raises(SigningKeyRefused, match="is not a published signing key"):
        checkpoint_now(engine, stranger, app.state.deps.org_id)
    with engine.connect() as conn:
        assert len(list_checkpoints(conn)) == 2


def _forge_retired_key(engine: Engine, old: Signer) -> None:
    """Swap the retired key for the attacker's own and re-sign its checkpoints with it."""
    forger = Signer.generate()
    with tampering(engine) as conn:
        for checkpoint in list_checkpoints(conn):
            if checkpoint.key_id == old.key_id:
                payload = checkpoint.payload.replace(old.key_id, forger.key_id)
                conn.execute(
                    text(
                        "UPDATE log_checkpoints SET payload = :p, signature = :s, key_id = :k WHERE id = :i"
                    ),
                    {
                        "p": payload,
                        "s": forger.sign(payload.encode()),
                        "k": forger.key_id,
                        "i": checkpoint.id,
                    },
                )
        conn.execute(
            text("UPDATE signing_keys SET key_id = :k, public_key = :p WHERE key_id = :old"),
            {"k": forger.key_id, "p": forger.public_key_b64(), "old": old.key_id},
        )


def _extend_retired_key(engine: Engine, old: Signer) -> None:
    """Keep the retired (perhaps leaked) key valid for another year."""
    with tampering(engine) as conn:
        conn.execute(
            text("UPDATE signing_keys SET not_after_ms = not_after_ms + 31536000000 WHERE key_id = :k"),
            {"k": old.key_id},
        )


def _delete_retired_key(engine: Engine, old: Signer) -> None:
    with tampering(engine) as conn:
        conn.execute(text("DELETE FROM signing_keys WHERE key_id = :k"), {"k": old.key_id})


def _sign_with_leaked_retired_key(engine: Engine, old: Signer) -> None:
    """Append a checkpoint signed by the retired seed (an attacker who kept a copy of it)."""
    with engine.connect() as conn:
        last = list_checkpoints(conn)[-1]
    fields = last.fields() | {"keyId": old.key_id, "previous": None}
    payload = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()
    with tampering(engine) as conn:
        conn.execute(
            text(
                "INSERT INTO log_checkpoints (created_ms, seq, hash, payload, signature, key_id) "
                "VALUES (0, :seq, :hash, :p, :s, :k)"
            ),
            {
                "seq": fields["seq"],
                "hash": fields["hash"],
                "p": payload,
                "s": old.sign(payload.encode()),
                "k": old.key_id,
            },
        )


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_forge_retired_key, "is not signed by both keys"),
        (_extend_retired_key, "the key rows no longer match the signed rotation statement"),
        (_delete_retired_key, "which is not a published signing key"),
        (_sign_with_leaked_retired_key, "outside the validity of key"),
    ],
)
def test_tampering_with_a_retired_key_is_detected(
    rotated: tuple[Engine, Signer, Signer], tamper: object, expected: str
) -> None:
    engine, old, new = rotated
    assert callable(tamper)
    tamper(engine, old)
    messages = [f.message for f in verify(engine, new.public_key_b64())]
    assert any(expected in message for message in messages), messages


def test_an_interrupted_rotation_is_finished_by_the_next_one(
    rotated: tuple[Engine, Signer, Signer], settings: Settings
) -> None:
    engine, old, new = rotated
    key_file = settings.signing_key_file
    # The state a crash between the commit and the file swap leaves: new seed pending, old one in place.
    key_file.unlink()
    write_key_file(key_file, old.seed)
    write_key_file(key_file.with_name(f"{key_file.name}.next"), new.seed)
    rotation = rotate_signing_key(engine, settings)
    assert rotation.resumed and rotation.current.key_id == new.key_id
    assert signer_for(settings).key_id == new.key_id
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]
    with engine.connect() as conn:
        assert len(published_keys(conn)) == 2  # nothing rotated twice
    # A pending seed the database never heard of (crash before the commit) is dropped.
    write_key_file(key_file.with_name(f"{key_file.name}.next"), Signer.generate().seed)
    again = rotate_signing_key(engine, settings)
    assert not again.resumed and again.retired.key_id == new.key_id
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_a_key_from_the_environment_is_rotated_only_on_request(app: FastAPI, settings: Settings) -> None:
    engine: Engine = app.state.deps.engine
    seed = Signer.generate()
    from_env = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        signing_key=base64.b64encode(seed.seed).decode(),
    )
    checkpoint_now(engine, from_env, app.state.deps.org_id)
    with pytest.raises(KeyRotationRefused, match="--print-seed"):
        rotate_signing_key(engine, from_env)
    handed: list[bytes] = []
    rotation = rotate_signing_key(engine, from_env, hand_over=handed.append)
    assert handed == [rotation.current.seed] and rotation.key_file is None
    assert not settings.data_dir.exists() or not any(settings.data_dir.iterdir())
    with pytest.raises(SigningKeyRefused):
        checkpoint_now(engine, from_env, app.state.deps.org_id)
    installed = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        signing_key=base64.b64encode(handed[0]).decode(),
    )
    assert checkpoint_now(engine, installed, app.state.deps.org_id) is not None
    assert verify(engine, signer_for(installed).public_key_b64()) == []


def test_a_failed_hand_over_rotates_nothing(app: FastAPI, settings: Settings) -> None:
    engine: Engine = app.state.deps.engine
    from_env = Settings(
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        signing_key=base64.b64encode(Signer.generate().seed).decode(),
    )
    checkpoint_now(engine, from_env, app.state.deps.org_id)

    def broken_pipe(_seed: bytes) -> None:
        raise BrokenPipeError

    with pytest.raises(BrokenPipeError):
        rotate_signing_key(engine, from_env, hand_over=broken_pipe)
    with engine.connect() as conn:
        assert [k.current for k in published_keys(conn)] == [True]


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(registrar_command(*args), env=env, cwd=cwd, capture_output=True, text=True)


def test_keys_rotate_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "PATH": "/usr/bin:/bin",
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_DATA_DIR": str(data),
    }
    assert run(env, tmp_path, "checkpoint").returncode == 0
    old = Signer(_seed(data))
    rotated = run(env, tmp_path, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new = Signer(_seed(data))
    assert f"retired signing key {old.key_id}" in rotated.stderr and new.key_id in rotated.stderr
    assert rotated.stdout == ""  # nothing secret printed
    assert run(env, tmp_path, "checkpoint").returncode == 0
    verified = run(env, tmp_path, "verify")
    assert verified.returncode == 0, verified.stdout
    lines = verified.stdout.splitlines()
    assert f"trusting key {new.key_id}" in lines[0]
    assert lines[1].split()[:3] == [new.key_id, "Ed25519", "current"]
    assert lines[2].split()[:3] == [old.key_id, "Ed25519", "from"]
    assert "ok" in lines[-1]
    listed = run(env, tmp_path, "keys", "list").stdout
    assert old.key_id in listed and new.key_id in listed

    # With the key in the environment, rotation asks for --print-seed and then prints the seed alone.
    env_key = env | {"REGISTRAR_SIGNING_KEY": base64.b64encode(new.seed).decode()}
    refused = run(env_key, tmp_path, "keys", "rotate")
    assert refused.returncode == 2 and "--print-seed" in refused.stderr and refused.stdout == ""
    printed = run(env_key, tmp_path, "keys", "rotate", "--print-seed")
    assert printed.returncode == 0, printed.stderr
    assert len(printed.stdout.splitlines()) == 1
    stale = run(env_key, tmp_path, "checkpoint")
    assert stale.returncode == 1 and f"signing key {new.key_id} was retired" in stale.stderr
    fresh = env | {"REGISTRAR_SIGNING_KEY": printed.stdout.strip()}
    assert run(fresh, tmp_path, "checkpoint").returncode == 0
    assert run(fresh, tmp_path, "verify").returncode == 0


def _seed(data: Path) -> bytes:
    text_ = (data / "registrar-signing.key").read_text().strip()
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))
