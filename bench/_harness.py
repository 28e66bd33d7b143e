"""Shared pieces of the HTTP benchmarks (bench_writes, bench_freshness, bench_contextforge, load).

A real ``registrar serve`` subprocess on 127.0.0.1, a token for it, the machine's description, percentiles,
``wrk`` with a Lua script, a small keep-alive HTTP/1.1 client on asyncio streams (a few µs of client
CPU per request, so the 2-core machine spends its time in the server), and a throw-away PostgreSQL
database. Not a benchmark itself (``run_all.py`` skips files starting with ``_``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "REGISTRAR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MANAGE_SCOPES = (
    "okta.resourceServers.apiServers.manage",
    "okta.resourceServers.apiServers.read",
    "okta.resourceServers.mcpServers.manage",
    "okta.resourceServers.mcpServers.read",
    "okta.logs.read",
)


# --- the machine ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU model (lscpu), cores, RAM, versions and the load average when asked."""
    model = "unknown"
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_results(name: str, results: Mapping[str, Any], path: Path | None = None) -> Path:
    """``bench/results/<name>.json`` (or ``path``)."""
    target = path or RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=2) + "\n")
    return target


def row(
    figure: str, value: str, target: str = "", floor: str = "", met: bool | None = None, **extra: Any
) -> dict[str, Any]:
    """One line of the summary table (``run_all.py`` renders these)."""
    return {"figure": figure, "value": value, "target": target, "floor": floor, "met": met, **extra}


def print_rows(title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    print()
    print(f"## {title}")
    print(f"| {'figure':<46} | {'value':>26} | {'target':>14} | {'floor / peer (same run)':>34} | met |")
    print(f"|{'-' * 48}|{'-' * 28}|{'-' * 16}|{'-' * 36}|-----|")
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "NO")
        print(f"| {r['figure']:<46} | {r['value']:>26} | {r['target']:>14} | {r['floor']:>34} | {met:<3} |")


# --- numbers -------------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank), 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds of latencies given in seconds."""
    return {
        "n": len(seconds),
        "p50_ms": round(pct(seconds, 50) * 1000, 2),
        "p90_ms": round(pct(seconds, 90) * 1000, 2),
        "p99_ms": round(pct(seconds, 99) * 1000, 2),
        "max_ms": round(max(seconds, default=0) * 1000, 2),
    }


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(v for _, v in samples) / n
    sxx = sum((t - mx) ** 2 for t, _ in samples)
    if sxx == 0:
        return 0.0
    return sum((t - mx) * (v - my) for t, v in samples) / sxx * 60


# --- processes -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(
    command: Sequence[str], env: Mapping[str, str], workdir: Path, port: int, name: str, timeout: float = 90
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until the block ends (SIGTERM, then SIGKILL); waits for its TCP port."""
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), cwd=workdir, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{name} did not start:\n{log_path.read_text(errors='replace')[-4000:]}"
                    ) from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def registrar_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked ``registrar serve``: rate limit out of the way, a fresh key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    env["REGISTRAR_DATABASE_URL"] = database_url
    env["REGISTRAR_RATE_LIMIT_PER_MINUTE"] = "1000000000"
    env["REGISTRAR_SECRET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env.update(extra)
    return env


def create_token(env: Mapping[str, str], workdir: Path, scopes: Sequence[str] = MANAGE_SCOPES) -> str:
    """A token from ``registrar tokens create`` (which also migrates the database)."""
    command = [
        sys.executable,
        "-m",
        "registrar",
        "tokens",
        "create",
        "--user",
        "bench@registrar.example",
        "--name",
        "bench",
    ]
    for scope in scopes:
        command += ["--scope", scope]
    out = subprocess.run(command, env=dict(env), cwd=workdir, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


@dataclass
class Registrar:
    process: subprocess.Popen[bytes]
    port: int
    token: str
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def registrar(database_url: str, workdir: Path, **extra_env: str) -> Iterator[Registrar]:
    """A real ``registrar serve`` (one uvicorn worker, as shipped) on a free loopback port, with a token."""
    env = registrar_env(database_url, **extra_env)
    token = create_token(env, workdir)
    port = free_port()
    command = [sys.executable, "-m", "registrar", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serve(command, env, workdir, port, "registrar") as process:
        yield Registrar(process, port, token, env)


@contextmanager
def postgres_database(prefix: str = "registrar_bench") -> Iterator[str | None]:
    """A database of our own on the loopback PostgreSQL (dropped afterwards); None when none answers."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    admin = POSTGRES_ADMIN_URL
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL not available at {admin}: {error.__class__.__name__}: {error}")
        yield None
        return
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- wrk -----------------------------------------------------------------------------------------

WRK_DONE = r"""
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  io.write(string.format(
    '\n@@WRK {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"unexpected_status":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, bad, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, script: Path, args: Sequence[str], connections: int, seconds: float) -> dict[str, Any]:
    """One ``wrk`` run (one thread, ``connections`` keep-alive connections); the figures its script prints."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
        "--",
        *args,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("@@WRK "):
            figures: dict[str, Any] = json.loads(line[6:])
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["errors"] = sum(
                figures[k]
                for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "unexpected_status")
            )
            return figures
    raise RuntimeError(f"wrk printed no figures:\n{out.stdout}\n{out.stderr}")


# --- a small keep-alive HTTP/1.1 client ----------------------------------------------------------


class HttpError(Exception):
    pass


class RawHttp:
    """One keep-alive connection to 127.0.0.1; requests are sent one at a time."""

    def __init__(self, port: int, default_headers: Mapping[str, str] | None = None):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.default = "".join(f"{k}: {v}\r\n" for k, v in (default_headers or {}).items())
        self.last_used = 0.0

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names — repeated ones joined by '\\n', body)."""
        # uvicorn closes keep-alive connections idle for 5 s: never reuse one that may be (being) closed.
        if self.writer is not None and (
            self.reader is None or self.reader.at_eof() or time.monotonic() - self.last_used > 4
        ):
            await self.close()
        if self.writer is None:
            await self._connect()
        assert self.reader is not None
        assert self.writer is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{self.default}{extra}"
        if body or method in {"POST", "PUT", "PATCH"}:
            head += f"Content-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            await self.close()
            raise HttpError(f"{method} {path}: connection closed ({error.__class__.__name__})") from None
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        response_headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            response_headers[name] = (
                f"{response_headers[name]}\n{value}" if name in response_headers else value
            )
        if "content-length" in response_headers:
            data = await self.reader.readexactly(int(response_headers["content-length"]))
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = b""
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        self.last_used = time.monotonic()
        return status, response_headers, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def next_link(headers: Mapping[str, str]) -> str | None:
    """The path + query of the ``rel="next"`` Link header, if any."""
    for link in headers.get("link", "").split("\n"):
        link = link.strip()
        if link.endswith('rel="next"'):
            url = link[1 : link.index(">")]
            return url[url.index("/", url.index("//") + 2) :]
    return None
