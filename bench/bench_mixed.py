"""Mixed load, closed loop: the tail every console user and SIEM poller feels while automation writes.

    .venv/bin/python bench/bench_mixed.py [--seconds 20] [--workers 1,2] [--no-postgres]

Against a real ``registrar serve`` (``--workers N`` through ``REGISTRAR_WORKERS``) on a temporary SQLite
database and on the loopback PostgreSQL: 4 writers (70 % register an API server, 30 % merge-patch one),
2 System Log pollers following ``next`` (``limit=1000``) as fast as they are answered, and 2 filtered
readers (60 % a filtered System Log page, 40 % a registry search), each a closed loop on its own keep-alive
connection, for ``--seconds``. Floor, same run and same server: each operation class alone, one client,
closed loop (what the class costs with nothing else running). Goal (issue 14): p99 <= 50 ms for writes,
polls and filtered reads. Writes ``bench/results/mixed.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    RESULTS,
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
from load import Mix, Recorder

GOAL_MS = 50.0
CLASSES = {"write": ("register", "patch"), "poll": ("poll",), "filtered": ("log_filter", "registry_search")}


async def _writer(http: RawHttp, mix: Mix, rec: Recorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        op = "patch" if mix.ids and mix.rng.random() < 0.3 else "register"
        started = time.perf_counter()
        ok, what = await mix.run(http, op)
        rec.add("write", time.perf_counter() - started, ok, what)


async def _reader(http: RawHttp, mix: Mix, rec: Recorder, stop: asyncio.Event) -> None:
    while not stop.is_set():
        op = "log_filter" if mix.rng.random() < 0.6 else "registry_search"
        started = time.perf_counter()
        ok, what = await mix.run(http, op)
        rec.add("filtered", time.perf_counter() - started, ok, what)


async def _poller(http: RawHttp, mix: Mix, rec: Recorder, stop: asyncio.Event) -> None:
    path = f"/api/v1/logs?since={quote(mix.since)}&limit=1000"
    while not stop.is_set():
        started = time.perf_counter()
        status, headers, data = await http.request("GET", path)
        rec.add("poll", time.perf_counter() - started, status == 200, f"poll {status} {data[:200]!r}")
        path = next_link(headers) or path


_ROLES = {"write": _writer, "poll": _poller, "filtered": _reader}


async def _run(port: int, mix: Mix, roles: dict[str, int], seconds: float) -> Recorder:
    rec = Recorder()
    stop = asyncio.Event()
    connections = [RawHttp(port, mix.headers) for _ in range(sum(roles.values()))]
    tasks = []
    free = iter(connections)
    for role, count in roles.items():
        tasks += [asyncio.create_task(_ROLES[role](next(free), mix, rec, stop)) for _ in range(count)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    for http in connections:
        await http.close()
    return rec


def _summary(rec: Recorder, role: str, seconds: float) -> dict[str, Any]:
    latencies = rec.latencies.get(role, [])
    return {**ms_summary(latencies), "per_s": round(len(latencies) / seconds, 1)}


async def _measure(port: int, token: str, seconds: float) -> dict[str, Any]:
    mix = Mix(token, f"mixed{int(time.time())}")
    seed = Recorder()
    http = RawHttp(port, mix.headers)
    for _ in range(200):  # ids to patch and to filter on
        ok, what = await mix.run(http, "register")
        seed.add("write", 0, ok, what)
    await http.close()
    floor: dict[str, Any] = {}
    for role in CLASSES:
        alone = await _run(port, mix, {role: 1}, seconds / 2)
        floor[role] = _summary(alone, role, seconds / 2)
    mixed = await _run(port, mix, {"write": 4, "poll": 2, "filtered": 2}, seconds)
    return {
        "mixed": {role: _summary(mixed, role, seconds) for role in CLASSES},
        "alone": floor,
        "errors": mixed.error_count + seed.error_count,
        "error_samples": mixed.errors[:5] + seed.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="seconds of mixed load (default 20)")
    parser.add_argument("--workers", default="1,2", help="registrar serve --workers values (default 1,2)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--results", type=Path, default=RESULTS / "mixed.json")
    args = parser.parse_args()
    started = now_iso()
    results: dict[str, Any] = {
        "machine": machine(),
        "started": started,
        "seconds": args.seconds,
        "runs": [],
        "rows": [],
    }
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    with tempfile.TemporaryDirectory(prefix="registrar-mixed-") as tmp_name:
        tmp = Path(tmp_name)
        for backend in backends:
            for workers in [int(w) for w in args.workers.split(",")]:
                with contextlib.ExitStack() as stack:
                    if backend == "sqlite":
                        url: str | None = f"sqlite:///{tmp}/mixed-{workers}.db"
                    else:
                        url = stack.enter_context(postgres_database())
                        if url is None:
                            print("  no PostgreSQL: skipped")
                            continue
                    server = stack.enter_context(registrar(url, tmp, REGISTRAR_WORKERS=str(workers)))
                    figures = asyncio.run(_measure(server.port, server.token, args.seconds))
                figures.update(backend=backend, workers=workers)
                figures["met"] = figures["errors"] == 0 and all(
                    figures["mixed"][role]["p99_ms"] <= GOAL_MS for role in CLASSES
                )
                results["runs"].append(figures)
                rows = [
                    row(
                        f"mixed load p50 / p99: {role}, {backend}, {workers} worker(s)",
                        f"{figures['mixed'][role]['p50_ms']} / {figures['mixed'][role]['p99_ms']} ms "
                        f"({figures['mixed'][role]['per_s']}/s)",
                        f"p99 <= {GOAL_MS:g} ms",
                        f"alone {figures['alone'][role]['p50_ms']} / {figures['alone'][role]['p99_ms']} ms",
                        figures["errors"] == 0 and figures["mixed"][role]["p99_ms"] <= GOAL_MS,
                    )
                    for role in CLASSES
                ]
                results["rows"] += rows
                print_rows(f"Mixed load, {backend}, {workers} worker(s)", rows)
                if figures["errors"]:
                    print(f"  errors: {figures['errors']}: {figures['error_samples']}")
    results["finished"] = now_iso()
    write_results("mixed", results, args.results)


if __name__ == "__main__":
    main()
