"""MCP tool discovery: a client-credentials token, the MCP server's tool listing through the SSRF guard,
each tool bounded and fingerprinted, and tool drift between two discoveries.

A library below the services: no storage, no events. ``registrar.services.capabilities`` records what it
returns.
"""

from ._drift import Drift, KnownTool, ToolChange, drift
from ._session import MAX_PAGES, MAX_TOOLS, ToolTarget, discover_tools
from ._token import AUTH_METHODS, ClientCredentials
from ._tools import (
    MAX_DEFINITION_BYTES,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SCHEMA_BYTES,
    MAX_TITLE_LENGTH,
    ToolDefinition,
    canonical_json,
    normalize_tools,
)

__all__ = [
    "AUTH_METHODS",
    "MAX_DEFINITION_BYTES",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PAGES",
    "MAX_SCHEMA_BYTES",
    "MAX_TITLE_LENGTH",
    "MAX_TOOLS",
    "ClientCredentials",
    "Drift",
    "KnownTool",
    "ToolChange",
    "ToolDefinition",
    "ToolTarget",
    "canonical_json",
    "discover_tools",
    "drift",
    "normalize_tools",
]
