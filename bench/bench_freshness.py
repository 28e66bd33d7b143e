"""Poller freshness: commit -> visible through ``GET /api/v1/logs`` polling (issue 8, target p99 <= 100 ms).

    .venv/bin/python bench/bench_freshness.py [--seconds 30] [--writers 2] [--rate 25] [--cadence-ms 50]

A real ``registrar serve`` on a temporary SQLite database. Writers register API servers at a steady rate,
each with a marker in its ``resourceUrl``; a System Log poller follows ``next`` links (polling mode,
``since`` = start of the run, ``limit=1000``), in two modes, one after the other:

* ``tight``: the next request as soon as a page arrives (the best a client can do);
* ``cadence``: one request every ``--cadence-ms`` (default 50 ms), as a SIEM collector would.

For each marker: *visible* = when the page holding its event arrived at the poller. Latencies reported:

* ``published -> visible`` (the headline): ``published`` is stamped inside the write transaction before
  its commit, so this is an upper bound of commit -> visible (same machine, same clock);
* ``201 -> visible``: from the writer receiving its response (after the commit): a lower bound, negative
  when the poller saw the event before the writer saw its 201.

Every marker must become visible, exactly once, in commit order (``seq``) without gaps. Writes
``bench/results/freshness.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    RESULTS,
    RawHttp,
    machine,
    ms_summary,
    next_link,
    now_iso,
    print_rows,
    registrar,
    row,
    rss_mib,
    write_results,
)

API_SERVERS = "/resource-servers/api/v1/api-servers"
TARGET_P99_MS = 100.0
REGISTER = "resource_servers.api_server.register"


def _published(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def run_mode(
    port: int, token: str, mode: str, seconds: float, writers: int, rate: float, cadence: float
) -> dict[str, Any]:
    headers = {
        "Authorization": f"SSWS {token}",
        "Accept": "application/json",
        "User-Agent": "registrar-bench/1.0",
    }
    tag = f"{mode}-{int(time.time() * 1000)}"
    written: dict[str, dict[str, float]] = {}
    seen: dict[str, dict[str, float]] = {}
    errors: list[str] = []
    seqs: list[str] = []
    stop = asyncio.Event()
    writers_done = asyncio.Event()
    polls = 0
    poll_latencies: list[float] = []

    async def writer(w: int) -> None:
        client = RawHttp(port, headers | {"Content-Type": "application/json"})
        interval = 1.0 / rate
        next_at = time.perf_counter() + w * interval / writers
        i = 0
        while not stop.is_set():
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at += interval
            i += 1
            marker = f"{tag}-{w}-{i}"
            body = orjson.dumps(
                {"resourceUrl": f"https://{marker}.fresh.example/api", "metadata": {"displayName": marker}}
            )
            sent = time.time()
            status, _, data = await client.request("POST", API_SERVERS, body)
            if status != 201:
                errors.append(f"write {status}: {data[:200]!r}")
                continue
            written[marker] = {"sent": sent, "ok": time.time()}
        await client.close()

    async def poller() -> None:
        nonlocal polls
        client = RawHttp(port, headers)
        since = datetime.fromtimestamp(time.time() - 1, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        path: str | None = f"/api/v1/logs?since={quote(since)}&limit=1000"
        deadline_after_stop = None
        while True:
            started = time.perf_counter()
            assert path is not None
            status, response_headers, data = await client.request("GET", path)
            arrived = time.time()
            poll_latencies.append(time.perf_counter() - started)
            polls += 1
            if status != 200:
                errors.append(f"poll {status}: {data[:200]!r}")
            else:
                for event in orjson.loads(data):
                    if event["eventType"] != REGISTER:
                        continue
                    marker = event["target"][0]["displayName"]
                    if not marker.startswith(tag):
                        continue
                    if marker in seen:
                        errors.append(f"event {marker} seen twice")
                    seen[marker] = {"visible": arrived, "published": _published(event["published"])}
                    seqs.append(marker)
                path = next_link(response_headers) or path
            if writers_done.is_set():
                deadline_after_stop = deadline_after_stop or time.perf_counter() + 5
                if set(written) <= set(seen) or time.perf_counter() > deadline_after_stop:
                    break
            if mode == "cadence":
                await asyncio.sleep(max(0.0, cadence - (time.perf_counter() - started)))
        await client.close()

    tasks = [asyncio.create_task(writer(w)) for w in range(writers)]
    poll_task = asyncio.create_task(poller())
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    writers_done.set()
    await poll_task

    missing = sorted(set(written) - set(seen))
    if missing:
        errors.append(f"{len(missing)} written events never became visible (e.g. {missing[:3]})")
    from_published = [seen[m]["visible"] - seen[m]["published"] for m in written if m in seen]
    from_ok = [seen[m]["visible"] - written[m]["ok"] for m in written if m in seen]
    from_sent = [seen[m]["visible"] - written[m]["sent"] for m in written if m in seen]
    return {
        "mode": mode,
        "cadence_ms": cadence * 1000 if mode == "cadence" else None,
        "writes": len(written),
        "visible": len(seen),
        "polls": polls,
        "polls_per_s": round(polls / seconds, 1),
        "poll_request": ms_summary(poll_latencies),
        "published_to_visible": ms_summary(from_published),
        "ok_to_visible": ms_summary(from_ok),
        "sent_to_visible": ms_summary(from_sent),
        "errors": errors[:20],
        "error_count": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30, help="seconds per mode (default 30)")
    parser.add_argument("--writers", type=int, default=2, help="concurrent writers (default 2)")
    parser.add_argument("--rate", type=float, default=25, help="writes/s per writer (default 25)")
    parser.add_argument(
        "--cadence-ms", type=float, default=50, help="poll interval of the cadence mode (default 50)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS / "freshness.json")
    args = parser.parse_args()
    info = machine()
    print(
        f"Poller freshness: {args.writers} writers x {args.rate}/s, {args.seconds:.0f} s per mode; "
        f"{info['cpu']}, {info['nproc']} CPUs, load {info['loadavg']}"
    )
    results: dict[str, Any] = {
        "name": "freshness",
        "date": now_iso(),
        "machine": info,
        "target_p99_ms": TARGET_P99_MS,
        "writers": args.writers,
        "rate_per_writer": args.rate,
        "seconds": args.seconds,
        "modes": {},
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp,
        registrar(f"sqlite:///{Path(tmp) / 'registrar.db'}", Path(tmp)) as server,
    ):
        for mode in ("tight", "cadence"):
            outcome = asyncio.run(
                run_mode(
                    server.port,
                    server.token,
                    mode,
                    args.seconds,
                    args.writers,
                    args.rate,
                    args.cadence_ms / 1000,
                )
            )
            results["modes"][mode] = outcome
            p, o = outcome["published_to_visible"], outcome["ok_to_visible"]
            print(
                f"  {mode:<8} {outcome['writes']} writes, {outcome['polls']} polls: published->visible p50 "
                f"{p['p50_ms']:.1f} p99 {p['p99_ms']:.1f} ms; 201->visible p50 {o['p50_ms']:.1f} p99 "
                f"{o['p99_ms']:.1f} ms; errors {outcome['error_count']}"
            )
        results["server_rss_mib"] = rss_mib(server.process.pid).get("VmRSS")
    rows = []
    for mode, outcome in results["modes"].items():
        p, o, q = outcome["published_to_visible"], outcome["ok_to_visible"], outcome["poll_request"]
        label = "as fast as it can" if mode == "tight" else f"every {args.cadence_ms:.0f} ms"
        ok = p["p99_ms"] <= TARGET_P99_MS and outcome["error_count"] == 0
        rows.append(
            row(
                f"freshness p50 / p99, poller {label}",
                f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f} ms",
                "p99 <= 100 ms",
                f"201->visible {o['p50_ms']:.1f} / {o['p99_ms']:.1f} ms",
                ok,
            )
        )
        rows.append(
            row(
                f"  poll request p50 / p99 ({label})",
                f"{q['p50_ms']:.1f} / {q['p99_ms']:.1f} ms",
                "",
                "",
                None,
            )
        )
    results["rows"] = rows
    results["met"] = all(r["met"] for r in rows if r["met"] is not None)
    print_rows("Poller freshness (bench_freshness.py)", rows)
    path = write_results("freshness", results, args.results)
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
