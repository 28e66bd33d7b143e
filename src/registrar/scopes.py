"""The OAuth scopes a Registrar token can carry: the lowest layer, imported by whoever checks one."""

from __future__ import annotations

__all__ = [
    "A2A_MANAGE",
    "A2A_READ",
    "ALL_SCOPES",
    "API_MANAGE",
    "API_READ",
    "CAS_MANAGE",
    "CAS_READ",
    "HOOKS_MANAGE",
    "HOOKS_READ",
    "LOGS_READ",
    "MANAGE_SCOPES",
    "MCP_MANAGE",
    "MCP_READ",
    "USERS_READ",
    "VMCP_MANAGE",
    "VMCP_READ",
]

API_READ = "okta.resourceServers.apiServers.read"
API_MANAGE = "okta.resourceServers.apiServers.manage"
MCP_READ = "okta.resourceServers.mcpServers.read"
MCP_MANAGE = "okta.resourceServers.mcpServers.manage"
A2A_READ = "okta.resourceServers.a2aServers.read"
A2A_MANAGE = "okta.resourceServers.a2aServers.manage"
VMCP_READ = "okta.resourceServers.virtualMcpServers.read"
VMCP_MANAGE = "okta.resourceServers.virtualMcpServers.manage"
CAS_READ = "okta.resourceServers.clientAuthSettings.read"
CAS_MANAGE = "okta.resourceServers.clientAuthSettings.manage"
LOGS_READ = "okta.logs.read"
HOOKS_READ = "okta.eventHooks.read"
HOOKS_MANAGE = "okta.eventHooks.manage"
USERS_READ = "okta.users.read"  # the principals that appear as actors (/api/v1/users)

ALL_SCOPES: tuple[str, ...] = (
    API_READ,
    API_MANAGE,
    MCP_READ,
    MCP_MANAGE,
    A2A_READ,
    A2A_MANAGE,
    VMCP_READ,
    VMCP_MANAGE,
    CAS_READ,
    CAS_MANAGE,
    LOGS_READ,
    HOOKS_READ,
    HOOKS_MANAGE,
    USERS_READ,
)

# What the system principal (scheduled jobs) may do: every audited registry operation.
MANAGE_SCOPES = frozenset({API_MANAGE, MCP_MANAGE, A2A_MANAGE, VMCP_MANAGE, CAS_MANAGE})
