"""What the issue-11 bounds cost: audited writes and System Log reads, before and after, in one run.

    .venv/bin/python bench/bench_bounds.py [--before REV] [--after REV] [--seconds 8] [--rounds 3]

"Before" is the tree at ``REV`` (default: the commit before the bounds landed), checked out with
``git worktree`` into a temporary directory and run from its own ``src`` on the same interpreter; "after"
is this tree, or ``--after REV`` checked out the same way. Both are real ``registrar serve`` processes on
SQLite (WAL, ``synchronous=NORMAL``), driven by the same ``wrk`` client, alternating within each round
(medians reported): ``POST /resource-servers/api/v1/api-servers`` with 8 keep-alive connections (a new
``resourceUrl`` each time) and ``GET /api/v1/logs?limit=1000`` with 4 connections over the events those
writes made. The bare
INSERT + commit floor of ``bench_writes.py`` runs in the same rounds, so every figure has its floor.
Writes ``bench/results/bounds.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    BENCH,
    RESULTS,
    ROOT,
    WRK_DONE,
    Registrar,
    free_port,
    machine,
    now_iso,
    print_rows,
    registrar_env,
    row,
    run_wrk,
    serve,
    write_results,
)

API_SERVERS = "/resource-servers/api/v1/api-servers"
DEFAULT_BEFORE = "5b6975d"  # main before issue 11
SCOPES = ("okta.resourceServers.apiServers.manage", "okta.resourceServers.apiServers.read", "okta.logs.read")

_GET_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  bad = 0
  wrk.headers["Authorization"] = "SSWS " .. args[1]
  wrk.headers["Accept"] = "application/json"
  wrk.headers["User-Agent"] = "registrar-bench/1.0"
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
"""


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """The tree at ``rev`` in a temporary git worktree (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="registrar-before-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev], check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)


@contextmanager
def server(name: str, src: Path, workdir: Path) -> Iterator[Registrar]:
    """``registrar serve`` importing the package from ``src``, on a fresh SQLite database in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = registrar_env(
        f"sqlite:///{workdir / 'registrar.db'}",
        PYTHONPATH=str(src),
        REGISTRAR_DATA_DIR=str(workdir / "data"),
        REGISTRAR_JOBS="false",
    )
    command = [sys.executable, "-m", "registrar", "tokens", "create", "--user", "bench@registrar.example"]
    for scope in SCOPES:
        command += ["--scope", scope]
    token = subprocess.run(
        command, env=env, cwd=workdir, capture_output=True, text=True, check=True
    ).stdout.strip()
    port = free_port()
    serve_cmd = [sys.executable, "-m", "registrar", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with serve(serve_cmd, env, workdir, port, name) as process:
        yield Registrar(process, port, token, env)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(x["rps"] for x in runs)),
        "p50_ms": round(statistics.median(x["p50_us"] for x in runs) / 1000, 2),
        "p99_ms": round(statistics.median(x["p99_us"] for x in runs) / 1000, 2),
        "errors": sum(x["errors"] + x["status_errors"] for x in runs),
        "runs_rps": [round(x["rps"]) for x in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--before", default=DEFAULT_BEFORE, help=f"the tree to compare with (default {DEFAULT_BEFORE})"
    )
    parser.add_argument("--after", default=None, help="the tree to measure (default: this working tree)")
    parser.add_argument("--seconds", type=float, default=8, help="seconds per wrk run (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported (default 3)")
    parser.add_argument("--results", type=Path, default=RESULTS / "bounds.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="registrar-bounds-") as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        post = tmp / "post.lua"
        post.write_text((BENCH / "_post_unique.lua").read_text() + WRK_DONE)
        get = tmp / "get.lua"
        get.write_text(_GET_SCRIPT + WRK_DONE)
        before_tree = stack.enter_context(worktree(args.before))
        after_tree = stack.enter_context(worktree(args.after)) if args.after else ROOT
        servers = {
            "before": stack.enter_context(server("before", before_tree / "src", tmp / "before")),
            "after": stack.enter_context(server("after", after_tree / "src", tmp / "after")),
        }
        floor_port = free_port()
        floor_cmd = [
            sys.executable,
            str(BENCH / "_bare_write_app.py"),
            "sqlite",
            str(tmp / "floor.db"),
            str(floor_port),
            "NORMAL",
        ]
        stack.enter_context(serve(floor_cmd, {}, tmp, floor_port, "floor"))
        floor_url = f"http://127.0.0.1:{floor_port}/write"
        for s in servers.values():  # warm-up, and a log to read
            run_wrk(
                f"{s.url}{API_SERVERS}", post, [API_SERVERS, s.token, f"warm-{uuid.uuid4().hex[:6]}"], 8, 3
            )
        run_wrk(floor_url, post, ["/write", "-", "warm"], 8, 3)
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            "writes": {"before": [], "after": [], "floor": []},
            "reads": {"before": [], "after": []},
        }
        for r in range(args.rounds):
            order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
            runs["writes"]["floor"].append(
                run_wrk(floor_url, post, ["/write", "-", f"r{r}"], 8, args.seconds)
            )
            for name in order:
                s = servers[name]
                w = run_wrk(
                    f"{s.url}{API_SERVERS}",
                    post,
                    [API_SERVERS, s.token, f"r{r}-{uuid.uuid4().hex[:6]}"],
                    8,
                    args.seconds,
                )
                g = run_wrk(f"{s.url}/api/v1/logs?limit=1000", get, [s.token], 4, args.seconds)
                runs["writes"][name].append(w)
                runs["reads"][name].append(g)
                print(f"  round {r + 1} {name:<6} writes {w['rps']:>7,.0f}/s  log pages {g['rps']:>6,.0f}/s")

    writes = {k: _median(v) for k, v in runs["writes"].items()}
    reads = {k: _median(v) for k, v in runs["reads"].items()}
    w_ratio = writes["after"]["rps"] / writes["before"]["rps"]
    r_ratio = reads["after"]["rps"] / reads["before"]["rps"]
    rows = [
        row(
            "audited writes/s, SQLite, 8 clients: after / before",
            f"{writes['after']['rps']:,} vs {writes['before']['rps']:,} req/s ({w_ratio:.2f}x)",
            ">= 0.9x before",
            f"bare INSERT {writes['floor']['rps']:,} req/s",
            w_ratio >= 0.9,
        ),
        row(
            "write p50 / p99 after (before)",
            f"{writes['after']['p50_ms']} / {writes['after']['p99_ms']} ms "
            f"({writes['before']['p50_ms']} / {writes['before']['p99_ms']})",
        ),
        row(
            "System Log pages/s (limit=1000), 4 clients: after / before",
            f"{reads['after']['rps']:,} vs {reads['before']['rps']:,} pages/s ({r_ratio:.2f}x)",
            ">= 0.9x before",
            "",
            r_ratio >= 0.9,
        ),
        row(
            "log page p50 / p99 after (before)",
            f"{reads['after']['p50_ms']} / {reads['after']['p99_ms']} ms "
            f"({reads['before']['p50_ms']} / {reads['before']['p99_ms']})",
        ),
    ]
    print_rows("What the bounds cost (bench_bounds.py)", rows)
    write_results(
        "bounds",
        {
            "benchmark": "bench_bounds.py",
            "title": "What the issue-11 bounds cost, before vs after (`bench_bounds.py`)",
            "finished": now_iso(),
            "machine": machine(),
            "before": args.before,
            "after": subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip(),
            "dirty": bool(os.popen(f"git -C {ROOT} status --porcelain").read().strip()),
            "writes": writes,
            "reads": reads,
            "rows": rows,
        },
        args.results,
    )


if __name__ == "__main__":
    main()
