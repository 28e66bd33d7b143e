"""Reads that scale out: System Log throughput with and without a PostgreSQL streaming replica.

    .venv/bin/python bench/bench_replica.py [--events 50000] [--seconds 15] [--workers 2]

A database on the loopback PostgreSQL is filled with ``--events`` synthetic events (``bench_syslog``'s
world, ``append_history``), and a real hot standby of the server is made from it (``pg_basebackup -R``,
started on a free port: ``tests/readreplica/standby.py``). Then, against ``registrar serve --workers N``
with the page cache off (every page read from a database): 4 System Log readers walk the log from its start
following ``next`` (``limit=1000``), while 2 writers register API servers, for ``--seconds``; once with
everything on the primary (one database), once with ``REGISTRAR_READ_DATABASE_URL`` naming the standby
(two databases). Figures: events read per second, writes per second and their p99, in both arms of the
same run. Writes ``bench/results/replica.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import (
    POSTGRES_ADMIN_URL,
    RawHttp,
    machine,
    ms_summary,
    next_link,
    now_iso,
    postgres_database,
    print_rows,
    registrar,
    row,
    write_results,
)
from bench_syslog import SPACING_MS, World
from load import Mix, Recorder
from tests.readreplica.standby import running_standby

from registrar.store.database import create_database_engine, migrate
from registrar.store.eventlog import append_history


def fill(url: str, n: int) -> str:
    """Append ``n`` synthetic events; the ``since`` of the first."""
    engine = create_database_engine(url)
    migrate(engine)
    world = World(200)
    rng = random.Random(7)
    start_ms = int(time.time() * 1000) - n * SPACING_MS
    for first in range(0, n, 5000):
        events = []
        for k in range(first, min(first + 5000, n)):
            published = datetime.fromtimestamp((start_ms + k * SPACING_MS) / 1000, UTC)
            events.append((world.event(rng, published), published))
        with engine.begin() as conn:
            append_history(conn, events)
    engine.dispose()
    return datetime.fromtimestamp(start_ms / 1000 - 1, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def _reader(port: int, headers: dict[str, str], since: str, rec: Recorder, stop: asyncio.Event) -> None:
    http = RawHttp(port, headers)
    first = f"/api/v1/logs?since={quote(since)}&limit=1000"
    path = first
    while not stop.is_set():
        started = time.perf_counter()
        status, response_headers, body = await http.request("GET", path)
        rec.add("read", time.perf_counter() - started, status == 200, f"read {status} {body[:200]!r}")
        rec.latencies["events"].append(body.count(b'"uuid"'))
        following = next_link(response_headers)
        path = first if following is None or body == b"[]" else following
    await http.close()


async def _writer(port: int, mix: Mix, rec: Recorder, stop: asyncio.Event) -> None:
    http = RawHttp(port, mix.headers)
    while not stop.is_set():
        started = time.perf_counter()
        ok, what = await mix.run(http, "register")
        rec.add("write", time.perf_counter() - started, ok, what)
    await http.close()


async def measure(port: int, token: str, since: str, seconds: float) -> dict[str, Any]:
    mix = Mix(token, f"replica{int(time.time())}")
    rec = Recorder()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_reader(port, mix.headers, since, rec, stop)) for _ in range(4)]
    tasks += [asyncio.create_task(_writer(port, mix, rec, stop)) for _ in range(2)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return {
        "events_read_per_s": round(sum(rec.latencies["events"]) / seconds),
        "pages": ms_summary(rec.latencies["read"]),
        "writes_per_s": round(len(rec.latencies["write"]) / seconds, 1),
        "writes": ms_summary(rec.latencies["write"]),
        "errors": rec.error_count,
        "error_samples": rec.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events in the log (default 50,000)")
    parser.add_argument("--seconds", type=float, default=15, help="seconds per arm (default 15)")
    parser.add_argument("--workers", type=int, default=2, help="registrar serve --workers (default 2)")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "started": now_iso(), "events": args.events, "arms": {}}
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="registrar-replica-") as tmp:
        url = stack.enter_context(postgres_database())
        if url is None:
            raise SystemExit("needs the loopback PostgreSQL")
        print(f"  filling {args.events:,} events ...", flush=True)
        since = fill(url, args.events)
        standby = stack.enter_context(running_standby(POSTGRES_ADMIN_URL))
        replica_url = standby.url(url)
        for arm, extra in (
            ("one database", {}),
            ("primary + replica", {"REGISTRAR_READ_DATABASE_URL": replica_url}),
        ):
            env = {
                "REGISTRAR_WORKERS": str(args.workers),
                "REGISTRAR_PAGE_CACHE_BYTES": "0",
                "REGISTRAR_JOBS": "false",
            }
            with registrar(url, Path(tmp), **env, **extra) as server:
                results["arms"][arm] = asyncio.run(measure(server.port, server.token, since, args.seconds))
            print(f"  {arm}: {results['arms'][arm]}", flush=True)
    one, two = results["arms"]["one database"], results["arms"]["primary + replica"]
    ratio = two["events_read_per_s"] / max(1, one["events_read_per_s"])
    rows = [
        row(
            f"System Log events/s read, 4 readers + 2 writers, {args.workers} workers, page cache off",
            f"{two['events_read_per_s']:,} ev/s with the replica ({ratio:.2f}x)",
            "> 1x one database",
            f"one database {one['events_read_per_s']:,} ev/s",
            ratio > 1 and one["errors"] == 0 and two["errors"] == 0,
        ),
        row(
            "writes/s and p99 meanwhile (replica / one database)",
            f"{two['writes_per_s']}/s, {two['writes']['p99_ms']} ms",
            "",
            f"{one['writes_per_s']}/s, {one['writes']['p99_ms']} ms",
        ),
    ]
    results["rows"] = rows
    results["finished"] = now_iso()
    print_rows("Read replica", rows)
    write_results("replica", results, args.results)


if __name__ == "__main__":
    main()
