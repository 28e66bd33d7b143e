"""``registrar service-apps``: create, list and revoke OAuth 2.0 service apps, on the database directly.

A service app gets access tokens at ``POST /oauth2/v1/token`` with the client credentials grant,
authenticating with a JWT signed by one of the keys it registered (``private_key_jwt``): what the okta
SDK's ``PrivateKey`` mode does. Creating and revoking are audited with Okta's types,
``application.lifecycle.create`` and ``application.lifecycle.deactivate``, target the app
(``AppInstance``), in the same transaction as the change; as for ``registrar tokens``, the actor is the
system principal and ``debugData`` names the command, the operating-system account and the host.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from registrar.context import job_context
from registrar.events.catalog import APP_CREATE, APP_DEACTIVATE, Target, app_instance_target
from registrar.ids import format_ms, is_object_id, new_request_id
from registrar.oauth import MAX_JWKS_BYTES, InvalidKeySet, parse_public_jwks, stored_key_ids
from registrar.scopes import ALL_SCOPES
from registrar.store.service_apps import (
    ServiceApp,
    create_service_app,
    get_service_app,
    list_service_apps,
    revoke_service_app,
)
from registrar.store.tokens import announce_revocation
from registrar.store.uow import unit_of_work

from .client import ExitCode
from .database import database
from .local import fail, operator
from .output import Column, listing, out_console, print_document

__all__ = ["service_apps"]

service_apps = typer.Typer(
    no_args_is_help=True, help="OAuth 2.0 service apps (client credentials, private_key_jwt)."
)

_MAX_NAME = 255

COLUMNS = (
    Column("CLIENT ID", "clientId", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("NAME", "name"),
    Column("SCOPES", "scopes"),
    Column("KEYS", "keyIds"),
    Column("CREATED", "created", no_wrap=True),
    Column("REVOKED", "revoked", no_wrap=True),
)


def _target(app: ServiceApp) -> Target:
    return app_instance_target(app.client_id, app.name, app.scopes, stored_key_ids(app.jwks))


def _document(app: ServiceApp) -> dict[str, Any]:
    """An app as ``service-apps list --json`` prints it (camelCase, Okta's timestamp form)."""
    return {
        "clientId": app.client_id,
        "name": app.name,
        "status": app.status,
        "scopes": sorted(app.scopes),
        "keyIds": stored_key_ids(app.jwks),
        "tokenEndpointAuthMethod": "private_key_jwt",
        "created": format_ms(app.created_ms),
        "revoked": format_ms(app.revoked_ms),
    }


def _read_jwks(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_JWKS_BYTES + 1)
    except OSError as error:
        raise fail(f"cannot read --jwks {path}: {error.strerror}") from None


@service_apps.command("create")
def service_apps_create(
    name: Annotated[str, typer.Option("--name", help="A name for the app (its events' displayName).")],
    jwks: Annotated[
        Path,
        typer.Option(
            "--jwks",
            help="The app's PUBLIC signing keys, a JWKS or one JWK (RSA >= 2048 bits, EC P-256/P-384).",
        ),
    ],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="A scope the app may be granted (repeatable, at least one)."),
    ],
) -> None:
    """Create a service app and print its client id, alone, on stdout."""
    if not name.strip() or len(name) > _MAX_NAME:
        raise fail(f"--name must be 1 to {_MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise fail("--name must not contain control characters")
    unknown = sorted(set(scope) - set(ALL_SCOPES))
    if unknown:
        raise fail(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    try:
        keys = parse_public_jwks(_read_jwks(jwks))
    except InvalidKeySet as error:
        raise fail(f"--jwks {jwks}: {error}", ExitCode.VALIDATION) from None
    with database() as engine, unit_of_work(engine, job_context(new_request_id())) as uow:
        app = create_service_app(uow.conn, name, keys.json, scope)
        uow.record(APP_CREATE, [_target(app)], debug=operator("service-apps create"))
    typer.echo(
        f"created service app {app.client_id} ({name}) with scopes: {' '.join(sorted(app.scopes))}; "
        f"keys: {' '.join(keys.key_ids)}",
        err=True,
    )
    typer.echo(app.client_id)


@service_apps.command("list")
def service_apps_list(
    as_json: Annotated[
        bool, typer.Option("--json", help='Print JSON ({"data": [...]}) instead of a table.')
    ] = False,
) -> None:
    """List every service app (revoked ones too) with its scopes and key ids."""
    with database() as engine, engine.connect() as conn:
        documents = [_document(app) for app in list_service_apps(conn)]
    if as_json:
        print_document(orjson.dumps({"data": documents}))
        return
    rows = [{**d, "scopes": " ".join(d["scopes"]), "keyIds": " ".join(d["keyIds"])} for d in documents]
    out_console().print(listing(f"Service apps ({len(rows)})", COLUMNS, rows))


@service_apps.command("revoke")
def service_apps_revoke(
    client_id: Annotated[str, typer.Argument(help="The app's client id (0oa…).", show_default=False)],
) -> None:
    """Revoke a service app: it gets no new token, and its tokens are refused (401) from the next request
    on, by every replica.

    Returns once every serving process has forgotten what it knew of the app (exit status 1, with a
    warning, if one could not be made to within a few seconds; the revocation is committed either way).
    """
    if not is_object_id(client_id):
        raise fail(f"no service app {client_id!r}", ExitCode.NOT_FOUND)
    with database() as engine:
        with unit_of_work(engine, job_context(new_request_id())) as uow:
            app = get_service_app(uow.conn, client_id)
            if app is None:
                raise fail(f"no service app {client_id!r}", ExitCode.NOT_FOUND)
            revoked = revoke_service_app(uow.conn, client_id)
            if revoked:
                uow.record(APP_DEACTIVATE, [_target(app)], debug=operator("service-apps revoke"))
        # Again when it was already revoked: a revocation whose announcement failed can be completed.
        problems = announce_revocation(engine)
    if revoked:
        typer.echo(f"revoked service app {app.client_id} ({app.name})", err=True)
    else:
        typer.echo(f"service app {app.client_id} ({app.name}) was already revoked", err=True)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
