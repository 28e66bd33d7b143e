"""Checkpoint lag: from an audited write's 201 to a served signed checkpoint that covers its event.

    .venv/bin/python bench/bench_tlog_lag.py [--samples 30] [--interval 10]

A real ``registrar serve`` on SQLite with ``REGISTRAR_TLOG_CHECKPOINT_SECONDS`` = ``--interval`` (10, the
default). Each sample writes one API server, reads the new tree size from the database (read-only), then
polls ``GET /api/v1/logs/tlog/checkpoint`` every 20 ms until the served checkpoint's size covers it. Samples
start at random moments (0-2 s apart) so they fall anywhere in the checkpoint cycle. The floor is the poll
itself: the same request's round trip. Writes ``bench/results/tlog_lag.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    RESULTS,
    RawHttp,
    machine,
    ms_summary,
    now_iso,
    print_rows,
    registrar,
    row,
    write_results,
)

API_SERVERS = "/resource-servers/api/v1/api-servers"
CHECKPOINT = "/api/v1/logs/tlog/checkpoint"


def _tree_size(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT seq FROM log_head").fetchone()[0])


def _served_size(body: bytes) -> int:
    lines = body.decode().split("\n")
    return int(lines[1])


async def _measure(port: int, token: str, db: Path, samples: int) -> dict[str, Any]:
    http = RawHttp(port, {"Authorization": f"SSWS {token}", "Accept": "application/json"})
    lags: list[float] = []
    polls: list[float] = []
    rng = random.Random(20261202)
    try:
        for i in range(samples):
            await asyncio.sleep(rng.uniform(0, 2))
            body = json.dumps(
                {
                    "resourceUrl": f"https://lag-{i}-{uuid.uuid4().hex[:6]}.example/",
                    "metadata": {"displayName": "lag"},
                }
            ).encode()
            status, _, text = await http.request(
                "POST", API_SERVERS, body, {"Content-Type": "application/json"}
            )
            written = time.perf_counter()
            if status != 201:
                raise RuntimeError(f"write answered {status}: {text[:200]!r}")
            wanted = _tree_size(db)
            while True:
                started = time.perf_counter()
                status, _, text = await http.request("GET", CHECKPOINT)
                polls.append(time.perf_counter() - started)
                if status == 200 and _served_size(text) >= wanted:
                    lags.append(time.perf_counter() - written)
                    break
                await asyncio.sleep(0.02)
            print(f"  sample {i + 1:>3}: lag {lags[-1] * 1000:8.1f} ms")
    finally:
        await http.close()
    return {"lag": ms_summary(lags), "poll": ms_summary(polls)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--interval", type=float, default=10.0, help="REGISTRAR_TLOG_CHECKPOINT_SECONDS")
    parser.add_argument("--results", type=Path, default=RESULTS / "tlog_lag.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registrar-tlog-lag-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "registrar.db"
        with registrar(
            f"sqlite:///{db}",
            tmp,
            REGISTRAR_DATA_DIR=str(tmp / "data"),
            REGISTRAR_TLOG_CHECKPOINT_SECONDS=str(args.interval),
        ) as server:
            figures = asyncio.run(_measure(server.port, server.token, db, args.samples))
    lag, poll = figures["lag"], figures["poll"]
    rows = [
        row(
            f"checkpoint lag p50 / p99, interval {args.interval:g} s ({args.samples} writes)",
            f"{lag['p50_ms'] / 1000:.2f} / {lag['p99_ms'] / 1000:.2f} s",
            f"p99 <= {args.interval:g} s + 1 s",
            f"poll round trip {poll['p50_ms']:.1f} / {poll['p99_ms']:.1f} ms",
            lag["p99_ms"] <= (args.interval + 1) * 1000,
        )
    ]
    print_rows("Checkpoint lag (bench_tlog_lag.py)", rows)
    write_results(
        "tlog_lag",
        {
            "benchmark": "bench_tlog_lag.py",
            "date": now_iso(),
            "machine": machine(),
            "interval_seconds": args.interval,
            "lag": lag,
            "poll": poll,
            "rows": rows,
        },
        args.results,
    )


if __name__ == "__main__":
    main()
