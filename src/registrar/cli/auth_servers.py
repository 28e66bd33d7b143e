"""``registrar auth-servers``: the authorization servers linked to a resource server of any kind.

The parent is named by its id, whose prefix says its kind (``aps…`` API, ``mcp…`` MCP, ``a2a…`` A2A,
``vms…`` virtual MCP server). Every kind's are listed and shown; which can be added, changed or removed is
the kind's (:mod:`registrar.cli.kinds`): an MCP server's are discovered, never edited (``registrar
mcp-servers refresh`` runs discovery again); an A2A server's are added by issuer alone, the server reading
the rest from the issuer's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import RenderableType

from .commands import (
    Values,
    argument,
    delete_command,
    identifier,
    list_command,
    option,
    segment,
    show_command,
    text_option,
)
from .kinds import KINDS, ServerKind, kind_of_id
from .options import usage
from .output import Column, detail, listing

__all__ = ["auth_servers", "view_auth_server", "view_auth_servers"]

API_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("ISSUER", "issuer"),
    Column("TOKEN ENDPOINT", "tokenEndpoint"),
    Column("GRANT TYPES", "grantTypesSupported"),
)
DISCOVERED_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("ISSUER", "issuer"),
    Column("STATUS", "status", no_wrap=True),
    Column("TOKEN ENDPOINT", "detectedMetadata.tokenEndpoint"),
    Column("GRANT TYPES", "detectedMetadata.grantTypesSupported"),
)


def view_auth_server(auth: dict[str, Any]) -> RenderableType:
    """An authorization server as a table of its fields."""
    return detail(f"Authorization server {auth.get('id', '')}", auth)


def view_auth_servers(items: list[dict[str, Any]]) -> RenderableType:
    """Authorization servers as a table (the discovered ones' columns when they carry a status)."""
    columns = DISCOVERED_COLUMNS if any("status" in item for item in items) else API_COLUMNS
    return listing(f"Authorization servers ({len(items)})", columns, items)


def _kinds(operation: str | None) -> list[ServerKind]:
    return [kind for kind in KINDS if operation is None or operation in kind.auth_servers.manage]


def _any_of(kinds: list[ServerKind]) -> str:
    """``an API server (aps…), an MCP server (mcp…) or …``."""
    names = [f"{kind.one} ({kind.prefix}…)" for kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _parent(operation: str | None = None) -> Any:
    """The parent id argument of a command: its help names the kinds it takes."""
    kinds = _kinds(operation)
    if len(kinds) == 1:
        return identifier("parent_id", kinds[0].noun, kinds[0].prefix)
    return argument("parent_id", f"The id of {_any_of(kinds)}.")


def _collection(parent_id: str, operation: str | None = None) -> str:
    """The path of a parent's authorization servers, chosen by the parent id's prefix."""
    kind = kind_of_id(parent_id)
    if kind is None:
        raise usage(f"{parent_id!r} is not the id of {_any_of(list(KINDS))}")
    if operation is not None and operation not in kind.auth_servers.manage:
        refused = kind.auth_servers.refused or (
            f"{kind.one}'s authorization servers cannot be changed: remove one and add it again"
        )
        raise usage(refused.format(id=parent_id))
    return f"{kind.path}/{segment(parent_id)}/authorization-servers"


def _one(operation: str | None = None) -> Callable[[Values], str]:
    return lambda values: f"{_collection(values['parent_id'], operation)}/{segment(values['auth_server_id'])}"


def _add_body(values: Values) -> dict[str, Any]:
    """What ``add`` sends: the issuer, and the endpoints and grant types where the kind's are entered."""
    kind = kind_of_id(values["parent_id"])
    entered = {
        "authorizationEndpoint": values["authorization_endpoint"],
        "tokenEndpoint": values["token_endpoint"],
        "grantTypesSupported": values["grant_types"],
    }
    if kind is not None and not kind.auth_servers.entered:
        if any(entered.values()):
            raise usage(
                f"{kind.one}'s authorization server is read from its issuer's metadata: give --issuer only"
            )
        return {"issuer": values["issuer"]}
    if not values["grant_types"]:
        raise usage("give at least one --grant-type (e.g. client_credentials)")
    if values["authorization_endpoint"] is None or values["token_endpoint"] is None:
        raise usage("give --authorization-endpoint and --token-endpoint")
    return {"issuer": values["issuer"], **entered}


def _update_body(values: Values) -> dict[str, Any]:
    changes = {
        "authorizationEndpoint": values["authorization_endpoint"],
        "tokenEndpoint": values["token_endpoint"],
        "grantTypesSupported": values["grant_types"],
    }
    patch = {key: value for key, value in changes.items() if value is not None}
    if not patch:
        raise usage("nothing to update: give --authorization-endpoint, --token-endpoint or --grant-type")
    return patch


def _group() -> typer.Typer:
    managed = _any_of(_kinds("add"))
    group = typer.Typer(
        no_args_is_help=True,
        help=f"Authorization servers of a resource server: read for every kind, managed for {managed}.",
    )
    auth_server = identifier("auth_server_id", "authorization server", "eas")
    filter_option = text_option("filter", 'SCIM filter, e.g. issuer sw "https://id".')
    grant_types = option(
        "grant_types",
        Annotated[
            list[str] | None,
            typer.Option("--grant-type", help="A grant type it supports (repeatable).", show_default=False),
        ],
        None,
    )
    list_command(
        group,
        "List the authorization servers of a resource server.",
        [_parent()],
        lambda values: _collection(values["parent_id"]),
        view_auth_servers,
        queries=(filter_option,),
    )
    show_command(
        group,
        "get",
        "Show an authorization server of a resource server.",
        [_parent(), auth_server],
        _one(),
        view_auth_server,
    )
    issuer = text_option("issuer", "Issuer (cannot change later).", required=True)
    show_command(
        group,
        "add",
        "Link an authorization server to a resource server (an A2A server's: by its issuer alone).",
        [
            _parent("add"),
            issuer,
            text_option("authorization_endpoint", "Authorization endpoint (where the kind's are entered)."),
            text_option("token_endpoint", "Token endpoint (where the kind's are entered)."),
            grant_types,
        ],
        lambda values: _collection(values["parent_id"], "add"),
        view_auth_server,
        method="POST",
        body=_add_body,
    )
    (updatable,) = _kinds("update")
    show_command(
        group,
        "update",
        f"Change {updatable.one}'s authorization server (its issuer cannot change).",
        [
            _parent("update"),
            auth_server,
            text_option("authorization_endpoint", "New authorization endpoint."),
            text_option("token_endpoint", "New token endpoint."),
            grant_types,
        ],
        _one("update"),
        view_auth_server,
        method="PATCH",
        body=_update_body,
    )
    delete_command(
        group,
        "Unlink an authorization server from its resource server.",
        [_parent("remove"), auth_server],
        _one("remove"),
        lambda values: f"removed authorization server {values['auth_server_id']} from {values['parent_id']}",
        name="remove",
    )
    return group


auth_servers = _group()
