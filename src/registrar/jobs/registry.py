"""The jobs a server process runs, built from its dependencies."""

from __future__ import annotations

from collections.abc import Callable

from registrar.hooks import DeliveryPolicy, HookDelivery
from registrar.integrity.service import checkpoint_now, purge_now
from registrar.services.deps import Deps

from .mcp_refresh import refresh_due_servers
from .scheduler import Job
from .tlog_checkpoints import checkpoint_tree

__all__ = ["build_jobs"]


def build_jobs(deps: Deps) -> list[Job]:
    """Every periodic job of this installation, configured from ``deps.settings``."""
    settings = deps.settings

    def checkpoint() -> None:
        # Skipped when another replica signed within the interval: N replicas sign about once per interval.
        checkpoint_now(
            deps.engine, settings, deps.org_id, min_interval_s=settings.checkpoint_interval_seconds * 0.9
        )

    def tree_checkpoint() -> None:
        checkpoint_tree(deps.engine, settings, deps.org_id)

    def retention() -> None:
        purge_now(deps.engine, settings, deps.org_id)

    def refresh() -> None:
        refresh_due_servers(deps, settings.mcp_refresh_seconds)

    jobs: list[Job] = [
        Job("checkpoint", settings.checkpoint_interval_seconds, checkpoint),
        Job("purge", settings.purge_interval_seconds, retention, delay=30),
        # Within REGISTRAR_TLOG_CHECKPOINT_SECONDS of the log growing, and once more when the server stops.
        Job("tlog-checkpoint", settings.tlog_checkpoint_seconds, tree_checkpoint, at_stop=tree_checkpoint),
        *_delivery_jobs(deps),
    ]
    if settings.mcp_refresh_seconds > 0:
        # Look for due servers every minute (or more often for short intervals); claims pace each server.
        jobs.append(Job("mcp-refresh", min(60.0, settings.mcp_refresh_seconds), refresh, delay=5))
    return jobs


def _delivery_jobs(deps: Deps) -> list[Job]:
    """The jobs delivering events to hooks: ``REGISTRAR_HOOK_CONCURRENCY`` workers.

    Each worker is one scheduler thread with its own HTTP client, running every
    ``REGISTRAR_HOOK_POLL_SECONDS``; the database claims share the hooks among them (and among replicas).
    """
    policy = DeliveryPolicy.from_settings(deps.settings)
    deliveries = [HookDelivery(deps) for _ in range(policy.concurrency)]
    # Each worker's HTTP client (its pooled connections to receivers) is closed when the scheduler stops.
    return [
        Job(f"hook-delivery-{number}", policy.poll_seconds, _runner(delivery), at_stop=delivery.close)
        for number, delivery in enumerate(deliveries)
    ]


def _runner(delivery: HookDelivery) -> Callable[[], None]:
    def run() -> None:
        delivery.run()

    return run
