"""What the API layer counts: requests by route template and status, their latency, rate-limit refusals.

The counters live in this process (prometheus_client's default registry, beside the hook-delivery and
discovery counters of :mod:`registrar.hooks` and :mod:`registrar.services.capabilities`) and are exposed
by ``GET /metrics`` (:mod:`registrar.api.routes.metrics`) with the gauges read from the database.

**Labels are bounded.** A request is labelled with the path template of the route that answered it
(``/resource-servers/api/v1/mcp-servers/{serverId}``), never its URL: ids and junk paths would make a
series each. A request that no route matched (a 404, a redirect to the trailing-slash form) is
``(unmatched)``; methods outside HTTP's usual ones are ``OTHER``.

**Worker processes** (``registrar serve --workers N``) each count their own requests, and a scrape reaches
one of them: so the parent gives the workers one private directory (``PROMETHEUS_MULTIPROC_DIR``, mode
0700, removed when the server stops) and every worker's counters are written to memory-mapped files in it
(prometheus_client's multiprocess mode). Whichever worker answers a scrape sums every worker's files,
those of workers that were replaced included, so the counters are the server's and never go backwards
while it runs. A single process (one worker) counts in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

__all__ = [
    "MULTIPROCESS_DIR",
    "RATE_LIMITED",
    "UNMATCHED",
    "observe_request",
    "own_collectors",
    "route_template",
    "shared_between_workers",
]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "(unmatched)"
_PREFIX = "registrar_"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_REQUESTS = Counter(
    "registrar_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
_DURATION = Histogram(
    "registrar_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
)
RATE_LIMITED = Counter(
    "registrar_rate_limit_rejections",
    "Requests refused with 429 by the per-minute budgets, by caller kind (token, or client address).",
    ["caller"],
)


def _template(route: BaseRoute) -> str | None:
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def _flattened(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """``routes`` with FastAPI's included routers (``original_router``) replaced by their own routes."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flattened(inner.routes)
        else:
            yield route


def route_template(scope: Scope) -> str:
    """The path template of the route that answered ``scope``, else of the first route of the application
    (``scope["app"]``) that matches it (for an answer given before routing: a 429, a 413), else
    ``(unmatched)``."""
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        return _template(route) or UNMATCHED
    routes: Sequence[BaseRoute] = getattr(scope.get("app"), "routes", None) or ()
    for candidate in _flattened(routes):
        match, _ = candidate.matches(scope)
        if match is not Match.NONE:
            return _template(candidate) or UNMATCHED
    return UNMATCHED


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    method = method if method in _METHODS else "OTHER"
    _REQUESTS.labels(method, route, str(status)).inc()
    _DURATION.labels(method, route).observe(seconds)


class _Prefixed(Collector):
    """This process's own metrics from the default registry (not the runtime's ``process_``/``python_``)."""

    def collect(self) -> Iterator[Metric]:
        """The default registry's families named ``registrar_...``."""
        for family in REGISTRY.collect():
            if family.name.startswith(_PREFIX):
                yield family


def own_collectors() -> list[Collector]:
    """What a scrape reports of the counters: every worker's (multiprocess mode), or this process's."""
    if os.environ.get(MULTIPROCESS_DIR):
        # None: it goes into the scrape's registry only, not the default one.
        return [MultiProcessCollector(None)]  # type: ignore[no-untyped-call]
    return [_Prefixed()]


@contextmanager
def shared_between_workers() -> Iterator[str]:
    """A private directory (0700) for the workers' counters, in ``PROMETHEUS_MULTIPROC_DIR`` while the
    block runs (workers started in it inherit it), removed afterwards."""
    directory = tempfile.mkdtemp(prefix="registrar-metrics-")  # mode 0700
    previous = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
        shutil.rmtree(directory, ignore_errors=True)
