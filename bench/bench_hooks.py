"""Event-hook delivery: throughput to a loopback receiver, and commit -> delivery latency.

    .venv/bin/python bench/bench_hooks.py [--events 20000] [--samples 200] [--polls 1.0,0.05] [--no-postgres]

1. Throughput. A database preloaded with ``--events`` realistic events (bench_syslog's generator, written by
   ``append_history``), a real ``registrar serve`` with its delivery job on (``REGISTRAR_HOOK_POLL_SECONDS``
   0.05, batches of ``--batch``), one hook on a receiver on 127.0.0.1 (stdlib ``http.server``, parses every
   delivery). The clock starts at ``lifecycle/replay {"since": "2000-01-01"}`` (the whole log becomes
   backlog) and stops when the last event arrives. Floor, same run, same receiver: a bare loop reading the
   same pages of stored bytes (raw SQL) and POSTing the same envelopes, one new connection per batch as
   Registrar's SSRF guard does, and with keep-alive.
2. Latency. For each poll interval: a fresh database and server, one verified hook, ``--samples`` audited
   writes (``POST /resource-servers/api/v1/api-servers``, one after another with a random 0-20 ms pause);
   latency = the event's arrival at the receiver - the write's response (its commit came just before).

Runs on SQLite, then on a throw-away database of the loopback PostgreSQL when one answers
(``REGISTRAR_BENCH_POSTGRES_URL``). Writes ``bench/results/hooks.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    cpu_seconds,
    create_token,
    free_port,
    machine,
    ms_summary,
    now_iso,
    postgres_database,
    print_rows,
    registrar_env,
    row,
    serve,
    write_results,
)
from bench_syslog import SPACING_MS, World

from registrar.events.catalog import CATALOG
from registrar.hooks import envelope
from registrar.store.database import create_database_engine, migrate
from registrar.store.eventlog import append_history

SCOPES = (
    "okta.eventHooks.manage",
    "okta.eventHooks.read",
    "okta.resourceServers.apiServers.manage",
    "okta.logs.read",
)
HOOK_ENV = {
    "REGISTRAR_JOBS": "true",
    "REGISTRAR_DISCOVERY_ALLOW_HTTP": "true",
    "REGISTRAR_DISCOVERY_ALLOWED_NETWORKS": "127.0.0.0/8",
    # The other jobs out of the way of the measurement.
    "REGISTRAR_CHECKPOINT_SECONDS": "3600",
    "REGISTRAR_PURGE_SECONDS": "86400",
}


class Receiver:
    """Counts delivered events and notes when each target id first arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events = 0
        self.last_arrival = 0.0
        self.arrivals: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive for the floor that uses it

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = orjson.dumps({"verification": self.headers.get("x-okta-verification-challenge")})
                self._answer(200, body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.perf_counter()
                events = orjson.loads(raw)["data"]["events"]
                with receiver.lock:
                    receiver.events += len(events)
                    receiver.last_arrival = now
                    for event in events:
                        receiver.arrivals.setdefault(event["target"][0]["id"], now)
                self._answer(200, b"")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def reset(self) -> None:
        with self.lock:
            self.events, self.last_arrival, self.arrivals = 0, 0.0, {}

    def wait_for(self, events: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.events < events:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.events} of {events} events arrived")
            time.sleep(0.005)


def preload(database_url: str, n: int) -> None:
    """Append ``n`` realistic events (published over the last days, inside the retention period)."""
    engine = create_database_engine(database_url, sqlite_synchronous="OFF")
    migrate(engine)
    world, rng = World(200), random.Random(20261124)
    start_ms = int(time.time() * 1000) - n * SPACING_MS
    for low in range(0, n, 1000):
        chunk = []
        for k in range(low, min(low + 1000, n)):
            published = datetime.fromtimestamp((start_ms + k * SPACING_MS) / 1000, UTC)
            chunk.append((world.event(rng, published), published))
        with engine.begin() as conn:
            append_history(conn, chunk)
    engine.dispose()


@contextmanager
def running(database_url: str, workdir: Path, **env: str) -> Iterator[tuple[httpx2.Client, int]]:
    """A ``registrar serve`` with its delivery job; an API client and the server's pid."""
    full_env = registrar_env(database_url, **HOOK_ENV, **env)
    token = create_token(full_env, workdir, SCOPES)
    port = free_port()
    command = [sys.executable, "-m", "registrar", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with (
        serve(command, full_env, workdir, port, "registrar") as process,
        httpx2.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"SSWS {token}"}, timeout=60
        ) as api,
    ):
        yield api, process.pid


def ready_hook(api: httpx2.Client, uri: str) -> str:
    """A created and verified hook on every event type; its id."""
    body = {
        "name": "bench",
        "events": {"type": "EVENT_TYPE", "items": list(CATALOG)},
        "channel": {
            "type": "HTTP",
            "version": "1.0.0",
            "config": {
                "uri": uri,
                "authScheme": {"type": "HEADER", "key": "Authorization", "value": "bench"},
            },
        },
    }
    hook_id: str = api.post("/api/v1/eventHooks", json=body).raise_for_status().json()["id"]
    api.post(f"/api/v1/eventHooks/{hook_id}/lifecycle/verify").raise_for_status()
    return hook_id


def throughput(database_url: str, workdir: Path, receiver: Receiver, n: int, batch: int) -> dict[str, Any]:
    receiver.reset()
    with running(
        database_url, workdir, REGISTRAR_HOOK_POLL_SECONDS="0.05", REGISTRAR_HOOK_BATCH_SIZE=str(batch)
    ) as (
        api,
        pid,
    ):
        hook_id = ready_hook(api, receiver.url)
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        api.post(
            f"/api/v1/eventHooks/{hook_id}/lifecycle/replay", json={"since": "2000-01-01"}
        ).raise_for_status()
        receiver.wait_for(n)
        seconds = receiver.last_arrival - t0
        cpu = cpu_seconds(pid) - cpu0
    return {
        "events": n,
        "seconds": round(seconds, 2),
        "events_per_s": round(n / seconds),
        "server_cpu_s": round(cpu, 2),
    }


def floor(database_url: str, receiver: Receiver, n: int, batch: int, *, keepalive: bool) -> dict[str, Any]:
    """The same pages and envelopes without Registrar: raw SELECT, envelope, POST; nothing recorded."""
    receiver.reset()
    engine = create_database_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    sql = (
        "SELECT seq, CAST(body AS BLOB) FROM log_events WHERE seq > ? ORDER BY seq LIMIT ?"
        if sqlite
        else "SELECT seq, convert_to(body, 'UTF8') FROM log_events WHERE seq > %s ORDER BY seq LIMIT %s"
    )
    limits = httpx2.Limits(max_keepalive_connections=1 if keepalive else 0)
    headers = {"Content-Type": "application/json", "Authorization": "bench"}
    with engine.connect() as conn, httpx2.Client(limits=limits, trust_env=False) as client:
        t0 = time.perf_counter()
        after, sent = 0, 0
        while sent < n:
            rows = conn.exec_driver_sql(sql, (after, batch)).all()
            body = envelope("http://bench/api/v1/eventHooks/x", "id", 0, [bytes(r[1]) for r in rows])
            client.post(receiver.url, content=body, headers=headers).raise_for_status()
            after, sent = rows[-1][0], sent + len(rows)
        receiver.wait_for(n)
        seconds = receiver.last_arrival - t0
    engine.dispose()
    return {"events": n, "seconds": round(seconds, 2), "events_per_s": round(n / seconds)}


def latency(
    database_url: str, workdir: Path, receiver: Receiver, poll: float, samples: int
) -> dict[str, Any]:
    receiver.reset()
    rng = random.Random(7)
    committed: dict[str, float] = {}
    with running(database_url, workdir, REGISTRAR_HOOK_POLL_SECONDS=str(poll)) as (api, _pid):
        ready_hook(api, receiver.url)
        for i in range(samples):
            body = {"resourceUrl": f"https://latency-{i}.example/", "metadata": {"displayName": f"l{i}"}}
            server_id = (
                api.post("/resource-servers/api/v1/api-servers", json=body).raise_for_status().json()["id"]
            )
            committed[server_id] = time.perf_counter()
            time.sleep(rng.uniform(0, 0.02))
        receiver.wait_for(samples)
    return ms_summary([receiver.arrivals[sid] - t for sid, t in committed.items()])


def run_backend(
    name: str, database_url_for: Any, args: argparse.Namespace, receiver: Receiver
) -> dict[str, Any]:
    print(f"\n# {name}")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as tmp:
        workdir = Path(tmp)
        url = database_url_for(workdir, "throughput")
        print(f"preloading {args.events:,} events ...", flush=True)
        preload(url, args.events)
        figures["throughput"] = throughput(url, workdir, receiver, args.events, args.batch)
        figures["floor_new_connection"] = floor(url, receiver, args.events, args.batch, keepalive=False)
        figures["floor_keepalive"] = floor(url, receiver, args.events, args.batch, keepalive=True)
        for poll in args.polls:
            figures[f"latency_poll_{poll:g}s"] = latency(
                database_url_for(workdir, f"latency{poll:g}"), workdir, receiver, poll, args.samples
            )
    registrar_rate = figures["throughput"]["events_per_s"]
    floor_rate = figures["floor_new_connection"]["events_per_s"]
    rows = [
        row(
            f"delivery, batches of {args.batch}",
            f"{registrar_rate:,} events/s",
            floor=f"{floor_rate:,} ({registrar_rate / floor_rate:.2f}x)",
        ),
        row("floor with keep-alive", f"{figures['floor_keepalive']['events_per_s']:,} events/s"),
        row(
            "server CPU per 1,000 events",
            f"{figures['throughput']['server_cpu_s'] / args.events * 1000:.3f} s",
        ),
    ]
    for poll in args.polls:
        lat = figures[f"latency_poll_{poll:g}s"]
        rows.append(
            row(
                f"commit -> delivery, poll {poll:g} s",
                f"p50 {lat['p50_ms']:.0f} / p99 {lat['p99_ms']:.0f} ms",
            )
        )
    print_rows(f"Event hooks ({name})", rows)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--polls", type=lambda s: [float(p) for p in s.split(",")], default=[1.0, 0.05])
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    args = parser.parse_args()
    receiver = Receiver()
    results: dict[str, Any] = {"when": now_iso(), "machine": machine(), "args": vars(args)}
    results["sqlite"] = run_backend("SQLite", lambda d, name: f"sqlite:///{d / name}.db", args, receiver)
    with postgres_database("bench_hooks_probe") as probe:
        available = probe is not None
    if available and not args.no_postgres:
        with ExitStack() as databases:

            def postgres_for(_workdir: Path, name: str) -> str:
                url = databases.enter_context(postgres_database(f"bench_hooks_{name.replace('.', '_')}"))
                assert url is not None
                return str(url)

            results["postgresql"] = run_backend("PostgreSQL", postgres_for, args, receiver)
    results["machine_after"] = machine()["loadavg"]
    print(f"\nwrote {write_results('hooks', results)}")


if __name__ == "__main__":
    main()
