"""Running the application under uvicorn with Registrar's wire: the one place ``registrar serve`` is built.

- **Client addresses have one source of truth.** uvicorn's proxy-header handling is off: it would
  rewrite the socket peer and scheme from ``X-Forwarded-*`` of any loopback peer before
  ``REGISTRAR_TRUSTED_PROXIES`` (:mod:`registrar.context.forwarding`) is consulted.
- **Request heads are bounded** by :mod:`registrar.api._wire` (431 / 414 / 408); bodies by the
  application's outermost layer (413, :mod:`registrar.api.limits`).
- **Connections are bounded:** beyond ``REGISTRAR_MAX_CONNECTIONS`` open connections (or running
  requests) uvicorn answers 503; an idle kept-alive connection is closed after 5 seconds; the listen
  backlog is 2048 (the kernel caps it at ``net.core.somaxconn``).
- **Logging** is configured before the application is built, so start-up records are kept too.
- **Worker processes** (``REGISTRAR_WORKERS`` / ``--workers``): N processes accept on one socket, which
  the parent binds; each builds its own application from the same settings. The parent migrates the
  database and loads (or makes) the sealing key first, so N processes never race to do either; a worker
  then finds the schema current. Everything above holds in every worker: the workers get the same uvicorn
  configuration, and each makes its protocol class from the same :class:`WireLimits`.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from registrar.config import Settings

from ._logging import configure_logging
from ._wire import WireLimits, bounded_protocol

__all__ = ["run_server"]

log = logging.getLogger(__name__)

_KEEP_ALIVE_SECONDS = 5
_BACKLOG = 2048
# A worker that does not answer the parent's ping within this long is replaced. uvicorn's 5 s is shorter
# than a worker's start on a busy host (the ping is answered only once the worker has imported the
# application's modules), which would have workers replaced before they ever served.
_WORKER_PING_SECONDS = 30


class _Config(uvicorn.Config):
    """uvicorn's configuration, serving with the bounded httptools protocol of ``limits``.

    A worker process receives its configuration pickled, and a class made at run time does not pickle:
    the limits travel instead, and each process makes its protocol class from them when uvicorn loads the
    configuration there.
    """

    def __init__(self, app: Any, *, limits: WireLimits, **options: Any) -> None:
        super().__init__(app, http="httptools", **options)
        self.limits = limits

    def load(self) -> None:
        """Load as uvicorn does, then put the bounded protocol in place of plain httptools."""
        super().load()
        self.http_protocol_class = bounded_protocol(self.limits)


@dataclass(frozen=True, slots=True)
class _WorkerApp:
    """The application factory a worker process calls (uvicorn's ``factory=True``); pickled to it."""

    settings: Settings

    def __call__(self) -> FastAPI:
        """This worker's logging and application; a worker that cannot start stops the whole server."""
        from .app import create_app

        configure_logging(self.settings.log_level)
        try:
            return create_app(self.settings)
        except Exception:
            # uvicorn replaces a worker that dies, but stops the server when one exits with this status:
            # a worker that cannot build its application would fail the same way on every restart.
            log.exception("worker could not start")
            raise SystemExit(STARTUP_FAILURE) from None


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve the application for ``settings`` on ``host:port`` until interrupted (or SIGTERM)."""
    configure_logging(settings.log_level)
    limits = WireLimits(settings.max_header_bytes, settings.header_timeout_seconds)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "ws": "none",
        "proxy_headers": False,
        "date_header": False,  # the application stamps Date itself, next to the rate-limit reset
        "server_header": False,
        "log_config": None,  # configured above (and by each worker's factory)
        "limit_concurrency": settings.max_connections,
        "backlog": _BACKLOG,
        "timeout_keep_alive": _KEEP_ALIVE_SECONDS,
    }
    if settings.workers == 1:
        from .app import create_app

        config = _Config(create_app(settings), limits=limits, workers=1, **options)
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    _prepare_store(settings)
    config = _Config(
        _WorkerApp(settings),
        limits=limits,
        factory=True,
        workers=settings.workers,
        timeout_worker_healthcheck=_WORKER_PING_SECONDS,
        **options,
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)


def _prepare_store(settings: Settings) -> None:
    """Migrate the database and load (or make) the sealing key, once, before any worker starts."""
    from registrar.crypto import load_key
    from registrar.store.database import create_database_engine, migrate

    engine = create_database_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        wait_seconds=settings.db_wait_seconds,
    )
    try:
        migrate(engine)
    finally:
        engine.dispose()
    load_key(settings.secret_key, settings.secret_key_file)
