"""What the commands that work on the database directly (``tokens``, ``service-apps``) share: their usage
errors, their timestamps and the operator an event's ``debugContext`` credits with a change."""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime
from typing import Any

import typer

from registrar.ids import format_timestamp

from .client import ExitCode

__all__ = ["fail", "ms_timestamp", "operator"]


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``typer.Exit`` to raise with ``code``."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def ms_timestamp(ms: int | None) -> str | None:
    """Epoch milliseconds in Okta's timestamp form (None stays None)."""
    return None if ms is None else format_timestamp(datetime.fromtimestamp(ms / 1000, tz=UTC))


def operator(command: str) -> dict[str, Any]:
    """Where a CLI change came from: the command (``tokens create``), the operating-system account and
    the host."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        account = None
    return {"command": f"registrar {command}", "osUser": account, "host": socket.gethostname()}
