"""What reading System Log bodies as ``jsonb`` robustly costs on PostgreSQL (issue 11, ``syslog/fields.py``).

    .venv/bin/python bench/bench_body_cast.py [--events 200000] [--rounds 5]

Fills a scratch database on ``REGISTRAR_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
test``'s server) with events made by the production ``build_event`` (realistic bodies), then times, in
alternating rounds (medians of the backend's CPU time, read from ``/proc``: a busy machine inflates wall
time, not this), three filters over every row, each with the plain cast
``body::jsonb`` ("before": what a single ``\\u0000`` breaks) and with the expression ``fields.py`` now
compiles ("after": ``strpos`` fast path, ``regexp_replace`` of unsafe escapes otherwise):
``actor.alternateId co``, ``client.ipAddress pr`` and ``target.displayName co`` (an ``exists`` over
``target[]``). A last pass adds one poisoned body (``\\u0000`` in a display name) and shows the "after"
queries still answer. Prints a table; not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url

from registrar.context import Actor, ClientInfo, RequestContext
from registrar.events import catalog as ev
from registrar.events.builder import build_event
from registrar.syslog import fields

URL = os.environ.get("REGISTRAR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _document_sql() -> str:
    compiled = fields._pg_document().compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled).replace("log_events.body", "body")


def _bodies(count: int) -> list[str]:
    now = datetime.now(UTC)
    out = []
    for index in range(count):
        ctx = RequestContext(
            request_id=uuid.uuid4().hex[:20],
            actor=Actor("00u" + f"{index % 50:017d}", "User", f"admin{index % 50}@example.com", "Admin"),
            client=ClientInfo(f"198.51.100.{index % 250}", "registrar-cli/1.0 httpx2/0.1"),
            request_uri="/resource-servers/api/v1/mcp-servers",
            url="/resource-servers/api/v1/mcp-servers",
            token_id="00T" + f"{index % 7:017d}",
        )
        server_id = f"mcp{index:017d}"
        meta = orjson.dumps({"mcpServerResourceName": f"server {index}", "mcpServerScopesSupported": []})
        target = ev.mcp_server_target(
            server_id, f"https://mcp{index}.example.com/mcp", f"Server {index}", "INACTIVE", meta.decode()
        )
        event = build_event(ev.MCP_SERVER_REGISTER, ctx, [target], now)
        out.append(orjson.dumps(event).decode())
    return out


QUERIES = {
    "actor.alternateId co": "jsonb_extract_path_text({doc}, 'actor', 'alternateId') LIKE '%admin7%'",
    "client.ipAddress pr": "jsonb_extract_path_text({doc}, 'client', 'ipAddress') IS NOT NULL",
    "target.displayName co": (
        "EXISTS (SELECT 1 FROM jsonb_array_elements(jsonb_extract_path({doc}, 'target')) AS e "
        "WHERE jsonb_extract_path_text(e.value, 'displayName') LIKE '%Server 7%')"
    ),
}


def _cpu_seconds(pid: int) -> float:
    # utime + stime of the PostgreSQL backend serving us (same machine): robust to a busy machine.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(conn: Connection, where: str) -> tuple[float, int]:
    pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    started = _cpu_seconds(pid)
    count = conn.execute(text(f"SELECT count(*) FROM bodies WHERE {where}")).scalar_one()
    return _cpu_seconds(pid) - started, int(count)


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    admin_url = make_url(URL).set(drivername="postgresql+psycopg")
    name = f"bench_body_cast_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(admin_url.set(database=name))
    before_doc, after_doc = "body::jsonb", _document_sql()
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bodies (seq bigserial PRIMARY KEY, body text NOT NULL)"))
            rows = [{"body": body} for body in _bodies(args.events)]
            conn.execute(text("INSERT INTO bodies (body) VALUES (:body)"), rows)
            conn.execute(text("ANALYZE bodies"))
        results: dict[tuple[str, str], list[float]] = {}
        with engine.connect() as conn:
            # One process does the whole scan, so its CPU time is the query's (no parallel workers).
            conn.execute(text("SET max_parallel_workers_per_gather = 0"))
            for _ in range(args.rounds):
                for label, sql in QUERIES.items():
                    for variant, doc in (("before", before_doc), ("after", after_doc)):
                        seconds, _count = _time(conn, sql.format(doc=doc))
                        results.setdefault((label, variant), []).append(seconds)
            poisoned = orjson.dumps({"actor": {"alternateId": "x"}, "target": [{"displayName": "evil"}]})
            poisoned_text = poisoned.decode().replace("evil", "evil\\u0000")
            conn.execute(text("INSERT INTO bodies (body) VALUES (:body)"), {"body": poisoned_text})
            conn.commit()
            still = {label: _time(conn, sql.format(doc=after_doc))[1] for label, sql in QUERIES.items()}
        print(f"{args.events} events, {args.rounds} rounds: median CPU ms of the PostgreSQL backend per scan")
        print(f"{'filter':<24} {'body::jsonb':>12} {'robust':>12} {'ratio':>7}")
        for label in QUERIES:
            before = statistics.median(results[(label, "before")]) * 1000
            after = statistics.median(results[(label, "after")]) * 1000
            print(f"{label:<24} {before:>12.1f} {after:>12.1f} {after / before:>7.2f}")
        print("with one poisoned body added, the robust queries still answer:", still)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
