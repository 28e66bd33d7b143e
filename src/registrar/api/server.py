"""Running the application under uvicorn with Registrar's wire: the one place ``registrar serve`` is built.

- **Client addresses have one source of truth.** uvicorn's proxy-header handling is off: it would
  rewrite the socket peer and scheme from ``X-Forwarded-*`` of any loopback peer before
  ``REGISTRAR_TRUSTED_PROXIES`` (:mod:`registrar.context.forwarding`) is consulted.
- **Request heads are bounded** by :mod:`registrar.api._wire` (431 / 414 / 408); bodies by the
  application's outermost layer (413, :mod:`registrar.api.limits`).
- **Connections are bounded:** beyond ``REGISTRAR_MAX_CONNECTIONS`` open connections (or running
  requests) uvicorn answers 503; an idle kept-alive connection is closed after 5 seconds; the listen
  backlog is 2048 (the kernel caps it at ``net.core.somaxconn``).
- **Logging** is configured before the application is built, so start-up records are kept too, as text
  or JSON lines (``REGISTRAR_LOG_FORMAT``; with JSON the application writes the access log, with the
  request id and route template, instead of uvicorn).
- **TLS** (``REGISTRAR_TLS_CERT`` / ``REGISTRAR_TLS_KEY``): uvicorn's ssl options. Both files are checked
  before anything starts (both or neither, readable, the key private to its owner like the other key files,
  a certificate the key belongs to), so a mistake is one clear line rather than a traceback per worker.
  TLS 1.2 or later (Python's default), and for TLS 1.2 only forward-secret AEAD suites.
- **Stopping** (SIGTERM, or Ctrl-C): the listening socket closes, idle connections are closed, requests in
  flight get ``REGISTRAR_SHUTDOWN_TIMEOUT_SECONDS`` to finish (then they are cancelled), then the
  application stops its jobs (the hook deliveries and the checkpoint job finish their run; the checkpoint
  job signs a last checkpoint if the log grew since its latest one). A SIGTERM ends the process with
  status 0.
- **Worker processes** (``REGISTRAR_WORKERS`` / ``--workers``): N processes accept on one socket, which
  the parent binds; each builds its own application from the same settings. The parent migrates the
  database and loads (or makes) the sealing key first, so N processes never race to do either; a worker
  then finds the schema current. Everything above holds in every worker: the workers get the same uvicorn
  configuration, and each makes its protocol class from the same :class:`WireLimits`.
"""

from __future__ import annotations

import logging
import signal
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from registrar.config import Settings

from ._logging import configure_logging
from ._metrics import shared_between_workers
from ._wire import WireLimits, bounded_protocol

__all__ = ["TlsRefused", "run_server", "tls_options"]

log = logging.getLogger(__name__)

_KEEP_ALIVE_SECONDS = 5
_BACKLOG = 2048
# A worker that does not answer the parent's ping within this long is replaced. uvicorn's 5 s is shorter
# than a worker's start on a busy host (the ping is answered only once the worker has imported the
# application's modules), which would have workers replaced before they ever served.
_WORKER_PING_SECONDS = 30
# For TLS 1.2 clients (TLS 1.3 suites are all AEAD and set apart); uvicorn's default, "TLSv1", would allow
# CBC suites without forward secrecy.
_TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


class TlsRefused(ValueError):
    """The TLS settings cannot be used; the message says what to change."""


def _readable(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsRefused(f"cannot read the TLS {what} file {path}: {error.strerror or error}") from None


def tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's ssl options for ``settings`` (none without TLS); raises :class:`TlsRefused`."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        raise TlsRefused(
            f"{given} was given without {missing}: HTTPS needs both the certificate and its private key "
            "(REGISTRAR_TLS_CERT and REGISTRAR_TLS_KEY)"
        )
    _readable(cert, "certificate")
    _readable(key, "key")
    mode = key.stat().st_mode & 0o777
    if mode & 0o077:
        raise TlsRefused(
            f"the TLS key file {key} has mode {mode:04o}: group or others may read or write it, so the key "
            f"may already be known to someone else. Run `chmod 600 {key}` before starting Registrar."
        )
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as error:
        raise TlsRefused(
            f"cannot use the TLS certificate {cert} with the key {key}: {error} (both must be PEM, the key "
            "unencrypted and the certificate's own)"
        ) from None
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key), "ssl_ciphers": _TLS12_CIPHERS}


def _exit_quietly_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    """The SIGTERM handler outside uvicorn's (a single process): uvicorn raises the signal again once it
    has shut down, and a stop that was asked for is a success (status 0), not a death by signal. With
    workers, uvicorn's supervisor handles the parent's signals and returns once the workers stopped."""


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

        configure_logging(self.settings.log_level, self.settings.log_format)
        try:
            return create_app(self.settings)
        except Exception:
            # uvicorn replaces a worker that dies, but stops the server when one exits with this status:
            # a worker that cannot build its application would fail the same way on every restart.
            log.exception("worker could not start")
            raise SystemExit(STARTUP_FAILURE) from None


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve the application for ``settings`` on ``host:port`` until interrupted (or SIGTERM).

    Raises :class:`TlsRefused` before anything starts when the TLS files cannot be used.
    """
    tls = tls_options(settings)
    configure_logging(settings.log_level, settings.log_format)
    limits = WireLimits(settings.max_header_bytes, settings.header_timeout_seconds)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "ws": "none",
        "proxy_headers": False,
        "date_header": False,  # the application stamps Date itself, next to the rate-limit reset
        "server_header": False,
        "log_config": None,  # configured above (and by each worker's factory)
        # JSON lines: the application writes the access log (registrar.api.middleware), with the request id.
        "access_log": settings.log_format != "json",
        "limit_concurrency": settings.max_connections,
        "backlog": _BACKLOG,
        "timeout_keep_alive": _KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        **tls,
    }
    if settings.workers == 1:
        from .app import create_app

        config = _Config(create_app(settings), limits=limits, workers=1, **options)
        server = uvicorn.Server(config)
        # Only now: a SIGTERM while the application is being built still ends the process at once.
        signal.signal(signal.SIGTERM, _exit_quietly_on_sigterm)
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    _prepare_store(settings)
    with shared_between_workers():
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
