"""``GET /metrics``: Prometheus text (``registrar_`` prefix).

Two sources:

- **Read from the database at scrape time**, the same from every worker and replica: the transparency log's
  health (tree size, the latest checkpoint's size and age, each witness's lag and whether its last attempt
  failed), the log itself (events appended since it began, events it holds now by ``outcome.result``, its
  size), and each delivering event hook's backlog, failure streak and pause.
- **Counted by the server processes** (:mod:`registrar.api._metrics`): requests by route template and
  status with their latency, rate-limit refusals, hook deliveries and tool discoveries by outcome; with
  ``--workers N``, summed over the workers.

The figures describe the log's activity, so reading them takes a token with ``okta.logs.read``
(Prometheus sends it as ``Authorization: Bearer``).
"""

from __future__ import annotations

import math
import threading
from collections import Counter as Tally
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Connection, func, select
from starlette.concurrency import run_in_threadpool

from registrar.hooks import HookStatus, VerificationStatus
from registrar.jobs.tlog_checkpoints import wall_clock_ms
from registrar.services.deps import Deps
from registrar.store.schema import event_hook_deliveries, event_hooks, log_events, log_head
from registrar.tlog import latest_checkpoint, tree_size, witness_status

from .._metrics import own_collectors
from ..deps import CurrentToken, ServiceDeps
from ..security import require_scope

__all__ = ["router"]

router = APIRouter(tags=["Operations"])


def _value(number: float | None) -> float:
    return math.nan if number is None else float(number)


class _TransparencyLog(Collector):
    """The tree, its latest checkpoint and the witnesses, as gauges."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def collect(self) -> Iterator[Metric]:
        now_ms = wall_clock_ms()
        with self.deps.engine.connect().execution_options(sqlite_immediate=False) as conn:
            size = tree_size(conn)
            latest = latest_checkpoint(conn)
        yield GaugeMetricFamily("registrar_tlog_tree_size", "Leaves (events) in the log's Merkle tree.", size)
        yield GaugeMetricFamily(
            "registrar_tlog_checkpoint_size",
            "Tree size of the latest signed checkpoint.",
            0 if latest is None else latest.size,
        )
        yield GaugeMetricFamily(
            "registrar_tlog_checkpoint_age_seconds",
            "Seconds since the latest checkpoint was signed or re-signed (NaN: none yet).",
            math.nan if latest is None else max(0, now_ms - latest.created_ms) / 1000,
        )
        lag = GaugeMetricFamily(
            "registrar_tlog_witness_lag_entries",
            "Entries of the latest checkpoint the witness has not cosigned (NaN: no checkpoint yet).",
            labels=["witness"],
        )
        behind = GaugeMetricFamily(
            "registrar_tlog_witness_lag_seconds",
            "While behind: seconds since the witness last cosigned (0 when up to date, NaN: never).",
            labels=["witness"],
        )
        failing = GaugeMetricFamily(
            "registrar_tlog_witness_failing",
            "1 when the witness's last attempt failed, else 0.",
            labels=["witness"],
        )
        for status in witness_status(self.deps.settings, self.deps.engine, now_ms):
            lag.add_metric([status.name], _value(status.lag_entries))
            behind.add_metric([status.name], _value(status.lag_seconds))
            failing.add_metric([status.name], 0 if status.last_error is None else 1)
        yield from (lag, behind, failing)


class OutcomeTally:
    """The log's events by ``outcome.result``, kept up to date from the sequence numbers added since the
    last scrape (the whole log is counted only on the first scrape and after a retention purge)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first_seq = 0
        self._last_seq = 0
        self._counts: Tally[str] = Tally()

    def update(self, conn: Connection, first_seq: int, head_seq: int) -> dict[str, int]:
        """The counts for the log from ``first_seq`` to ``head_seq`` (read in the same snapshot)."""
        with self._lock:
            if first_seq != self._first_seq or head_seq < self._last_seq:  # purged, or another log
                self._first_seq, self._last_seq, self._counts = first_seq, first_seq - 1, Tally()
            if head_seq > self._last_seq:
                outcome = log_events.c.outcome_result
                rows = conn.execute(
                    select(outcome, func.count())
                    .where(log_events.c.seq > self._last_seq, log_events.c.seq <= head_seq)
                    .group_by(outcome)
                )
                self._counts.update({str(name): int(count) for name, count in rows})
                self._last_seq = head_seq
            return dict(self._counts)


class _Log(Collector):
    """The event log: events appended since it began, events it holds by outcome, its size."""

    def __init__(self, deps: Deps, tally: OutcomeTally):
        self.deps = deps
        self.tally = tally

    def collect(self) -> Iterator[Metric]:
        with self.deps.engine.connect().execution_options(sqlite_immediate=False) as conn, conn.begin():
            head = conn.execute(select(log_head.c.seq, log_head.c.first_seq)).one()
            seq, first_seq = int(head.seq), int(head.first_seq)
            outcomes = self.tally.update(conn, first_seq, seq)
        yield CounterMetricFamily(
            "registrar_events_appended",
            "Events appended to the log since it began (the log head's sequence number), by every process.",
            seq,
        )
        held = GaugeMetricFamily(
            "registrar_log_events",
            "Events the log holds now (after retention purges), by outcome.result.",
            labels=["outcome"],
        )
        for outcome, count in sorted(outcomes.items()):
            held.add_metric([outcome], count)
        yield held
        yield GaugeMetricFamily(
            "registrar_log_size_events",
            "Events the log holds now (after retention purges).",
            max(0, seq - first_seq + 1),
        )


class _Hooks(Collector):
    """Each delivering event hook (ACTIVE and VERIFIED): its backlog, failure streak and pause."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def collect(self) -> Iterator[Metric]:
        d, h = event_hook_deliveries.c, event_hooks.c
        with self.deps.engine.connect().execution_options(sqlite_immediate=False) as conn, conn.begin():
            head = int(conn.execute(select(log_head.c.seq)).scalar_one())
            rows = conn.execute(
                select(d.hook_id, d.cursor_seq, d.consecutive_failures, d.paused_ms)
                .select_from(event_hook_deliveries.join(event_hooks, h.id == d.hook_id))
                .where(h.status == HookStatus.ACTIVE, h.verification_status == VerificationStatus.VERIFIED)
                .order_by(d.hook_id)
            ).all()
        backlog = GaugeMetricFamily(
            "registrar_hook_backlog_events",
            "Log entries after the hook's position: not yet delivered (or passed over as of other types).",
            labels=["hook"],
        )
        failures = GaugeMetricFamily(
            "registrar_hook_consecutive_failures",
            "Failed deliveries since the hook's last success.",
            labels=["hook"],
        )
        paused = GaugeMetricFamily(
            "registrar_hook_paused",
            "1 when the hook was paused for failing too long, else 0.",
            labels=["hook"],
        )
        for row in rows:
            backlog.add_metric([row.hook_id], max(0, head - int(row.cursor_seq)))
            failures.add_metric([row.hook_id], int(row.consecutive_failures))
            paused.add_metric([row.hook_id], 0 if row.paused_ms is None else 1)
        yield from (backlog, failures, paused)


def _registry(deps: Deps, tally: OutcomeTally) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for collector in (*own_collectors(), _TransparencyLog(deps), _Log(deps, tally), _Hooks(deps)):
        registry.register(collector)
    return registry


def _tally(request: Request) -> OutcomeTally:
    """This application's tally (made on its first scrape; no await between the look and the set)."""
    state = request.app.state
    tally: OutcomeTally | None = getattr(state, "log_outcomes", None)
    if tally is None:
        tally = state.log_outcomes = OutcomeTally()
    return tally


@router.get("/metrics")
async def metrics(request: Request, deps: ServiceDeps, token: CurrentToken) -> Response:
    """The Prometheus text exposition of Registrar's metrics."""
    require_scope(token, "okta.logs.read")
    body = await run_in_threadpool(generate_latest, _registry(deps, _tally(request)))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-cache"})
