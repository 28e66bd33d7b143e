"""Crash consistency: SIGKILL the server in the middle of concurrent audited writes, again and again.

After every restart the store must reconcile: each resource explained by its events, each event by a
state change, and the hash chain intact (``registrar verify --reconcile`` exits 0). ``REGISTRAR_CRASH_CYCLES``
sets the number of kill/restart cycles (default 20).
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from registrar.store.database import create_database_engine
from registrar.store.schema import log_event_targets

from ..conftest import TEST_SECRET_KEY
from ..live import LiveServer, cli_token, registrar_command, running_server

CYCLES = int(os.environ.get("REGISTRAR_CRASH_CYCLES", "20"))
WRITERS = 3
SERVERS = "/resource-servers/api/v1/api-servers"
SETTINGS = "/resource-servers/api/v1/client-auth-settings"


def _writer(
    server: LiveServer, token: str, seed: int, stop: threading.Event, done: list[int], acked: list[str]
) -> None:
    rng = random.Random(seed)
    known: list[dict[str, str]] = []
    with httpx2.Client(base_url=server.url, headers={"Authorization": f"SSWS {token}"}, timeout=5) as http:
        while not stop.is_set():
            try:
                choice = rng.random()
                if choice < 0.35 or not known:
                    url = f"https://crash-{seed}-{rng.getrandbits(48):x}.example/"
                    response = http.post(
                        SERVERS + ("?activate=true" if rng.random() < 0.5 else ""),
                        json={"resourceUrl": url, "metadata": {"displayName": f"crash {seed}"}},
                    )
                    if response.status_code == 201:
                        known.append(response.json())
                        acked.append(response.json()["id"])
                else:
                    server_obj = rng.choice(known)
                    sid = server_obj["id"]
                    action = rng.choice(["rename", "activate", "deactivate", "delete", "auth", "settings"])
                    if action == "rename":
                        http.patch(
                            f"{SERVERS}/{sid}", json={"metadata": {"displayName": f"r{rng.random():.6f}"}}
                        )
                    elif action in ("activate", "deactivate"):
                        http.post(f"{SERVERS}/{sid}/lifecycle/{action}")
                    elif action == "delete":
                        http.post(f"{SERVERS}/{sid}/lifecycle/deactivate")
                        if http.delete(f"{SERVERS}/{sid}").status_code == 204:
                            known.remove(server_obj)
                    elif action == "auth":
                        http.post(
                            f"{SERVERS}/{sid}/authorization-servers",
                            json={
                                "issuer": f"https://as-{rng.getrandbits(32):x}.example",
                                "authorizationEndpoint": "https://as.example/authorize",
                                "tokenEndpoint": "https://as.example/token",
                                "grantTypesSupported": ["authorization_code"],
                            },
                        )
                    else:
                        http.post(
                            SETTINGS,
                            json={
                                "name": "crash",
                                "resourceOrn": server_obj["orn"],
                                "configuration": {"clientId": "c", "clientSecret": "s3cret"},
                            },
                        )
                done[0] += 1
            except httpx2.HTTPError:
                return  # the server was killed under us


# ~2.5 s a cycle measured (49 s for 20 on PostgreSQL): the bound follows REGISTRAR_CRASH_CYCLES.
@pytest.mark.timeout(60 + 30 * CYCLES)
def test_sigkill_during_writes_leaves_a_consistent_verifiable_store(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "REGISTRAR_DATABASE_URL": database_url,
        "REGISTRAR_SECRET_KEY": TEST_SECRET_KEY,
        "REGISTRAR_SIGNING_KEY_FILE": str(tmp_path / "signing.key"),
        "REGISTRAR_JOBS": "false",
        "PATH": "/usr/bin:/bin",
    }
    token = cli_token(env, tmp_path, "crash@example.com")
    rng = random.Random(2026)
    requests_done = [0]
    acked: list[str] = []  # servers whose registration was answered 201 before a kill
    for cycle in range(CYCLES):
        with running_server(env, tmp_path) as server:
            stop = threading.Event()
            writers = [
                threading.Thread(
                    target=_writer, args=(server, token, cycle * 10 + w, stop, requests_done, acked)
                )
                for w in range(WRITERS)
            ]
            before = requests_done[0]
            for writer in writers:
                writer.start()
            # The kill comes a random moment after the writers' first answer of this cycle (a loaded
            # machine may take a while to give it): always mid-write, never before the first one.
            deadline = time.monotonic() + 30
            while requests_done[0] == before and time.monotonic() < deadline:
                time.sleep(0.01)
            stop.wait(rng.uniform(0.05, 0.3))
            server.process.kill()  # SIGKILL: no shutdown, no flush, mid-transaction
            server.process.wait()
            stop.set()
            for writer in writers:
                writer.join(10)
    assert requests_done[0] > CYCLES  # the writers really were writing when the kills came
    # Nothing is acknowledged before its (group's) commit: every 201 survived the kill that followed it.
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            registered = set(
                conn.execute(
                    select(log_event_targets.c.target_id).where(
                        log_event_targets.c.event_type == "resource_servers.api_server.register"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
    assert acked and set(acked) <= registered
    # The servers ran without their jobs: sign the checkpoints a restarted server would sign, so that
    # verify's report of events no checkpoint covers (they are older than twice the interval) is answered.
    signed = subprocess.run(
        registrar_command("checkpoint"), env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert signed.returncode == 0, signed.stdout + signed.stderr
    result = subprocess.run(
        registrar_command("verify", "--reconcile"), env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconcile" in result.stdout
