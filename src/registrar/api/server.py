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
"""

from __future__ import annotations

from fastapi import FastAPI

from registrar.config import Settings

from ._logging import configure_logging
from ._wire import WireLimits, bounded_protocol

__all__ = ["run_server"]

_KEEP_ALIVE_SECONDS = 5
_BACKLOG = 2048


def run_server(settings: Settings, *, host: str, port: int) -> None:
    """Serve the application for ``settings`` on ``host:port`` until interrupted."""
    import uvicorn

    from .app import create_app

    configure_logging(settings.log_level)
    app: FastAPI = create_app(settings)
    limits = WireLimits(settings.max_header_bytes, settings.header_timeout_seconds)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=bounded_protocol(limits),
        ws="none",
        proxy_headers=False,
        date_header=False,  # the application stamps Date itself, next to the rate-limit reset
        server_header=False,
        log_config=None,  # configured above
        limit_concurrency=settings.max_connections,
        backlog=_BACKLOG,
        timeout_keep_alive=_KEEP_ALIVE_SECONDS,
    )
