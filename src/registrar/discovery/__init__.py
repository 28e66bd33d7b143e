"""MCP discovery (RFC 9728 → RFC 8414 / OpenID Connect), its SSRF-guarded fetcher and the refresh planner."""

from ._addresses import AddressPolicy, blocked_reason, parse_networks
from ._agentcard import AGENT_CARD_PATHS, MAX_SECURITY_SCHEMES, AgentCardDiscovery, fetch_agent_card
from ._discover import (
    MAX_AUTHORIZATION_SERVERS,
    NO_AUTHORIZATION_SERVERS,
    AuthServerResult,
    Discovery,
    discover,
    discover_authorization_server,
)
from ._fetch import (
    MAX_BODY_BYTES,
    Fetched,
    FetchPolicy,
    GuardedFetcher,
    GuardedTransport,
    Resolver,
    read_capped,
    system_resolver,
)
from ._plan import AuthServerChange, RefreshPlan, plan_refresh
from ._wellknown import (
    authorization_server_metadata_urls,
    protected_resource_metadata_urls,
    resource_metadata_from_challenge,
)

__all__ = [
    "AGENT_CARD_PATHS",
    "MAX_AUTHORIZATION_SERVERS",
    "MAX_BODY_BYTES",
    "MAX_SECURITY_SCHEMES",
    "NO_AUTHORIZATION_SERVERS",
    "AddressPolicy",
    "AgentCardDiscovery",
    "AuthServerChange",
    "AuthServerResult",
    "Discovery",
    "FetchPolicy",
    "Fetched",
    "GuardedFetcher",
    "GuardedTransport",
    "RefreshPlan",
    "Resolver",
    "authorization_server_metadata_urls",
    "blocked_reason",
    "discover",
    "discover_authorization_server",
    "fetch_agent_card",
    "parse_networks",
    "plan_refresh",
    "protected_resource_metadata_urls",
    "read_capped",
    "resource_metadata_from_challenge",
    "system_resolver",
]
