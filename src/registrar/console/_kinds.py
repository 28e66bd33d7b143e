"""The console's description of each kind of resource server, in the order the navigation lists them.

Adding a kind's pages is one entry here (a kind the server does not have, ``registrar.kinds.KINDS``,
is left out until it has).
"""

from __future__ import annotations

from markupsafe import Markup

from registrar.kinds import KINDS

from ._tools import McpTools
from ._view import ServerView, Words
from ._virtual import VirtualCapabilities
from ._web import templates

__all__ = ["VIEWS", "view_of", "views"]

_DISCOVERED = ("Last refreshed", "last_refreshed_ms")

VIEWS = (
    ServerView(
        "mcp",
        Words(
            "Model Context Protocol servers, with the authorization servers discovered from their metadata.",
            (
                'status eq "ACTIVE"',
                'metadata.displayName co "git"',
                'detectedMetadata.resourceName sw "Acme"',
            ),
            form_intro=Markup(
                "Registrar asks the server for its protected-resource metadata (RFC 9728), then each "
                "authorization server for its metadata (RFC 8414 / OpenID Connect), and registers it "
                "<strong>inactive</strong> with what it found."
            ),
            url_help="The MCP endpoint. Its metadata must name exactly this URL as its resource.",
            url_placeholder="https://mcp.example.com/mcp",
            name_help="Optional: defaults to the resource name the server reports.",
            auth_heading="Discovered authorization servers",
            no_auth="The server's metadata names no authorization server.",
        ),
        columns=("url", "status", "issuers", "when"),
        when=_DISCOVERED,
        detected="mcp",
        extra=McpTools(),
    ),
    ServerView(
        "api",
        Words(
            "Third-party APIs your agents call, and the authorization servers that protect them.",
            ('status eq "ACTIVE"', 'metadata.displayName co "pay"', 'resourceUrl sw "https://api."'),
            url_help="Stored byte for byte (a trailing slash matters) and cannot be changed later.",
            url_placeholder="https://api.example.com/",
        ),
        activate_option=True,
    ),
    ServerView(
        "a2a",
        Words(
            "Agents that speak A2A, with the authorization servers their agent cards name.",
            ('status eq "ACTIVE"', 'metadata.displayName co "agent"', 'detectedMetadata.name sw "Echo"'),
            form_intro=Markup(
                'Registrar reads the agent card (<span class="mono">/.well-known/agent-card.json</span>, '
                'else <span class="mono">agent.json</span>), links the authorization servers its security '
                "schemes name (issuer matched exactly), and registers it <strong>inactive</strong>."
            ),
            url_help="Where the agent serves its card. It cannot be changed later.",
            url_placeholder="https://agents.example.com/travel",
            name_help="Optional: defaults to the name the agent card gives.",
            no_auth="The agent card names no authorization server.",
        ),
        columns=("url", "status", "issuers", "when"),
        detected="a2a",
    ),
    ServerView(
        "vmcp",
        Words(
            "Named sets of tools of registered MCP servers, with their own authorization servers.",
            ('status eq "ACTIVE"', 'metadata.displayName co "ops"', 'status eq "INACTIVE"'),
        ),
        columns=("status", "capabilities", "when"),
        verb="Create",
        extra=VirtualCapabilities(),
    ),
)


def views() -> list[ServerView]:
    """The views of the kinds the server has."""
    return [view for view in VIEWS if view.key in KINDS]


def view_of(kind_key: str) -> ServerView | None:
    """The view of one kind, if the console shows it."""
    return next((view for view in views() if view.key == kind_key), None)


# The navigation's resource-server links, on every page.
templates.env.globals["server_nav"] = [(view.base, view.plural) for view in views()]
