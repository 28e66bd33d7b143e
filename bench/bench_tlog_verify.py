"""Transparency-log verification benchmark: full offline verification rate, and proof latency over HTTP.

Run: ``.venv/bin/python bench/bench_tlog_verify.py [--events N] [--db PATH]`` (default N = 200,000)

1. Builds a SQLite database of N realistic events with the production code (``bench_syslog.build``:
   ``build_event`` + ``append_history``, which appends the Merkle tree in the same transactions), or reuses
   ``--db``; signs a checkpoint of the tree (the checkpoint job's own function).
2. ``export_tiles`` writes it as a static tlog-tiles directory (timed).
3. Full offline verification of that directory, every entry against its leaf and every tile up to the signed
   root, by ``registrar verify --remote DIR``'s verifier (``registrar.integrity.remote``) and by the
   tests' independent verifier (``tests/tlog/independent.py``, the C2SP specs only): events per second,
   against issue 12's goal of 100,000.
4. Starts a real ``registrar serve`` on the database and measures ``GET /api/v1/logs/tlog/proof?uuid=…``
   (one keep-alive client, random events) p50/p99, against the goal p99 ≤ 5 ms; the first proofs are
   verified with the independent verifier.

Writes ``bench/results/tlog_verify.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    RESULTS,
    ROOT,
    RawHttp,
    machine,
    ms_summary,
    now_iso,
    print_rows,
    registrar,
    row,
    write_results,
)
from bench_syslog import build

from registrar.config import Settings
from registrar.exports import export_tiles
from registrar.integrity.remote import verify_remote
from registrar.jobs.tlog_checkpoints import checkpoint_tree
from registrar.store.database import create_database_engine, migrate
from registrar.store.repositories import org_id

sys.path.insert(0, str(ROOT))
from tests.tlog import independent

SECRET_KEY = "YmVuY2gtdGxvZy12ZXJpZnktc2VjcmV0LWtleS0zMmI="  # 32 bytes, base64
VERIFY_GOAL = 100_000  # events/s
PROOF_GOAL_MS = 5.0


def _directory(root: Path) -> Any:
    def fetch(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return fetch


def _rate(seconds: float, events: int) -> float:
    return events / seconds if seconds else 0.0


def _best(runs: int, work: Any) -> float:
    """The fastest of ``runs`` timed calls of ``work()`` (the machine is shared: the least disturbed one)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


async def _proofs(port: int, token: str, uuids: list[str]) -> tuple[list[float], list[bytes], list[float]]:
    """Proof latencies and bodies, and after each proof the floor: the same client's authenticated
    ``GET …/tlog/verifier-keys`` (token check, rate limit, one small read: everything but the proof)."""
    client = RawHttp(port, {"Authorization": f"SSWS {token}"})
    latencies, bodies, floor = [], [], []
    try:
        for uuid in uuids:
            t0 = time.perf_counter()
            status, _, body = await client.request("GET", f"/api/v1/logs/tlog/proof?uuid={uuid}")
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"proof {uuid}: HTTP {status}: {body[:200]!r}")
            bodies.append(body)
            t0 = time.perf_counter()
            status, _, _ = await client.request("GET", "/api/v1/logs/tlog/verifier-keys")
            floor.append(time.perf_counter() - t0)
    finally:
        await client.close()
    return latencies, bodies, floor


def run(args: argparse.Namespace, tmp: Path) -> None:
    db = args.db or tmp / "tlog.db"
    print(f"building {args.events:,} events in {db}", flush=True)
    built = build(db, args.events, args.batch, args.servers)
    url = f"sqlite:///{db}"
    # The signing key lives beside a kept database: its public key is published in it, so a rerun must sign
    # with the same key.
    data_dir = db.with_name(f"{db.stem}-data") if args.db else tmp / "data"
    settings = Settings(data_dir=data_dir, database_url=url, secret_key=SECRET_KEY, jobs_enabled=False)
    engine = create_database_engine(url, statement_timeout=None)
    migrate(engine)
    with engine.connect() as conn:
        org = org_id(conn)
    checkpoint_tree(engine, settings, org)

    out = tmp / "tiles"
    t0 = time.perf_counter()
    exported = export_tiles(engine, out)
    export_s = time.perf_counter() - t0
    engine.dispose()
    size = exported.size
    vkey = (out / "verifier-keys").read_text().splitlines()[0]
    print(f"exported {size:,} events in {export_s:.1f} s", flush=True)

    def ours() -> None:
        report = verify_remote(_directory(out))
        assert not report.findings, report.findings

    def theirs() -> None:
        assert independent.verify_log(independent.directory_fetch(out), vkey).entries == size

    ours_s = _best(args.rounds, ours)
    theirs_s = _best(args.rounds, theirs)
    print(f"verified: registrar {ours_s:.2f} s, independent {theirs_s:.2f} s", flush=True)

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT seq, uuid, body FROM log_events WHERE seq <= ?", (size,)).fetchall()
    rng = random.Random(12)
    sample = [rows[rng.randrange(len(rows))] for _ in range(args.proofs)]
    extra = {
        "REGISTRAR_DATA_DIR": str(data_dir),
        "REGISTRAR_JOBS": "false",
        "REGISTRAR_SECRET_KEY": SECRET_KEY,
    }
    with registrar(url, tmp, **extra) as server:
        asyncio.run(_proofs(server.port, server.token, [u for _, u, _ in sample[:20]]))  # warm up
        latencies, bodies, floor = asyncio.run(_proofs(server.port, server.token, [u for _, u, _ in sample]))
    for (seq, _, body), proof in list(zip(sample, bodies, strict=True))[:50]:
        checkpoint = independent.verify_proof(proof, body.encode(), vkey)
        assert independent.parse_proof(proof).index == seq - 1
        assert checkpoint.size >= size
    proof_ms = ms_summary(latencies)
    floor_ms = ms_summary(floor)

    ours_rate, theirs_rate = _rate(ours_s, size), _rate(theirs_s, size)
    table = [
        row(
            "full offline verification (registrar verify --remote DIR)",
            f"{ours_rate:,.0f} events/s",
            f">= {VERIFY_GOAL:,}",
            f"{size:,} events, {ours_s:.2f} s",
            ours_rate >= VERIFY_GOAL,
        ),
        row(
            "full offline verification (independent verifier)",
            f"{theirs_rate:,.0f} events/s",
            f">= {VERIFY_GOAL:,}",
            f"{size:,} events, {theirs_s:.2f} s",
            theirs_rate >= VERIFY_GOAL,
        ),
        row(
            f"proof?uuid= p50 / p99 at {size:,} events",
            f"{proof_ms['p50_ms']} / {proof_ms['p99_ms']} ms",
            f"p99 <= {PROOF_GOAL_MS:g} ms",
            f"authenticated verifier-keys {floor_ms['p50_ms']} / {floor_ms['p99_ms']} ms "
            f"({proof_ms['n']} each)",
            proof_ms["p99_ms"] <= PROOF_GOAL_MS,
        ),
        row(
            "export --format tiles",
            f"{export_s:.1f} s",
            "",
            f"{exported.tiles} tiles, {exported.bundles} bundles",
        ),
    ]
    print_rows(f"Transparency log verification ({size:,} events)", table)
    results = {
        "when": now_iso(),
        "machine": machine(),
        "events": size,
        "build": built,
        "export_seconds": round(export_s, 2),
        "verify_seconds": {"registrar": round(ours_s, 3), "independent": round(theirs_s, 3)},
        "verify_events_per_second": {"registrar": round(ours_rate), "independent": round(theirs_rate)},
        "proof_latency": proof_ms,
        "floor_latency": floor_ms,
        "rows": table,
    }
    print(f"wrote {write_results('tlog_verify', results, args.results / 'tlog_verify.json')}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000, help="events in the log (default 200,000)")
    parser.add_argument(
        "--db", type=Path, help="SQLite file to reuse (or build and keep); default: a temp file"
    )
    parser.add_argument(
        "--batch", type=int, default=1000, help="events per append transaction (default 1,000)"
    )
    parser.add_argument(
        "--servers", type=int, default=20_000, help="distinct resource servers (default 20,000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="verification runs each, the fastest kept")
    parser.add_argument("--proofs", type=int, default=500, help="proof requests (default 500)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON results (default bench/results/)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-tlog-verify-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
