"""The Merkle tree's cost on the write path: append cost per audited event, with and without the tree.

    .venv/bin/python bench/bench_tlog.py [--events 5000] [--per-transaction 1,10] [--rounds 5] [--no-postgres]

Each round appends ``--events`` events (the tests' generator: one ``api_server.update`` event each, built
by ``build_event``) through ``append_history`` in transactions of ``--per-transaction`` events, into two
databases that keep the previous rounds: one with the tree, one without, alternating (same process and
run). "Without" replaces the tree's work in ``registrar.store.eventlog`` (leaf hashes, frontier,
``append_leaves``, node rows) by no-ops for that arm only. The figure is the median over rounds of
(elapsed / events).
SQLite (a file, WAL), then PostgreSQL when ``REGISTRAR_BENCH_POSTGRES_URL`` (default: the loopback test
server) answers. Writes ``bench/results/tlog.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tlog.stored import append  # noqa: E402

from registrar.store import database, eventlog  # noqa: E402

POSTGRES = os.environ.get("REGISTRAR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def without_tree() -> Iterator[None]:
    """The append path with the tree's work removed (the nodes are not written, the frontier kept)."""
    stubs: dict[str, Any] = {
        "leaf_hash": lambda data: b"",
        "append_leaves": lambda frontier, leaves: ([], []),
        "unpack_frontier": lambda packed, size: [],
    }
    saved = {name: getattr(eventlog, name) for name in stubs}
    for name, stub in stubs.items():
        setattr(eventlog, name, stub)
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(eventlog, name, original)


def measure(urls: dict[str, str], events: int, per_transaction: int, rounds: int) -> dict[str, Any]:
    """``urls``: one fresh database per arm (the arms' trees must not mix), rounds alternating."""
    engines = {arm: database.create_database_engine(url, statement_timeout=None) for arm, url in urls.items()}
    for engine in engines.values():
        database.migrate(engine)
    arms: dict[str, list[float]] = {arm: [] for arm in urls}
    for round_ in range(rounds):
        for arm, engine in engines.items():
            start = time.perf_counter()
            if arm == "without_tree_us":
                with without_tree():
                    append(engine, events, per_transaction=per_transaction, first=round_ * events)
            else:
                append(engine, events, per_transaction=per_transaction, first=round_ * events)
            arms[arm].append((time.perf_counter() - start) / events * 1e6)
    for engine in engines.values():
        engine.dispose()
    result = {arm: round(statistics.median(values), 1) for arm, values in arms.items()}
    result["tree_overhead_pct"] = round(100 * (result["with_tree_us"] / result["without_tree_us"] - 1), 1)
    return result


@contextmanager
def postgres_database() -> Iterator[str | None]:
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"bench_tlog_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 - no server: skip PostgreSQL
        admin.dispose()
        yield None
        return
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--per-transaction", default="1,10")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"events_per_round": args.events, "rounds": args.rounds, "runs": []}
    arms = ("with_tree_us", "without_tree_us")
    for per in (int(p) for p in args.per_transaction.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            row: dict[str, Any] = {"database": "sqlite", "per_transaction": per}
            row |= measure({arm: f"sqlite:///{tmp}/{arm}.db" for arm in arms}, args.events, per, args.rounds)
            results["runs"].append(row)
            print(row, flush=True)
        if not args.no_postgres:
            with postgres_database() as with_url, postgres_database() as without_url:
                if with_url is not None and without_url is not None:
                    row = {"database": "postgresql", "per_transaction": per}
                    row |= measure(
                        dict(zip(arms, (with_url, without_url), strict=True)), args.events, per, args.rounds
                    )
                    results["runs"].append(row)
                    print(row, flush=True)
    results["rows"] = [
        {
            "figure": f"append per event, {run['database']}, {run['per_transaction']} per transaction",
            "value": f"{run['with_tree_us']:,.0f} µs with the tree ({run['tree_overhead_pct']:+.1f} %)",
            "target": "",
            "floor": f"{run['without_tree_us']:,.0f} µs without",
            "met": None,
        }
        for run in results["runs"]
    ]
    out = ROOT / "bench" / "results" / "tlog.json"
    out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
