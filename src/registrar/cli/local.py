"""What the commands that work on the database directly (``tokens``, ``service-apps``) share: their usage
errors and the operator an event's ``debugContext`` credits with a change."""

from __future__ import annotations

import getpass
import socket
from typing import Any

import typer

from .client import ExitCode

__all__ = ["fail", "operator"]


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``typer.Exit`` to raise with ``code``."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def operator(command: str) -> dict[str, Any]:
    """Where a CLI change came from: the command (``tokens create``), the operating-system account and
    the host."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        account = None
    return {"command": f"registrar {command}", "osUser": account, "host": socket.gethostname()}
