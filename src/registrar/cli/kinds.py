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
    """How a server of the kind is added: ``register --resource-url`` or ``create``, and its options."""

    command: str
    doc: str
    name_help: str
    name_required: bool
    resource_url_help: str | None = None  # None: the kind has no resource URL (virtual MCP servers)
    activate: bool = False  # --activate: stored ACTIVE right away (?activate=true)
    capabilities: bool = False  # --capability MCP_SERVER_ID:TOOL_NAME, repeatable


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
    noun: str  # "API server"
    article: str  # "an"
    help: str
    columns: tuple[Column, ...]
    registration: Registration
    get_doc: str
    delete_doc: str
    auth_servers: AuthServerCommands
    discovers_tools: bool = False  # MCP: refresh, discover, discoveries, capabilities

    @property
    def path(self) -> str:
        """The collection's URL path."""
        return f"{RESOURCE_SERVERS}/{self.command}"

    @property
    def title(self) -> str:
        """The noun at the start of a title: ``Virtual MCP server``."""
        return self.noun[:1].upper() + self.noun[1:]

    @property
    def one(self) -> str:
        """The noun with its article: ``an API server``."""
        return f"{self.article} {self.noun}"


def _columns(*extra: Column, resource_url: bool = True) -> tuple[Column, ...]:
    lead = (
        Column("ID", "id", no_wrap=True),
        Column("STATUS", "status", no_wrap=True),
        Column("NAME", "metadata.displayName"),
    )
    return (*lead, *((Column("RESOURCE URL", "resourceUrl"),) if resource_url else ()), *extra)


_AUTH_SERVER_COUNT = Column("AUTH SERVERS", "authorizationServerCount", no_wrap=True)

API = ServerKind(
    command="api-servers",
    prefix="aps",
    noun="API server",
    article="an",
    help="API servers (resource servers agents call).",
    columns=_columns(),
    registration=Registration(
        command="register",
        doc="Register an API server (INACTIVE unless --activate).",
        name_help="Display name.",
        name_required=True,
        resource_url_help="The server's URL (cannot change later).",
        activate=True,
    ),
    get_doc="Show an API server.",
    delete_doc="Delete an API server (it must be INACTIVE: deactivate it first).",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "update", "remove"})),
)
MCP = ServerKind(
    command="mcp-servers",
    prefix="mcp",
    noun="MCP server",
    article="an",
    help="MCP servers (their authorization servers are discovered).",
    columns=_columns(_AUTH_SERVER_COUNT),
    registration=Registration(
        command="register",
        doc="Register an MCP server: the server discovers its authorization servers, then stores it "
        "INACTIVE.",
        name_help="Display name (default: what the server calls itself).",
        name_required=False,
        resource_url_help="The MCP endpoint (cannot change later).",
    ),
    get_doc="Show an MCP server and its discovered authorization servers.",
    delete_doc="Delete an MCP server that is not ACTIVE, with its authorization servers.",
    auth_servers=AuthServerCommands(
        refused="an MCP server's authorization servers are discovered, not edited: "
        "run `registrar mcp-servers refresh {id}`"
    ),
    discovers_tools=True,
)
A2A = ServerKind(
    command="a2a-servers",
    prefix="a2a",
    noun="A2A server",
    article="an",
    help="A2A servers (agents; their authorization servers are read from the agent card).",
    columns=_columns(_AUTH_SERVER_COUNT),
    registration=Registration(
        command="register",
        doc="Register an A2A server: the server reads its agent card and links the authorization servers "
        "it names, then stores it INACTIVE.",
        name_help="Display name.",
        name_required=True,
        resource_url_help="The agent's URL, where its agent card is served (cannot change later).",
    ),
    get_doc="Show an A2A server, what its agent card says, and its authorization servers.",
    delete_doc="Delete an A2A server that is not ACTIVE, with its authorization servers.",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "remove"}), entered=False),
)
VIRTUAL_MCP = ServerKind(
    command="virtual-mcp-servers",
    prefix="vms",
    noun="virtual MCP server",
    article="a",
    help="Virtual MCP servers (a named set of tools of registered MCP servers).",
    columns=_columns(resource_url=False),
    registration=Registration(
        command="create",
        doc="Create a virtual MCP server from tools of registered MCP servers (INACTIVE).",
        name_help="Display name.",
        name_required=True,
        capabilities=True,
    ),
    get_doc="Show a virtual MCP server, its capabilities and its authorization servers.",
    delete_doc="Delete a virtual MCP server that is not ACTIVE, with its capabilities.",
    auth_servers=AuthServerCommands(manage=frozenset({"add", "remove"})),
)

KINDS = (API, MCP, A2A, VIRTUAL_MCP)


def kind_of_id(server_id: str) -> ServerKind | None:
    """The kind an id's prefix names, if any."""
    return next((kind for kind in KINDS if server_id.startswith(kind.prefix)), None)
