"""``registrar users``: console users' maintenance, on the database directly."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .database import database

__all__ = ["users"]

users = typer.Typer(no_args_is_help=True, help="Console users.")


def _read_password() -> str:
    """From a hidden prompt (asked twice) on a terminal; else the first line of standard input."""
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@users.command("set-password")
def users_set_password(
    user: Annotated[str, typer.Option("--user", help="Email of the user (created if new).")],
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="The display name of a new user.")
    ] = None,
) -> None:
    """Set a user's console password, read from a prompt or standard input; ends their open sessions."""
    # Imported here: the console package loads every page's code (0.8 s), which no other command needs.
    from registrar.console import end_user_sessions, password_problem, set_password

    if "@" not in user:
        typer.echo("error: --user must be an email address", err=True)
        raise typer.Exit(2)
    password = _read_password()
    problem = password_problem(password)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    with database() as engine, engine.begin() as conn:
        owner = set_password(conn, user, password, display_name)
        ended = end_user_sessions(conn, owner.id)
    suffix = f"; {ended} console session(s) ended" if ended else ""
    typer.echo(f"password set for {owner.email} ({owner.id}){suffix}", err=True)
