"""``registrar tokens``: create, list and revoke API tokens, on the database directly.

Creating and revoking a token are audited (Okta's ``system.api_token.create`` / ``.revoke``, in the same
transaction as the change). The CLI has no authenticated user, only whoever can reach the database, so the
actor is the system principal with ``transaction.type`` JOB, as for any job, and ``debugData`` names the
operating-system account and host the command ran from: an investigator learns where the change came
from, and no user is credited with an act that was not authenticated as theirs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
import typer

from registrar.context import job_context
from registrar.events.catalog import API_TOKEN_CREATE, API_TOKEN_REVOKE, Target, token_target, user_target
from registrar.ids import format_ms, new_request_id, utcnow
from registrar.store.tokens import (
    ALL_SCOPES,
    TokenRecord,
    announce_revocation,
    create_token,
    ensure_user,
    get_token,
    list_tokens,
    revoke_token,
)
from registrar.store.uow import unit_of_work
from registrar.syslog.timeparse import parse_timestamp

from .client import ExitCode
from .database import database
from .local import fail, operator
from .output import Column, listing, out_console, print_document

__all__ = ["parse_expiry", "tokens"]

tokens = typer.Typer(no_args_is_help=True, help="API tokens (on the database directly).")

_DURATION = re.compile(r"(\d{1,6})([wdhm])")
_DURATIONS = re.compile(r"(?:\d{1,6}[wdhm])+")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_MAX_NAME = 255  # the columns' lengths
_MAX_EMAIL = 320

COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("USER", "user.email"),
    Column("NAME", "name"),
    Column("SCOPES", "scopes"),
    Column("CREATED", "created", no_wrap=True),
    Column("LAST USED", "lastUsed", no_wrap=True),
    Column("EXPIRES", "expiresAt", no_wrap=True),
)


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """``30d``, ``12h``, ``1w2d``, ``90m`` from ``now``, or an ISO 8601 time (a date is its midnight UTC).

    None when ``text`` is neither, or names a moment that is not in the future.
    """
    text = text.strip()
    moment: datetime | None
    if _DURATIONS.fullmatch(text):
        delta = timedelta()
        try:
            for amount, unit in _DURATION.findall(text):
                delta += timedelta(**{_UNITS[unit]: int(amount)})
            moment = now + delta
        except OverflowError:  # past the year 9999
            return None
    else:
        moment = parse_timestamp(text)
    return moment if moment is not None and moment > now else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _targets(record: TokenRecord) -> list[Target]:
    """The token, then its owner."""
    owner = record.user
    return [
        token_target(record.id, record.name, record.scopes, format_ms(record.expires_ms), owner.id),
        user_target(owner.id, owner.email, owner.display_name),
    ]


def _document(record: TokenRecord, now_ms: int) -> dict[str, Any]:
    """A token as ``tokens list --json`` prints it (camelCase, Okta's timestamp form)."""
    user = record.user
    return {
        "id": record.id,
        "name": record.name,
        "user": {"id": user.id, "email": user.email, "displayName": user.display_name},
        "scopes": sorted(record.scopes),
        "status": record.status(now_ms),
        "created": format_ms(record.created_ms),
        "lastUsed": format_ms(record.last_used_ms),
        "expiresAt": format_ms(record.expires_ms),
        "revoked": format_ms(record.revoked_ms),
    }


def _check_text(option: str, value: str, limit: int) -> None:
    """Refuse an empty, overlong or control-character-bearing option value (it goes into events)."""
    if not value.strip() or len(value) > limit:
        raise fail(f"{option} must be 1 to {limit} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise fail(f"{option} must not contain control characters")


@tokens.command("create")
def tokens_create(
    user: Annotated[str, typer.Option("--user", help="Email of the user the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="A name for the token.")] = "registrar",
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="The user's display name.")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to grant (repeatable); default all.")
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            help="Expiry: a duration (30d, 12h, 1w2d, 90m) or an ISO 8601 time; default never.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create an API token and print it, alone, on stdout (it is not shown again)."""
    _check_text("--user", user, _MAX_EMAIL)
    if "@" not in user:
        raise fail("--user must be an email address")
    _check_text("--name", name, _MAX_NAME)
    if display_name is not None:
        _check_text("--display-name", display_name, _MAX_NAME)
    scopes = scope or list(ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise fail(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    expires_at = None
    if expires is not None:
        expires_at = parse_expiry(expires, utcnow())
        if expires_at is None:
            raise fail(
                f"--expires must be a duration (30d, 12h, 90m) or a future ISO 8601 time, not {expires!r}"
            )
    with database() as engine, unit_of_work(engine, job_context(new_request_id())) as uow:
        owner = ensure_user(uow.conn, user, display_name)
        token, secret = create_token(
            uow.conn, owner, name, scopes, expires_ms=None if expires_at is None else _ms(expires_at)
        )
        record = get_token(uow.conn, token.id)
        assert record is not None  # just inserted, same transaction
        uow.record(API_TOKEN_CREATE, _targets(record), debug=operator("tokens create"))
    until = f", expires {format_ms(record.expires_ms)}" if record.expires_ms is not None else ""
    typer.echo(
        f"created token {token.id} for {owner.email} with scopes: {' '.join(sorted(token.scopes))}{until}",
        err=True,
    )
    typer.echo(secret)


@tokens.command("list")
def tokens_list(
    as_json: Annotated[
        bool, typer.Option("--json", help='Print JSON ({"data": [...]}) instead of a table.')
    ] = False,
) -> None:
    """List every token (revoked and expired ones too) with its user, scopes, last use and expiry."""
    with database() as engine, engine.connect() as conn:
        records = list_tokens(conn)
    now_ms = _ms(utcnow())
    documents = [_document(record, now_ms) for record in records]
    if as_json:
        print_document(orjson.dumps({"data": documents}))
        return
    out_console().print(listing(f"API tokens ({len(documents)})", COLUMNS, documents))


@tokens.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (00T…).", show_default=False)],
) -> None:
    """Revoke a token: it is refused (401) from the next request on, by every replica.

    Returns once every serving process has dropped its cached tokens (exit status 1, with a warning, if
    one could not be made to within a few seconds; the revocation itself is committed either way).
    """
    with database() as engine:
        with unit_of_work(engine, job_context(new_request_id())) as uow:
            record = get_token(uow.conn, token_id)
            if record is None:
                raise fail(f"no token {token_id!r}", ExitCode.NOT_FOUND)
            revoked = revoke_token(uow.conn, token_id)
            if revoked:
                uow.record(API_TOKEN_REVOKE, _targets(record), debug=operator("tokens revoke"))
        # Again when it was already revoked: a revocation whose announcement failed can be completed.
        problems = announce_revocation(engine)
    if revoked:
        typer.echo(f"revoked token {record.id} ({record.name}) of {record.user.email}", err=True)
    else:
        typer.echo(f"token {record.id} ({record.name}) was already revoked", err=True)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
