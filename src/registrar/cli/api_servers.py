"""``registrar api-servers``: register, inspect, change and retire API servers over HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import RenderableType

from .client import API_SERVERS
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

__all__ = ["api_servers", "path_of"]

api_servers = typer.Typer(no_args_is_help=True, help="API servers (resource servers agents call).")

ServerId = Annotated[str, typer.Argument(help="The API server's id (aps…).", show_default=False)]
NameOption = Annotated[str | None, typer.Option("--name", help="Display name.", show_default=False)]
DescriptionOption = Annotated[
    str | None, typer.Option("--description", help="Description.", show_default=False)
]

COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("NAME", "metadata.displayName"),
    Column("RESOURCE URL", "resourceUrl"),
)


def path_of(server_id: str) -> str:
    """The URL path of an API server (the id is quoted: it may not smuggle a path)."""
    return f"{API_SERVERS}/{quote(server_id, safe='')}"


def view_server(server: dict[str, Any]) -> RenderableType:
    """An API server as a table of its fields."""
    return detail(f"API server {server.get('id', '')}", server)


def view_servers(servers: list[dict[str, Any]]) -> RenderableType:
    """API servers as a table."""
    return listing(f"API servers ({len(servers)})", COLUMNS, servers)


@api_servers.command("list")
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
    """List API servers."""
    params = {"search": search, "limit": None if limit is None else str(limit)}
    with connect(url, token) as client:
        show_list(client, API_SERVERS, params, as_json=as_json, all_pages=all_pages, view=view_servers)


@api_servers.command("get")
def get_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Show an API server."""
    with connect(url, token) as client:
        show(client.get(path_of(server_id)), as_json, view_server)


@api_servers.command("register")
def register_server(
    resource_url: Annotated[
        str,
        typer.Option("--resource-url", help="The server's URL (cannot change later).", show_default=False),
    ],
    name: Annotated[str, typer.Option("--name", help="Display name.", show_default=False)],
    description: DescriptionOption = None,
    activate: Annotated[bool, typer.Option("--activate", help="Register it ACTIVE right away.")] = False,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Register an API server (INACTIVE unless --activate)."""
    metadata = {"displayName": name} | ({} if description is None else {"description": description})
    body = {"resourceUrl": resource_url, "metadata": metadata}
    with connect(url, token) as client:
        params = {"activate": "true"} if activate else None
        show(client.post(API_SERVERS, body, params), as_json, view_server)


@api_servers.command("update")
def update_server(
    server_id: ServerId,
    name: NameOption = None,
    description: DescriptionOption = None,
    as_json: JsonOption = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Change an API server's name or description."""
    if name is None and description is None:
        raise usage("nothing to update: give --name and/or --description")
    metadata: dict[str, Any] = {}
    if name is not None:
        metadata["displayName"] = name
    if description is not None:
        metadata["description"] = description or None  # --description "" clears it
    with connect(url, token) as client:
        show(client.patch(path_of(server_id), {"metadata": metadata}), as_json, view_server)


@api_servers.command("activate")
def activate_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Activate an API server."""
    with connect(url, token) as client:
        show(client.post(f"{path_of(server_id)}/lifecycle/activate"), as_json, view_server)


@api_servers.command("deactivate")
def deactivate_server(
    server_id: ServerId, as_json: JsonOption = False, url: UrlOption = DEFAULT_URL, token: TokenOption = None
) -> None:
    """Deactivate an API server."""
    with connect(url, token) as client:
        show(client.post(f"{path_of(server_id)}/lifecycle/deactivate"), as_json, view_server)


@api_servers.command("delete")
def delete_server(server_id: ServerId, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Delete an API server (it must be INACTIVE: deactivate it first)."""
    with connect(url, token) as client:
        client.delete(path_of(server_id))
    err_console().print(f"deleted API server {server_id}")
