"""``registrar serve --workers 2`` on each store: N processes on one port, sharing nothing but the database.

Concurrent writers through the one port all succeed and polling sees every event exactly once; the
background jobs of every worker do the periodic work once (each hook batch delivered once, checkpoints
once per interval); and a token revoked by ``registrar tokens revoke`` is refused from the next request on
by every serving process, the workers of one server and another replica alike, although each had it
cached.
"""

from __future__ import annotations

import functools
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path

import httpx2
import orjson
from sqlalchemy import select

from registrar.store.database import create_database_engine
from registrar.store.schema import log_checkpoints

from ..hooks.conftest import hook_body
from ..hooks.live import api_client, logged_uuids, register
from ..hooks.live import server_env as hook_server_env
from ..hooks.receiver import Receiver, wait_until
from ..live import LiveServer, registrar_command, running_server, serve_env
from ..wire._live import read_all, status_of

WORKERS = 2
API_SERVERS = "/resource-servers/api/v1/api-servers"


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return serve_env(database_url, tmp_path, REGISTRAR_RATE_LIMIT_PER_MINUTE="100000")


def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        registrar_command(*args), env=env, cwd=cwd, capture_output=True, text=True, check=False
    )


def _token(env: dict[str, str], cwd: Path) -> str:
    created = _cli(env, cwd, "tokens", "create", "--user", "workers@example.com")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def _links(response: httpx2.Response) -> dict[str, str]:
    return {v.split('rel="')[1][:-1]: v[1:].split(">")[0] for v in response.headers.get_list("link")}


def test_workers_serve_concurrent_writes_and_polling_sees_every_event_once(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    token = _token(env, tmp_path)
    headers = {"Authorization": f"SSWS {token}"}
    with running_server(env, tmp_path, workers=WORKERS) as server:

        def write(writer: int, count: int) -> None:
            # One connection per writer, kept alive: the writers are spread over the workers.
            with httpx2.Client(base_url=server.url, headers=headers, timeout=30) as http:
                for i in range(count):
                    body = {
                        "resourceUrl": f"https://w{writer}-{i}.example/",
                        "metadata": {"displayName": "W"},
                    }
                    response = http.post(f"{API_SERVERS}?activate=true", json=body)
                    assert response.status_code == 201, response.text

        seen: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(write, writer, 15) for writer in range(4)]
            url = f"{server.url}/api/v1/logs?limit=9"
            while True:
                writing = not all(f.done() for f in futures)
                response = httpx2.get(url, headers=headers, timeout=30)  # a new connection: any worker
                response.raise_for_status()
                seen += [e["uuid"] for e in response.json() if e["eventType"] != "system.api_token.create"]
                links = _links(response)
                url = links["next"]
                if not writing and links["next"] == links["self"]:
                    break
            for future in futures:
                future.result()
    assert len(seen) == len(set(seen)) == 4 * 15 * 2  # register + activate, each seen once


def test_the_workers_jobs_do_periodic_work_once(database_url: str, tmp_path: Path) -> None:
    receiver = Receiver().start()
    env = hook_server_env(
        database_url,
        REGISTRAR_SIGNING_KEY_FILE=str(tmp_path / "signing.key"),
        REGISTRAR_CHECKPOINT_SECONDS="1",
        REGISTRAR_HOOK_CONCURRENCY="4",
    )
    token = _token(env, tmp_path)
    try:
        with running_server(env, tmp_path, workers=WORKERS) as server, api_client(server.url, token) as api:
            hook = api.post("/api/v1/eventHooks", json=hook_body(f"{receiver.url}/okta")).json()
            assert api.post(f"/api/v1/eventHooks/{hook['id']}/lifecycle/verify").status_code == 200
            register(api, 40, prefix="workers")
            expected = logged_uuids(api)
            wait_until(lambda: set(receiver.accepted_uuids()) >= set(expected), "every event delivered")
            wait_until(lambda: len(_checkpoint_times(database_url)) >= 3, "a few checkpoints")
    finally:
        receiver.stop()
    arrivals = receiver.accepted_uuids()
    # 2 workers x 4 delivery threads share the hook through the database: no batch went out twice.
    assert sorted(arrivals) == sorted(expected)
    assert list(dict.fromkeys(arrivals)) == expected  # in log order
    # Each worker's checkpoint job runs every second; a worker skips when any signed within 0.9 s.
    times = _checkpoint_times(database_url)
    assert all(later - earlier >= 900 for earlier, later in pairwise(times)), times


def _checkpoint_times(database_url: str) -> list[int]:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(select(log_checkpoints.c.created_ms).order_by(log_checkpoints.c.id)).scalars()
            )
    finally:
        engine.dispose()


# A revocation reaches every serving process at once.


def _cache_announcements(server: LiveServer) -> set[int]:
    """The processes of ``server`` that said their token cache is on."""
    return {int(pid) for pid in re.findall(r"API tokens are cached in process (\d+)", server.output())}


def _statuses(server: LiveServer, token: str) -> dict[int, int]:
    """The status of one authenticated GET on a fresh connection to each of ``server``'s workers."""
    request = (
        f"GET {API_SERVERS} HTTP/1.1\r\nHost: registrar\r\nAuthorization: SSWS {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    answers = {}
    for pid, sock in server.connection_per_worker(send=request).items():
        with sock:
            answers[pid] = status_of(read_all(sock))
    return answers


def _warm(server: LiveServer, token: str) -> bool:
    """Use the token on every worker of ``server``; whether all of them have their cache on by now."""
    assert set(_statuses(server, token).values()) == {200}
    return _cache_announcements(server) >= set(server.worker_pids())


def test_a_revoked_token_is_refused_at_once_by_every_worker_and_replica(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path)
    token = _token(env, tmp_path)
    (token_id,) = [
        t["id"] for t in orjson.loads(_cli(env, tmp_path, "tokens", "list", "--json").stdout)["data"]
    ]
    with ExitStack() as stack:
        # One server with two workers and a replica of one: three serving processes, three caches.
        servers = [stack.enter_context(running_server(env, tmp_path, workers=n)) for n in (WORKERS, 1)]
        for server in servers:
            wait_until(functools.partial(_warm, server, token), "every process's token cache to be on")
            _warm(server, token)  # on now: this use fills it
        revoked = _cli(env, tmp_path, "tokens", "revoke", token_id)
        assert revoked.returncode == 0, revoked.stderr
        assert "warning" not in revoked.stderr
        # The very next request on each process (on fresh connections) is refused.
        assert [set(_statuses(server, token).values()) for server in servers] == [{401}, {401}]
