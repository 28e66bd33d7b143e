"""``registrar``: run the server and the maintenance commands that work on the database directly.

The registry and System Log commands talk to a running server over HTTP (:mod:`registrar.cli.registry`);
their exit codes are documented in :mod:`registrar.cli.client` and in ``registrar --help``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Literal

import typer

from registrar.config import Settings
from registrar.datadir import InsecureKeyFile

from . import integrity, registry
from .database import database
from .keys import keys
from .logs import logs
from .service_apps import service_apps
from .tokens import tokens
from .users import users

__all__ = ["app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Registrar: audited registry of API, MCP, A2A and virtual MCP servers.",
    epilog=registry.EXIT_CODES_HELP,
    # A traceback with local variables would print settings, keys and tokens to the terminal.
    pretty_exceptions_show_locals=False,
)
app.add_typer(tokens, name="tokens")
app.add_typer(service_apps, name="service-apps")
integrity.register(app)
app.add_typer(keys, name="keys")
app.add_typer(logs, name="logs")
registry.register(app, logs)
app.add_typer(users, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes sharing the port (default REGISTRAR_WORKERS, else 1).",
            show_default=False,
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            help="Serve HTTPS with this PEM certificate (chain) and --tls-key (default REGISTRAR_TLS_CERT).",
            show_default=False,
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            help="The certificate's PEM private key, mode 0600 (default REGISTRAR_TLS_KEY).",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        Literal["text", "json"] | None,
        typer.Option(
            help="Log lines as text or one JSON object each (default REGISTRAR_LOG_FORMAT, else text).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the HTTP server (the database is migrated on start, once)."""
    from registrar.api.server import TlsRefused, run_server

    settings = Settings.from_env()
    if workers is not None:
        settings = replace(settings, workers=workers)
    if tls_cert is not None:
        settings = replace(settings, tls_cert=tls_cert)
    if tls_key is not None:
        settings = replace(settings, tls_key=tls_key)
    if log_format is not None:
        settings = replace(settings, log_format=log_format)
    try:
        run_server(settings, host=host, port=port)
    except TlsRefused as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None


@app.command()
def migrate_db() -> None:
    """Apply database migrations and exit."""
    with database():  # opening it migrates it
        pass
    typer.echo("database is up to date", err=True)


def main() -> None:
    """Entry point of the ``registrar`` console script."""
    try:
        app()
    except InsecureKeyFile as error:
        # Said plainly: a traceback would bury the fix (and a rich one prints locals, settings included).
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
