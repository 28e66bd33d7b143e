"""``registrar mcp-servers``: register MCP servers (with discovery), inspect, refresh and retire them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Group, RenderableType

from .auth_servers import view_auth_servers
from .client import MCP_SERVERS
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

__all__ = ["mcp_servers"]

mcp_servers = typer.Typer(
    no_args_is_help=True, help="MCP servers (their authorization servers are discovered)."
)

ServerId = Annotated[str, typer.Argument(help="The MCP server's id (mcp…).", show_default=False)]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", help="Description.", show_default=False)
]

COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("NAME", "metadata.displayName"),
    Column("RESOURCE URL", "resourceUrl"),
    Column("AUTH SERVERS", "authorizationServerCount", no_wrap=True),
)


def _path(server_id: str) -> str:
    return f"{MCP_SERVERS}/{quote(server_id, safe='')}"


def view_server(server: dict[str, Any]) -> RenderableType:
    """An MCP server's fields, then the authorization servers discovered for it."""
    embedded = server.get("_embedded", {}).get("authorizationServers", [])
    return Group(detail(f"MCP server {server.get('id', '')}", server), view_auth_servers(embedded))


def view_servers(servers: list[dict[str, Any]]) -> RenderableType:
    """MCP servers as a table."""
    return listing(f"MCP servers ({len(servers)})", COLUMNS, servers)


@mcp_servers.command("list")
def list_servers(
    search: Annotated[
        str | None, typer.Option(help='SCIM search, e.g. status eq "ACTIVE".', show_default=False)
    ] = None,
    limit: LimitOption = None,
    all_pages: AllOption = False,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """List MCP servers."""
    params = {"search": search, "limit": None if limit is None else str(limit)}
    with connect(url, token) as client:
        show_list(client, MCP_SERVERS, params, as_json=as_json, all_pages=all_pages, view=view_servers)


@mcp_servers.command("get")
def get_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Show an MCP server and its discovered authorization servers."""
    with connect(url, token) as client:
        show(client.get(_path(server_id)), as_json, view_server)


@mcp_servers.command("register")
def register_server(
    resource_url: Annotated[
        str,
        typer.Option("--resource-url", help="The MCP endpoint (cannot change later).", show_default=False),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Display name (default: what the server calls itself).", show_default=False
        ),
    ] = None,
    description: DescriptionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Register an MCP server: the server discovers its authorization servers, then stores it INACTIVE."""
    metadata = {key: value for key, value in (("displayName", name), ("description", description)) if value}
    body = {"resourceUrl": resource_url, "metadata": metadata}
    with connect(url, token) as client:
        show(client.post(MCP_SERVERS, body), as_json, view_server)


@mcp_servers.command("update")
def update_server(
    server_id: ServerId,
    name: Annotated[str | None, typer.Option("--name", help="Display name.", show_default=False)] = None,
    description: DescriptionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Change an MCP server's name or description."""
    if name is None and description is None:
        raise usage("nothing to update: give --name and/or --description")
    metadata: dict[str, Any] = {}
    if name is not None:
        metadata["displayName"] = name
    if description is not None:
        metadata["description"] = description or None  # --description "" clears it
    with connect(url, token) as client:
        show(client.patch(_path(server_id), {"metadata": metadata}), as_json, view_server)


@mcp_servers.command("activate")
def activate_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Activate an MCP server."""
    with connect(url, token) as client:
        show(client.post(f"{_path(server_id)}/lifecycle/activate"), as_json, view_server)


@mcp_servers.command("deactivate")
def deactivate_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Deactivate an MCP server."""
    with connect(url, token) as client:
        show(client.post(f"{_path(server_id)}/lifecycle/deactivate"), as_json, view_server)


@mcp_servers.command("refresh")
def refresh_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Run discovery again and record what changed (new, changed or vanished authorization servers)."""
    with connect(url, token) as client:
        show(client.post(f"{_path(server_id)}/discovery"), as_json, view_server)


@mcp_servers.command("delete")
def delete_server(server_id: ServerId, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Delete an MCP server that is not ACTIVE, with its authorization servers."""
    with connect(url, token) as client:
        client.delete(_path(server_id))
    err_console().print(f"deleted MCP server {server_id}")
