"""``GET /healthz`` and ``GET /readyz``: the probes of a load balancer or an orchestrator.

- ``/healthz``: the process is alive and answers HTTP. It touches nothing else (no database, no token).
- ``/readyz``: this process can serve: the database answers a query, its schema is at the newest
  migration this code knows (Alembic's current revision against the scripts' head), and, when the process
  runs the background jobs (``REGISTRAR_JOBS``), every job's thread is alive. 200 when all hold, else 503;
  the body names each check with a boolean, and the failing ones in ``failed``.

Neither needs a token, so neither says more than those booleans: no versions, revisions, hosts or error
text (the reason a check failed is logged, once per change). Neither writes an event, and neither spends
a rate-limit budget (:mod:`registrar.api.middleware`); the database part of ``/readyz`` is computed at
most once a second per process, so probing it faster costs the database nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from registrar.jobs import Scheduler

__all__ = ["Readiness", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["Operations"])

_NO_STORE = {"Cache-Control": "no-store"}
_CACHE_SECONDS = 1.0


@cache
def _head_revisions() -> frozenset[str]:
    """The newest migration revisions of this code (read from the scripts once per process)."""
    scripts = ScriptDirectory(str(files("registrar.store").joinpath("migrations")))
    return frozenset(scripts.get_heads())


def _current_revisions(engine: Engine) -> frozenset[str]:
    """The revisions in Alembic's table (read as Alembic does; its MigrationContext logs two lines a call);
    none when the table is missing but the database answers. Raises when the database does not answer."""
    try:
        with engine.connect().execution_options(sqlite_immediate=False) as conn:
            return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError:
        with engine.connect().execution_options(sqlite_immediate=False) as conn:
            conn.execute(text("SELECT 1"))
        return frozenset()


@dataclass(frozen=True, slots=True)
class _Store:
    database: bool
    migrations: bool


class Readiness:
    """The checks behind ``/readyz``: the store's (cached for a second) and the scheduler's."""

    def __init__(
        self, engine: Engine, scheduler: Scheduler, *, jobs: bool, cache_seconds: float = _CACHE_SECONDS
    ):
        self.engine = engine
        self.scheduler = scheduler
        self.jobs = jobs
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._store: tuple[float, _Store] | None = None
        self._ready: bool | None = None

    def _check_store(self) -> _Store:
        try:
            current = _current_revisions(self.engine)
        except Exception as error:  # noqa: BLE001 - whatever it is, the database does not answer
            self._log_change(False, f"the database does not answer: {error.__class__.__name__}: {error}")
            return _Store(database=False, migrations=False)
        if current != _head_revisions():
            found, wanted = ", ".join(sorted(current)) or "none", ", ".join(sorted(_head_revisions()))
            self._log_change(False, f"the database schema is at revision {found}, this code needs {wanted}")
            return _Store(database=True, migrations=False)
        return _Store(database=True, migrations=True)

    def store(self) -> _Store:
        """The store's checks, run again when the last result is older than ``cache_seconds``."""
        with self._lock:
            cached = self._store
            if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
            result = self._check_store()
            self._store = (time.monotonic(), result)
            return result

    def report(self) -> tuple[bool, dict[str, Any]]:
        """Whether the process is ready, and the ``/readyz`` body."""
        store = self.store()
        checks = {"database": store.database, "migrations": store.migrations}
        if self.jobs:
            checks["jobs"] = self.scheduler.running()
            if not checks["jobs"]:
                self._log_change(False, "a background job's thread is not running")
        failed = [name for name, ok in checks.items() if not ok]
        if not failed:
            self._log_change(True, "ready")
        return not failed, {
            "status": "unavailable" if failed else "ready",
            "checks": checks,
            **({"failed": failed} if failed else {}),
        }

    def _log_change(self, ready: bool, why: str) -> None:
        if ready == self._ready:
            return
        self._ready = ready
        if ready:
            log.info("readiness: ready")
        else:
            log.warning("readiness: not ready: %s", why)


_READY_EXAMPLE = {"status": "ready", "checks": {"database": True, "migrations": True, "jobs": True}}
_UNAVAILABLE_EXAMPLE = {
    "status": "unavailable",
    "checks": {"database": True, "migrations": False, "jobs": True},
    "failed": ["migrations"],
}


@router.get("/healthz", response_model=None)
async def healthz() -> JSONResponse:
    """The process is alive (no database, no token)."""
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"description": "Ready", "content": {"application/json": {"example": _READY_EXAMPLE}}},
        503: {
            "description": "Not ready: the failing checks",
            "content": {"application/json": {"example": _UNAVAILABLE_EXAMPLE}},
        },
    },
)
async def readyz(request: Request) -> JSONResponse:
    """The process can serve: database answering, schema current, jobs running (no token)."""
    readiness: Readiness = request.app.state.readiness
    ready, body = await run_in_threadpool(readiness.report)
    return JSONResponse(body, status_code=200 if ready else 503, headers=_NO_STORE)
