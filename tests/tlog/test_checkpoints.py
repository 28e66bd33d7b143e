"""Checkpoints of the tree: the job's cadence, the heartbeat, shutdown, verifier keys across a rotation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select, update

from registrar.config import Settings
from registrar.integrity.keys import SigningKeyRefused
from registrar.integrity.service import rotate_signing_key, signer_for
from registrar.jobs.tlog_checkpoints import wall_clock_ms
from registrar.store.schema import log_head, tlog_witnesses
from registrar.tlog import CheckpointRefused, checkpoint_at, sign_tree_checkpoint, submit_to_witnesses

from .conftest import Log, open_log
from .witness import SpecWitness, log_vkey, note_verifies, split_note


def _eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Poll ``condition`` for up to ``seconds`` (a generous bound, not a timing claim)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_job_checkpoints_a_write_within_its_interval(
    witnessed_settings: Settings, engine: Engine, token: str, witness: SpecWitness
) -> None:
    settings = replace(witnessed_settings, jobs_enabled=True, tlog_checkpoint_seconds=0.2)
    with open_log(settings, engine, token, witness) as log:
        log.write(2)
        size = log.size()
        assert _eventually(lambda: (latest := log.latest()) is not None and latest.size == size)
        # ... and witnessed: the served checkpoint carries the witness's cosignature.
        assert _eventually(lambda: witness.cosigned.get(log.origin, (0, b""))[0] == size)
        note = log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth).text
        assert _eventually(
            lambda: witness.name in log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth).text
        )
        assert note_verifies(note, log.vkey)


def test_stopping_the_server_signs_a_last_checkpoint(settings: Settings, engine: Engine, token: str) -> None:
    settings = replace(settings, jobs_enabled=True, tlog_checkpoint_seconds=3600.0)
    with open_log(settings, engine, token, None) as log:
        assert _eventually(lambda: log.latest() is not None)  # the run at start-up
        log.write(3)
        assert log.latest().size < log.size()  # type: ignore[union-attr]
    latest = log.latest()
    assert latest is not None and latest.size == log.size()
    assert note_verifies(latest.note, log.vkey)


def test_an_idle_log_is_re_signed_and_re_witnessed_on_the_heartbeat(log: Log, witness: SpecWitness) -> None:
    log.write(1)
    signer = signer_for(log.settings)
    start = wall_clock_ms()
    with log.engine.begin() as conn:
        first = sign_tree_checkpoint(conn, signer, log.origin, start, heartbeat_ms=60_000)
    submit_to_witnesses(log.settings, log.engine, lambda: start)
    assert first is not None and witness.answers == [200]
    with log.engine.begin() as conn:  # fresh: nothing to do
        assert sign_tree_checkpoint(conn, signer, log.origin, start + 59_000, heartbeat_ms=60_000) is None
    submit_to_witnesses(log.settings, log.engine, lambda: start + 59_000)
    assert witness.answers == [200]
    with log.engine.begin() as conn:
        beat = sign_tree_checkpoint(conn, signer, log.origin, start + 61_000, heartbeat_ms=60_000)
    assert beat is not None and (beat.size, beat.signed_note) == (first.size, first.signed_note)
    assert beat.created_ms == start + 61_000
    submit_to_witnesses(log.settings, log.engine, lambda: start + 61_000)
    assert witness.answers == [200, 200]  # the same size again: old = size, an empty proof, a new time
    with log.engine.connect() as conn:
        success = conn.execute(select(tlog_witnesses.c.last_success_ms)).scalar_one()
    assert success == start + 61_000


def test_verifier_keys_list_the_current_key_first_and_keep_old_checkpoints_verifiable(log: Log) -> None:
    log.write(1)
    old = log.checkpoint()
    assert old is not None
    rotate_signing_key(log.engine, log.settings)
    log.write(1)
    new = log.checkpoint()
    assert new is not None

    response = log.client.get("/api/v1/logs/tlog/verifier-keys", headers=log.auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    current, retired = response.text.splitlines()
    assert retired == log.vkey  # the key the log signed with before the rotation
    assert current == log_vkey(log.origin, signer_for(log.settings).public.public_bytes_raw())
    assert note_verifies(new.note, current) and not note_verifies(new.note, retired)
    with log.engine.connect() as conn:
        kept = checkpoint_at(conn, old.size)
    assert kept is not None and note_verifies(kept.note, retired)


def test_a_retired_key_refuses_to_sign(log: Log) -> None:
    log.write(1)
    retired = signer_for(log.settings)
    rotate_signing_key(log.engine, log.settings)
    log.write(1)
    with log.engine.begin() as conn, pytest.raises(SigningKeyRefused):
        sign_tree_checkpoint(conn, retired, log.origin, wall_clock_ms(), heartbeat_ms=1)


def test_the_log_refuses_to_sign_a_tree_that_does_not_extend_its_latest_checkpoint(log: Log) -> None:
    log.write(3)
    log.checkpoint()
    log.write(1)
    with log.engine.begin() as conn:  # the tree's right edge rewritten in the database
        frontier = conn.execute(select(log_head.c.frontier)).scalar_one()
        conn.execute(update(log_head).values(frontier=bytes([frontier[0] ^ 1]) + frontier[1:]))
    with pytest.raises(CheckpointRefused, match="does not extend the latest checkpoint"):
        log.checkpoint()
    assert log.latest().size == 3  # type: ignore[union-attr]


def test_the_checkpoint_routes_need_the_log_scope_and_say_when_nothing_is_signed(
    log: Log, make_token: Callable[..., str]
) -> None:
    missing = log.client.get("/api/v1/logs/tlog/checkpoint", headers=log.auth)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"
    keys = log.client.get("/api/v1/logs/tlog/verifier-keys", headers=log.auth)
    assert keys.text == log.vkey + "\n"  # before any signature: the key that will sign
    other = {"Authorization": f"SSWS {make_token('okta.resourceServers.apiServers.read')}"}
    for path in ("checkpoint", "verifier-keys", "witnesses"):
        denied = log.client.get(f"/api/v1/logs/tlog/{path}", headers=other)
        assert denied.status_code == 403 and denied.json()["errorCode"] == "E0000006"
        assert log.client.get(f"/api/v1/logs/tlog/{path}").status_code == 401


def test_the_origin_is_configurable_and_the_note_key_name_follows_it(
    witnessed_settings: Settings, engine: Engine, token: str, witness: SpecWitness
) -> None:
    settings = replace(witnessed_settings, tlog_origin="audit.example.com/registrar")
    with open_log(settings, engine, token, witness) as log:
        log.write(1)
        log.checkpoint()
        text, signatures = split_note(log.latest().note)  # type: ignore[union-attr]
        assert text.splitlines()[0] == "audit.example.com/registrar"
        assert [name for name, _ in signatures] == ["audit.example.com/registrar", witness.name]


def test_the_default_origin_is_derived_from_the_org_id(log: Log) -> None:
    assert log.origin == f"registrar/{log.app.state.deps.org_id}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REGISTRAR_WITNESSES": "not-a-key https://w.example"}, "verifier key"),
        ({"REGISTRAR_WITNESSES": "only-one-field"}, "expected"),
        ({"REGISTRAR_TLOG_ORIGIN": "has space"}, "REGISTRAR_TLOG_ORIGIN"),
        ({"REGISTRAR_TLOG_CHECKPOINT_SECONDS": "0"}, "greater than 0"),
    ],
)
def test_bad_transparency_settings_fail_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_witness_settings_are_checked_at_start_up() -> None:
    witness = SpecWitness(name="witness.example/w1", log_vkeys={})
    note_key = log_vkey("log.example", bytes(32))
    with pytest.raises(ValueError, match="not a cosignature key"):
        Settings.from_env({"REGISTRAR_WITNESSES": f"{note_key} https://w.example"})
    with pytest.raises(ValueError, match="https URL"):
        Settings.from_env({"REGISTRAR_WITNESSES": f"{witness.vkey} http://w.example"})
    with pytest.raises(ValueError, match="listed twice"):
        Settings.from_env(
            {"REGISTRAR_WITNESSES": f"{witness.vkey} https://a.example;{witness.vkey} https://b"}
        )
    parsed = Settings.from_env(
        {
            "REGISTRAR_WITNESSES": f" {witness.vkey} http://w.example/sub/ ;",
            "REGISTRAR_DISCOVERY_ALLOW_HTTP": "1",
        }
    )
    assert parsed.witnesses == ((witness.vkey, "http://w.example/sub"),)
