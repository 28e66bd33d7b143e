"""Run every benchmark in bench/ and rewrite the summary table at the top of bench/README.md.

    .venv/bin/python bench/run_all.py              # full sizes (about 25 minutes + the load run)
    .venv/bin/python bench/run_all.py --quick      # shorter variants of each (about 10 minutes)
    .venv/bin/python bench/run_all.py --only writes,freshness --load-minutes 10

Each benchmark runs as its own process, one after the other (never two at once: they would measure each
other), prints to ``bench/results/<name>.log`` and writes ``bench/results/<name>.json``; this script then
renders every figure next to its target and its floor or peer, with met / not met, between the
``<!-- results:start -->`` and ``<!-- results:end -->`` markers of ``bench/README.md`` (the sections below
the markers, each benchmark's own notes, are left alone). A benchmark that is missing or fails is
listed as such; the others still run. Exit status 1 if any failed to run.

Benchmarks and their shorter variants (``--quick``):

| name | script | full | quick |
|---|---|---|---|
| writes | bench_writes.py | 10 s x 3 rounds x 1/8/32 clients, SQLite + PostgreSQL | 5 s x 1 round |
| freshness | bench_freshness.py | 30 s per poller mode | 10 s |
| contextforge | bench_contextforge.py | 200 registrations per phase | 40 |
| syslog | bench_syslog.py | 1,000,000 events | 100,000 events |
| enrichment | bench_enrichment.py | 20,000 iterations / 2,000 writes | 5,000 / 500 (no JSON: table parsed) |
| hooks | bench_hooks.py | its defaults (20,000 events, 200 samples) | 5,000 events, 50 samples |
| load | load.py | ``--load-minutes`` (default 1: the smoke run) | 1 minute |
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import BENCH, RESULTS, machine, now_iso, row

README = BENCH / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def plan(quick: bool, load_minutes: float, with_postgres: bool) -> list[tuple[str, str, list[str]]]:
    """(name, script, arguments) of every benchmark present in bench/."""
    steps: list[tuple[str, str, list[str]]] = [
        (
            "writes",
            "bench_writes.py",
            (["--seconds", "5", "--rounds", "1"] if quick else [])
            + ([] if with_postgres else ["--no-postgres"]),
        ),
        ("freshness", "bench_freshness.py", ["--seconds", "10"] if quick else []),
        ("contextforge", "bench_contextforge.py", ["--count", "40"] if quick else []),
        ("syslog", "bench_syslog.py", ["--events", "100000"] if quick else []),
        ("enrichment", "bench_enrichment.py", ["--iterations", "5000", "--writes", "500"] if quick else []),
        ("hooks", "bench_hooks.py", ["--events", "5000", "--samples", "50"] if quick else []),
        ("load", "load.py", ["--minutes", str(1 if quick else load_minutes)]),
    ]
    present = []
    for name, script, args in steps:
        path = BENCH / script
        if not path.exists():
            continue
        present.append((name, script, args))
    # Any other bench_*.py someone adds later runs with its defaults.
    known = {script for _, script, _ in steps}
    for path in sorted(BENCH.glob("bench_*.py")):
        if path.name not in known:
            present.append((path.stem.removeprefix("bench_"), path.name, []))
    return present


def run(name: str, script: str, args: list[str], timeout: float) -> dict[str, Any]:
    log = RESULTS / f"{name}.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(BENCH / script), *args]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    before = (RESULTS / f"{name}.json").stat().st_mtime if (RESULTS / f"{name}.json").exists() else None
    with log.open("w") as out:
        try:
            process = subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False, cwd=BENCH.parent
            )
            status = process.returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
    elapsed = round(time.monotonic() - started)
    json_path = RESULTS / f"{name}.json"
    fresh = json_path.exists() and (before is None or json_path.stat().st_mtime > before)
    print(f"    exit {status} after {elapsed} s; log {log.relative_to(BENCH.parent)}", flush=True)
    tail = log.read_text(errors="replace").splitlines()[-40:]
    print(
        "\n".join(f"    {line}" for line in tail if line.startswith(("|", "##", "  [", "  ", "results"))),
        flush=True,
    )
    outcome = {
        "name": name,
        "command": " ".join(["python", f"bench/{script}", *args]),
        "status": status,
        "seconds": elapsed,
        "json": json_path if fresh else None,
        "log": log,
        "finished": now_iso(),
    }
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in outcome.items()}
    (RESULTS / f"{name}.run.json").write_text(json.dumps(record, indent=2) + "\n")
    return outcome


def recorded(name: str, script: str) -> dict[str, Any] | None:
    """The outcome of the last run of ``name`` from its files in bench/results (for ``--render-only``)."""
    json_path, log = RESULTS / f"{name}.json", RESULTS / f"{name}.log"
    if not json_path.exists() and not log.exists():
        return None
    meta_path = RESULTS / f"{name}.run.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    command, finished = meta.get("command", f"python bench/{script}"), meta.get("finished", "?")
    if (
        json_path.exists()
        and meta_path.exists()
        and json_path.stat().st_mtime > meta_path.stat().st_mtime + 5
    ):
        # Someone ran the script by hand since: its JSON is newer than our record of the command.
        data = json.loads(json_path.read_text())
        command = f"python bench/{script} (a later run by hand)"
        finished = data.get("date") or data.get("when") or "?"
    return {
        "name": name,
        "command": command,
        "status": meta.get("status", 0),
        "seconds": meta.get("seconds", "?"),
        "json": json_path if json_path.exists() else None,
        "log": log,
        "finished": finished,
    }


# --- turning each benchmark's output into rows ----------------------------------------------------


def rows_from_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("rows", []))


def rows_from_syslog(data: dict[str, Any]) -> list[dict[str, Any]]:
    met = data.get("met", {})
    served, raw = data["served"]["events_per_s"], data["raw_select"]["events_per_s"]
    f, q = data["filtered"], data["q"]
    n = data.get("events", 0)
    rows = [
        row(
            f"System Log served events/s ({n:,} events)",
            f"{served:,} ev/s",
            ">= 200,000",
            f"raw SELECT {raw:,} ev/s",
            met.get("served_events_per_s"),
        ),
        row(
            "  served / raw SELECT",
            f"{data['served_to_raw_ratio']:.2f}x",
            ">= 0.5x",
            f"bare HTTP {data['bare_http']['events_per_s']:,} ev/s",
            met.get("served_to_raw_ratio"),
        ),
        row(
            f"filtered page p50 / p99 ({n:,} events)",
            f"{f['p50_ms']:.2f} / {f['p99_ms']:.2f} ms",
            "p99 <= 30 ms",
            f"SQL {f['raw_sql']['p50_ms']:.2f} / {f['raw_sql']['p99_ms']:.2f} ms",
            met.get("filtered_p99_ms"),
        ),
        row(
            f"q page p50 / p99 ({n:,} events)",
            f"{q['p50_ms']:.2f} / {q['p99_ms']:.2f} ms",
            "p99 <= 100 ms",
            f"SQL {q['raw_sql']['p50_ms']:.2f} / {q['raw_sql']['p99_ms']:.2f} ms",
            met.get("q_p99_ms"),
        ),
    ]
    rss = data.get("server_rss_mib")
    if rss is not None:
        at_million = n >= 1_000_000
        rows.append(
            row(
                f"server RSS after the read run ({n:,} events)",
                f"{rss:.1f} MiB ({rss * 1.048576:.1f} MB)",
                "<= 150 MB at 1 M" if at_million else "(<= 150 MB at 1 M)",
                f"bare HTTP {data['bare_http'].get('rss_mib') or 0:.0f} MiB",
                rss * 1.048576 <= 150 if at_million else None,
            )
        )
    return rows


def rows_from_hooks(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        figures = data.get(backend)
        if not figures:
            continue
        reg = figures["throughput"]["events_per_s"]
        new, keep = (
            figures["floor_new_connection"]["events_per_s"],
            figures["floor_keepalive"]["events_per_s"],
        )
        rows.append(
            row(
                f"hook delivery events/s, {label}",
                f"{reg:,} ev/s ({reg / new:.2f}x)",
                "",
                f"{new:,} ev/s (keep-alive {keep:,})",
                None,
            )
        )
        for key, lat in figures.items():
            if key.startswith("latency_poll_"):
                poll = key.removeprefix("latency_poll_")
                rows.append(
                    row(
                        f"  commit -> delivery p50 / p99, poll {poll}, {label}",
                        f"{lat['p50_ms']:.0f} / {lat['p99_ms']:.0f} ms",
                        "",
                        "",
                        None,
                    )
                )
    return rows


def rows_from_enrichment_log(text: str) -> list[dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        match = re.match(
            r"^(enrich: .+?|audited write: .+?)\s{2,}([\d.]+)\s+([\d.]+)\s+([\d.]+)%$", line.strip()
        )
        if match:
            name, median, p99, share = match.groups()
            rows.append(
                row(name, f"{float(median):,.1f} / {float(p99):,.1f} µs", "", f"{share} % of a write", None)
            )
    return rows


def rows_generic(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A benchmark JSON without rows: its ``met`` / ``targets`` maps, flattened."""
    met = data.get("met")
    targets = data.get("targets", {})
    rows = []
    if isinstance(met, dict):
        for key, ok in met.items():
            value = data.get(key)
            rows.append(
                row(
                    key,
                    json.dumps(value) if value is not None else "see log",
                    str(targets.get(key, "")),
                    "",
                    ok,
                )
            )
    return rows


PARSERS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "syslog": rows_from_syslog,
    "hooks": rows_from_hooks,
}
TITLES = {
    "writes": "Audited writes over HTTP vs bare INSERT + commit (`bench_writes.py`)",
    "freshness": "Poller freshness, commit -> visible (`bench_freshness.py`)",
    "contextforge": "MCP server registration vs ContextForge (`bench_contextforge.py`)",
    "syslog": "System Log reads (`bench_syslog.py`)",
    "enrichment": "Request-context enrichment, median / p99 (`bench_enrichment.py`)",
    "hooks": "Hook delivery (`bench_hooks.py`)",
    "load": "Load run: writes + polling + filtered reads at 80 % of max (`load.py`)",
    "bounds": "What the input bounds cost: before / after, same run (`bench_bounds.py`)",
    "tlog": "Merkle tree append cost per event, with vs without the tree (`bench_tlog.py`)",
    "tlog_verify": "Transparency log: offline verification and proof latency (`bench_tlog_verify.py`)",
    "tlog_lag": "Transparency log: write -> covering checkpoint served (`bench_tlog_lag.py`)",
}


def collect(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    name = outcome["name"]
    if name == "enrichment":
        return rows_from_enrichment_log(outcome["log"].read_text(errors="replace"))
    if outcome["json"] is None:
        return []
    data = json.loads(outcome["json"].read_text())
    if name in PARSERS:
        try:
            return PARSERS[name](data)
        except (KeyError, TypeError) as error:
            print(f"    could not read {outcome['json'].name}: {error!r}; using its generic form")
    return rows_from_rows(data) or rows_generic(data)


def _ran(outcome: dict[str, Any]) -> bool:
    """Exit 0; or 1 from load.py, which exits 1 when it ran but a check failed (shown in its rows)."""
    return outcome["status"] == 0 or (
        outcome["name"] == "load" and outcome["status"] == 1 and outcome["json"] is not None
    )


def render(outcomes: list[dict[str, Any]], info: dict[str, Any], command: str, started: str) -> str:
    lines = [
        START,
        "## Summary (rewritten by `bench/run_all.py`)",
        "",
        f"{started} `{command}` on {info['cpu']} (`lscpu` model name), {info['nproc']} CPUs (`nproc`), "
        f"{info['ram_gib']} GiB RAM; Python {info['python']}, SQLite {info['sqlite']}, "
        f"kernel {info['kernel']}"
        + (f"; load average at the start {info['loadavg'][0]:.1f}" if "render-only" not in command else "")
        + ". Floors and peers were measured in the same run as the figure they qualify (each benchmark "
        "runs its own, alone on the machine as far as this script is concerned); absolute figures on these "
        "shared machines move by up to ~45 % between runs, ratios much less.",
        "",
        "| benchmark | figure | Registrar | target | floor / peer (same run) | met |",
        "|---|---|---:|---|---:|---|",
    ]
    for outcome in outcomes:
        title = TITLES.get(outcome["name"], f"`{outcome['name']}`")
        rows = collect(outcome)
        if outcome["status"] != 0 and not rows:
            log = f"bench/results/{outcome['name']}.log"
            lines.append(f"| {title} | did not run: exit {outcome['status']} (see `{log}`) | | | | |")
            continue
        for i, r in enumerate(rows):
            met = "" if r["met"] is None else ("met" if r["met"] else "**not met**")
            figure = r["figure"].replace("|", "\\|")
            cells = [title if i == 0 else "", figure.strip(), r["value"], r["target"], r["floor"], met]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        if not _ran(outcome):
            lines.append(
                f"| | (exit {outcome['status']}: see `bench/results/{outcome['name']}.log`) | | | | |"
            )
    lines += [
        "",
        "Commands: "
        + "; ".join(
            f"`{o['command']}` ({o['seconds']} s, finished {o.get('finished', '?')})" for o in outcomes
        )
        + ".",
        END,
    ]
    return "\n".join(lines)


def rewrite_readme(block: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        text = before + block + after
    else:
        first, _, rest = text.partition("\n")
        text = f"{first}\n\n{block}\n{rest}"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the shorter variant of every benchmark")
    parser.add_argument(
        "--only", help="comma-separated names (writes,freshness,contextforge,syslog,enrichment,hooks,load)"
    )
    parser.add_argument("--skip", default="", help="comma-separated names to leave out")
    parser.add_argument(
        "--load-minutes", type=float, default=1, help="length of the load run (default 1: smoke)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="bench_writes on SQLite only")
    parser.add_argument(
        "--timeout", type=float, default=5400, help="seconds allowed per benchmark (default 5400)"
    )
    parser.add_argument(
        "--render-only", action="store_true", help="run nothing: rebuild the table from bench/results"
    )
    parser.add_argument("--no-readme", action="store_true", help="print the table, leave README.md alone")
    args = parser.parse_args()
    info = machine()
    started = (
        f"Rendered {now_iso()} from the files in `bench/results` by"
        if "--render-only" in sys.argv
        else f"Run {now_iso()} with"
    )
    steps = plan(args.quick, args.load_minutes, not args.no_postgres)
    wanted = set(args.only.split(",")) if args.only else {name for name, _, _ in steps}
    skipped = set(filter(None, args.skip.split(",")))
    chosen = [(name, script, a) for name, script, a in steps if name in wanted - skipped]
    if args.render_only:
        outcomes = [o for name, script, _ in chosen if (o := recorded(name, script)) is not None]
    else:
        outcomes = [run(name, script, a, args.timeout) for name, script, a in chosen]
    command = "python bench/run_all.py " + " ".join(sys.argv[1:])
    block = render(outcomes, info, command.strip(), started)
    print("\n" + block)
    if not args.no_readme:
        rewrite_readme(block)
        print(f"\n{README.relative_to(BENCH.parent)} rewritten between {START} and {END}")
    failed = [o["name"] for o in outcomes if not _ran(o)]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
