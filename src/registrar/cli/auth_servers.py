"""``registrar auth-servers``: the authorization servers of an API server (managed) or an MCP server (read).

The parent is named by its id, whose prefix says which kind it is: ``aps…`` for an API server, ``mcp…`` for
an MCP server. An MCP server's authorization servers are discovered, never edited: ``registrar mcp-servers
refresh`` runs discovery again.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import RenderableType

from .client import API_SERVERS, MCP_SERVERS
from .options import (
    DEFAULT_URL,
    AllOption,
    JsonOption,
    LimitOption,
    TokenOption,
    UrlOption,
    connect,
    usage,
)
from .output import Column, detail, err_console, listing, show, show_list

__all__ = ["auth_servers", "view_auth_servers"]

auth_servers = typer.Typer(
    no_args_is_help=True,
    help="Authorization servers: of an API server (aps…) to manage, of an MCP server (mcp…) to read.",
)

ParentId = Annotated[
    str, typer.Argument(help="The API server (aps…) or MCP server (mcp…) id.", show_default=False)
]
ApiParentId = Annotated[str, typer.Argument(help="The API server's id (aps…).", show_default=False)]
AuthServerId = Annotated[
    str, typer.Argument(help="The authorization server's id (eas…).", show_default=False)
]
GrantTypes = Annotated[
    list[str] | None,
    typer.Option("--grant-type", help="A grant type it supports (repeatable).", show_default=False),
]

API_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("ISSUER", "issuer"),
    Column("TOKEN ENDPOINT", "tokenEndpoint"),
    Column("GRANT TYPES", "grantTypesSupported"),
)
MCP_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("ISSUER", "issuer"),
    Column("STATUS", "status", no_wrap=True),
    Column("TOKEN ENDPOINT", "detectedMetadata.tokenEndpoint"),
    Column("GRANT TYPES", "detectedMetadata.grantTypesSupported"),
)


def _collection(parent_id: str, *, manage: bool = False) -> str:
    """The path of a parent's authorization servers, chosen by the parent id's prefix."""
    if parent_id.startswith("aps"):
        return f"{API_SERVERS}/{quote(parent_id, safe='')}/authorization-servers"
    if parent_id.startswith("mcp"):
        if manage:
            raise usage(
                "an MCP server's authorization servers are discovered, not edited: "
                f"run `registrar mcp-servers refresh {parent_id}`"
            )
        return f"{MCP_SERVERS}/{quote(parent_id, safe='')}/authorization-servers"
    raise usage(f"{parent_id!r} is neither an API server id (aps…) nor an MCP server id (mcp…)")


def view_auth_server(auth: dict[str, Any]) -> RenderableType:
    """An authorization server as a table of its fields."""
    return detail(f"Authorization server {auth.get('id', '')}", auth)


def view_auth_servers(items: list[dict[str, Any]]) -> RenderableType:
    """Authorization servers as a table (the MCP columns when they carry a status)."""
    columns = MCP_COLUMNS if any("status" in item for item in items) else API_COLUMNS
    return listing(f"Authorization servers ({len(items)})", columns, items)


@auth_servers.command("list")
def list_auth_servers(
    parent_id: ParentId,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help='SCIM filter, e.g. issuer sw "https://id".', show_default=False),
    ] = None,
    limit: LimitOption = None,
    all_pages: AllOption = False,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """List the authorization servers of an API server or an MCP server."""
    path = _collection(parent_id)
    params = {"filter": filter_, "limit": None if limit is None else str(limit)}
    with connect(url, token) as client:
        show_list(client, path, params, as_json=as_json, all_pages=all_pages, view=view_auth_servers)


@auth_servers.command("get")
def get_auth_server(
    parent_id: ParentId,
    auth_server_id: AuthServerId,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Show an authorization server of an API server or an MCP server."""
    path = f"{_collection(parent_id)}/{quote(auth_server_id, safe='')}"
    with connect(url, token) as client:
        show(client.get(path), as_json, view_auth_server)


@auth_servers.command("add")
def add_auth_server(
    parent_id: ApiParentId,
    issuer: Annotated[str, typer.Option(help="Issuer (cannot change later).", show_default=False)],
    authorization_endpoint: Annotated[str, typer.Option(help="Authorization endpoint.", show_default=False)],
    token_endpoint: Annotated[str, typer.Option(help="Token endpoint.", show_default=False)],
    grant_types: GrantTypes = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Link a third-party authorization server to an API server."""
    path = _collection(parent_id, manage=True)
    if not grant_types:
        raise usage("give at least one --grant-type (e.g. client_credentials)")
    body = {
        "issuer": issuer,
        "authorizationEndpoint": authorization_endpoint,
        "tokenEndpoint": token_endpoint,
        "grantTypesSupported": grant_types,
    }
    with connect(url, token) as client:
        show(client.post(path, body), as_json, view_auth_server)


@auth_servers.command("update")
def update_auth_server(
    parent_id: ApiParentId,
    auth_server_id: AuthServerId,
    authorization_endpoint: Annotated[
        str | None, typer.Option(help="New authorization endpoint.", show_default=False)
    ] = None,
    token_endpoint: Annotated[
        str | None, typer.Option(help="New token endpoint.", show_default=False)
    ] = None,
    grant_types: GrantTypes = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Change an API server's authorization server (its issuer cannot change)."""
    path = f"{_collection(parent_id, manage=True)}/{quote(auth_server_id, safe='')}"
    changes = {
        "authorizationEndpoint": authorization_endpoint,
        "tokenEndpoint": token_endpoint,
        "grantTypesSupported": grant_types,
    }
    patch = {key: value for key, value in changes.items() if value is not None}
    if not patch:
        raise usage("nothing to update: give --authorization-endpoint, --token-endpoint or --grant-type")
    with connect(url, token) as client:
        show(client.patch(path, patch), as_json, view_auth_server)


@auth_servers.command("remove")
def remove_auth_server(
    parent_id: ApiParentId,
    auth_server_id: AuthServerId,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Unlink an authorization server from an API server."""
    path = f"{_collection(parent_id, manage=True)}/{quote(auth_server_id, safe='')}"
    with connect(url, token) as client:
        client.delete(path)
    err_console().print(f"removed authorization server {auth_server_id} from {parent_id}")
