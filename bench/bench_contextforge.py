"""MCP server registration throughput, side by side in one run: Registrar vs IBM's ContextForge gateway.

    .venv/bin/python bench/bench_contextforge.py [--count 200] [--concurrency 4] [--cf-venv /work/cf-venv]

One loopback MCP server for both: the ``mcp`` SDK's streamable-HTTP ``MCPServer`` (one ``echo`` tool, bearer
auth, RFC 9728 protected-resource metadata) and the SDK's RFC 8414 authorization server, both from the
test fixtures (``tests/discovery/servers.py``), run in a child process. Each registration needs its own URL
(Registrar refuses a duplicate ``resourceUrl``; ContextForge a duplicate name/URL), so the server answers
under ``/mcp/<alias>`` for any alias, with the metadata's ``resource`` (and the 401 challenge) naming
that alias, which is what RFC 9728 requires of a resource at that URL. Same server, same process.

* Registrar: ``POST /resource-servers/api/v1/mcp-servers`` -> discovery (probe -> 401 challenge -> resource
  metadata -> authorization-server metadata), then the server, its authorization server and their three
  audit events in one transaction. ``REGISTRAR_DISCOVERY_ALLOW_HTTP=true``,
  ``REGISTRAR_DISCOVERY_ALLOWED_NETWORKS=127.0.0.0/8``; SQLite; one worker (``registrar serve``).
* ContextForge (``mcp-contextforge-gateway`` from PyPI, in its own venv, never the project's:
  ``python3.12 -m venv /work/cf-venv && /work/cf-venv/bin/pip install mcp-contextforge-gateway``; 1.0.8
  and later need Python >= 3.12, on 3.11 pip resolves to 1.0.7.post20260921):
  ``POST /gateways`` (streamable HTTP, bearer token) -> it connects to the MCP server, initializes a
  session, lists tools/resources/prompts, stores them; ``AUDIT_TRAIL_ENABLED=true``; SQLite; one worker
  (the ``mcpgateway`` CLI = uvicorn); ``SSRF_ALLOW_LOCALHOST=true``; health checks every hour (so the
  hundreds of registered gateways are not probed in the background during the measurement).

Sequential (one client) and ``--concurrency`` clients, ``--count`` registrations each; registrations/s and
p50/p99 for both, and the ratio. Afterwards the audit rows are counted in each database. Writes
``bench/results/contextforge.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(1, str(BENCH_DIR.parent))

from _harness import (  # noqa: E402
    RESULTS,
    RawHttp,
    free_port,
    machine,
    ms_summary,
    now_iso,
    print_rows,
    registrar,
    row,
    rss_mib,
    serve,
    write_results,
)

MCP_SERVERS = "/resource-servers/api/v1/mcp-servers"
PRM = "/.well-known/oauth-protected-resource"
ALIAS = re.compile(r"/mcp/([A-Za-z0-9_-]{1,64})")
PRM_ALIAS = re.compile(re.escape(PRM) + r"/mcp/([A-Za-z0-9_-]{1,64})")
MCP_TOKEN_ENV = "REGISTRAR_BENCH_MCP_TOKEN"
PEER_FLOOR = {
    "sequential_per_s": 10.8,
    "concurrent_per_s": 14.1,
    "concurrent_p99_ms": 591,
}  # performance-floors.md


# --- the loopback MCP server (child process) ------------------------------------------------------


class _Aliases:
    """``/mcp/<alias>`` -> the SDK's ``/mcp``, with the resource metadata and challenge naming the alias."""

    def __init__(self, app: Any, base: str):
        self.app = app
        self.base = base

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if match := ALIAS.fullmatch(path):
            alias_prm = f"{self.base}{PRM}/mcp/{match.group(1)}".encode()

            async def send_challenge(message: Any) -> None:
                if message["type"] == "http.response.start" and message["status"] == 401:
                    message["headers"] = [
                        (
                            k,
                            re.sub(
                                rb'resource_metadata="[^"]*"', b'resource_metadata="' + alias_prm + b'"', v
                            ),
                        )
                        if k.lower() == b"www-authenticate"
                        else (k, v)
                        for k, v in message.get("headers", [])
                    ]
                await send(message)

            await self.app({**scope, "path": "/mcp", "raw_path": b"/mcp"}, receive, send_challenge)
            return
        if match := PRM_ALIAS.fullmatch(path):
            parts: list[bytes] = []
            start: dict[str, Any] = {}

            async def capture(message: Any) -> None:
                if message["type"] == "http.response.start":
                    start.update(message)
                else:
                    parts.append(message.get("body", b""))

            await self.app(
                {**scope, "path": f"{PRM}/mcp", "raw_path": f"{PRM}/mcp".encode()}, receive, capture
            )
            doc = orjson.loads(b"".join(parts))
            doc["resource"] = f"{self.base}/mcp/{match.group(1)}"
            body = orjson.dumps(doc)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send(
                {
                    "type": "http.response.start",
                    "status": start["status"],
                    "headers": [*headers, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def serve_mcp() -> None:
    """Child process: the SDK's authorization and MCP servers; prints their URLs, runs until stdin closes."""
    from mcp.server.auth.provider import AccessToken, TokenVerifier
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    from tests.discovery.servers import bound_socket, port_of, running, sdk_authorization_server

    token = os.environ[MCP_TOKEN_ENV]
    with sdk_authorization_server(identity_assertion=True) as issuer:
        sock = bound_socket()
        base = f"http://127.0.0.1:{port_of(sock)}"
        resource_url = f"{base}/mcp"

        class BenchTokenVerifier(TokenVerifier):
            async def verify_token(self, presented: str) -> AccessToken | None:
                if not secrets.compare_digest(presented, token):
                    return None
                return AccessToken(
                    token=presented, client_id="bench", scopes=["mcp:read"], resource=resource_url
                )

        server = MCPServer(
            "registrar-bench",
            token_verifier=BenchTokenVerifier(),
            auth=AuthSettings(
                issuer_url=issuer,  # type: ignore[arg-type]  # a str keeps its exact form
                resource_server_url=resource_url,  # type: ignore[arg-type]
                required_scopes=["mcp:read"],
                validate_token_resource=True,
            ),
        )

        @server.tool()
        def echo(text: str) -> str:
            """Echo text back."""
            return text

        app = _Aliases(server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1"), base)
        with running(app, sock):
            print(json.dumps({"base": base, "issuer": issuer}), flush=True)
            sys.stdin.read()


@contextmanager
def mcp_server(workdir: Path) -> Iterator[dict[str, str]]:
    token = secrets.token_urlsafe(24)
    env = dict(os.environ) | {MCP_TOKEN_ENV: token}
    log = (workdir / "mcp-server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
        cwd=BENCH_DIR.parent,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(
                "the loopback MCP server did not start:\n" + (workdir / "mcp-server.log").read_text()
            )
        info = json.loads(line) | {"token": token, "pid": str(process.pid)}
        yield info
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# --- ContextForge ---------------------------------------------------------------------------------


def contextforge_version(venv: Path) -> str:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('mcp-contextforge-gateway'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@contextmanager
def contextforge(venv: Path, workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    """ContextForge on SQLite, one worker, audit trail on; yields (process, port, admin JWT)."""
    port = free_port()
    jwt_secret = secrets.token_urlsafe(48)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRAR_", "VIRTUAL_ENV", "PYTHON"))}
    env |= {
        "PATH": f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        "DATABASE_URL": f"sqlite:///{workdir / 'mcp.db'}",
        "JWT_SECRET_KEY": jwt_secret,
        "AUTH_ENCRYPTION_SECRET": secrets.token_urlsafe(48),
        "PLATFORM_ADMIN_EMAIL": "admin@example.com",
        "PLATFORM_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "BASIC_AUTH_PASSWORD": secrets.token_urlsafe(24),
        "DEFAULT_USER_PASSWORD": secrets.token_urlsafe(24),  # 1.1.0 refuses to start with weak defaults
        "AUDIT_TRAIL_ENABLED": "true",
        "SSRF_ALLOW_LOCALHOST": "true",
        "MCPGATEWAY_UI_ENABLED": "false",
        "MCPGATEWAY_ADMIN_API_ENABLED": "false",
        "HEALTH_CHECK_INTERVAL": "3600",
        # Its per-user rate limit (100/min here, then a 15-minute lockout) is off, as Registrar's is
        # raised out of the way: this measures registration, not throttling.
        "RATE_LIMITING_ENABLED": "false",
        "LOG_LEVEL": "ERROR",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    made = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "mcpgateway.utils.create_jwt_token",
            "--username",
            "admin@example.com",
            "--exp",
            "600",
            f"--secret={jwt_secret}",  # "=": a secret may start with "-"
        ],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise RuntimeError(f"create_jwt_token failed: {made.stderr.strip()[-600:]}")
    token = made.stdout.strip().splitlines()[-1]
    command = [str(venv / "bin" / "mcpgateway"), "--host", "127.0.0.1", "--port", str(port)]
    with serve(command, env, workdir, port, "contextforge", timeout=240) as process:
        yield process, port, token


# --- the drivers ----------------------------------------------------------------------------------


async def register_many(
    port: int, headers: dict[str, str], path: str, bodies: list[bytes], concurrency: int, ok_status: set[int]
) -> dict[str, Any]:
    """POST every body (``concurrency`` keep-alive clients); registrations/s and latency."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    errors: list[str] = []

    async def client() -> None:
        http = RawHttp(port, headers)
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            status, _, data = await http.request("POST", path, body)
            latencies.append(time.perf_counter() - started)
            if status not in ok_status:
                errors.append(f"{status}: {data[:300]!r}")
        await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "registrations": len(bodies),
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "per_s": round((len(bodies) - len(errors)) / elapsed, 2),
        **ms_summary(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


def run_registrar(
    tmp: Path, mcp: dict[str, str], count: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    workdir = tmp / "registrar"
    workdir.mkdir()
    db = workdir / "registrar.db"
    results: dict[str, Any] = {}
    with registrar(
        f"sqlite:///{db}",
        workdir,
        REGISTRAR_DISCOVERY_ALLOW_HTTP="true",
        REGISTRAR_DISCOVERY_ALLOWED_NETWORKS="127.0.0.0/8",
    ) as server:
        headers = {
            "Authorization": f"SSWS {server.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "registrar-bench/1.0",
        }

        def bodies(prefix: str, n: int) -> list[bytes]:
            return [
                orjson.dumps(
                    {
                        "resourceUrl": f"{mcp['base']}/mcp/{prefix}{i}",
                        "metadata": {"displayName": f"Bench MCP {prefix}{i}"},
                    }
                )
                for i in range(n)
            ]

        asyncio.run(register_many(server.port, headers, MCP_SERVERS, bodies("rw", warmup), 1, {201}))
        results["sequential"] = asyncio.run(
            register_many(server.port, headers, MCP_SERVERS, bodies("rs", count), 1, {201})
        )
        results["concurrent"] = asyncio.run(
            register_many(server.port, headers, MCP_SERVERS, bodies("rc", count), concurrency, {201})
        )
        results["rss_mib"] = rss_mib(server.process.pid).get("VmRSS")
    results["audit_events"] = _count(
        db, "SELECT count(*) FROM log_events WHERE event_type LIKE 'resource_servers.mcp_server.%'"
    )
    results["servers_stored"] = _count(db, "SELECT count(*) FROM resource_servers WHERE kind = 'mcp'")
    return results


def run_contextforge(
    venv: Path, tmp: Path, mcp: dict[str, str], count: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    workdir = tmp / "contextforge"
    workdir.mkdir()
    results: dict[str, Any] = {"version": contextforge_version(venv)}
    with contextforge(venv, workdir) as (process, port, token):
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

        def bodies(prefix: str, n: int) -> list[bytes]:
            return [
                orjson.dumps(
                    {
                        "name": f"bench-{prefix}{i}",
                        "url": f"{mcp['base']}/mcp/{prefix}{i}",
                        "transport": "STREAMABLEHTTP",
                        "auth_type": "bearer",
                        "auth_token": mcp["token"],
                        "description": "registered by bench_contextforge",
                    }
                )
                for i in range(n)
            ]

        warm = asyncio.run(register_many(port, headers, "/gateways", bodies("cw", warmup), 1, {200, 201}))
        if warm["errors"]:
            raise RuntimeError(f"ContextForge refused the registrations: {warm['error_samples']}")
        results["sequential"] = asyncio.run(
            register_many(port, headers, "/gateways", bodies("cs", count), 1, {200, 201})
        )
        results["concurrent"] = asyncio.run(
            register_many(port, headers, "/gateways", bodies("cc", count), concurrency, {200, 201})
        )
        results["rss_mib"] = rss_mib(process.pid).get("VmRSS")
    db = workdir / "mcp.db"
    results["audit_rows"] = _count(db, "SELECT count(*) FROM audit_trails")
    results["gateway_audit_rows"] = _count(
        db, "SELECT count(*) FROM audit_trails WHERE resource_type = 'gateway'"
    )
    results["gateways_stored"] = _count(db, "SELECT count(*) FROM gateways")
    results["tools_stored"] = _count(db, "SELECT count(*) FROM tools")
    return results


def _summary(name: str, figures: dict[str, Any], concurrency: int, audit: int) -> str:
    seq, con = figures["sequential"], figures["concurrent"]
    return (
        f"  {name:<12} sequential {seq['per_s']:.1f}/s p99 {seq['p99_ms']:.0f} ms; {concurrency} clients "
        f"{con['per_s']:.1f}/s p99 {con['p99_ms']:.0f} ms; errors {seq['errors'] + con['errors']}; "
        f"audit records {audit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=200, help="registrations per phase and system (default 200)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="clients of the concurrent phase (default 4)"
    )
    parser.add_argument("--warmup", type=int, default=10, help="registrations before measuring (default 10)")
    parser.add_argument(
        "--cf-venv",
        type=Path,
        default=Path(os.environ.get("CONTEXTFORGE_VENV", "/work/cf-venv")),
        help="venv holding mcp-contextforge-gateway (default /work/cf-venv)",
    )
    parser.add_argument("--no-contextforge", action="store_true", help="Registrar alone")
    parser.add_argument("--results", type=Path, default=RESULTS / "contextforge.json")
    parser.add_argument("--serve-mcp", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_mcp:
        serve_mcp()
        return
    info = machine()
    print(
        f"MCP server registration, Registrar vs ContextForge: {args.count} per phase, "
        f"{args.concurrency} clients; {info['cpu']}, {info['nproc']} CPUs, load {info['loadavg']}"
    )
    results: dict[str, Any] = {
        "name": "contextforge",
        "date": now_iso(),
        "machine": info,
        "count": args.count,
        "concurrency": args.concurrency,
        "peer_figures_in_floors_doc": PEER_FLOOR,
    }
    with tempfile.TemporaryDirectory(prefix="bench-cf-") as tmp_name:
        tmp = Path(tmp_name)
        with mcp_server(tmp) as mcp:
            results["registrar"] = reg = run_registrar(tmp, mcp, args.count, args.concurrency, args.warmup)
            print(_summary("Registrar", reg, args.concurrency, reg["audit_events"]))
            cf: dict[str, Any] | None = None
            if args.no_contextforge:
                results["contextforge"] = {"skipped": "--no-contextforge"}
            elif not (args.cf_venv / "bin" / "mcpgateway").exists():
                results["contextforge"] = {
                    "skipped": f"no mcpgateway in {args.cf_venv} (pip install mcp-contextforge-gateway there)"
                }
            else:
                try:
                    results["contextforge"] = cf = run_contextforge(
                        args.cf_venv, tmp, mcp, args.count, args.concurrency, args.warmup
                    )
                    print(_summary("ContextForge", cf, args.concurrency, cf["audit_rows"]))
                except Exception as error:  # noqa: BLE001 - reported, Registrar's figures still stand
                    results["contextforge"] = {
                        "skipped": f"ContextForge failed: {error.__class__.__name__}: {error}"[:2000]
                    }
                    cf = None
    rows = []
    for phase, label in (("sequential", "sequential"), ("concurrent", f"{args.concurrency} clients")):
        r = results["registrar"][phase]
        if cf is not None:
            c = cf[phase]
            ratio = r["per_s"] / c["per_s"] if c["per_s"] else float("inf")
            rows.append(
                row(
                    f"MCP registrations/s, {label}",
                    f"{r['per_s']:.1f}/s ({ratio:.1f}x)",
                    ">= peer",
                    f"ContextForge {cf['version']} {c['per_s']:.1f}/s"
                    + (f" ({c['errors']} errors: not comparable)" if c["errors"] else ""),
                    None if c["errors"] else r["per_s"] >= c["per_s"] and r["errors"] == 0,
                )
            )
            rows.append(
                row(
                    f"  registration p50 / p99, {label}",
                    f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms",
                    "",
                    f"ContextForge {c['p50_ms']:.0f} / {c['p99_ms']:.0f} ms",
                    None,
                )
            )
        else:
            rows.append(
                row(
                    f"MCP registrations/s, {label}",
                    f"{r['per_s']:.1f}/s",
                    ">= peer",
                    f"ContextForge not run (doc: {PEER_FLOOR[phase + '_per_s']}/s)",
                    None,
                )
            )
            rows.append(
                row(
                    f"  registration p50 / p99, {label}",
                    f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms",
                    "",
                    "",
                    None,
                )
            )
    registered = results["registrar"]["servers_stored"]
    audit = f"{results['registrar']['audit_events'] / max(1, registered):.1f} events, same transaction"
    peer = "ContextForge not run"
    if cf is not None:
        per = cf["gateway_audit_rows"] / max(1, cf["gateways_stored"])
        peer = f"ContextForge {per:.1f} rows, separate session, fail-open"
    rows.append(row("  audit records per registration", audit, "", peer, None))
    results["rows"] = rows
    results["met"] = all(r["met"] for r in rows if r["met"] is not None) if cf is not None else None
    print_rows("MCP server registration vs ContextForge (bench_contextforge.py)", rows)
    if "skipped" in results["contextforge"]:
        print(f"\nContextForge: {results['contextforge']['skipped']}")
    path = write_results("contextforge", results, args.results)
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
