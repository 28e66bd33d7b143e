"""MCP discovery (RFC 9728 → RFC 8414 / OpenID Connect), its SSRF-guarded fetcher and the refresh planner."""

from ._addresses import AddressPolicy, blocked_reason, parse_networks
from ._discover import (
    MAX_AUTHORIZATION_SERVERS,
    NO_AUTHORIZATION_SERVERS,
    AuthServerResult,
    Discovery,
    discover,
)
from ._fetch import (
    MAX_BODY_BYTES,
    Fetched,
    FetchPolicy,
    GuardedFetcher,
    GuardedTransport,
    Resolver,
    system_resolver,
)
from ._plan import AuthServerChange, RefreshPlan, plan_refresh
from ._wellknown import (
    authorization_server_metadata_urls,
    protected_resource_metadata_urls,
    resource_metadata_from_challenge,
)

__all__ = [
    "MAX_AUTHORIZATION_SERVERS",
    "MAX_BODY_BYTES",
    "NO_AUTHORIZATION_SERVERS",
    "AddressPolicy",
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
    "parse_networks",
    "plan_refresh",
    "protected_resource_metadata_urls",
    "resource_metadata_from_challenge",
    "system_resolver",
]
