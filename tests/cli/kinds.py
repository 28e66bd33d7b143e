"""Servers of every kind made through the CLI, each backed by the real thing it needs on loopback.

- an API server needs nothing;
- an MCP server: a real ``mcp`` SDK server protected by an SDK authorization server (discovered at register);
- an A2A server: a real ``a2a-sdk`` agent whose card names that authorization server;
- a virtual MCP server: a tool of a registered MCP server, so an ``mcp`` SDK server protected by a loopback
  authorization server issuing client-credentials tokens, client authentication settings for it, and a
  discovery run with them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registrar.cli.kinds import KINDS, ServerKind

from ..capabilities.servers import SCOPE, OAuthClient, TokenIssuer, ToolServer, tool
from ..discovery.a2a_agent import a2a_agent, oauth2
from ..discovery.servers import sdk_mcp_server

if TYPE_CHECKING:  # the fixtures that use this module are in conftest
    from .conftest import Cli

__all__ = [
    "ENTITY_TYPES",
    "KIND_IDS",
    "Made",
    "Maker",
    "Upstream",
    "discovered_mcp_server",
    "kind_named",
    "maker",
]

# What a 404 names: the entity type of each kind (the design's table).
ENTITY_TYPES = {
    "api-servers": "ApiServer",
    "mcp-servers": "McpServer",
    "a2a-servers": "A2aServer",
    "virtual-mcp-servers": "VirtualMcpServer",
}
KIND_IDS = [kind.command for kind in KINDS]
TOOLS = [
    tool(
        "echo", "Echo text back.", inputSchema={"type": "object", "properties": {"text": {"type": "string"}}}
    ),
    tool("add", "Add two numbers.", title="Adder", annotations={"readOnlyHint": True}),
]


def kind_named(command: str) -> ServerKind:
    """The kind whose group is ``command``."""
    return next(kind for kind in KINDS if kind.command == command)


@dataclass
class Made:
    """A server made through the CLI, and a SCIM search that finds it alone (by its name: every kind's lists
    are searched by name, so tests name their servers after their own host)."""

    server: dict[str, Any]
    search: str

    @property
    def id(self) -> str:
        return str(self.server["id"])


@dataclass
class Upstream:
    """The loopback servers a test's resource servers stand for; they run until the test ends."""

    stack: ExitStack
    sdk_issuer: str  # an SDK authorization server's issuer (metadata only)
    token_issuer: TokenIssuer  # an authorization server issuing client-credentials tokens


Maker = Callable[[str], Made]


def discovered_mcp_server(
    cli: Cli, upstream: Upstream, tools: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], str, ToolServer]:
    """An MCP server registered through the CLI whose tools were discovered: (server, settings id, tools)."""
    tool_server = upstream.stack.enter_context(
        ToolServer(upstream.token_issuer, tools=tools or TOOLS, path=f"/mcp-{secrets.token_hex(4)}").serve()
    )
    server = cli.json(
        "mcp-servers", "register", "--resource-url", tool_server.resource_url, "--name", "Tools"
    )
    client_id, secret = f"client-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    upstream.token_issuer.clients[client_id] = OAuthClient(secret)
    settings = cli.json(
        "client-auth-settings", "create", "--name", f"{client_id} STS", "--resource", server["id"],
        "--client-id", client_id, "--scope", SCOPE, input=f"{secret}\n",
    )  # fmt: skip
    discovery = cli.json("mcp-servers", "discover", server["id"], "--client-auth-settings", settings["id"])
    assert discovery["status"] == "COMPLETED", discovery
    return server, str(settings["id"]), tool_server


def maker(kind: ServerKind, cli: Cli, upstream: Upstream) -> Maker:
    """Registers (or creates) a server of ``kind`` named as asked, through the CLI."""

    def by_url(resource_url: str, name: str) -> Made:
        server = cli.json(kind.command, "register", "--resource-url", resource_url, "--name", name)
        return Made(server, f'metadata.displayName eq "{name}"')

    def make(name: str) -> Made:
        if kind.command == "api-servers":
            return by_url(cli.url(f"/{secrets.token_hex(4)}"), name)
        if kind.command == "mcp-servers":
            return by_url(upstream.stack.enter_context(sdk_mcp_server(upstream.sdk_issuer)), name)
        if kind.command == "a2a-servers":
            metadata = f"{upstream.sdk_issuer}.well-known/oauth-authorization-server"
            return by_url(
                upstream.stack.enter_context(a2a_agent({"oauth": oauth2(metadata_url=metadata)})), name
            )
        source, _, _ = discovered_mcp_server(cli, upstream)
        server = cli.json(kind.command, "create", "--name", name, "--capability", f"{source['id']}:echo")
        return Made(server, f'metadata.displayName eq "{name}"')

    return make
