"""Audited writes/s over HTTP next to the floor measured in the same run (issue 8, target >= 0.5x).

    .venv/bin/python bench/bench_writes.py [--seconds 10] [--rounds 3] [--clients 1,8,32] [--no-postgres]

Registrar: a real ``registrar serve`` (one uvicorn worker, as shipped) taking ``POST
/resource-servers/api/v1/api-servers`` with a new ``resourceUrl`` each time: body validation, token check,
rate limit, request-context enrichment, resource row + LogEvent + hash chain + target/keyword indexes, one
transaction. Floor: ``_bare_write_app.py``, a bare Starlette endpoint on one uvicorn worker (uvloop,
httptools) doing one INSERT (~1.5 KB row) + commit on the same kind of database — SQLite in WAL with
``synchronous=NORMAL`` in a temp dir, and the loopback PostgreSQL (a database created and dropped here).
Driver: ``wrk`` (one thread, 1/8/32 keep-alive connections; Debian package ``wrk``), Registrar and floor
alternating within each round; medians of the rounds. Writes ``bench/results/writes.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    BENCH,
    RESULTS,
    WRK_DONE,
    cpu_seconds,
    free_port,
    machine,
    now_iso,
    postgres_database,
    print_rows,
    registrar,
    row,
    rss_mib,
    run_wrk,
    serve,
    write_results,
    wrk_available,
)

API_SERVERS = "/resource-servers/api/v1/api-servers"
TARGET_RATIO = 0.25  # issue 14: audited writes >= 0.25x the bare INSERT + commit


def _script(tmp: Path) -> Path:
    script = tmp / "post_unique.lua"
    script.write_text((BENCH / "_post_unique.lua").read_text() + WRK_DONE)
    return script


def measure(
    backend: str,
    registrar_url: str,
    tmp: Path,
    clients: list[int],
    seconds: float,
    rounds: int,
    warmup: float,
) -> dict[str, Any]:
    """Registrar vs floor on one backend; per concurrency: rps, p50/p99, ratio."""
    script = _script(tmp)
    floor_port = free_port()
    if backend == "sqlite":
        floor_cmd = [
            sys.executable,
            str(BENCH / "_bare_write_app.py"),
            "sqlite",
            str(tmp / "floor.db"),
            str(floor_port),
            "NORMAL",
        ]
    else:
        floor_cmd = [
            sys.executable,
            str(BENCH / "_bare_write_app.py"),
            "postgresql",
            registrar_url,
            str(floor_port),
        ]
    runs: dict[str, dict[int, list[dict[str, Any]]]] = {
        "registrar": {c: [] for c in clients},
        "floor": {c: [] for c in clients},
    }
    extra = {}
    if backend == "postgresql":
        extra["REGISTRAR_RATE_LIMIT_STORE"] = (
            "auto"  # as shipped: the shared (database) limiter on PostgreSQL
        )
    with (
        registrar(registrar_url, tmp, **extra) as server,
        serve(floor_cmd, {}, tmp, floor_port, "floor") as floor,
    ):
        targets = {
            "registrar": (f"{server.url}{API_SERVERS}", API_SERVERS, server.token),
            "floor": (f"http://127.0.0.1:{floor_port}/write", "/write", "-"),
        }
        for url, path, token in targets.values():  # warm-up: imports, pools, page cache
            run_wrk(url, script, [path, token, f"warm-{uuid.uuid4().hex[:6]}"], 8, warmup)
        cpu_before = cpu_seconds(server.process.pid)
        for r in range(rounds):
            order = ["floor", "registrar"] if r % 2 == 0 else ["registrar", "floor"]
            for c in clients:
                for name in order:
                    url, path, token = targets[name]
                    figures = run_wrk(
                        url, script, [path, token, f"r{r}c{c}-{uuid.uuid4().hex[:6]}"], c, seconds
                    )
                    runs[name][c].append(figures)
                    print(
                        f"  [{backend}] round {r + 1} {c:>2} clients {name:<9} "
                        f"{figures['rps']:>8,.0f} req/s  "
                        f"p50 {figures['p50_us'] / 1000:6.2f} ms  p99 {figures['p99_us'] / 1000:7.2f} ms  "
                        f"errors {figures['errors']}"
                    )
        registrar_cpu = cpu_seconds(server.process.pid) - cpu_before
        memory = rss_mib(server.process.pid)
        floor_memory = rss_mib(floor.pid)

    per_clients: dict[str, Any] = {}
    for c in clients:
        entry: dict[str, Any] = {}
        for name in ("registrar", "floor"):
            rs = runs[name][c]
            entry[name] = {
                "rps": round(statistics.median(x["rps"] for x in rs)),
                "p50_ms": round(statistics.median(x["p50_us"] for x in rs) / 1000, 2),
                "p99_ms": round(statistics.median(x["p99_us"] for x in rs) / 1000, 2),
                "errors": sum(x["errors"] for x in rs) + sum(x["status_errors"] for x in rs),
                "runs_rps": [round(x["rps"]) for x in rs],
            }
        paired = [a["rps"] / b["rps"] for a, b in zip(runs["registrar"][c], runs["floor"][c], strict=True)]
        entry["ratio"] = round(entry["registrar"]["rps"] / entry["floor"]["rps"], 3)
        entry["paired_ratios"] = [round(x, 3) for x in paired]
        entry["met"] = entry["ratio"] >= TARGET_RATIO and entry["registrar"]["errors"] == 0
        per_clients[str(c)] = entry
    total_requests = sum(x["requests"] for c in clients for x in runs["registrar"][c])
    return {
        "clients": per_clients,
        "registrar_rss_mib": memory.get("VmRSS"),
        "registrar_peak_rss_mib": memory.get("VmHWM"),
        "floor_rss_mib": floor_memory.get("VmRSS"),
        "registrar_cpu_ms_per_write": round(registrar_cpu / max(1, total_requests) * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported (default 3)")
    parser.add_argument("--clients", default="1,8,32", help="concurrent keep-alive clients (default 1,8,32)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per server (default 3)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--results", type=Path, default=RESULTS / "writes.json")
    args = parser.parse_args()
    if not wrk_available():
        sys.exit("wrk is not installed: apt-get install wrk")
    clients = [int(x) for x in args.clients.split(",")]
    info = machine()
    print(
        f"Audited writes over HTTP vs bare INSERT+commit floor: {info['cpu']}, {info['nproc']} CPUs, "
        f"{info['ram_gib']} GiB, SQLite {info['sqlite']}, load {info['loadavg']}"
    )
    results: dict[str, Any] = {
        "name": "writes",
        "date": now_iso(),
        "machine": info,
        "target_ratio": TARGET_RATIO,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "driver": "wrk -t1",
        "backends": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        base = Path(tmp)
        sqlite_dir = base / "sqlite"
        sqlite_dir.mkdir()
        results["backends"]["sqlite"] = measure(
            "sqlite",
            f"sqlite:///{sqlite_dir / 'registrar.db'}",
            sqlite_dir,
            clients,
            args.seconds,
            args.rounds,
            args.warmup,
        )
        if not args.no_postgres:
            with postgres_database() as url:
                if url is None:
                    results["backends"]["postgresql"] = {"skipped": "no PostgreSQL on 127.0.0.1:5432"}
                else:
                    pg_dir = base / "pg"
                    pg_dir.mkdir()
                    results["backends"]["postgresql"] = measure(
                        "postgresql", url, pg_dir, clients, args.seconds, args.rounds, args.warmup
                    )
    rows = []
    for backend, data in results["backends"].items():
        if "clients" not in data:
            continue
        label = "SQLite WAL NORMAL" if backend == "sqlite" else "PostgreSQL"
        for c, e in data["clients"].items():
            reg, flo = e["registrar"], e["floor"]
            rows.append(
                row(
                    f"audited writes/s, {label}, {c} client{'s' if c != '1' else ''}",
                    f"{reg['rps']:,} req/s ({e['ratio']:.2f}x)",
                    ">= 0.5x floor",
                    f"{flo['rps']:,} req/s",
                    e["met"],
                )
            )
            rows.append(
                row(
                    f"  write p50 / p99, {label}, {c} client{'s' if c != '1' else ''}",
                    f"{reg['p50_ms']:.2f} / {reg['p99_ms']:.2f} ms",
                    "",
                    f"{flo['p50_ms']:.2f} / {flo['p99_ms']:.2f} ms",
                    None,
                )
            )
    results["rows"] = rows
    results["met"] = all(r["met"] for r in rows if r["met"] is not None)
    print_rows("Audited writes over HTTP (bench_writes.py)", rows)
    path = write_results("writes", results, args.results)
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
