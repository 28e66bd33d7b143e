"""The four kinds of resource server as the CLI sees them: one small description each.

Everything the command groups (:mod:`registrar.cli.resource_servers`, :mod:`registrar.cli.auth_servers`)
need to know about a kind is here: its path, its id prefix, its words, its list columns, how it is added
and which authorization-server commands it has. The commands themselves are written once, over these.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import RESOURCE_SERVERS
from .output import Column

__all__ = ["KINDS", "AuthServerCommands", "Registration", "ServerKind", "kind_of_id"]


@dataclass(frozen=True, slots=True)
class Registration:
    """How a server of the kind is added, and the options that takes.

    With a resource URL: ``register --resource-url URL``; without (virtual MCP servers): ``create``.
    """

    doc: str
    resource_url_help: str | None
    name_help: str = "Display name."
    name_required: bool = True  # else the server names it when no name is given
    activate: bool = False  # --activate: stored ACTIVE right away (?activate=true)
    capabilities: bool = False  # --capability MCP_SERVER_ID:TOOL_NAME, repeatable

    @property
    def command(self) -> str:
        """``register`` or ``create``."""
        return "create" if self.resource_url_help is None else "register"


@dataclass(frozen=True, slots=True)
class AuthServerCommands:
    """The kind's authorization-server commands beyond list and get, and how one is added."""

    manage: frozenset[str] = frozenset()  # of "add", "update", "remove"
    entered: bool = True  # added with its endpoints and grant types; else found from its issuer alone
    refused: str = ""  # why the kind's authorization servers are not edited (with {id}), when they are not


@dataclass(frozen=True, slots=True)
class ServerKind:
    """One kind of resource server."""

    command: str  # the group's name, and the last segment of its collection path
    prefix: str  # of its ids
    one: str  # the noun with its article: "an API server"
    help: str
    registration: Registration
    get_doc: str
    delete_doc: str
    auth_servers: AuthServerCommands = AuthServerCommands()
    resource_url: bool = True  # a column of the list
    discovered: bool = False  # the list counts the authorization servers found for each
    discovers_tools: bool = False  # MCP: refresh, discover, discoveries, capabilities

    @property
    def path(self) -> str:
        """The collection's URL path."""
        return f"{RESOURCE_SERVERS}/{self.command}"

    @property
    def noun(self) -> str:
        """``API server``."""
        return self.one.split(" ", 1)[1]

    @property
    def title(self) -> str:
        """The noun at the start of a title: ``Virtual MCP server``."""
        return self.noun[:1].upper() + self.noun[1:]

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns of the list table."""
        url = (Column("RESOURCE URL", "resourceUrl"),) if self.resource_url else ()
        count = (Column("AUTH SERVERS", "authorizationServerCount", no_wrap=True),) if self.discovered else ()
        return (*_LEAD, *url, *count)


_LEAD = (
    Column("ID", "id", no_wrap=True),
    Column("STATUS", "status", no_wrap=True),
    Column("NAME", "metadata.displayName"),
)
API = ServerKind(
    "api-servers",
    "aps",
    "an API server",
    "API servers (resource servers agents call).",
    Registration(
        "Register an API server (INACTIVE unless --activate).",
        "The server's URL (cannot change later).",
        activate=True,
    ),
    get_doc="Show an API server.",
    delete_doc="Delete an API server (it must be INACTIVE: deactivate it first).",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "update", "remove"})),
)
MCP = ServerKind(
    "mcp-servers",
    "mcp",
    "an MCP server",
    "MCP servers (their authorization servers are discovered).",
    Registration(
        "Register an MCP server: the server discovers its authorization servers, then stores it INACTIVE.",
        "The MCP endpoint (cannot change later).",
        name_help="Display name (default: what the server calls itself).",
        name_required=False,
    ),
    get_doc="Show an MCP server and its discovered authorization servers.",
    delete_doc="Delete an MCP server that is not ACTIVE, with its authorization servers.",
    auth_servers=AuthServerCommands(
        refused="an MCP server's authorization servers are discovered, not edited: "
        "run `registrar mcp-servers refresh {id}`"
    ),
    discovered=True,
    discovers_tools=True,
)
A2A = ServerKind(
    "a2a-servers",
    "a2a",
    "an A2A server",
    "A2A servers (agents; their authorization servers are read from the agent card).",
    Registration(
        "Register an A2A server: the server reads its agent card and links the authorization servers it "
        "names, then stores it INACTIVE.",
        "The agent's URL, where its agent card is served (cannot change later).",
    ),
    get_doc="Show an A2A server, what its agent card says, and its authorization servers.",
    delete_doc="Delete an A2A server that is not ACTIVE, with its authorization servers.",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "remove"}), entered=False),
    discovered=True,
)
VIRTUAL_MCP = ServerKind(
    "virtual-mcp-servers",
    "vms",
    "a virtual MCP server",
    "Virtual MCP servers (a named set of tools of registered MCP servers).",
    Registration(
        "Create a virtual MCP server from tools of registered MCP servers (INACTIVE).",
        None,
        capabilities=True,
    ),
    get_doc="Show a virtual MCP server, its capabilities and its authorization servers.",
    delete_doc="Delete a virtual MCP server that is not ACTIVE, with its capabilities.",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "remove"})),
    resource_url=False,
)

KINDS = (API, MCP, A2A, VIRTUAL_MCP)


def kind_of_id(server_id: str) -> ServerKind | None:
    """The kind an id's prefix names, if any."""
    return next((kind for kind in KINDS if server_id.startswith(kind.prefix)), None)
