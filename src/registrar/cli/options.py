"""The options every HTTP command shares, the one place a failure becomes an exit code, and secret input."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from .client import DEFAULT_URL, CliError, ExitCode, RegistrarClient
from .output import err_console

__all__ = [
    "DEFAULT_URL",
    "AllOption",
    "JsonOption",
    "LimitOption",
    "TokenOption",
    "UrlOption",
    "connect",
    "fail",
    "read_secret",
    "usage",
]

_CONNECTION = "Connection"

UrlOption = Annotated[
    str,
    typer.Option("--url", envvar="REGISTRAR_URL", help="The Registrar server.", rich_help_panel=_CONNECTION),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="REGISTRAR_TOKEN",
        help="API token (prefer REGISTRAR_TOKEN: a flag's value stays in your shell history).",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the server's JSON (one document) instead of a table.")
]
AllOption = Annotated[bool, typer.Option("--all", help="Follow the next links to the end of the list.")]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, max=200, help="Items per page (the server's default: 20).")
]


def fail(error: CliError) -> typer.Exit:
    """Print ``error`` as one line on stderr; the ``typer.Exit`` to raise with its exit code."""
    label, _, rest = error.line.partition(":")
    err_console().print(Text.assemble((label, "bold red"), ":" if rest else "", rest))
    return typer.Exit(int(error.exit_code))


def usage(message: str) -> typer.Exit:
    """Print a usage error (exit code 2, as Typer's own) as one line on stderr."""
    return fail(CliError(f"error: {message}", ExitCode.USAGE))


@contextmanager
def connect(url: str, token: str | None) -> Iterator[RegistrarClient]:
    """A client for the server; any :class:`CliError` inside the block ends the command with its code."""
    try:
        if not token:
            raise CliError(
                "error: no API token: set REGISTRAR_TOKEN (or pass --token); "
                "`registrar tokens create` makes one",
                ExitCode.AUTHENTICATION,
            )
        with RegistrarClient(url, token) as client:
            yield client
    except CliError as error:
        raise fail(error) from None


def read_secret(source: str | None, what: str) -> str:
    """A secret from a file (``-``: stdin), else from a hidden prompt on a terminal, else from stdin.

    Never from a plain option value, which would stay in the shell history; never echoed.
    """
    if source is not None and source != "-":
        try:
            text = Path(source).read_text()
        except OSError as error:
            raise CliError(
                f"error: cannot read the {what}: {error.strerror}: {source}", ExitCode.USAGE
            ) from None
    elif source is None and sys.stdin.isatty():
        text = typer.prompt(what.capitalize(), hide_input=True, confirmation_prompt=True, err=True)
    else:
        text = sys.stdin.read()
    secret = text.rstrip("\r\n")
    if not secret:
        raise CliError(f"error: the {what} is empty", ExitCode.USAGE)
    return secret
