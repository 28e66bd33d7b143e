"""``GET /metrics``: Prometheus text (``registrar_`` prefix), read from the database at scrape time.

For now it holds the transparency log's health: the tree size, the latest checkpoint's size and age, and
each witness's lag and whether its last attempt failed, so an alert can fire on a witness that stopped
cosigning or a checkpoint job that stopped signing. The figures describe the log's activity, so reading them
takes a token with ``okta.logs.read`` (Prometheus sends it as ``Authorization: Bearer``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.concurrency import run_in_threadpool

from registrar.jobs.tlog_checkpoints import wall_clock_ms
from registrar.services.deps import Deps
from registrar.tlog import latest_checkpoint, tree_size, witness_status

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


def _registry(deps: Deps) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TransparencyLog(deps))
    return registry


@router.get("/metrics")
async def metrics(deps: ServiceDeps, token: CurrentToken) -> Response:
    """The Prometheus text exposition of Registrar's gauges."""
    require_scope(token, "okta.logs.read")
    body = await run_in_threadpool(generate_latest, _registry(deps))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-cache"})
