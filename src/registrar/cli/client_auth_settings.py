"""``registrar client-auth-settings``: the client credentials used to call a resource server.

The client secret is write-only: it is read from a hidden prompt, stdin or ``--client-secret-file``, never
from a plain option value (which would stay in the shell history), and the server never returns it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import RenderableType

from .client import CLIENT_AUTH_SETTINGS, RegistrarClient, json_of
from .commands import Values, argument, delete_command, list_command, segment, show_command, text_option
from .kinds import KINDS, kind_of_id
from .options import DEFAULT_URL, JsonOption, TokenOption, UrlOption, connect, read_secret, usage
from .output import Column, detail, listing, show

__all__ = ["client_auth_settings"]

client_auth_settings = typer.Typer(
    no_args_is_help=True, help="Client authentication settings (client id and write-only secret)."
)


class AuthMethod(StrEnum):
    """How the client authenticates at the token endpoint (names, not secrets)."""

    client_secret_basic = "client_secret_basic"  # noqa: S105
    client_secret_post = "client_secret_post"  # noqa: S105
    client_secret_jwt = "client_secret_jwt"  # noqa: S105


SECRET = "client secret"  # noqa: S105 - what to call it in prompts and messages
SETTINGS_ID = "The settings' id (rsc…)."
SettingsId = Annotated[str, typer.Argument(help=SETTINGS_ID, show_default=False)]
RESOURCE_HELP = "The resource server: its ORN, or its id (aps… / mcp… / a2a… / vms…)."
SecretFile = Annotated[
    str | None,
    typer.Option(
        "--client-secret-file",
        help="Read the client secret from this file (- for stdin). Without it: a hidden prompt on a "
        "terminal, else stdin.",
        show_default=False,
    ),
]
Resource = Annotated[
    str | None,
    typer.Option("--resource", help=RESOURCE_HELP, show_default=False),
]
Scopes = Annotated[
    list[str] | None, typer.Option("--scope", help="A scope to request (repeatable).", show_default=False)
]

COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("NAME", "name"),
    Column("RESOURCE", "resourceOrn"),
    Column("CLIENT ID", "configuration.clientId"),
    Column("SCOPES", "configuration.scopes"),
    Column("AUTH METHOD", "configuration.tokenEndpointAuthMethod"),
)


def _path(settings_id: str) -> str:
    return f"{CLIENT_AUTH_SETTINGS}/{segment(settings_id)}"


def _path_of(values: Values) -> str:
    return _path(values["settings_id"])


def _resource_orn(client: RegistrarClient, resource: str) -> str:
    """An ORN as given, or the ORN of the resource server with that id (its kind told by its prefix)."""
    if resource.startswith("orn:"):
        return resource
    kind = kind_of_id(resource) or KINDS[0]
    return str(json_of(client.get(f"{kind.path}/{segment(resource)}"))["orn"])


def view_settings(settings: dict[str, Any]) -> RenderableType:
    """Client authentication settings as a table of their fields (there is no secret to show)."""
    return detail(f"Client authentication settings {settings.get('id', '')}", settings)


def view_settings_list(items: list[dict[str, Any]]) -> RenderableType:
    """Client authentication settings as a table."""
    return listing(f"Client authentication settings ({len(items)})", COLUMNS, items)


_SETTINGS = argument("settings_id", SETTINGS_ID)
list_command(
    client_auth_settings,
    "List client authentication settings.",
    (),
    lambda _: CLIENT_AUTH_SETTINGS,
    view_settings_list,
    queries=(text_option("search", 'SCIM search, e.g. resourceOrn eq "orn:…".'),),
)
show_command(
    client_auth_settings,
    "get",
    "Show client authentication settings (never the secret).",
    [_SETTINGS],
    _path_of,
    view_settings,
)


@client_auth_settings.command("create")
def create_settings(
    name: Annotated[str, typer.Option("--name", help="A name for the settings.", show_default=False)],
    resource: Annotated[str, typer.Option("--resource", help=RESOURCE_HELP)],
    client_id: Annotated[str, typer.Option("--client-id", help="The OAuth client id.", show_default=False)],
    scopes: Scopes = None,
    auth_method: Annotated[
        AuthMethod, typer.Option("--auth-method", help="Token endpoint authentication method.")
    ] = AuthMethod.client_secret_basic,
    secret_file: SecretFile = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Create client authentication settings for a resource server (purpose STS)."""
    with connect(url, token) as client:
        secret = read_secret(secret_file, SECRET)
        body = {
            "name": name,
            "resourceOrn": _resource_orn(client, resource),
            "purpose": ["STS"],
            "configuration": {
                "clientId": client_id,
                "clientSecret": secret,
                "scopes": scopes or [],
                "tokenEndpointAuthMethod": auth_method.value,
            },
        }
        show(client.post(CLIENT_AUTH_SETTINGS, body), as_json, view_settings)


@client_auth_settings.command("update")
def update_settings(
    settings_id: SettingsId,
    name: Annotated[str | None, typer.Option("--name", help="New name.", show_default=False)] = None,
    resource: Resource = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="New client id.", show_default=False)
    ] = None,
    scopes: Scopes = None,
    auth_method: Annotated[
        AuthMethod | None,
        typer.Option("--auth-method", help="New authentication method.", show_default=False),
    ] = None,
    rotate_secret: Annotated[
        bool, typer.Option("--rotate-secret", help="Set a new client secret (prompt or stdin).")
    ] = False,
    secret_file: SecretFile = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Change client authentication settings; --rotate-secret or --client-secret-file sets a new secret."""
    configuration: dict[str, Any] = {
        key: value
        for key, value in (
            ("clientId", client_id),
            ("scopes", scopes),
            ("tokenEndpointAuthMethod", None if auth_method is None else auth_method.value),
        )
        if value is not None
    }
    patch: dict[str, Any] = {} if name is None else {"name": name}
    if not (patch or configuration or resource or rotate_secret or secret_file):
        raise usage("nothing to update: give at least one option (see --help)")
    with connect(url, token) as client:
        if rotate_secret or secret_file is not None:
            configuration["clientSecret"] = read_secret(secret_file, SECRET)
        if resource is not None:
            patch["resourceOrn"] = _resource_orn(client, resource)
        if configuration:
            patch["configuration"] = configuration
        show(client.patch(_path(settings_id), patch), as_json, view_settings)


delete_command(
    client_auth_settings,
    "Delete client authentication settings.",
    [_SETTINGS],
    _path_of,
    lambda values: f"deleted client authentication settings {values['settings_id']}",
)
