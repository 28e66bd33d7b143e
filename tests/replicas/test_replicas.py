"""Several ``registrar serve`` replicas on one PostgreSQL, sharing nothing but the database.

Polling through any replica sees every event exactly once, the rate limit is one budget across replicas,
and periodic work (checkpoints) is done once per interval, not once per replica.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx2
from sqlalchemy import func, select

from registrar.config import Settings
from registrar.integrity.service import checkpoint_now
from registrar.store.database import create_database_engine
from registrar.store.repositories import org_id
from registrar.store.schema import log_checkpoints

from ..live import LiveServer, cli_token, running_server, serve_env


def _token(env: dict[str, str], tmp_path: Path) -> str:
    return cli_token(env, tmp_path, "replica@example.com")


def _replicas(env: dict[str, str], tmp_path: Path, count: int) -> Iterator[list[LiveServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(running_server(env, tmp_path)) for _ in range(count)]


def test_polling_across_replicas_sees_every_event_once(postgres_url: str, tmp_path: Path) -> None:
    env = serve_env(postgres_url, tmp_path)
    token = _token(env, tmp_path)
    headers = {"Authorization": f"SSWS {token}"}
    for replicas in _replicas(env, tmp_path, 2):

        def write(replica: LiveServer, writer: int, n: int) -> None:
            with httpx2.Client(base_url=replica.url, headers=headers) as http:
                for i in range(n):
                    body = {
                        "resourceUrl": f"https://w{writer}-{i}.example/",
                        "metadata": {"displayName": "R"},
                    }
                    http.post(
                        "/resource-servers/api/v1/api-servers?activate=true", json=body
                    ).raise_for_status()

        seen: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(write, replicas[w % 2], w, 15) for w in range(4)]
            url = f"{replicas[0].url}/api/v1/logs?limit=9"
            turn = 0
            while True:
                writing = not all(f.done() for f in futures)
                # Follow each next link through the other replica: the cursor carries everything.
                replica = replicas[turn % 2]
                path = url.split("/api/v1/logs", 1)[1]
                response = httpx2.get(f"{replica.url}/api/v1/logs{path}", headers=headers)
                response.raise_for_status()
                seen += [e["uuid"] for e in response.json() if e["eventType"] != "system.api_token.create"]
                links = {
                    v.split('rel="')[1][:-1]: v[1:].split(">")[0] for v in response.headers.get_list("link")
                }
                url, turn = links["next"], turn + 1
                if not writing and links["next"] == links["self"]:
                    break
            for future in futures:
                future.result()
        assert len(seen) == len(set(seen)) == 4 * 15 * 2


def test_the_rate_limit_is_one_budget_across_replicas(postgres_url: str, tmp_path: Path) -> None:
    env = serve_env(postgres_url, tmp_path, REGISTRAR_RATE_LIMIT_PER_MINUTE="20")
    token = _token(env, tmp_path)
    for replicas in _replicas(env, tmp_path, 2):
        if time.time() % 60 > 50:  # keep the burst inside one window
            time.sleep(61 - time.time() % 60)
        statuses = [
            httpx2.get(
                f"{replicas[i % 2].url}/resource-servers/api/v1/api-servers",
                headers={"Authorization": f"SSWS {token}"},
            ).status_code
            for i in range(30)
        ]
        assert statuses.count(200) == 20
        assert statuses.count(429) == 10
        assert statuses[20:] == [429] * 10


def test_concurrent_replicas_sign_one_checkpoint_per_interval(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=postgres_url, signing_key_file=tmp_path / "signing.key")
    engines = [create_database_engine(postgres_url) for _ in range(4)]
    with engines[0].connect() as conn:
        org = org_id(conn)
    barrier = threading.Barrier(len(engines))

    def sign(index: int) -> bool:
        barrier.wait()
        return checkpoint_now(engines[index], settings, org, min_interval_s=60) is not None

    with ThreadPoolExecutor(len(engines)) as pool:
        made = list(pool.map(sign, range(len(engines))))
    with engines[0].connect() as conn:
        stored = conn.execute(select(func.count()).select_from(log_checkpoints)).scalar_one()
    for engine in engines:
        engine.dispose()
    assert made.count(True) == 1
    assert stored == 1
