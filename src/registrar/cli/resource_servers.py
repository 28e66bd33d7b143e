"""``registrar api-servers | mcp-servers | a2a-servers | virtual-mcp-servers``: one command set, four kinds.

Every kind has list, get, update, activate, deactivate and delete; it is added by ``register`` (API, MCP and
A2A servers, from a resource URL) or ``create`` (virtual MCP servers, from tools of registered MCP servers);
MCP servers also have ``refresh`` (authorization-server discovery again), ``discover`` (their tools, with
a client authentication setting's token), ``discoveries`` and ``capabilities``. What differs per kind is in
its description (:mod:`registrar.cli.kinds`); the authorization-server commands are ``registrar
auth-servers`` (:mod:`registrar.cli.auth_servers`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType

from .auth_servers import view_auth_servers
from .commands import (
    Values,
    delete_command,
    identifier,
    lifecycle_commands,
    list_command,
    option,
    segment,
    show_command,
    text_option,
    under,
)
from .kinds import KINDS, ServerKind
from .options import usage
from .output import Column, detail, listing

__all__ = ["groups"]

_SEARCH = text_option("search", 'SCIM search, e.g. status eq "ACTIVE".')
_DESCRIPTION = text_option("description", "Description.")
_NEW_NAME = text_option("name", "Display name.")
_CAPABILITIES = option(
    "capability",
    Annotated[
        list[str] | None,
        typer.Option(
            "--capability",
            help="A tool of a registered MCP server, as MCP_SERVER_ID:TOOL_NAME (repeatable).",
            show_default=False,
        ),
    ],
    None,
)
_ACTIVATE = option(
    "activate", Annotated[bool, typer.Option("--activate", help="Register it ACTIVE right away.")], False
)
_CLIENT_AUTH_SETTINGS = text_option(
    "client_auth_settings",
    "The client authentication settings (rsc…) whose client credentials get the token.",
    required=True,
)

CAPABILITY_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("MCP SERVER", "mcpServerId", no_wrap=True),
    Column("NAME", "name"),
    Column("STATUS", "status", no_wrap=True),
)
TOOL_COLUMNS = (
    Column("NAME", "name"),
    Column("STATUS", "status", no_wrap=True),
    Column("TITLE", "title"),
    Column("DESCRIPTION", "description"),
    Column("CHANGED", "changed", no_wrap=True),
)
DISCOVERY_COLUMNS = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("CLIENT AUTH SETTINGS", "credential.clientAuthSettingsId", no_wrap=True),
    Column("COMPLETED", "completed", no_wrap=True),
    Column("TOOLS", "toolCount", no_wrap=True),
    Column("ERROR", "errorMessage"),
)


def _items(document: Any) -> list[Any]:
    """The items of a list answer: a JSON array, or the ``data`` of a ``{data, _links}`` page."""
    if isinstance(document, Mapping):
        document = document.get("data", [])
    return document if isinstance(document, list) else []


def _table(title: str, columns: tuple[Column, ...]) -> Callable[[Any], RenderableType]:
    def view(document: Any) -> RenderableType:
        items = _items(document)
        return listing(f"{title} ({len(items)})", columns, items)

    return view


def server_view(kind: ServerKind) -> Callable[[dict[str, Any]], RenderableType]:
    """A server's fields, then its capabilities and embedded authorization servers (when it has them)."""

    def view(server: dict[str, Any]) -> RenderableType:
        fields = {key: value for key, value in server.items() if key != "capabilities"}
        parts: list[RenderableType] = [detail(f"{kind.title} {server.get('id', '')}", fields)]
        if "capabilities" in server:
            parts.append(_table("Capabilities", CAPABILITY_COLUMNS)(server["capabilities"]))
        embedded = server.get("_embedded", {})
        if "authorizationServers" in embedded:
            parts.append(view_auth_servers(embedded["authorizationServers"]))
        return parts[0] if len(parts) == 1 else Group(*parts)

    return view


def _capabilities(values: Values) -> list[dict[str, str]]:
    """``--capability MCP_SERVER_ID:TOOL_NAME`` values as the API's ``{mcpServerId, name}`` items."""
    items = []
    for given in values["capability"] or []:
        server_id, _, name = given.partition(":")
        if not server_id or not name:
            raise usage(f"--capability wants MCP_SERVER_ID:TOOL_NAME, not {given!r}")
        items.append({"mcpServerId": server_id, "name": name})
    return items


def _register(group: typer.Typer, kind: ServerKind, view: Callable[[dict[str, Any]], RenderableType]) -> None:
    """``register`` or ``create``, with the options the kind's registration has."""
    how = kind.registration
    params: list[inspect.Parameter] = []
    if how.resource_url_help is not None:
        params.append(text_option("resource_url", how.resource_url_help, required=True))
    params += [text_option("name", how.name_help, required=how.name_required), _DESCRIPTION]
    params += [_ACTIVATE] if how.activate else []
    params += [_CAPABILITIES] if how.capabilities else []

    def body(values: Values) -> dict[str, Any]:
        pairs = (("displayName", values["name"]), ("description", values["description"]))
        # A name the server may default is left out when empty; a required one goes as given.
        metadata = {key: v for key, v in pairs if v is not None and (how.name_required or v)}
        document: dict[str, Any] = {"metadata": metadata}
        if how.resource_url_help is not None:
            document = {"resourceUrl": values["resource_url"], **document}
        if how.capabilities:
            document["capabilities"] = _capabilities(values)
        return document

    def query(values: Values) -> dict[str, str]:
        return {"activate": "true"} if values.get("activate") else {}

    show_command(
        group, how.command, how.doc, params, lambda _: kind.path, view, method="POST", body=body, query=query
    )


def _update(group: typer.Typer, kind: ServerKind, view: Callable[[dict[str, Any]], RenderableType]) -> None:
    """``update``: the name, the description (``""`` clears it) and, for a virtual server, its tools."""
    capabilities = kind.registration.capabilities
    wanted = "--name, --description or --capability" if capabilities else "--name and/or --description"

    def body(values: Values) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if values["name"] is not None:
            metadata["displayName"] = values["name"]
        if values["description"] is not None:
            metadata["description"] = values["description"] or None  # --description "" clears it
        patch: dict[str, Any] = {"metadata": metadata} if metadata else {}
        if capabilities and values["capability"]:
            patch["capabilities"] = _capabilities(values)  # the set is replaced
        if not patch:
            raise usage(f"nothing to update: give {wanted}")
        return patch

    params = [_server(kind), _NEW_NAME, _DESCRIPTION, *([_CAPABILITIES] if capabilities else [])]
    doc = f"Change {kind.one}'s name or description" + (" or its tools." if capabilities else ".")
    show_command(group, "update", doc, params, _path(kind), view, method="PATCH", body=body)


def _server(kind: ServerKind) -> inspect.Parameter:
    return identifier("server_id", kind.noun, kind.prefix)


def _path(kind: ServerKind) -> Callable[[Values], str]:
    """The path of the server the values name."""
    return lambda values: f"{kind.path}/{segment(values['server_id'])}"


def _tool_commands(
    group: typer.Typer, kind: ServerKind, view: Callable[[dict[str, Any]], RenderableType]
) -> None:
    """An MCP server's discovery commands: its authorization servers again, its tools, what was found."""
    server = _server(kind)
    show_command(
        group,
        "refresh",
        "Run discovery again and record what changed (new, changed or vanished authorization servers).",
        [server],
        under(_path(kind), "/discovery"),
        view,
        method="POST",
    )

    def credential(values: Values) -> dict[str, Any]:
        settings_id = values["client_auth_settings"]
        return {"credential": {"authType": "CLIENT_AUTH_SETTINGS", "clientAuthSettingsId": settings_id}}

    show_command(
        group,
        "discover",
        "Discover an MCP server's tools, with a token from client authentication settings; record what "
        "changed.",
        [server, _CLIENT_AUTH_SETTINGS],
        under(_path(kind), "/discoveries"),
        lambda discovery: detail(f"Discovery {discovery.get('id', '')}", discovery),
        method="POST",
        body=credential,
    )
    show_command(
        group,
        "discoveries",
        "List an MCP server's tool discoveries (the latest per client authentication settings).",
        [server],
        under(_path(kind), "/discoveries"),
        _table("Discoveries", DISCOVERY_COLUMNS),
    )
    show_command(
        group,
        "capabilities",
        "List the tools discovered on an MCP server (those gone since: REMOVED).",
        [server],
        under(_path(kind), "/capabilities"),
        _table("Capabilities", TOOL_COLUMNS),
    )


def group_of(kind: ServerKind) -> typer.Typer:
    """The command group of one kind."""
    group = typer.Typer(no_args_is_help=True, help=kind.help)
    server, one, view = _server(kind), _path(kind), server_view(kind)
    servers = _table(f"{kind.title}s", kind.columns)
    list_command(group, f"List {kind.noun}s.", (), lambda _: kind.path, servers, queries=(_SEARCH,))
    show_command(group, "get", kind.get_doc, [server], one, view)
    _register(group, kind, view)
    _update(group, kind, view)
    actions = [(action, f"{action.capitalize()} {kind.one}.") for action in ("activate", "deactivate")]
    lifecycle_commands(group, actions, [server], one, view)
    if kind.discovers_tools:
        _tool_commands(group, kind, view)
    delete_command(group, kind.delete_doc, [server], one, lambda v: f"deleted {kind.noun} {v['server_id']}")
    return group


def groups() -> list[tuple[str, typer.Typer]]:
    """Every kind's group, by its command name."""
    return [(kind.command, group_of(kind)) for kind in KINDS]
